//! Declared callers are admitted exactly on the caller rows: `internalCallers` and
//! `externalCallers` reach 443 of the ISE subnets on both access endpoints, and under forced
//! tunneling (where isenet writes them into rules) no other port; the intra-ISE rows (Redis) name
//! the ISE's own address space. Exhaustive over each generated environment's packets (the engine's
//! intervals), not sampled.
//!
//! Callers are drawn from 172.16.0.0/12 (internal, outside the 10.10.0.0/16 network) and
//! 198.18.0.0/15 (external; reserved for benchmarks, in no Azure service tag), so no tag-based
//! requirement admits them by accident.

use ipnet::Ipv4Net;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env::{self, Environment, TunnelingMode};
use ise_model::ports::PortRange;
use ise_model::servicetags::ServiceTags;
use proptest::prelude::*;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, Protocol, SecurityRule};
use rules_compiler::engine::defaults::with_defaults;
use rules_compiler::engine::evaluate::{evaluate, Domain, Evaluation};
use rules_compiler::engine::flows::FlowSet;
use rules_compiler::plan;
use rules_compiler::prove::resolver::EnvResolver;

fn udr(env: &Environment) -> Vec<Ipv4Net> {
    if env.forced_tunneling.mode == TunnelingMode::None {
        vec![]
    } else {
        vec!["0.0.0.0/0".parse().unwrap()]
    }
}

/// Flows from `source` to `destination` on `ports`, TCP and UDP (a rule shape the engine reads).
fn flows(direction: Direction, source: &[Ipv4Net], destination: &[Ipv4Net], ports: Vec<PortRange>, env: &Environment) -> FlowSet {
    let rule = SecurityRule {
        name: "probe".into(),
        priority: 100,
        direction,
        access: Access::Allow,
        protocol: Protocol::Any,
        source: AddressMatch::Prefixes(source.to_vec()),
        source_ports: vec![PortRange::ANY],
        destination: AddressMatch::Prefixes(destination.to_vec()),
        destination_ports: ports,
        is_default: false,
    };
    FlowSet::from_rule(&rule, &EnvResolver::intended(env, ServiceTags::embedded(env.cloud))).unwrap()
}

fn not_443() -> Vec<PortRange> {
    vec![PortRange { lo: 0, hi: 442 }, PortRange { lo: 444, hi: 65535 }]
}

struct Compiled {
    rules: Vec<SecurityRule>,
    inbound: Evaluation,
    outbound: Evaluation,
}

fn compile(env: &Environment) -> Compiled {
    let plan = plan::build(env, ServiceTags::embedded(env.cloud), None).unwrap();
    let rules = with_defaults(&plan.security_rules.iter().map(|r| r.rule.clone()).collect::<Vec<_>>());
    let resolver = EnvResolver::new(env, ServiceTags::embedded(env.cloud), &udr(env));
    let subnets = env.subnet_prefixes();
    Compiled {
        inbound: evaluate(&rules, &resolver, Direction::Inbound, &Domain::inbound_to(&subnets)),
        outbound: evaluate(&rules, &resolver, Direction::Outbound, &Domain::outbound_from(&subnets)),
        rules,
    }
}

/// The rules that decide some of `set` in `eval`, by name.
fn deciding(c: &Compiled, eval: &Evaluation, set: &FlowSet) -> Vec<String> {
    eval.order()
        .iter()
        .filter(|&&i| !eval.decided_by(i).intersection(set).is_empty())
        .map(|&i| c.rules[i].name.clone())
        .collect()
}

