//! The port tables of the 2021 ISE article (table version 2021 in data/table-versions.csv) restated by hand, independently of data/requirements.csv, and checked
//! against what the model resolves for every access endpoint and cloud. If a row is dropped,
//! mistyped or given the wrong condition in data/, this fails.

use ise_model::cloud::CloudId;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env::{self, Environment};
use ise_model::ports::{normalise, parse_list};
use ise_model::requirement::{Kind, Protocol};
use ise_model::resolve::{resolve, Peer, Resolved};

/// How a seed row names a peer.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The NSG service tag (and, in Government, the three Logic Apps tags become published lists).
    Tag(&'static str),
    /// "Address space for the virtual network with ISE subnets".
    VnetSpace,
    /// The region's managed connector outbound addresses.
    ConnectorIps,
    /// The custom DNS servers.
    CustomDns,
}

struct SeedRow {
    kind: Kind,
    source: Expect,
    destination: Expect,
    ports: &'static str,
    /// None: both endpoints; Some(true): internal ISE only; Some(false): external only.
    internal_only: Option<bool>,
}

const fn row(kind: Kind, source: Expect, destination: Expect, ports: &'static str, internal_only: Option<bool>) -> SeedRow {
    SeedRow {
        kind,
        source,
        destination,
        ports,
        internal_only,
    }
}

use Expect::*;
use Kind::{Inbound as In, Outbound as Out};

/// The 2021 ISE article, "Inbound security rules", "Outbound security rules", the external-ISE NSG step, and
/// the DNS row (custom DNS is set in the environments below).
const SEED_ROWS: &[SeedRow] = &[
    row(In, VnetSpace, VnetSpace, "*", None),
    row(In, Tag("VirtualNetwork"), Tag("VirtualNetwork"), "443", Some(true)),
    row(In, Tag("Internet"), Tag("VirtualNetwork"), "443", Some(false)),
    row(In, Tag("LogicAppsManagement"), Tag("VirtualNetwork"), "454", None),
    row(In, Tag("LogicApps"), Tag("VirtualNetwork"), "454", None),
    row(In, Tag("AzureConnectors"), Tag("VirtualNetwork"), "454", None),
    row(In, Tag("AppServiceManagement"), Tag("VirtualNetwork"), "454,455", None),
    row(In, Tag("AzureTrafficManager"), Tag("VirtualNetwork"), "454", Some(true)),
    row(In, Tag("AzureTrafficManager"), Tag("VirtualNetwork"), "443", Some(false)),
    row(In, Tag("ApiManagement"), Tag("VirtualNetwork"), "3443", None),
    row(In, Tag("VirtualNetwork"), Tag("VirtualNetwork"), "6379-6383", None),
    row(In, ConnectorIps, VnetSpace, "*", Some(false)),
    row(Out, VnetSpace, VnetSpace, "*", None),
    row(Out, Tag("VirtualNetwork"), Tag("AzureActiveDirectory"), "80,443", None),
    row(Out, Tag("VirtualNetwork"), Tag("Storage"), "80,443,445", None),
    row(Out, Tag("VirtualNetwork"), Tag("AppService"), "443", None),
    row(Out, Tag("VirtualNetwork"), Tag("AzureMonitor"), "443", None),
    row(Out, Tag("VirtualNetwork"), Tag("Sql"), "1433", None),
    row(Out, Tag("VirtualNetwork"), Tag("AzureMonitor"), "1886", None),
    row(Out, Tag("VirtualNetwork"), Tag("EventHub"), "5672", None),
    row(Out, Tag("VirtualNetwork"), Tag("VirtualNetwork"), "6379-6383", None),
    row(Out, Tag("VirtualNetwork"), CustomDns, "53", None),
];

fn environment(cloud: CloudId, location: &str, endpoint: &str) -> Environment {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["cloud"] = cloud.as_str().into();
    v["location"] = location.into();
    v["accessEndpoint"] = endpoint.into();
    v["customDnsServers"] = serde_json::json!(["10.10.0.4", "10.10.0.5"]);
    let loaded = env::load(&v.to_string(), "seed-test");
    loaded.env.unwrap_or_else(|| panic!("{cloud} {location}: {:?}", loaded.diagnostics))
}

