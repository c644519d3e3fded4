//! Finding a resource inside an ARM deployment template (`azuredeploy.json`, an exported resource
//! group), so the readers take a whole template as well as a bare resource, and refusing a
//! template that deploys more than the proof of that resource would see: ARM deploys a child
//! `securityRules` or `routes` resource into its parent, a linked nested deployment deploys what
//! its link holds, and of two NSGs that may both be the environment's the file does not say which
//! one the ISE subnets use. Proving the
//! one resource read while the template deploys more would pass a template that opens what the
//! proof never saw. A nested deployment whose template is inline (isenet's own puts the firewall
//! rules into the policy's resource group that way) is read through: its resources are read as the
//! template's own, at their paths inside it.
//!
//! A template of a whole resource group often holds other NSGs (a jump box's), route tables or
//! rule collection groups (a hub policy's other spokes): given the names the environment deploys
//! (`Wanted`), a reader takes the resource of that name and leaves the others and their child
//! items alone. A name an exported template writes as a parameter is that parameter's default.

use super::json::Json;
use super::template_names::{Place, Scope, UNKNOWN};
use super::template_subnets::Associations;
use super::template_subnets::{self, Referenced, SubnetLink};
use ise_model::codes::{E_TEMPLATE_NOT_NAMED, E_TEMPLATE_TWICE, E_TEMPLATE_UNSEEN};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};
use std::collections::{HashMap, HashSet};

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
    /// The environment field that names it.
    pub field: &'static str,
}

pub const NSG: Proved = Proved {
    kind: "Microsoft.Network/networkSecurityGroups",
    items: Some("securityRules"),
    what: "NSG",
    item: "rule",
    show: "az network nsg show -g RG -n NAME -o json",
    field: "nsgName",
};

pub const ROUTE_TABLE: Proved = Proved {
    kind: "Microsoft.Network/routeTables",
    items: Some("routes"),
    what: "route table",
    item: "route",
    show: "az network route-table show -g RG -n NAME -o json",
    field: "routeTableName",
};

pub const RULE_COLLECTION_GROUP: Proved = Proved {
    kind: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
    items: None,
    what: "rule collection group",
    item: "rule collection",
    show: "az network firewall policy rule-collection-group show -g RG --policy-name POLICY -n NAME -o json",
    field: "forcedTunneling.ruleCollectionGroupName",
};

const DEPLOYMENTS: &str = "Microsoft.Resources/deployments";

/// The reader's description of a kind: its wanted name, how messages name it, the environment
/// field that names it.
pub(crate) fn proved(kind: crate::prove::findings::ArtifactKind) -> &'static Proved {
    use crate::prove::findings::ArtifactKind;
    match kind {
        ArtifactKind::Nsg => &NSG,
        ArtifactKind::Routes => &ROUTE_TABLE,
        ArtifactKind::Firewall => &RULE_COLLECTION_GROUP,
    }
}

/// The names of the resources the environment deploys, which a reader takes from a file holding
/// several; `None`: no choice by name (one resource of a kind is read, two are refused).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    pub nsg: Option<&'a str>,
    pub route_table: Option<&'a str>,
    /// The rule collection group's own name (not `policy/group`).
    pub group: Option<&'a str>,
    /// The environment, whose virtual network's subnets a template may associate.
    pub environment: Option<&'a ise_model::env::Environment>,
}

impl<'a> Wanted<'a> {
    /// The name wanted for resources of `proved`'s kind.
    pub(crate) fn of(&self, proved: &Proved) -> Option<&'a str> {
        match proved.kind {
            k if k == NSG.kind => self.nsg,
            k if k == ROUTE_TABLE.kind => self.route_table,
            _ => self.group,
        }
    }

    /// Whether a resource of `proved`'s kind deployed as `name` (`None`: not known) may be the
    /// wanted one: Azure compares resource names case-insensitively, and a rule collection
    /// group's template name is `policy/group`.
    pub(crate) fn may_be(&self, proved: &Proved, name: Option<&str>) -> bool {
        match (self.of(proved), name) {
            (Some(wanted), Some(name)) => own_name(name).eq_ignore_ascii_case(wanted),
            _ => true,
        }
    }
}

