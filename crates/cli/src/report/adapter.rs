//! The one place that turns the proofs' reports into findings and checks. (When the typed findings
//! of `rules_compiler::prove::findings` are available, this is the function to switch.)

use super::{Check, Finding, Location, Proofs, Rule, Severity};
use rules_compiler::prove::firewall::FirewallReport;
use rules_compiler::prove::nsg::Report;
use rules_compiler::prove::routes::RouteReport;

pub const UNCOVERED: Rule = Rule {
    code: "F0101",
    name: "uncovered-requirement",
    severity: Severity::Error,
    summary: "a requirement of the ISE is not (fully) allowed",
    help: "add or widen an allow rule for the requirement's flows, above any deny rule that matches them",
};
pub const OPENING: Rule = Rule {
    code: "F0102",
    name: "opening-beyond-requirements",
    severity: Severity::Error,
    summary: "a rule allows traffic no requirement asks for",
    help: "narrow or remove the rule; isenet's compiled NSG opens only what the requirements need",
};
pub const SHADOWED: Rule = Rule {
    code: "F0103",
    name: "shadowed-rule",
    severity: Severity::Warning,
    summary: "a rule never decides any packet: rules of lower priority numbers match all of it first",
    help: "remove the rule or move it above the rules that shadow it",
};
pub const REDUNDANT: Rule = Rule {
    code: "F0104",
    name: "redundant-rule",
    severity: Severity::Note,
    summary: "removing the rule changes nothing",
    help: "the rule can be removed; it is kept when it documents intent (such as an explicit deny-all)",
};
pub const INCOMPLETE: Rule = Rule {
    code: "F0105",
    name: "incomplete-proof",
    severity: Severity::Error,
    summary: "part of the proof could not be made (e.g. a tag missing from the service-tag file)",
    help: "pass a current service-tag file with --service-tags",
};
pub const WRONG_HOP: Rule = Rule {
    code: "F0201",
    name: "wrong-next-hop",
    severity: Severity::Error,
    summary: "the route table sends a requirement's addresses to the wrong next hop",
    help: "fix the route (its prefix or next hop) so the traffic takes the path the tunneling mode needs",
};
pub const FIREWALL_BLOCKED: Rule = Rule {
    code: "F0301",
    name: "firewall-dependency-blocked",
    severity: Severity::Error,
    summary: "the firewall does not allow a dependency of the ISE",
    help: "add an allow rule for the dependency to a rule collection that is reached",
};
pub const NSG_BLOCKS_FIREWALL: Rule = Rule {
    code: "F0302",
    name: "nsg-blocks-firewall-dependency",
    severity: Severity::Error,
    summary: "the NSG denies traffic the firewall dependency needs",
    help: "allow the dependency's flows outbound in the NSG",
};
pub const FIREWALL_OPENING: Rule = Rule {
    code: "F0303",
    name: "firewall-opening-beyond-dependencies",
    severity: Severity::Error,
    summary: "a firewall rule allows traffic no dependency asks for",
    help: "narrow or remove the rule",
};

/// Every finding kind, in code order.
#[cfg(test)]
pub const RULES: &[&Rule] = &[
    &UNCOVERED,
    &OPENING,
    &SHADOWED,
    &REDUNDANT,
    &INCOMPLETE,
    &WRONG_HOP,
    &FIREWALL_BLOCKED,
    &NSG_BLOCKS_FIREWALL,
    &FIREWALL_OPENING,
];

/// An input file as the reports refer to it: its name in diagnostics and its text (for positions).
pub struct Source<'a> {
    pub file: String,
    pub text: &'a str,
}

/// The reports of one verify run and the files they came from.
pub struct Reports<'a> {
    /// The environment file (`None` for the embedded example): where an uncovered requirement points.
    pub env: Option<String>,
    pub nsg: Option<(Source<'a>, &'a Report)>,
    pub routes: Option<(Source<'a>, &'a RouteReport)>,
    pub firewall: Option<(Source<'a>, &'a FirewallReport)>,
}

/// Line and column (1-based) of the first `"name": "<name>"` in `text`.
pub fn position_of_name(text: &str, name: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{name}\"");
    let mut from = 0;
    while let Some(i) = text[from..].find(&quoted).map(|i| i + from) {
        let before = text[..i].trim_end();
        if before.strip_suffix(':').is_some_and(|b| b.trim_end().ends_with("\"name\"")) {
            let line = text[..i].matches('\n').count() + 1;
            let column = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
            return Some((line, column));
        }
        from = i + quoted.len();
    }
    None
}

fn at_rule(source: &Source, rule: &str) -> Option<Location> {
    let (line, column) = position_of_name(source.text, rule).unzip();
    Some(Location {
        file: source.file.clone(),
        line,
        column,
    })
}

fn in_file(file: &str) -> Option<Location> {
    Some(Location {
        file: file.to_string(),
        ..Location::default()
    })
}

fn flows(list: &[String], more: usize) -> String {
    let mut s = list.join("; ");
    if more > 0 {
        s += &format!("; and {more} more");
    }
    s
}

fn check(artifact: &'static str, name: impl Into<String>, failure: Option<String>) -> Check {
    Check {
        artifact,
        name: name.into(),
        failure,
    }
}

pub fn proofs(r: &Reports) -> Proofs {
    let mut p = Proofs::default();
    if let Some((src, report)) = &r.nsg {
        nsg(&mut p, src, report, r.env.as_deref());
    }
    if let Some((src, report)) = &r.routes {
        routes(&mut p, src, report);
    }
    if let Some((src, report)) = &r.firewall {
        firewall(&mut p, src, report);
    }
    p
}

