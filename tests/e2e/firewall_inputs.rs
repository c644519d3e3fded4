//! The firewall files `verify --firewall`, `explain --firewall` and `diff --deployed` take, in the
//! shapes Azure's tools print them: `az ... rule-collection-group list` output (a list), an
//! exported template holding a classic `Microsoft.Network/azureFirewalls` resource, and a firewall
//! managed by a policy, whose own collections are empty: refused (`E1207`) rather than proved as a
//! firewall that denies everything.

use crate::common::{isenet, uncovered_ids, Run};
use crate::pipeline::tempdir;
use serde_json::{json, Value};
use std::path::Path;

const FW: &str = "tests/envs/firewall-tunneling.json";

/// Compiles the firewall-mode environment into `dir/out`.
fn compile(dir: &Path) {
    let r = isenet(&["compile", "--env", FW, "--out-dir", dir.join("out").to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn save(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

/// The compiled rule collection group as `az network firewall policy rule-collection-group show`
/// prints it: its fields at the top, its own name.
fn az_group(dir: &Path, name: &str, priority: u32) -> Value {
    let policy = read(&dir.join("out/firewall-policy.json"));
    json!({
        "name": name, "priority": priority, "provisioningState": "Succeeded", "resourceGroup": "contoso-network",
        "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
        "ruleCollections": policy["resources"][0]["properties"]["ruleCollections"],
    })
}

fn verify(file: &str) -> Run {
    isenet(&["verify", "--env", FW, "--firewall", file, "--format", "json"])
}

/// A verify report's firewall proof.
fn firewall_proof(r: &Run) -> Value {
    let report = r.json();
    let proofs = report["proofs"].as_array().unwrap();
    proofs.iter().find(|p| p["artifact"] == "firewall").unwrap().clone()
}

/// The messages of a verify report's firewall findings of `code`.
fn messages(r: &Run, code: &str) -> Vec<String> {
    let proof = firewall_proof(r);
    let findings = proof["findings"].as_array().unwrap();
    findings
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// The findings of a verify report's firewall proof but the F0307 note: (code, collection, rule).
fn failing(r: &Run) -> Vec<(String, String, String)> {
    firewall_findings(r).into_iter().filter(|(code, _, _)| code != "F0307").collect()
}

/// `explain` of the firewall environment with the firewall rules of `file`, and `args`.
fn explain_with(file: &str, args: &[&str]) -> Run {
    isenet(&[&["explain", "--env", FW, "--firewall", file], args].concat())
}

/// The ids of the dependencies a verify report's firewall proof does not cover.
fn uncovered(r: &Run) -> Vec<String> {
    uncovered_ids(&firewall_proof(r)["coverage"])
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The one diagnostic of a refused run: (code, path, message, help).
fn refusal(args: &[&str]) -> (String, String, String, String) {
    let r = isenet(&[&["--error-format", "json"], args].concat());
    assert_eq!(r.code, Some(2), "{args:?}: {}", r.stdout);
    let diags = r.json()["diagnostics"].as_array().unwrap().clone();
    assert_eq!(diags.len(), 1, "{args:?}: {diags:?}");
    let text = |k: &str| diags[0][k].as_str().unwrap_or_default().to_string();
    (text("code"), text("path"), text("message"), text("help"))
}

/// `az network firewall policy rule-collection-group list -o json` prints a list: of one group it
/// is that group, whatever its name (proved, and a missing rule caught); of several (a policy
/// shared by spokes), the one the environment names is read with the others, which Azure
/// evaluates with it (a note says the order), and a list without it is refused naming what it
/// holds; `diff` reads the lists alike and converges the environment's group alone.
#[test]
fn a_list_of_one_rule_collection_group_is_that_group_and_of_two_is_refused() {
    let dir = tempdir("fw-input-list");
    compile(&dir);
    let one = json!([az_group(&dir, "ise-dependencies", 500)]);
    let file = save(&dir, "list-one.json", &one);
    // Proved, with finding F0001 (exit 1): a group named otherwise may be another spoke's; it is the
    // only finding (the ISE's group once had this name by default).
    let r = verify(&file);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(uncovered(&r).is_empty(), "{}", r.stdout);
    assert_eq!(
        firewall_findings(&r),
        [("F0001".to_string(), String::new(), String::new())],
        "{}",
        r.stdout
    );
    let r = verify(&save(
        &dir,
        "list-one-ours.json",
        &json!([az_group(&dir, "contoso-ise-dependencies", 500)]),
    ));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    // diff converges the group it reads: one named otherwise than the environment's would be
    // rewritten into the ISE's, so it is refused.
    let (code, path, message, help) = refusal(&["diff", "--env", FW, "--deployed", &file]);
    assert_eq!((code.as_str(), path.as_str()), ("E1703", "[0].name"));
    assert!(
        message.contains("`ise-dependencies`; the environment's is `contoso-ise-dependencies`"),
        "{message}"
    );
    assert!(help.contains("forcedTunneling.ruleCollectionGroupName"), "{help}");

    // The list's group is what is proved: without its Storage rule, that dependency is missing.
    let mut broken = one.clone();
    for c in broken[0]["ruleCollections"].as_array_mut().unwrap() {
        c["rules"].as_array_mut().unwrap().retain(|r| r["name"] != "fw-net-storage");
    }
    let r = verify(&save(&dir, "list-broken.json", &broken));
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert_eq!(uncovered(&r), ["fw-net-storage"]);

    let two = json!([
        az_group(&dir, "DefaultNetworkRuleCollectionGroup", 200),
        az_group(&dir, "ise-dependencies", 500)
    ]);
    let file = save(&dir, "list-two.json", &two);
    for args in [
        ["verify", "--env", FW, "--firewall", &file],
        ["diff", "--env", FW, "--deployed", &file],
    ] {
        let (code, path, message, help) = refusal(&args);
        assert_eq!((code.as_str(), path.as_str()), ("E1217", "[0]"), "{args:?}");
        assert!(
            message.contains("no rule collection group named `contoso-ise-dependencies`")
                && message.contains("`DefaultNetworkRuleCollectionGroup` at [0], `ise-dependencies` at [1]"),
            "{message}"
        );
        assert!(help.contains("forcedTunneling.ruleCollectionGroupName"), "{help}");
    }
    let shared = json!([
        az_group(&dir, "spoke2-dependencies", 200),
        az_group(&dir, "contoso-ise-dependencies", 500)
    ]);
    let file = save(&dir, "list-shared.json", &shared);
    let r = verify(&file);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let notes = messages(&r, "F0307");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("in Azure's order: `spoke2-dependencies` (200), `contoso-ise-dependencies` (500)"),
        "{}",
        notes[0]
    );
    let r = isenet(&["diff", "--env", FW, "--deployed", &file]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("firewall `contoso-ise-dependencies`"), "{}", r.stdout);
}

/// The portal's *Export template* of a classic firewall: one `Microsoft.Network/azureFirewalls`
/// resource with its collections under `properties`. They are proved like `firewall-classic.json`.
#[test]
fn an_exported_template_of_a_classic_firewall_is_read_by_its_collections() {
    let dir = tempdir("fw-input-export");
    compile(&dir);
    let classic = read(&dir.join("out/firewall-classic.json"));
    let firewall = |name: &str, classic: &Value| {
        json!({
            "type": "Microsoft.Network/azureFirewalls", "apiVersion": "2023-11-01",
            "name": format!("[parameters('azureFirewalls_{name}_name')]"), "location": "eastus",
            "properties": {
                "sku": {"name": "AZFW_VNet", "tier": "Standard"}, "threatIntelMode": "Alert", "ipConfigurations": [],
                "networkRuleCollections": classic["networkRuleCollections"],
                "applicationRuleCollections": classic["applicationRuleCollections"],
                "natRuleCollections": [],
            }
        })
    };
    let template = |resources: Vec<Value>| {
        json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "parameters": {}, "variables": {}, "resources": resources,
        })
    };
    let r = verify(&save(&dir, "export.json", &template(vec![firewall("fw", &classic)])));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(r.json()["proofs"][0]["summary"]["rules"], 100, "{}", r.stdout);

    let mut broken = classic.clone();
    broken["networkRuleCollections"][0]["properties"]["rules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "fw-net-storage");
    let file = save(&dir, "export-broken.json", &template(vec![firewall("fw", &broken)]));
    let r = verify(&file);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert_eq!(uncovered(&r), ["fw-net-storage"]);

    // Two firewalls: which one the ISE's traffic crosses is not known; both are named.
    let file = save(
        &dir,
        "export-two.json",
        &template(vec![firewall("east", &classic), firewall("west", &classic)]),
    );
    let (code, path, message, _) = refusal(&["verify", "--env", FW, "--firewall", &file]);
    assert_eq!((code.as_str(), path.as_str()), ("E1207", "resources[1]"));
    assert!(
        message.contains("azureFirewalls_east_name") && message.contains("azureFirewalls_west_name"),
        "{message}"
    );
}

/// `az network firewall show` of a firewall managed by a policy: its classic collections are empty
/// because its rules live in the policy's rule collection groups. Proved as it is, every dependency
/// was reported denied (120 F0301) and `explain` said deny; now both refuse it, pointing at the
/// command that prints the policy's group. An exported template holding the firewall and its
/// policy's group reads the group.
#[test]
fn a_firewall_managed_by_a_policy_is_refused_with_the_command_for_its_rules() {
    let dir = tempdir("fw-input-policy");
    compile(&dir);
    let policy_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-network/providers/Microsoft.Network/firewallPolicies/fw-policy";
    let show = json!({
        "name": "fw", "type": "Microsoft.Network/azureFirewalls", "location": "eastus", "provisioningState": "Succeeded",
        "sku": {"name": "AZFW_VNet", "tier": "Standard"}, "threatIntelMode": "Alert",
        "firewallPolicy": {"id": policy_id, "resourceGroup": "contoso-network"},
        "ipConfigurations": [{"name": "ipconfig", "privateIPAddress": "10.10.0.4"}],
        "applicationRuleCollections": [], "natRuleCollections": [], "networkRuleCollections": [],
    });
    let file = save(&dir, "fw-show.json", &show);
    for args in [
        vec!["verify", "--env", FW, "--firewall", &file],
        vec![
            "explain",
            "--env",
            FW,
            "--firewall",
            &file,
            "--from",
            "10.10.1.5",
            "--to",
            "AzureMonitor",
            "--port",
            "443",
        ],
    ] {
        let (code, path, message, help) = refusal(&args);
        assert_eq!((code.as_str(), path.as_str()), ("E1207", "firewallPolicy"), "{args:?}");
        assert!(message.contains("rule collection groups"), "{message}");
        assert!(
            help.contains(
                "az network firewall policy rule-collection-group show -g contoso-network --policy-name fw-policy -n <group> -o json"
            ),
            "{help}"
        );
    }
    // A null policy is none: the firewall's classic collections are read (here: none, so denied).
    let mut classic = show.clone();
    classic["firewallPolicy"] = Value::Null;
    let r = verify(&save(&dir, "fw-classic.json", &classic));
    assert_eq!(r.code, Some(1), "{}", r.stdout);

    // An exported resource group: the firewall (naming its policy), the policy and its one group.
    let policy = read(&dir.join("out/firewall-policy.json"));
    let mut group = policy["resources"][0].clone();
    group["name"] = json!("fw-policy/contoso-ise-dependencies");
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Network/azureFirewalls", "apiVersion": "2023-11-01", "name": "fw",
             "properties": {"firewallPolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'fw-policy')]"},
                            "networkRuleCollections": [], "applicationRuleCollections": []}},
            {"type": "Microsoft.Network/firewallPolicies", "apiVersion": "2023-11-01", "name": "fw-policy", "properties": {}},
            group,
        ],
    });
    let r = verify(&save(&dir, "export.json", &template));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(uncovered(&r).is_empty());
}

