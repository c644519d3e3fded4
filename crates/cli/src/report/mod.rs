//! Verify results for CI systems: SARIF (code scanning), JUnit (test results), and the annotation
//! commands of GitHub Actions and Azure Pipelines. Every format is written from one list of
//! findings and checks (`Proofs`), which `adapter` makes from the proofs' reports.

pub mod adapter;
pub mod annotations;
pub mod junit;
pub mod sarif;

/// How bad a finding is; `Error` fails the proof (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A kind of finding: its stable code, a short name, what it means and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub help: &'static str,
}

/// Where a finding points: an input file, and the line and column of the offending rule when known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    /// `nsg`, `routes` or `firewall`.
    pub artifact: &'static str,
    pub location: Option<Location>,
    pub message: String,
}

/// One pass/fail check for JUnit: a requirement (or dependency) of an artifact, or an artifact-wide
/// check such as "nothing open beyond the requirements".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub artifact: &'static str,
    pub name: String,
    /// The failure text; `None` when the check passed.
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Proofs {
    pub findings: Vec<Finding>,
    pub checks: Vec<Check>,
}

impl Proofs {
    /// The kinds of finding that occur, in code order (SARIF's `rules`).
    pub fn rules(&self) -> Vec<&'static Rule> {
        let mut v: Vec<&'static Rule> = self.findings.iter().map(|f| f.rule).collect();
        v.sort_by_key(|r| r.code);
        v.dedup_by_key(|r| r.code);
        v
    }
}
