//! `diff --deployed`: what must change on the deployed NSG, route table and firewall rule collection
//! group to match what the environment compiles to, and what the verifier finds in the deployed
//! state. The compiled artifacts are read back with the same readers as the deployed files, so both
//! sides are in one canonical form; items are matched by name (`artifacts::compare`), then an item
//! only deployed and one only desired that mean the same (`canonical::meaning`) are one rename.

use super::artifacts::{compare, Change, ItemDiff, ItemKind};
use super::canonical::{self, Items};
use super::deployed::{self, Content, Deployed, Format, Target, TemplateFile};
use super::nsg_order::Place;
use crate::plan::Plan;
use crate::prove::findings::{ArtifactKind, Finding, FindingKind, Verification};
use crate::prove::verify::{self, Read};
use crate::read::firewall::FirewallFile;
use crate::read::nsg::NsgFile;
use crate::read::routes::RouteFile;
use ise_model::diag::Diagnostic;
use ise_model::env::TunnelingMode;
use ise_model::servicetags::ServiceTags;
use serde::Serialize;
use serde_json::Value;

/// What converging does to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Desired, not deployed.
    Add,
    /// Deployed, not desired.
    Remove,
    /// Deployed under the desired name with other properties.
    Change,
    /// Deployed under another name with the same meaning (properties that do not decide traffic,
    /// such as priority or description, may differ too: see `fields`).
    Rename,
}

/// One property that differs: its deployed and its desired value (null when absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    pub field: String,
    pub deployed: Value,
    pub desired: Value,
}

/// One rule, route, firewall rule or rule collection to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemChange {
    pub artifact: ArtifactKind,
    pub kind: ItemKind,
    /// Firewall rules: the rule collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// The desired name (the deployed name for a removal).
    pub name: String,
    pub action: Action,
    /// Renames: the deployed name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_name: Option<String>,
    /// Changes and renames: the properties that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Removals that may admit or reroute traffic someone else relies on (a Deny rule or
    /// collection, a route to a gateway, an appliance or None): what deleting it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caution: Option<String>,
    /// The item as deployed and as desired, in the canonical form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<Value>,
}

/// A deployed artifact compared: where it came from and which Azure resource it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compared {
    pub artifact: ArtifactKind,
    pub file: String,
    pub format: Format,
    /// The resource the `az` commands address: from the file where it says, else the environment's.
    pub target: Target,
    /// How many items (rules, routes, firewall rules and collections) each side has.
    pub deployed_items: usize,
    pub desired_items: usize,
    /// The subnets other than the ISE's the file says the NSG or route table is also on
    /// (`virtualNetwork/subnet`): every change to it changes their traffic too.
    pub also_on: Vec<String>,
    /// Firewall: the file's other groups of the policy whose priority is the one the environment
    /// gives its group: Azure does not document which of them it evaluates first.
    pub priority_shared_with: Vec<String>,
    /// NSG: the (direction, priority) of every deployed rule, where the ticket may not park a rule.
    #[serde(skip)]
    pub held: Vec<Place>,
    /// Routes: the name and address prefix of every deployed and desired route, which the
    /// ticket's bridge routes must not take.
    #[serde(skip)]
    pub routes_taken: Vec<(String, String)>,
    /// Routes: every deployed route (canonical form), for the bridges.
    #[serde(skip)]
    pub deployed_routes: Vec<(String, Value)>,
    /// Firewall: the priority of every deployed and desired rule collection (which a bridge
    /// collection must not take) and whether it denies (which a bridge must not pass).
    #[serde(skip)]
    pub collections: Vec<(u64, bool)>,
    /// The desired side's NSG places and routes: what the rollback starts from.
    #[serde(skip)]
    pub desired_held: Vec<Place>,
    #[serde(skip)]
    pub desired_routes: Vec<(String, Value)>,
}

/// A failing finding of the verifier on a deployed file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFinding {
    pub file: String,
    #[serde(flatten)]
    pub finding: Finding,
}

/// The requirements (or dependencies, or route checks) a deployed artifact does not meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    pub artifact: ArtifactKind,
    pub file: String,
    pub requirements: Vec<String>,
}

