//! `isenet tags diff`: what changed between two service-tag files of one cloud (tags added and
//! removed, prefixes added and removed per tag), and what the new file changes for an environment.
//! The weekly pipeline decides from the latter whether a change ticket is needed.
//!
//! The environment is compiled with each file and every artifact `compile` writes is compared item
//! by item ([`artifacts`]), ignoring only the file's change number: any difference needs a
//! deployment. Apart from those, an unchanged rule, route or firewall rule that names a tag whose
//! IPv4 addresses changed is an effective change: Azure resolves the tag itself, so nothing is
//! deployed, but what the rule admits moves. IPv4 only: the ISE subnets are IPv4, and a tag's IPv6
//! prefixes reach the artifacts only through the `-v6` rules of `--expand-tags`, which the artifact
//! comparison catches.

use super::artifacts::{self, Change, ItemKey, ItemKind};
use crate::azure::nsg::AddressMatch;
use crate::plan::expand;
use crate::plan::{self, DependencyTarget, NetworkDestination, Plan};
use crate::render;
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::E_TAGS_CLOUD_MISMATCH;
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::resolve::Peer;
use ise_model::servicetags::is_platform_tag;
use ise_model::servicetags::{ServiceTags, TagEntry};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One tag present in both files whose prefixes or network features differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagChange {
    pub name: String,
    /// Prefixes only in the new file, ascending (IPv4 first).
    pub added: Vec<IpNet>,
    /// Prefixes only in the old file, ascending.
    pub removed: Vec<IpNet>,
    /// The IPv4 addresses differ (not just how they are cut into prefixes).
    pub ipv4_changed: bool,
    pub ipv6_changed: bool,
    /// `(old, new)` network features when they differ (`UDR` decides whether a route names the tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_features: Option<(Vec<String>, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDiff {
    pub cloud: String,
    pub old_change_number: u64,
    pub new_change_number: u64,
    pub added_tags: Vec<String>,
    pub removed_tags: Vec<String>,
    pub changed_tags: Vec<TagChange>,
}

impl TagDiff {
    pub fn prefixes_added(&self) -> usize {
        self.changed_tags.iter().map(|c| c.added.len()).sum()
    }
    pub fn prefixes_removed(&self) -> usize {
        self.changed_tags.iter().map(|c| c.removed.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.added_tags.is_empty() && self.removed_tags.is_empty() && self.changed_tags.is_empty()
    }
}

/// Refuses two files of different clouds.
pub fn check_same_cloud(old: &ServiceTags, new: &ServiceTags) -> Result<(), Diagnostic> {
    if old.cloud == new.cloud {
        return Ok(());
    }
    Err(Diagnostic::error(
        E_TAGS_CLOUD_MISMATCH,
        "cloud",
        format!(
            "the old file is for cloud `{}` and the new file for cloud `{}`",
            old.cloud, new.cloud
        ),
    )
    .with_help("compare two weekly downloads of the same cloud"))
}

fn sorted_set(p: &[IpNet]) -> BTreeSet<IpNet> {
    p.iter().map(IpNet::trunc).collect()
}

fn tag_change(old: &TagEntry, new: &TagEntry) -> Option<TagChange> {
    let (o, n) = (sorted_set(&old.prefixes), sorted_set(&new.prefixes));
    let features = |t: &TagEntry| {
        let mut f = t.network_features.clone();
        f.sort();
        f
    };
    let network_features = (features(old) != features(new)).then(|| (features(old), features(new)));
    if o == n && network_features.is_none() {
        return None;
    }
    Some(TagChange {
        name: new.name.clone(),
        added: n.difference(&o).copied().collect(),
        removed: o.difference(&n).copied().collect(),
        ipv4_changed: old.aggregated_ipv4() != new.aggregated_ipv4(),
        ipv6_changed: old.aggregated_ipv6() != new.aggregated_ipv6(),
        network_features,
    })
}

/// The differences between two files of one cloud (tag names compared case-insensitively, as Azure
/// does).
pub fn diff(old: &ServiceTags, new: &ServiceTags) -> Result<TagDiff, Diagnostic> {
    check_same_cloud(old, new)?;
    let mut added_tags = Vec::new();
    let mut changed_tags = Vec::new();
    for entry in new.tags().values() {
        match old.get(&entry.name) {
            None => added_tags.push(entry.name.clone()),
            Some(o) => changed_tags.extend(tag_change(o, entry)),
        }
    }
    let removed_tags = old
        .tags()
        .values()
        .filter(|t| new.get(&t.name).is_none())
        .map(|t| t.name.clone())
        .collect();
    Ok(TagDiff {
        cloud: new.cloud.clone(),
        old_change_number: old.change_number,
        new_change_number: new.change_number,
        added_tags,
        removed_tags,
        changed_tags,
    })
}

/// A tag whose change can alter what an artifact admits: added or removed, or its addresses or
/// network features changed (a file that only recuts prefixes changes nothing).
fn material_tags(d: &TagDiff) -> BTreeSet<String> {
    let changed = d
        .changed_tags
        .iter()
        .filter(|c| c.ipv4_changed || c.ipv6_changed || c.network_features.is_some())
        .map(|c| c.name.clone());
    d.added_tags.iter().chain(&d.removed_tags).cloned().chain(changed).collect()
}

/// One item of an artifact that differs between the compiles, with the tags responsible.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactChange {
    #[serde(flatten)]
    pub key: ItemKey,
    pub change: Change,
    /// Paths inside the item that differ (for a changed item).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Tags of the diff behind the item: named by it or by the requirements it serves.
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
}

