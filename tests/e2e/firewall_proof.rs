//! What the firewall proof (`verify --firewall`) and `explain` make of deployed rules beyond the
//! ones isenet writes, from Azure Firewall's semantics and the seeds: an application rule whose
//! `destinationAddresses` is `*` matches every destination; `terminateTLS` on rules allowing the
//! ISE's traffic is against seed 002; and traffic a service endpoint's system route takes to the
//! service never meets the firewall (azure-semantics.md). Both commands must say the same.

use crate::common::{isenet, uncovered_ids, Run};
use crate::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::Path;

const FW: &str = "tests/envs/firewall-tunneling.json";
/// The ISE subnets of `FW`.
const SUBNETS: [&str; 4] = ["10.10.1.0/27", "10.10.1.32/27", "10.10.1.64/27", "10.10.1.96/27"];

/// Compiles `FW` into `dir/out` and returns its rule collection group in az's shape.
fn compiled_group(dir: &Path) -> Value {
    let r = isenet(&["compile", "--env", FW, "--out-dir", dir.join("out").to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let policy: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/firewall-policy.json")).unwrap()).unwrap();
    json!({"name": "contoso-ise-dependencies", "priority": 500, "ruleCollections": policy["resources"][0]["properties"]["ruleCollections"]})
}

fn save(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

fn collection<'a>(group: &'a mut Value, name: &str) -> &'a mut Value {
    group["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn app_rule(name: &str, extra: Value) -> Value {
    let mut rule = json!({
        "name": name, "ruleType": "ApplicationRule", "sourceAddresses": SUBNETS,
        "protocols": [{"protocolType": "Https", "port": 443}, {"protocolType": "Http", "port": 80}],
    });
    for (k, v) in extra.as_object().unwrap() {
        rule[k] = v.clone();
    }
    rule
}

/// `verify --firewall FILE --format json` with the compiled route table: the firewall proof.
fn verify(dir: &Path, file: &str) -> (Option<i32>, Value) {
    let routes = dir.join("out/route-table.json");
    let r = isenet(&[
        "verify",
        "--env",
        FW,
        "--routes",
        routes.to_str().unwrap(),
        "--firewall",
        file,
        "--format",
        "json",
    ]);
    (r.code, proof_of(&r.json(), "firewall"))
}

/// The proof of `artifact` (`firewall`, `routes`, `nsg`) in a `verify --format json` report.
fn proof_of(report: &Value, artifact: &str) -> Value {
    let proofs = report["proofs"].as_array().unwrap();
    proofs
        .iter()
        .find(|p| p["artifact"] == artifact)
        .unwrap_or_else(|| panic!("no {artifact} proof: {report}"))
        .clone()
}

fn findings<'a>(proof: &'a Value, code: &str) -> Vec<&'a Value> {
    proof["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).collect()
}

fn uncovered(proof: &Value) -> Vec<String> {
    uncovered_ids(&proof["coverage"]).into_iter().map(str::to_string).collect()
}

/// `explain --format json` of TCP `to`:`port` from an ISE address, with `file`'s rules.
fn explain(dir: &Path, file: &str, to: &str, port: &str) -> Value {
    let routes = dir.join("out/route-table.json");
    let r: Run = isenet(&[
        "explain",
        "--env",
        FW,
        "--routes",
        routes.to_str().unwrap(),
        "--firewall",
        file,
        "--from",
        "10.10.1.5",
        "--to",
        to,
        "--port",
        port,
        "--format",
        "json",
    ]);
    assert!(r.code == Some(0), "{to}: {}{}", r.stdout, r.stderr);
    r.json()
}

/// The firewall decisions of an explanation: (kind, rule, action).
fn firewall_decisions(e: &Value) -> Vec<(String, String, String)> {
    e["path"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["firewall"].as_array().unwrap())
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (text("kind"), text("rule"), text("action"))
        })
        .collect()
}

/// The ids of the environment's application (FQDN and FQDN-tag) dependencies, from the plan.
fn application_dependencies(dir: &Path) -> Vec<String> {
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/plan.json")).unwrap()).unwrap();
    let mut ids: Vec<String> = plan["firewall"]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["collection"] == "application")
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert!(ids.len() > 50, "{ids:?}");
    ids
}

