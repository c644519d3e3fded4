//! Findings as the log commands CI runners turn into pull-request annotations: GitHub Actions'
//! `::error file=..,line=..::message` and Azure Pipelines' `##vso[task.logissue ...]message`.

use super::{Location, Proofs, Severity};
use std::path::Path;

/// GitHub: `%`, CR and LF are escaped in the message; in properties `:` and `,` too.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command: `::error file=..,line=..,col=..,title=..::message`.
fn gh_command(command: &str, location: Option<&Location>, title: &str, message: &str, cwd: &Path) -> String {
    let mut props = Vec::new();
    if let Some((l, file)) = location.and_then(|l| Some((l, super::relative_path(&l.file, cwd)?))) {
        // As SARIF places them (`sarif::location`): a finding about a whole file at 1:1.
        props.push(format!("file={}", gh_property(&file.to_string_lossy())));
        props.push(format!("line={}", l.line.unwrap_or(1)));
        props.push(format!("col={}", l.column.unwrap_or(1)));
    }
    props.push(format!("title={}", gh_property(title)));
    format!("::{command} {}::{}\n", props.join(","), gh_data(message))
}

pub fn github(p: &Proofs, cwd: &Path) -> String {
    let mut out = String::new();
    for f in &p.findings {
        let command = match f.rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        out += &gh_command(
            command,
            f.location.as_ref(),
            &format!("{} {}", f.rule.code, f.rule.name),
            &f.message,
            cwd,
        );
    }
    for d in p.refused.iter().chain(&p.warnings) {
        let command = if d.is_error() { "error" } else { "warning" };
        out += &gh_command(command, Some(&Location::of(d)), d.code, &d.message, cwd);
    }
    for message in p.not_verified() {
        out += &gh_command("notice", None, "not verified", &message, cwd);
    }
    out
}

/// Azure Pipelines: `;`, `]`, CR, LF and `%` are escaped (`%AZP25` for `%`).
fn ado(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace(';', "%3B")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(']', "%5D")
}

/// One `##vso[task.logissue ...]` command; Azure Pipelines knows only errors and warnings.
fn ado_command(error: bool, location: Option<&Location>, code: &str, message: &str, cwd: &Path) -> String {
    let mut props = vec![format!("type={}", if error { "error" } else { "warning" })];
    if let Some((l, file)) = location.and_then(|l| Some((l, super::relative_path(&l.file, cwd)?))) {
        props.push(format!("sourcepath={}", ado(&file.to_string_lossy())));
        props.push(format!("linenumber={}", l.line.unwrap_or(1)));
        props.push(format!("columnnumber={}", l.column.unwrap_or(1)));
    }
    props.push(format!("code={code}"));
    format!("##vso[task.logissue {}]{}\n", props.join(";"), ado(message))
}

