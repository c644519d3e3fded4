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

/// The ids of the dependencies a verify report's firewall proof does not cover.
fn uncovered(r: &Run) -> Vec<String> {
    let report = r.json();
    let firewall = report["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["artifact"] == "firewall")
        .unwrap();
    uncovered_ids(&firewall["coverage"]).into_iter().map(str::to_string).collect()
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
/// shared by spokes), the one the environment names is read, the others named in a note (Azure
/// processes them too), and a list without it is refused naming what it holds; `diff` reads the
/// lists alike.
#[test]
fn a_list_of_one_rule_collection_group_is_that_group_and_of_two_is_refused() {
    let dir = tempdir("fw-input-list");
    compile(&dir);
    let one = json!([az_group(&dir, "ise-dependencies", 500)]);
    let file = save(&dir, "list-one.json", &one);
    let r = verify(&file);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(uncovered(&r).is_empty(), "{}", r.stdout);
    // diff converges the group it reads: one named otherwise than the environment's would be
    // rewritten into the ISE's, so it is refused (the ISE's group once had this name by default).
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
    let firewall = r.json()["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["artifact"] == "firewall")
        .unwrap()
        .clone();
    let notes: Vec<&Value> = firewall["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "F0307")
        .collect();
    assert_eq!(notes.len(), 1, "{firewall}");
    assert!(
        notes[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("not verified: `spoke2-dependencies`"),
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
