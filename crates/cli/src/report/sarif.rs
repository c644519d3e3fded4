//! SARIF 2.1.0 for GitHub code scanning and the Azure DevOps SARIF viewer: one result per finding,
//! `ruleId` its code with the rule's name, help and default level, located at the offending rule
//! in the input file (URI relative to the working directory) or at the environment file, and
//! named (a logical location: `nsg/securityRules/allow-rdp`), which places it when no file does.

use super::{Location, Proofs, Severity, Subject};
use serde_sarif::sarif;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Note => sarif::ResultLevel::Note,
    }
}

fn text(s: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder().text(s).build()
}

/// A file as a URI reference relative to `cwd` when under it (what code scanning matches against
/// the repository), else a `file://` URI. `None` for inputs that are not files.
pub fn uri(file: &str, cwd: &std::path::Path) -> Option<String> {
    let path = super::relative_path(file, cwd)?;
    let s = path.to_string_lossy().replace('\\', "/");
    Some(if path.is_absolute() {
        format!("file://{}", encode_path(&s))
    } else {
        encode_path(&s)
    })
}

/// A path as an RFC 3986 path: each byte but the unreserved characters, the sub-delimiters, `@`
/// and `/` percent-encoded (`#` would start a fragment, `%` an escape, a space is not allowed;
/// `:` too, which in a relative reference's first segment would read as a scheme).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A physical location with a region: code scanning needs `startLine` (a finding about a whole
/// file is at line 1, column 1).
fn physical(l: &Location, cwd: &std::path::Path) -> Option<sarif::PhysicalLocation> {
    let uri = uri(&l.file, cwd)?;
    let region = sarif::Region::builder()
        .start_line(l.line.unwrap_or(1) as i64)
        .start_column(l.column.unwrap_or(1) as i64)
        .build();
    Some(
        sarif::PhysicalLocation::builder()
            .artifact_location(sarif::ArtifactLocation::builder().uri(uri).build())
            .region(region)
            .build(),
    )
}

fn location(l: &Location, cwd: &std::path::Path) -> Option<sarif::Location> {
    physical(l, cwd).map(|p| sarif::Location::builder().physical_location(p).build())
}

/// A finding's place in a file and the rule it is about by name (a JSON object of the artifact),
/// either alone when the other is not known: an artifact piped in has no file.
fn finding_location(at: Option<&Location>, subject: Option<&Subject>, cwd: &std::path::Path) -> Option<sarif::Location> {
    let physical = at.and_then(|l| physical(l, cwd));
    let logical = subject.map(|s| {
        sarif::LogicalLocation::builder()
            .name(s.name.as_str())
            .fully_qualified_name(s.path.as_str())
            .kind("object")
            .build()
    });
    match (physical, logical) {
        (Some(p), Some(l)) => Some(sarif::Location::builder().physical_location(p).logical_locations(vec![l]).build()),
        (Some(p), None) => Some(sarif::Location::builder().physical_location(p).build()),
        (None, Some(l)) => Some(sarif::Location::builder().logical_locations(vec![l]).build()),
        (None, None) => None,
    }
}

/// The invocation of a run some of whose inputs did not load, or that was not given an artifact
/// the environment's mode needs: one tool execution notification per diagnostic, at its file, and
/// one note per artifact not verified.
fn invocation(p: &Proofs, cwd: &std::path::Path) -> sarif::Invocation {
    let refused = &p.refused;
    let mut notifications: Vec<sarif::Notification> = refused
        .iter()
        .map(|d| {
            let text = match &d.help {
                Some(help) => format!("{} ({help})", d.message),
                None => d.message.clone(),
            };
            let n = sarif::Notification::builder()
                .message(sarif::Message::builder().text(text).build())
                .descriptor(sarif::ReportingDescriptorReference::builder().id(d.code).build())
                .level(serde_json::json!(if d.is_error() { "error" } else { "warning" }));
            match location(&Location::of(d), cwd) {
                Some(l) => n.locations(vec![l]).build(),
                None => n.build(),
            }
        })
        .collect();
    notifications.extend(p.not_verified().map(|text| {
        sarif::Notification::builder()
            .message(sarif::Message::builder().text(text).build())
            .descriptor(sarif::ReportingDescriptorReference::builder().id("not-verified").build())
            .level(serde_json::json!("note"))
            .build()
    }));
    sarif::Invocation::builder()
        .execution_successful(!refused.iter().any(|d| d.is_error()))
        .tool_execution_notifications(notifications)
        .build()
}

/// A rule of the run: the F-code of a finding, or the W-code of an environment's warning
/// (validate's, documented with the diagnostic codes).
struct Rule {
    id: &'static str,
    name: Option<&'static str>,
    summary: &'static str,
    help: String,
    level: &'static str,
}