/// A network filter collection of one rule matching every packet (`action` Allow or Deny).
fn everything(name: &str, priority: u32, action: &str) -> Value {
    json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": name, "priority": priority,
        "action": {"type": action},
        "rules": [{"ruleType": "NetworkRule", "name": "everything", "ipProtocols": ["Any"],
            "sourceAddresses": ["*"], "destinationAddresses": ["*"], "destinationPorts": ["*"]}]
    })
}

fn group_of(name: &str, priority: u32, collections: Value) -> Value {
    json!({"name": name, "priority": priority, "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
        "ruleCollections": collections})
}

/// The findings of a verify report's firewall proof: (code, collection, rule).
fn firewall_findings(r: &Run) -> Vec<(String, String, String)> {
    let proof = firewall_proof(r);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    proof["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (text(&f["code"]), text(&f["rule"]["collection"]), text(&f["rule"]["name"])))
        .collect()
}

/// Azure evaluates a policy's rule collection groups together: by group priority first (a
/// collection's own priority only orders it within its group), each rule kind apart. Another
/// spoke's group of a higher priority (a lower number) that denies everything denies the ISE's
/// dependencies, one that allows everything opens the ISE to every address; below the ISE's group
/// its network rules still come before every application rule. A group of another policy (its id
/// says so) is left alone and named.
#[test]
fn a_shared_policys_groups_are_evaluated_together_by_group_priority() {
    let dir = tempdir("fw-input-shared");
    compile(&dir);
    let ours = az_group(&dir, "contoso-ise-dependencies", 500);
    let run = |name: &str, spoke: Value| verify(&save(&dir, name, &json!([spoke, ours.clone()])));

    // The spoke's deny collection has the lowest collection priority Azure allows, yet its group
    // is evaluated first.
    let r = run(
        "deny-first.json",
        group_of("spoke2", 100, json!([everything("deny-all", 65000, "Deny")])),
    );
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let missing = uncovered(&r);
    for id in ["fw-net-storage", "fw-net-ntp-123", "fw-ase-fqdn-tag"] {
        assert!(missing.iter().any(|m| m == id), "{id} not denied: {missing:?}");
    }
    // Every denial the findings locate is the spoke's rule, named `group/collection`.
    let located: std::collections::BTreeSet<_> = firewall_findings(&r)
        .into_iter()
        .filter(|(_, collection, _)| !collection.is_empty())
        .map(|(_, collection, rule)| (collection, rule))
        .collect();
    assert_eq!(
        located.into_iter().collect::<Vec<_>>(),
        [("spoke2/deny-all".to_string(), "everything".to_string())]
    );

    // The text names the other group's collection with the rule (its rule names may be the ISE's).
    let text = isenet(&["verify", "--env", FW, "--firewall", dir.join("deny-first.json").to_str().unwrap()]);
    assert!(
        text.stdout
            .contains("Https:443: network rule everything (collection spoke2/deny-all) denies TCP port 443"),
        "{}",
        text.stdout
    );
    // `explain` follows the same order.
    let file = dir.join("deny-first.json");
    let args = ["--from", "10.10.1.5", "--to", "AzureMonitor", "--port", "443", "--expect", "deny"];
    let r = explain_with(file.to_str().unwrap(), &args);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("firewall: denied by network rule everything (collection spoke2/deny-all)"),
        "{}",
        r.stdout
    );

    let r = run(
        "deny-after.json",
        group_of("spoke2", 600, json!([everything("deny-all", 100, "Deny")])),
    );
    // After the ISE's group its network rules come second, but network rules come before every
    // application rule whatever their group: the FQDN dependencies are denied, the others not.
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let missing = uncovered(&r);
    assert!(missing.iter().any(|m| m == "fw-ase-fqdn-tag"), "{missing:?}");
    assert!(!missing.iter().any(|m| m.starts_with("fw-net-")), "{missing:?}");

    let r = run(
        "allow-first.json",
        group_of("spoke2", 100, json!([everything("allow-all", 65000, "Allow")])),
    );
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let openings: Vec<_> = firewall_findings(&r).into_iter().filter(|(code, _, _)| code == "F0303").collect();
    assert_eq!(
        openings,
        [("F0303".to_string(), "spoke2/allow-all".to_string(), "everything".to_string())],
        "{}",
        r.stdout
    );
    // A name the ISE's application rule allows is decided by that network rule first, wherever
    // the name resolves.
    let file = dir.join("allow-first.json");
    let args = ["--from", "10.10.1.5", "--to", "login.microsoftonline.com", "--port", "443"];
    let r = explain_with(file.to_str().unwrap(), &args);
    assert!(
        r.stdout
            .contains("firewall: allowed by network rule everything (collection spoke2/allow-all)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("application rule"), "{}", r.stdout);

    let r = run(
        "allow-after.json",
        group_of("spoke2", 600, json!([everything("allow-all", 100, "Allow")])),
    );
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let openings: Vec<_> = firewall_findings(&r).into_iter().filter(|(code, _, _)| code == "F0303").collect();
    assert_eq!(
        openings.len(),
        1,
        "below the ISE's group it still allows what the ISE's leaves: {}",
        r.stdout
    );

    // Ids of two policies: the spoke's group is another firewall's, not evaluated.
    let id = |policy: &str, group: &str| {
        format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub/providers/Microsoft.Network/firewallPolicies/{policy}/ruleCollectionGroups/{group}")
    };
    let mut spoke = group_of("spoke2", 100, json!([everything("deny-all", 100, "Deny")]));
    spoke["id"] = json!(id("branch-policy", "spoke2"));
    let mut mine = ours.clone();
    mine["id"] = json!(id("hub-policy", "contoso-ise-dependencies"));
    let r = verify(&save(&dir, "two-policies.json", &json!([spoke, mine])));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(
        messages(&r, "F0307"),
        ["not evaluated: `spoke2` (of another policy, `branch-policy`)"],
        "{}",
        r.stdout
    );

    // Of several groups, each needs its priority to be ordered.
    let mut unordered = group_of("spoke2", 100, json!([everything("deny-all", 100, "Deny")]));
    unordered.as_object_mut().unwrap().remove("priority");
    let file = save(&dir, "no-priority.json", &json!([unordered, ours.clone()]));
    let (code, path, message, _) = refusal(&["verify", "--env", FW, "--firewall", &file]);
    assert_eq!((code.as_str(), path.as_str()), ("E1210", "[0].priority"), "{message}");
    assert!(message.contains("2 rule collection groups of the policy"), "{message}");
}

/// An exported resource group holds the hub policy's groups as `policy/group` resources: another
/// group of the ISE's group's policy is evaluated with it; one of another policy in the same
/// scope, or of a scope the template does not say is the same, is named and left alone.
#[test]
fn a_templates_groups_of_the_environments_policy_are_evaluated_together() {
    let dir = tempdir("fw-input-template-groups");
    compile(&dir);
    let policy = read(&dir.join("out/firewall-policy.json"));
    let mut ours = policy["resources"][0].clone();
    ours["name"] = json!("hub-policy/contoso-ise-dependencies");
    ours.as_object_mut().unwrap().remove("dependsOn");
    let spoke = |name: &str| {
        json!({"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "apiVersion": "2023-11-01",
            "name": name, "properties": {"priority": 100, "ruleCollections": [everything("deny-all", 100, "Deny")]}})
    };
    let export = |resources: Vec<Value>| {
        json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": resources})
    };
    let note = |r: &Run| messages(r, "F0307");

    let r = verify(&save(&dir, "same.json", &export(vec![spoke("hub-policy/spoke2"), ours.clone()])));
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(uncovered(&r).iter().any(|m| m == "fw-net-storage"), "{}", r.stdout);
    assert_eq!(
        note(&r),
        ["the policy's rule collection groups were evaluated together, in Azure's order: `spoke2` (100), `contoso-ise-dependencies` (500); the other groups' rules are named `group/collection`"]
    );

    let r = verify(&save(
        &dir,
        "other.json",
        &export(vec![spoke("branch-policy/spoke2"), ours.clone()]),
    ));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(note(&r), ["not evaluated: `spoke2` (of another policy, `branch-policy`)"]);

    // A nested deployment into a named resource group, beside the template's own: the same policy
    // name may be another resource.
    let nested = json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "spoke",
        "resourceGroup": "spoke-rg", "properties": {"mode": "Incremental", "template": export(vec![spoke("hub-policy/spoke2")])}});
    let r = verify(&save(&dir, "elsewhere.json", &export(vec![nested, ours])));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(
        note(&r),
        ["not evaluated: `spoke2` (the file does not say plainly that it is of the same policy)"]
    );
}