fn nsg(p: &mut Proofs, src: &Source, report: &Report, env: Option<&str>) {
    let mut finding = |rule: &'static Rule, location: Option<Location>, message: String| {
        p.findings.push(Finding {
            rule,
            artifact: "nsg",
            location,
            message,
        })
    };
    for c in &report.requirements {
        if !c.covered {
            // The requirement comes from the environment; with the embedded example, the NSG is
            // the only file to point at.
            let location = env.map_or_else(|| in_file(&src.file), in_file);
            finding(
                &UNCOVERED,
                location,
                format!(
                    "requirement {} ({:?}) is not allowed: {}",
                    c.id,
                    c.direction,
                    flows(&c.uncovered, c.uncovered_more)
                ),
            );
        }
    }
    for o in &report.openings {
        finding(
            &OPENING,
            at_rule(src, &o.rule),
            format!(
                "rule {} ({:?}) allows traffic no requirement asks for: {}",
                o.rule,
                o.direction,
                flows(&o.flows, o.flows_more)
            ),
        );
    }
    for s in &report.shadowed {
        finding(
            &SHADOWED,
            at_rule(src, s),
            format!("rule {s} is shadowed: it never decides a packet"),
        );
    }
    for s in &report.redundant {
        finding(
            &REDUNDANT,
            at_rule(src, s),
            format!("rule {s} is redundant: removing it changes nothing"),
        );
    }
    for n in &report.notes {
        finding(&INCOMPLETE, in_file(&src.file), n.clone());
    }
    for c in &report.requirements {
        let failure = (!c.covered).then(|| format!("not allowed: {}", flows(&c.uncovered, c.uncovered_more)));
        p.checks.push(check("nsg", format!("requirement {}", c.id), failure));
    }
    let openings: Vec<String> = report.openings.iter().map(|o| o.rule.clone()).collect();
    p.checks.push(check(
        "nsg",
        "nothing open beyond the requirements",
        (!openings.is_empty()).then(|| format!("rules open more than the requirements: {}", openings.join(", "))),
    ));
    p.checks.push(check(
        "nsg",
        "proof complete",
        (!report.notes.is_empty()).then(|| report.notes.join("; ")),
    ));
}

fn routes(p: &mut Proofs, src: &Source, report: &RouteReport) {
    for c in &report.checks {
        let failure = (!c.ok).then(|| format!("wrong next hop: {}", c.wrong.join("; ")));
        if let Some(f) = &failure {
            let route = c.wrong.first().and_then(|w| w.split_whitespace().next()).unwrap_or_default();
            p.findings.push(Finding {
                rule: &WRONG_HOP,
                artifact: "routes",
                location: at_rule(src, route).or_else(|| in_file(&src.file)),
                message: format!("{}: {f}", c.id),
            });
        }
        p.checks.push(check("routes", format!("route {}", c.id), failure));
    }
    for n in &report.notes {
        p.findings.push(Finding {
            rule: &INCOMPLETE,
            artifact: "routes",
            location: in_file(&src.file),
            message: n.clone(),
        });
    }
    p.checks.push(check(
        "routes",
        "proof complete",
        (!report.notes.is_empty()).then(|| report.notes.join("; ")),
    ));
}

fn firewall(p: &mut Proofs, src: &Source, report: &FirewallReport) {
    for d in &report.dependencies {
        let mut failures = Vec::new();
        if !d.covered {
            let text = format!(
                "dependency {} is not allowed by the firewall: {}",
                d.id,
                flows(&d.uncovered, d.uncovered_more)
            );
            p.findings.push(Finding {
                rule: &FIREWALL_BLOCKED,
                artifact: "firewall",
                location: in_file(&src.file),
                message: text.clone(),
            });
            failures.push(text);
        }
        if d.nsg_covered == Some(false) {
            let text = format!("the NSG denies dependency {}: {}", d.id, d.nsg_uncovered.join("; "));
            p.findings.push(Finding {
                rule: &NSG_BLOCKS_FIREWALL,
                artifact: "firewall",
                location: in_file(&src.file),
                message: text.clone(),
            });
            failures.push(text);
        }
        let failure = (!failures.is_empty()).then(|| failures.join("\n"));
        p.checks.push(check("firewall", format!("dependency {}", d.id), failure));
    }
    for o in &report.openings {
        p.findings.push(Finding {
            rule: &FIREWALL_OPENING,
            artifact: "firewall",
            location: at_rule(src, &o.rule),
            message: format!(
                "rule {} of collection {} allows traffic no dependency asks for: {}",
                o.rule,
                o.collection,
                flows(&o.flows, o.flows_more)
            ),
        });
    }
    for n in &report.notes {
        p.findings.push(Finding {
            rule: &INCOMPLETE,
            artifact: "firewall",
            location: in_file(&src.file),
            message: n.clone(),
        });
    }
    let openings: Vec<String> = report.openings.iter().map(|o| o.rule.clone()).collect();
    p.checks.push(check(
        "firewall",
        "nothing open beyond the dependencies",
        (!openings.is_empty()).then(|| format!("rules open more than the dependencies: {}", openings.join(", "))),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_found_by_its_name_field_not_by_other_mentions() {
        let text = "{\n  \"description\": \"see \\\"allow-a\\\"\",\n  \"rules\": [\n    { \"other\": \"allow-a\" },\n    {\n      \"name\" :  \"allow-a\"\n    }\n  ]\n}";
        assert_eq!(position_of_name(text, "allow-a"), Some((6, 17)));
        assert_eq!(position_of_name(text, "missing"), None);
    }

    #[test]
    fn codes_are_unique_and_sorted() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }
}