/// `destinationAddresses: ["*"]` on an application rule matches every destination on its
/// protocols. Allowed, it opens HTTP/HTTPS to anywhere from the ISE (F0303, and `explain` of an
/// address no network rule names is allowed by it); denied ahead of the ISE's allows, it denies
/// every FQDN dependency (F0301) while the network rules still decide the network dependencies.
/// Read as before (the field dropped), both passed verify.
#[test]
fn an_application_rule_to_every_destination_is_an_opening_or_denies_the_fqdn_dependencies() {
    let dir = tempdir("fw-proof-appdst");
    let group = compiled_group(&dir);

    let mut allow = group.clone();
    collection(&mut allow, "ise-application-dependencies")["rules"]
        .as_array_mut()
        .unwrap()
        .push(app_rule("https-anywhere", json!({"destinationAddresses": ["*"]})));
    let file = save(&dir, "allow.json", &allow);
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let openings = findings(&proof, "F0303");
    assert_eq!(openings.len(), 1, "{proof}");
    assert_eq!(openings[0]["rule"]["name"], "https-anywhere");
    assert!(
        openings[0]["message"].as_str().unwrap().contains("every destination"),
        "{}",
        openings[0]
    );
    assert!(uncovered(&proof).is_empty());
    // 203.0.113.7 is in no network rule: the application rule decides it, and serves nothing.
    let e = explain(&dir, &file, "203.0.113.7", "443");
    assert_eq!(e["verdict"], "allow", "{e}");
    assert_eq!(
        firewall_decisions(&e),
        [("application".to_string(), "https-anywhere".to_string(), "Allow".to_string())]
    );
    assert_eq!(e["path"][0]["firewall"][0]["servesNoRequirement"], true, "{e}");
    // Port 22 is not one of its protocols: no rule matches.
    assert_eq!(explain(&dir, &file, "203.0.113.7", "22")["verdict"], "deny");

    let mut deny = group.clone();
    deny["ruleCollections"].as_array_mut().unwrap().push(json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-web", "priority": 250,
        "action": {"type": "Deny"},
        "rules": [app_rule("deny-all-web", json!({"sourceAddresses": ["*"], "destinationAddresses": ["*"]}))],
    }));
    let file = save(&dir, "deny.json", &deny);
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let mut missing = uncovered(&proof);
    missing.sort();
    assert_eq!(missing, application_dependencies(&dir));
    assert!(findings(&proof, "F0301")
        .iter()
        .all(|f| f["message"].as_str().unwrap().contains("denied by application rule deny-all-web")));
    // explain of a dependency's name: the deny rule decides it where no network rule does.
    let e = explain(&dir, &file, "management.azure.com", "443");
    assert_ne!(e["verdict"], "allow", "{e}");
    assert!(
        firewall_decisions(&e).contains(&("application".to_string(), "deny-all-web".to_string(), "Deny".to_string())),
        "{e}"
    );
}

/// Destination addresses other than `*` on an application rule: whether an FQDN dependency
/// resolves into them is not known without DNS, so the rule is refused (`E1213`) naming it.
#[test]
fn application_rule_destination_addresses_other_than_every_address_are_refused() {
    let dir = tempdir("fw-proof-appdst-specific");
    let mut group = compiled_group(&dir);
    collection(&mut group, "ise-application-dependencies")["rules"]
        .as_array_mut()
        .unwrap()
        .push(app_rule(
            "to-storage",
            json!({"destinationAddresses": ["20.33.143.0/24", "Storage"]}),
        ));
    let file = save(&dir, "specific.json", &group);
    let r = isenet(&["--error-format", "json", "verify", "--env", FW, "--firewall", &file]);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    let diags = r.json()["diagnostics"].as_array().unwrap().clone();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E1213");
    assert_eq!(diags[0]["path"], "ruleCollections[2].rules[90].destinationAddresses");
    let message = diags[0]["message"].as_str().unwrap();
    assert!(message.contains("to-storage") && message.contains("DNS"), "{message}");
}

