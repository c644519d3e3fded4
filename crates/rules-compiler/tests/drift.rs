//! Properties of `diff --deployed` over random valid environments: the compiled artifacts read back
//! as deployed files are in sync with themselves, and deleting or renaming one rule, route or
//! firewall rule of them is found as exactly that change.

use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use rules_compiler::diff::deployed;
use rules_compiler::diff::drift::{self, Action, Drift};
use rules_compiler::plan::Plan;
use serde_json::{json, Value};

/// The artifacts `diff` takes, with the JSON pointer of each one's list of items (firewall rules
/// sit one level deeper, in their collections).
const ARTIFACTS: [(&str, &str); 3] = [
    ("nsg.json", "/properties/securityRules"),
    ("route-table.json", "/properties/routes"),
    ("firewall-policy.json", "/resources/0/properties/ruleCollections"),
];

/// An environment drawn from the example: cloud and location of a deployable region, endpoint,
/// tunneling mode, outbound policy, custom DNS servers and outbound destinations.
fn environment() -> impl Strategy<Value = ise_model::Environment> {
    let locations: Vec<(String, String)> = ise_model::iplists::deployable_locations()
        .into_iter()
        .map(|l| (l.cloud.as_str().to_string(), l.name.clone()))
        .collect();
    (
        prop::sample::select(locations),
        prop::bool::ANY,
        0usize..3,
        prop::bool::ANY,
        prop::collection::btree_set(1u8..=250, 0..3),
        prop::collection::vec((20u8..=99, 1u16..=65000), 0..3),
    )
        .prop_map(|((cloud, location), external, mode, restricted, dns, destinations)| {
            let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
            v["cloud"] = json!(cloud);
            v["location"] = json!(location);
            v["accessEndpoint"] = json!(if external { "external" } else { "internal" });
            // An external ISE in firewall mode needs declared callers to answer (W0505).
            v["externalCallers"] = if external { json!(["198.51.100.0/24"]) } else { json!([]) };
            v["forcedTunneling"] = [
                json!({"mode": "none"}),
                json!({"mode": "expressRoute"}),
                json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"}),
            ][mode]
                .clone();
            v["outboundPolicy"] = json!(if restricted { "restricted" } else { "open" });
            v["customDnsServers"] = dns.iter().map(|d| format!("10.10.3.{d}")).collect();
            v["outboundDestinations"] = destinations
                .iter()
                .enumerate()
                .map(|(i, (a, port))| json!({"name": format!("d{i}"), "prefixes": [format!("{a}.0.2.0/24")], "ports": [port.to_string()]}))
                .collect();
            let loaded = ise_model::env::load(&v.to_string(), "generated");
            loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
        })
}

fn plan(env: &ise_model::Environment) -> Plan {
    rules_compiler::plan::build(env, ServiceTags::embedded(env.cloud), None).unwrap()
}

/// The compiled artifacts as `(file, JSON)`.
fn compiled(plan: &Plan) -> Vec<(String, Value)> {
    let all = rules_compiler::render::render_all(plan);
    ARTIFACTS
        .iter()
        .map(|(name, _)| {
            let a = all.iter().find(|a| a.file_name == *name).unwrap();
            (name.to_string(), serde_json::from_str(&a.contents).unwrap())
        })
        .collect()
}

fn drift_of(plan: &Plan, files: &[(String, Value)]) -> Drift {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(f, v)| (f.clone(), serde_json::to_string_pretty(v).unwrap()))
        .collect();
    let files = deployed::read_all(&texts, &plan.deployed_names()).unwrap();
    let tags = ServiceTags::embedded(plan.environment.cloud);
    drift::drift(&drift::Inputs {
        plan,
        tags,
        deployed: &files.artifacts,
        templates: &files.templates,
    })
    .unwrap()
}

/// Every item (rule, route, firewall rule) of the files: (file index, pointer to it, its name).
fn items(files: &[(String, Value)]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, (_, doc)) in files.iter().enumerate() {
        let pointer = ARTIFACTS[i].1;
        for (j, item) in doc.pointer(pointer).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if i == 2 {
                for (k, rule) in item["rules"].as_array().into_iter().flatten().enumerate() {
                    out.push((i, format!("{pointer}/{j}/rules/{k}"), rule["name"].as_str().unwrap().to_string()));
                }
            } else {
                out.push((i, format!("{pointer}/{j}"), item["name"].as_str().unwrap().to_string()));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn compiled_artifacts_are_in_sync_with_themselves(env in environment()) {
        let plan = plan(&env);
        let d = drift_of(&plan, &compiled(&plan));
        prop_assert!(d.changes.is_empty(), "{:?}", d.changes);
        prop_assert!(d.metadata.is_empty(), "{:?}", d.metadata);
        prop_assert!(d.in_sync, "{:?} {:?} {:?}", d.missing, d.openings, d.other_findings);
        prop_assert_eq!(d.compared.len(), 3);
    }

    #[test]
    fn a_deleted_or_renamed_item_is_exactly_that_change(env in environment(), pick in any::<prop::sample::Index>(), rename in any::<bool>()) {
        let plan = plan(&env);
        let mut files = compiled(&plan);
        let all = items(&files);
        // Every environment has NSG rules, so there is always something to pick.
        let (file, pointer, name) = all[pick.index(all.len())].clone();
        let (parent, index) = pointer.rsplit_once('/').unwrap();
        let list = files[file].1.pointer_mut(parent).unwrap().as_array_mut().unwrap();
        let index: usize = index.parse().unwrap();
        if rename {
            list[index]["name"] = json!("renamed-by-hand");
        } else {
            list.remove(index);
        }
        let d = drift_of(&plan, &files);
        prop_assert_eq!(d.changes.len(), 1, "{} {:?}", name, d.changes);
        let c = &d.changes[0];
        prop_assert_eq!(&c.name, &name);
        if rename {
            prop_assert_eq!(c.action, Action::Rename);
            prop_assert_eq!(c.deployed_name.as_deref(), Some("renamed-by-hand"));
            prop_assert!(c.fields.is_empty(), "{:?}", c.fields);
        } else {
            prop_assert_eq!(c.action, Action::Add);
        }
        prop_assert!(!d.in_sync);
    }
}
