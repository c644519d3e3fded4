//! Packets as NSG rules see them, and how service tags become addresses.

use ipnet::Ipv4Net;
use serde::Serialize;

use super::intervals::IntervalSet;

/// A concrete packet protocol (what a packet carries, as opposed to what a rule matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum PacketProtocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    /// Any other IP protocol (GRE, ...).
    Other,
}

impl PacketProtocol {
    pub const ALL: [PacketProtocol; 6] = [
        PacketProtocol::Tcp,
        PacketProtocol::Udp,
        PacketProtocol::Icmp,
        PacketProtocol::Esp,
        PacketProtocol::Ah,
        PacketProtocol::Other,
    ];
    /// Lower-case name, as people and `--protocol` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            PacketProtocol::Tcp => "tcp",
            PacketProtocol::Udp => "udp",
            PacketProtocol::Icmp => "icmp",
            PacketProtocol::Esp => "esp",
            PacketProtocol::Ah => "ah",
            PacketProtocol::Other => "other",
        }
    }
    /// Only TCP and UDP carry ports; for the others a rule matches only if its port fields are `*`.
    pub fn has_ports(self) -> bool {
        matches!(self, PacketProtocol::Tcp | PacketProtocol::Udp)
    }
}

/// Resolves a service tag to its IPv4 prefixes. `VirtualNetwork`, `Internet` and
/// `AzureLoadBalancer` are platform-defined and resolved by the caller's implementation too.
pub trait TagResolver {
    /// `None` when the tag is unknown (a finding, not a panic).
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>>;

    /// The tag's addresses as a set: what the engine asks. Resolvers that see the same tags
    /// again (every rule and requirement naming `Storage`) override it to build each set once.
    fn resolve_set(&self, tag: &str) -> Option<IntervalSet<u32>> {
        self.resolve(tag).map(IntervalSet::from_prefixes)
    }
}

/// One IPv4 packet as NSG rules see it. For protocols without ports (`has_ports() == false`) the
/// two port fields are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Packet {
    pub protocol: PacketProtocol,
    pub src: std::net::Ipv4Addr,
    pub src_port: u16,
    pub dst: std::net::Ipv4Addr,
    pub dst_port: u16,
}
