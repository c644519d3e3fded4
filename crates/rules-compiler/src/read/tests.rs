//! The readers on the tree against the path they took before (serde_json's `Value` located with
//! `jsonpos::Positions`): on the golden artifacts, generated NSGs, route tables and firewall rules,
//! and byte-edited ones, every answer is the same, file or diagnostics (code, path, line:column,
//! text).

use super::{firewall, nsg, routes};
use ise_model::codes::{E_FIREWALL_FILE, E_NSG_FILE, E_ROUTE_FILE};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::Positions;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A reader on the old path: serde_json's `Value`, located with `jsonpos::Positions`.
fn old<T>(
    text: &str,
    code: &'static str,
    read: impl Fn(&Value, &Positions, &str) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    let document: Value = ise_model::jsondoc::parse(text, "f.json", code)?;
    read(&document, &Positions::of(text), "f.json")
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/golden/usgov-firewall/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Both answers of one reader, as text (the files hold no `PartialEq`; their Debug is complete).
fn answers(text: &str) -> [(String, String); 3] {
    let show = |r: &dyn std::fmt::Debug| format!("{r:?}");
    [
        (
            show(&nsg::parse(text, "f.json")),
            show(&old(text, E_NSG_FILE, |d, p, f| nsg::read(d, p, f, &Default::default()))),
        ),
        (
            show(&routes::parse(text, "f.json")),
            show(&old(text, E_ROUTE_FILE, |d, p, f| routes::read(d, p, f, &Default::default()))),
        ),
        (
            show(&firewall::parse(text, "f.json")),
            show(&old(text, E_FIREWALL_FILE, |d, p, f| firewall::read(d, p, f, &Default::default()))),
        ),
    ]
}

fn assert_same(text: &str) -> Result<(), TestCaseError> {
    for (new, old) in answers(text) {
        prop_assert_eq!(new, old, "{}", text);
    }
    Ok(())
}

#[test]
fn the_golden_artifacts_read_the_same() {
    for name in [
        "nsg.json",
        "route-table.json",
        "firewall-policy.json",
        "firewall-classic.json",
        "azuredeploy.json",
    ] {
        assert_same(&golden(name)).unwrap();
    }
}

/// Words of rule fields, right and wrong (with the empty one).
const WORDS: &str = "Tcp udp * Allow deny Inbound Outbound Icmp Bogus 10.1.0.0/16 10.1.2.3 Storage Internet any ::1/128 \
    1.2.3.4/33 80 443-445 70000 9-1 rule-a RULE-A VirtualAppliance 10.0.0.4 Network ApplicationRule NetworkRule TCP";

/// A value of a rule field: the words and shapes Azure takes, and wrong ones of every kind.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(WORDS.split(' ').chain([""]).collect::<Vec<_>>()).prop_map(Value::from),
        prop::sample::select(vec![
            json!(100),
            json!(4096),
            json!(4097),
            json!(-1),
            json!(1.5),
            json!(1e300),
            json!(u64::MAX)
        ]),
        Just(Value::Null),
        Just(json!(true)),
        prop::collection::vec(prop::sample::select(vec!["10.0.0.0/8", "1.2.3.4", "80", "*", "Storage", "x"]), 0..4).prop_map(|v| json!(v)),
        Just(json!({})),
    ]
}

const KEYS: &[&str] = &[
    "name",
    "protocol",
    "access",
    "direction",
    "priority",
    "sourceAddressPrefix",
    "sourceAddressPrefixes",
    "destinationAddressPrefix",
    "destinationAddressPrefixes",
    "sourcePortRange",
    "sourcePortRanges",
    "destinationPortRange",
    "destinationPortRanges",
    "sourceApplicationSecurityGroups",
    "addressPrefix",
    "nextHopType",
    "nextHopIpAddress",
    "ruleType",
    "ipProtocols",
    "sourceAddresses",
    "destinationAddresses",
    "destinationPorts",
    "action",
];

/// An item (rule, route) with some of the fields, flat (az) or under `properties` (ARM).
fn item() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(prop::sample::select(KEYS), field_value(), 0..12),
        any::<bool>(),
    )
        .prop_map(|(fields, arm)| {
            let fields: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if arm {
                let name = fields.get("name").cloned().unwrap_or(Value::Null);
                json!({ "name": name, "properties": fields })
            } else {
                Value::Object(fields)
            }
        })
}

/// A file of items in one of the shapes the readers take.
fn document() -> impl Strategy<Value = Value> {
    let items = prop::collection::vec(item(), 0..6);
    (items, 0u8..7).prop_map(|(items, shape)| match shape {
        0 => json!({ "name": "n", "properties": { "securityRules": items } }),
        1 => json!({ "name": "n", "securityRules": items, "defaultSecurityRules": [] }),
        2 => json!({ "resources": [{ "type": "Microsoft.Network/networkSecurityGroups", "properties": { "securityRules": items } }] }),
        3 => json!({ "properties": { "routes": items } }),
        4 => json!({ "routes": items }),
        5 => json!({ "properties": { "priority": 200, "ruleCollections": [{
            "name": "c", "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "priority": 300,
            "action": { "type": "Allow" }, "rules": items }] } }),
        _ => json!({ "networkRuleCollections": [{ "name": "c", "priority": 300, "action": { "type": "Deny" }, "rules": items }] }),
    })
}

/// Applies byte edits (delete, double, or replace by a JSON-significant byte) to a text.
fn edit(text: String, edits: &[(prop::sample::Index, u8, u8)]) -> Option<String> {
    let mut bytes = text.into_bytes();
    for (at, op, byte) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = at.index(bytes.len());
        match op % 3 {
            0 => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, bytes[i]),
            _ => bytes[i] = *byte,
        }
    }
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// Generated files, pretty or compact: the same file or the same diagnostics.
    #[test]
    fn generated_files_read_the_same(doc in document(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        assert_same(&text)?;
    }

    /// Byte edits of generated files and of the golden artifacts: the same answer, refusals
    /// included (syntax errors, duplicate keys and all).
    #[test]
    fn edited_files_read_the_same(
        doc in document(),
        seed in prop::option::of(prop::sample::select(vec!["nsg.json", "route-table.json", "firewall-policy.json", "firewall-classic.json"])),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), prop::sample::select(b"{}[],:\"\\ 0-.1tn\n".to_vec())), 1..4),
    ) {
        let text = seed.map_or_else(|| serde_json::to_string_pretty(&doc).unwrap(), golden);
        if let Some(text) = edit(text, &edits) {
            assert_same(&text)?;
        }
    }
}