/// Seed 002: "make sure that you don't enable TLS/SSL termination" for the ISE's traffic. An allow
/// application rule with `terminateTLS` whose sources meet the ISE subnets is an error naming the
/// rule and the dependency it matches; one for other sources, or a Deny, is not. `explain` warns on
/// a flow such a rule allows.
#[test]
fn tls_termination_of_the_ises_traffic_is_an_error() {
    let dir = tempdir("fw-proof-tls");
    let mut group = compiled_group(&dir);
    let rules = collection(&mut group, "ise-application-dependencies")["rules"]
        .as_array_mut()
        .unwrap();
    for r in rules.iter_mut().filter(|r| r["name"] == "fw-fqdn-management-azure-com") {
        r["terminateTLS"] = json!(true);
    }
    rules.push(app_rule(
        "other-sources",
        json!({"sourceAddresses": ["192.168.7.0/24"], "targetFqdns": ["www.example.com"], "terminateTLS": true}),
    ));
    group["ruleCollections"].as_array_mut().unwrap().push(json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-example", "priority": 260,
        "action": {"type": "Deny"},
        "rules": [app_rule("deny-example", json!({"targetFqdns": ["www.example.org"], "terminateTLS": true}))],
    }));
    let file = save(&dir, "tls.json", &group);
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let tls = findings(&proof, "F0306");
    assert_eq!(tls.len(), 1, "{proof}");
    assert_eq!(tls[0]["severity"], "error");
    assert_eq!(tls[0]["rule"]["name"], "fw-fqdn-management-azure-com");
    assert_eq!(tls[0]["requirements"], json!(["fw-fqdn-management-azure-com"]));
    assert!(tls[0]["message"].as_str().unwrap().contains("seed 002"), "{}", tls[0]);
    // other-sources is an opening (F0303), which is not what this test is about.
    assert!(uncovered(&proof).is_empty());

    let e = explain(&dir, &file, "management.azure.com", "443");
    assert_eq!(e["verdict"], "allow", "{e}");
    assert_eq!(e["notes"][0]["code"], "F0306", "{e}");
    assert_eq!(e["notes"][0]["rule"], "fw-fqdn-management-azure-com", "{e}");
    let routes = dir.join("out/route-table.json");
    let text = isenet(&[
        "explain",
        "--env",
        FW,
        "--routes",
        routes.to_str().unwrap(),
        "--firewall",
        &file,
        "--from",
        "10.10.1.5",
        "--to",
        "management.azure.com",
        "--port",
        "443",
    ]);
    assert!(
        text.stdout
            .contains("warning[F0306]: application rule fw-fqdn-management-azure-com"),
        "{}",
        text.stdout
    );
    // A flow another rule allows carries no such note.
    assert!(explain(&dir, &file, "login.microsoftonline.com", "443").get("notes").is_none());
}

