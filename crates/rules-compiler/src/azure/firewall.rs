//! Azure Firewall rule collections as ARM writes them (policy rule collection groups and classic
//! firewalls share this shape): what the plan builds, the backends render, the reader reads and the
//! firewall proof evaluates.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ise_model::ports::PortRange;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Azure Firewall limit (data/azure-limits.csv): unique source/destination pairs over all network
/// rules (sources x destinations per rule; a service tag or `*` counts as one destination).
pub const MAX_NETWORK_PAIRS: usize = 20_000;

/// Azure Firewall limit (data/azure-limits.csv, from includes/firewall-limits.md, ms.date
/// 2023-10-10): "total size of rules within a single rule collection group", 2 MB for policies
/// created after July 2022 (1 MB before). Azure does not say how it measures the size; isenet
/// counts the bytes of each rule's compact JSON ([`rules_size`]) against 2 MiB.
pub const MAX_GROUP_RULES_BYTES: usize = 2 * 1024 * 1024;

/// Azure Firewall limit (same source): rule collection groups in one firewall policy, 60 for
/// policies created after July 2022 (50 before). The documentation gives no limit on rule
/// collections per group or on addresses, ports or FQDNs per rule: the size above bounds them.
pub const MAX_RULE_COLLECTION_GROUPS: usize = 60;

/// Rule collection group and rule collection priorities Azure accepts (ARM schema min/max).
pub const PRIORITY_RANGE: (u32, u32) = (100, 65_000);

/// The highest port of an application rule protocol (ARM schema 2023-11-01: "cannot be greater
/// than 64000").
pub const MAX_APPLICATION_PORT: u16 = 64_000;

/// Network rule protocols as ARM writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NetworkProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "ICMP")]
    Icmp,
    Any,
}

impl NetworkProtocol {
    /// The word ARM writes.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkProtocol::Tcp => "TCP",
            NetworkProtocol::Udp => "UDP",
            NetworkProtocol::Icmp => "ICMP",
            NetworkProtocol::Any => "Any",
        }
    }
}

/// Application rule protocols. Policies accept Http and Https; classic collections also Mssql.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ApplicationProtocolType {
    Http,
    Https,
    Mssql,
}

impl ApplicationProtocolType {
    /// The word ARM writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationProtocolType::Http => "Http",
            ApplicationProtocolType::Https => "Https",
            ApplicationProtocolType::Mssql => "Mssql",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationProtocol {
    pub protocol_type: ApplicationProtocolType,
    pub port: u16,
}

impl std::fmt::Display for ApplicationProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.protocol_type.as_str(), self.port)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FirewallAction {
    Allow,
    Deny,
}

/// A network rule in the shape both ARM forms share (the backends name the protocol field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRule {
    pub name: String,
    pub description: String,
    pub ip_protocols: Vec<NetworkProtocol>,
    /// CIDRs, IPs, ranges `a-b` or `*`.
    pub source_addresses: Vec<String>,
    /// CIDRs, IPs, ranges, service tags or `*`.
    pub destination_addresses: Vec<String>,
    /// `*`, `443`, `6379-6383`.
    pub destination_ports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRule {
    pub name: String,
    pub description: String,
    pub protocols: Vec<ApplicationProtocol>,
    pub source_addresses: Vec<String>,
    pub fqdn_tags: Vec<String>,
    pub target_fqdns: Vec<String>,
    /// Destination addresses (policy rules): one naming every address (`*`) makes the rule match
    /// every destination, name or address, on its protocols. The reader refuses others: which
    /// names resolve into them is not known without DNS.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_addresses: Vec<String>,
    /// TLS inspection (Premium): the firewall terminates the TLS connections the rule allows.
    #[serde(rename = "terminateTLS", skip_serializing_if = "std::ops::Not::not")]
    pub terminate_tls: bool,
}

impl ApplicationRule {
    /// Whether the rule's destination addresses name every address: it then matches every
    /// destination on its protocols, whatever its target FQDNs and tags.
    pub fn matches_every_destination(&self) -> bool {
        self.destination_addresses.iter().any(|a| is_every_address(a))
    }
}

