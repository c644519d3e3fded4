//! `compile --expand-tags`: the plan with every service tag replaced by its prefixes, for
//! appliances that do not know Azure's tags.
//!
//! - NSG rules: a tag becomes its aggregated IPv4 prefixes (adjacent merged, contained dropped); its
//!   IPv6 prefixes go into a separate rule `<name>-v6`, because Azure rejects a rule that mixes the
//!   families. A field over Azure's 4,000 prefixes is split (`<name>-1`, `<name>-2`, ...,
//!   `<name>-v6-1`, ...). The pieces take consecutive priorities inside the requirement's slot of
//!   10 (the plan reserves a slot per requirement), keeping the original priority where it is free;
//!   a slot that overflows is a coded error (`E1403`), never a renumbered neighbour.
//! - The platform tags `VirtualNetwork`, `Internet` and `AzureLoadBalancer` stay tags: they are not
//!   in the tag files, Azure defines them per VNet (routes and peerings included), and every
//!   appliance that takes NSG rules knows them.
//! - An IPv6 rule whose other end is an IPv4 prefix list is not written: Azure refuses mixed
//!   families and the ISE subnets are IPv4 only, so it could never match.
//! - Routes: a route naming a tag becomes one route per aggregated IPv4 prefix; the prefixes are
//!   aggregated together with the explicit Internet routes so no prefix appears twice.
//! - Azure Firewall network rules (`plan.firewall`): a tag among the addresses becomes its
//!   aggregated IPv4 prefixes (the sources are the IPv4 ISE subnets, so IPv6 prefixes could never
//!   match), within Azure Firewall's 20,000 source/destination pairs (`E1004`).
//!
//! The result holds exactly the IPv4 packets the tagged plan holds, so the verifier proves it with
//! the same tag file.

use crate::azure::firewall::NetworkRule;
use crate::azure::nsg::{AddressMatch, Direction};
use crate::azure::route::{NextHop, MAX_ROUTES};
use crate::plan::{Plan, PlanFirewall, PlanRoute, PlanRule};
use ipnet::{Ipv4Net, Ipv6Net};
use ise_model::aggregate::aggregate_v4;
use ise_model::codes::{E_EXPAND_SLOT, E_NSG_RULES, E_ROUTE_LIMIT, E_TAG_MISSING};
use ise_model::diag::Diagnostic;
use ise_model::servicetags::ServiceTags;
use std::collections::BTreeMap;

use super::priorities::SLOT;
use crate::azure::nsg::{MAX_PREFIXES_PER_FIELD, MAX_PRIORITY, MAX_RULES};
use ise_model::servicetags::is_platform_tag;

/// One address field of a rule after expansion.
enum Side {
    /// Not a service tag of the file (`*`, a platform tag, prefixes): as it was.
    Keep(AddressMatch),
    /// A service tag's prefixes, aggregated.
    Expanded { v4: Vec<Ipv4Net>, v6: Vec<Ipv6Net> },
}

impl Side {
    fn of(a: &AddressMatch, tags: &ServiceTags, rule: &PlanRule) -> Result<Side, Diagnostic> {
        match a {
            AddressMatch::Tag(t) if !is_platform_tag(t) => match tags.get(t) {
                Some(entry) => Ok(Side::Expanded {
                    v4: entry.aggregated_ipv4(),
                    v6: entry.aggregated_ipv6(),
                }),
                None => Err(Diagnostic::error(
                    E_TAG_MISSING,
                    "",
                    format!(
                        "rule {} names service tag `{t}`, which the service-tag file (cloud {}, change {}) does not have",
                        rule.rule.name, tags.cloud, tags.change_number
                    ),
                )
                .with_help("use a current service-tag file of the environment's cloud")),
            },
            other => Ok(Side::Keep(other.clone())),
        }
    }

    fn is_expanded(&self) -> bool {
        matches!(self, Side::Expanded { .. })
    }

    /// The fields of the IPv4 rules (none: no IPv4 rule can be written).
    fn v4_fields(&self) -> Vec<AddressMatch> {
        match self {
            Side::Keep(AddressMatch::Prefixes6(_)) => Vec::new(),
            Side::Keep(a) => vec![a.clone()],
            Side::Expanded { v4, .. } => v4
                .chunks(MAX_PREFIXES_PER_FIELD)
                .map(|c| AddressMatch::Prefixes(c.to_vec()))
                .collect(),
        }
    }

