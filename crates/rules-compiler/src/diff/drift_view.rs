//! The reports of `diff --deployed`: text for people, JSON (the `Drift` as it is), and a Markdown
//! change ticket with the `az` commands that converge.

use super::artifacts::ItemKind;
use super::az;
use super::drift::{Absent, Action, Drift, FieldChange, ItemChange, Unassociated};
use crate::prove::findings::ArtifactKind;
use serde_json::Value;
use std::fmt::Write;

/// How many items of a list the text report shows: a rule of thousands of prefixes stays one
/// readable line there (the ticket and JSON carry every item).
const TEXT_ITEMS: usize = 8;

/// A value as people read it: strings bare, lists comma-separated (the first `most` items, then a
/// count), null as `(none)`.
fn show(v: &Value, most: usize) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        // A field's line ends and tabs would break the report's line: written as codes, as
        // `views::printable` writes every other control character.
        Value::String(s) if s.contains(['\n', '\t']) => s.replace('\n', "\\u{a}").replace('\t', "\\u{9}"),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Array(a) if a.len() > most => format!(
            "{},... ({} in all; --format json lists every one)",
            a[..most].iter().map(|v| show(v, most)).collect::<Vec<_>>().join(","),
            crate::views::summary::count(a.len())
        ),
        Value::Array(a) => a.iter().map(|v| show(v, most)).collect::<Vec<_>>().join(","),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// One line saying what an item does.
fn describe(kind: ItemKind, item: &Value, most: usize) -> String {
    let f = |k: &str| item.get(k).map(|v| show(v, most)).unwrap_or_default();
    match kind {
        ItemKind::SecurityRule => format!(
            "priority {}, {} {} {}, from {} port {} to {} port {}",
            f("priority"),
            f("direction"),
            f("access"),
            f("protocol"),
            f("sourceAddressPrefixes"),
            f("sourcePortRanges"),
            f("destinationAddressPrefixes"),
            f("destinationPortRanges")
        ),
        ItemKind::Route => match item.get("nextHopIpAddress").filter(|v| !v.is_null()) {
            Some(ip) => format!("{} to {} {}", f("addressPrefix"), f("nextHopType"), show(ip, most)),
            None => format!("{} to {}", f("addressPrefix"), f("nextHopType")),
        },
        ItemKind::RuleCollection => format!("priority {}, {}", f("priority"), f("action")),
        _ if f("ruleType") == "ApplicationRule" => format!(
            "ApplicationRule {} from {} to {}{}",
            f("protocols"),
            f("sourceAddresses"),
            f("targetFqdns"),
            f("fqdnTags")
        ),
        _ => format!(
            "NetworkRule {} from {} to {} port {}",
            f("ipProtocols"),
            f("sourceAddresses"),
            f("destinationAddresses"),
            f("destinationPorts")
        ),
    }
}

fn fields(fields: &[FieldChange], most: usize) -> String {
    fields
        .iter()
        .map(|f| format!("{} {} -> {}", f.field, show(&f.deployed, most), show(&f.desired, most)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn item_name(c: &ItemChange) -> String {
    let name = match (&c.collection, c.kind) {
        (Some(coll), _) => format!("{coll}/{}", c.name),
        (None, ItemKind::RuleCollection) => format!("collection {}", c.name),
        // The resource's own properties: the item has no name of its own.
        (None, ItemKind::Document) => match c.artifact {
            ArtifactKind::Routes => "route table".into(),
            ArtifactKind::Firewall => "rule collection group".into(),
            ArtifactKind::Nsg => "nsg".into(),
        },
        _ => c.name.clone(),
    };
    match &c.deployed_name {
        Some(old) => format!("{old} -> {name}"),
        None => name,
    }
}

/// What converging does to the item, in one line (lists cut after `most` items).
fn what(c: &ItemChange, most: usize) -> String {
    match c.action {
        Action::Add => describe(c.kind, c.desired.as_ref().unwrap_or(&Value::Null), most),
        Action::Remove => describe(c.kind, c.deployed.as_ref().unwrap_or(&Value::Null), most),
        Action::Change => fields(&c.fields, most),
        Action::Rename if c.fields.is_empty() => "same meaning".into(),
        Action::Rename => format!("same meaning; {}", fields(&c.fields, most)),
    }
}

/// How many items differ only in their descriptions (`Drift::metadata`), as a clause.
fn descriptions_differ(n: usize) -> String {
    match n {
        1 => "1 description differs".into(),
        n => format!("{n} descriptions differ"),
    }
}

/// The clause after `separator`, or nothing when no description differs.
fn and_descriptions(n: usize, separator: &str) -> String {
    match n {
        0 => String::new(),
        n => format!("{separator}{}", descriptions_differ(n)),
    }
}

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Add => "+ add   ",
        Action::Remove => "- remove",
        Action::Change => "~ change",
        Action::Rename => "> rename",
    }
}

fn counts(d: &Drift, artifact: ArtifactKind) -> String {
    let n = |a: Action| d.changes.iter().filter(|c| c.artifact == artifact && c.action == a).count();
    let described = d.metadata.iter().filter(|c| c.artifact == artifact).count();
    format!(
        "{} to add, {} to remove, {} to change, {} renamed{}",
        n(Action::Add),
        n(Action::Remove),
        n(Action::Change),
        n(Action::Rename),
        and_descriptions(described, ", ")
    )
}

/// How a report names an artifact kind in prose.
fn artifact_words(k: ArtifactKind) -> &'static str {
    super::deployed::proved(k).what
}

