//! The `az` commands that converge the deployed resources on the desired ones, each argument quoted
//! for a POSIX shell. Order matters to Azure: deletions first (Azure refuses two NSG rules of one
//! priority and direction), then updates (NSG rules in the order `nsg_order` finds), then
//! creations; a deny rule, or the old name of a renamed rule, goes last, so no step opens what both
//! states deny or cuts what both allow; bridge routes around them keep a replaced route's traffic
//! where it went (`az/routes.rs`).

use super::artifacts::ItemKind;
use super::drift::{Action, Compared, Drift, ItemChange, Unassociated};
use super::nsg_order::{self, Place, Update};
use crate::prove::findings::ArtifactKind;
use serde_json::Value;
use std::collections::BTreeSet;

mod routes;
use routes::routes;

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

/// The resource-group option of an az command: `--resource-group=VALUE` when the value starts
/// with `-` (a name Azure allows, which az's argument parser would take for an option after a
/// space), else `--resource-group VALUE`; quoted for the shell either way.
pub fn resource_group_option(group: &str) -> String {
    match group.starts_with('-') {
        true => format!("--resource-group={}", quote(group)),
        false => format!("--resource-group {}", quote(group)),
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

/// The words of a property's value: a list is one word per entry, null the word `null`, which
/// unsets the property in az's generated (AAZ) update commands, `nsg rule update` and
/// `route-table route update` among them (an empty string would set it to ""); az writes
/// application rule protocols `Https=443`.
fn values(field: &str, v: &Value) -> Vec<String> {
    let word = |v: &Value| match v {
        Value::String(s) if field == "protocols" => s.replace(':', "="),
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    };
    match v {
        Value::Array(a) => a.iter().map(word).collect(),
        other => vec![word(other)],
    }
}

/// `--option value...` for a property; nothing for an empty list, or a null or empty new one.
fn property(field: &str, v: &Value, creating: bool) -> Option<String> {
    let words = values(field, v);
    let empty = words.is_empty() || (creating && (v.is_null() || words.iter().all(String::is_empty)));
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

/// The resource's resource group, and its subscription when it is not the environment's (which
/// every command block selects first).
fn scope_options(c: &Compared) -> String {
    let group = resource_group_option(c.target.resource_group.as_deref().unwrap_or_default());
    match &c.target.subscription {
        Some(s) => format!("--subscription {} {group}", quote(s)),
        None => group,
    }
}

fn target_args(c: &Compared) -> String {
    let rg = scope_options(c);
    let name = quote(c.target.name.as_deref().unwrap_or_default());
    match c.artifact {
        ArtifactKind::Nsg => format!("az network nsg rule {{}} {rg} --nsg-name {name}"),
        ArtifactKind::Routes => format!("az network route-table route {{}} {rg} --route-table-name {name}"),
        ArtifactKind::Firewall => {
            let policy = quote(c.target.policy.as_deref().unwrap_or(POLICY_PLACEHOLDER));
            format!("az network firewall policy rule-collection-group collection {{}} {rg} --policy-name {policy} --rule-collection-group-name {name}")
        }
    }
}

/// The command that sets the resource's own properties (route table, rule collection group).
fn resource_update(c: &Compared, change: &ItemChange, out: &mut Phases) {
    let rg = scope_options(c);
    let name = quote(c.target.name.as_deref().unwrap_or_default());
    let base = match c.artifact {
        ArtifactKind::Nsg => format!("az network nsg update {rg} --name {name}"),
        ArtifactKind::Routes => format!("az network route-table update {rg} --name {name}"),
        ArtifactKind::Firewall => {
            let policy = quote(c.target.policy.as_deref().unwrap_or(POLICY_PLACEHOLDER));
            format!("az network firewall policy rule-collection-group update {rg} --policy-name {policy} --name {name}")
        }
    };
    let mut parts = vec![base];
    parts.extend(change.fields.iter().filter_map(|f| property(&f.field, &f.desired, false)));
    out.update.push(join(parts));
}

/// The commands of one compared artifact, by phase (see [`commands`] for their order).
#[derive(Default)]
struct Phases {
    /// Bridge routes, made before anything is deleted (see `routes`).
    bridge: Vec<String>,
    delete: Vec<String>,
    update: Vec<String>,
    create: Vec<String>,
    /// Deny rules whose place only a new rule needs: deleted after the updates, just before the
    /// creations.
    before_create: Vec<String>,
    /// Deny rules whose place nothing needs: deleted once everything is in place, so no step
    /// opens what neither the deployed nor the desired state allows.
    late_delete: Vec<String>,
    /// The bridge routes' deletion, once everything is in place.
    unbridge: Vec<String>,
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

/// The address fields of an NSG rule. az takes `*` (any address) for one a create leaves out and
/// keeps the deployed one for one an update leaves out, so every NSG command states both.
const NSG_ADDRESSES: [&str; 2] = ["destinationAddressPrefixes", "sourceAddressPrefixes"];

/// An NSG rule's create (`all`: every property of `item`) or update (the properties in `changed`),
/// each with both address fields; a `#` comment instead when an address field has nothing to write.
fn nsg_command(verb: &str, name: &str, item: &Value, all: bool, changed: &[&str]) -> String {
    let Some(fields) = item.as_object() else {
        return format!("# {name}: no rule to write");
    };
    if let Some(empty) = NSG_ADDRESSES
        .iter()
        .find(|f| fields.get(**f).and_then(|v| property(f, v, true)).is_none())
    {
        return format!("# {name} is left out: its {empty} is empty, and az would take `*` (any address) for it");
    }
    let mut parts = vec![verb.to_string(), format!("--name {}", quote(name))];
    parts.extend(
        fields
            .iter()
            .filter(|(k, _)| all || changed.contains(&k.as_str()) || NSG_ADDRESSES.contains(&k.as_str()))
            .filter_map(|(k, v)| property(k, v, all)),
    );
    join(parts)
}

/// NSG rules: deletions and creations as routes', updates ordered so that no two rules of one
/// direction ever hold one priority (`nsg_order`), every create and update with both addresses.
fn nsg(base: &str, compared: &Compared, changes: &[&ItemChange], out: &mut Phases) {
    let verb = |v: &str| base.replace("{}", v);
    let place_of = |v: &Option<Value>| v.as_ref().and_then(nsg_order::place);
    let mut held: BTreeSet<Place> = compared.held.iter().cloned().collect();
    let mut finals = held.clone();
    let wanted: BTreeSet<Place> = changes.iter().filter_map(|c| place_of(&c.desired)).collect();
    let wanted_by_updates: BTreeSet<Place> = changes
        .iter()
        .filter(|c| c.action == Action::Change)
        .filter_map(|c| place_of(&c.desired))
        .collect();
    let mut updates = Vec::new();
    for c in changes {
        let deployed_place = place_of(&c.deployed);
        let is_deny = c.deployed.as_ref().and_then(|d| d.get("access")).and_then(Value::as_str) == Some("Deny");
        if c.action == Action::Remove && is_deny && deployed_place.as_ref().is_none_or(|p| !wanted_by_updates.contains(p)) {
            // It keeps its place (held) while the other rules change: to the end, or until a new
            // rule takes its place.
            let delete = join(vec![verb("delete"), format!("--name {}", quote(&c.name))]);
            match deployed_place.as_ref().is_some_and(|p| wanted.contains(p)) {
                true => out.before_create.push(delete),
                false => out.late_delete.push(delete),
            }
            continue;
        }
        finals.extend(place_of(&c.desired));
        let desired = c.desired.as_ref().unwrap_or(&Value::Null);
        match c.action {
            Action::Change => {
                let changed: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
                let command = nsg_command(&verb("update"), &c.name, desired, false, &changed);
                match (place_of(&c.deployed), place_of(&c.desired)) {
                    (Some(from), Some(to)) => updates.push(Update {
                        name: c.name.clone(),
                        rank: nsg_order::rank(if is_deny { "Deny" } else { "Allow" }, &from, &to),
                        from,
                        to,
                        command,
                    }),
                    _ => out.update.push(command),
                }
            }
            Action::Remove => out.delete.push(join(vec![verb("delete"), format!("--name {}", quote(&c.name))])),
            // (A name that differs only in case is no rename: `drift` pairs it as one rule.)
            Action::Rename => {
                // The new rule stands before the old one goes, so no step admits what both deny
                // or cuts what both allow.
                let old = c.deployed_name.as_deref().unwrap_or_default();
                let delete = join(vec![verb("delete"), format!("--name {}", quote(old))]);
                let (from, to) = (place_of(&c.deployed), place_of(&c.desired));
                match (&from, &to) {
                    // Another rule moves into the old place: the old rule goes first, as a removal.
                    (Some(f), _) if wanted_by_updates.contains(f) => {
                        out.delete.push(delete);
                        held.remove(f);
                        out.create.push(nsg_command(&verb("create"), &c.name, desired, true, &[]));
                    }
                    // The same place: the new rule waits at a free priority next to it until the
                    // old one is gone, then moves in.
                    (Some(f), Some(t)) if f == t => {
                        let taken: BTreeSet<Place> = held.union(&finals).cloned().chain(wanted.iter().cloned()).collect();
                        match nsg_order::free_place(&t.0, t.1, &taken, &BTreeSet::new()) {
                            Some(temp) => {
                                let mut parked = desired.clone();
                                if let Some(o) = parked.as_object_mut() {
                                    o.insert("priority".into(), temp.1.into());
                                }
                                out.create.push(nsg_command(&verb("create"), &c.name, &parked, true, &[]));
                                out.late_delete.push(delete);
                                out.late_delete
                                    .push(nsg_command(&verb("update"), &c.name, desired, false, &["priority"]));
                            }
                            None => {
                                out.delete.push(delete);
                                held.remove(f);
                                out.create.push(nsg_command(&verb("create"), &c.name, desired, true, &[]));
                            }
                        }
                    }
                    // A place of its own: create, then delete the old rule once everything is in
                    // place (or just before the creations, when a new rule takes its place).
                    _ => {
                        out.create.push(nsg_command(&verb("create"), &c.name, desired, true, &[]));
                        match from.as_ref().is_some_and(|f| wanted.contains(f)) {
                            true => {
                                out.before_create.push(delete);
                                if let Some(f) = &from {
                                    held.remove(f);
                                }
                            }
                            false => out.late_delete.push(delete),
                        }
                    }
                }
            }
            Action::Add => out.create.push(nsg_command(&verb("create"), &c.name, desired, true, &[])),
        }
        if c.action == Action::Remove {
            if let Some(p) = place_of(&c.deployed) {
                held.remove(&p);
            }
        }
    }
    // A parked rule keeps its deployed addresses: only its priority moves.
    let park = |name: &str, priority: u64| {
        let mut item = changes
            .iter()
            .find(|c| c.action == Action::Change && c.name == name)
            .and_then(|c| c.deployed.clone())
            .unwrap_or(Value::Null);
        if let Some(o) = item.as_object_mut() {
            o.insert("priority".into(), priority.into());
        }
        nsg_command(&verb("update"), name, &item, false, &["priority"])
    };
    out.update.extend(nsg_order::order(updates, held, &finals, park));
}

/// Firewall rules: a changed rule is updated in place where `rule update` can set what differs,
/// else removed and added again (the rule's whole definition).
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
    // Rules added under a name a removed rule has (moved into another collection): the old one goes
    // once the new is in place, so the traffic it allowed is not cut in between. So does a
    // removed allow collection whose rules move, unless an added collection takes its priority
    // (then it is bridged: `bridge_collections`).
    let re_added: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.kind == ItemKind::FirewallRule && c.action == Action::Add)
        .map(|c| c.name.as_str())
        .collect();
    let added_priorities: BTreeSet<u64> = new_collections
        .iter()
        .filter_map(|c| c.desired.as_ref()?.get("priority")?.as_u64())
        .collect();
    for coll in changes
        .iter()
        .filter(|c| c.kind == ItemKind::RuleCollection && c.action == Action::Remove)
    {
        let deployed = coll.deployed.as_ref().unwrap_or(&Value::Null);
        let allows = deployed.get("action") == Some(&Value::from("Allow"));
        let free_priority = deployed
            .get("priority")
            .and_then(Value::as_u64)
            .is_some_and(|p| !added_priorities.contains(&p));
        let moved = changes
            .iter()
            .any(|c| c.kind == ItemKind::FirewallRule && c.collection.as_deref() == Some(&coll.name) && re_added.contains(c.name.as_str()));
        let remove = join(vec![verb("remove"), format!("--name {}", quote(&coll.name))]);
        match allows && free_priority && moved {
            true => out.late_delete.push(remove),
            false => out.delete.push(remove),
        }
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
        let old = c.deployed_name.as_deref().unwrap_or(&c.name);
        let case_only = c.action == Action::Rename && old != c.name && old.eq_ignore_ascii_case(&c.name);
        if case_only {
            // Azure does not tell names apart by case: the deployed rule is the desired one.
            out.update.push(format!(
                "# {old} is {} in the compiled policy: Azure takes them as one name",
                c.name
            ));
            if c.fields.is_empty() {
                continue;
            }
        }
        if (c.action == Action::Change || case_only) && updatable_in_place(c) {
            // Every desired property: az keeps a property the command leaves out, and its
            // application-rule update needs --protocols. (It takes no --rule-type.)
            let mut parts = vec![verb("rule update"), in_rule(old)];
            parts.extend(properties(c.desired.as_ref().unwrap_or(&Value::Null), &["ruleType"]));
            out.update.push(join(parts));
            continue;
        }
        let removing = matches!(c.action, Action::Remove | Action::Change | Action::Rename);
        if removing && !gone_collections.contains(&collection) {
            let remove = join(vec![verb("rule remove"), in_rule(old)]);
            // A renamed rule has no priority to collide on: the new one is added before the old
            // one goes, so its traffic is never cut.
            let moved = c.action == Action::Remove && re_added.contains(c.name.as_str());
            match (c.action == Action::Rename && !case_only) || moved {
                true => out.late_delete.push(remove),
                false => out.delete.push(remove),
            }
        }
        let adding = c.action != Action::Remove;
        if adding && !first_rule_used.contains(&(collection.to_string(), c.name.clone())) {
            let mut parts = vec![verb("rule add"), in_rule(&c.name)];
            parts.extend(properties(c.desired.as_ref().unwrap_or(&Value::Null), &[]));
            out.create.push(join(parts));
        }
    }
}

/// A removed allow collection whose rules an added collection takes over (a renamed or replaced
/// collection) would cut the traffic it allowed from its removal until the new one and its rules
/// are in place: minutes, as each policy update takes. Its rules are kept by a bridge collection
/// made first and removed last, at the free priority nearest its own with no deny collection
/// between them (so it decides what the removed one decided; az can neither add a collection at a
/// taken priority for certain nor change one's priority). Without such a priority a `#` comment
/// says the traffic is cut in between.
fn bridge_collections(base: &str, compared: &Compared, changes: &[&ItemChange], out: &mut Phases) {
    let verb = |v: &str| base.replace("{}", v);
    let is_collection = |c: &&&ItemChange| c.kind == ItemKind::RuleCollection;
    let added: BTreeSet<&str> = changes
        .iter()
        .filter(is_collection)
        .filter(|c| c.action == Action::Add)
        .map(|c| c.name.as_str())
        .collect();
    let rules_of = |collection: &str| -> Vec<&&ItemChange> {
        changes
            .iter()
            .filter(|c| c.kind == ItemKind::FirewallRule && c.collection.as_deref() == Some(collection))
            .collect()
    };
    let taken_over: BTreeSet<&str> = added
        .iter()
        .flat_map(|a| rules_of(a))
        .filter(|c| c.desired.is_some())
        .map(|c| c.name.as_str())
        .collect();
    let mut taken: BTreeSet<u64> = compared.collections.iter().map(|(p, _)| *p).collect();
    let denies: Vec<u64> = compared.collections.iter().filter(|(_, deny)| *deny).map(|(p, _)| *p).collect();
    let mut names: BTreeSet<String> = changes.iter().filter_map(|c| c.collection.clone()).collect();
    names.extend(changes.iter().filter(is_collection).map(|c| c.name.clone()));
    for gone in changes.iter().filter(is_collection).filter(|c| c.action == Action::Remove) {
        let deployed = gone.deployed.as_ref().unwrap_or(&Value::Null);
        let (Some(priority), true) = (
            deployed.get("priority").and_then(Value::as_u64),
            deployed.get("action") == Some(&Value::from("Allow")),
        ) else {
            continue;
        };
        let rules: Vec<&&ItemChange> = rules_of(&gone.name).into_iter().filter(|c| c.deployed.is_some()).collect();
        if !rules.iter().any(|r| taken_over.contains(r.name.as_str())) {
            continue;
        }
        let Some(at) = bridge_priority(priority, &taken, &denies) else {
            out.bridge.push(format!(
                "# No free priority beside {}'s {priority} without a deny collection between: its traffic is cut from its removal until the collection replacing it is in place; run this block in one go",
                gone.name
            ));
            continue;
        };
        taken.insert(at);
        let bridge = bridge_name(&gone.name, &names);
        names.insert(bridge.clone());
        let rule = |c: &ItemChange| properties(c.deployed.as_ref().unwrap_or(&Value::Null), &[]);
        let [first, rest @ ..] = rules.as_slice() else { continue };
        let mut parts = vec![
            verb("add-filter-collection"),
            format!("--name {}", quote(&bridge)),
            format!("--collection-priority {at}"),
            "--action Allow".to_string(),
            format!("--rule-name {}", quote(&first.name)),
        ];
        parts.extend(rule(first));
        out.bridge
            .push(format!("# {bridge} keeps the rules of {} while it is replaced", gone.name));
        out.bridge.push(join(parts));
        for c in rest {
            let mut parts = vec![
                verb("rule add"),
                format!("--collection-name {} --name {}", quote(&bridge), quote(&c.name)),
            ];
            parts.extend(rule(c));
            out.bridge.push(join(parts));
        }
        out.unbridge.push(join(vec![verb("remove"), format!("--name {}", quote(&bridge))]));
    }
}

/// The free priority nearest `priority` (Azure's 100-65,000) with no deny collection between the
/// two, the lower one first at equal distance.
fn bridge_priority(priority: u64, taken: &BTreeSet<u64>, denies: &[u64]) -> Option<u64> {
    let free_towards = |down: bool| -> Option<u64> {
        let mut q = priority;
        loop {
            q = if down { q.checked_sub(1)? } else { q + 1 };
            // Past a deny collection the bridge would decide after it instead of before, or the
            // other way round.
            if !(100..=65_000).contains(&q) || denies.contains(&q) {
                return None;
            }
            if !taken.contains(&q) {
                return Some(q);
            }
        }
    };
    match (free_towards(true), free_towards(false)) {
        (Some(below), Some(above)) => Some(if priority - below <= above - priority { below } else { above }),
        (below, above) => below.or(above),
    }
}

/// `<collection>-bridge` (`-bridge-2`, ... when taken), within Azure's 80 characters of a name.
fn bridge_name(collection: &str, names: &BTreeSet<String>) -> String {
    (1..)
        .map(|n| {
            let suffix = match n {
                1 => "-bridge".to_string(),
                n => format!("-bridge-{n}"),
            };
            let room = 80 - suffix.len();
            let base: String = collection.chars().take(room).collect();
            format!("{base}{suffix}")
        })
        .find(|n| !names.iter().any(|taken| taken.eq_ignore_ascii_case(n)))
        .unwrap_or_default()
}

/// Whether `rule update` can make a changed firewall rule what is desired: it sets each property
/// it is given and keeps the others, so it cannot empty one (a deployed rule's
/// destinationAddresses, fqdnTags or terminateTLS that the compiled rule lacks): such a rule is
/// removed and added again.
fn updatable_in_place(c: &ItemChange) -> bool {
    let empty = |v: &Value| match v {
        Value::Null | Value::Bool(false) => true,
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    c.fields.iter().all(|f| !empty(&f.desired) || empty(&f.deployed))
}

/// The optional commands that align the rules' metadata (descriptions): NSG rules and firewall
/// rules are both updated in place, so they touch no traffic.
pub fn metadata_commands(drift: &Drift) -> Vec<String> {
    let mut out = Vec::new();
    for compared in &drift.compared {
        let base = target_args(compared);
        let update = base.replace("{}", "update");
        let items = drift.metadata.iter().filter(|c| c.artifact == compared.artifact);
        for c in items {
            let desired = c.desired.as_ref().unwrap_or(&Value::Null);
            match c.kind {
                ItemKind::SecurityRule => {
                    let changed: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
                    out.push(nsg_command(&update, &c.name, desired, false, &changed));
                }
                ItemKind::FirewallRule => {
                    let collection = c.collection.as_deref().unwrap_or_default();
                    let mut parts = vec![
                        base.replace("{}", "rule update"),
                        format!("--collection-name {} --name {}", quote(collection), quote(&c.name)),
                    ];
                    parts.extend(properties(desired, &["ruleType"]));
                    out.push(join(parts));
                }
                _ => {}
            }
        }
    }
    out
}

/// Every command: bridge routes, deletions of all artifacts, updates, creations, then the bridge
/// routes' deletion. Across artifacts, what the firewall must allow is in place before a route
/// sends traffic to it (firewall updates and creations first, routes last), and a route stops
/// sending traffic to the firewall before the rules that traffic needed go (route deletions
/// first): otherwise traffic both states allow is cut in between.
pub fn commands(drift: &Drift) -> Vec<String> {
    let mut out = commands_for(&drift.compared, &drift.changes);
    // Last: a subnet takes the NSG or route table once its rules or routes are converged.
    out.extend(drift.unassociated.iter().map(|u| {
        let option = match u.artifact {
            ArtifactKind::Routes => "--route-table",
            _ => "--network-security-group",
        };
        match &u.other_subscription {
            Some(other) => format!(
                "# {} is in subscription {other}: Azure associates subnet {} only with one of its virtual network's subscription; deploy it there",
                u.resource, u.subnet
            ),
            None => format!("{} {option} {}", subnet_update(u), quote(&u.resource)),
        }
    }));
    out
}

/// The association commands turned around: each subnet goes back to the NSG or route table the
/// file shows it on (a template's subnets say it), or else leaves the one the ticket put it on:
/// what it had before is not in the exports, so it is left with none.
pub fn dissociation_commands(drift: &Drift) -> Vec<String> {
    let undone: Vec<&Unassociated> = drift.unassociated.iter().filter(|u| u.other_subscription.is_none()).collect();
    let unknown = undone.iter().any(|u| u.now_on.is_none());
    let note = unknown.then(|| {
        "# What the subnets below without one had before the ticket is not in the exports (`az network vnet subnet show` says it): they are left with none.".to_string()
    });
    let commands = undone.into_iter().map(|u| {
        let (property, option) = match u.artifact {
            ArtifactKind::Routes => ("routeTable", "--route-table"),
            _ => ("networkSecurityGroup", "--network-security-group"),
        };
        match &u.now_on {
            Some(before) => format!("{} {option} {}", subnet_update(u), quote(before)),
            None => format!("{} --remove {property}", subnet_update(u)),
        }
    });
    note.into_iter().chain(commands).collect()
}

/// `az network vnet subnet update` of the subnet `u` names.
fn subnet_update(u: &Unassociated) -> String {
    format!(
        "az network vnet subnet update {} --vnet-name {} --name {}",
        resource_group_option(&u.resource_group),
        quote(&u.virtual_network),
        quote(&u.subnet)
    )
}

/// [`commands`] for the resources `compared` and the `changes` to them.
pub fn commands_for(compared: &[Compared], changes: &[ItemChange]) -> Vec<String> {
    let mut by_artifact: Vec<(ArtifactKind, Phases)> = Vec::new();
    for compared in compared {
        let mut phases = Phases::default();
        let base = target_args(compared);
        let (resource, changes): (Vec<&ItemChange>, Vec<&ItemChange>) = changes
            .iter()
            .filter(|c| c.artifact == compared.artifact)
            .partition(|c| c.kind == ItemKind::Document);
        resource.iter().for_each(|c| resource_update(compared, c, &mut phases));
        match compared.artifact {
            ArtifactKind::Firewall => {
                firewall(&base, &changes, &mut phases);
                bridge_collections(&base, compared, &changes, &mut phases);
            }
            ArtifactKind::Nsg => nsg(&base, compared, &changes, &mut phases),
            ArtifactKind::Routes => routes(&base, compared, &changes, &mut phases),
        }
        by_artifact.push((compared.artifact, phases));
    }
    const MAKING: [ArtifactKind; 3] = [ArtifactKind::Firewall, ArtifactKind::Nsg, ArtifactKind::Routes];
    const BREAKING: [ArtifactKind; 3] = [ArtifactKind::Routes, ArtifactKind::Nsg, ArtifactKind::Firewall];
    let phase = |order: [ArtifactKind; 3], pick: fn(&Phases) -> &Vec<String>| -> Vec<String> {
        order
            .iter()
            .flat_map(|kind| by_artifact.iter().filter(move |(k, _)| k == kind))
            .flat_map(|(_, p)| pick(p).iter().cloned())
            .collect()
    };
    // Each artifact's updates and creations finish before the next artifact's begin: a route
    // updated to the firewall waits for the firewall rule its traffic needs.
    let making = MAKING.map(|kind| {
        let of = |pick: fn(&Phases) -> &Vec<String>| -> Vec<String> {
            by_artifact
                .iter()
                .filter(|(k, _)| *k == kind)
                .flat_map(|(_, p)| pick(p).iter().cloned())
                .collect()
        };
        [of(|p| &p.update), of(|p| &p.before_create), of(|p| &p.create)].concat()
    });
    [
        phase(MAKING, |p| &p.bridge),
        phase(BREAKING, |p| &p.delete),
        making.concat(),
        phase(BREAKING, |p| &p.late_delete),
        phase(BREAKING, |p| &p.unbridge),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The nearest free priority on either side, never past a deny collection, within Azure's
    /// range; names stay within 80 characters and clear of the collections there are.
    #[test]
    fn a_bridge_stands_where_the_collection_stood() {
        let taken = |v: &[u64]| v.iter().copied().collect::<BTreeSet<u64>>();
        assert_eq!(bridge_priority(200, &taken(&[200]), &[]), Some(199));
        assert_eq!(bridge_priority(200, &taken(&[199, 200, 201]), &[]), Some(198));
        assert_eq!(bridge_priority(200, &taken(&[198, 199, 200]), &[]), Some(201));
        assert_eq!(bridge_priority(100, &taken(&[100, 101]), &[]), Some(102));
        assert_eq!(bridge_priority(200, &taken(&[199, 200, 201]), &[199, 201]), None);
        assert_eq!(bridge_priority(200, &taken(&[199, 200, 202]), &[199]), Some(201));
        assert_eq!(bridge_priority(65_000, &taken(&[64_999, 65_000]), &[64_999]), None);
        let names: BTreeSet<String> = ["a-bridge".to_string()].into();
        assert_eq!(bridge_name("a", &names), "a-bridge-2");
        let long = "x".repeat(90);
        assert_eq!(bridge_name(&long, &BTreeSet::new()), format!("{}-bridge", "x".repeat(73)));
    }

    #[test]
    fn plain_words_stay_and_everything_else_is_single_quoted() {
        assert_eq!(quote("10.10.0.0/16"), "10.10.0.0/16");
        assert_eq!(quote("Https=443"), "Https=443");
        assert_eq!(quote("*"), "'*'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's; rm -rf /"), r"'it'\''s; rm -rf /'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
    }

    /// az's generated update commands unset a property given `null` (its shorthand syntax); an
    /// empty string would set it to "". A create leaves a null property out.
    #[test]
    fn a_property_to_clear_is_set_to_null() {
        assert_eq!(
            property("nextHopIpAddress", &Value::Null, false).as_deref(),
            Some("--next-hop-ip-address null")
        );
        assert_eq!(property("nextHopIpAddress", &Value::Null, true), None);
        assert_eq!(property("description", &serde_json::json!(""), true), None);
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
                    subscription: None,
                    resource_group: Some("net rg".into()),
                    name: Some("ise".into()),
                    policy: policy.map(str::to_string),
                },
                deployed_items: 0,
                desired_items: 0,
                also_on: Vec::new(),
                priority_shared_with: Vec::new(),
                held: Vec::new(),
                routes_taken: Vec::new(),
                deployed_routes: Vec::new(),
                desired_held: Vec::new(),
                desired_routes: Vec::new(),
                collections: Vec::new(),
            };
            let change = ItemChange {
                artifact,
                kind: ItemKind::Document,
                collection: None,
                name: String::new(),
                action: Action::Change,
                deployed_name: None,
                caution: None,
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

    /// Every shape an NSG rule's address field takes, with the words az must be given for it.
    fn address_shapes() -> Vec<(crate::azure::nsg::AddressMatch, Vec<&'static str>)> {
        use crate::azure::nsg::AddressMatch;
        vec![
            (AddressMatch::Any, vec!["'*'"]),
            (AddressMatch::Tag("AzureCloud.westus2".into()), vec!["AzureCloud.westus2"]),
            (
                AddressMatch::Prefixes(vec!["10.1.0.0/24".parse().unwrap(), "203.0.113.7/32".parse().unwrap()]),
                vec!["10.1.0.0/24", "203.0.113.7/32"],
            ),
            (
                AddressMatch::Prefixes6(vec![
                    "2603:1000:4:402::140/124".parse().unwrap(),
                    "2603:1030:f:2::490/124".parse().unwrap(),
                ]),
                vec!["2603:1000:4:402::140/124", "2603:1030:f:2::490/124"],
            ),
        ]
    }

    fn nsg_commands(changes: &[ItemChange], held: Vec<Place>) -> Vec<String> {
        use super::super::deployed::{Format, Target};
        let compared = Compared {
            artifact: ArtifactKind::Nsg,
            file: "nsg.json".into(),
            format: Format::AzCli,
            target: Target {
                subscription: None,
                resource_group: Some("rg".into()),
                name: Some("nsg".into()),
                policy: None,
            },
            deployed_items: 0,
            desired_items: 0,
            also_on: Vec::new(),
            priority_shared_with: Vec::new(),
            held,
            routes_taken: Vec::new(),
            deployed_routes: Vec::new(),
            desired_held: Vec::new(),
            desired_routes: Vec::new(),
            collections: Vec::new(),
        };
        let mut phases = Phases::default();
        nsg(&target_args(&compared), &compared, &changes.iter().collect::<Vec<_>>(), &mut phases);
        [phases.delete, phases.update, phases.create].concat()
    }

    fn nsg_change(action: Action, deployed: Option<Value>, desired: Option<Value>, fields: &[&str]) -> ItemChange {
        use super::super::drift::FieldChange;
        ItemChange {
            artifact: ArtifactKind::Nsg,
            kind: ItemKind::SecurityRule,
            collection: None,
            name: "r".into(),
            action,
            deployed_name: None,
            caution: None,
            fields: fields
                .iter()
                .map(|f| FieldChange {
                    field: f.to_string(),
                    deployed: deployed.as_ref().map_or(Value::Null, |d| d[f].clone()),
                    desired: desired.as_ref().map_or(Value::Null, |d| d[f].clone()),
                })
                .collect(),
            deployed,
            desired,
        }
    }

    /// The words after `option` up to the next option.
    fn after<'c>(command: &'c str, option: &str) -> Vec<&'c str> {
        let words: Vec<&str> = command.split(' ').collect();
        let Some(i) = words.iter().position(|w| *w == option) else {
            return Vec::new();
        };
        words[i + 1..].iter().take_while(|w| !w.starts_with("--")).copied().collect()
    }

    #[test]
    fn every_nsg_create_and_update_states_both_addresses_whatever_their_shape() {
        // az takes `*` for an address a create leaves out: a rule of IPv6 prefixes written without
        // them would admit every address.
        use crate::azure::nsg::{Access, Direction, PortRange, Protocol, SecurityRule};
        for (source, source_words) in address_shapes() {
            for (destination, destination_words) in address_shapes() {
                let rule = |priority: u32| SecurityRule {
                    name: "r".into(),
                    priority,
                    direction: Direction::Inbound,
                    access: Access::Allow,
                    protocol: Protocol::Tcp,
                    source: source.clone(),
                    source_ports: vec![PortRange::ANY],
                    destination: destination.clone(),
                    destination_ports: vec![PortRange { lo: 443, hi: 443 }],
                    is_default: false,
                };
                let (deployed, desired) = (
                    super::super::canonical::security_rule(&rule(300), "d"),
                    super::super::canonical::security_rule(&rule(200), "d"),
                );
                let create = nsg_commands(&[nsg_change(Action::Add, None, Some(desired.clone()), &[])], Vec::new());
                let update = nsg_commands(
                    &[nsg_change(Action::Change, Some(deployed), Some(desired), &["priority"])],
                    vec![("Inbound".into(), 300)],
                );
                for command in [&create[0], &update[0]] {
                    assert!(command.starts_with("az network nsg rule "), "{command}");
                    assert_eq!(after(command, "--source-address-prefixes"), source_words, "{command}");
                    assert_eq!(after(command, "--destination-address-prefixes"), destination_words, "{command}");
                }
                assert_eq!(after(&update[0], "--priority"), ["200"]);
            }
        }
    }

    #[test]
    fn an_nsg_rule_without_an_address_to_write_is_left_out_with_a_comment() {
        let mut desired = serde_json::json!({"access": "Allow", "destinationAddressPrefixes": ["VirtualNetwork"], "sourceAddressPrefixes": [], "priority": 200, "direction": "Inbound"});
        let got = nsg_commands(&[nsg_change(Action::Add, None, Some(desired.clone()), &[])], Vec::new());
        assert_eq!(
            got,
            ["# r is left out: its sourceAddressPrefixes is empty, and az would take `*` (any address) for it"]
        );
        desired["sourceAddressPrefixes"] = Value::Null;
        let deployed = serde_json::json!({"priority": 100, "direction": "Inbound"});
        let got = nsg_commands(
            &[nsg_change(Action::Change, Some(deployed), Some(desired), &["priority"])],
            vec![("Inbound".into(), 100)],
        );
        assert!(got[0].starts_with("# r is left out"), "{got:?}");
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
