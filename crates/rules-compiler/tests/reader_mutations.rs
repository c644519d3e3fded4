//! The three readers on mutated files: starting from the artifacts isenet writes (and az's
//! flattened NSG shape), delete keys, swap types, put huge numbers and odd unicode in, truncate the
//! text. Whatever comes in, a reader never panics and answers either a file or coded diagnostics
//! (a registered reader code, the file's name, a JSON path, a line:column).

use ise_model::codes;
use ise_model::diag::Diagnostic;
use proptest::prelude::*;
use rules_compiler::read::{firewall, nsg, routes};
use serde_json::{json, Value};

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/golden/usgov-firewall/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// az's flattened NSG shape: the ARM rules with their `properties` lifted into the rule.
fn az_nsg() -> String {
    let mut v: Value = serde_json::from_str(&golden("nsg.json")).unwrap();
    let rules: Vec<Value> = v["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut flat = r["properties"].clone();
            flat["name"] = r["name"].clone();
            flat
        })
        .collect();
    v["securityRules"] = json!(rules);
    v.as_object_mut().unwrap().remove("properties");
    v.to_string()
}

/// Which reader, on which starting file.
#[derive(Debug, Clone, Copy)]
enum Seed {
    Nsg,
    AzNsg,
    Routes,
    Policy,
    Classic,
}

impl Seed {
    fn text(self) -> String {
        match self {
            Seed::Nsg => golden("nsg.json"),
            Seed::AzNsg => az_nsg(),
            Seed::Routes => golden("route-table.json"),
            Seed::Policy => golden("firewall-policy.json"),
            Seed::Classic => golden("firewall-classic.json"),
        }
    }

    /// Runs the reader; a file read is checked for consistency, the errors are returned.
    fn read(self, text: &str) -> Result<(), Vec<Diagnostic>> {
        match self {
            Seed::Nsg | Seed::AzNsg => nsg::parse(text, FILE).map(|f| assert_eq!(f.rules.len(), f.origins.len())),
            Seed::Routes => routes::parse(text, FILE).map(|f| assert_eq!(f.routes.len(), f.origins.len())),
            Seed::Policy | Seed::Classic => firewall::parse(text, FILE).map(|f| {
                assert_eq!(f.network.len(), f.network_origins.len());
                assert_eq!(f.application.len(), f.application_origins.len());
            }),
        }
    }
}

const FILE: &str = "mutated.json";

/// The JSON pointer of every value of the document, in document order.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                pointers(c, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// What replaces a value: other types, huge and negative numbers, odd unicode, long strings.
fn replacement(kind: u8, old: &Value) -> Value {
    match kind % 14 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(u64::MAX),
        5 => json!(1e300),
        6 => json!(""),
        7 => json!("\u{202e}evil\u{0}\u{fffd}ǅ🔥"),
        8 => json!("9".repeat(5000)),
        9 => json!([]),
        10 => json!({}),
        11 => json!([old.clone(), old.clone()]),
        12 => json!(old.to_string()),
        _ => json!("*"),
    }
}

/// Deletes the value at `pointer` (a key of its object, an element of its array).
fn delete(doc: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return };
    let key = key.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&key);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = key.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {}
    }
}

fn mutate(text: &str, edits: &[(usize, u8)], truncate: Option<usize>) -> String {
    let mut doc: Value = serde_json::from_str(text).unwrap();
    for &(at, kind) in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = all[at % all.len()].clone();
        if kind % 4 == 0 {
            delete(&mut doc, &pointer);
        } else if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = replacement(kind / 4, slot);
        }
    }
    let mut out = serde_json::to_string_pretty(&doc).unwrap();
    if let Some(cut) = truncate {
        let mut cut = cut % (out.len() + 1);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn assert_coded(diags: &[Diagnostic], text: &str) {
    assert!(!diags.is_empty(), "an error without a diagnostic");
    for d in diags {
        assert!(d.code.starts_with("E12"), "not a reader code: {d}");
        assert!(codes::ALL.iter().any(|c| c.code == d.code), "unregistered code: {d}");
        assert_eq!(d.file, FILE, "{d}");
        assert!(d.line.is_some() && d.column.is_some(), "unlocated: {d}\n{text}");
    }
}

fn seed() -> impl Strategy<Value = Seed> {
    prop_oneof![
        Just(Seed::Nsg),
        Just(Seed::AzNsg),
        Just(Seed::Routes),
        Just(Seed::Policy),
        Just(Seed::Classic)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn mutated_files_are_read_or_refused_with_coded_located_errors(
        seed in seed(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        truncate in prop::option::weighted(0.15, any::<usize>()),
    ) {
        let text = mutate(&seed.text(), &edits, truncate);
        if let Err(diags) = seed.read(&text) {
            assert_coded(&diags, &text);
        }
    }
}

#[test]
fn the_seeds_themselves_are_read() {
    for seed in [Seed::Nsg, Seed::AzNsg, Seed::Routes, Seed::Policy, Seed::Classic] {
        assert!(seed.read(&seed.text()).is_ok(), "{seed:?}");
    }
}

#[test]
fn a_wrong_type_at_every_place_of_a_rule_is_coded() {
    // Exhaustive over one NSG rule, one route and one firewall rule: every value swapped for every
    // replacement, and every key deleted.
    for seed in [Seed::Nsg, Seed::Routes, Seed::Policy] {
        let text = seed.text();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let first_item: Vec<usize> = (0..all.len())
            .filter(|&i| {
                ["/securityRules/0/", "/routes/0/", "/ruleCollections/0/rules/0/"]
                    .iter()
                    .any(|p| all[i].contains(p))
            })
            .collect();
        assert!(!first_item.is_empty(), "{seed:?}");
        let mut refused = 0;
        for i in first_item {
            // Kind 0 deletes; 4k+1 puts replacement k.
            for kind in std::iter::once(0).chain((0..14u8).map(|k| 4 * k + 1)) {
                let mutated = mutate(&text, &[(i, kind)], None);
                if let Err(diags) = seed.read(&mutated) {
                    assert_coded(&diags, &mutated);
                    refused += 1;
                }
            }
        }
        // Deleting the name or swapping the protocol for a number is refused in every shape.
        assert!(refused >= 20, "{seed:?}: only {refused} mutations refused");
    }
}
