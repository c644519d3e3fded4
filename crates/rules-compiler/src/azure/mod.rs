//! The Azure resource types every stage shares: NSG security rules, routes and Azure Firewall rule
//! collections, with Azure's limits. Depends on no other module of the crate.

pub mod firewall;
pub mod nsg;
pub mod route;

/// The longest service-tag name accepted; published names are far shorter (the longest is under 60).
pub const MAX_TAG_NAME: usize = 128;

/// A well-formed service-tag word (`Storage`, `AzureCloud.WestUS2`): it starts with a letter and holds
/// letters, digits, `.`, `-` and `_` only. Whether the tag exists is the tag file's business; this
/// only tells a tag from a malformed address such as `10.0.0.0/33` or `999.1.1.1`.
pub fn is_tag_word(text: &str) -> bool {
    text.len() <= MAX_TAG_NAME
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::is_tag_word;

    #[test]
    fn tag_words_are_told_from_malformed_addresses() {
        for ok in ["Storage", "AzureCloud.WestUS2", "Sql.usgovvirginia", "VirtualNetwork", "A_b-c.9"] {
            assert!(is_tag_word(ok), "{ok}");
        }
        let long = "A".repeat(129);
        for bad in [
            "10.0.0.0/33",
            "999.1.1.1",
            "",
            "*",
            "1Tag",
            "Storage West",
            "Störage",
            "a/b",
            long.as_str(),
        ] {
            assert!(!is_tag_word(bad), "{bad}");
        }
    }
}
