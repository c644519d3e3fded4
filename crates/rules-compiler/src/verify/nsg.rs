//! Security rules as Azure evaluates them (types shared by the engine, the loaders and `explain`).

use ipnet::{Ipv4Net, Ipv6Net};
use serde::Serialize;

/// Direction of a security rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Access {
    Allow,
    Deny,
}

/// NSG rule protocol (`*` is `Any`). Packets of other IP protocols are matched only by `Any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    Any,
}

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
    /// Only TCP and UDP carry ports; for the others a rule matches only if its port fields are `*`.
    pub fn has_ports(self) -> bool {
        matches!(self, PacketProtocol::Tcp | PacketProtocol::Udp)
    }
}

/// Port ranges are shared with the model (`*` is 0-65535).
pub use ise_model::ports::PortRange;

/// What an address field of a rule names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AddressMatch {
    /// `*`
    Any,
    /// One service tag (`VirtualNetwork`, `Internet`, `AzureLoadBalancer`, `Storage.WestUS2`, ...).
    Tag(String),
    /// IPs and CIDRs (IPv6 entries are kept out: they never match an IPv4 packet).
    Prefixes(Vec<Ipv4Net>),
    /// IPv6 prefixes: the `-v6` rules `compile --expand-tags` writes for the IPv6 prefixes of a tag.
    /// They never match an IPv4 packet, so the field matches no packet of the verifier's domain.
    Prefixes6(Vec<Ipv6Net>),
}

/// One security rule, explicit or default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityRule {
    pub name: String,
    pub priority: u32,
    pub direction: Direction,
    pub access: Access,
    pub protocol: Protocol,
    pub source: AddressMatch,
    pub source_ports: Vec<PortRange>,
    pub destination: AddressMatch,
    pub destination_ports: Vec<PortRange>,
    /// One of Azure's default rules (AllowVnetInBound, ...), not written by anybody.
    pub is_default: bool,
}

/// Resolves a service tag to its IPv4 prefixes. `VirtualNetwork`, `Internet` and
/// `AzureLoadBalancer` are platform-defined and resolved by the caller's implementation too.
pub trait TagResolver {
    /// `None` when the tag is unknown (a finding, not a panic).
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>>;
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
