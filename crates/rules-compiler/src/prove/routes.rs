//! Route semantics and the proof of the ISE route table. Longest prefix match over the user routes
//! (a service-tag route counts as its tag's prefixes, each at its own length; on an exact tie an
//! explicit prefix beats a regional tag beats a global tag) and Azure's system routes (the address
//! space to VnetLocal, 0.0.0.0/0 to Internet, the private ranges to None until a user 0.0.0.0/0
//! replaces them, the service-endpoint prefixes of the subnet), and in `expressRoute` mode the
//! 0.0.0.0/0 ExpressRoute advertises over BGP to the gateway; on equal prefixes a user route beats
//! BGP beats a system route. The proof: every dependency address of the region reaches Internet;
//! the ISE's destinations inside the VNet (its subnets, custom DNS servers) stay VnetLocal; in
//! firewall mode everything else outside the network goes to the firewall, in ExpressRoute mode to
//! Internet.

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

/// The route row for the external ISE's callers (firewall mode).
pub(crate) const EXTERNAL_CALLERS_ROUTE: &str = "route-external-callers";

/// The route checks of the tunneling modes' default route: everything else leaves through the
/// firewall (firewall mode), or through the Internet rather than the BGP default (ExpressRoute).
pub const OTHER_TRAFFIC_TO_FIREWALL: &str = "other-traffic-to-firewall";
pub const OTHER_TRAFFIC_TO_INTERNET: &str = "other-traffic-to-internet";

/// How the effective routes name Azure's system routes.
const SYSTEM: &str = "system: ";

/// The route ExpressRoute advertises over BGP in `expressRoute` mode: 0.0.0.0/0 to the gateway.
/// On equal prefixes a user route beats BGP beats system routes, so without the user 0.0.0.0/0
/// route to Internet the subnets' Internet-bound traffic goes on-premises.
pub const BGP_DEFAULT: &str = "bgp: 0.0.0.0/0 from ExpressRoute";

/// Ranks of equal prefixes (lower wins): user routes 0-2 (explicit, regional tag, global tag),
/// then routes learned over BGP, then Azure's system routes.
const RANK_BGP: u8 = 3;
const RANK_SYSTEM: u8 = 4;

/// Whether a hop is a route of no user route table (Azure's system routes, BGP).
fn is_platform(route: &str) -> bool {
    route.starts_with(SYSTEM) || route == BGP_DEFAULT
}

/// The BGP-learned default of the environment's mode, if any.
pub fn bgp_default(env: &Environment) -> Option<Hop> {
    (env.forced_tunneling.mode == TunnelingMode::ExpressRoute).then(|| Hop {
        next_hop: Target::Hop(NextHop::VirtualNetworkGateway),
        route: BGP_DEFAULT.to_string(),
    })
}

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
    /// Azure's default that drops the private ranges when no user 0.0.0.0/0 replaces it: a
    /// peered or on-premises network's own route (peering, the gateway's) replaces it too.
    pub fn is_private_range_default(&self) -> bool {
        self.next_hop == Target::Hop(NextHop::None) && self.route.starts_with(SYSTEM)
    }

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

/// The prefixes of a service endpoint's system route: the service's regional tag (else its
/// global one) in the environment's location.
fn endpoint_prefixes(service: &str, env: &Environment, tags: &ServiceTags) -> Vec<Ipv4Net> {
    let tag = endpoint_tag(service);
    let regional = format!("{tag}.{}", env.location().tag_suffix());
    tags.get(&regional).or_else(|| tags.get(tag)).map(|t| t.ipv4()).unwrap_or_default()
}