    /// The fields of the IPv6 rules (none: no IPv6 rule can be written).
    fn v6_fields(&self) -> Vec<AddressMatch> {
        match self {
            Side::Keep(AddressMatch::Prefixes(_)) => Vec::new(),
            Side::Keep(a) => vec![a.clone()],
            Side::Expanded { v6, .. } => v6
                .chunks(MAX_PREFIXES_PER_FIELD)
                .map(|c| AddressMatch::Prefixes6(c.to_vec()))
                .collect(),
        }
    }
}

fn product(src: &[AddressMatch], dst: &[AddressMatch]) -> Vec<(AddressMatch, AddressMatch)> {
    src.iter().flat_map(|s| dst.iter().map(move |d| (s.clone(), d.clone()))).collect()
}

/// The rules one plan rule becomes, with names but still its own priority.
fn expand_rule(r: &PlanRule, tags: &ServiceTags) -> Result<Vec<PlanRule>, Diagnostic> {
    let src = Side::of(&r.rule.source, tags, r)?;
    let dst = Side::of(&r.rule.destination, tags, r)?;
    if !src.is_expanded() && !dst.is_expanded() {
        return Ok(vec![r.clone()]);
    }
    let v4 = product(&src.v4_fields(), &dst.v4_fields());
    let v6 = product(&src.v6_fields(), &dst.v6_fields());
    let named = |pieces: Vec<(AddressMatch, AddressMatch)>, base: String| {
        let split = pieces.len() > 1;
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, (s, d))| {
                let mut out = r.clone();
                out.rule.name = if split { format!("{base}-{}", i + 1) } else { base.clone() };
                out.rule.source = s;
                out.rule.destination = d;
                out
            })
            .collect::<Vec<_>>()
    };
    let mut out = named(v4, r.rule.name.clone());
    out.extend(named(v6, format!("{}-v6", r.rule.name)));
    Ok(out)
}

/// First priority of the slot a priority belongs to.
fn slot_of(priority: u32) -> u32 {
    priority - priority % SLOT
}

/// Priorities for the pieces of the rules of one direction, in the plan's order: each piece keeps
/// its rule's priority when it is free, else takes the next one, never leaving the slot.
fn assign_priorities(groups: Vec<(PlanRule, Vec<PlanRule>)>, diags: &mut Vec<Diagnostic>) -> Vec<PlanRule> {
    let mut out = Vec::new();
    let mut next: Option<u32> = None;
    for (original, pieces) in groups {
        let slot = slot_of(original.rule.priority);
        let limit = (slot + SLOT - 1).min(MAX_PRIORITY);
        let mut p = original.rule.priority.max(next.unwrap_or(0));
        let needed = pieces.len();
        for mut piece in pieces {
            if p > limit {
                diags.push(
                    Diagnostic::error(
                        E_EXPAND_SLOT,
                        "",
                        format!(
                            "rule {} ({}, priority {}) expands into {needed} rules, more than its priority slot {slot}-{limit} holds",
                            original.rule.name, original.rule.direction, original.rule.priority
                        ),
                    )
                    .with_help("compile without --expand-tags (the tag stays one rule), or use an appliance that knows service tags"),
                );
                return out;
            }
            piece.rule.priority = p;
            out.push(piece);
            p += 1;
        }
        next = Some(p);
    }
    out
}

fn expand_rules(rules: &[PlanRule], tags: &ServiceTags, diags: &mut Vec<Diagnostic>) -> Vec<PlanRule> {
    let mut out = Vec::new();
    for direction in [Direction::Inbound, Direction::Outbound] {
        let mut ordered: Vec<&PlanRule> = rules.iter().filter(|r| r.rule.direction == direction).collect();
        ordered.sort_by_key(|r| r.rule.priority);
        let mut groups = Vec::new();
        for r in ordered {
            match expand_rule(r, tags) {
                Ok(pieces) => groups.push((r.clone(), pieces)),
                Err(d) => diags.push(d),
            }
        }
        out.extend(assign_priorities(groups, diags));
    }
    if out.len() > MAX_RULES {
        diags.push(
            Diagnostic::error(
                E_NSG_RULES,
                "",
                format!(
                    "with --expand-tags the NSG would need {} rules; Azure allows {MAX_RULES}",
                    out.len()
                ),
            )
            .with_help("compile without --expand-tags: each tag is then one rule"),
        );
    }
    out.sort_by_key(|r| (r.rule.direction, r.rule.priority));
    out
}

