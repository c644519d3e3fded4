//! The proof an NSG is right for an environment: every requirement covered (by which rules, or the
//! exact uncovered ranges) and nothing open beyond the requirements (inbound always; outbound when
//! the policy is restricted), plus rules that never decide a packet (shadowed) or whose removal
//! changes nothing (redundant). Exhaustive over the engine's intervals, with Azure's default rules
//! and the environment's tag semantics (VirtualNetwork includes the route prefixes).

use super::findings::{ArtifactKind, Coverage, Finding, FindingKind, Proof, RuleRef};
use crate::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use crate::engine::defaults::with_defaults;
use crate::engine::evaluate::{evaluate, Domain, Evaluation, Note, RuleEffect};
use crate::engine::flows::{FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::TagResolver;
use crate::prove::resolver::{EnvResolver, UNFILTERED};
use crate::prove::undeclared::Undeclared;
use ipnet::Ipv4Net;
use ise_model::cloud::CloudId;
use ise_model::env::{Environment, OutboundPolicy};
use ise_model::requirement::Kind;
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::ServiceTags;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// What to prove.
pub struct Subject<'a> {
    pub env: &'a Environment,
    pub tags: &'a ServiceTags,
    /// The NSG's explicit rules (Azure's defaults are added here).
    pub rules: &'a [SecurityRule],
    /// Address prefixes of the routes on the ISE subnets: they join the VirtualNetwork tag.
    pub udr_prefixes: &'a [Ipv4Net],
    pub requirements: &'a [Resolved],
    /// Rule name -> the requirements it was written for (the plan's rules), to say which
    /// requirement keeps a shadowed or redundant rule.
    pub written_for: &'a BTreeMap<String, Vec<String>>,
}

fn address(peer: &Peer) -> AddressMatch {
    match peer {
        Peer::Tag { name } => AddressMatch::Tag(name.clone()),
        Peer::Prefixes { prefixes, .. } => AddressMatch::Prefixes(prefixes.clone()),
        Peer::Service { .. } | Peer::FqdnTag { .. } => AddressMatch::Prefixes(Vec::new()),
    }
}

/// A requirement as the packets it needs, through a rule-shaped set.
pub fn requirement_rule(r: &Resolved) -> SecurityRule {
    SecurityRule {
        name: r.id.clone(),
        priority: 100,
        direction: if r.kind == Kind::Inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
        access: Access::Allow,
        protocol: crate::plan::protocol(r.protocol),
        source: address(&r.source),
        source_ports: vec![PortRange::ANY],
        destination: address(&r.destination),
        destination_ports: r.ports.clone(),
        is_default: false,
    }
}

fn rule_ref(rule: &SecurityRule) -> RuleRef {
    RuleRef {
        priority: Some(rule.priority),
        is_default: rule.is_default,
        ..RuleRef::named(&rule.name)
    }
}

fn kind_of(direction: Direction) -> Kind {
    match direction {
        Direction::Inbound => Kind::Inbound,
        Direction::Outbound => Kind::Outbound,
    }
}

/// An NSG as Azure evaluates it for the ISE subnets: its explicit rules with Azure's defaults, the
/// environment's tag semantics (VirtualNetwork takes in the route prefixes), each direction
/// evaluated on first use. The NSG proof and the firewall proof (which needs what the NSG lets out)
/// share one, so the outbound rules are evaluated once, and not at all when nothing asks.
pub struct Evaluated<'a> {
    /// The explicit rules, then Azure's defaults.
    rules: Vec<SecurityRule>,
    resolver: EnvResolver<'a>,
    subnets: Vec<Ipv4Net>,
    inbound: OnceLock<Evaluation>,
    outbound: OnceLock<Evaluation>,
}

impl<'a> Evaluated<'a> {
    /// `udr_prefixes`: address prefixes of the routes on the ISE subnets (they join VirtualNetwork).
    pub fn new(env: &Environment, tags: &'a ServiceTags, rules: &[SecurityRule], udr_prefixes: &[Ipv4Net]) -> Self {
        Evaluated {
            rules: with_defaults(rules),
            resolver: EnvResolver::for_nsg_rules(env, tags, udr_prefixes),
            subnets: env.subnet_prefixes(),
            inbound: OnceLock::new(),
            outbound: OnceLock::new(),
        }
    }

