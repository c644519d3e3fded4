//! The proof of the ISE's Azure Firewall rules, with Azure Firewall's semantics: default deny; DNAT
//! rules first (isenet writes none and outbound traffic from the ISE is never DNAT-ed), then network
//! rules by collection priority, first match deciding (Allow or Deny of its collection), then
//! application rules by collection priority, first match deciding; a packet no rule matches is denied.
//!
//! Over exact sets of packets (intervals, not samples), outbound from the four ISE subnets:
//! 1. every network dependency (its protocols, the addresses of its tag / prefixes / `*`, its ports)
//!    is allowed by the network rules, or the exact uncovered pieces are reported;
//! 2. nothing else is: the packets the network rules allow equal the dependencies' packets; what an
//!    allow rule admits beyond them is reported as an opening, per rule;
//! 3. every FQDN and FQDN-tag dependency is allowed, for each of its protocol:port pairs, by the
//!    first application rule that matches it (a wildcard target covers the names under it), and no
//!    network Deny decides its port first (the FQDN's addresses are unknown, so any denied address
//!    on that port counts); application rule targets no dependency needs are openings.
//!
//! With an NSG given, every dependency must also pass the NSG of the subnets (outbound, Azure's
//! defaults included): a network dependency's packets, and for an application dependency TCP to
//! every address outside the network on its port (an FQDN may resolve anywhere).
//!
//! Service tags resolve through the environment's service-tag file (`EnvResolver::intended`): the
//! firewall reads Azure's tag data, not the NSG's VirtualNetwork semantics.

use crate::azure::firewall::{ApplicationProtocol, ApplicationRule, FirewallAction, NetworkProtocol, NetworkRule, RuleCollection};
use crate::azure::nsg::{Direction, PortRange, SecurityRule};
use crate::engine::defaults::with_defaults;
use crate::engine::evaluate::{evaluate, Domain};
use crate::engine::flows::{FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::{PacketProtocol, TagResolver};
use crate::plan::{ApplicationDestination, DependencyTarget, FirewallDependency, NetworkDestination};
use crate::prove::nsg::MAX_PIECES;
use crate::prove::resolver::EnvResolver;
use ipnet::Ipv4Net;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use std::net::Ipv4Addr;

/// The NSG the firewall's traffic crosses first.
pub struct NsgSubject<'a> {
    /// The NSG's explicit rules (Azure's defaults are added).
    pub rules: &'a [SecurityRule],
    /// Prefixes of the routes on the ISE subnets (they join VirtualNetwork).
    pub udr_prefixes: &'a [Ipv4Net],
}

