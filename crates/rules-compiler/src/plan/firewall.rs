//! The Azure Firewall part of the plan (forced tunneling mode `firewall`): what the ISE subnets need
//! through the firewall, as dependencies with provenance and as the rule collections that allow
//! exactly them.
//!
//! The dependencies are data: `data/firewall-dependencies.csv` (reviewed rows from the ASE, Redis and
//! API Management tables, each naming the source rows it comes from; see data/SOURCES.md), the
//! `firewall-application` rows of the requirement table (`fw-ase-fqdn-tag`), and the environment's
//! outbound destinations (what workflows call has to pass the firewall too). Rows apply per cloud
//! and condition (`always`, `custom-dns`). Prefixes inside the virtual network (custom DNS servers,
//! outbound destinations) get no rule: Azure's `VnetLocal` route keeps their traffic off the
//! firewall. Their dependencies stay, so the proof asks for them where a route sends them through.
//!
//! Rules: one rule per dependency, named by its id, source = the four ISE subnet prefixes.
//! - network collection `ise-network-dependencies` (priority 200): service tags, addresses, `*`;
//!   protocols `TCP`/`UDP` as the tables give them. A service tag is written as the tag when the
//!   cloud's tag file says it works in Azure Firewall (`networkFeatures` has `FW`); otherwise (China
//!   publishes several tags without `FW`) its IPv4 prefixes are written, with a note.
//! - network collection `ise-outbound-destinations` (priority 210): `outboundDestinations`.
//! - application collection `ise-application-dependencies` (priority 300): FQDN tags and FQDNs,
//!   `Http:80`/`Https:443` only (what policy application rules accept).
//!
//! A collection without rules is left out. The collections live in the policy's rule collection
//! group of the environment (`<name>-dependencies`, priority 500, unless `forcedTunneling` names
//! another), or directly on a classic firewall. Azure
//! evaluates DNAT, then network, then application rules; the network collections only allow, so
//! they never take an FQDN dependency's port away from the application rules.
//!
//! Outside mode `firewall` the part is empty (no dependencies, no collections); the backends still
//! write their files, with empty collections, so the artifact names never depend on the mode.

use super::nsg_rules::description;
use crate::azure::firewall::*;
use ipnet::Ipv4Net;
use ise_model::codes::{E_FIREWALL_LIMIT, E_TAG_MISSING};
use ise_model::diag::Diagnostic;
use ise_model::env::{Environment, RuleCollectionGroup, TunnelingMode};
use ise_model::ports::{self, PortRange};
use ise_model::requirement::{Kind, Protocol};
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::ServiceTags;
use serde::{Deserialize, Serialize};

pub const NETWORK_COLLECTION: &str = "ise-network-dependencies";
pub const NETWORK_PRIORITY: u32 = 200;
pub const DESTINATIONS_COLLECTION: &str = "ise-outbound-destinations";
pub const DESTINATIONS_PRIORITY: u32 = 210;
pub const APPLICATION_COLLECTION: &str = "ise-application-dependencies";
pub const APPLICATION_PRIORITY: u32 = 300;
/// The embedded dependency table.
const TABLE: &str = ise_model::data::FIREWALL_DEPENDENCIES_CSV;

/// Where a network dependency goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum NetworkDestination {
    ServiceTag {
        name: String,
    },
    Prefixes {
        label: String,
        prefixes: Vec<Ipv4Net>,
    },
    /// `*`: every address (NTP and the ASE's port 12000, as the ASE doc gives them).
    Any,
}

/// What an application dependency names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum ApplicationDestination {
    FqdnTag { name: String },
    Fqdn { name: String },
}

impl std::fmt::Display for ApplicationDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplicationDestination::FqdnTag { name } => write!(f, "fqdnTag {name}"),
            ApplicationDestination::Fqdn { name } => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "collection")]
pub enum DependencyTarget {
    Network {
        protocols: Vec<NetworkProtocol>,
        destination: NetworkDestination,
        ports: Vec<PortRange>,
    },
    Application {
        protocols: Vec<ApplicationProtocol>,
        destination: ApplicationDestination,
    },
}