/// A deployed item that stays byte-identical while the addresses of a tag it names change: Azure
/// applies the new addresses itself, no deployment is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveChange {
    /// `securityRule`, `route` or `firewallRule`.
    pub kind: ItemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    pub name: String,
    pub tag: String,
    /// IPv4 addresses the tag gained and lost (the ISE is IPv4 only).
    pub addresses_added: u64,
    pub addresses_removed: u64,
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    pub environment: String,
    /// Whether the artifacts compared were expanded (`compile --expand-tags`).
    pub expanded: bool,
    /// Items of the artifacts `compile` writes that differ (a deployment is needed).
    pub artifacts: Vec<ArtifactChange>,
    /// Unchanged items naming a tag whose addresses changed.
    pub effective: Vec<EffectiveChange>,
}

impl Impact {
    /// Whether an artifact changes: a change ticket is needed.
    pub fn artifacts_changed(&self) -> bool {
        !self.artifacts.is_empty()
    }
    /// Whether what the unchanged artifacts admit changes.
    pub fn effective_changed(&self) -> bool {
        !self.effective.is_empty()
    }
}

/// The plan of the environment with one tag file: as built, and as rendered (expanded when
/// `compile --expand-tags` is compared).
pub struct Compiled {
    pub plan: Plan,
    pub expanded: Option<Plan>,
}

impl Compiled {
    /// The plan the artifacts are rendered from.
    pub fn rendered(&self) -> &Plan {
        self.expanded.as_ref().unwrap_or(&self.plan)
    }
}

/// Compiles the environment with one file, as `compile` (with `--expand-tags` when `expand_tags`).
pub fn compile(env: &Environment, tags: &ServiceTags, table_version: Option<&str>, expand_tags: bool) -> Result<Compiled, Vec<Diagnostic>> {
    let plan = plan::build(env, tags, table_version)?;
    let expanded = if expand_tags { Some(expand::expand(&plan, tags)?) } else { None };
    Ok(Compiled { plan, expanded })
}

/// Values that differ between compiles with two files without changing anything deployed.
const IGNORED: &[(&str, &str)] = &[("plan.json", "/serviceTagsChangeNumber")];

/// Whether a firewall address is a service tag (not `*`, an IP, a CIDR or an IP range).
fn is_tag_address(a: &str) -> bool {
    a.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// Requirement (or firewall dependency) ids -> the non-platform tags they name, from the plans as
/// built (before expansion, the tags are still names).
fn tags_by_id(plans: [&Plan; 2]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in plans {
        for r in &p.requirements {
            for peer in [&r.source, &r.destination] {
                if let Peer::Tag { name } = peer {
                    if !is_platform_tag(name) {
                        out.entry(r.id.clone()).or_default().insert(name.clone());
                    }
                }
            }
        }
        for d in &p.firewall.dependencies {
            if let DependencyTarget::Network {
                destination: NetworkDestination::ServiceTag { name },
                ..
            } = &d.target
            {
                out.entry(d.id.clone()).or_default().insert(name.clone());
            }
        }
    }
    out
}

/// (kind, name) of a rendered plan's items -> the requirement ids they serve.
fn ids_by_item(plans: [&Plan; 2]) -> BTreeMap<(ItemKind, String), BTreeSet<String>> {
    let mut out: BTreeMap<(ItemKind, String), BTreeSet<String>> = BTreeMap::new();
    let mut add = |kind, name: &str, ids: &[String]| out.entry((kind, name.to_string())).or_default().extend(ids.iter().cloned());
    for p in plans {
        for r in &p.security_rules {
            add(ItemKind::SecurityRule, &r.rule.name, &r.requirements);
        }
        for r in &p.routes {
            add(ItemKind::Route, &r.name, &r.requirements);
        }
        for s in &p.subnets {
            add(ItemKind::Subnet, &s.name, &s.requirements);
            // subnets.json names a subnet `<vnet>/<subnet>`.
            add(
                ItemKind::Subnet,
                &format!("{}/{}", p.environment.virtual_network.name, s.name),
                &s.requirements,
            );
        }
        for d in &p.firewall.dependencies {
            add(ItemKind::FirewallRule, &d.id, std::slice::from_ref(&d.id));
            add(ItemKind::FirewallDependency, &d.id, std::slice::from_ref(&d.id));
        }
        for r in &p.requirements {
            add(ItemKind::Requirement, &r.id, std::slice::from_ref(&r.id));
        }
    }
    out
}

/// Every string of a JSON value.
fn strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.to_ascii_lowercase());
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The addresses of `a` not in `b`; both aggregated (sorted, disjoint).
fn addresses_outside(a: &[Ipv4Net], b: &[Ipv4Net]) -> u64 {
    let range = |n: &Ipv4Net| (u64::from(u32::from(n.network())), u64::from(u32::from(n.broadcast())));
    let total: u64 = a.iter().map(|n| range(n).1 - range(n).0 + 1).sum();
    let mut common = 0;
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let ((alo, ahi), (blo, bhi)) = (range(&a[i]), range(&b[j]));
        let (lo, hi) = (alo.max(blo), ahi.min(bhi));
        if lo <= hi {
            common += hi - lo + 1;
        }
        if ahi < bhi {
            i += 1;
        } else {
            j += 1;
        }
    }
    total - common
}

