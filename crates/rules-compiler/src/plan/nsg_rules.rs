//! NSG rules from the resolved requirements: one rule per requirement (split only where Azure's
//! 4,000-prefix limit forces it), stable names and priorities, an explicit deny-all inbound (and
//! outbound when restricted). The peers are the resolved requirements' (which already name the
//! address space where forced tunneling would put 0.0.0.0/0 into the VirtualNetwork tag).

use super::priorities::{destination_slots, table_slot, DENY_ALL, DESTINATION_SLOTS};
use super::PlanRule;
use crate::azure::nsg::{
    Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule, MAX_DESCRIPTION, MAX_PREFIXES_PER_FIELD, MAX_RULES,
};
use ipnet::Ipv4Net;
use ise_model::codes::{E_NSG_ADDRESSES, E_NSG_DESTINATIONS, E_NSG_RULES, E_NSG_RULE_NAMES, E_TAG_MISSING, W_EXPANDED_NSG_ADDRESSES};
use ise_model::diag::Diagnostic;
use ise_model::env::{Environment, OutboundPolicy};
use ise_model::requirement::{Kind, Protocol as RequirementProtocol};
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::is_platform_tag;
use ise_model::servicetags::ServiceTags;

pub const DENY_ALL_INBOUND: &str = "deny-all-inbound";
/// The table row that becomes one rule per outbound destination.
const DESTINATIONS_ROW: &str = "out-workflow-calls";
pub const DENY_ALL_OUTBOUND: &str = "deny-all-outbound";

/// The network a requirement means by the VirtualNetwork tag (the verifier's reading of the tag
/// without route prefixes): the address space plus the declared internal callers.
pub fn trusted_network(env: &Environment) -> Vec<Ipv4Net> {
    let mut nets: Vec<Ipv4Net> = env
        .virtual_network
        .address_space
        .iter()
        .chain(&env.internal_callers)
        .copied()
        .collect();
    nets = Ipv4Net::aggregate(&nets);
    nets.sort();
    nets
}

/// A resolved peer as an NSG address field. Resolution already named the address space where
/// forced tunneling makes VirtualNetwork mean the Internet (`ise_model::resolve`).
fn address(peer: &Peer) -> AddressMatch {
    match peer {
        Peer::Tag { name } => AddressMatch::Tag(name.clone()),
        Peer::Prefixes { prefixes, .. } => {
            let mut p = Ipv4Net::aggregate(prefixes);
            p.sort();
            AddressMatch::Prefixes(p)
        }
        Peer::Service { name } | Peer::FqdnTag { name } => unreachable!("{name} is not an NSG peer"),
    }
}

/// Splits an address into fields of at most 4,000 prefixes.
fn chunks(a: &AddressMatch) -> Vec<AddressMatch> {
    match a {
        AddressMatch::Prefixes(p) if p.len() > MAX_PREFIXES_PER_FIELD => p
            .chunks(MAX_PREFIXES_PER_FIELD)
            .map(|c| AddressMatch::Prefixes(c.to_vec()))
            .collect(),
        other => vec![other.clone()],
    }
}

/// An NSG row's protocol (`*`, `Tcp`, `Udp`) as an NSG rule protocol.
pub(crate) fn protocol(p: Option<RequirementProtocol>) -> Protocol {
    match p {
        Some(RequirementProtocol::Any) => Protocol::Any,
        Some(RequirementProtocol::Tcp) => Protocol::Tcp,
        Some(RequirementProtocol::Udp) => Protocol::Udp,
        // The table refuses these on inbound and outbound rows when it loads (ise_model::requirement).
        Some(RequirementProtocol::HttpHttps) | None => unreachable!("an NSG row names {}", RequirementProtocol::text(p)),
    }
}

/// `<id>: <purpose>`, cut to Azure's 140 characters.
pub fn description(id: &str, purpose: &str) -> String {
    let full = format!("{id}: {purpose}");
    if full.chars().count() <= MAX_DESCRIPTION {
        return full;
    }
    let cut: String = full.chars().take(MAX_DESCRIPTION - 3).collect();
    format!("{}...", cut.trim_end())
}

fn check_tag(a: &AddressMatch, tags: &ServiceTags, req: &Resolved, diags: &mut Vec<Diagnostic>) {
    if let AddressMatch::Tag(t) = a {
        if !is_platform_tag(t) && tags.get(t).is_none() {
            diags.push(
                Diagnostic::error(
                    E_TAG_MISSING,
                    "",
                    format!(
                        "requirement {} needs service tag `{t}`, which the service-tag file (cloud {}, change {}) does not have",
                        req.id, tags.cloud, tags.change_number
                    ),
                )
                .with_help("use a current service-tag file of the environment's cloud"),
            );
        }
    }
}

