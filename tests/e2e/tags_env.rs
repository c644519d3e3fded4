//! `tags diff --env` regression cases beyond the public snapshots: a China firewall-mode ISE whose
//! firewall rules carry a tag's prefixes (China's Storage tag cannot be named in Azure Firewall), and
//! a Government firewall-mode ISE (tags that work everywhere, Logic Apps tags replaced by published
//! lists, a route tag losing its UDR feature).
//!
//! Expected artifact changes are computed here by compiling with each file and comparing the
//! deployable files by key with code that shares nothing with isenet's comparison.

use super::tags::{isenet, path_str, root, scratch, stdout_json, strings, write};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A tag file of the repository with `edit` applied to its document and the change number raised.
fn modified(dir: &Path, source: &str, name: &str, edit: impl Fn(&mut Value)) -> String {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(root().join(source)).unwrap()).unwrap();
    doc["changeNumber"] = json!(doc["changeNumber"].as_u64().unwrap() + 1);
    edit(&mut doc);
    write(dir, name, &doc)
}

fn tag_mut<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc["values"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no tag {name}"))
}

fn add_prefix(doc: &mut Value, tag: &str, prefix: &str) {
    tag_mut(doc, tag)["properties"]["addressPrefixes"]
        .as_array_mut()
        .unwrap()
        .push(json!(prefix));
}

type Key = (String, String, String);

/// The deployable items (NSG rules, routes, firewall rules by collection) of one compile, in the
/// standalone files and in the template.
fn deployable(out: &Path) -> BTreeMap<Key, Value> {
    let read = |f: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap() };
    let mut items = BTreeMap::new();
    let mut put = |file: &str, collection: &str, list: &Value| {
        for r in list.as_array().unwrap() {
            let key = (file.to_string(), collection.to_string(), r["name"].as_str().unwrap().to_string());
            assert!(items.insert(key, r.clone()).is_none(), "{file}: {} twice", r["name"]);
        }
    };
    put("nsg.json", "", &read("nsg.json")["properties"]["securityRules"]);
    put("route-table.json", "", &read("route-table.json")["properties"]["routes"]);
    for c in read("firewall-policy.json")["resources"][0]["properties"]["ruleCollections"]
        .as_array()
        .unwrap()
    {
        put("firewall-policy.json", c["name"].as_str().unwrap(), &c["rules"]);
    }
    let classic = read("firewall-classic.json");
    for side in ["networkRuleCollections", "applicationRuleCollections"] {
        for c in classic[side].as_array().unwrap() {
            put("firewall-classic.json", c["name"].as_str().unwrap(), &c["properties"]["rules"]);
        }
    }
    // The template embeds the same items in its resources, found by type (positions vary by mode);
    // the firewall rules are in the template of a nested deployment.
    let template = read("azuredeploy.json");
    let mut resources: Vec<Value> = template["resources"].as_array().unwrap().clone();
    let nested: Vec<Value> = resources
        .iter()
        .filter(|r| r["type"] == "Microsoft.Resources/deployments")
        .flat_map(|r| r["properties"]["template"]["resources"].as_array().unwrap().clone())
        .collect();
    resources.extend(nested);
    for r in &resources {
        let properties = &r["properties"];
        match r["type"].as_str().unwrap() {
            "Microsoft.Network/networkSecurityGroups" => put("azuredeploy.json", "", &properties["securityRules"]),
            "Microsoft.Network/routeTables" => put("azuredeploy.json", "", &properties["routes"]),
            "Microsoft.Network/firewallPolicies/ruleCollectionGroups" => {
                for c in properties["ruleCollections"].as_array().unwrap() {
                    put("azuredeploy.json", c["name"].as_str().unwrap(), &c["rules"]);
                }
            }
            _ => {}
        }
    }
    items
}