/// One thing the ISE subnets need through the firewall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirewallDependency {
    /// Unique within the environment; the name of the rule that allows it.
    pub id: String,
    #[serde(flatten)]
    pub target: DependencyTarget,
    /// Source rows (`file.csv:line+line`, `requirements.csv:id`), `; `-separated.
    pub reference: String,
    pub purpose: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFirewall {
    /// Name and priority of the policy's rule collection group.
    pub rule_collection_group: String,
    pub rule_collection_group_priority: u32,
    /// The four ISE subnet prefixes (the source of every rule); empty outside firewall mode.
    pub source_addresses: Vec<Ipv4Net>,
    pub dependencies: Vec<FirewallDependency>,
    pub network_rule_collections: Vec<RuleCollection<NetworkRule>>,
    pub application_rule_collections: Vec<RuleCollection<ApplicationRule>>,
}

impl PlanFirewall {
    /// Outside firewall mode: no rules, in the group firewall mode would write by default.
    fn empty(env: &Environment) -> Self {
        PlanFirewall {
            rule_collection_group: format!("{}{}", env.name, RuleCollectionGroup::DEFAULT_SUFFIX),
            rule_collection_group_priority: RuleCollectionGroup::DEFAULT_PRIORITY,
            source_addresses: Vec::new(),
            dependencies: Vec::new(),
            network_rule_collections: Vec::new(),
            application_rule_collections: Vec::new(),
        }
    }

    /// Network and application rules, all collections.
    pub fn rule_count(&self) -> usize {
        let network: usize = self.network_rule_collections.iter().map(|c| c.rules.len()).sum();
        network + self.application_rule_collections.iter().map(|c| c.rules.len()).sum::<usize>()
    }
}

/// Which kind of rule collection a row belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowCollection {
    Network,
    Application,
}

/// A protocol as the table writes it, in the words of the Azure types it becomes: a network rule's
/// (`TCP`, `UDP`, `ICMP`, `Any`) or a policy application rule's (`Http`, `Https`). `Mssql` is an
/// [`ApplicationProtocolType`] of classic collections only; the rules the table makes go into a
/// policy too, so the table refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RowProtocol {
    Network(NetworkProtocol),
    #[serde(deserialize_with = "policy_application_protocol")]
    Application(ApplicationProtocolType),
}

fn policy_application_protocol<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ApplicationProtocolType, D::Error> {
    match ApplicationProtocolType::deserialize(d)? {
        ApplicationProtocolType::Mssql => Err(serde::de::Error::custom("Mssql is for classic rule collections only")),
        p => Ok(p),
    }
}

/// Where a dependency starts: every row is about traffic from the ISE subnets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RowSource {
    #[serde(rename = "ise-subnets")]
    IseSubnets,
}

/// What the `destination` column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestinationKind {
    #[serde(rename = "servicetag")]
    ServiceTag,
    Any,
    Ip,
    /// The environment's custom DNS servers.
    CustomDns,
    #[serde(rename = "fqdntag")]
    FqdnTag,
    Fqdn,
}

/// When a row applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowCondition {
    Always,
    CustomDns,
}

/// One row of data/firewall-dependencies.csv; serde refuses any value the enums do not name.
#[derive(Debug, Clone, Deserialize)]
pub struct TableRow {
    pub id: String,
    pub collection: RowCollection,
    #[serde(deserialize_with = "comma_list")]
    pub protocols: Vec<RowProtocol>,
    /// Read only to be checked: serde refuses a row that starts anywhere else.
    #[allow(dead_code)]
    pub source: RowSource,
    pub destination_kind: DestinationKind,
    pub destination: String,
    pub ports: String,
    /// Space-separated address-list cloud names (`AzureCloud AzureUSGovernment`).
    pub clouds: String,
    pub condition: RowCondition,
    pub reference: String,
    pub purpose: String,
}

/// `TCP,UDP` as a list of enum values.
fn comma_list<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    let text = String::deserialize(d)?;
    text.split(',')
        .map(|p| {
            T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(p.trim())).map_err(serde::de::Error::custom)
        })
        .collect()
}

