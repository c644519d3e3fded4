//! Keyed comparison of rendered artifacts: each file is cut into the items a reviewer thinks in
//! (NSG rule by name, route by name, subnet by name, firewall rule by collection and name, rule
//! collection, requirement and firewall dependency of the plan by id) plus the rest of the document,
//! and two sets of artifacts are compared item by item. Keys, not positions: a rule inserted before
//! others shows as one addition, not as every later rule changed.
//!
//! Shared by `tags diff --env` (compiles with two tag files) and any comparison of a compile with
//! another set of the same files.

use crate::render::Artifact;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What an item of an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    /// Everything of the file outside its keyed items (names, locations, metadata, priorities).
    Document,
    SecurityRule,
    Route,
    Subnet,
    RuleCollection,
    FirewallRule,
    Requirement,
    FirewallDependency,
}

/// Where an item lives: the file, its kind, the firewall collection (for firewall rules) and its
/// name (`""` for the document).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemKey {
    pub artifact: String,
    pub kind: ItemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One item that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDiff {
    #[serde(flatten)]
    pub key: ItemKey,
    pub change: Change,
    /// For a changed item: the paths inside it whose values differ (`properties.priority`),
    /// descending through objects, not arrays.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// A JSON pointer to an array of keyed items, the item kind, the key field, and (for firewall
/// collections) the pointer inside each element to its rules.
struct Keyed {
    pointer: &'static str,
    kind: ItemKind,
    key: &'static str,
    rules: Option<&'static str>,
}

/// A `Keyed` literal (a `const fn` call would not be promoted to `'static`).
macro_rules! keyed {
    ($pointer:expr, $kind:expr, $key:expr, $rules:expr) => {
        Keyed {
            pointer: $pointer,
            kind: $kind,
            key: $key,
            rules: $rules,
        }
    };
}

/// The keyed arrays of each artifact `render_all` writes. A file not listed is one document.
fn layout(file_name: &str) -> &'static [Keyed] {
    use ItemKind::*;
    match file_name {
        "nsg.json" => &[keyed!("/properties/securityRules", SecurityRule, "name", None)],
        "route-table.json" => &[keyed!("/properties/routes", Route, "name", None)],
        "subnets.json" => &[keyed!("/resources", Subnet, "name", None)],
        "firewall-policy.json" => &[keyed!(
            "/resources/0/properties/ruleCollections",
            RuleCollection,
            "name",
            Some("/rules")
        )],
        "firewall-classic.json" => &[
            keyed!("/networkRuleCollections", RuleCollection, "name", Some("/properties/rules")),
            keyed!("/applicationRuleCollections", RuleCollection, "name", Some("/properties/rules")),
        ],
        "plan.json" => &[
            keyed!("/securityRules", SecurityRule, "name", None),
            keyed!("/routes", Route, "name", None),
            keyed!("/subnets", Subnet, "name", None),
            keyed!("/requirements", Requirement, "id", None),
            keyed!("/firewall/dependencies", FirewallDependency, "id", None),
            keyed!("/firewall/networkRuleCollections", RuleCollection, "name", Some("/rules")),
            keyed!("/firewall/applicationRuleCollections", RuleCollection, "name", Some("/rules")),
        ],
        _ => &[],
    }
}

/// The template whose resources embed the same keyed arrays as the standalone artifacts.
const TEMPLATE: &str = "azuredeploy.json";

/// The keyed arrays inside a resource of the template, by resource type; pointers are relative to
/// the resource. Positions of resources differ by tunneling mode, types do not.
fn resource_layout(resource_type: &str) -> &'static [Keyed] {
    use ItemKind::*;
    match resource_type {
        "Microsoft.Network/networkSecurityGroups" => &[keyed!("/properties/securityRules", SecurityRule, "name", None)],
        "Microsoft.Network/routeTables" => &[keyed!("/properties/routes", Route, "name", None)],
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups" => {
            &[keyed!("/properties/ruleCollections", RuleCollection, "name", Some("/rules"))]
        }
        _ => &[],
    }
}

