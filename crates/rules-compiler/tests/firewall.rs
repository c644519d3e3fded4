//! Azure Firewall rules (forced tunneling mode `firewall`): the dependency table against its source
//! tables, the rules compiled from it in every cloud, the proof with Azure Firewall semantics (and
//! the NSG), mutations the proof must catch, the ARM shapes, and the empty artifacts of other modes.

use ipnet::Ipv4Net;
use ise_model::cloud::{locations, CloudId};
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env::{self, Environment};
use ise_model::ports::{self, PortRange};
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use rules_compiler::azure::firewall::{
    ApplicationProtocolType, ApplicationRule, FirewallAction, NetworkProtocol, NetworkRule, RuleCollection,
};
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, Protocol, SecurityRule};
use rules_compiler::engine::PacketProtocol;
use rules_compiler::plan::{self, ApplicationDestination, DependencyTarget, FirewallDependency, NetworkDestination, Plan};
use rules_compiler::prove::findings::{Finding, FindingKind, Proof as FirewallReport};
use rules_compiler::prove::firewall::{prove, Subject};
use rules_compiler::prove::nsg::Evaluated;
use rules_compiler::read::routes::route_prefixes;
use rules_compiler::render::render_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

// ---------- helpers ----------

fn environment(cloud: CloudId, location: &str, mode: Value) -> Environment {
    let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["cloud"] = cloud.as_str().into();
    v["location"] = location.into();
    v["forcedTunneling"] = mode;
    let loaded = env::load(&v.to_string(), "t");
    loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
}

fn firewall() -> Value {
    serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"})
}

fn firewall_env(cloud: CloudId, location: &str) -> Environment {
    environment(cloud, location, firewall())
}

/// The public firewall environment with `key` set to `value` (the example's VNet is 10.10.0.0/16).
fn firewall_env_with(key: &str, value: Value) -> Environment {
    let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["forcedTunneling"] = firewall();
    v[key] = value;
    let loaded = env::load(&v.to_string(), "t");
    loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
}

fn firewall_env_with_dns(servers: &[&str]) -> Environment {
    firewall_env_with("customDnsServers", serde_json::json!(servers))
}

fn change_ticket(plan: &Plan) -> String {
    let artifacts = rules_compiler::render::render_everything(plan, ServiceTags::embedded(CloudId::Public));
    artifacts.into_iter().find(|a| a.file_name == "change-ticket.md").unwrap().contents
}

fn compiled(env: &Environment) -> Plan {
    plan::build(env, ServiceTags::embedded(env.cloud), None).unwrap()
}

fn udr(plan: &Plan, tags: &ServiceTags) -> Vec<Ipv4Net> {
    plan.routes
        .iter()
        .flat_map(|r| route_prefixes(&r.address_prefix, tags).unwrap())
        .collect()
}

fn prove_with(
    env: &Environment,
    plan: &Plan,
    network: &[RuleCollection<NetworkRule>],
    application: &[RuleCollection<ApplicationRule>],
    nsg: Option<&[SecurityRule]>,
) -> FirewallReport {
    let tags = ServiceTags::embedded(env.cloud);
    let udr = udr(plan, tags);
    let nsg = nsg.map(|rules| Evaluated::new(env, tags, rules, &udr));
    // What the compiled routes send past the firewall, as `verify` takes it.
    let bypass = rules_compiler::prove::routes::compiled_firewall_bypass(plan, env, tags);
    prove(&Subject {
        env,
        tags,
        network_rule_collections: network,
        application_rule_collections: application,
        nat_rules: &[],
        dependencies: &plan.firewall.dependencies,
        bypass_addresses: &bypass,
        nsg: nsg.as_ref(),
    })
}

fn nsg_rules(plan: &Plan) -> Vec<SecurityRule> {
    plan.security_rules.iter().map(|r| r.rule.clone()).collect()
}

fn prove_plan(env: &Environment, plan: &Plan) -> FirewallReport {
    let nsg = nsg_rules(plan);
    prove_with(
        env,
        plan,
        &plan.firewall.network_rule_collections,
        &plan.firewall.application_rule_collections,
        Some(&nsg),
    )
}

fn network_rules(plan: &Plan) -> Vec<&NetworkRule> {
    plan.firewall.network_rule_collections.iter().flat_map(|c| &c.rules).collect()
}

fn application_rules(plan: &Plan) -> Vec<&ApplicationRule> {
    plan.firewall.application_rule_collections.iter().flat_map(|c| &c.rules).collect()
}

fn network_rule<'a>(plan: &'a Plan, name: &str) -> &'a NetworkRule {
    network_rules(plan)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no network rule {name}"))
}

fn ports_of(text: &str) -> BTreeSet<u16> {
    ports::parse_list(text).unwrap().into_iter().flat_map(|r| r.lo..=r.hi).collect()
}

fn rule_ports(r: &NetworkRule) -> BTreeSet<u16> {
    ports_of(&r.destination_ports.join(","))
}

const CLOUDS: [(CloudId, &str); 3] = [
    (CloudId::Public, "westus2"),
    (CloudId::UsGovernment, "usgovvirginia"),
    (CloudId::China, "chinanorth2"),
];

/// Whether every address of a dependency lies in the VNet's address space: reached over VnetLocal,
/// it never meets the firewall and gets no rule.
fn inside_the_vnet(env: &Environment, dep: &FirewallDependency) -> bool {
    match &dep.target {
        DependencyTarget::Network {
            destination: NetworkDestination::Prefixes { prefixes, .. },
            ..
        } => prefixes
            .iter()
            .all(|p| env.virtual_network.address_space.iter().any(|space| space.contains(p))),
        _ => false,
    }
}