pub fn azure_devops(p: &Proofs, cwd: &Path) -> String {
    let mut out = String::new();
    for f in &p.findings {
        let error = f.rule.severity == Severity::Error;
        out += &ado_command(
            error,
            f.location.as_ref(),
            f.rule.code,
            &format!("{} {}", f.rule.name, f.message),
            cwd,
        );
    }
    for d in p.refused.iter().chain(&p.warnings) {
        out += &ado_command(d.is_error(), Some(&Location::of(d)), d.code, &d.message, cwd);
    }
    for message in p.not_verified() {
        out += &ado_command(false, None, "not-verified", &message, cwd);
    }
    // The task's last word says what the exit code does: bad input (2) before findings (1).
    if p.refused.iter().any(|d| d.is_error()) {
        out += "##vso[task.complete result=Failed;]isenet verify: bad input\n";
    } else if p.findings.iter().any(|f| f.rule.severity == Severity::Error) {
        out += "##vso[task.complete result=Failed;]isenet verify: findings\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Finding, Location};
    use super::*;
    use rules_compiler::prove::findings::FindingKind;

    fn proofs() -> Proofs {
        Proofs {
            findings: vec![
                Finding {
                    rule: FindingKind::Opening.info(),
                    artifact: "nsg",
                    location: Some(Location {
                        file: "net/a,b:c.json".into(),
                        line: Some(12),
                        column: Some(17),
                    }),
                    subject: None,
                    message: "rule x allows 100%;\nmore] here".into(),
                },
                Finding {
                    rule: FindingKind::RedundantRule.info(),
                    artifact: "nsg",
                    location: None,
                    subject: None,
                    message: "rule y".into(),
                },
            ],
            checks: vec![super::super::Check {
                environment: None,
                artifact: "firewall",
                name: "firewall proved".into(),
                status: super::super::CheckStatus::Skipped("not given".into()),
            }],
            refused: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn github_commands_escape_data_and_properties() {
        assert_eq!(
            github(&proofs(), Path::new("/repo")),
            "::error file=net/a%2Cb%3Ac.json,line=12,col=17,title=F0102 opening::rule x allows 100%25;%0Amore] here\n\
             ::notice title=F0104 redundant-rule::rule y\n\
             ::notice title=not verified::firewall: not given\n"
        );
    }

    #[test]
    fn azure_devops_commands_escape_and_fail_the_task_on_errors() {
        assert_eq!(
            azure_devops(&proofs(), Path::new("/repo")),
            "##vso[task.logissue type=error;sourcepath=net/a,b:c.json;linenumber=12;columnnumber=17;code=F0102]opening rule x allows 100%AZP25%3B%0Amore%5D here\n\
             ##vso[task.logissue type=warning;code=F0104]redundant-rule rule y\n\
             ##vso[task.logissue type=warning;code=not-verified]firewall: not given\n\
             ##vso[task.complete result=Failed;]isenet verify: findings\n"
        );
    }

    /// A finding about a whole file (no rule to point at) is placed at 1:1, where SARIF's region
    /// puts it, in both annotation formats.
    #[test]
    fn a_finding_about_a_whole_file_is_at_its_first_line_as_in_sarif() {
        let mut p = proofs();
        p.findings[0].location = Some(Location {
            file: "env.json".into(),
            line: None,
            column: None,
        });
        assert!(
            github(&p, Path::new("/repo")).starts_with("::error file=env.json,line=1,col=1,title=F0102 opening::"),
            "{}",
            github(&p, Path::new("/repo"))
        );
        let ado = azure_devops(&p, Path::new("/repo"));
        assert!(
            ado.starts_with("##vso[task.logissue type=error;sourcepath=env.json;linenumber=1;columnnumber=1;code=F0102]"),
            "{ado}"
        );
    }

    /// Both formats give a file as SARIF does: from the working directory (a pipeline's
    /// repository root, all GitHub matches a pull request's files against), `.` and `..`
    /// resolved; a file elsewhere by its absolute path; stdin and command-line options nowhere.
    #[test]
    fn annotation_paths_are_relative_to_the_working_directory() {
        let at = |file: &str| {
            let mut p = proofs();
            p.findings[0].location = Some(Location {
                file: file.into(),
                line: Some(3),
                column: Some(5),
            });
            let gh = github(&p, Path::new("/repo"));
            let ado = azure_devops(&p, Path::new("/repo"));
            let gh_file = gh
                .lines()
                .next()
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .strip_prefix("::error file=")
                .map(str::to_string);
            let ado_file = ado
                .lines()
                .next()
                .unwrap()
                .split(';')
                .nth(1)
                .unwrap()
                .strip_prefix("sourcepath=")
                .map(str::to_string);
            assert_eq!(gh_file, ado_file, "{gh}{ado}");
            gh_file
        };
        assert_eq!(at("./net/nsg.json").as_deref(), Some("net/nsg.json"));
        assert_eq!(at("/repo/net/nsg.json").as_deref(), Some("net/nsg.json"));
        assert_eq!(at("net/old/../nsg.json").as_deref(), Some("net/nsg.json"));
        assert_eq!(at("../other/nsg.json").as_deref(), Some("/other/nsg.json"));
        assert_eq!(at("/elsewhere/nsg.json").as_deref(), Some("/elsewhere/nsg.json"));
        for not_a_file in ["<stdin>", "-", "--table-version"] {
            assert_eq!(at(not_a_file), None, "{not_a_file}");
        }
    }

    /// An input that did not load (exit 2) is what the task fails for, findings or not.
    #[test]
    fn azure_devops_says_bad_input_when_an_input_was_refused() {
        let mut p = proofs();
        p.refused
            .push(ise_model::diag::Diagnostic::error("E1203", "nsg.json", "`Any` is no address"));
        let out = azure_devops(&p, Path::new("/repo"));
        assert!(
            out.ends_with("##vso[task.complete result=Failed;]isenet verify: bad input\n"),
            "{out}"
        );
        assert_eq!(out.matches("task.complete").count(), 1, "{out}");
    }
}
