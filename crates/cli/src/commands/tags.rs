//! `isenet tags show` and `isenet tags diff`.

use crate::args::{Cli, CloudArg, ErrorFormat, FailOn};
use crate::{input, output, Exit};
use ipnet::{Ipv4Net, Ipv6Net};
use ise_model::cloud::{self, CloudId};
use ise_model::codes::{E_LOCATION, E_TAGS_WRONG_CLOUD, E_TAG_UNKNOWN};
use ise_model::diag::Diagnostic;
use ise_model::servicetags::{ServiceTags, TagEntry};
use rules_compiler::diff::artifacts::{Change, ItemKind};
use rules_compiler::diff::tags::{self as tagdiff, Impact, TagDiff};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Reads and parses a service-tag file; diagnostics name the file.
pub fn read_tag_file(path: &Path) -> Result<ServiceTags, Diagnostic> {
    let file = input::display_name(path);
    let text = input::read_text(path)?;
    ServiceTags::parse_owned(text).map_err(|d| d.in_file(&file))
}

/// The cloud a file belongs to, or `E0902` when its `cloud` field names none of the three.
fn file_cloud(tags: &ServiceTags, file: &str) -> Result<CloudId, Diagnostic> {
    tags.cloud_id().ok_or_else(|| {
        let known: Vec<String> = CloudId::ALL.iter().map(|c| c.facts().service_tag_cloud.clone()).collect();
        Diagnostic::error(
            E_TAGS_WRONG_CLOUD,
            "cloud",
            format!("`{}` is not the cloud of any Azure service-tag file", tags.cloud),
        )
        .with_help(format!("service-tag files name one of: {}", known.join(", ")))
        .in_file(file)
    })
}

/// The file's tags and cloud (checked against `--cloud` when both are given), or the embedded
/// snapshot of `--cloud` (default public).
fn load(path: Option<&Path>, cloud: Option<CloudArg>) -> Result<(Cow<'static, ServiceTags>, CloudId), Diagnostic> {
    let Some(path) = path else {
        let id = cloud.map_or(CloudId::Public, CloudArg::id);
        return Ok((Cow::Borrowed(ServiceTags::embedded(id)), id));
    };
    let file = input::display_name(path);
    let tags = read_tag_file(path)?;
    let id = file_cloud(&tags, &file)?;
    // No environment here: the file's own cloud is what --cloud contradicts.
    if let Some(c) = cloud.filter(|c| c.id() != id) {
        return Err(Diagnostic::error(
            E_TAGS_WRONG_CLOUD,
            "cloud",
            format!("this service-tag file is for cloud `{}`, but --cloud says `{}`", tags.cloud, c.id()),
        )
        .with_help("leave --cloud out (the file names its cloud), or pass that cloud's service-tag file")
        .in_file(&file));
    }
    Ok((Cow::Owned(tags), id))
}

fn unknown_tag(tags: &ServiceTags, name: &str) -> Diagnostic {
    let d = Diagnostic::error(
        E_TAG_UNKNOWN,
        "",
        format!(
            "service tag `{name}` is not in the {} service-tag file (change {})",
            tags.cloud, tags.change_number
        ),
    );
    match tags.suggest(name) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("tag names are listed in the file's `values[].name`; regional tags are `Tag.Region` (`Storage.WestUS2`)"),
    }
}

fn tag_json(t: &TagEntry) -> Value {
    let (v4, v6) = ise_model::aggregate::split_families(&t.prefixes);
    let (mut v4, mut v6) = (v4, v6);
    v4.sort();
    v6.sort();
    let (a4, a6) = (t.aggregated_ipv4(), t.aggregated_ipv6());
    json!({
        "name": t.name,
        "region": t.region,
        "systemService": t.system_service,
        "networkFeatures": t.network_features,
        "ipv4": { "count": v4.len(), "aggregatedCount": a4.len(), "prefixes": v4, "aggregated": a4 },
        "ipv6": { "count": v6.len(), "aggregatedCount": a6.len(), "prefixes": v6, "aggregated": a6 },
    })
}