/// Everything the brief asks of the compiled rules of one environment.
fn check_plan(env: &Environment, plan: &Plan) {
    let fw = &plan.firewall;
    // The proof: every dependency allowed (by the NSG too), nothing else.
    let report = prove_plan(env, plan);
    assert!(report.ok, "{}: {report:#?}", env.location);
    assert_eq!(report.coverage.len(), fw.dependencies.len());

    // The App Service Environment FQDN tag rule, with Https:443 and Http:80 (the 2021 ISE article, requirements.csv).
    let ase = application_rules(plan)
        .into_iter()
        .find(|r| r.fqdn_tags == ["AppServiceEnvironment"])
        .expect("AppServiceEnvironment FQDN tag rule");
    assert_eq!(ase.name, "fw-ase-fqdn-tag");
    let protocols: BTreeSet<(ApplicationProtocolType, u16)> = ase.protocols.iter().map(|p| (p.protocol_type, p.port)).collect();
    assert_eq!(
        protocols,
        BTreeSet::from([(ApplicationProtocolType::Http, 80), (ApplicationProtocolType::Https, 443)])
    );

    // Application rules: Http/Https only, one target each.
    for r in application_rules(plan) {
        assert!(
            r.protocols
                .iter()
                .all(|p| matches!(p.protocol_type, ApplicationProtocolType::Http | ApplicationProtocolType::Https)),
            "{}",
            r.name
        );
        assert_eq!(r.fqdn_tags.len() + r.target_fqdns.len(), 1, "{}", r.name);
    }

    // Rule names are the dependency ids, one rule each; dependency ids are requirement or table ids.
    let requirement_ids: BTreeSet<&str> = plan.requirements.iter().map(|r| r.id.as_str()).collect();
    let table = table_rows();
    let table_ids: BTreeSet<&str> = table.iter().map(|r| r["id"].as_str()).collect();
    let dep_ids: Vec<&str> = fw.dependencies.iter().map(|d| d.id.as_str()).collect();
    let unique: BTreeSet<&str> = dep_ids.iter().copied().collect();
    assert_eq!(unique.len(), dep_ids.len(), "dependency ids are unique");
    for id in &dep_ids {
        assert!(requirement_ids.contains(id) || table_ids.contains(id), "{id}");
    }
    let mut names: Vec<&str> = network_rules(plan).iter().map(|r| r.name.as_str()).collect();
    names.extend(application_rules(plan).iter().map(|r| r.name.as_str()));
    names.sort_unstable();
    let mut expected: Vec<&str> = fw
        .dependencies
        .iter()
        .filter(|d| !inside_the_vnet(env, d))
        .map(|d| d.id.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for r in network_rules(plan) {
        assert!(r.description.starts_with(&format!("{}: ", r.name)) && r.description.chars().count() <= 140);
    }

    // Sources: exactly the four subnet prefixes.
    let subnets: Vec<String> = env.subnet_prefixes().iter().map(ToString::to_string).collect();
    assert_eq!(subnets.len(), 4);
    for r in network_rules(plan) {
        assert_eq!(r.source_addresses, subnets, "{}", r.name);
    }
    for r in application_rules(plan) {
        assert_eq!(r.source_addresses, subnets, "{}", r.name);
    }

    // Priorities within Azure's 100-65000, unique per rule type.
    let range = 100..=65000;
    assert!(range.contains(&fw.rule_collection_group_priority));
    let mut seen = BTreeSet::new();
    for c in &fw.network_rule_collections {
        assert!(range.contains(&c.priority) && seen.insert(("n", c.priority)) && c.action == FirewallAction::Allow);
    }
    for c in &fw.application_rule_collections {
        assert!(range.contains(&c.priority) && seen.insert(("a", c.priority)) && c.action == FirewallAction::Allow);
    }

    // No allow-everything: no network rule admits every address on every port.
    for r in network_rules(plan) {
        assert!(
            !(r.destination_addresses.iter().any(|d| d == "*") && r.destination_ports.iter().any(|p| p == "*")),
            "{}",
            r.name
        );
    }
}

// ---------- the table against its sources ----------

fn data(file: &str) -> String {
    std::fs::read_to_string(format!("{}/../../data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

type Row = BTreeMap<String, String>;

fn csv_rows(text: &str) -> Vec<Row> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn table_rows() -> Vec<Row> {
    csv_rows(&data("firewall-dependencies.csv"))
}

/// Line `n` (1-based, the header is line 1) of a source CSV, as a row, with its raw text.
fn source_line(file: &str, n: usize) -> (Row, String) {
    let text = data(file);
    let header = text.lines().next().unwrap();
    let line = text.lines().nth(n - 1).unwrap_or_else(|| panic!("{file} has no line {n}"));
    assert!(n >= 2, "{file}:{n} is the header");
    let row = csv_rows(&format!("{header}\n{line}\n")).remove(0);
    (row, line.to_string())
}

/// The ports a source row gives (empty: the row gives none).
fn source_ports(row: &Row) -> BTreeSet<u16> {
    let text = row
        .get("ports")
        .or_else(|| row.get("destination_ports"))
        .cloned()
        .unwrap_or_default();
    if text.is_empty() || text == "*" {
        BTreeSet::new()
    } else {
        ports_of(&text)
    }
}

fn mentions(line: &str, destination: &str) -> bool {
    line.contains(destination)
        || line.contains(&format!("likely {destination}"))
        || destination
            .strip_prefix("*.")
            .is_some_and(|rest| line.contains(&format!("*{rest}")))
}

#[test]
fn every_table_row_names_source_rows_that_give_it() {
    let requirements = csv_rows(&data("requirements.csv"));
    for row in table_rows() {
        let id = &row["id"];
        let ports = ports_of(&row["ports"]);
        let clouds: BTreeSet<&str> = row["clouds"].split_whitespace().collect();
        let kind = row["destination_kind"].as_str();
        let destinations: Vec<&str> = row["destination"].split_whitespace().collect();
        let mut mentioned: BTreeSet<&str> = BTreeSet::new();
        assert!(!row["reference"].is_empty(), "{id}");
        for item in row["reference"].split("; ") {
            let (file, spec) = item.split_once(':').unwrap_or_else(|| panic!("{id}: reference `{item}`"));
            if file == "requirements.csv" {
                for rid in spec.split('+') {
                    let r = requirements
                        .iter()
                        .find(|r| r["id"] == rid)
                        .unwrap_or_else(|| panic!("{id}: no requirement {rid}"));
                    assert!(ports_of(&r["ports"]).is_subset(&ports), "{id}: {rid} ports");
                    let wanted = match kind {
                        "servicetag" => format!("tag:{}", row["destination"]),
                        "custom-dns" => "custom-dns".to_string(),
                        other => panic!("{id}: requirements.csv reference for a {other} row"),
                    };
                    assert_eq!(r["destination"], wanted, "{id}: {rid}");
                    mentioned.extend(destinations.iter().copied());
                }
                continue;
            }
            for n in spec.split('+') {
                let (src, line) = source_line(file, n.parse().unwrap());
                assert!(
                    source_ports(&src).is_subset(&ports),
                    "{id}: {file}:{n} ports {:?} vs {ports:?}",
                    source_ports(&src)
                );
                if let Some(cloud) = src.get("cloud").filter(|_| file == "ase-firewall-dependencies.csv") {
                    assert!(clouds.contains(cloud.as_str()), "{id}: {file}:{n} is for {cloud}");
                }
                if kind == "custom-dns" {
                    if line.contains("DNS") {
                        mentioned.insert(destinations[0]);
                    }
                    continue;
                }
                if kind == "any" && file == "ase-firewall-dependencies.csv" && src["kind"] == "ip" && src["target"] == "*" {
                    mentioned.insert("*");
                    continue;
                }
                for d in &destinations {
                    if kind != "any" && mentions(&line, d) {
                        mentioned.insert(d);
                    }
                }
            }
        }
        let all: BTreeSet<&str> = destinations.iter().copied().collect();
        assert_eq!(mentioned, all, "{id}: every destination is named by a referenced source row");
    }
}

#[test]
fn every_firewall_relevant_source_row_is_in_the_table_or_deliberately_left_out() {
    let table = table_rows();
    let covered = |cloud: &str, destination: &str, port: u16| {
        table.iter().any(|r| {
            r["clouds"].split_whitespace().any(|c| c == cloud)
                && r["destination"].split_whitespace().any(|d| d == destination)
                && ports_of(&r["ports"]).contains(&port)
        })
    };
    let public_monitor = ServiceTags::embedded(CloudId::Public).get("AzureMonitor").unwrap().ipv4();
    for row in csv_rows(&data("ase-firewall-dependencies.csv")) {
        let (kind, target, cloud) = (row["kind"].as_str(), row["target"].as_str(), row["cloud"].as_str());
        let target = match row["note"].split_once("likely ") {
            Some((_, intended)) if row["note"].contains("doc-garbled") => intended,
            _ if target == "*ctldl.windowsupdate.com" => "*.ctldl.windowsupdate.com",
            _ => target,
        };
        let wanted = match kind {
            "fqdn" | "azfw-fqdn-tag" | "azfw-network-rule-servicetag" => true,
            // Azure Firewall takes a wildcard only as the leftmost label: gr-prod-* stays with the FQDN tag.
            "wildcard-fqdn" => !target.contains("-*"),
            "ip" if cloud == "AzureCloud" && target != "*" => {
                // Left out in public: inside the AzureMonitor tag, which fw-net-azure-monitor allows on 80/443.
                let ip: std::net::Ipv4Addr = target.parse().unwrap();
                assert!(public_monitor.iter().any(|n| n.contains(&ip)), "{target} is not in AzureMonitor");
                false
            }
            "ip" => true,
            // NSG, routes and service endpoints; Linux-only rows (an ISE runs Windows workers).
            _ => false,
        };
        if !wanted {
            continue;
        }
        if target == "AppServiceEnvironment" {
            continue; // requirements.csv fw-ase-fqdn-tag, checked in every cloud below
        }
        for port in source_ports(&row) {
            assert!(covered(cloud, target, port), "{kind} {target}:{port} ({cloud}) is in no table row");
        }
    }
    // API Management (2021-04-12, stv1) outbound service-tag rows, SMTP and AzureCloud aside.
    for row in csv_rows(&data("apim-vnet-ports.csv")) {
        if row["version_date"] != "2021-04-12" || row["direction"] != "outbound" {
            continue;
        }
        let tag = row["destination"].as_str();
        if ["Internet", "AzureCloud", "VirtualNetwork", "DNS servers"].contains(&tag) {
            continue;
        }
        for cloud in ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"] {
            for port in source_ports(&row) {
                assert!(covered(cloud, tag, port), "API Management {tag}:{port} ({cloud})");
            }
        }
    }
    // Redis outbound service tags.
    for row in csv_rows(&data("redis-vnet-ports.csv")) {
        if row["direction"] == "outbound" && row["remote"].contains("AzureKeyVault") {
            for tag in row["remote"].split(',') {
                for port in source_ports(&row) {
                    assert!(covered("AzureCloud", tag, port), "Redis {tag}:{port}");
                }
            }
        }
    }
    // The ISE table's outbound service tags (the NSG rows) pass the firewall too.
    for row in csv_rows(&data("requirements.csv")) {
        let Some(tag) = row["destination"].strip_prefix("tag:") else {
            continue;
        };
        if row["direction"] != "outbound" || ["Internet", "VirtualNetwork"].contains(&tag) {
            continue;
        }
        for cloud in ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"] {
            for port in ports_of(&row["ports"]) {
                assert!(covered(cloud, tag, port), "{} {tag}:{port} ({cloud})", row["id"]);
            }
        }
    }
}

// ---------- compiled rules in every cloud ----------

#[test]
fn firewall_mode_is_proved_in_each_cloud() {
    for (cloud, location) in CLOUDS {
        let env = firewall_env(cloud, location);
        let plan = compiled(&env);
        check_plan(&env, &plan);
    }
}

#[test]
fn public_rules_carry_the_documented_destinations_and_ports() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    // ASE firewall doc: NTP 123 and 12000 to any address, TCP/UDP; AzureMonitor 80/443 (ASE), 1886 (ISE, APIM).
    for (name, port) in [("fw-net-ntp-123", 123), ("fw-net-diagnostics-12000", 12000)] {
        let r = network_rule(&plan, name);
        assert_eq!(r.destination_addresses, ["*"]);
        assert_eq!(rule_ports(r), BTreeSet::from([port]));
        assert_eq!(r.ip_protocols, [NetworkProtocol::Tcp, NetworkProtocol::Udp]);
    }
    let expected: [(&str, &str, &[u16]); 7] = [
        ("fw-net-azure-monitor", "AzureMonitor", &[80, 443, 1886]),
        ("fw-net-entra", "AzureActiveDirectory", &[80, 443]),
        ("fw-net-storage", "Storage", &[80, 443, 445]),
        ("fw-net-sql-1433", "Sql", &[1433]),
        ("fw-net-keyvault-443", "AzureKeyVault", &[443]),
        ("fw-net-eventhub", "EventHub", &[443, 5671, 5672]),
        ("fw-net-appservice-443", "AppService", &[443]),
    ];
    for (name, tag, ports) in expected {
        let r = network_rule(&plan, name);
        assert_eq!(r.destination_addresses, [tag], "{name}: public tags work in Azure Firewall");
        assert_eq!(rule_ports(r), ports.iter().copied().collect(), "{name}");
    }
    // Custom DNS: the example's 10.10.0.4 is inside the VNet, reached over VnetLocal, never
    // through the firewall: no rule. Servers beyond it get port 53 to exactly them.
    assert!(network_rules(&plan).iter().all(|r| r.name != "fw-net-custom-dns-53"));
    let beyond = compiled(&firewall_env_with_dns(&["10.10.0.4", "192.168.50.4", "172.16.0.53"]));
    let dns = network_rule(&beyond, "fw-net-custom-dns-53");
    assert_eq!(
        (dns.destination_addresses.clone(), rule_ports(dns)),
        (
            vec!["172.16.0.53/32".to_string(), "192.168.50.4/32".to_string()],
            BTreeSet::from([53])
        )
    );
    assert_eq!(dns.ip_protocols, [NetworkProtocol::Tcp, NetworkProtocol::Udp]);
    // The change ticket tells the firewall team why the server inside the VNet has no rule.
    let ticket = change_ticket(&beyond);
    assert!(
        ticket.contains("Inside the virtual network, so not through the firewall: the custom DNS servers 10.10.0.4. "),
        "{ticket}"
    );
    // Workflow destinations in their own collection.
    let dest = &plan.firewall.network_rule_collections[1];
    assert_eq!(dest.name, plan::DESTINATIONS_COLLECTION);
    assert_eq!(dest.rules[0].name, "out-dest-partner-sftp");
    assert_eq!(dest.rules[0].destination_addresses, ["203.0.113.10/32"]);
    assert_eq!(dest.rules[0].destination_ports, ["22"]);
    assert_eq!(dest.rules[0].ip_protocols, [NetworkProtocol::Tcp]);
    // The ASE monitoring addresses are inside AzureMonitor in public: no separate rule.
    assert!(network_rules(&plan).iter().all(|r| r.name != "fw-net-ase-monitoring-ips"));
    // FQDN tags and a sample of the ASE FQDN list.
    let apps = application_rules(&plan);
    assert!(apps.iter().any(|r| r.fqdn_tags == ["WindowsUpdate"]));
    for fqdn in ["login.microsoftonline.com", "*.management.azure.com", "crl4.digicert.com"] {
        assert!(apps.iter().any(|r| r.target_fqdns == [fqdn]), "{fqdn}");
    }
    assert!(apps.iter().all(|r| r.target_fqdns.iter().all(|f| !f.contains("-*"))));
}

/// An outbound destination inside the VNet is reached over VnetLocal: no firewall rule; one with
/// prefixes on both sides gets a rule for the outside ones only, and the ticket names the prefixes
/// left out. The NSG keeps a rule for each.
#[test]
fn outbound_destinations_inside_the_vnet_get_no_firewall_rule() {
    let env = firewall_env_with(
        "outboundDestinations",
        serde_json::json!([
            {"name": "in-vnet", "prefixes": ["10.10.5.0/24"], "protocol": "Tcp", "ports": ["8443"]},
            {"name": "mixed", "prefixes": ["192.168.7.0/24", "10.10.6.0/24"], "protocol": "Tcp", "ports": ["8443"]},
        ]),
    );
    let plan = compiled(&env);
    let dest = &plan.firewall.network_rule_collections[1];
    assert_eq!(dest.name, plan::DESTINATIONS_COLLECTION);
    let names: Vec<&str> = dest.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["out-dest-mixed"]);
    assert_eq!(dest.rules[0].destination_addresses, ["192.168.7.0/24"]);
    let nsg: BTreeSet<&str> = plan.security_rules.iter().map(|r| r.rule.name.as_str()).collect();
    assert!(nsg.contains("out-dest-in-vnet") && nsg.contains("out-dest-mixed"), "{nsg:?}");
    let ticket = change_ticket(&plan);
    assert!(
        ticket.contains("Inside the virtual network, so not through the firewall: the custom DNS servers 10.10.0.4; the outbound destinations in-vnet, mixed (10.10.6.0/24). "),
        "{ticket}"
    );
    assert!(prove_plan(&env, &plan).ok);
}