/// `AppServiceManagement-route` style names, as the plan names explicit routes.
fn route_name(id: &str, prefix: &Ipv4Net) -> String {
    format!("{id}-{}", prefix.to_string().replace(['.', '/'], "-"))
}

fn expand_routes(routes: &[PlanRoute], tags: &ServiceTags, diags: &mut Vec<Diagnostic>) -> Vec<PlanRoute> {
    let mut kept = Vec::new();
    // Internet routes to explicit prefixes, with the requirements each serves.
    let mut internet: Vec<(Vec<String>, Vec<Ipv4Net>)> = Vec::new();
    let mut any_tag = false;
    for r in routes {
        let internet_hop = r.next_hop_type == NextHop::Internet && r.next_hop_ip_address.is_none();
        match r.address_prefix.parse::<Ipv4Net>() {
            Ok(p) if internet_hop && p.prefix_len() > 0 => internet.push((r.requirements.clone(), vec![p])),
            Ok(_) => kept.push(r.clone()),
            Err(_) => match tags.get(&r.address_prefix) {
                Some(entry) => {
                    any_tag = true;
                    internet.push((r.requirements.clone(), entry.aggregated_ipv4()));
                }
                None => diags.push(Diagnostic::error(
                    E_TAG_MISSING,
                    "",
                    format!(
                        "route {} names service tag `{}`, which the service-tag file (cloud {}) does not have",
                        r.name, r.address_prefix, tags.cloud
                    ),
                )),
            },
        }
    }
    if !any_tag {
        return routes.to_vec();
    }
    let all: Vec<Ipv4Net> = internet.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let mut explicit: BTreeMap<Ipv4Net, Vec<String>> = BTreeMap::new();
    for agg in aggregate_v4(all) {
        let mut served: Vec<String> = Vec::new();
        for (ids, ps) in &internet {
            if ps.iter().any(|p| agg.contains(p)) {
                for id in ids {
                    if !served.contains(id) {
                        served.push(id.clone());
                    }
                }
            }
        }
        explicit.insert(agg, served);
    }
    let mut out = kept;
    out.extend(explicit.into_iter().map(|(prefix, served)| PlanRoute {
        name: route_name(served.first().map_or("route", String::as_str), &prefix),
        address_prefix: prefix.to_string(),
        next_hop_type: NextHop::Internet,
        next_hop_ip_address: None,
        requirements: served,
    }));
    if out.len() > MAX_ROUTES {
        diags.push(
            Diagnostic::error(
                E_ROUTE_LIMIT,
                "",
                format!(
                    "with --expand-tags the route table would need {} routes; Azure allows {MAX_ROUTES}",
                    out.len()
                ),
            )
            .with_help("compile without --expand-tags: a tag that works in routes is then one route"),
        );
    }
    out
}

/// Whether an address of a firewall rule is an address (`*`, an IP, a CIDR, a range `a-b`) rather
/// than a service tag.
fn is_firewall_address(a: &str) -> bool {
    let ip = |s: &str| s.trim().parse::<std::net::IpAddr>().is_ok();
    a == "*" || a.parse::<ipnet::IpNet>().is_ok() || ip(a) || a.split_once('-').is_some_and(|(lo, hi)| ip(lo) && ip(hi))
}

