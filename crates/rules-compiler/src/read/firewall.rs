//! Reads the Azure Firewall rules to verify: the environment's rule collection group (with the
//! file's other groups of its policy, which Azure evaluates with it: [`FirewallFile::policy_rules`])
//! or one firewall's classic collections, in the shapes `firewall_source` finds them in (isenet's
//! `firewall-policy.json` and `firewall-classic.json`, az and REST output, exported templates). DNAT rules
//! are kept apart ([`NatRule`]): they never admit traffic from the ISE subnets outward, but one that
//! forwards to an ISE address opens the ISE to whatever reaches the firewall. Every problem
//! is a coded diagnostic with its JSON path and position; all are reported. Priorities outside
//! Azure's range, the pair limit and the size limit of a rule collection group are limit violations
//! (findings), not input errors.

use super::fields::{non_empty_name, resource_name, unique_names, Object};
use super::firewall_rules::{application_rule, network_rule, policy_rule, rule_name, Rule, CLASSIC_APPLICATION_PROTOCOLS};
use super::firewall_source::{self, OtherGroup, Source, CLASSIC_KEYS};
use super::json::{Json, Locate};
use super::template::Wanted;
use super::{locate, LimitViolation, Location};
use crate::azure::firewall::{exceeded_limits, ApplicationRule, FirewallAction, NetworkRule, RuleCollection, PRIORITY_RANGE};
use ise_model::codes::{
    E_FIREWALL_DUPLICATE_NAME, E_FIREWALL_FIELD, E_FIREWALL_FILE, E_FIREWALL_UNSUPPORTED, E_FIREWALL_VALUE, W_FIREWALL_TIED,
    W_FIREWALL_UNRESOLVED,
};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::index;

#[derive(Debug, Default)]
pub struct FirewallFile {
    pub network: Vec<RuleCollection<NetworkRule>>,
    pub application: Vec<RuleCollection<ApplicationRule>>,
    /// The rule collection group of a policy file; `None` for classic collections.
    pub group: Option<Group>,
    /// Where each collection and its rules were read, parallel to `network` and `application`.
    pub network_origins: Vec<CollectionOrigin>,
    pub application_origins: Vec<CollectionOrigin>,
    /// Azure limits the file exceeds (findings, not input errors).
    pub limit_violations: Vec<LimitViolation>,
    /// The DNAT rules, each with its collection's name and where it was read.
    pub nat: Vec<NatRule>,
    /// The file's other rule collection groups of the same policy (a shared policy's `list`
    /// output or export), read to be evaluated with this one: `diff` converges this group alone,
    /// the proofs take them all ([`FirewallFile::policy_rules`]).
    pub policy_groups: Vec<PolicyGroup>,
    /// The name of a bare file's rule collection group, when the environment names its own
    /// otherwise.
    pub named_otherwise: Option<String>,
    /// Another group's rules set aside: they match on what the verifier cannot resolve.
    pub unresolved: Vec<Unresolved>,
}

/// A rule of another group of the policy that matches on what the verifier cannot resolve (IP
/// groups, FQDNs in a network rule, URLs, web categories, application-rule destination
/// addresses): taken to match nothing, so what it decides is not proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub collection: String,
    pub rule: String,
    pub why: String,
    pub at: Location,
    /// Where Azure would evaluate it, as for its collection: application rules after every
    /// network rule, then by group and collection priority (`None`: the file does not say).
    pub application: bool,
    pub group_order: Option<(u32, usize)>,
    pub priority: Option<u32>,
    /// Its collection's action (`None`: the file does not say).
    pub action: Option<FirewallAction>,
    /// The rule as read, each field the verifier cannot resolve taken to match everything: what
    /// it may match at most (`None`: the rule could not be read; it may match anything).
    pub widened: Option<WidenedRule>,
}

/// A rule set aside, widened ([`Unresolved::widened`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidenedRule {
    Network(NetworkRule),
    Application(ApplicationRule),
}

