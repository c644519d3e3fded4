//! Verify results for CI systems: SARIF (code scanning), JUnit (test results), and the annotation
//! commands of GitHub Actions and Azure Pipelines. Every format is written from one list of
//! findings and checks (`Proofs`), which `adapter` makes from the typed findings of the proofs.

pub mod adapter;
pub mod annotations;
pub mod junit;
pub mod sarif;

pub use rules_compiler::prove::findings::{FindingCode, Severity};

/// The document of a CI format (SARIF, JUnit, annotations) for `proofs`; `None` for the formats
/// written from the verification itself (text, JSON). Notes (rules that decide nothing, kept to
/// document a requirement: isenet's own NSG has them on every run) are left out unless `verbose`:
/// Azure Pipelines would show each as a warning of a passing build, GitHub code scanning would keep
/// each as an alert; JUnit has no place for them anyway.
pub fn document(format: crate::args::VerifyFormat, proofs: &Proofs, verbose: bool) -> Option<String> {
    use crate::args::VerifyFormat;
    let informed;
    let proofs = match verbose {
        true => proofs,
        false => {
            informed = proofs.without_notes();
            &informed
        }
    };
    match format {
        VerifyFormat::Sarif => Some(sarif::render(proofs, &std::env::current_dir().unwrap_or_default())),
        VerifyFormat::Junit => Some(junit::render(proofs)),
        VerifyFormat::Github => Some(annotations::github(proofs, &std::env::current_dir().unwrap_or_default())),
        VerifyFormat::AzureDevops => Some(annotations::azure_devops(proofs, &std::env::current_dir().unwrap_or_default())),
        VerifyFormat::Text | VerifyFormat::Json => None,
    }
}

/// The CI document (SARIF, JUnit, annotations) of a run refused for bad input, so that the upload
/// step meets the diagnostics rather than an empty file; `None` for text and JSON.
pub fn refused_document(format: crate::args::VerifyFormat, diags: &[ise_model::diag::Diagnostic], deny_warnings: bool) -> Option<String> {
    document(format, &Proofs::refused(diags, deny_warnings), false)
}

/// Whether a name reports give an input is a file's (not `<stdin>`, `<compiled NAME>/nsg.json`,
/// `<embedded example>`, nor empty for the compiled artifact, nor a command-line option such as
/// `--table-version`, which names what was wrong with no file to point into).
pub fn is_file(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('<') && !name.starts_with('-')
}

/// A file's path as CI reports give it: relative to `cwd` (the repository's root in a pipeline)
/// when under it, absolute otherwise, with `.` and `..` resolved as written (`./net/../nsg.json`
/// is `nsg.json`): GitHub attaches an annotation to a pull request's file only by its path from
/// the root. `None` for inputs that are not files ([`is_file`]).
pub fn relative_path(file: &str, cwd: &std::path::Path) -> Option<std::path::PathBuf> {
    use std::path::{Component, PathBuf};
    if !is_file(file) {
        return None;
    }
    let path = std::path::Path::new(file);
    let joined = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    let mut normal = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push(c);
                }
            }
            other => normal.push(other),
        }
    }
    Some(match normal.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => normal,
    })
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
    pub rule: &'static FindingCode,
    /// `nsg`, `routes` or `firewall`.
    pub artifact: &'static str,
    pub location: Option<Location>,
    /// What the finding is about, by name: located even when no file holds it (an artifact piped
    /// in with the embedded example).
    pub subject: Option<Subject>,
    pub message: String,
}

/// The rule (or requirement) a finding is about, as SARIF's logical locations name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    /// `nsg/securityRules/allow-rdp`, `routes/routes/to-internet`,
    /// `firewall/<collection>/<rule>`, `nsg/requirements/in-designer-454`; a fleet's start with
    /// the environment's name.
    pub path: String,
}

/// One pass/fail check for JUnit: a requirement (or dependency) of an artifact, or an artifact-wide
/// check such as "nothing open beyond the requirements".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The environment of a fleet run (JUnit writes a test suite per environment); `None` for one.
    pub environment: Option<String>,
    pub artifact: &'static str,
    pub name: String,
    pub status: CheckStatus,
}

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckStatus {
    Passed,
    /// With the failure text.
    Failed(String),
    /// Not run, and why: an artifact the environment needs that was not given.
    Skipped(String),
    /// Passed with warnings (the environment's, which fail only under `--deny-warnings`).
    Warned(String),
}

