//! Azure Firewall rule collections as ARM writes them (policy rule collection groups and classic
//! firewalls share this shape): what the plan builds, the backends render, the reader reads and the
//! firewall proof evaluates.

use serde::{Deserialize, Serialize};

/// Azure Firewall limit (data/azure-limits.csv): unique source/destination pairs over all network
/// rules (sources x destinations per rule; a service tag or `*` counts as one destination).
pub const MAX_NETWORK_PAIRS: usize = 20_000;

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCollection<R> {
    pub name: String,
    pub priority: u32,
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
