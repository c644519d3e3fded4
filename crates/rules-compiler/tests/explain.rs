//! `explain` against the naive per-packet evaluator (engine/reference.rs), which shares no code with
//! the interval engine: for random NSGs over the example ISE (subnets 10.10.1.0/25) and random flows
//! (addresses, prefixes or tags; every NSG protocol; ports `*` or a range), each packet at the
//! corners of every piece an explanation names is decided by the rule the explanation names, and
//! every corner packet of the flow is in the explanation's allowed or denied part exactly as the
//! reference decides it (outbound at the source subnet, inbound at the destination subnet).

use ipnet::Ipv4Net;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use rules_compiler::engine::defaults::with_defaults;
use rules_compiler::engine::flows::FlowPiece;
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::reference;
use rules_compiler::engine::{Packet, PacketProtocol};
use rules_compiler::plan::{self, Plan};
use rules_compiler::prove::explain::{parse_protocol, Explainer, Flow, Inputs, Verdict};
use rules_compiler::prove::resolver::EnvResolver;
use std::net::Ipv4Addr;

fn example_plan() -> Plan {
    let loaded = env::load(EXAMPLE_ENVIRONMENT, "example");
    let env = loaded.env.expect("the example is valid");
    plan::build(&env, ServiceTags::embedded(env.cloud), None).expect("the example compiles")
}

/// Every NSG protocol, through the parser `--protocol` and the flows file use.
fn protocols() -> Vec<Protocol> {
    ["tcp", "udp", "icmp", "esp", "ah", "*"]
        .map(|p| parse_protocol(p).unwrap())
        .to_vec()
}

/// Addresses around the ISE subnets (10.10.1.0/25) and one outside block.
fn arb_prefix() -> impl Strategy<Value = Ipv4Net> {
    (prop_oneof![Just([10u8, 10, 1]), Just([203u8, 0, 113])], 0u8..=255, 24u8..=32)
        .prop_map(|(b, last, len)| Ipv4Net::new(Ipv4Addr::new(b[0], b[1], b[2], last), len).unwrap().trunc())
}

fn arb_address_match() -> impl Strategy<Value = AddressMatch> {
    prop_oneof![
        1 => Just(AddressMatch::Any),
        1 => prop_oneof![Just("Internet"), Just("VirtualNetwork"), Just("AzureLoadBalancer")].prop_map(|t| AddressMatch::Tag(t.into())),
        3 => proptest::collection::vec(arb_prefix(), 1..3).prop_map(AddressMatch::Prefixes),
    ]
}

/// `*` or a range within 0-60 (so random rules and flows overlap).
fn arb_ports() -> impl Strategy<Value = PortRange> {
    prop_oneof![
        1 => Just(PortRange::ANY),
        3 => (0u16..60, 0u16..10).prop_map(|(lo, w)| PortRange { lo, hi: lo + w }),
    ]
}

fn arb_rule() -> impl Strategy<Value = SecurityRule> {
    (
        any::<bool>(),
        any::<bool>(),
        0usize..6,
        arb_address_match(),
        arb_address_match(),
        arb_ports(),
    )
        .prop_map(|(inbound, allow, p, source, destination, port)| SecurityRule {
            name: String::new(),
            priority: 0,
            direction: if inbound { Direction::Inbound } else { Direction::Outbound },
            access: if allow { Access::Allow } else { Access::Deny },
            protocol: protocols()[p],
            source,
            source_ports: vec![PortRange::ANY],
            destination,
            destination_ports: vec![port],
            is_default: false,
        })
}

fn arb_rules() -> impl Strategy<Value = Vec<SecurityRule>> {
    proptest::collection::vec(arb_rule(), 0..8).prop_map(|mut rules| {
        for (i, r) in rules.iter_mut().enumerate() {
            r.name = format!("r{i}");
            r.priority = 100 + 10 * i as u32;
        }
        rules
    })
}

fn arb_endpoint() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => arb_prefix().prop_map(|p| p.to_string()),
        2 => (0u8..=255).prop_map(|l| format!("10.10.1.{l}")),
        1 => prop_oneof![Just("Internet".to_string()), Just("VirtualNetwork".to_string())],
    ]
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    (arb_endpoint(), arb_endpoint(), 0usize..6, arb_ports()).prop_map(|(from, to, p, ports)| {
        let protocol = protocols()[p];
        let portless = matches!(protocol, Protocol::Icmp | Protocol::Esp | Protocol::Ah);
        Flow {
            from,
            to,
            protocol,
            ports: if portless { PortRange::ANY } else { ports },
        }
    })
}

/// The corner packets of a piece: first and last source and destination address, and port.
fn corners(piece: &FlowPiece) -> Vec<Packet> {
    let ends = |nets: &[Ipv4Net]| -> Vec<Ipv4Addr> { nets.iter().flat_map(|n| [n.network(), n.broadcast()]).collect() };
    let ports: Vec<u16> = piece.dst_ports.iter().flat_map(|r| [r.lo, r.hi]).collect();
    let mut out = Vec::new();
    for &protocol in &piece.protocols {
        for &src in &ends(&piece.src) {
            for &dst in &ends(&piece.dst) {
                for &dst_port in &ports {
                    out.push(Packet {
                        protocol,
                        src,
                        src_port: 1234,
                        dst,
                        dst_port,
                    });
                }
            }
        }
    }
    out
}

