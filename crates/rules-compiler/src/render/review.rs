//! What the review artifacts (review.csv, review.html, change-ticket.md, flows.svg) share: one row
//! per generated NSG rule, route, firewall rule and service endpoint, with its provenance (the
//! requirements, purpose, published source, condition), whether it admits anything from the
//! Internet, and its proof status from the verifier. Built from the plan, the service-tag file the
//! plan was built with (for prefix counts and the proofs) and nothing else.

use crate::azure::nsg::{Access, AddressMatch, Direction, SecurityRule};
use crate::azure::route::RouteEntry;
use crate::plan::{Plan, PlanRule};
use crate::prove::{firewall as firewall_proof, nsg as nsg_proof, routes as route_proof, verify};
use crate::views::describe;
use ipnet::Ipv4Net;
use ise_model::ports::format_list;
use ise_model::published::{self, Published};
use ise_model::resolve::Resolved;
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether a rule admits traffic from the Internet (inbound allow rules only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Any Internet address (`*` or the `Internet` tag).
    Any,
    /// Named public addresses: a service tag of Azure's own addresses or listed public prefixes.
    Listed,
    No,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Any => "yes: any Internet address",
            Exposure::Listed => "limited: listed Azure or caller addresses",
            Exposure::No => "no",
        }
    }
}

/// What a row's artifact writes: the columns every review format starts with, in this order.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// `nsg`, `route`, `firewall-network`, `firewall-application`, `service-endpoint`.
    pub artifact: &'static str,
    pub name: String,
    pub priority: String,
    pub direction: String,
    pub access: String,
    pub protocol: String,
    pub source: String,
    pub destination: String,
    pub ports: String,
}

impl Written {
    /// The column names, one table for review.csv, review.html and the change ticket.
    pub const COLUMNS: [&'static str; 9] = [
        "artifact",
        "name",
        "priority",
        "direction",
        "access",
        "protocol",
        "source",
        "destination",
        "ports",
    ];

    /// The cells in `COLUMNS` order.
    pub fn cells(&self) -> [&str; 9] {
        [
            self.artifact,
            &self.name,
            &self.priority,
            &self.direction,
            &self.access,
            &self.protocol,
            &self.source,
            &self.destination,
            &self.ports,
        ]
    }
}

/// One reviewed row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub written: Written,
    pub requirements: Vec<String>,
    pub purpose: String,
    pub reference: String,
    pub table_version: String,
    pub url: String,
    pub condition: String,
    pub internet: Exposure,
    /// Proof status from the verifier.
    pub proof: String,
    /// The proof found nothing wrong with the row.
    pub proved: bool,
}

impl Row {
    fn new(written: Written, requirements: Vec<String>, p: Provenance, internet: Exposure, (proof, proved): (String, bool)) -> Row {
        Row {
            written,
            requirements,
            purpose: p.purpose,
            reference: p.published.reference,
            table_version: p.published.version,
            url: p.published.url,
            condition: p.condition,
            internet,
            proof,
            proved,
        }
    }
}

/// The verifier's word on one rule, route or firewall rule.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Requirement or dependency ids the rule admits (part of).
    pub covers: Vec<String>,
    /// What is wrong (`true`: the finding fails the proof) or worth knowing (shadowed, redundant).
    pub findings: Vec<(bool, String)>,
}

/// Everything the review backends render.
pub struct Review<'a> {
    pub plan: &'a Plan,
    pub rows: Vec<Row>,
    /// The NSG, route and firewall proofs all hold.
    pub ok: bool,
    /// `Public service tags, change 375 (embedded snapshot of 2025-10-28)`.
    pub tags_snapshot: String,
    /// The tag file the plan was built with (the change ticket explains its test flows with it).
    pub tags: &'a ServiceTags,
}

/// Which tag file the review was made with: an embedded snapshot (with its publication date, from
/// `ise_model::data::SERVICE_TAGS_DATES`) or the user's file.
fn snapshot(tags: &ServiceTags) -> String {
    let date = ise_model::data::SERVICE_TAGS_DATES
        .iter()
        .find(|(cloud, _)| {
            let embedded = ServiceTags::embedded(*cloud);
            embedded.cloud == tags.cloud && embedded.change_number == tags.change_number
        })
        .map_or_else(
            || " (the file given with --service-tags)".to_string(),
            |(_, d)| format!(" (embedded snapshot of {d})"),
        );
    format!("{} service tags, change {}{date}", tags.cloud, tags.change_number)
}

