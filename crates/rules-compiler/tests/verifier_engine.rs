//! The engine against the naive reference evaluator: random NSGs with boundary-biased packets, and
//! every packet of a tiny universe.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use proptest::prelude::*;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use rules_compiler::engine::defaults::with_defaults;
use rules_compiler::engine::evaluate::{decide, evaluate, Domain, Evaluation, RuleEffect};
use rules_compiler::engine::flows::{FlowBox, FlowSet, ProtoSet};
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::reference;
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

/// Tags overlapping the 10.0.0.0/24 playground; `Bogus` stays unknown.
fn tags() -> Tags {
    Tags(HashMap::from([
        ("VirtualNetwork", vec![net("10.0.0.0/25"), net("10.0.0.200/30")]),
        ("Internet", vec![net("10.0.0.128/26"), net("0.0.0.0/5"), net("11.0.0.0/8")]),
        ("AzureLoadBalancer", vec![net("10.0.0.7/32")]),
        ("Storage", vec![]),
    ]))
}

const TAG_NAMES: [&str; 5] = ["VirtualNetwork", "Internet", "AzureLoadBalancer", "Storage", "Bogus"];

/// Rule fields drawn from a small playground: addresses `base + 0..span`, ports `0..port_span`.
#[derive(Clone, Copy)]
struct Playground {
    base: u32,
    /// Shortest prefix length used (the playground holds 2^(32 - min_len) addresses).
    min_len: u8,
    port_span: u16,
}

const WIDE: Playground = Playground {
    base: 0x0A00_0000,
    min_len: 24,
    port_span: 40,
};
const TINY: Playground = Playground {
    base: 0x0A00_0000,
    min_len: 28,
    port_span: 8,
};

fn prefix(pg: Playground) -> impl Strategy<Value = Ipv4Net> {
    (pg.min_len..=32u8, any::<u32>()).prop_map(move |(len, r)| {
        let off = r & ((1u32 << (32 - pg.min_len)) - 1);
        Ipv4Net::new(Ipv4Addr::from(pg.base + off), len).unwrap().trunc()
    })
}

fn address(pg: Playground) -> impl Strategy<Value = AddressMatch> {
    prop_oneof![
        1 => Just(AddressMatch::Any),
        1 => prop::sample::select(TAG_NAMES.to_vec()).prop_map(|t| AddressMatch::Tag(t.to_string())),
        4 => prop::collection::vec(prefix(pg), 1..4).prop_map(AddressMatch::Prefixes),
    ]
}

fn ports(pg: Playground) -> impl Strategy<Value = Vec<PortRange>> {
    let span = pg.port_span;
    let one = prop_oneof![
        (0..span).prop_map(PortRange::single),
        (0..span, 0..span).prop_map(|(a, b)| PortRange {
            lo: a.min(b),
            hi: a.max(b)
        }),
        (0..span).prop_map(|a| PortRange { lo: a, hi: 65535 }),
        (0..span).prop_map(|a| PortRange { lo: a, hi: 65534 }),
    ];
    prop_oneof![
        3 => Just(vec![PortRange::ANY]),
        // Full coverage written as two ranges: still `*` for portless protocols.
        1 => (1..span).prop_map(|a| vec![PortRange { lo: a, hi: 65535 }, PortRange { lo: 0, hi: a - 1 }]),
        4 => prop::collection::vec(one, 1..3),
    ]
}

fn rule(pg: Playground) -> impl Strategy<Value = SecurityRule> {
    let protocol = prop::sample::select(vec![
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Icmp,
        Protocol::Esp,
        Protocol::Ah,
        Protocol::Any,
        Protocol::Any,
    ]);
    let direction = prop::sample::select(vec![Direction::Inbound, Direction::Outbound]);
    let access = prop::sample::select(vec![Access::Allow, Access::Deny]);
    // Mostly a narrow priority range, so that equal priorities (Azure forbids them; the engine
    // breaks ties by slice order) occur often.
    let priority = prop_oneof![3 => 100u32..106, 1 => 100u32..4097];
    (
        priority,
        direction,
        access,
        protocol,
        address(pg),
        ports(pg),
        address(pg),
        ports(pg),
    )
        .prop_map(
            |(priority, direction, access, protocol, source, sp, destination, dp)| SecurityRule {
                name: format!("r{priority}"),
                priority,
                direction,
                access,
                protocol,
                source,
                source_ports: sp,
                destination,
                destination_ports: dp,
                is_default: false,
            },
        )
}

fn nsg(pg: Playground) -> impl Strategy<Value = Vec<SecurityRule>> {
    // Usually with Azure's default rules; without them some packets match no rule at all.
    (prop::collection::vec(rule(pg), 1..=12), prop::bool::weighted(0.75))
        .prop_map(|(r, defaults)| if defaults { with_defaults(&r) } else { r })
}