fn piece_contains(piece: &FlowPiece, p: &Packet) -> bool {
    piece.protocols.contains(&p.protocol)
        && piece.src.iter().any(|n| n.contains(&p.src))
        && piece.dst.iter().any(|n| n.contains(&p.dst))
        && (!p.protocol.has_ports() || piece.dst_ports.iter().any(|r| r.lo <= p.dst_port && p.dst_port <= r.hi))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn explain_agrees_with_the_reference_evaluator(rules in arb_rules(), flow in arb_flow()) {
        let plan = example_plan();
        let tags = ServiceTags::embedded(plan.environment.cloud);
        let explainer = Explainer::new(&Inputs { plan: &plan, tags, rules: &rules, udr_prefixes: &[], routes: None, firewall: None, firewall_doubts: Default::default() });
        let resolver = EnvResolver::new(&plan.environment, tags, &[]);
        let all = with_defaults(&rules);
        let subnets: Vec<Ipv4Net> = plan.environment.subnet_prefixes();
        let in_subnets = |a: Ipv4Addr| subnets.iter().any(|n| n.contains(&a));
        let e = match explainer.explain(&flow) {
            Ok(e) => e,
            Err(d) => {
                // Only a flow with no end in the subnets has nothing to explain.
                prop_assert_eq!(d.iter().map(|d| d.code).collect::<Vec<_>>(), ["E1302"]);
                return Ok(());
            }
        };
        // Each piece is decided by the named rule, for every corner packet.
        // Outbound to the platform's two addresses NSGs do not filter (azure-semantics.md).
        let platform = |p: &Packet| rules_compiler::prove::resolver::UNFILTERED.contains(&p.dst);
        for d in &e.decisions {
            for piece in &d.flows {
                for p in corners(piece) {
                    if d.unfiltered {
                        prop_assert!(d.direction == Direction::Outbound && platform(&p) && d.access == Access::Allow, "{:?}", p);
                        continue;
                    }
                    let decider = reference::decide(&all, &resolver, d.direction, &p).map(|i| all[i].name.clone());
                    prop_assert_eq!(&decider, &d.rule, "{:?} {:?}", d.direction, p);
                }
            }
        }
        // The verdict and the allowed/denied parts agree with the reference, packet by packet.
        let mut seen_allowed = false;
        let mut seen_denied = false;
        let pieces: Vec<&FlowPiece> = e.decisions.iter().flat_map(|d| &d.flows).collect();
        for piece in pieces {
            for p in corners(piece) {
                let out_ok = !in_subnets(p.src) || platform(&p) || reference::access(&all, &resolver, Direction::Outbound, &p) == Access::Allow;
                let in_ok = !in_subnets(p.dst) || reference::access(&all, &resolver, Direction::Inbound, &p) == Access::Allow;
                let allowed = out_ok && in_ok;
                seen_allowed |= allowed;
                seen_denied |= !allowed;
                prop_assert_eq!(e.allowed.iter().any(|x| piece_contains(x, &p)), allowed, "{:?}", p);
                prop_assert_eq!(e.denied.iter().any(|x| piece_contains(x, &p)), !allowed, "{:?}", p);
            }
        }
        match e.verdict {
            Verdict::Allow => prop_assert!(!seen_denied),
            Verdict::Deny => prop_assert!(!seen_allowed),
            Verdict::Mixed => prop_assert!(!e.allowed.is_empty() && !e.denied.is_empty()),
        }
        prop_assert!(e.path.is_empty(), "no path without tunneling");
        // Protocols without ports keep them out of every piece.
        if flow.protocol != Protocol::Any && flow.protocol != Protocol::Tcp && flow.protocol != Protocol::Udp {
            let only = [match flow.protocol { Protocol::Icmp => PacketProtocol::Icmp, Protocol::Esp => PacketProtocol::Esp, _ => PacketProtocol::Ah }];
            prop_assert!(e.decisions.iter().flat_map(|d| &d.flows).all(|f| f.protocols == only));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The change ticket's one-dimensional question (one TCP packet, the remote address running
    /// over an endpoint): the decisions split the endpoint's addresses (less the platform's,
    /// outbound) without overlap, and the reference names the same rule at both ends of every
    /// interval each decision holds.
    #[test]
    fn decide_remote_agrees_with_the_reference_evaluator(
        rules in arb_rules(),
        remote in arb_endpoint(),
        local_host in 0u8..128,
        port in 0u16..70,
        inbound in any::<bool>(),
    ) {
        let plan = example_plan();
        let tags = ServiceTags::embedded(plan.environment.cloud);
        let explainer = Explainer::nsg_only(&Inputs { plan: &plan, tags, rules: &rules, udr_prefixes: &[], routes: None, firewall: None, firewall_doubts: Default::default() });
        let resolver = EnvResolver::new(&plan.environment, tags, &[]);
        let all = with_defaults(&rules);
        let direction = if inbound { Direction::Inbound } else { Direction::Outbound };
        let local = std::net::SocketAddrV4::new(Ipv4Addr::new(10, 10, 1, local_host), port);
        let decided = explainer.decide_remote(direction, local, &remote, 60000).expect("the endpoint resolves");
        let mut covered = IntervalSet::<u32>::empty();
        for d in &decided {
            prop_assert!(!d.addresses.is_empty());
            prop_assert!(!covered.intersects(&d.addresses), "decisions overlap");
            covered = covered.union(&d.addresses);
            for &(lo, hi) in d.addresses.intervals() {
                for remote in [lo, hi].map(Ipv4Addr::from) {
                    prop_assert!(direction == Direction::Inbound || !rules_compiler::prove::resolver::UNFILTERED.contains(&remote));
                    let (src, src_port, dst, dst_port) = match direction {
                        Direction::Inbound => (remote, 60000, *local.ip(), port),
                        Direction::Outbound => (*local.ip(), port, remote, 60000),
                    };
                    let packet = Packet { protocol: PacketProtocol::Tcp, src, src_port, dst, dst_port };
                    let decider = reference::decide(&all, &resolver, direction, &packet).map(|i| all[i].name.clone());
                    prop_assert_eq!(&decider, &d.rule, "{:?}", packet);
                    let access = decider.map_or(Access::Deny, |_| reference::access(&all, &resolver, direction, &packet));
                    prop_assert_eq!(access, d.access);
                }
            }
        }
        let mut expected = rules_compiler::prove::explain::endpoint(&remote, &resolver, "").unwrap();
        if direction == Direction::Outbound {
            expected = expected.difference(&rules_compiler::prove::resolver::unfiltered_addresses());
        }
        prop_assert_eq!(covered, expected);
    }
}

#[test]
fn inbound_traffic_whose_reply_goes_to_an_appliance_is_denied_exactly() {
    // Azure drops inbound traffic whose reply would go to an appliance (asymmetric routing): with
    // 0.0.0.0/0 to the firewall and 203.0.113.0/25 to Internet, only 203.0.113.0/25 of the /24 is
    // answered. Sources in the VNet reply locally, 168.63.129.16 is answered by the host.
    use rules_compiler::azure::route::{NextHop, RouteEntry};
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["forcedTunneling"] = serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    let env = env::load(&v.to_string(), "t").env.expect("valid");
    let tags = ServiceTags::embedded(env.cloud);
    let plan = plan::build(&env, tags, None).unwrap();
    let allow_in = SecurityRule {
        name: "allow-all-in".into(),
        priority: 100,
        direction: Direction::Inbound,
        access: Access::Allow,
        protocol: Protocol::Tcp,
        source: AddressMatch::Any,
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Any,
        destination_ports: vec![PortRange::ANY],
        is_default: false,
    };
    let route = |name: &str, prefix: &str, hop, ip: Option<&str>| RouteEntry {
        name: name.into(),
        address_prefix: prefix.into(),
        next_hop_type: hop,
        next_hop_ip_address: ip.map(|a| a.parse().unwrap()),
    };
    let routes = [
        route("default", "0.0.0.0/0", NextHop::VirtualAppliance, Some("10.10.2.4")),
        route("half", "203.0.113.0/25", NextHop::Internet, None),
    ];
    let rules = [allow_in];
    let explainer = Explainer::new(&Inputs {
        plan: &plan,
        tags,
        rules: &rules,
        udr_prefixes: &[],
        routes: Some(&routes),
        firewall: None,
        firewall_doubts: Default::default(),
    });
    let ask = |from: &str| {
        explainer
            .explain(&Flow {
                from: from.into(),
                to: "10.10.1.5".into(),
                protocol: Protocol::Tcp,
                ports: PortRange { lo: 443, hi: 443 },
            })
            .unwrap()
    };
    let e = ask("203.0.113.0/24");
    assert_eq!(e.verdict, Verdict::Mixed);
    let sources = |pieces: &[FlowPiece]| -> Vec<String> { pieces.iter().flat_map(|p| p.src.iter().map(|n| n.to_string())).collect() };
    assert_eq!(sources(&e.allowed), ["203.0.113.0/25"]);
    assert_eq!(sources(&e.denied), ["203.0.113.128/25"]);
    assert_eq!(e.path.len(), 1);
    assert_eq!((e.path[0].route.as_str(), e.path[0].passes), ("default", false));
    assert_eq!(e.path[0].next_hop_ip_address, Some("10.10.2.4".parse().unwrap()));
    for symmetric in ["10.10.1.40", "168.63.129.16"] {
        let e = ask(symmetric);
        assert_eq!(e.verdict, Verdict::Allow, "{symmetric}");
        // Between subnets the outbound leg takes VnetLocal; no reply step is added.
        assert!(e.path.iter().all(|s| s.passes && s.next_hop == "VnetLocal"), "{symmetric}");
    }
}
