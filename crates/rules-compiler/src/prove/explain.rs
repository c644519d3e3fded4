//! `explain`: what happens to traffic between two endpoints, exactly (over intervals, not samples).
//! An endpoint may be an address, a prefix or a service tag, the ports a range, the protocol any NSG
//! protocol; each part of the traffic decided by a different rule is named with its rule. The NSG
//! decides at the ISE subnets (outbound at the source, inbound at the destination); under forced
//! tunneling an outbound flow then follows its route (longest-prefix match, `prove::routes`), and
//! in firewall mode the firewall's rules (`prove::firewall`) decide what the NSG let through to it;
//! an inbound flow from outside the network is denied where its reply's route goes elsewhere than
//! the Internet (asymmetric routing).
//! The final verdict (allow, deny or mixed across the traffic) is what `--expect` compares.

use super::explain_path::{PathModel, RouteStep};
use crate::azure::firewall::{ApplicationRule, NetworkRule, RuleCollection};
use crate::azure::nsg::{Access, Direction, PortRange, Protocol, SecurityRule};
use crate::azure::route::RouteEntry;
use crate::engine::defaults::with_defaults;
use crate::engine::evaluate::{decide_line, evaluate, resolved_in_order, Domain, End, Note};
use crate::engine::flows::{FlowBox, FlowPiece, FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::{Packet, PacketProtocol, TagResolver};
use crate::plan::Plan;
use crate::prove::findings::FindingKind;
use crate::prove::resolver::EnvResolver;
use crate::read::flows::FlowsFile;
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::{E_EXPLAIN_ENDPOINT, E_EXPLAIN_EXPECT, E_EXPLAIN_FQDN, E_EXPLAIN_PATH, E_EXPLAIN_PORTLESS};
use ise_model::diag::{excerpt, Diagnostic};
use ise_model::env::TunnelingMode;
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::OnceLock;

/// One flow to explain: endpoints as the user wrote them, the protocol and the destination ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub protocol: Protocol,
    /// `*` (all ports) for protocols without ports.
    pub ports: PortRange,
}

/// What happens to the whole flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
    /// Part of the flow is allowed, part denied (a range, a prefix or a tag decided piecewise).
    Mixed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Mixed => "mixed",
        }
    }
}

/// What a smoke test expects of a flow: all of it allowed, or all of it denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

impl Expect {
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        match text.trim().to_ascii_lowercase().as_str() {
            "allow" => Ok(Expect::Allow),
            "deny" => Ok(Expect::Deny),
            _ => Err(
                Diagnostic::error(E_EXPLAIN_EXPECT, "", format!("`{}` is not allow or deny", excerpt(text)))
                    .with_help("write allow (the whole flow gets through) or deny (none of it does)"),
            ),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
        }
    }
    /// A mixed verdict meets neither expectation: part of the flow contradicts it.
    pub fn met_by(self, v: Verdict) -> bool {
        matches!((self, v), (Expect::Allow, Verdict::Allow) | (Expect::Deny, Verdict::Deny))
    }
}

/// Parses an NSG protocol as people and Azure write it (case-insensitive): Tcp, Udp, Icmp, Esp, Ah,
/// `*` or Any.
pub fn parse_protocol(text: &str) -> Result<Protocol, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "icmp" => Ok(Protocol::Icmp),
        "esp" => Ok(Protocol::Esp),
        "ah" => Ok(Protocol::Ah),
        "*" | "any" => Ok(Protocol::Any),
        _ => Err(format!(
            "`{}` is not an NSG protocol (Tcp, Udp, Icmp, Esp, Ah, * or Any)",
            excerpt(text)
        )),
    }
}

/// Parses destination ports: `443`, `1000-2000` or `*`.
pub fn parse_ports(text: &str) -> Result<PortRange, String> {
    PortRange::parse(text)
}

