//! `verify` as one call: the environment's plan and whichever artifacts were read (an NSG, a route
//! table, firewall rules) in, one typed proof per artifact out, each finding pointing into the file
//! it came from. The choices that are about Azure and not about files live here, not in the CLI:
//! the firewall's traffic crosses the given NSG or else the compiled one, and the VirtualNetwork tag
//! takes in the prefixes of the given route table or else of the compiled one.

use super::findings::{ArtifactKind, Finding, FindingKind, Proof, RuleRef, Verification};
use super::{firewall, nsg, routes};
use crate::azure::nsg::SecurityRule;
use crate::azure::route::RouteEntry;
use crate::plan::Plan;
use crate::read::firewall::{FirewallFile, PolicyRules};
use crate::read::nsg::NsgFile;
use crate::read::routes::{entries_prefixes, RouteFile};
use crate::read::subnets::SubnetRef;
use crate::read::template::proved;
use crate::read::{Limit, LimitViolation, Location};
use crate::views::summary::Names;
use ipnet::Ipv4Net;
use ise_model::diag::Diagnostic;
use ise_model::env::TunnelingMode;
use ise_model::servicetags::ServiceTags;
use std::collections::{BTreeMap, HashMap};

/// One artifact read from a file: its path (as the user gave it), its text and what it holds.
pub struct Read<'a, T> {
    pub file: &'a str,
    pub text: &'a str,
    pub content: &'a T,
}

impl<'a, T> Read<'a, T> {
    pub fn of((file, text, content): &'a (String, String, T)) -> Self {
        Read { file, text, content }
    }
}

pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub tags: &'a ServiceTags,
    pub nsg: Option<Read<'a, NsgFile>>,
    pub routes: Option<Read<'a, RouteFile>>,
    pub firewall: Option<Read<'a, FirewallFile>>,
}

/// The prefixes that join the VirtualNetwork tag: those of the given route table, or else of the
/// table the plan puts on the subnets.
pub fn udr_prefixes(plan: &Plan, routes: Option<&RouteFile>, tags: &ServiceTags) -> Result<Vec<Ipv4Net>, Vec<Diagnostic>> {
    match routes {
        Some(file) => entries_prefixes(&file.routes, &file.origins, tags),
        None => {
            let planned: Vec<RouteEntry> = plan.routes.iter().map(|r| r.entry()).collect();
            entries_prefixes(&planned, &[], tags)
        }
    }
}

/// The compiled NSG's rules.
pub fn compiled_rules(plan: &Plan) -> Vec<SecurityRule> {
    plan.security_rules.iter().map(|r| r.rule.clone()).collect()
}

/// Rule name -> the requirements the plan wrote it for.
pub fn written_for(plan: &Plan) -> BTreeMap<String, Vec<String>> {
    plan.security_rules
        .iter()
        .map(|r| (r.rule.name.clone(), r.requirements.clone()))
        .collect()
}

/// The address sets text output calls by name.
pub fn names(plan: &Plan) -> Names {
    let env = &plan.environment;
    Names::new(vec![
        ("the VNet".into(), env.virtual_network.address_space.clone()),
        ("Internet".into(), super::resolver::internet(env)),
    ])
}

/// Points each finding's rule at where it was read (index among the file's rules, line:column),
/// and adds the file's limit violations as findings.
fn located(proof: Proof, file: &str, origins: &[(Option<&str>, &str, &Location)], limits: &[LimitViolation]) -> Proof {
    // The file's limits belong to the artifact proved (a limit's name need not say which).
    let proof_artifact = proof.artifact;
    // Rules by ASCII-lowercased name (Azure's names compare case-insensitively), in file order:
    // a 1,000-rule NSG has as many findings, each looked up here.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, (_, n, _)) in origins.iter().enumerate() {
        by_name.entry(n.to_ascii_lowercase()).or_default().push(k);
    }
    let place = |r: &RuleRef| {
        let same_name = by_name.get(&r.name.to_ascii_lowercase())?;
        let index = *same_name
            .iter()
            .find(|&&k| r.collection.is_none() || origins[k].0 == r.collection.as_deref())?;
        let at = origins[index].2;
        Some((index, at.line?, at.column?))
    };
    proof
        .locate(&place)
        .with_findings(limits.iter().map(|v| limit_finding(v, proof_artifact)).collect())
        .in_file(file, "")
}

