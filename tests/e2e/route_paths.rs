//! Route semantics end to end, from Azure's documented route selection (user route beats BGP beats
//! system route on equal prefixes; longest prefix match; asymmetric routing drops inbound traffic
//! whose reply goes to an appliance): ExpressRoute's BGP-learned 0.0.0.0/0, the reply route of
//! inbound flows in `explain`, and in-VNet requirements diverted by more specific user routes.

use crate::common::Scratch;
use crate::common::{isenet, Run};
use serde_json::{json, Value};
use std::path::Path;

const FW: &str = "tests/envs/firewall-tunneling.json";
const ER: &str = "tests/envs/expressroute-tunneling.json";

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("route-paths", name)
}

/// Compiles `env` into `dir` and returns the route table as JSON.
fn compiled(env: &str, dir: &Path) -> Value {
    let r = isenet(&["compile", "--env", env, "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    serde_json::from_str(&std::fs::read_to_string(dir.join("route-table.json")).unwrap()).unwrap()
}

fn routes_of(table: &mut Value) -> &mut Vec<Value> {
    table["properties"]["routes"].as_array_mut().unwrap()
}

fn save(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.to_string_lossy().into_owned()
}

fn route_findings(r: &Run) -> Vec<Value> {
    let v = r.json();
    v["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["artifact"] == "routes")
        .flat_map(|p| p["findings"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn expressroute_bgp_default_needs_the_user_route_to_internet() {
    let dir = scratch("er");
    let out = dir.join("out");
    let mut table = compiled(ER, &out);
    let nsg = out.join("nsg.json");
    let nsg = nsg.to_str().unwrap();
    // Only the private ranges to Internet: ExpressRoute's 0.0.0.0/0 over BGP beats the system default.
    *routes_of(&mut table) = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"name": format!("private-{i}"), "properties": {"addressPrefix": p, "nextHopType": "Internet"}}))
        .collect();
    let routes = save(&dir, "private-only.json", &table);
    let r = isenet(&["verify", "--env", ER, "--nsg", nsg, "--routes", &routes, "-q"]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let r = isenet(&["verify", "--env", ER, "--nsg", nsg, "--routes", &routes, "--format", "json"]);
    let f = route_findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["code"], "F0201");
    assert_eq!(f[0]["requirements"], json!(["other-traffic-to-internet"]));
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("go to VirtualNetworkGateway via bgp: 0.0.0.0/0 from ExpressRoute"),
        "{}",
        f[0]["message"]
    );
    // explain: the partner's address leaves by the gateway, learned over BGP.
    let r = isenet(&[
        "explain",
        "--env",
        ER,
        "--routes",
        &routes,
        "--from",
        "10.10.1.5",
        "--to",
        "203.0.113.10",
        "--port",
        "22",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = r.json();
    assert_eq!(e["path"].as_array().unwrap().len(), 1, "{e}");
    assert_eq!(e["path"][0]["route"], "bgp: 0.0.0.0/0 from ExpressRoute");
    assert_eq!(e["path"][0]["nextHop"], "VirtualNetworkGateway");
    assert!(e["path"][0]["note"].as_str().unwrap().starts_with("BGP"), "{e}");
    // The compiled table's user 0.0.0.0/0 to Internet beats the BGP route.
    let compiled = out.join("route-table.json");
    let r = isenet(&["verify", "--env", ER, "--nsg", nsg, "--routes", compiled.to_str().unwrap(), "-q"]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn an_inbound_flow_whose_reply_goes_to_the_firewall_is_denied_as_asymmetric() {
    let dir = scratch("asm");
    let out = dir.join("out");
    let mut table = compiled(FW, &out);
    routes_of(&mut table).retain(|r| r["properties"]["addressPrefix"] != "AppServiceManagement");
    let routes = save(&dir, "fw-no-asm.json", &table);
    let ask = |routes: &str, expect: &str| {
        isenet(&[
            "explain",
            "--env",
            FW,
            "--routes",
            routes,
            "--from",
            "4.145.0.65",
            "--to",
            "10.10.1.5",
            "--port",
            "454",
            "--expect",
            expect,
        ])
    };
    // 4.145.0.65 is an AppServiceManagement address: without its route the reply takes 0.0.0.0/0
    // to the firewall.
    let r = ask(&routes, "deny");
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("route route-firewall-default: next hop VirtualAppliance 10.10.0.4 (the reply's route: asymmetric routing"),
        "{}",
        r.stdout
    );
    // The compiled table routes the management addresses to Internet: the reply is symmetric.
    let r = ask(out.join("route-table.json").to_str().unwrap(), "allow");
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    // Exact over the source set: only the part of a prefix whose reply goes to the firewall is denied.
    let r = isenet(&[
        "explain",
        "--env",
        FW,
        "--routes",
        &routes,
        "--from",
        "AppServiceManagement",
        "--to",
        "10.10.1.5",
        "--port",
        "454",
        "--format",
        "json",
    ]);
    let e = r.json();
    assert_eq!(e["verdict"], "deny", "{e}");
    // Intersubnet traffic replies within the VNet: never asymmetric.
    let r = isenet(&[
        "explain",
        "--env",
        FW,
        "--routes",
        &routes,
        "--from",
        "10.10.1.40",
        "--to",
        "10.10.1.5",
        "--port",
        "443",
        "--expect",
        "allow",
    ]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn routes_diverting_in_vnet_requirements_fail_verify() {
    let dir = scratch("hijack");
    let out = dir.join("out");
    let mut table = compiled(FW, &out);
    // /24 user routes beat the address space's /16 VnetLocal system route.
    routes_of(&mut table).extend([
        json!({"name": "isesubnets-to-fw", "properties": {"addressPrefix": "10.10.1.0/24", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.4"}}),
        json!({"name": "dns-blackhole", "properties": {"addressPrefix": "10.10.2.0/24", "nextHopType": "None"}}),
    ]);
    let routes = save(&dir, "fw-vnet-hijack.json", &table);
    let file = |n: &str| out.join(n).to_string_lossy().into_owned();
    let (nsg, firewall) = (file("nsg.json"), file("firewall-policy.json"));
    let args = |format: &str| {
        isenet(&[
            "verify",
            "--env",
            FW,
            "--nsg",
            &nsg,
            "--routes",
            &routes,
            "--firewall",
            &firewall,
            "--format",
            format,
        ])
    };
    let r = args("text");
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let mut got: Vec<(String, String, String)> = route_findings(&args("json"))
        .iter()
        .map(|f| {
            (
                f["requirements"][0].as_str().unwrap().to_string(),
                f["rule"]["name"].as_str().unwrap().to_string(),
                f["addresses"].to_string(),
            )
        })
        .collect();
    got.sort();
    let row = |id: &str, rule: &str, a: Value| (id.to_string(), rule.to_string(), a.to_string());
    assert_eq!(
        got,
        [
            // The custom DNS servers 10.10.2.4 and 10.10.2.5.
            row("out-dns-53", "dns-blackhole", json!(["10.10.2.4/31"])),
            // The four ISE subnets, 10.10.1.0/27 to 10.10.1.96/27.
            row("out-intersubnet", "isesubnets-to-fw", json!(["10.10.1.0/25"])),
            row("out-redis-6379-6383", "isesubnets-to-fw", json!(["10.10.1.0/25"])),
        ]
    );
    // explain agrees: the DNS server is unreachable.
    let r = isenet(&[
        "explain",
        "--env",
        FW,
        "--routes",
        &routes,
        "--from",
        "10.10.1.5",
        "--to",
        "10.10.2.4",
        "--port",
        "53",
        "--expect",
        "deny",
    ]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
}

/// An external ISE in firewall mode answers its callers on 443 (seed 002's caller row). Their
/// replies follow the subnets' routes: to the firewall they are dropped (asymmetric routing), so
/// the declared callers get routes to the Internet like the management addresses, and without
/// declared callers (the whole Internet) validate warns and verify agrees with explain.
#[test]
fn an_external_ise_in_firewall_mode_routes_its_callers_replies_to_the_internet() {
    let dir = scratch("external-callers");
    let mut env: Value = serde_json::from_str(&std::fs::read_to_string(crate::common::workspace().join(FW)).unwrap()).unwrap();
    env["accessEndpoint"] = json!("external");
    env["externalCallers"] = json!(["198.51.100.7", "203.0.113.0/26"]);
    let with_callers = save(&dir, "callers.json", &env);
    let out = dir.join("callers");
    let mut table = compiled(&with_callers, &out);
    let mut caller_routes: Vec<(String, String)> = routes_of(&mut table)
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("route-external-callers"))
        .map(|r| {
            (
                r["properties"]["addressPrefix"].as_str().unwrap().to_string(),
                r["properties"]["nextHopType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    caller_routes.sort();
    assert_eq!(
        caller_routes,
        [
            ("198.51.100.7/32".to_string(), "Internet".to_string()),
            ("203.0.113.0/26".to_string(), "Internet".to_string())
        ]
    );
    // The environment and its NSG, routes and firewall files, as verify and explain take them.
    let inputs = |env: &str, d: &Path, routes: Option<&str>| -> Vec<String> {
        let file = |f: &str| d.join(f).to_str().unwrap().to_string();
        let routes = routes.map_or_else(|| file("route-table.json"), str::to_string);
        [
            "--env",
            env,
            "--nsg",
            &file("nsg.json"),
            "--routes",
            &routes,
            "--firewall",
            &file("firewall-policy.json"),
        ]
        .map(String::from)
        .to_vec()
    };
    let verify = |args: Vec<String>| {
        let args: Vec<&str> = ["verify", "--format", "json"]
            .into_iter()
            .chain(args.iter().map(String::as_str))
            .collect();
        isenet(&args)
    };
    let explain = |args: Vec<String>, caller: &str, expect: &str| {
        let tail = ["--from", caller, "--to", "10.10.1.5", "--port", "443", "--expect", expect];
        let args: Vec<&str> = ["explain"].into_iter().chain(args.iter().map(String::as_str)).chain(tail).collect();
        let run = isenet(&args);
        assert_eq!(run.code, Some(0), "{caller} expected {expect}: {}", run.stdout);
    };
    let caller_findings = |run: &Run| -> usize {
        route_findings(run)
            .iter()
            .filter(|f| f["code"] == "F0201" && f["requirements"] == json!(["route-external-callers"]))
            .count()
    };
    assert_eq!(verify(inputs(&with_callers, &out, None)).code, Some(0));
    for caller in ["198.51.100.7", "203.0.113.63"] {
        explain(inputs(&with_callers, &out, None), caller, "allow");
    }
    // Without the callers' routes, verify finds what explain finds.
    routes_of(&mut table).retain(|r| !r["name"].as_str().unwrap().starts_with("route-external-callers"));
    let trimmed = save(&dir, "trimmed-routes.json", &table);
    let v = verify(inputs(&with_callers, &out, Some(&trimmed)));
    assert_eq!(v.code, Some(1), "{}", v.stdout);
    assert_eq!(
        route_findings(&v).iter().filter(|f| f["code"] == "F0201").count(),
        1,
        "{}",
        v.stdout
    );
    assert_eq!(caller_findings(&v), 1);
    explain(inputs(&with_callers, &out, Some(&trimmed)), "198.51.100.7", "deny");

    // No callers declared: the whole Internet calls, and no route table can answer it.
    env["externalCallers"] = json!([]);
    let anyone = save(&dir, "anyone.json", &env);
    let val = isenet(&["validate", "--env", &anyone]);
    assert_eq!(val.code, Some(0));
    assert!(
        val.stderr.contains("W0505") && val.stderr.contains("externalCallers"),
        "{}",
        val.stderr
    );
    let out = dir.join("anyone");
    compiled(&anyone, &out);
    let v = verify(inputs(&anyone, &out, None));
    assert_eq!(v.code, Some(1), "{}", v.stdout);
    assert_eq!(caller_findings(&v), 1);
    explain(inputs(&anyone, &out, None), "198.51.100.7", "deny");
}

/// A user route to `None` drops what it covers, outside the VNet too: the custom DNS servers and
/// the outbound destinations beyond the address space (reached by peering, a gateway or the
/// Internet, routes the table does not show) are each a route check that such a route fails. Azure's
/// own `None` default for the private ranges gives way to those routes, so `explain` passes a
/// declared network through it and stops an undeclared private address there.
#[test]
fn a_user_route_to_none_drops_dns_servers_and_destinations_outside_the_vnet() {
    let dir = scratch("blackhole");
    let mut env: Value =
        serde_json::from_str(&std::fs::read_to_string(crate::common::workspace().join("data/example-environment.json")).unwrap()).unwrap();
    env["customDnsServers"] = json!(["192.168.0.4"]);
    let env_path = save(&dir, "env.json", &env);
    let out = dir.join("out");
    let empty = compiled(&env_path, &out);
    assert!(
        empty["properties"]["routes"].as_array().unwrap().is_empty(),
        "mode none: an empty table"
    );
    let empty_path = save(&dir, "empty.json", &empty);
    let ok = isenet(&["verify", "--env", &env_path, "--routes", &empty_path, "--format", "json"]);
    assert_eq!(ok.code, Some(0), "{}", ok.stdout);
    let dest = env["outboundDestinations"][0]["prefixes"][0].as_str().unwrap().to_string();
    let mut holes = empty.clone();
    *routes_of(&mut holes) = vec![
        json!({"name": "blackhole-dns", "properties": {"addressPrefix": "192.168.0.0/24", "nextHopType": "None"}}),
        json!({"name": "blackhole-partner", "properties": {"addressPrefix": dest, "nextHopType": "None"}}),
    ];
    let holes_path = save(&dir, "holes.json", &holes);
    let r = isenet(&["verify", "--env", &env_path, "--routes", &holes_path, "--format", "json"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let wrong: Vec<(String, String)> = route_findings(&r)
        .iter()
        .filter(|f| f["code"] == "F0201")
        .map(|f| {
            (
                f["requirements"][0].as_str().unwrap().to_string(),
                f["rule"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let destination_rule = format!("out-dest-{}", env["outboundDestinations"][0]["name"].as_str().unwrap());
    assert_eq!(
        wrong,
        [
            ("out-dns-53".to_string(), "blackhole-dns".to_string()),
            (destination_rule, "blackhole-partner".to_string())
        ]
    );
    // explain follows the same routes: the declared DNS server passes Azure's private-range
    // default (its own route replaces it), an undeclared private address stops there.
    let explain = |to: &str, routes: &str| {
        isenet(&[
            "explain",
            "--env",
            &env_path,
            "--from",
            "10.10.1.5",
            "--to",
            to,
            "--port",
            "53",
            "--protocol",
            "udp",
            "--routes",
            routes,
        ])
    };
    let dns = explain("192.168.0.4", &empty_path);
    assert!(dns.stdout.contains("verdict: allow"), "{}", dns.stdout);
    assert!(dns.stdout.contains("a declared network"), "{}", dns.stdout);
    let undeclared = explain("172.16.5.4", &empty_path);
    assert!(undeclared.stdout.contains("verdict: deny"), "{}", undeclared.stdout);
    let dropped = explain("192.168.0.4", &holes_path);
    assert!(
        dropped.stdout.contains("verdict: deny") && dropped.stdout.contains("blackhole-dns"),
        "{}",
        dropped.stdout
    );
}

/// Seed 002: the ISE needs service endpoints for SQL, Storage, Service Bus, Key Vault and Event
/// Hubs because their traffic cannot go through a firewall. A user route naming such a tag as
/// specifically as the endpoint's system route wins over it (user beats system on equal prefixes)
/// and takes the service's traffic to the firewall: a failed route check of its own.
#[test]
fn a_user_route_over_a_service_endpoint_fails_its_check() {
    let dir = scratch("service-endpoint");
    let out = dir.join("out");
    let mut table = compiled(FW, &out);
    let compiled_path = out.join("route-table.json");
    let ok = isenet(&[
        "verify",
        "--env",
        FW,
        "--routes",
        compiled_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(ok.code, Some(0), "the compiled table keeps every endpoint: {}", ok.stdout);
    let checks: Vec<String> = ok.json()["proofs"][0]["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .filter(|id| id.starts_with("se-"))
        .collect();
    assert_eq!(
        checks,
        ["se-sql", "se-storage", "se-servicebus", "se-keyvault", "se-eventhub"],
        "in the table's order"
    );
    routes_of(&mut table).push(json!({"name": "sql-to-fw", "properties": {"addressPrefix": "Sql", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.4"}}));
    let routes = save(&dir, "sql-to-fw.json", &table);
    let r = isenet(&["verify", "--env", FW, "--routes", &routes, "--format", "json"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let wrong: Vec<(String, String)> = route_findings(&r)
        .iter()
        .map(|f| {
            (
                f["requirements"][0].as_str().unwrap_or("").to_string(),
                f["rule"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(wrong, [("se-sql".to_string(), "sql-to-fw".to_string())]);
}
