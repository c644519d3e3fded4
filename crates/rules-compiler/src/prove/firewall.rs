//! The proof of the ISE's Azure Firewall rules, with Azure Firewall's semantics: default deny; DNAT
//! rules first (isenet writes none and outbound traffic from the ISE is never DNAT-ed), then network
//! rules by collection priority, first match deciding (Allow or Deny of its collection), then
//! application rules by collection priority, first match deciding; a packet no rule matches is denied.
//!
//! Over exact sets of packets (intervals, not samples), outbound from the four ISE subnets to every
//! address their routes send to the environment's firewall (not the virtual network's own space, the
//! service endpoints' prefixes, or what a route sends elsewhere: `routes::firewall_bypass_addresses`)
//! but the platform's:
//! 1. every network dependency (its protocols, the addresses of its tag / prefixes / `*`, its ports)
//!    is allowed by the network rules (or, where they decide nothing, by an application rule whose
//!    destination is every address), or the exact uncovered pieces are reported;
//! 2. nothing else is: the packets the network rules allow equal the dependencies' packets; what an
//!    allow rule admits beyond them is reported as an opening, per rule;
//! 3. every FQDN and FQDN-tag dependency is allowed, for each of its protocol:port pairs, by the
//!    first application rule that matches it (a wildcard target covers the names under it, a
//!    `destinationAddresses` `*` every name), and no network Deny decides its port first (the
//!    FQDN's addresses are unknown, so a Deny of any address outside the network that the routes
//!    send to the firewall on that port counts, and the finding names those addresses; `explain`
//!    of the name denies them too); application rule targets no
//!    dependency needs are openings;
//! 4. no allow application rule terminates the TLS of the ISE's traffic (seed 002).
//!
//! With an NSG given, every dependency must also pass the NSG of the subnets (outbound, Azure's
//! defaults included): a network dependency's packets, and for an application dependency TCP to
//! every address outside the network on its port (an FQDN may resolve anywhere).
//!
//! Service tags resolve through the environment's service-tag file (`EnvResolver::intended`): the
//! firewall reads Azure's tag data, not the NSG's VirtualNetwork semantics.

