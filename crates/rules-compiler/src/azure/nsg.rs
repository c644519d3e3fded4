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

impl Direction {
    /// The word ARM and `az` write.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Access {
    Allow,
    Deny,
}

impl Access {
    /// The word ARM and `az` write.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        }
    }
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// NSG rule protocol (`*` is `Any`). Packets of other IP protocols are matched only by `Any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    Any,
}

impl Protocol {
    /// The word ARM and `az` write (`*` for any).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::Esp => "Esp",
            Protocol::Ah => "Ah",
            Protocol::Any => "*",
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Port ranges are shared with the model (`*` is 0-65535).
pub use ise_model::ports::PortRange;

/// What an address field of a rule names. Its JSON form is what ARM would write: `*`, the tag, or
/// the list of prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Serialize for AddressMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AddressMatch::Any => s.serialize_str("*"),
            AddressMatch::Tag(t) => s.serialize_str(t),
            // The fast text, not `Display`: `--expand-tags` plans hold thousands of prefixes.
            AddressMatch::Prefixes(p) => crate::render::prefix_text::List(p).serialize(s),
            AddressMatch::Prefixes6(p) => crate::render::prefix_text::List(p).serialize(s),
        }
    }
}

/// One security rule, explicit or default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// Azure limits (data/azure-limits.csv). Addresses and ranges count per security group, the
/// sources and the destinations of all its rules apart (Azure's error names the limit
/// `MaxSecurityRuleAddressesOrPortsPerSecurityGroup`): a field holds at most as many.
pub const MAX_PREFIXES_PER_FIELD: usize = 4000;
pub const MAX_PREFIXES_PER_NSG_SIDE: usize = MAX_PREFIXES_PER_FIELD;
pub const MAX_RULES: usize = 1000;

/// The address prefixes an NSG's rules name on their source and on their destination sides, as
/// Azure counts them against [`MAX_PREFIXES_PER_NSG_SIDE`] (tags and `*` are no addresses).
pub fn address_totals<'r>(rules: impl IntoIterator<Item = &'r SecurityRule>) -> (usize, usize) {
    let count = |a: &AddressMatch| match a {
        AddressMatch::Prefixes(p) => p.len(),
        AddressMatch::Prefixes6(p) => p.len(),
        AddressMatch::Any | AddressMatch::Tag(_) => 0,
    };
    rules
        .into_iter()
        .fold((0, 0), |(s, d), r| (s + count(&r.source), d + count(&r.destination)))
}
pub const MAX_DESCRIPTION: usize = 140;
/// Lowest and highest priority a user rule may have.
pub const MIN_PRIORITY: u32 = 100;
pub const MAX_PRIORITY: u32 = 4096;