    /// The explicit rules, then Azure's defaults (what evaluations index).
    pub fn rules(&self) -> &[SecurityRule] {
        &self.rules
    }

    /// The resolver the rules are read with (the environment's tag semantics and route prefixes).
    pub fn resolver(&self) -> &EnvResolver<'a> {
        &self.resolver
    }

    /// Whether `direction` was evaluated already (the proofs ask for each direction lazily).
    pub fn is_evaluated(&self, direction: Direction) -> bool {
        match direction {
            Direction::Inbound => self.inbound.get().is_some(),
            Direction::Outbound => self.outbound.get().is_some(),
        }
    }

    /// Every packet to (inbound) or from (outbound) the ISE subnets, decided by the rules.
    pub fn evaluation(&self, direction: Direction) -> &Evaluation {
        let cell = match direction {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        };
        cell.get_or_init(|| {
            let domain = match direction {
                Direction::Inbound => Domain::inbound_to(&self.subnets),
                Direction::Outbound => Domain::outbound_from(&self.subnets),
            };
            evaluate(&self.rules, &self.resolver, direction, &domain)
        })
    }
}

impl<'a> Subject<'a> {
    /// The NSG of the subject, to evaluate once for [`prove_with`] and the firewall proof.
    pub fn evaluated(&self) -> Evaluated<'a> {
        Evaluated::new(self.env, self.tags, self.rules, self.udr_prefixes)
    }
}

pub fn prove(s: &Subject) -> Proof {
    prove_with(s, &s.evaluated())
}

/// [`prove`] with the NSG evaluated by the caller: `nsg` is `s.evaluated()`, possibly already
/// asked for a direction by another proof (the evaluations are the same, so is the proof).
pub fn prove_with(s: &Subject, nsg: &Evaluated) -> Proof {
    let rules = nsg.rules();
    let nsg_resolver = nsg.resolver();
    let intended = EnvResolver::intended(s.env, s.tags);
    let mut coverage = Vec::new();
    let mut findings = Vec::new();
    let subnets = s.env.subnet_prefixes();
    for direction in [Direction::Inbound, Direction::Outbound] {
        let eval = nsg.evaluation(direction);
        let undeclared = Undeclared::evaluate(rules, nsg_resolver, &subnets, direction, s.requirements, &intended);
        let domain = eval.domain();
        let unfiltered = unfiltered(direction);
        let domain_set = FlowSet::from_box(domain.flows().clone());
        let mut required = Vec::new();
        for r in s.requirements.iter().filter(|r| r.kind == kind_of(direction)) {
            let flows = match FlowSet::from_rule(&requirement_rule(r), &intended) {
                Ok(f) => f.intersection(&domain_set),
                Err(e) => {
                    let message = format!(
                        "requirement {} names tag `{}`, which the service-tag file does not have",
                        r.id, e.tag
                    );
                    findings.push(
                        Finding::new(FindingKind::RequirementTagMissing, ArtifactKind::Nsg, message)
                            .direction(direction)
                            .requirements(vec![r.id.clone()]),
                    );
                    coverage.push(Coverage {
                        id: r.id.clone(),
                        direction: Some(direction),
                        covered: false,
                        rules: Vec::new(),
                    });
                    continue;
                }
            };
            let serving_undeclared = undeclared.as_ref().map(|u| u.serving(&r.id, rules)).unwrap_or_default();
            let (c, uncovered) = coverage_of(r, direction, &flows, &unfiltered, eval, rules, &serving_undeclared);
            if let Some(f) = uncovered {
                findings.push(f);
            }
            coverage.push(c);
            required.push(flows);
        }
        let check_openings = direction == Direction::Inbound || s.env.outbound_policy == OutboundPolicy::Restricted;
        if check_openings {
            findings.extend(openings(eval, rules, &required, &unfiltered, &coverage));
            findings.extend(undeclared.iter().flat_map(|u| u.openings(rules, eval)));
        }
        let ported = if check_openings {
            ports_on_portless_protocols(rules, direction)
        } else {
            Vec::new()
        };
        findings.extend(ported.iter().map(|&i| ports_on_portless_protocol(&rules[i])));
        let without_effect = without_effect(eval, rules, nsg_resolver, &unfiltered);
        findings.extend(without_effect.iter().map(|&i| unfiltered_only(eval, &rules[i])));
        // Rules already reported are not also called rules that match nothing.
        let reported: Vec<usize> = without_effect.iter().chain(&ported).copied().collect();
        findings.extend(unused_rules(
            eval,
            undeclared.as_ref(),
            rules,
            nsg_resolver,
            s.written_for,
            &reported,
        ));
        for note in eval.notes() {
            let Note::UnresolvedTag { rule, tag, .. } = note;
            findings.push(unknown_tag(&rules[*rule], tag, s.env.cloud, s.tags));
        }
    }
    Proof::new(ArtifactKind::Nsg, s.rules.len(), coverage, findings)
}