/// isenet's own firewall-policy.json names its group after a parameter with no value
/// (`firewallPolicyName`): a second group named after the same parameter is of the same policy
/// and evaluated with it; another environment's compiled group is none of this environment's
/// (E1217, for `verify` and `diff`); a group ARM deploys only on a condition is refused, as the
/// environment's would be (what it holds may or may not meet the ISE's traffic).
#[test]
fn groups_named_after_the_same_policy_parameter_are_one_policy() {
    let dir = tempdir("fw-input-own-template");
    compile(&dir);
    let mut policy = read(&dir.join("out/firewall-policy.json"));
    let corp = |extra: Value| {
        let mut g = json!({"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "apiVersion": "2023-11-01",
            "name": "[concat(parameters('firewallPolicyName'), '/corp')]",
            "properties": {"priority": 100, "ruleCollections": [everything("deny-all", 100, "Deny")]}});
        for (k, v) in extra.as_object().unwrap() {
            g[k] = v.clone();
        }
        g
    };
    let with = |group: Value| {
        let mut p = policy.clone();
        p["resources"].as_array_mut().unwrap().push(group);
        p
    };
    let r = verify(&save(&dir, "with-corp.json", &with(corp(json!({})))));
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(uncovered(&r).iter().any(|m| m == "fw-net-storage"), "{}", r.stdout);

    let (code, path, message, _) = refusal(&[
        "verify",
        "--env",
        FW,
        "--firewall",
        &save(&dir, "conditional.json", &with(corp(json!({"condition": false})))),
    ]);
    assert_eq!((code.as_str(), path.as_str()), ("E1215", "resources[1].condition"), "{message}");

    // Another environment's compiled group: not this environment's (diff reads a template as the
    // resource group it exports: the group is not deployed there).
    policy["resources"][0]["name"] = json!("[concat(parameters('firewallPolicyName'), '/fabrikam-ise-dependencies')]");
    let file = save(&dir, "fabrikam.json", &policy);
    let (code, _, message, _) = refusal(&["verify", "--env", FW, "--firewall", &file]);
    assert_eq!(code, "E1217", "{message}");
    assert!(
        message.ends_with("the file holds `fabrikam-ise-dependencies` at resources[0]"),
        "{message}"
    );
    let r = isenet(&["diff", "--env", FW, "--deployed", &file]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("not deployed: rule collection group `contoso-ise-dependencies` is not in")
            && r.stdout.contains("it holds rule collection group `fabrikam-ise-dependencies`"),
        "{}",
        r.stdout
    );
}

