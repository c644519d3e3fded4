//! The proof an NSG is right for an environment: every requirement covered (by which rules, or the
//! exact uncovered ranges) and nothing open beyond the requirements (inbound always; outbound when
//! the policy is restricted), plus rules that never decide a packet (shadowed) or whose removal
//! changes nothing (redundant). Exhaustive over the engine's intervals, with Azure's default rules
//! and the environment's tag semantics (VirtualNetwork includes the route prefixes).

use crate::azure::nsg::{Access, AddressMatch, Direction, PortRange, SecurityRule};
use crate::engine::defaults::with_defaults;
use crate::engine::evaluate::{evaluate, Domain, Evaluation, Note};
use crate::engine::flows::FlowSet;
use crate::prove::resolver::EnvResolver;
use ipnet::Ipv4Net;
use ise_model::env::{Environment, OutboundPolicy};
use ise_model::requirement::Kind;
use ise_model::resolve::{Peer, Resolved};
use ise_model::servicetags::ServiceTags;
use serde::Serialize;

/// How many pieces of one uncovered or open flow set a report lists before summarising.
pub const MAX_PIECES: usize = 12;

/// What to prove.
pub struct Subject<'a> {
    pub env: &'a Environment,
    pub tags: &'a ServiceTags,
    /// The NSG's explicit rules (Azure's defaults are added here).
    pub rules: &'a [SecurityRule],
    /// Address prefixes of the routes on the ISE subnets: they join the VirtualNetwork tag.
    pub udr_prefixes: &'a [Ipv4Net],
    pub requirements: &'a [Resolved],
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub id: String,
    pub direction: Direction,
    pub covered: bool,
    /// Allow rules that admit part of the requirement.
    pub rules: Vec<String>,
    /// The flows of the requirement the NSG denies, readable (at most MAX_PIECES).
    pub uncovered: Vec<String>,
    pub uncovered_more: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opening {
    pub direction: Direction,
    /// The rule that admits the flows (Azure default rules have their Azure names).
    pub rule: String,
    pub flows: Vec<String>,
    pub flows_more: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Every requirement covered and nothing open beyond them.
    pub ok: bool,
    pub requirements: Vec<Coverage>,
    pub openings: Vec<Opening>,
    pub shadowed: Vec<String>,
    pub redundant: Vec<String>,
    pub notes: Vec<String>,
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
        protocol: crate::plan::protocol(&r.protocol),
        source: address(&r.source),
        source_ports: vec![PortRange::ANY],
        destination: address(&r.destination),
        destination_ports: r.ports.clone(),
        is_default: false,
    }
}

fn readable(set: &FlowSet) -> (Vec<String>, usize) {
    let pieces = set.pieces();
    let more = pieces.len().saturating_sub(MAX_PIECES);
    (pieces.iter().take(MAX_PIECES).map(ToString::to_string).collect(), more)
}

pub fn prove(s: &Subject) -> Report {
    let rules = with_defaults(s.rules);
    let nsg_resolver = EnvResolver::new(s.env, s.tags, s.udr_prefixes);
    let intended = EnvResolver::intended(s.env, s.tags);
    let subnets = s.env.subnet_prefixes();
    let mut report = Report {
        ok: true,
        requirements: Vec::new(),
        openings: Vec::new(),
        shadowed: Vec::new(),
        redundant: Vec::new(),
        notes: Vec::new(),
    };

    for direction in [Direction::Inbound, Direction::Outbound] {
        let domain = if direction == Direction::Inbound {
            Domain::inbound_to(&subnets)
        } else {
            Domain::outbound_from(&subnets)
        };
        let eval = evaluate(&rules, &nsg_resolver, direction, &domain);
        let domain_set = FlowSet::from_box(domain.flows().clone());
        let mut required = FlowSet::empty();
        for r in s.requirements.iter().filter(|r| {
            r.kind
                == if direction == Direction::Inbound {
                    Kind::Inbound
                } else {
                    Kind::Outbound
                }
        }) {
            let flows = match FlowSet::from_rule(&requirement_rule(r), &intended) {
                Ok(f) => f.intersection(&domain_set),
                Err(e) => {
                    report.notes.push(format!(
                        "requirement {} names tag `{}`, which the service-tag file does not have",
                        r.id, e.tag
                    ));
                    report.ok = false;
                    continue;
                }
            };
            report.requirements.push(coverage(r, direction, &flows, &eval, &rules));
            required = required.union(&flows);
        }
        let check_openings = direction == Direction::Inbound || s.env.outbound_policy == OutboundPolicy::Restricted;
        if check_openings {
            let open = eval.allowed().difference(&required);
            for &i in eval.order() {
                let by_rule = eval.decided_by(i).intersection(&open);
                if !by_rule.is_empty() && rules[i].access == Access::Allow {
                    let (flows, flows_more) = readable(&by_rule);
                    report.openings.push(Opening {
                        direction,
                        rule: rules[i].name.clone(),
                        flows,
                        flows_more,
                    });
                }
            }
        }
        for i in eval.shadowed().into_iter().filter(|&i| !rules[i].is_default) {
            report.shadowed.push(rules[i].name.clone());
        }
        for i in eval.redundant().into_iter().filter(|&i| !rules[i].is_default) {
            report.redundant.push(rules[i].name.clone());
        }
        for note in eval.notes() {
            let Note::UnresolvedTag { rule_name, tag, .. } = note;
            report.notes.push(format!(
                "rule {rule_name} names tag `{tag}`, unknown in the service-tag file: it was taken to match nothing"
            ));
        }
    }
    report.notes.dedup();
    report.ok &= report.requirements.iter().all(|c| c.covered) && report.openings.is_empty();
    report
}

fn coverage(r: &Resolved, direction: Direction, flows: &FlowSet, eval: &Evaluation, rules: &[SecurityRule]) -> Coverage {
    let uncovered = flows.difference(&eval.allowed());
    let by: Vec<String> = eval
        .order()
        .iter()
        .filter(|&&i| rules[i].access == Access::Allow && !eval.decided_by(i).intersection(flows).is_empty())
        .map(|&i| rules[i].name.clone())
        .collect();
    let (pieces, more) = readable(&uncovered);
    Coverage {
        id: r.id.clone(),
        direction,
        covered: uncovered.is_empty(),
        rules: by,
        uncovered: pieces,
        uncovered_more: more,
    }
}