fn compile(dir: &Path, env: &str, tags: &str) -> BTreeMap<Key, Value> {
    let out = dir.join(format!("out-{}", Path::new(tags).file_stem().unwrap().to_string_lossy()));
    let o = isenet(&["compile", "--env", env, "--service-tags", tags, "--out-dir", &path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    deployable(&out)
}

/// (file, collection, name) -> added/removed/changed between two compiles.
fn expected_changes(before: &BTreeMap<Key, Value>, after: &BTreeMap<Key, Value>) -> BTreeMap<Key, &'static str> {
    let keys: BTreeSet<&Key> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter_map(|k| match (before.get(k), after.get(k)) {
            (None, Some(_)) => Some((k.clone(), "added")),
            (Some(_), None) => Some((k.clone(), "removed")),
            (Some(a), Some(b)) if a != b => Some((k.clone(), "changed")),
            _ => None,
        })
        .collect()
}

/// isenet's artifact changes of the deployable files, keyed like `expected_changes`, with their tags.
fn reported(doc: &Value) -> BTreeMap<Key, (String, Vec<String>)> {
    doc["impact"]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["artifact"] != "plan.json" && ["securityRule", "route", "firewallRule"].contains(&a["kind"].as_str().unwrap()))
        .map(|a| {
            let key = (
                a["artifact"].as_str().unwrap().to_string(),
                a["collection"].as_str().unwrap_or_default().to_string(),
                a["name"].as_str().unwrap().to_string(),
            );
            (key, (a["change"].as_str().unwrap().to_string(), strings(&a["tags"])))
        })
        .collect()
}

fn diff_json(old: &str, new: &str, env: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["tags", "diff", old, new, "--env", env, "--format", "json"];
    args.extend_from_slice(extra);
    let o = isenet(&args);
    (o.status.code(), stdout_json(&o))
}

fn golden_env(dir: &Path, name: &str, edit: impl Fn(&mut Value)) -> String {
    let mut env: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(format!("tests/golden/{name}/env.json"))).unwrap()).unwrap();
    edit(&mut env);
    write(dir, "env.json", &env)
}

