//! The proof on compiled plans: what isenet generates covers every requirement and opens nothing
//! else; removing or widening a rule is caught.

use ipnet::Ipv4Net;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env::{self, Environment, TunnelingMode};
use ise_model::servicetags::ServiceTags;
use rules_compiler::azure::nsg::{AddressMatch, SecurityRule};
use rules_compiler::plan::{self, Plan};
use rules_compiler::prove::findings::{FindingKind, Proof};
use rules_compiler::prove::nsg::{prove, Subject};

fn environment(edit: impl FnOnce(&mut serde_json::Value)) -> Environment {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    edit(&mut v);
    let loaded = env::load(&v.to_string(), "t");
    loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
}

fn udr(env: &Environment) -> Vec<Ipv4Net> {
    if env.forced_tunneling.mode == TunnelingMode::None {
        vec![]
    } else {
        vec!["0.0.0.0/0".parse().unwrap()]
    }
}

fn compiled(env: &Environment) -> Plan {
    plan::build(env, ServiceTags::embedded(env.cloud), None).unwrap()
}

fn prove_rules(env: &Environment, plan: &Plan, rules: &[SecurityRule]) -> Proof {
    prove(&Subject {
        env,
        tags: ServiceTags::embedded(env.cloud),
        rules,
        udr_prefixes: &udr(env),
        requirements: &plan.requirements,
        written_for: &Default::default(),
    })
}

/// (rule name, flows in text) of each opening.
fn openings(report: &Proof) -> Vec<(String, Vec<String>)> {
    report
        .of_kind(FindingKind::Opening)
        .map(|f| {
            (
                f.rule.as_ref().unwrap().name.clone(),
                f.flows.iter().map(ToString::to_string).collect(),
            )
        })
        .collect()
}

fn rules_of(plan: &Plan) -> Vec<SecurityRule> {
    plan.security_rules.iter().map(|r| r.rule.clone()).collect()
}

#[test]
fn compiled_example_is_proved() {
    let env = environment(|_| {});
    let plan = compiled(&env);
    let report = prove_rules(&env, &plan, &rules_of(&plan));
    assert!(report.ok, "{report:#?}");
    assert!(report.coverage.iter().all(|c| c.covered));
}

#[test]
fn every_cloud_endpoint_and_mode_is_proved() {
    for (cloud, location) in [("public", "westus2"), ("usgovernment", "usgovtexas"), ("china", "chinaeast2")] {
        for endpoint in ["internal", "external"] {
            for mode in [
                serde_json::json!({"mode": "none"}),
                serde_json::json!({"mode": "expressRoute"}),
                serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"}),
            ] {
                for policy in ["open", "restricted"] {
                    let env = environment(|v| {
                        v["cloud"] = cloud.into();
                        v["location"] = location.into();
                        v["accessEndpoint"] = endpoint.into();
                        v["forcedTunneling"] = mode.clone();
                        v["outboundPolicy"] = policy.into();
                    });
                    let plan = compiled(&env);
                    let report = prove_rules(&env, &plan, &rules_of(&plan));
                    assert!(
                        report.ok,
                        "{cloud} {endpoint} {mode} {policy}: {:#?}",
                        report.findings.iter().filter(|f| f.fails()).collect::<Vec<_>>()
                    );
                }
            }
        }
    }
}

#[test]
fn virtual_network_source_under_forced_tunneling_is_an_opening() {
    // The trap: with 0.0.0.0/0 on the subnets, a VirtualNetwork source admits the Internet.
    let env = environment(|v| v["forcedTunneling"] = serde_json::json!({"mode": "expressRoute"}));
    let plan = compiled(&env);
    let mut rules = rules_of(&plan);
    let r = rules.iter_mut().find(|r| r.name == "in-redis-6379-6383").unwrap();
    r.source = AddressMatch::Tag("VirtualNetwork".into());
    let report = prove_rules(&env, &plan, &rules);
    assert!(!report.ok);
    let opening = openings(&report)
        .into_iter()
        .find(|(rule, _)| rule == "in-redis-6379-6383")
        .expect("the widened rule is reported");
    assert!(opening.1.iter().any(|f| f.contains("6379-6383")), "{opening:?}");
}

#[test]
fn removing_the_deny_all_exposes_azure_defaults() {
    let env = environment(|v| v["forcedTunneling"] = serde_json::json!({"mode": "expressRoute"}));
    let plan = compiled(&env);
    let rules: Vec<SecurityRule> = rules_of(&plan).into_iter().filter(|r| r.name != "deny-all-inbound").collect();
    let report = prove_rules(&env, &plan, &rules);
    assert!(
        openings(&report).iter().any(|(rule, _)| rule == "AllowVnetInBound"),
        "{:?}",
        report.findings
    );
}

mod properties {
    use super::*;
    use ise_model::cloud::CloudId;
    use proptest::prelude::*;
    use rules_compiler::azure::nsg::{Access, Direction};
    use rules_compiler::engine::defaults::with_defaults;
    use rules_compiler::engine::evaluate::{evaluate, Domain, RuleEffect};
    use rules_compiler::prove::resolver::EnvResolver;

    fn usable_locations() -> Vec<(CloudId, String)> {
        ise_model::iplists::deployable_locations()
            .into_iter()
            .map(|l| (l.cloud, l.name.clone()))
            .collect()
    }

