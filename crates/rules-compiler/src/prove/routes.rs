//! Route semantics and the proof of the ISE route table. Longest prefix match over the user routes
//! (a service-tag route counts as its tag's prefixes, each at its own length; on an exact tie an
//! explicit prefix beats a regional tag beats a global tag) and Azure's system routes (the address
//! space to VnetLocal, 0.0.0.0/0 to Internet, the private ranges to None until a user 0.0.0.0/0
//! replaces them, the service-endpoint prefixes of the subnet); a user route beats a system route of
//! the same length. The proof: every dependency address of the region reaches Internet; in firewall
//! mode everything else outside the network goes to the firewall, in ExpressRoute mode to Internet.

use super::findings::{ArtifactKind, Coverage, Finding, FindingKind, Proof, RuleRef};
use crate::azure::route::{NextHop, RouteEntry};
use crate::engine::intervals::IntervalSet;
use crate::read::routes::route_prefixes;
use ipnet::Ipv4Net;
use ise_model::env::{Environment, TunnelingMode};
use ise_model::requirement::Kind;
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// How the effective routes name Azure's system routes.
const SYSTEM: &str = "system: ";

/// Where a route sends a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Target {
    /// A next hop type without an address (`Internet`, `VnetLocal`, `None`, ...).
    Hop(NextHop),
    /// `VirtualAppliance` at this address.
    Appliance(Ipv4Addr),
    /// The system route of a service endpoint.
    ServiceEndpoint,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Hop(h) => write!(f, "{h}"),
            Target::Appliance(ip) => write!(f, "VirtualAppliance {ip}"),
            Target::ServiceEndpoint => f.write_str("VirtualNetworkServiceEndpoint"),
        }
    }
}

/// Where a packet to an address goes, and which route sent it there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hop {
    pub next_hop: Target,
    pub route: String,
}

impl Hop {
    /// Where a user route sends its addresses.
    pub fn of(r: &RouteEntry) -> Hop {
        Hop {
            next_hop: match r.next_hop_ip_address {
                Some(ip) if r.next_hop_type == NextHop::VirtualAppliance => Target::Appliance(ip),
                _ => Target::Hop(r.next_hop_type),
            },
            route: r.name.clone(),
        }
    }
}

/// Service-endpoint service -> service tag (its regional variant is preferred).
fn endpoint_tag(service: &str) -> &str {
    match service {
        "Microsoft.Sql" => "Sql",
        "Microsoft.Storage" => "Storage",
        "Microsoft.ServiceBus" => "ServiceBus",
        "Microsoft.KeyVault" => "AzureKeyVault",
        "Microsoft.EventHub" => "EventHub",
        other => other,
    }
}

/// The effective next hop of every IPv4 address: disjoint sets per hop.
pub fn effective(
    routes: &[RouteEntry],
    env: &Environment,
    tags: &ServiceTags,
    service_endpoints: &[String],
    findings: &mut Vec<Finding>,
) -> BTreeMap<Hop, IntervalSet<u32>> {
    // (prefix, rank, hop): lower rank wins a tie of equal length.
    let mut candidates: Vec<(Ipv4Net, u8, Hop)> = Vec::new();
    let user_default = routes.iter().any(|r| r.address_prefix == "0.0.0.0/0");
    for r in routes {
        let hop = Hop::of(r);
        let is_tag = r.address_prefix.parse::<Ipv4Net>().is_err();
        let rank = match (is_tag, tags.get(&r.address_prefix).is_some_and(|t| !t.region.is_empty())) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
        match route_prefixes(&r.address_prefix, tags) {
            Some(ps) => candidates.extend(ps.into_iter().map(|p| (p, rank, hop.clone()))),
            None => {
                let mut message = format!(
                    "route {} names `{}`, unknown to the service-tag file: ignored",
                    r.name, r.address_prefix
                );
                if let Some(near) = tags.suggest(&r.address_prefix) {
                    message += &format!(" (did you mean `{near}`?)");
                }
                findings.push(Finding::new(FindingKind::UnknownRouteTag, ArtifactKind::Routes, message).rule(RuleRef::named(&r.name)));
            }
        }
    }
    let system = |name: &str, next_hop: Target| Hop {
        next_hop,
        route: format!("{SYSTEM}{name}"),
    };
    for net in &env.virtual_network.address_space {
        candidates.push((*net, 3, system("virtual network", Target::Hop(NextHop::VnetLocal))));
    }
    let location = env.location();
    for svc in service_endpoints {
        let tag = endpoint_tag(svc);
        let regional = format!("{tag}.{}", location.tag_suffix());
        let prefixes = tags.get(&regional).or_else(|| tags.get(tag)).map(|t| t.ipv4()).unwrap_or_default();
        candidates.extend(
            prefixes
                .into_iter()
                .map(|p| (p, 3, system(&format!("service endpoint {svc}"), Target::ServiceEndpoint))),
        );
    }
    candidates.push((
        "0.0.0.0/0".parse().expect("valid"),
        3,
        system("default", Target::Hop(NextHop::Internet)),
    ));
    if !user_default {
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"] {
            candidates.push((p.parse().expect("valid"), 3, system("private range", Target::Hop(NextHop::None))));
        }
    }
    candidates.sort_by(|a, b| b.0.prefix_len().cmp(&a.0.prefix_len()).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut painted = IntervalSet::<u32>::empty();
    let mut out: BTreeMap<Hop, IntervalSet<u32>> = BTreeMap::new();
    for (prefix, _, hop) in candidates {
        let fresh = IntervalSet::from_prefix(prefix).difference(&painted);
        if !fresh.is_empty() {
            painted = painted.union(&fresh);
            let slot = out.entry(hop).or_default();
            *slot = slot.union(&fresh);
        }
    }
    out
}