/// The rows of the embedded table, in file order, read once per process (a fleet's firewall
/// environments share them).
pub fn table() -> &'static [TableRow] {
    static ROWS: std::sync::OnceLock<Vec<TableRow>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| ise_model::embedded_csv::deserialize(TABLE).expect("embedded data/firewall-dependencies.csv parses (tested)"))
}

/// A requirement's protocol in the dependency table's words, so both kinds of row share one reading.
fn row_protocols(p: Option<Protocol>) -> Vec<RowProtocol> {
    use ApplicationProtocolType::{Http, Https};
    match p {
        Some(Protocol::Any) => vec![RowProtocol::Network(NetworkProtocol::Any)],
        Some(Protocol::Tcp) => vec![RowProtocol::Network(NetworkProtocol::Tcp)],
        Some(Protocol::Udp) => vec![RowProtocol::Network(NetworkProtocol::Udp)],
        Some(Protocol::HttpHttps) => vec![RowProtocol::Application(Http), RowProtocol::Application(Https)],
        None => Vec::new(),
    }
}

fn network_protocol(id: &str, p: RowProtocol) -> NetworkProtocol {
    match p {
        RowProtocol::Network(p) => p,
        RowProtocol::Application(_) => panic!("{id}: a network row names an application protocol (tested)"),
    }
}

/// Application protocols paired by position with the ports (`Http,Https` with `80,443`).
fn application_protocols(id: &str, protocols: &[ApplicationProtocolType], ports: &str) -> Vec<ApplicationProtocol> {
    let ports: Vec<&str> = ports.split(',').collect();
    assert_eq!(protocols.len(), ports.len(), "{id}: application protocols pair with ports (tested)");
    protocols
        .iter()
        .zip(ports)
        .map(|(&protocol_type, port)| ApplicationProtocol {
            protocol_type,
            port: port.parse().unwrap_or_else(|_| panic!("{id}: port `{port}` (tested)")),
        })
        .collect()
}

fn application_protocol_types(id: &str, protocols: &[RowProtocol]) -> Vec<ApplicationProtocolType> {
    protocols
        .iter()
        .map(|p| match p {
            RowProtocol::Application(p) => *p,
            other => panic!("{id}: application rules take Http or Https, not {other:?} (tested)"),
        })
        .collect()
}

/// Whether dependency `id` of the table is there for the custom DNS servers (the others are there
/// for firewall mode alone).
pub fn serves_custom_dns(id: &str) -> bool {
    table().iter().any(|r| r.id == id && r.condition == RowCondition::CustomDns)
}

fn row_applies(row: &TableRow, env: &Environment) -> bool {
    let cloud = &env.cloud.facts().ip_list_cloud;
    let condition = match row.condition {
        RowCondition::Always => true,
        RowCondition::CustomDns => !env.custom_dns_servers.is_empty(),
    };
    condition && row.clouds.split_whitespace().any(|c| c == cloud)
}

/// Whether `net` lies wholly inside the virtual network's address space: the subnets reach it over
/// Azure's `VnetLocal` route, never through the firewall, so a firewall rule for it would allow
/// nothing.
pub(crate) fn inside_the_vnet(env: &Environment, net: &Ipv4Net) -> bool {
    env.virtual_network.address_space.iter().any(|space| space.contains(net))
}