/// The effective next hop of every IPv4 address: disjoint sets per hop. `bgp_propagates`: the
/// table lets BGP routes reach the subnets (`disableBgpRoutePropagation` false or unstated).
pub fn effective(
    routes: &[RouteEntry],
    env: &Environment,
    tags: &ServiceTags,
    service_endpoints: &[String],
    bgp_propagates: bool,
    findings: &mut Vec<Finding>,
) -> BTreeMap<Hop, IntervalSet<u32>> {
    // (prefix, rank, hop): lower rank wins a tie of equal length.
    let mut candidates: Vec<(Ipv4Net, u8, Hop)> = Vec::new();
    let user_default = routes.iter().any(|r| r.address_prefix == "0.0.0.0/0");
    for r in routes {
        let hop = Hop::of(r);
        let is_tag = ise_model::ip_text::prefix(&r.address_prefix).is_none();
        let rank = match (is_tag, tags.get(&r.address_prefix).is_some_and(|t| !t.region.is_empty())) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
        if is_tag && tags.get(&r.address_prefix).is_some() && !tags.tag_works_in(&r.address_prefix, "UDR") {
            let message = format!(
                "route {} names `{}`, which the {} tag file does not mark usable in routes (UDR is not among its networkFeatures): ignored",
                r.name, r.address_prefix, tags.cloud
            );
            findings.push(Finding::new(FindingKind::TagNotUsableInRoute, ArtifactKind::Routes, message).rule(RuleRef::named(&r.name)));
            continue;
        }
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
    // A table that disables BGP propagation keeps ExpressRoute's default off the subnets.
    if let Some(hop) = bgp_default(env).filter(|_| bgp_propagates) {
        candidates.push(("0.0.0.0/0".parse().expect("valid"), RANK_BGP, hop));
    }
    let system = |name: &str, next_hop: Target| Hop {
        next_hop,
        route: format!("{SYSTEM}{name}"),
    };
    for net in &env.virtual_network.address_space {
        candidates.push((*net, RANK_SYSTEM, system("virtual network", Target::Hop(NextHop::VnetLocal))));
    }
    for svc in service_endpoints {
        candidates.extend(
            endpoint_prefixes(svc, env, tags)
                .into_iter()
                .map(|p| (p, RANK_SYSTEM, system(&format!("service endpoint {svc}"), Target::ServiceEndpoint))),
        );
    }
    candidates.push((
        "0.0.0.0/0".parse().expect("valid"),
        RANK_SYSTEM,
        system("default", Target::Hop(NextHop::Internet)),
    ));
    if !user_default {
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"] {
            candidates.push((
                p.parse().expect("valid"),
                RANK_SYSTEM,
                system("private range", Target::Hop(NextHop::None)),
            ));
        }
    }
    paint(candidates)
}

/// The effective routes of the ISE subnets as `explain` follows them and the firewall proof takes
/// them: the table's routes, the system routes of the service endpoints the requirements enable,
/// BGP taken to propagate (the stricter reading). Unknown route tags route nothing here; they are
/// the route proof's findings.
pub fn subnet_routes(
    routes: &[RouteEntry],
    env: &Environment,
    tags: &ServiceTags,
    requirements: &[Resolved],
) -> BTreeMap<Hop, IntervalSet<u32>> {
    subnet_routes_noting(routes, env, tags, requirements, &mut Vec::new())
}

/// [`subnet_routes`], with the findings about routes it ignores (a tag unknown to the tag file,
/// or not usable in routes) added to `findings`.
pub fn subnet_routes_noting(
    routes: &[RouteEntry],
    env: &Environment,
    tags: &ServiceTags,
    requirements: &[Resolved],
    findings: &mut Vec<Finding>,
) -> BTreeMap<Hop, IntervalSet<u32>> {
    let services = ise_model::resolve::service_endpoints(requirements);
    effective(routes, env, tags, &services, true, findings)
}

/// The addresses the subnets' routes send anywhere but to the environment's firewall (`firewall`,
/// its private IP; `None`: every address): the virtual network's own space (Azure's `VnetLocal`),
/// the prefixes of the subnets' service endpoints (their system routes go to the service directly;
/// azure-semantics.md), and whatever a route sends to the Internet, a gateway, another appliance
/// or `None`. Longest prefix match decides, so a longer route can take addresses back.
pub fn firewall_bypass_addresses(hops: &BTreeMap<Hop, IntervalSet<u32>>, firewall: Option<Ipv4Addr>) -> IntervalSet<u32> {
    hops.iter()
        .filter(|(h, _)| firewall.is_none_or(|ip| h.next_hop != Target::Appliance(ip)))
        .fold(IntervalSet::empty(), |acc, (_, set)| acc.union(set))
}