/// The unchanged items of the new rendered plan that name a tag whose IPv4 addresses changed.
fn effective_changes(new_plan: &Plan, changed: &BTreeSet<ItemKey>, old: &ServiceTags, new: &ServiceTags) -> Vec<EffectiveChange> {
    let v4 = |t: &ServiceTags, tag: &str| t.get(tag).map(TagEntry::aggregated_ipv4).unwrap_or_default();
    let unchanged = |artifact: &str, kind, collection: Option<&str>, name: &str| {
        !changed.contains(&ItemKey {
            artifact: artifact.into(),
            kind,
            collection: collection.map(str::to_string),
            name: name.into(),
        })
    };
    // Each unchanged item naming a tag, before the tag's addresses are compared.
    let mut named: Vec<EffectiveChange> = Vec::new();
    let mut name = |kind, collection: Option<&str>, item: &str, tag: &str, requirements: &[String]| {
        named.push(EffectiveChange {
            kind,
            collection: collection.map(str::to_string),
            name: item.to_string(),
            tag: tag.to_string(),
            addresses_added: 0,
            addresses_removed: 0,
            requirements: requirements.to_vec(),
        })
    };
    for r in &new_plan.security_rules {
        for a in [&r.rule.source, &r.rule.destination] {
            if let AddressMatch::Tag(t) = a {
                if !is_platform_tag(t) && unchanged("nsg.json", ItemKind::SecurityRule, None, &r.rule.name) {
                    name(ItemKind::SecurityRule, None, &r.rule.name, t, &r.requirements);
                }
            }
        }
    }
    for r in new_plan.routes.iter().filter(|r| is_tag_address(&r.address_prefix)) {
        if unchanged("route-table.json", ItemKind::Route, None, &r.name) {
            name(ItemKind::Route, None, &r.name, &r.address_prefix, &r.requirements);
        }
    }
    for c in &new_plan.firewall.network_rule_collections {
        for r in &c.rules {
            for a in r.destination_addresses.iter().filter(|a| is_tag_address(a)) {
                if unchanged("firewall-policy.json", ItemKind::FirewallRule, Some(&c.name), &r.name) {
                    name(ItemKind::FirewallRule, Some(&c.name), &r.name, a, std::slice::from_ref(&r.name));
                }
            }
        }
    }
    let mut out: Vec<EffectiveChange> = named
        .into_iter()
        .filter_map(|e| {
            let (before, after) = (v4(old, &e.tag), v4(new, &e.tag));
            (before != after).then(|| EffectiveChange {
                addresses_added: addresses_outside(&after, &before),
                addresses_removed: addresses_outside(&before, &after),
                ..e
            })
        })
        .collect();
    out.sort_by(|a, b| (a.kind, &a.collection, &a.name, &a.tag).cmp(&(b.kind, &b.collection, &b.name, &b.tag)));
    out.dedup();
    out
}