use super::findings::{ArtifactKind, Coverage, Finding, FindingKind, Proof, RuleRef};
use super::nsg;
use crate::azure::firewall::{
    parse_address, parse_port, ApplicationProtocol, ApplicationProtocolType, ApplicationRule, FirewallAction, FirewallAddress,
    NetworkProtocol, NetworkRule, RuleCollection,
};
use crate::azure::nsg::{Access, Direction, PortRange};
use crate::engine::evaluate::Domain;
use crate::engine::flows::{FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::{PacketProtocol, TagResolver};
use crate::plan::{ApplicationDestination, DependencyTarget, FirewallDependency, NetworkDestination};
use crate::prove::resolver::EnvResolver;
use crate::read::firewall::NatRule;
use ipnet::Ipv4Net;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;

/// What to prove.
pub struct Subject<'a> {
    pub env: &'a Environment,
    pub tags: &'a ServiceTags,
    pub network_rule_collections: &'a [RuleCollection<NetworkRule>],
    pub application_rule_collections: &'a [RuleCollection<ApplicationRule>],
    /// The file's DNAT rules (isenet writes none; no ISE requirement is met through one).
    pub nat_rules: &'a [NatRule],
    pub dependencies: &'a [FirewallDependency],
    /// The addresses the ISE subnets' routes send anywhere but to the firewall: the virtual
    /// network's own space, the service endpoints' prefixes, what a route sends elsewhere
    /// (`routes::firewall_bypass_addresses` of the given route table, else the compiled one).
    /// Traffic to them never meets the firewall, so the proof neither asks the firewall to allow
    /// it nor counts a rule's allowing or denying it.
    pub bypass_addresses: &'a IntervalSet<u32>,
    /// The NSG the firewall's traffic crosses first (`None`: it is not checked). Its outbound
    /// rules are evaluated only when a dependency is checked against them, and once for this
    /// proof and the NSG's own when both share it.
    pub nsg: Option<&'a nsg::Evaluated<'a>>,
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

/// A rule as messages name it: with its collection where that is another group's
/// (`group/collection`, `FirewallFile::policy_rules`), whose rules may share the ISE's names.
fn shown_rule(collection: &str, rule: &str) -> String {
    match collection.contains('/') {
        true => format!("{rule} (collection {collection})"),
        false => rule.to_string(),
    }
}

fn rule_ref(collection: &str, rule: &str) -> RuleRef {
    RuleRef {
        collection: Some(collection.to_string()),
        ..RuleRef::named(rule)
    }
}

/// The addresses of a firewall entry (read by `azure::firewall::parse_address`); service tags only
/// where `tags_allowed` (destinations).
fn address_entry<R: TagResolver>(entry: &str, resolver: &R, tags_allowed: bool) -> Result<IntervalSet<u32>, String> {
    match parse_address(entry)? {
        FirewallAddress::Any => Ok(IntervalSet::full()),
        FirewallAddress::Prefix(net) => Ok(IntervalSet::from_prefix(net)),
        FirewallAddress::Range(lo, hi) => Ok(IntervalSet::interval(u32::from(lo), u32::from(hi))),
        // IPv6: never an ISE packet.
        FirewallAddress::V6 => Ok(IntervalSet::empty()),
        FirewallAddress::Tag(tag) if tags_allowed => resolver
            .resolve_set(&tag)
            .ok_or_else(|| format!("`{tag}` is neither an address nor a service tag of the service-tag file")),
        FirewallAddress::Tag(tag) => Err(format!("`{tag}` is not an address, a prefix or a range")),
    }
}

/// The packets a network rule matches (an unreadable entry matches nothing and is a finding).
pub(crate) fn network_rule_flows<R: TagResolver>(
    collection: &str,
    rule: &NetworkRule,
    resolver: &R,
    findings: &mut Vec<Finding>,
) -> FlowSet {
    let mut note = |field: &str, e: String| {
        let message = format!("network rule {}: {field}: {e}; taken to match nothing", rule.name);
        findings.push(Finding::new(FindingKind::UnreadableEntry, ArtifactKind::Firewall, message).rule(rule_ref(collection, &rule.name)));
    };
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
        match parse_port(p) {
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
pub(crate) fn dependency_flows<R: TagResolver>(
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
            .resolve_set(name)
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
    if rule.eq_ignore_ascii_case(dependency) || rule == "*" {
        return true;
    }
    match rule.strip_prefix('*') {
        Some(suffix) => {
            let dep = dependency.trim_start_matches('*').as_bytes();
            dep.len() >= suffix.len() && dep[dep.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
        }
        None => false,
    }
}

/// Whether a rule matches every name a dependency target stands for (`destinationAddresses` `*`
/// matches every destination).
fn rule_targets(rule: &ApplicationRule, destination: &ApplicationDestination) -> bool {
    if rule.matches_every_destination() {
        return true;
    }
    match destination {
        ApplicationDestination::FqdnTag { name } => rule.fqdn_tags.iter().any(|t| t.eq_ignore_ascii_case(name)),
        ApplicationDestination::Fqdn { name } => rule.target_fqdns.iter().any(|t| fqdn_covers(t, name)),
    }
}

/// Whether a rule's targets overlap a dependency's names at all (for Deny rules: a deny of part of a
/// wildcard dependency denies part of it).
fn rule_overlaps(rule: &ApplicationRule, destination: &ApplicationDestination) -> bool {
    if rule.matches_every_destination() {
        return true;
    }
    match destination {
        ApplicationDestination::FqdnTag { .. } => rule_targets(rule, destination),
        ApplicationDestination::Fqdn { name } => rule.target_fqdns.iter().any(|t| fqdn_covers(t, name) || fqdn_covers(name, t)),
    }
}

/// Azure's order: by the priority of the collection's group (where several are evaluated
/// together), then its own.
pub(crate) fn sorted_by_priority<R>(collections: &[RuleCollection<R>]) -> Vec<&RuleCollection<R>> {
    let mut v: Vec<&RuleCollection<R>> = collections.iter().collect();
    v.sort_by_key(|c| (c.group_order, c.priority));
    v
}

/// The network rules evaluated first-match over the domain: per rule, the packets it decides.
pub(crate) struct NetworkEvaluation {
    /// (collection, rule, action, decided packets) in evaluation order.
    pub(crate) decided: Vec<(String, String, FirewallAction, FlowSet)>,
    pub(crate) allowed: FlowSet,
    pub(crate) denied: FlowSet,
}

pub(crate) fn evaluate_network<R: TagResolver>(
    collections: &[RuleCollection<NetworkRule>],
    domain: &FlowSet,
    resolver: &R,
    findings: &mut Vec<Finding>,
) -> NetworkEvaluation {
    let mut remaining = domain.clone();
    let mut eval = NetworkEvaluation {
        decided: Vec::new(),
        allowed: FlowSet::empty(),
        denied: FlowSet::empty(),
    };
    for c in sorted_by_priority(collections) {
        for rule in &c.rules {
            let set = network_rule_flows(&c.name, rule, resolver, findings).intersection(&remaining);
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
pub(crate) fn application_sources(rule: &ApplicationRule) -> IntervalSet<u32> {
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

/// The application rule collections in evaluation order (by priority), each rule with the source
/// addresses it names, read once: a proof asks for every dependency and protocol.
pub(crate) struct Applications<'a> {
    collections: Vec<&'a RuleCollection<ApplicationRule>>,
    /// Per collection, per rule, its sources.
    sources: Vec<Vec<IntervalSet<u32>>>,
}

impl<'a> Applications<'a> {
    pub(crate) fn new(collections: &'a [RuleCollection<ApplicationRule>]) -> Self {
        let collections = sorted_by_priority(collections);
        let sources = collections
            .iter()
            .map(|c| c.rules.iter().map(application_sources).collect())
            .collect();
        Applications { collections, sources }
    }

    /// The collections, by priority.
    pub(crate) fn collections(&self) -> &[&'a RuleCollection<ApplicationRule>] {
        &self.collections
    }

    /// The name of the collection holding `rule` (one of these collections' rules).
    pub(crate) fn collection_of(&self, rule: &ApplicationRule) -> Option<&'a str> {
        self.collections
            .iter()
            .find(|c| c.rules.iter().any(|r| std::ptr::eq(r, rule)))
            .map(|c| c.name.as_str())
    }

    /// The rule `name` of collection `collection`.
    pub(crate) fn rule(&self, collection: &str, name: &str) -> Option<&'a ApplicationRule> {
        let c = self.collections.iter().find(|c| c.name == collection)?;
        c.rules.iter().find(|r| r.name == name)
    }

    /// Every rule, in evaluation order, with its collection and the sources it names.
    fn rules(&self) -> impl Iterator<Item = (&'a RuleCollection<ApplicationRule>, &'a ApplicationRule, &IntervalSet<u32>)> + '_ {
        self.collections
            .iter()
            .zip(&self.sources)
            .flat_map(|(c, sources)| c.rules.iter().zip(sources).map(move |(rule, s)| (*c, rule, s)))
    }

    /// Address flows the network rules left undecided, as the application rules that match every
    /// destination decide them (first match, in order): per rule, (collection, rule, action, the
    /// flows it decides). Rules naming FQDNs or tags match names, not addresses.
    pub(crate) fn decide_addresses(&self, undecided: &FlowSet) -> Vec<(String, String, FirewallAction, FlowSet)> {
        let mut remaining = undecided.clone();
        let mut out = Vec::new();
        for (c, rule, sources) in self.rules().filter(|(_, rule, _)| rule.matches_every_destination()) {
            let decided = every_destination_flows(rule, sources).intersection(&remaining);
            if !decided.is_empty() {
                remaining = remaining.difference(&decided);
                out.push((c.name.clone(), rule.name.clone(), c.action, decided));
            }
        }
        out
    }

    /// What the first application rule matching `(destination, protocol)` from `sources` decides.
    /// An Allow counts only when its sources cover all of `sources`; a Deny as soon as they overlap.
    pub(crate) fn first_match(
        &self,
        sources: &IntervalSet<u32>,
        destination: &ApplicationDestination,
        protocol: ApplicationProtocol,
    ) -> Option<(FirewallAction, &'a ApplicationRule)> {
        for (c, rule_sources) in self.collections.iter().zip(&self.sources) {
            for (rule, rule_sources) in c.rules.iter().zip(rule_sources) {
                if !rule.protocols.contains(&protocol) {
                    continue;
                }
                let hit = match c.action {
                    FirewallAction::Allow => sources.is_subset(rule_sources) && rule_targets(rule, destination),
                    FirewallAction::Deny => sources.intersects(rule_sources) && rule_overlaps(rule, destination),
                };
                if hit {
                    return Some((c.action, rule));
                }
            }
        }
        None
    }
}

/// The application protocol a TCP flow on `port` is taken to carry where nothing else says (a name
/// or an address given to `explain`, an address flow): HTTP on port 80, HTTPS on any other.
pub(crate) fn web_protocol(port: u16) -> ApplicationProtocol {
    let protocol_type = if port == 80 {
        ApplicationProtocolType::Http
    } else {
        ApplicationProtocolType::Https
    };
    ApplicationProtocol { protocol_type, port }
}

/// The address flows a rule matching every destination takes in: TCP from its sources on each of
/// its protocols' ports that carries that protocol (see [`web_protocol`]).
fn every_destination_flows(rule: &ApplicationRule, sources: &IntervalSet<u32>) -> FlowSet {
    let ports: Vec<PortRange> = rule
        .protocols
        .iter()
        .filter(|p| web_protocol(p.port) == **p)
        .map(|p| PortRange { lo: p.port, hi: p.port })
        .collect();
    FlowSet::from_parts(
        ProtoSet::single(PacketProtocol::Tcp),
        sources.clone(),
        IntervalSet::full(),
        IntervalSet::full(),
        IntervalSet::from_port_ranges(&ports),
    )
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

/// What the proof shares across its steps: the environment's packets and the evaluated rules.
struct Context<'a> {
    subject: &'a Subject<'a>,
    resolver: EnvResolver<'a>,
    sources: IntervalSet<u32>,
    domain: FlowSet,
    /// Addresses outside the VNet and the declared networks (where the firewall is met).
    outside: IntervalSet<u32>,
    network: NetworkEvaluation,
    applications: Applications<'a>,
    /// What the application rules matching every destination decide of the packets the network
    /// rules leave (as [`Applications::decide_addresses`]), and the part they allow.
    by_address: Vec<(String, String, FirewallAction, FlowSet)>,
    by_address_allowed: FlowSet,
    /// The NSG (`None`: it is not checked).
    nsg: Option<&'a nsg::Evaluated<'a>>,
}

pub fn prove(s: &Subject) -> Proof {
    let resolver = EnvResolver::intended(s.env, s.tags);
    let subnets = s.env.subnet_prefixes();
    let mut findings = Vec::new();
    // What meets the firewall: outbound from the subnets, less what their routes take past it
    // and the platform's addresses, which the host answers and no route takes.
    let past = FlowSet::from_parts(
        ProtoSet::ALL,
        IntervalSet::full(),
        IntervalSet::full(),
        s.bypass_addresses.union(&crate::prove::resolver::unfiltered_addresses()),
        IntervalSet::full(),
    );
    let domain = FlowSet::from_box(Domain::outbound_from(&subnets).flows().clone()).difference(&past);
    let network = evaluate_network(s.network_rule_collections, &domain, &resolver, &mut findings);
    let outside = resolver.resolve_set("Internet").unwrap_or_default();
    let applications = Applications::new(s.application_rule_collections);
    let by_address = applications.decide_addresses(&domain.difference(&network.allowed).difference(&network.denied));
    let by_address_allowed = by_address
        .iter()
        .filter(|(_, _, action, _)| *action == FirewallAction::Allow)
        .fold(FlowSet::empty(), |acc, (_, _, _, set)| acc.union(set));
    let cx = Context {
        subject: s,
        resolver,
        sources: IntervalSet::from_prefixes(subnets.iter().copied()),
        domain,
        outside,
        network,
        applications,
        by_address,
        by_address_allowed,
        nsg: s.nsg,
    };
    let mut coverage = Vec::new();
    let mut required = FlowSet::empty();
    for dep in s.dependencies {
        let covered = match &dep.target {
            DependencyTarget::Network {
                protocols,
                destination,
                ports,
            } => match dependency_flows(&cx.sources, protocols, destination, ports, &cx.resolver) {
                Ok(flows) => {
                    let flows = flows.intersection(&cx.domain);
                    required = required.union(&flows);
                    check_network(&cx, &dep.id, &flows, &mut findings)
                }
                Err(e) => {
                    let message = format!("dependency {}: {e}", dep.id);
                    findings.push(
                        Finding::new(FindingKind::DependencyTagMissing, ArtifactKind::Firewall, message).requirements(vec![dep.id.clone()]),
                    );
                    (false, Vec::new())
                }
            },
            DependencyTarget::Application { protocols, destination } => {
                check_application(&cx, &dep.id, protocols, destination, &mut findings)
            }
        };
        coverage.push(Coverage {
            id: dep.id.clone(),
            direction: None,
            covered: covered.0,
            rules: covered.1,
        });
    }
    findings.extend(network_openings(&cx, &required));
    findings.extend(application_openings(&cx));
    findings.extend(tls_terminations(&cx));
    findings.extend(dnat_openings(s.nat_rules, &cx.sources));
    let rules = s.network_rule_collections.iter().map(|c| c.rules.len()).sum::<usize>()
        + s.application_rule_collections.iter().map(|c| c.rules.len()).sum::<usize>();
    Proof::new(ArtifactKind::Firewall, rules, coverage, findings)
}

/// DNAT rules that forward to an address in the ISE subnets. Inbound traffic is not this proof's
/// domain, but such a rule opens the ISE to whatever reaches the firewall: the firewall also
/// rewrites the source to its own private address, which the ISE's NSG admits as VNet traffic.
/// A translated FQDN's address is not known here and is not reported.
fn dnat_openings(rules: &[NatRule], ise: &IntervalSet<u32>) -> Vec<Finding> {
    rules
        .iter()
        .filter(|r| {
            r.translated
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| ise.intersects(&IntervalSet::interval(u32::from(a), u32::from(a))))
        })
        .map(|r| {
            let message = format!(
                "DNAT rule {} forwards port(s) {} from {} to {}:{}, inside the ISE subnets: no ISE requirement is met through DNAT",
                r.name,
                r.destination_ports.join(","),
                if r.source_addresses.is_empty() {
                    "*".to_string()
                } else {
                    r.source_addresses.join(",")
                },
                r.translated,
                r.translated_port
            );
            Finding::new(FindingKind::FirewallOpening, ArtifactKind::Firewall, message).rule(rule_ref(&r.collection, &r.name))
        })
        .collect()
}

/// Only traffic leaving the network meets the firewall: the NSG must admit a dependency there, not
/// towards the VNet or the declared peered and on-premises networks (routed around it).
fn nsg_check(cx: &Context, id: &str, flows: &FlowSet, findings: &mut Vec<Finding>) -> bool {
    let Some(nsg) = cx.nsg else { return true };
    let eval = nsg.evaluation(Direction::Outbound);
    let denied = flows.difference(&eval.allowed());
    if denied.is_empty() {
        return true;
    }
    // The NSG rules that deny them, in evaluation order: what the firewall team asks the NSG's
    // owners to change.
    let rules = nsg.rules();
    let deniers = eval
        .deciders_meeting(&denied)
        .into_iter()
        .flatten()
        .filter(|&i| rules[i].access == Access::Deny);
    let deniers: Vec<String> = eval.in_order(deniers).into_iter().map(|i| rules[i].name.clone()).collect();
    let by = match deniers.as_slice() {
        [] => String::new(),
        [one] => format!(" (denied by NSG rule {one})"),
        many => format!(" (denied by NSG rules {})", many.join(", ")),
    };
    let message = format!("the NSG of the ISE subnets denies flows dependency {id} needs on its way to the firewall{by}");
    findings.push(
        Finding::new(FindingKind::NsgBlocksDependency, ArtifactKind::Firewall, message)
            .direction(Direction::Outbound)
            .requirements(vec![id.to_string()])
            .flows(denied.pieces())
            .related(deniers),
    );
    false
}

/// A network dependency: allowed by the network rules, or where they decide nothing by an
/// application rule matching every destination (which ones), and by the NSG.
fn check_network(cx: &Context, id: &str, flows: &FlowSet, findings: &mut Vec<Finding>) -> (bool, Vec<String>) {
    let uncovered = flows.difference(&cx.network.allowed).difference(&cx.by_address_allowed);
    let decided = || cx.network.decided.iter().chain(&cx.by_address);
    let mut rules: Vec<String> = Vec::new();
    for (_, rule, action, set) in decided() {
        if *action == FirewallAction::Allow && !set.intersection(flows).is_empty() && !rules.contains(rule) {
            rules.push(rule.clone());
        }
    }
    if !uncovered.is_empty() {
        let deniers: Vec<String> = decided()
            .filter(|(_, _, action, set)| *action == FirewallAction::Deny && !set.intersection(&uncovered).is_empty())
            .map(|(_, rule, _, _)| rule.clone())
            .collect();
        let message = format!("the firewall denies flows dependency {id} needs");
        findings.push(
            Finding::new(FindingKind::DependencyBlocked, ArtifactKind::Firewall, message)
                .direction(Direction::Outbound)
                .requirements(vec![id.to_string()])
                .flows(uncovered.pieces())
                .related(deniers),
        );
    }
    let outside = FlowSet::from_parts(
        ProtoSet::ALL,
        IntervalSet::full(),
        IntervalSet::full(),
        cx.outside.clone(),
        IntervalSet::full(),
    );
    let nsg_ok = nsg_check(cx, id, &flows.intersection(&outside), findings);
    (uncovered.is_empty() && nsg_ok, rules)
}

/// An FQDN or FQDN-tag dependency: for each of its protocol:port pairs, no network Deny decides
/// the port first and the first matching application rule allows it; and the NSG lets TCP out.
fn check_application(
    cx: &Context,
    id: &str,
    protocols: &[ApplicationProtocol],
    destination: &ApplicationDestination,
    findings: &mut Vec<Finding>,
) -> (bool, Vec<String>) {
    let mut rules: Vec<String> = Vec::new();
    let mut covered = true;
    let mut nsg_flows = FlowSet::empty();
    // A public name resolves outside the network (as `explain` takes it), and where it resolves to
    // an address the routes send elsewhere (a service endpoint's prefixes, the Internet), its
    // traffic never meets the firewall; nor does the platform's (the host answers it), as the
    // network rules' domain leaves it out.
    let reach = cx
        .outside
        .difference(cx.subject.bypass_addresses)
        .difference(&crate::prove::resolver::unfiltered_addresses());
    for &p in protocols {
        nsg_flows = nsg_flows.union(&fqdn_flows(&cx.sources, &cx.outside, p.port));
        let on_port = fqdn_flows(&cx.sources, &reach, p.port);
        // Routed past the firewall wherever it may resolve: nothing to ask of it.
        if on_port.is_empty() {
            continue;
        }
        let deny = cx
            .network
            .decided
            .iter()
            .find(|(_, _, action, set)| *action == FirewallAction::Deny && !set.intersection(&on_port).is_empty());
        let mut flows = on_port.clone();
        let blocked = match deny {
            Some((collection, rule, _, set)) => {
                // Only the addresses the rule denies: the name may resolve into them.
                flows = set.intersection(&on_port);
                Some((
                    format!(
                        "{p}: network rule {} denies TCP port {} to some addresses first (network rules come before application rules, and the name may resolve into them: the flows below)",
                        shown_rule(collection, rule),
                        p.port
                    ),
                    Some(rule_ref(collection, rule)),
                ))
            }
            // Network allows of every address the name may resolve to decide it before any
            // application rule; of some addresses, they leave the rest to them.
            None if on_port.difference(&cx.network.allowed).is_empty() => None,
            None => match cx.applications.first_match(&cx.sources, destination, p) {
                Some((FirewallAction::Allow, rule)) => {
                    if !rules.contains(&rule.name) {
                        rules.push(rule.name.clone());
                    }
                    None
                }
                Some((FirewallAction::Deny, rule)) => {
                    flows = on_port.difference(&cx.network.allowed);
                    let collection = cx.applications.collection_of(rule).unwrap_or_default();
                    Some((
                        format!("{p}: denied by application rule {}", shown_rule(collection, &rule.name)),
                        Some(rule_ref(collection, &rule.name)),
                    ))
                }
                None => {
                    flows = on_port.difference(&cx.network.allowed);
                    Some((format!("{p}: no application rule allows it"), None))
                }
            },
        };
        if let Some((reason, rule)) = blocked {
            covered = false;
            let mut finding = Finding::new(
                FindingKind::DependencyBlocked,
                ArtifactKind::Firewall,
                format!("dependency {id} ({destination}): {reason}"),
            )
            .direction(Direction::Outbound)
            .requirements(vec![id.to_string()])
            .flows(flows.pieces());
            finding.rule = rule;
            findings.push(finding);
        }
    }
    let nsg_ok = nsg_check(cx, id, &nsg_flows, findings);
    (covered && nsg_ok, rules)
}

/// Network openings: allowed packets no dependency needs, per deciding allow rule.
fn network_openings(cx: &Context, required: &FlowSet) -> Vec<Finding> {
    let open = cx.network.allowed.difference(required);
    if open.is_empty() {
        return Vec::new();
    }
    cx.network
        .decided
        .iter()
        .filter(|(_, _, action, _)| *action == FirewallAction::Allow)
        .filter_map(|(collection, rule, _, set)| {
            let by_rule = set.intersection(&open);
            (!by_rule.is_empty()).then(|| {
                let message = format!("network rule {} admits flows no dependency needs", shown_rule(collection, rule));
                Finding::new(FindingKind::FirewallOpening, ArtifactKind::Firewall, message)
                    .direction(Direction::Outbound)
                    .rule(rule_ref(collection, rule))
                    .flows(by_rule.pieces())
            })
        })
        .collect()
}

/// Whether some application dependency needs `target` with protocol `p`.
fn application_needed(dependencies: &[FirewallDependency], p: ApplicationProtocol, target: &ApplicationDestination) -> bool {
    dependencies.iter().any(|d| match &d.target {
        DependencyTarget::Application { protocols, destination } => {
            protocols.contains(&p)
                && match (destination, target) {
                    (ApplicationDestination::FqdnTag { name: a }, ApplicationDestination::FqdnTag { name: b }) => a.eq_ignore_ascii_case(b),
                    (ApplicationDestination::Fqdn { name: a }, ApplicationDestination::Fqdn { name: b }) => fqdn_covers(a, b),
                    _ => false,
                }
        }
        DependencyTarget::Network { .. } => false,
    })
}

/// Application openings: allowed (target, protocol) pairs no dependency needs, per rule.
fn application_openings(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in cx.applications.collections().iter().filter(|c| c.action == FirewallAction::Allow) {
        for rule in &c.rules {
            let targets: Vec<ApplicationDestination> = rule
                .fqdn_tags
                .iter()
                .map(|t| ApplicationDestination::FqdnTag { name: t.clone() })
                .chain(rule.target_fqdns.iter().map(|t| ApplicationDestination::Fqdn { name: t.clone() }))
                .collect();
            let mut extra: Vec<String> = rule
                .protocols
                .iter()
                .flat_map(|&p| {
                    targets
                        .iter()
                        .filter(move |t| !application_needed(cx.subject.dependencies, p, t))
                        .map(move |t| format!("{p} {t}"))
                })
                .collect();
            // No dependency is every destination.
            if rule.matches_every_destination() {
                extra.extend(
                    rule.protocols
                        .iter()
                        .map(|p| format!("{p} every destination (destinationAddresses *)")),
                );
            }
            if !extra.is_empty() {
                let message = format!(
                    "application rule {} allows what no dependency needs: {}",
                    shown_rule(&c.name, &rule.name),
                    extra.join(", ")
                );
                out.push(
                    Finding::new(FindingKind::FirewallOpening, ArtifactKind::Firewall, message)
                        .direction(Direction::Outbound)
                        .rule(rule_ref(&c.name, &rule.name)),
                );
            }
        }
    }
    out
}

/// What `verify` and `explain` say of an allow rule that terminates TLS.
/// `rule` names the rule (`application rule X`), `matching` which of the ISE's traffic it takes.
pub(crate) fn tls_termination_message(rule: &str, matching: &str) -> String {
    format!(
        "{rule} terminates TLS (terminateTLS) of traffic from the ISE subnets{matching}: seed 002 says not to enable TLS/SSL termination or change the ISE's outbound TLS/SSL traffic"
    )
}

/// Allow application rules with `terminateTLS` whose sources meet the ISE subnets: the firewall
/// would break open the ISE's TLS connections, which seed 002 says not to do. Each names the
/// dependencies it matches.
fn tls_terminations(cx: &Context) -> Vec<Finding> {
    cx.applications
        .rules()
        .filter(|(c, rule, sources)| c.action == FirewallAction::Allow && rule.terminate_tls && sources.intersects(&cx.sources))
        .map(|(c, rule, _)| {
            let dependencies: Vec<String> = cx
                .subject
                .dependencies
                .iter()
                .filter(|d| match &d.target {
                    DependencyTarget::Application { protocols, destination } => {
                        protocols.iter().any(|p| rule.protocols.contains(p)) && rule_targets(rule, destination)
                    }
                    DependencyTarget::Network { .. } => false,
                })
                .map(|d| d.id.clone())
                .collect();
            let matching = match dependencies.as_slice() {
                [] => String::new(),
                [one] => format!(", dependency {one}"),
                many => format!(", {} dependencies", many.len()),
            };
            let message = tls_termination_message(&format!("application rule {}", shown_rule(&c.name, &rule.name)), &matching);
            Finding::new(FindingKind::TlsTermination, ArtifactKind::Firewall, message)
                .direction(Direction::Outbound)
                .rule(rule_ref(&c.name, &rule.name))
                .requirements(dependencies)
        })
        .collect()
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
