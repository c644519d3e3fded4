//! Finding a resource inside an ARM deployment template (`azuredeploy.json`, an exported resource
//! group), so the readers take a whole template as well as a bare resource, and refusing a
//! template that deploys more than the proof of that resource would see: ARM deploys a child
//! `securityRules` or `routes` resource into its parent, a linked nested deployment deploys what
//! its link holds, and of two NSGs the file does not say which one the ISE subnets use. Proving the
//! one resource read while the template deploys more would pass a template that opens what the
//! proof never saw. A nested deployment whose template is inline (isenet's own puts the firewall
//! rules into the policy's resource group that way) is read through: its resources are read as the
//! template's own, at their paths inside it.

use super::json::Json;
use ise_model::codes::{E_TEMPLATE_TWICE, E_TEMPLATE_UNSEEN};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};

/// A resource a reader proves, as a template holds it.
pub struct Proved {
    /// Its type (`Microsoft.Network/networkSecurityGroups`).
    pub kind: &'static str,
    /// The list of its items (`securityRules`); ARM deploys items from child resources of type
    /// `kind/items` too. `None` when the resource has no child items (a rule collection group).
    pub items: Option<&'static str>,
    /// How messages name the resource and one of its items.
    pub what: &'static str,
    pub item: &'static str,
    /// The command whose output is the deployed resource alone, a file the reader proves whole.
    pub show: &'static str,
}

pub const NSG: Proved = Proved {
    kind: "Microsoft.Network/networkSecurityGroups",
    items: Some("securityRules"),
    what: "NSG",
    item: "rule",
    show: "az network nsg show -g RG -n NAME -o json",
};

pub const ROUTE_TABLE: Proved = Proved {
    kind: "Microsoft.Network/routeTables",
    items: Some("routes"),
    what: "route table",
    item: "route",
    show: "az network route-table show -g RG -n NAME -o json",
};

pub const RULE_COLLECTION_GROUP: Proved = Proved {
    kind: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
    items: None,
    what: "rule collection group",
    item: "rule collection",
    show: "az network firewall policy rule-collection-group show -g RG --policy-name POLICY -n NAME -o json",
};

const DEPLOYMENTS: &str = "Microsoft.Resources/deployments";

/// One resource of a template, nested ones included.
struct Entry<J> {
    path: String,
    /// Its full type: a nested child's short type (`securityRules`) follows its parent's.
    kind: String,
    value: J,
    /// The path of the resource it is nested in, if it is.
    parent: Option<String>,
}

impl<'v, J: Json<'v>> Entry<J> {
    fn is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    /// Its name as messages show it (a long or multi-line name cut to one line).
    fn name(&self) -> String {
        match self.value.get("name").and_then(J::as_str) {
            Some(n) => {
                let mut shown: String = n.chars().take(100).map(|c| if c.is_control() { ' ' } else { c }).collect();
                if n.chars().count() > 100 {
                    shown.push_str("...");
                }
                format!("`{shown}`")
            }
            None => "(no name)".to_string(),
        }
    }

    /// `type` `name`, as messages name the resource.
    fn named(&self) -> String {
        format!("`{}` {}", self.kind, self.name())
    }
}

/// Every resource of the template `document` (none when it is not a template), nested ones too.
fn entries<'v, J: Json<'v>>(document: J) -> Vec<Entry<J>> {
    let mut out = Vec::new();
    collect(document, "", None, &mut out);
    out
}

fn collect<'v, J: Json<'v>>(holder: J, path: &str, parent: Option<&str>, out: &mut Vec<Entry<J>>) {
    let Some(resources) = holder.get("resources").and_then(J::as_array) else {
        return;
    };
    let list = field(path, "resources");
    for (i, resource) in resources.enumerate() {
        let Some(t) = resource.get("type").and_then(J::as_str) else {
            continue;
        };
        let kind = match parent {
            Some(p) if !t.contains('/') => format!("{p}/{t}"),
            _ => t.to_string(),
        };
        let at = index(&list, i);
        collect(resource, &at, Some(&kind), out);
        if let Some(template) = inline_template(resource) {
            collect(template, &field(&field(&at, "properties"), "template"), None, out);
        }
        out.push(Entry {
            path: at,
            kind,
            value: resource,
            parent: parent.map(|_| path.to_string()),
        });
    }
}

/// The template a nested deployment holds inline (`properties.template`, no `templateLink`): what
/// it deploys is there to read.
fn inline_template<'v, J: Json<'v>>(resource: J) -> Option<J> {
    let is_deployment = resource
        .get("type")
        .and_then(J::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(DEPLOYMENTS));
    let properties = resource.get("properties").filter(|_| is_deployment)?;
    match properties.get("templateLink") {
        Some(_) => None,
        None => properties.get("template").filter(|t| t.is_object()),
    }
}

