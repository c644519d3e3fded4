//! Resolves the requirement table for one environment: keeps the rows whose condition holds (access
//! endpoint, custom DNS, tunneling mode, table version), replaces tags that do not work in NSGs in
//! the environment's cloud by the published address lists, admits the declared callers on the 443
//! caller rows, names the address space where forced tunneling makes the VirtualNetwork tag mean
//! the Internet, and expands outbound destinations. The result is still symbolic where the
//! table names service tags: turning tags into rules is the compiler's job.

use crate::cloud::CloudId;
use crate::env::{AccessEndpoint, Environment, OutboundPolicy, TunnelingMode};
use crate::iplists;
use crate::ports::PortRange;
use crate::requirement::{self, Condition, EndpointSpec, Kind, Protocol, Requirement};
use ipnet::Ipv4Net;
use serde::Serialize;

/// A source or destination with the environment applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Peer {
    /// A service tag, as NSGs and routes name it.
    Tag { name: String },
    /// Explicit prefixes and where they come from.
    Prefixes { label: String, prefixes: Vec<Ipv4Net> },
    /// A service-endpoint service (`Microsoft.Sql`).
    Service { name: String },
    /// An Azure Firewall FQDN tag.
    FqdnTag { name: String },
}

impl Peer {
    fn prefixes(label: impl Into<String>, mut prefixes: Vec<Ipv4Net>) -> Self {
        prefixes.sort();
        prefixes.dedup();
        Peer::Prefixes {
            label: label.into(),
            prefixes,
        }
    }

    /// Short form for tables: the tag, the prefixes when few, else the label and a count.
    pub fn short(&self) -> String {
        match self {
            Peer::Tag { name } | Peer::Service { name } => name.clone(),
            Peer::FqdnTag { name } => format!("fqdntag:{name}"),
            Peer::Prefixes { label, prefixes } if prefixes.len() > 3 => format!("{label} ({} prefixes)", prefixes.len()),
            Peer::Prefixes { prefixes, .. } => prefixes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        }
    }
}

/// One requirement as it applies to the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    /// Unique within the environment: the table id, or `out-dest-<name>` per outbound destination.
    pub id: String,
    /// The table row this comes from.
    pub requirement: String,
    pub kind: Kind,
    pub source: Peer,
    pub destination: Peer,
    /// `*`, `Tcp`, `Udp`, `Http,Https`; none (written `""`) for routes and service endpoints.
    #[serde(serialize_with = "requirement::serialize_protocol")]
    pub protocol: Option<Protocol>,
    pub ports: Vec<PortRange>,
    pub purpose: String,
    pub reference: String,
    /// What the environment changed (substitutions, fallbacks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The caller rows of the table: request and webhook triggers and run history on 443, from inside
/// the network (internal ISE) or from the Internet (external ISE). Declared callers are admitted
/// here and nowhere else.
pub const INTERNAL_CALLERS_ROW: &str = "in-triggers-443-internal";
pub const EXTERNAL_CALLERS_ROW: &str = "in-triggers-443-external";
/// The route for the managed connectors' addresses of the ISE region (seed 002).
pub const CONNECTOR_ROUTE_ROW: &str = "route-connector-ips";
/// An external ISE's route for the published connector list its NSG admits on every port
/// (`in-connector-outbound-ips`), where [`CONNECTOR_ROUTE_ROW`] routes the regional tag.
pub const CONNECTOR_LIST_ROUTE_ROW: &str = "route-connector-outbound-ips";

fn applies(req: &Requirement, env: &Environment) -> bool {
    let mode = env.forced_tunneling.mode;
    // An external ISE's declared internal callers (peered networks, on premises) reach 443 too: the
    // external row admits only the Internet or the external callers.
    if req.id == INTERNAL_CALLERS_ROW && !env.internal_callers.is_empty() {
        return true;
    }
    match req.condition {
        Condition::Always => true,
        Condition::Internal => env.access_endpoint == AccessEndpoint::Internal,
        Condition::External => env.access_endpoint == AccessEndpoint::External,
        Condition::CustomDns => !env.custom_dns_servers.is_empty(),
        Condition::ForcedTunneling => mode.is_tunneled(),
        Condition::Expressroute => mode == TunnelingMode::ExpressRoute,
        Condition::Firewall => mode == TunnelingMode::Firewall,
        Condition::FirewallExternal => mode == TunnelingMode::Firewall && env.access_endpoint == AccessEndpoint::External,
        Condition::FirewallOrRestricted => mode == TunnelingMode::Firewall || env.outbound_policy == OutboundPolicy::Restricted,
    }
}