/// Hand-made and REST-shaped lists: REST's `{"value": [...]}` is a list; a group named only by
/// its id is named so; a name listed twice is refused (E1212); groups of one priority are
/// F0308; another group's priority outside Azure's range is a limit violation (F0107).
#[test]
fn listed_groups_are_named_ordered_and_checked_like_the_environments() {
    let dir = tempdir("fw-input-list-checks");
    compile(&dir);
    let ours = az_group(&dir, "contoso-ise-dependencies", 500);
    let rest = json!({"value": [group_of("corp", 100, json!([everything("deny-all", 100, "Deny")])), ours.clone()]});
    let r = verify(&save(&dir, "rest.json", &rest));
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(firewall_findings(&r).iter().any(|(_, c, _)| c == "corp/deny-all"), "{}", r.stdout);
    // One page of a longer list is refused: groups Azure evaluates would be missing.
    let mut page = rest.clone();
    page["nextLink"] = json!("https://management.azure.com/...&$skipToken=2");
    let (code, path, _, help) = refusal(&["verify", "--env", FW, "--firewall", &save(&dir, "page.json", &page)]);
    assert_eq!((code.as_str(), path.as_str()), ("E1207", "nextLink"));
    assert!(help.contains("fetches every page"), "{help}");
    let r = isenet(&["diff", "--env", FW, "--deployed", &dir.join("rest.json").to_string_lossy()]);
    assert!(
        r.stdout.contains("firewall `contoso-ise-dependencies`"),
        "diff reads it too: {}{}",
        r.stdout,
        r.stderr
    );

    let mut id_only = group_of("x", 100, json!([]));
    id_only.as_object_mut().unwrap().remove("name");
    id_only["id"] =
        json!("/subscriptions/s/resourceGroups/hub/providers/Microsoft.Network/firewallPolicies/p/ruleCollectionGroups/corp-ise");
    let (code, _, message, _) = refusal(&[
        "verify",
        "--env",
        FW,
        "--firewall",
        &save(&dir, "id-only.json", &json!([id_only, group_of("corp", 200, json!([]))])),
    ]);
    assert_eq!(code, "E1217", "{message}");
    assert!(message.contains("`corp-ise` at [0], `corp` at [1]"), "{message}");

    // Of many groups the note names the first twelve in Azure's order, and counts the rest.
    let mut many: Vec<Value> = (0..20).map(|i| group_of(&format!("spoke{i:02}"), 1000 + i, json!([]))).collect();
    many.push(ours.clone());
    let r = verify(&save(&dir, "many.json", &Value::Array(many)));
    let note = &messages(&r, "F0307")[0];
    assert!(
        note.contains("`contoso-ise-dependencies` (500), `spoke00` (1000),") && note.contains("`spoke10` (1010) and 9 more;"),
        "{note}"
    );
    let twice = json!([group_of("corp", 100, json!([])), group_of("CORP", 200, json!([])), ours.clone()]);
    let (code, path, _, _) = refusal(&["verify", "--env", FW, "--firewall", &save(&dir, "twice.json", &twice)]);
    assert_eq!((code.as_str(), path.as_str()), ("E1212", "[1].name"));

    let tied = json!([group_of("corp", 500, json!([])), ours.clone()]);
    let r = verify(&save(&dir, "tied.json", &tied));
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let codes: Vec<String> = failing(&r).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(codes, ["F0308"], "{}", r.stdout);
    // explain warns that its answer takes one order of the two (W1219).
    let args = ["--from", "10.10.1.5", "--to", "AzureMonitor", "--port", "443"];
    let tied_file = dir.join("tied.json");
    let r = explain_with(tied_file.to_str().unwrap(), &args);
    assert!(
        r.stderr.contains("W1219")
            && r.stderr.contains("share priority 500")
            && r.stderr.contains("taken in the environment's first, then the file's order"),
        "{}",
        r.stderr
    );
    // Two other groups tied: the environment's is not among them, and the warning says so.
    let others_tied = json!([group_of("corp", 600, json!([])), group_of("lab", 600, json!([])), ours.clone()]);
    let r = explain_with(&save(&dir, "others-tied.json", &others_tied), &args);
    assert!(
        r.stderr.contains("rule collection groups `corp`, `lab` share priority 600")
            && r.stderr.contains("taken in the file's order")
            && !r.stderr.contains("the environment's first"),
        "{}",
        r.stderr
    );
    // The deciding rule is in one of the tied groups: an expectation is not met by that verdict.
    let r = explain_with(tied_file.to_str().unwrap(), &[&args[..], &["--expect", "allow"]].concat());
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        r.stdout.contains("UNPROVED: expected allow")
            && r.stdout.contains("warning[F0308]: rule ")
            && r.stdout
                .contains("is in one of the rule collection groups that share priority 500 (the environment's, `corp`), whose order Azure does not document"),
        "{}",
        r.stdout
    );
    // diff converges the environment's group to the priority it names, and says whom it shares it with.
    let r = isenet(&["diff", "--env", FW, "--deployed", &dir.join("tied.json").to_string_lossy()]);
    assert!(
        r.stdout
            .contains("caution: rule collection group `contoso-ise-dependencies` would share its priority with `corp` of the same policy"),
        "{}",
        r.stdout
    );

    let out_of_range = json!([group_of("corp", 70000, json!([])), ours]);
    let r = verify(&save(&dir, "range.json", &out_of_range));
    let codes: Vec<String> = failing(&r).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(codes, ["F0107"], "{}", r.stdout);
}

