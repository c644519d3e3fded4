//! Where a firewall file keeps the rules to verify: one rule collection group (az or REST output of
//! one group, `az ... rule-collection-group list` output, a template resource; of several, the one
//! the environment names) or one firewall's classic collections (`az network firewall show`
//! output, isenet's `firewall-classic.json`, an exported template's
//! `Microsoft.Network/azureFirewalls` resource). The file's other groups of the same policy are
//! handed over too: Azure evaluates a policy's groups together, by group priority, so another
//! spoke's deny-all at a higher priority decides the ISE's traffic first; those of another policy
//! (or of one the file does not say plainly) are named for a note. Refused: several groups that may be the
//! environment's, or none of its name (E1207, E1217), several firewalls (which one the ISE's
//! traffic meets is not known), and a firewall managed by a policy, whose own collections are
//! empty because its rules live in the policy's groups: read as it is, it would be a firewall that
//! denies everything.

use super::fields::Object;
use super::json::Json;
use super::template::{Described, Wanted, RULE_COLLECTION_GROUP};
use super::template_names::{Place, UNKNOWN};
use crate::azure::firewall::MAX_RULE_COLLECTION_GROUPS;
use ise_model::codes::{E_FIREWALL_DUPLICATE_NAME, E_FIREWALL_FIELD, E_FIREWALL_FILE, E_TEMPLATE_NOT_NAMED};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};

const GROUP_TYPE: &str = "Microsoft.Network/firewallPolicies/ruleCollectionGroups";
const FIREWALL_TYPE: &str = "Microsoft.Network/azureFirewalls";
const POLICY_TYPE: &str = "Microsoft.Network/firewallPolicies";
/// The lists of a firewall's classic collections.
pub(super) const CLASSIC_KEYS: [&str; 3] = ["networkRuleCollections", "applicationRuleCollections", "natRuleCollections"];

const SHOW_GROUP: &str = "az network firewall policy rule-collection-group show -g <policy-rg> --policy-name <policy> -n <group> -o json";

/// The rules of a document.
pub(super) enum Source<'v, J> {
    /// A rule collection group; `in_template` when it is a template resource (named `policy/group`);
    /// `others`: the file's other groups (another spoke's, on a shared policy).
    Group {
        group: Object<'v, J>,
        in_template: bool,
        others: Vec<OtherGroup<'v, J>>,
    },
    /// A firewall's classic collections (at its top or under its `properties`).
    Classic(Object<'v, J>),
}

/// A rule collection group of the file other than the environment's.
pub(super) enum OtherGroup<'v, J> {
    /// Of the environment's group's policy: Azure evaluates it with that group.
    SamePolicy { name: String, group: Object<'v, J> },
    /// Of another policy (named), or of one the file does not say plainly (`None`).
    Apart { name: String, policy: Option<String> },
}

