//! `isenet explain` as a smoke test, end to end: expectations written from the seeds (seed 002's
//! port tables: inbound 443 from Internet on an external ISE, 454-455 from AppServiceManagement,
//! outbound 1433 to Sql; everything else inbound hits the explicit deny-all), port ranges that split,
//! every NSG protocol, the tunneled path (ExpressRoute: next hop Internet; firewall: the firewall's
//! network and application rules), `--expect` and `--flows` with good and bad CSV files.

use crate::common::Scratch;
use crate::common::{isenet, Run};
use crate::pipeline::isenet_with_stdin;
use serde_json::{json, Value};
use std::path::Path;

const SUBNET_HOST: &str = "10.10.1.70";

fn scratch(name: &str) -> Scratch {
    crate::common::scratch("explain", name)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn example() -> Value {
    isenet(&["example"]).json()
}

fn env_file(dir: &Path, edit: impl Fn(&mut Value)) -> String {
    let mut e = example();
    edit(&mut e);
    write(dir, "env.json", &serde_json::to_string_pretty(&e).unwrap())
}

fn explain(args: &[&str]) -> Run {
    let mut all = vec!["explain"];
    all.extend_from_slice(args);
    isenet(&all)
}

/// `explain --from FROM --to TO --port PORT` and further options (`--env`, `--expect`, ...).
fn ask(from: &str, to: &str, port: &str, extra: &[&str]) -> Run {
    let mut all = vec!["--from", from, "--to", to, "--port", port];
    all.extend_from_slice(extra);
    explain(&all)
}

/// (access, rule) of each NSG decision of a JSON explanation.
fn decisions(e: &Value) -> Vec<(String, String)> {
    e["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["access"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap_or("(none)").to_string(),
            )
        })
        .collect()
}

fn pair(access: &str, rule: &str) -> (String, String) {
    (access.to_string(), rule.to_string())
}