/// The first address of the first IPv4 prefix of a tag, from the embedded service-tag file.
fn tag_address(tag: &str) -> String {
    let r = isenet(&["tags", "show", tag, "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let prefix = r.json()["tag"]["ipv4"]["aggregated"][0].as_str().unwrap().to_string();
    let net: ipnet::Ipv4Net = prefix.parse().unwrap();
    std::net::Ipv4Addr::from(u32::from(net.network()) + 1).to_string()
}

/// In firewall mode the ISE subnets have service endpoints (Microsoft.Storage, ...), whose system
/// routes are more specific than the 0.0.0.0/0 to the firewall: traffic to Storage.EastUS goes to
/// the service and never meets the firewall. A network Deny of only those addresses is no finding
/// (it was F0301 for the Storage dependency and every FQDN dependency on 443); a Deny of all of
/// Storage still fails the dependency for the addresses that do reach the firewall. `verify` and
/// `explain` agree on each flow.
#[test]
fn traffic_a_service_endpoint_takes_is_not_asked_of_the_firewall() {
    let dir = tempdir("fw-proof-endpoints");
    let group = compiled_group(&dir);
    let deny = |tag: &str| {
        let mut g = group.clone();
        g["ruleCollections"].as_array_mut().unwrap().push(json!({
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-storage", "priority": 100,
            "action": {"type": "Deny"},
            "rules": [{"name": "deny-storage", "ruleType": "NetworkRule", "ipProtocols": ["TCP"], "sourceAddresses": SUBNETS,
                       "destinationAddresses": [tag], "destinationPorts": ["443"]}],
        }));
        g
    };
    let regional = tag_address("Storage.EastUS");
    let elsewhere = tag_address("Storage.WestUS2");

    let file = save(&dir, "deny-regional.json", &deny("Storage.EastUS"));
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(0), "{proof}");
    assert!(findings(&proof, "F0301").is_empty(), "{proof}");
    let e = explain(&dir, &file, &regional, "443");
    assert_eq!(e["verdict"], "allow", "{e}");
    assert_eq!(e["path"][0]["nextHop"], "VirtualNetworkServiceEndpoint", "{e}");
    assert!(firewall_decisions(&e).is_empty(), "{e}");
    // A dependency's name may resolve into those addresses too: there it goes to the service.
    assert_eq!(explain(&dir, &file, "management.azure.com", "443")["verdict"], "allow");

    let file = save(&dir, "deny-all-storage.json", &deny("Storage"));
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    assert!(uncovered(&proof).contains(&"fw-net-storage".to_string()), "{proof}");
    let blocked = findings(&proof, "F0301");
    let storage = blocked.iter().find(|f| f["requirements"] == json!(["fw-net-storage"])).unwrap();
    let destinations: Vec<ipnet::Ipv4Net> = storage["flows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["destinations"].as_array().unwrap())
        .map(|d| d.as_str().unwrap().parse().unwrap())
        .collect();
    let holds = |a: &str| destinations.iter().any(|n| n.contains(&a.parse::<std::net::Ipv4Addr>().unwrap()));
    assert!(holds(&elsewhere) && !holds(&regional), "{storage}");
    // explain: the service endpoint's address is allowed past the firewall, the other denied by it.
    assert_eq!(explain(&dir, &file, &regional, "443")["verdict"], "allow");
    let e = explain(&dir, &file, &elsewhere, "443");
    assert_eq!(e["verdict"], "deny", "{e}");
    assert_eq!(
        firewall_decisions(&e),
        [("network".to_string(), "deny-storage".to_string(), "Deny".to_string())]
    );
}

/// The platform's addresses (168.63.129.16: DNS, health; 169.254.169.254: instance metadata) are
/// answered by the host and never routed, so they never meet the firewall: a dependency the
/// firewall denies (NTP to any address, its rule removed) is reported for the addresses that
/// reach it, not those two (azure-semantics.md).
#[test]
fn a_blocked_dependency_is_reported_for_what_meets_the_firewall_not_the_platform() {
    let dir = tempdir("fw-proof-platform");
    let mut group = compiled_group(&dir);
    for c in group["ruleCollections"].as_array_mut().unwrap() {
        c["rules"].as_array_mut().unwrap().retain(|r| r["name"] != "fw-net-ntp-123");
    }
    let file = save(&dir, "no-ntp.json", &group);
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let blocked = findings(&proof, "F0301");
    let ntp: Vec<&&Value> = blocked.iter().filter(|f| f["requirements"] == json!(["fw-net-ntp-123"])).collect();
    assert_eq!(ntp.len(), 1, "{proof}");
    let holds = |ip: &str| {
        let ip: std::net::Ipv4Addr = ip.parse().unwrap();
        ntp[0]["flows"].as_array().unwrap().iter().any(|f| {
            f["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d.as_str().unwrap().parse::<ipnet::Ipv4Net>().unwrap().contains(&ip))
        })
    };
    assert!(holds("8.8.8.8") && holds("203.0.113.50"));
    assert!(!holds("168.63.129.16") && !holds("169.254.169.254"));
}

/// Traffic to the virtual network's own space takes Azure's `VnetLocal` route, more specific than
/// the 0.0.0.0/0 to the firewall, and never meets the firewall: a firewall that denies NTP to the
/// VNet (10.10.0.0/16) fails no dependency (it was F0301 for `fw-net-ntp-123`, naming the VNet),
/// and `explain` takes such a packet past it. A user route that sends part of the VNet to the
/// firewall brings that part back into the proof, and only the part that reaches the firewall (not
/// what a longer route drops or sends to another appliance or the Internet).
#[test]
fn traffic_to_the_virtual_network_is_not_asked_of_the_firewall() {
    let dir = tempdir("fw-proof-vnet");
    let mut group = compiled_group(&dir);
    group["ruleCollections"].as_array_mut().unwrap().push(json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-vnet-ntp", "priority": 100,
        "action": {"type": "Deny"},
        "rules": [{"name": "deny-vnet-ntp", "ruleType": "NetworkRule", "ipProtocols": ["TCP", "UDP"], "sourceAddresses": SUBNETS,
                   "destinationAddresses": ["10.10.0.0/16"], "destinationPorts": ["123"]}],
    }));
    let file = save(&dir, "deny-vnet-ntp.json", &group);
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(0), "{proof}");
    assert!(findings(&proof, "F0301").is_empty(), "{proof}");
    let e = explain(&dir, &file, "10.10.5.5", "123");
    assert_eq!(e["verdict"], "allow", "{e}");
    assert_eq!(e["path"][0]["nextHop"], "VnetLocal", "{e}");
    assert!(firewall_decisions(&e).is_empty(), "{e}");

    // User routes: 10.10.5.0/24 to the firewall, but its first /26 to None; 10.10.6.0/24 to
    // another appliance, 10.10.7.0/24 to the Internet. Only what reaches the firewall is its to
    // decide: 10.10.5.64/26 and 10.10.5.128/25.
    add_routes(
        &dir,
        &[
            ("vnet-part-to-firewall", "10.10.5.0/24", "VirtualAppliance", Some("10.10.0.4")),
            ("vnet-part-dropped", "10.10.5.0/26", "None", None),
            (
                "vnet-part-to-other-appliance",
                "10.10.6.0/24",
                "VirtualAppliance",
                Some("10.10.0.100"),
            ),
            ("vnet-part-to-internet", "10.10.7.0/24", "Internet", None),
        ],
    );
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let ntp = findings(&proof, "F0301");
    assert_eq!(ntp.len(), 1, "{proof}");
    assert_eq!(ntp[0]["requirements"], json!(["fw-net-ntp-123"]), "{proof}");
    assert_eq!(destinations(ntp[0]), ["10.10.5.128/25", "10.10.5.64/26"], "{proof}");
    let e = explain(&dir, &file, "10.10.5.200", "123");
    assert_eq!(e["verdict"], "deny", "{e}");
    assert_eq!(
        firewall_decisions(&e),
        [("network".to_string(), "deny-vnet-ntp".to_string(), "Deny".to_string())],
        "{e}"
    );
    for (to, verdict) in [("10.10.5.5", "deny"), ("10.10.6.5", "allow"), ("10.10.7.5", "allow")] {
        let e = explain(&dir, &file, to, "123");
        assert_eq!(e["verdict"], verdict, "{to}: {e}");
        assert!(firewall_decisions(&e).is_empty(), "{to}: {e}");
    }
}