fn expand_firewall_addresses(rule: &str, addresses: &[String], tags: &ServiceTags, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in addresses {
        if is_firewall_address(a) || is_platform_tag(a) {
            out.push(a.clone());
            continue;
        }
        match tags.get(a) {
            Some(entry) => out.extend(entry.aggregated_ipv4().iter().map(ToString::to_string)),
            None => diags.push(Diagnostic::error(
                E_TAG_MISSING,
                "",
                format!(
                    "firewall rule {rule} names service tag `{a}`, which the service-tag file (cloud {}, change {}) does not have",
                    tags.cloud, tags.change_number
                ),
            )),
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(a.clone()));
    out
}

fn expand_firewall(fw: &PlanFirewall, tags: &ServiceTags, diags: &mut Vec<Diagnostic>) -> PlanFirewall {
    let mut out = fw.clone();
    for collection in &mut out.network_rule_collections {
        for rule in &mut collection.rules {
            let NetworkRule {
                name,
                source_addresses,
                destination_addresses,
                ..
            } = rule;
            *source_addresses = expand_firewall_addresses(name, source_addresses, tags, diags);
            *destination_addresses = expand_firewall_addresses(name, destination_addresses, tags, diags);
        }
    }
    diags.extend(super::firewall::limit_errors(
        &out.network_rule_collections,
        &out.application_rule_collections,
        "with --expand-tags ",
        "compile without --expand-tags: Azure Firewall knows service tags, and a tag counts as one destination",
    ));
    out
}

/// The plan with every service tag of its NSG rules, routes and firewall network rules replaced by
/// prefixes. `tags` must be the file the plan was built with.
pub fn expand(plan: &Plan, tags: &ServiceTags) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let security_rules = expand_rules(&plan.security_rules, tags, &mut diags);
    diags.extend(super::nsg_rules::shared_names(&security_rules, &plan.environment));
    let routes = expand_routes(&plan.routes, tags, &mut diags);
    let firewall = expand_firewall(&plan.firewall, tags, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Plan {
        security_rules,
        routes,
        firewall,
        ..plan.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::nsg::{Access, PortRange, Protocol, SecurityRule};

    fn tags(values: &str) -> ServiceTags {
        ServiceTags::parse(&format!(r#"{{"changeNumber": 7, "cloud": "Public", "values": [{values}]}}"#)).unwrap()
    }

    fn tag_json(name: &str, prefixes: &[String]) -> String {
        format!(
            r#"{{"name": "{name}", "properties": {{"addressPrefixes": {}}}}}"#,
            serde_json::to_string(prefixes).unwrap()
        )
    }

    fn rule(name: &str, priority: u32, source: AddressMatch, destination: AddressMatch) -> PlanRule {
        PlanRule {
            rule: SecurityRule {
                name: name.into(),
                priority,
                direction: Direction::Outbound,
                access: Access::Allow,
                protocol: Protocol::Any,
                source,
                source_ports: vec![PortRange::ANY],
                destination,
                destination_ports: vec![PortRange::ANY],
                is_default: false,
            },
            description: format!("{name}: test"),
            requirements: vec![name.into()],
        }
    }

    fn vnet() -> AddressMatch {
        AddressMatch::Tag("VirtualNetwork".into())
    }

    #[test]
    fn a_tag_becomes_aggregated_v4_and_a_separate_v6_rule() {
        let t = tags(&tag_json(
            "Storage",
            &["10.0.1.0/24", "10.0.0.0/24", "10.0.0.0/25", "2001:db8::/33", "2001:db8:8000::/33"].map(String::from),
        ));
        let out = expand_rules(
            &[rule("out-storage", 140, vnet(), AddressMatch::Tag("Storage".into()))],
            &t,
            &mut Vec::new(),
        );
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].rule.name.as_str(), out[0].rule.priority), ("out-storage", 140));
        assert_eq!(
            out[0].rule.destination,
            AddressMatch::Prefixes(vec!["10.0.0.0/23".parse().unwrap()])
        );
        assert_eq!((out[1].rule.name.as_str(), out[1].rule.priority), ("out-storage-v6", 141));
        assert_eq!(
            out[1].rule.destination,
            AddressMatch::Prefixes6(vec!["2001:db8::/32".parse().unwrap()])
        );
        assert_eq!(out[1].rule.source, vnet());
    }

    #[test]
    fn platform_tags_and_prefixes_stay() {
        let t = tags(&tag_json("Storage", &["10.0.0.0/24".into()]));
        let r = rule("out-x", 110, vnet(), AddressMatch::Tag("internet".into()));
        assert_eq!(expand_rules(std::slice::from_ref(&r), &t, &mut Vec::new()), vec![r]);
    }

    #[test]
    fn large_tags_split_at_4000_within_the_slot_and_overflow_is_an_error() {
        // 9,000 non-adjacent /32s: 3 IPv4 rules of at most 4,000.
        let many: Vec<String> = (0..9000u32)
            .map(|i| format!("{}/32", std::net::Ipv4Addr::from(0x0a00_0000 + 2 * i)))
            .collect();
        let t = tags(&tag_json("Big", &many));
        let rules = [
            rule("out-big", 150, vnet(), AddressMatch::Tag("Big".into())),
            rule("out-next", 160, vnet(), AddressMatch::Tag("Internet".into())),
        ];
        let mut diags = Vec::new();
        let out = expand_rules(&rules, &t, &mut diags);
        assert!(diags.is_empty());
        let got: Vec<(&str, u32, usize)> = out
            .iter()
            .map(|r| {
                let n = match &r.rule.destination {
                    AddressMatch::Prefixes(p) => p.len(),
                    _ => 0,
                };
                (r.rule.name.as_str(), r.rule.priority, n)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("out-big-1", 150, 4000),
                ("out-big-2", 151, 4000),
                ("out-big-3", 152, 1000),
                ("out-next", 160, 0)
            ]
        );
        // 45,000 prefixes need 12 rules: more than the slot of 10.
        let huge: Vec<String> = (0..45_000u32)
            .map(|i| format!("{}/32", std::net::Ipv4Addr::from(0x0a00_0000 + 2 * i)))
            .collect();
        let t = tags(&tag_json("Huge", &huge));
        let mut diags = Vec::new();
        expand_rules(&[rule("out-huge", 150, vnet(), AddressMatch::Tag("Huge".into()))], &t, &mut diags);
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [E_EXPAND_SLOT]);
    }

    #[test]
    fn the_expanded_example_proves_with_its_ipv6_rules_in_the_engine() {
        use ise_model::cloud::CloudId;
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let tags = ServiceTags::embedded(CloudId::Public);
        let plan = crate::plan::build(&env, tags, None).unwrap();
        let expanded = expand(&plan, tags).unwrap();
        let rules: Vec<_> = expanded.security_rules.iter().map(|r| r.rule.clone()).collect();
        assert!(rules.iter().any(|r| matches!(r.destination, AddressMatch::Prefixes6(_))));
        let report = crate::prove::nsg::prove(&crate::prove::nsg::Subject {
            env: &env,
            tags,
            rules: &rules,
            udr_prefixes: &[],
            requirements: &plan.requirements,
            written_for: &Default::default(),
        });
        assert!(report.ok, "{report:?}");
        // IPv6 rules decide no IPv4 packet.
        let shadowed: Vec<&str> = report
            .of_kind(crate::prove::findings::FindingKind::ShadowedRule)
            .filter_map(|f| f.rule.as_ref().map(|r| r.name.as_str()))
            .collect();
        for r in rules.iter().filter(|r| r.name.ends_with("-v6")) {
            assert!(shadowed.contains(&r.name.as_str()), "{}", r.name);
        }
    }

    #[test]
    fn no_v6_rule_against_an_ipv4_prefix_list() {
        let t = tags(&tag_json("Sql", &["192.0.2.0/24".into(), "2001:db8::/32".into()]));
        let local = AddressMatch::Prefixes(vec!["10.10.0.0/16".parse().unwrap()]);
        let out = expand_rules(&[rule("out-sql", 170, local, AddressMatch::Tag("Sql".into()))], &t, &mut Vec::new());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule.name, "out-sql");
    }

    #[test]
    fn tag_routes_become_prefix_routes_merged_with_explicit_ones() {
        let t = tags(&tag_json(
            "AppServiceManagement",
            &["192.0.2.0/25".into(), "198.51.100.0/24".into()],
        ));
        let route = |name: &str, prefix: &str, hop: NextHop| PlanRoute {
            name: name.into(),
            address_prefix: prefix.into(),
            next_hop_type: hop,
            next_hop_ip_address: None,
            requirements: vec![name.into()],
        };
        let routes = [
            route("route-default", "0.0.0.0/0", NextHop::Internet),
            route("route-asm", "AppServiceManagement", NextHop::Internet),
            route("route-list", "192.0.2.128/25", NextHop::Internet),
        ];
        let mut diags = Vec::new();
        let out = expand_routes(&routes, &t, &mut diags);
        assert!(diags.is_empty());
        let got: Vec<(&str, &str, Vec<String>)> = out
            .iter()
            .map(|r| (r.name.as_str(), r.address_prefix.as_str(), r.requirements.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("route-default", "0.0.0.0/0", vec!["route-default".to_string()]),
                (
                    "route-asm-192-0-2-0-24",
                    "192.0.2.0/24",
                    vec!["route-asm".to_string(), "route-list".to_string()]
                ),
                ("route-asm-198-51-100-0-24", "198.51.100.0/24", vec!["route-asm".to_string()]),
            ]
        );
    }
}
