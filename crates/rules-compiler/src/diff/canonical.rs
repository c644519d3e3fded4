//! Rules, routes and firewall rules in one canonical form, whatever file they were read from: the
//! typed values the readers produce (so `Tcp`/`tcp`, a prefix list or its singular field, port
//! order and az's empty plural fields compare equal), keyed like `artifacts::items` keys the
//! rendered artifacts, so `artifacts::compare` compares them. A firewall rule's lists stay as the
//! file writes them (sorted); `same_value` compares them by what they mean (`firewall_sets`). Each
//! item also has a *meaning*: the item without its name and the properties that do not decide
//! traffic (priority, description), its lists in their meaning form, which is how a renamed rule is
//! recognised.

use super::artifacts::{ItemKey, ItemKind};
use super::firewall_sets;
use crate::azure::firewall::{parse_address, ApplicationRule, FirewallAddress, NetworkRule, RuleCollection};
use crate::azure::nsg::{AddressMatch, SecurityRule};
use crate::azure::route::RouteEntry;
use crate::read::firewall::FirewallFile;
use crate::read::routes::RouteFile;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The artifact file whose items these are (the keys `artifacts::items` gives the compiled files).
pub const NSG_FILE: &str = "nsg.json";
pub const ROUTES_FILE: &str = "route-table.json";
pub const FIREWALL_FILE: &str = "firewall-policy.json";

/// Fields that describe or order an item without changing which packets it matches.
const NOT_MEANING: &[&str] = &["priority", "description"];

/// Fields that decide no traffic at all (a rule's priority orders it, so it is not one): an item
/// that differs only in them is a metadata difference, not drift to converge.
pub const METADATA: &[&str] = &["description"];

pub type Items = BTreeMap<ItemKey, Value>;

fn key(artifact: &str, kind: ItemKind, collection: Option<&str>, name: &str) -> ItemKey {
    ItemKey {
        artifact: artifact.to_string(),
        kind,
        collection: collection.map(str::to_string),
        name: name.to_string(),
    }
}

/// An address field as the list az takes (`*`, one tag, or the prefixes).
fn addresses(m: &AddressMatch) -> Vec<String> {
    match m {
        AddressMatch::Any => vec!["*".into()],
        AddressMatch::Tag(t) => vec![t.clone()],
        AddressMatch::Prefixes(p) => p.iter().map(ToString::to_string).collect(),
        AddressMatch::Prefixes6(p) => p.iter().map(ToString::to_string).collect(),
    }
}

/// One NSG rule, with the property names of the plural forms Azure and az use.
pub fn security_rule(rule: &SecurityRule, description: &str) -> Value {
    let ports = |p: &[crate::azure::nsg::PortRange]| p.iter().map(ToString::to_string).collect::<Vec<_>>();
    json!({
        "access": rule.access.as_str(),
        "description": description,
        "destinationAddressPrefixes": addresses(&rule.destination),
        "destinationPortRanges": ports(&rule.destination_ports),
        "direction": rule.direction.as_str(),
        "priority": rule.priority,
        "protocol": rule.protocol.as_str(),
        "sourceAddressPrefixes": addresses(&rule.source),
        "sourcePortRanges": ports(&rule.source_ports),
    })
}

pub fn nsg_items(rules: &[SecurityRule], descriptions: &[String]) -> Items {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let d = descriptions.get(i).map_or("", String::as_str);
            (key(NSG_FILE, ItemKind::SecurityRule, None, &r.name), security_rule(r, d))
        })
        .collect()
}

pub fn route(r: &RouteEntry) -> Value {
    json!({
        "addressPrefix": r.address_prefix,
        "nextHopType": r.next_hop_type.as_str(),
        "nextHopIpAddress": r.next_hop_ip_address.map(|a| a.to_string()),
    })
}

/// The key of an artifact's own properties (not its rules): one per artifact, unnamed.
pub fn document_key(artifact: &str) -> ItemKey {
    key(artifact, ItemKind::Document, None, "")
}

