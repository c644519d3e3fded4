//! Route semantics and the proof of the ISE route table. Longest prefix match over the user routes
//! (a service-tag route counts as its tag's prefixes, each at its own length; on an exact tie an
//! explicit prefix beats a regional tag beats a global tag) and Azure's system routes (the address
//! space to VnetLocal, 0.0.0.0/0 to Internet, the private ranges to None until a user 0.0.0.0/0
//! replaces them, the service-endpoint prefixes of the subnet); a user route beats a system route of
//! the same length. The proof: every dependency address of the region reaches Internet; in firewall
//! mode everything else outside the network goes to the firewall, in ExpressRoute mode to Internet.

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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteCheck {
    pub id: String,
    pub ok: bool,
    /// Where addresses that should not go there go instead (route name -> prefixes).
    pub wrong: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteReport {
    pub ok: bool,
    pub routes: usize,
    pub checks: Vec<RouteCheck>,
    pub notes: Vec<String>,
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
    notes: &mut Vec<String>,
) -> BTreeMap<Hop, IntervalSet<u32>> {
    // (prefix, rank, hop): lower rank wins a tie of equal length.
    let mut candidates: Vec<(Ipv4Net, u8, Hop)> = Vec::new();
    let user_default = routes.iter().any(|r| r.address_prefix == "0.0.0.0/0");
    for r in routes {
        let hop = Hop {
            next_hop: match r.next_hop_ip_address {
                Some(ip) if r.next_hop_type == NextHop::VirtualAppliance => Target::Appliance(ip),
                _ => Target::Hop(r.next_hop_type),
            },
            route: r.name.clone(),
        };
        let is_tag = r.address_prefix.parse::<Ipv4Net>().is_err();
        let rank = match (is_tag, tags.get(&r.address_prefix).is_some_and(|t| !t.region.is_empty())) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
        match route_prefixes(&r.address_prefix, tags) {
            Some(ps) => candidates.extend(ps.into_iter().map(|p| (p, rank, hop.clone()))),
            None => notes.push(format!(
                "route {} names `{}`, unknown to the service-tag file: ignored",
                r.name, r.address_prefix
            )),
        }
    }
    let system = |name: &str, next_hop: Target| Hop {
        next_hop,
        route: format!("system: {name}"),
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

fn wrong_hops(addresses: &IntervalSet<u32>, hops: &BTreeMap<Hop, IntervalSet<u32>>, expected: impl Fn(&Hop) -> bool) -> Vec<String> {
    hops.iter()
        .filter(|(h, _)| !expected(h))
        .filter_map(|(h, set)| {
            let bad = set.intersection(addresses);
            (!bad.is_empty()).then(|| {
                let p = bad.to_prefixes();
                let shown: Vec<String> = p.iter().take(8).map(ToString::to_string).collect();
                let more = if p.len() > 8 {
                    format!(" and {} more", p.len() - 8)
                } else {
                    String::new()
                };
                format!("{} via {} ({}): {}{more}", h.next_hop, h.route, bad.count(), shown.join(","))
            })
        })
        .collect()
}

/// Proves the route table of the environment's tunneling mode.
pub fn prove(routes: &[RouteEntry], env: &Environment, tags: &ServiceTags, requirements: &[Resolved]) -> RouteReport {
    let mut notes = Vec::new();
    let services = ise_model::resolve::service_endpoints(requirements);
    let hops = effective(routes, env, tags, &services, &mut notes);
    let mut checks = Vec::new();
    let mut dependencies = IntervalSet::<u32>::empty();
    // The VNet and the declared peered and on-premises networks are reached through the VNet,
    // peerings or the gateway, not the Internet or the firewall (as the firewall proof assumes too).
    let network = IntervalSet::from_prefixes(crate::plan::trusted_network(env));
    for r in requirements.iter().filter(|r| r.kind == Kind::Route) {
        let addresses = match &r.destination {
            Peer::Prefixes { prefixes, .. } if prefixes.iter().any(|p| p.prefix_len() == 0) => continue,
            Peer::Prefixes { prefixes, .. } => IntervalSet::from_prefixes(prefixes.iter().copied()),
            Peer::Tag { name } => match tags.get(name) {
                Some(t) => IntervalSet::from_prefixes(t.ipv4()),
                None => {
                    notes.push(format!("requirement {} names tag `{name}`, unknown to the service-tag file", r.id));
                    continue;
                }
            },
            _ => continue,
        };
        // A dependency inside the VNet's own space is local by definition.
        let addresses = addresses.difference(&network);
        let wrong = wrong_hops(&addresses, &hops, |h| h.next_hop == Target::Hop(NextHop::Internet));
        checks.push(RouteCheck {
            id: r.id.clone(),
            ok: wrong.is_empty(),
            wrong,
        });
        dependencies = dependencies.union(&addresses);
    }
    let endpoint_hop = |h: &Hop| h.next_hop == Target::ServiceEndpoint;
    let rest = IntervalSet::<u32>::full().difference(&network).difference(&dependencies);
    match env.forced_tunneling.mode {
        TunnelingMode::Firewall => {
            let firewall = env.forced_tunneling.firewall_private_ip.map(Target::Appliance);
            let wrong = wrong_hops(&rest, &hops, |h| Some(h.next_hop) == firewall || endpoint_hop(h));
            checks.push(RouteCheck {
                id: "other-traffic-to-firewall".into(),
                ok: wrong.is_empty(),
                wrong,
            });
        }
        TunnelingMode::ExpressRoute => {
            let wrong = wrong_hops(&rest, &hops, |h| h.next_hop == Target::Hop(NextHop::Internet) || endpoint_hop(h));
            checks.push(RouteCheck {
                id: "other-traffic-to-internet".into(),
                ok: wrong.is_empty(),
                wrong,
            });
        }
        TunnelingMode::None => {
            if !routes.is_empty() {
                notes.push("forced tunneling is `none`: the ISE subnets need no routes".into());
            }
        }
    }
    let ok = checks.iter().all(|c| c.ok) && notes.iter().all(|n| !n.contains("unknown"));
    RouteReport {
        ok,
        routes: routes.len(),
        checks,
        notes,
    }
}