/// A DNAT rule: what reaches the firewall's `destination_ports` from `source_addresses` is
/// forwarded to `translated` (an address, or an FQDN the firewall resolves) port
/// `translated_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatRule {
    pub collection: String,
    pub name: String,
    pub source_addresses: Vec<String>,
    pub destination_ports: Vec<String>,
    pub translated: String,
    pub translated_port: String,
    pub at: Location,
}

/// Another rule collection group of the policy.
#[derive(Debug)]
pub struct PolicyGroup {
    pub name: String,
    pub rules: FirewallFile,
}

/// Every rule of the policy the file holds: the environment's group's collections and those of
/// the policy's other groups, each tagged with its group's priority and place (Azure orders by
/// the priority first: `prove::firewall` sorts by both); other groups' collections are named
/// `group/collection`.
#[derive(Debug, Default)]
pub struct PolicyRules {
    pub network: Vec<RuleCollection<NetworkRule>>,
    pub application: Vec<RuleCollection<ApplicationRule>>,
    pub network_origins: Vec<CollectionOrigin>,
    pub application_origins: Vec<CollectionOrigin>,
    pub nat: Vec<NatRule>,
    pub unresolved: Vec<Unresolved>,
    /// The priorities two or more of the policy's groups share, each with those groups' names
    /// (`None`: the environment's), in the order evaluated: Azure does not document it.
    pub ties: Vec<(u32, Vec<Option<String>>)>,
    /// Where the environment's group was read (warnings about the policy point there).
    pub at: Option<Location>,
}

impl PolicyRules {
    /// For `explain`, whose answers do not say them: `W1218` for each rule set aside, `W1219`
    /// for each priority groups share.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        let ties = self.ties.iter().map(|(priority, names)| {
            // The environment's group is read first, whatever its place in the file.
            let order = if names.first().is_some_and(Option::is_none) {
                "the environment's first, then the file's order"
            } else {
                "the file's order"
            };
            let names: Vec<String> = names
                .iter()
                .map(|n| n.as_ref().map_or("the environment's".to_string(), |n| format!("`{n}`")))
                .collect();
            let message = format!(
                "rule collection groups {} share priority {priority}: Azure does not document which it evaluates first; taken in {order}",
                names.join(", ")
            );
            warning_at(W_FIREWALL_TIED, &self.at.clone().unwrap_or_default(), message)
        });
        let unresolved = self.unresolved.iter().map(|u| {
            let message = format!("rule {} (collection {}): {}; taken to match nothing", u.rule, u.collection, u.why);
            warning_at(W_FIREWALL_UNRESOLVED, &u.at, message)
        });
        unresolved.chain(ties).collect()
    }
}

/// A warning at a place read.
fn warning_at(code: &'static str, at: &Location, message: String) -> Diagnostic {
    let d = Diagnostic::warning(code, at.path.clone(), message).in_file(&at.file);
    match (at.line, at.column) {
        (Some(line), Some(column)) => d.at(line, column),
        _ => d,
    }
}

impl FirewallFile {
    pub fn policy_rules(&self) -> PolicyRules {
        let mut out = PolicyRules::default();
        let ours = std::iter::once((None, self));
        let all = ours.chain(self.policy_groups.iter().map(|g| (Some(g.name.as_str()), &g.rules)));
        for (place, (group, f)) in all.enumerate() {
            let group_order = f.group.as_ref().and_then(|g| g.priority).map(|p| (p, place));
            let named = |collection: &str| match group {
                Some(g) => format!("{g}/{collection}"),
                None => collection.to_string(),
            };
            out.network.extend(f.network.iter().map(|c| tagged(c, named(&c.name), group_order)));
            out.application
                .extend(f.application.iter().map(|c| tagged(c, named(&c.name), group_order)));
            out.network_origins.extend(f.network_origins.iter().cloned());
            out.application_origins.extend(f.application_origins.iter().cloned());
            out.nat.extend(f.nat.iter().map(|r| NatRule {
                collection: named(&r.collection),
                ..r.clone()
            }));
            out.unresolved.extend(f.unresolved.iter().map(|u| Unresolved {
                collection: named(&u.collection),
                group_order,
                ..u.clone()
            }));
            if let Some(priority) = group_order.map(|(p, _)| p) {
                match out.ties.iter_mut().find(|(p, _)| *p == priority) {
                    Some((_, names)) => names.push(group.map(str::to_string)),
                    None => out.ties.push((priority, vec![group.map(str::to_string)])),
                }
            }
        }
        out.ties.retain(|(_, names)| names.len() > 1);
        out.at = self.group.as_ref().map(|g| g.at.clone());
        out.ties.sort_by_key(|(p, _)| *p);
        out
    }
}