/// The routes and the table's own properties. A file without `disableBgpRoutePropagation` has
/// Azure's default, `false`: with forced tunneling it decides whether BGP routes reach the subnets.
pub fn route_items(table: &RouteFile) -> Items {
    let mut out: Items = table
        .routes
        .iter()
        .map(|r| (key(ROUTES_FILE, ItemKind::Route, None, &r.name), route(r)))
        .collect();
    let disable = table.disable_bgp_route_propagation.unwrap_or(false);
    out.insert(document_key(ROUTES_FILE), json!({ "disableBgpRoutePropagation": disable }));
    out
}

fn sorted<T: ToString>(items: &[T]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

/// Firewall address entries in address order (by first, then last address), as isenet writes them
/// (`8.8.8.8/32` before `172.16.0.9/32`), then the entries that are no address (`*`, tags) as text.
fn sorted_addresses(items: &[String]) -> Vec<String> {
    let key = |entry: &String| match parse_address(entry) {
        Ok(FirewallAddress::Prefix(net)) => (0, u32::from(net.network()), u32::from(net.broadcast()), String::new()),
        Ok(FirewallAddress::Range(lo, hi)) => (0, u32::from(lo), u32::from(hi), String::new()),
        _ => (1, 0, 0, entry.clone()),
    };
    let mut v = items.to_vec();
    v.sort_by_cached_key(key);
    v
}

/// A network rule; entry order does not matter to Azure Firewall, so lists are sorted.
pub fn network_rule(r: &NetworkRule) -> Value {
    let protocols: Vec<String> = r
        .ip_protocols
        .iter()
        .map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    json!({
        "ruleType": "NetworkRule",
        "description": r.description,
        "ipProtocols": sorted(&protocols),
        "sourceAddresses": sorted_addresses(&r.source_addresses),
        "destinationAddresses": sorted_addresses(&r.destination_addresses),
        "destinationPorts": sorted(&r.destination_ports),
    })
}

/// An application rule; its destination addresses and TLS inspection only when set (isenet
/// compiles neither, so a deployed rule that sets them differs by that field).
pub fn application_rule(r: &ApplicationRule) -> Value {
    let mut rule = json!({
        "ruleType": "ApplicationRule",
        "description": r.description,
        "protocols": sorted(&r.protocols),
        "sourceAddresses": sorted_addresses(&r.source_addresses),
        "fqdnTags": sorted(&r.fqdn_tags),
        "targetFqdns": sorted(&r.target_fqdns),
    });
    if !r.destination_addresses.is_empty() {
        rule["destinationAddresses"] = json!(sorted_addresses(&r.destination_addresses));
    }
    if r.terminate_tls {
        rule["terminateTLS"] = json!(true);
    }
    rule
}

fn collection<R>(c: &RuleCollection<R>) -> Value {
    json!({ "priority": c.priority, "action": format!("{:?}", c.action) })
}

/// The filter collections and their rules (a collection holding both rule types is one item), and
/// the group's priority (where its rules sit among the policy's other groups) when the file gives
/// it: Azure has no default for it, so a file without it says nothing to compare.
pub fn firewall_items(f: &FirewallFile) -> Items {
    let mut out = Items::new();
    if let Some(priority) = f.group.as_ref().and_then(|g| g.priority) {
        out.insert(document_key(FIREWALL_FILE), json!({ "priority": priority }));
    }
    for c in &f.network {
        out.insert(key(FIREWALL_FILE, ItemKind::RuleCollection, None, &c.name), collection(c));
        for r in &c.rules {
            out.insert(key(FIREWALL_FILE, ItemKind::FirewallRule, Some(&c.name), &r.name), network_rule(r));
        }
    }
    for c in &f.application {
        out.insert(key(FIREWALL_FILE, ItemKind::RuleCollection, None, &c.name), collection(c));
        for r in &c.rules {
            out.insert(
                key(FIREWALL_FILE, ItemKind::FirewallRule, Some(&c.name), &r.name),
                application_rule(r),
            );
        }
    }
    out
}

/// Whether two values of an item's `field` mean the same (absent only equals absent).
pub fn same_value(field: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || firewall_sets::meaning_of(field, a) == firewall_sets::meaning_of(field, b),
        (a, b) => a == b,
    }
}