/// Whether the NSG allows all of a requirement's flows, by which rules, and the finding if not.
/// `serving_undeclared`: the rules that serve it for VirtualNetwork members the environment does
/// not declare (they serve it too, though the requirement is met by the declared networks alone).
fn coverage_of(
    r: &Resolved,
    direction: Direction,
    flows: &FlowSet,
    unfiltered: &FlowSet,
    eval: &Evaluation,
    rules: &[SecurityRule],
    serving_undeclared: &[usize],
) -> (Coverage, Option<Finding>) {
    // What the NSG denies, less the packets it does not filter. Cut out of the (small) remainder,
    // not the requirement's flows: every cut splits the flows the proof walks.
    let uncovered = match eval.not_allowed(flows) {
        u if u.is_empty() || unfiltered.is_empty() => u,
        u => u.difference(unfiltered),
    };
    // The rules deciding some of these flows, in evaluation order.
    let deciding = |set: &FlowSet, access: Access, also: &[usize]| -> Vec<String> {
        let meeting = eval
            .deciders_meeting(set)
            .into_iter()
            .flatten()
            .filter(|&i| rules[i].access == access)
            .chain(also.iter().copied());
        eval.in_order(meeting).into_iter().map(|i| rules[i].name.clone()).collect()
    };
    let by = deciding(flows, Access::Allow, serving_undeclared);
    let finding = (!uncovered.is_empty()).then(|| {
        let deniers = deciding(&uncovered, Access::Deny, &[]);
        let message = format!("requirement {} ({}) is not fully allowed", r.id, r.purpose);
        Finding::new(FindingKind::UncoveredRequirement, ArtifactKind::Nsg, message)
            .direction(direction)
            .requirements(vec![r.id.clone()])
            .flows(uncovered.pieces())
            .related(deniers)
    });
    let covered = Coverage {
        id: r.id.clone(),
        direction: Some(direction),
        covered: finding.is_none(),
        rules: by,
    };
    (covered, finding)
}

/// The flows of `direction` NSGs do not filter: outbound, those to the platform's addresses.
/// Inbound, 168.63.129.16 is also the load balancer's probe source, which the requirements have
/// the NSG admit (in-azure-load-balancer, as Azure's AllowAzureLoadBalancerInBound does): inbound
/// flows are all the NSG's.
pub(crate) fn unfiltered(direction: Direction) -> FlowSet {
    match direction {
        Direction::Inbound => FlowSet::empty(),
        Direction::Outbound => FlowSet::from_parts(
            ProtoSet::ALL,
            IntervalSet::full(),
            IntervalSet::full(),
            crate::prove::resolver::unfiltered_addresses(),
            IntervalSet::full(),
        ),
    }
}

/// Explicit rules deciding packets, all of them `unfiltered`: whatever they say, Azure does not
/// apply it, so they have no effect.
fn without_effect<R: TagResolver>(eval: &Evaluation, rules: &[SecurityRule], resolver: &R, unfiltered: &FlowSet) -> Vec<usize> {
    if unfiltered.is_empty() {
        return Vec::new();
    }
    // A rule matching only unfiltered packets decides nothing else. (A broader rule whose other
    // packets are all decided above it is reported as shadowed instead.) Checking what each rule
    // matches is cheap; what it decides is asked only of those.
    let matches_only_unfiltered =
        |i: usize| FlowSet::from_rule(&rules[i], resolver).is_ok_and(|m| !m.is_empty() && m.difference(unfiltered).is_empty());
    eval.order()
        .iter()
        .copied()
        .filter(|&i| !rules[i].is_default && matches_only_unfiltered(i) && !eval.decided_by(i).is_empty())
        .collect()
}