/// Interesting address values: every rule and tag boundary and its neighbours, plus extremes.
fn address_points(rules: &[SecurityRule], tags: &Tags) -> Vec<u32> {
    let mut nets: Vec<Ipv4Net> = tags.0.values().flatten().copied().collect();
    for r in rules {
        for m in [&r.source, &r.destination] {
            if let AddressMatch::Prefixes(p) = m {
                nets.extend(p);
            }
        }
    }
    let mut pts = vec![0, u32::MAX, 0x0A00_0000, 0x0A00_00FF, 0x09FF_FFFF, 0x0A00_0100];
    for n in nets {
        let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
        pts.extend([lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]);
    }
    pts
}

fn port_points(rules: &[SecurityRule]) -> Vec<u16> {
    let mut pts = vec![0, 65535, 1];
    for r in rules {
        for p in r.source_ports.iter().chain(&r.destination_ports) {
            pts.extend([p.lo, p.hi, p.lo.wrapping_sub(1), p.hi.wrapping_add(1)]);
        }
    }
    pts
}

type Pick = (usize, usize, usize, usize, usize);

fn packet_at(pick: Pick, addrs: &[u32], ports: &[u16]) -> Packet {
    Packet {
        protocol: PacketProtocol::ALL[pick.0 % 6],
        src: Ipv4Addr::from(addrs[pick.1 % addrs.len()]),
        src_port: ports[pick.2 % ports.len()],
        dst: Ipv4Addr::from(addrs[pick.3 % addrs.len()]),
        dst_port: ports[pick.4 % ports.len()],
    }
}

/// One evaluation and its derived sets, computed once per NSG.
struct Checked<'a> {
    rules: &'a [SecurityRule],
    tags: &'a Tags,
    dir: Direction,
    domain: &'a Domain,
    ev: Evaluation,
    allowed: FlowSet,
    denied: FlowSet,
    unmatched: FlowSet,
}

impl<'a> Checked<'a> {
    fn new(rules: &'a [SecurityRule], tags: &'a Tags, dir: Direction, domain: &'a Domain) -> Self {
        let ev = evaluate(rules, tags, dir, domain);
        let (allowed, denied, unmatched) = (ev.allowed(), ev.denied(), ev.unmatched());
        Checked {
            rules,
            tags,
            dir,
            domain,
            ev,
            allowed,
            denied,
            unmatched,
        }
    }

    /// Regions are pairwise disjoint and add up to the domain.
    fn partition(&self) -> Result<(), TestCaseError> {
        let total: u128 = self.ev.regions().iter().map(|r| r.flows.packet_count()).sum();
        prop_assert_eq!(total, self.domain.flows().packet_count());
        for r in self.ev.regions() {
            prop_assert!(r.flows.intersection(self.domain.flows()) == r.flows);
        }
        Ok(())
    }

    /// Everything the engine says about one packet agrees with the reference.
    /// Checks one packet; returns its reference matches when it is in the domain.
    fn packet(&self, p: &Packet) -> Result<Option<Vec<usize>>, TestCaseError> {
        let (rules, tags, dir) = (self.rules, self.tags, self.dir);
        let matching = reference::matching_rules(rules, tags, dir, p);
        let want = matching.first().copied();
        prop_assert_eq!(decide(rules, tags, dir, p), want, "decide({:?})", p);
        let region = self.ev.region_of(p);
        prop_assert_eq!(region.is_some(), self.domain.flows().contains(p), "coverage of {:?}", p);
        if let Some(region) = region {
            prop_assert_eq!(region.decider, want, "decider of {:?}", p);
            prop_assert_eq!(region.next, matching.get(1).copied(), "next of {:?}", p);
            let allowed = reference::access(rules, tags, dir, p) == Access::Allow;
            prop_assert_eq!(self.allowed.contains(p), allowed, "allowed({:?})", p);
            prop_assert_eq!(self.denied.contains(p), !allowed, "denied({:?})", p);
            prop_assert_eq!(self.unmatched.contains(p), want.is_none(), "unmatched({:?})", p);
            return Ok(Some(matching));
        }
        Ok(None)
    }
}

