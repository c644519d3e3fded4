//! `verify` as one call: the environment's plan and whichever artifacts were read (an NSG, a route
//! table, firewall rules) in, one typed proof per artifact out, each finding pointing into the file
//! it came from. The choices that are about Azure and not about files live here, not in the CLI:
//! the firewall's traffic crosses the given NSG or else the compiled one, and the VirtualNetwork tag
//! takes in the prefixes of the given route table or else of the compiled one.

use super::findings::{Proof, RuleRef, Verification};
use super::{firewall, nsg, routes};
use crate::azure::nsg::SecurityRule;
use crate::azure::route::RouteEntry;
use crate::plan::Plan;
use crate::read::firewall::FirewallFile;
use crate::read::places::name_positions;
use crate::read::routes::entries_prefixes;
use crate::views::summary::Names;
use ipnet::Ipv4Net;
use ise_model::diag::Diagnostic;
use ise_model::servicetags::ServiceTags;
use std::collections::BTreeMap;

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

/// An NSG read from a file: its resource name (may be empty) and its explicit rules.
pub struct NsgRead {
    pub name: String,
    pub rules: Vec<SecurityRule>,
}

pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub tags: &'a ServiceTags,
    pub nsg: Option<Read<'a, NsgRead>>,
    pub routes: Option<Read<'a, Vec<RouteEntry>>>,
    pub firewall: Option<Read<'a, FirewallFile>>,
}

/// The prefixes that join the VirtualNetwork tag: those of the given route table, or else of the
/// table the plan puts on the subnets.
pub fn udr_prefixes(plan: &Plan, routes: Option<(&str, &[RouteEntry])>, tags: &ServiceTags) -> Result<Vec<Ipv4Net>, Diagnostic> {
    match routes {
        Some((file, entries)) => entries_prefixes(entries, file, tags),
        None => {
            let planned: Vec<RouteEntry> = plan.routes.iter().map(|r| r.entry()).collect();
            entries_prefixes(&planned, "", tags)
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
    let trusted = crate::plan::trusted_network(env);
    Names::new(vec![
        ("the VNet".into(), env.virtual_network.address_space.clone()),
        ("Internet".into(), super::resolver::complement(&trusted)),
    ])
}

/// Points each finding's rule at its place in the file (index among the file's rules, line:column).
fn located(proof: Proof, file: &str, text: &str, order: &[(Option<String>, String)]) -> Proof {
    let positions = name_positions(text);
    let place = |r: &RuleRef| {
        let index = order
            .iter()
            .position(|(c, n)| *n == r.name && (r.collection.is_none() || *c == r.collection))?;
        let (line, column) = positions.get(&r.name).copied()?;
        Some((index, line, column))
    };
    proof.locate(&place).in_file(file, "")
}

pub fn verify(inputs: &Inputs) -> Result<Verification, Diagnostic> {
    let plan = inputs.plan;
    let env = &plan.environment;
    let udr = udr_prefixes(plan, inputs.routes.as_ref().map(|r| (r.file, r.content.as_slice())), inputs.tags)?;
    let written_for = written_for(plan);
    let compiled = compiled_rules(plan);
    let mut proofs = Vec::new();
    if let Some(read) = &inputs.nsg {
        let proof = nsg::prove(&nsg::Subject {
            env,
            tags: inputs.tags,
            rules: &read.content.rules,
            udr_prefixes: &udr,
            requirements: &plan.requirements,
            written_for: &written_for,
        });
        let order: Vec<(Option<String>, String)> = read.content.rules.iter().map(|r| (None, r.name.clone())).collect();
        let mut proof = located(proof, read.file, read.text, &order);
        proof.name = read.content.name.clone();
        proofs.push(proof);
    }
    if let Some(read) = &inputs.routes {
        let proof = routes::prove(read.content, env, inputs.tags, &plan.requirements);
        let order: Vec<(Option<String>, String)> = read.content.iter().map(|r| (None, r.name.clone())).collect();
        proofs.push(located(proof, read.file, read.text, &order));
    }
    if let Some(read) = &inputs.firewall {
        let f = read.content;
        let proof = firewall::prove(&firewall::Subject {
            env,
            tags: inputs.tags,
            network_rule_collections: &f.network,
            application_rule_collections: &f.application,
            dependencies: &plan.firewall.dependencies,
            nsg: Some(firewall::NsgSubject {
                rules: inputs.nsg.as_ref().map_or(&compiled, |n| &n.content.rules),
                udr_prefixes: &udr,
            }),
        });
        let order: Vec<(Option<String>, String)> = f
            .network
            .iter()
            .flat_map(|c| c.rules.iter().map(move |r| (Some(c.name.clone()), r.name.clone())))
            .chain(
                f.application
                    .iter()
                    .flat_map(|c| c.rules.iter().map(move |r| (Some(c.name.clone()), r.name.clone()))),
            )
            .collect();
        proofs.push(located(proof, read.file, read.text, &order));
    }
    Ok(Verification::new(proofs))
}