#[test]
fn the_seed_requirements_decide_their_flows() {
    let dir = scratch("seed");
    let external = env_file(&dir, |e| e["accessEndpoint"] = json!("external"));
    // Seed 002: external ISE, inbound 443 from Internet (request triggers, run history).
    let r = ask(
        "Internet",
        SUBNET_HOST,
        "443",
        &["--env", &external, "--format", "json", "--expect", "allow"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = r.json();
    assert_eq!(decisions(&e), [pair("Allow", "in-triggers-443-external")]);
    assert_eq!(e["verdict"], "allow");
    assert_eq!(e["matches"], true);
    // What the rule serves is read off the packets it lets through: Internet on 443 holds the
    // addresses of every inbound requirement on 443 from a public source (data/requirements.csv:
    // Internet, AzureTrafficManager and the connectors' published addresses), in the plan's
    // order. Not AzureLoadBalancer's 168.63.129.16: the host's virtual IP is in VirtualNetwork,
    // not Internet (azure-semantics.md, the VirtualNetwork service tag).
    assert_eq!(
        e["decisions"][0]["requirements"],
        json!(["in-triggers-443-external", "in-traffic-manager-443", "in-connector-outbound-ips"])
    );
    // App Service management on 454-455.
    let r = ask("AppServiceManagement", SUBNET_HOST, "454", &["--format", "json"]);
    assert_eq!(decisions(&r.json()), [pair("Allow", "in-appservice-mgmt-454-455")]);
    // Outbound 1433 to Azure SQL.
    let r = ask("10.10.1.5", "Sql", "1433", &["--expect", "allow"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("Outbound: allowed by rule out-sql-1433 (priority 170)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("expected allow: ok"), "{}", r.stdout);
    // Anything else inbound from the Internet: the explicit deny-all.
    let r = ask("203.0.113.9", SUBNET_HOST, "22", &["--format", "json", "--expect", "deny"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(decisions(&r.json()), [pair("Deny", "deny-all-inbound")]);
}

#[test]
fn a_mismatch_exits_1_and_says_so() {
    let r = ask("203.0.113.9", SUBNET_HOST, "22", &["--expect", "allow"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stdout.contains("MISMATCH: expected allow, but the verdict is deny"),
        "{}",
        r.stdout
    );
    let r = ask("203.0.113.9", SUBNET_HOST, "22", &["--expect", "allow", "--format", "json"]);
    assert_eq!(r.code, Some(1));
    let e = r.json();
    assert_eq!((e["expect"].as_str(), e["matches"].as_bool()), (Some("allow"), Some(false)));
}

#[test]
fn a_range_is_split_where_the_deciding_rule_changes() {
    // 454-455 of 450-460 are App Service management's; the rest hits deny-all.
    let r = ask(
        "AppServiceManagement",
        SUBNET_HOST,
        "450-460",
        &["--format", "json", "--expect", "allow"],
    );
    assert_eq!(r.code, Some(1), "mixed meets neither expectation: {}", r.stderr);
    let e = r.json();
    assert_eq!(e["verdict"], "mixed");
    assert_eq!(
        decisions(&e),
        [pair("Allow", "in-appservice-mgmt-454-455"), pair("Deny", "deny-all-inbound")]
    );
    assert_eq!(e["decisions"][0]["flows"][0]["ports"], json!(["454-455"]));
    assert_eq!(e["decisions"][1]["flows"][0]["ports"], json!(["450-453", "456-460"]));
    assert_eq!(e["allowed"][0]["ports"], json!(["454-455"]));
    assert_eq!(e["denied"][0]["ports"], json!(["450-453", "456-460"]));
    // A range inside one rule's ports is one decision.
    let r = ask("10.10.1.5", "10.10.1.40", "6379-6383", &["--format", "json"]);
    assert_eq!(
        decisions(&r.json()),
        [pair("Allow", "out-intersubnet"), pair("Allow", "in-intersubnet")]
    );
}

#[test]
fn every_nsg_protocol_is_explained_and_ports_only_for_tcp_and_udp() {
    // Intersubnet rows are protocol * on all ports: ESP and AH pass both ways.
    for protocol in ["esp", "Ah", "ICMP", "*", "any", "udp"] {
        let r = ask("10.10.1.5", "10.10.1.40", "*", &["--protocol", protocol, "--format", "json"]);
        assert_eq!(r.code, Some(0), "{protocol}: {}", r.stderr);
        assert_eq!(
            decisions(&r.json()),
            [pair("Allow", "out-intersubnet"), pair("Allow", "in-intersubnet")],
            "{protocol}"
        );
    }
    // ICMP from the Internet is denied; Azure Load Balancer's probe address (168.63.129.16, in
    // VirtualNetwork, not Internet) is a requirement of its own.
    let r = ask("Internet", SUBNET_HOST, "*", &["--protocol", "icmp", "--format", "json"]);
    let e = r.json();
    assert_eq!(e["verdict"], "deny");
    assert_eq!(decisions(&e), [pair("Deny", "deny-all-inbound")]);
    let r = ask("AzureLoadBalancer", SUBNET_HOST, "*", &["--protocol", "icmp", "--format", "json"]);
    let e = r.json();
    assert_eq!(e["verdict"], "allow");
    assert_eq!(decisions(&e), [pair("Allow", "in-azure-load-balancer")]);
    assert_eq!(e["decisions"][0]["flows"][0]["sources"], json!(["168.63.129.16/32"]));
    // A port is refused for protocols without ports, as Azure's rules have none for them.
    let r = ask("Internet", SUBNET_HOST, "443", &["--protocol", "icmp"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("E1812") && r.stderr.contains("--port"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    // Usage errors keep their codes.
    assert!(ask("a", "b", "*", &["--protocol", "sctp"]).stderr.contains("E1801"));
    assert!(ask("a", "b", "2000-1000", &[]).stderr.contains("E1801"));
}

#[test]
fn a_rule_that_serves_no_requirement_is_named_as_such() {
    // Open outbound policy: the Internet is reached by Azure's default rule, which no requirement asks for.
    let r = ask("10.10.1.5", "198.51.100.7", "8080", &[]);
    assert!(
        r.stdout
            .contains("allowed by Azure default rule AllowInternetOutBound (65001), which serves no requirement"),
        "{}",
        r.stdout
    );
    // A deployed NSG with an extra allow rule.
    let dir = scratch("extra-rule");
    let out = dir.join("out");
    let o = isenet(&["compile", "--only", "nsg", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
    rules.push(json!({"name": "allow-rdp", "properties": {
        "priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": "Internet", "sourcePortRange": "*",
        "destinationAddressPrefix": "10.10.1.0/25", "destinationPortRange": "3389"}}));
    let nsg_file = write(&dir, "nsg.json", &serde_json::to_string_pretty(&nsg).unwrap());
    let r = ask(
        "203.0.113.9",
        SUBNET_HOST,
        "3389",
        &["--nsg", &nsg_file, "--format", "json", "--expect", "deny"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let e = r.json();
    assert_eq!(decisions(&e), [pair("Allow", "allow-rdp")]);
    assert_eq!(e["decisions"][0]["servesNoRequirement"], true);
    assert_eq!(e["decisions"][0]["requirements"], json!([]));
}

#[test]
fn expressroute_outbound_follows_the_default_route_to_internet() {
    let env = "tests/envs/expressroute-tunneling.json";
    let r = ask(
        "10.10.1.5",
        "203.0.113.10",
        "22",
        &["--env", env, "--format", "json", "--expect", "allow"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = r.json();
    assert_eq!(decisions(&e), [pair("Allow", "out-dest-partner-sftp")]);
    let path = e["path"].as_array().unwrap();
    assert_eq!(path.len(), 1, "{e}");
    assert_eq!(path[0]["nextHop"], "Internet");
    assert_eq!(path[0]["route"], "route-expressroute-default");
    assert_eq!(path[0]["passes"], true);
    // A route table that drops the traffic (next hop None) denies what the NSG allows.
    let dir = scratch("er-routes");
    let routes = json!({"properties": {"routes": [
        {"name": "drop-all", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "None"}}
    ]}});
    let routes = write(&dir, "routes.json", &routes.to_string());
    let r = ask(
        "10.10.1.5",
        "203.0.113.10",
        "22",
        &["--env", env, "--routes", &routes, "--expect", "allow"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stdout.contains("route drop-all: next hop None"), "{}", r.stdout);
    assert!(r.stdout.contains("verdict: deny"), "{}", r.stdout);
}

#[test]
fn firewall_mode_names_the_firewall_rule_or_the_firewall_denial() {
    let env = "tests/envs/firewall-tunneling.json";
    // A dependency FQDN (seed 002 / the ASE dependency list): allowed by its application rule.
    let r = ask(
        "10.10.1.5",
        "crl.microsoft.com",
        "80",
        &["--env", env, "--format", "json", "--expect", "allow"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = r.json();
    // Of the name's possible addresses, those the default route takes meet the firewall (the
    // compiled table's Internet routes and the service endpoints take the others past it).
    let step = firewall_step(&e);
    let fw = &step["firewall"][0];
    assert_eq!(step["route"], "route-firewall-default");
    assert_eq!(step["nextHopIpAddress"], "10.10.0.4");
    assert_eq!(
        (fw["kind"].as_str(), fw["rule"].as_str()),
        (Some("application"), Some("fw-fqdn-crl-microsoft-com"))
    );
    assert_eq!(fw["collection"], "ise-application-dependencies");
    assert_eq!(fw["dependencies"], json!(["fw-fqdn-crl-microsoft-com"]));
    // A name no dependency needs, on a port no network rule allows: the NSG lets it out (the
    // outbound policy is open), the firewall denies it. Where the name would resolve into a
    // service endpoint's prefixes (the subnets have them in firewall mode), the endpoint's system
    // route takes it to the service past the firewall: allowed there, so mixed.
    let r = ask("10.10.1.5", "www.example.com", "8443", &["--env", env]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("firewall: denied: no rule matches"), "{}", r.stdout);
    // The five service endpoints seed 002 asks for in firewall mode, one line for their system
    // routes; the compiled table's routes to the Internet one line too.
    assert!(
        r.stdout.contains(
            "\n  routes system: service endpoint Microsoft.EventHub, system: service endpoint Microsoft.KeyVault, system: service endpoint Microsoft.ServiceBus, system: service endpoint Microsoft.Sql, system: service endpoint Microsoft.Storage: next hop VirtualNetworkServiceEndpoint\n"
        ),
        "{}",
        r.stdout
    );
    let table = isenet(&["compile", "--env", env, "--only", "routes", "--stdout"]).json();
    let to_internet = table["properties"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["nextHopType"] == "Internet")
        .count();
    assert_eq!(r.stdout.matches("next hop Internet").count(), 1, "{}", r.stdout);
    let internet_line = format!(" and {} more ({to_internet} routes): next hop Internet\n", to_internet - 3);
    assert!(r.stdout.contains(&internet_line), "{}", r.stdout);
    assert!(r.stdout.contains("verdict: mixed"), "{}", r.stdout);
    // On 443 its addresses decide: network rules allow 443 to the Azure services' addresses
    // whatever the name, so the name is allowed if it resolves there and denied elsewhere.
    let r = ask("10.10.1.5", "www.example.com", "443", &["--env", env, "--format", "json"]);
    let e = r.json();
    assert_eq!(e["verdict"], "mixed", "{e}");
    let decisions = firewall_step(&e)["firewall"].as_array().unwrap();
    assert!(
        decisions
            .iter()
            .any(|d| d["kind"] == "network" && d["action"] == "Allow" && d["rule"] == "fw-net-storage"),
        "{e}"
    );
    assert!(decisions.iter().any(|d| d["kind"] == "none" && d["action"] == "Deny"), "{e}");
    // An address: NTP to any address is a network dependency.
    let r = ask(
        "10.10.1.5",
        "192.0.2.1",
        "123",
        &["--env", env, "--protocol", "udp", "--format", "json"],
    );
    let e = r.json();
    assert_eq!(e["verdict"], "allow");
    assert_eq!(e["path"][0]["firewall"][0]["rule"], "fw-net-ntp-123");
    // The same with --firewall: a file without the NTP rule denies it.
    let dir = scratch("firewall");
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", env, "--only", "firewall", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let policy = out.join("firewall-policy.json");
    let args = |file: &str| -> Run {
        ask(
            "10.10.1.5",
            "192.0.2.1",
            "123",
            &["--env", env, "--firewall", file, "--protocol", "udp", "--expect", "allow"],
        )
    };
    assert_eq!(args(policy.to_str().unwrap()).code, Some(0));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    for c in doc["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap() {
        c["rules"].as_array_mut().unwrap().retain(|r| r["name"] != "fw-net-ntp-123");
    }
    let edited = write(&dir, "policy.json", &doc.to_string());
    let r = args(&edited);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stdout.contains("firewall: denied: no rule matches"), "{}", r.stdout);
    // A name outside firewall mode is refused.
    let r = ask("10.10.1.5", "www.example.com", "443", &[]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("E1814"), "{}", r.stderr);
}

// From the whole Internet, 22 would be mixed: Azure Load Balancer's 168.63.129.16 is in the
// Internet tag and reaches every port (in-azure-load-balancer).
const GOOD: &str = "from,to,port,protocol,expect\n\
    203.0.113.0/24,10.10.1.70,22,tcp,deny\n\
    AppServiceManagement,10.10.1.70,454-455,Tcp,allow\n\
    10.10.1.5,Sql,1433,,allow\n\
    10.10.1.5,10.10.1.40,,esp,allow\n";

#[test]
fn a_flows_file_runs_every_flow_in_one_table() {
    let dir = scratch("flows-good");
    let file = write(&dir, "smoke.csv", GOOD);
    let r = explain(&["--flows", &file]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("line  from"), "{}", r.stdout);
    assert!(r.stdout.contains("4 flows, 4 with an expectation, 0 mismatches"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("  ok  ").count(), 4, "{}", r.stdout);
    let r = explain(&["--flows", &file, "--format", "json"]);
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    let got: Vec<(u64, &str, bool)> = rows
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["verdict"].as_str().unwrap(),
                x["matches"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(2, "deny", true), (3, "allow", true), (4, "allow", true), (5, "allow", true)]);
    // From stdin, with one expectation failing: exit 1, the row marked.
    let failing = GOOD.replace("10.10.1.5,Sql,1433,,allow", "10.10.1.5,Sql,1433,,deny");
    let (code, stdout, stderr) = isenet_with_stdin(&["explain", "--flows", "-"], failing.as_bytes());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("MISMATCH") && stdout.contains("1 mismatch\n"), "{stdout}");
    // --quiet prints the findings only: the mismatching row under the header, no count.
    let (code, stdout, stderr) = isenet_with_stdin(&["explain", "-q", "--flows", "-"], failing.as_bytes());
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header, rule, one row: {stdout}");
    assert!(
        lines[0].starts_with("line  from") && lines[2].starts_with("4 ") && lines[2].contains("MISMATCH"),
        "{stdout}"
    );
    let r = explain(&["-q", "--flows", &file]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), ""), "{}", r.stderr);
}

#[test]
fn every_bad_row_of_a_flows_file_is_reported_and_nothing_printed() {
    let dir = scratch("flows-bad");
    let text = "\u{feff}from,to,port,protocol,expect\r\n\
        Internet,10.10.1.70,99999,tcp,deny\r\n\
        NoSuchTag,10.10.1.70,22,tcp,deny\r\n\
        \"10.10.1.5\",\"Sql\",1433,tcp\r\n\
        192.0.2.1,198.51.100.1,22,tcp,deny\r\n";
    let file = write(&dir, "bad.csv", text);
    let r = explain(&["--flows", &file, "--error-format", "json"]);
    assert_eq!(r.code, Some(2));
    let doc = r.json();
    let diags: Vec<(String, u64, String)> = doc["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|d| {
            assert_eq!(d["file"].as_str().unwrap(), file);
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Every problem in one run: a port out of range, a source that is no address or tag, a row of
    // four fields under a header of five (its fields cannot be told apart, so it is not read
    // further), two ends outside the ISE subnets (documentation addresses, RFC 5737).
    let expected = [("E1810", 2, "port"), ("E1301", 3, "from"), ("E1807", 4, ""), ("E1302", 5, "from")];
    assert_eq!(diags, expected.map(|(c, l, p)| (c.to_string(), l, p.to_string())));
    let fixed = text.replace("99999", "22").replace("1433,tcp\r\n", "1433,tcp,allow\r\n");
    let file = write(&dir, "bad2.csv", &fixed);
    let r = explain(&["--flows", &file]);
    assert_eq!(r.code, Some(2));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains(&format!("error[E1301]: {file}:3:1: from:")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("error[E1302]: {file}:5:1: from:")), "{}", r.stderr);
    // A file with a header and no rows, and a wrong header.
    let r = explain(&["--flows", &write(&dir, "empty.csv", "from,to\n")]);
    assert!(r.stderr.contains("E1809"), "{}", r.stderr);
    let r = explain(&["--flows", &write(&dir, "header.csv", "src,to\n1,2\n")]);
    assert!(r.stderr.contains("E1808") && r.stderr.contains("`src`"), "{}", r.stderr);
    // --flows does not combine with one flow's options.
    let r = explain(&["--flows", &file, "--from", "Internet"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("E1803"), "{}", r.stderr);
}

/// A bad port on one row used to hide the address problems of every other row until it was fixed
/// (two passes); a bad source used to hide a bad destination of the same flow.
#[test]
fn address_and_field_problems_are_reported_together() {
    let dir = scratch("flows-mixed");
    let file = write(
        &dir,
        "mixed.csv",
        "from,to,port,protocol,expect\n\
         300.1.1.1,Storage,443,tcp,allow\n\
         10.10.1.5,Storag,443,tcp,allow\n\
         10.10.1.5,Storage,99999,tcp,allow\n\
         300.1.1.1,Storage,x,tcp,allow\n",
    );
    let r = explain(&["--flows", &file]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // 300 is no IPv4 octet, Storag no tag (Storage is), 99999 past 65535; row 5 has two problems.
    for at in [
        "E1301]: {f}:2:1: from:",
        "E1301]: {f}:3:2: to:",
        "E1810]: {f}:4:3: port:",
        "E1301]: {f}:5:1: from:",
        "E1810]: {f}:5:3: port:",
    ] {
        let head = format!("error[{}", at.replace("{f}", &file));
        assert!(r.stderr.contains(&head), "{head}\n{}", r.stderr);
    }
    assert!(r.stderr.contains("5 error(s)"), "{}", r.stderr);
    // One flow: both of its ends.
    let r = ask("300.1.1.1", "Storag", "443", &["--error-format", "json"]);
    assert_eq!(r.code, Some(2));
    let doc = r.json();
    let files: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["--from", "--to"], "{doc}");
    // An environment that does not load, and the flows file's own problems beside it.
    let broken = write(&dir, "env.json", "{");
    let r = explain(&["--env", &broken, "--flows", &file]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains(&format!("error[E0002]: {broken}")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("error[E1810]: {file}:4:3: port:")), "{}", r.stderr);
}

/// Messages quote long values as their first 60 characters and their length (README), wherever
/// explain quotes one: a 5 MB field of a flows file, a 100,000-character option, a header name.
#[test]
fn long_values_are_quoted_as_their_first_60_characters() {
    let dir = scratch("long-values");
    let long = |c: char, n: usize| c.to_string().repeat(n);
    let quoted = |c: char, n: usize| format!("{}... ({n} characters)", long(c, 60));
    let huge_to = long('S', 5_000_000);
    let file = write(
        &dir,
        "long.csv",
        &format!(
            "from,to,port,protocol,expect\n10.10.1.5,{huge_to},443,tcp,allow\n10.10.1.5,Storage,{},{},{}\n",
            long('7', 100_000),
            long('p', 100_000),
            long('e', 100_000)
        ),
    );
    let r = explain(&["--flows", &file]);
    assert_eq!(r.code, Some(2));
    for q in [
        quoted('S', 5_000_000),
        quoted('7', 100_000),
        quoted('p', 100_000),
        quoted('e', 100_000),
    ] {
        assert!(r.stderr.contains(&q), "{q}: {}", &r.stderr[..r.stderr.len().min(2000)]);
    }
    assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());
    let header = write(&dir, "header.csv", &format!("from,to,{}\n1,2,3\n", long('h', 100_000)));
    let r = explain(&["--flows", &header, "--error-format", "json"]);
    assert!(
        r.stdout.contains(&quoted('h', 100_000)) && r.stdout.len() < 4_000,
        "{} bytes",
        r.stdout.len()
    );

    let a = long('a', 100_000);
    let r = ask(&a, &a, "443", &[]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr.matches(&quoted('a', 100_000)).count(),
        2,
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());
    // A --port clap refuses: its own message echoes the value too.
    let r = ask("10.10.1.5", "Storage", &long('9', 100_000), &[]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains(&quoted('9', 100_000)),
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());
}

#[test]
fn a_rule_naming_a_tag_missing_from_the_tag_file_is_warned_about() {
    // A deployed NSG denies 443 to ApiManagement.AustriaEast (68.210.163.176 is one of its
    // addresses) before the requirements' allow rules.
    let dir = scratch("unknown-tag");
    let out = dir.join("out");
    let o = isenet(&["compile", "--only", "nsg", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap();
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "deny-apim-austria", "properties": {
        "priority": 106, "direction": "Outbound", "access": "Deny", "protocol": "Tcp",
        "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "ApiManagement.AustriaEast", "destinationPortRange": "443"}}));
    let nsg_file = write(&dir, "nsg.json", &serde_json::to_string_pretty(&nsg).unwrap());
    // An older tag file: the embedded one without that tag.
    let tags_path = crate::common::workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    let mut tags: Value = serde_json::from_str(&std::fs::read_to_string(tags_path).unwrap()).unwrap();
    let values = tags["values"].as_array_mut().unwrap();
    let before = values.len();
    values.retain(|v| v["name"] != "ApiManagement.AustriaEast");
    assert_eq!(values.len(), before - 1);
    let old_tags = write(&dir, "old-tags.json", &tags.to_string());
    let warning = "warning[F0105]: rule deny-apim-austria names service tag `ApiManagement.AustriaEast`, which the service-tag file does not have; it was taken to match nothing";

    // With the tag known, the deny rule decides: no warning.
    let r = ask("10.10.1.5", "68.210.163.176", "443", &["--nsg", &nsg_file]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("denied by rule deny-apim-austria") && r.stdout.contains("verdict: deny"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("F0105"), "{}", r.stdout);

    // Without it, the rule matches nothing (the verdict logic is unchanged: the next rule
    // allows), and explain says so, as verify does.
    let r = ask(
        "10.10.1.5",
        "68.210.163.176",
        "443",
        &["--nsg", &nsg_file, "--service-tags", &old_tags],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("verdict: allow"), "{}", r.stdout);
    assert!(r.stdout.contains(warning), "{}", r.stdout);
    let r = ask(
        "10.10.1.5",
        "68.210.163.176",
        "443",
        &["--nsg", &nsg_file, "--service-tags", &old_tags, "--format", "json"],
    );
    let e = r.json();
    assert_eq!(e["verdict"], "allow");
    assert_eq!(e["notes"].as_array().unwrap().len(), 1, "{e}");
    assert_eq!(e["notes"][0]["code"], "F0105");
    assert_eq!(e["notes"][0]["rule"], "deny-apim-austria");
    assert_eq!(e["notes"][0]["tag"], "ApiManagement.AustriaEast");
    let v = isenet(&["verify", "--nsg", &nsg_file, "--service-tags", &old_tags]);
    assert!(v.stdout.contains("F0105") || v.stderr.contains("F0105"), "{}{}", v.stdout, v.stderr);

    // Inbound flows do not evaluate the outbound rule: nothing to warn about.
    let r = ask("Internet", SUBNET_HOST, "443", &["--nsg", &nsg_file, "--service-tags", &old_tags]);
    assert!(!r.stdout.contains("F0105"), "{}", r.stdout);

    // A flows file: once after the table, however many rows evaluate the rule.
    let flows = write(
        &dir,
        "flows.csv",
        "from,to,port\n10.10.1.5,68.210.163.176,443\n10.10.1.6,68.210.163.176,443\n",
    );
    let r = explain(&["--flows", &flows, "--nsg", &nsg_file, "--service-tags", &old_tags]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.matches(warning).count(), 1, "{}", r.stdout);
}

#[test]
fn a_negative_port_is_quoted_as_written() {
    // `-1` reads as a range with an empty start: the message must name `-1`, not an empty text.
    let r = explain(&["--from", "Internet", "--to", SUBNET_HOST, "--port=-1"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("`-1` is not a port number"), "{}", r.stderr);
    assert!(!r.stderr.contains("``"), "{}", r.stderr);
    let dir = scratch("flows-negative-port");
    let file = write(&dir, "neg.csv", "from,to,port\nInternet,10.10.1.70,-1\n");
    let r = explain(&["--flows", &file]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("`-1` is not a port number"), "{}", r.stderr);
    assert!(!r.stderr.contains("``"), "{}", r.stderr);
}

#[test]
fn the_readme_smoke_test_passes() {
    let readme = std::fs::read_to_string(crate::common::workspace().join("README.md")).unwrap();
    let start = readme.find("```csv\n").expect("the README's flows example") + 7;
    let csv = &readme[start..start + readme[start..].find("```").unwrap()];
    let (code, stdout, stderr) = isenet_with_stdin(&["explain", "--flows", "-"], csv.as_bytes());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("4 flows, 4 with an expectation, 0 mismatches"), "{stdout}");
}

/// A name's addresses are unknown, and Azure Firewall evaluates network rules before application
/// rules: a network Deny of some addresses on the name's port denies the name there. `verify`
/// (the dependency is not proved, naming those addresses) and `explain` (mixed: denied there,
/// allowed by its application rule elsewhere) say the same.
#[test]
fn verify_and_explain_agree_on_a_name_behind_a_narrow_network_deny() {
    let env = "tests/envs/firewall-tunneling.json";
    let dir = scratch("narrow-deny");
    let out = dir.join("out");
    let o = isenet(&["compile", "--env", env, "--only", "firewall", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(out.join("firewall-policy.json")).unwrap()).unwrap();
    doc["resources"][0]["properties"]["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "name": "blocklist", "priority": 100, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "action": {"type": "Deny"},
            "rules": [{"ruleType": "NetworkRule", "name": "deny-one-range", "ipProtocols": ["TCP"],
                "sourceAddresses": ["*"], "destinationAddresses": ["198.51.100.0/24"], "destinationPorts": ["80"]}]
        }));
    let policy = write(&dir, "policy.json", &doc.to_string());
    // verify: the HTTP dependency is blocked at exactly the denied range.
    let v = isenet(&["verify", "--env", env, "--firewall", &policy, "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stdout);
    let report = v.json();
    let blocked: Vec<&Value> = report["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap())
        .filter(|f| f["code"] == "F0301" && f["requirements"] == json!(["fw-fqdn-crl-microsoft-com"]))
        .collect();
    assert_eq!(blocked.len(), 1, "{report}");
    assert_eq!(blocked[0]["rule"]["name"], "deny-one-range");
    let flows = blocked[0]["flows"].to_string();
    assert!(flows.contains("198.51.100.0/24"), "{flows}");
    assert!(!flows.contains("0.0.0.0/0"), "only the denied addresses: {flows}");
    // explain: the same name is denied there and allowed elsewhere.
    let r = ask(
        "10.10.1.5",
        "crl.microsoft.com",
        "80",
        &["--env", env, "--firewall", &policy, "--format", "json"],
    );
    let e = r.json();
    assert_eq!(e["verdict"], "mixed", "{e}");
    let decisions = firewall_step(&e)["firewall"].as_array().unwrap();
    assert_eq!(decisions[0]["rule"], "deny-one-range", "{e}");
    assert_eq!(decisions[0]["action"], "Deny");
    assert!(decisions[0]["flows"].to_string().contains("198.51.100.0/24"), "{e}");
    assert_eq!(decisions[1]["rule"], "fw-fqdn-crl-microsoft-com", "{e}");
    let r = ask(
        "10.10.1.5",
        "crl.microsoft.com",
        "80",
        &["--env", env, "--firewall", &policy, "--expect", "allow"],
    );
    assert_eq!(r.code, Some(1), "a mixed verdict meets no expectation: {}", r.stdout);
    // The compiled rules, without the blocklist: allowed.
    let r = ask("10.10.1.5", "crl.microsoft.com", "80", &["--env", env, "--expect", "allow"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
}

/// azure-semantics.md: 168.63.129.16 and 169.254.169.254 (platform DNS, DHCP, health, instance
/// metadata) are not filtered by NSGs. `verify` takes no rule to them as an opening; `explain`
/// says they are allowed by the platform, whatever the rules and routes say.
#[test]
fn explain_allows_the_platform_addresses_nsgs_do_not_filter() {
    // Restricted outbound: deny-all-outbound would match them.
    let r = ask(
        "10.10.1.5",
        "168.63.129.16",
        "53",
        &[
            "--env",
            "tests/envs/restricted-outbound.json",
            "--protocol",
            "udp",
            "--format",
            "json",
            "--expect",
            "allow",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let e = r.json();
    assert_eq!(e["decisions"].as_array().unwrap().len(), 1, "{e}");
    assert_eq!(e["decisions"][0]["unfiltered"], true);
    assert_eq!(e["decisions"][0]["access"], "Allow");
    // Firewall mode: they do not follow the route to the firewall either.
    let r = ask(
        "10.10.1.5",
        "169.254.169.254",
        "80",
        &["--env", "tests/envs/firewall-tunneling.json", "--format", "json"],
    );
    let e = r.json();
    assert_eq!(e["verdict"], "allow", "{e}");
    assert_eq!(e["path"], json!([]), "{e}");
    // Any other address is the NSG's: denied by the explicit deny.
    let r = ask(
        "10.10.1.5",
        "168.63.129.17",
        "53",
        &[
            "--env",
            "tests/envs/restricted-outbound.json",
            "--protocol",
            "udp",
            "--expect",
            "deny",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(r.stdout.contains("denied by rule deny-all-outbound"), "{}", r.stdout);
}

/// A flow whose two ends both reach beyond the ISE subnets is decided only where an end is in
/// them (this NSG filters nothing else): the answer says so, in text and JSON, so that "deny SSH
/// to the whole VNet" does not pass on the strength of the subnets' addresses alone. The
/// example's subnets are 10.10.1.0/27, .32/27, .64/27 and .96/27 of VNet 10.10.0.0/16.
#[test]
fn a_flow_reaching_beyond_the_subnets_at_both_ends_says_what_was_decided() {
    let r = explain(&["--from", "8.8.8.8", "--to", "10.10.0.0/16", "--port", "22"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("decided only where an end is in the ISE subnets (10.10.1.0/27, 10.10.1.32/27, 10.10.1.64/27, 10.10.1.96/27)"),
        "{}",
        r.stdout
    );
    let r = explain(&["--from", "10.10.0.0/16", "--to", "8.8.8.8", "--port", "22", "--format", "json"]);
    assert_eq!(r.json()["decidedOnlyWithin"].as_array().map(Vec::len), Some(4), "{}", r.stdout);
    // One end inside the subnets: the whole flow is this NSG's, nothing to say.
    for (from, to) in [("8.8.8.8", "10.10.1.5"), ("10.10.0.0/16", "10.10.1.0/27")] {
        let r = explain(&["--from", from, "--to", to, "--port", "22", "--format", "json"]);
        assert!(r.json().get("decidedOnlyWithin").is_none(), "{from} -> {to}: {}", r.stdout);
    }
}

/// A route whose tag the cloud does not allow in routes is left out of the path, as `verify`
/// leaves it out (F0204): the answer says so, since the route left out may be the one that would
/// have won (AzureMonitor.EastUS beats AzureMonitor on an exact tie, azure-semantics.md).
#[test]
fn a_route_left_out_of_the_path_is_said_with_the_answer() {
    let dir = scratch("route-left-out");
    let env = crate::common::envs_dir().join("firewall-tunneling.json");
    let routes = write(
        &dir,
        "rt.json",
        r#"{"name":"rt","location":"eastus","routes":[
            {"name":"default","addressPrefix":"0.0.0.0/0","nextHopType":"VirtualAppliance","nextHopIpAddress":"10.10.0.4"},
            {"name":"mon-global","addressPrefix":"AzureMonitor","nextHopType":"None"},
            {"name":"mon-east","addressPrefix":"AzureMonitor.EastUS","nextHopType":"Internet"}]}"#,
    );
    let env = env.to_str().unwrap();
    let args = [
        "--env",
        env,
        "--routes",
        &routes,
        "--from",
        "10.10.1.5",
        "--to",
        "48.194.2.5",
        "--port",
        "443",
    ];
    let r = explain(&args);
    assert!(
        r.stdout.contains("warning[F0204]: route mon-east names `AzureMonitor.EastUS`"),
        "{}",
        r.stdout
    );
    let r = explain(&[&args[..], &["--format", "json"]].concat());
    let notes = r.json()["notes"].clone();
    assert_eq!(
        (notes[0]["code"].as_str(), notes[0]["rule"].as_str()),
        (Some("F0204"), Some("mon-east")),
        "{notes}"
    );
    let v = isenet(&["verify", "--env", env, "--routes", &routes]);
    assert!(v.stdout.contains("F0204 route mon-east"), "verify says the same: {}", v.stdout);
}

/// A firewall network rule serves the dependencies whose flows it lets through, not the one its
/// name says: widened to every destination, the Key Vault rule lets UDP 443 to 8.8.8.8 through,
/// which no dependency needs (verify's F0303). An application rule still names the dependency it
/// was written for.
#[test]
fn a_widened_firewall_rule_serves_no_dependency_beyond_its_flows() {
    let dir = scratch("widened-firewall-rule");
    let env = "tests/envs/firewall-tunneling.json";
    let out = dir.path().join("out");
    let run = isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(out.join("firewall-policy.json")).unwrap()).unwrap();
    let mut keyvault_address = None;
    for c in policy["resources"][0]["properties"]["ruleCollections"].as_array_mut().unwrap() {
        for r in c["rules"].as_array_mut().unwrap() {
            if r["name"] == "fw-net-keyvault-443" {
                keyvault_address = r["destinationAddresses"].get(0).cloned();
                r["destinationAddresses"] = json!(["*"]);
            }
        }
    }
    let policy = write(dir.path(), "policy.json", &serde_json::to_string(&policy).unwrap());
    let firewall = |e: &Value| firewall_step(e)["firewall"][0].clone();
    let r = ask(
        "10.10.1.5",
        "8.8.8.8",
        "443",
        &["--env", env, "--firewall", &policy, "--protocol", "udp", "--format", "json"],
    );
    let fw = firewall(&r.json());
    assert_eq!(fw["rule"], "fw-net-keyvault-443", "{fw}");
    assert_eq!(
        (&fw["dependencies"], &fw["servesNoRequirement"]),
        (&json!([]), &json!(true)),
        "{fw}"
    );
    assert_eq!(keyvault_address, Some(json!("AzureKeyVault")), "the rule was the tag's");
    // A dependency's own flow through its own rule still names it.
    let r = ask(
        "10.10.1.5",
        "crl.microsoft.com",
        "80",
        &["--env", env, "--firewall", &policy, "--format", "json"],
    );
    assert_eq!(firewall(&r.json())["dependencies"], json!(["fw-fqdn-crl-microsoft-com"]));
}

/// The compiled NSG of `env` (the example when `None`) with `extra` rules appended, saved in `dir`.
fn nsg_with(dir: &Path, env: Option<&str>, extra: &[Value]) -> String {
    let mut args = vec!["compile", "--only", "nsg", "--stdout"];
    if let Some(env) = env {
        args.extend(["--env", env]);
    }
    let o = isenet(&args);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut nsg: Value = serde_json::from_str(&o.stdout).unwrap();
    nsg["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
        .extend(extra.iter().cloned());
    write(dir, "nsg.json", &serde_json::to_string_pretty(&nsg).unwrap())
}

fn inbound_allow(name: &str, priority: u32, source: &str, port: &str) -> Value {
    json!({"name": name, "properties": {
        "priority": priority, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": source, "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": port}})
}

/// `--as-member`: a peered or on-premises network the environment does not declare, as `verify`'s
/// F0109 takes it. Azure's VirtualNetwork tag holds such a network once it is peered, and the
/// Internet tag then no longer does; without the flag its addresses are Internet.
#[test]
fn an_address_taken_as_a_member_is_virtual_network_and_not_internet() {
    let dir = scratch("as-member");
    let nsg = nsg_with(
        &dir,
        None,
        &[
            inbound_allow("allow-ssh-vnet", 300, "VirtualNetwork", "22"),
            inbound_allow("allow-rdp-internet", 310, "Internet", "3389"),
        ],
    );
    let peer = "172.16.5.4";
    let json_of = |port: &str, extra: &[&str]| {
        let mut args = vec!["--nsg", nsg.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        let r = ask(peer, SUBNET_HOST, port, &args);
        assert!(r.code == Some(0) || r.code == Some(1), "{}", r.stderr);
        (r.code, r.json())
    };
    // As Internet: SSH meets the deny-all, RDP the rule for the Internet.
    let (_, e) = json_of("22", &[]);
    assert_eq!(decisions(&e), [pair("Deny", "deny-all-inbound")]);
    assert!(e.get("takenAsMembers").is_none(), "{e}");
    let (_, e) = json_of("3389", &[]);
    assert_eq!(decisions(&e), [pair("Allow", "allow-rdp-internet")]);
    // As a member: the other way round. The VirtualNetwork rule serves no requirement.
    let (code, e) = json_of("22", &["--as-member", "172.16.0.0/12", "--expect", "deny"]);
    assert_eq!(code, Some(1), "the expectation fails: {e}");
    assert_eq!(decisions(&e), [pair("Allow", "allow-ssh-vnet")]);
    assert_eq!(e["decisions"][0]["servesNoRequirement"], true);
    assert_eq!(e["takenAsMembers"], json!(["172.16.0.0/12"]));
    let (_, e) = json_of("3389", &["--as-member", "172.16.0.0/12"]);
    assert_eq!(decisions(&e), [pair("Deny", "deny-all-inbound")]);
    // Seed 002: an internal access endpoint takes 443 from VirtualNetwork, so a member's 443 serves
    // that requirement (as F0109 counts it: no opening).
    let (_, e) = json_of("443", &["--as-member", "172.16.0.0/12"]);
    assert_eq!(decisions(&e), [pair("Allow", "in-triggers-443-internal")]);
    assert_eq!(e["decisions"][0]["requirements"], json!(["in-triggers-443-internal"]));
    // Exact over the source: only the member half of a /24 is allowed.
    let r = ask("172.16.5.0/24", SUBNET_HOST, "22", &["--nsg", &nsg, "--as-member", "172.16.5.0/25"]);
    assert!(r.stdout.contains("verdict: mixed"), "{}", r.stdout);
    assert!(
        r.stdout.contains("allowed: tcp 172.16.5.0/25 -> 10.10.1.70/32 port 22"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("taken as VirtualNetwork members, not Internet (--as-member): 172.16.5.0/25\n"),
        "{}",
        r.stdout
    );
    // Repeated and comma-separated alike; only undeclared addresses become members: never the
    // platform's, and the declared networks are members already.
    let (_, e) = json_of(
        "22",
        &[
            "--as-member",
            "172.16.0.0/12,168.63.129.16",
            "--as-member",
            "192.168.7.0/24,10.10.1.0/27",
        ],
    );
    assert_eq!(e["takenAsMembers"], json!(["172.16.0.0/12", "192.168.7.0/24"]));
    let (_, e) = json_of("22", &["--as-member", "168.63.129.16,169.254.169.254,10.10.0.0/16"]);
    assert_eq!(e["takenAsMembers"], json!([]), "asked for, none taken: {e}");
    let r = ask(peer, SUBNET_HOST, "22", &["--nsg", &nsg, "--as-member", "10.10.0.0/16"]);
    assert!(
        r.stdout
            .contains("taken as VirtualNetwork members (--as-member): none, every address given is a declared network's or the platform's"),
        "{}",
        r.stdout
    );
    // A flows file: the members hold for every row, said once under the table.
    let flows = write(
        &dir,
        "flows.csv",
        "from,to,port,protocol,expect\n172.16.5.4,10.10.1.70,22,tcp,allow\n172.16.5.4,10.10.1.70,3389,tcp,deny\n",
    );
    let r = explain(&["--nsg", &nsg, "--flows", &flows, "--as-member", "172.16.0.0/12"]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.matches("(--as-member): 172.16.0.0/12").count(), 1, "{}", r.stdout);
}

#[test]
fn a_bad_member_prefix_is_refused_with_exit_2() {
    for (bad, why) in [
        ("010.1.2.0/24", "without leading zeros"),
        ("fe80::/64", "IPv4"),
        ("10.1.2.0/33", "not an IPv4 address or prefix"),
        // As in the environment file: a typo for an address must not widen to its network.
        (
            "172.16.5.4/12",
            "has host bits set: write 172.16.0.0/12 for the network, or 172.16.5.4 for the one address",
        ),
    ] {
        let r = ask("172.16.5.4", SUBNET_HOST, "22", &["--as-member", bad]);
        assert_eq!(r.code, Some(2), "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("--as-member") && r.stderr.contains(why), "{bad}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}

/// In firewall mode the subnets' 0.0.0.0/0 takes replies to the firewall, so Azure drops inbound
/// traffic from outside the network (asymmetric routing); a member replies the way it came, as
/// the declared networks do.
#[test]
fn a_member_s_reply_is_not_asymmetric() {
    let env = "tests/envs/firewall-tunneling.json";
    let dir = scratch("as-member-fw");
    let nsg = nsg_with(&dir, Some(env), &[inbound_allow("allow-ssh-vnet", 300, "VirtualNetwork", "22")]);
    let r = ask(
        "172.16.5.0/24",
        "10.10.1.5",
        "22",
        &["--env", env, "--nsg", &nsg, "--as-member", "172.16.5.0/25", "--format", "json"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let e = r.json();
    assert_eq!(e["verdict"], "mixed", "{e}");
    let sources = |key: &str| e[key].as_array().unwrap().iter().map(|f| f["sources"].clone()).collect::<Vec<_>>();
    assert_eq!(sources("allowed"), [json!(["172.16.5.0/25"])], "{e}");
    assert_eq!(sources("denied"), [json!(["172.16.5.128/25"])], "{e}");
    // Except where their route drops everything (next hop None): the reply is dropped too.
    let routes = write(
        &dir,
        "routes.json",
        &json!({"properties": {"routes": [
            {"name": "to-firewall", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.10.0.4"}},
            {"name": "drop-lab", "properties": {"addressPrefix": "172.16.5.0/26", "nextHopType": "None"}}
        ]}})
        .to_string(),
    );
    let r = ask(
        "172.16.5.0/25",
        "10.10.1.5",
        "22",
        &[
            "--env",
            env,
            "--nsg",
            &nsg,
            "--routes",
            &routes,
            "--as-member",
            "172.16.5.0/25",
            "--format",
            "json",
        ],
    );
    let e = r.json();
    let sources = |key: &str| e[key].as_array().unwrap().iter().map(|f| f["sources"].clone()).collect::<Vec<_>>();
    assert_eq!(sources("allowed"), [json!(["172.16.5.64/26"])], "{e}");
    assert_eq!(sources("denied"), [json!(["172.16.5.0/26"])], "{e}");
}

/// A DNS name's addresses are public ones: members (hypothetical peered networks) or not, the
/// name is asked of the NSG, never refused as outside the subnets.
#[test]
fn a_dns_name_is_explained_whatever_is_taken_as_members() {
    let env = "tests/envs/firewall-tunneling.json";
    for members in ["0.0.0.0/0", "0.0.0.0/1,128.0.0.0/1"] {
        let r = ask(
            "10.10.1.5",
            "crl.microsoft.com",
            "80",
            &["--env", env, "--as-member", members, "--format", "json"],
        );
        assert_eq!(r.code, Some(0), "{members}: {}", r.stderr);
        assert!(!r.json()["decisions"].as_array().unwrap().is_empty());
    }
}

/// Azure drops the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10) by a default route
/// when no user 0.0.0.0/0 replaces it; a peered or on-premises network's own route (peering, the
/// gateway's) replaces it too, so a member is reached and answered, as `verify`'s F0109 takes it.
#[test]
fn the_private_range_default_gives_way_to_a_member_s_own_route() {
    let dir = scratch("as-member-private-default");
    let nsg = nsg_with(&dir, None, &[inbound_allow("allow-ssh-vnet", 300, "VirtualNetwork", "22")]);
    let routes = write(
        &dir,
        "routes.json",
        &json!({"properties": {"routes": [
            {"name": "partner", "properties": {"addressPrefix": "203.0.113.0/24", "nextHopType": "Internet"}}
        ]}})
        .to_string(),
    );
    let with = |from: &str, to: &str, port: &str, members: &[&str]| {
        let mut args = vec!["--nsg", nsg.as_str(), "--routes", routes.as_str(), "--format", "json"];
        args.extend_from_slice(members);
        ask(from, to, port, &args).json()
    };
    // Not a member: the default drops what the NSG lets out to 192.168.50.10.
    let e = with(SUBNET_HOST, "192.168.50.10", "3389", &[]);
    assert_eq!(e["verdict"], "deny", "{e}");
    assert_eq!(e["path"][0]["route"], "system: private range", "{e}");
    // A member: its own route takes it, both ways.
    let e = with(SUBNET_HOST, "192.168.50.10", "3389", &["--as-member", "192.168.0.0/16"]);
    assert_eq!((&e["verdict"], &e["path"][0]["passes"]), (&json!("allow"), &json!(true)), "{e}");
    let e = with("172.16.5.4", SUBNET_HOST, "22", &["--as-member", "172.16.0.0/12"]);
    assert_eq!(e["verdict"], "allow", "{e}");
    // A user route to None drops members' traffic as any other.
    let drop = write(
        &dir,
        "drop.json",
        &json!({"properties": {"routes": [
            {"name": "drop-lab", "properties": {"addressPrefix": "192.168.50.0/24", "nextHopType": "None"}}
        ]}})
        .to_string(),
    );
    let r = ask(
        SUBNET_HOST,
        "192.168.50.10",
        "3389",
        &[
            "--nsg",
            &nsg,
            "--routes",
            &drop,
            "--as-member",
            "192.168.0.0/16",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.json()["verdict"], "deny");
}

/// The path step through the environment's firewall (the default route's, 10.10.0.4).
fn firewall_step(e: &Value) -> &Value {
    e["path"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["nextHop"] == "VirtualAppliance" && s["nextHopIpAddress"] == "10.10.0.4")
        .unwrap_or_else(|| panic!("no step through the firewall: {e}"))
}