/// The environment field that names an artifact.
fn name_field(k: ArtifactKind) -> &'static str {
    super::deployed::proved(k).field
}

/// What to mind about a compared resource: whom else an NSG or route table serves (its changes
/// reach their traffic too), and other groups of a policy at the priority the environment gives
/// its group.
fn cautions(c: &super::drift::Compared) -> Vec<String> {
    let name = c.target.name.as_deref().unwrap_or_default();
    let quoted = |names: &[String]| names.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    if !c.also_on.is_empty() {
        out.push(format!(
            "{} `{name}` is also on {}, which are not the ISE's: every change below changes their traffic too",
            artifact_words(c.artifact),
            quoted(&c.also_on)
        ));
    }
    if !c.priority_shared_with.is_empty() {
        out.push(format!(
            "rule collection group `{name}` would share its priority with {} of the same policy: Azure does not document which it evaluates first; give the environment's another (`forcedTunneling.ruleCollectionGroupPriority`)",
            quoted(&c.priority_shared_with)
        ));
    }
    out
}

/// What an absent artifact means and what to do, in one sentence.
fn absent_line(a: &Absent) -> String {
    let held = match a.passed_over.as_slice() {
        [] => String::new(),
        names => format!(
            "; it holds {} {}",
            artifact_words(a.artifact),
            crate::views::summary::first_names(&names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>())
        ),
    };
    let named = match a.passed_over.as_slice() {
        [] => String::new(),
        [one] => format!(
            " If `{one}` is the ISE's, name it in the environment (`{}`).",
            name_field(a.artifact)
        ),
        _ => format!(
            " If one of those is the ISE's, name it in the environment (`{}`).",
            name_field(a.artifact)
        ),
    };
    format!(
        "{} `{}` is not in {} (ARM template{held}): deploy it (azuredeploy.json or main.bicep), or pass the file that holds it.{named}",
        artifact_words(a.artifact),
        a.name,
        a.files.join(", ")
    )
}

/// A subnet an NSG or route table is not on, in one sentence.
fn unassociated_line(u: &Unassociated) -> String {
    let instead = match &u.now_on {
        Some(now) => format!(" (it is on `{now}`, which the ticket replaces)"),
        None => String::new(),
    };
    format!(
        "{} `{}` is not associated with subnet `{}` of `{}` ({}){instead}, so its {} do not apply there",
        artifact_words(u.artifact),
        u.resource,
        u.subnet,
        u.virtual_network,
        u.file,
        match u.artifact {
            ArtifactKind::Routes => "routes",
            _ => "rules",
        }
    )
}