/// What the firewall has no rule for because Azure's `VnetLocal` route keeps it off the firewall:
/// custom DNS servers and outbound destinations inside the virtual network. Said in the change
/// ticket, and in `diff`'s when it removes a deployed firewall rule (one an earlier isenet wrote).
pub(crate) fn not_through_the_firewall(env: &Environment) -> Option<String> {
    // The firewall's own address is its DNS proxy: said apart, not as a server beside it.
    let firewall = env.forced_tunneling.firewall_private_ip;
    let servers: Vec<String> = env
        .custom_dns_servers
        .iter()
        .filter(|a| Some(**a) != firewall && inside_the_vnet(env, &Ipv4Net::from(**a)))
        .map(ToString::to_string)
        .collect();
    // A destination wholly inside by its name, one partly inside by the prefixes left out.
    let destinations: Vec<String> = env
        .outbound_destinations
        .iter()
        .filter_map(|d| {
            let inside: Vec<String> = d
                .prefixes
                .iter()
                .filter(|p| inside_the_vnet(env, p))
                .map(ToString::to_string)
                .collect();
            match inside.len() {
                0 => None,
                n if n == d.prefixes.len() => Some(d.name.clone()),
                _ => Some(format!("{} ({})", d.name, inside.join(", "))),
            }
        })
        .collect();
    let mut parts = Vec::new();
    if let Some(ip) = firewall.filter(|ip| env.custom_dns_servers.contains(ip)) {
        parts.push(format!(
            "the custom DNS server {ip}, the firewall's own address (Azure Firewall's DNS proxy answers it; no network rule applies)"
        ));
    }
    if !servers.is_empty() {
        parts.push(format!("the custom DNS servers {}", servers.join(", ")));
    }
    if !destinations.is_empty() {
        parts.push(format!("the outbound destinations {}", destinations.join(", ")));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Inside the virtual network, so not through the firewall: {}. Azure's VnetLocal route keeps their traffic in the network, so the firewall has no rule for them; the NSG does.",
            parts.join("; ")
        )
    })
}

fn network_destination(row: &TableRow, env: &Environment) -> NetworkDestination {
    match row.destination_kind {
        DestinationKind::ServiceTag => NetworkDestination::ServiceTag {
            name: row.destination.clone(),
        },
        DestinationKind::Any => NetworkDestination::Any,
        DestinationKind::Ip => NetworkDestination::Prefixes {
            label: "addresses".into(),
            prefixes: row
                .destination
                .split_whitespace()
                .map(|a| a.parse::<std::net::Ipv4Addr>().map(Ipv4Net::from).or_else(|_| a.parse::<Ipv4Net>()))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{}: {e} (tested)", row.id)),
        },
        DestinationKind::CustomDns => NetworkDestination::Prefixes {
            label: "custom DNS servers".into(),
            prefixes: env.custom_dns_servers.iter().map(|a| Ipv4Net::from(*a)).collect(),
        },
        DestinationKind::FqdnTag | DestinationKind::Fqdn => panic!("{}: a network row names an FQDN (tested)", row.id),
    }
}

fn application_destination(row: &TableRow) -> ApplicationDestination {
    match row.destination_kind {
        DestinationKind::FqdnTag => ApplicationDestination::FqdnTag {
            name: row.destination.clone(),
        },
        DestinationKind::Fqdn => ApplicationDestination::Fqdn {
            name: row.destination.clone(),
        },
        other => panic!("{}: application destination kind {other:?} (tested)", row.id),
    }
}

fn dependency_of_row(row: &TableRow, env: &Environment) -> FirewallDependency {
    let target = match row.collection {
        RowCollection::Network => DependencyTarget::Network {
            protocols: row.protocols.iter().map(|&p| network_protocol(&row.id, p)).collect(),
            destination: network_destination(row, env),
            ports: ports::normalise(&ports::parse_list(&row.ports).unwrap_or_else(|e| panic!("{}: {e} (tested)", row.id))),
        },
        RowCollection::Application => DependencyTarget::Application {
            protocols: application_protocols(&row.id, &application_protocol_types(&row.id, &row.protocols), &row.ports),
            destination: application_destination(row),
        },
    };
    FirewallDependency {
        id: row.id.clone(),
        target,
        reference: row.reference.clone(),
        purpose: row.purpose.clone(),
        notes: Vec::new(),
    }
}

/// A `firewall-application` row of the requirement table (`fw-ase-fqdn-tag`).
fn dependency_of_requirement(r: &Resolved) -> Option<FirewallDependency> {
    let Peer::FqdnTag { name } = &r.destination else {
        return None;
    };
    let ports = r.ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let types = application_protocol_types(&r.id, &row_protocols(r.protocol));
    Some(FirewallDependency {
        id: r.id.clone(),
        target: DependencyTarget::Application {
            protocols: application_protocols(&r.id, &types, &ports),
            destination: ApplicationDestination::FqdnTag { name: name.clone() },
        },
        reference: format!("requirements.csv:{}", r.requirement),
        purpose: r.purpose.clone(),
        notes: r.notes.clone(),
    })
}

