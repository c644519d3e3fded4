//! `isenet compile` end to end: determinism, atomic output, stable names and priorities.

use crate::common::Scratch;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn isenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isenet")).args(args).output().unwrap()
}

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("compile", name)
}

fn example() -> Value {
    serde_json::from_slice(&isenet(&["example"]).stdout).unwrap()
}

fn write_env(dir: &Path, env: &Value) -> String {
    let p = dir.join("env.json");
    std::fs::write(&p, serde_json::to_string_pretty(env).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

fn compile_rules(dir: &Path, env: &Value) -> Vec<(String, u64, String)> {
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", &write_env(dir, env), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    nsg["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["properties"]["priority"].as_u64().unwrap(),
                r["properties"]["direction"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn output_is_byte_identical_across_runs() {
    let dir = scratch("determinism");
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        assert_eq!(isenet(&["compile", "--out-dir", out.to_str().unwrap()]).status.code(), Some(0));
    }
    for f in ["nsg.json", "plan.json"] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert_eq!(x, y, "{f}");
        assert!(x.ends_with(b"\n"), "{f} ends with a newline");
    }
}

#[test]
fn adding_destinations_and_callers_never_renumbers_existing_rules() {
    let dir = scratch("stable");
    let mut env = example();
    env["accessEndpoint"] = "external".into();
    env["outboundPolicy"] = "restricted".into();
    let before = compile_rules(&dir, &env);
    env["outboundDestinations"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "erp", "prefixes": ["192.0.2.0/24"], "ports": ["443"]}));
    env["externalCallers"] = serde_json::json!(["198.51.100.7"]);
    let after = compile_rules(&dir, &env);
    for rule in &before {
        assert!(after.contains(rule), "{rule:?} changed: {after:?}");
    }
    assert_eq!(after.len(), before.len() + 1);
    // FNV-1a("out-dest-erp") = 0xd364bfa6; mod 200 = 38: slot 2000 + 380.
    assert!(after.iter().any(|(n, p, _)| n == "out-dest-erp" && *p == 2380), "{after:?}");
}

/// FNV-1a of each rule name, mod 200 (computed by hand): alpha 0xd370686f -> 143, bravo
/// 0x292e1c9f -> 39, charlie 0x7f2cc10d -> 37, so 3430, 2390 and 2370 wherever they sit.
#[test]
fn removing_or_reordering_destinations_moves_no_other_destination() {
    let dir = scratch("destinations");
    let mut env = example();
    env["outboundPolicy"] = "restricted".into();
    let dest = |name: &str, host: u8| serde_json::json!({"name": name, "prefixes": [format!("203.0.113.{host}")], "ports": ["22"]});
    let destinations = |rules: &[(String, u64, String)]| -> Vec<(String, u64)> {
        rules
            .iter()
            .filter(|(n, _, _)| n.starts_with("out-dest-"))
            .map(|(n, p, _)| (n.clone(), *p))
            .collect()
    };
    let want = |names: &[&str]| -> Vec<(String, u64)> {
        let all = [("out-dest-charlie", 2370), ("out-dest-bravo", 2390), ("out-dest-alpha", 3430)];
        all.iter()
            .filter(|(n, _)| names.contains(n))
            .map(|(n, p)| (n.to_string(), *p))
            .collect()
    };
    env["outboundDestinations"] = serde_json::json!([dest("alpha", 1), dest("bravo", 2), dest("charlie", 3)]);
    let all = compile_rules(&dir, &env);
    assert_eq!(destinations(&all), want(&["out-dest-alpha", "out-dest-bravo", "out-dest-charlie"]));
    env["outboundDestinations"] = serde_json::json!([dest("charlie", 3), dest("alpha", 1), dest("bravo", 2)]);
    assert_eq!(compile_rules(&dir, &env), all);
    env["outboundDestinations"] = serde_json::json!([dest("bravo", 2), dest("charlie", 3)]);
    let removed = compile_rules(&dir, &env);
    assert_eq!(destinations(&removed), want(&["out-dest-bravo", "out-dest-charlie"]));
    let others: Vec<_> = all.iter().filter(|r| r.0 != "out-dest-alpha").cloned().collect();
    assert_eq!(removed, others);
}