fn limit_finding(v: &LimitViolation, artifact: ArtifactKind) -> Finding {
    let bound = match v.limit {
        Limit::AtMost { max } => format!("at most {max}"),
        Limit::Within { min, max } => format!("{min}-{max}"),
    };
    let message = format!("{}: {} where Azure allows {bound}", v.name, v.actual);
    Finding::new(FindingKind::LimitExceeded, artifact, message).rule(RuleRef {
        line: v.at.line,
        column: v.at.column,
        ..RuleRef::named(&v.at.path)
    })
}

pub fn verify(inputs: &Inputs) -> Result<Verification, Vec<Diagnostic>> {
    let plan = inputs.plan;
    let env = &plan.environment;
    let udr = udr_prefixes(plan, inputs.routes.as_ref().map(|r| r.content), inputs.tags)?;
    let written_for = written_for(plan);
    let compiled = compiled_rules(plan);
    // The firewall's traffic crosses the given NSG or else the compiled one; with both an NSG and
    // firewall rules given, the two proofs share the NSG's evaluation.
    let nsg_subject = nsg::Subject {
        env,
        tags: inputs.tags,
        rules: inputs.nsg.as_ref().map_or(&compiled, |n| &n.content.rules),
        udr_prefixes: &udr,
        requirements: &plan.requirements,
        written_for: &written_for,
    };
    let evaluated = nsg_subject.evaluated();
    let mut proofs = Vec::new();
    if let Some(read) = &inputs.nsg {
        let nsg = read.content;
        let proof = nsg::prove_with(&nsg_subject, &evaluated);
        let origins: Vec<_> = nsg
            .rules
            .iter()
            .zip(&nsg.origins)
            .map(|(r, at)| (None, r.name.as_str(), at))
            .collect();
        let mut more = not_on_subnets(env, (nsg.subnets.as_deref(), &nsg.elsewhere), ArtifactKind::Nsg);
        more.extend(named_otherwise(nsg.named_otherwise.as_deref(), &env.nsg_name, ArtifactKind::Nsg));
        let mut proof = located(proof, read.file, &origins, &nsg.limit_violations).with_findings(more);
        proof.name = nsg.name.clone();
        proofs.push(proof);
    }
    if let Some(read) = &inputs.routes {
        let routes = read.content;
        let bgp_propagates = routes.disable_bgp_route_propagation != Some(true);
        let proof = routes::prove_table(&routes.routes, bgp_propagates, env, inputs.tags, &plan.requirements);
        let origins: Vec<_> = routes
            .routes
            .iter()
            .zip(&routes.origins)
            .map(|(r, at)| (None, r.name.as_str(), at))
            .collect();
        // Without forced tunneling the ISE subnets need no route table.
        let mut more = match needed_artifacts(env.forced_tunneling.mode).contains(&ArtifactKind::Routes) {
            true => not_on_subnets(env, (routes.subnets.as_deref(), &routes.elsewhere), ArtifactKind::Routes),
            false => Vec::new(),
        };
        more.extend(named_otherwise(
            routes.named_otherwise.as_deref(),
            &env.route_table_name,
            ArtifactKind::Routes,
        ));
        proofs.push(located(proof, read.file, &origins, &routes.limit_violations).with_findings(more));
    }
    if let Some(read) = &inputs.firewall {
        let f = read.content;
        // The given route table, else the compiled one, as `explain` follows it.
        let planned: Vec<RouteEntry>;
        let table: &[RouteEntry] = match &inputs.routes {
            Some(r) => &r.content.routes,
            None => {
                planned = plan.routes.iter().map(|r| r.entry()).collect();
                &planned
            }
        };
        let bypass = routes::firewall_bypass_addresses(
            &routes::subnet_routes(table, env, inputs.tags, &plan.requirements),
            env.forced_tunneling.firewall_private_ip,
        );
        // Every group of the policy the file holds, as Azure evaluates them together.
        let all = f.policy_rules();
        let proof = firewall::prove(&firewall::Subject {
            env,
            tags: inputs.tags,
            network_rule_collections: &all.network,
            application_rule_collections: &all.application,
            nat_rules: &all.nat,
            dependencies: &plan.firewall.dependencies,
            bypass_addresses: &bypass,
            nsg: Some(&evaluated),
        });
        let network = all.network.iter().zip(&all.network_origins);
        let application_names = all
            .application
            .iter()
            .map(|c| (c.name.as_str(), c.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()));
        let mut origins: Vec<(Option<&str>, &str, &Location)> = Vec::new();
        for (c, o) in network {
            origins.extend(
                c.rules
                    .iter()
                    .zip(&o.rules)
                    .map(|(r, at)| (Some(c.name.as_str()), r.name.as_str(), at)),
            );
        }
        for ((collection, names), o) in application_names.zip(&all.application_origins) {
            origins.extend(names.into_iter().zip(&o.rules).map(|(n, at)| (Some(collection), n, at)));
        }
        origins.extend(all.nat.iter().map(|r| (Some(r.collection.as_str()), r.name.as_str(), &r.at)));
        origins.extend(all.unresolved.iter().map(|u| (Some(u.collection.as_str()), u.rule.as_str(), &u.at)));
        let ours = &plan.firewall.rule_collection_group;
        // Located with the proof's own findings: each names its rule.
        let unresolved: Vec<Finding> = all
            .unresolved
            .iter()
            .map(|u| {
                let message = format!(
                    "rule {} (collection {}): {}; taken to match nothing, so what it decides is not proved",
                    u.rule, u.collection, u.why
                );
                Finding::new(FindingKind::UnresolvedRule, ArtifactKind::Firewall, message).rule(RuleRef {
                    collection: Some(u.collection.clone()),
                    ..RuleRef::named(&u.rule)
                })
            })
            .collect();
        let more = other_groups(f, ours)
            .into_iter()
            .chain(tied_groups(&all, ours))
            .chain(named_otherwise(f.named_otherwise.as_deref(), ours, ArtifactKind::Firewall));
        let proof = located(proof.with_findings(unresolved), read.file, &origins, &f.limit_violations);
        proofs.push(proof.with_findings(more.collect()));
    }
    Ok(Verification::new(proofs, needed_artifacts(env.forced_tunneling.mode)))
}