/// An ISE subnet that a compared NSG or route table is not associated with, though the deployed
/// file lists the subnets it is on: its rules or routes do not apply there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unassociated {
    pub artifact: ArtifactKind,
    /// The NSG or route table, as the association command names it: its name, or its resource id
    /// when it lies in another resource group or subscription than the virtual network.
    pub resource: String,
    pub file: String,
    /// The subscription the NSG or route table lies in when it is not the virtual network's: Azure
    /// associates a subnet only with one of its own subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_subscription: Option<String>,
    /// The environment's virtual network, its resource group and the subnet.
    pub resource_group: String,
    pub virtual_network: String,
    pub subnet: String,
    /// The NSG or route table the file puts the subnet on instead (a template's subnets say it),
    /// as an association command names it: what the rollback puts back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_on: Option<String>,
}

/// An artifact the environment deploys that the given templates do not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Absent {
    pub artifact: ArtifactKind,
    /// The name the environment gives it.
    pub name: String,
    /// The templates looked in.
    pub files: Vec<String>,
    /// What the templates hold of that kind under other names.
    pub passed_over: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// No change needed and the verifier finds nothing in the deployed state (metadata
    /// differences do not count: they decide no traffic).
    pub in_sync: bool,
    pub environment: String,
    /// The environment's cloud as `az cloud set` names it: the ticket's command blocks start there.
    #[serde(skip)]
    pub az_cli_cloud: String,
    /// The environment's subscription: the command blocks select it after the cloud.
    #[serde(skip)]
    pub subscription: String,
    pub compared: Vec<Compared>,
    pub changes: Vec<ItemChange>,
    /// Items that differ only in what decides no traffic (`canonical::METADATA`: descriptions):
    /// not drift, and no command re-creates a rule for them.
    pub metadata: Vec<ItemChange>,
    /// From the verifier: requirements the deployed state misses.
    pub missing: Vec<Missing>,
    /// Artifacts the environment deploys that no deployed file holds, though a template (an
    /// exported resource group) was given: not deployed there, or under another name.
    pub absent: Vec<Absent>,
    /// ISE subnets a compared NSG or route table is not on (its file lists its subnets).
    pub unassociated: Vec<Unassociated>,
    /// Artifacts the environment deploys that were not compared: no file given holds them and none
    /// is a template (the `az ... show` output of one resource says nothing of the others).
    pub not_compared: Vec<ArtifactKind>,
    /// From the verifier: allow rules that admit what no requirement needs.
    pub openings: Vec<FileFinding>,
    /// Every other failing finding of the verifier (unknown tags, limits, wrong next hops, ...).
    pub other_findings: Vec<FileFinding>,
    /// The verifier's complete report on the deployed files.
    pub verification: Verification,
    /// Why the compiled firewall rules leave out custom DNS servers or outbound destinations
    /// inside the virtual network, when a deployed firewall rule is removed: an earlier version
    /// of isenet wrote rules for them, and the removal needs its reason in the ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall_note: Option<String>,
}

/// The compiled NSG, route table and rule collection group, read back like deployed files.
struct Desired {
    nsg: Items,
    routes: Items,
    firewall: Items,
}

fn desired(plan: &Plan) -> Result<Desired, Vec<Diagnostic>> {
    let artifacts = crate::render::render_all(plan);
    let text = |name: &str| artifacts.iter().find(|a| a.file_name == name).map_or("", |a| a.contents.as_str());
    let file = |name: &str| format!("<compiled {name}>");
    let nsg = deployed::read(text(canonical::NSG_FILE), &file(canonical::NSG_FILE), &Default::default())?.artifacts;
    let routes = crate::read::routes::parse(text(canonical::ROUTES_FILE), &file(canonical::ROUTES_FILE))?;
    let firewall = crate::read::firewall::parse(text(canonical::FIREWALL_FILE), &file(canonical::FIREWALL_FILE))?;
    let nsg = match nsg.first().map(|d| &d.content) {
        Some(Content::Nsg(n, descriptions)) => canonical::nsg_items(&n.rules, descriptions),
        _ => Items::new(),
    };
    Ok(Desired {
        nsg,
        routes: canonical::route_items(&routes),
        firewall: canonical::firewall_items(&firewall),
    })
}

