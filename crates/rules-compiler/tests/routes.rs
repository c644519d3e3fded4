//! The route table, proved with longest-prefix match: for every tunneling mode, cloud and region,
//! every dependency address reaches Internet, other traffic goes where the mode says, and the
//! table stays within Azure's limits.

use ise_model::cloud::CloudId;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env::{self, Environment};
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use rules_compiler::azure::route::RouteEntry;
use rules_compiler::azure::route::{NextHop, MAX_ROUTES, MAX_TAG_ROUTES};
use rules_compiler::plan;
use rules_compiler::prove::findings::FindingKind;
use rules_compiler::prove::routes::{prove, prove_table};

fn environment(cloud: CloudId, location: &str, mode: serde_json::Value) -> Environment {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["cloud"] = cloud.as_str().into();
    v["location"] = location.into();
    v["forcedTunneling"] = mode;
    let loaded = env::load(&v.to_string(), "t");
    loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
}

fn firewall() -> serde_json::Value {
    serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"})
}

fn entries(plan: &plan::Plan) -> Vec<RouteEntry> {
    plan.routes.iter().map(|r| r.entry()).collect()
}

fn usable_locations() -> Vec<(CloudId, String)> {
    ise_model::iplists::deployable_locations()
        .into_iter()
        .map(|l| (l.cloud, l.name.clone()))
        .collect()
}

#[test]
fn expressroute_is_one_default_route_to_internet() {
    let env = environment(CloudId::Public, "westus2", serde_json::json!({"mode": "expressRoute"}));
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    assert_eq!(plan.routes.len(), 1);
    assert_eq!(
        (plan.routes[0].address_prefix.as_str(), plan.routes[0].next_hop_type),
        ("0.0.0.0/0", NextHop::Internet)
    );
    // The service endpoints are for a firewall (seed 002), not for the direct route to the Internet.
    assert!(plan.subnets.iter().all(|s| s.route_table && s.service_endpoints.is_empty()));
}

#[test]
fn mode_none_has_no_routes_and_no_service_endpoints() {
    let env = environment(CloudId::Public, "westus2", serde_json::json!({"mode": "none"}));
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    assert!(plan.routes.is_empty());
    assert!(plan.subnets.iter().all(|s| !s.route_table && s.service_endpoints.is_empty()));
    assert_eq!(plan.subnets.iter().filter(|s| s.delegated).count(), 1);
}

