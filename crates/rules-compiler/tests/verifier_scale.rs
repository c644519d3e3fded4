//! The shapes the verifier's speed work targets, checked against explicit models: interval sets
//! of very different lengths (looked up, not walked), flow sets large enough to be indexed, and
//! the sets a proof derives from one evaluation (a rule's regions, the allowed packets less the
//! required ones, a requirement less the allowed packets), which carry their regions as cells and
//! the allowed/denied split as each other's rest. Every packet of a small universe is enumerated.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use proptest::prelude::*;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use rules_compiler::engine::defaults::with_defaults;
use rules_compiler::engine::evaluate::{evaluate, Domain};
use rules_compiler::engine::flows::{FlowBox, FlowSet, ProtoSet};
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::reference;
use rules_compiler::engine::{Packet, TagResolver};

type Intervals = Vec<(u8, u8)>;

/// A long and a short list of intervals over `u8`.
fn lopsided() -> impl Strategy<Value = (Intervals, Intervals)> {
    let long = prop::collection::vec(any::<u8>().prop_map(|x| (x, x.saturating_add(x % 3))), 20..90);
    let short = prop::collection::vec((any::<u8>(), any::<u8>()).prop_map(|(a, b)| (a.min(b), a.max(b))), 0..4);
    (long, short)
}

fn model(iv: &[(u8, u8)]) -> BTreeSet<u8> {
    iv.iter().flat_map(|&(a, b)| a..=b).collect()
}

fn set_model(s: &IntervalSet<u8>) -> BTreeSet<u8> {
    s.intervals().iter().flat_map(|&(a, b)| a..=b).collect()
}

/// Addresses 10.0.0.0-7, ports 0-3 (and 65535 for "any other port"), every protocol.
fn universe() -> Vec<Packet> {
    common::packets(8, &[0, 2, 65535], &[0, 1, 2, 3, 65535])
}

fn base() -> u32 {
    u32::from(Ipv4Addr::new(10, 0, 0, 0))
}

fn small_box() -> impl Strategy<Value = FlowBox> {
    common::flow_box(8)
}

/// Sets of many boxes (unions cut them further), so pairwise work crosses the index threshold.
fn big_set() -> impl Strategy<Value = FlowSet> {
    prop::collection::vec(small_box(), 0..24)
        .prop_map(|bs| bs.into_iter().fold(FlowSet::empty(), |acc, b| acc.union(&FlowSet::from_box(b))))
}

fn members(s: &FlowSet, u: &[Packet]) -> BTreeSet<Packet> {
    u.iter().copied().filter(|p| s.contains(p)).collect()
}

struct NoTags;
impl TagResolver for NoTags {
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        (tag == "VirtualNetwork").then(|| vec!["10.0.0.0/30".parse().unwrap()])
    }
}

fn rule() -> impl Strategy<Value = SecurityRule> {
    let prefix = (0u32..8, 29u8..=32).prop_map(|(a, len)| Ipv4Net::new(Ipv4Addr::from(base() + a), len).unwrap().trunc());
    let address = prop_oneof![
        1 => Just(AddressMatch::Any),
        4 => prop::collection::vec(prefix, 1..4).prop_map(AddressMatch::Prefixes),
    ];
    let ports = prop_oneof![
        2 => Just(vec![PortRange::ANY]),
        3 => prop::collection::vec((0u16..4, 0u16..4).prop_map(|(a, b)| PortRange { lo: a.min(b), hi: a.max(b) }), 1..4),
    ];
    let protocol = prop::sample::select(vec![Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Any]);
    (protocol, prop::bool::ANY, address.clone(), ports.clone(), address, ports).prop_map(
        |(protocol, allow, source, source_ports, destination, destination_ports)| SecurityRule {
            name: String::new(),
            priority: 0,
            direction: Direction::Inbound,
            access: if allow { Access::Allow } else { Access::Deny },
            protocol,
            source,
            source_ports,
            destination,
            destination_ports,
            is_default: false,
        },
    )
}

/// Inbound-like: every source of the universe, destinations 10.0.0.0-5.
fn small_domain() -> Domain {
    Domain::new(FlowBox::new(
        ProtoSet::ALL,
        IntervalSet::interval(base(), base() + 7),
        IntervalSet::full(),
        IntervalSet::interval(base(), base() + 5),
        IntervalSet::full(),
    ))
}