/// The distinct destinations of a finding's flows, sorted as text.
fn destinations(finding: &Value) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = finding["flows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["destinations"].as_array().unwrap())
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    set.into_iter().collect()
}

/// Adds user routes (name, prefix, next hop type, next hop address) to `dir/out/route-table.json`.
fn add_routes(dir: &Path, routes: &[(&str, &str, &str, Option<&str>)]) {
    let path = dir.join("out/route-table.json");
    let mut table: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (name, prefix, hop, ip) in routes {
        let mut properties = json!({"addressPrefix": prefix, "nextHopType": hop});
        if let Some(ip) = ip {
            properties["nextHopIpAddress"] = json!(ip);
        }
        table["properties"]["routes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": name, "properties": properties}));
    }
    std::fs::write(&path, serde_json::to_string_pretty(&table).unwrap()).unwrap();
}

/// The environment's DNS servers (10.10.2.4, 10.10.2.5) are inside the VNet: the compiled firewall
/// has no rule for them, yet the dependency stays. A route that sends their /24 to the firewall
/// makes the firewall's missing rule a finding (beside the route proof's F0201). A public name
/// resolves outside the network: a Deny of that /24 on 443 blocks no FQDN dependency, in `verify`
/// as in `explain`.
#[test]
fn dns_servers_inside_the_vnet_are_asked_of_the_firewall_only_when_routed_through_it() {
    let dir = tempdir("fw-proof-dns");
    let mut group = compiled_group(&dir);
    assert!(
        !group.to_string().contains("fw-net-custom-dns-53"),
        "no rule for servers inside the VNet"
    );
    let file = save(&dir, "compiled.json", &group);
    assert_eq!(verify(&dir, &file).0, Some(0));
    add_routes(
        &dir,
        &[("dns-part-to-firewall", "10.10.2.0/24", "VirtualAppliance", Some("10.10.0.4"))],
    );
    let (code, proof) = verify(&dir, &file);
    assert_eq!(code, Some(1), "{proof}");
    let blocked = findings(&proof, "F0301");
    assert_eq!(blocked.len(), 1, "{proof}");
    assert_eq!(blocked[0]["requirements"], json!(["fw-net-custom-dns-53"]), "{proof}");
    assert_eq!(destinations(blocked[0]), ["10.10.2.4/31"], "{proof}");
    // The route proof counts its failed VnetLocal check of out-dns-53 in its summary.
    let routes = dir.join("out/route-table.json");
    let r = isenet(&["verify", "--env", FW, "--routes", routes.to_str().unwrap(), "--format", "json"]);
    let route_proof = proof_of(&r.json(), "routes");
    let dns = route_proof["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "out-dns-53")
        .unwrap();
    assert_eq!(dns["covered"], false, "{route_proof}");
    let summary = &route_proof["summary"];
    assert_eq!(
        summary["covered"].as_u64().unwrap() + 1,
        summary["requirements"].as_u64().unwrap(),
        "{route_proof}"
    );

    group["ruleCollections"].as_array_mut().unwrap().push(json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-443", "priority": 100,
        "action": {"type": "Deny"},
        "rules": [{"name": "deny-443", "ruleType": "NetworkRule", "ipProtocols": ["TCP"], "sourceAddresses": SUBNETS,
                   "destinationAddresses": ["10.10.2.0/24"], "destinationPorts": ["443"]}],
    }));
    let file = save(&dir, "deny-443.json", &group);
    let (_, proof) = verify(&dir, &file);
    let blocked = findings(&proof, "F0301");
    assert_eq!(blocked.len(), 1, "only the DNS dependency: {proof}");
    assert_eq!(explain(&dir, &file, "login.microsoftonline.com", "443")["verdict"], "allow");
}

