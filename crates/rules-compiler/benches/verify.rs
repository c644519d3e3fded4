//! Verify: the proof of the compiled example, and the evaluation of a 1,000-rule NSG.

use ipnet::Ipv4Net;
use ise_model::cloud::CloudId;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::env;
use ise_model::ports::PortRange;
use ise_model::servicetags::ServiceTags;
use rules_compiler::azure::nsg::{Access, AddressMatch, Direction, Protocol, SecurityRule};
use rules_compiler::engine::defaults::with_defaults;
use rules_compiler::engine::evaluate::{evaluate, Domain};
use rules_compiler::prove::nsg::{prove, Subject};
use rules_compiler::prove::resolver::EnvResolver;

mod shapes;

fn main() {
    divan::main();
}

/// A fixed pseudo-random generator, so every run measures the same NSG.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

/// 1,000 rules: random /16-/32 prefixes and tags, random ports and ranges, both accesses.
fn thousand_rules() -> Vec<SecurityRule> {
    let mut g = Lcg(42);
    let tags = [
        "Storage",
        "Sql",
        "AzureMonitor",
        "LogicApps",
        "AppServiceManagement",
        "VirtualNetwork",
        "Internet",
    ];
    (0..1000)
        .map(|i| {
            let addr = |g: &mut Lcg| match g.next() % 4 {
                0 => AddressMatch::Tag(tags[(g.next() as usize) % tags.len()].into()),
                1 => AddressMatch::Any,
                _ => AddressMatch::Prefixes(
                    (0..1 + g.next() % 4)
                        .map(|_| Ipv4Net::new(g.next().into(), 16 + (g.next() % 17) as u8).unwrap().trunc())
                        .collect(),
                ),
            };
            let port = |g: &mut Lcg| {
                let lo = (g.next() % 65535) as u16;
                if g.next().is_multiple_of(3) {
                    PortRange::ANY
                } else {
                    PortRange {
                        lo,
                        hi: lo.saturating_add((g.next() % 100) as u16),
                    }
                }
            };
            SecurityRule {
                name: format!("r{i}"),
                priority: 100 + i as u32 * 3,
                direction: if g.next().is_multiple_of(2) {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                access: if g.next().is_multiple_of(3) { Access::Deny } else { Access::Allow },
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Any][(g.next() % 3) as usize],
                source: addr(&mut g),
                source_ports: vec![PortRange::ANY],
                destination: addr(&mut g),
                destination_ports: vec![port(&mut g), port(&mut g)],
                is_default: false,
            }
        })
        .collect()
}

#[divan::bench]
fn evaluate_1000_rule_nsg_inbound(bencher: divan::Bencher) {
    let env = env::load(EXAMPLE_ENVIRONMENT, "example").env.unwrap();
    let tags = ServiceTags::embedded(CloudId::Public);
    let resolver = EnvResolver::new(&env, tags, &[]);
    let rules = with_defaults(&thousand_rules());
    let domain = Domain::inbound_to(&env.subnet_prefixes());
    bencher.bench(|| evaluate(&rules, &resolver, Direction::Inbound, &domain).regions().len());
}

/// The proof of `rules` for the example environment, timed.
fn bench_proof(bencher: divan::Bencher, rules: impl FnOnce(&rules_compiler::plan::Plan) -> Vec<SecurityRule>) {
    let env = env::load(EXAMPLE_ENVIRONMENT, "example").env.unwrap();
    let tags = ServiceTags::embedded(CloudId::Public);
    let plan = rules_compiler::plan::build(&env, tags, None).unwrap();
    let rules = rules(&plan);
    bencher.bench(|| {
        prove(&Subject {
            env: &env,
            tags,
            rules: &rules,
            udr_prefixes: &[],
            requirements: &plan.requirements,
            written_for: &Default::default(),
        })
        .ok
    });
}

#[divan::bench]
fn prove_1000_rule_nsg(bencher: divan::Bencher) {
    bench_proof(bencher, |_| thousand_rules());
}

#[divan::bench]
fn prove_compiled_example(bencher: divan::Bencher) {
    bench_proof(bencher, |plan| plan.security_rules.iter().map(|r| r.rule.clone()).collect());
}

/// The whole proof of `n` realistic rules (5-40 prefixes, 1-8 port ranges each; see `shapes`):
/// the goal is 1,000 rules under 100 ms, and the sizes show how the cost grows.
#[divan::bench(args = [250, 500, 1000, 2000])]
fn prove_realistic_nsg(bencher: divan::Bencher, n: usize) {
    bench_proof(bencher, |_| shapes::realistic_rules(n));
}

/// The harsher shape (remote prefixes nesting over the ISE's network; see `shapes`): the region
/// count is what grows here. Few samples: one proof takes up to seconds.
#[divan::bench(args = [125, 250, 500], sample_count = 5)]
fn prove_harsh_nsg(bencher: divan::Bencher, n: usize) {
    bench_proof(bencher, |_| shapes::harsh_rules(n));
}