/// Addresses of `addresses` whose hop is not `expected`, one finding per route that sends them
/// elsewhere.
fn wrong_hops(
    check: &str,
    addresses: &IntervalSet<u32>,
    hops: &BTreeMap<Hop, IntervalSet<u32>>,
    expected: impl Fn(&Hop) -> bool,
    wanted: &str,
) -> Vec<Finding> {
    hops.iter()
        .filter(|(h, _)| !expected(h))
        .filter_map(|(h, set)| {
            let bad = set.intersection(addresses);
            (!bad.is_empty()).then(|| {
                let message = format!(
                    "{} addresses of {check} go to {} via {} instead of {wanted}",
                    bad.count(),
                    h.next_hop,
                    h.route
                );
                let finding = Finding::new(FindingKind::WrongNextHop, ArtifactKind::Routes, message)
                    .requirements(vec![check.to_string()])
                    .addresses(bad.to_prefixes());
                if h.route.starts_with(SYSTEM) {
                    finding
                } else {
                    finding.rule(RuleRef::named(&h.route))
                }
            })
        })
        .collect()
}

/// Proves the route table of the environment's tunneling mode.
pub fn prove(routes: &[RouteEntry], env: &Environment, tags: &ServiceTags, requirements: &[Resolved]) -> Proof {
    let mut findings = Vec::new();
    let services = ise_model::resolve::service_endpoints(requirements);
    let hops = effective(routes, env, tags, &services, &mut findings);
    let mut coverage = Vec::new();
    let mut check = |id: &str, wrong: Vec<Finding>, findings: &mut Vec<Finding>| {
        let used: Vec<String> = Vec::new();
        coverage.push(Coverage {
            id: id.to_string(),
            direction: None,
            covered: wrong.is_empty(),
            rules: used,
        });
        findings.extend(wrong);
    };
    let mut dependencies = IntervalSet::<u32>::empty();
    // The VNet and the declared peered and on-premises networks are reached through the VNet,
    // peerings or the gateway, not the Internet or the firewall (as the firewall proof assumes too).
    let network = IntervalSet::from_prefixes(crate::plan::trusted_network(env));
    let internet = |h: &Hop| h.next_hop == Target::Hop(NextHop::Internet);
    for r in requirements.iter().filter(|r| r.kind == Kind::Route) {
        let addresses = match &r.destination {
            Peer::Prefixes { prefixes, .. } if prefixes.iter().any(|p| p.prefix_len() == 0) => continue,
            Peer::Prefixes { prefixes, .. } => IntervalSet::from_prefixes(prefixes.iter().copied()),
            Peer::Tag { name } => match tags.get(name) {
                Some(t) => IntervalSet::from_prefixes(t.ipv4()),
                None => {
                    let message = format!("requirement {} names tag `{name}`, unknown to the service-tag file", r.id);
                    findings.push(
                        Finding::new(FindingKind::RequirementTagMissing, ArtifactKind::Routes, message).requirements(vec![r.id.clone()]),
                    );
                    continue;
                }
            },
            _ => continue,
        };
        // A dependency inside the VNet's own space is local by definition.
        let addresses = addresses.difference(&network);
        let wrong = wrong_hops(&r.id, &addresses, &hops, internet, "Internet");
        check(&r.id, wrong, &mut findings);
        dependencies = dependencies.union(&addresses);
    }
    let endpoint_hop = |h: &Hop| h.next_hop == Target::ServiceEndpoint;
    let rest = IntervalSet::<u32>::full().difference(&network).difference(&dependencies);
    match env.forced_tunneling.mode {
        TunnelingMode::Firewall => {
            let firewall = env.forced_tunneling.firewall_private_ip.map(Target::Appliance);
            let wanted = firewall.map(|f| f.to_string()).unwrap_or_default();
            let id = "other-traffic-to-firewall";
            let wrong = wrong_hops(id, &rest, &hops, |h| Some(h.next_hop) == firewall || endpoint_hop(h), &wanted);
            check(id, wrong, &mut findings);
        }
        TunnelingMode::ExpressRoute => {
            let id = "other-traffic-to-internet";
            let wrong = wrong_hops(id, &rest, &hops, |h| internet(h) || endpoint_hop(h), "Internet");
            check(id, wrong, &mut findings);
        }
        TunnelingMode::None => {
            if !routes.is_empty() {
                let message = format!("forced tunneling is `none`, yet the table has {} route(s)", routes.len());
                findings.push(Finding::new(FindingKind::UnneededRoutes, ArtifactKind::Routes, message));
            }
        }
    }
    Proof::new(ArtifactKind::Routes, routes.len(), coverage, findings)
}