/// A DNS name follows every route over the addresses it may resolve to, as an address does: with
/// 0.0.0.0/1 sent to the Internet and 128.0.0.0/1 to the firewall, a name the firewall does not
/// allow is denied for the upper half only (`verify` names those flows, `explain` says mixed);
/// with both halves sent to the Internet nothing of it meets the firewall, and `verify` asks
/// nothing of the firewall for it (it reported an F0301 without flows).
#[test]
fn a_name_follows_every_route_in_verify_and_explain() {
    let dir = tempdir("fw-proof-name-routes");
    let mut group = compiled_group(&dir);
    for c in group["ruleCollections"].as_array_mut().unwrap() {
        c["rules"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["name"] != "fw-fqdn-ocsp-digicert-com");
    }
    let file = save(&dir, "no-ocsp.json", &group);
    let routes = dir.join("out/route-table.json");
    let compiled = std::fs::read_to_string(&routes).unwrap();
    add_routes(
        &dir,
        &[
            ("lower-half-to-internet", "0.0.0.0/1", "Internet", None),
            ("upper-half-to-firewall", "128.0.0.0/1", "VirtualAppliance", Some("10.10.0.4")),
        ],
    );
    let (_, proof) = verify(&dir, &file);
    let ocsp: Vec<&Value> = findings(&proof, "F0301")
        .into_iter()
        .filter(|f| f["requirements"] == json!(["fw-fqdn-ocsp-digicert-com"]))
        .collect();
    assert!(!ocsp.is_empty(), "{proof}");
    for f in &ocsp {
        let covered: Vec<ipnet::Ipv4Net> = destinations(f).iter().map(|d| d.parse().unwrap()).collect();
        assert!(!covered.is_empty(), "{f}");
        assert!(
            covered
                .iter()
                .all(|n| n.network() >= "128.0.0.0".parse::<std::net::Ipv4Addr>().unwrap()),
            "{f}"
        );
    }
    let e = explain(&dir, &file, "ocsp.digicert.com", "80");
    assert_eq!(e["verdict"], "mixed", "{e}");
    let upper = e["path"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["route"] == "upper-half-to-firewall")
        .unwrap();
    // Network rules allow port 80 to some Azure services' addresses; the rest is denied.
    assert!(upper["firewall"].as_array().unwrap().iter().any(|d| d["action"] == "Deny"), "{e}");

    std::fs::write(&routes, compiled).unwrap();
    add_routes(
        &dir,
        &[
            ("lower-half-to-internet", "0.0.0.0/1", "Internet", None),
            ("upper-half-to-internet", "128.0.0.0/1", "Internet", None),
        ],
    );
    let (_, proof) = verify(&dir, &file);
    assert!(findings(&proof, "F0301").is_empty(), "{proof}");
    let e = explain(&dir, &file, "ocsp.digicert.com", "80");
    assert_eq!(e["verdict"], "allow", "{e}");
    assert!(firewall_decisions(&e).is_empty(), "{e}");
}