/// An allow or deny of every source port, the shape of every rule isenet writes.
fn rule(name: String, priority: u32, direction: Direction, access: Access, protocol: Protocol) -> SecurityRule {
    SecurityRule {
        name,
        priority,
        direction,
        access,
        protocol,
        source: AddressMatch::Any,
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Any,
        destination_ports: vec![PortRange::ANY],
        is_default: false,
    }
}

/// The W1008 warning of an expanded plan (`plan::expand`), for the command to print beside the
/// environment's warnings: the expanded NSG is written all the same.
pub fn expanded_address_warning(plan: &super::Plan) -> Option<Diagnostic> {
    let (message, _) = over_address_limit(&plan.security_rules)?;
    Some(Diagnostic::warning(W_EXPANDED_NSG_ADDRESSES, "", message).with_help(
        "the expanded artifacts serve appliances that do not know service tags; deploy the compile without --expand-tags to Azure",
    ))
}

/// `E1006` for each name two compiled rules share, compared as Azure compares rule names (without
/// case): a requirement split over several rules names its parts `<id>-1`, `<id>-2`, ... (and with
/// `--expand-tags` its IPv6 rules `<id>-v6`), which an outbound destination may be named already
/// (`d0` split over 4,000 prefixes, and a destination `d0-1`). Azure refuses the NSG.
pub(crate) fn shared_names(rules: &[PlanRule], env: &Environment) -> Vec<Diagnostic> {
    let mut by_name: std::collections::BTreeMap<String, Vec<&PlanRule>> = std::collections::BTreeMap::new();
    for r in rules {
        by_name.entry(r.rule.name.to_ascii_lowercase()).or_default().push(r);
    }
    by_name
        .values()
        .filter(|same| same.len() > 1)
        .map(|same| {
            let name = &same[0].rule.name;
            let owners: Vec<String> = same.iter().map(|r| format!("`{}`", r.requirements.join(", "))).collect();
            // The destination whose own rule carries the name is the one to rename (the plan holds
            // them sorted by name, so the file's index is not known here: named in the message).
            let rename = env
                .outbound_destinations
                .iter()
                .find(|d| format!("out-dest-{}", d.name).eq_ignore_ascii_case(name))
                .map_or_else(String::new, |d| format!("; rename the outbound destination `{}`", d.name));
            Diagnostic::error(
                E_NSG_RULE_NAMES,
                "outboundDestinations",
                format!(
                    "the NSG would have {} rules named `{name}` (for {}); Azure refuses two rules of one name{rename}",
                    same.len(),
                    owners.join(" and ")
                ),
            )
            .with_help("a destination name ending in `-<number>` can be that of another destination's split rules")
        })
        .collect()
}

/// What is wrong when the rules name more than 4,000 address prefixes on their sources or on
/// their destinations: Azure counts them per security group, each side apart, and refuses the NSG
/// past that. With whether the sources are over it.
fn over_address_limit(rules: &[PlanRule]) -> Option<(String, bool)> {
    let (sources, destinations) = crate::azure::nsg::address_totals(rules.iter().map(|r| &r.rule));
    let limit = crate::azure::nsg::MAX_PREFIXES_PER_NSG_SIDE;
    (sources > limit || destinations > limit).then(|| {
        let message = format!(
            "the NSG would name {sources} address prefixes on its rules' sources and {destinations} on their destinations; Azure allows {limit} of each per network security group"
        );
        (message, sources > limit)
    })
}

/// `E1007` for the compiled NSG past Azure's addresses per NSG side, at what the environment adds
/// there: callers on the sources, destinations on the destinations.
fn address_limit(rules: &[PlanRule], env: &Environment) -> Option<Diagnostic> {
    let (message, sources_over) = over_address_limit(rules)?;
    let path = match (sources_over, env.internal_callers.len() >= env.external_callers.len()) {
        (false, _) => "outboundDestinations",
        (true, true) => "internalCallers",
        (true, false) => "externalCallers",
    };
    Some(
        Diagnostic::error(E_NSG_ADDRESSES, path, message)
            .with_help("aggregate the callers' and destinations' addresses into fewer, larger prefixes"),
    )
}

