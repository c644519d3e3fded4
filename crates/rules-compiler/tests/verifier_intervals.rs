//! Interval sets and flow sets checked against explicit models (BTreeSet, enumerated packets) on
//! small universes.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use proptest::prelude::*;
use rules_compiler::engine::flows::{FlowBox, FlowSet, ProtoSet};
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::{Packet, PacketProtocol};

fn intervals_u8() -> impl Strategy<Value = Vec<(u8, u8)>> {
    // Values bunched near both ends of the universe so MIN/MAX edges are hit.
    let v = prop_oneof![0u8..16, 240u8..=255, any::<u8>()];
    prop::collection::vec((v.clone(), v), 0..6)
}

fn model(iv: &[(u8, u8)]) -> BTreeSet<u8> {
    iv.iter().filter(|(a, b)| a <= b).flat_map(|&(a, b)| a..=b).collect()
}

fn set_model(s: &IntervalSet<u8>) -> BTreeSet<u8> {
    s.intervals().iter().flat_map(|&(a, b)| a..=b).collect()
}

fn normalized(s: &IntervalSet<u8>) -> bool {
    s.intervals().iter().all(|(a, b)| a <= b) && s.intervals().windows(2).all(|w| u16::from(w[0].1) + 1 < u16::from(w[1].0))
}

/// Many short intervals: against one of `intervals_u8`'s few, set operations take their
/// lopsided paths (each short interval looked up in the long list).
fn many_intervals_u8() -> impl Strategy<Value = Vec<(u8, u8)>> {
    prop::collection::vec(any::<u8>().prop_flat_map(|lo| (Just(lo), lo..=lo.saturating_add(3))), 20..120)
}

proptest! {
    #[test]
    fn lopsided_interval_ops_match_btreeset(few in intervals_u8(), many in many_intervals_u8()) {
        let (sf, sm) = (IntervalSet::from_intervals(few.clone()), IntervalSet::from_intervals(many.clone()));
        let (mf, mm) = (model(&few), model(&many));
        for (a, b, ma, mb) in [(&sf, &sm, &mf, &mm), (&sm, &sf, &mm, &mf)] {
            let results = [
                (a.union(b), ma.union(mb).copied().collect::<BTreeSet<_>>()),
                (a.intersection(b), ma.intersection(mb).copied().collect()),
                (a.difference(b), ma.difference(mb).copied().collect()),
            ];
            for (got, want) in results {
                prop_assert!(normalized(&got), "not normalized: {:?}", got);
                prop_assert_eq!(set_model(&got), want);
            }
            prop_assert_eq!(a.intersects(b), !ma.is_disjoint(mb));
        }
    }

    #[test]
    fn interval_ops_match_btreeset(a in intervals_u8(), b in intervals_u8(), u in intervals_u8(), x: u8) {
        let (sa, sb, su) = (
            IntervalSet::from_intervals(a.clone()),
            IntervalSet::from_intervals(b.clone()),
            IntervalSet::from_intervals(u.clone()),
        );
        let (ma, mb, mu) = (model(&a), model(&b), model(&u));
        let all: BTreeSet<u8> = (0..=255).collect();
        prop_assert_eq!(set_model(&sa), ma.clone());
        let results = [
            (sa.union(&sb), ma.union(&mb).copied().collect::<BTreeSet<_>>()),
            (sa.intersection(&sb), ma.intersection(&mb).copied().collect()),
            (sa.difference(&sb), ma.difference(&mb).copied().collect()),
            (sa.complement(), all.difference(&ma).copied().collect()),
            (sa.complement_within(&su), mu.difference(&ma).copied().collect()),
        ];
        for (got, want) in results {
            prop_assert!(normalized(&got), "not normalized: {:?}", got);
            prop_assert_eq!(set_model(&got), want);
        }
        prop_assert_eq!(sa.is_empty(), ma.is_empty());
        prop_assert_eq!(sa.is_full(), ma.len() == 256);
        prop_assert_eq!(sa.contains(x), ma.contains(&x));
        prop_assert_eq!(sa.count(), ma.len() as u64);
        prop_assert_eq!(sa.is_subset(&sb), ma.is_subset(&mb));
        prop_assert_eq!(sa.intersects(&sb), !ma.is_disjoint(&mb));
    }

    #[test]
    fn prefixes_round_trip_exactly(a in prop::collection::vec((0u32..512, 0u32..512), 0..5)) {
        // Addresses in 10.0.0.0/23, as offsets.
        let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
        let s = IntervalSet::from_intervals(a.iter().map(|&(x, y)| (base + x, base + y)));
        let nets = s.to_prefixes();
        // Exact: the prefixes rebuild the set; minimal: no two can merge into their parent.
        prop_assert_eq!(IntervalSet::from_prefixes(nets.iter().copied()), s.clone());
        for w in nets.windows(2) {
            prop_assert!(w[0].network() < w[1].network());
            let siblings = w[0].prefix_len() == w[1].prefix_len()
                && w[0].supernet() == w[1].supernet()
                && w[0].supernet().is_some();
            prop_assert!(!siblings, "{} and {} should merge", w[0], w[1]);
        }
        for n in &nets {
            prop_assert!(s.contains(u32::from(n.network())) && s.contains(u32::from(n.broadcast())));
        }
    }
}

