//! `isenet tags diff`: what changed between two service-tag files of one cloud (tags added and
//! removed, prefixes added and removed per tag), and, for an environment, which generated NSG rules
//! and routes change. The weekly pipeline decides from the latter whether a change ticket is needed.
//!
//! A rule or route is affected when it is added, removed or different in the plan built with the
//! new file, or when it names a tag whose IPv4 addresses differ (compared aggregated, so a file
//! that merely splits or merges prefixes changes nothing). IPv6 prefixes never reach the IPv4-only
//! ISE; they matter only for the `-v6` rules of `--expand-tags`, which the plan comparison catches
//! when the impact is computed on expanded plans.

use crate::azure::nsg::{AddressMatch, Direction};
use crate::plan::expand;
use crate::plan::{self, Plan, PlanRoute, PlanRule};
use ipnet::IpNet;
use ise_model::codes::E_TAGS_CLOUD_MISMATCH;
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::servicetags::is_platform_tag;
use ise_model::servicetags::{ServiceTags, TagEntry};
use serde::Serialize;
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
    for entry in new.tags.values() {
        match old.get(&entry.name) {
            None => added_tags.push(entry.name.clone()),
            Some(o) => changed_tags.extend(tag_change(o, entry)),
        }
    }
    let removed_tags = old
        .tags
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleImpact {
    pub name: String,
    pub direction: Direction,
    /// Priority in the new plan (the old one for a removed rule).
    pub priority: u32,
    pub change: Change,
    /// Tags the rule names whose IPv4 addresses changed.
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteImpact {
    pub name: String,
    pub address_prefix: String,
    pub change: Change,
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    pub environment: String,
    /// Whether the plans compared were expanded (`compile --expand-tags`).
    pub expanded: bool,
    pub rules: Vec<RuleImpact>,
    pub routes: Vec<RouteImpact>,
}

impl Impact {
    /// Whether the generated artifacts or what they admit change: a change ticket is needed.
    pub fn affected(&self) -> bool {
        !self.rules.is_empty() || !self.routes.is_empty()
    }
}

/// Tag names whose IPv4 addresses differ between the files (a tag missing from one file counts).
fn ipv4_differs(tag: &str, old: &ServiceTags, new: &ServiceTags) -> bool {
    match (old.get(tag), new.get(tag)) {
        (Some(o), Some(n)) => o.aggregated_ipv4() != n.aggregated_ipv4(),
        (None, None) => false,
        _ => true,
    }
}

fn rule_tags(r: &PlanRule, old: &ServiceTags, new: &ServiceTags) -> Vec<String> {
    let mut out: Vec<String> = [&r.rule.source, &r.rule.destination]
        .into_iter()
        .filter_map(|a| match a {
            AddressMatch::Tag(t) if !is_platform_tag(t) && ipv4_differs(t, old, new) => Some(t.clone()),
            _ => None,
        })
        .collect();
    out.dedup();
    out
}

fn route_tags(r: &PlanRoute, old: &ServiceTags, new: &ServiceTags) -> Vec<String> {
    if r.address_prefix.parse::<ipnet::Ipv4Net>().is_err() && ipv4_differs(&r.address_prefix, old, new) {
        vec![r.address_prefix.clone()]
    } else {
        Vec::new()
    }
}

fn compare_rules(old_plan: &Plan, new_plan: &Plan, old: &ServiceTags, new: &ServiceTags) -> Vec<RuleImpact> {
    let key = |r: &PlanRule| (r.rule.direction, r.rule.name.clone());
    let before: BTreeMap<_, &PlanRule> = old_plan.security_rules.iter().map(|r| (key(r), r)).collect();
    let after: BTreeMap<_, &PlanRule> = new_plan.security_rules.iter().map(|r| (key(r), r)).collect();
    let impact = |r: &PlanRule, change, tags| RuleImpact {
        name: r.rule.name.clone(),
        direction: r.rule.direction,
        priority: r.rule.priority,
        change,
        tags,
        requirements: r.requirements.clone(),
    };
    let mut out = Vec::new();
    for (k, r) in &after {
        match before.get(k) {
            None => out.push(impact(r, Change::Added, Vec::new())),
            Some(o) => {
                let tags = rule_tags(r, old, new);
                if o != r || !tags.is_empty() {
                    out.push(impact(r, Change::Changed, tags));
                }
            }
        }
    }
    for (k, r) in &before {
        if !after.contains_key(k) {
            out.push(impact(r, Change::Removed, Vec::new()));
        }
    }
    out.sort_by(|a, b| (a.direction, a.priority, &a.name).cmp(&(b.direction, b.priority, &b.name)));
    out
}

fn compare_routes(old_plan: &Plan, new_plan: &Plan, old: &ServiceTags, new: &ServiceTags) -> Vec<RouteImpact> {
    let before: BTreeMap<&str, &PlanRoute> = old_plan.routes.iter().map(|r| (r.name.as_str(), r)).collect();
    let after: BTreeMap<&str, &PlanRoute> = new_plan.routes.iter().map(|r| (r.name.as_str(), r)).collect();
    let impact = |r: &PlanRoute, change, tags| RouteImpact {
        name: r.name.clone(),
        address_prefix: r.address_prefix.clone(),
        change,
        tags,
        requirements: r.requirements.clone(),
    };
    let mut out = Vec::new();
    for (name, r) in &after {
        match before.get(name) {
            None => out.push(impact(r, Change::Added, Vec::new())),
            Some(o) => {
                let tags = route_tags(r, old, new);
                if o != r || !tags.is_empty() {
                    out.push(impact(r, Change::Changed, tags));
                }
            }
        }
    }
    for (name, r) in &before {
        if !after.contains_key(name) {
            out.push(impact(r, Change::Removed, Vec::new()));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The plan of the environment with one file, expanded as `compile --expand-tags` writes it when
/// `expand_tags`.
pub fn plan_for(env: &Environment, tags: &ServiceTags, table_version: Option<&str>, expand_tags: bool) -> Result<Plan, Vec<Diagnostic>> {
    let p = plan::build(env, tags, table_version)?;
    if expand_tags {
        expand::expand(&p, tags)
    } else {
        Ok(p)
    }
}

/// Compares the plans of one environment built with the old and the new file ([`plan_for`]).
pub fn compare(env: &Environment, old_plan: &Plan, new_plan: &Plan, old: &ServiceTags, new: &ServiceTags, expanded: bool) -> Impact {
    Impact {
        environment: env.name.clone(),
        expanded,
        rules: compare_rules(old_plan, new_plan, old, new),
        routes: compare_routes(old_plan, new_plan, old, new),
    }
}

/// Which of the environment's generated rules and routes change from the old file to the new one.
/// Both files must be of the environment's cloud; a file the environment cannot be compiled with
/// (a needed tag missing, a limit exceeded) returns the plan's diagnostics.
pub fn impact(
    env: &Environment,
    old: &ServiceTags,
    new: &ServiceTags,
    table_version: Option<&str>,
    expand_tags: bool,
) -> Result<Impact, Vec<Diagnostic>> {
    check_same_cloud(old, new).map_err(|d| vec![d])?;
    old.check_cloud(env.cloud).map_err(|d| vec![d])?;
    let old_plan = plan_for(env, old, table_version, expand_tags)?;
    let new_plan = plan_for(env, new, table_version, expand_tags)?;
    Ok(compare(env, &old_plan, &new_plan, old, new, expand_tags))
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
