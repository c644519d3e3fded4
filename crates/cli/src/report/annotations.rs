//! Findings as the log commands CI runners turn into pull-request annotations: GitHub Actions'
//! `::error file=..,line=..::message` and Azure Pipelines' `##vso[task.logissue ...]message`.

use super::{Proofs, Severity};

/// GitHub: `%`, CR and LF are escaped in the message; in properties `:` and `,` too.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(p: &Proofs) -> String {
    let mut out = String::new();
    for f in &p.findings {
        let command = match f.rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = f.location.as_ref().filter(|l| !l.file.starts_with('<')) {
            props.push(format!("file={}", gh_property(&l.file)));
            if let Some(line) = l.line {
                props.push(format!("line={line}"));
            }
            if let Some(col) = l.column {
                props.push(format!("col={col}"));
            }
        }
        props.push(format!("title={}", gh_property(&format!("{} {}", f.rule.code, f.rule.name))));
        out += &format!("::{command} {}::{}\n", props.join(","), gh_data(&f.message));
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

pub fn azure_devops(p: &Proofs) -> String {
    let mut out = String::new();
    for f in &p.findings {
        // Azure Pipelines knows only errors and warnings.
        let kind = if f.rule.severity == Severity::Error { "error" } else { "warning" };
        let mut props = vec![format!("type={kind}")];
        if let Some(l) = f.location.as_ref().filter(|l| !l.file.starts_with('<')) {
            props.push(format!("sourcepath={}", ado(&l.file)));
            if let Some(line) = l.line {
                props.push(format!("linenumber={line}"));
            }
            if let Some(col) = l.column {
                props.push(format!("columnnumber={col}"));
            }
        }
        props.push(format!("code={}", f.rule.code));
        out += &format!(
            "##vso[task.logissue {}]{}\n",
            props.join(";"),
            ado(&format!("{} {}", f.rule.name, f.message))
        );
    }
    let failed = p.findings.iter().any(|f| f.rule.severity == Severity::Error);
    if failed {
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
                    message: "rule x allows 100%;\nmore] here".into(),
                },
                Finding {
                    rule: FindingKind::RedundantRule.info(),
                    artifact: "nsg",
                    location: None,
                    message: "rule y".into(),
                },
            ],
            checks: Vec::new(),
        }
    }

    #[test]
    fn github_commands_escape_data_and_properties() {
        assert_eq!(
            github(&proofs()),
            "::error file=net/a%2Cb%3Ac.json,line=12,col=17,title=F0102 opening::rule x allows 100%25;%0Amore] here\n\
             ::notice title=F0104 redundant-rule::rule y\n"
        );
    }

    #[test]
    fn azure_devops_commands_escape_and_fail_the_task_on_errors() {
        assert_eq!(
            azure_devops(&proofs()),
            "##vso[task.logissue type=error;sourcepath=net/a,b:c.json;linenumber=12;columnnumber=17;code=F0102]opening rule x allows 100%AZP25%3B%0Amore%5D here\n\
             ##vso[task.logissue type=warning;code=F0104]redundant-rule rule y\n\
             ##vso[task.complete result=Failed;]isenet verify: findings\n"
        );
    }
}