/// An outbound destination (`out-dest-<name>`) as a network dependency.
fn dependency_of_destination(r: &Resolved) -> Option<FirewallDependency> {
    let Peer::Prefixes { label, prefixes } = &r.destination else {
        return None;
    };
    let protocols = row_protocols(r.protocol).into_iter().map(|p| network_protocol(&r.id, p)).collect();
    Some(FirewallDependency {
        id: r.id.clone(),
        target: DependencyTarget::Network {
            protocols,
            destination: NetworkDestination::Prefixes {
                label: label.clone(),
                prefixes: prefixes.clone(),
            },
            ports: ports::normalise(&r.ports),
        },
        reference: format!("requirements.csv:{}", r.requirement),
        purpose: r.purpose.clone(),
        notes: Vec::new(),
    })
}

fn cidrs(prefixes: &[Ipv4Net]) -> Vec<String> {
    let mut p = Ipv4Net::aggregate(&prefixes.to_vec());
    p.sort();
    p.iter().map(ToString::to_string).collect()
}

/// The network rule of a dependency; `None` (with a diagnostic) when its tag is not in the file, and
/// `None` when all its prefixes lie inside the virtual network (its traffic never meets the
/// firewall; the dependency stays, for a route that would send it there).
fn network_rule(
    dep: &mut FirewallDependency,
    env: &Environment,
    sources: &[String],
    tags: &ServiceTags,
    diags: &mut Vec<Diagnostic>,
) -> Option<NetworkRule> {
    let DependencyTarget::Network {
        protocols,
        destination,
        ports,
    } = &dep.target
    else {
        return None;
    };
    let destinations = match destination {
        NetworkDestination::Any => vec!["*".to_string()],
        NetworkDestination::Prefixes { prefixes, .. } => {
            let beyond: Vec<Ipv4Net> = prefixes.iter().filter(|p| !inside_the_vnet(env, p)).copied().collect();
            if beyond.is_empty() {
                return None;
            }
            cidrs(&beyond)
        }
        NetworkDestination::ServiceTag { name } if tags.tag_works_in(name, "FW") => vec![name.clone()],
        NetworkDestination::ServiceTag { name } => match tags.get(name) {
            Some(t) => {
                let written = cidrs(&t.ipv4());
                dep.notes.push(format!(
                    "tag {name} cannot be named in Azure Firewall rules in this cloud (its networkFeatures lack FW): its {} IPv4 prefixes are written instead",
                    written.len()
                ));
                written
            }
            None => {
                diags.push(
                    Diagnostic::error(
                        E_TAG_MISSING,
                        "",
                        format!(
                            "firewall dependency {} needs service tag `{name}`, which the service-tag file (cloud {}, change {}) does not have",
                            dep.id, tags.cloud, tags.change_number
                        ),
                    )
                    .with_help("use a current service-tag file of the environment's cloud"),
                );
                return None;
            }
        },
    };
    Some(NetworkRule {
        name: dep.id.clone(),
        description: description(&dep.id, &dep.purpose),
        ip_protocols: protocols.clone(),
        source_addresses: sources.to_vec(),
        destination_addresses: destinations,
        destination_ports: ports.iter().map(ToString::to_string).collect(),
    })
}

fn application_rule(dep: &FirewallDependency, sources: &[String]) -> Option<ApplicationRule> {
    let DependencyTarget::Application { protocols, destination } = &dep.target else {
        return None;
    };
    let (fqdn_tags, target_fqdns) = match destination {
        ApplicationDestination::FqdnTag { name } => (vec![name.clone()], Vec::new()),
        ApplicationDestination::Fqdn { name } => (Vec::new(), vec![name.clone()]),
    };
    Some(ApplicationRule {
        name: dep.id.clone(),
        description: description(&dep.id, &dep.purpose),
        protocols: protocols.clone(),
        source_addresses: sources.to_vec(),
        fqdn_tags,
        target_fqdns,
        destination_addresses: Vec::new(),
        terminate_tls: false,
    })
}

