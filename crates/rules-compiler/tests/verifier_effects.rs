//! Hand-written cases: shadowed / redundant / effective rules, unknown tags, the default rules,
//! and the readable pieces of a flow set.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use rules_compiler::engine::defaults::{default_rules, with_defaults};
use rules_compiler::engine::evaluate::{decide, evaluate, Domain, Note, RuleEffect};
use rules_compiler::engine::flows::{FlowSet, ProtoSet};
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::{Packet, PacketProtocol, TagResolver};

struct Tags(HashMap<&'static str, Vec<Ipv4Net>>);

impl TagResolver for Tags {
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        self.0.get(tag).cloned()
    }
}

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn tags() -> Tags {
    Tags(HashMap::from([
        ("VirtualNetwork", vec![net("10.0.0.0/16")]),
        ("AzureLoadBalancer", vec![net("168.63.129.16/32")]),
        ("Internet", vec![net("0.0.0.0/5"), net("11.0.0.0/8")]),
    ]))
}

const SUBNET: &str = "10.0.1.0/24";

fn inbound(name: &str, priority: u32, access: Access, protocol: Protocol, source: &str, dst_ports: &[(u16, u16)]) -> SecurityRule {
    SecurityRule {
        name: name.to_string(),
        priority,
        direction: Direction::Inbound,
        access,
        protocol,
        source: if source == "*" {
            AddressMatch::Any
        } else if source.contains('/') {
            AddressMatch::Prefixes(source.split(',').map(net).collect())
        } else {
            AddressMatch::Tag(source.to_string())
        },
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Prefixes(vec![net(SUBNET)]),
        destination_ports: dst_ports.iter().map(|&(lo, hi)| PortRange { lo, hi }).collect(),
        is_default: false,
    }
}

fn domain() -> Domain {
    Domain::inbound_to(&[net(SUBNET)])
}

fn effects(rules: &[SecurityRule]) -> Vec<RuleEffect> {
    let ev = evaluate(rules, &tags(), Direction::Inbound, &domain());
    (0..rules.len()).map(|i| ev.effect(i)).collect()
}

const ALL_PORTS: &[(u16, u16)] = &[(0, 65535)];

#[test]
fn rule_covered_by_a_higher_priority_rule_is_shadowed() {
    use Access::*;
    let rules = with_defaults(&[
        inbound("wide", 100, Allow, Protocol::Tcp, "203.0.113.0/24", &[(443, 443)]),
        inbound("narrow", 200, Deny, Protocol::Tcp, "203.0.113.0/25", &[(443, 443)]),
    ]);
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    assert_eq!(ev.effect(0), RuleEffect::Effective);
    assert_eq!(ev.effect(1), RuleEffect::Shadowed);
    assert!(ev.decided_by(1).is_empty());
    assert!(ev.shadowed().contains(&1));
    assert!(!ev.deciding_rules().contains(&1));
    // The outbound defaults are not part of an inbound evaluation.
    let outbound_default = rules.iter().position(|r| r.name == "DenyAllOutBound").unwrap();
    assert_eq!(ev.effect(outbound_default), RuleEffect::NotEvaluated);
}

#[test]
fn allow_followed_by_a_broader_allow_is_redundant() {
    use Access::*;
    let rules = with_defaults(&[
        inbound("https-from-half", 100, Allow, Protocol::Tcp, "203.0.113.0/25", &[(443, 443)]),
        inbound("web-from-all", 110, Allow, Protocol::Tcp, "203.0.113.0/24", &[(443, 444)]),
    ]);
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    assert_eq!(ev.effect(0), RuleEffect::Redundant);
    assert_eq!(ev.effect(1), RuleEffect::Effective);
    // DenyAllInBound (index 4) is redundant too: without it the implicit deny applies.
    assert_eq!(ev.redundant(), vec![0, 4]);
    assert_eq!(ev.next_deciders(0), BTreeSet::from([Some(1)]));
    assert!(ev.changed_if_removed(0).is_empty());
    // Removing the broad rule denies what it alone allowed (port 444, and 443 from the upper half).
    let changed = ev.changed_if_removed(1);
    let p = |src: [u8; 4], port| Packet {
        protocol: PacketProtocol::Tcp,
        src: Ipv4Addr::from(src),
        src_port: 50000,
        dst: Ipv4Addr::new(10, 0, 1, 4),
        dst_port: port,
    };
    assert!(changed.contains(&p([203, 0, 113, 200], 443)));
    assert!(changed.contains(&p([203, 0, 113, 1], 444)));
    assert!(!changed.contains(&p([203, 0, 113, 1], 443)));
}

#[test]
fn deny_shielding_later_allows_is_effective() {
    use Access::*;
    let rules = with_defaults(&[
        inbound("deny-half", 100, Deny, Protocol::Tcp, "203.0.113.0/25", &[(443, 443)]),
        inbound("allow-all", 110, Allow, Protocol::Tcp, "203.0.113.0/24", &[(443, 443)]),
    ]);
    assert_eq!(effects(&rules)[..2], [RuleEffect::Effective, RuleEffect::Effective]);
}

