//! Writes the realistic NSG the verify benches measure (`benches/shapes`, fixed seed) as an
//! `nsg.json` that `isenet verify --nsg FILE` reads, so the whole process can be timed
//! (`benches/verify_goal.py`).
//!
//! `cargo run --release -p rules-compiler --example realistic_nsg -- RULES OUT.json [harsh]`
//!
//! `harsh` writes the harsher shape instead (remote prefixes nesting over the ISE's network).

use rules_compiler::azure::nsg::Direction;
use rules_compiler::plan::PlanRule;
use serde_json::json;

#[path = "../benches/shapes/mod.rs"]
mod shapes;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (args.first().and_then(|n| n.parse::<usize>().ok()), args.get(1)) else {
        eprintln!("usage: realistic_nsg RULES OUT.json [harsh]");
        std::process::exit(2);
    };
    let mut rules = match args.get(2).map(String::as_str) {
        Some("harsh") => shapes::harsh_rules(n),
        None => shapes::realistic_rules(n),
        Some(other) => {
            eprintln!("unknown shape `{other}` (only `harsh`)");
            std::process::exit(2);
        }
    };
    // Azure's priorities stop at 4096 per direction: number each direction on its own, in the
    // same order, so 4,000 rules stay valid and decide exactly as the bench's rules do.
    let mut next = [100u32, 100u32];
    for r in &mut rules {
        let k = usize::from(r.direction == Direction::Outbound);
        r.priority = next[k];
        next[k] += 1;
    }
    let rules: Vec<_> = rules
        .into_iter()
        .map(|rule| {
            rules_compiler::render::security_rule_json(&PlanRule {
                description: format!("{}: generated", rule.name),
                rule,
                requirements: Vec::new(),
            })
        })
        .collect();
    let nsg = json!({
        "type": "Microsoft.Network/networkSecurityGroups",
        "apiVersion": "2023-11-01",
        "name": "realistic-nsg",
        "location": "westus2",
        "properties": { "securityRules": rules }
    });
    let text = serde_json::to_string_pretty(&nsg).expect("JSON value") + "\n";
    if let Err(e) = std::fs::write(out, text) {
        eprintln!("{out}: {e}");
        std::process::exit(2);
    }
}