/// What the item does: without priority and description (a rule's name is its key already), each
/// list in its meaning form.
pub fn meaning(item: &Value) -> Value {
    match item {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !NOT_MEANING.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), firewall_sets::meaning_of(k, v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::nsg::{Access, Direction, PortRange, Protocol};

    fn rule(name: &str, priority: u32, port: u16) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority,
            direction: Direction::Inbound,
            access: Access::Allow,
            protocol: Protocol::Tcp,
            source: AddressMatch::Tag("Internet".into()),
            source_ports: vec![PortRange::ANY],
            destination: AddressMatch::Prefixes(vec!["10.0.0.0/24".parse().unwrap()]),
            destination_ports: vec![PortRange::single(port)],
            is_default: false,
        }
    }

    #[test]
    fn firewall_addresses_are_listed_in_address_order_then_words() {
        let entries: Vec<String> = ["AzureCloud", "172.16.0.9/32", "10.0.0.0-10.0.0.9", "*", "8.8.8.8", "10.0.0.0/8"]
            .map(String::from)
            .to_vec();
        // 8.8.8.8 is 0x08080808, below 10.0.0.0; a range and a prefix at one start by their end.
        assert_eq!(
            sorted_addresses(&entries),
            ["8.8.8.8", "10.0.0.0-10.0.0.9", "10.0.0.0/8", "172.16.0.9/32", "*", "AzureCloud"]
        );
    }

    #[test]
    fn a_rule_is_written_with_azs_plural_fields() {
        let v = security_rule(&rule("r", 100, 443), "why");
        assert_eq!(
            v,
            json!({"access": "Allow", "description": "why", "destinationAddressPrefixes": ["10.0.0.0/24"],
                "destinationPortRanges": ["443"], "direction": "Inbound", "priority": 100, "protocol": "Tcp",
                "sourceAddressPrefixes": ["Internet"], "sourcePortRanges": ["*"]})
        );
    }

    #[test]
    fn a_route_table_without_bgp_propagation_has_azures_default() {
        let table = |disable| RouteFile {
            routes: Vec::new(),
            origins: Vec::new(),
            disable_bgp_route_propagation: disable,
            limit_violations: Vec::new(),
            subnets: None,
            elsewhere: Vec::new(),
            named_otherwise: None,
        };
        let doc = |t: &RouteFile| route_items(t).get(&document_key(ROUTES_FILE)).cloned();
        assert_eq!(doc(&table(None)), Some(json!({"disableBgpRoutePropagation": false})));
        assert_eq!(doc(&table(Some(true))), Some(json!({"disableBgpRoutePropagation": true})));
    }

    #[test]
    fn a_group_priority_is_an_item_only_when_the_file_gives_it() {
        let group = |priority| FirewallFile {
            group: Some(crate::read::firewall::Group {
                priority,
                at: crate::read::Location {
                    file: String::new(),
                    path: String::new(),
                    line: None,
                    column: None,
                },
                apart: Vec::new(),
            }),
            ..FirewallFile::default()
        };
        let doc = |f: &FirewallFile| firewall_items(f).get(&document_key(FIREWALL_FILE)).cloned();
        assert_eq!(doc(&group(Some(100))), Some(json!({"priority": 100})));
        assert_eq!(doc(&group(None)), None);
        assert_eq!(doc(&FirewallFile::default()), None);
    }

    #[test]
    fn meaning_ignores_priority_and_description_but_not_ports() {
        let a = security_rule(&rule("a", 100, 443), "one");
        assert_eq!(meaning(&a), meaning(&security_rule(&rule("b", 200, 443), "two")));
        assert_ne!(meaning(&a), meaning(&security_rule(&rule("a", 100, 8080), "one")));
    }
}
