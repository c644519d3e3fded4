//! The firewall files isenet writes read back into exactly the plan's rule collections, in both
//! ARM shapes, and the proof holds on what was read.

use ise_model::env;
use ise_model::servicetags::ServiceTags;
use rules_compiler::plan;
use rules_compiler::prove::firewall::{prove, Subject};
use rules_compiler::prove::nsg::Evaluated;
use rules_compiler::read::firewall::parse;
use rules_compiler::render::render_all;

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/golden/usgov-firewall/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn written_firewall_files_read_back_and_are_proved() {
    let env = env::load(&golden("env.json"), "env.json").env.unwrap();
    let tags = ServiceTags::embedded(env.cloud);
    let plan = plan::build(&env, tags, None).unwrap();
    let artifacts = render_all(&plan);
    let rules: Vec<_> = plan.security_rules.iter().map(|r| r.rule.clone()).collect();
    for name in ["firewall-policy.json", "firewall-classic.json"] {
        let text = &artifacts.iter().find(|a| a.file_name == name).unwrap().contents;
        let file = parse(text, name).unwrap();
        assert_eq!(file.network, plan.firewall.network_rule_collections, "{name}");
        assert_eq!(file.application, plan.firewall.application_rule_collections, "{name}");
        let report = prove(&Subject {
            env: &env,
            tags,
            network_rule_collections: &file.network,
            application_rule_collections: &file.application,
            nat_rules: &file.nat,
            dependencies: &plan.firewall.dependencies,
            bypass_addresses: &rules_compiler::prove::routes::compiled_firewall_bypass(&plan, &env, tags),
            nsg: Some(&Evaluated::new(&env, tags, &rules, &["0.0.0.0/0".parse().unwrap()])),
        });
        assert!(
            report.ok,
            "{name}: {:?}",
            report.findings.iter().filter(|f| f.fails()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn restricted_outbound_nsg_admits_every_firewall_dependency() {
    let mut v: serde_json::Value = serde_json::from_str(&golden("env.json")).unwrap();
    v["outboundPolicy"] = "restricted".into();
    let env = env::load(&v.to_string(), "t").env.unwrap();
    let tags = ServiceTags::embedded(env.cloud);
    let plan = plan::build(&env, tags, None).unwrap();
    let rules: Vec<_> = plan.security_rules.iter().map(|r| r.rule.clone()).collect();
    let report = prove(&Subject {
        env: &env,
        tags,
        network_rule_collections: &plan.firewall.network_rule_collections,
        application_rule_collections: &plan.firewall.application_rule_collections,
        nat_rules: &[],
        dependencies: &plan.firewall.dependencies,
        bypass_addresses: &rules_compiler::prove::routes::compiled_firewall_bypass(&plan, &env, tags),
        nsg: Some(&Evaluated::new(&env, tags, &rules, &["0.0.0.0/0".parse().unwrap()])),
    });
    let blocked: Vec<_> = report
        .of_kind(rules_compiler::prove::findings::FindingKind::NsgBlocksDependency)
        .flat_map(|f| f.requirements.clone())
        .collect();
    assert!(blocked.is_empty(), "the NSG blocks firewall dependencies: {blocked:?}");
}

#[test]
fn not_a_firewall_file_is_a_coded_error() {
    assert_eq!(parse("{\"name\": \"x\"}", "f.json").unwrap_err()[0].code, "E1207");
    assert_eq!(parse("{", "f.json").unwrap_err()[0].code, "E1207");
}

#[test]
fn priorities_outside_azures_range_are_limit_violations_not_errors() {
    // Azure's range is 100-65,000 for groups and collections alike (ARM schema min/max).
    let text = r#"{"priority": 65001, "ruleCollections": [
        {"name": "low", "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "priority": 99, "action": {"type": "Allow"}, "rules": []},
        {"name": "ok", "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "priority": 100, "action": {"type": "Allow"}, "rules": []},
        {"name": "top", "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "priority": 65000, "action": {"type": "Deny"}, "rules": []}]}"#;
    let file = parse(text, "f.json").unwrap();
    let found: Vec<_> = file
        .limit_violations
        .iter()
        .map(|v| (v.name, v.actual, v.at.path.as_str(), v.at.line))
        .collect();
    assert_eq!(
        found,
        [
            ("rule collection group priority", 65001, "priority", Some(1)),
            ("rule collection priority", 99, "ruleCollections[0].priority", Some(2)),
        ]
    );
    assert_eq!(file.group.unwrap().priority, Some(65001));
    let priorities: Vec<u32> = file.network.iter().map(|c| c.priority).collect();
    assert_eq!(priorities, [99, 100, 65000]);
}