/// A rule deciding only packets NSGs do not filter: a note, not an opening or a denial.
fn unfiltered_only(eval: &Evaluation, rule: &SecurityRule) -> Finding {
    let addresses = UNFILTERED.map(|a| a.to_string()).join(" and ");
    let message = format!(
        "rule {} has no effect: the only packets it decides go to {addresses} (platform DNS, DHCP, health, instance metadata), which NSGs do not filter",
        rule.name
    );
    Finding::new(FindingKind::RedundantRule, ArtifactKind::Nsg, message)
        .direction(eval.direction())
        .rule(rule_ref(rule))
}

/// Allow rules admitting packets no requirement needs, per deciding rule; the packets the NSG does
/// not filter (`unfiltered`) are no opening.
fn openings(eval: &Evaluation, rules: &[SecurityRule], required: &[FlowSet], unfiltered: &FlowSet, coverage: &[Coverage]) -> Vec<Finding> {
    // Each requirement's flows taken away in turn: cheaper than their union (each union cuts the
    // next set by all before it), and done as soon as nothing is left. An allowed region within
    // one requirement's box (most of them, when the NSG is the compiled one) is dropped first by
    // a subset test, instead of being cut by every requirement.
    let mut open = eval.allowed().without_boxes_within(required);
    for flows in required {
        if open.is_empty() {
            break;
        }
        open = open.difference(flows);
    }
    let open = match open {
        o if o.is_empty() || unfiltered.is_empty() => o,
        o => o.difference(unfiltered),
    };
    if open.is_empty() {
        return Vec::new();
    }
    let meeting = eval.deciders_meeting(&open);
    eval.order()
        .iter()
        .filter(|&&i| rules[i].access == Access::Allow && meeting.contains(&Some(i)))
        .filter_map(|&i| {
            let by_rule = eval.decided_by(i).intersection(&open);
            (!by_rule.is_empty()).then(|| {
                let serves: Vec<String> = coverage
                    .iter()
                    .filter(|c| c.rules.contains(&rules[i].name))
                    .map(|c| c.id.clone())
                    .collect();
                let message = if serves.is_empty() {
                    format!("rule {} admits flows no requirement needs and serves no requirement", rules[i].name)
                } else {
                    format!("rule {} admits flows beyond the requirements it serves", rules[i].name)
                };
                Finding::new(FindingKind::Opening, ArtifactKind::Nsg, message)
                    .direction(eval.direction())
                    .rule(rule_ref(&rules[i]))
                    .requirements(serves)
                    .flows(by_rule.pieces())
            })
        })
        .collect()
}

/// Shadowed and redundant explicit rules, each with the rules that decide in its place and the
/// requirements it was written for (`without_effect`: rules already reported as having no effect).
/// `undeclared`: the same direction evaluated for VirtualNetwork members the environment does not
/// declare; a rule deciding their packets is not shadowed, one changing their access not redundant.
fn unused_rules<R: TagResolver>(
    eval: &Evaluation,
    undeclared: Option<&Undeclared<R>>,
    rules: &[SecurityRule],
    resolver: &R,
    written_for: &BTreeMap<String, Vec<String>>,
    without_effect: &[usize],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let kept_for = |i: usize| written_for.get(&rules[i].name).cloned().unwrap_or_default();
    let evals = || std::iter::once(eval).chain(undeclared.map(Undeclared::evaluation));
    for &i in eval
        .order()
        .iter()
        .filter(|&&i| !rules[i].is_default && !without_effect.contains(&i))
    {
        let effect = evals().map(|e| e.effect(i)).max().unwrap_or(RuleEffect::NotEvaluated);
        // A rule matching nothing documents nothing.
        let (kind, mut message, names, matches) = match effect {
            RuleEffect::Shadowed => {
                let matched = FlowSet::from_rule(&rules[i], resolver).unwrap_or_else(|_| FlowSet::empty());
                let mut covering: BTreeSet<usize> = eval.deciders_meeting(&matched).into_iter().flatten().collect();
                covering.extend(undeclared.iter().flat_map(|u| u.covering(i, rules)));
                let names = ordered_names(eval, rules, &covering);
                let message = match names.is_empty() {
                    true => format!("rule {} matches no packet of the ISE subnets", rules[i].name),
                    false => format!(
                        "rule {} decides no packet: {} {} everything it matches",
                        rules[i].name,
                        names.join(", "),
                        decide(&names)
                    ),
                };
                let matches = !names.is_empty();
                (FindingKind::ShadowedRule, message, names, matches)
            }
            RuleEffect::Redundant => {
                let next: BTreeSet<usize> = evals().flat_map(|e| e.next_deciders(i)).flatten().collect();
                let names = ordered_names(eval, rules, &next);
                let then = if names.is_empty() {
                    "the implicit deny".to_string()
                } else {
                    names.join(", ")
                };
                let message = format!(
                    "rule {} changes no decision: without it {then} {} the same",
                    rules[i].name,
                    decide(&names)
                );
                (FindingKind::RedundantRule, message, names, true)
            }
            RuleEffect::NotEvaluated | RuleEffect::Effective => continue,
        };
        if matches && !kept_for(i).is_empty() {
            message += &format!("; it is kept to document requirement {}", kept_for(i).join(", "));
        }
        out.push(
            Finding::new(kind, ArtifactKind::Nsg, message)
                .direction(eval.direction())
                .rule(rule_ref(&rules[i]))
                .requirements(kept_for(i))
                .related(names),
        );
    }
    out
}