/// Tiny packet universe: 4 addresses per side (10.0.0.0-3), ports 0-3, all protocols.
fn tiny_packets() -> Vec<Packet> {
    common::packets(4, &[0, 1, 2, 3], &[0, 1, 2, 3])
}

fn tiny_box() -> impl Strategy<Value = FlowBox> {
    common::flow_box(4)
}

fn tiny_set() -> impl Strategy<Value = FlowSet> {
    prop::collection::vec(tiny_box(), 0..4).prop_map(|bs| bs.into_iter().fold(FlowSet::empty(), |acc, b| acc.union(&FlowSet::from_box(b))))
}

/// Packets of the tiny universe, where ports outside 0-3 stand for "any other port".
fn members(s: &FlowSet, universe: &[Packet]) -> BTreeSet<Packet> {
    universe.iter().copied().filter(|p| s.contains(p)).collect()
}

proptest! {
    #[test]
    fn flow_set_ops_match_enumeration(a in tiny_set(), b in tiny_set()) {
        let u = tiny_packets();
        let (ma, mb) = (members(&a, &u), members(&b, &u));
        for s in [&a, &b] {
            // Disjoint boxes: per-box counts add up to the set's enumeration inside the tiny
            // universe once restricted to it.
            let boxes = s.boxes();
            for (i, x) in boxes.iter().enumerate() {
                for y in &boxes[i + 1..] {
                    prop_assert!(!x.intersects(y));
                }
            }
        }
        prop_assert_eq!(members(&a.union(&b), &u), ma.union(&mb).copied().collect());
        prop_assert_eq!(members(&a.intersection(&b), &u), ma.intersection(&mb).copied().collect());
        prop_assert_eq!(members(&a.difference(&b), &u), ma.difference(&mb).copied().collect());
        prop_assert_eq!(a.set_eq(&b), a.difference(&b).is_empty() && b.difference(&a).is_empty());
        // Pieces are a re-cut of the same set.
        let rebuilt = a.pieces().iter().fold(FlowSet::empty(), |acc, p| {
            let protos = p.protocols.iter().fold(ProtoSet::EMPTY, |s, &q| s.union(ProtoSet::single(q)));
            acc.union(&FlowSet::from_parts(
                protos,
                IntervalSet::from_prefixes(p.src.iter().copied()),
                IntervalSet::from_port_ranges(&p.src_ports),
                IntervalSet::from_prefixes(p.dst.iter().copied()),
                IntervalSet::from_port_ranges(&p.dst_ports),
            ))
        });
        prop_assert!(rebuilt.set_eq(&a));
        prop_assert_eq!(rebuilt.packet_count(), a.packet_count());
    }
}

proptest! {
    /// A non-empty box lies within another exactly when cutting it by the other leaves nothing,
    /// and then every packet of it that the tiny universe enumerates is in the other (the tiny
    /// universe has ports 0-3 only, so it cannot tell the converse); and dropping the boxes of a
    /// set that lie within one box of other sets leaves the same packets once those are taken
    /// away.
    #[test]
    fn boxes_within_others_are_the_enumerated_subsets(a in tiny_box(), b in tiny_box(), s in tiny_set(), others in prop::collection::vec(tiny_set(), 0..3)) {
        let u = tiny_packets();
        let (ma, mb) = (members(&FlowSet::from_box(a.clone()), &u), members(&FlowSet::from_box(b.clone()), &u));
        if !a.is_empty() {
            prop_assert_eq!(a.is_within(&b), a.difference(&b).is_empty(), "{:?} within {:?}", a, b);
            prop_assert!(!a.is_within(&b) || ma.is_subset(&mb), "{:?} within {:?}", a, b);
        }
        let kept = s.without_boxes_within(&others);
        prop_assert!(kept.boxes().iter().all(|k| s.boxes().contains(k)));
        let less = |set: &FlowSet| others.iter().fold(set.clone(), |acc, o| acc.difference(o));
        prop_assert_eq!(members(&less(&kept), &u), members(&less(&s), &u));
    }
}

#[test]
fn portless_protocols_need_full_ports() {
    let any: Ipv4Net = "0.0.0.0/0".parse().unwrap();
    let s = FlowSet::from_parts(
        ProtoSet::ALL,
        IntervalSet::from_prefix(any),
        IntervalSet::full(),
        IntervalSet::from_prefix(any),
        IntervalSet::point(443),
    );
    let icmp = Packet {
        protocol: PacketProtocol::Icmp,
        src: Ipv4Addr::new(1, 2, 3, 4),
        src_port: 0,
        dst: Ipv4Addr::new(5, 6, 7, 8),
        dst_port: 443,
    };
    assert!(!s.contains(&icmp));
    assert!(s.contains(&Packet {
        protocol: PacketProtocol::Udp,
        ..icmp
    }));
    assert!(!s.contains(&Packet {
        protocol: PacketProtocol::Udp,
        dst_port: 80,
        ..icmp
    }));
}
