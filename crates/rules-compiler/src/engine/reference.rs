//! A deliberately naive per-packet NSG evaluator, the oracle the engine is tested against: it
//! walks the rules in priority order and checks each field of one packet directly, sharing no code
//! with the interval machinery.

use crate::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use crate::engine::{Packet, PacketProtocol, TagResolver};

/// Every rule of `direction` matching `packet`, in evaluation order (priority, then slice order).
pub fn matching_rules<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction, packet: &Packet) -> Vec<usize> {
    let mut candidates: Vec<usize> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.direction == direction {
            candidates.push(i);
        }
    }
    candidates.sort_by(|&a, &b| (rules[a].priority, a).cmp(&(rules[b].priority, b)));
    candidates
        .into_iter()
        .filter(|&i| rule_matches(&rules[i], resolver, packet))
        .collect()
}

/// The deciding rule, `None` when no rule matches.
pub fn decide<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction, packet: &Packet) -> Option<usize> {
    matching_rules(rules, resolver, direction, packet).first().copied()
}

/// The access the packet gets (no matching rule means deny).
pub fn access<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction, packet: &Packet) -> Access {
    match decide(rules, resolver, direction, packet) {
        Some(i) => rules[i].access,
        None => Access::Deny,
    }
}

fn rule_matches<R: TagResolver + ?Sized>(rule: &SecurityRule, resolver: &R, p: &Packet) -> bool {
    let protocol = match rule.protocol {
        Protocol::Any => true,
        Protocol::Tcp => p.protocol == PacketProtocol::Tcp,
        Protocol::Udp => p.protocol == PacketProtocol::Udp,
        Protocol::Icmp => p.protocol == PacketProtocol::Icmp,
        Protocol::Esp => p.protocol == PacketProtocol::Esp,
        Protocol::Ah => p.protocol == PacketProtocol::Ah,
    };
    let ports = if p.protocol.has_ports() {
        port_in(&rule.source_ports, p.src_port) && port_in(&rule.destination_ports, p.dst_port)
    } else {
        all_ports(&rule.source_ports) && all_ports(&rule.destination_ports)
    };
    protocol && ports && address_in(&rule.source, resolver, p.src) && address_in(&rule.destination, resolver, p.dst)
}

fn port_in(ranges: &[PortRange], port: u16) -> bool {
    ranges.iter().any(|r| r.lo <= port && port <= r.hi)
}

/// Whether the ranges together cover 0-65535.
fn all_ports(ranges: &[PortRange]) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    let mut next: u32 = 0;
    for r in sorted {
        if u32::from(r.lo) > next {
            return false;
        }
        next = next.max(u32::from(r.hi) + 1);
    }
    next > 65535
}

fn address_in<R: TagResolver + ?Sized>(m: &AddressMatch, resolver: &R, ip: std::net::Ipv4Addr) -> bool {
    match m {
        AddressMatch::Any => true,
        AddressMatch::Prefixes(nets) => nets.iter().any(|n| n.contains(&ip)),
        AddressMatch::Prefixes6(_) => false,
        AddressMatch::Tag(tag) => resolver.resolve(tag).is_some_and(|nets| nets.iter().any(|n| n.contains(&ip))),
    }
}