    prop_compose! {
        fn arb_environment()(
            loc in proptest::sample::select(usable_locations()),
            external in any::<bool>(),
            dns in proptest::collection::vec(0u8..=255, 0..3),
            mode in 0u8..3,
            restricted in any::<bool>(),
            callers in proptest::collection::vec((1u8..=223, 0u8..=255, 16u8..=32), 0..3),
            internal in proptest::collection::vec((172u8..=172, 16u8..=31, 16u8..=24), 0..2),
            dests in proptest::collection::vec((1u8..=223, 0u8..=255, any::<bool>(), 1u16..=65535, 0u16..50), 0..4),
        ) -> Environment {
            environment(|v| {
                v["cloud"] = loc.0.as_str().into();
                v["location"] = loc.1.clone().into();
                v["accessEndpoint"] = if external { "external" } else { "internal" }.into();
                v["customDnsServers"] = dns.iter().map(|d| format!("10.10.0.{d}")).collect::<Vec<_>>().into();
                v["forcedTunneling"] = match mode { 0 => serde_json::json!({"mode": "none"}), 1 => serde_json::json!({"mode": "expressRoute"}), _ => serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"}) };
                v["outboundPolicy"] = if restricted { "restricted" } else { "open" }.into();
                if external {
                    // Callers send from ordinary addresses: loopback and link-local are E0507.
                    let ordinary = |a: u8, b: u8| match (a, b) { (127, _) => (128, b), (169, 254) => (169, 253), _ => (a, b) };
                    v["externalCallers"] = callers.iter().map(|(a, b, len)| { let (a, b) = ordinary(*a, *b); Ipv4Net::new(std::net::Ipv4Addr::new(a, b, 7, 9), *len).unwrap().trunc().to_string() }).collect::<Vec<_>>().into();
                }
                v["internalCallers"] = internal.iter().map(|(a, b, len)| Ipv4Net::new(std::net::Ipv4Addr::new(*a, *b, 0, 0), *len).unwrap().trunc().to_string()).collect::<Vec<_>>().into();
                v["outboundDestinations"] = dests.iter().enumerate().map(|(i, (a, b, udp, port, span))| serde_json::json!({
                    "name": format!("dest-{i}"), "prefixes": [format!("{a}.{b}.1.0/24")], "protocol": if *udp { "Udp" } else { "Tcp" },
                    "ports": [format!("{port}-{}", port.saturating_add(*span))]
                })).collect::<Vec<_>>().into();
            })
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Every valid environment compiles, and the proof finds every requirement covered and
        /// nothing extra open.
        #[test]
        fn random_environments_compile_and_are_proved(env in arb_environment()) {
            let plan = compiled(&env);
            let report = prove_rules(&env, &plan, &rules_of(&plan));
            prop_assert!(report.ok, "{:?}", report.findings.iter().filter(|f| f.fails()).collect::<Vec<_>>());
            prop_assert_eq!(report.coverage.len(), plan.requirements.iter().filter(|r| matches!(r.kind, ise_model::requirement::Kind::Inbound | ise_model::requirement::Kind::Outbound)).count());
        }

        /// Mutation: deleting one generated allow rule makes exactly the requirements it served
        /// uncovered when the rule mattered (removing it changed some access), and nothing otherwise.
        #[test]
        fn deleting_an_allow_rule_uncovers_exactly_its_requirements(env in arb_environment(), pick in any::<prop::sample::Index>()) {
            let plan = compiled(&env);
            let rules = rules_of(&plan);
            let allows: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].access == Access::Allow).collect();
            let victim = allows[pick.index(allows.len())];
            let direction = rules[victim].direction;
            let resolver = EnvResolver::new(&env, ServiceTags::embedded(env.cloud), &udr(&env));
            let domain = if direction == Direction::Inbound { Domain::inbound_to(&env.subnet_prefixes()) } else { Domain::outbound_from(&env.subnet_prefixes()) };
            let all = with_defaults(&rules);
            let eval = evaluate(&all, &resolver, direction, &domain);
            // What removing the rule changes, less the packets NSGs do not filter (outbound to the
            // platform's 168.63.129.16, a VirtualNetwork address): the proof does not count those.
            let unfiltered = rules_compiler::engine::flows::FlowSet::from_parts(
                rules_compiler::engine::flows::ProtoSet::ALL,
                rules_compiler::engine::intervals::IntervalSet::full(),
                rules_compiler::engine::intervals::IntervalSet::full(),
                rules_compiler::prove::resolver::unfiltered_addresses(),
                rules_compiler::engine::intervals::IntervalSet::full(),
            );
            let changes = eval.changed_if_removed(victim);
            let changes = if direction == Direction::Outbound { changes.difference(&unfiltered) } else { changes };
            let effect = if changes.is_empty() { RuleEffect::Redundant } else { eval.effect(victim) };
            let remaining: Vec<SecurityRule> = rules.iter().enumerate().filter(|(i, _)| *i != victim).map(|(_, r)| r.clone()).collect();
            let report = prove_rules(&env, &plan, &remaining);
            let uncovered: Vec<String> = report.uncovered().into_iter().map(str::to_string).collect();
            let served = plan.security_rules[victim].requirements.clone();
            if effect == RuleEffect::Effective {
                // Anything the rule alone admitted is required (no openings), so its loss uncovers its requirement.
                prop_assert_eq!(&uncovered, &served, "rule {}", rules[victim].name);
            } else {
                prop_assert!(uncovered.is_empty(), "rule {} was {:?} yet {:?} became uncovered", rules[victim].name, effect, uncovered);
            }
        }
    }
}
