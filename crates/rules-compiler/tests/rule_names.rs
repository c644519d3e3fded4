//! Every NSG rule isenet compiles has a name of its own, as Azure compares names (without case),
//! or the plan is refused with E1006: a destination of over 4,000 prefixes is split into rules
//! named `<id>-1`, `<id>-2`, ..., which another destination's own rule may already be named. (Such
//! a destination is past Azure's 4,000 addresses per NSG side too, E1007, reported beside it.)

use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Over 4,000 prefixes (a split into two rules) or one.
fn prefixes(split: bool, seed: u16) -> Value {
    let n = if split { 4_001 } else { 1 };
    (0..n)
        .map(|j| format!("203.{}.{}.{}/32", seed % 200, j / 128, (j % 128) * 2))
        .collect()
}

/// Names that can meet: a base, its split parts' suffixes in either case, and unrelated ones.
fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["d0", "d0-1", "D0-2", "d0-3", "e", "E-1", "e-x"]).prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn compiled_rule_names_are_unique_or_e1006(destinations in prop::collection::btree_map(name(), any::<bool>(), 1..5)) {
        // Destination names are unique in a valid environment, without case too.
        let mut seen = BTreeSet::new();
        let destinations: Vec<(String, bool)> = destinations.into_iter().filter(|(n, _)| seen.insert(n.to_lowercase())).collect();
        let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
        v["outboundDestinations"] = destinations
            .iter()
            .enumerate()
            .map(|(i, (n, split))| json!({"name": n, "prefixes": prefixes(*split, i as u16), "ports": ["443"]}))
            .collect();
        let loaded = ise_model::env::load(&v.to_string(), "env.json");
        let env = loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
        let tags = ServiceTags::embedded(env.cloud);
        // What the definition says collides: a split destination's parts against the names of the
        // destinations kept whole (a split one's own name is no rule's).
        let own: Vec<String> = destinations
            .iter()
            .filter(|(_, split)| !*split)
            .map(|(n, _)| format!("out-dest-{n}").to_lowercase())
            .collect();
        let parts: Vec<String> = destinations
            .iter()
            .filter(|(_, split)| *split)
            .flat_map(|(n, _)| (1..=2).map(move |k| format!("out-dest-{n}-{k}").to_lowercase()))
            .collect();
        let collides = parts.iter().any(|p| own.contains(p));
        match rules_compiler::plan::build(&env, tags, None) {
            Ok(plan) => {
                prop_assert!(!collides && destinations.iter().all(|(_, split)| !*split), "{destinations:?}");
                let names: Vec<String> = plan.security_rules.iter().map(|r| r.rule.name.to_lowercase()).collect();
                let unique: BTreeSet<&String> = names.iter().collect();
                prop_assert_eq!(unique.len(), names.len());
            }
            Err(diags) => {
                // A split destination names over 4,000 addresses, past Azure's limit per NSG side
                // (E1007) whether or not a name collides too (E1006).
                let split = destinations.iter().any(|(_, split)| *split);
                prop_assert_eq!(diags.iter().any(|d| d.code == "E1006"), collides, "{:?}", diags);
                prop_assert_eq!(diags.iter().any(|d| d.code == "E1007"), split, "{:?}", diags);
                prop_assert!(diags.iter().all(|d| d.code == "E1006" || d.code == "E1007"), "{:?}", diags);
            }
        }
    }
}