/// The name a bare file (az or REST output: template readers pick by name) gives its resource of
/// `proved`'s kind, or its id's last part, when the environment names its own otherwise.
pub(crate) fn named_otherwise<'v, J: Json<'v>>(resource: J, proved: &Proved, wanted: &Wanted) -> Option<String> {
    // An id holding an expression (hand-made from a template) says nothing either.
    let plain = resource.get("name").and_then(J::as_str).filter(|n| !n.starts_with('['));
    let id = || resource.get("id").and_then(J::as_str).filter(|id| !id.contains('['));
    let from_id = || id()?.rsplit('/').next().filter(|n| !n.is_empty());
    let name = plain.or_else(from_id)?;
    (!wanted.may_be(proved, Some(name))).then(|| shown(own_name(name)))
}

/// A resource's own name: the last part of `parent/child`.
fn own_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// One resource of a template, nested ones included.
struct Entry<J> {
    path: String,
    /// Its full type: a nested child's short type (`securityRules`) follows its parent's.
    kind: String,
    value: J,
    /// The path of the resource it is nested in, if it is.
    parent: Option<String>,
    /// Its name as deployed, `None` when the template does not say it plainly (`template_names`).
    deployed: Option<String>,
    /// Its name with the top's parameters that have no value standing as unknowns
    /// (`Scope::partial_value`): a group's own name may be known where its policy's is not.
    partial: Option<String>,
    /// The resource group and subscription a nested deployment puts it in.
    resource_group: Place,
    subscription: Place,
    /// The subnets it deploys (a virtual network's, or itself), with what they are associated with.
    links: Vec<SubnetLink>,
}

impl<'v, J: Json<'v>> Entry<J> {
    fn is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    /// Its name as messages show it.
    fn name(&self) -> String {
        match self.value.get("name").and_then(J::as_str) {
            Some(n) => format!("`{}`", shown(n)),
            None => "(no name)".to_string(),
        }
    }

    /// Its name as far as the wanted name is compared: its own part (`policy/group`'s `group`)
    /// where only that is known.
    fn known_name(&self) -> Option<&str> {
        let partial = self.partial.as_deref().filter(|p| !own_name(p).contains(UNKNOWN));
        self.deployed.as_deref().or(partial)
    }

    /// `type` `name`, as messages name the resource.
    fn named(&self) -> String {
        format!("`{}` {}", self.kind, self.name())
    }
}

/// Every resource of the template `document` (none when it is not a template), nested ones too.
fn entries<'v, J: Json<'v>>(document: J) -> Vec<Entry<J>> {
    let mut out = Vec::new();
    collect(&Scope::top(document), document, "", None, &mut out);
    out
}