/// Does the resolved peer match the seed's wording in this cloud?
fn peer_matches(expect: Expect, peer: &Peer, env: &Environment, known_gov_address: Option<&str>) -> bool {
    match (expect, peer) {
        // The tag itself, except for the three Logic Apps tags in Government.
        (Tag(t), Peer::Tag { name }) => {
            name == t && (env.cloud != CloudId::UsGovernment || !["LogicAppsManagement", "LogicApps", "AzureConnectors"].contains(&t))
        }
        // Government: the three Logic Apps tags do not work in NSGs; published addresses replace them.
        (Tag(t), Peer::Prefixes { prefixes, .. }) => {
            env.cloud == CloudId::UsGovernment
                && ["LogicAppsManagement", "LogicApps", "AzureConnectors"].contains(&t)
                && known_gov_address.is_some_and(|a| prefixes.contains(&a.parse().unwrap()))
        }
        (VnetSpace, Peer::Prefixes { prefixes, .. }) => *prefixes == env.virtual_network.address_space,
        (CustomDns, Peer::Prefixes { prefixes, .. }) => prefixes.iter().map(|p| p.addr()).eq(env.custom_dns_servers.iter().copied()),
        (ConnectorIps, Peer::Prefixes { prefixes, .. }) => match env.cloud {
            // From the published "Managed connectors IP" column of the Logic Apps limits page.
            CloudId::Public => prefixes.contains(&"52.191.164.250/32".parse().unwrap()),
            CloudId::UsGovernment => prefixes.contains(&"52.127.42.128/28".parse().unwrap()),
            CloudId::China => false,
        },
        // China publishes no connector list: the regional tag stands in.
        (ConnectorIps, Peer::Tag { name }) => env.cloud == CloudId::China && name.starts_with("AzureConnectors."),
        _ => false,
    }
}

/// A published Government Virginia address each replaced tag must include (Logic Apps limits page,
/// "Azure Government" tables).
fn gov_address(tag: Expect) -> Option<&'static str> {
    match tag {
        Tag("LogicAppsManagement") => Some("52.227.159.157/32"),
        Tag("LogicApps") => Some("13.72.54.205/32"),
        Tag("AzureConnectors") => Some("52.227.143.61/32"),
        _ => None,
    }
}

fn find<'a>(reqs: &'a [Resolved], seed: &SeedRow, env: &Environment) -> Option<&'a Resolved> {
    let ports = normalise(&parse_list(seed.ports).unwrap());
    reqs.iter().find(|r| {
        r.kind == seed.kind
            && r.protocol == Some(Protocol::Any)
            && normalise(&r.ports) == ports
            && peer_matches(seed.source, &r.source, env, gov_address(seed.source))
            && peer_matches(seed.destination, &r.destination, env, gov_address(seed.destination))
    })
}

#[test]
fn every_seed_row_is_resolved_for_each_endpoint_and_cloud() {
    for (cloud, location) in [
        (CloudId::Public, "westus2"),
        (CloudId::UsGovernment, "usgovvirginia"),
        (CloudId::China, "chinanorth2"),
    ] {
        for endpoint in ["internal", "external"] {
            let env = environment(cloud, location, endpoint);
            let reqs = resolve(&env, None);
            for seed in SEED_ROWS {
                let wanted = seed.internal_only.is_none_or(|internal| internal == (endpoint == "internal"));
                let found = find(&reqs, seed, &env);
                assert_eq!(
                    found.is_some(),
                    wanted,
                    "{cloud} {endpoint}: {:?} {:?} -> {:?} {} (found {found:?})",
                    seed.kind,
                    seed.source,
                    seed.destination,
                    seed.ports
                );
            }
        }
    }
}

#[test]
fn external_callers_replace_the_internet_source() {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["accessEndpoint"] = "external".into();
    v["externalCallers"] = serde_json::json!(["198.51.100.0/24"]);
    let env = env::load(&v.to_string(), "t").env.unwrap();
    let reqs = resolve(&env, None);
    let r = reqs.iter().find(|r| r.id == "in-triggers-443-external").unwrap();
    assert_eq!(
        r.source,
        Peer::Prefixes {
            label: "external callers".into(),
            prefixes: vec!["198.51.100.0/24".parse().unwrap()]
        }
    );
}

