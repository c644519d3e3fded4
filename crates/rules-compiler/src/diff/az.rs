//! The `az` commands that converge the deployed resources on the desired ones, each argument quoted
//! for a POSIX shell. Order matters to Azure: deletions first (a rule cannot be renamed, and Azure
//! refuses two NSG rules of one priority and direction), then updates (NSG rules in the order
//! `nsg_order` finds), then creations.

use super::artifacts::ItemKind;
use super::drift::{Action, Compared, Drift, ItemChange};
use super::nsg_order::{self, Place, Update};
use crate::prove::findings::ArtifactKind;
use serde_json::Value;
use std::collections::BTreeSet;

/// Stands in for a firewall policy name the deployed file does not give (an ARM template's
/// parameter): the ticket says to replace it.
pub const POLICY_PLACEHOLDER: &str = "<firewall-policy-name>";

/// `arg` as one word for a POSIX shell: unchanged when it holds only characters no shell treats
/// specially, else in single quotes (a single quote inside becomes `'\''`).
pub fn quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@,+%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `sourceAddressPrefixes` -> `--source-address-prefixes`: az's options are the properties' names.
fn option(field: &str) -> String {
    let mut out = String::from("--");
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The words of a property's value: a list is one word per entry, null one empty word (it clears
/// the property); az writes application rule protocols `Https=443`.
fn values(field: &str, v: &Value) -> Vec<String> {
    let word = |v: &Value| match v {
        Value::String(s) if field == "protocols" => s.replace(':', "="),
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match v {
        Value::Array(a) => a.iter().map(word).collect(),
        other => vec![word(other)],
    }
}

/// `--option value...` for a property; nothing for an empty list or an empty new description.
fn property(field: &str, v: &Value, creating: bool) -> Option<String> {
    let words = values(field, v);
    let empty = words.is_empty() || (creating && words.iter().all(String::is_empty));
    (!empty).then(|| {
        let quoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
        format!("{} {}", option(field), quoted.join(" "))
    })
}

/// Every property of a canonical item, in its key order, except those named in `skip`.
fn properties(item: &Value, skip: &[&str]) -> Vec<String> {
    item.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .filter_map(|(k, v)| property(k, v, true))
                .collect()
        })
        .unwrap_or_default()
}

fn target_args(c: &Compared) -> String {
    let rg = quote(c.target.resource_group.as_deref().unwrap_or_default());
    let name = quote(c.target.name.as_deref().unwrap_or_default());
    match c.artifact {
        ArtifactKind::Nsg => format!("az network nsg rule {{}} --resource-group {rg} --nsg-name {name}"),
        ArtifactKind::Routes => format!("az network route-table route {{}} --resource-group {rg} --route-table-name {name}"),
        ArtifactKind::Firewall => {
            let policy = quote(c.target.policy.as_deref().unwrap_or(POLICY_PLACEHOLDER));
            format!("az network firewall policy rule-collection-group collection {{}} --resource-group {rg} --policy-name {policy} --rule-collection-group-name {name}")
        }
    }
}

/// The command that sets the resource's own properties (route table, rule collection group).
fn resource_update(c: &Compared, change: &ItemChange, out: &mut Phases) {
    let rg = quote(c.target.resource_group.as_deref().unwrap_or_default());
    let name = quote(c.target.name.as_deref().unwrap_or_default());
    let base = match c.artifact {
        ArtifactKind::Nsg => format!("az network nsg update --resource-group {rg} --name {name}"),
        ArtifactKind::Routes => format!("az network route-table update --resource-group {rg} --name {name}"),
        ArtifactKind::Firewall => {
            let policy = quote(c.target.policy.as_deref().unwrap_or(POLICY_PLACEHOLDER));
            format!("az network firewall policy rule-collection-group update --resource-group {rg} --policy-name {policy} --name {name}")
        }
    };
    let mut parts = vec![base];
    parts.extend(change.fields.iter().filter_map(|f| property(&f.field, &f.desired, false)));
    out.update.push(join(parts));
}

/// The commands, in three phases, for one compared artifact.
#[derive(Default)]
struct Phases {
    delete: Vec<String>,
    update: Vec<String>,
    create: Vec<String>,
}