/// A DNS server at the firewall's own address is its DNS proxy: the ticket says so, apart from the
/// servers inside the VNet.
#[test]
fn a_dns_server_at_the_firewall_is_its_dns_proxy() {
    let env = firewall_env_with_dns(&["10.10.2.4", "10.10.0.4"]);
    assert_eq!(env.forced_tunneling.firewall_private_ip, Some("10.10.2.4".parse().unwrap()));
    let ticket = change_ticket(&compiled(&env));
    assert!(
        ticket.contains("Inside the virtual network, so not through the firewall: the custom DNS server 10.10.2.4, the firewall's own address (Azure Firewall's DNS proxy answers it; no network rule applies); the custom DNS servers 10.10.0.4. "),
        "{ticket}"
    );
}

#[test]
fn government_uses_its_own_fqdns_and_the_monitoring_addresses() {
    let env = firewall_env(CloudId::UsGovernment, "usgovvirginia");
    let plan = compiled(&env);
    let ips = network_rule(&plan, "fw-net-ase-monitoring-ips");
    assert_eq!(
        ips.destination_addresses.iter().cloned().collect::<BTreeSet<_>>(),
        ["13.82.184.151/32", "13.90.249.229/32", "40.77.24.27/32", "104.45.230.69/32"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert_eq!(rule_ports(ips), BTreeSet::from([80, 443]));
    let fqdns: BTreeSet<&str> = application_rules(&plan)
        .iter()
        .flat_map(|r| r.target_fqdns.iter().map(String::as_str))
        .collect();
    // Garbled names of the doc replaced by the intended ones.
    for intended in [
        "rteventservice.trafficmanager.net",
        "v10.vortex-win.data.microsoft.com",
        "wdcp.microsoft.com",
    ] {
        assert!(fqdns.contains(intended), "{intended}");
    }
    for garbled in [
        "rteventse.trafficmanager.net",
        "v10ortex-win.data.microsoft.com",
        "wp.microsoft.com",
        "*ctldl.windowsupdate.com",
    ] {
        assert!(!fqdns.contains(garbled), "{garbled}");
    }
    assert!(fqdns.contains("login.microsoftonline.us") && !fqdns.contains("login.microsoftonline.com"));
    let v10 = application_rules(&plan)
        .into_iter()
        .find(|r| r.target_fqdns == ["v10.vortex-win.data.microsoft.com"])
        .unwrap();
    assert_eq!(v10.protocols.len(), 2, "the garbled 80 row and the 443 row merge");
}

#[test]
fn china_writes_prefixes_for_tags_azure_firewall_cannot_use_there() {
    let env = firewall_env(CloudId::China, "chinanorth2");
    let tags = ServiceTags::embedded(CloudId::China);
    let plan = compiled(&env);
    let monitor = tags.get("AzureMonitor").unwrap();
    assert!(!monitor.network_features.iter().any(|f| f == "FW"));
    let rule = network_rule(&plan, "fw-net-azure-monitor");
    let mut expected = Ipv4Net::aggregate(&monitor.ipv4());
    expected.sort();
    assert_eq!(
        rule.destination_addresses,
        expected.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    let dep = plan.firewall.dependencies.iter().find(|d| d.id == "fw-net-azure-monitor").unwrap();
    assert!(dep.notes.iter().any(|n| n.contains("lack FW")));
    // Sql has FW in the China file: the tag itself.
    assert_eq!(network_rule(&plan, "fw-net-sql-1433").destination_addresses, ["Sql"]);
    // No ASE FQDN list for China: FQDN tags and the global PKI names only.
    let fqdns: Vec<&str> = application_rules(&plan)
        .iter()
        .flat_map(|r| r.target_fqdns.iter().map(String::as_str))
        .collect();
    assert!(fqdns.contains(&"crl.microsoft.com") && !fqdns.iter().any(|f| f.ends_with(".windows.net")));
}

fn public_locations() -> Vec<String> {
    locations()
        .iter()
        .filter(|l| l.cloud == CloudId::Public)
        .map(|l| l.name.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]
    #[test]
    fn firewall_mode_is_proved_in_random_public_regions(i in 0usize..1000) {
        let all = public_locations();
        let location = &all[i % all.len()];
        let env = firewall_env(CloudId::Public, location);
        let plan = compiled(&env);
        check_plan(&env, &plan);
    }
}

// ---------- mutations ----------

/// Dependencies the firewall denies (part of).
fn uncovered_ids(report: &FirewallReport) -> BTreeSet<String> {
    report
        .of_kind(FindingKind::DependencyBlocked)
        .flat_map(|f| f.requirements.clone())
        .collect()
}

/// What the firewall denies of one dependency.
fn blocked<'a>(report: &'a FirewallReport, id: &str) -> Vec<&'a Finding> {
    report
        .of_kind(FindingKind::DependencyBlocked)
        .filter(|f| f.requirements.iter().any(|r| r == id))
        .collect()
}

/// (collection, rule) of each opening.
fn openings(report: &FirewallReport) -> Vec<&Finding> {
    report.of_kind(FindingKind::FirewallOpening).collect()
}

fn rule_name(f: &Finding) -> &str {
    &f.rule.as_ref().unwrap().name
}

#[test]
fn removing_any_network_rule_uncovers_exactly_its_dependency() {
    for (cloud, location) in CLOUDS {
        let env = firewall_env(cloud, location);
        let plan = compiled(&env);
        for (ci, c) in plan.firewall.network_rule_collections.iter().enumerate() {
            for (ri, rule) in c.rules.iter().enumerate() {
                let mut network = plan.firewall.network_rule_collections.clone();
                network[ci].rules.remove(ri);
                let report = prove_with(&env, &plan, &network, &plan.firewall.application_rule_collections, None);
                assert!(!report.ok);
                assert_eq!(
                    uncovered_ids(&report),
                    BTreeSet::from([rule.name.clone()]),
                    "{location}: removed {}",
                    rule.name
                );
                let d = report.coverage.iter().find(|d| d.id == rule.name).unwrap();
                assert!(!blocked(&report, &rule.name)[0].flows.is_empty() && d.rules.is_empty(), "{d:?}");
                assert!(openings(&report).is_empty());
            }
        }
    }
}

#[test]
fn an_allow_any_network_rule_is_an_opening_wherever_it_sits() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    for priority in [100, 65000] {
        let mut network = plan.firewall.network_rule_collections.clone();
        network.push(RuleCollection {
            name: "allow-everything".into(),
            priority,
            group_order: None,
            action: FirewallAction::Allow,
            rules: vec![NetworkRule {
                name: "any".into(),
                description: String::new(),
                ip_protocols: vec![NetworkProtocol::Any],
                source_addresses: vec!["*".into()],
                destination_addresses: vec!["*".into()],
                destination_ports: vec!["*".into()],
            }],
        });
        let report = prove_with(&env, &plan, &network, &plan.firewall.application_rule_collections, None);
        assert!(!report.ok);
        assert!(uncovered_ids(&report).is_empty());
        let opening = openings(&report)
            .into_iter()
            .find(|o| rule_name(o) == "any")
            .expect("opening reported");
        assert_eq!(opening.rule.as_ref().unwrap().collection.as_deref(), Some("allow-everything"));
        assert!(!opening.flows.is_empty());
        // Only the added rule opens anything.
        assert!(openings(&report).iter().all(|o| rule_name(o) == "any"), "{:?}", openings(&report));
    }
}