/// The regional tag that stands in for a published list the docs do not give for a location.
fn fallback_tag(kind: &str) -> &'static str {
    match kind {
        "connector-outbound" => "AzureConnectors",
        "apim-control-plane" => "ApiManagement",
        _ => "LogicApps",
    }
}

fn list_label(kind: &str, location: &str) -> String {
    let what = match kind {
        "logicapps-inbound" => "Logic Apps inbound addresses",
        "logicapps-outbound" => "Logic Apps outbound addresses",
        "connector-outbound" => "managed connector outbound addresses",
        _ => "API Management control plane addresses",
    };
    format!("{what} of {location}")
}

/// Published lists for `kinds`, or the regional tag when none is published for the location.
fn published(env: &Environment, kinds: &[String], notes: &mut Vec<String>) -> Peer {
    let loc = env.location();
    let mut prefixes = Vec::new();
    for kind in kinds {
        let list = iplists::published(env.cloud, &loc.name, kind);
        if list.is_empty() {
            let tag = format!("{}.{}", fallback_tag(kind), loc.tag_suffix());
            notes.push(format!("no published {} list: regional tag {tag} used", kind));
            return Peer::Tag { name: tag };
        }
        prefixes.extend(list);
    }
    let label = kinds
        .iter()
        .map(|k| list_label(k, &loc.display_name))
        .collect::<Vec<_>>()
        .join(" + ");
    Peer::prefixes(label, prefixes)
}

/// Whether the environment's cloud has its NSGs admit the managed connectors by the
/// `AzureConnectors` tag (not by a published list, as in Government).
fn connectors_admitted_by_tag(env: &Environment) -> bool {
    !env.cloud.facts().nsg_tag_replacements.contains_key("AzureConnectors")
}

fn peer(spec: &EndpointSpec, env: &Environment, kind: Kind, notes: &mut Vec<String>) -> Peer {
    match spec {
        EndpointSpec::Vnet => Peer::prefixes(
            format!("address space of {}", env.virtual_network.name),
            env.virtual_network.address_space.clone(),
        ),
        EndpointSpec::Tag(t) => {
            let replacements = &env.cloud.facts().nsg_tag_replacements;
            match replacements.get(t) {
                Some(kinds) if matches!(kind, Kind::Inbound | Kind::Outbound) => {
                    notes.push(format!(
                        "{t} does not work in NSGs in {}: replaced by the published addresses",
                        env.cloud.facts().display_name
                    ));
                    published(env, kinds, notes)
                }
                _ => Peer::Tag { name: t.clone() },
            }
        }
        EndpointSpec::Ips(kinds) => published(env, kinds, notes),
        EndpointSpec::CustomDns => Peer::prefixes(
            "custom DNS servers",
            env.custom_dns_servers.iter().map(|a| Ipv4Net::from(*a)).collect(),
        ),
        EndpointSpec::Prefix(p) => Peer::prefixes(p.to_string(), vec![*p]),
        // No callers declared: the Internet, which no route can send back to the Internet while
        // 0.0.0.0/0 goes to the firewall (validate warns, the route proof finds it).
        EndpointSpec::ExternalCallers => Peer::prefixes("external callers", env.external_callers.clone()),
        EndpointSpec::Service(s) => Peer::Service { name: s.clone() },
        EndpointSpec::FqdnTag(t) => Peer::FqdnTag { name: t.clone() },
        EndpointSpec::Destinations => unreachable!("destinations are expanded by the caller"),
    }
}