/// Whether an address entry names every IPv4 address: `*`, `0.0.0.0/0` or the whole range.
pub fn is_every_address(entry: &str) -> bool {
    match parse_address(entry) {
        Ok(FirewallAddress::Any) => true,
        Ok(FirewallAddress::Prefix(net)) => net.prefix_len() == 0,
        Ok(FirewallAddress::Range(lo, hi)) => lo == Ipv4Addr::UNSPECIFIED && hi == Ipv4Addr::BROADCAST,
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCollection<R> {
    pub name: String,
    pub priority: u32,
    /// The priority of its rule collection group and the group's place in its file, where a proof
    /// evaluates several groups of a policy together (`FirewallFile::policy_rules`): Azure orders
    /// by the priority first (groups of one priority, which it does not order, by their place).
    /// `None` for the collections of one group or of a classic firewall.
    #[serde(skip)]
    pub group_order: Option<(u32, usize)>,
    pub action: FirewallAction,
    pub rules: Vec<R>,
}

/// Unique source/destination pairs of the network rules, as Azure counts them (a tag or `*` is one).
pub fn network_pairs(collections: &[RuleCollection<NetworkRule>]) -> usize {
    collections
        .iter()
        .flat_map(|c| &c.rules)
        .map(|r| r.source_addresses.len() * r.destination_addresses.len())
        .sum()
}

/// The size of the rules, as [`MAX_GROUP_RULES_BYTES`] counts it: the bytes of each rule's compact
/// JSON in the shape ARM writes (without `ruleType`, which every rule of a type shares).
pub fn rules_size(network: &[RuleCollection<NetworkRule>], application: &[RuleCollection<ApplicationRule>]) -> usize {
    fn size<R: Serialize>(collections: &[RuleCollection<R>]) -> usize {
        let json = |r: &R| serde_json::to_vec(r).map_or(0, |v| v.len());
        collections.iter().flat_map(|c| &c.rules).map(json).sum()
    }
    size(network) + size(application)
}

/// An Azure Firewall limit exceeded: what is limited (as data/azure-limits.csv names it), the
/// limit and the actual value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excess {
    pub name: &'static str,
    pub max: usize,
    pub actual: usize,
}

/// The Azure Firewall limits the rules exceed: the network pairs, and the size of a rule collection
/// group's rules when they form one (`in_group`; classic collections do not). Compile refuses them
/// (`E1004`); verify reports them of a file read (`F0107`).
pub fn exceeded_limits(
    network: &[RuleCollection<NetworkRule>],
    application: &[RuleCollection<ApplicationRule>],
    in_group: bool,
) -> Vec<Excess> {
    let pairs = Excess {
        name: "unique source/destinations in network rules",
        max: MAX_NETWORK_PAIRS,
        actual: network_pairs(network),
    };
    let size = in_group.then(|| Excess {
        name: "total size of rules in one rule collection group (bytes)",
        max: MAX_GROUP_RULES_BYTES,
        actual: rules_size(network, application),
    });
    [Some(pairs), size].into_iter().flatten().filter(|e| e.actual > e.max).collect()
}

/// What one entry of a firewall address list names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallAddress {
    /// `*`
    Any,
    /// A CIDR, or an IP as a /32.
    Prefix(Ipv4Net),
    /// `a-b`, inclusive.
    Range(Ipv4Addr, Ipv4Addr),
    /// IPv6 entries never match an ISE packet.
    V6,
    /// A service tag word (destinations only).
    Tag(String),
}

/// Reads an address entry as Azure Firewall takes it: `*`, an IP, a CIDR, a range `a-b`, or a
/// service-tag word. The error says what is wrong.
pub fn parse_address(text: &str) -> Result<FirewallAddress, String> {
    let t = text.trim();
    if t == "*" {
        return Ok(FirewallAddress::Any);
    }
    if let Some(IpNet::V4(n)) = ise_model::ip_text::prefix(t) {
        return Ok(FirewallAddress::Prefix(n));
    }
    if let Ok(ip) = t.parse::<Ipv4Addr>() {
        return Ok(FirewallAddress::Prefix(Ipv4Net::from(ip)));
    }
    if t.parse::<Ipv6Net>().is_ok() || t.parse::<Ipv6Addr>().is_ok() {
        return Ok(FirewallAddress::V6);
    }
    if let Some(odd) = t.split('-').map(str::trim).find(|part| ise_model::ip_text::has_leading_zero(part)) {
        return Err(format!(
            "`{odd}` has a number with a leading zero, which tools read differently (010 is octal 8 to some): write each number in decimal"
        ));
    }
    if let Some((a, b)) = t.split_once('-').filter(|(a, _)| a.parse::<Ipv4Addr>().is_ok()) {
        let (Ok(lo), Ok(hi)) = (a.trim().parse::<Ipv4Addr>(), b.trim().parse::<Ipv4Addr>()) else {
            return Err(format!("`{t}` is not an address range a-b of two IPv4 addresses"));
        };
        if lo > hi {
            return Err(format!("range `{t}` starts after it ends"));
        }
        return Ok(FirewallAddress::Range(lo, hi));
    }
    if crate::azure::is_tag_word(t) {
        return Ok(FirewallAddress::Tag(t.to_string()));
    }
    Err(format!("`{t}` is neither an IP, a CIDR, a range a-b, `*` nor a service tag"))
}

