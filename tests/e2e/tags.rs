//! Service tags end to end: `tags show`, `tags diff` on the two public snapshots (2024-05-06 in
//! tests/fixtures, 2025-10-28 embedded from data/), `compile --expand-tags` proved by `verify`, the
//! `--service-tags` checks of validate and requirements, and the catalogue of bad tag files
//! (tests/bad-tags/, expectations in expected.csv).
//!
//! Expected values come from the tag files themselves, read here with serde_json and aggregated by
//! a small interval computation that shares no code with isenet.

use crate::common::Scratch;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(super) fn isenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isenet")).args(args).output().unwrap()
}

pub(super) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(super) fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The 2024-05-06 public snapshot, copied into the repository.
fn old_public() -> String {
    path_str(&root().join("tests/fixtures/ServiceTags_Public_20240506.json"))
}

/// The 2025-10-28 public snapshot, the one isenet embeds.
fn new_public() -> String {
    path_str(&root().join("data/servicetags/ServiceTags_Public_20251028.json"))
}

pub(super) fn scratch(name: &str) -> Scratch {
    crate::common::scratch("tags", name)
}

pub(super) fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    path_str(&p)
}

pub(super) fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn example() -> Value {
    serde_json::from_slice(&isenet(&["example"]).stdout).unwrap()
}

// ---- an independent reading of tag files -------------------------------------------------------

/// A prefix as (IPv6?, first address, last address, length), from the text alone.
fn parse_prefix(s: &str) -> (bool, u128, u128, u32) {
    let (addr, len) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = addr.parse().unwrap_or_else(|_| panic!("{s}"));
    let (v6, bits, value) = match ip {
        IpAddr::V4(a) => (false, 32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, 128, u128::from(a)),
    };
    let len: u32 = if len.is_empty() { bits } else { len.parse().unwrap() };
    let host = if bits - len == 128 {
        u128::MAX
    } else {
        (1u128 << (bits - len)) - 1
    };
    (v6, value & !host, (value & !host) | host, len)
}

/// Canonical text of a prefix (what std prints), for comparing with isenet's output.
fn canonical(s: &str) -> String {
    let (v6, lo, _, len) = parse_prefix(s);
    if v6 {
        format!("{}/{len}", std::net::Ipv6Addr::from(lo))
    } else {
        format!("{}/{len}", std::net::Ipv4Addr::from(lo as u32))
    }
}