/// What to prove.
pub struct Subject<'a> {
    pub env: &'a Environment,
    pub tags: &'a ServiceTags,
    pub network_rule_collections: &'a [RuleCollection<NetworkRule>],
    pub application_rule_collections: &'a [RuleCollection<ApplicationRule>],
    pub dependencies: &'a [FirewallDependency],
    /// `None`: the NSG is not checked.
    pub nsg: Option<NsgSubject<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DependencyKind {
    Network,
    Application,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyCheck {
    pub id: String,
    pub kind: DependencyKind,
    /// Allowed by the firewall.
    pub covered: bool,
    /// Allow rules that admit part of it.
    pub rules: Vec<String>,
    /// What the firewall denies: flow pieces (network) or `Https:443 denied by <rule>` (application).
    pub uncovered: Vec<String>,
    pub uncovered_more: usize,
    /// Allowed by the NSG (`None` when the NSG was not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsg_covered: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nsg_uncovered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirewallOpening {
    pub collection: String,
    pub rule: String,
    /// Flow pieces (network rules) or `Https:443 <target>` (application rules).
    pub flows: Vec<String>,
    pub flows_more: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirewallReport {
    /// Every dependency allowed (by the NSG too when given) and nothing beyond them.
    pub ok: bool,
    pub dependencies: Vec<DependencyCheck>,
    pub openings: Vec<FirewallOpening>,
    pub notes: Vec<String>,
}

fn readable(set: &FlowSet) -> (Vec<String>, usize) {
    let pieces = set.pieces();
    let more = pieces.len().saturating_sub(MAX_PIECES);
    (pieces.iter().take(MAX_PIECES).map(ToString::to_string).collect(), more)
}

fn proto_set(protocols: &[NetworkProtocol]) -> ProtoSet {
    protocols.iter().fold(ProtoSet::EMPTY, |acc, p| {
        acc.union(match p {
            NetworkProtocol::Tcp => ProtoSet::single(PacketProtocol::Tcp),
            NetworkProtocol::Udp => ProtoSet::single(PacketProtocol::Udp),
            NetworkProtocol::Icmp => ProtoSet::single(PacketProtocol::Icmp),
            NetworkProtocol::Any => ProtoSet::ALL,
        })
    })
}

/// `*`, an IP, a CIDR, a range `a-b`, or (destinations only) a service tag.
fn address_entry<R: TagResolver>(entry: &str, resolver: &R, tags_allowed: bool) -> Result<IntervalSet<u32>, String> {
    let e = entry.trim();
    if e == "*" {
        return Ok(IntervalSet::full());
    }
    if let Ok(net) = e.parse::<Ipv4Net>() {
        return Ok(IntervalSet::from_prefix(net));
    }
    if let Ok(ip) = e.parse::<Ipv4Addr>() {
        return Ok(IntervalSet::point(u32::from(ip)));
    }
    if let Some((a, b)) = e.split_once('-') {
        if let (Ok(a), Ok(b)) = (a.trim().parse::<Ipv4Addr>(), b.trim().parse::<Ipv4Addr>()) {
            return Ok(IntervalSet::interval(u32::from(a), u32::from(b)));
        }
    }
    if e.contains(':') {
        // IPv6: never an ISE packet.
        return Ok(IntervalSet::empty());
    }
    if tags_allowed {
        if let Some(p) = resolver.resolve(e) {
            return Ok(IntervalSet::from_prefixes(p));
        }
        return Err(format!("`{e}` is neither an address nor a service tag of the service-tag file"));
    }
    Err(format!("`{e}` is not an address, a prefix or a range"))
}

/// The packets a network rule matches (an unreadable entry matches nothing and is noted).
fn network_rule_flows<R: TagResolver>(rule: &NetworkRule, resolver: &R, notes: &mut Vec<String>) -> FlowSet {
    let mut note = |field: &str, e: String| notes.push(format!("network rule {}: {field}: {e}; taken to match nothing", rule.name));
    let mut src = IntervalSet::empty();
    for a in &rule.source_addresses {
        match address_entry(a, resolver, false) {
            Ok(s) => src = src.union(&s),
            Err(e) => note("sourceAddresses", e),
        }
    }
    let mut dst = IntervalSet::empty();
    for a in &rule.destination_addresses {
        match address_entry(a, resolver, true) {
            Ok(s) => dst = dst.union(&s),
            Err(e) => note("destinationAddresses", e),
        }
    }
    let mut ports = Vec::new();
    for p in &rule.destination_ports {
        match PortRange::parse(p) {
            Ok(r) => ports.push(r),
            Err(e) => note("destinationPorts", e),
        }
    }
    FlowSet::from_parts(
        proto_set(&rule.ip_protocols),
        src,
        IntervalSet::full(),
        dst,
        IntervalSet::from_port_ranges(&ports),
    )
}

/// The packets of a network dependency from the ISE subnets.
fn dependency_flows<R: TagResolver>(
    sources: &IntervalSet<u32>,
    protocols: &[NetworkProtocol],
    destination: &NetworkDestination,
    ports: &[PortRange],
    resolver: &R,
) -> Result<FlowSet, String> {
    let dst = match destination {
        NetworkDestination::Any => IntervalSet::full(),
        NetworkDestination::Prefixes { prefixes, .. } => IntervalSet::from_prefixes(prefixes.iter().copied()),
        NetworkDestination::ServiceTag { name } => resolver
            .resolve(name)
            .map(IntervalSet::from_prefixes)
            .ok_or_else(|| format!("service tag `{name}` is not in the service-tag file"))?,
    };
    Ok(FlowSet::from_parts(
        proto_set(protocols),
        sources.clone(),
        IntervalSet::full(),
        dst,
        IntervalSet::from_port_ranges(ports),
    ))
}

/// Whether an application rule target covers every name a dependency target stands for: equal
/// names, `*`, or a leading-wildcard suffix (`*.microsoft.com` covers `go.microsoft.com` and
/// `*.update.microsoft.com`). Case-insensitive, as DNS names are.
pub fn fqdn_covers(rule: &str, dependency: &str) -> bool {
    let (rule, dep) = (rule.to_ascii_lowercase(), dependency.to_ascii_lowercase());
    if rule == dep || rule == "*" {
        return true;
    }
    match rule.strip_prefix('*') {
        Some(suffix) => dep.trim_start_matches('*').ends_with(suffix),
        None => false,
    }
}

fn rule_targets(rule: &ApplicationRule, destination: &ApplicationDestination) -> bool {
    match destination {
        ApplicationDestination::FqdnTag { name } => rule.fqdn_tags.iter().any(|t| t.eq_ignore_ascii_case(name)),
        ApplicationDestination::Fqdn { name } => rule.target_fqdns.iter().any(|t| fqdn_covers(t, name)),
    }
}

/// Whether a rule's targets overlap a dependency's names at all (for Deny rules: a deny of part of a
/// wildcard dependency denies part of it).
fn rule_overlaps(rule: &ApplicationRule, destination: &ApplicationDestination) -> bool {
    match destination {
        ApplicationDestination::FqdnTag { .. } => rule_targets(rule, destination),
        ApplicationDestination::Fqdn { name } => rule.target_fqdns.iter().any(|t| fqdn_covers(t, name) || fqdn_covers(name, t)),
    }
}

fn sorted_by_priority<R>(collections: &[RuleCollection<R>]) -> Vec<&RuleCollection<R>> {
    let mut v: Vec<&RuleCollection<R>> = collections.iter().collect();
    v.sort_by_key(|c| c.priority);
    v
}

/// The network rules evaluated first-match over the domain: per rule, the packets it decides.
struct NetworkEvaluation {
    /// (collection, rule, action, decided packets) in evaluation order.
    decided: Vec<(String, String, FirewallAction, FlowSet)>,
    allowed: FlowSet,
    denied: FlowSet,
}

fn evaluate_network<R: TagResolver>(
    collections: &[RuleCollection<NetworkRule>],
    domain: &FlowSet,
    resolver: &R,
    notes: &mut Vec<String>,
) -> NetworkEvaluation {
    let mut remaining = domain.clone();
    let mut eval = NetworkEvaluation {
        decided: Vec::new(),
        allowed: FlowSet::empty(),
        denied: FlowSet::empty(),
    };
    for c in sorted_by_priority(collections) {
        for rule in &c.rules {
            let set = network_rule_flows(rule, resolver, notes).intersection(&remaining);
            if set.is_empty() {
                eval.decided.push((c.name.clone(), rule.name.clone(), c.action, set));
                continue;
            }
            remaining = remaining.difference(&set);
            match c.action {
                FirewallAction::Allow => eval.allowed = eval.allowed.union(&set),
                FirewallAction::Deny => eval.denied = eval.denied.union(&set),
            }
            eval.decided.push((c.name.clone(), rule.name.clone(), c.action, set));
        }
    }
    eval
}

/// The source addresses an application rule names (unparsable entries match nothing).
fn application_sources(rule: &ApplicationRule) -> IntervalSet<u32> {
    struct NoTags;
    impl TagResolver for NoTags {
        fn resolve(&self, _: &str) -> Option<Vec<Ipv4Net>> {
            None
        }
    }
    rule.source_addresses
        .iter()
        .filter_map(|a| address_entry(a, &NoTags, false).ok())
        .fold(IntervalSet::empty(), |acc, s| acc.union(&s))
}

/// What the first application rule matching `(destination, protocol)` from `sources` decides. An
/// Allow counts only when its sources cover all of `sources`; a Deny as soon as they overlap.
fn first_application_match<'a>(
    collections: &[&'a RuleCollection<ApplicationRule>],
    sources: &IntervalSet<u32>,
    destination: &ApplicationDestination,
    protocol: ApplicationProtocol,
) -> Option<(FirewallAction, &'a ApplicationRule)> {
    for c in collections {
        for rule in &c.rules {
            if !rule.protocols.contains(&protocol) {
                continue;
            }
            let rule_sources = application_sources(rule);
            let hit = match c.action {
                FirewallAction::Allow => sources.is_subset(&rule_sources) && rule_targets(rule, destination),
                FirewallAction::Deny => sources.intersects(&rule_sources) && rule_overlaps(rule, destination),
            };
            if hit {
                return Some((c.action, rule));
            }
        }
    }
    None
}

/// TCP from the subnets to every address outside the network on `port`: where an FQDN may lead.
fn fqdn_flows(sources: &IntervalSet<u32>, outside: &IntervalSet<u32>, port: u16) -> FlowSet {
    FlowSet::from_parts(
        ProtoSet::single(PacketProtocol::Tcp),
        sources.clone(),
        IntervalSet::full(),
        outside.clone(),
        IntervalSet::point(port),
    )
}

pub fn prove(s: &Subject) -> FirewallReport {
    let resolver = EnvResolver::intended(s.env, s.tags);
    let subnets = s.env.subnet_prefixes();
    let sources = IntervalSet::from_prefixes(subnets.iter().copied());
    let domain = FlowSet::from_box(Domain::outbound_from(&subnets).flows().clone());
    let mut notes = Vec::new();
    let network = evaluate_network(s.network_rule_collections, &domain, &resolver, &mut notes);
    let outside = resolver.resolve("Internet").map(IntervalSet::from_prefixes).unwrap_or_default();
    // Only traffic leaving the network meets the firewall: the NSG must admit a dependency there,
    // not towards the VNet or the declared peered and on-premises networks (routed around it).
    let through_firewall = FlowSet::from_box(crate::engine::flows::FlowBox::new(
        crate::engine::flows::ProtoSet::ALL,
        IntervalSet::full(),
        IntervalSet::full(),
        outside.clone(),
        IntervalSet::full(),
    ));
    let nsg_allowed = s.nsg.as_ref().map(|n| {
        let rules = with_defaults(n.rules);
        let nsg_resolver = EnvResolver::new(s.env, s.tags, n.udr_prefixes);
        evaluate(&rules, &nsg_resolver, Direction::Outbound, &Domain::outbound_from(&subnets)).allowed()
    });
    let nsg_check = |flows: &FlowSet| -> (Option<bool>, Vec<String>) {
        match &nsg_allowed {
            None => (None, Vec::new()),
            Some(allowed) => {
                let denied = flows.difference(allowed);
                (Some(denied.is_empty()), readable(&denied).0)
            }
        }
    };

    let mut report = FirewallReport {
        ok: true,
        dependencies: Vec::new(),
        openings: Vec::new(),
        notes: Vec::new(),
    };
    let mut required = FlowSet::empty();
    let app_collections: Vec<&RuleCollection<ApplicationRule>> = sorted_by_priority(s.application_rule_collections);
    for dep in s.dependencies {
        match &dep.target {
            DependencyTarget::Network {
                protocols,
                destination,
                ports,
            } => {
                let flows = match dependency_flows(&sources, protocols, destination, ports, &resolver) {
                    Ok(f) => f.intersection(&domain),
                    Err(e) => {
                        notes.push(format!("dependency {}: {e}", dep.id));
                        report.ok = false;
                        continue;
                    }
                };
                let uncovered = flows.difference(&network.allowed);
                let rules = network
                    .decided
                    .iter()
                    .filter(|(_, _, action, set)| *action == FirewallAction::Allow && !set.intersection(&flows).is_empty())
                    .map(|(_, rule, _, _)| rule.clone())
                    .collect();
                let (pieces, more) = readable(&uncovered);
                let (nsg_covered, nsg_uncovered) = nsg_check(&flows.intersection(&through_firewall));
                report.dependencies.push(DependencyCheck {
                    id: dep.id.clone(),
                    kind: DependencyKind::Network,
                    covered: uncovered.is_empty(),
                    rules,
                    uncovered: pieces,
                    uncovered_more: more,
                    nsg_covered,
                    nsg_uncovered,
                });
                required = required.union(&flows);
            }
            DependencyTarget::Application { protocols, destination } => {
                let mut rules: Vec<String> = Vec::new();
                let mut uncovered = Vec::new();
                let mut nsg_flows = FlowSet::empty();
                for &p in protocols {
                    let on_port = fqdn_flows(&sources, &IntervalSet::full(), p.port);
                    let deny = network
                        .decided
                        .iter()
                        .find(|(_, _, action, set)| *action == FirewallAction::Deny && !set.intersection(&on_port).is_empty());
                    if let Some((_, rule, _, _)) = deny {
                        uncovered.push(format!("{p}: network rule {rule} denies TCP port {} first", p.port));
                        continue;
                    }
                    match first_application_match(&app_collections, &sources, destination, p) {
                        Some((FirewallAction::Allow, rule)) => {
                            if !rules.contains(&rule.name) {
                                rules.push(rule.name.clone());
                            }
                        }
                        Some((FirewallAction::Deny, rule)) => uncovered.push(format!("{p}: denied by application rule {}", rule.name)),
                        None => uncovered.push(format!("{p}: no application rule allows it")),
                    }
                    nsg_flows = nsg_flows.union(&fqdn_flows(&sources, &outside, p.port));
                }
                let (nsg_covered, nsg_uncovered) = nsg_check(&nsg_flows);
                report.dependencies.push(DependencyCheck {
                    id: dep.id.clone(),
                    kind: DependencyKind::Application,
                    covered: uncovered.is_empty(),
                    rules,
                    uncovered,
                    uncovered_more: 0,
                    nsg_covered,
                    nsg_uncovered,
                });
            }
        }
    }

    // Network openings: allowed packets no dependency needs, per deciding allow rule.
    let open = network.allowed.difference(&required);
    if !open.is_empty() {
        for (collection, rule, action, set) in &network.decided {
            let by_rule = set.intersection(&open);
            if *action == FirewallAction::Allow && !by_rule.is_empty() {
                let (flows, flows_more) = readable(&by_rule);
                report.openings.push(FirewallOpening {
                    collection: collection.clone(),
                    rule: rule.clone(),
                    flows,
                    flows_more,
                });
            }
        }
    }
    // Application openings: allowed (target, protocol) pairs no dependency needs.
    for c in &app_collections {
        if c.action != FirewallAction::Allow {
            continue;
        }
        for rule in &c.rules {
            let mut extra = Vec::new();
            for &p in &rule.protocols {
                let needed = |target: &ApplicationDestination| {
                    s.dependencies.iter().any(|d| match &d.target {
                        DependencyTarget::Application { protocols, destination } => {
                            protocols.contains(&p)
                                && match (destination, target) {
                                    (ApplicationDestination::FqdnTag { name: a }, ApplicationDestination::FqdnTag { name: b }) => {
                                        a.eq_ignore_ascii_case(b)
                                    }
                                    (ApplicationDestination::Fqdn { name: a }, ApplicationDestination::Fqdn { name: b }) => {
                                        fqdn_covers(a, b)
                                    }
                                    _ => false,
                                }
                        }
                        DependencyTarget::Network { .. } => false,
                    })
                };
                let targets = rule
                    .fqdn_tags
                    .iter()
                    .map(|t| ApplicationDestination::FqdnTag { name: t.clone() })
                    .chain(rule.target_fqdns.iter().map(|t| ApplicationDestination::Fqdn { name: t.clone() }));
                for t in targets {
                    if !needed(&t) {
                        let name = match &t {
                            ApplicationDestination::FqdnTag { name } => format!("fqdnTag {name}"),
                            ApplicationDestination::Fqdn { name } => name.clone(),
                        };
                        extra.push(format!("{p} {name}"));
                    }
                }
            }
            if !extra.is_empty() {
                let more = extra.len().saturating_sub(MAX_PIECES);
                extra.truncate(MAX_PIECES);
                report.openings.push(FirewallOpening {
                    collection: c.name.clone(),
                    rule: rule.name.clone(),
                    flows: extra,
                    flows_more: more,
                });
            }
        }
    }
    notes.dedup();
    report.ok &=
        notes.is_empty() && report.openings.is_empty() && report.dependencies.iter().all(|d| d.covered && d.nsg_covered != Some(false));
    report.notes = notes;
    report
}

#[cfg(test)]
mod tests {
    use super::fqdn_covers;

    #[test]
    fn wildcards_cover_the_names_below_them() {
        assert!(fqdn_covers("go.microsoft.com", "GO.microsoft.com"));
        assert!(fqdn_covers("*.microsoft.com", "go.microsoft.com"));
        assert!(fqdn_covers("*.microsoft.com", "*.update.microsoft.com"));
        assert!(fqdn_covers("*ctldl.windowsupdate.com", "ctldl.windowsupdate.com"));
        assert!(fqdn_covers("*", "*.anything.example"));
        assert!(!fqdn_covers("*.microsoft.com", "microsoft.com"));
        assert!(!fqdn_covers("go.microsoft.com", "*.microsoft.com"));
        assert!(!fqdn_covers("*.update.microsoft.com", "*.microsoft.com"));
    }
}