/// [`firewall_bypass_addresses`] of the plan's own route table: what `compile` proves against.
pub fn compiled_firewall_bypass(plan: &crate::plan::Plan, env: &Environment, tags: &ServiceTags) -> IntervalSet<u32> {
    let entries: Vec<RouteEntry> = plan.routes.iter().map(|r| r.entry()).collect();
    firewall_bypass_addresses(
        &subnet_routes(&entries, env, tags, &plan.requirements),
        env.forced_tunneling.firewall_private_ip,
    )
}

/// Longest prefix match over the candidates, as disjoint address sets per hop. Prefixes are nested
/// or disjoint, so each address goes to the innermost prefix holding it (of one prefix listed
/// again, the lowest rank, then hop): one sweep in address order with a stack of the enclosing
/// prefixes, instead of painting prefix after prefix over an ever longer painted set.
fn paint(mut candidates: Vec<(Ipv4Net, u8, Hop)>) -> BTreeMap<Hop, IntervalSet<u32>> {
    // Outer prefixes first, so a stack holds the nesting; equal prefixes by rank and hop.
    candidates.sort_by(|a, b| {
        (a.0.network(), a.0.prefix_len(), a.1)
            .cmp(&(b.0.network(), b.0.prefix_len(), b.1))
            .then(a.2.cmp(&b.2))
    });
    candidates.dedup_by(|later, first| later.0.trunc() == first.0.trunc());
    let mut pieces: BTreeMap<&Hop, Vec<(u32, u32)>> = BTreeMap::new();
    let mut emit = |lo: u64, hi: u64, hop| {
        if lo <= hi {
            pieces.entry(hop).or_default().push((lo as u32, hi as u32));
        }
    };
    // The enclosing prefixes (last address, hop), innermost last; the first address not given a hop.
    let mut stack: Vec<(u64, &Hop)> = Vec::new();
    let mut next: u64 = 0;
    for (net, _, hop) in &candidates {
        let (lo, hi) = (u64::from(u32::from(net.network())), u64::from(u32::from(net.broadcast())));
        while let Some(&(end, top)) = stack.last() {
            if end >= lo {
                break;
            }
            emit(next, end, top);
            next = next.max(end + 1);
            stack.pop();
        }
        // What the enclosing prefix holds before this one starts.
        if let (Some(&(_, top)), true) = (stack.last(), next < lo) {
            emit(next, lo - 1, top);
        }
        next = lo;
        stack.push((hi, hop));
    }
    while let Some((end, top)) = stack.pop() {
        emit(next, end, top);
        next = next.max(end + 1);
    }
    pieces
        .into_iter()
        .map(|(hop, v)| (hop.clone(), IntervalSet::from_intervals(v)))
        .collect()
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
                let count = match bad.count() {
                    1 => "1 address".to_string(),
                    n => format!("{n} addresses"),
                };
                let message = format!("{count} of {check} go to {} via {} instead of {wanted}", h.next_hop, h.route);
                let finding = Finding::new(FindingKind::WrongNextHop, ArtifactKind::Routes, message)
                    .requirements(vec![check.to_string()])
                    .addresses(bad.to_prefixes());
                if is_platform(&h.route) {
                    finding
                } else {
                    finding.rule(RuleRef::named(&h.route))
                }
            })
        })
        .collect()
}

/// Whether a user route drops the packets (next hop `None`). Azure's own `None` defaults for the
/// private ranges give way to peering and gateway routes the table cannot show; a user route is
/// the table's own decision.
fn dropped_by_user_route(h: &Hop) -> bool {
    h.next_hop == Target::Hop(NextHop::None) && !is_platform(&h.route)
}