fn domain_strategy() -> impl Strategy<Value = (Direction, Domain)> {
    let inner = prop_oneof![
        Just(Domain::everything()),
        Just(Domain::inbound_to(&[net("10.0.0.0/26"), net("10.0.0.192/27")])),
        Just(Domain::outbound_from(&[net("10.0.0.64/27")])),
        Just(Domain::new(FlowBox::new(
            ProtoSet::WITH_PORTS,
            IntervalSet::from_prefix(net("10.0.0.0/25")),
            IntervalSet::interval(0, 20),
            IntervalSet::from_prefix(net("0.0.0.0/4")),
            IntervalSet::interval(10, 30),
        ))),
    ];
    (prop::sample::select(vec![Direction::Inbound, Direction::Outbound]), inner)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn engine_matches_reference_on_boundary_packets(
        rules in nsg(WIDE),
        (dir, domain) in domain_strategy(),
        picks in prop::collection::vec(any::<Pick>(), 200),
    ) {
        let tags = tags();
        let checked = Checked::new(&rules, &tags, dir, &domain);
        checked.partition()?;
        let (addrs, ports) = (address_points(&rules, &tags), port_points(&rules));
        for pick in picks {
            checked.packet(&packet_at(pick, &addrs, &ports))?;
        }
    }
}