fn tagged<R: Clone>(c: &RuleCollection<R>, name: String, group_order: Option<(u32, usize)>) -> RuleCollection<R> {
    RuleCollection {
        name,
        group_order,
        ..c.clone()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Az output and REST give the group's `priority`; a bare `ruleCollections` list has none.
    pub priority: Option<u32>,
    pub at: Location,
    /// The file's rule collection groups of other policies, or of a policy the file does not say
    /// plainly: (group, its policy where known). Not evaluated.
    pub apart: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionOrigin {
    pub at: Location,
    pub rules: Vec<Location>,
}

/// The paths of a collection read, for its origin and its limits.
struct Origin {
    path: String,
    priority_path: String,
    rule_paths: Vec<String>,
}

type Read<R> = (RuleCollection<R>, Origin);

/// What was read before positions are attached.
#[derive(Default)]
struct Collected {
    network: Vec<Read<NetworkRule>>,
    application: Vec<Read<ApplicationRule>>,
    /// (priority, its path, the group's path).
    group: Option<(Option<u32>, String, String)>,
    /// The path of the collection list(s), where the pair limit is reported.
    collections_path: String,
    /// DNAT rules with the path they were read at.
    nat: Vec<(NatRule, String)>,
    /// The file's groups of other (or unsaid) policies: (group, policy), not read.
    apart: Vec<(String, Option<String>)>,
    /// The file's other groups of this policy, read.
    policy_groups: Vec<(String, Collected)>,
    named_otherwise: Option<String>,
    /// Whether rules the verifier cannot resolve are set aside (another group's) or refused.
    set_aside: bool,
    /// Those set aside, each with its rule's path.
    unresolved: Vec<(Unresolved, String)>,
}

pub fn parse(text: &str, file: &str) -> Result<FirewallFile, Vec<Diagnostic>> {
    parse_wanted(text, file, &Wanted::default())
}

/// [`parse`], taking from a file that holds several rule collection groups (an exported resource
/// group, `az ... rule-collection-group list` output of a shared policy) the one of the wanted
/// name.
pub fn parse_wanted(text: &str, file: &str, wanted: &Wanted) -> Result<FirewallFile, Vec<Diagnostic>> {
    let tree = ise_model::jsondoc::tree::parse(text, file, E_FIREWALL_FILE)?;
    read(tree.root(), &tree, file, wanted)
}

/// Reads a parsed file (generic: its tests read serde's `Value` too, the path before the tree).
pub(super) fn read<'v, J: Json<'v>>(
    value: J,
    positions: &impl Locate,
    file: &str,
    wanted: &Wanted,
) -> Result<FirewallFile, Vec<Diagnostic>> {
    let mut diags = super::template::unseen(value, &[&super::template::RULE_COLLECTION_GROUP], wanted);
    let collected = match firewall_source::find(value, wanted) {
        Err(d) => {
            diags.push(d);
            return Err(locate(diags, positions, file));
        }
        Ok(_) if !diags.is_empty() => return Err(locate(diags, positions, file)),
        Ok(Source::Group {
            group,
            in_template,
            others,
        }) => {
            let named_otherwise = match in_template {
                true => None,
                false => super::template::named_otherwise(group.value, &super::template::RULE_COLLECTION_GROUP, wanted),
            };
            read_policy_groups(&group, in_template, others, &mut diags).map(|c| Collected { named_otherwise, ..c })
        }
        Ok(Source::Classic(firewall)) => read_classic(&firewall, &mut diags),
    };
    if !diags.is_empty() {
        return Err(locate(diags, positions, file));
    }
    match collected {
        Some(c) => Ok(attach_positions(c, positions, file)),
        None => {
            let d = Diagnostic::error(E_FIREWALL_FILE, "", "no rule collections found").with_help(
                "pass isenet's firewall-policy.json or firewall-classic.json, the output of \
                 `az network firewall policy rule-collection-group show` (or `list`, of one group) / \
                 `az network firewall show` (a firewall without a policy), or an ARM template holding one \
                 rule collection group or one firewall",
            );
            Err(locate(vec![d], positions, file))
        }
    }
}

/// The environment's rule collection group and the file's other groups of its policy, which Azure
/// evaluates with it by group priority: each needs its priority then.
fn read_policy_groups<'v, J: Json<'v>>(
    group: &Object<'v, J>,
    in_template: bool,
    others: Vec<OtherGroup<'v, J>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Collected> {
    let mut out = read_policy(group, in_template, false, diags);
    let mut policy_groups = Vec::new();
    let mut apart = Vec::new();
    for other in others {
        match other {
            OtherGroup::SamePolicy { name, group } => {
                policy_groups.extend(read_policy(&group, in_template, true, diags).map(|c| (name, c)));
            }
            OtherGroup::Apart { name, policy } => apart.push((name, policy)),
        }
    }
    if !policy_groups.is_empty() {
        let n = policy_groups.len() + 1;
        let unordered = out.iter().chain(policy_groups.iter().map(|(_, c)| c));
        for (priority, at, _) in unordered.filter_map(|c| c.group.as_ref()) {
            if priority.is_none() {
                let message = format!("`priority` is needed: the file holds {n} rule collection groups of the policy, which Azure evaluates by group priority");
                diags.push(Diagnostic::error(E_FIREWALL_FIELD, at.clone(), message));
            }
        }
    }
    if let Some(out) = &mut out {
        out.apart = apart;
        out.policy_groups = policy_groups;
    }
    out
}

/// A policy rule collection group: each collection says its type, each rule its type. Of
/// `another` spoke's group, a rule that matches on what the verifier cannot resolve (`E1213` in
/// the environment's own) is set aside as [`Unresolved`] instead: the rest of the policy is
/// still proved, and a finding says what that rule leaves unproved.
fn read_policy<'v, J: Json<'v>>(group: &Object<'v, J>, in_template: bool, another: bool, diags: &mut Vec<Diagnostic>) -> Option<Collected> {
    // A template resource or REST output holds the group's fields under `properties`, az output
    // at the top; a `properties` of another type would read as a group without collections.
    let props = group.checked_properties(diags)?;
    group_name(group, in_template, diags);
    // Absent, the file is a bare list of collections; null is no priority Azure deploys.
    let priority = match props.value.get("priority") {
        None => None,
        Some(p) if p.is_null() => {
            diags.push(Diagnostic::error(
                E_FIREWALL_FIELD,
                props.at("priority"),
                "`priority` must be a whole number, not null",
            ));
            None
        }
        Some(_) => props.whole_number("priority", E_FIREWALL_VALUE, diags),
    };
    let mut out = Collected {
        group: Some((priority, props.at("priority"), group.path.clone())),
        set_aside: another,
        collections_path: props.at("ruleCollections"),
        ..Collected::default()
    };
    // The file was taken for a group because it names `ruleCollections`: null is not an empty list.
    if props.value.get("ruleCollections").is_some_and(J::is_null) {
        diags.push(Diagnostic::error(
            E_FIREWALL_FIELD,
            out.collections_path,
            "`ruleCollections` must be a list, not null",
        ));
        return None;
    }
    let collections = list(&props, "ruleCollections", diags)?;
    for (i, c) in collections.iter().enumerate() {
        let item = Object::new(*c, index(&out.collections_path, i), E_FIREWALL_FIELD);
        if !item.is_object("a rule collection", diags) {
            continue;
        }
        collection_name(&item, false, diags);
        // A collection is read by its type; one without a type Azure knows is reported, not guessed.
        match is_nat(&item, diags) {
            Some(true) => read_nat_collection(&item, diags, &mut out),
            Some(false) => read_collection(&item, diags, &mut out, (policy_rule, true)),
            None => {}
        }
    }
    unique_names(
        collections.into_iter(),
        &out.collections_path,
        E_FIREWALL_DUPLICATE_NAME,
        "rule collection",
        diags,
    );
    Some(out)
}

/// The group's name where the file writes it out (an ARM expression says nothing): az and REST
/// output give the group's own name, a template resource `policy/group`.
fn group_name<'v, J: Json<'v>>(group: &Object<'v, J>, in_template: bool, diags: &mut Vec<Diagnostic>) {
    let Some(name) = group.value.get("name").and_then(J::as_str).filter(|n| !n.starts_with('[')) else {
        return;
    };
    let own = match name.split_once('/') {
        Some((_policy, own)) if in_template => own,
        None if in_template => {
            let message = format!("`{name}` is not `policy/group`, the name of a rule collection group resource");
            diags.push(Diagnostic::error(E_FIREWALL_VALUE, group.at("name"), message));
            return;
        }
        _ => name,
    };
    diags.extend(resource_name(own, "rule collection group", E_FIREWALL_VALUE, group.at("name")));
}

/// The rules of a DNAT collection (policy `FirewallPolicyNatRuleCollection` or classic
/// `natRuleCollections`): name, sources, ports and translation; a rule without a translation is
/// reported, the rest of its fields are Azure's to check.
fn read_nat_collection<'v, J: Json<'v>>(item: &Object<'v, J>, diags: &mut Vec<Diagnostic>, out: &mut Collected) {
    if !item.is_object("a rule collection", diags) {
        return;
    }
    let Some(props) = item.checked_properties(diags) else { return };
    let collection = item.text("name", true, diags).unwrap_or_default().to_string();
    let Some(rules) = list(&props, "rules", diags) else { return };
    for (j, r) in rules.iter().enumerate() {
        let rule = Object::new(*r, index(&props.at("rules"), j), E_FIREWALL_FIELD);
        if !rule.is_object("a rule", diags) {
            continue;
        }
        let strings = |key: &str, diags: &mut Vec<Diagnostic>| -> Vec<String> {
            rule.text_list(key, diags).into_iter().map(|(s, _)| s.to_string()).collect()
        };
        let translated = rule
            .text("translatedAddress", false, diags)
            .filter(|t| !t.is_empty())
            .or_else(|| rule.text("translatedFqdn", false, diags).filter(|t| !t.is_empty()));
        let Some(translated) = translated else {
            diags.push(
                Diagnostic::error(
                    E_FIREWALL_FIELD,
                    rule.at("translatedAddress"),
                    "a DNAT rule needs `translatedAddress` or `translatedFqdn`",
                )
                .with_help("Azure Firewall forwards a DNAT rule's traffic to its translated address or FQDN"),
            );
            continue;
        };
        let name = rule.text("name", true, diags);
        rule_name(&rule, name, diags);
        let nat = NatRule {
            collection: collection.clone(),
            name: name.unwrap_or_default().to_string(),
            source_addresses: strings("sourceAddresses", diags),
            destination_ports: strings("destinationPorts", diags),
            translated: translated.to_string(),
            translated_port: rule.text("translatedPort", false, diags).unwrap_or("*").to_string(),
            at: Location::default(),
        };
        out.nat.push((nat, rule.path.clone()));
    }
}

/// `Some(true)` for a NAT collection, read apart from the filter collections; `None` (reported)
/// when the collection has no type Azure knows.
fn is_nat<'v, J: Json<'v>>(item: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    match item.text("ruleCollectionType", true, diags)? {
        t if t.eq_ignore_ascii_case("FirewallPolicyNatRuleCollection") => Some(true),
        t if t.eq_ignore_ascii_case("FirewallPolicyFilterRuleCollection") => Some(false),
        t => {
            diags.push(
                Diagnostic::error(
                    E_FIREWALL_VALUE,
                    item.at("ruleCollectionType"),
                    format!("unknown ruleCollectionType `{t}`"),
                )
                .with_help("Azure knows FirewallPolicyFilterRuleCollection and FirewallPolicyNatRuleCollection"),
            );
            None
        }
    }
}

/// Classic collections: one list per rule type, at the firewall's top (az, isenet) or under its
/// `properties` (REST, templates).
fn read_classic<'v, J: Json<'v>>(firewall: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<Collected> {
    let keys = CLASSIC_KEYS;
    let root = match firewall.value.get("properties") {
        Some(p) if keys.iter().any(|k| p.get(k).is_some()) => Object::new(p, firewall.at("properties"), E_FIREWALL_FIELD),
        _ => Object::new(firewall.value, firewall.path.clone(), E_FIREWALL_FIELD),
    };
    if keys.iter().all(|k| root.get(k).is_none()) {
        return None;
    }
    let mut out = Collected {
        collections_path: root.at(keys[0]),
        ..Collected::default()
    };
    let network = |rule: &Object<'v, J>, diags: &mut Vec<Diagnostic>| network_rule(rule, diags).map(Rule::Network);
    let application = |rule: &Object<'v, J>, diags: &mut Vec<Diagnostic>| {
        application_rule(rule, CLASSIC_APPLICATION_PROTOCOLS, diags).map(Rule::Application)
    };
    for (key, read_rule) in [
        (keys[0], &network as &dyn Fn(&Object<'v, J>, &mut Vec<Diagnostic>) -> Option<Rule>),
        (keys[1], &application),
    ] {
        let Some(collections) = list(&root, key, diags) else { continue };
        for (i, c) in collections.iter().enumerate() {
            let item = Object::new(*c, index(&root.at(key), i), E_FIREWALL_FIELD);
            collection_name(&item, true, diags);
            read_collection(&item, diags, &mut out, (read_rule, key == keys[0]));
        }
        unique_names(
            collections.into_iter(),
            &root.at(key),
            E_FIREWALL_DUPLICATE_NAME,
            "rule collection",
            diags,
        );
    }
    if let Some(collections) = list(&root, keys[2], diags) {
        for (i, c) in collections.iter().enumerate() {
            let item = Object::new(*c, index(&root.at(keys[2]), i), E_FIREWALL_FIELD);
            collection_name(&item, true, diags);
            read_nat_collection(&item, diags, &mut out);
        }
    }
    Some(out)
}

/// A collection's name by Azure's rule for it: a classic collection is a child resource of its
/// firewall (the resource name rule; Azure answers InvalidResourceName), a policy collection takes
/// any non-empty text. A missing or mistyped name is reported where the collection is read.
fn collection_name<'v, J: Json<'v>>(item: &Object<'v, J>, classic: bool, diags: &mut Vec<Diagnostic>) {
    let Some(name) = item.get("name").and_then(J::as_str) else {
        return;
    };
    let check = if classic { resource_name } else { non_empty_name };
    diags.extend(check(name, "rule collection", E_FIREWALL_VALUE, item.at("name")));
}

/// A list field; absent is empty, another type is reported.
fn list<'v, J: Json<'v>>(obj: &Object<'v, J>, key: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<J>> {
    match obj.get(key).map(J::as_array) {
        None => Some(Vec::new()),
        Some(Some(a)) => Some(a.collect()),
        Some(None) => {
            diags.push(Diagnostic::error(E_FIREWALL_FIELD, obj.at(key), format!("`{key}` must be a list")));
            None
        }
    }
}

/// One collection: its header, then its rules split by type (a policy collection may hold both).
fn read_collection<'v, J: Json<'v>>(
    item: &Object<'v, J>,
    diags: &mut Vec<Diagnostic>,
    out: &mut Collected,
    (read_rule, empty_is_network): (impl Fn(&Object<'v, J>, &mut Vec<Diagnostic>) -> Option<Rule>, bool),
) {
    if !item.is_object("a rule collection", diags) {
        return;
    }
    let Some(props) = item.checked_properties(diags) else { return };
    let header = header(item, &props, diags);
    let Some(rules) = list(&props, "rules", diags) else { return };
    let (mut network, mut application) = (Vec::new(), Vec::new());
    for (j, r) in rules.iter().enumerate() {
        let rule = Object::new(*r, index(&props.at("rules"), j), E_FIREWALL_FIELD);
        if !rule.is_object("a rule", diags) {
            continue;
        }
        let mut problems = Vec::new();
        let read = read_rule(&rule, &mut problems);
        let (unresolvable, other): (Vec<Diagnostic>, Vec<Diagnostic>) = problems
            .into_iter()
            .partition(|d| out.set_aside && d.code == E_FIREWALL_UNSUPPORTED);
        diags.extend(other);
        if let Some(first) = unresolvable.first() {
            let text = |o: &Object<'v, J>, key| o.get(key).and_then(J::as_str).unwrap_or_default().to_string();
            let application = match &read {
                Some(r) => matches!(r, Rule::Application(_)),
                None => text(&rule, "ruleType").eq_ignore_ascii_case("ApplicationRule"),
            };
            let set = |key: &str| rule.get(key).and_then(J::as_array).is_some_and(|mut a| a.next().is_some());
            let every = || vec!["*".to_string()];
            let widened = read.map(|r| match r {
                Rule::Network(mut n) => {
                    if set("sourceIpGroups") {
                        n.source_addresses = every();
                    }
                    if set("destinationIpGroups") || set("destinationFqdns") {
                        n.destination_addresses = every();
                    }
                    WidenedRule::Network(n)
                }
                Rule::Application(mut a) => {
                    // Its destinations (URLs, web categories, addresses) are taken as every one
                    // where it is evaluated.
                    if set("sourceIpGroups") {
                        a.source_addresses = every();
                    }
                    WidenedRule::Application(a)
                }
            });
            let set_aside = Unresolved {
                collection: text(item, "name"),
                rule: text(&rule, "name"),
                why: first.message.clone(),
                at: Location::default(),
                application,
                group_order: None,
                priority: header.as_ref().map(|h| h.1),
                action: header.as_ref().map(|h| h.2),
                widened,
            };
            out.unresolved.push((set_aside, rule.path));
            continue;
        }
        match read {
            Some(Rule::Network(n)) => network.push((n, rule.path)),
            Some(Rule::Application(a)) => application.push((a, rule.path)),
            None => {}
        }
    }
    unique_names(rules.into_iter(), &props.at("rules"), E_FIREWALL_DUPLICATE_NAME, "rule", diags);
    let Some(header) = header else { return };
    let priority_path = props.at("priority");
    // An empty collection is kept in the list of its type (a policy's in the network list): its
    // name and priority still count.
    let network_was_empty = network.is_empty();
    if !network.is_empty() || (application.is_empty() && empty_is_network) {
        out.network.push(collected(&header, network, &item.path, &priority_path));
    }
    if !application.is_empty() || (network_was_empty && !empty_is_network) {
        out.application.push(collected(&header, application, &item.path, &priority_path));
    }
}

fn collected<R>(header: &Header, rules: Vec<(R, String)>, path: &str, priority_path: &str) -> Read<R> {
    let (rules, rule_paths) = rules.into_iter().unzip();
    let (name, priority, action) = header.clone();
    let origin = Origin {
        path: path.to_string(),
        priority_path: priority_path.to_string(),
        rule_paths,
    };
    (
        RuleCollection {
            name,
            priority,
            group_order: None,
            action,
            rules,
        },
        origin,
    )
}

/// A collection's name, priority and action.
type Header = (String, u32, FirewallAction);

fn header<'v, J: Json<'v>>(item: &Object<'v, J>, props: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<Header> {
    let name = item.text("name", true, diags);
    let priority = props.whole_number("priority", E_FIREWALL_VALUE, diags);
    let action = match props.get("action") {
        Some(a) if a.is_object() => {
            let action = Object::new(a, props.at("action"), E_FIREWALL_FIELD);
            match action.text("type", true, diags) {
                Some(t) if t.eq_ignore_ascii_case("Allow") => Some(FirewallAction::Allow),
                Some(t) if t.eq_ignore_ascii_case("Deny") => Some(FirewallAction::Deny),
                Some(t) => {
                    diags.push(
                        Diagnostic::error(E_FIREWALL_VALUE, action.at("type"), format!("unknown action `{t}`"))
                            .with_help("Azure Firewall takes Allow or Deny"),
                    );
                    None
                }
                None => None,
            }
        }
        Some(_) => {
            diags.push(Diagnostic::error(
                E_FIREWALL_FIELD,
                props.at("action"),
                "`action` must be an object {\"type\": ...}",
            ));
            None
        }
        None => {
            diags.push(Diagnostic::error(E_FIREWALL_FIELD, props.at("action"), "`action` is missing"));
            None
        }
    };
    Some((name?.to_string(), priority?, action?))
}

/// Attaches line:column to every item and lists the limits the file exceeds (the policy's other
/// groups' too: a priority outside Azure's range orders nothing Azure would deploy).
fn attach_positions(mut c: Collected, positions: &impl Locate, file: &str) -> FirewallFile {
    let mut limit_violations = Vec::new();
    let policy_groups = std::mem::take(&mut c.policy_groups)
        .into_iter()
        .map(|(name, group)| {
            let mut rules = attach_positions(group, positions, file);
            limit_violations.append(&mut rules.limit_violations);
            PolicyGroup { name, rules }
        })
        .collect();
    let at = |path: &str| Location::of(positions, file, path.to_string());
    let group = c.group.map(|(priority, priority_path, path)| {
        if let Some(p) = priority {
            let violation = LimitViolation::within("rule collection group priority", PRIORITY_RANGE, p, || at(&priority_path));
            limit_violations.extend(violation);
        }
        Group {
            priority,
            at: at(&path),
            apart: c.apart.clone(),
        }
    });
    let (network, network_origins) = finish(c.network, &at, &mut limit_violations);
    let (application, application_origins) = finish(c.application, &at, &mut limit_violations);
    // Both firewall-wide limits are reported at the collection list(s) they sum over.
    let excesses = exceeded_limits(&network, &application, group.is_some());
    limit_violations.extend(
        excesses
            .into_iter()
            .filter_map(|e| LimitViolation::at_most(e.name, e.max, e.actual, || at(&c.collections_path))),
    );
    // A policy collection holding both rule types was read into two: report its priority once.
    limit_violations.sort_by(|a, b| (a.at.line, a.at.column, &a.at.path).cmp(&(b.at.line, b.at.column, &b.at.path)));
    limit_violations.dedup();
    let nat = c.nat.into_iter().map(|(rule, path)| NatRule { at: at(&path), ..rule }).collect();
    FirewallFile {
        network,
        application,
        group,
        network_origins,
        application_origins,
        limit_violations,
        nat,
        policy_groups,
        named_otherwise: c.named_otherwise,
        unresolved: c
            .unresolved
            .into_iter()
            .map(|(u, path)| Unresolved { at: at(&path), ..u })
            .collect(),
    }
}

/// The collections of one type with their origins; a priority outside Azure's range is a violation.
fn finish<R>(
    reads: Vec<Read<R>>,
    at: &impl Fn(&str) -> Location,
    limit_violations: &mut Vec<LimitViolation>,
) -> (Vec<RuleCollection<R>>, Vec<CollectionOrigin>) {
    let mut collections = Vec::with_capacity(reads.len());
    let mut origins = Vec::with_capacity(reads.len());
    for (collection, origin) in reads {
        let priority = collection.priority;
        limit_violations.extend(LimitViolation::within("rule collection priority", PRIORITY_RANGE, priority, || {
            at(&origin.priority_path)
        }));
        origins.push(CollectionOrigin {
            at: at(&origin.path),
            rules: origin.rule_paths.iter().map(|p| at(p)).collect(),
        });
        collections.push(collection);
    }
    (collections, origins)
}