/// The compiled NSG as the proofs read it: its rules, the route prefixes that join the
/// VirtualNetwork tag, and its evaluation, each direction evaluated on first use (see
/// [`review_with`]).
pub struct CompiledNsg<'a> {
    rules: Vec<SecurityRule>,
    udr_prefixes: Vec<Ipv4Net>,
    evaluated: nsg_proof::Evaluated<'a>,
}

impl CompiledNsg<'_> {
    /// Evaluates `direction` now, unless another thread already does (then waits for it).
    pub fn evaluate(&self, direction: Direction) {
        self.evaluated.evaluation(direction);
    }
}

/// The NSG `plan` compiles to, nothing evaluated yet.
pub fn compiled_nsg<'a>(plan: &Plan, tags: &'a ServiceTags) -> CompiledNsg<'a> {
    let rules = verify::compiled_rules(plan);
    let udr_prefixes = verify::udr_prefixes(plan, None, tags).unwrap_or_default();
    let evaluated = nsg_proof::Evaluated::new(&plan.environment, tags, &rules, &udr_prefixes);
    CompiledNsg {
        rules,
        udr_prefixes,
        evaluated,
    }
}

/// Proof status per (artifact, rule name) from the verifier's typed findings: the one place that
/// reads the proofs. `compiled` is [`compiled_nsg`] of the same plan and tags.
fn statuses(plan: &Plan, tags: &ServiceTags, compiled: &CompiledNsg) -> (BTreeMap<(&'static str, String), Status>, bool) {
    let env = &plan.environment;
    let mut out: BTreeMap<(&'static str, String), Status> = BTreeMap::new();
    let entries: Vec<RouteEntry> = plan.routes.iter().map(|r| r.entry()).collect();
    let written_for = verify::written_for(plan);
    let nsg_subject = nsg_proof::Subject {
        env,
        tags,
        rules: &compiled.rules,
        udr_prefixes: &compiled.udr_prefixes,
        requirements: &plan.requirements,
        written_for: &written_for,
    };
    // The firewall's traffic crosses this NSG: both proofs share its outbound evaluation.
    let evaluated = &compiled.evaluated;
    let nsg = nsg_proof::prove_with(&nsg_subject, evaluated);
    let routes = route_proof::prove(&entries, env, tags, &plan.requirements);
    let firewall = firewall_proof::prove(&firewall_proof::Subject {
        env,
        tags,
        network_rule_collections: &plan.firewall.network_rule_collections,
        application_rule_collections: &plan.firewall.application_rule_collections,
        // isenet writes no DNAT rule.
        nat_rules: &[],
        dependencies: &plan.firewall.dependencies,
        bypass_addresses: &route_proof::compiled_firewall_bypass(plan, env, tags),
        nsg: Some(evaluated),
    });
    for (artifact, proof) in [("nsg", &nsg), ("route", &routes), ("firewall", &firewall)] {
        for c in &proof.coverage {
            for r in &c.rules {
                out.entry((artifact, r.clone())).or_default().covers.push(c.id.clone());
            }
        }
        for f in &proof.findings {
            let text = format!("{} ({}): {}", f.kind.info().name, f.code, f.message);
            match &f.rule {
                Some(rule) => out
                    .entry((artifact, rule.name.clone()))
                    .or_default()
                    .findings
                    .push((f.fails(), text)),
                // A finding about a requirement or dependency rather than one rule (it is not
                // met): every row written for it fails with it, so no row says proved while the
                // proof does not hold.
                None if f.fails() => {
                    for (row_artifact, name) in rows_written_for(plan, &f.requirements) {
                        out.entry((row_artifact, name)).or_default().findings.push((true, text.clone()));
                    }
                }
                None => {}
            }
        }
    }
    // Routes are proved per requirement: a route is proved when every requirement it serves is.
    for route in &plan.routes {
        let s = out.entry(("route", route.name.clone())).or_default();
        for id in &route.requirements {
            // The default route is proved by the check that everything else reaches the firewall
            // (or, under ExpressRoute, the Internet).
            let check = match id.as_str() {
                "route-firewall-default" => "other-traffic-to-firewall",
                "route-expressroute-default" => "other-traffic-to-internet",
                other => other,
            };
            match routes.coverage.iter().find(|c| c.id == check || &c.id == id) {
                Some(c) if c.covered => s.covers.push(id.clone()),
                Some(_) => s.findings.push((true, format!("{id}: some addresses take another next hop"))),
                None => {}
            }
        }
    }
    (out, nsg.ok && routes.ok && firewall.ok)
}

/// The rows (artifact, name) the plan wrote for any of `ids`: NSG rules and routes by the
/// requirements they serve, firewall rules by their dependency (a rule is named by its id).
fn rows_written_for(plan: &Plan, ids: &[String]) -> Vec<(&'static str, String)> {
    let serves = |served: &[String]| served.iter().any(|s| ids.contains(s));
    let nsg = plan
        .security_rules
        .iter()
        .filter(|r| serves(&r.requirements))
        .map(|r| ("nsg", r.rule.name.clone()));
    let routes = plan
        .routes
        .iter()
        .filter(|r| serves(&r.requirements))
        .map(|r| ("route", r.name.clone()));
    let firewall = plan
        .firewall
        .network_rule_collections
        .iter()
        .flat_map(|c| c.rules.iter().map(|r| r.name.clone()))
        .chain(
            plan.firewall
                .application_rule_collections
                .iter()
                .flat_map(|c| c.rules.iter().map(|r| r.name.clone())),
        )
        .filter(|name| ids.contains(name))
        .map(|name| ("firewall", name));
    nsg.chain(routes).chain(firewall).collect()
}

/// The row's proof column and whether it passes: what the proof says of the rule by name. A rule
/// written for requirements that no finding names and no requirement's coverage lists is decided
/// around (another rule decides its packets; in the member proof of undeclared VirtualNetwork
/// addresses it may decide some): nothing fails there. One written for nothing admits nothing
/// anybody asked for.
fn proof_text(status: Option<&Status>, what: &str, written_for: &[String]) -> (String, bool) {
    let Some(s) = status else {
        return match written_for {
            [] => (format!("{what}: admits no requirement"), false),
            ids => (
                format!(
                    "written for {}; other rules decide the packets it matches (no finding)",
                    ids.join(" ")
                ),
                true,
            ),
        };
    };
    let mut parts = Vec::new();
    if !s.covers.is_empty() {
        parts.push(format!("covers {}", s.covers.join(" ")));
    }
    parts.extend(s.findings.iter().map(|(_, text)| text.clone()));
    // Shadowed and redundant are notes (the published table overlaps itself); openings and wrong
    // next hops fail.
    let proved = s.findings.iter().all(|(fails, _)| !fails);
    (parts.join("; "), proved)
}

fn exposure(r: &PlanRule, env_space: &[Ipv4Net]) -> Exposure {
    if r.rule.direction != Direction::Inbound || r.rule.access != Access::Allow {
        return Exposure::No;
    }
    match &r.rule.source {
        AddressMatch::Any => Exposure::Any,
        AddressMatch::Tag(t) if t.eq_ignore_ascii_case("Internet") => Exposure::Any,
        AddressMatch::Tag(t) if ise_model::servicetags::is_platform_tag(t) => Exposure::No,
        AddressMatch::Tag(_) => Exposure::Listed,
        AddressMatch::Prefixes(p) => {
            let private = |n: &Ipv4Net| n.addr().is_private() || env_space.iter().any(|s| s.contains(n));
            if p.iter().all(private) {
                Exposure::No
            } else if p.iter().any(|n| n.prefix_len() == 0) {
                Exposure::Any
            } else {
                Exposure::Listed
            }
        }
        AddressMatch::Prefixes6(_) => Exposure::Listed,
    }
}

/// Provenance of a row from the requirements it serves (the first one's source and condition:
/// rows serving several requirements share the table).
struct Provenance {
    purpose: String,
    published: Published,
    condition: String,
}

fn provenance(plan: &Plan, ids: &[String], fallback_purpose: &str) -> Provenance {
    let reqs: Vec<&Resolved> = ids.iter().filter_map(|id| plan.requirements.iter().find(|r| &r.id == id)).collect();
    match reqs.first() {
        Some(first) => {
            let mut purposes: Vec<&str> = reqs.iter().map(|r| r.purpose.as_str()).collect();
            purposes.dedup();
            Provenance {
                purpose: purposes.join(" / "),
                published: published::requirement(&first.reference, first.kind, &plan.table_version),
                condition: describe::condition(first),
            }
        }
        None => Provenance {
            purpose: fallback_purpose.to_string(),
            published: Published {
                reference: "isenet least privilege: the explicit deny overrides Azure's default allow rules".into(),
                version: String::new(),
                url: "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview#default-security-rules"
                    .into(),
            },
            condition: if fallback_purpose.contains("outbound") {
                "outboundPolicy restricted".into()
            } else {
                "always".into()
            },
        },
    }
}

fn nsg_rows(plan: &Plan, tags: &ServiceTags, st: &BTreeMap<(&'static str, String), Status>) -> Vec<Row> {
    let space = &plan.environment.virtual_network.address_space;
    plan.security_rules
        .iter()
        .map(|r| {
            let p = provenance(plan, &r.requirements, &r.description);
            let status = st.get(&("nsg", r.rule.name.clone()));
            let (proof, proved) = if r.rule.access == Access::Deny {
                let mut parts = vec!["denies everything the rules above do not allow".to_string()];
                parts.extend(status.iter().flat_map(|s| s.findings.iter().map(|(_, t)| t.clone())));
                (parts.join("; "), status.is_none_or(|s| s.findings.iter().all(|(fails, _)| !fails)))
            } else {
                proof_text(status, "allow rule", &r.requirements)
            };
            let written = Written {
                artifact: "nsg",
                name: r.rule.name.clone(),
                priority: r.rule.priority.to_string(),
                direction: r.rule.direction.as_str().to_string(),
                access: r.rule.access.as_str().to_string(),
                protocol: r.rule.protocol.as_str().to_string(),
                source: describe::address(&r.rule.source, tags),
                destination: describe::address(&r.rule.destination, tags),
                ports: format_list(&r.rule.destination_ports),
            };
            Row::new(written, r.requirements.clone(), p, exposure(r, space), (proof, proved))
        })
        .collect()
}

fn route_rows(plan: &Plan, tags: &ServiceTags, st: &BTreeMap<(&'static str, String), Status>) -> Vec<Row> {
    plan.routes
        .iter()
        .map(|r| {
            let p = provenance(plan, &r.requirements, "route");
            let destination = if r.address_prefix.parse::<Ipv4Net>().is_ok() {
                r.address_prefix.clone()
            } else {
                describe::tag(&r.address_prefix, tags)
            };
            let hop = match r.next_hop_ip_address {
                Some(ip) => format!("{} {ip}", r.next_hop_type.as_str()),
                None => r.next_hop_type.as_str().to_string(),
            };
            let written = Written {
                artifact: "route",
                name: r.name.clone(),
                priority: String::new(),
                direction: "Outbound".into(),
                access: format!("next hop {hop}"),
                protocol: String::new(),
                source: "the four ISE subnets".into(),
                destination,
                ports: String::new(),
            };
            let proof = proof_text(st.get(&("route", r.name.clone())), "route", &r.requirements);
            Row::new(written, r.requirements.clone(), p, Exposure::No, proof)
        })
        .collect()
}

fn firewall_rows(plan: &Plan, tags: &ServiceTags, st: &BTreeMap<(&'static str, String), Status>) -> Vec<Row> {
    let fw = &plan.firewall;
    let dependency = |name: &str| fw.dependencies.iter().find(|d| d.id == name);
    let row = |artifact: &'static str,
               collection: &str,
               priority: u32,
               name: &str,
               protocol: String,
               source: &[String],
               destination: String,
               ports: String| {
        let dep = dependency(name);
        let published = dep.map_or_else(
            || published::firewall_dependency("", &plan.table_version),
            |d| published::firewall_dependency(&d.reference, &plan.table_version),
        );
        let written = Written {
            artifact,
            name: format!("{collection}/{name}"),
            priority: priority.to_string(),
            direction: "Outbound".into(),
            access: "Allow".into(),
            protocol,
            source: source.join(" "),
            destination,
            ports,
        };
        let provenance = Provenance {
            purpose: dep.map_or_else(String::new, |d| d.purpose.clone()),
            published,
            condition: "firewall mode".into(),
        };
        let proof = proof_text(st.get(&("firewall", name.to_string())), "firewall rule", &[name.to_string()]);
        Row::new(written, vec![name.to_string()], provenance, Exposure::No, proof)
    };
    let mut rows = Vec::new();
    for c in &fw.network_rule_collections {
        for r in &c.rules {
            let protocols = r.ip_protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",");
            rows.push(row(
                "firewall-network",
                &c.name,
                c.priority,
                &r.name,
                protocols,
                &r.source_addresses,
                r.destination_addresses
                    .iter()
                    .map(|a| {
                        if a == "*" || a.parse::<Ipv4Net>().is_ok() || a.parse::<std::net::Ipv4Addr>().is_ok() {
                            a.clone()
                        } else {
                            describe::tag(a, tags)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                r.destination_ports.join(","),
            ));
        }
    }
    for c in &fw.application_rule_collections {
        for r in &c.rules {
            let protocols = r.protocols.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            let targets: Vec<String> = r
                .fqdn_tags
                .iter()
                .map(|t| format!("{t} [FQDN tag]"))
                .chain(r.target_fqdns.iter().cloned())
                .collect();
            rows.push(row(
                "firewall-application",
                &c.name,
                c.priority,
                &r.name,
                protocols,
                &r.source_addresses,
                targets.join(" "),
                String::new(),
            ));
        }
    }
    rows
}

fn endpoint_rows(plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in &plan.subnets {
        for service in &s.service_endpoints {
            let ids: Vec<String> = plan
                .requirements
                .iter()
                .filter(|r| matches!(&r.destination, ise_model::resolve::Peer::Service { name } if name == service))
                .map(|r| r.id.clone())
                .collect();
            let p = provenance(plan, &ids, "service endpoint");
            let written = Written {
                artifact: "service-endpoint",
                name: format!("{}/{service}", s.name),
                priority: String::new(),
                direction: "Outbound".into(),
                access: "Enabled".into(),
                protocol: String::new(),
                source: s.prefix.clone(),
                destination: format!("{service} [service endpoint]"),
                ports: String::new(),
            };
            let proof = ("enabled on the subnet (subnets.json)".to_string(), true);
            rows.push(Row::new(written, ids, p, Exposure::No, proof));
        }
    }
    rows
}

/// The review of a plan: rows in artifact order (NSG by direction and priority, routes, firewall
/// rules by collection, service endpoints by subnet), so the order is stable as inputs grow.
pub fn review<'a>(plan: &'a Plan, tags: &'a ServiceTags) -> Review<'a> {
    review_with(plan, tags, &compiled_nsg(plan, tags))
}

/// [`review`] with the compiled NSG ([`compiled_nsg`]) made by the caller, who may evaluate a
/// direction of it on another thread meanwhile (each direction is evaluated once, by whoever
/// asks first; the other waits for it).
pub fn review_with<'a>(plan: &'a Plan, tags: &'a ServiceTags, nsg: &CompiledNsg) -> Review<'a> {
    let (st, ok) = statuses(plan, tags, nsg);
    let mut nsg = nsg_rows(plan, tags, &st);
    nsg.sort_by_key(|r| (r.written.direction.clone(), r.written.priority.parse::<u32>().ok()));
    let rows = nsg
        .into_iter()
        .chain(route_rows(plan, tags, &st))
        .chain(firewall_rows(plan, tags, &st))
        .chain(endpoint_rows(plan))
        .collect();
    Review {
        plan,
        rows,
        ok,
        tags_snapshot: snapshot(tags),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::cloud::CloudId;

    /// Firewall mode, restricted outbound: the firewall's application rules need the NSG to let
    /// 80 and 443 out to the Internet. Without the NSG rules that do, the firewall proof fails
    /// for the FQDN-tag dependency (no single rule is at fault), and its row must not say proved.
    #[test]
    fn a_dependency_the_nsg_blocks_fails_its_firewall_row() {
        let text = include_str!("../../../../tests/envs/firewall-tunneling.json");
        let mut env = ise_model::env::load(text, "env.json").env.unwrap();
        env.outbound_policy = ise_model::env::OutboundPolicy::Restricted;
        let tags = ServiceTags::embedded(env.cloud);
        let mut plan = crate::plan::build(&env, tags, None).unwrap();
        let internet_web =
            |r: &PlanRule| r.rule.direction == Direction::Outbound && r.rule.destination == AddressMatch::Tag("Internet".into());
        let before = review(&plan, tags);
        assert!(before.ok && before.rows.iter().all(|r| r.proved));
        plan.security_rules
            .retain(|r| !internet_web(r) || r.rule.destination_ports.iter().all(|p| p.lo > 443 || p.hi < 80));
        let after = review(&plan, tags);
        assert!(!after.ok);
        let row = after
            .rows
            .iter()
            .find(|r| r.written.name == "ise-application-dependencies/fw-ase-fqdn-tag")
            .unwrap();
        assert!(!row.proved, "{}", row.proof);
        assert!(row.proof.contains("F0302"), "{}", row.proof);
    }

    #[test]
    fn the_embedded_snapshots_are_named_with_their_dates() {
        assert_eq!(
            snapshot(ServiceTags::embedded(CloudId::Public)),
            "Public service tags, change 375 (embedded snapshot of 2025-10-28)"
        );
        assert_eq!(
            snapshot(ServiceTags::embedded(CloudId::China)),
            "China service tags, change 405 (embedded snapshot of 2026-07-20)"
        );
    }
}