/// Merges intervals: the addresses, as sorted disjoint non-adjacent ranges.
fn merge(mut iv: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    iv.sort();
    let mut out: Vec<(u128, u128)> = Vec::new();
    for (lo, hi) in iv {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The fewest CIDR blocks covering merged ranges (greedy: the largest aligned block that fits).
fn cidrs(merged: &[(u128, u128)], v6: bool) -> Vec<String> {
    let bits = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    for &(mut lo, hi) in merged {
        loop {
            let mut k = 0u32;
            while k < bits && k < 127 {
                let size = 1u128 << (k + 1);
                let fits = match lo.checked_add(size - 1) {
                    Some(end) => end <= hi,
                    None => false,
                };
                if lo % size != 0 || !fits {
                    break;
                }
                k += 1;
            }
            let text = if v6 {
                format!("{}/{}", std::net::Ipv6Addr::from(lo), bits - k)
            } else {
                format!("{}/{}", std::net::Ipv4Addr::from(lo as u32), bits - k)
            };
            out.push(text);
            let end = lo + ((1u128 << k) - 1);
            if end >= hi {
                break;
            }
            lo = end + 1;
        }
    }
    out
}

#[derive(Debug, Clone)]
struct RawTag {
    prefixes: BTreeSet<String>,
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
    features: BTreeSet<String>,
    region: String,
}

impl RawTag {
    fn v4_aggregated(&self) -> Vec<String> {
        cidrs(&merge(self.v4.clone()), false)
    }
    fn v6_aggregated(&self) -> Vec<String> {
        cidrs(&merge(self.v6.clone()), true)
    }
}

struct RawFile {
    cloud: String,
    change: u64,
    tags: BTreeMap<String, RawTag>,
}

fn raw_file(path: &str) -> RawFile {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut tags = BTreeMap::new();
    for v in doc["values"].as_array().unwrap() {
        let props = &v["properties"];
        let mut t = RawTag {
            prefixes: BTreeSet::new(),
            v4: Vec::new(),
            v6: Vec::new(),
            features: props["networkFeatures"]
                .as_array()
                .map(|a| a.iter().map(|f| f.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
            region: props["region"].as_str().unwrap_or_default().to_string(),
        };
        for p in props["addressPrefixes"].as_array().unwrap() {
            let p = p.as_str().unwrap();
            let (v6, lo, hi, _) = parse_prefix(p);
            t.prefixes.insert(canonical(p));
            if v6 {
                t.v6.push((lo, hi));
            } else {
                t.v4.push((lo, hi));
            }
        }
        tags.insert(v["name"].as_str().unwrap().to_string(), t);
    }
    RawFile {
        cloud: doc["cloud"].as_str().unwrap().to_string(),
        change: doc["changeNumber"].as_u64().unwrap(),
        tags,
    }
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

const PLATFORM: [&str; 3] = ["VirtualNetwork", "Internet", "AzureLoadBalancer"];

// ---- tags show ----------------------------------------------------------------------------------

#[test]
fn the_fixture_is_the_2024_05_06_public_snapshot() {
    let f = raw_file(&old_public());
    assert_eq!((f.cloud.as_str(), f.change, f.tags.len()), ("Public", 305, 2601));
    let n = raw_file(&new_public());
    assert_eq!((n.cloud.as_str(), n.change, n.tags.len()), ("Public", 375, 3039));
}

#[test]
fn show_prints_counts_and_aggregated_prefixes_of_the_file() {
    let file = raw_file(&new_public());
    // AzureCloud is listed unaggregated in the file (regional blocks merge); Storage is not.
    for name in ["Storage", "AzureCloud", "LogicApps"] {
        let o = isenet(&["tags", "show", name, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let doc = stdout_json(&o);
        let raw = &file.tags[name];
        assert_eq!(doc["cloud"], "Public");
        assert_eq!(doc["changeNumber"], 375);
        let t = &doc["tag"];
        assert_eq!(t["name"], name);
        assert_eq!(t["ipv4"]["count"], raw.v4.len(), "{name}");
        assert_eq!(t["ipv6"]["count"], raw.v6.len(), "{name}");
        assert_eq!(strings(&t["ipv4"]["aggregated"]), raw.v4_aggregated(), "{name}");
        assert_eq!(strings(&t["ipv6"]["aggregated"]), raw.v6_aggregated(), "{name}");
        assert_eq!(t["ipv4"]["aggregatedCount"], raw.v4_aggregated().len());
        let features: BTreeSet<String> = strings(&t["networkFeatures"]).into_iter().collect();
        assert_eq!(features, raw.features);
    }
    let cloud = &file.tags["AzureCloud"];
    assert!(cloud.v4_aggregated().len() < cloud.v4.len(), "AzureCloud aggregates");

    // Text: the counts, and the regional variant with --location (display name without spaces).
    let o = isenet(&["tags", "show", "storage", "--location", "West US 2"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    let (g, r) = (&file.tags["Storage"], &file.tags["Storage.WestUS2"]);
    assert!(text.starts_with("Storage (cloud Public, change 375)\n"), "{text}");
    assert!(text.contains(&format!(
        "  IPv4: {} prefixes, {} aggregated\n",
        g.v4.len(),
        g.v4_aggregated().len()
    )));
    assert!(text.contains(&format!(
        "  IPv6: {} prefixes, {} aggregated\n",
        g.v6.len(),
        g.v6_aggregated().len()
    )));
    assert!(text.contains("Storage.WestUS2 (regional variant for westus2)\n"), "{text}");
    assert!(text.contains(&format!("  region: {}\n", r.region)));
    for p in r.v4_aggregated() {
        assert!(text.contains(&format!("    {p}\n")), "{p}");
    }
}

#[test]
fn show_refuses_unknown_tags_and_locations_with_codes() {
    let o = isenet(&["--error-format", "json", "tags", "show", "Storag"]);
    assert_eq!(o.status.code(), Some(2));
    let d = &stdout_json(&o)["diagnostics"][0];
    assert_eq!(d["code"], "E1401");
    assert!(d["help"].as_str().unwrap().contains("`Storage`"), "{d}");

    let o = isenet(&["--error-format", "json", "tags", "show", "Storage", "--location", "usgovvirginia"]);
    assert_eq!(o.status.code(), Some(2));
    let d = &stdout_json(&o)["diagnostics"][0];
    assert_eq!(d["code"], "E0301");
    assert!(d["help"].as_str().unwrap().contains("usgovernment"), "{d}");

    // A user's file: its own cloud and change number; --cloud must agree with it.
    let o = isenet(&["tags", "show", "Sql", "--service-tags", &old_public(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc = stdout_json(&o);
    let raw = &raw_file(&old_public()).tags["Sql"];
    assert_eq!(doc["changeNumber"], 305);
    assert_eq!(doc["tag"]["ipv4"]["count"], raw.v4.len());
    let o = isenet(&[
        "--error-format",
        "json",
        "tags",
        "show",
        "Sql",
        "--service-tags",
        &old_public(),
        "--cloud",
        "china",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let d = &stdout_json(&o)["diagnostics"][0];
    assert_eq!(d["code"], "E0902");
    // No environment is involved: the message and the fix are about --cloud.
    let (message, help) = (d["message"].as_str().unwrap(), d["help"].as_str().unwrap());
    assert!(
        message.contains("--cloud says `china`") && !message.contains("environment"),
        "{message}"
    );
    assert!(help.contains("--cloud") && !help.contains("environment"), "{help}");

    // The other clouds' embedded snapshots.
    let china = raw_file(&path_str(&root().join("data/servicetags/ServiceTags_China.json")));
    let o = isenet(&["tags", "show", "AzureConnectors", "--cloud", "china", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc = stdout_json(&o);
    assert_eq!(
        (doc["cloud"].as_str(), doc["changeNumber"].as_u64()),
        (Some("China"), Some(china.change))
    );
    assert_eq!(doc["tag"]["ipv4"]["count"], china.tags["AzureConnectors"].v4.len());
}

// ---- tags diff ----------------------------------------------------------------------------------

#[test]
fn diff_of_the_two_public_snapshots_lists_every_added_and_removed_tag_and_prefix() {
    let (old, new) = (raw_file(&old_public()), raw_file(&new_public()));
    let o = isenet(&["tags", "diff", &old_public(), &new_public(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "without --env the diff is informational");
    let doc = stdout_json(&o);
    let d = &doc["diff"];
    assert_eq!(
        (d["oldChangeNumber"].as_u64(), d["newChangeNumber"].as_u64()),
        (Some(305), Some(375))
    );
    assert!(doc["impact"].is_null());

    let old_names: BTreeSet<&String> = old.tags.keys().collect();
    let new_names: BTreeSet<&String> = new.tags.keys().collect();
    let added: Vec<String> = new_names.difference(&old_names).map(|s| s.to_string()).collect();
    let removed: Vec<String> = old_names.difference(&new_names).map(|s| s.to_string()).collect();
    assert_eq!(strings(&d["addedTags"]), added);
    assert_eq!(strings(&d["removedTags"]), removed);
    assert_eq!(
        removed,
        [
            "AzureUpdateDelivery.NorthCentralUS",
            "AzureUpdateDelivery.WestUS",
            "AzureUpdateDelivery.WestUS3"
        ]
    );

    // Every changed tag with exactly its added and removed prefixes.
    let mut expected: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for name in old_names.intersection(&new_names) {
        let (a, b) = (&old.tags[*name], &new.tags[*name]);
        if a.prefixes != b.prefixes || a.features != b.features {
            let plus = b.prefixes.difference(&a.prefixes).cloned().collect();
            let minus = a.prefixes.difference(&b.prefixes).cloned().collect();
            expected.insert(name.to_string(), (plus, minus));
        }
    }
    let mut got: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for c in d["changedTags"].as_array().unwrap() {
        let set = |v: &Value| strings(v).iter().map(|p| canonical(p)).collect::<BTreeSet<_>>();
        let (plus, minus) = (set(&c["added"]), set(&c["removed"]));
        // Sorted as documented: IPv4 before IPv6, ascending addresses.
        let order: Vec<(bool, u128, u32)> = strings(&c["added"])
            .iter()
            .map(|p| {
                let (v6, lo, _, len) = parse_prefix(p);
                (v6, lo, len)
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{} added is sorted", c["name"]);
        got.insert(c["name"].as_str().unwrap().to_string(), (plus, minus));
    }
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "changed tags differ from the files' own difference");
    let total = |f: fn(&(BTreeSet<String>, BTreeSet<String>)) -> usize| expected.values().map(f).sum::<usize>();
    let text = String::from_utf8_lossy(&isenet(&["tags", "diff", &old_public(), &new_public()]).stdout).into_owned();
    assert!(
        text.contains(&format!(
            "  tags added: {}, removed: {}, changed: {}; prefixes added: {}, removed: {}\n",
            added.len(),
            removed.len(),
            expected.len(),
            total(|e| e.0.len()),
            total(|e| e.1.len())
        )),
        "{}",
        &text[..text.len().min(400)]
    );
}

/// The names of the compiled NSG's rules that name a tag (not a platform tag) whose IPv4 addresses
/// differ between the files.
fn rules_on_changed_tags(nsg: &Value, old: &RawFile, new: &RawFile) -> BTreeSet<String> {
    let v4 = |f: &RawFile, t: &str| f.tags.get(t).map(|t| merge(t.v4.clone()));
    nsg["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            ["sourceAddressPrefix", "destinationAddressPrefix"].iter().any(|f| {
                let a = r["properties"][f].as_str().unwrap_or("*");
                a != "*" && a.parse::<IpAddr>().is_err() && !a.contains('/') && !PLATFORM.contains(&a) && v4(old, a) != v4(new, a)
            })
        })
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn compiled_nsg(dir: &Path, extra: &[&str]) -> Value {
    let out = dir.join("out");
    let mut args = vec!["compile", "--out-dir", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = isenet(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("nsg.json")).unwrap()).unwrap()
}

/// The IPv4 addresses of `a` outside `b` (both merged intervals).
fn outside(a: &[(u128, u128)], b: &[(u128, u128)]) -> u64 {
    let mut n = 0u128;
    for &(lo, hi) in a {
        let mut covered = 0u128;
        for &(blo, bhi) in b {
            let (l, h) = (lo.max(blo), hi.min(bhi));
            if l <= h {
                covered += h - l + 1;
            }
        }
        n += hi - lo + 1 - covered;
    }
    n as u64
}

/// The tag of a rule's source or destination that is a service tag (not a platform tag).
fn rule_tag(r: &Value) -> Option<String> {
    ["sourceAddressPrefix", "destinationAddressPrefix"]
        .iter()
        .filter_map(|f| r["properties"][f].as_str())
        .find(|a| *a != "*" && a.parse::<IpAddr>().is_err() && !a.contains('/') && !PLATFORM.contains(a))
        .map(str::to_string)
}

/// `tags diff` of the 2024 and 2025 public snapshots for an environment.
fn public_diff(env_path: &str, extra: &[&str]) -> Output {
    let (old, new) = (old_public(), new_public());
    let mut args = vec!["tags", "diff", &old, &new, "--env", env_path];
    args.extend_from_slice(extra);
    isenet(&args)
}

#[test]
fn diff_with_an_environment_separates_artifact_changes_from_effective_changes() {
    // 2024-05-06 -> 2025-10-28: every artifact compiles byte-identical (the change number aside), so
    // no deployment is needed (exit 0); the tagged rules are effective changes. With --expand-tags
    // the prefixes are written into the rules: those change (exit 1).
    let dir = scratch("diff-env");
    let (old, new) = (raw_file(&old_public()), raw_file(&new_public()));
    for (name, mode) in [("none", json!({"mode": "none"})), ("expressroute", json!({"mode": "expressRoute"}))] {
        let mut env = example();
        env["forcedTunneling"] = mode;
        let env_path = write(&dir, &format!("env-{name}.json"), &env);
        let nsg = compiled_nsg(&dir.join(name), &["--env", &env_path]);
        let expected = rules_on_changed_tags(&nsg, &old, &new);
        assert!(!expected.is_empty());

        let o = public_diff(&env_path, &["--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&o.stdout));
        let doc = stdout_json(&o);
        assert_eq!((doc["affected"].clone(), doc["effective"].clone()), (json!(false), json!(true)));
        assert_eq!(doc["impact"]["artifacts"], json!([]), "{name}");
        // Summarised: the whole-cloud lists only with --all.
        assert!(doc["diff"].is_null());
        assert_eq!(doc["summary"]["tagsRemoved"], 3);
        let effective = doc["impact"]["effective"].as_array().unwrap();
        let got: BTreeSet<String> = effective.iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(got, expected, "{name}");
        for e in effective {
            assert_eq!(e["kind"], "securityRule");
            let tag = rule_tag(rule(&nsg, e["name"].as_str().unwrap())).unwrap();
            assert_eq!(e["tag"], tag.as_str());
            let (a, b) = (merge(old.tags[&tag].v4.clone()), merge(new.tags[&tag].v4.clone()));
            assert_eq!(e["addressesAdded"], outside(&b, &a), "{tag}");
            assert_eq!(e["addressesRemoved"], outside(&a, &b), "{tag}");
        }
        // The pipeline may ask for a ticket on effective changes too.
        let o = public_diff(&env_path, &["--fail-on", "effective"]);
        assert_eq!(o.status.code(), Some(1), "{name}");

        // Expanded: each tagged rule changes where its tag's IPv4 addresses changed, its -v6 rule
        // where the IPv6 addresses did, each with exactly that tag responsible.
        let o = public_diff(&env_path, &["--expand-tags", "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let doc = stdout_json(&o);
        assert_eq!(doc["affected"], true);
        let mut want = BTreeMap::new();
        for r in nsg["properties"]["securityRules"].as_array().unwrap() {
            let Some(tag) = rule_tag(r) else { continue };
            let rule_name = r["name"].as_str().unwrap().to_string();
            let (a, b) = (&old.tags[&tag], &new.tags[&tag]);
            if merge(a.v4.clone()) != merge(b.v4.clone()) {
                want.insert(rule_name.clone(), tag.clone());
            }
            // Under forced tunneling the local end is the address space: no -v6 rule is written.
            if name == "none" && merge(a.v6.clone()) != merge(b.v6.clone()) {
                want.insert(format!("{rule_name}-v6"), tag.clone());
            }
        }
        let got: BTreeMap<String, String> = doc["impact"]["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["artifact"] == "nsg.json" && a["kind"] == "securityRule")
            .map(|a| {
                assert_eq!(a["change"], "changed", "{a}");
                assert_eq!(strings(&a["tags"]).len(), 1, "{a}");
                (a["name"].as_str().unwrap().to_string(), strings(&a["tags"])[0].clone())
            })
            .collect();
        assert_eq!(got, want, "{name}");

        // The same file twice: nothing changes, exit 0.
        let o = isenet(&[
            "tags",
            "diff",
            &new_public(),
            &new_public(),
            "--env",
            &env_path,
            "--fail-on",
            "effective",
        ]);
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.starts_with("environment contoso-ise: 0 artifact change(s), 0 effective change(s)\n"),
            "{text}"
        );
    }

    // Files of another cloud than the environment: E0902 naming the file.
    let china = path_str(&root().join("data/servicetags/ServiceTags_China.json"));
    let env_path = write(&dir, "env.json", &example());
    let o = isenet(&["--error-format", "json", "tags", "diff", &china, &china, "--env", &env_path]);
    assert_eq!(o.status.code(), Some(2));
    let d = stdout_json(&o);
    assert_eq!(d["diagnostics"][0]["code"], "E0902");
    assert_eq!(d["diagnostics"][0]["file"], china.as_str());
}

#[test]
fn diff_counts_a_tag_whose_addresses_are_only_recut_as_unchanged_for_the_environment() {
    // The new file splits every Storage prefix in two halves: same addresses, different prefixes.
    let dir = scratch("recut");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(new_public()).unwrap()).unwrap();
    doc["changeNumber"] = json!(376);
    for v in doc["values"].as_array_mut().unwrap() {
        if v["name"] == "Storage" {
            let halves: Vec<String> = strings(&v["properties"]["addressPrefixes"])
                .iter()
                .flat_map(|p| {
                    let (v6, lo, hi, len) = parse_prefix(p);
                    if len == if v6 { 128 } else { 32 } {
                        return vec![p.clone()];
                    }
                    let mid = lo + (hi - lo) / 2 + 1;
                    let show = |a: u128| {
                        if v6 {
                            std::net::Ipv6Addr::from(a).to_string()
                        } else {
                            std::net::Ipv4Addr::from(a as u32).to_string()
                        }
                    };
                    vec![format!("{}/{}", show(lo), len + 1), format!("{}/{}", show(mid), len + 1)]
                })
                .collect();
            v["properties"]["addressPrefixes"] = json!(halves);
        }
    }
    let recut = write(&dir, "recut.json", &doc);
    let env_path = write(&dir, "env.json", &example());
    let o = isenet(&[
        "tags",
        "diff",
        &new_public(),
        &recut,
        "--env",
        &env_path,
        "--all",
        "--fail-on",
        "effective",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let out = stdout_json(&o);
    let changed = &out["diff"]["changedTags"];
    assert_eq!(changed.as_array().unwrap().len(), 1);
    assert_eq!(changed[0]["name"], "Storage");
    assert_eq!(changed[0]["ipv4Changed"], false);
    assert_eq!(out["affected"], false);
    assert_eq!(out["effective"], false);
    // Expanded, the same aggregated prefixes are written: still nothing to deploy.
    let o = isenet(&["tags", "diff", &new_public(), &recut, "--env", &env_path, "--expand-tags"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}

// ---- compile --expand-tags ----------------------------------------------------------------------

fn rule<'a>(nsg: &'a Value, name: &str) -> &'a Value {
    nsg["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no rule {name}"))
}

/// The addresses of one side of a rule (singular or plural field).
fn addresses(r: &Value, side: &str) -> Vec<String> {
    let p = &r["properties"];
    match p[format!("{side}AddressPrefix")].as_str() {
        Some(a) => vec![a.to_string()],
        None => strings(&p[format!("{side}AddressPrefixes")]),
    }
}

fn verify(args: &[&str]) -> Output {
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    isenet(&a)
}

/// An expanded NSG proves (every requirement covered, nothing else open) but for Azure's limit of
/// 4,000 addresses on its sources and on its destinations, which the public tags exceed expanded
/// (F0107, one per side over it): `verify` exits 1 for that alone.
fn assert_proves_but_for_the_address_limit(args: &[&str]) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let o = verify(&a);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let proof = report["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["artifact"] == "nsg")
        .unwrap();
    let failing: Vec<&Value> = proof["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "note")
        .map(|f| &f["code"])
        .collect();
    assert!(!failing.is_empty() && failing.iter().all(|c| *c == "F0107"), "{failing:?}");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(proof["summary"]["covered"], proof["summary"]["requirements"], "{proof}");
    assert_eq!(proof["summary"]["openings"], json!(0), "{proof}");
}

#[test]
fn expanded_nsg_has_no_service_tags_and_still_proves() {
    let dir = scratch("expand");
    let file = raw_file(&new_public());
    let plain = compiled_nsg(&dir.join("plain"), &[]);
    let nsg = compiled_nsg(&dir.join("expanded"), &["--expand-tags"]);
    let nsg_path = path_str(&dir.join("expanded/out/nsg.json"));
    assert_proves_but_for_the_address_limit(&["--nsg", &nsg_path]);

    let rules = nsg["properties"]["securityRules"].as_array().unwrap();
    for r in rules {
        for side in ["source", "destination"] {
            for a in addresses(r, side) {
                assert!(a == "*" || a.contains('/') || PLATFORM.contains(&a.as_str()), "{}: {a}", r["name"]);
            }
        }
    }
    // Each tagged rule of the plain NSG became its IPv4 rule (same name and priority) and a -v6 rule
    // right after it, with the tag's aggregated prefixes.
    for p in plain["properties"]["securityRules"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let tagged: Vec<(String, String)> = ["source", "destination"]
            .iter()
            .flat_map(|side| addresses(p, side).into_iter().map(move |a| (side.to_string(), a)))
            .filter(|(_, a)| a != "*" && !a.contains('/') && !PLATFORM.contains(&a.as_str()))
            .collect();
        let e = rule(&nsg, name);
        assert_eq!(e["properties"]["priority"], p["properties"]["priority"], "{name}");
        let Some((side, tag)) = tagged.first() else {
            assert_eq!(e, p, "{name} without tags is unchanged");
            continue;
        };
        let raw = &file.tags[tag];
        assert_eq!(addresses(e, side), raw.v4_aggregated(), "{name}");
        let v6 = rule(&nsg, &format!("{name}-v6"));
        assert_eq!(addresses(v6, side), raw.v6_aggregated(), "{name}-v6");
        assert_eq!(
            v6["properties"]["priority"].as_u64().unwrap(),
            p["properties"]["priority"].as_u64().unwrap() + 1
        );
        assert_eq!(v6["properties"]["destinationPortRanges"], e["properties"]["destinationPortRanges"]);
    }
    // Distinct priorities per direction.
    let mut seen = BTreeSet::new();
    for r in rules {
        assert!(seen.insert((
            r["properties"]["direction"].as_str().unwrap().to_string(),
            r["properties"]["priority"].as_u64().unwrap()
        )));
    }
}

#[test]
fn expanded_nsg_proves_under_forced_tunneling_without_ipv6_rules_against_ipv4_prefixes() {
    let dir = scratch("expand-er");
    let mut env = example();
    env["forcedTunneling"] = json!({"mode": "expressRoute"});
    env["outboundPolicy"] = json!("restricted");
    let env_path = write(&dir, "env.json", &env);
    let nsg = compiled_nsg(&dir, &["--env", &env_path, "--expand-tags"]);
    assert_proves_but_for_the_address_limit(&["--env", &env_path, "--nsg", &path_str(&dir.join("out/nsg.json"))]);
    // The local end is the address space (IPv4 prefixes): an IPv6 rule could not be deployed.
    for r in nsg["properties"]["securityRules"].as_array().unwrap() {
        assert!(!r["name"].as_str().unwrap().ends_with("-v6"), "{}", r["name"]);
    }
}

/// The embedded public file with `edit` applied to every tag's prefix list.
fn derived_file(dir: &Path, name: &str, edit: impl Fn(&str, Vec<String>) -> Vec<String>) -> String {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(new_public()).unwrap()).unwrap();
    for v in doc["values"].as_array_mut().unwrap() {
        let tag = v["name"].as_str().unwrap().to_string();
        let prefixes = strings(&v["properties"]["addressPrefixes"]);
        v["properties"]["addressPrefixes"] = json!(edit(&tag, prefixes));
    }
    write(dir, name, &doc)
}

#[test]
fn a_tag_over_4000_prefixes_is_split_within_its_priority_slot() {
    let dir = scratch("split");
    // Storage with 9,000 non-adjacent /32s (nothing to aggregate) and 5,000 IPv6 /64s.
    let tags = derived_file(&dir, "big.json", |tag, p| {
        if tag != "Storage" {
            return p;
        }
        let v4 = (0..9000u32).map(|i| format!("{}/32", std::net::Ipv4Addr::from(0x0b00_0000 + 2 * i)));
        let v6 = (0..5000u128).map(|i| format!("{}/64", std::net::Ipv6Addr::from((0x2001_0db8u128 << 96) + ((2 * i) << 64))));
        v4.chain(v6).collect()
    });
    let nsg = compiled_nsg(&dir, &["--service-tags", &tags, "--expand-tags"]);
    assert_proves_but_for_the_address_limit(&["--nsg", &path_str(&dir.join("out/nsg.json")), "--service-tags", &tags]);
    let got: Vec<(String, u64, usize)> = nsg["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("out-storage"))
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["properties"]["priority"].as_u64().unwrap(),
                addresses(r, "destination").len(),
            )
        })
        .collect();
    let expected = [
        ("out-storage-80-443-445-1", 140, 4000),
        ("out-storage-80-443-445-2", 141, 4000),
        ("out-storage-80-443-445-3", 142, 1000),
        ("out-storage-80-443-445-v6-1", 143, 4000),
        ("out-storage-80-443-445-v6-2", 144, 1000),
    ]
    .map(|(n, p, c)| (n.to_string(), p, c));
    assert_eq!(got, expected);
    // The next requirement keeps its priority.
    assert_eq!(rule(&nsg, "out-appservice-443")["properties"]["priority"], 150);
}

#[test]
fn expand_tags_in_firewall_mode_writes_prefix_routes_and_firewall_rules() {
    let dir = scratch("firewall");
    let mut env = example();
    env["forcedTunneling"] = json!({"mode": "firewall", "firewallPrivateIp": "10.10.2.4"});
    let env_path = write(&dir, "env.json", &env);

    // With the full public file the routes exceed Azure's 400: a coded error, nothing written.
    let out = dir.join("full");
    let o = isenet(&[
        "--error-format",
        "json",
        "compile",
        "--env",
        &env_path,
        "--expand-tags",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let codes: Vec<String> = stdout_json(&o)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.contains(&"E1003".to_string()), "{codes:?}");
    assert!(!out.exists());

    // With every tag cut to its first 6 prefixes it fits.
    let small = derived_file(&dir, "small.json", |_, p| p.into_iter().take(6).collect());
    let file = raw_file(&small);
    let plain = dir.join("plain");
    let o = isenet(&[
        "compile",
        "--env",
        &env_path,
        "--service-tags",
        &small,
        "--out-dir",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let expanded = dir.join("expanded");
    let o = isenet(&[
        "compile",
        "--env",
        &env_path,
        "--service-tags",
        &small,
        "--expand-tags",
        "--out-dir",
        expanded.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |p: PathBuf| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let plain_plan = read(plain.join("plan.json"));
    let plan = read(expanded.join("plan.json"));
    let plan_of = |v: &Value| v.get("plan").cloned().unwrap_or_else(|| v.clone());
    let (plain_plan, plan) = (plan_of(&plain_plan), plan_of(&plan));

    // Routes: the tag routes of the plain plan are gone; their aggregated prefixes are routed.
    let routes = plan["routes"].as_array().unwrap();
    let routed: BTreeSet<String> = routes.iter().map(|r| r["addressPrefix"].as_str().unwrap().to_string()).collect();
    let mut tag_routes = 0;
    for r in plain_plan["routes"].as_array().unwrap() {
        let a = r["addressPrefix"].as_str().unwrap();
        if a.contains('/') {
            continue;
        }
        tag_routes += 1;
        for p in file.tags[a].v4_aggregated() {
            let (_, lo, hi, _) = parse_prefix(&p);
            assert!(
                routed.iter().any(|q| {
                    let (_, qlo, qhi, _) = parse_prefix(q);
                    qlo <= lo && hi <= qhi
                }),
                "{a}: {p} is routed"
            );
        }
    }
    assert!(tag_routes > 0, "the plain plan routes tags");
    assert!(routed.iter().all(|a| a.contains('/')), "{routed:?}");
    let o = verify(&[
        "--env",
        &env_path,
        "--service-tags",
        &small,
        "--nsg",
        &path_str(&expanded.join("nsg.json")),
        "--routes",
        &path_str(&expanded.join("route-table.json")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));

    // Firewall network rules: every tag replaced by its aggregated IPv4 prefixes.
    if let Some(collections) = plan["firewall"]["networkRuleCollections"].as_array() {
        let before: BTreeMap<String, Vec<String>> = plain_plan["firewall"]["networkRuleCollections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["rules"].as_array().unwrap().iter())
            .map(|r| (r["name"].as_str().unwrap().to_string(), strings(&r["destinationAddresses"])))
            .collect();
        let mut expanded_tags = 0;
        for r in collections.iter().flat_map(|c| c["rules"].as_array().unwrap().iter()) {
            let name = r["name"].as_str().unwrap();
            let got = strings(&r["destinationAddresses"]);
            assert!(
                got.iter().all(|a| a == "*" || a.contains('/') || a.parse::<IpAddr>().is_ok()),
                "{name}: {got:?}"
            );
            let mut want = Vec::new();
            for a in &before[name] {
                match file.tags.get(a) {
                    Some(t) => {
                        expanded_tags += 1;
                        want.extend(t.v4_aggregated());
                    }
                    None => want.push(a.clone()),
                }
            }
            assert_eq!(got, want, "{name}");
        }
        assert!(expanded_tags > 0);
    }
}

// ---- --service-tags on validate and requirements ------------------------------------------------

#[test]
fn validate_and_requirements_check_a_given_tag_file() {
    let o = isenet(&["validate", "--service-tags", &old_public()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(service tags "));
    let o = isenet(&["requirements", "--service-tags", &old_public(), "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // Without Storage, each requirement naming it is reported.
    let dir = scratch("requirements");
    let no_storage = {
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(new_public()).unwrap()).unwrap();
        doc["values"].as_array_mut().unwrap().retain(|v| v["name"] != "Storage");
        write(&dir, "no-storage.json", &doc)
    };
    let reqs: Value = stdout_json(&isenet(&["requirements", "--format", "json"]));
    let needing: BTreeSet<String> = reqs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"]["name"] == "Storage" || r["destination"]["name"] == "Storage")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!needing.is_empty());
    for cmd in ["validate", "requirements"] {
        let o = match cmd {
            "validate" => isenet(&["validate", "--format", "json", "--service-tags", &no_storage]),
            _ => isenet(&["--error-format", "json", "requirements", "--service-tags", &no_storage]),
        };
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let diags = stdout_json(&o)["diagnostics"].as_array().unwrap().clone();
        assert_eq!(diags.len(), needing.len(), "{cmd}: {diags:?}");
        for d in &diags {
            assert_eq!(d["code"], "E0904");
            assert_eq!(d["file"], no_storage.as_str());
            let msg = d["message"].as_str().unwrap();
            assert!(needing.iter().any(|id| msg.contains(&format!("requirement {id} "))), "{msg}");
        }
    }
}

// ---- the catalogue of bad tag files -------------------------------------------------------------

#[test]
fn bad_tag_files_are_coded_errors_with_exit_2() {
    let dir_path = root().join("tests/bad-tags");
    let manifest = std::fs::read_to_string(dir_path.join("expected.csv")).unwrap();
    let mut lines = manifest.lines();
    assert_eq!(lines.next(), Some("file,code,command"));
    let rows: Vec<(String, String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir_path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(listed, on_disk, "expected.csv lists every file once, in order");
    assert!(rows.len() >= 8);
    let codes: BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    for c in ["E0901", "E0902", "E0903", "E0904", "E1402"] {
        assert!(codes.contains(c), "the catalogue exercises {c}");
    }

    let scratch = scratch("bad");
    let nsg = compiled_nsg(&scratch, &[]);
    let nsg_path = write(&scratch, "nsg.json", &nsg);
    let (old, new) = (old_public(), new_public());
    let mut failures = Vec::new();
    for (file, code, command) in &rows {
        let bad = path_str(&dir_path.join(file));
        let out = scratch.join(format!("out-{file}"));
        let out_s = path_str(&out);
        let args: Vec<&str> = match command.as_str() {
            "compile" => vec!["--error-format", "json", "compile", "--service-tags", &bad, "--out-dir", &out_s],
            "validate" => vec!["validate", "--format", "json", "--service-tags", &bad],
            "requirements" => vec!["--error-format", "json", "requirements", "--service-tags", &bad],
            "verify" => vec!["--error-format", "json", "verify", "--nsg", &nsg_path, "--service-tags", &bad],
            "tags-show" => vec!["--error-format", "json", "tags", "show", "Storage", "--service-tags", &bad],
            "tags-diff-old" => vec!["--error-format", "json", "tags", "diff", &bad, &new],
            "tags-diff-new" => vec!["--error-format", "json", "tags", "diff", &old, &bad],
            other => panic!("{file}: unknown command `{other}`"),
        };
        let o = isenet(&args);
        if o.status.code() != Some(2) {
            failures.push(format!("{file}: exit {:?}, expected 2", o.status.code()));
            continue;
        }
        if out.exists() {
            failures.push(format!("{file}: compile wrote {out_s} on exit 2"));
        }
        let Ok(doc) = serde_json::from_slice::<Value>(&o.stdout) else {
            failures.push(format!("{file}: stdout is not JSON: {}", String::from_utf8_lossy(&o.stdout)));
            continue;
        };
        let diags = doc["diagnostics"].as_array().cloned().unwrap_or_default();
        let got: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap_or("?")).collect();
        if got.is_empty() || got.iter().any(|c| c != code) {
            failures.push(format!("{file}: codes {got:?}, expected only {code}"));
        }
        if !diags.iter().any(|d| d["file"] == bad.as_str()) {
            failures.push(format!("{file}: no diagnostic names the file: {diags:?}"));
        }
        if code == "E0901" && file != "014-empty-file.json" && !diags.iter().all(|d| d["line"].is_u64()) {
            failures.push(format!("{file}: a syntax problem has a line: {diags:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