#[test]
fn a_missing_dependency_route_is_caught() {
    let env = environment(CloudId::Public, "westus2", firewall());
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    let routes: Vec<RouteEntry> = entries(&plan)
        .into_iter()
        .filter(|r| r.address_prefix != "AzureTrafficManager")
        .collect();
    let report = prove(&routes, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(!report.ok);
    let tm = report.coverage.iter().find(|c| c.id == "route-traffic-manager").unwrap();
    assert!(!tm.covered);
    let wrong: Vec<_> = report
        .of_kind(FindingKind::WrongNextHop)
        .filter(|f| f.requirements == ["route-traffic-manager"])
        .collect();
    // Traffic Manager's addresses now take the default route to the firewall.
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert_eq!(wrong[0].rule.as_ref().unwrap().name, "route-firewall-default");
    assert!(wrong[0].message.contains("VirtualAppliance 10.10.2.4"), "{}", wrong[0].message);
    let tm_tag: Vec<ipnet::Ipv4Net> = ServiceTags::embedded(env.cloud).get("AzureTrafficManager").unwrap().ipv4();
    assert_eq!(wrong[0].addresses, ipnet::Ipv4Net::aggregate(&tm_tag));
}

#[test]
fn a_default_route_to_internet_in_firewall_mode_is_caught() {
    let env = environment(CloudId::Public, "westus2", firewall());
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    let mut routes = entries(&plan);
    routes[0].next_hop_type = rules_compiler::azure::route::NextHop::Internet;
    routes[0].next_hop_ip_address = None;
    let report = prove(&routes, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(report.coverage.iter().any(|c| c.id == "other-traffic-to-firewall" && !c.covered));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_region_and_mode_routes_dependencies_to_internet(loc in proptest::sample::select(usable_locations()), mode in 0u8..3) {
        let mode = match mode { 0 => serde_json::json!({"mode": "none"}), 1 => serde_json::json!({"mode": "expressRoute"}), _ => firewall() };
        let env = environment(loc.0, &loc.1, mode);
        let tags = ServiceTags::embedded(env.cloud);
        let plan = plan::build(&env, tags, None).unwrap();
        prop_assert!(plan.routes.len() <= MAX_ROUTES);
        prop_assert!(plan.routes.iter().filter(|r| r.address_prefix.parse::<ipnet::Ipv4Net>().is_err()).count() <= MAX_TAG_ROUTES);
        let report = prove(&entries(&plan), &env, tags, &plan.requirements);
        prop_assert!(report.ok, "{:?}", report.findings);
    }
}

fn route(name: &str, prefix: &str, hop: NextHop, ip: Option<&str>) -> RouteEntry {
    RouteEntry {
        name: name.into(),
        address_prefix: prefix.into(),
        next_hop_type: hop,
        next_hop_ip_address: ip.map(|a| a.parse().unwrap()),
    }
}

#[test]
fn expressroute_without_the_user_default_route_goes_to_the_gateway_over_bgp() {
    // ExpressRoute advertises 0.0.0.0/0 over BGP; it beats the system default route, so without a
    // user 0.0.0.0/0 to Internet everything outside the private ranges goes on-premises.
    let env = environment(CloudId::Public, "westus2", serde_json::json!({"mode": "expressRoute"}));
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    let private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
    let routes: Vec<RouteEntry> = private
        .iter()
        .enumerate()
        .map(|(i, p)| route(&format!("private-{i}"), p, NextHop::Internet, None))
        .collect();
    let report = prove(&routes, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(!report.ok);
    assert!(report.coverage.iter().any(|c| c.id == "other-traffic-to-internet" && !c.covered));
    let wrong: Vec<_> = report.of_kind(FindingKind::WrongNextHop).collect();
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert!(
        wrong[0].message.ends_with(
            "addresses of other-traffic-to-internet go to VirtualNetworkGateway via bgp: 0.0.0.0/0 from ExpressRoute instead of Internet"
        ),
        "{}",
        wrong[0].message
    );
    // Internet addresses go on-premises; the private ranges stay on their user routes.
    let bgp = ipnet::Ipv4Net::aggregate(&wrong[0].addresses);
    let holds = |a: &str| bgp.iter().any(|n| n.contains(&a.parse::<std::net::Ipv4Addr>().unwrap()));
    assert!(holds("203.0.113.10") && holds("8.8.8.8"));
    assert!(!holds("10.20.0.1") && !holds("172.16.0.1") && !holds("192.168.1.1") && !holds("100.64.0.1"));
    assert!(wrong[0].rule.is_none(), "BGP is no route of the table");

    // The user 0.0.0.0/0 to Internet beats the BGP route of the same prefix.
    let mut with_default = routes.clone();
    with_default.push(route("default", "0.0.0.0/0", NextHop::Internet, None));
    let report = prove(&with_default, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(report.ok, "{:?}", report.findings);
    // A table that disables BGP propagation keeps the ExpressRoute default off the subnets: the
    // system default sends Internet-bound traffic to the Internet without the user route.
    let report = prove_table(&routes, false, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(report.ok, "{:?}", report.findings);
}

#[test]
fn in_vnet_requirements_must_stay_vnet_local() {
    // A /24 user route beats the address space's /16 VnetLocal route: the ISE subnets' traffic to
    // each other and to the custom DNS server (10.10.0.4) no longer stays in the VNet.
    let env = environment(CloudId::Public, "westus2", firewall());
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    assert!(prove(&entries(&plan), &env, ServiceTags::embedded(env.cloud), &plan.requirements).ok);
    let mut routes = entries(&plan);
    routes.push(route(
        "isesubnets-to-fw",
        "10.10.1.0/24",
        NextHop::VirtualAppliance,
        Some("10.10.2.4"),
    ));
    routes.push(route("dns-blackhole", "10.10.0.0/24", NextHop::None, None));
    let report = prove(&routes, &env, ServiceTags::embedded(env.cloud), &plan.requirements);
    assert!(!report.ok);
    let wrong = |id: &str| -> Vec<(String, Vec<String>)> {
        report
            .of_kind(FindingKind::WrongNextHop)
            .filter(|f| f.requirements == [id])
            .map(|f| {
                (
                    f.rule.as_ref().unwrap().name.clone(),
                    f.addresses.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect()
    };
    let subnets = vec![("isesubnets-to-fw".to_string(), vec!["10.10.1.0/25".to_string()])];
    assert_eq!(wrong("out-intersubnet"), subnets);
    assert_eq!(wrong("out-redis-6379-6383"), subnets);
    assert_eq!(
        wrong("out-dns-53"),
        vec![("dns-blackhole".to_string(), vec!["10.10.0.4/32".to_string()])]
    );
}
