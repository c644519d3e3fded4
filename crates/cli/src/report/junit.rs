//! JUnit XML for Azure Pipelines' PublishTestResults (and any JUnit reader): one test suite per
//! proved artifact (per environment in a fleet run), one test case per requirement or dependency
//! and per artifact-wide check, a failure carrying the finding text; an artifact the environment's
//! mode needs and the run was not given is a skipped case.

use super::{Check, CheckStatus, Proofs};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The artifacts in suite order; `environment` is the check of a fleet member that did not load.
const ARTIFACTS: [&str; 4] = ["environment", "nsg", "routes", "firewall"];

/// `s` with every character XML 1.0 does not allow (control characters but tab, LF and CR;
/// U+FFFE, U+FFFF) replaced by U+FFFD: names come from the user's files (an Azure Firewall rule
/// name is any text), and neither escaping nor a character reference makes those valid XML.
fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

fn case(c: &Check, classname: String, name: &str) -> TestCase {
    let status = match &c.status {
        CheckStatus::Passed => TestCaseStatus::success(),
        CheckStatus::Failed(text) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(xml_text(text.lines().next().unwrap_or_default()))
                .set_description(xml_text(text));
            s
        }
        CheckStatus::Skipped(why) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(xml_text(why));
            s
        }
        CheckStatus::Warned(_) => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(xml_text(name), status);
    // JUnit knows no warnings: a case that passed with some has them as its output.
    if let CheckStatus::Warned(text) = &c.status {
        case.set_system_out(xml_text(text));
    }
    case.set_classname(xml_text(&classname));
    case
}

pub fn render(p: &Proofs) -> String {
    let mut report = Report::new("isenet verify");
    let mut environments: Vec<&str> = p.checks.iter().filter_map(|c| c.environment.as_deref()).collect();
    environments.dedup();
    if environments.is_empty() {
        for artifact in ARTIFACTS {
            let checks: Vec<_> = p.checks.iter().filter(|c| c.artifact == artifact).collect();
            if checks.is_empty() {
                continue;
            }
            let mut suite = TestSuite::new(artifact);
            for c in checks {
                suite.add_test_case(case(c, format!("isenet.{artifact}"), &c.name));
            }
            report.add_test_suite(suite);
        }
    }
    // A fleet: one suite per environment, its cases named by artifact.
    for env in environments {
        let mut suite = TestSuite::new(xml_text(env));
        for artifact in ARTIFACTS {
            for c in p
                .checks
                .iter()
                .filter(|c| c.environment.as_deref() == Some(env) && c.artifact == artifact)
            {
                suite.add_test_case(case(c, format!("isenet.{env}.{artifact}"), &format!("{artifact}: {}", c.name)));
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters XML 1.0 allows (its `Char` production).
    fn xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }

    /// A firewall rule may be named any text: what XML cannot hold becomes U+FFFD, everywhere a
    /// name or message goes (case name, class, message, description, output, suite), and the rest
    /// is escaped by the writer.
    #[test]
    fn names_xml_cannot_hold_are_replaced_and_the_rest_escaped() {
        let odd = "ssh\u{FFFE}\u{1}\u{FFFF}<&>\u{1F600}";
        let check = |environment: Option<&str>, status: CheckStatus| Check {
            environment: environment.map(str::to_string),
            artifact: "firewall",
            name: odd.to_string(),
            status,
        };
        for environment in [None, Some(odd)] {
            let p = Proofs {
                findings: Vec::new(),
                checks: vec![
                    check(environment, CheckStatus::Failed(format!("rule {odd} opens\nmore {odd}"))),
                    check(environment, CheckStatus::Skipped(odd.to_string())),
                    check(environment, CheckStatus::Warned(odd.to_string())),
                ],
                refused: Vec::new(),
                warnings: Vec::new(),
            };
            let xml = render(&p);
            assert!(xml.chars().all(xml_char), "{xml}");
            assert!(xml.contains("ssh\u{FFFD}\u{FFFD}\u{FFFD}&lt;&amp;&gt;\u{1F600}"), "{xml}");
            assert!(!xml.contains("&#"), "no character references stand in for them: {xml}");
        }
    }
}