/// Proves the route table of the environment's tunneling mode, BGP routes propagated to the
/// subnets (isenet's tables, and the stricter reading of a table that does not say).
pub fn prove(routes: &[RouteEntry], env: &Environment, tags: &ServiceTags, requirements: &[Resolved]) -> Proof {
    prove_table(routes, true, env, tags, requirements)
}

/// [`prove`] of a table read with its `disableBgpRoutePropagation` (`bgp_propagates` its negation).
pub fn prove_table(routes: &[RouteEntry], bgp_propagates: bool, env: &Environment, tags: &ServiceTags, requirements: &[Resolved]) -> Proof {
    let mut findings = Vec::new();
    let services = ise_model::resolve::service_endpoints(requirements);
    let hops = effective(routes, env, tags, &services, bgp_propagates, &mut findings);
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
            // An external ISE without declared callers (or with 0.0.0.0/0 among them) answers the
            // whole Internet: every reply must leave through the Internet, which a route to the
            // firewall forbids.
            Peer::Prefixes { prefixes, .. } if r.requirement == EXTERNAL_CALLERS_ROUTE => match prefixes.is_empty() {
                true => IntervalSet::full(),
                false => IntervalSet::from_prefixes(prefixes.iter().copied()),
            },
            Peer::Prefixes { prefixes, .. } if prefixes.iter().any(|p| p.prefix_len() == 0) => continue,
            Peer::Prefixes { prefixes, .. } => IntervalSet::from_prefixes(prefixes.iter().copied()),
            Peer::Tag { name } => match crate::prove::resolver::tag_set(tags, name) {
                Some(t) => t,
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
        // A caller inside a service endpoint's prefixes is an Azure service answered over the
        // backbone, not through the firewall.
        let wrong = match r.requirement == EXTERNAL_CALLERS_ROUTE {
            true => wrong_hops(
                &r.id,
                &addresses,
                &hops,
                |h| internet(h) || h.next_hop == Target::ServiceEndpoint,
                "Internet",
            ),
            false => wrong_hops(&r.id, &addresses, &hops, internet, "Internet"),
        };
        check(&r.id, wrong, &mut findings);
        dependencies = dependencies.union(&addresses);
    }
    // What the ISE needs inside its VNet (between its subnets, Redis among its role instances, the
    // custom DNS servers in the address space) must stay VnetLocal: a longer user prefix (a /24
    // beats the address space's /16) would send it to an appliance or drop it. Destinations
    // outside the address space (on-premises DNS, peerings, outbound destinations) take paths the
    // table cannot show (peering and gateway routes), but a user route to `None` drops them.
    let space = IntervalSet::from_prefixes(env.virtual_network.address_space.iter().copied());
    let subnets = IntervalSet::from_prefixes(env.subnet_prefixes());
    let local = |h: &Hop| h.next_hop == Target::Hop(NextHop::VnetLocal);
    for r in requirements.iter().filter(|r| r.kind == Kind::Outbound) {
        let destination = match &r.destination {
            Peer::Tag { name } if name == "VirtualNetwork" => space.clone(),
            Peer::Prefixes { prefixes, .. } => IntervalSet::from_prefixes(prefixes.iter().copied()),
            _ => continue,
        };
        // A row naming the whole network (VirtualNetwork, or the address space it is written as
        // under tunneling) means the ISE's own instances, which are in its subnets.
        let addresses = if space.difference(&destination).is_empty() {
            subnets.clone()
        } else {
            destination.intersection(&space)
        };
        let outside = match destination.is_full() {
            // 0.0.0.0/0 is the whole Internet, whose routing the mode's own check covers.
            true => IntervalSet::empty(),
            false => destination.difference(&space),
        };
        // A check of its own (counted in the summary) where the requirement has such addresses.
        if !addresses.is_empty() || !outside.is_empty() {
            let mut wrong = wrong_hops(&r.id, &addresses, &hops, local, "VnetLocal");
            wrong.extend(wrong_hops(
                &r.id,
                &outside,
                &hops,
                |h| !dropped_by_user_route(h),
                "a next hop that delivers them",
            ));
            check(&r.id, wrong, &mut findings);
        }
    }
    let endpoint_hop = |h: &Hop| h.next_hop == Target::ServiceEndpoint;
    // Seed 002: the ISE needs service endpoints for these services "because you can't send
    // traffic through a firewall" to them. A user route as specific as the endpoint's route wins
    // over it (user beats system) and takes the service's traffic elsewhere.
    for r in requirements.iter().filter(|r| r.kind == Kind::ServiceEndpoint) {
        let Peer::Service { name } = &r.destination else { continue };
        let addresses = IntervalSet::from_prefixes(endpoint_prefixes(name, env, tags));
        let wrong = wrong_hops(&r.id, &addresses, &hops, endpoint_hop, "the service endpoint");
        check(&r.id, wrong, &mut findings);
    }
    let rest = IntervalSet::<u32>::full().difference(&network).difference(&dependencies);
    match env.forced_tunneling.mode {
        TunnelingMode::Firewall => {
            let firewall = env.forced_tunneling.firewall_private_ip.map(Target::Appliance);
            let wanted = firewall.map(|f| f.to_string()).unwrap_or_default();
            let id = OTHER_TRAFFIC_TO_FIREWALL;
            let wrong = wrong_hops(id, &rest, &hops, |h| Some(h.next_hop) == firewall || endpoint_hop(h), &wanted);
            check(id, wrong, &mut findings);
        }
        TunnelingMode::ExpressRoute => {
            let id = OTHER_TRAFFIC_TO_INTERNET;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Longest prefix match as the table reads: most specific first, then rank, then hop; each
    /// address to the first candidate holding it.
    fn paint_in_order(mut candidates: Vec<(Ipv4Net, u8, Hop)>) -> BTreeMap<Hop, IntervalSet<u32>> {
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

    fn candidate() -> impl Strategy<Value = (Ipv4Net, u8, Hop)> {
        // Few addresses and lengths, so prefixes nest, repeat and touch; the edges of the space too.
        let addr = prop_oneof![
            Just(0u32),
            Just(u32::MAX),
            any::<u32>(),
            (0u32..64).prop_map(|x| 0x0a00_0000 | (x << 20))
        ];
        let len = prop_oneof![Just(0u8), 1u8..=32, 6u8..=14];
        (addr, len, 0u8..4, 0usize..3).prop_map(|(a, l, rank, h)| {
            let net = Ipv4Net::new(std::net::Ipv4Addr::from(a), l).unwrap();
            let hop = Hop {
                next_hop: Target::Hop([NextHop::Internet, NextHop::VnetLocal, NextHop::None][h]),
                route: format!("r{h}"),
            };
            (net, rank, hop)
        })
    }

    proptest! {
        #[test]
        fn the_sweep_paints_as_the_table_reads(candidates in prop::collection::vec(candidate(), 0..40)) {
            prop_assert_eq!(paint(candidates.clone()), paint_in_order(candidates));
        }
    }

    #[test]
    fn a_more_specific_route_wins_and_ties_go_by_rank() {
        let hop = |n: &str| Hop {
            next_hop: Target::Hop(NextHop::Internet),
            route: n.into(),
        };
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        let painted = paint(vec![
            (net("0.0.0.0/0"), 3, hop("default")),
            (net("10.0.0.0/8"), 3, hop("private")),
            (net("10.1.0.0/16"), 2, hop("tag")),
            (net("10.1.0.0/16"), 0, hop("explicit")),
        ]);
        let set = |v: &[(u32, u32)]| IntervalSet::from_intervals(v.iter().copied());
        let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(painted[&hop("explicit")], set(&[(ip("10.1.0.0"), ip("10.1.255.255"))]));
        assert_eq!(
            painted[&hop("private")],
            set(&[(ip("10.0.0.0"), ip("10.0.255.255")), (ip("10.2.0.0"), ip("10.255.255.255"))])
        );
        assert_eq!(
            painted[&hop("default")],
            set(&[(0, ip("9.255.255.255")), (ip("11.0.0.0"), u32::MAX)])
        );
        assert!(!painted.contains_key(&hop("tag")));
    }
}