#[test]
fn a_widened_port_is_an_opening_of_that_rule() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    let mut network = plan.firewall.network_rule_collections.clone();
    let r = network[0].rules.iter_mut().find(|r| r.name == "fw-net-sql-1433").unwrap();
    r.destination_ports = vec!["1433-1434".into()];
    let report = prove_with(&env, &plan, &network, &plan.firewall.application_rule_collections, None);
    assert!(!report.ok);
    let o: Vec<_> = openings(&report).into_iter().map(rule_name).collect();
    assert_eq!(o, ["fw-net-sql-1433"]);
    let flows = &openings(&report)[0].flows;
    assert!(flows.iter().all(|f| f.dst_ports == [PortRange::single(1434)]), "{flows:?}");
}

#[test]
fn a_network_deny_first_is_caught() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    let mut network = plan.firewall.network_rule_collections.clone();
    network.push(RuleCollection {
        name: "deny-ntp".into(),
        priority: 100,
        group_order: None,
        action: FirewallAction::Deny,
        rules: vec![NetworkRule {
            name: "deny-123".into(),
            description: String::new(),
            ip_protocols: vec![NetworkProtocol::Udp],
            source_addresses: vec!["*".into()],
            destination_addresses: vec!["*".into()],
            destination_ports: vec!["123".into()],
        }],
    });
    let report = prove_with(&env, &plan, &network, &plan.firewall.application_rule_collections, None);
    assert_eq!(uncovered_ids(&report), BTreeSet::from(["fw-net-ntp-123".to_string()]));
    let d = blocked(&report, "fw-net-ntp-123");
    assert!(
        d.iter().flat_map(|f| &f.flows).all(|f| f.protocols == [PacketProtocol::Udp]),
        "{d:?}"
    );
}