fn collection<R>(name: &str, priority: u32, rules: Vec<R>) -> Option<RuleCollection<R>> {
    (!rules.is_empty()).then(|| RuleCollection {
        name: name.into(),
        priority,
        group_order: None,
        action: FirewallAction::Allow,
        rules,
    })
}

pub fn build(env: &Environment, reqs: &[Resolved], tags: &ServiceTags) -> Result<PlanFirewall, Vec<Diagnostic>> {
    if env.forced_tunneling.mode != TunnelingMode::Firewall {
        return Ok(PlanFirewall::empty(env));
    }
    // Sorted: Azure Firewall takes the sources as a set, and the subnets' order means nothing.
    let mut subnets = env.subnet_prefixes();
    subnets.sort();
    let sources: Vec<String> = subnets.iter().map(ToString::to_string).collect();
    let mut platform: Vec<FirewallDependency> = reqs
        .iter()
        .filter(|r| r.kind == Kind::FirewallApplication)
        .filter_map(dependency_of_requirement)
        .collect();
    platform.extend(table().iter().filter(|r| row_applies(r, env)).map(|r| dependency_of_row(r, env)));
    let mut destinations: Vec<FirewallDependency> = reqs
        .iter()
        .filter(|r| r.kind == Kind::Outbound && r.requirement == "out-workflow-calls")
        .filter_map(dependency_of_destination)
        .collect();

    let mut diags = Vec::new();
    let network: Vec<NetworkRule> = platform
        .iter_mut()
        .filter_map(|d| network_rule(d, env, &sources, tags, &mut diags))
        .collect();
    let destination_rules: Vec<NetworkRule> = destinations
        .iter_mut()
        .filter_map(|d| network_rule(d, env, &sources, tags, &mut diags))
        .collect();
    let application: Vec<ApplicationRule> = platform.iter().filter_map(|d| application_rule(d, &sources)).collect();

    let network_rule_collections: Vec<RuleCollection<NetworkRule>> = [
        collection(NETWORK_COLLECTION, NETWORK_PRIORITY, network),
        collection(DESTINATIONS_COLLECTION, DESTINATIONS_PRIORITY, destination_rules),
    ]
    .into_iter()
    .flatten()
    .collect();
    let application_rule_collections: Vec<RuleCollection<ApplicationRule>> =
        collection(APPLICATION_COLLECTION, APPLICATION_PRIORITY, application)
            .into_iter()
            .collect();
    diags.extend(limit_errors(
        &network_rule_collections,
        &application_rule_collections,
        "",
        "merge outbound destinations into fewer, larger prefixes, or use a service-tag file whose tags work in Azure Firewall (FW)",
    ));
    if !diags.is_empty() {
        return Err(diags);
    }
    platform.append(&mut destinations);
    let group = env
        .forced_tunneling
        .rule_collection_group
        .clone()
        .unwrap_or_else(|| RuleCollectionGroup {
            name: format!("{}{}", env.name, RuleCollectionGroup::DEFAULT_SUFFIX),
            priority: RuleCollectionGroup::DEFAULT_PRIORITY,
        });
    Ok(PlanFirewall {
        rule_collection_group: group.name,
        rule_collection_group_priority: group.priority,
        source_addresses: subnets,
        dependencies: platform,
        network_rule_collections,
        application_rule_collections,
    })
}