/// `F0001` when a bare file's resource has another name than the environment's: a jump
/// box's NSG or another spoke's group proved as the ISE's would answer for the wrong resource.
fn named_otherwise(theirs: Option<&str>, ours: &str, artifact: ArtifactKind) -> Option<Finding> {
    let what = proved(artifact).what;
    let message = format!(
        "the file's {what} is `{}`; the environment's is `{ours}`: proved as the environment's",
        theirs?
    );
    Some(Finding::new(FindingKind::NamedOtherwise, artifact, message))
}

/// `F0308` when groups of the policy the proof evaluates together share a priority: which of
/// them Azure evaluates first is not documented (the proof takes them in the file's order, the
/// environment's first).
fn tied_groups(all: &PolicyRules, ours: &str) -> Option<Finding> {
    if all.ties.is_empty() {
        return None;
    }
    let ties: Vec<String> = all
        .ties
        .iter()
        .map(|(priority, names)| {
            let names: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_deref().unwrap_or(ours))).collect();
            format!("{} share priority {priority}", names.join(", "))
        })
        .collect();
    let order = match all.ties.iter().any(|(_, names)| names.contains(&None)) {
        true => format!("evaluated with `{ours}` first, the others in the file's order"),
        false => "evaluated in the file's order".to_string(),
    };
    let message = format!(
        "rule collection groups {}: Azure does not document which it evaluates first; {order}",
        ties.join("; ")
    );
    Some(Finding::new(FindingKind::TiedRuleCollectionGroups, ArtifactKind::Firewall, message))
}