/// Network rules come before every application rule, whatever their groups: a network allow of
/// every address on a port decides a name there before another group's application Deny of
/// every name, so the name dependencies are allowed (and the allow-all is an opening), and
/// `explain` names the network rule.
#[test]
fn a_network_allow_of_every_address_decides_names_before_any_application_deny() {
    let dir = tempdir("fw-input-net-before-app");
    compile(&dir);
    let deny_web = json!({"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "deny-web", "priority": 100,
        "action": {"type": "Deny"},
        "rules": [{"ruleType": "ApplicationRule", "name": "no-web", "protocols": [{"protocolType": "Https", "port": 443}, {"protocolType": "Http", "port": 80}],
                   "sourceAddresses": ["*"], "targetFqdns": ["*"]}]});
    let file = save(
        &dir,
        "net-before-app.json",
        &json!([
            group_of("corp", 100, json!([deny_web])),
            az_group(&dir, "contoso-ise-dependencies", 500),
            group_of("open", 600, json!([everything("allow-all", 100, "Allow")]))
        ]),
    );
    let r = verify(&file);
    assert!(uncovered(&r).is_empty(), "{}", r.stdout);
    assert_eq!(
        failing(&r),
        [("F0303".to_string(), "open/allow-all".to_string(), "everything".to_string())],
        "{}",
        r.stdout
    );
    let args = [
        "--from",
        "10.10.1.5",
        "--to",
        "login.microsoftonline.com",
        "--port",
        "443",
        "--expect",
        "allow",
    ];
    let r = explain_with(&file, &args);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("firewall: allowed by network rule everything (collection open/allow-all)"),
        "{}",
        r.stdout
    );
}