fn result_line(d: &Drift) -> String {
    let described = d.metadata.len();
    if d.in_sync {
        return match described {
            0 => "result: in sync\n".into(),
            n => format!("result: in sync ({})\n", descriptions_differ(n)),
        };
    }
    let missing: usize = d.missing.iter().map(|m| m.requirements.len()).sum();
    let absent = match (d.absent.len(), d.unassociated.len()) {
        (0, 0) => String::new(),
        (n, 0) => format!(", {n} not deployed"),
        (0, u) => format!(", {u} subnet association(s) missing"),
        (n, u) => format!(", {n} not deployed, {u} subnet association(s) missing"),
    };
    format!(
        "result: drift: {} change(s), {} missing requirement(s), {} opening(s), {} other finding(s){absent}{}\n",
        d.changes.len(),
        missing,
        d.openings.len(),
        d.other_findings.len(),
        and_descriptions(described, "; ")
    )
}

pub fn render_text(d: &Drift) -> String {
    let mut out = String::new();
    for c in &d.compared {
        let name = c.target.name.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "{} `{name}` in {} ({}): {}",
            c.artifact.as_str(),
            c.file,
            c.format.describe(c.artifact),
            counts(d, c.artifact)
        );
        for caution in cautions(c) {
            let _ = writeln!(out, "  caution: {caution}");
        }
        for change in d.changes.iter().filter(|x| x.artifact == c.artifact) {
            let _ = writeln!(out, "  {}", change_line(change, false));
        }
        for change in d.metadata.iter().filter(|x| x.artifact == c.artifact) {
            let _ = writeln!(out, "  {}", metadata_line(change));
        }
    }
    for a in &d.absent {
        let _ = writeln!(out, "not deployed: {}", absent_line(a));
    }
    for u in &d.unassociated {
        let _ = writeln!(out, "not associated: {}", unassociated_line(u));
    }
    if let Some(note) = &d.firewall_note {
        let _ = writeln!(out, "note: {note}");
    }
    if !d.not_compared.is_empty() {
        let kinds: Vec<&str> = d.not_compared.iter().map(|k| artifact_words(*k)).collect();
        let _ = writeln!(out, "note: not compared (no file given holds it): {}", kinds.join(", "));
    }
    finding_lines(d, &mut out);
    out.push_str(&result_line(d));
    out
}

/// `--quiet`: only what differs, one line each (a change names its artifact): no headers, no
/// result line.
pub fn render_text_quiet(d: &Drift) -> String {
    let mut out = String::new();
    for change in &d.changes {
        let _ = writeln!(out, "{} {}", change.artifact.as_str(), change_line(change, true));
    }
    for change in &d.metadata {
        let _ = writeln!(out, "{} {}", change.artifact.as_str(), metadata_line(change));
    }
    for a in &d.absent {
        let _ = writeln!(out, "{} not deployed: {}", a.artifact.as_str(), absent_line(a));
    }
    for u in &d.unassociated {
        let _ = writeln!(out, "{} not associated: {}", u.artifact.as_str(), unassociated_line(u));
    }
    finding_lines(d, &mut out);
    out
}

/// A change in one line, its caution on the next (`quiet`: in the same line, one line per change).
fn change_line(change: &ItemChange, quiet: bool) -> String {
    let caution = match (&change.caution, quiet) {
        (Some(c), false) => format!("\n      caution: {c}"),
        (Some(c), true) => format!(" (caution: {c})"),
        (None, _) => String::new(),
    };
    format!(
        "{} {}: {}{caution}",
        symbol(change.action),
        item_name(change),
        what(change, TEXT_ITEMS)
    )
}

/// A difference that decides no traffic: marked apart from the changes to converge.
fn metadata_line(change: &ItemChange) -> String {
    format!("= metadata {}: {}", item_name(change), fields(&change.fields, TEXT_ITEMS))
}

/// The missing requirements and the verifier's findings on the deployed state.
fn finding_lines(d: &Drift, out: &mut String) {
    for m in &d.missing {
        let _ = writeln!(
            out,
            "missing ({} in {}): {}",
            m.artifact.as_str(),
            m.file,
            m.requirements.join(", ")
        );
    }
    for f in d.openings.iter().chain(&d.other_findings) {
        let rule = f.finding.rule.as_ref().map(|r| format!(" `{}`", r.name)).unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}{rule} in {}: {}",
            f.finding.code,
            f.finding.kind.info().name,
            f.file,
            f.finding.message
        );
    }
}

pub fn render_json(d: &Drift) -> String {
    let mut s = serde_json::to_string_pretty(d).expect("serialisable");
    s.push('\n');
    s
}