#[test]
fn application_rules_are_checked_and_extra_targets_are_openings() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    // Removing the ASE FQDN tag rule uncovers it.
    let mut apps = plan.firewall.application_rule_collections.clone();
    apps[0].rules.retain(|r| r.name != "fw-ase-fqdn-tag");
    let report = prove_with(&env, &plan, &plan.firewall.network_rule_collections, &apps, None);
    assert_eq!(uncovered_ids(&report), BTreeSet::from(["fw-ase-fqdn-tag".to_string()]));
    // Dropping Http:80 from it uncovers only that protocol.
    let mut apps = plan.firewall.application_rule_collections.clone();
    let ase = apps[0].rules.iter_mut().find(|r| r.name == "fw-ase-fqdn-tag").unwrap();
    ase.protocols.retain(|p| p.protocol_type == ApplicationProtocolType::Https);
    let report = prove_with(&env, &plan, &plan.firewall.network_rule_collections, &apps, None);
    let d = blocked(&report, "fw-ase-fqdn-tag");
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("Http:80"), "{:?}", d[0].message);
    // A target `*` is an opening.
    let mut apps = plan.firewall.application_rule_collections.clone();
    let mut any = apps[0].rules[0].clone();
    any.name = "any-web".into();
    any.fqdn_tags.clear();
    any.target_fqdns = vec!["*".into()];
    apps[0].rules.push(any);
    let report = prove_with(&env, &plan, &plan.firewall.network_rule_collections, &apps, None);
    assert!(!report.ok && uncovered_ids(&report).is_empty());
    assert_eq!(openings(&report).into_iter().map(rule_name).collect::<Vec<_>>(), ["any-web"]);
    // An application Deny collection ahead of ours denies what it matches.
    let mut apps = plan.firewall.application_rule_collections.clone();
    let mut deny = apps[0].clone();
    deny.name = "deny-microsoft".into();
    deny.priority = 100;
    deny.action = FirewallAction::Deny;
    let mut rule = deny.rules[0].clone();
    rule.name = "deny-ms".into();
    rule.fqdn_tags.clear();
    rule.target_fqdns = vec!["*.microsoft.com".into()];
    deny.rules = vec![rule];
    apps.push(deny);
    let report = prove_with(&env, &plan, &plan.firewall.network_rule_collections, &apps, None);
    let denied = uncovered_ids(&report);
    assert!(denied.contains("fw-fqdn-go-microsoft-com") && denied.contains("fw-fqdn-wildcard-update-microsoft-com"));
    assert!(!denied.contains("fw-fqdn-login-microsoftonline-com") && !denied.contains("fw-ase-fqdn-tag"));
}