/// Takes the array at `pointer` out of `doc` (leaving an empty array), or nothing.
fn take_array(doc: &mut Value, pointer: &str) -> Vec<Value> {
    match doc.pointer_mut(pointer) {
        Some(Value::Array(a)) => std::mem::take(a),
        _ => Vec::new(),
    }
}

fn key_of(item: &Value, field: &str, index: usize) -> String {
    // An item without its key field is still compared, by position.
    item.get(field)
        .and_then(Value::as_str)
        .map_or_else(|| format!("#{index}"), str::to_string)
}

/// The items of one artifact. `ignore` lists JSON pointers removed before cutting (values that
/// differ between compiles without changing anything, such as a tag file's change number).
pub fn items(file_name: &str, doc: &Value, ignore: &[&str]) -> BTreeMap<ItemKey, Value> {
    let mut doc = doc.clone();
    for pointer in ignore {
        let (parent, field) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        if let Some(Value::Object(o)) = doc.pointer_mut(parent) {
            o.remove(field);
        }
    }
    let key = |kind, collection: Option<&str>, name: String| ItemKey {
        artifact: file_name.to_string(),
        kind,
        collection: collection.map(str::to_string),
        name,
    };
    let mut out = BTreeMap::new();
    let mut cut = |doc: &mut Value, layout: &[Keyed]| {
        for k in layout {
            for (i, mut item) in take_array(doc, k.pointer).into_iter().enumerate() {
                let name = key_of(&item, k.key, i);
                if let Some(rules) = k.rules {
                    for (j, rule) in take_array(&mut item, rules).into_iter().enumerate() {
                        let rule_name = key_of(&rule, "name", j);
                        out.insert(key(ItemKind::FirewallRule, Some(&name), rule_name), rule);
                    }
                }
                out.insert(key(k.kind, None, name), item);
            }
        }
    };
    cut(&mut doc, layout(file_name));
    if file_name == TEMPLATE {
        cut_resources(&mut doc, &mut cut);
    }
    out.insert(key(ItemKind::Document, None, String::new()), doc);
    out
}

/// Cuts the keyed arrays out of each resource of `template`, and of the templates its inline
/// nested deployments hold (the template's firewall rules are deployed through one).
fn cut_resources(template: &mut Value, cut: &mut dyn FnMut(&mut Value, &[Keyed])) {
    let Some(Value::Array(resources)) = template.get_mut("resources") else {
        return;
    };
    for r in resources {
        let kind = r["type"].as_str().unwrap_or_default().to_string();
        cut(r, resource_layout(&kind));
        if kind.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
            if let Some(inner) = r.pointer_mut("/properties/template") {
                cut_resources(inner, cut);
            }
        }
    }
}

/// Paths (dot-separated) under which two values differ, descending through objects.
fn differing_fields(before: &Value, after: &Value, prefix: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => differing_fields(x, y, &path, out),
                    _ => out.push(path),
                }
            }
        }
        _ if before != after => out.push(if prefix.is_empty() { "(value)".into() } else { prefix.into() }),
        _ => {}
    }
}

/// The items that differ between two keyed sets, in key order.
pub fn compare(before: &BTreeMap<ItemKey, Value>, after: &BTreeMap<ItemKey, Value>) -> Vec<ItemDiff> {
    let mut out = Vec::new();
    for (key, a) in after {
        match before.get(key) {
            None => out.push(ItemDiff {
                key: key.clone(),
                change: Change::Added,
                fields: Vec::new(),
                before: None,
                after: Some(a.clone()),
            }),
            Some(b) if b != a => {
                let mut fields = Vec::new();
                differing_fields(b, a, "", &mut fields);
                out.push(ItemDiff {
                    key: key.clone(),
                    change: Change::Changed,
                    fields,
                    before: Some(b.clone()),
                    after: Some(a.clone()),
                });
            }
            Some(_) => {}
        }
    }
    for (key, b) in before {
        if !after.contains_key(key) {
            out.push(ItemDiff {
                key: key.clone(),
                change: Change::Removed,
                fields: Vec::new(),
                before: Some(b.clone()),
                after: None,
            });
        }
    }
    out.sort_by(|x, y| x.key.cmp(&y.key));
    out
}