impl Flow {
    /// Ports exist only for TCP and UDP (Azure: a rule with ports never matches ICMP, ESP or AH),
    /// so a port for those protocols is refused rather than silently ignored. `*` (Any) with ports
    /// means TCP and UDP on those ports.
    pub fn check(&self) -> Result<(), Diagnostic> {
        let portless = matches!(self.protocol, Protocol::Icmp | Protocol::Esp | Protocol::Ah);
        if portless && !self.ports.is_any() {
            return Err(Diagnostic::error(
                E_EXPLAIN_PORTLESS,
                "",
                format!("{} has no ports, yet port {} is given", self.protocol.as_str(), self.ports),
            )
            .with_help("leave the port out (or write *) for Icmp, Esp and Ah; only Tcp and Udp have ports"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub direction: Direction,
    /// The deciding rule, or `None` for no match (denied).
    pub rule: Option<String>,
    pub priority: Option<u32>,
    pub access: Access,
    pub default_rule: bool,
    /// Requirement ids the rule serves (from the plan, by rule name).
    pub requirements: Vec<String>,
    /// An allow rule behind which the plan has no requirement: it opens what nothing needs.
    pub serves_no_requirement: bool,
    /// The platform addresses NSGs do not filter (outbound to 168.63.129.16 and 169.254.169.254):
    /// allowed whatever the rules say, as `verify` reads them; `rule` is then `None`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unfiltered: bool,
    /// The part of the flow this rule decides (all of it when there is one decision).
    pub flows: Vec<FlowPiece>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub from: String,
    pub to: String,
    pub protocol: Protocol,
    pub ports: PortRange,
    pub verdict: Verdict,
    /// The NSG: outbound at the ISE subnets, inbound at them, or both for traffic between them.
    pub decisions: Vec<Decision>,
    /// Under forced tunneling, where the NSG's outbound allowed traffic is routed, and in firewall
    /// mode what the firewall decides. Empty without tunneling.
    pub path: Vec<RouteStep>,
    /// The parts of the flow that get through and that do not (exact, over the whole flow).
    pub allowed: Vec<FlowPiece>,
    pub denied: Vec<FlowPiece>,
    /// NSG rules of the evaluated directions naming a service tag the tag file lacks: taken to
    /// match nothing, so the verdict may not be Azure's (`verify` reports them as F0105); firewall
    /// rules allowing the flow that terminate its TLS, against seed 002 (`verify`: F0306); routes
    /// the path leaves out, whose tag the file lacks or does not allow in routes (F0204).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ExplainNote>,
    /// When both ends reach beyond the ISE subnets, that only the packets with an end in them
    /// were decided (this NSG filters nothing else): the subnets, as written in the environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_only_within: Option<Vec<String>>,
    /// The addresses taken as VirtualNetwork members for this run (`--as-member`, left out
    /// without it): peered or on-premises networks the environment does not declare, as
    /// `verify`'s F0109 takes them; empty when every address given is declared or the platform's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_as_members: Option<Vec<String>>,
}

/// A warning about the rules that does not change the verdict's computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplainNote {
    /// The finding code `verify` gives the same problem.
    pub code: &'static str,
    pub rule: String,
    /// The unknown service tag (empty, and left out, for notes about no tag).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tag: String,
    pub message: String,
}

/// An explanation with the expectation it was checked against (`--expect`, a `--flows` row).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// The CSV record's line (`--flows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(flatten)]
    pub explanation: Explanation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// `None` without an expectation; false too when the verdict is not proved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
    /// The verdict meets the expectation but may not be Azure's: a firewall rule set aside or an
    /// undocumented group order could decide the flow otherwise (the notes say which). A smoke
    /// test is not passed by it (`matches` is false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unproved: bool,
}

/// The notes whose rules could decide the flow otherwise than the verdict says.
const VERDICT_DOUBTS: [&str; 2] = ["F0308", "F0309"];

impl Checked {
    pub fn new(line: Option<u64>, explanation: Explanation, expect: Option<Expect>) -> Self {
        let doubted = explanation.notes.iter().any(|n| VERDICT_DOUBTS.contains(&n.code));
        let met = expect.map(|e| e.met_by(explanation.verdict));
        let unproved = doubted && met == Some(true);
        let matches = met.map(|m| m && !unproved);
        Checked {
            line,
            explanation,
            expect,
            matches,
            unproved,
        }
    }
    pub fn failed(&self) -> bool {
        self.matches == Some(false)
    }
}

/// An endpoint: addresses, or (destination in firewall mode only) a DNS name the firewall's
/// application rules match.
#[derive(Debug, Clone)]
pub enum Endpoint {
    Addresses(Vec<Ipv4Net>),
    Name(String),
}

/// Parses an endpoint: an address, a prefix, or a tag the resolver knows.
pub fn endpoint(text: &str, resolver: &dyn TagResolver, flag: &str) -> Result<IntervalSet<u32>, Diagnostic> {
    let text = text.trim();
    if let Some(IpNet::V4(n)) = ise_model::ip_text::prefix(text) {
        return Ok(IntervalSet::from_prefix(n.trunc()));
    }
    if let Ok(std::net::IpAddr::V4(a)) = text.parse::<std::net::IpAddr>() {
        return Ok(IntervalSet::point(u32::from(a)));
    }
    resolver.resolve_set(text).ok_or_else(|| {
        let help = match ise_model::ip_text::has_leading_zero(text) {
            true => ise_model::ip_text::leading_zero_help(text),
            false => "give an address (10.10.1.5), a prefix (10.10.1.0/27) or a tag (LogicApps, Internet, VirtualNetwork); in firewall mode the destination may also be a DNS name".into(),
        };
        Diagnostic::error(
            E_EXPLAIN_ENDPOINT,
            "",
            format!(
                "`{}` is neither an IPv4 address, a prefix nor a service tag of the environment's cloud",
                excerpt(text)
            ),
        )
        .with_help(help)
        .in_file(flag)
    })
}

/// Whether `text` reads as a DNS name (`login.microsoftonline.com`, `*.blob.core.windows.net`): at
/// least two labels of letters, digits and `-`, an optional leading `*.`, a top-level label of
/// letters. Tag names with a region (`Storage.WestUS2`) are looked up as tags first.
fn is_dns_name(text: &str) -> bool {
    let name = text.strip_prefix("*.").unwrap_or(text);
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels
            .last()
            .is_some_and(|l| l.len() >= 2 && l.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// The rule deciding one packet for the remote addresses it holds (see
/// [`Explainer::decide_remote`]); no rule (`None`) denies.
#[derive(Debug, Clone)]
pub struct RemoteDecision {
    pub rule: Option<String>,
    pub access: Access,
    pub addresses: IntervalSet<u32>,
}

/// A flow's resolved endpoints: source addresses, destination addresses, and the DNS name the
/// destination is in firewall mode.
type Endpoints = (IntervalSet<u32>, IntervalSet<u32>, Option<String>);

/// A firewall's network and application rule collections.
pub type FirewallRules<'a> = (&'a [RuleCollection<NetworkRule>], &'a [RuleCollection<ApplicationRule>]);

/// What `explain` is asked against.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub tags: &'a ServiceTags,
    /// The NSG's explicit rules (the plan's own, or a deployed NSG's); Azure's defaults are added.
    pub rules: &'a [SecurityRule],
    /// Prefixes of the routes on the subnets (they join VirtualNetwork).
    pub udr_prefixes: &'a [Ipv4Net],
    /// The route table given (`--routes`), else the compiled one.
    pub routes: Option<&'a [RouteEntry]>,
    /// The firewall rules given (`--firewall`), else the compiled ones.
    pub firewall: Option<FirewallRules<'a>>,
    /// What the firewall rules given leave out (a shared policy's file); none for compiled rules.
    pub firewall_doubts: super::explain_path::FirewallDoubts<'a>,
}

/// Answers `explain` for many flows against one set of inputs (the routes are evaluated once).
pub struct Explainer<'a> {
    plan: &'a Plan,
    tags: &'a ServiceTags,
    rules: Vec<SecurityRule>,
    /// Endpoints' tags.
    resolver: EnvResolver<'a>,
    /// NSG rules' tags: those the cloud does not let NSGs use match nothing.
    rule_resolver: EnvResolver<'a>,
    subnets: IntervalSet<u32>,
    path: Option<PathModel<'a>>,
    /// Inbound and outbound rules resolved for [`Explainer::decide_remote`], once each.
    resolved: [OnceLock<Vec<(usize, FlowBox)>>; 2],
    /// Each direction's requirements with the flows they need (as the proof reads them), once
    /// each: what an allow rule serves is read off the flows it decides, not its name.
    needed: [OnceLock<Vec<(String, FlowSet)>>; 2],
    /// Undeclared addresses taken as VirtualNetwork members ([`Explainer::with_members`]).
    members: IntervalSet<u32>,
    /// Whether members were asked for (the answer then says which were taken, maybe none).
    members_given: bool,
}

impl<'a> Explainer<'a> {
    pub fn new(inputs: &Inputs<'a>) -> Self {
        let plan = inputs.plan;
        let env = &plan.environment;
        // The path matters only where traffic is tunneled, or when the user gives a route table.
        let path = (env.forced_tunneling.mode != TunnelingMode::None || inputs.routes.is_some()).then(|| PathModel::new(inputs));
        Self::with_path(inputs, path)
    }

    fn with_path(inputs: &Inputs<'a>, path: Option<PathModel<'a>>) -> Self {
        let env = &inputs.plan.environment;
        Explainer {
            plan: inputs.plan,
            tags: inputs.tags,
            rules: with_defaults(inputs.rules),
            resolver: EnvResolver::new(env, inputs.tags, inputs.udr_prefixes),
            rule_resolver: EnvResolver::for_nsg_rules(env, inputs.tags, inputs.udr_prefixes),
            subnets: IntervalSet::from_prefixes(env.subnet_prefixes()),
            path,
            resolved: Default::default(),
            needed: Default::default(),
            members: IntervalSet::empty(),
            members_given: false,
        }
    }

    /// This explainer with `members` (peered or on-premises networks the environment does not
    /// declare) taken as VirtualNetwork members, out of Internet, by the rules, the endpoints and
    /// the requirements alike: what `verify`'s F0109 assumes of an undeclared address. Only
    /// undeclared addresses become members: not the declared networks (members already), nor the
    /// platform's own addresses.
    pub fn with_members(self, members: &[Ipv4Net]) -> Self {
        let members_given = !members.is_empty();
        let undeclared = self.resolver.resolve_set("Internet").unwrap_or_default();
        let members = IntervalSet::from_prefixes(members.iter().map(|n| n.trunc()))
            .intersection(&undeclared)
            .difference(&crate::prove::resolver::unfiltered_addresses());
        Explainer {
            members_given,
            resolver: self.resolver.with_members(&members),
            rule_resolver: self.rule_resolver.with_members(&members),
            resolved: Default::default(),
            needed: Default::default(),
            members,
            ..self
        }
    }

    /// An explainer of the NSG alone: its decisions are [`Explainer::new`]'s, its verdicts leave
    /// routes and the firewall out. For what Network Watcher's `test-ip-flow` checks (the change
    /// ticket's expectations), without evaluating the routes.
    pub fn nsg_only(inputs: &Inputs<'a>) -> Self {
        Self::with_path(inputs, None)
    }

    /// What the NSG does with one TCP packet between `local` and each address of `remote` (an
    /// address, a prefix or a tag; `None` when it is none of these) in `direction`: the deciding
    /// rules in evaluation order, each with the remote addresses it decides, the platform's
    /// unfiltered addresses left out. The packet Network Watcher's `test-ip-flow` checks, as the
    /// change ticket expects it; one dimension, so cheap even for a tag's thousands of prefixes.
    pub fn decide_remote(&self, direction: Direction, local: SocketAddrV4, remote: &str, remote_port: u16) -> Option<Vec<RemoteDecision>> {
        let mut addresses = endpoint(remote, &self.resolver, "").ok()?;
        // The remote end's address in `packet` is a placeholder: `decide_line` varies it.
        let remote_end = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, remote_port);
        let ((src, dst), end) = match direction {
            Direction::Inbound => ((remote_end, local), End::Source),
            Direction::Outbound => {
                addresses = addresses.difference(&crate::prove::resolver::unfiltered_addresses());
                ((local, remote_end), End::Destination)
            }
        };
        let packet = Packet {
            protocol: PacketProtocol::Tcp,
            src: *src.ip(),
            src_port: src.port(),
            dst: *dst.ip(),
            dst_port: dst.port(),
        };
        let resolved = self.resolved[usize::from(direction == Direction::Outbound)]
            .get_or_init(|| resolved_in_order(&self.rules, &self.rule_resolver, direction));
        let decided = decide_line(resolved, &packet, end, addresses);
        Some(
            decided
                .into_iter()
                .map(|(d, addresses)| RemoteDecision {
                    rule: d.map(|i| self.rules[i].name.clone()),
                    access: d.map_or(Access::Deny, |i| self.rules[i].access),
                    addresses,
                })
                .collect(),
        )
    }

    /// Resolves the destination: addresses, or in firewall mode a DNS name (its addresses are
    /// unknown, so every address outside the network stands for it). A name needs Tcp and one
    /// port: `fields` (protocol, ports) is `None` when they are not known (a flows row whose port
    /// did not parse), and then not held against the name.
    fn destination(&self, to: &str, fields: Option<(Protocol, PortRange)>) -> Result<(IntervalSet<u32>, Option<String>), Diagnostic> {
        match endpoint(to, &self.resolver, "--to") {
            Ok(to) => Ok((to, None)),
            Err(e) => {
                let to = to.trim();
                if !is_dns_name(to) {
                    return Err(e);
                }
                let firewall = self.path.as_ref().is_some_and(PathModel::has_firewall);
                let one_tcp_port = fields.is_none_or(|(protocol, ports)| protocol == Protocol::Tcp && ports.lo == ports.hi);
                if !firewall || !one_tcp_port {
                    return Err(Diagnostic::error(
                        E_EXPLAIN_FQDN,
                        "",
                        format!("`{}` is a DNS name, which only the firewall's application rules match", excerpt(to)),
                    )
                    .with_help("a name needs forcedTunneling mode firewall, --protocol tcp and one port; otherwise give an address, a prefix or a service tag")
                    .in_file("--to"));
                }
                // A public name does not resolve to the platform's own addresses; it may resolve
                // into addresses taken as members (they are undeclared ones).
                let outside = self.resolver.resolve_set("Internet").unwrap_or_default().union(&self.members);
                let platform = crate::prove::resolver::unfiltered_addresses();
                Ok((outside.difference(&platform), Some(to.to_ascii_lowercase())))
            }
        }
    }

    /// Both endpoints resolved (source, destination, and the destination's DNS name in firewall
    /// mode), or every problem of either: one that is no address, prefix or tag (`E1301`, `E1303`),
    /// and two that resolve but leave the ISE subnets' NSG out of the flow (`E1302`).
    fn endpoints(&self, from: &str, to: &str, fields: Option<(Protocol, PortRange)>) -> Result<Endpoints, Vec<Diagnostic>> {
        let source = endpoint(from, &self.resolver, "--from");
        match (source, self.destination(to, fields)) {
            (Ok(src), Ok((dst, name))) => {
                // The NSG sees outbound traffic leaving the subnets and inbound traffic entering
                // them (a DNS name is outbound only), as `explain` evaluates it.
                let outbound = !src.intersection(&self.subnets).is_empty() && !dst.is_empty();
                let inbound = name.is_none() && !src.is_empty() && !dst.intersection(&self.subnets).is_empty();
                if outbound || inbound {
                    Ok((src, dst, name))
                } else {
                    Err(vec![outside_the_subnets(from, to)])
                }
            }
            (src, dst) => Err(src.err().into_iter().chain(dst.err()).collect()),
        }
    }

    /// Every problem of a flow's endpoints against the environment, each in `--from` or `--to`
    /// (`--from/--to` for both): what [`Explainer::explain`] would refuse them for. An endpoint
    /// left out (`None`: an empty field, reported by the reader) is not checked; `fields` as for a
    /// DNS name.
    pub fn endpoint_problems(&self, from: Option<&str>, to: Option<&str>, fields: Option<(Protocol, PortRange)>) -> Vec<Diagnostic> {
        match (from, to) {
            (Some(from), Some(to)) => self.endpoints(from, to, fields).err().unwrap_or_default(),
            (from, to) => {
                let from = from.and_then(|f| endpoint(f, &self.resolver, "--from").err());
                let to = to.and_then(|t| self.destination(t, fields).err());
                from.into_iter().chain(to).collect()
            }
        }
    }

    /// What happens to `flow`, or every problem of it: a port for a protocol without ports, and
    /// each of [`Explainer::endpoint_problems`].
    pub fn explain(&self, flow: &Flow) -> Result<Explanation, Vec<Diagnostic>> {
        let portless = flow.check().err();
        let (from, to, name) = match (portless, self.endpoints(&flow.from, &flow.to, Some((flow.protocol, flow.ports)))) {
            (None, Ok(resolved)) => resolved,
            (portless, resolved) => return Err(portless.into_iter().chain(resolved.err().into_iter().flatten()).collect()),
        };
        let protocols = ProtoSet::matched_by(flow.protocol);
        let ports = if flow.ports.is_any() {
            IntervalSet::full()
        } else {
            IntervalSet::from_port_ranges(&[flow.ports])
        };
        let mut decisions = Vec::new();
        let mut whole = FlowSet::empty();
        let mut denied = FlowSet::empty();
        let mut out_allowed: Option<(FlowSet, IntervalSet<u32>)> = None;
        let mut in_allowed: Option<FlowSet> = None;
        let mut notes: Vec<ExplainNote> = Vec::new();
        // Outbound is evaluated at the source subnet, inbound at the destination subnet.
        for (direction, src, dst) in [
            (Direction::Outbound, from.intersection(&self.subnets), to.clone()),
            (Direction::Inbound, from.clone(), to.intersection(&self.subnets)),
        ] {
            if name.is_some() && direction == Direction::Inbound {
                continue;
            }
            let flows = FlowBox::new(protocols, src.clone(), IntervalSet::full(), dst, ports.clone());
            if flows.is_empty() {
                continue;
            }
            let domain = Domain::new(flows.clone());
            let eval = evaluate(&self.rules, &self.rule_resolver, direction, &domain);
            for Note::UnresolvedTag { rule_name, tag, .. } in eval.notes() {
                if !notes.iter().any(|n| n.rule == *rule_name && n.tag == *tag) {
                    let (kind, message) = super::nsg::unresolved_tag(rule_name, tag, self.plan.environment.cloud, self.tags);
                    notes.push(ExplainNote {
                        code: kind.info().code,
                        rule: rule_name.clone(),
                        tag: tag.clone(),
                        message,
                    });
                }
            }
            let all = FlowSet::from_box(flows);
            // Packets to the platform's addresses are not the NSG's (outbound), nor the routes'.
            let platform = all.intersection(&super::nsg::unfiltered(direction));
            let mut deciders: Vec<Option<usize>> = eval.regions().iter().map(|r| r.decider).collect();
            deciders.sort_by_key(|d| d.map(|i| (self.rules[i].priority, i)));
            deciders.dedup();
            for d in deciders {
                let part = match d {
                    Some(i) => eval.decided_by(i),
                    None => eval.unmatched(),
                };
                let part = part.difference(&platform);
                if !part.is_empty() {
                    decisions.push(self.decision(direction, d, &part));
                }
            }
            if !platform.is_empty() {
                decisions.push(Decision {
                    unfiltered: true,
                    access: Access::Allow,
                    ..self.decision(direction, None, &platform)
                });
            }
            let allowed = eval.allowed().difference(&platform);
            denied = denied.union(&all.difference(&allowed).difference(&platform));
            whole = whole.union(&all);
            if direction == Direction::Outbound {
                out_allowed = Some((allowed, src));
            } else {
                in_allowed = Some(allowed);
            }
        }
        if decisions.is_empty() {
            // `endpoints` refuses such a flow first; kept so that no flow is explained by nothing.
            return Err(vec![outside_the_subnets(&flow.from, &flow.to)]);
        }
        let mut path = Vec::new();
        if let (Some(model), Some((allowed, sources))) = (&self.path, &out_allowed) {
            // The declared networks outside the VNet (peered or on premises: internal callers,
            // custom DNS servers) are reached by their own routes too, as `verify` takes them.
            let env = &self.plan.environment;
            let declared = IntervalSet::from_prefixes(
                env.internal_callers
                    .iter()
                    .copied()
                    .chain(env.custom_dns_servers.iter().map(|&ip| Ipv4Net::from(ip))),
            );
            let own_routes = self.members.union(&declared);
            let (steps, path_denied) = model.follow(allowed, sources, flow, name.as_deref(), &own_routes);
            path = steps;
            notes.extend(model.route_notes.iter().cloned());
            denied = denied.union(&path_denied);
            notes.extend(tls_notes(&path));
            notes.extend(model.doubt_notes(&path));
        }
        if let (Some(model), Some(allowed)) = (&self.path, &in_allowed) {
            let (steps, reply_denied) = model.replies(allowed, &self.members);
            path.extend(steps);
            denied = denied.union(&reply_denied);
        }
        let allowed = whole.difference(&denied);
        let beyond = |set: &IntervalSet<u32>| set.intersection(&self.subnets) != *set;
        let decided_only_within = (beyond(&from) && (name.is_some() || beyond(&to)))
            .then(|| self.plan.environment.subnet_prefixes().iter().map(|p| p.to_string()).collect());
        let verdict = match (allowed.is_empty(), denied.is_empty()) {
            (_, true) => Verdict::Allow,
            (true, false) => Verdict::Deny,
            (false, false) => Verdict::Mixed,
        };
        Ok(Explanation {
            from: flow.from.trim().to_string(),
            to: flow.to.trim().to_string(),
            protocol: flow.protocol,
            ports: flow.ports,
            verdict,
            decisions,
            path,
            allowed: allowed.pieces(),
            denied: denied.pieces(),
            notes,
            decided_only_within,
            taken_as_members: self.members_given.then(|| self.members.prefixes().map(|p| p.to_string()).collect()),
        })
    }

    /// Every row of a flows file, or every row's problem placed at its line and column. A file
    /// read with [`crate::read::flows::parse_checked`] against this explainer has none left.
    pub fn explain_rows(&self, file: &FlowsFile) -> Result<Vec<Checked>, Vec<Diagnostic>> {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        for row in &file.rows {
            match self.explain(&row.flow) {
                Ok(e) => out.push(Checked::new(Some(row.line), e, row.expect)),
                Err(problems) => {
                    for d in problems {
                        let column = if d.code == E_EXPLAIN_PORTLESS {
                            "port"
                        } else {
                            crate::read::flows::column_of(&d)
                        };
                        diags.push(file.locate(row, column, d));
                    }
                }
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }

    /// The decision of `decider` over `part`. An allow rule serves the requirements whose flows
    /// it lets through here, whatever its name (a deployed NSG's rules are named as its authors
    /// chose, and a rule widened in place keeps its name): as `verify`'s coverage and openings
    /// read it. A deny rule names the requirements the plan wrote it for.
    fn decision(&self, direction: Direction, decider: Option<usize>, part: &FlowSet) -> Decision {
        let rule = decider.map(|i| &self.rules[i]);
        let access = rule.map_or(Access::Deny, |r| r.access);
        let requirements = match rule {
            Some(_) if access == Access::Allow => self.served(direction, part),
            Some(r) => requirements_of(self.plan, &r.name),
            None => Vec::new(),
        };
        Decision {
            direction,
            rule: rule.map(|r| r.name.clone()),
            priority: rule.map(|r| r.priority),
            access,
            default_rule: rule.is_some_and(|r| r.is_default),
            serves_no_requirement: access == Access::Allow && requirements.is_empty(),
            requirements,
            flows: part.pieces(),
            unfiltered: false,
        }
    }

    /// The requirements of `direction` that need some of `part`, in the plan's order.
    fn served(&self, direction: Direction, part: &FlowSet) -> Vec<String> {
        let needed = self.needed[usize::from(direction == Direction::Outbound)].get_or_init(|| {
            let kind = match direction {
                Direction::Inbound => ise_model::requirement::Kind::Inbound,
                Direction::Outbound => ise_model::requirement::Kind::Outbound,
            };
            let intended = EnvResolver::intended(&self.plan.environment, self.tags).with_members(&self.members);
            self.plan
                .requirements
                .iter()
                .filter(|r| r.kind == kind)
                .filter_map(|r| Some((r.id.clone(), FlowSet::from_rule(&super::nsg::requirement_rule(r), &intended).ok()?)))
                .collect()
        });
        needed
            .iter()
            .filter(|(_, flows)| !flows.intersection(part).is_empty())
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// A note per firewall rule on the path that allows the flow and terminates its TLS (once each).
fn tls_notes(path: &[RouteStep]) -> Vec<ExplainNote> {
    let mut notes: Vec<ExplainNote> = Vec::new();
    for f in path.iter().flat_map(|s| &s.firewall).filter(|f| f.terminates_tls) {
        let rule = f.rule.clone().unwrap_or_default();
        if !notes.iter().any(|n| n.rule == rule) {
            notes.push(ExplainNote {
                code: FindingKind::TlsTermination.info().code,
                message: super::firewall::tls_termination_message(&format!("application rule {rule}, which allows this flow,"), ""),
                rule,
                tag: String::new(),
            });
        }
    }
    notes
}

/// `E1302`: neither end of the flow is in the ISE subnets, whose NSG is what `explain` evaluates.
fn outside_the_subnets(from: &str, to: &str) -> Diagnostic {
    Diagnostic::error(
        E_EXPLAIN_PATH,
        "",
        format!(
            "neither {} nor {} is inside the ISE subnets, so their NSG does not see this traffic",
            excerpt(from.trim()),
            excerpt(to.trim())
        ),
    )
    .with_help("one end must be an address of the four ISE subnets")
    .in_file("--from/--to")
}

/// Requirement ids behind a rule, found by name in the plan (Azure compares rule names
/// case-insensitively).
fn requirements_of(plan: &Plan, rule: &str) -> Vec<String> {
    plan.security_rules
        .iter()
        .filter(|r| r.rule.name.eq_ignore_ascii_case(rule))
        .flat_map(|r| r.requirements.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_ports_and_expectations_parse_as_azure_writes_them() {
        for (text, p) in [
            ("tcp", Protocol::Tcp),
            ("Udp", Protocol::Udp),
            ("ICMP", Protocol::Icmp),
            ("Esp", Protocol::Esp),
            ("ah", Protocol::Ah),
            ("*", Protocol::Any),
            ("Any", Protocol::Any),
        ] {
            assert_eq!(parse_protocol(text), Ok(p), "{text}");
        }
        assert!(parse_protocol("sctp").is_err());
        assert!(parse_protocol("6").is_err());
        assert_eq!(parse_ports("1000-2000"), Ok(PortRange { lo: 1000, hi: 2000 }));
        assert!(parse_ports("2000-1000").is_err());
        assert!(parse_ports("70000").is_err());
        assert!(Expect::Allow.met_by(Verdict::Allow) && !Expect::Allow.met_by(Verdict::Mixed));
        assert!(Expect::Deny.met_by(Verdict::Deny) && !Expect::Deny.met_by(Verdict::Mixed));
        assert_eq!(Expect::parse(" DENY ").unwrap(), Expect::Deny);
        assert_eq!(Expect::parse("drop").unwrap_err().code, E_EXPLAIN_EXPECT);
    }

    #[test]
    fn dns_names_are_told_from_tags_and_addresses() {
        for name in ["login.microsoftonline.com", "*.blob.core.windows.net", "go.microsoft.com"] {
            assert!(is_dns_name(name), "{name}");
        }
        for not in ["10.0.0.1", "Storage", "Storage.WestUS2x1", "a..com", "*", "host.c0m", ".com"] {
            assert!(!is_dns_name(not), "{not}");
        }
    }

    #[test]
    fn ports_are_refused_for_protocols_without_ports() {
        let flow = |protocol, ports: &str| Flow {
            from: "a".into(),
            to: "b".into(),
            protocol,
            ports: PortRange::parse(ports).unwrap(),
        };
        assert_eq!(flow(Protocol::Icmp, "443").check().unwrap_err().code, E_EXPLAIN_PORTLESS);
        assert!(flow(Protocol::Icmp, "*").check().is_ok());
        assert!(flow(Protocol::Any, "443").check().is_ok());
        assert!(flow(Protocol::Udp, "1-2").check().is_ok());
    }
}
