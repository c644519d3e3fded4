//! The path of outbound traffic beyond the NSG, for `explain`: the next hop of each destination by
//! longest-prefix match (the effective routes of `prove::routes`, Azure's system routes included),
//! and for traffic that reaches the environment's firewall, the firewall's decision with the
//! evaluation `prove::firewall` proves with (network rules first match by collection priority,
//! then application rules; no match is denied). For inbound traffic from outside the network, the
//! route of its reply: Azure drops what would reply through an appliance (asymmetric routing).

use super::explain::Flow;
use super::explain::{ExplainNote, Inputs};
use super::firewall::{
    application_sources, dependency_flows, evaluate_network, fqdn_covers, network_rule_flows, web_protocol, Applications,
};
use super::routes::{subnet_routes_noting, Hop, Target, BGP_DEFAULT};
use crate::azure::firewall::{ApplicationProtocol, ApplicationRule, FirewallAction, NetworkRule, RuleCollection};
use crate::azure::nsg::Protocol;
use crate::azure::route::{NextHop, RouteEntry};
use crate::engine::flows::{FlowPiece, FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::plan::{ApplicationDestination, DependencyTarget, Plan};
use crate::prove::resolver::EnvResolver;
use crate::read::firewall::{Unresolved, WidenedRule};
use ise_model::env::TunnelingMode;
use ise_model::ports::PortRange;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Which kind of firewall rule decided (or that none did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallRuleKind {
    Network,
    Application,
    /// No rule matched: Azure Firewall denies by default.
    None,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirewallDecision {
    pub kind: FirewallRuleKind,
    pub collection: Option<String>,
    pub rule: Option<String>,
    pub action: FirewallAction,
    /// Firewall dependency ids the rule was written for (the plan names each rule by its id).
    pub dependencies: Vec<String>,
    /// An allow rule no dependency of the plan stands behind.
    pub serves_no_requirement: bool,
    /// An allow application rule that terminates TLS (`terminateTLS`), which seed 002 says not to
    /// enable for the ISE's traffic (`verify`: F0306).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub terminates_tls: bool,
    pub flows: Vec<FlowPiece>,
    /// The rules set aside (indices into [`FirewallDoubts::set_aside`]) that Azure evaluates
    /// before this decision, that may match its flows and whose collection acts otherwise.
    #[serde(skip)]
    pub(crate) overturned_by: Vec<usize>,
    /// The priority this decision's group shares with another group.
    #[serde(skip)]
    pub(crate) tied: Option<u32>,
}

/// Where part of the flow goes after the NSG let it out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteStep {
    /// The route that wins longest-prefix match (`system: ...` for Azure's system routes).
    pub route: String,
    /// Azure's next hop type (`Internet`, `VirtualAppliance`, `VirtualNetworkServiceEndpoint`, ...).
    pub next_hop: String,
    /// The appliance's address, for `VirtualAppliance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop_ip_address: Option<Ipv4Addr>,
    /// Whether this part gets past the hop (None drops it; the firewall decides for its part).
    pub passes: bool,
    pub flows: Vec<FlowPiece>,
    /// What the firewall decides, when the hop is the environment's firewall.
    pub firewall: Vec<FirewallDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl RouteStep {
    /// The step of `part` through `hop`, no firewall decision yet.
    fn through(hop: &Hop, part: &FlowSet, passes: bool, note: Option<String>) -> RouteStep {
        let (next_hop, next_hop_ip_address) = match hop.next_hop {
            Target::Appliance(ip) => (NextHop::VirtualAppliance.to_string(), Some(ip)),
            t => (t.to_string(), None),
        };
        RouteStep {
            route: hop.route.clone(),
            next_hop,
            next_hop_ip_address,
            passes,
            flows: part.pieces(),
            firewall: Vec::new(),
            note,
        }
    }
}

/// Where Azure evaluates a firewall rule: application rules after network ones, then by group
/// (priority, place in the file) and collection priority; `None` sorts first (unknown: taken to
/// come first).
type EvaluationOrder = (bool, Option<(u32, usize)>, Option<u32>);

impl FirewallModel<'_> {
    /// Where Azure evaluates the rules of `collection` (of `kind`), in the terms of
    /// [`Unresolved`]: application rules after network rules, then group and collection priority.
    /// `None` for the default deny (after every rule), or a collection not found (taken as last:
    /// every rule set aside then counts as before it).
    fn order_of(&self, kind: FirewallRuleKind, collection: Option<&str>) -> Option<EvaluationOrder> {
        let collection = collection?;
        match kind {
            FirewallRuleKind::Network => {
                let c = self.network.iter().find(|c| c.name == collection)?;
                Some((false, c.group_order, Some(c.priority)))
            }
            FirewallRuleKind::Application => {
                let c = self.application.collections().iter().find(|c| c.name == collection)?;
                Some((true, c.group_order, Some(c.priority)))
            }
            FirewallRuleKind::None => None,
        }
    }

    /// The rules set aside that Azure evaluates before a decision at `order` (`None`: the
    /// default deny, after every rule), that may match some of its `flows`, and whose collection
    /// acts otherwise than `action`.
    fn overturning(&self, order: Option<EvaluationOrder>, action: FirewallAction, flows: &FlowSet) -> Vec<usize> {
        let set_aside = self.doubts.set_aside.iter().zip(&self.set_aside_flows).enumerate();
        set_aside
            .filter(|(_, (s, may_match))| {
                s.action != Some(action)
                    && order.is_none_or(|o| (s.application, s.group_order, s.priority) < o)
                    && may_match.as_ref().is_none_or(|m| !m.intersection(flows).is_empty())
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The priority a decision's group at `order` shares with another group.
    fn tie_of(&self, order: Option<EvaluationOrder>) -> Option<u32> {
        let (_, group, _) = order?;
        let (priority, _) = group?;
        self.doubts.ties.iter().any(|(p, _)| *p == priority).then_some(priority)
    }
}

/// What a rule set aside may match at most: its widened rule's flows, an application rule's on
/// TCP at its protocols' ports from its sources to anywhere; `None` (anything) unread.
fn widened_flows(s: &Unresolved, resolver: &EnvResolver) -> Option<FlowSet> {
    match s.widened.as_ref()? {
        WidenedRule::Network(rule) => Some(network_rule_flows(&s.collection, rule, resolver, &mut Vec::new())),
        WidenedRule::Application(rule) => {
            let ports: Vec<PortRange> = rule.protocols.iter().map(|p| PortRange { lo: p.port, hi: p.port }).collect();
            Some(FlowSet::from_parts(
                ProtoSet::matched_by(Protocol::Tcp),
                application_sources(rule),
                IntervalSet::full(),
                IntervalSet::full(),
                IntervalSet::from_port_ranges(&ports),
            ))
        }
    }
}

/// What the firewall's evaluation leaves out (a shared policy's file): another group's rules set
/// aside, and the priorities groups share (`read::firewall::PolicyRules`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FirewallDoubts<'a> {
    pub set_aside: &'a [Unresolved],
    pub ties: &'a [(u32, Vec<Option<String>>)],
}

struct FirewallModel<'a> {
    address: Ipv4Addr,
    network: Vec<RuleCollection<NetworkRule>>,
    application: Applications<'a>,
    resolver: EnvResolver<'a>,
    doubts: FirewallDoubts<'a>,
    /// Per rule set aside, the flows it may match at most (`None`: any).
    set_aside_flows: Vec<Option<FlowSet>>,
}

pub(crate) struct PathModel<'a> {
    plan: &'a Plan,
    /// Disjoint destination sets per effective next hop.
    hops: BTreeMap<Hop, IntervalSet<u32>>,
    firewall: Option<FirewallModel<'a>>,
    /// Routes left out of `hops`, as notes.
    pub(crate) route_notes: Vec<ExplainNote>,
}

impl<'a> PathModel<'a> {
    pub(crate) fn new(inputs: &Inputs<'a>) -> Self {
        let plan = inputs.plan;
        let env = &plan.environment;
        let planned: Vec<RouteEntry>;
        let routes: &[RouteEntry] = match inputs.routes {
            Some(r) => r,
            None => {
                planned = plan.routes.iter().map(|r| r.entry()).collect();
                &planned
            }
        };
        // The firewall proof takes the same routes (`verify`'s service-endpoint traffic is this).
        let mut ignored = Vec::new();
        let hops = subnet_routes_noting(routes, env, inputs.tags, &plan.requirements, &mut ignored);
        // Routes the path leaves out, said with every answer that follows it (as `verify` says
        // them: F0204 and unknown tags), since they may change which route decides.
        let route_notes = ignored
            .into_iter()
            .map(|f| ExplainNote {
                code: f.code,
                rule: f.rule.map(|r| r.name).unwrap_or_default(),
                tag: String::new(),
                message: f.message,
            })
            .collect();
        let firewall = match (env.forced_tunneling.mode, env.forced_tunneling.firewall_private_ip) {
            (TunnelingMode::Firewall, Some(address)) => {
                let (network, application) = inputs
                    .firewall
                    .unwrap_or((&plan.firewall.network_rule_collections, &plan.firewall.application_rule_collections));
                let resolver = EnvResolver::intended(env, inputs.tags);
                let set_aside_flows = inputs
                    .firewall_doubts
                    .set_aside
                    .iter()
                    .map(|s| widened_flows(s, &resolver))
                    .collect();
                Some(FirewallModel {
                    address,
                    network: network.to_vec(),
                    application: Applications::new(application),
                    resolver,
                    doubts: inputs.firewall_doubts,
                    set_aside_flows,
                })
            }
            _ => None,
        };
        PathModel {
            plan,
            hops,
            firewall,
            route_notes,
        }
    }

    pub(crate) fn has_firewall(&self) -> bool {
        self.firewall.is_some()
    }

    /// Follows what the NSG allowed out (`allowed`, from `sources`): one step per hop, and the
    /// part the path denies. A DNS name (`name`) is decided by the firewall's application rules
    /// where a route takes it to the firewall.
    pub(crate) fn follow(
        &self,
        allowed: &FlowSet,
        sources: &IntervalSet<u32>,
        flow: &Flow,
        name: Option<&str>,
        members: &IntervalSet<u32>,
    ) -> (Vec<RouteStep>, FlowSet) {
        let mut steps = Vec::new();
        let mut denied = FlowSet::empty();
        let to = |addresses: &IntervalSet<u32>| {
            FlowSet::from_parts(
                ProtoSet::ALL,
                IntervalSet::full(),
                IntervalSet::full(),
                addresses.clone(),
                IntervalSet::full(),
            )
        };
        // A DNS name's addresses are not known: it follows each route over the addresses it may
        // resolve to, as a prefix does (and as `verify` asks of the firewall).
        let mut parts: Vec<(&Hop, FlowSet)> = self
            .hops
            .iter()
            .map(|(hop, addresses)| (hop, allowed.intersection(&to(addresses))))
            .filter(|(_, part)| !part.is_empty())
            .collect();
        // Steps through an appliance (the firewall's decisions) first, ahead of the many routes
        // that send a name's or a wide prefix's other addresses to the Internet.
        parts.sort_by_key(|(hop, _)| !matches!(hop.next_hop, Target::Appliance(_)));
        for (hop, mut part) in parts {
            if hop.is_private_range_default() && !members.is_empty() {
                // Members are reached by their own route (peering, the gateway's), which
                // replaces Azure's default for the private ranges.
                let by_own_route = part.intersection(&to(members));
                if !by_own_route.is_empty() {
                    let note = "a declared network (internalCallers, customDnsServers) or VirtualNetwork member (--as-member): its peering or gateway route replaces this default";
                    steps.push(RouteStep::through(hop, &by_own_route, true, Some(note.into())));
                    part = part.difference(&by_own_route);
                    if part.is_empty() {
                        continue;
                    }
                }
            }
            let mut step = RouteStep::through(hop, &part, true, None);
            match (hop.next_hop, &self.firewall) {
                (Target::Hop(NextHop::None), _) => {
                    step.passes = false;
                    step.note = Some("next hop None: Azure drops the traffic".into());
                    denied = denied.union(&part);
                }
                (Target::Appliance(ip), Some(fw)) if ip == fw.address => {
                    let (decisions, fw_denied) = match name {
                        Some(name) => self.firewall_name(fw, &part, sources, flow, name),
                        None => self.firewall_addresses(fw, &part),
                    };
                    step.passes = fw_denied.is_empty();
                    step.firewall = decisions;
                    denied = denied.union(&fw_denied);
                }
                (Target::Hop(NextHop::VirtualNetworkGateway), _) if hop.route == BGP_DEFAULT => {
                    step.note = Some("BGP: ExpressRoute's default route takes it on-premises, not to the Internet".into());
                }
                (Target::Appliance(_), _) => {
                    step.note = Some("an appliance other than the environment's firewall: isenet does not see its rules".into());
                }
                _ => {}
            }
            steps.push(step);
        }
        (steps, denied)
    }

    /// Inbound traffic the NSG let in (`allowed`) from outside the network: its reply leaves the ISE
    /// subnets by their routes, and Azure drops the inbound traffic whose reply would go to an
    /// appliance, the gateway or nowhere rather than to the Internet (asymmetric routing). One step
    /// per such reply route, and the part of the flow denied. Sources inside the network (the VNet,
    /// declared callers) reply the way they came; the platform's 168.63.129.16 (load balancer
    /// probes, DNS) is answered by the host, not routed.
    /// `members` (`explain --as-member`) came by peering or the gateway and reply that way too,
    /// except where a user route drops everything (next hop `None`; Azure's default for the
    /// private ranges gives way to their own route).
    pub(crate) fn replies(&self, allowed: &FlowSet, members: &IntervalSet<u32>) -> (Vec<RouteStep>, FlowSet) {
        let platform = IntervalSet::from_prefixes(["168.63.129.16/32".parse().expect("valid")]);
        let outside = IntervalSet::<u32>::full()
            .difference(&IntervalSet::from_prefixes(crate::plan::trusted_network(&self.plan.environment)))
            .difference(&platform);
        let mut steps = Vec::new();
        let mut denied = FlowSet::empty();
        for (hop, addresses) in &self.hops {
            let asymmetric = matches!(
                hop.next_hop,
                Target::Appliance(_) | Target::Hop(NextHop::VirtualNetworkGateway | NextHop::None)
            );
            if !asymmetric {
                continue;
            }
            let sources = match hop.next_hop {
                Target::Hop(NextHop::None) if !hop.is_private_range_default() => addresses.intersection(&outside),
                _ => addresses.intersection(&outside).difference(members),
            };
            let from = FlowSet::from_parts(
                ProtoSet::ALL,
                sources,
                IntervalSet::full(),
                IntervalSet::full(),
                IntervalSet::full(),
            );
            let part = allowed.intersection(&from);
            if part.is_empty() {
                continue;
            }
            let note = "the reply's route: asymmetric routing, Azure drops inbound traffic whose reply does not go back to the Internet";
            steps.push(RouteStep::through(hop, &part, false, Some(note.into())));
            denied = denied.union(&part);
        }
        (steps, denied)
    }

    /// Addresses: the network rules decide first match, then of what they leave the application
    /// rules that match every destination (`destinationAddresses` `*`; the others match names in
    /// HTTP/TLS, not addresses), as `verify` evaluates them; what none matches is denied.
    fn firewall_addresses(&self, fw: &FirewallModel, part: &FlowSet) -> (Vec<FirewallDecision>, FlowSet) {
        let eval = evaluate_network(&fw.network, part, &fw.resolver, &mut Vec::new());
        let mut decisions: Vec<FirewallDecision> = eval
            .decided
            .iter()
            .filter(|(_, _, _, set)| !set.is_empty())
            .map(|(collection, rule, action, set)| {
                self.firewall_decision(FirewallRuleKind::Network, Some(collection), Some(rule), *action, set)
            })
            .collect();
        let mut unmatched = part.difference(&eval.allowed).difference(&eval.denied);
        let mut allowed = eval.allowed.clone();
        for (collection, rule, action, set) in fw.application.decide_addresses(&unmatched) {
            let terminates_tls = fw.application.rule(&collection, &rule).is_some_and(|r| r.terminate_tls);
            let decision = self.firewall_decision(FirewallRuleKind::Application, Some(&collection), Some(&rule), action, &set);
            decisions.push(FirewallDecision {
                terminates_tls: terminates_tls && action == FirewallAction::Allow,
                ..decision
            });
            unmatched = unmatched.difference(&set);
            if action == FirewallAction::Allow {
                allowed = allowed.union(&set);
            }
        }
        if !unmatched.is_empty() {
            decisions.push(self.firewall_decision(FirewallRuleKind::None, None, None, FirewallAction::Deny, &unmatched));
        }
        (decisions, part.difference(&allowed))
    }

    /// A DNS name on one TCP port. Its addresses are unknown, so each network rule decides the
    /// addresses it matches (Azure evaluates network rules first): a network Deny of some addresses
    /// on the port denies the flow there, as `verify` counts it. The rest goes to the first
    /// application rule matching the name (HTTP on port 80, HTTPS on any other port); where it
    /// allows, network rules that allow some of the addresses are not listed (the name is not
    /// known to resolve there), unless they allow every address left: then they decide it
    /// whatever it resolves to (another group's allow-all ahead of the application rules).
    fn firewall_name(
        &self,
        fw: &FirewallModel,
        part: &FlowSet,
        sources: &IntervalSet<u32>,
        flow: &Flow,
        name: &str,
    ) -> (Vec<FirewallDecision>, FlowSet) {
        let eval = evaluate_network(&fw.network, part, &fw.resolver, &mut Vec::new());
        let network = |action: FirewallAction| {
            eval.decided
                .iter()
                .filter(move |(_, _, a, set)| *a == action && !set.is_empty())
                .map(|(collection, rule, action, set)| {
                    self.firewall_decision(FirewallRuleKind::Network, Some(collection), Some(rule), *action, set)
                })
        };
        let mut decisions: Vec<FirewallDecision> = network(FirewallAction::Deny).collect();
        let rest = part.difference(&eval.denied);
        if rest.is_empty() {
            return (decisions, eval.denied);
        }
        let protocol = web_protocol(flow.ports.lo);
        let destination = ApplicationDestination::Fqdn { name: name.to_string() };
        let collection_of = |rule: &ApplicationRule| fw.application.collection_of(rule);
        match fw.application.first_match(sources, &destination, protocol) {
            Some((FirewallAction::Allow, rule)) => {
                if rest.difference(&eval.allowed).is_empty() {
                    decisions.extend(network(FirewallAction::Allow));
                } else {
                    let decision = self.firewall_decision(
                        FirewallRuleKind::Application,
                        collection_of(rule),
                        Some(&rule.name),
                        FirewallAction::Allow,
                        &rest,
                    );
                    // Whatever the rule is called (another group's allow of every name), it
                    // serves the application dependencies this name is.
                    let mut dependencies = decision.dependencies.clone();
                    for id in self.application_dependencies_naming(name, protocol) {
                        if !dependencies.contains(&id) {
                            dependencies.push(id);
                        }
                    }
                    decisions.push(FirewallDecision {
                        terminates_tls: rule.terminate_tls,
                        serves_no_requirement: dependencies.is_empty(),
                        dependencies,
                        ..decision
                    });
                }
                (decisions, eval.denied)
            }
            denied_by => {
                decisions.extend(network(FirewallAction::Allow));
                let unallowed = rest.difference(&eval.allowed);
                if unallowed.is_empty() {
                    return (decisions, eval.denied);
                }
                let (kind, collection, rule) = match denied_by {
                    Some((_, rule)) => (FirewallRuleKind::Application, collection_of(rule), Some(rule.name.as_str())),
                    None => (FirewallRuleKind::None, None, None),
                };
                decisions.push(self.firewall_decision(kind, collection, rule, FirewallAction::Deny, &unallowed));
                (decisions, eval.denied.union(&unallowed))
            }
        }
    }

    /// Notes for the firewall's decisions in `steps` that what its evaluation leaves out could
    /// change (a rule set aside: F0309; a group order Azure does not document: F0308), once per
    /// rule: such a verdict is not proved.
    pub(crate) fn doubt_notes(&self, steps: &[RouteStep]) -> Vec<ExplainNote> {
        let Some(fw) = &self.firewall else { return Vec::new() };
        let mut notes: Vec<ExplainNote> = Vec::new();
        let mut push = |code: &'static str, rule: String, message: String| {
            if !notes.iter().any(|n| n.code == code && n.rule == rule) {
                notes.push(ExplainNote {
                    code,
                    rule,
                    tag: String::new(),
                    message,
                });
            }
        };
        for d in steps.iter().flat_map(|s| &s.firewall) {
            for s in d.overturned_by.iter().map(|&i| &fw.doubts.set_aside[i]) {
                push(
                    "F0309",
                    format!("{}/{}", s.collection, s.rule),
                    format!(
                        "rule {} (collection {}) was set aside ({}); Azure evaluates it before a rule that decides part of this flow (or the default deny), it may match that part, and it acts otherwise: the verdict is not proved",
                        s.rule, s.collection, s.why
                    ),
                );
            }
            let (Some(priority), Some(rule), Some(collection)) = (d.tied, &d.rule, &d.collection) else {
                continue;
            };
            let groups: Vec<String> = fw
                .doubts
                .ties
                .iter()
                .filter(|(p, _)| *p == priority)
                .flat_map(|(_, groups)| groups)
                .map(|g| g.as_ref().map_or("the environment's".to_string(), |g| format!("`{g}`")))
                .collect();
            push(
                "F0308",
                format!("{collection}/{rule}"),
                format!(
                    "rule {rule} (collection {collection}), which decides part of this flow, is in one of the rule collection groups that share priority {priority} ({}), whose order Azure does not document: the verdict is not proved",
                    groups.join(", ")
                ),
            );
        }
        notes
    }

    /// The application dependencies of the plan whose names cover `name` on `protocol` (by FQDN;
    /// an FQDN tag's names are not listed anywhere).
    fn application_dependencies_naming(&self, name: &str, protocol: ApplicationProtocol) -> Vec<String> {
        self.plan
            .firewall
            .dependencies
            .iter()
            .filter(|d| match &d.target {
                DependencyTarget::Application {
                    protocols,
                    destination: ApplicationDestination::Fqdn { name: fqdn },
                } => protocols.contains(&protocol) && fqdn_covers(fqdn, name),
                _ => false,
            })
            .map(|d| d.id.clone())
            .collect()
    }

    /// The network dependencies some of whose flows (from the ISE subnets) are in `flows`.
    fn network_dependencies_meeting(&self, flows: &FlowSet) -> Vec<String> {
        let Some(fw) = &self.firewall else { return Vec::new() };
        let sources = IntervalSet::from_prefixes(self.plan.environment.subnet_prefixes().iter().copied());
        self.plan
            .firewall
            .dependencies
            .iter()
            .filter(|d| match &d.target {
                DependencyTarget::Network {
                    protocols,
                    destination,
                    ports,
                } => {
                    dependency_flows(&sources, protocols, destination, ports, &fw.resolver).is_ok_and(|f| !f.intersection(flows).is_empty())
                }
                DependencyTarget::Application { .. } => false,
            })
            .map(|d| d.id.clone())
            .collect()
    }

    fn firewall_decision(
        &self,
        kind: FirewallRuleKind,
        collection: Option<&str>,
        rule: Option<&str>,
        action: FirewallAction,
        flows: &FlowSet,
    ) -> FirewallDecision {
        let dependencies: Vec<String> = match (kind, action) {
            // An address an allow rule lets through serves the network dependencies whose flows
            // it is, whatever the rule is called (as `verify`'s openings read it: a rule widened
            // in place keeps its name).
            (FirewallRuleKind::Network, FirewallAction::Allow) if self.firewall.is_some() => self.network_dependencies_meeting(flows),
            // A deny, or an application rule's names: the dependencies the rule was written for.
            _ => rule
                .map(|r| {
                    self.plan
                        .firewall
                        .dependencies
                        .iter()
                        .filter(|d| d.id.eq_ignore_ascii_case(r))
                        .map(|d| d.id.clone())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let order = self.firewall.as_ref().and_then(|fw| fw.order_of(kind, collection));
        let (overturned_by, tied) = match &self.firewall {
            Some(fw) => (fw.overturning(order, action, flows), fw.tie_of(order)),
            None => (Vec::new(), None),
        };
        FirewallDecision {
            kind,
            collection: collection.map(str::to_string),
            rule: rule.map(str::to_string),
            action,
            serves_no_requirement: action == FirewallAction::Allow && dependencies.is_empty(),
            dependencies,
            terminates_tls: false,
            flows: flows.pieces(),
            overturned_by,
            tied,
        }
    }
}