fn tag_text(out: &mut String, t: &TagEntry) {
    let (v4, v6) = ise_model::aggregate::split_families(&t.prefixes);
    let (a4, a6): (Vec<Ipv4Net>, Vec<Ipv6Net>) = (t.aggregated_ipv4(), t.aggregated_ipv6());
    let or_none = |s: &str| if s.is_empty() { "(none)".to_string() } else { s.to_string() };
    let _ = writeln!(out, "  region: {}", if t.region.is_empty() { "(global)" } else { &t.region });
    let _ = writeln!(out, "  systemService: {}", or_none(&t.system_service));
    let _ = writeln!(out, "  networkFeatures: {}", or_none(&t.network_features.join(", ")));
    let _ = writeln!(out, "  IPv4: {} prefixes, {} aggregated", v4.len(), a4.len());
    let _ = writeln!(out, "  IPv6: {} prefixes, {} aggregated", v6.len(), a6.len());
    let _ = writeln!(out, "  aggregated IPv4:");
    for p in &a4 {
        let _ = writeln!(out, "    {p}");
    }
    let _ = writeln!(out, "  aggregated IPv6:");
    for p in &a6 {
        let _ = writeln!(out, "    {p}");
    }
}

pub fn show(cli: &Cli, name: &str, cloud_arg: Option<CloudArg>, location: Option<&str>, path: Option<&Path>, format: ErrorFormat) -> Exit {
    let fail = |d: Diagnostic| output::bad_input(output::error_format(cli.error_format, format == ErrorFormat::Json), &[d]);
    let (tags, cloud_id) = match load(path, cloud_arg) {
        Ok(x) => x,
        Err(d) => return fail(d),
    };
    let Some(entry) = tags.get(name) else {
        let file = path.map_or(format!("<embedded {cloud_id} service tags>"), input::display_name);
        return fail(unknown_tag(&tags, name).in_file(&file));
    };
    let regional = match location {
        None => None,
        Some(l) => match cloud::find_location(cloud_id, l) {
            Some(loc) => {
                let base = entry.name.split('.').next().unwrap_or(&entry.name);
                let variant = format!("{base}.{}", loc.tag_suffix());
                Some((loc, variant.clone(), tags.get(&variant).filter(|v| v.name != entry.name)))
            }
            None => {
                let d = Diagnostic::error(E_LOCATION, "", format!("`{l}` is not a location of cloud {cloud_id}"));
                let d = match cloud::cloud_of_location(l) {
                    Some(other) => d.with_help(format!("`{l}` is a location of cloud {other}: pass --cloud {other}")),
                    None => d.with_help("use an ARM location name such as `westus2`"),
                };
                return fail(d.in_file("--location"));
            }
        },
    };
    match format {
        ErrorFormat::Json => {
            let doc = json!({
                "cloud": tags.cloud,
                "changeNumber": tags.change_number,
                "tag": tag_json(entry),
                "location": regional.as_ref().map(|(l, _, _)| l.name.clone()),
                "regionalName": regional.as_ref().map(|(_, v, _)| v.clone()),
                "regional": regional.as_ref().and_then(|(_, _, t)| t.map(tag_json)),
            });
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        ErrorFormat::Text => {
            let mut out = String::new();
            let _ = writeln!(out, "{} (cloud {}, change {})", entry.name, tags.cloud, tags.change_number);
            tag_text(&mut out, entry);
            if let Some((loc, variant, t)) = &regional {
                match t {
                    Some(t) => {
                        let _ = writeln!(out, "{} (regional variant for {})", t.name, loc.name);
                        tag_text(&mut out, t);
                    }
                    None if variant.eq_ignore_ascii_case(&entry.name) => {
                        let _ = writeln!(out, "{} is already the regional tag of {}", entry.name, loc.name);
                    }
                    None => {
                        let _ = writeln!(out, "{variant}: no regional variant for {} in the file", loc.name);
                    }
                }
            }
            print!("{out}");
        }
    }
    Exit::Ok
}

/// The whole-cloud diff: a summary line, and with `full` every tag and prefix.
pub fn diff_text(d: &TagDiff, full: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "service tags {}: change {} -> {}",
        d.cloud, d.old_change_number, d.new_change_number
    );
    let _ = writeln!(
        out,
        "  tags added: {}, removed: {}, changed: {}; prefixes added: {}, removed: {}",
        d.added_tags.len(),
        d.removed_tags.len(),
        d.changed_tags.len(),
        d.prefixes_added(),
        d.prefixes_removed()
    );
    if !full {
        let _ = writeln!(out, "  (--all lists every tag and prefix)");
        return out;
    }
    for t in &d.added_tags {
        let _ = writeln!(out, "added tag {t}");
    }
    for t in &d.removed_tags {
        let _ = writeln!(out, "removed tag {t}");
    }
    for c in &d.changed_tags {
        let mut what = Vec::new();
        if c.ipv4_changed {
            what.push("IPv4 changed".to_string());
        }
        if c.ipv6_changed {
            what.push("IPv6 changed".to_string());
        }
        if let Some((old, new)) = &c.network_features {
            what.push(format!("networkFeatures [{}] -> [{}]", old.join(", "), new.join(", ")));
        }
        let _ = writeln!(
            out,
            "changed tag {}: +{} -{} prefixes ({})",
            c.name,
            c.added.len(),
            c.removed.len(),
            if what.is_empty() {
                "same addresses".to_string()
            } else {
                what.join("; ")
            }
        );
        for p in &c.added {
            let _ = writeln!(out, "  + {p}");
        }
        for p in &c.removed {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
    }
}

/// `rule out-storage-80-443-445`, `firewall rule ise-network-dependencies/fw-net-storage`.
fn item_text(kind: ItemKind, collection: Option<&str>, name: &str) -> String {
    let word = match kind {
        ItemKind::Document => return "document".into(),
        ItemKind::SecurityRule => "rule",
        ItemKind::Route => "route",
        ItemKind::Subnet => "subnet",
        ItemKind::RuleCollection => "rule collection",
        ItemKind::FirewallRule => "firewall rule",
        ItemKind::Requirement => "requirement",
        ItemKind::FirewallDependency => "firewall dependency",
    };
    match collection {
        Some(c) => format!("{word} {c}/{name}"),
        None => format!("{word} {name}"),
    }
}

pub fn impact_text(i: &Impact) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "environment {}{}: {} artifact change(s), {} effective change(s)",
        i.environment,
        if i.expanded { " (tags expanded)" } else { "" },
        i.artifacts.len(),
        i.effective.len()
    );
    if i.artifacts.is_empty() {
        let _ = writeln!(out, "  every artifact is unchanged (the change number aside): nothing to deploy");
    } else {
        let _ = writeln!(out, "artifact changes (deploy them):");
    }
    for line in artifact_lines(i) {
        let _ = writeln!(out, "  {line}");
    }
    if !i.effective.is_empty() {
        let _ = writeln!(out, "effective changes (Azure resolves the tags itself; nothing to deploy):");
    }
    for line in effective_lines(i) {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// `--quiet`: only what fails the run, one line each, `prefix` before each (a fleet's name).
pub fn quiet_text(i: &Impact, fail_on: FailOn, prefix: &str) -> String {
    let mut lines = artifact_lines(i);
    if fail_on == FailOn::Effective {
        lines.extend(effective_lines(i));
    }
    lines.iter().map(|l| format!("{prefix}{l}\n")).collect()
}

/// One line per artifact item that changes.
fn artifact_lines(i: &Impact) -> Vec<String> {
    let mut out = Vec::new();
    for a in &i.artifacts {
        let fields = if a.fields.is_empty() {
            String::new()
        } else {
            format!(" ({})", a.fields.join(", "))
        };
        let tags = if a.tags.is_empty() {
            String::new()
        } else {
            format!(" [tags: {}]", a.tags.join(", "))
        };
        out.push(format!(
            "{} {} {}{fields}{tags}",
            a.key.artifact,
            item_text(a.key.kind, a.key.collection.as_deref(), &a.key.name),
            change_word(a.change)
        ));
    }
    out
}

/// One line per rule whose tags' addresses change.
fn effective_lines(i: &Impact) -> Vec<String> {
    i.effective
        .iter()
        .map(|e| {
            format!(
                "{}: {} +{} -{} IPv4 addresses",
                item_text(e.kind, e.collection.as_deref(), &e.name),
                e.tag,
                e.addresses_added,
                e.addresses_removed
            )
        })
        .collect()
}

pub struct DiffArgs<'a> {
    pub old: &'a Path,
    pub new: &'a Path,
    pub expand_tags: bool,
    pub table_version: Option<&'a str>,
    pub all: bool,
    pub fail_on: FailOn,
    pub format: ErrorFormat,
}

