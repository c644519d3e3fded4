//! What a firewall rule's lists mean, so a deployed rule is compared with the compiled one by what
//! it matches, not by how its file writes it: addresses as the addresses they cover
//! (`10.10.1.0/26,10.10.1.64/26`, `10.10.1.0-10.10.1.127` and four /27s are one set), ports as the
//! ports (`1433-1433` is `1433`), service tags, FQDN tags and FQDNs without case (Azure reads them
//! so), and every list without order or repeats. Only the comparison uses these forms: reports
//! and commands show each side as its file writes it.

use crate::azure::firewall::{parse_address, parse_port, FirewallAddress};
use crate::engine::intervals::IntervalSet;
use ipnet::Ipv6Net;
use serde_json::Value;
use std::net::Ipv6Addr;

/// Reads a list's entries into their meaning form.
type Reading = fn(&[&str]) -> Vec<String>;

/// How the entries of a set-valued field of a canonical firewall rule (`canonical::network_rule`,
/// `canonical::application_rule`) are read; `None` for every other field.
fn reading(field: &str) -> Option<Reading> {
    match field {
        "sourceAddresses" | "destinationAddresses" => Some(addresses),
        "destinationPorts" => Some(ports),
        "fqdnTags" | "targetFqdns" => Some(caseless),
        "ipProtocols" | "protocols" => Some(exact),
        _ => None,
    }
}

/// `value` of `field` in the one form every value of the same meaning has (other fields, and
/// anything but a list of strings, as they are).
pub fn meaning_of(field: &str, value: &Value) -> Value {
    let (Some(read), Some(list)) = (reading(field), value.as_array()) else {
        return value.clone();
    };
    let entries: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    if entries.len() != list.len() {
        return value.clone();
    }
    Value::from(read(&entries))
}

/// An address list: `*` if it holds one (it matches every address whatever else is listed), else
/// its IPv4 addresses as the fewest CIDRs, its IPv6 ones aggregated, then its service tags (and
/// anything unread) in lower case.
fn addresses(entries: &[&str]) -> Vec<String> {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    let mut words = Vec::new();
    for entry in entries {
        match parse_address(entry) {
            Ok(FirewallAddress::Any) => return vec!["*".into()],
            Ok(FirewallAddress::Prefix(net)) => v4.push((u32::from(net.network()), u32::from(net.broadcast()))),
            Ok(FirewallAddress::Range(lo, hi)) => v4.push((u32::from(lo), u32::from(hi))),
            Ok(FirewallAddress::V6) => match ipv6(entry) {
                Some(net) => v6.push(net),
                None => words.push(entry.trim().to_lowercase()),
            },
            Ok(FirewallAddress::Tag(_)) | Err(_) => words.push(entry.trim().to_lowercase()),
        }
    }
    let mut out: Vec<String> = IntervalSet::from_intervals(v4)
        .to_prefixes()
        .iter()
        .map(ToString::to_string)
        .collect();
    out.extend(Ipv6Net::aggregate(&v6).iter().map(ToString::to_string));
    out.extend(sorted_unique(words));
    out
}

fn ipv6(entry: &str) -> Option<Ipv6Net> {
    let t = entry.trim();
    t.parse::<Ipv6Net>()
        .map(|n| n.trunc())
        .or_else(|_| t.parse::<Ipv6Addr>().map(Ipv6Net::from))
        .ok()
}

/// A port list as its ranges merged (`*` is every port, whatever else is listed).
fn ports(entries: &[&str]) -> Vec<String> {
    let mut ranges = Vec::new();
    let mut unread = Vec::new();
    for entry in entries {
        match parse_port(entry) {
            Ok(range) => ranges.push(range),
            Err(_) => unread.push(entry.trim().to_string()),
        }
    }
    let mut out: Vec<String> = ise_model::ports::normalise(&ranges).iter().map(ToString::to_string).collect();
    out.extend(sorted_unique(unread));
    out
}