/// Another spoke's group may use what the verifier cannot resolve (a web category, IP groups):
/// the rest of the policy is still proved, and each such rule is finding F0309 at its place
/// (it is taken to match nothing); `explain` warns (W1218). In the environment's own group the
/// same rule is refused (E1213).
#[test]
fn another_groups_unresolvable_rules_are_findings_not_refusals() {
    let dir = tempdir("fw-input-unresolved");
    compile(&dir);
    let web = json!({"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "corp-web", "priority": 100,
        "action": {"type": "Deny"},
        "rules": [{"ruleType": "ApplicationRule", "name": "no-gambling", "protocols": [{"protocolType": "Https", "port": 443}],
                   "sourceAddresses": ["*"], "webCategories": ["Gambling"]}]});
    let file = save(
        &dir,
        "web.json",
        &json!([group_of("corp", 100, json!([web])), az_group(&dir, "contoso-ise-dependencies", 500)]),
    );
    let r = verify(&file);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(uncovered(&r).is_empty(), "{}", r.stdout);
    assert_eq!(
        failing(&r),
        [("F0309".to_string(), "corp/corp-web".to_string(), "no-gambling".to_string())],
        "{}",
        r.stdout
    );
    let proof = firewall_proof(&r);
    let located = proof["findings"].as_array().unwrap().iter().find(|f| f["code"] == "F0309").unwrap()["rule"].clone();
    assert!(located["line"].as_u64().is_some(), "{located}");
    let args = ["--from", "10.10.1.5", "--to", "login.microsoftonline.com", "--port", "443"];
    let r = explain_with(&file, &args);
    assert!(
        r.stderr.contains("W1218") && r.stderr.contains("rule no-gambling (collection corp/corp-web)"),
        "{}",
        r.stderr
    );
    // A smoke test is not passed by a verdict the rule set aside may overturn: Azure evaluates
    // the Deny of corp's group (priority 100) before the environment's allow (500), and its web
    // category may well match this name.
    let expect_allow = [&args[..], &["--expect", "allow"]].concat();
    let r = explain_with(&file, &expect_allow);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        r.stdout.contains("UNPROVED: expected allow, and the verdict is allow")
            && r.stdout.contains(
                "warning[F0309]: rule no-gambling (collection corp/corp-web) was set aside (the application rule matches web categories"
            )
            && r.stdout.contains("Azure evaluates it before a rule that decides part of this flow"),
        "{}",
        r.stdout
    );
    // What the set-aside rule says plainly still bounds what it may match: over UDP (it is HTTPS
    // on 443) it cannot decide the flow, and the deny is proved; on port 80 it says nothing.
    let udp = [
        "--from",
        "10.10.1.5",
        "--to",
        "203.0.113.10",
        "--port",
        "443",
        "--protocol",
        "udp",
        "--expect",
        "deny",
    ];
    let r = explain_with(&file, &udp);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let http = ["--from", "10.10.1.5", "--to", "login.microsoftonline.com", "--port", "80"];
    let r = explain_with(&file, &http);
    assert!(!r.stdout.contains("F0309"), "{}", r.stdout);
    // A verdict that does not meet the expectation is a mismatch, even where a rule set aside
    // might change it (the note says so beside it).
    let r = explain_with(&file, &[&args[..], &["--expect", "deny"]].concat());
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        r.stdout.contains("MISMATCH: expected deny, but the verdict is allow"),
        "{}",
        r.stdout
    );
    let r = explain_with(&file, &[&expect_allow[..], &["--error-format", "json"]].concat());
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (doc["matches"].clone(), doc["unproved"].clone()),
        (json!(false), json!(true)),
        "{doc}"
    );
    // Network rules decide before any application rule: the set-aside application rule cannot
    // change what they decide, and the expectation holds.
    let by_network = ["--from", "10.10.1.5", "--to", "AzureMonitor", "--port", "443", "--expect", "allow"];
    let r = explain_with(&file, &by_network);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(
        r.stdout.contains("expected allow: ok") && !r.stdout.contains("F0309"),
        "{}",
        r.stdout
    );
    // A flows file counts such rows apart from the mismatches.
    let flows = dir.join("flows.csv");
    std::fs::write(
        &flows,
        "from,to,port,protocol,expect\n10.10.1.5,login.microsoftonline.com,443,tcp,allow\n10.10.1.5,AzureMonitor,443,tcp,allow\n",
    )
    .unwrap();
    let r = explain_with(&file, &["--flows", flows.to_str().unwrap()]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(
        r.stdout.contains("UNPROVED") && r.stdout.contains("2 flows, 2 with an expectation, 0 mismatches, 1 unproved"),
        "{}",
        r.stdout
    );
    // A Deny set aside cannot overturn a deny: an address no rule allows stays denied, proved.
    let denied = ["--from", "10.10.1.5", "--to", "203.0.113.10", "--port", "443", "--expect", "deny"];
    let r = explain_with(&file, &denied);
    assert_eq!(r.code, Some(0), "{}", r.stdout);

    // The same rule in the environment's group.
    let mut ours = az_group(&dir, "contoso-ise-dependencies", 500);
    ours["ruleCollections"]
        .as_array_mut()
        .unwrap()
        .push(json!({"ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": "corp-web", "priority": 100, "action": {"type": "Deny"},
        "rules": [{"ruleType": "ApplicationRule", "name": "no-gambling", "protocols": [{"protocolType": "Https", "port": 443}],
                   "sourceAddresses": ["*"], "webCategories": ["Gambling"]}]}));
    let (code, _, _, help) = refusal(&["verify", "--env", FW, "--firewall", &save(&dir, "ours.json", &json!([ours]))]);
    assert_eq!(code, "E1213");
    assert!(
        help.contains("another rule collection group (there they are reported, F0309, not proved)"),
        "{help}"
    );
}