/// The environment's impact, or the diagnostics (naming the tag file they concern).
fn env_impact(cli: &Cli, a: &DiffArgs, path: &Path, old: &ServiceTags, new: &ServiceTags, d: &TagDiff) -> Result<Impact, Vec<Diagnostic>> {
    let (env, _warnings) = input::environment(Some(path), cli.deny_warnings)?;
    impact_of(a, &env, path, (old, new), d)
}

/// The impact of the two tag files on a loaded environment (its file named `path`).
pub fn impact_of(
    a: &DiffArgs,
    env: &ise_model::Environment,
    path: &Path,
    (old, new): (&ServiceTags, &ServiceTags),
    d: &TagDiff,
) -> Result<Impact, Vec<Diagnostic>> {
    // The tag files serve every environment of a fleet: the message names the one they do not fit.
    let wrong: Vec<Diagnostic> = [(old, a.old), (new, a.new)]
        .into_iter()
        .filter_map(|(t, p)| {
            t.check_cloud(env.cloud).err().map(|d| Diagnostic {
                message: format!("environment `{}`: {}", env.name, d.message),
                ..d.in_file(&input::display_name(p))
            })
        })
        .collect();
    if !wrong.is_empty() {
        return Err(wrong);
    }
    let compile = |tags: &ServiceTags, tag_path: &Path| {
        tagdiff::compile(env, tags, a.table_version, a.expand_tags)
            .map_err(|diags| input::name_stage_diagnostics(diags, Some(path), Some(tag_path)))
    };
    match (compile(old, a.old), compile(new, a.new)) {
        (Ok(o), Ok(n)) => Ok(tagdiff::compare(env, &o, &n, old, new, d)),
        (o, n) => {
            // A problem of the environment itself (a plan limit) comes out of both compiles: once.
            let mut diags: Vec<Diagnostic> = Vec::new();
            for d in o.err().into_iter().chain(n.err()).flatten() {
                if !diags.contains(&d) {
                    diags.push(d);
                }
            }
            Err(diags)
        }
    }
}