impl CheckStatus {
    /// Failed with `text` when there is one, else passed.
    pub fn failed_if(text: Option<String>) -> Self {
        text.map_or(CheckStatus::Passed, CheckStatus::Failed)
    }
}

/// The check of an environment (and in a fleet its artifacts) loading.
const LOADS: &str = "environment and artifacts load";

#[derive(Debug, Clone, Default)]
pub struct Proofs {
    pub findings: Vec<Finding>,
    pub checks: Vec<Check>,
    /// The diagnostics of a fleet's environments that could not be proved (their file or
    /// artifacts do not load): SARIF's tool execution notifications, annotations.
    pub refused: Vec<ise_model::diag::Diagnostic>,
    /// The warnings of the environments proved (validate's W-codes): SARIF results, annotations.
    pub warnings: Vec<ise_model::diag::Diagnostic>,
}

impl Location {
    /// Where a diagnostic points.
    pub fn of(d: &ise_model::diag::Diagnostic) -> Location {
        Location {
            file: d.file.clone(),
            line: d.line,
            column: d.column,
        }
    }
}

impl Proofs {
    /// The proofs of a fleet's environments as one report: each finding's and diagnostic's message
    /// starts with its environment's name (SARIF results, annotations), each check carries it
    /// (JUnit suites).
    pub fn fleet(members: Vec<(String, Proofs)>) -> Proofs {
        let mut all = Proofs::default();
        for (name, p) in members {
            all.findings.extend(p.findings.into_iter().map(|f| Finding {
                message: format!("{name}: {}", f.message),
                subject: f.subject.map(|s| Subject {
                    path: format!("{name}/{}", s.path),
                    ..s
                }),
                ..f
            }));
            all.checks.extend(p.checks.into_iter().map(|c| Check {
                environment: Some(name.clone()),
                ..c
            }));
            let named = |d: ise_model::diag::Diagnostic| ise_model::diag::Diagnostic {
                message: format!("{name}: {}", d.message),
                ..d
            };
            all.refused.extend(p.refused.into_iter().map(named));
            all.warnings.extend(p.warnings.into_iter().map(named));
        }
        all
    }

    /// The checks not run (an artifact the environment's mode needs was not given), as messages
    /// naming the artifact (and in a fleet the environment) for the annotation formats and SARIF.
    pub fn not_verified(&self) -> impl Iterator<Item = String> + '_ {
        self.checks.iter().filter_map(|c| match &c.status {
            CheckStatus::Skipped(why) => Some(match &c.environment {
                Some(env) => format!("{env}: {}: {why}", c.artifact),
                None => format!("{}: {why}", c.artifact),
            }),
            _ => None,
        })
    }

    /// The environment's warnings as the report of a run that proved it: each also a passed
    /// "environment and artifacts load" check that holds them (JUnit).
    pub fn with_warnings(mut self, warnings: &[ise_model::diag::Diagnostic]) -> Self {
        if !warnings.is_empty() {
            self.checks.insert(
                0,
                Check {
                    environment: None,
                    artifact: "environment",
                    name: LOADS.to_string(),
                    status: CheckStatus::Warned(warnings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
                },
            );
        }
        self.warnings.extend(warnings.iter().cloned());
        self
    }

    /// The report of an environment whose inputs were refused: its diagnostics, as a failed
    /// "environment and artifacts load" check, so that a machine format still gets its document.
    /// Under `--deny-warnings` its warnings are what refused it: errors here.
    pub fn refused(diags: &[ise_model::diag::Diagnostic], deny_warnings: bool) -> Proofs {
        let refused: Vec<ise_model::diag::Diagnostic> = diags.iter().cloned().map(|d| if deny_warnings { d.denied() } else { d }).collect();
        Proofs {
            findings: Vec::new(),
            checks: vec![Check {
                environment: None,
                artifact: "environment",
                name: LOADS.to_string(),
                status: CheckStatus::Failed(diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
            }],
            refused,
            warnings: Vec::new(),
        }
    }

    /// The report without the findings that only inform (notes).
    fn without_notes(&self) -> Proofs {
        Proofs {
            findings: self
                .findings
                .iter()
                .filter(|f| f.rule.severity != Severity::Note)
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// The kinds of finding that occur, in code order (SARIF's `rules`).
    pub fn rules(&self) -> Vec<&'static FindingCode> {
        let mut v: Vec<&'static FindingCode> = self.findings.iter().map(|f| f.rule).collect();
        v.sort_by_key(|r| r.code);
        v.dedup_by_key(|r| r.code);
        v
    }
}
