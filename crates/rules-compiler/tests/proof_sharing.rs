//! The NSG proof and the firewall proof share one evaluation of the NSG (`prove::nsg::Evaluated`),
//! made lazily: on every environment of tests/envs, as written and in firewall mode, with the
//! compiled NSG and with one that blocks outbound HTTPS, each proof is the same whether its
//! evaluation is its own or was made by the other proof first, and the firewall proof evaluates
//! the NSG only when it has a dependency to check against it.

use ipnet::Ipv4Net;
use ise_model::env::{self, Environment};
use ise_model::servicetags::ServiceTags;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};
use rules_compiler::plan::{self, Plan};
use rules_compiler::prove::findings::{FindingKind, Proof};
use rules_compiler::prove::nsg::Evaluated;
use rules_compiler::prove::{firewall, nsg, verify};
use serde_json::Value;
use std::path::Path;

/// Every tests/envs environment, and the same in firewall mode (the firewall at the fourth address
/// of its first address space, where the checked-in firewall environment has it).
fn environments() -> Vec<(String, Environment)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/envs");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        let space: Ipv4Net = v["virtualNetwork"]["addressSpace"][0].as_str().unwrap().parse().unwrap();
        let ip = std::net::Ipv4Addr::from(u32::from(space.network()) + 4);
        v["forcedTunneling"] = serde_json::json!({"mode": "firewall", "firewallPrivateIp": ip.to_string()});
        for (label, text) in [(name.clone(), text), (format!("{name} in firewall mode"), v.to_string())] {
            let loaded = env::load(&text, &label);
            out.push((
                label.clone(),
                loaded.env.unwrap_or_else(|| panic!("{label}: {:?}", loaded.diagnostics)),
            ));
        }
    }
    out
}

/// The compiled rules, and the same with outbound HTTPS denied before them (what an application
/// dependency needs on its way to the firewall, and some requirements).
fn nsgs(plan: &Plan) -> Vec<Vec<SecurityRule>> {
    let compiled = verify::compiled_rules(plan);
    let mut blocking = compiled.clone();
    blocking.push(SecurityRule {
        name: "deny-https-out".into(),
        priority: 100,
        direction: Direction::Outbound,
        access: Access::Deny,
        protocol: Protocol::Tcp,
        source: AddressMatch::Any,
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Any,
        destination_ports: vec![PortRange::single(443)],
        is_default: false,
    });
    vec![compiled, blocking]
}

fn firewall_proof(env: &Environment, tags: &ServiceTags, plan: &Plan, nsg: Option<&Evaluated>) -> Proof {
    firewall::prove(&firewall::Subject {
        env,
        tags,
        network_rule_collections: &plan.firewall.network_rule_collections,
        application_rule_collections: &plan.firewall.application_rule_collections,
        nat_rules: &[],
        dependencies: &plan.firewall.dependencies,
        bypass_addresses: &rules_compiler::prove::routes::compiled_firewall_bypass(plan, env, tags),
        nsg,
    })
}

#[test]
fn shared_and_lazy_evaluation_give_the_same_proofs() {
    let (mut firewall_envs, mut blocked_dependencies) = (0, 0);
    for (label, env) in environments() {
        let tags = ServiceTags::embedded(env.cloud);
        let plan = plan::build(&env, tags, None).unwrap_or_else(|d| panic!("{label}: {d:?}"));
        let udr = verify::udr_prefixes(&plan, None, tags).unwrap();
        let written_for = verify::written_for(&plan);
        let has_dependencies = !plan.firewall.dependencies.is_empty();
        firewall_envs += usize::from(has_dependencies);
        for rules in nsgs(&plan) {
            let subject = nsg::Subject {
                env: &env,
                tags,
                rules: &rules,
                udr_prefixes: &udr,
                requirements: &plan.requirements,
                written_for: &written_for,
            };
            // Each proof with an evaluation of its own.
            let nsg_alone = nsg::prove(&subject);
            let own = subject.evaluated();
            let firewall_alone = firewall_proof(&env, tags, &plan, Some(&own));
            assert_eq!(
                own.is_evaluated(Direction::Outbound),
                has_dependencies,
                "{label}: evaluated only when needed"
            );
            assert!(
                !own.is_evaluated(Direction::Inbound),
                "{label}: the firewall never asks for inbound"
            );
            blocked_dependencies += firewall_alone.of_kind(FindingKind::NsgBlocksDependency).count();
            // The NSG proof first, the firewall proof on its evaluation (what the review does).
            let shared = subject.evaluated();
            assert_eq!(
                nsg::prove_with(&subject, &shared),
                nsg_alone,
                "{label}: NSG proof, evaluated by itself"
            );
            assert_eq!(
                firewall_proof(&env, tags, &plan, Some(&shared)),
                firewall_alone,
                "{label}: firewall proof after the NSG proof"
            );
            // The other way round.
            let shared = subject.evaluated();
            assert_eq!(
                firewall_proof(&env, tags, &plan, Some(&shared)),
                firewall_alone,
                "{label}: firewall proof first"
            );
            assert_eq!(
                nsg::prove_with(&subject, &shared),
                nsg_alone,
                "{label}: NSG proof after the firewall proof"
            );
            // Without an NSG the firewall proof checks none (and names no NSG finding).
            let without = firewall_proof(&env, tags, &plan, None);
            assert_eq!(without.of_kind(FindingKind::NsgBlocksDependency).count(), 0, "{label}");
        }
    }
    // The comparisons saw the shared evaluation decide something: firewall environments, and an
    // NSG blocking their dependencies.
    assert!(firewall_envs >= 13, "{firewall_envs} firewall environments");
    assert!(blocked_dependencies > 0, "no dependency was blocked by the blocking NSG");
}