/// The resources a template deploys at its top, those of its inline nested deployments included,
/// each with its path (`resources[3]`, `resources[7].properties.template.resources[0]`).
pub(crate) fn top_level<'v, J: Json<'v>>(document: J) -> Vec<(String, J)> {
    entries(document)
        .into_iter()
        .filter(|e| e.parent.is_none())
        .map(|e| (e.path, e.value))
        .collect()
}

/// The one resource of `proved.kind` at the top of the template, with its JSON path prefix
/// (`resources[2].`); `Ok(None)` when `document` is not a template or holds no such resource.
/// Refused: a template holding two, or anything the proof of that one would not see.
pub(crate) fn resource<'v, J: Json<'v>>(document: J, proved: &Proved) -> Result<Option<(String, J)>, Vec<Diagnostic>> {
    let all = entries(document);
    let found: Vec<&Entry<J>> = all.iter().filter(|e| e.parent.is_none() && e.is(proved.kind)).collect();
    let mut diags = unseen_in(&all, &[proved]);
    if let [first, rest @ ..] = found.as_slice() {
        diags.extend(rest.iter().map(|second| twice(proved, first, second)));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(found.first().map(|e| (format!("{}.", e.path), e.value)))
}

/// What the template deploys that the proofs of `proved` would not see: each such resource once,
/// at its path.
pub(crate) fn unseen<'v, J: Json<'v>>(document: J, proved: &[&Proved]) -> Vec<Diagnostic> {
    unseen_in(&entries(document), proved)
}

/// [`unseen`] for every kind a reader proves, located in `file` (`diff`, which reads every kind a
/// template holds, refuses these before telling the kinds).
pub fn unseen_by_any_reader(text: &str, file: &str) -> Vec<Diagnostic> {
    match ise_model::jsondoc::tree::parse(text, file, E_TEMPLATE_UNSEEN) {
        Ok(tree) => super::locate(unseen(tree.root(), &[&NSG, &ROUTE_TABLE, &RULE_COLLECTION_GROUP]), &tree, file),
        Err(diags) => diags,
    }
}

fn unseen_in<'v, J: Json<'v>>(all: &[Entry<J>], proved: &[&Proved]) -> Vec<Diagnostic> {
    let shows = proved.iter().map(|p| format!("`{}`", p.show)).collect::<Vec<_>>().join(" or ");
    let mut diags = Vec::new();
    for e in all {
        if e.is(DEPLOYMENTS) && inline_template(e.value).is_none() {
            diags.push(
                Diagnostic::error(
                    E_TEMPLATE_UNSEEN,
                    e.path.clone(),
                    format!(
                        "{}: a nested deployment of a linked template, whose resources the proof does not see",
                        e.named()
                    ),
                )
                .with_help(format!(
                    "prove the template it deploys on its own, or the deployed resource: {shows}"
                )),
            );
            continue;
        }
        let proved_kind = proved
            .iter()
            .any(|p| e.is(p.kind) || p.items.is_some_and(|items| e.is(&format!("{}/{items}", p.kind))));
        if proved_kind {
            if let Some(d) = evaluated_by_arm(e, &shows) {
                diags.push(d);
                continue;
            }
        }
        let refusal = proved.iter().find_map(|p| {
            if let (Some(parent), true) = (&e.parent, e.is(p.kind)) {
                return Some(nested(p, e, parent));
            }
            let items = p.items?;
            let child = e.is(&format!("{}/{items}", p.kind)) && !is_copy(all, p, items, e);
            child.then(|| outside(p, items, e))
        });
        diags.extend(refusal);
    }
    diags
}

/// A resource the proof would read other than ARM deploys it: a `condition` (ARM deploys the
/// resource only when it holds) or a `copy` loop, on the resource (ARM deploys it once per
/// iteration) or in its `properties` (ARM builds the listed rules or routes from it). The proof
/// evaluates no template expressions, so it cannot say what such a resource holds.
fn evaluated_by_arm<'v, J: Json<'v>>(e: &Entry<J>, shows: &str) -> Option<Diagnostic> {
    let at_properties = e.value.get("properties").and_then(|p| p.get("copy")).map(|_| "properties.copy");
    let what = match (e.value.get("condition"), e.value.get("copy"), at_properties) {
        (Some(c), _, _) if c.as_bool() != Some(true) => ("condition", "a `condition`, which decides whether ARM deploys it"),
        (_, Some(_), _) => ("copy", "a `copy` loop, which ARM deploys once per iteration"),
        (_, _, Some(path)) => (path, "a `properties.copy` loop, from which ARM builds its items"),
        _ => return None,
    };
    Some(
        Diagnostic::error(
            E_TEMPLATE_UNSEEN,
            field(&e.path, what.0),
            format!("{}: {}; the proof evaluates no template expressions", e.named(), what.1),
        )
        .with_help(format!("prove the deployed resource instead: {shows}")),
    )
}

/// A child item whose `properties` are those of an item its template's one parent lists: an
/// exported resource group lists each rule and route both ways. It changes nothing: deployed
/// under the name of that item it rewrites the item as it is, under another Azure refuses it (two
/// rules of one priority and direction, two routes of one prefix), and into another parent it
/// leaves the proved one alone.
fn is_copy<'v, J: Json<'v>>(all: &[Entry<J>], proved: &Proved, items: &str, child: &Entry<J>) -> bool {
    let parents: Vec<&Entry<J>> = all.iter().filter(|e| e.parent.is_none() && e.is(proved.kind)).collect();
    let (Some(properties), [parent]) = (child.value.get("properties").filter(|p| p.is_object()), parents.as_slice()) else {
        return false;
    };
    let properties = properties.to_value();
    let listed = parent.value.get("properties").and_then(|p| p.get(items)?.as_array());
    listed.is_some_and(|mut listed| listed.any(|item| item.get("properties").is_some_and(|p| p.to_value() == properties)))
}

fn outside<'v, J: Json<'v>>(proved: &Proved, items: &str, e: &Entry<J>) -> Diagnostic {
    Diagnostic::error(
        E_TEMPLATE_UNSEEN,
        e.path.clone(),
        format!(
            "{}: ARM deploys this {} into its {}, and the proof reads only the {}'s `properties.{items}`",
            e.named(),
            proved.item,
            proved.what,
            proved.what
        ),
    )
    .with_help(format!(
        "move the {} into the {}'s `properties.{items}` (a child resource repeating one of them exactly, as an exported template lists them, is accepted), or prove the deployed {}: `{}`",
        proved.item, proved.what, proved.what, proved.show
    ))
}

fn nested<'v, J: Json<'v>>(proved: &Proved, e: &Entry<J>, parent: &str) -> Diagnostic {
    Diagnostic::error(
        E_TEMPLATE_UNSEEN,
        e.path.clone(),
        format!(
            "{}: nested in the resource at {parent}, where the proof does not read a {}",
            e.named(),
            proved.what
        ),
    )
    .with_help(format!(
        "list the {} in the template's top-level `resources`, or prove it alone: `{}`",
        proved.what, proved.show
    ))
}

fn twice<'v, J: Json<'v>>(proved: &Proved, first: &Entry<J>, second: &Entry<J>) -> Diagnostic {
    Diagnostic::error(
        E_TEMPLATE_TWICE,
        second.path.clone(),
        format!(
            "{}: a second {}, besides {} at {}; which one the ISE subnets use is not known",
            second.named(),
            proved.what,
            first.name(),
            first.path
        ),
    )
    .with_help(format!(
        "prove the {} of the ISE subnets alone: `{}`, or a template holding only that one",
        proved.what, proved.show
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const RULE: &str = "Microsoft.Network/networkSecurityGroups/securityRules";

    fn codes(template: &Value, proved: &Proved) -> Vec<(&'static str, String)> {
        match resource(template, proved) {
            Ok(_) => Vec::new(),
            Err(d) => d.into_iter().map(|d| (d.code, d.path)).collect(),
        }
    }

    fn nsg(rules: Value) -> Value {
        json!({ "type": NSG.kind, "name": "n", "properties": { "securityRules": rules } })
    }

    #[test]
    fn finds_the_resource_of_the_type_and_its_path() {
        let t = json!({ "resources": [ { "type": "Microsoft.Network/routeTables" }, { "type": "microsoft.network/networkSecurityGroups", "name": "n" } ] });
        let (path, r) = resource(&t, &NSG).unwrap().unwrap();
        assert_eq!((path.as_str(), &r["name"]), ("resources[1].", &json!("n")));
        assert!(resource(&json!({ "resources": [] }), &NSG).unwrap().is_none());
        assert!(resource(&json!({ "properties": {} }), &NSG).unwrap().is_none());
    }

    /// ARM deploys a child rule into its NSG, top-level or nested in the NSG with its short type;
    /// the route reader has no business with NSG rules.
    #[test]
    fn child_items_are_refused_where_they_are() {
        let open = json!({ "access": "Allow", "priority": 300 });
        let t = json!({ "resources": [
            { "type": NSG.kind, "name": "n", "properties": { "securityRules": [] },
              "resources": [ { "type": "securityRules", "name": "rdp", "properties": open } ] },
            { "type": RULE, "name": "n/rdp2", "properties": open },
        ] });
        assert_eq!(
            codes(&t, &NSG),
            [
                (E_TEMPLATE_UNSEEN, "resources[0].resources[0]".to_string()),
                (E_TEMPLATE_UNSEEN, "resources[1]".to_string())
            ]
        );
        assert_eq!(codes(&t, &ROUTE_TABLE), []);
    }

    /// An exported template lists each rule inline and as a child: a child with the properties of
    /// an inline rule is that rule; one that differs in any property is refused.
    #[test]
    fn a_child_repeating_an_inline_item_is_accepted() {
        let p = json!({ "access": "Deny", "priority": 100, "direction": "Inbound" });
        let changed = json!({ "access": "Allow", "priority": 100, "direction": "Inbound" });
        let copy = json!({ "type": RULE, "name": "[concat(parameters('n'), '/deny')]", "properties": p });
        let t = json!({ "resources": [ nsg(json!([{ "name": "deny", "properties": p }])), copy ] });
        assert_eq!(codes(&t, &NSG), []);
        let t = json!({ "resources": [ nsg(json!([{ "name": "deny", "properties": p }])), { "type": RULE, "name": "n/deny", "properties": changed } ] });
        assert_eq!(codes(&t, &NSG), [(E_TEMPLATE_UNSEEN, "resources[1]".to_string())]);
        // No NSG to repeat: the child is refused.
        let t = json!({ "resources": [ copy ] });
        assert_eq!(codes(&t, &NSG), [(E_TEMPLATE_UNSEEN, "resources[0]".to_string())]);
    }

    #[test]
    fn nested_deployments_and_second_resources_are_refused() {
        let t = json!({ "resources": [
            nsg(json!([])),
            { "type": "Microsoft.Resources/deployments", "name": "inner", "properties": { "templateLink": { "uri": "https://example.com/t.json" } } },
            { "type": NSG.kind, "name": "other", "properties": { "securityRules": [] } },
        ] });
        assert_eq!(
            codes(&t, &NSG),
            [
                (E_TEMPLATE_UNSEEN, "resources[1]".to_string()),
                (E_TEMPLATE_TWICE, "resources[2]".to_string())
            ]
        );
        let d = resource(&t, &NSG).unwrap_err();
        assert!(
            d[1].message.contains("`other`") && d[1].message.contains("`n` at resources[0]"),
            "{}",
            d[1].message
        );
        // A rule collection group inside its policy is not read: refused.
        let t = json!({ "resources": [ { "type": "Microsoft.Network/firewallPolicies", "name": "p",
            "resources": [ { "type": "ruleCollectionGroups", "name": "g" } ] } ] });
        let d = unseen(&t, &[&RULE_COLLECTION_GROUP]);
        assert_eq!(d.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["resources[0].resources[0]"]);
    }

    /// An inline nested deployment deploys its template's resources: they are read where they are,
    /// and refused as the template's own would be.
    #[test]
    fn inline_nested_deployments_are_read_through() {
        let deployment = |resources: Value| {
            json!({ "type": "Microsoft.Resources/deployments", "name": "inner", "resourceGroup": "hub",
                "properties": { "mode": "Incremental", "template": { "resources": resources } } })
        };
        let group = json!({ "type": RULE_COLLECTION_GROUP.kind, "name": "p/g", "properties": { "ruleCollections": [] } });
        let t = json!({ "resources": [ nsg(json!([])), deployment(json!([group])) ] });
        let (at, found) = resource(&t, &RULE_COLLECTION_GROUP).unwrap().unwrap();
        assert_eq!(at, "resources[1].properties.template.resources[0].");
        assert_eq!(found["name"], "p/g");
        assert_eq!(resource(&t, &NSG).unwrap().unwrap().0, "resources[0].");
        assert_eq!(
            top_level(&t).iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["resources[0]", "resources[1].properties.template.resources[0]", "resources[1]"]
        );
        // A second NSG inside, or a child rule inside, is refused at its own path.
        let t = json!({ "resources": [ nsg(json!([])), deployment(json!([nsg(json!([]))])) ] });
        assert_eq!(
            codes(&t, &NSG),
            [(E_TEMPLATE_TWICE, "resources[1].properties.template.resources[0]".to_string())]
        );
        let rule = json!({ "type": RULE, "name": "n/rdp", "properties": { "access": "Allow" } });
        let t = json!({ "resources": [ nsg(json!([])), deployment(json!([rule])) ] });
        assert_eq!(
            codes(&t, &NSG),
            [(E_TEMPLATE_UNSEEN, "resources[1].properties.template.resources[0]".to_string())]
        );
    }
}