/// The keyed items of every artifact (artifacts that are not JSON are one document of text).
pub fn artifact_items(artifacts: &[Artifact], ignore: &[(&str, &str)]) -> BTreeMap<ItemKey, Value> {
    let mut out = BTreeMap::new();
    for a in artifacts {
        let pointers: Vec<&str> = ignore.iter().filter(|(f, _)| *f == a.file_name).map(|(_, p)| *p).collect();
        let doc = serde_json::from_str(&a.contents).unwrap_or_else(|_| Value::String(a.contents.clone()));
        out.extend(items(a.file_name, &doc, &pointers));
    }
    out
}

/// Compares two sets of artifacts item by item; `ignore` names `(file, JSON pointer)` pairs left out
/// of the comparison. A file present in only one set shows as its items added or removed.
pub fn compare_artifacts(before: &[Artifact], after: &[Artifact], ignore: &[(&str, &str)]) -> Vec<ItemDiff> {
    compare(&artifact_items(before, ignore), &artifact_items(after, ignore))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn artifact(name: &'static str, v: Value) -> Artifact {
        Artifact {
            file_name: name,
            contents: serde_json::to_string_pretty(&v).unwrap(),
        }
    }

    fn nsg(rules: Value) -> Artifact {
        artifact("nsg.json", json!({"name": "n", "properties": {"securityRules": rules}}))
    }

    #[test]
    fn rules_are_compared_by_name_not_position() {
        let a = nsg(json!([{"name": "a", "properties": {"priority": 100}}, {"name": "b", "properties": {"priority": 110}}]));
        // A rule inserted first, `b` reordered: only the insertion is a difference.
        let b = nsg(
            json!([{"name": "new", "properties": {"priority": 90}}, {"name": "b", "properties": {"priority": 110}}, {"name": "a", "properties": {"priority": 100}}]),
        );
        let d = compare_artifacts(std::slice::from_ref(&a), &[b], &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].key.kind, d[0].key.name.as_str(), d[0].change),
            (ItemKind::SecurityRule, "new", Change::Added)
        );
        assert!(compare_artifacts(std::slice::from_ref(&a), std::slice::from_ref(&a), &[]).is_empty());
    }

    #[test]
    fn changed_items_name_the_differing_fields_and_the_document_is_an_item() {
        let a = nsg(json!([{"name": "a", "properties": {"priority": 100, "destinationAddressPrefix": "Storage"}}]));
        let b = artifact(
            "nsg.json",
            json!({"name": "m", "properties": {"securityRules": [{"name": "a", "properties": {"priority": 100, "destinationAddressPrefixes": ["10.0.0.0/8"]}}]}}),
        );
        let d = compare_artifacts(&[a], &[b], &[]);
        let got: Vec<(ItemKind, Change, Vec<String>)> = d.iter().map(|x| (x.key.kind, x.change, x.fields.clone())).collect();
        assert_eq!(
            got,
            [
                (ItemKind::Document, Change::Changed, vec!["name".to_string()]),
                (
                    ItemKind::SecurityRule,
                    Change::Changed,
                    vec![
                        "properties.destinationAddressPrefix".to_string(),
                        "properties.destinationAddressPrefixes".to_string()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn firewall_rules_are_keyed_by_collection_and_name() {
        let fw = |dest: &str| {
            artifact(
                "firewall-classic.json",
                json!({"networkRuleCollections": [
                    {"name": "c1", "properties": {"priority": 200, "rules": [{"name": "r", "destinationAddresses": [dest]}]}},
                    {"name": "c2", "properties": {"priority": 210, "rules": [{"name": "r", "destinationAddresses": ["*"]}]}}
                ], "applicationRuleCollections": []}),
            )
        };
        let d = compare_artifacts(&[fw("Storage")], &[fw("10.0.0.0/8")], &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].key.kind, ItemKind::FirewallRule);
        assert_eq!(d[0].key.collection.as_deref(), Some("c1"));
        assert_eq!(d[0].fields, ["destinationAddresses"]);
    }

    #[test]
    fn ignored_pointers_do_not_count() {
        let plan = |n: u64| artifact("plan.json", json!({"serviceTagsChangeNumber": n, "routes": []}));
        assert!(compare_artifacts(&[plan(1)], &[plan(2)], &[("plan.json", "/serviceTagsChangeNumber")]).is_empty());
        assert_eq!(compare_artifacts(&[plan(1)], &[plan(2)], &[]).len(), 1);
    }

    #[test]
    fn every_rendered_artifact_has_its_keyed_arrays_where_the_layout_says() {
        // A firewall-mode plan fills every keyed array; cutting must leave none behind in a document.
        let text =
            ise_model::data::EXAMPLE_ENVIRONMENT.replace(r#""mode": "none""#, r#""mode": "firewall", "firewallPrivateIp": "10.10.2.4""#);
        let env = ise_model::env::load(&text, "example").env.unwrap();
        let plan = crate::plan::build(&env, ise_model::servicetags::ServiceTags::embedded(env.cloud), None).unwrap();
        let artifacts = crate::render::render_all(&plan);
        let items = artifact_items(&artifacts, &[]);
        for a in &artifacts {
            for k in layout(a.file_name) {
                assert!(
                    items.keys().any(|key| key.artifact == a.file_name && key.kind == k.kind),
                    "{}: no {:?} at {}",
                    a.file_name,
                    k.kind,
                    k.pointer
                );
            }
            let doc = &items[&ItemKey {
                artifact: a.file_name.to_string(),
                kind: ItemKind::Document,
                collection: None,
                name: String::new(),
            }];
            for k in layout(a.file_name) {
                let rest = doc.pointer(k.pointer).and_then(Value::as_array).map_or(0, Vec::len);
                assert_eq!(rest, 0, "{} {}", a.file_name, k.pointer);
            }
        }
        for artifact in ["firewall-policy.json", TEMPLATE] {
            assert!(
                items.keys().any(|k| k.kind == ItemKind::FirewallRule && k.artifact == artifact),
                "{artifact}"
            );
        }
        // The template's resources give up their rules, routes and rule collections like the
        // standalone files; only the resources' other fields stay in its document.
        let template_items = |kind| items.keys().filter(|k| k.artifact == TEMPLATE && k.kind == kind).count();
        assert_eq!(template_items(ItemKind::SecurityRule), plan.security_rules.len());
        assert_eq!(template_items(ItemKind::Route), plan.routes.len());
        let collections = plan.firewall.network_rule_collections.len() + plan.firewall.application_rule_collections.len();
        assert_eq!(template_items(ItemKind::RuleCollection), collections);
        assert_eq!(template_items(ItemKind::FirewallRule), plan.firewall.rule_count());
    }

    #[test]
    fn a_rule_changed_inside_the_template_is_that_rule_not_the_document() {
        let template = |prefix: &str, group_first: bool| {
            let nsg = json!({"type": "Microsoft.Network/networkSecurityGroups", "name": "[parameters('nsgName')]",
                "properties": {"securityRules": [{"name": "a", "properties": {"destinationAddressPrefix": prefix}}]}});
            let group = json!({"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "name": "g",
                "properties": {"priority": 500, "ruleCollections": [{"name": "c", "priority": 200, "rules": [{"name": "r", "destinationAddresses": [prefix]}]}]}});
            // Resource order does not matter: items are found by resource type.
            let resources = if group_first { json!([group, nsg]) } else { json!([nsg, group]) };
            artifact(TEMPLATE, json!({"resources": resources}))
        };
        assert!(compare_artifacts(&[template("Storage", false)], &[template("Storage", true)], &[])
            .iter()
            .all(|d| d.key.kind == ItemKind::Document));
        let d = compare_artifacts(&[template("Storage", false)], &[template("10.0.0.0/8", false)], &[]);
        let got: Vec<(ItemKind, Option<&str>, &str)> = d
            .iter()
            .map(|x| (x.key.kind, x.key.collection.as_deref(), x.key.name.as_str()))
            .collect();
        assert_eq!(got, [(ItemKind::SecurityRule, None, "a"), (ItemKind::FirewallRule, Some("c"), "r")]);
    }
}
