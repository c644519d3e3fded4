//! `explain`: which rule decides traffic between two endpoints on one port, and which requirements
//! stand behind it. An endpoint may be an address, a prefix or a service tag; when different parts
//! of it are decided by different rules, each part is named.

use crate::azure::nsg::{Access, Direction, SecurityRule};
use crate::engine::defaults::with_defaults;
use crate::engine::evaluate::{evaluate, Domain};
use crate::engine::flows::{FlowBox, FlowPiece, FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::{PacketProtocol, TagResolver};
use crate::plan::Plan;
use crate::prove::resolver::EnvResolver;
use crate::views::summary::{self, Names};
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::{E_EXPLAIN_ENDPOINT, E_EXPLAIN_PATH};
use ise_model::diag::Diagnostic;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub direction: Direction,
    /// The deciding rule, or `None` for no match (denied).
    pub rule: Option<String>,
    pub priority: Option<u32>,
    pub access: Access,
    pub default_rule: bool,
    /// Requirement ids the rule serves (from the plan).
    pub requirements: Vec<String>,
    /// The part of the flow this rule decides (all of it when there is one decision).
    pub flows: Vec<FlowPiece>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    /// Inbound at the ISE subnets, outbound from them, or both for traffic between them.
    pub decisions: Vec<Decision>,
}

/// Parses an endpoint: an address, a prefix, or a tag the resolver knows.
pub fn endpoint(text: &str, resolver: &dyn TagResolver, flag: &str) -> Result<Vec<Ipv4Net>, Diagnostic> {
    if let Ok(IpNet::V4(n)) = text.parse::<IpNet>() {
        return Ok(vec![n.trunc()]);
    }
    if let Ok(std::net::IpAddr::V4(a)) = text.parse::<std::net::IpAddr>() {
        return Ok(vec![Ipv4Net::from(a)]);
    }
    resolver.resolve(text).ok_or_else(|| {
        Diagnostic::error(
            E_EXPLAIN_ENDPOINT,
            "",
            format!("`{text}` is neither an IPv4 address, a prefix nor a service tag of the environment's cloud"),
        )
        .with_help("give an address (10.10.1.5), a prefix (10.10.1.0/27) or a tag (LogicApps, Internet, VirtualNetwork)")
        .in_file(flag)
    })
}

pub struct Query<'a> {
    pub plan: &'a Plan,
    /// The NSG's explicit rules (the plan's own, or a deployed NSG's).
    pub rules: &'a [SecurityRule],
    pub resolver: &'a EnvResolver<'a>,
    pub from: &'a str,
    pub to: &'a str,
    pub port: u16,
    pub protocol: PacketProtocol,
}

pub fn explain(q: &Query) -> Result<Explanation, Diagnostic> {
    let from = endpoint(q.from, q.resolver, "--from")?;
    let to = endpoint(q.to, q.resolver, "--to")?;
    let subnets = IntervalSet::from_prefixes(q.plan.environment.subnet_prefixes());
    let (from_set, to_set) = (IntervalSet::from_prefixes(from), IntervalSet::from_prefixes(to));
    let rules = with_defaults(q.rules);
    let mut decisions = Vec::new();
    // Outbound is evaluated at the source subnet, inbound at the destination subnet.
    for (direction, src, dst) in [
        (Direction::Outbound, from_set.intersection(&subnets), to_set.clone()),
        (Direction::Inbound, from_set.clone(), to_set.intersection(&subnets)),
    ] {
        if src.is_empty() || dst.is_empty() {
            continue;
        }
        let ports = if q.protocol.has_ports() {
            IntervalSet::from_port_ranges(&[ise_model::ports::PortRange::single(q.port)])
        } else {
            IntervalSet::full()
        };
        let domain = Domain::new(FlowBox::new(ProtoSet::single(q.protocol), src, IntervalSet::full(), dst, ports));
        let eval = evaluate(&rules, q.resolver, direction, &domain);
        let mut deciders: Vec<Option<usize>> = eval.regions().iter().map(|r| r.decider).collect();
        deciders.sort_by_key(|d| d.map(|i| (rules[i].priority, i)));
        deciders.dedup();
        for d in deciders {
            let part = eval
                .regions()
                .iter()
                .filter(|r| r.decider == d)
                .fold(FlowSet::empty(), |acc, r| acc.union(&FlowSet::from_box(r.flows.clone())));
            let rule = d.map(|i| &rules[i]);
            decisions.push(Decision {
                direction,
                rule: rule.map(|r| r.name.clone()),
                priority: rule.map(|r| r.priority),
                access: rule.map_or(Access::Deny, |r| r.access),
                default_rule: rule.is_some_and(|r| r.is_default),
                requirements: rule.map(|r| requirements_of(q.plan, &r.name)).unwrap_or_default(),
                flows: part.pieces(),
            });
        }
    }
    if decisions.is_empty() {
        return Err(Diagnostic::error(
            E_EXPLAIN_PATH,
            "",
            format!(
                "neither {} nor {} is inside the ISE subnets, so their NSG does not see this traffic",
                q.from, q.to
            ),
        )
        .with_help("one end must be an address of the four ISE subnets")
        .in_file("--from/--to"));
    }
    let protocol = q.protocol.as_str().to_string();
    Ok(Explanation {
        from: q.from.to_string(),
        to: q.to.to_string(),
        protocol,
        port: q.port,
        decisions,
    })
}

/// Requirement ids behind a rule, found by name in the plan.
fn requirements_of(plan: &Plan, rule: &str) -> Vec<String> {
    plan.security_rules
        .iter()
        .filter(|r| r.rule.name == rule)
        .flat_map(|r| r.requirements.clone())
        .collect()
}

pub fn render_text(e: &Explanation) -> String {
    let mut out = format!("{} -> {} {}/{}\n", e.from, e.to, e.protocol, e.port);
    for d in &e.decisions {
        let who = match (&d.rule, d.default_rule) {
            (Some(r), true) => format!("Azure default rule {r} ({})", d.priority.unwrap_or_default()),
            (Some(r), false) => format!("rule {r} (priority {})", d.priority.unwrap_or_default()),
            (None, _) => "no rule (denied)".to_string(),
        };
        let verdict = if d.access == Access::Allow { "allowed" } else { "denied" };
        out += &format!("  {}: {verdict} by {who}\n", d.direction);
        if !d.requirements.is_empty() {
            out += &format!("    requirements: {}\n", d.requirements.join(", "));
        }
        if e.decisions.iter().filter(|x| x.direction == d.direction).count() > 1 {
            for f in &d.flows {
                out += &format!("    for {}\n", summary::flow(f, &Names::default()));
            }
        }
    }
    out
}