fn decide(names: &[String]) -> &'static str {
    if names.len() == 1 {
        "decides"
    } else {
        "decide"
    }
}

fn ordered_names(eval: &Evaluation, rules: &[SecurityRule], set: &BTreeSet<usize>) -> Vec<String> {
    // In the size of the set, not of the NSG: a large NSG has hundreds of shadowed rules.
    eval.in_order(set.iter().copied())
        .into_iter()
        .map(|i| rules[i].name.clone())
        .collect()
}

/// The kind and message of a rule's tag that resolved to nothing: one the cloud does not let NSGs
/// use (F0108), else one the file does not have (F0105). `explain` says the same of the rules it
/// evaluates.
pub(crate) fn unresolved_tag(rule: &str, tag: &str, cloud: CloudId, tags: &ServiceTags) -> (FindingKind, String) {
    if let Some(why) = super::resolver::why_not_in_nsg(tag, cloud, tags) {
        let message = format!("rule {rule} names service tag `{tag}`, which {why}; it was taken to match nothing");
        return (FindingKind::TagNotUsableInNsg, message);
    }
    let mut message =
        format!("rule {rule} names service tag `{tag}`, which the service-tag file does not have; it was taken to match nothing");
    if let Some(near) = tags.suggest(tag) {
        message += &format!(" (did you mean `{near}`?)");
    }
    (FindingKind::UnknownTag, message)
}

/// The allow rules of `direction` whose protocol has no ports (Icmp, Esp, Ah) but whose port
/// fields are not `*`. The engine matches them to no packet (they have no ports to match), which
/// is the one reading that hides what they may admit: Azure does not document it, and an ICMP
/// rule's port has been observed to match the ICMP type (MicrosoftDocs/azure-docs#51522).
fn ports_on_portless_protocols(rules: &[SecurityRule], direction: Direction) -> Vec<usize> {
    let portless = |p: Protocol| matches!(p, Protocol::Icmp | Protocol::Esp | Protocol::Ah);
    let any = |ports: &[PortRange]| ports.iter().any(PortRange::is_any);
    (0..rules.len())
        .filter(|&i| {
            let r = &rules[i];
            !r.is_default
                && r.direction == direction
                && r.access == Access::Allow
                && portless(r.protocol)
                && !(any(&r.source_ports) && any(&r.destination_ports))
        })
        .collect()
}

fn ports_on_portless_protocol(rule: &SecurityRule) -> Finding {
    let message = format!(
        "rule {} allows {} with ports, which that protocol does not have; what Azure makes of them is not documented, so what the rule admits is not proved",
        rule.name,
        rule.protocol.as_str()
    );
    Finding::new(FindingKind::PortsOnPortlessProtocol, ArtifactKind::Nsg, message)
        .direction(rule.direction)
        .rule(rule_ref(rule))
}

/// A rule naming a tag that resolved to nothing: the proof cannot say what Azure makes of it.
fn unknown_tag(rule: &SecurityRule, tag: &str, cloud: CloudId, tags: &ServiceTags) -> Finding {
    let (kind, message) = unresolved_tag(&rule.name, tag, cloud, tags);
    Finding::new(kind, ArtifactKind::Nsg, message)
        .direction(rule.direction)
        .rule(rule_ref(rule))
}