#[test]
fn china_firewall_rules_written_as_prefixes_change_when_the_tag_gains_one() {
    let dir = scratch("china-fw");
    let env = golden_env(&dir, "china-expressroute", |e| {
        e["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    });
    let old = path_str(&root().join("data/servicetags/ServiceTags_China.json"));
    // China's Storage tag lacks FW: the firewall rule holds its prefixes, the NSG names the tag.
    let new = modified(&dir, "data/servicetags/ServiceTags_China.json", "china-new.json", |d| {
        assert!(!strings(&tag_mut(d, "Storage")["properties"]["networkFeatures"]).contains(&"FW".to_string()));
        add_prefix(d, "Storage", "198.18.7.0/24");
    });
    let expected = expected_changes(&compile(&dir, &env, &old), &compile(&dir, &env, &new));
    let fw_storage = |file: &str| {
        (
            file.to_string(),
            "ise-network-dependencies".to_string(),
            "fw-net-storage".to_string(),
        )
    };
    assert_eq!(
        expected.keys().cloned().collect::<Vec<_>>(),
        [
            fw_storage("azuredeploy.json"),
            fw_storage("firewall-classic.json"),
            fw_storage("firewall-policy.json")
        ]
    );

    let (code, doc) = diff_json(&old, &new, &env, &[]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["affected"], true);
    let got = reported(&doc);
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (k, (change, tags)) in &got {
        assert_eq!(change, expected[k]);
        assert_eq!(tags, &["Storage"], "{k:?}");
    }
    // plan.json carries the same rule and the dependency's note; nothing else of the plan moves.
    let plan: BTreeSet<(String, String)> = doc["impact"]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["artifact"] == "plan.json")
        .map(|a| (a["kind"].as_str().unwrap().to_string(), a["name"].as_str().unwrap().to_string()))
        .collect();
    let want: BTreeSet<(String, String)> = [("firewallDependency", "fw-net-storage"), ("firewallRule", "fw-net-storage")]
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .into();
    assert_eq!(plan, want);
    // The NSG rule names the tag: Azure applies the /24 itself.
    let effective = doc["impact"]["effective"].as_array().unwrap();
    assert_eq!(effective.len(), 1, "{effective:?}");
    assert_eq!(effective[0]["name"], "out-storage-80-443-445");
    assert_eq!(effective[0]["tag"], "Storage");
    assert_eq!(
        (effective[0]["addressesAdded"].clone(), effective[0]["addressesRemoved"].clone()),
        (json!(256), json!(0))
    );

    // The text names the environment first, each change with its tag.
    let o = isenet(&["tags", "diff", &old, &new, "--env", &env]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("environment cn-ise: 6 artifact change(s), 1 effective change(s)\n"),
        "{text}"
    );
    // The deployable forms embed the same firewall rules: the template's rule is keyed like the
    // standalone file's (its document is unchanged), the Bicep file changes as a document.
    assert!(
        text.contains(
            "  azuredeploy.json firewall rule ise-network-dependencies/fw-net-storage changed (destinationAddresses) [tags: Storage]\n"
        ),
        "{text}"
    );
    assert!(!text.contains("azuredeploy.json document"), "{text}");
    assert!(text.contains("  main.bicep document changed"), "{text}");
    assert!(
        text.contains(
            "  firewall-policy.json firewall rule ise-network-dependencies/fw-net-storage changed (destinationAddresses) [tags: Storage]\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  rule out-storage-80-443-445: Storage +256 -0 IPv4 addresses\n"),
        "{text}"
    );
}

#[test]
fn government_changes_are_effective_unless_a_route_or_rule_is_rewritten() {
    let dir = scratch("gov");
    let env = golden_env(&dir, "usgov-firewall", |_| {});
    let old = path_str(&root().join("data/servicetags/ServiceTags_AzureGovernment.json"));
    let source = "data/servicetags/ServiceTags_AzureGovernment.json";

    // Storage works in NSGs, routes and Azure Firewall in Government: both name the tag.
    let storage = modified(&dir, source, "gov-storage.json", |d| add_prefix(d, "Storage", "198.18.7.0/24"));
    assert!(expected_changes(&compile(&dir, &env, &old), &compile(&dir, &env, &storage)).is_empty());
    let (code, doc) = diff_json(&old, &storage, &env, &[]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["impact"]["artifacts"], json!([]));
    let effective: BTreeSet<(String, String, u64)> = doc["impact"]["effective"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["tag"], "Storage");
            (
                e["kind"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
                e["addressesAdded"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, u64)> = [("firewallRule", "fw-net-storage"), ("securityRule", "out-storage-80-443-445")]
        .map(|(k, n)| (k.to_string(), n.to_string(), 256))
        .into();
    assert_eq!(effective, want);
    let (code, _) = diff_json(&old, &storage, &env, &["--fail-on", "effective"]);
    assert_eq!(code, Some(1));

    // Government NSGs cannot use the Logic Apps tags: the published lists stand in, so a change of
    // the LogicApps tag reaches nothing, not even effectively.
    let logicapps = modified(&dir, source, "gov-logicapps.json", |d| add_prefix(d, "LogicApps", "198.18.7.0/24"));
    let (code, doc) = diff_json(&old, &logicapps, &env, &["--fail-on", "effective"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        (doc["impact"]["artifacts"].clone(), doc["impact"]["effective"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(doc["summary"]["tagsChanged"], 1);

    // AzureTrafficManager losing UDR: its route can no longer name the tag, its prefixes are routed.
    let no_udr = modified(&dir, source, "gov-no-udr.json", |d| {
        let features = &mut tag_mut(d, "AzureTrafficManager")["properties"]["networkFeatures"];
        features.as_array_mut().unwrap().retain(|f| f != "UDR");
    });
    let expected = expected_changes(&compile(&dir, &env, &old), &compile(&dir, &env, &no_udr));
    // The route table's changes, and the same ones in the template's route table.
    let in_file = |file: &str| -> Vec<(&str, &str)> {
        expected
            .iter()
            .filter(|(k, _)| k.0 == file)
            .map(|(k, c)| (k.2.as_str(), *c))
            .collect()
    };
    assert!(
        expected.keys().all(|k| k.0 == "route-table.json" || k.0 == "azuredeploy.json"),
        "{expected:?}"
    );
    assert_eq!(in_file("azuredeploy.json"), in_file("route-table.json"));
    assert!(expected.values().any(|c| *c == "removed") && expected.values().any(|c| *c == "added"));
    let (code, doc) = diff_json(&old, &no_udr, &env, &[]);
    assert_eq!(code, Some(1), "{doc}");
    let got = reported(&doc);
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (k, (change, tags)) in &got {
        assert_eq!(change, expected[k]);
        assert_eq!(tags, &["AzureTrafficManager"], "{k:?}");
    }
}