/// The rules of the findings, in code order, then those of the environments' warnings.
fn rules(p: &Proofs) -> Vec<Rule> {
    let mut rules: Vec<Rule> = p
        .rules()
        .into_iter()
        .map(|r| Rule {
            id: r.code,
            name: Some(r.name),
            summary: r.summary,
            help: r.help.to_string(),
            level: r.severity.as_str(),
        })
        .collect();
    let mut warnings: Vec<&ise_model::diag::Diagnostic> = p.warnings.iter().collect();
    warnings.sort_by_key(|d| d.code);
    warnings.dedup_by_key(|d| d.code);
    rules.extend(warnings.into_iter().map(|d| {
        let summary = ise_model::codes::ALL.iter().find(|c| c.code == d.code).map_or("", |c| c.summary);
        Rule {
            id: d.code,
            name: None,
            summary,
            help: d.help.clone().unwrap_or_else(|| summary.to_string()),
            level: "warning",
        }
    }));
    rules
}

/// One result: its rule (an index into `rules`), level, message and location.
fn result(
    rules: &[Rule],
    id: &str,
    level: sarif::ResultLevel,
    message: &str,
    (at, subject): (Option<&Location>, Option<&Subject>),
    cwd: &std::path::Path,
) -> sarif::Result {
    let index = rules.iter().position(|r| r.id == id).unwrap_or_default();
    let locations: Vec<sarif::Location> = finding_location(at, subject, cwd).into_iter().collect();
    let result = sarif::Result::builder()
        .rule_id(id)
        .rule_index(index as i64)
        .level(level)
        .message(sarif::Message::builder().text(message).build());
    if locations.is_empty() {
        result.build()
    } else {
        result.locations(locations).build()
    }
}

pub fn render(p: &Proofs, cwd: &std::path::Path) -> String {
    let rules = rules(p);
    let descriptors: Vec<sarif::ReportingDescriptor> = rules
        .iter()
        .map(|r| {
            let config = sarif::ReportingConfiguration::builder().level(serde_json::json!(r.level)).build();
            let descriptor = sarif::ReportingDescriptor::builder()
                .id(r.id)
                .short_description(text(r.summary))
                .full_description(text(r.summary))
                .help(text(&r.help))
                .default_configuration(config);
            match r.name {
                Some(name) => descriptor.name(name).build(),
                None => descriptor.build(),
            }
        })
        .collect();
    let findings = p.findings.iter().map(|f| {
        result(
            &rules,
            f.rule.code,
            level(f.rule.severity),
            &f.message,
            (f.location.as_ref(), f.subject.as_ref()),
            cwd,
        )
    });
    // The environments' warnings, at their place in the environment file.
    let warnings = p.warnings.iter().map(|d| {
        result(
            &rules,
            d.code,
            sarif::ResultLevel::Warning,
            &d.message,
            (Some(&Location::of(d)), None),
            cwd,
        )
    });
    let results: Vec<sarif::Result> = findings.chain(warnings).collect();
    let driver = sarif::ToolComponent::builder()
        .name("isenet")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(descriptors)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::json!("unicodeCodePoints"));
    // Environments of a fleet that could not be proved (the run did not complete for them), and
    // artifacts not given.
    let run = if p.refused.is_empty() && p.not_verified().next().is_none() {
        run.build()
    } else {
        run.invocations(vec![invocation(p, cwd)]).build()
    };
    let doc = sarif::Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&doc).expect("serialisable") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn uris_are_relative_to_the_working_directory() {
        let cwd = Path::new("/repo");
        assert_eq!(uri("out/nsg.json", cwd).as_deref(), Some("out/nsg.json"));
        assert_eq!(uri("./out/nsg.json", cwd).as_deref(), Some("out/nsg.json"));
        assert_eq!(uri("out/old/../nsg.json", cwd).as_deref(), Some("out/nsg.json"));
        assert_eq!(uri("-", cwd), None);
        assert_eq!(uri("--table-version", cwd), None);
        assert_eq!(uri("/repo/net/my nsg.json", cwd).as_deref(), Some("net/my%20nsg.json"));
        assert_eq!(uri("/elsewhere/nsg.json", cwd).as_deref(), Some("file:///elsewhere/nsg.json"));
        assert_eq!(uri("<stdin>", cwd), None);
        // RFC 3986: `#`, `%`, `:` and bytes outside ASCII are escapes in a path, per UTF-8 byte.
        assert_eq!(uri("net/my nsg#1%.json", cwd).as_deref(), Some("net/my%20nsg%231%25.json"));
        assert_eq!(uri("a:b/é.json", cwd).as_deref(), Some("a%3Ab/%C3%A9.json"));
        assert_eq!(uri("/else where/#.json", cwd).as_deref(), Some("file:///else%20where/%23.json"));
    }
}
