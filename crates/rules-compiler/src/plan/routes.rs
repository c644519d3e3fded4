//! The route table of the ISE subnets. ExpressRoute mode: 0.0.0.0/0 to Internet. Firewall mode:
//! 0.0.0.0/0 to the appliance, and next hop Internet for every dependency address of the region
//! (no asymmetric routing for inbound management traffic). Large global sets (App Service
//! management, Traffic Manager) become one route each by naming their service tag as the address
//! prefix where the cloud's tag file says the tag works in routes (`networkFeatures` has `UDR`);
//! otherwise, and for the published lists, the prefixes are aggregated into as few routes as
//! possible. Over Azure's limits is a coded error with the counts, never a truncated table.

use crate::azure::route::{route_name, NextHop, RouteEntry, MAX_ROUTES, MAX_TAG_ROUTES};
use ipnet::Ipv4Net;
use ise_model::codes::{E_ROUTE_LIMIT, E_TAG_MISSING};
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::requirement::Kind;
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRoute {
    pub name: String,
    /// A CIDR, or a service tag name.
    pub address_prefix: String,
    pub next_hop_type: NextHop,
    pub next_hop_ip_address: Option<Ipv4Addr>,
    /// Requirement ids this route serves.
    pub requirements: Vec<String>,
}

impl PlanRoute {
    /// The route as the verifier reads route files.
    pub fn entry(&self) -> RouteEntry {
        RouteEntry {
            name: self.name.clone(),
            address_prefix: self.address_prefix.clone(),
            next_hop_type: self.next_hop_type,
            next_hop_ip_address: self.next_hop_ip_address,
        }
    }
}

pub fn build(env: &Environment, reqs: &[Resolved], tags: &ServiceTags) -> Result<Vec<PlanRoute>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut tag_routes = Vec::new();
    // Explicit prefixes: aggregated across requirements, each with the requirements it serves.
    let mut internet: Vec<(String, Vec<Ipv4Net>)> = Vec::new();
    let mut default_route: Option<PlanRoute> = None;
    for r in reqs.iter().filter(|r| r.kind == Kind::Route) {
        let firewall_default = r.requirement == "route-firewall-default";
        match &r.destination {
            // Callers that are the whole Internet cannot be answered past the firewall that the
            // 0.0.0.0/0 route sends everything to: no route serves them (W0505 says so, and the
            // route proof fails the requirement), and the firewall's default route stays.
            Peer::Prefixes { prefixes, .. }
                if r.requirement == crate::prove::routes::EXTERNAL_CALLERS_ROUTE && prefixes.iter().any(|p| p.prefix_len() == 0) => {}
            Peer::Prefixes { prefixes, .. } if prefixes.iter().any(|p| p.prefix_len() == 0) => {
                default_route = Some(PlanRoute {
                    name: r.id.clone(),
                    address_prefix: "0.0.0.0/0".into(),
                    next_hop_type: if firewall_default {
                        NextHop::VirtualAppliance
                    } else {
                        NextHop::Internet
                    },
                    next_hop_ip_address: if firewall_default {
                        env.forced_tunneling.firewall_private_ip
                    } else {
                        None
                    },
                    requirements: vec![r.id.clone()],
                });
            }
            Peer::Prefixes { prefixes, .. } => internet.push((r.id.clone(), prefixes.clone())),
            Peer::Tag { name } if tags.tag_works_in(name, "UDR") => tag_routes.push(PlanRoute {
                name: r.id.clone(),
                address_prefix: name.clone(),
                next_hop_type: NextHop::Internet,
                next_hop_ip_address: None,
                requirements: vec![r.id.clone()],
            }),
            Peer::Tag { name } => match tags.get(name) {
                Some(t) => internet.push((r.id.clone(), t.ipv4())),
                None => diags.push(Diagnostic::error(
                    E_TAG_MISSING,
                    "",
                    format!(
                        "requirement {} needs service tag `{name}`, which the service-tag file (cloud {}) does not have",
                        r.id, tags.cloud
                    ),
                )),
            },
            Peer::Service { .. } | Peer::FqdnTag { .. } => {}
        }
    }
    let all: Vec<Ipv4Net> = internet.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let mut explicit: BTreeMap<Ipv4Net, Vec<String>> = BTreeMap::new();
    for agg in Ipv4Net::aggregate(&all) {
        let served: Vec<String> = internet
            .iter()
            .filter(|(_, ps)| ps.iter().any(|p| agg.contains(p)))
            .map(|(id, _)| id.clone())
            .collect();
        explicit.insert(agg, served);
    }
    let mut routes: Vec<PlanRoute> = default_route.into_iter().collect();
    routes.extend(tag_routes);
    routes.extend(explicit.into_iter().map(|(prefix, served)| PlanRoute {
        name: route_name(&served[0], &prefix),
        address_prefix: prefix.to_string(),
        next_hop_type: NextHop::Internet,
        next_hop_ip_address: None,
        requirements: served,
    }));
    let tag_count = routes
        .iter()
        .filter(|r| ise_model::ip_text::prefix(&r.address_prefix).is_none())
        .count();
    if routes.len() > MAX_ROUTES || tag_count > MAX_TAG_ROUTES {
        // The subnets take one route table each, so what is too much must shrink: the callers the
        // environment declares, or the dependency prefixes a tag file without route tags spells out.
        let for_callers = routes
            .iter()
            .filter(|r| {
                r.requirements.iter().all(|id| {
                    reqs.iter()
                        .any(|q| &q.id == id && q.requirement == crate::prove::routes::EXTERNAL_CALLERS_ROUTE)
                })
            })
            .count();
        let message = format!(
            "the route table would need {} routes ({tag_count} with service tags, {for_callers} for externalCallers alone); Azure allows {MAX_ROUTES} routes and {MAX_TAG_ROUTES} service-tag routes per table",
            routes.len()
        );
        // Whether the callers alone tip the table over (the rest fits with room for some).
        let others = routes.len() - for_callers;
        let d = if for_callers > 0 && routes.len() > MAX_ROUTES && others < MAX_ROUTES {
            Diagnostic::error(E_ROUTE_LIMIT, "externalCallers", message).with_help(format!(
                "in firewall mode each external caller's prefix is a route past the firewall: aggregate the callers into at most {} prefixes",
                MAX_ROUTES - others
            ))
        } else {
            Diagnostic::error(E_ROUTE_LIMIT, "", message)
                .with_help("use a current service-tag file of the environment's cloud: tags that work in routes are one route each")
        };
        diags.push(d);
    }
    if diags.is_empty() {
        Ok(routes)
    } else {
        Err(diags)
    }
}