#[test]
fn priorities_are_unique_per_direction_and_within_azure_range() {
    let dir = scratch("priorities");
    let rules = compile_rules(&dir, &example());
    let mut seen = std::collections::BTreeSet::new();
    for (name, p, dir) in &rules {
        assert!((100..=4096).contains(p), "{name}: {p}");
        assert!(seen.insert((dir.clone(), *p)), "{name}: duplicate priority {p} {dir}");
    }
    assert!(rules
        .iter()
        .any(|(n, p, d)| n == "deny-all-inbound" && *p == 4096 && d == "Inbound"));
}

#[test]
fn bad_input_leaves_no_output_and_exits_2() {
    let dir = scratch("bad");
    let mut env = example();
    env["subnets"][0]["prefix"] = "10.10.1.0/28".into();
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", &write_env(&dir, &env), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("env.json")],
        "no temporary directory is left behind"
    );
}

#[test]
fn recompiling_replaces_artifacts_and_refuses_foreign_directories() {
    let dir = scratch("replace");
    let out = dir.join("out");
    assert_eq!(isenet(&["compile", "--out-dir", out.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(isenet(&["compile", "--out-dir", out.to_str().unwrap()]).status.code(), Some(0));
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = isenet(&["compile", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E1101"));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine",
        "nothing of the user's is deleted"
    );
}

#[test]
fn nsg_fields_follow_azure_rules() {
    let dir = scratch("fields");
    let mut env = example();
    env["cloud"] = "usgovernment".into();
    env["location"] = "usgovvirginia".into();
    let out = dir.join("out");
    assert_eq!(
        isenet(&["compile", "--env", &write_env(&dir, &env), "--out-dir", out.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    assert_eq!(nsg["type"], "Microsoft.Network/networkSecurityGroups");
    assert_eq!(nsg["apiVersion"], "2023-11-01");
    assert_eq!(nsg["name"], "contoso-ise-nsg");
    for r in nsg["properties"]["securityRules"].as_array().unwrap() {
        let p = &r["properties"];
        let name = r["name"].as_str().unwrap();
        assert!(name.len() <= 80);
        assert!(p["description"].as_str().unwrap().chars().count() <= 140);
        assert!(
            p["description"]
                .as_str()
                .unwrap()
                .starts_with(name.trim_end_matches(char::is_numeric).trim_end_matches('-'))
                || name.starts_with("deny")
        );
        // Plural fields hold CIDRs only; no Government NSG names the three Logic Apps tags.
        for side in ["source", "destination"] {
            if let Some(list) = p[format!("{side}AddressPrefixes")].as_array() {
                assert!(list.iter().all(|x| x.as_str().unwrap().parse::<ipnet::Ipv4Net>().is_ok()), "{name}");
            }
            let single = p[format!("{side}AddressPrefix")].as_str().unwrap_or("");
            assert!(
                !["LogicApps", "LogicAppsManagement", "AzureConnectors"].contains(&single),
                "{name} uses {single} in Government"
            );
        }
    }
}

#[test]
fn out_dir_without_a_name_is_refused_and_unknown_files_are_kept() {
    let dir = scratch("dot");
    let o = Command::new(env!("CARGO_BIN_EXE_isenet"))
        .current_dir(&dir)
        .args(["compile", "--out-dir", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E1101"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    // A file named like an artifact isenet does not write is the user's: refuse, keep it.
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("main.tf"), "{}").unwrap();
    let o = isenet(&["compile", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(out.join("main.tf")).unwrap(), "{}");
}

/// The route table's `route-connector-ips` prefixes of `env` in firewall mode.
fn connector_route_prefixes(dir: &Path, env: &Value) -> Vec<String> {
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", &write_env(dir, env), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let table: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
    table["properties"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("route-connector-ips"))
        .map(|r| r["properties"]["addressPrefix"].as_str().unwrap().to_string())
        .collect()
}

/// Seed 002, forced tunneling: a route with next hop Internet for every connector address of the
/// ISE region "available in this download file" (the service-tag file). In Azure public the NSG
/// admits the AzureConnectors tag, so the route is the region's tag, whose every address then
/// answers by the Internet; in Government, whose NSG admits only the published list, the routes
/// are that list.
#[test]
fn the_connector_route_covers_what_the_nsg_admits() {
    let dir = scratch("connector-route");
    let mut env = example();
    env["forcedTunneling"] = serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    let location = env["location"].as_str().unwrap().to_string();
    let public = connector_route_prefixes(&dir, &env);
    let suffix = {
        let o = isenet(&["tags", "show", "AzureConnectors", "--location", &location, "--format", "json"]);
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        doc["regional"]["name"].as_str().unwrap().to_string()
    };
    assert_eq!(public, std::slice::from_ref(&suffix), "one route, the regional tag");
    assert!(suffix.starts_with("AzureConnectors."), "{suffix}");

    env["cloud"] = serde_json::json!("usgovernment");
    env["location"] = serde_json::json!("usgovvirginia");
    let gov = connector_route_prefixes(&dir, &env);
    assert!(
        !gov.is_empty() && gov.iter().all(|p| p.contains('/')),
        "the published prefixes: {gov:?}"
    );
    // An external Government ISE: the connector route already is the published list, so no
    // second route for the same prefixes (Azure refuses those: RouteConflict).
    env["accessEndpoint"] = serde_json::json!("external");
    env["externalCallers"] = serde_json::json!(["203.0.113.0/24"]);
    assert_eq!(routes_named(&dir, &env, "route-connector-outbound-ips"), Vec::<String>::new());
}

/// The address prefixes of the routes of `env` whose names start with `name`.
fn routes_named(dir: &Path, env: &Value, name: &str) -> Vec<String> {
    let out = dir.join("out-named");
    let o = isenet(&["compile", "--env", &write_env(dir, env), "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let table: Value = serde_json::from_str(&std::fs::read_to_string(out.join("route-table.json")).unwrap()).unwrap();
    let mut prefixes: Vec<String> = table["properties"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with(name))
        .map(|r| r["properties"]["addressPrefix"].as_str().unwrap().to_string())
        .collect();
    prefixes.sort();
    prefixes
}

/// An external ISE's NSG admits the region's published connector outbound addresses on every port
/// (`in-connector-outbound-ips`, seed 002's "Create your ISE" step) besides the AzureConnectors
/// tag; seed 002 wants a route to the Internet for each connector address, so in firewall mode
/// the published list is routed too. West US 2 lists 52.191.164.250, which its regional tag
/// (2025-10-28 file) does not hold: without the route, the replies to it went to the firewall.
#[test]
fn an_external_ise_routes_the_published_connector_addresses_it_admits() {
    let dir = scratch("connector-route-external");
    let mut env = example();
    env["location"] = serde_json::json!("westus2");
    env["accessEndpoint"] = serde_json::json!("external");
    env["externalCallers"] = serde_json::json!(["203.0.113.0/24"]);
    env["forcedTunneling"] = serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    // data/logicapps-ips.csv, AzureCloud, West US 2, connector-outbound.
    assert_eq!(
        routes_named(&dir, &env, "route-connector-outbound-ips"),
        ["13.66.140.128/28", "13.66.145.96/27", "52.183.78.157/32", "52.191.164.250/32"]
    );
    assert_eq!(routes_named(&dir, &env, "route-connector-ips"), ["AzureConnectors.WestUS2"]);
    let env_file = write_env(&dir, &env);
    let flow = [
        "explain",
        "--env",
        &env_file,
        "--from",
        "52.191.164.250",
        "--to",
        "10.10.1.5",
        "--port",
        "443",
        "--expect",
        "allow",
    ];
    assert_eq!(isenet(&flow).status.code(), Some(0));
    let verify = isenet(&["verify", "--env", &env_file, "-q"]);
    assert_eq!(verify.status.code(), Some(0), "{}", String::from_utf8_lossy(&verify.stdout));
    // The route missing: verify names the address the NSG admits whose reply would go to the firewall.
    let table_path = dir.join("out-named/route-table.json");
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&table_path).unwrap()).unwrap();
    table["properties"]["routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["properties"]["addressPrefix"] != "52.191.164.250/32");
    let broken = dir.join("routes-broken.json");
    std::fs::write(&broken, table.to_string()).unwrap();
    let o = isenet(&["verify", "--env", &env_file, "--routes", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("F0201 1 address of route-connector-outbound-ips go to VirtualAppliance 10.10.2.4 via route-firewall-default instead of Internet: 52.191.164.250/32"),
        "{text}"
    );
}