fn type_is<'v, J: Json<'v>>(value: J, kind: &str) -> bool {
    value.get("type").and_then(J::as_str).is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

fn has<'v, J: Json<'v>>(value: J, key: &str) -> bool {
    value.get(key).is_some() || value.get("properties").and_then(|p| p.get(key)).is_some()
}

/// Where the document's rules are, or why it is refused. Of several rule collection groups, the
/// one `wanted` names is read (a shared policy's list or export holds its other spokes' too).
pub(super) fn find<'v, J: Json<'v>>(value: J, wanted: &Wanted) -> Result<Source<'v, J>, Diagnostic> {
    // REST's list output holds the list in `value` (and `nextLink` when Azure pages it).
    let (list, base) = match value.get("value").filter(|v| v.as_array().is_some()) {
        Some(list) if value.get("ruleCollections").is_none() && value.get("properties").is_none() => (list, "value"),
        _ => (value, ""),
    };
    // One page of a longer list leaves groups out that Azure evaluates with the environment's.
    if !base.is_empty() && value.get("nextLink").is_some_and(|n| !n.is_null()) {
        return Err(Diagnostic::error(E_FIREWALL_FILE, "nextLink", "one page of a longer list of rule collection groups: the policy's other groups are not all here")
            .with_help("pass the whole list: `az network firewall policy rule-collection-group list -g <policy-rg> --policy-name <policy> -o json` fetches every page"));
    }
    match list.as_array() {
        Some(items) => {
            let items: Vec<J> = items.collect();
            let is_group = |v: &J| type_is(*v, GROUP_TYPE) || has(*v, "ruleCollections");
            // A list of one is the policy's only group, read whatever its name, as one group's
            // `show` output is.
            if items.len() > 1 && items.iter().all(is_group) {
                if let Some(d) = listed_twice(&items, base) {
                    return Err(d);
                }
                let named = |v: &J| wanted.may_be(&RULE_COLLECTION_GROUP, listed_name(*v));
                let found: Vec<usize> = (0..items.len()).filter(|&i| named(&items[i])).collect();
                return match found.as_slice() {
                    [] => {
                        let others: Vec<(String, String)> =
                            (0..items.len()).map(|i| (index(base, i), shown(listed_name(items[i])))).collect();
                        Err(none_named(wanted, &others))
                    }
                    [i] => document(items[*i], index(base, *i), wanted).map(|source| match source {
                        Source::Group { group, in_template, .. } => Source::Group {
                            others: (0..items.len())
                                .filter(|j| j != i)
                                .map(|j| listed_group(&group, Object::new(items[j], index(base, j), E_FIREWALL_FIELD)))
                                .collect(),
                            group,
                            in_template,
                        },
                        classic => classic,
                    }),
                    [_, second, ..] => Err(several_groups(found.len(), index(base, *second), wanted)),
                };
            }
            match items.as_slice() {
                [] => Err(
                    Diagnostic::error(E_FIREWALL_FILE, "", "an empty list: no rule collection group to verify")
                        .with_help(format!("pass one group: `{SHOW_GROUP}`")),
                ),
                // A list of templates would be read without the template's own checks.
                [item] if item.get("resources").is_some() => {
                    Err(Diagnostic::error(E_FIREWALL_FILE, "[0]", "a list holding an ARM template")
                        .with_help("pass the template itself, not a list of it"))
                }
                [item] => document(*item, index(base, 0), wanted),
                _ => Err(several_in_list(&items, base)),
            }
        }
        None => document(value, String::new(), wanted),
    }
}

/// `E1212` for a list naming one group twice (Azure compares names case-insensitively): a policy
/// holds each name once, so the file is not one policy's list.
fn listed_twice<'v, J: Json<'v>>(items: &[J], base: &str) -> Option<Diagnostic> {
    // The first name seen before (case-insensitively), by a set: a list of thousands of groups
    // made a walk of the earlier ones per group.
    let mut seen = std::collections::HashSet::new();
    let (i, name) = items.iter().enumerate().find_map(|(i, v)| {
        let n = listed_name(*v)?;
        (!seen.insert(n.to_ascii_lowercase())).then_some((i, n))
    })?;
    Some(
        Diagnostic::error(
            E_FIREWALL_DUPLICATE_NAME,
            field(&index(base, i), "name"),
            format!("rule collection group `{name}` is listed twice: a firewall policy holds each group name once"),
        )
        .with_help("pass one policy's `az network firewall policy rule-collection-group list` output as Azure prints it"),
    )
}

/// A listed group's name: its `name`, else its id's last part (REST output may give only the id).
fn listed_name<'v, J: Json<'v>>(group: J) -> Option<&'v str> {
    let from_id = || group.get("id").and_then(J::as_str)?.rsplit('/').next().filter(|n| !n.is_empty());
    group.get("name").and_then(J::as_str).or_else(from_id)
}

/// Another group of `az ... rule-collection-group list` output (which lists one policy's groups):
/// of the same policy unless both ids name different ones.
fn listed_group<'v, J: Json<'v>>(ours: &Object<'v, J>, other: Object<'v, J>) -> OtherGroup<'v, J> {
    let name = listed_name(other.value).unwrap_or("(no name)").to_string();
    // `/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/firewallPolicies/P/ruleCollectionGroups/N`
    let policy_id = |group: &Object<'v, J>| {
        let id = group.value.get("id").and_then(J::as_str)?.to_ascii_lowercase();
        let end = id.find("/rulecollectiongroups/")?;
        Some(id[..end].to_string())
    };
    match (policy_id(ours), policy_id(&other)) {
        (Some(a), Some(b)) if a != b => {
            // The policy's name as the id writes it.
            let policy = other.value.get("id").and_then(J::as_str).and_then(|id| {
                let parts: Vec<&str> = id.split('/').collect();
                let i = parts.iter().position(|p| p.eq_ignore_ascii_case("firewallPolicies"))?;
                parts.get(i + 1).map(|p| p.to_string())
            });
            OtherGroup::Apart { name, policy }
        }
        _ => OtherGroup::SamePolicy { name, group: other },
    }
}