/// Note `F0307` when the file holds other rule collection groups: those of the environment's
/// group's policy were evaluated with it (in the order said), those of another policy, or of one
/// the file does not say plainly, were not.
fn other_groups(f: &FirewallFile, ours: &str) -> Option<Finding> {
    let group = f.group.as_ref()?;
    if f.policy_groups.is_empty() && group.apart.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !f.policy_groups.is_empty() {
        let mut order: Vec<(Option<u32>, &str)> = vec![(group.priority, ours)];
        order.extend(
            f.policy_groups
                .iter()
                .map(|g| (g.rules.group.as_ref().and_then(|g| g.priority), g.name.as_str())),
        );
        order.sort_by_key(|(priority, _)| *priority);
        let shown: Vec<String> = order
            .iter()
            .map(|(priority, name)| format!("`{name}` ({})", priority.map_or("no priority".into(), |p| p.to_string())))
            .collect();
        parts.push(format!(
            "the policy's rule collection groups were evaluated together, in Azure's order: {}; the other groups' rules are named `group/collection`",
            crate::views::summary::first_names(&shown)
        ));
    }
    if !group.apart.is_empty() {
        let shown: Vec<String> = group
            .apart
            .iter()
            .map(|(name, policy)| match policy {
                Some(p) => format!("`{name}` (of another policy, `{p}`)"),
                None => format!("`{name}` (the file does not say plainly that it is of the same policy)"),
            })
            .collect();
        parts.push(format!("not evaluated: {}", crate::views::summary::first_names(&shown)));
    }
    Some(Finding::new(
        FindingKind::OtherRuleCollectionGroups,
        ArtifactKind::Firewall,
        parts.join("; "),
    ))
}

/// A finding for each ISE subnet a deployed NSG or route table is not on, where its file lists the
/// subnets it is on (Azure's output): its rules or routes do not apply to that subnet's traffic.
/// `elsewhere`: the subnets the file puts on another NSG or route table, named in the message.
fn not_on_subnets(
    env: &ise_model::env::Environment,
    (on, elsewhere): (Option<&[SubnetRef]>, &[(String, String)]),
    artifact: ArtifactKind,
) -> Vec<Finding> {
    let Some(on) = on else { return Vec::new() };
    let what = proved(artifact).what;
    let kind = match artifact {
        ArtifactKind::Routes => FindingKind::RouteTableNotOnSubnet,
        _ => FindingKind::NsgNotOnSubnet,
    };
    env.subnets
        .iter()
        .filter(|s| !on.iter().any(|r| r.is_environments(env, &s.name)))
        .map(|s| {
            let instead = match elsewhere.iter().find(|(subnet, _)| subnet.eq_ignore_ascii_case(&s.name)) {
                Some((_, now)) => format!(", which is on `{now}`"),
                None => String::new(),
            };
            let message = format!(
                "the {what} is not on subnet `{}` of `{}` (resource group `{}`){instead}: its traffic meets none of these {}",
                s.name,
                env.virtual_network.name,
                env.resource_group,
                if artifact == ArtifactKind::Routes { "routes" } else { "rules" }
            );
            Finding::new(kind, artifact, message)
        })
        .collect()
}

/// The artifacts an environment cannot be verified without: its NSG always, the route table that
/// sends its traffic away under forced tunneling, the firewall that traffic reaches in firewall
/// mode.
pub fn needed_artifacts(mode: TunnelingMode) -> &'static [ArtifactKind] {
    match mode {
        TunnelingMode::None => &[ArtifactKind::Nsg],
        TunnelingMode::ExpressRoute => &[ArtifactKind::Nsg, ArtifactKind::Routes],
        TunnelingMode::Firewall => &[ArtifactKind::Nsg, ArtifactKind::Routes, ArtifactKind::Firewall],
    }
}