#[test]
fn the_nsg_is_checked_too() {
    let env = firewall_env_with_dns(&["10.10.0.4", "192.168.50.4"]);
    let plan = compiled(&env);
    let nsg = [SecurityRule {
        name: "deny-everything-out".into(),
        priority: 100,
        direction: Direction::Outbound,
        access: Access::Deny,
        protocol: Protocol::Any,
        source: AddressMatch::Any,
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Any,
        destination_ports: vec![PortRange::ANY],
        is_default: false,
    }];
    let report = prove_with(
        &env,
        &plan,
        &plan.firewall.network_rule_collections,
        &plan.firewall.application_rule_collections,
        Some(&nsg),
    );
    assert!(!report.ok);
    // Every dependency is blocked, the DNS servers' too for 192.168.50.4 (its flows to 10.10.0.4,
    // inside the VNet, never meet the firewall).
    let nsg_blocked: BTreeSet<String> = report
        .of_kind(FindingKind::NsgBlocksDependency)
        .flat_map(|f| f.requirements.clone())
        .collect();
    assert!(report.of_kind(FindingKind::NsgBlocksDependency).all(|f| !f.flows.is_empty()));
    // Each names the NSG rule that denies it: the one rule above every default.
    for f in report.of_kind(FindingKind::NsgBlocksDependency) {
        assert!(f.message.ends_with(" (denied by NSG rule deny-everything-out)"), "{}", f.message);
        assert_eq!(f.related_rules, ["deny-everything-out"]);
    }
    assert!(uncovered_ids(&report).is_empty(), "the firewall itself allows every dependency");
    let all: BTreeSet<String> = report.coverage.iter().map(|c| c.id.clone()).collect();
    assert!(all.contains("fw-net-custom-dns-53"));
    assert_eq!(nsg_blocked, all);
}

// ---------- limits and missing tags ----------