/// Another group of a template: of the environment's group's policy when the template says both
/// names (`policy/group`) and deployment scopes plainly and they agree; of another policy when it
/// says another policy name in the same scope.
fn template_group<'v, J: Json<'v>>(ours: &Described, other: Object<'v, J>, described: &Described) -> OtherGroup<'v, J> {
    let name = match known_own(described) {
        Some(n) => n.to_string(),
        None => other.value.get("name").and_then(J::as_str).unwrap_or("(no name)").to_string(),
    };
    // (policy, resource group, subscription), each as the template says it plainly; a policy
    // named by a parameter with no value is the same as another named by that parameter.
    let place = |d: &Described| {
        let (policy, _) = d.partial.as_deref()?.rsplit_once('/')?;
        let known = |p: &Place| match p {
            Place::Inherited | Place::Top => Some(String::new()),
            Place::Named(n) => Some(n.to_ascii_lowercase()),
            Place::Unknown => None,
        };
        Some((policy.to_string(), known(&d.resource_group)?, known(&d.subscription)?))
    };
    match (place(ours), place(described)) {
        (Some(a), Some(b)) if (&a.1, &a.2) == (&b.1, &b.2) => match a.0.eq_ignore_ascii_case(&b.0) {
            true => OtherGroup::SamePolicy { name, group: other },
            false if !a.0.contains(UNKNOWN) && !b.0.contains(UNKNOWN) => OtherGroup::Apart { name, policy: Some(b.0) },
            false => OtherGroup::Apart { name, policy: None },
        },
        _ => OtherGroup::Apart { name, policy: None },
    }
}

/// A template group's own name, where the template says it plainly (its policy's name may not be).
fn known_own(described: &Described) -> Option<&str> {
    described.partial.as_deref().map(own).filter(|n| !n.contains(UNKNOWN))
}

/// A group's own name: a template names it `policy/group`.
fn own(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// `E1217`: rule collection groups (path, name as shown), none of the name the environment gives
/// its own.
fn none_named(wanted: &Wanted, others: &[(String, String)]) -> Diagnostic {
    let held: Vec<String> = others.iter().map(|(path, name)| format!("{name} at {path}")).collect();
    Diagnostic::error(
        E_TEMPLATE_NOT_NAMED,
        others[0].0.clone(),
        format!(
            "no rule collection group named `{}` (the environment's): the file holds {}",
            wanted.group.unwrap_or_default(),
            crate::views::summary::first_names(&held)
        ),
    )
    .with_help(format!(
        "if one of them is the ISE's, name it in the environment (`{}`); or verify it alone: `{SHOW_GROUP}`",
        RULE_COLLECTION_GROUP.field
    ))
}

/// `az ... list` output of several resources other than rule collection groups: one file
/// verifies one firewall.
fn several_in_list<'v, J: Json<'v>>(items: &[J], base: &str) -> Diagnostic {
    let n = items.len();
    let is_firewall = |v: &J| type_is(*v, FIREWALL_TYPE) || CLASSIC_KEYS.iter().any(|k| has(*v, k));
    let what = if items.iter().all(is_firewall) {
        format!("{n} firewalls in one file")
    } else {
        format!("a list of {n} documents in one file")
    };
    Diagnostic::error(E_FIREWALL_FILE, index(base, 1), what)
        .with_help("verify one rule collection group, or one firewall's classic collections, per file")
}

fn several_groups(n: usize, second: String, wanted: &Wanted) -> Diagnostic {
    // A policy beyond Azure's group limit is worth saying even though the file is refused.
    let beyond = if n > MAX_RULE_COLLECTION_GROUPS {
        format!("; a firewall policy holds at most {MAX_RULE_COLLECTION_GROUPS}, so Azure would refuse it too")
    } else {
        String::new()
    };
    let which = match wanted.group {
        Some(name) => format!(" that may be the environment's `{name}` (so named, or by names the file does not say plainly)"),
        None => String::new(),
    };
    Diagnostic::error(E_FIREWALL_FILE, second, format!("{n} rule collection groups in one file{which}{beyond}")).with_help(format!(
        "verify one rule collection group per file (isenet writes one, `<name>-dependencies` unless the environment names it): `{SHOW_GROUP}`"
    ))
}

/// The resources of a template of `kind`, with their paths: its own and those of its inline
/// nested deployments (isenet's azuredeploy.json deploys its group into the policy's resource
/// group through one).
fn resources<'v, J: Json<'v>>(value: J, path: &str, kind: &str) -> Vec<(Object<'v, J>, Described)> {
    super::template::top_level(value)
        .into_iter()
        .filter(|(_, r, _)| type_is(*r, kind))
        .map(|(at, r, described)| {
            let at = if path.is_empty() { at } else { format!("{path}.{at}") };
            (Object::new(r, at, E_FIREWALL_FIELD), described)
        })
        .collect()
}

/// One document at `path`: a template (its one group, else its one firewall), a group, or a firewall.
/// One group per file keeps the order of collections (group priority, then collection priority)
/// unambiguous.
fn document<'v, J: Json<'v>>(value: J, path: String, wanted: &Wanted) -> Result<Source<'v, J>, Diagnostic> {
    if let Some(d) = resources(value, &path, POLICY_TYPE).iter().find_map(|(p, _)| inherited_rules(p)) {
        return Err(d);
    }
    // Of several groups, the one the environment names (as the template readers pick).
    let candidates = super::template::pick(value, &RULE_COLLECTION_GROUP, wanted).candidates;
    let at = |relative: &String| {
        if path.is_empty() {
            relative.clone()
        } else {
            format!("{path}.{relative}")
        }
    };
    let (groups, others): (Vec<_>, Vec<_>) = resources(value, &path, GROUP_TYPE)
        .into_iter()
        .partition(|(g, _)| candidates.iter().any(|c| at(c) == g.path));
    let described: Vec<Described> = groups.iter().map(|(_, d)| d.clone()).collect();
    let groups: Vec<Object<'v, J>> = groups.into_iter().map(|(g, _)| g).collect();
    let firewalls: Vec<Object<'v, J>> = resources(value, &path, FIREWALL_TYPE).into_iter().map(|(f, _)| f).collect();
    if groups.is_empty() && firewalls.is_empty() && !others.is_empty() {
        let others: Vec<(String, String)> = others
            .iter()
            .map(|(g, d)| (g.path.clone(), known_own(d).map_or_else(|| shown_name(g), |n| format!("`{n}`"))))
            .collect();
        return Err(none_named(wanted, &others));
    }
    match (groups.as_slice(), firewalls.as_slice()) {
        ([_, second, ..], _) => Err(several_groups(groups.len(), second.path.clone(), wanted)),
        (_, [first, second, ..]) => Err(Diagnostic::error(
            E_FIREWALL_FILE,
            second.path.clone(),
            format!(
                "{} firewalls in one file: {} at {} and {} at {}; which one the ISE's traffic crosses is not known",
                firewalls.len(),
                shown_name(first),
                first.path,
                shown_name(second),
                second.path
            ),
        )
        .with_help("verify the firewall of the ISE alone: `az network firewall show -g <rg> -n <firewall> -o json`")),
        ([group], [firewall]) if policy_reference(firewall).is_none() && has_classic_rules(firewall) => Err(Diagnostic::error(
            E_FIREWALL_FILE,
            firewall.path.clone(),
            format!(
                "firewall {} has classic rule collections of its own, beside the rule collection group at {}: which rules the ISE's traffic meets is not known",
                shown_name(firewall),
                group.path
            ),
        )
        .with_help(format!("verify the firewall's rules alone (`az network firewall show -g <rg> -n <firewall> -o json`) or the group alone (`{SHOW_GROUP}`)"))),
        ([group], _) => {
            let others: Vec<OtherGroup<'v, J>> = others
                .into_iter()
                .map(|(g, d)| template_group(&described[0], g, &d))
                .collect();
            // A group of the policy is evaluated with the environment's: one that ARM deploys
            // only on a condition, or once per iteration, is refused as the environment's is.
            for other in &others {
                if let OtherGroup::SamePolicy { group, .. } = other {
                    let named = format!("`{GROUP_TYPE}` {}", shown_name(group));
                    if let Some(d) = super::template::evaluated_by_arm(group.value, &group.path, &named, &format!("`{SHOW_GROUP}`")) {
                        return Err(d);
                    }
                }
            }
            Ok(Source::Group {
                group: Object::new(group.value, group.path.clone(), E_FIREWALL_FIELD),
                in_template: true,
                others,
            })
        }
        ([], [firewall]) => firewall_rules(Object::new(firewall.value, firewall.path.clone(), E_FIREWALL_FIELD)),
        ([], []) if has(value, "ruleCollections") => Ok(Source::Group {
            group: Object::new(value, path, E_FIREWALL_FIELD),
            in_template: false,
            others: Vec::new(),
        }),
        ([], []) => firewall_rules(Object::new(value, path, E_FIREWALL_FIELD)),
    }
}

/// `E1207` for a policy that names a parent (`basePolicy`): Azure processes the parent's rule
/// collection groups before the policy's own in each rule kind, so what the ISE's traffic meets is
/// not all in this file, and an allow there would go unseen.
fn inherited_rules<'v, J: Json<'v>>(policy: &Object<'v, J>) -> Option<Diagnostic> {
    let parent = policy.value.get("properties")?.get("basePolicy").filter(|p| !p.is_null())?;
    let id = parent.get("id").and_then(J::as_str).or_else(|| parent.as_str()).unwrap_or("");
    let named = if id.is_empty() || id.starts_with('[') {
        String::new()
    } else {
        format!(" `{}`", id.rsplit('/').next().unwrap_or(id))
    };
    Some(
        Diagnostic::error(
            E_FIREWALL_FILE,
            field(&policy.at("properties"), "basePolicy"),
            format!(
                "firewall policy {} inherits the rules of parent policy{named}, which Azure processes before its own: the rules the ISE's traffic meets are not all in this file",
                shown_name(policy)
            ),
        )
        .with_help("verify the parent policy's rule collection groups as well (one per file), or a policy without a parent"),
    )
}

/// A resource's name as a message shows it (an ARM expression as written).
fn shown_name<'v, J: Json<'v>>(resource: &Object<'v, J>) -> String {
    shown(resource.value.get("name").and_then(J::as_str))
}

/// A name as messages show it: on one line, at most 100 characters.
fn shown(name: Option<&str>) -> String {
    match name {
        Some(n) => format!(
            "`{}`",
            n.chars()
                .take(100)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
        ),
        None => "(no name)".to_string(),
    }
}

fn has_classic_rules<'v, J: Json<'v>>(firewall: &Object<'v, J>) -> bool {
    let props = firewall.value.get("properties").unwrap_or(firewall.value);
    CLASSIC_KEYS
        .iter()
        .any(|k| props.get(k).and_then(J::as_array).is_some_and(|a| a.len() > 0))
}

/// A firewall's classic collections, unless a policy manages it.
fn firewall_rules<'v, J: Json<'v>>(firewall: Object<'v, J>) -> Result<Source<'v, J>, Diagnostic> {
    match policy_reference(&firewall) {
        Some((path, id)) => Err(managed_by_policy(path, id)),
        None => Ok(Source::Classic(firewall)),
    }
}

/// Where the firewall names its policy (`firewallPolicy`, at the top in az output, under
/// `properties` in REST output and templates) and the policy's id, when it names one. A null
/// reference or one without an id is no policy.
fn policy_reference<'v, J: Json<'v>>(firewall: &Object<'v, J>) -> Option<(String, Option<&'v str>)> {
    let at_top = firewall.value.get("firewallPolicy").map(|p| (firewall.at("firewallPolicy"), p));
    let under_properties = || {
        let props = firewall.value.get("properties")?;
        Some((field(&firewall.at("properties"), "firewallPolicy"), props.get("firewallPolicy")?))
    };
    let (path, reference) = at_top.filter(|(_, p)| !p.is_null()).or_else(under_properties)?;
    if reference.is_null() {
        return None;
    }
    if reference.is_object() {
        let id = reference.get("id").filter(|i| !i.is_null())?;
        return Some((path, id.as_str()));
    }
    Some((path, reference.as_str()))
}

/// `E1207` for a policy-managed firewall, its help naming the command for the policy's groups
/// (with the policy's resource group and name when its id says them).
fn managed_by_policy(path: String, id: Option<&str>) -> Diagnostic {
    let id = id.filter(|i| !i.starts_with('['));
    let part = |segment: &str| {
        let parts: Vec<&str> = id?.split('/').collect();
        let i = parts.iter().position(|p| p.eq_ignore_ascii_case(segment))?;
        parts.get(i + 1).filter(|s| !s.is_empty()).map(|s| s.to_string())
    };
    let group = part("resourceGroups").unwrap_or_else(|| "<policy-rg>".into());
    let policy = part("firewallPolicies");
    let named = policy.as_ref().map(|p| format!(" `{p}`")).unwrap_or_default();
    let policy = policy.unwrap_or_else(|| "<policy>".into());
    Diagnostic::error(
        E_FIREWALL_FILE,
        path,
        format!(
            "the firewall is managed by firewall policy{named}: its rules live in the policy's rule collection groups, not in this file (read as it is, it would deny everything)"
        ),
    )
    .with_help(format!(
        "verify the policy's rule collection group: `az network firewall policy rule-collection-group show -g {group} --policy-name {policy} -n <group> -o json` (`az network firewall policy rule-collection-group list -g {group} --policy-name {policy} -o json` lists the groups)"
    ))
}
