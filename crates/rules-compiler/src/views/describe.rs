//! Descriptions for reviewers, shared by `requirements --format csv` and the review artifacts:
//! addresses in full (a reviewer signs what is deployed) with service tags named as tags plus their
//! prefix count in the snapshot used, and the condition that made a requirement apply.

use crate::azure::nsg::AddressMatch;
use ise_model::requirement::{self, Condition};
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::{is_platform_tag, ServiceTags};

/// A service tag with its size in the tag file (`Storage [service tag: 812 IPv4 + 98 IPv6 prefixes, change 375]`).
pub fn tag(name: &str, tags: &ServiceTags) -> String {
    if is_platform_tag(name) {
        return format!("{name} [platform tag]");
    }
    match tags.get(name) {
        Some(t) => format!(
            "{name} [service tag: {} IPv4 + {} IPv6 prefixes, change {}]",
            t.ipv4_count(),
            t.ipv6_count(),
            tags.change_number
        ),
        None => format!("{name} [service tag: not in the tag file, change {}]", tags.change_number),
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

/// A requirement's peer in full.
pub fn peer(p: &Peer, tags: &ServiceTags) -> String {
    match p {
        Peer::Tag { name } => tag(name, tags),
        Peer::Prefixes { prefixes, .. } => join(prefixes),
        Peer::Service { name } => format!("{name} [service endpoint]"),
        Peer::FqdnTag { name } => format!("{name} [FQDN tag]"),
    }
}

/// A rule's address field in full.
pub fn address(a: &AddressMatch, tags: &ServiceTags) -> String {
    match a {
        AddressMatch::Any => "*".into(),
        AddressMatch::Tag(t) => tag(t, tags),
        // The fast text: `--expand-tags` rules hold thousands of prefixes.
        AddressMatch::Prefixes(p) => crate::render::prefix_text::join(p, " "),
        AddressMatch::Prefixes6(p) => crate::render::prefix_text::join(p, " "),
    }
}

fn condition_text(c: Condition) -> &'static str {
    match c {
        Condition::Always => "always",
        Condition::Internal => "internal access endpoint",
        Condition::External => "external access endpoint",
        Condition::CustomDns => "custom DNS",
        Condition::ForcedTunneling => "forced tunneling (ExpressRoute or firewall mode)",
        Condition::Expressroute => "ExpressRoute forced tunneling",
        Condition::Firewall => "firewall mode",
        Condition::FirewallExternal => "firewall mode, external access endpoint",
        Condition::FirewallOrRestricted => "firewall mode or restricted outbound policy",
    }
}

/// Why the requirement applies, with what the environment changed (Government substitutions,
/// narrowed callers, regional fallbacks).
pub fn condition(r: &Resolved) -> String {
    let base = requirement::model()
        .iter()
        .find(|m| m.id == r.requirement)
        .map_or("always", |m| condition_text(m.condition));
    std::iter::once(base.to_string())
        .chain(r.notes.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::cloud::CloudId;

    #[test]
    fn tags_carry_their_count_and_platform_tags_say_so() {
        let tags = ServiceTags::embedded(CloudId::Public);
        let storage = tags.get("Storage").unwrap();
        assert_eq!(
            tag("Storage", tags),
            format!(
                "Storage [service tag: {} IPv4 + {} IPv6 prefixes, change 375]",
                storage.ipv4().len(),
                storage.ipv6().len()
            )
        );
        assert!(storage.ipv4().len() > 100, "Storage is a large tag in the 2025 file");
        assert_eq!(tag("VirtualNetwork", tags), "VirtualNetwork [platform tag]");
    }

    #[test]
    fn government_substitution_shows_in_the_condition() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden/usgov-firewall/env.json")).unwrap();
        let env = ise_model::env::load(&text, "usgov").env.unwrap();
        let reqs = ise_model::resolve::resolve(&env, None);
        let designer = reqs.iter().find(|r| r.id == "in-designer-454").unwrap();
        let c = condition(designer);
        assert!(c.starts_with("always; LogicAppsManagement does not work in NSGs"), "{c}");
        let fw = reqs.iter().find(|r| r.id == "out-fw-ntp-123").unwrap();
        // Its source, VirtualNetwork in the table, is the address space under forced tunneling.
        assert_eq!(
            condition(fw),
            "firewall mode or restricted outbound policy; forced tunneling: VirtualNetwork would include 0.0.0.0/0, the address space is named instead"
        );
    }
}