prop_compose! {
    fn arb_environment()(
        external in any::<bool>(),
        mode in 0u8..3,
        internal in proptest::collection::vec((16u8..=31, 0u8..=255, 16u8..=28), 1..3),
        callers in proptest::collection::vec((18u8..=19, 0u8..=255, 16u8..=30), 0..3),
    ) -> Environment {
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
        v["accessEndpoint"] = if external { "external" } else { "internal" }.into();
        v["forcedTunneling"] = match mode {
            0 => serde_json::json!({"mode": "none"}),
            1 => serde_json::json!({"mode": "expressRoute"}),
            _ => serde_json::json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"}),
        };
        v["outboundPolicy"] = "restricted".into();
        v["internalCallers"] = internal.iter().map(|(b, c, len)| Ipv4Net::new(std::net::Ipv4Addr::new(172, *b, *c, 0), *len).unwrap().trunc().to_string()).collect::<Vec<_>>().into();
        if external {
            v["externalCallers"] = callers.iter().map(|(b, c, len)| Ipv4Net::new(std::net::Ipv4Addr::new(198, *b, *c, 0), *len).unwrap().trunc().to_string()).collect::<Vec<_>>().into();
        }
        let loaded = env::load(&v.to_string(), "t");
        loaded.env.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Every declared caller reaches 443 of every ISE subnet, whatever the endpoint and mode.
    #[test]
    fn declared_callers_reach_443(env in arb_environment()) {
        let c = compile(&env);
        let subnets = env.subnet_prefixes();
        for callers in [&env.internal_callers, &env.external_callers] {
            let wanted = flows(Direction::Inbound, callers, &subnets, vec![PortRange { lo: 443, hi: 443 }], &env);
            let denied = wanted.difference(&c.inbound.allowed());
            prop_assert!(denied.is_empty(), "{:?}: {}", callers, denied.pieces().iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        }
    }

    /// No declared caller reaches another port. Under forced tunneling isenet writes the callers
    /// into rules, so nothing else may admit them, inbound or (restricted) outbound to them. Without
    /// tunneling the published rows name the VirtualNetwork tag, which Azure defines to include
    /// peered and on-premises networks: a caller reaching another port may only be admitted there,
    /// never by a rule isenet wrote with the callers' prefixes.
    #[test]
    fn no_declared_caller_reaches_another_port(env in arb_environment()) {
        let c = compile(&env);
        let subnets = env.subnet_prefixes();
        let callers: Vec<Ipv4Net> = env.internal_callers.iter().chain(&env.external_callers).copied().collect();
        let inbound = flows(Direction::Inbound, &callers, &subnets, not_443(), &env).intersection(&c.inbound.allowed());
        let outbound = flows(Direction::Outbound, &subnets, &env.internal_callers, vec![PortRange::ANY], &env).intersection(&c.outbound.allowed());
        if env.forced_tunneling.mode.is_tunneled() {
            prop_assert!(inbound.is_empty(), "inbound admitted by {:?}", deciding(&c, &c.inbound, &inbound));
            prop_assert!(outbound.is_empty(), "outbound admitted by {:?}", deciding(&c, &c.outbound, &outbound));
        } else {
            for name in deciding(&c, &c.inbound, &inbound) {
                let r = c.rules.iter().find(|r| r.name == name).unwrap();
                prop_assert_eq!(&r.source, &AddressMatch::Tag("VirtualNetwork".into()), "rule {}", name);
            }
        }
    }
}

/// The intra-ISE rows under forced tunneling: the ISE's own address space on both ends, in the
/// plan and in the requirements it is built from.
#[test]
fn redis_and_intersubnet_rows_name_the_address_space_under_tunneling() {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE_ENVIRONMENT).unwrap();
    v["forcedTunneling"] = serde_json::json!({"mode": "expressRoute"});
    v["internalCallers"] = serde_json::json!(["172.16.0.0/16"]);
    let env = env::load(&v.to_string(), "t").env.unwrap();
    let plan = plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap();
    let space = AddressMatch::Prefixes(vec!["10.10.0.0/16".parse().unwrap()]);
    let with_callers = AddressMatch::Prefixes(vec!["10.10.0.0/16".parse().unwrap(), "172.16.0.0/16".parse().unwrap()]);
    for r in &plan.security_rules {
        let (s, d) = (&r.rule.source, &r.rule.destination);
        match r.rule.name.as_str() {
            "in-intersubnet" | "out-intersubnet" | "in-redis-6379-6383" | "out-redis-6379-6383" => {
                assert_eq!((s, d), (&space, &space), "{}", r.rule.name)
            }
            "in-triggers-443-internal" => assert_eq!((s, d), (&with_callers, &space)),
            name => assert!(s != &with_callers && d != &with_callers, "{name} admits the callers"),
        }
    }
}
