//! The environment file: one user's VNet, subnets, cloud, location, access endpoint, DNS, tunneling
//! mode, callers and outbound destinations. `load` turns JSON text into a checked `Environment` or
//! the full list of problems.

mod canonical;
mod certificate;
mod identity;
mod load;
mod network;
mod x509;

pub use load::{load, Loaded};

use crate::cloud::CloudId;
use crate::ports::PortRange;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessEndpoint {
    Internal,
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SkuName {
    Premium,
    Developer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sku {
    pub name: SkuName,
    pub capacity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetwork {
    pub name: String,
    pub address_space: Vec<Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet {
    pub name: String,
    pub prefix: Ipv4Net,
    pub delegated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TunnelingMode {
    None,
    ExpressRoute,
    Firewall,
}

impl TunnelingMode {
    pub fn is_tunneled(self) -> bool {
        self != TunnelingMode::None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForcedTunneling {
    pub mode: TunnelingMode,
    pub firewall_private_ip: Option<Ipv4Addr>,
    /// Firewall mode only: the policy's rule collection group that receives the ISE's rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_collection_group: Option<RuleCollectionGroup>,
}

/// A firewall policy's rule collection group. A hub's policy is shared by many spokes, so each
/// ISE writes a group of its own (`<name>-dependencies` unless given): two ISEs writing one group
/// would each replace the other's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCollectionGroup {
    pub name: String,
    pub priority: u32,
}

impl RuleCollectionGroup {
    /// The group's priority unless given (Azure's range is 100-65000, lower first).
    pub const DEFAULT_PRIORITY: u32 = 500;
    /// Appended to the ISE's name for the group's default name.
    pub const DEFAULT_SUFFIX: &str = "-dependencies";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboundPolicy {
    Open,
    Restricted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DestinationProtocol {
    Tcp,
    Udp,
    #[serde(rename = "*")]
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboundDestination {
    pub name: String,
    pub prefixes: Vec<Ipv4Net>,
    pub protocol: DestinationProtocol,
    pub ports: Vec<PortRange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub name: String,
    /// Base64 of the certificate's PEM text, the form seed 000's example sends
    /// (`"LS0tLS1CRUdJTiBDRV..."`), whichever form the environment gave (base64 of DER, PEM text,
    /// or base64 of PEM text).
    pub public_certificate: String,
}

/// A checked environment: every value here passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub name: String,
    pub cloud: CloudId,
    /// Normalised ARM location name (`westus2`).
    pub location: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub access_endpoint: AccessEndpoint,
    pub sku: Sku,
    pub virtual_network: VirtualNetwork,
    pub subnets: Vec<Subnet>,
    pub custom_dns_servers: Vec<Ipv4Addr>,
    pub forced_tunneling: ForcedTunneling,
    pub external_callers: Vec<Ipv4Net>,
    pub internal_callers: Vec<Ipv4Net>,
    pub outbound_policy: OutboundPolicy,
    pub outbound_destinations: Vec<OutboundDestination>,
    pub certificates: Vec<Certificate>,
    /// NSG name; `<name>-nsg` unless given.
    pub nsg_name: String,
    /// Route table name; `<name>-routes` unless given.
    pub route_table_name: String,
    /// The ISE's managed identity (seed 000), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Customer-managed key (creation only), when given; requires a managed identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IdentityType {
    None,
    SystemAssigned,
    UserAssigned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// Resource id of the user-assigned identity (type `UserAssigned` only, required there).
    pub user_assigned_identity: Option<String>,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    /// Resource id of the Key Vault holding the key.
    pub key_vault_id: String,
    pub key_name: String,
    pub key_version: String,
}

impl Environment {
    pub fn location(&self) -> &'static crate::cloud::Location {
        crate::cloud::find_location(self.cloud, &self.location).expect("validated location")
    }
    pub fn subnet_prefixes(&self) -> Vec<Ipv4Net> {
        self.subnets.iter().map(|s| s.prefix).collect()
    }
}

#[cfg(test)]
mod tests;