/// The public firewall environment with one outbound destination of `n` addresses no two of which
/// aggregate: 4 sources x (n + the nine platform destinations) pairs.
fn pairs_env(n: u32) -> Result<plan::Plan, Vec<ise_model::diag::Diagnostic>> {
    let mut v: Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["forcedTunneling"] = firewall();
    let prefixes: Vec<String> = (0..n)
        .map(|i| std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)) + 2 * i).to_string())
        .collect();
    v["outboundDestinations"] = serde_json::json!([{ "name": "many", "prefixes": prefixes, "ports": ["443"] }]);
    let env = env::load(&v.to_string(), "t").env.unwrap();
    plan::build(&env, ServiceTags::embedded(env.cloud), None)
}

#[test]
fn exactly_twenty_thousand_pairs_compile_and_four_more_do_not() {
    // 4 x (4,991 + 9) = 20,000 is Azure's limit; one more address adds four pairs (one per subnet).
    // So many destination addresses are past the NSG's own limit of 4,000 (E1007) as well, which
    // is reported beside: the firewall's limit is what this test counts.
    let nsg_only = |d: &ise_model::diag::Diagnostic| d.code == "E1007";
    let at_limit = pairs_env(4991).unwrap_err();
    assert!(at_limit.iter().all(nsg_only), "{at_limit:?}");
    let diags: Vec<_> = pairs_env(4992).unwrap_err().into_iter().filter(|d| !nsg_only(d)).collect();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, "E1004");
    assert!(
        diags[0]
            .message
            .ends_with("unique source/destinations in network rules: 20004 where Azure allows 20000"),
        "{diags:?}"
    );
}

#[test]
fn a_tag_missing_from_the_file_is_e0904() {
    let env = firewall_env(CloudId::Public, "westus2");
    let mut file: Value = serde_json::from_str(ise_model::data::SERVICE_TAGS_PUBLIC).unwrap();
    file["values"].as_array_mut().unwrap().retain(|v| v["name"] != "AzureKeyVault");
    let tags = ServiceTags::parse(&file.to_string()).unwrap();
    let diags = plan::build(&env, &tags, None).unwrap_err();
    assert!(
        diags.iter().any(|d| d.code == "E0904" && d.message.contains("fw-net-keyvault-443")),
        "{diags:?}"
    );
}

// ---------- other modes, artifacts ----------

fn artifact(plan: &Plan, name: &str) -> Value {
    let a = render_all(plan).into_iter().find(|a| a.file_name == name).unwrap();
    serde_json::from_str(&a.contents).unwrap()
}

