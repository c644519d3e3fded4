//! NSG shapes the verify benches measure, generated from a fixed seed so every run measures the
//! same rules.

use ipnet::Ipv4Net;
use ise_model::ports::PortRange;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, Protocol, SecurityRule};

/// A fixed pseudo-random generator (no extra crate for a bench).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// `n` rules as a large hand-kept NSG has them (the "realistic" shape): each lists 5-40
/// remote prefixes (a third on-premises ranges in 10.0.0.0/8 of /20 to /32, the rest partner
/// addresses anywhere of /16 to /32) and 1-8 destination port ranges (single ports and short
/// ranges); the local side is the ISE subnets, the network, or 1-4 of its /24 to /28 prefixes.
/// Both directions, mostly allows, TCP, UDP and `*`.
pub fn realistic_rules(n: usize) -> Vec<SecurityRule> {
    rules(n, |g| (0x0A00_0000 | (g.next() & 0x00FF_FFFF), g.range(20, 32)))
}

/// The harsher shape: like [`realistic_rules`], but the third of remote prefixes that were
/// on-premises ranges are /16 to /32 inside the network's own 10.10.0.0/16, so hundreds of rules
/// nest over the ISE's addresses (the region count grows about 4x per doubling of the rules).
pub fn harsh_rules(n: usize) -> Vec<SecurityRule> {
    rules(n, |g| (0x0A0A_0000 | (g.next() & 0xFFFF), g.range(16, 32)))
}

/// The generator of both shapes; `near` draws the address and length of the third of remote
/// prefixes that sit close to the ISE.
fn rules(n: usize, near: fn(&mut Lcg) -> (u32, u32)) -> Vec<SecurityRule> {
    let mut g = Lcg(0x1CE_5EED);
    let remote = |g: &mut Lcg| -> Vec<Ipv4Net> {
        (0..g.range(5, 40))
            .map(|_| {
                let (ip, len) = if g.next().is_multiple_of(3) {
                    near(g)
                } else {
                    (g.next(), g.range(16, 32))
                };
                Ipv4Net::new(ip.into(), len as u8).unwrap().trunc()
            })
            .collect()
    };
    let local = |g: &mut Lcg| -> Vec<Ipv4Net> {
        (0..g.range(1, 4))
            .map(|_| {
                Ipv4Net::new((0x0A0A_0000 | (g.next() & 0xFFFF)).into(), g.range(24, 28) as u8)
                    .unwrap()
                    .trunc()
            })
            .collect()
    };
    (0..n)
        .map(|i| {
            let remote = AddressMatch::Prefixes(remote(&mut g));
            let local = match g.next() % 3 {
                0 => AddressMatch::Tag("VirtualNetwork".into()),
                1 => AddressMatch::Prefixes(vec!["10.10.1.0/25".parse().unwrap()]),
                _ => AddressMatch::Prefixes(local(&mut g)),
            };
            let ports = (0..g.range(1, 8))
                .map(|_| {
                    let lo = g.range(1, 65000) as u16;
                    let hi = if g.next().is_multiple_of(2) {
                        lo
                    } else {
                        lo + g.range(1, 500) as u16
                    };
                    PortRange { lo, hi }
                })
                .collect();
            let direction = if g.next().is_multiple_of(2) {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let (source, destination) = match direction {
                Direction::Inbound => (remote, local),
                Direction::Outbound => (local, remote),
            };
            SecurityRule {
                name: format!("rule-{i:04}"),
                priority: 100 + i as u32,
                direction,
                access: if g.next().is_multiple_of(5) { Access::Deny } else { Access::Allow },
                protocol: [Protocol::Tcp, Protocol::Tcp, Protocol::Udp, Protocol::Any][(g.next() % 4) as usize],
                source,
                source_ports: vec![PortRange::ANY],
                destination,
                destination_ports: ports,
                is_default: false,
            }
        })
        .collect()
}
