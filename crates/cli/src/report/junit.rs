//! JUnit XML for Azure Pipelines' PublishTestResults (and any JUnit reader): one test suite per
//! proved artifact (per environment in a fleet run), one test case per requirement or dependency
//! and per artifact-wide check, a failure carrying the finding text; an artifact the environment's
//! mode needs and the run was not given is a skipped case.

use super::{Check, CheckStatus, Proofs};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The artifacts in suite order; `environment` is the check of a fleet member that did not load.
const ARTIFACTS: [&str; 4] = ["environment", "nsg", "routes", "firewall"];

fn case(c: &Check, classname: String, name: &str) -> TestCase {
    let status = match &c.status {
        CheckStatus::Passed => TestCaseStatus::success(),
        CheckStatus::Failed(text) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(text.lines().next().unwrap_or_default())
                .set_description(text.as_str());
            s
        }
        CheckStatus::Skipped(why) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(why.as_str());
            s
        }
        CheckStatus::Warned(_) => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(name, status);
    // JUnit knows no warnings: a case that passed with some has them as its output.
    if let CheckStatus::Warned(text) = &c.status {
        case.set_system_out(text.as_str());
    }
    case.set_classname(classname);
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
        let mut suite = TestSuite::new(env);
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