/// The items that differ only in their descriptions: listed, never removed and added again.
fn metadata_section(d: &Drift, out: &mut String) {
    if d.metadata.is_empty() {
        return;
    }
    out.push_str("\n## Description differences\n\nThese items differ only in their descriptions, which decide no traffic: they are not drift, and the commands of this ticket leave them as deployed.\n\n| artifact | item | what |\n|---|---|---|\n");
    for c in &d.metadata {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            c.artifact.as_str(),
            cell(&item_name(c)),
            cell(&fields(&c.fields, usize::MAX))
        );
    }
    let commands = az::metadata_commands(d);
    if !commands.is_empty() {
        out.push_str("\nOptional: a rule's description is updated in place, without touching its traffic:\n");
        command_block(out, d, &commands);
    }
}

/// A block of commands: the note on the policy placeholder when they use it, then the commands
/// from the environment's cloud.
fn command_block(out: &mut String, d: &Drift, commands: &[String]) {
    if commands.iter().any(|c| c.contains(az::POLICY_PLACEHOLDER)) {
        let _ = writeln!(
            out,
            "\nThe firewall file does not name its firewall policy: replace `{}` before running.",
            az::POLICY_PLACEHOLDER
        );
    }
    if commands.iter().any(|c| c.contains(super::deployed::UNKNOWN_PLACE)) {
        let _ = writeln!(
            out,
            "\nThe deployed template puts a resource into a resource group or subscription it does not name plainly: replace `{}` before running.",
            super::deployed::UNKNOWN_PLACE
        );
    }
    out.push_str("\n```sh\n");
    let _ = writeln!(out, "{}", cloud_set(d));
    for c in commands {
        let _ = writeln!(out, "{c}");
    }
    out.push_str("```\n");
}

/// The first lines of every command block: a shell left on another cloud, or in another
/// subscription (one with resources of the same names), would send the commands there.
fn cloud_set(d: &Drift) -> String {
    format!(
        "az cloud set --name {}\naz account set --subscription {}",
        d.az_cli_cloud,
        super::az::quote(&d.subscription)
    )
}

/// A table cell: no line breaks, `|` escaped, backticks dropped so code spans stay closed.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|").replace('`', "'")
}