fn items_of(content: &Content) -> Items {
    match content {
        Content::Nsg(n, descriptions) => canonical::nsg_items(&n.rules, descriptions),
        Content::Routes(r) => canonical::route_items(r),
        Content::Firewall(f) => canonical::firewall_items(f),
    }
}

/// The top-level properties in which two canonical items differ in meaning (a firewall rule's
/// `10.10.1.0/26,10.10.1.64/26` and four /27s do not).
fn field_changes(deployed: &Value, desired: &Value) -> Vec<FieldChange> {
    let (Some(a), Some(b)) = (deployed.as_object(), desired.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !canonical::same_value(k, a.get(*k), b.get(*k)))
        .map(|k| FieldChange {
            field: k.clone(),
            deployed: a.get(k).cloned().unwrap_or(Value::Null),
            desired: b.get(k).cloned().unwrap_or(Value::Null),
        })
        .collect()
}

fn artifact_of(file: &str) -> ArtifactKind {
    match file {
        canonical::ROUTES_FILE => ArtifactKind::Routes,
        canonical::FIREWALL_FILE => ArtifactKind::Firewall,
        _ => ArtifactKind::Nsg,
    }
}

/// The change an item difference is; none when the item differs only in how it is written.
fn change_of(d: ItemDiff) -> Option<ItemChange> {
    let (action, fields) = match d.change {
        Change::Added => (Action::Add, Vec::new()),
        Change::Removed => (Action::Remove, Vec::new()),
        Change::Changed => {
            let fields = field_changes(d.before.as_ref().unwrap_or(&Value::Null), d.after.as_ref().unwrap_or(&Value::Null));
            if fields.is_empty() {
                return None;
            }
            (Action::Change, fields)
        }
    };
    let caution = match action {
        Action::Remove => caution_of(d.key.kind, d.before.as_ref()),
        _ => None,
    };
    Some(ItemChange {
        artifact: artifact_of(&d.key.artifact),
        kind: d.key.kind,
        collection: d.key.collection,
        name: d.key.name,
        action,
        deployed_name: None,
        fields,
        caution,
        deployed: d.before,
        desired: d.after,
    })
}