/// Reads a port entry as Azure Firewall takes it: `*`, `N` or `A-B` within 1-65535.
pub fn parse_port(text: &str) -> Result<PortRange, String> {
    let range = PortRange::parse(text)?;
    if !range.azure_firewall_takes() {
        return Err(format!("`{}`: Azure Firewall ports are 1-65535", text.trim()));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_azure_firewall_takes_and_refuses() {
        assert_eq!(parse_address("*"), Ok(FirewallAddress::Any));
        assert_eq!(
            parse_address("10.1.0.0/16"),
            Ok(FirewallAddress::Prefix("10.1.0.0/16".parse().unwrap()))
        );
        assert_eq!(
            parse_address("10.1.2.3"),
            Ok(FirewallAddress::Prefix("10.1.2.3/32".parse().unwrap()))
        );
        assert_eq!(
            parse_address("10.0.0.1-10.0.0.9"),
            Ok(FirewallAddress::Range("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap()))
        );
        assert_eq!(parse_address("2001:db8::/32"), Ok(FirewallAddress::V6));
        assert_eq!(
            parse_address("AzureCloud.usgovvirginia"),
            Ok(FirewallAddress::Tag("AzureCloud.usgovvirginia".into()))
        );
        for bad in ["10.0.0.0/33", "999.1.1.1", "10.0.0.9-10.0.0.1", "10.0.0.1-x", "", "a b", "1.2.3"] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }

    fn network(sources: usize, destinations: usize, description: String) -> RuleCollection<NetworkRule> {
        let addresses = |n: usize| (0..n).map(|i| format!("10.0.{}.{}", i / 256, i % 256)).collect();
        RuleCollection {
            name: "c".into(),
            priority: 100,
            group_order: None,
            action: FirewallAction::Allow,
            rules: vec![NetworkRule {
                name: "n".into(),
                description,
                ip_protocols: vec![NetworkProtocol::Tcp],
                source_addresses: addresses(sources),
                destination_addresses: addresses(destinations),
                destination_ports: vec!["443".into()],
            }],
        }
    }

    #[test]
    fn limits_are_exceeded_one_past_them() {
        let names = |c: &RuleCollection<NetworkRule>, in_group| {
            let e = exceeded_limits(std::slice::from_ref(c), &[], in_group);
            e.into_iter().map(|e| (e.name, e.max, e.actual)).collect::<Vec<_>>()
        };
        assert_eq!(names(&network(2, 10_000, String::new()), true), []);
        let pairs = "unique source/destinations in network rules";
        assert_eq!(names(&network(1, 20_001, String::new()), true), [(pairs, 20_000, 20_001)]);
        // The size counts the rule's compact JSON: pad the description to land on the limit.
        let bare = rules_size(&[network(1, 1, String::new())], &[]);
        let at = network(1, 1, "x".repeat(MAX_GROUP_RULES_BYTES - bare));
        assert_eq!(rules_size(std::slice::from_ref(&at), &[]), MAX_GROUP_RULES_BYTES);
        assert_eq!(names(&at, true), []);
        let over = network(1, 1, "x".repeat(MAX_GROUP_RULES_BYTES - bare + 1));
        let size = "total size of rules in one rule collection group (bytes)";
        assert_eq!(names(&over, true), [(size, MAX_GROUP_RULES_BYTES, MAX_GROUP_RULES_BYTES + 1)]);
        // Classic collections are in no group.
        assert_eq!(names(&over, false), []);
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert_eq!(parse_port("*"), Ok(PortRange::ANY));
        assert_eq!(parse_port("1-65535"), Ok(PortRange { lo: 1, hi: 65535 }));
        for bad in ["0", "0-10", "65536", "5-3", "x", "", "-1"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }
}