fn join(parts: Vec<String>) -> String {
    parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

fn nsg_or_route(base: &str, c: &ItemChange, out: &mut Phases) {
    let verb = |v: &str| base.replace("{}", v);
    let named = |n: &str| format!("--name {}", quote(n));
    match c.action {
        Action::Remove => out.delete.push(join(vec![verb("delete"), named(&c.name)])),
        Action::Add | Action::Rename => {
            if let Some(old) = &c.deployed_name {
                out.delete.push(join(vec![verb("delete"), named(old)]));
            }
            let desired = c.desired.as_ref().unwrap_or(&Value::Null);
            let mut parts = vec![verb("create"), named(&c.name)];
            parts.extend(properties(desired, &[]));
            out.create.push(join(parts));
        }
        Action::Change => out.update.push(update(base, c)),
    }
}

/// The command that sets the properties an item changes.
fn update(base: &str, c: &ItemChange) -> String {
    let mut parts = vec![base.replace("{}", "update"), format!("--name {}", quote(&c.name))];
    parts.extend(c.fields.iter().filter_map(|f| property(&f.field, &f.desired, false)));
    join(parts)
}

/// NSG rules as routes, but with the updates ordered so that no two rules of one direction ever
/// hold one priority (`nsg_order`).
fn nsg(base: &str, compared: &Compared, changes: &[&ItemChange], out: &mut Phases) {
    let place_of = |v: &Option<Value>| v.as_ref().and_then(nsg_order::place);
    let mut held: BTreeSet<Place> = compared.held.iter().cloned().collect();
    let mut finals = held.clone();
    let mut updates = Vec::new();
    for c in changes {
        finals.extend(place_of(&c.desired));
        match c.action {
            Action::Change => match (place_of(&c.deployed), place_of(&c.desired)) {
                (Some(from), Some(to)) => updates.push(Update {
                    name: c.name.clone(),
                    from,
                    to,
                    command: update(base, c),
                }),
                _ => out.update.push(update(base, c)),
            },
            Action::Remove | Action::Rename => {
                if let Some(p) = place_of(&c.deployed) {
                    held.remove(&p);
                }
                nsg_or_route(base, c, out);
            }
            Action::Add => nsg_or_route(base, c, out),
        }
    }
    let park = |name: &str, priority: u64| {
        join(vec![
            base.replace("{}", "update"),
            format!("--name {}", quote(name)),
            format!("--priority {priority}"),
        ])
    };
    out.update.extend(nsg_order::order(updates, held, &finals, park));
}

/// Firewall rules: a changed rule is removed and added again (the rule's whole definition).
fn firewall(base: &str, changes: &[&ItemChange], out: &mut Phases) {
    let verb = |v: &str| base.replace("{}", v);
    let new_collections: Vec<&ItemChange> = changes
        .iter()
        .copied()
        .filter(|c| c.kind == ItemKind::RuleCollection && c.action == Action::Add)
        .collect();
    let gone_collections: Vec<&str> = changes
        .iter()
        .filter(|c| c.kind == ItemKind::RuleCollection && c.action == Action::Remove)
        .map(|c| c.name.as_str())
        .collect();
    let mut first_rule_used = Vec::new();
    for coll in &new_collections {
        let desired = coll.desired.as_ref().unwrap_or(&Value::Null);
        let mut parts = vec![verb("add-filter-collection"), format!("--name {}", quote(&coll.name))];
        parts.extend(desired.get("priority").and_then(|p| property("collectionPriority", p, true)));
        parts.extend(desired.get("action").and_then(|a| property("action", a, true)));
        // Azure has no empty filter collection from az: the collection comes with its first rule.
        if let Some(first) = changes
            .iter()
            .find(|c| c.kind == ItemKind::FirewallRule && c.collection.as_deref() == Some(&coll.name) && c.desired.is_some())
        {
            first_rule_used.push((coll.name.clone(), first.name.clone()));
            parts.push(format!("--rule-name {}", quote(&first.name)));
            parts.extend(properties(first.desired.as_ref().unwrap_or(&Value::Null), &[]));
        }
        out.create.push(join(parts));
    }
    for coll in &gone_collections {
        out.delete.push(join(vec![verb("remove"), format!("--name {}", quote(coll))]));
    }
    for c in changes
        .iter()
        .filter(|c| c.kind == ItemKind::RuleCollection && c.action == Action::Change)
    {
        let what: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{} {} -> {}", f.field, f.deployed, f.desired))
            .collect();
        out.update.push(format!(
            "# rule collection {}: {} (az has no update for a collection: change it in the portal or redeploy firewall-policy.json)",
            c.name,
            what.join(", ")
        ));
    }
    for c in changes.iter().filter(|c| c.kind == ItemKind::FirewallRule) {
        let collection = c.collection.as_deref().unwrap_or_default();
        let in_rule = |name: &str| format!("--collection-name {} --name {}", quote(collection), quote(name));
        let removing = matches!(c.action, Action::Remove | Action::Change | Action::Rename);
        if removing && !gone_collections.contains(&collection) {
            let old = c.deployed_name.as_deref().unwrap_or(&c.name);
            out.delete.push(join(vec![verb("rule remove"), in_rule(old)]));
        }
        let adding = c.action != Action::Remove;
        if adding && !first_rule_used.contains(&(collection.to_string(), c.name.clone())) {
            let mut parts = vec![verb("rule add"), in_rule(&c.name)];
            parts.extend(properties(c.desired.as_ref().unwrap_or(&Value::Null), &[]));
            out.create.push(join(parts));
        }
    }
}

/// Every command, deletions of all artifacts first, then updates, then creations.
pub fn commands(drift: &Drift) -> Vec<String> {
    let mut phases = Phases::default();
    for compared in &drift.compared {
        let base = target_args(compared);
        let (resource, changes): (Vec<&ItemChange>, Vec<&ItemChange>) = drift
            .changes
            .iter()
            .filter(|c| c.artifact == compared.artifact)
            .partition(|c| c.kind == ItemKind::Document);
        resource.iter().for_each(|c| resource_update(compared, c, &mut phases));
        match compared.artifact {
            ArtifactKind::Firewall => firewall(&base, &changes, &mut phases),
            ArtifactKind::Nsg => nsg(&base, compared, &changes, &mut phases),
            ArtifactKind::Routes => changes.iter().for_each(|c| nsg_or_route(&base, c, &mut phases)),
        }
    }
    [phases.delete, phases.update, phases.create].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_words_stay_and_everything_else_is_single_quoted() {
        assert_eq!(quote("10.10.0.0/16"), "10.10.0.0/16");
        assert_eq!(quote("Https=443"), "Https=443");
        assert_eq!(quote("*"), "'*'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's; rm -rf /"), r"'it'\''s; rm -rf /'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
    }

    #[test]
    fn options_are_the_kebab_case_property_names() {
        assert_eq!(option("sourceAddressPrefixes"), "--source-address-prefixes");
        assert_eq!(option("nextHopIpAddress"), "--next-hop-ip-address");
        assert_eq!(option("priority"), "--priority");
    }

    #[test]
    fn a_resources_own_properties_are_set_with_its_update_command() {
        use super::super::deployed::{Format, Target};
        use super::super::drift::FieldChange;
        let run = |artifact: ArtifactKind, policy: Option<&str>, field: &str, deployed: Value, desired: Value| {
            let compared = Compared {
                artifact,
                file: "f.json".into(),
                format: Format::AzCli,
                target: Target {
                    resource_group: Some("net rg".into()),
                    name: Some("ise".into()),
                    policy: policy.map(str::to_string),
                },
                deployed_items: 0,
                desired_items: 0,
                held: Vec::new(),
            };
            let change = ItemChange {
                artifact,
                kind: ItemKind::Document,
                collection: None,
                name: String::new(),
                action: Action::Change,
                deployed_name: None,
                fields: vec![FieldChange {
                    field: field.into(),
                    deployed,
                    desired,
                }],
                deployed: None,
                desired: None,
            };
            let mut phases = Phases::default();
            resource_update(&compared, &change, &mut phases);
            assert!(phases.delete.is_empty() && phases.create.is_empty());
            phases.update
        };
        assert_eq!(
            run(
                ArtifactKind::Routes,
                None,
                "disableBgpRoutePropagation",
                Value::Bool(true),
                Value::Bool(false)
            ),
            ["az network route-table update --resource-group 'net rg' --name ise --disable-bgp-route-propagation false"]
        );
        assert_eq!(
            run(ArtifactKind::Firewall, Some("pol"), "priority", 100.into(), 500.into()),
            ["az network firewall policy rule-collection-group update --resource-group 'net rg' --policy-name pol --name ise --priority 500"]
        );
        assert_eq!(
            run(ArtifactKind::Firewall, None, "priority", Value::Null, 500.into()),
            [format!("az network firewall policy rule-collection-group update --resource-group 'net rg' --policy-name '{POLICY_PLACEHOLDER}' --name ise --priority 500")]
        );
    }

    /// Undoes `quote` the way a POSIX shell reads one word.
    fn unquote(word: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            match c {
                '\'' => loop {
                    match chars.next()? {
                        '\'' => break,
                        c => out.push(c),
                    }
                },
                '\\' => out.push(chars.next()?),
                c if " \t\n;&|<>()$`\"*?[]#~!{}".contains(c) => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    proptest! {
        #[test]
        fn a_quoted_argument_is_one_word_the_shell_reads_back_unchanged(s in "\\PC{0,40}") {
            let q = quote(&s);
            prop_assert_eq!(unquote(&q), Some(s));
        }
    }
}