pub fn build(env: &Environment, reqs: &[Resolved], tags: &ServiceTags) -> Result<Vec<PlanRule>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let destinations = destination_slots(reqs.iter().filter(|r| r.requirement == DESTINATIONS_ROW).map(|r| r.id.as_str()));
    if destinations.is_none() {
        diags.push(
            Diagnostic::error(
                E_NSG_DESTINATIONS,
                "outboundDestinations",
                format!(
                    "{} outbound destinations exceed the {DESTINATION_SLOTS} that the NSG priority band 2000-3990 holds",
                    env.outbound_destinations.len()
                ),
            )
            .with_help("merge destinations that share ports and protocol into one entry with several prefixes"),
        );
    }
    for req in reqs.iter().filter(|r| matches!(r.kind, Kind::Inbound | Kind::Outbound)) {
        let direction = if req.kind == Kind::Inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let first_priority = if req.requirement == DESTINATIONS_ROW {
            match destinations.as_ref().and_then(|d| d.get(req.id.as_str())) {
                Some(p) => *p,
                None => continue,
            }
        } else {
            table_slot(&req.requirement, req.kind)
        };
        let (source, destination) = (address(&req.source), address(&req.destination));
        check_tag(&source, tags, req, &mut diags);
        check_tag(&destination, tags, req, &mut diags);
        let pieces: Vec<(AddressMatch, AddressMatch)> = chunks(&source)
            .into_iter()
            .flat_map(|s| chunks(&destination).into_iter().map(move |d| (s.clone(), d)))
            .collect();
        let split = pieces.len() > 1;
        for (i, (s, d)) in pieces.into_iter().enumerate() {
            let name = if split { format!("{}-{}", req.id, i + 1) } else { req.id.clone() };
            let ports = ise_model::ports::normalise(&req.ports);
            out.push(PlanRule {
                rule: SecurityRule {
                    source: s,
                    destination: d,
                    destination_ports: ports,
                    ..rule(name, first_priority + i as u32, direction, Access::Allow, protocol(req.protocol))
                },
                description: description(&req.id, &req.purpose),
                requirements: vec![req.id.clone()],
            });
        }
    }
    let deny = |name: &str, direction: Direction, why: &str| PlanRule {
        rule: rule(name.into(), DENY_ALL, direction, Access::Deny, Protocol::Any),
        description: description(name, why),
        requirements: Vec::new(),
    };
    out.push(deny(
        DENY_ALL_INBOUND,
        Direction::Inbound,
        "Denies inbound traffic no ISE requirement needs, before Azure's AllowVnetInBound default",
    ));
    if env.outbound_policy == OutboundPolicy::Restricted {
        out.push(deny(
            DENY_ALL_OUTBOUND,
            Direction::Outbound,
            "outboundPolicy restricted: denies outbound traffic beyond the requirements and outboundDestinations",
        ));
    }
    diags.extend(shared_names(&out, env));
    diags.extend(address_limit(&out, env));
    if out.len() > MAX_RULES {
        diags.push(Diagnostic::error(
            E_NSG_RULES,
            "",
            format!("the NSG would need {} rules; Azure allows {MAX_RULES}", out.len()),
        ));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    out.sort_by_key(|r| (r.rule.direction, r.rule.priority));
    Ok(out)
}

/// Every service tag of the NSG rows that the cloud's tag file does not mark usable in NSGs,
/// replaced by the tag's IPv4 prefixes (the ISE subnets are IPv4), with a note. Routes and firewall
/// rules treat `UDR` and `FW` the same way: a tag the deployment refuses fails the whole deployment.
pub fn write_out_tags_nsgs_refuse(requirements: &mut [Resolved], tags: &ServiceTags) {
    for req in requirements.iter_mut().filter(|r| matches!(r.kind, Kind::Inbound | Kind::Outbound)) {
        for peer in [&mut req.source, &mut req.destination] {
            let Peer::Tag { name } = peer else { continue };
            if is_platform_tag(name) || tags.tag_works_in(name, "NSG") {
                continue;
            }
            let Some(entry) = tags.get(name) else { continue };
            let prefixes = entry.aggregated_ipv4();
            req.notes.push(format!(
                "service tag {name}: the {} tag file does not list NSG among its networkFeatures, so its {} IPv4 prefixes are written instead",
                tags.cloud,
                prefixes.len()
            ));
            *peer = Peer::Prefixes {
                label: format!("{name} tag addresses"),
                prefixes,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit_azure_limit() {
        let long = "x".repeat(300);
        let d = description("in-designer-454", &long);
        assert_eq!(d.chars().count(), 140);
        assert!(d.starts_with("in-designer-454: ") && d.ends_with("..."));
        assert_eq!(description("a", "b"), "a: b");
    }
}