fn resolve_row(req: &Requirement, env: &Environment) -> Vec<Resolved> {
    let base =
        |source: Peer, destination: Peer, protocol: Option<Protocol>, ports: Vec<PortRange>, id: String, notes: Vec<String>| Resolved {
            id,
            requirement: req.id.clone(),
            kind: req.kind,
            source,
            destination,
            protocol,
            ports,
            purpose: req.purpose.clone(),
            reference: req.reference.clone(),
            notes,
        };
    let mut notes = Vec::new();
    let source = peer(&req.source, env, req.kind, &mut notes);
    if req.destination == EndpointSpec::Destinations {
        return env
            .outbound_destinations
            .iter()
            .map(|d| {
                let dest = Peer::prefixes(format!("outbound destination {}", d.name), d.prefixes.clone());
                let mut r = base(
                    source.clone(),
                    dest,
                    Some(d.protocol.into()),
                    d.ports.clone(),
                    format!("out-dest-{}", d.name),
                    notes.clone(),
                );
                r.purpose = format!("{} ({})", req.purpose, d.name);
                r
            })
            .collect();
    }
    let mut source = source;
    if req.id == EXTERNAL_CALLERS_ROW && !env.external_callers.is_empty() {
        source = Peer::prefixes("external callers", env.external_callers.clone());
        notes.push("Internet narrowed to externalCallers".into());
    }
    if req.id == INTERNAL_CALLERS_ROW && env.access_endpoint == AccessEndpoint::External {
        source = Peer::prefixes("internal callers", env.internal_callers.clone());
        notes.push("external ISE: admits the declared internalCallers".into());
    }
    let admitted_by_tag = connectors_admitted_by_tag(env);
    let listed = !iplists::published(env.cloud, &env.location().name, "connector-outbound").is_empty();
    if req.id == CONNECTOR_LIST_ROUTE_ROW && !(admitted_by_tag && listed) {
        // The connector route already names the published list, or (no list for the region) the
        // regional tag this row would fall back to: a second route for one prefix is one Azure
        // refuses (RouteConflict).
        return Vec::new();
    }
    let destination = if req.id == CONNECTOR_ROUTE_ROW && admitted_by_tag {
        // Seed 002 asks for a route for every connector address of the ISE region in the
        // service-tag download; the published list is older and smaller, and the replies to the
        // tag's other addresses, which the NSG admits, would go to the firewall. (An external ISE
        // admits the published list too: CONNECTOR_LIST_ROUTE_ROW routes it.)
        let tag = format!("{}.{}", fallback_tag("connector-outbound"), env.location().tag_suffix());
        notes.push(format!(
            "the NSG admits the AzureConnectors tag: the route covers the region's tag {tag}"
        ));
        Peer::Tag { name: tag }
    } else {
        peer(&req.destination, env, req.kind, &mut notes)
    };
    let ports = req.ports.clone().unwrap_or_default();
    vec![base(source, destination, req.protocol, ports, req.id.clone(), notes)]
}

/// Under forced tunneling the VirtualNetwork tag takes in the routes' 0.0.0.0/0, i.e. the whole
/// Internet, so an NSG row naming it is written with the network it means instead: the ISE's own
/// address space, plus the declared internal callers on the caller row (and nowhere else).
fn untunneled(mut r: Resolved, env: &Environment) -> Resolved {
    let nsg_row = matches!(r.kind, Kind::Inbound | Kind::Outbound);
    if !nsg_row || !env.forced_tunneling.mode.is_tunneled() {
        return r;
    }
    let vnet = &env.virtual_network;
    let mut replaced = false;
    for (peer, caller_end) in [(&mut r.source, r.id == INTERNAL_CALLERS_ROW), (&mut r.destination, false)] {
        if !matches!(peer, Peer::Tag { name } if name == "VirtualNetwork") {
            continue;
        }
        replaced = true;
        *peer = if caller_end && !env.internal_callers.is_empty() {
            let label = format!("address space of {} + internal callers", vnet.name);
            Peer::prefixes(label, vnet.address_space.iter().chain(&env.internal_callers).copied().collect())
        } else {
            Peer::prefixes(format!("address space of {}", vnet.name), vnet.address_space.clone())
        };
    }
    if replaced {
        r.notes
            .push("forced tunneling: VirtualNetwork would include 0.0.0.0/0, the address space is named instead".into());
    }
    r
}

/// The requirements that apply to `env` under table version `version` (the latest when `None`).
pub fn resolve(env: &Environment, version: Option<&str>) -> Vec<Resolved> {
    let versions = requirement::table_versions();
    let cutoff = version
        .and_then(|v| versions.iter().position(|x| x == v))
        .unwrap_or(versions.len() - 1);
    requirement::model()
        .iter()
        .filter(|r| versions.iter().position(|x| *x == r.since).is_some_and(|i| i <= cutoff))
        .filter(|r| {
            r.until
                .as_ref()
                .is_none_or(|u| versions.iter().position(|x| x == u).is_some_and(|i| i > cutoff))
        })
        .filter(|r| applies(r, env))
        .flat_map(|r| resolve_row(r, env))
        .map(|r| untunneled(r, env))
        .collect()
}

/// Whether a cloud's NSGs can use this tag (Government cannot use the three Logic Apps tags).
pub fn tag_works_in_nsg(cloud: CloudId, tag: &str) -> bool {
    !cloud.facts().nsg_tag_replacements.contains_key(tag)
}

/// The service-endpoint services the requirements ask for (`Microsoft.Sql`, ...), sorted.
pub fn service_endpoints(reqs: &[Resolved]) -> Vec<String> {
    let mut services: Vec<String> = reqs
        .iter()
        .filter(|r| r.kind == Kind::ServiceEndpoint)
        .filter_map(|r| match &r.destination {
            Peer::Service { name } => Some(name.clone()),
            _ => None,
        })
        .collect();
    services.sort();
    services
}