fn nsg() -> impl Strategy<Value = Vec<SecurityRule>> {
    prop::collection::vec(rule(), 1..24).prop_map(|mut rules| {
        for (i, r) in rules.iter_mut().enumerate() {
            r.priority = 100 + i as u32;
            r.name = format!("r{i}");
        }
        with_defaults(&rules)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lopsided_interval_sets_match_btreeset((long, short) in lopsided()) {
        let (a, b) = (IntervalSet::from_intervals(long.clone()), IntervalSet::from_intervals(short.clone()));
        let (ma, mb) = (model(&long), model(&short));
        let want: BTreeSet<u8> = ma.intersection(&mb).copied().collect();
        prop_assert_eq!(set_model(&a.intersection(&b)), want.clone());
        prop_assert_eq!(set_model(&b.intersection(&a)), want.clone());
        prop_assert_eq!(a.intersects(&b), !want.is_empty());
        prop_assert_eq!(b.intersects(&a), !want.is_empty());
        prop_assert_eq!(a.intersection(&b), b.intersection(&a));
    }

    #[test]
    fn large_flow_sets_match_enumeration(a in big_set(), b in big_set()) {
        let u = universe();
        let (ma, mb) = (members(&a, &u), members(&b, &u));
        prop_assert_eq!(members(&a.intersection(&b), &u), ma.intersection(&mb).copied().collect());
        prop_assert_eq!(members(&a.difference(&b), &u), ma.difference(&mb).copied().collect());
        prop_assert_eq!(members(&a.union(&b), &u), ma.union(&mb).copied().collect());
        let d = a.difference(&b);
        for (i, x) in d.boxes().iter().enumerate() {
            prop_assert!(d.boxes()[i + 1..].iter().all(|y| !x.intersects(y)), "difference boxes overlap");
        }
    }

    /// What a proof asks of one evaluation, against the naive evaluator packet by packet.
    #[test]
    fn sets_derived_from_an_evaluation_match_reference(rules in nsg(), required in big_set()) {
        let u = universe();
        let domain = small_domain();
        let ev = evaluate(&rules, &NoTags, Direction::Inbound, &domain);
        let in_domain: Vec<Packet> = u.iter().copied().filter(|p| domain.flows().contains(p)).collect();
        let decider = |p: &Packet| reference::decide(&rules, &NoTags, Direction::Inbound, p);
        let allowed_ref: BTreeSet<Packet> =
            in_domain.iter().copied().filter(|p| decider(p).is_some_and(|i| rules[i].access == Access::Allow)).collect();
        let denied_ref: BTreeSet<Packet> = in_domain.iter().copied().filter(|p| !allowed_ref.contains(p)).collect();
        let req = members(&required, &u);

        prop_assert_eq!(members(&ev.allowed(), &u), allowed_ref.clone());
        prop_assert_eq!(members(&ev.denied(), &u), denied_ref.clone());
        // A requirement less the allowed packets (the allowed set's rest is the denied one).
        prop_assert_eq!(members(&required.difference(&ev.allowed()), &u), req.difference(&allowed_ref).copied().collect());
        prop_assert_eq!(members(&required.difference(&ev.denied()), &u), req.difference(&denied_ref).copied().collect());
        // The same through the region index, box for box (reports print these boxes).
        let (fast, general) = (ev.not_allowed(&required), required.difference(&ev.allowed()));
        prop_assert_eq!(fast.boxes(), general.boxes());
        // Openings: per rule, what it decides of the allowed packets nobody requires.
        let open = ev.allowed().difference(&required);
        let open_ref: BTreeSet<Packet> = allowed_ref.difference(&req).copied().collect();
        prop_assert_eq!(members(&open, &u), open_ref.clone());
        for &i in ev.order() {
            let got = members(&ev.decided_by(i).intersection(&open), &u);
            let want: BTreeSet<Packet> = open_ref.iter().copied().filter(|p| decider(p) == Some(i)).collect();
            prop_assert_eq!(got, want, "rule {}", i);
            let got = members(&open.intersection(&ev.decided_by(i)), &u);
            prop_assert_eq!(got.len(), open_ref.iter().filter(|p| decider(p) == Some(i)).count());
            // Coverage: what the rule decides of the requirement.
            let got = members(&ev.decided_by(i).intersection(&required), &u);
            let want: BTreeSet<Packet> = req.iter().copied().filter(|p| in_domain.contains(p) && decider(p) == Some(i)).collect();
            prop_assert_eq!(got, want, "rule {} of the requirement", i);
        }
    }

    /// The rules deciding some packet of a set (a shadowed rule's cover, a requirement's allowing
    /// rules, an opening's rules), for sets of no evaluation and for sets cut from this one
    /// (whose boxes name their regions as cells), against the naive evaluator packet by packet.
    #[test]
    fn deciders_meeting_match_reference(rules in nsg(), required in big_set()) {
        // Every port the rules and sets cut at (0-3, and 65535 for the rest), on both sides: a
        // region meeting a set must show it at some enumerated packet.
        let u = common::packets(8, &[0, 1, 2, 3, 65535], &[0, 1, 2, 3, 65535]);
        let domain = small_domain();
        let ev = evaluate(&rules, &NoTags, Direction::Inbound, &domain);
        let decider = |p: &Packet| reference::decide(&rules, &NoTags, Direction::Inbound, p);
        let want = |s: &FlowSet| -> BTreeSet<Option<usize>> {
            u.iter().filter(|p| domain.flows().contains(p) && s.contains(p)).map(decider).collect()
        };
        let open = ev.allowed().difference(&required);
        let uncovered = required.difference(&ev.allowed());
        let rule_sets: Vec<FlowSet> = rules.iter().filter_map(|r| FlowSet::from_rule(r, &NoTags).ok()).collect();
        for (name, s) in [("required", &required), ("open", &open), ("uncovered", &uncovered)].into_iter()
            .chain(rule_sets.iter().map(|s| ("rule", s)))
        {
            prop_assert_eq!(ev.deciders_meeting(s), want(s), "{}", name);
        }
    }
}

/// A prefix of 10.0.0.0/16 of /20 to /32: rules of many such prefixes cut the first dimension
/// into hundreds of atoms.
fn wide_prefix() -> impl Strategy<Value = Ipv4Net> {
    (0u32..65536, 20u8..=32).prop_map(|(a, len)| Ipv4Net::new(Ipv4Addr::from(base() + a), len).unwrap().trunc())
}

/// Inbound-like rules: 1-30 remote prefixes (or `*`), a local /24-/32 of the network's first
/// /22 (or `*`), 1-3 port ranges of 0-99.
fn wide_nsg() -> impl Strategy<Value = Vec<SecurityRule>> {
    let remote = prop_oneof![
        1 => Just(AddressMatch::Any),
        8 => prop::collection::vec(wide_prefix(), 1..30).prop_map(AddressMatch::Prefixes),
    ];
    let local = prop_oneof![
        1 => Just(AddressMatch::Any),
        3 => (0u32..1024, 24u8..=32).prop_map(|(a, len)| AddressMatch::Prefixes(vec![Ipv4Net::new(Ipv4Addr::from(base() + a), len).unwrap().trunc()])),
    ];
    let ports = prop_oneof![
        1 => Just(vec![PortRange::ANY]),
        3 => prop::collection::vec((0u16..100, 0u16..20).prop_map(|(lo, n)| PortRange { lo, hi: lo + n }), 1..4),
    ];
    let protocol = prop::sample::select(vec![Protocol::Tcp, Protocol::Udp, Protocol::Any]);
    let rule = (protocol, prop::bool::weighted(0.8), remote, local, ports).prop_map(
        |(protocol, allow, source, destination, destination_ports)| SecurityRule {
            name: String::new(),
            priority: 0,
            direction: Direction::Inbound,
            access: if allow { Access::Allow } else { Access::Deny },
            protocol,
            source,
            source_ports: vec![PortRange::ANY],
            destination,
            destination_ports,
            is_default: false,
        },
    );
    prop::collection::vec(rule, 1..40).prop_map(|mut rules| {
        for (i, r) in rules.iter_mut().enumerate() {
            r.priority = 100 + i as u32;
            r.name = format!("r{i}");
        }
        with_defaults(&rules)
    })
}

/// A query box: 1-80 source prefixes (a rule's few, a tag's many), a local range, ports.
fn wide_query() -> impl Strategy<Value = FlowBox> {
    let src = prop::collection::vec(wide_prefix(), 1..80).prop_map(IntervalSet::from_prefixes);
    let dst = (0u32..1024, 0u32..1024).prop_map(|(a, b)| IntervalSet::interval(base() + a.min(b), base() + a.max(b)));
    let ports = prop_oneof![
        Just(IntervalSet::full()),
        (0u16..120, 0u16..120).prop_map(|(a, b)| IntervalSet::interval(a.min(b), a.max(b))),
    ];
    let protocols = prop::sample::select(vec![
        ProtoSet::ALL,
        ProtoSet::WITH_PORTS,
        ProtoSet::single(rules_compiler::engine::PacketProtocol::Udp),
    ]);
    (protocols, src, dst, ports).prop_map(|(p, s, d, dp)| FlowBox::new(p, s, IntervalSet::full(), d, dp))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `deciders_meeting` looks regions up through the first cut's atoms instead of testing each
    /// region: against the definition (every region the box meets), with hundreds of atoms and
    /// query boxes of few and of many intervals.
    #[test]
    fn deciders_meeting_match_every_region(rules in wide_nsg(), queries in prop::collection::vec(wide_query(), 1..6)) {
        let domain = Domain::inbound_to(&["10.0.0.0/22".parse().unwrap()]);
        let ev = evaluate(&rules, &NoTags, Direction::Inbound, &domain);
        let rule_boxes = rules.iter().filter_map(|r| FlowBox::from_rule(r, &NoTags).ok());
        for q in queries.into_iter().chain(rule_boxes) {
            let want: BTreeSet<Option<usize>> = ev.regions().iter().filter(|r| r.flows.intersects(&q)).map(|r| r.decider).collect();
            prop_assert_eq!(ev.deciders_meeting(&FlowSet::from_box(q.clone())), want, "{:?}", q);
            let q = FlowSet::from_box(q);
            let (fast, general) = (ev.not_allowed(&q), q.difference(&ev.allowed()));
            prop_assert_eq!(fast.boxes(), general.boxes());
        }
    }
}