/// `E1004` for each Azure Firewall limit the rules of the policy's one rule collection group (the
/// classic form holds the same rules) would exceed; `context` prefixes the message.
pub(super) fn limit_errors(
    network: &[RuleCollection<NetworkRule>],
    application: &[RuleCollection<ApplicationRule>],
    context: &str,
    help: &str,
) -> Vec<Diagnostic> {
    exceeded_limits(network, application, true)
        .into_iter()
        .map(|e| {
            let message = format!(
                "{context}the firewall rules would exceed Azure Firewall's {}: {} where Azure allows {}",
                e.name, e.actual, e.max
            );
            Diagnostic::error(E_FIREWALL_LIMIT, "", message).with_help(help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_row_is_well_formed() {
        // Serde already refuses unknown collections, protocols, sources, kinds and conditions;
        // what is left is how the columns go together.
        let rows = table();
        assert!(rows.len() > 20);
        let dns_env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        for r in rows {
            assert!(
                r.clouds
                    .split_whitespace()
                    .all(|c| ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"].contains(&c)),
                "{}",
                r.id
            );
            // Building the dependency checks pairing, kinds, addresses and ports (it panics otherwise).
            match dependency_of_row(r, &dns_env).target {
                DependencyTarget::Application { protocols, .. } => {
                    assert!(protocols.iter().all(|p| matches!(
                        (p.protocol_type, p.port),
                        (ApplicationProtocolType::Http, 80) | (ApplicationProtocolType::Https, 443)
                    )));
                }
                DependencyTarget::Network { protocols, .. } => {
                    assert!(
                        protocols.iter().all(|p| matches!(p, NetworkProtocol::Tcp | NetworkProtocol::Udp)),
                        "{}",
                        r.id
                    );
                }
            }
        }
    }

    #[test]
    fn a_row_with_an_unknown_word_is_refused_by_serde() {
        let header = "id,collection,protocols,source,destination_kind,destination,ports,clouds,condition,reference,purpose\n";
        for bad in [
            "x,netwrk,TCP,ise-subnets,any,*,1,AzureCloud,always,r,p",
            "x,network,SCTP,ise-subnets,any,*,1,AzureCloud,always,r,p",
            "x,network,TCP,vnet,any,*,1,AzureCloud,always,r,p",
            "x,network,TCP,ise-subnets,anything,*,1,AzureCloud,always,r,p",
            "x,network,TCP,ise-subnets,any,*,1,AzureCloud,sometimes,r,p",
        ] {
            let text = format!("{header}{bad}\n");
            let rows = ise_model::embedded_csv::deserialize::<TableRow>(&text);
            assert!(rows.is_err(), "{bad}");
        }
    }

    /// The protocols column of a one-row table.
    fn protocols_of(collection: &str, protocols: &str) -> Result<Vec<RowProtocol>, String> {
        let header = "id,collection,protocols,source,destination_kind,destination,ports,clouds,condition,reference,purpose\n";
        let text = format!("{header}x,{collection},\"{protocols}\",ise-subnets,any,*,1,AzureCloud,always,r,p\n");
        let mut rows: Vec<TableRow> = ise_model::embedded_csv::deserialize(&text)?;
        Ok(rows.remove(0).protocols)
    }

    #[test]
    fn the_protocol_words_are_those_of_network_and_policy_application_rules() {
        use ApplicationProtocolType::{Http, Https};
        use NetworkProtocol::{Any, Icmp, Tcp, Udp};
        let accepted = [
            ("TCP", RowProtocol::Network(Tcp)),
            ("UDP", RowProtocol::Network(Udp)),
            ("ICMP", RowProtocol::Network(Icmp)),
            ("Any", RowProtocol::Network(Any)),
            ("Http", RowProtocol::Application(Http)),
            ("Https", RowProtocol::Application(Https)),
        ];
        // Each word is read as the same value whichever collection the row names (the collection
        // decides which kind may be used: see network_protocol and application_protocol_types).
        for collection in ["network", "application"] {
            for (word, value) in accepted {
                assert_eq!(protocols_of(collection, word).unwrap(), [value], "{collection}: {word}");
            }
            assert_eq!(
                protocols_of(collection, "TCP, UDP").unwrap(),
                [RowProtocol::Network(Tcp), RowProtocol::Network(Udp)]
            );
            // Mssql: classic application rules only (read::firewall_rules takes it there), never a
            // table row, whose rules also go into a policy. Words are exact, as ARM writes them.
            for word in [
                "Mssql", "MSSQL", "tcp", "Tcp", "udp", "icmp", "any", "*", "http", "HTTPS", "SCTP", "",
            ] {
                assert!(protocols_of(collection, word).is_err(), "{collection}: `{word}` must be refused");
            }
            assert!(protocols_of(collection, "Http,Mssql").is_err());
        }
        // The words are the ARM words of the Azure types.
        for (word, value) in accepted {
            let written = match value {
                RowProtocol::Network(p) => p.as_str(),
                RowProtocol::Application(p) => p.as_str(),
            };
            assert_eq!(written, word);
        }
    }
}