#[test]
fn other_modes_have_empty_collections_and_still_both_files() {
    for mode in [serde_json::json!({"mode": "none"}), serde_json::json!({"mode": "expressRoute"})] {
        let env = environment(CloudId::Public, "westus2", mode);
        let plan = compiled(&env);
        assert!(plan.firewall.dependencies.is_empty());
        assert!(plan.firewall.network_rule_collections.is_empty() && plan.firewall.application_rule_collections.is_empty());
        let policy = artifact(&plan, "firewall-policy.json");
        assert_eq!(policy["resources"][0]["properties"]["ruleCollections"], serde_json::json!([]));
        let classic = artifact(&plan, "firewall-classic.json");
        assert_eq!(classic["applicationRuleCollections"], serde_json::json!([]));
        assert_eq!(classic["networkRuleCollections"], serde_json::json!([]));
        let plan_json = artifact(&plan, "plan.json");
        assert_eq!(plan_json["firewall"]["dependencies"], serde_json::json!([]));
    }
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn subset(v: &Value, allowed: &[&str], what: &str) {
    let extra: Vec<&str> = keys(v).into_iter().filter(|k| !allowed.contains(k)).collect();
    assert!(extra.is_empty(), "{what}: {extra:?} are not properties of the ARM schema");
}

/// Property names from Microsoft.Network.NRP.json (2023-11-01).
const POLICY_NETWORK_RULE: &[&str] = &[
    "name",
    "description",
    "ruleType",
    "ipProtocols",
    "sourceAddresses",
    "sourceIpGroups",
    "destinationAddresses",
    "destinationIpGroups",
    "destinationFqdns",
    "destinationPorts",
];
const POLICY_APPLICATION_RULE: &[&str] = &[
    "name",
    "description",
    "ruleType",
    "protocols",
    "sourceAddresses",
    "sourceIpGroups",
    "destinationAddresses",
    "fqdnTags",
    "targetFqdns",
    "targetUrls",
    "terminateTLS",
    "webCategories",
    "httpHeadersToInsert",
];
const CLASSIC_NETWORK_RULE: &[&str] = &[
    "name",
    "description",
    "protocols",
    "sourceAddresses",
    "sourceIpGroups",
    "destinationAddresses",
    "destinationIpGroups",
    "destinationFqdns",
    "destinationPorts",
];
const CLASSIC_APPLICATION_RULE: &[&str] = &[
    "name",
    "description",
    "protocols",
    "sourceAddresses",
    "sourceIpGroups",
    "fqdnTags",
    "targetFqdns",
];

#[test]
fn both_files_have_the_arm_shapes() {
    for (cloud, location) in CLOUDS {
        let env = firewall_env(cloud, location);
        let plan = compiled(&env);
        let policy = artifact(&plan, "firewall-policy.json");
        assert_eq!(
            policy["$schema"],
            "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
        );
        // deploymentTemplate.json (2019-04-01) allows only these top-level properties.
        subset(
            &policy,
            &[
                "$schema",
                "apiProfile",
                "contentVersion",
                "functions",
                "metadata",
                "outputs",
                "parameters",
                "resources",
                "variables",
            ],
            "template",
        );
        assert_eq!(keys(&policy["parameters"]), BTreeSet::from(["firewallPolicyName"]));
        subset(
            &policy["parameters"]["firewallPolicyName"],
            &["type", "defaultValue", "allowedValues", "metadata"],
            "parameter",
        );
        assert_eq!(policy["parameters"]["firewallPolicyName"]["type"], "string");
        let group = &policy["resources"][0];
        assert_eq!(policy["resources"].as_array().unwrap().len(), 1);
        assert_eq!(group["type"], "Microsoft.Network/firewallPolicies/ruleCollectionGroups");
        assert_eq!(group["apiVersion"], "2023-11-01");
        // A group of the ISE's own by default (`<name>-dependencies`): a hub's policy is shared.
        assert_eq!(
            group["name"],
            format!("[concat(parameters('firewallPolicyName'), '/{}-dependencies')]", env.name)
        );
        assert_eq!(group["properties"]["priority"], 500);
        subset(group, &["type", "apiVersion", "name", "properties"], "group");
        let collections = group["properties"]["ruleCollections"].as_array().unwrap();
        assert_eq!(collections.len(), 3, "network, destinations, application");
        let mut rules = 0;
        for c in collections {
            subset(c, &["ruleCollectionType", "name", "priority", "action", "rules"], "collection");
            assert_eq!(c["ruleCollectionType"], "FirewallPolicyFilterRuleCollection");
            assert_eq!(c["action"], serde_json::json!({"type": "Allow"}));
            for r in c["rules"].as_array().unwrap() {
                rules += 1;
                match r["ruleType"].as_str().unwrap() {
                    "NetworkRule" => {
                        subset(r, POLICY_NETWORK_RULE, "policy network rule");
                        for p in r["ipProtocols"].as_array().unwrap() {
                            assert!(["TCP", "UDP", "Any", "ICMP"].contains(&p.as_str().unwrap()));
                        }
                    }
                    "ApplicationRule" => {
                        subset(r, POLICY_APPLICATION_RULE, "policy application rule");
                        for p in r["protocols"].as_array().unwrap() {
                            assert!(["Http", "Https"].contains(&p["protocolType"].as_str().unwrap()));
                            assert!(p["port"].as_u64().unwrap() <= 64000);
                        }
                    }
                    other => panic!("{other}"),
                }
            }
        }
        // One rule per dependency but the custom DNS servers', all inside the VNet here.
        assert_eq!(rules, plan.firewall.dependencies.len() - 1);

        let classic = artifact(&plan, "firewall-classic.json");
        subset(
            &classic,
            &["$comment", "applicationRuleCollections", "networkRuleCollections"],
            "classic",
        );
        for (field, allowed) in [
            ("networkRuleCollections", CLASSIC_NETWORK_RULE),
            ("applicationRuleCollections", CLASSIC_APPLICATION_RULE),
        ] {
            for c in classic[field].as_array().unwrap() {
                subset(c, &["name", "properties"], "classic collection");
                subset(&c["properties"], &["priority", "action", "rules"], "classic collection properties");
                for r in c["properties"]["rules"].as_array().unwrap() {
                    subset(r, allowed, field);
                    if field == "networkRuleCollections" {
                        assert!(r["protocols"].as_array().unwrap().iter().all(|p| p.is_string()));
                    }
                }
            }
        }
        // The same rules in both forms.
        let names = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .flat_map(|c| {
                    c["properties"]["rules"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["name"].as_str().unwrap().to_string())
                })
                .collect()
        };
        let mut classic_names = names(&classic["networkRuleCollections"]);
        classic_names.extend(names(&classic["applicationRuleCollections"]));
        let policy_names: BTreeSet<String> = collections
            .iter()
            .flat_map(|c| {
                c["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["name"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(classic_names, policy_names);
    }
}

#[test]
fn rendering_is_deterministic() {
    for (cloud, location) in CLOUDS {
        let env = firewall_env(cloud, location);
        let a = render_all(&compiled(&env));
        let b = render_all(&compiled(&env));
        assert_eq!(a, b);
        assert!(a.iter().any(|x| x.file_name == "firewall-policy.json") && a.iter().any(|x| x.file_name == "firewall-classic.json"));
        let names: Vec<&str> = a.iter().map(|x| x.file_name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}

#[test]
fn dependencies_serialise_with_their_kind_and_provenance() {
    let env = firewall_env(CloudId::Public, "westus2");
    let plan = compiled(&env);
    let v = artifact(&plan, "plan.json");
    let deps = v["firewall"]["dependencies"].as_array().unwrap();
    let ntp = deps.iter().find(|d| d["id"] == "fw-net-ntp-123").unwrap();
    assert_eq!(ntp["collection"], "network");
    assert_eq!(ntp["destination"]["type"], "any");
    assert_eq!(ntp["reference"], "ase-firewall-dependencies.csv:7+27");
    let tag = deps.iter().find(|d| d["id"] == "fw-ase-fqdn-tag").unwrap();
    assert_eq!(tag["collection"], "application");
    assert_eq!(tag["reference"], "requirements.csv:fw-ase-fqdn-tag");
    assert!(plan.firewall.dependencies.iter().all(|d| match &d.target {
        DependencyTarget::Network { destination, .. } =>
            !matches!(destination, NetworkDestination::Prefixes { prefixes, .. } if prefixes.is_empty()),
        DependencyTarget::Application { destination, .. } => match destination {
            ApplicationDestination::Fqdn { name } | ApplicationDestination::FqdnTag { name } => !name.is_empty(),
        },
    }));
}

/// The change ticket names the rule collection group and its priority as firewall-policy.json
/// writes them: a firewall team places the group among the policy's others by that priority, as
/// Azure Firewall processes groups (lower number first; network rules before application rules).
#[test]
fn the_change_ticket_names_the_rule_collection_group_and_its_priority() {
    let plan = compiled(&firewall_env_with_dns(&[]));
    let artifacts = rules_compiler::render::render_everything(&plan, ServiceTags::embedded(CloudId::Public));
    let policy: Value = serde_json::from_str(&artifacts.iter().find(|a| a.file_name == "firewall-policy.json").unwrap().contents).unwrap();
    let group = &policy["resources"][0];
    let name = group["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches("')]")
        .to_string();
    let priority = group["properties"]["priority"].as_u64().unwrap();
    let ticket = change_ticket(&plan);
    let expected = format!(
        "- Firewall policy: the rules are one rule collection group, `{name}`, at priority {priority}, added to the existing policy."
    );
    assert!(ticket.contains(&expected), "{expected}\n{ticket}");
    assert!(
        ticket.contains(&format!(
            "a network Deny in a group numbered below {priority} overrides these network rules"
        )),
        "{ticket}"
    );
}