/// Another group's application allow of every name decides a required name before the
/// environment's own rule: `explain` names the dependencies the name is, as `verify` counts them
/// covered, instead of calling the rule one that serves no requirement.
#[test]
fn another_groups_allow_of_every_name_serves_the_names_it_allows() {
    let dir = tempdir("fw-input-app-allow-all");
    compile(&dir);
    let all_names = json!({"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "web-out", "priority": 100,
        "action": {"type": "Allow"},
        "rules": [{"ruleType": "ApplicationRule", "name": "any-https", "protocols": [{"protocolType": "Https", "port": 443}],
                   "sourceAddresses": ["*"], "targetFqdns": ["*"]}]});
    let file = save(
        &dir,
        "allow-all-names.json",
        &json!([
            group_of("corp", 100, json!([all_names])),
            az_group(&dir, "contoso-ise-dependencies", 500)
        ]),
    );
    let r = verify(&file);
    assert!(uncovered(&r).is_empty(), "{}", r.stdout);
    // The firewall decisions of the allow-all rule for a flow to `name` on 443.
    let by_allow_all = |name: &str| -> (Vec<Value>, Value) {
        let args = ["--from", "10.10.1.5", "--to", name, "--port", "443", "--format", "json"];
        let r = explain_with(&file, &args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        let decided = doc["path"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["firewall"].as_array().unwrap().clone())
            .filter(|d| d["rule"] == "any-https")
            .collect();
        (decided, doc)
    };
    let (decided, doc) = by_allow_all("login.microsoftonline.com");
    assert_eq!(decided.len(), 1, "{doc}");
    assert_eq!(decided[0]["collection"], "corp/web-out");
    assert_eq!(decided[0]["servesNoRequirement"], false, "{doc}");
    assert!(!decided[0]["dependencies"].as_array().unwrap().is_empty(), "{doc}");
    // A name no dependency is: the same rule serves no requirement.
    let (decided, doc) = by_allow_all("www.example.org");
    assert_eq!(decided.len(), 1, "{doc}");
    assert_eq!(decided[0]["servesNoRequirement"], true, "{doc}");
}

/// A network rule set aside for its IP groups still says its protocols, ports and sources: it
/// leaves a flow it cannot match proved, and makes one it may match unproved.
#[test]
fn a_set_aside_rule_doubts_only_the_flows_it_may_match() {
    let dir = tempdir("fw-input-set-aside-bounds");
    compile(&dir);
    let deny = |name: &str, protocols: Value, sources: Value, port: &str| {
        json!({"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "c", "priority": 100,
            "action": {"type": "Deny"},
            "rules": [{"ruleType": "NetworkRule", "name": name, "ipProtocols": protocols, "sourceAddresses": sources,
                       "destinationPorts": [port],
                       "destinationIpGroups": ["/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/ipGroups/z"]}]})
    };
    let storage = ["--from", "10.10.1.5", "--to", "Storage", "--port", "443", "--expect", "allow"];
    for (name, collection, unproved) in [
        ("port-22", deny("port-22", json!(["TCP"]), json!(["*"]), "22"), false),
        ("udp-only", deny("udp-only", json!(["UDP"]), json!(["*"]), "443"), false),
        (
            "other-sources",
            deny("other-sources", json!(["TCP"]), json!(["192.168.0.0/16"]), "443"),
            false,
        ),
        ("may-match", deny("may-match", json!(["TCP"]), json!(["10.10.1.0/24"]), "443"), true),
    ] {
        let file = save(
            &dir,
            &format!("{name}.json"),
            &json!([
                group_of("corp", 100, json!([collection])),
                az_group(&dir, "contoso-ise-dependencies", 500)
            ]),
        );
        let r = explain_with(&file, &storage);
        assert_eq!(r.code, Some(if unproved { 1 } else { 0 }), "{name}: {}", r.stdout);
        assert_eq!(
            r.stdout.contains(&format!("warning[F0309]: rule {name} (collection corp/c)")),
            unproved,
            "{name}: {}",
            r.stdout
        );
    }
}
