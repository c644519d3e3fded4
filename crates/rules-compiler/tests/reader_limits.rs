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

/// Azure counts the addresses of all a security group's rules' sources together (and of their
/// destinations apart): the limit is crossed at the field that takes the total past 4,000.
#[test]
fn nsg_rules_and_addresses_per_security_group() {
    const SOURCES: &str = "IP addresses and ranges per security group source (all its rules' sources)";
    // 3,001 + 999 x 1 = 4,000 sources, 1,000 rules: at both limits, past neither.
    assert_eq!(nsg_violations(1000, 3001), []);
    assert_eq!(
        nsg_violations(1001, 3001),
        [
            ("rules per NSG", 1000, 1001, "properties.securityRules".to_string()),
            (
                SOURCES,
                4000,
                4001,
                "properties.securityRules[1000].properties.sourceAddressPrefixes".to_string()
            ),
        ]
    );
    // One field over the limit alone crosses it there.
    assert_eq!(
        nsg_violations(2, 4001),
        [(
            SOURCES,
            4000,
            4002,
            "properties.securityRules[0].properties.sourceAddressPrefixes".to_string()
        )]
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

/// A policy rule collection group (or, `classic`, a classic network collection) of one network rule
/// whose compact JSON in ARM's shape (without `ruleType`) is `rule_bytes` long.
fn group_size_violations(rule_bytes: usize, classic: bool) -> Vec<(&'static str, u64, u64, String)> {
    let mut rule = json!({"name": "n", "description": "", "ipProtocols": ["TCP"], "sourceAddresses": ["10.0.0.1"],
        "destinationAddresses": ["10.0.0.2"], "destinationPorts": ["443"]});
    let bare = serde_json::to_vec(&rule).unwrap().len();
    rule["description"] = json!("x".repeat(rule_bytes - bare));
    let doc = if classic {
        rule["protocols"] = rule["ipProtocols"].take();
        rule.as_object_mut().unwrap().remove("ipProtocols");
        json!({"networkRuleCollections": [{"name": "c", "properties": {"priority": 100, "action": {"type": "Allow"}, "rules": [rule]}}]})
    } else {
        rule["ruleType"] = json!("NetworkRule");
        json!({"priority": 100, "ruleCollections": [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "name": "c", "priority": 100, "action": {"type": "Allow"}, "rules": [rule]}]})
    };
    let file = firewall::parse(&serde_json::to_string_pretty(&doc).unwrap(), "fw.json").unwrap();
    summary(&file.limit_violations)
}

#[test]
fn firewall_rule_collection_group_size() {
    // 2 MB for policies created after July 2022, counted as 2 MiB of the rules' compact JSON.
    const MAX: usize = 2 * 1024 * 1024;
    assert_eq!(group_size_violations(MAX, false), []);
    assert_eq!(
        group_size_violations(MAX + 1, false),
        [(
            "total size of rules in one rule collection group (bytes)",
            MAX as u64,
            MAX as u64 + 1,
            "ruleCollections".to_string()
        )]
    );
    // Classic collections belong to no rule collection group: the limit does not apply.
    assert_eq!(group_size_violations(MAX + 1, true), []);
}

#[test]
fn firewall_pairs_exactly_one_past_the_limit() {
    // One source to 20,000 destinations is the limit; to 20,001 one pair too many.
    assert_eq!(firewall_violations(1, 20_000, 100), []);
    assert_eq!(
        firewall_violations(1, 20_001, 100),
        [(
            "unique source/destinations in network rules",
            20000,
            20001,
            "ruleCollections".to_string()
        )]
    );
}

#[test]
fn a_policy_beyond_sixty_groups_is_named_in_the_refusal() {
    let groups = |n: usize| {
        let resources: Vec<Value> = (0..n)
            .map(|i| {
                json!({"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "name": format!("p/g{i}"),
                "properties": {"priority": 100 + i, "ruleCollections": []}})
            })
            .collect();
        let text = serde_json::to_string_pretty(&json!({"resources": resources})).unwrap();
        let diags = firewall::parse(&text, "fw.json").unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "E1207");
        diags[0].message.clone()
    };
    assert_eq!(groups(60), "60 rule collection groups in one file");
    assert!(groups(61).ends_with("a firewall policy holds at most 60, so Azure would refuse it too"));
}