/// The resources under `holder`, a resource or the template of `scope` (which names them).
fn collect<'v, J: Json<'v>>(scope: &Scope<'_, J>, holder: J, path: &str, parent: Option<&str>, out: &mut Vec<Entry<J>>) {
    let Some(resources) = holder.get("resources").and_then(J::as_array) else {
        return;
    };
    let list = field(path, "resources");
    // A child's parent, by its name as deployed (a subnet nested in its virtual network).
    let parent_name = parent.and_then(|_| holder.get("name").and_then(J::as_str).and_then(|n| scope.value(n)));
    for (i, resource) in resources.enumerate() {
        let Some(t) = resource.get("type").and_then(J::as_str) else {
            continue;
        };
        let kind = match parent {
            Some(p) if !t.contains('/') => format!("{p}/{t}"),
            _ => t.to_string(),
        };
        let at = index(&list, i);
        collect(scope, resource, &at, Some(&kind), out);
        if let Some(inner) = inline_template(resource) {
            collect(
                &scope.nested(resource, inner),
                inner,
                &field(&field(&at, "properties"), "template"),
                None,
                out,
            );
        }
        let name = resource.get("name").and_then(J::as_str);
        let deployed = name.and_then(|n| scope.value(n));
        let partial = name.and_then(|n| scope.partial_value(n));
        out.push(Entry {
            partial,
            links: template_subnets::links(scope, &kind, resource, deployed.as_deref(), parent_name.as_deref()),
            path: at,
            kind,
            value: resource,
            parent: parent.map(|_| path.to_string()),
            deployed,
            resource_group: scope.resource_group.clone(),
            subscription: scope.subscription.clone(),
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

/// What the template says of the resource at `path` (`resources[2]`): its name where it says it
/// plainly, and the resource group and subscription a nested deployment puts it in.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub name: Option<String>,
    /// Its name with unknowns where the top's parameters have no value (`Scope::partial_value`).
    pub partial: Option<String>,
    pub resource_group: Place,
    pub subscription: Place,
}

pub(crate) fn described<'v, J: Json<'v>>(document: J, path: &str) -> Described {
    let found = entries(document).into_iter().find(|e| e.path == path);
    Described {
        name: found.as_ref().and_then(|e| e.deployed.clone()),
        partial: found.as_ref().and_then(|e| e.partial.clone()),
        resource_group: found.as_ref().map_or(Place::Inherited, |e| e.resource_group.clone()),
        subscription: found.map_or(Place::Inherited, |e| e.subscription),
    }
}

/// A name as messages show it: a long or multi-line name cut to one line.
fn shown(name: &str) -> String {
    let mut shown: String = name.chars().take(100).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if name.chars().count() > 100 {
        shown.push_str("...");
    }
    shown
}

/// The resources a template deploys at its top, those of its inline nested deployments included,
/// each with its path (`resources[3]`, `resources[7].properties.template.resources[0]`) and what
/// the template says of it ([`Described`]).
pub(crate) fn top_level<'v, J: Json<'v>>(document: J) -> Vec<(String, J, Described)> {
    entries(document)
        .into_iter()
        .filter(|e| e.parent.is_none())
        .map(|e| {
            let described = Described {
                name: e.deployed,
                partial: e.partial,
                resource_group: e.resource_group,
                subscription: e.subscription,
            };
            (e.path, e.value, described)
        })
        .collect()
}

/// The resources of `proved.kind` at the template's top that may be the wanted one (named so, or
/// by what the template does not say plainly: `template_names`), and the others (another NSG of
/// the resource group).
fn split<'e, 'v, J: Json<'v>>(all: &'e [Entry<J>], proved: &Proved, wanted: &Wanted) -> (Vec<&'e Entry<J>>, Vec<&'e Entry<J>>) {
    all.iter()
        .filter(|e| e.parent.is_none() && e.is(proved.kind))
        .partition(|e| wanted.may_be(proved, e.known_name()))
}

/// The one resource of `proved.kind` at the top of the template that may be the wanted one, with
/// its JSON path prefix (`resources[2].`); `Ok(None)` when `document` is not a template or holds
/// no such resource. Refused: a template holding two, only others, or anything the proof of that
/// one would not see.
pub(crate) fn resource<'v, J: Json<'v>>(document: J, proved: &Proved, wanted: &Wanted) -> Result<Option<(String, J)>, Vec<Diagnostic>> {
    let all = entries(document);
    let (found, others) = split(&all, proved, wanted);
    let mut diags = unseen_in(&all, &[proved], wanted);
    match found.as_slice() {
        [first, rest @ ..] => diags.extend(rest.iter().map(|second| twice(proved, first, second))),
        [] if !others.is_empty() => diags.push(none_named(proved, wanted, &others)),
        [] => {}
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(found.first().map(|e| (format!("{}.", e.path), e.value)))
}

/// The subnets of the wanted virtual network that the template's resource at `path` (an NSG or a
/// route table) is on, as the template's subnets say; `None` when the template deploys none of
/// that network's subnets, or does not say the resource's name plainly.
fn associated_subnets<'v, J: Json<'v>>(document: J, proved: &Proved, path: &str, wanted: &Wanted) -> Option<Associations> {
    let all = entries(document);
    let target = all.iter().find(|e| e.path == path)?;
    let referenced = Referenced {
        name: target.deployed.as_deref()?,
        resource_group: &target.resource_group,
        subscription: &target.subscription,
    };
    let links = all
        .iter()
        .flat_map(|e| e.links.iter().map(move |l| (l, &e.resource_group, &e.subscription)));
    template_subnets::associated(links, wanted.environment?, &referenced, proved.kind == NSG.kind)
}

/// The subnets the resource `value` of `proved`'s kind (at `prefix` in `document`, `resources[2].`;
/// empty for a bare file) is on, and the ISE subnets on another of its kind instead: a template's
/// subnets say it where it holds the environment's network, else Azure's output its `subnets`.
pub(crate) fn subnets_of<'v, J: Json<'v>>(
    document: J,
    value: J,
    proved: &Proved,
    prefix: &str,
    wanted: &Wanted,
) -> (Option<Vec<super::subnets::SubnetRef>>, Vec<(String, String)>) {
    match associated_subnets(document, proved, prefix.trim_end_matches('.'), wanted) {
        Some(a) => (Some(a.on), a.elsewhere),
        None => (super::subnets::associated(value), Vec::new()),
    }
}

/// The top-level resources of a kind in a template, by path (`resources[3]`).
pub(crate) struct Picked {
    /// Those that may be the wanted one.
    pub candidates: Vec<String>,
    /// The others, with their names.
    pub others: Vec<(String, String)>,
}

/// The resources of `proved.kind` at the template's top, told apart by the wanted name (`diff`
/// tells a template's kinds by them, the firewall reader its group).
pub(crate) fn pick<'v, J: Json<'v>>(document: J, proved: &Proved, wanted: &Wanted) -> Picked {
    let all = entries(document);
    let (found, others) = split(&all, proved, wanted);
    Picked {
        candidates: found.iter().map(|e| e.path.clone()).collect(),
        others: others
            .iter()
            .map(|e| (e.path.clone(), e.known_name().map_or_else(|| e.name(), |n| own_name(n).to_string())))
            .collect(),
    }
}

/// What the template deploys that the proofs of `proved` would not see: each such resource once,
/// at its path.
pub(crate) fn unseen<'v, J: Json<'v>>(document: J, proved: &[&Proved], wanted: &Wanted) -> Vec<Diagnostic> {
    unseen_in(&entries(document), proved, wanted)
}

/// [`unseen`] for every kind a reader proves, located in `file` (`diff`, which reads every kind a
/// template holds, refuses these before telling the kinds).
pub fn unseen_by_any_reader(text: &str, file: &str, wanted: &Wanted) -> Vec<Diagnostic> {
    match ise_model::jsondoc::tree::parse(text, file, E_TEMPLATE_UNSEEN) {
        Ok(tree) => super::locate(
            unseen(tree.root(), &[&NSG, &ROUTE_TABLE, &RULE_COLLECTION_GROUP], wanted),
            &tree,
            file,
        ),
        Err(diags) => diags,
    }
}

/// What [`unseen_in`] asks of every resource, worked out once for the template: an export of
/// thousands of resources (each rule also written as a child) took a walk of them all per
/// resource.
struct Seen<'e, J> {
    by_path: HashMap<&'e str, &'e Entry<J>>,
    /// Per proved kind: the top-level resources that may be the wanted one, and (by address) the
    /// others.
    candidates: Vec<Vec<&'e Entry<J>>>,
    others: Vec<HashSet<*const Entry<J>>>,
    /// Per proved kind with items, per candidate: its listed items' `properties`, as JSON text.
    listed: Vec<Vec<HashSet<String>>>,
}

impl<'e, 'v, J: Json<'v>> Seen<'e, J> {
    fn new(all: &'e [Entry<J>], proved: &[&Proved], wanted: &Wanted) -> Self {
        let splits: Vec<_> = proved.iter().map(|p| split(all, p, wanted)).collect();
        let listed = proved
            .iter()
            .zip(&splits)
            .map(|(p, (candidates, _))| {
                candidates
                    .iter()
                    .map(|c| match p.items {
                        Some(items) => c
                            .value
                            .get("properties")
                            .and_then(|props| props.get(items)?.as_array())
                            .map(|list| {
                                list.filter_map(|item| Some(sorted_text(&item.get("properties")?.to_value())))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        None => HashSet::new(),
                    })
                    .collect()
            })
            .collect();
        let (candidates, others) = splits
            .into_iter()
            .map(|(candidates, others)| (candidates, others.into_iter().map(|e| e as *const Entry<J>).collect()))
            .unzip();
        Seen {
            by_path: all.iter().map(|e| (e.path.as_str(), e)).collect(),
            candidates,
            others,
            listed,
        }
    }

    /// Whether `e` is, or is an item of, a resource of `proved[k].kind` named otherwise than the
    /// wanted one: what ARM deploys there leaves the wanted resource alone.
    fn is_other(&self, proved: &Proved, k: usize, wanted: &Wanted, e: &Entry<J>) -> bool {
        if e.parent.is_none() && e.is(proved.kind) {
            return self.others[k].contains(&(e as *const Entry<J>));
        }
        if !proved.items.is_some_and(|items| e.is(&format!("{}/{items}", proved.kind))) {
            return false;
        }
        let parent = self.parent_name(e);
        parent.is_some() && !wanted.may_be(proved, parent.as_deref())
    }

    /// The name of the resource a child item deploys into: the one it sits in, or the one its
    /// name says (`parent/item`); `None` where the template does not say it plainly.
    fn parent_name(&self, child: &Entry<J>) -> Option<String> {
        match &child.parent {
            Some(path) => self.by_path.get(path.as_str()).and_then(|p| p.deployed.clone()),
            None => child
                .deployed
                .as_deref()
                .and_then(|n| n.rsplit_once('/'))
                .map(|(parent, _)| parent.to_string()),
        }
    }

    /// Whether `child`, an item resource of `proved[k]`, has the `properties` of an item its parent
    /// lists (the one it names or sits in, else the template's one candidate): an exported
    /// resource group lists each rule and route both ways. It changes nothing: deployed under the
    /// name of that item it rewrites the item as it is, under another Azure refuses it (two rules
    /// of one priority and direction, two routes of one prefix), and into another parent it leaves
    /// the proved one alone.
    fn is_copy(&self, k: usize, child: &Entry<J>) -> bool {
        let candidates = &self.candidates[k];
        // The parent the child names or sits in; else the one candidate.
        let parents: Vec<usize> = match self.parent_name(child) {
            Some(name) => (0..candidates.len())
                .filter(|&i| candidates[i].deployed.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(&name)))
                .collect(),
            None if candidates.len() == 1 => vec![0],
            None => Vec::new(),
        };
        let Some(properties) = child.value.get("properties").filter(|p| p.is_object()) else {
            return false;
        };
        let properties = sorted_text(&properties.to_value());
        parents.iter().any(|&i| self.listed[k][i].contains(&properties))
    }
}

/// A JSON value's text with every object's keys sorted: two values are equal (as `Value` compares
/// them, keys in any order) exactly when their texts are, whichever map serde_json was built with.
fn sorted_text(value: &serde_json::Value) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn unseen_in<'v, J: Json<'v>>(all: &[Entry<J>], proved: &[&Proved], wanted: &Wanted) -> Vec<Diagnostic> {
    let shows = proved.iter().map(|p| format!("`{}`", p.show)).collect::<Vec<_>>().join(" or ");
    let mut diags = Vec::new();
    let seen = Seen::new(all, proved, wanted);
    for e in all {
        if proved.iter().enumerate().any(|(k, p)| seen.is_other(p, k, wanted, e)) {
            continue;
        }
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
            if let Some(d) = evaluated_by_arm(e.value, &e.path, &e.named(), &shows) {
                diags.push(d);
                continue;
            }
        }
        let refusal = proved.iter().enumerate().find_map(|(k, p)| {
            if let (Some(parent), true) = (&e.parent, e.is(p.kind)) {
                return Some(nested(p, e, parent));
            }
            let items = p.items?;
            let child = e.is(&format!("{}/{items}", p.kind)) && !seen.is_copy(k, e);
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
pub(crate) fn evaluated_by_arm<'v, J: Json<'v>>(value: J, path: &str, named: &str, shows: &str) -> Option<Diagnostic> {
    let at_properties = value.get("properties").and_then(|p| p.get("copy")).map(|_| "properties.copy");
    let what = match (value.get("condition"), value.get("copy"), at_properties) {
        (Some(c), _, _) if c.as_bool() != Some(true) => ("condition", "a `condition`, which decides whether ARM deploys it"),
        (_, Some(_), _) => ("copy", "a `copy` loop, which ARM deploys once per iteration"),
        (_, _, Some(path)) => (path, "a `properties.copy` loop, from which ARM builds its items"),
        _ => return None,
    };
    Some(
        Diagnostic::error(
            E_TEMPLATE_UNSEEN,
            field(path, what.0),
            format!("{named}: {}; the proof evaluates no template expressions", what.1),
        )
        .with_help(format!("prove the deployed resource instead: {shows}")),
    )
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

fn none_named<'v, J: Json<'v>>(proved: &Proved, wanted: &Wanted, others: &[&Entry<J>]) -> Diagnostic {
    let held: Vec<String> = others
        .iter()
        .map(|e| match &e.deployed {
            Some(name) => format!("`{}` at {}", shown(name), e.path),
            None => format!("{} at {}", e.name(), e.path),
        })
        .collect();
    Diagnostic::error(
        E_TEMPLATE_NOT_NAMED,
        others[0].path.clone(),
        format!(
            "no {} named `{}` (the environment's): the template holds {}",
            proved.what,
            wanted.of(proved).unwrap_or_default(),
            crate::views::summary::first_names(&held)
        ),
    )
    .with_help(format!(
        "if one of them is the ISE's, name it in the environment (`{}`); or prove the ISE's alone: `{}`",
        proved.field, proved.show
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
        match resource(template, proved, &Wanted::default()) {
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
        let (path, r) = resource(&t, &NSG, &Wanted::default()).unwrap().unwrap();
        assert_eq!((path.as_str(), &r["name"]), ("resources[1].", &json!("n")));
        assert!(resource(&json!({ "resources": [] }), &NSG, &Wanted::default()).unwrap().is_none());
        assert!(resource(&json!({ "properties": {} }), &NSG, &Wanted::default()).unwrap().is_none());
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
        // The same properties with their keys in another order (as a file may write them).
        let reordered: Value = serde_json::from_str(
            r#"{ "type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "n/deny",
            "properties": { "direction": "Inbound", "priority": 100, "access": "Deny" } }"#,
        )
        .unwrap();
        let t = json!({ "resources": [ nsg(json!([{ "name": "deny", "properties": p }])), reordered ] });
        assert_eq!(codes(&t, &NSG), []);
        assert_eq!(
            sorted_text(&json!({"b": [1, {"d": 2, "c": "x"}], "a": null})),
            r#"{"a":null,"b":[1,{"c":"x","d":2}]}"#
        );
        let t = json!({ "resources": [ nsg(json!([{ "name": "deny", "properties": p }])), { "type": RULE, "name": "n/deny", "properties": changed } ] });
        assert_eq!(codes(&t, &NSG), [(E_TEMPLATE_UNSEEN, "resources[1]".to_string())]);
        // No NSG to repeat: the child is refused.
        let t = json!({ "resources": [ copy ] });
        assert_eq!(codes(&t, &NSG), [(E_TEMPLATE_UNSEEN, "resources[0]".to_string())]);
    }

    /// A template of thousands of other NSGs is refused in one line: the first twelve named, the
    /// rest counted.
    #[test]
    fn many_other_resources_are_named_up_to_twelve() {
        let nsgs: Vec<Value> = (0..2000).map(|i| json!({ "type": NSG.kind, "name": format!("nsg-{i}") })).collect();
        let wanted = Wanted {
            nsg: Some("ise-nsg"),
            ..Wanted::default()
        };
        let d = resource(&json!({ "resources": nsgs }), &NSG, &wanted).unwrap_err();
        assert_eq!(d.len(), 1);
        assert!(
            d[0].message
                .ends_with("`nsg-10` at resources[10], `nsg-11` at resources[11] and 1,988 more"),
            "{}",
            d[0].message
        );
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
        let d = resource(&t, &NSG, &Wanted::default()).unwrap_err();
        assert!(
            d[1].message.contains("`other`") && d[1].message.contains("`n` at resources[0]"),
            "{}",
            d[1].message
        );
        // A rule collection group inside its policy is not read: refused.
        let t = json!({ "resources": [ { "type": "Microsoft.Network/firewallPolicies", "name": "p",
            "resources": [ { "type": "ruleCollectionGroups", "name": "g" } ] } ] });
        let d = unseen(&t, &[&RULE_COLLECTION_GROUP], &Wanted::default());
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
        let (at, found) = resource(&t, &RULE_COLLECTION_GROUP, &Wanted::default()).unwrap().unwrap();
        assert_eq!(at, "resources[1].properties.template.resources[0].");
        assert_eq!(found["name"], "p/g");
        assert_eq!(resource(&t, &NSG, &Wanted::default()).unwrap().unwrap().0, "resources[0].");
        assert_eq!(
            top_level(&t).iter().map(|(p, _, _)| p.as_str()).collect::<Vec<_>>(),
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

    /// Of a resource group's NSGs, the one the environment names is read (Azure's names compare
    /// case-insensitively; an exported template names it by a parameter's default); the others
    /// and their child rules are another NSG's business. None of that name: refused, naming them.
    #[test]
    fn the_wanted_name_picks_one_of_several() {
        let open = json!({ "access": "Allow", "priority": 300 });
        let t = json!({
            "parameters": { "p": { "type": "String", "defaultValue": "ISE-nsg" } },
            "resources": [
                { "type": NSG.kind, "name": "jumpbox", "properties": { "securityRules": [] },
                  "resources": [ { "type": "securityRules", "name": "rdp", "properties": open } ] },
                { "type": RULE, "name": "jumpbox/ssh", "properties": open },
                { "type": NSG.kind, "name": "[parameters('p')]", "properties": { "securityRules": [] } },
            ]
        });
        let wanted = Wanted {
            nsg: Some("ise-nsg"),
            ..Wanted::default()
        };
        assert_eq!(resource(&t, &NSG, &wanted).unwrap().unwrap().0, "resources[2].");
        // A child rule of the wanted NSG that it does not list is refused as before.
        let mut with_child = t.clone();
        with_child["resources"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "type": RULE, "name": "[concat(parameters('p'), '/x')]", "properties": open }));
        let d = resource(&with_child, &NSG, &wanted).unwrap_err();
        assert_eq!(
            d.iter().map(|d| (d.code, d.path.as_str())).collect::<Vec<_>>(),
            [(E_TEMPLATE_UNSEEN, "resources[3]")]
        );
        // None of that name.
        let other = Wanted {
            nsg: Some("legacy"),
            ..Wanted::default()
        };
        let d = resource(&t, &NSG, &other).unwrap_err();
        assert_eq!(
            d.iter().map(|d| (d.code, d.path.as_str())).collect::<Vec<_>>(),
            [(E_TEMPLATE_NOT_NAMED, "resources[0]")]
        );
        assert!(
            d[0].message.contains("`jumpbox` at resources[0], `ISE-nsg` at resources[2]"),
            "{}",
            d[0].message
        );
        assert!(d[0].help.as_deref().unwrap_or_default().contains("nsgName"));
        // A rule collection group is named `policy/group`.
        let groups = json!({ "resources": [
            { "type": RULE_COLLECTION_GROUP.kind, "name": "hub/spoke2-dependencies", "properties": { "ruleCollections": [] } },
            { "type": RULE_COLLECTION_GROUP.kind, "name": "hub/ise-dependencies", "properties": { "ruleCollections": [] } },
        ] });
        let wanted = Wanted {
            group: Some("ise-dependencies"),
            ..Wanted::default()
        };
        assert_eq!(
            resource(&groups, &RULE_COLLECTION_GROUP, &wanted).unwrap().unwrap().0,
            "resources[1]."
        );
    }
}