pub fn render_ticket(d: &Drift) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Change ticket: converge the deployed network of `{}`\n",
        cell(&d.environment)
    );
    if d.in_sync {
        out.push_str("The deployed resources match what the environment compiles to, and the verifier finds every requirement covered and nothing else open. No change is needed.");
        if !d.metadata.is_empty() {
            let _ = write!(
                out,
                " {} (see below): descriptions decide no traffic, so they are no drift.",
                descriptions_differ(d.metadata.len())
            );
        }
        out.push_str("\n\n");
    } else {
        out.push_str("`isenet diff --deployed` compared the deployed resources below with what the environment compiles to, and proved the deployed state against the requirements.\n\n");
    }
    out.push_str(
        "## Resources compared\n\n| artifact | resource | resource group | file | format | changes |\n|---|---|---|---|---|---|\n",
    );
    for c in &d.compared {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            c.artifact.as_str(),
            cell(c.target.name.as_deref().unwrap_or_default()),
            cell(c.target.resource_group.as_deref().unwrap_or_default()),
            cell(&c.file),
            c.format.describe(c.artifact),
            counts(d, c.artifact)
        );
    }
    if !d.absent.is_empty() {
        out.push_str("\n## Not deployed\n\n");
        for a in &d.absent {
            let _ = writeln!(out, "- {}", cell(&absent_line(a)));
        }
    }
    if !d.unassociated.is_empty() {
        out.push_str("\n## Subnet associations\n\n");
        for u in &d.unassociated {
            let _ = writeln!(out, "- {}", cell(&unassociated_line(u)));
        }
        out.push_str("\nThe commands below associate them last, once the rules and routes are converged.\n");
    }
    for shared in d.compared.iter().flat_map(cautions) {
        let _ = writeln!(out, "\n**Caution:** {}", cell(&shared));
    }
    if !d.changes.is_empty() {
        out.push_str("\n## Changes\n\n| artifact | action | item | what |\n|---|---|---|---|\n");
        for c in &d.changes {
            let action = format!("{:?}", c.action).to_lowercase();
            let _ = writeln!(
                out,
                "| {} | {action} | {} | {}{} |",
                c.artifact.as_str(),
                cell(&item_name(c)),
                cell(&what(c, usize::MAX)),
                c.caution
                    .as_ref()
                    .map(|note| format!(" **Caution:** {}", cell(note)))
                    .unwrap_or_default()
            );
        }
        if let Some(note) = &d.firewall_note {
            let _ = writeln!(out, "\n{note}");
        }
    }
    if !(d.missing.is_empty() && d.openings.is_empty() && d.other_findings.is_empty()) {
        out.push_str("\n## What the verifier finds in the deployed state\n\n");
        for m in &d.missing {
            let _ = writeln!(
                out,
                "- Missing requirements ({}): {}",
                m.artifact.as_str(),
                cell(&m.requirements.join(", "))
            );
        }
        for f in d.openings.iter().chain(&d.other_findings) {
            let rule = f
                .finding
                .rule
                .as_ref()
                .map(|r| format!(" (`{}`)", cell(&r.name)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} {}{rule}: {}",
                f.finding.code,
                f.finding.kind.info().name,
                cell(&f.finding.message)
            );
        }
    }
    metadata_section(d, &mut out);
    let commands = az::commands(d);
    if !commands.is_empty() {
        out.push_str("\n## Commands\n\nRun in this order: deletions first (Azure cannot rename a rule, and refuses two NSG rules with one priority and direction; a deny rule waits instead, until just before the creations when a new rule takes its priority, else to the end, so no step opens what it held back), then updates (each NSG rule moves once its new priority is free, deny rules moving ahead first and those moving back last; rules that trade priorities go through a free temporary one, said in a `#` comment), then creations. Between a deletion and its creation the traffic the rule decided falls to the next rule; run the block in one go. A route replaced under another name is bridged: two routes for its prefix's halves keep its traffic where it went until the new route is in place, and are deleted last. So is a firewall allow collection replaced under another name: a bridge collection at the nearest free priority with no deny collection between holds its rules until the new collection is in place, and is removed last (a `#` comment says where no priority is free). Each resource's updates and creations finish before the next one's begin, firewall first and routes last, so firewall rules are in place before routes send traffic to the firewall; routes are deleted before firewall rules.\n");
        command_block(&mut out, d, &commands);
    }
    out.push_str("\n## Validation\n\nExport the resources again (`az network nsg show -g RG -n NAME -o json`, `az network route-table show ...`, `az network firewall policy rule-collection-group show ...`) and run `isenet diff --deployed` on them: exit 0 means in sync.\n");
    out.push_str("\n## Rollback\n\nKeep the exports this ticket was made from: after a rollback, fresh exports equal them. ");
    let rollback = super::rollback::commands(d);
    if rollback.is_empty() {
        out.push_str("The commands above change nothing to roll back.\n");
    } else {
        out.push_str("These commands, run after the ones above, take the resources back to the exports, in the same careful order (descriptions the optional updates aligned stay aligned):\n");
        command_block(&mut out, d, &rollback);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(show(&json!(["10.0.0.0/8", "Storage"]), TEXT_ITEMS), "10.0.0.0/8,Storage");
        assert_eq!(show(&json!(""), TEXT_ITEMS), "\"\"");
        assert_eq!(show(&Value::Null, TEXT_ITEMS), "(none)");
        assert_eq!(show(&json!(130), TEXT_ITEMS), "130");
    }

    #[test]
    fn long_lists_are_cut_in_text_and_whole_in_tickets() {
        let prefixes: Vec<String> = (0..4000).map(|i| format!("20.{}.{}.0/24", i / 256, i % 256)).collect();
        let list = json!(prefixes);
        assert_eq!(
            show(&list, TEXT_ITEMS),
            "20.0.0.0/24,20.0.1.0/24,20.0.2.0/24,20.0.3.0/24,20.0.4.0/24,20.0.5.0/24,20.0.6.0/24,20.0.7.0/24,... \
             (4,000 in all; --format json lists every one)"
        );
        assert_eq!(show(&list, usize::MAX), prefixes.join(","));
        // Exactly as many items as shown: no count.
        assert_eq!(show(&json!(prefixes[..8]), TEXT_ITEMS), prefixes[..8].join(","));
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc`d"), "a\\|b c'd");
    }
}