/// Names Azure reads without case: FQDN tags and FQDNs (DNS names).
fn caseless(entries: &[&str]) -> Vec<String> {
    sorted_unique(entries.iter().map(|e| e.trim().to_lowercase()).collect())
}

/// Words Azure reads as written (the readers already spell protocols one way).
fn exact(entries: &[&str]) -> Vec<String> {
    sorted_unique(entries.iter().map(|e| e.to_string()).collect())
}

fn sorted_unique(mut words: Vec<String>) -> Vec<String> {
    words.sort();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(field: &str, a: Value, b: Value) -> bool {
        meaning_of(field, &a) == meaning_of(field, &b)
    }

    #[test]
    fn address_lists_are_the_addresses_they_cover() {
        // The four ISE subnets of the firewall environment, written four ways.
        let subnets = json!(["10.10.1.0/27", "10.10.1.32/27", "10.10.1.64/27", "10.10.1.96/27"]);
        for same_addresses in [
            json!(["10.10.1.0/26", "10.10.1.64/26"]),
            json!(["10.10.1.0-10.10.1.127"]),
            json!(["10.10.1.96/27", "10.10.1.0/25", "10.10.1.64/27"]),
            json!(["10.10.1.0-10.10.1.63", "10.10.1.64/26", "10.10.1.5"]),
        ] {
            assert!(same("sourceAddresses", same_addresses.clone(), subnets.clone()), "{same_addresses}");
        }
        assert_eq!(meaning_of("sourceAddresses", &subnets), json!(["10.10.1.0/25"]));
        // One address fewer, or one more, is another set.
        assert!(!same("sourceAddresses", json!(["10.10.1.0-10.10.1.126"]), subnets.clone()));
        assert!(!same("sourceAddresses", json!(["10.10.1.0/25", "10.10.1.128"]), subnets));
        // `*` matches every address, whatever else the list holds; it is not a prefix of them.
        assert!(same("destinationAddresses", json!(["*", "10.0.0.0/8"]), json!(["*"])));
        assert!(!same("destinationAddresses", json!(["0.0.0.0/0"]), json!(["*"])));
    }

    #[test]
    fn service_tags_fqdns_and_fqdn_tags_are_compared_without_case_order_or_repeats() {
        assert!(same(
            "destinationAddresses",
            json!(["storage", "AzureMonitor", "10.0.0.0/24", "Storage"]),
            json!(["AzureMonitor", "10.0.0.0/24", "Storage"])
        ));
        assert!(!same("destinationAddresses", json!(["Storage.EastUS"]), json!(["Storage"])));
        assert!(same(
            "targetFqdns",
            json!(["*.Blob.core.windows.net", "login.microsoftonline.com"]),
            json!(["login.microsoftonline.com", "*.blob.core.windows.net"])
        ));
        assert!(same("fqdnTags", json!(["windowsupdate"]), json!(["WindowsUpdate"])));
        assert!(!same("targetFqdns", json!(["a.example.com"]), json!(["*.example.com"])));
    }

    #[test]
    fn port_lists_are_the_ports_they_cover() {
        assert!(same("destinationPorts", json!(["1433-1433"]), json!(["1433"])));
        assert!(same(
            "destinationPorts",
            json!(["445", "80", "444", "443"]),
            json!(["80", "443-445"])
        ));
        assert!(!same("destinationPorts", json!(["445", "80", "443"]), json!(["80", "443-445"])));
        assert!(same("destinationPorts", json!(["*", "443"]), json!(["*"])));
        assert!(!same("destinationPorts", json!(["443", "80"]), json!(["443", "445", "80"])));
        // Azure Firewall's ports start at 1: `*` also holds port 0, as the verifier reads it.
        assert!(!same("destinationPorts", json!(["1-65535"]), json!(["*"])));
    }

    #[test]
    fn other_fields_are_compared_as_written() {
        assert!(!same("description", json!("A"), json!("a")));
        assert!(!same("addressPrefix", json!("storage"), json!("Storage")));
        assert!(same("ipProtocols", json!(["UDP", "TCP", "TCP"]), json!(["TCP", "UDP"])));
    }
}