/// What deleting a deployed item the environment does not compile may do to traffic that others
/// rely on: a Deny (rule or collection) admits what it denied, a route to a gateway, an appliance
/// or `None` hands its addresses to Azure's system routes. `None` for the rest.
fn caution_of(kind: ItemKind, deployed: Option<&Value>) -> Option<String> {
    let text = |k: &str| deployed?.get(k)?.as_str();
    let keep = "leave it out of this change if another team owns it";
    match kind {
        ItemKind::SecurityRule if text("access") == Some("Deny") => Some(format!(
            "a Deny rule the environment does not compile: deleting it admits what it denies; {keep}"
        )),
        ItemKind::RuleCollection if text("action") == Some("Deny") => Some(format!(
            "a Deny collection the environment does not compile: deleting it admits what it denies; {keep}"
        )),
        ItemKind::Route => match text("nextHopType")? {
            hop @ ("VirtualNetworkGateway" | "VirtualAppliance" | "None") => Some(format!(
                "a route to {hop} the environment does not compile: deleting it sends {} by Azure's system routes instead; {keep}",
                text("addressPrefix").unwrap_or("its addresses")
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The changes from `deployed` to `desired`: by name, then removals and additions of one kind (and
/// collection) that mean the same paired into renames, in name order.
pub fn changes(deployed: &Items, desired: &Items) -> Vec<ItemChange> {
    let mut changes: Vec<ItemChange> = compare(deployed, desired).into_iter().filter_map(change_of).collect();
    // Azure names NSG rules and routes (resources with ids) without telling case apart: a removal
    // and an addition whose names differ only in case are one rule, changed where its properties
    // differ, else no change at all.
    let same_name = |r: &ItemChange, a: &ItemChange| {
        matches!(r.kind, ItemKind::SecurityRule | ItemKind::Route) && r.kind == a.kind && r.name.eq_ignore_ascii_case(&a.name)
    };
    for (removed, added, fields) in pair_off(&mut changes, same_name) {
        if !fields.is_empty() {
            changes.push(ItemChange {
                action: Action::Change,
                fields,
                deployed: removed.deployed,
                ..added
            });
        }
    }
    let same_meaning = |r: &ItemChange, a: &ItemChange| {
        (r.kind, &r.collection) == (a.kind, &a.collection)
            && r.kind != ItemKind::RuleCollection
            && r.deployed.as_ref().map(canonical::meaning) == a.desired.as_ref().map(canonical::meaning)
    };
    for (removed, added, fields) in pair_off(&mut changes, same_meaning) {
        changes.push(ItemChange {
            action: Action::Rename,
            deployed_name: Some(removed.name),
            fields,
            deployed: removed.deployed,
            ..added
        });
    }
    changes.sort_by(|a, b| report_order(a).cmp(&report_order(b)));
    changes
}

/// Takes out of `changes` each removal with the first addition `pairs` matches it with, one to
/// one, with the fields that differ from the removed item to the added one.
fn pair_off(
    changes: &mut Vec<ItemChange>,
    pairs: impl Fn(&ItemChange, &ItemChange) -> bool,
) -> Vec<(ItemChange, ItemChange, Vec<FieldChange>)> {
    let matches = |r: &ItemChange, a: &ItemChange| r.action == Action::Remove && a.action == Action::Add && pairs(r, a);
    let mut out = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let Some(j) = changes.iter().position(|a| matches(&changes[i], a)) else {
            i += 1;
            continue;
        };
        let (removed, added) = if i < j {
            let added = changes.remove(j);
            (changes.remove(i), added)
        } else {
            let removed = changes.remove(i);
            (removed, changes.remove(j))
        };
        let fields = field_changes(
            removed.deployed.as_ref().unwrap_or(&Value::Null),
            added.desired.as_ref().unwrap_or(&Value::Null),
        );
        out.push((removed, added, fields));
        i = i.min(j);
    }
    out
}

/// The (name, address prefix) of every route on either side.
fn routes_taken(have: &Items, want: &Items) -> Vec<(String, String)> {
    have.iter()
        .chain(want.iter())
        .filter(|(k, _)| k.kind == ItemKind::Route)
        .filter_map(|(k, v)| Some((k.name.clone(), v.get("addressPrefix")?.as_str()?.to_string())))
        .collect()
}

/// Whether a firewall rule names a destination address inside the virtual network (an address, a
/// prefix, or a range by its start), read as Azure Firewall reads its entries.
fn reaches_inside_the_vnet(rule: &Value, env: &ise_model::env::Environment) -> bool {
    use crate::azure::firewall::{parse_address, FirewallAddress};
    let destinations = rule.get("destinationAddresses").and_then(Value::as_array);
    destinations
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|a| match parse_address(a) {
            Ok(FirewallAddress::Prefix(n)) => crate::plan::inside_the_vnet(env, &n),
            Ok(FirewallAddress::Range(lo, _)) => crate::plan::inside_the_vnet(env, &ipnet::Ipv4Net::from(lo)),
            _ => false,
        })
}

/// A change of properties that decide no traffic only (a description).
fn metadata_only(c: &ItemChange) -> bool {
    c.action == Action::Change && c.fields.iter().all(|f| canonical::METADATA.contains(&f.field.as_str()))
}

/// Where a change sits in the report: by artifact (nsg, routes, firewall), kind, collection, name.
fn report_order(c: &ItemChange) -> (ArtifactKind, ItemKind, &Option<String>, &str) {
    (c.artifact, c.kind, &c.collection, &c.name)
}

pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub tags: &'a ServiceTags,
    pub deployed: &'a [Deployed],
    /// The templates among the deployed files (`deployed::read_all`).
    pub templates: &'a [TemplateFile],
}

/// The subnets besides the ISE's that `d`'s file says it is on.
fn also_on(d: &Deployed, env: &ise_model::env::Environment) -> Vec<String> {
    let on = d.subnets.as_deref().unwrap_or_default();
    let ise = |s: &&deployed::SubnetRef| env.subnets.iter().any(|i| s.is_environments(env, &i.name));
    let mut out: Vec<String> = on
        .iter()
        .filter(|s| !ise(s))
        .map(|s| format!("{}/{}", s.virtual_network, s.subnet))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The file's other rule collection groups of the policy at the priority the environment gives its
/// group.
fn priority_shared_with(d: &Deployed, plan: &crate::plan::Plan) -> Vec<String> {
    let Content::Firewall(f) = &d.content else { return Vec::new() };
    let ours = plan.firewall.rule_collection_group_priority;
    f.policy_groups
        .iter()
        .filter(|g| g.rules.group.as_ref().and_then(|g| g.priority) == Some(ours))
        .map(|g| g.name.clone())
        .collect()
}

/// The ISE subnets each deployed NSG or route table the environment needs is not associated with,
/// where its file lists its subnets.
fn unassociated(inputs: &Inputs) -> Vec<Unassociated> {
    let env = &inputs.plan.environment;
    let needed = verify::needed_artifacts(env.forced_tunneling.mode);
    let mut out = Vec::new();
    for d in inputs.deployed.iter().filter(|d| needed.contains(&d.content.kind())) {
        let Some(on) = &d.subnets else { continue };
        let target = target_with_defaults(d, inputs.plan);
        let name = target.name.unwrap_or_default();
        // A resource of another resource group or subscription than the virtual network is named by
        // its id (`target_with_defaults` keeps only another subscription).
        let elsewhere = target
            .resource_group
            .as_ref()
            .filter(|rg| !rg.eq_ignore_ascii_case(&env.resource_group));
        let resource = match (elsewhere, &target.subscription) {
            (None, None) => name,
            (group, subscription) => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/{}/{name}",
                subscription.as_deref().unwrap_or(&env.subscription_id),
                group.unwrap_or(&env.resource_group),
                deployed::proved(d.content.kind()).kind
            ),
        };
        for subnet in &env.subnets {
            let here = |s: &deployed::SubnetRef| s.is_environments(env, &subnet.name);
            if !on.iter().any(here) {
                out.push(Unassociated {
                    artifact: d.content.kind(),
                    resource: resource.clone(),
                    other_subscription: target.subscription.clone(),
                    file: d.file.clone(),
                    resource_group: env.resource_group.clone(),
                    virtual_network: env.virtual_network.name.clone(),
                    subnet: subnet.name.clone(),
                    now_on: d
                        .elsewhere
                        .iter()
                        .find(|(s, _)| s.eq_ignore_ascii_case(&subnet.name))
                        .map(|(_, now)| now.clone()),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.artifact, &a.subnet).cmp(&(b.artifact, &b.subnet)));
    out
}

/// The artifacts the verifier needed and no deployed file held: absent when a template was given
/// (it is a whole resource group), else not compared.
fn absent(inputs: &Inputs, verification: &Verification) -> (Vec<Absent>, Vec<ArtifactKind>) {
    if inputs.templates.is_empty() {
        return (Vec::new(), verification.unverified.clone());
    }
    let names = inputs.plan.deployed_names();
    let absent = verification
        .unverified
        .iter()
        .map(|&artifact| Absent {
            artifact,
            name: names.of(deployed::proved(artifact)).unwrap_or_default().to_string(),
            files: inputs.templates.iter().map(|t| t.file.clone()).collect(),
            passed_over: inputs
                .templates
                .iter()
                .flat_map(|t| t.passed_over.iter().filter(|(k, _)| *k == artifact).map(|(_, n)| n.clone()))
                .collect(),
        })
        .collect();
    (absent, Vec::new())
}

/// A deployed artifact as the verifier takes it.
fn read_of<'a, T>(d: &'a Deployed, content: &'a T) -> Read<'a, T> {
    Read {
        file: &d.file,
        text: &d.text,
        content,
    }
}

fn verification(inputs: &Inputs) -> Result<Verification, Vec<Diagnostic>> {
    let find = |kind: ArtifactKind| inputs.deployed.iter().find(|d| d.content.kind() == kind);
    let nsg: Option<Read<NsgFile>> = find(ArtifactKind::Nsg).and_then(|d| match &d.content {
        Content::Nsg(n, _) => Some(read_of(d, n)),
        _ => None,
    });
    let routes: Option<Read<RouteFile>> = find(ArtifactKind::Routes).and_then(|d| match &d.content {
        Content::Routes(r) => Some(read_of(d, r)),
        _ => None,
    });
    let firewall: Option<Read<FirewallFile>> = find(ArtifactKind::Firewall).and_then(|d| match &d.content {
        Content::Firewall(f) => Some(read_of(d, f)),
        _ => None,
    });
    verify::verify(&verify::Inputs {
        plan: inputs.plan,
        tags: inputs.tags,
        nsg,
        routes,
        firewall,
    })
}

/// The resource the commands address: what the file says, the rest from the environment.
fn target_with_defaults(d: &Deployed, plan: &Plan) -> Target {
    let env = &plan.environment;
    let name = plan
        .deployed_names()
        .of(deployed::proved(d.content.kind()))
        .unwrap_or_default()
        .to_string();
    Target {
        // The environment's subscription is the one every command block selects first.
        subscription: d
            .target
            .subscription
            .clone()
            .filter(|s| !s.eq_ignore_ascii_case(&env.subscription_id)),
        resource_group: d.target.resource_group.clone().or_else(|| Some(env.resource_group.clone())),
        name: d.target.name.clone().or(Some(name)),
        policy: d.target.policy.clone(),
    }
}

/// The item fields that hold service tags (NSG prefixes, a route's prefix, firewall destinations).
const TAG_FIELDS: &[&str] = &[
    "sourceAddressPrefixes",
    "destinationAddressPrefixes",
    "addressPrefix",
    "destinationAddresses",
];

/// The strings of `item`'s tag fields (one string or a list of them).
fn tag_field_strings(item: &mut Value) -> impl Iterator<Item = &mut String> {
    item.as_object_mut().into_iter().flat_map(|o| {
        o.iter_mut()
            .filter(|(k, _)| TAG_FIELDS.contains(&k.as_str()))
            .flat_map(|(_, v)| match v {
                Value::String(s) => vec![s],
                Value::Array(a) => a
                    .iter_mut()
                    .filter_map(|x| if let Value::String(s) = x { Some(s) } else { None })
                    .collect(),
                _ => Vec::new(),
            })
    })
}

/// `deployed` with each service tag the desired items also name spelt as they spell it: Azure
/// compares tags case-insensitively (`internet` is `Internet`), so a case difference is no drift.
fn tags_spelt_as(mut deployed: Items, desired: &Items) -> Items {
    let mut spelling: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for item in desired.values() {
        for s in tag_field_strings(&mut item.clone()) {
            if crate::azure::is_tag_word(s) {
                spelling.insert(s.to_lowercase(), s.clone());
            }
        }
    }
    for item in deployed.values_mut() {
        for s in tag_field_strings(item) {
            if let Some(desired) = spelling.get(&s.to_lowercase()) {
                s.clone_from(desired);
            }
        }
    }
    deployed
}

/// `desired` without the artifact's own properties when the deployed file does not state them (a
/// rule collection group without its priority): what the file does not say is not drift.
fn stated_only(desired: &Items, deployed: &Items) -> Items {
    desired
        .iter()
        .filter(|(k, _)| k.kind != ItemKind::Document || deployed.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub fn drift(inputs: &Inputs) -> Result<Drift, Vec<Diagnostic>> {
    let desired = desired(inputs.plan)?;
    let verification = verification(inputs)?;
    let mut compared = Vec::new();
    let mut all = Vec::new();
    for d in inputs.deployed {
        let kind = d.content.kind();
        let want = match kind {
            ArtifactKind::Nsg => &desired.nsg,
            ArtifactKind::Routes => &desired.routes,
            ArtifactKind::Firewall => &desired.firewall,
        };
        let have = tags_spelt_as(items_of(&d.content), want);
        let want = stated_only(want, &have);
        let count = |items: &Items| items.keys().filter(|k| k.kind != ItemKind::Document).count();
        compared.push(Compared {
            artifact: kind,
            file: d.file.clone(),
            format: d.format,
            target: target_with_defaults(d, inputs.plan),
            deployed_items: count(&have),
            desired_items: count(&want),
            also_on: also_on(d, &inputs.plan.environment),
            priority_shared_with: priority_shared_with(d, inputs.plan),
            held: have.values().filter_map(super::nsg_order::place).collect(),
            desired_held: want.values().filter_map(super::nsg_order::place).collect(),
            desired_routes: want
                .iter()
                .filter(|(k, _)| k.kind == ItemKind::Route)
                .map(|(k, v)| (k.name.clone(), v.clone()))
                .collect(),
            routes_taken: routes_taken(&have, &want),
            collections: have
                .iter()
                .chain(want.iter())
                .filter(|(k, _)| k.kind == ItemKind::RuleCollection)
                .filter_map(|(_, v)| Some((v.get("priority")?.as_u64()?, v.get("action") == Some(&Value::from("Deny")))))
                .collect(),
            deployed_routes: have
                .iter()
                .filter(|(k, _)| k.kind == ItemKind::Route)
                .map(|(k, v)| (k.name.clone(), v.clone()))
                .collect(),
        });
        all.extend(changes(&have, &want));
    }
    // The report reads the same whatever order the files, or a template's resources, came in.
    compared.sort_by(|a, b| (a.artifact, &a.target.name, &a.file).cmp(&(b.artifact, &b.target.name, &b.file)));
    all.sort_by(|a, b| report_order(a).cmp(&report_order(b)));
    let (metadata, all): (Vec<ItemChange>, Vec<ItemChange>) = all.into_iter().partition(metadata_only);
    let mut missing = Vec::new();
    let mut openings = Vec::new();
    let mut other_findings = Vec::new();
    for proof in &verification.proofs {
        let uncovered: Vec<String> = proof.uncovered().into_iter().map(str::to_string).collect();
        if !uncovered.is_empty() {
            missing.push(Missing {
                artifact: proof.artifact,
                file: proof.file.clone(),
                requirements: uncovered,
            });
        }
        for f in proof.findings.iter().filter(|f| f.fails()) {
            let item = FileFinding {
                file: proof.file.clone(),
                finding: f.clone(),
            };
            match f.kind {
                FindingKind::Opening | FindingKind::UndeclaredMemberOpening | FindingKind::FirewallOpening => openings.push(item),
                // Missing requirements are listed by id above, missing associations as `unassociated`.
                FindingKind::UncoveredRequirement
                | FindingKind::DependencyBlocked
                | FindingKind::NsgNotOnSubnet
                | FindingKind::RouteTableNotOnSubnet => {}
                _ => other_findings.push(item),
            }
        }
    }
    let env = &inputs.plan.environment;
    let removes_rule_inside = all.iter().any(|c| {
        c.artifact == ArtifactKind::Firewall
            && c.action == Action::Remove
            && c.deployed.as_ref().is_some_and(|r| reaches_inside_the_vnet(r, env))
    });
    let firewall_note = if removes_rule_inside && env.forced_tunneling.mode == TunnelingMode::Firewall {
        crate::plan::not_through_the_firewall(env)
    } else {
        None
    };
    let (absent, not_compared) = absent(inputs, &verification);
    let unassociated = unassociated(inputs);
    Ok(Drift {
        in_sync: all.is_empty() && verification.ok && absent.is_empty() && unassociated.is_empty(),
        environment: inputs.plan.environment.name.clone(),
        az_cli_cloud: inputs.plan.environment.cloud.facts().az_cli_cloud.clone(),
        subscription: inputs.plan.environment.subscription_id.clone(),
        compared,
        changes: all,
        metadata,
        missing,
        absent,
        unassociated,
        not_compared,
        openings,
        other_findings,
        verification,
        firewall_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::artifacts::ItemKey;
    use serde_json::json;

    fn items(entries: &[(&str, Value)]) -> Items {
        entries
            .iter()
            .map(|(n, v)| {
                (
                    ItemKey {
                        artifact: canonical::NSG_FILE.into(),
                        kind: ItemKind::SecurityRule,
                        collection: None,
                        name: n.to_string(),
                    },
                    v.clone(),
                )
            })
            .collect()
    }

    fn rule(priority: u32, port: &str) -> Value {
        json!({"priority": priority, "description": "d", "destinationPortRanges": [port], "access": "Allow"})
    }

    #[test]
    fn renamed_items_are_one_rename_with_their_other_differences() {
        let deployed = items(&[
            ("Port_454", rule(200, "454")),
            ("keep", rule(100, "443")),
            ("gone", rule(300, "22")),
        ]);
        let desired = items(&[("in-designer-454", rule(130, "454")), ("keep", rule(100, "8443"))]);
        let got = changes(&deployed, &desired);
        let summary: Vec<(Action, &str, Option<&str>, Vec<&str>)> = got
            .iter()
            .map(|c| {
                (
                    c.action,
                    c.name.as_str(),
                    c.deployed_name.as_deref(),
                    c.fields.iter().map(|f| f.field.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Action::Remove, "gone", None, vec![]),
                (Action::Rename, "in-designer-454", Some("Port_454"), vec!["priority"]),
                (Action::Change, "keep", None, vec!["destinationPortRanges"]),
            ]
        );
        assert_eq!(got[2].fields[0].deployed, json!(["443"]));
        assert_eq!(got[2].fields[0].desired, json!(["8443"]));
    }

    #[test]
    fn an_unstated_group_priority_is_not_compared_but_a_stated_one_is() {
        let doc = canonical::document_key(canonical::FIREWALL_FILE);
        let desired: Items = [(doc.clone(), json!({"priority": 500}))].into_iter().collect();
        assert!(changes(&Items::new(), &stated_only(&desired, &Items::new())).is_empty());
        let deployed: Items = [(doc, json!({"priority": 100}))].into_iter().collect();
        let got = changes(&deployed, &stated_only(&desired, &deployed));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].action, got[0].kind), (Action::Change, ItemKind::Document));
        assert_eq!(
            got[0].fields,
            [FieldChange {
                field: "priority".into(),
                deployed: json!(100),
                desired: json!(500)
            }]
        );
    }

    #[test]
    fn firewall_lists_are_compared_by_meaning_in_changes_and_renames() {
        let key = |name: &str| ItemKey {
            artifact: canonical::FIREWALL_FILE.into(),
            kind: ItemKind::FirewallRule,
            collection: Some("c".into()),
            name: name.into(),
        };
        let rule = |sources: Value, ports: Value| {
            json!({"ruleType": "NetworkRule", "description": "d", "ipProtocols": ["TCP"], "sourceAddresses": sources,
                "destinationAddresses": ["Sql"], "destinationPorts": ports})
        };
        let desired: Items = [
            (key("same"), rule(json!(["10.0.0.0/25", "10.0.0.128/25"]), json!(["1433"]))),
            (key("new-name"), rule(json!(["10.1.0.0/24"]), json!(["443", "80"]))),
        ]
        .into_iter()
        .collect();
        let deployed: Items = [
            (key("same"), rule(json!(["10.0.0.0-10.0.0.255"]), json!(["1433-1433"]))),
            (
                key("old-name"),
                rule(json!(["10.1.0.128/25", "10.1.0.0/25"]), json!(["80", "443", "443"])),
            ),
        ]
        .into_iter()
        .collect();
        let got = changes(&deployed, &desired);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].action, got[0].name.as_str(), got[0].deployed_name.as_deref()),
            (Action::Rename, "new-name", Some("old-name"))
        );
        assert!(got[0].fields.is_empty(), "{:?}", got[0].fields);
    }

    #[test]
    fn a_rename_pairs_one_to_one() {
        // Two deployed copies of one desired rule: one rename, one removal.
        let deployed = items(&[("a", rule(100, "1")), ("b", rule(110, "1"))]);
        let desired = items(&[("c", rule(100, "1"))]);
        let actions: Vec<Action> = changes(&deployed, &desired).iter().map(|c| c.action).collect();
        assert_eq!(actions.iter().filter(|a| **a == Action::Rename).count(), 1);
        assert_eq!(actions.iter().filter(|a| **a == Action::Remove).count(), 1);
        assert_eq!(actions.len(), 2);
    }
}