#[test]
fn internal_callers_are_on_the_caller_row_of_both_endpoints_and_nowhere_else() {
    for (endpoint, mode) in [
        ("internal", "none"),
        ("internal", "expressRoute"),
        ("external", "none"),
        ("external", "expressRoute"),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
        v["accessEndpoint"] = endpoint.into();
        v["forcedTunneling"] = serde_json::json!({ "mode": mode });
        v["internalCallers"] = serde_json::json!(["172.16.0.0/16"]);
        let env = env::load(&v.to_string(), "t").env.unwrap();
        let caller: ipnet::Ipv4Net = "172.16.0.0/16".parse().unwrap();
        let names_caller = |p: &Peer| matches!(p, Peer::Prefixes { prefixes, .. } if prefixes.contains(&caller));
        let reqs = resolve(&env, None);
        let rows: Vec<&str> = reqs
            .iter()
            .filter(|r| names_caller(&r.source) || names_caller(&r.destination))
            .map(|r| r.id.as_str())
            .collect();
        // Without tunneling an internal ISE's caller row names VirtualNetwork, which holds them.
        let expected: &[&str] = if (endpoint, mode) == ("internal", "none") {
            &[]
        } else {
            &["in-triggers-443-internal"]
        };
        assert_eq!(rows, expected, "{endpoint} {mode}");
        let row = reqs.iter().find(|r| r.id == "in-triggers-443-internal").unwrap();
        assert_eq!(row.ports, [ise_model::ports::PortRange { lo: 443, hi: 443 }]);
        // Under tunneling no NSG row names VirtualNetwork (it would hold 0.0.0.0/0).
        if mode != "none" {
            let vnet = Peer::Tag {
                name: "VirtualNetwork".into(),
            };
            assert!(reqs.iter().all(|r| r.source != vnet && r.destination != vnet), "{endpoint} {mode}");
        }
    }
}

#[test]
fn older_table_versions_drop_later_rows() {
    let env = environment(CloudId::Public, "westus2", "external");
    let ids = |v: Option<&str>| resolve(&env, v).into_iter().map(|r| r.id).collect::<Vec<_>>();
    let baseline = ids(Some("2020-06-03"));
    // The DNS row arrived on 2020-09-25; seed 002 (the 2021 form, ms.date 04/21/2021) asks an
    // external ISE, under "Create your ISE", for an inbound rule from the managed connectors'
    // outbound IP addresses (ports *, to the VNet's address space); the certificate-check row
    // arrived on 2022-08-20.
    assert!(!baseline.contains(&"out-dns-53".to_string()));
    assert!(ids(Some("2020-09-25")).contains(&"out-dns-53".to_string()));
    assert!(!ids(Some("2020-09-25")).contains(&"in-connector-outbound-ips".to_string()));
    assert!(ids(Some("2021")).contains(&"in-connector-outbound-ips".to_string()));
    assert!(ids(None).contains(&"in-connector-outbound-ips".to_string()));
    assert!(!ids(Some("2021")).contains(&"out-cert-verify-80-443".to_string()));
    assert!(ids(None).contains(&"out-cert-verify-80-443".to_string()));
}

#[test]
fn forced_tunneling_rows_follow_the_mode() {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    let mut ids_for = |mode: serde_json::Value| {
        v["forcedTunneling"] = mode;
        let env = env::load(&v.to_string(), "t").env.unwrap();
        resolve(&env, None)
            .into_iter()
            .filter(|r| matches!(r.kind, Kind::Route | Kind::ServiceEndpoint | Kind::FirewallApplication))
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert!(ids_for(serde_json::json!({"mode": "none"})).is_empty());
    // ExpressRoute: only the 0.0.0.0/0 route to the Internet (seed 002); the service endpoints
    // belong to "forced tunneling through your firewall", whose traffic they keep off the firewall.
    let er = ids_for(serde_json::json!({"mode": "expressRoute"}));
    assert_eq!(er, ["route-expressroute-default"]);
    let fw = ids_for(serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.0.68"}));
    for id in [
        "route-firewall-default",
        "route-logicapps-ips",
        "route-connector-ips",
        "route-ase-mgmt",
        "route-traffic-manager",
        "route-apim-control-plane",
        "se-sql",
        "se-storage",
        "se-servicebus",
        "se-keyvault",
        "se-eventhub",
        "fw-ase-fqdn-tag",
    ] {
        assert!(fw.contains(&id.to_string()), "{id}: {fw:?}");
    }
    assert!(!fw.contains(&"route-expressroute-default".into()));
    // The published connector list's own route is an external ISE's (its NSG admits the list).
    assert!(!fw.contains(&"route-connector-outbound-ips".into()), "{fw:?}");
}
