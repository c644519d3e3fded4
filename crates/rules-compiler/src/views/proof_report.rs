//! `isenet verify` output for people: per proof a summary line, then one line per finding with its
//! code, the rule and the flows in a few words (`--verbose`: the covered requirements and every
//! flow in full). JSON is the `Verification` itself.

use super::summary::{self, Names};
use crate::prove::findings::{ArtifactKind, Finding, FindingKind, Proof, Verification};
use std::fmt::Write;

/// What to print and how to name big address sets.
pub struct TextOptions<'a> {
    pub verbose: bool,
    pub names: &'a Names,
}

pub fn render_text(v: &Verification, o: &TextOptions) -> String {
    let mut out = String::new();
    for p in &v.proofs {
        proof_text(&mut out, p, o);
    }
    if !v.unverified.is_empty() {
        let what: Vec<&str> = v.unverified.iter().map(|k| unverified_name(*k)).collect();
        let _ = writeln!(
            out,
            "not verified (not given; this environment's mode needs it): {}",
            what.join(", ")
        );
    }
    out += if v.ok { "result: ok\n" } else { "result: FINDINGS\n" };
    out
}

fn unverified_name(k: ArtifactKind) -> &'static str {
    match k {
        ArtifactKind::Nsg => "the NSG",
        ArtifactKind::Routes => "the route table",
        ArtifactKind::Firewall => "the firewall rules",
    }
}

fn subject(p: &Proof) -> String {
    match (p.name.is_empty(), p.file.is_empty()) {
        (false, _) => p.name.clone(),
        (true, false) => p.file.clone(),
        (true, true) => "compiled".into(),
    }
}

/// Appends one proof's lines (`write!` to a String cannot fail: its results are ignored).
fn proof_text(out: &mut String, p: &Proof, o: &TextOptions) {
    let s = &p.summary;
    let (what, checks) = match p.artifact {
        ArtifactKind::Nsg => ("nsg", "requirements covered"),
        ArtifactKind::Routes => ("routes", "route checks hold"),
        ArtifactKind::Firewall => ("firewall", "dependencies allowed (firewall and NSG)"),
    };
    let _ = writeln!(
        out,
        "{what} {}: {} rules; {} of {} {checks}; {} opening(s); {} error(s), {} note(s)",
        subject(p),
        summary::count(s.rules),
        s.covered,
        s.requirements,
        s.openings,
        s.errors,
        s.notes
    );
    if o.verbose {
        for c in p.coverage.iter().filter(|c| c.covered) {
            let by = if c.rules.is_empty() { "-".to_string() } else { c.rules.join(", ") };
            let _ = writeln!(out, "  ok      {:<34} by {by}", c.id);
        }
    }
    for f in &p.findings {
        let _ = writeln!(out, "  {:<7} {} {}", f.severity.as_str(), f.code, finding_line(f, o.names));
        if o.verbose {
            for flow in &f.flows {
                let _ = writeln!(out, "            {flow}");
            }
            if !f.addresses.is_empty() {
                let all: Vec<String> = f.addresses.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "            {}", all.join(","));
            }
        }
    }
}

/// A finding's message with the flows or addresses it is about, in a few words: what the CI
/// formats (SARIF, JUnit, annotations) show, which have no room for the text report's layout.
pub fn finding_text(f: &Finding, names: &Names) -> String {
    match f.kind {
        FindingKind::Opening if !f.flows.is_empty() => format!("{}: {}", f.message, summary::flows(&f.flows, names)),
        _ => finding_line(f, names),
    }
}

/// One finding on one line.
pub fn finding_line(f: &Finding, names: &Names) -> String {
    let flows = summary::flows(&f.flows, names);
    match f.kind {
        FindingKind::Opening => {
            let rule = f.rule.as_ref().map(|r| {
                let place = match (f.direction, r.priority) {
                    (Some(d), Some(p)) => format!(" ({d} {p})"),
                    _ => String::new(),
                };
                format!("{}{place}", r.name)
            });
            let serves = if f.requirements.is_empty() {
                "serves no requirement".to_string()
            } else {
                let verb = if f.requirements.len() == 1 { "needs" } else { "need" };
                format!("beyond what {} {verb}", f.requirements.join(", "))
            };
            format!("{}: {flows}, {serves}", rule.unwrap_or_default())
        }
        FindingKind::UndeclaredMemberOpening => {
            let names = f
                .members
                .as_ref()
                .map_or_else(|| names.clone(), |m| names.for_undeclared_members(m));
            format!("{}: {}", f.message, summary::flows(&f.flows, &names))
        }
        FindingKind::WrongNextHop => {
            let addresses = summary::addresses(&f.addresses, names);
            format!("{}: {addresses}", f.message)
        }
        _ if flows.is_empty() => f.message.clone(),
        _ => format!("{}: {flows}", f.message),
    }
}

pub fn render_json(v: &Verification) -> String {
    serde_json::to_string_pretty(v).expect("serialisable") + "\n"
}
