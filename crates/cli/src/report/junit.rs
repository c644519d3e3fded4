//! JUnit XML for Azure Pipelines' PublishTestResults (and any JUnit reader): one test suite per
//! proved artifact, one test case per requirement or dependency and per artifact-wide check, a
//! failure carrying the finding text.

use super::Proofs;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub fn render(p: &Proofs) -> String {
    let mut report = Report::new("isenet verify");
    for artifact in ["nsg", "routes", "firewall"] {
        let checks: Vec<_> = p.checks.iter().filter(|c| c.artifact == artifact).collect();
        if checks.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(artifact);
        for c in checks {
            let status = match &c.failure {
                None => TestCaseStatus::success(),
                Some(text) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(text.lines().next().unwrap_or_default())
                        .set_description(text.as_str());
                    s
                }
            };
            let mut case = TestCase::new(c.name.as_str(), status);
            case.set_classname(format!("isenet.{artifact}"));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serialises")
}