/// Compares the environment's artifacts compiled with the old and the new file: every item that
/// differs (with the tags responsible), and the unchanged items whose tags' addresses changed.
pub fn compare(env: &Environment, old_c: &Compiled, new_c: &Compiled, old: &ServiceTags, new: &ServiceTags, d: &TagDiff) -> Impact {
    let (before, after) = (old_c.rendered(), new_c.rendered());
    let items = artifacts::compare_artifacts(&render::render_all(before), &render::render_all(after), IGNORED);
    let material = material_tags(d);
    let lower: BTreeMap<String, &String> = material.iter().map(|t| (t.to_ascii_lowercase(), t)).collect();
    let tag_ids = tags_by_id([&old_c.plan, &new_c.plan]);
    let item_ids = ids_by_item([before, after]);
    let artifacts: Vec<ArtifactChange> = items
        .into_iter()
        .map(|i| {
            let requirements: BTreeSet<String> = item_ids.get(&(i.key.kind, i.key.name.clone())).cloned().unwrap_or_default();
            let mut named = BTreeSet::new();
            for v in i.before.iter().chain(&i.after) {
                strings(v, &mut named);
            }
            let mut tags: BTreeSet<String> = named.iter().filter_map(|s| lower.get(s).map(|t| (*t).clone())).collect();
            tags.extend(
                requirements
                    .iter()
                    .filter_map(|id| tag_ids.get(id))
                    .flatten()
                    .filter_map(|t| lower.get(&t.to_ascii_lowercase()).map(|t| (*t).clone())),
            );
            ArtifactChange {
                key: i.key,
                change: i.change,
                fields: i.fields,
                tags: tags.into_iter().collect(),
                requirements: requirements.into_iter().collect(),
            }
        })
        .collect();
    let changed: BTreeSet<ItemKey> = artifacts.iter().map(|a| a.key.clone()).collect();
    Impact {
        environment: env.name.clone(),
        expanded: new_c.expanded.is_some(),
        effective: effective_changes(after, &changed, old, new),
        artifacts,
    }
}

/// What the new file changes for the environment. Both files must be of the environment's cloud; a
/// file the environment cannot be compiled with (a needed tag missing, a limit exceeded) returns
/// the compile's diagnostics.
pub fn impact(
    env: &Environment,
    old: &ServiceTags,
    new: &ServiceTags,
    table_version: Option<&str>,
    expand_tags: bool,
) -> Result<Impact, Vec<Diagnostic>> {
    let d = diff(old, new).map_err(|d| vec![d])?;
    old.check_cloud(env.cloud).map_err(|d| vec![d])?;
    let old_c = compile(env, old, table_version, expand_tags)?;
    let new_c = compile(env, new, table_version, expand_tags)?;
    Ok(compare(env, &old_c, &new_c, old, new, &d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(change: u64, cloud: &str, values: &[(&str, &[&str])]) -> ServiceTags {
        let values: Vec<String> = values
            .iter()
            .map(|(n, p)| {
                format!(
                    r#"{{"name":"{n}","properties":{{"addressPrefixes":{}}}}}"#,
                    serde_json::to_string(p).unwrap()
                )
            })
            .collect();
        ServiceTags::parse(&format!(
            r#"{{"changeNumber":{change},"cloud":"{cloud}","values":[{}]}}"#,
            values.join(",")
        ))
        .unwrap()
    }

    #[test]
    fn tags_and_prefixes_added_and_removed() {
        let old = file(
            1,
            "Public",
            &[
                ("A", &["10.0.0.0/24", "2001:db8::/48"]),
                ("Gone", &["10.9.0.0/16"]),
                ("Same", &["10.1.0.0/16"]),
            ],
        );
        let new = file(
            2,
            "Public",
            &[
                ("A", &["10.0.0.0/24", "10.0.1.0/24"]),
                ("New", &["10.8.0.0/16"]),
                ("Same", &["10.1.0.0/17", "10.1.128.0/17"]),
            ],
        );
        let d = diff(&old, &new).unwrap();
        assert_eq!(d.added_tags, ["New"]);
        assert_eq!(d.removed_tags, ["Gone"]);
        let names: Vec<&str> = d.changed_tags.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "Same"]);
        let a = &d.changed_tags[0];
        assert_eq!(a.added, ["10.0.1.0/24".parse::<IpNet>().unwrap()]);
        assert_eq!(a.removed, ["2001:db8::/48".parse::<IpNet>().unwrap()]);
        assert!(a.ipv4_changed && a.ipv6_changed);
        // Same addresses cut differently: listed, but the IPv4 set is unchanged.
        assert!(!d.changed_tags[1].ipv4_changed);
        assert_eq!((d.prefixes_added(), d.prefixes_removed()), (3, 2));
    }

    #[test]
    fn files_of_different_clouds_are_refused() {
        let a = file(1, "Public", &[]);
        let b = file(1, "China", &[]);
        assert_eq!(diff(&a, &b).unwrap_err().code, E_TAGS_CLOUD_MISMATCH);
    }
}
