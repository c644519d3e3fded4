//! Network security group rules as Azure defines them: the type every stage shares (the plan builds
//! them, the backends write them, the readers read them, the proofs evaluate them), and Azure's limits.

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

/// Azure limits (data/azure-limits.csv).
pub const MAX_PREFIXES_PER_FIELD: usize = 4000;
pub const MAX_RULES: usize = 1000;
pub const MAX_DESCRIPTION: usize = 140;
/// Lowest and highest priority a user rule may have.
pub const MIN_PRIORITY: u32 = 100;
pub const MAX_PRIORITY: u32 = 4096;
