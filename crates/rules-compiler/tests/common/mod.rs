//! Helpers shared by the engine's test files.

use std::net::Ipv4Addr;

use proptest::prelude::*;
use rules_compiler::engine::flows::{FlowBox, ProtoSet};
use rules_compiler::engine::intervals::IntervalSet;
use rules_compiler::engine::{Packet, PacketProtocol};

/// Every packet between addresses 10.0.0.0 to 10.0.0.(hosts - 1) on both sides, with the given
/// source and destination ports (port 0 only for protocols without ports), all protocols.
pub fn packets(hosts: u8, src_ports: &[u16], dst_ports: &[u16]) -> Vec<Packet> {
    let mut out = Vec::new();
    for protocol in PacketProtocol::ALL {
        let (sps, dps): (&[u16], &[u16]) = if protocol.has_ports() {
            (src_ports, dst_ports)
        } else {
            (&[0], &[0])
        };
        for s in 0..hosts {
            for d in 0..hosts {
                for &src_port in sps {
                    for &dst_port in dps {
                        out.push(Packet {
                            protocol,
                            src: Ipv4Addr::new(10, 0, 0, s),
                            src_port,
                            dst: Ipv4Addr::new(10, 0, 0, d),
                            dst_port,
                        });
                    }
                }
            }
        }
    }
    out
}

/// A box over addresses 10.0.0.0 to 10.0.0.(hosts - 1) and ports 0-3 or `*`, any protocols
/// (possibly none: an empty box).
pub fn flow_box(hosts: u32) -> impl Strategy<Value = FlowBox> {
    let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
    let addr = (0..hosts, 0..hosts).prop_map(move |(a, b)| IntervalSet::interval(base + a.min(b), base + a.max(b)));
    let port = prop_oneof![
        Just(IntervalSet::full()),
        (0u16..4, 0u16..4).prop_map(|(a, b)| IntervalSet::interval(a.min(b), a.max(b))),
    ];
    let protos = prop::sample::subsequence(PacketProtocol::ALL.to_vec(), 0..=6)
        .prop_map(|ps| ps.into_iter().fold(ProtoSet::EMPTY, |s, p| s.union(ProtoSet::single(p))));
    (protos, addr.clone(), port.clone(), addr, port).prop_map(|(p, s, sp, d, dp)| FlowBox::new(p, s, sp, d, dp))
}