#[test]
fn deny_right_above_the_default_deny_is_redundant_unless_it_blocks_vnet_traffic() {
    use Access::*;
    // Internet traffic reaching DenyAllInBound anyway.
    let rules = with_defaults(&[inbound("deny-web", 100, Deny, Protocol::Any, "203.0.113.0/24", ALL_PORTS)]);
    assert_eq!(effects(&rules)[0], RuleEffect::Redundant);
    // The same deny over VNet sources overrides AllowVnetInBound.
    let rules = with_defaults(&[inbound("deny-vnet", 100, Deny, Protocol::Any, "10.0.2.0/24", ALL_PORTS)]);
    assert_eq!(effects(&rules)[0], RuleEffect::Effective);
}

#[test]
fn portless_protocols_only_match_rules_with_star_ports() {
    use Access::*;
    let rules = with_defaults(&[
        // ICMP "on port 80" never matches: ICMP has no ports.
        inbound("icmp-80", 100, Allow, Protocol::Icmp, "*", &[(80, 80)]),
        // `*` written as two ranges still covers every port.
        inbound(
            "any-split",
            110,
            Allow,
            Protocol::Any,
            "198.51.100.0/24",
            &[(0, 999), (1000, 65535)],
        ),
    ]);
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    assert_eq!(ev.effect(0), RuleEffect::Shadowed);
    let gre = Packet {
        protocol: PacketProtocol::Other,
        src: Ipv4Addr::new(198, 51, 100, 9),
        src_port: 0,
        dst: Ipv4Addr::new(10, 0, 1, 9),
        dst_port: 0,
    };
    assert_eq!(decide(&rules, &tags(), Direction::Inbound, &gre), Some(1));
    assert!(ev.allowed().contains(&gre));
    let icmp_from_elsewhere = Packet {
        protocol: PacketProtocol::Icmp,
        src: Ipv4Addr::new(8, 8, 8, 8),
        ..gre
    };
    assert!(ev.denied().contains(&icmp_from_elsewhere));
}

#[test]
fn unknown_tag_matches_nothing_and_is_noted() {
    use Access::*;
    let rules = with_defaults(&[inbound("from-storage", 100, Allow, Protocol::Tcp, "Storage.WestUS2", &[(443, 443)])]);
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    assert_eq!(
        ev.notes(),
        &[Note::UnresolvedTag {
            rule: 0,
            rule_name: "from-storage".into(),
            tag: "Storage.WestUS2".into()
        }]
    );
    assert_eq!(ev.effect(0), RuleEffect::Shadowed);
}

#[test]
fn defaults_allow_vnet_and_load_balancer_only() {
    let rules = default_rules();
    assert_eq!(rules.len(), 6);
    assert!(rules.iter().all(|r| r.is_default));
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    let subnet = IntervalSet::from_prefix(net(SUBNET));
    let from = |src: &str| {
        FlowSet::from_parts(
            ProtoSet::ALL,
            IntervalSet::from_prefix(net(src)),
            IntervalSet::full(),
            subnet.clone(),
            IntervalSet::full(),
        )
    };
    let expected = from("10.0.0.0/16").union(&from("168.63.129.16/32"));
    assert!(ev.allowed().set_eq(&expected));
    assert!(ev.unmatched().is_empty());
    let deny_all = rules.iter().position(|r| r.name == "DenyAllInBound").unwrap();
    assert!(ev.decided_by(deny_all).set_eq(&ev.denied()));

    let out = evaluate(&rules, &tags(), Direction::Outbound, &Domain::outbound_from(&[net(SUBNET)]));
    let internet = rules.iter().position(|r| r.name == "AllowInternetOutBound").unwrap();
    let to_internet = FlowSet::from_parts(
        ProtoSet::ALL,
        subnet.clone(),
        IntervalSet::full(),
        IntervalSet::from_prefixes([net("0.0.0.0/5"), net("11.0.0.0/8")]),
        IntervalSet::full(),
    );
    assert!(out.decided_by(internet).set_eq(&to_internet));
}

#[test]
fn no_rules_means_everything_is_unmatched_and_denied() {
    let ev = evaluate(&[], &tags(), Direction::Inbound, &domain());
    assert!(ev.allowed().is_empty());
    assert!(ev.unmatched().set_eq(&FlowSet::from_box(domain().flows().clone())));
    assert!(ev.deciding_rules().is_empty());
}

#[test]
fn pieces_are_readable_and_deterministic() {
    use Access::*;
    let rules = with_defaults(&[
        inbound("https", 100, Allow, Protocol::Tcp, "203.0.113.0/25,203.0.113.128/26", &[(443, 443)]),
        inbound("dns", 110, Allow, Protocol::Udp, "203.0.113.0/25,203.0.113.128/26", &[(53, 53)]),
    ]);
    let ev = evaluate(&rules, &tags(), Direction::Inbound, &domain());
    let explicit = ev.decided_by(0).union(&ev.decided_by(1));
    let text: Vec<String> = explicit.pieces().iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "Tcp 203.0.113.0/25,203.0.113.128/26:* -> 10.0.1.0/24:443",
            "Udp 203.0.113.0/25,203.0.113.128/26:* -> 10.0.1.0/24:53",
        ]
    );
    // Same set built in another order: same pieces.
    let again = ev.decided_by(1).union(&ev.decided_by(0));
    assert_eq!(again.pieces(), explicit.pieces());
}
