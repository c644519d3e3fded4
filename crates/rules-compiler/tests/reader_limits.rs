//! Azure limits a deployed or hand-written file may exceed are read, not refused, and listed with
//! their limit, the actual count and where in the file: one past each limit is reported, the limit
//! itself is not (data/azure-limits.csv).

use rules_compiler::read::{firewall, nsg, routes, Limit, LimitViolation};
use serde_json::{json, Value};
use std::net::Ipv4Addr;

fn addresses(n: u32) -> Vec<String> {
    (0..n).map(|i| Ipv4Addr::from(0x0b00_0000 + i * 4).to_string()).collect()
}

fn nsg_rule(i: usize, sources: Vec<String>) -> Value {
    json!({"name": format!("r{i}"), "properties": {"protocol": "Tcp", "sourcePortRange": "*",
        "destinationPortRange": "22", "sourceAddressPrefixes": sources, "destinationAddressPrefix": "*",
        "access": "Deny", "priority": 100 + i, "direction": "Inbound"}})
}

fn nsg_violations(rules: usize, first_rule_sources: u32) -> Vec<(&'static str, u64, u64, String)> {
    let mut list = vec![nsg_rule(0, addresses(first_rule_sources))];
    list.extend((1..rules).map(|i| nsg_rule(i, addresses(1))));
    let text = serde_json::to_string_pretty(&json!({"properties": {"securityRules": list}})).unwrap();
    let file = nsg::parse(&text, "nsg.json").unwrap();
    assert_eq!(file.rules.len(), rules);
    summary(&file.limit_violations)
}

fn summary(v: &[LimitViolation]) -> Vec<(&'static str, u64, u64, String)> {
    v.iter()
        .map(|v| {
            assert!(v.at.line.is_some(), "{v:?}");
            let max = match v.limit {
                Limit::AtMost { max } => max,
                Limit::Within { max, .. } => max,
            };
            (v.name, max, v.actual, v.at.path.clone())
        })
        .collect()
}

#[test]
fn nsg_rules_and_addresses_per_field() {
    assert_eq!(nsg_violations(1000, 4000), []);
    assert_eq!(
        nsg_violations(1001, 4001),
        [
            ("rules per NSG", 1000, 1001, "properties.securityRules".to_string()),
            (
                "IP addresses and ranges per security group source or destination",
                4000,
                4001,
                "properties.securityRules[0].properties.sourceAddressPrefixes".to_string()
            ),
        ]
    );
}

fn route_violations(routes_count: usize, tag_routes: usize) -> Vec<(&'static str, u64, u64, String)> {
    let list: Vec<Value> = (0..routes_count)
        .map(|i| {
            let prefix = if i < tag_routes {
                format!("Tag{i}")
            } else {
                format!("10.{}.{}.0/24", i / 256, i % 256)
            };
            json!({"name": format!("r{i}"), "addressPrefix": prefix, "nextHopType": "None"})
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({"routes": list})).unwrap();
    let file = routes::parse(&text, "rt.json").unwrap();
    assert_eq!(file.routes.len(), routes_count);
    summary(&file.limit_violations)
}

#[test]
fn routes_and_tag_routes_per_table() {
    assert_eq!(route_violations(400, 25), []);
    assert_eq!(
        route_violations(401, 26),
        [
            ("routes per route table", 400, 401, "routes".to_string()),
            ("service-tag routes per route table", 25, 26, "routes".to_string()),
        ]
    );
}

fn firewall_violations(sources: u32, destinations: u32, priority: u32) -> Vec<(&'static str, u64, u64, String)> {
    let rule = json!({"ruleType": "NetworkRule", "name": "n", "ipProtocols": ["TCP"], "sourceAddresses": addresses(sources),
        "destinationAddresses": addresses(destinations), "destinationPorts": ["443"]});
    let doc = json!({"priority": 100, "ruleCollections": [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": "c", "priority": priority, "action": {"type": "Allow"}, "rules": [rule]}]});
    let file = firewall::parse(&serde_json::to_string_pretty(&doc).unwrap(), "fw.json").unwrap();
    summary(&file.limit_violations)
}

#[test]
fn firewall_pairs_and_priorities() {
    // Pairs are sources x destinations summed over the network rules: 100 x 200 is the limit.
    assert_eq!(firewall_violations(100, 200, 65000), []);
    assert_eq!(
        firewall_violations(100, 201, 65001),
        // In document order: the collection list starts before the collection's priority.
        [
            (
                "unique source/destinations in network rules",
                20000,
                20100,
                "ruleCollections".to_string()
            ),
            ("rule collection priority", 65000, 65001, "ruleCollections[0].priority".to_string()),
        ]
    );
}

#[test]
fn origins_point_at_each_item_read() {
    let text = "{\"securityRules\": [\n  {\"name\": \"a\", \"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": \"1\",\n   \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", \"priority\": 100, \"direction\": \"Inbound\"},\n  {\"name\": \"b\", \"protocol\": \"Udp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": \"2\",\n   \"sourceAddressPrefix\": \"Storage\", \"destinationAddressPrefix\": \"*\", \"access\": \"Deny\", \"priority\": 101, \"direction\": \"Inbound\"}]}";
    let file = nsg::parse(text, "n.json").unwrap();
    let at: Vec<_> = file.origins.iter().map(|o| (o.path.as_str(), o.line, o.column)).collect();
    assert_eq!(at, [("securityRules[0]", Some(2), Some(3)), ("securityRules[1]", Some(4), Some(3))]);
    assert_eq!(file.origins[1].file, "n.json");
}