/// Every packet of 10.0.0.0/28 -> 10.0.0.0/28 with ports 0-7 (TCP/UDP), and every portless packet
/// of the same addresses.
fn tiny_domains() -> [Domain; 2] {
    let a = IntervalSet::from_prefix(net("10.0.0.0/28"));
    [
        Domain::new(FlowBox::new(
            ProtoSet::WITH_PORTS,
            a.clone(),
            IntervalSet::interval(0, 7),
            a.clone(),
            IntervalSet::interval(0, 7),
        )),
        Domain::new(FlowBox::new(
            ProtoSet::ALL.difference(ProtoSet::WITH_PORTS),
            a.clone(),
            IntervalSet::full(),
            a,
            IntervalSet::full(),
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn engine_matches_reference_on_every_tiny_packet(rules in nsg(TINY), inbound: bool) {
        let tags = tags();
        let dir = if inbound { Direction::Inbound } else { Direction::Outbound };
        for domain in tiny_domains() {
            let checked = Checked::new(&rules, &tags, dir, &domain);
            checked.partition()?;
            let mut n = 0u32;
            // Per rule: decides some packet / removing it flips some packet (by the reference).
            let mut decides = vec![false; rules.len()];
            let mut flips = vec![false; rules.len()];
            let access = |r: Option<&usize>| r.map_or(Access::Deny, |&i| rules[i].access);
            for protocol in domain.flows().protocols().iter() {
                let ports: Vec<u16> = if protocol.has_ports() { (0..8).collect() } else { vec![0] };
                for s in 0..16u8 {
                    for d in 0..16u8 {
                        for &sp in &ports {
                            for &dp in &ports {
                                let p = Packet {
                                    protocol,
                                    src: Ipv4Addr::new(10, 0, 0, s),
                                    src_port: sp,
                                    dst: Ipv4Addr::new(10, 0, 0, d),
                                    dst_port: dp,
                                };
                                let matching = checked.packet(&p)?.expect("inside the domain");
                                if let Some(&d) = matching.first() {
                                    decides[d] = true;
                                    flips[d] |= access(matching.get(1)) != rules[d].access;
                                }
                                n += 1;
                            }
                        }
                    }
                }
            }
            // The enumeration is the whole domain (portless packets counted once).
            prop_assert_eq!(u128::from(n), domain.flows().packet_count());
            for (i, rule) in rules.iter().enumerate() {
                let want = match (rule.direction == dir, decides[i], flips[i]) {
                    (false, _, _) => RuleEffect::NotEvaluated,
                    (true, false, _) => RuleEffect::Shadowed,
                    (true, true, false) => RuleEffect::Redundant,
                    (true, true, true) => RuleEffect::Effective,
                };
                prop_assert_eq!(checked.ev.effect(i), want, "effect of rule {}", i);
            }
        }
    }
}

/// A deterministic xorshift generator, so the large cases need no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 1,000 rules like a large real NSG: random prefixes anywhere (some in the ISE range), tags,
/// mostly `*` source ports, single/range/list destination ports.
fn large_nsg(seed: u64, tag_names: &[&str]) -> Vec<SecurityRule> {
    let mut rng = Rng(seed);
    let mut rules = Vec::new();
    for i in 0..1000u32 {
        let addr = |rng: &mut Rng| match rng.below(10) {
            0 => AddressMatch::Any,
            1 => AddressMatch::Tag(tag_names[rng.below(tag_names.len() as u64) as usize].to_string()),
            _ => AddressMatch::Prefixes(
                (0..1 + rng.below(4))
                    .map(|_| {
                        let len = 8 + rng.below(25) as u8;
                        let ip = if rng.below(3) == 0 {
                            0x0A00_0000 | (rng.next() as u32 & 0xFFFF)
                        } else {
                            rng.next() as u32
                        };
                        Ipv4Net::new(Ipv4Addr::from(ip), len).unwrap().trunc()
                    })
                    .collect(),
            ),
        };
        let port_list = |rng: &mut Rng, star: u64| {
            if rng.below(10) < star {
                return vec![PortRange::ANY];
            }
            (0..1 + rng.below(3))
                .map(|_| {
                    let lo = rng.below(65536) as u16;
                    if rng.below(2) == 0 {
                        PortRange::single(lo)
                    } else {
                        PortRange {
                            lo,
                            hi: lo.saturating_add(rng.below(2000) as u16),
                        }
                    }
                })
                .collect()
        };
        let source = addr(&mut rng);
        let destination = addr(&mut rng);
        rules.push(SecurityRule {
            name: format!("rule{i}"),
            priority: 100 + i * 3 + rng.below(3) as u32,
            direction: if rng.below(4) == 0 {
                Direction::Outbound
            } else {
                Direction::Inbound
            },
            access: if rng.below(2) == 0 { Access::Allow } else { Access::Deny },
            protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Any, Protocol::Icmp][rng.below(4) as usize],
            source,
            source_ports: port_list(&mut rng, 9),
            destination,
            destination_ports: port_list(&mut rng, 3),
            is_default: false,
        });
    }
    with_defaults(&rules)
}

fn ise_domain() -> Domain {
    Domain::inbound_to(&[net("10.0.1.0/27"), net("10.0.1.32/27"), net("10.0.1.64/27"), net("10.0.1.96/27")])
}

#[test]
fn large_nsg_matches_reference_on_boundary_packets() {
    let tags = tags();
    let rules = large_nsg(0x5EED, &TAG_NAMES[..4]);
    let domain = ise_domain();
    let checked = Checked::new(&rules, &tags, Direction::Inbound, &domain);
    checked.partition().unwrap();
    let (addrs, ports) = (address_points(&rules, &tags), port_points(&rules));
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let mut pick = || rng.next() as usize;
        let mut p = packet_at((pick(), pick(), pick(), pick(), pick()), &addrs, &ports);
        // Keep most packets inside the domain so they exercise the regions.
        if rng.below(4) != 0 {
            p.dst = Ipv4Addr::from(0x0A00_0100 + rng.below(128) as u32);
        }
        checked.packet(&p).unwrap();
    }
}

/// The public cloud's service tags from the repository's data (IPv4 prefixes only).
fn public_tags() -> Tags {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/servicetags/ServiceTags_Public_20251028.json"
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut map = HashMap::new();
    for v in json["values"].as_array().unwrap() {
        let name: &'static str = Box::leak(v["name"].as_str().unwrap().to_string().into_boxed_str());
        let nets = v["properties"]["addressPrefixes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str().unwrap().parse::<Ipv4Net>().ok())
            .collect();
        map.insert(name, nets);
    }
    map.insert("VirtualNetwork", vec![net("10.0.0.0/16")]);
    map.insert("AzureLoadBalancer", vec![net("168.63.129.16/32")]);
    Tags(map)
}

/// Hand measurement only (no timing assertion): `cargo test -p rules-compiler --release --test
/// verifier_engine measure -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_large_nsg() {
    let domain = ise_domain();
    let real = [
        "Storage",
        "Sql",
        "AzureMonitor",
        "LogicApps",
        "AppServiceManagement",
        "VirtualNetwork",
    ];
    for (label, tags, names) in [
        ("small tags", tags(), &TAG_NAMES[..4]),
        ("public service tags", public_tags(), &real[..]),
    ] {
        for seed in 1u64..=5 {
            let rules = large_nsg(seed, names);
            let mut best = std::time::Duration::MAX;
            let mut regions = 0;
            for _ in 0..5 {
                let t = std::time::Instant::now();
                let ev = evaluate(&rules, &tags, Direction::Inbound, &domain);
                best = best.min(t.elapsed());
                regions = ev.regions().len();
            }
            println!("{label}, seed {seed}: {} rules, {regions} regions, best of 5 {best:?}", rules.len());
        }
        let rules = large_nsg(1, names);
        for (what, dir, domain) in [
            (
                "outbound from the ISE",
                Direction::Outbound,
                Domain::outbound_from(&[net("10.0.1.0/25")]),
            ),
            ("inbound, whole space", Direction::Inbound, Domain::everything()),
        ] {
            let t = std::time::Instant::now();
            let ev = evaluate(&rules, &tags, dir, &domain);
            println!("{label}, seed 1, {what}: {} regions, {:?}", ev.regions().len(), t.elapsed());
        }
    }
}