/// Both tag files read and diffed (once for a fleet), or the diagnostics.
pub fn read_both(a: &DiffArgs) -> Result<(ServiceTags, ServiceTags, TagDiff), Vec<Diagnostic>> {
    super::check_table_version(a.table_version).map_err(|d| vec![d])?;
    let (old, new) = match (read_tag_file(a.old), read_tag_file(a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => return Err(o.err().into_iter().chain(n.err()).collect()),
    };
    let d = tagdiff::diff(&old, &new).map_err(|d| vec![d.in_file(&input::display_name(a.new))])?;
    Ok((old, new, d))
}

/// The whole-cloud diff as JSON.
pub fn summary_json(d: &TagDiff) -> Value {
    json!({
        "cloud": d.cloud,
        "oldChangeNumber": d.old_change_number,
        "newChangeNumber": d.new_change_number,
        "tagsAdded": d.added_tags.len(),
        "tagsRemoved": d.removed_tags.len(),
        "tagsChanged": d.changed_tags.len(),
        "prefixesAdded": d.prefixes_added(),
        "prefixesRemoved": d.prefixes_removed(),
    })
}

/// Whether the impact fails the run (exit 1) under `--fail-on`.
pub fn fails(i: &Impact, fail_on: FailOn) -> bool {
    i.artifacts_changed() || (fail_on == FailOn::Effective && i.effective_changed())
}

pub fn diff(cli: &Cli, a: &DiffArgs, env: Option<&Path>) -> Exit {
    let fail = |diags: Vec<Diagnostic>| output::bad_input(output::error_format(cli.error_format, a.format == ErrorFormat::Json), &diags);
    let (old, new, d) = match read_both(a) {
        Ok(x) => x,
        Err(diags) => return fail(diags),
    };
    let impact = match env.map(|path| env_impact(cli, a, path, &old, &new, &d)).transpose() {
        Ok(i) => i,
        Err(diags) => return fail(diags),
    };
    // The environment's impact first; the whole-cloud diff in full without --env or with --all.
    let full = impact.is_none() || a.all;
    match a.format {
        ErrorFormat::Json => {
            let doc = json!({
                "impact": impact,
                "affected": impact.as_ref().map(Impact::artifacts_changed),
                "effective": impact.as_ref().map(Impact::effective_changed),
                "summary": summary_json(&d),
                "diff": full.then_some(&d),
            });
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        ErrorFormat::Text if output::quiet() => {
            if let Some(i) = &impact {
                print!("{}", quiet_text(i, a.fail_on, ""));
            }
        }
        ErrorFormat::Text => {
            if let Some(i) = &impact {
                print!("{}", impact_text(i));
            }
            print!("{}", diff_text(&d, full));
        }
    }
    if impact.as_ref().is_some_and(|i| fails(i, a.fail_on)) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
