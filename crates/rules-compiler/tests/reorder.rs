//! Lists whose order means nothing to Azure (address space, callers, subnets, outbound destinations
//! and their prefixes and ports, certificates) give byte-identical artifacts in any order, so that
//! `compile --check` agrees with `diff --deployed` after a meaningless reorder.

use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use serde_json::{json, Value};

/// An environment using every reorderable list: firewall tunneling (the firewall rules list the
/// subnets), the external endpoint (external and internal callers), several address spaces, and
/// destinations with several prefixes and overlapping ports.
fn base() -> Value {
    let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["accessEndpoint"] = json!("external");
    v["outboundPolicy"] = json!("restricted");
    v["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    v["virtualNetwork"]["addressSpace"] = json!(["10.10.0.0/16", "10.20.0.0/16", "172.16.0.0/24"]);
    v["internalCallers"] = json!(["192.168.10.0/24", "172.20.5.4", "10.200.0.0/16"]);
    v["externalCallers"] = json!(["198.51.100.7", "203.0.113.128/25", "192.0.2.0/24"]);
    v["subnets"] = json!([
        {"name": "ise-1", "prefix": "10.10.1.0/27"},
        {"name": "ise-2", "prefix": "10.20.1.32/27", "delegated": true},
        {"name": "ise-3", "prefix": "10.10.1.64/27"},
        {"name": "ise-4", "prefix": "10.10.1.96/27"}
    ]);
    v["outboundDestinations"] = json!([
        {"name": "partner-sftp", "prefixes": ["203.0.113.10/32", "198.51.100.0/24", "203.0.113.11"], "ports": ["22"]},
        {"name": "erp", "prefixes": ["192.0.2.64/26"], "ports": ["8443-8445", "443", "8444"]},
        {"name": "smtp", "prefixes": ["192.0.2.25", "192.0.2.26"], "ports": ["587", "25"]}
    ]);
    let cert = v["certificates"][0].clone();
    let mut other = cert.clone();
    other["name"] = json!("another-root");
    v["certificates"] = json!([cert, other]);
    v
}

/// Every file `compile` writes for the environment text.
fn artifacts(text: &str) -> Vec<(&'static str, String)> {
    let loaded = ise_model::env::load(text, "env.json");
    let env = loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
    let tags = ServiceTags::embedded(env.cloud);
    let plan = rules_compiler::plan::build(&env, tags, None).unwrap();
    rules_compiler::render::render_everything(&plan, tags)
        .into_iter()
        .map(|a| (a.file_name, a.contents))
        .collect()
}

/// `list` reordered by `order` (a permutation of at least its length; larger indices skipped).
fn reorder(list: &mut Value, order: &[usize]) {
    let items = list.as_array().unwrap().clone();
    *list = order.iter().filter(|&&i| i < items.len()).map(|&i| items[i].clone()).collect();
}

fn permutation() -> impl Strategy<Value = Vec<usize>> {
    Just((0..4).collect::<Vec<usize>>()).prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn reordered_sets_give_byte_identical_artifacts(orders in prop::collection::vec(permutation(), 12)) {
        let want = artifacts(&base().to_string());
        let mut v = base();
        reorder(&mut v["virtualNetwork"]["addressSpace"], &orders[0]);
        reorder(&mut v["internalCallers"], &orders[1]);
        reorder(&mut v["externalCallers"], &orders[2]);
        reorder(&mut v["subnets"], &orders[3]);
        reorder(&mut v["outboundDestinations"], &orders[4]);
        reorder(&mut v["certificates"], &orders[5]);
        for (i, d) in v["outboundDestinations"].as_array_mut().unwrap().iter_mut().enumerate() {
            reorder(&mut d["prefixes"], &orders[6 + i]);
            reorder(&mut d["ports"], &orders[9 + i]);
        }
        let got = artifacts(&v.to_string());
        prop_assert_eq!(got.len(), want.len());
        for ((name, a), (_, b)) in got.iter().zip(&want) {
            prop_assert!(a == b, "{} differs for {}", name, v);
        }
    }
}

#[test]
fn the_plan_lists_ports_as_the_nsg_writes_them() {
    // `8443-8445`, `443`, `8444` is 443 and 8443-8445, in the plan as in nsg.json.
    let files = artifacts(&base().to_string());
    let plan: Value = serde_json::from_str(&files.iter().find(|(n, _)| *n == "plan.json").unwrap().1).unwrap();
    let erp = plan["environment"]["outboundDestinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "erp")
        .unwrap();
    assert_eq!(erp["ports"], json!(["443", "8443-8445"]));
    let smtp = plan["environment"]["outboundDestinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "smtp")
        .unwrap();
    assert_eq!(smtp["prefixes"], json!(["192.0.2.25/32", "192.0.2.26/32"]));
    assert_eq!(smtp["ports"], json!(["25", "587"]));
}
