//! The one place that turns the library's verification (typed findings per proof) into the
//! located findings and pass/fail checks the CI formats write.

use super::{Check, CheckStatus, Finding, Location, Proofs};
use rules_compiler::prove::findings::{ArtifactKind, FindingKind, Proof, Verification};

/// Where a finding without a rule points: an uncovered requirement at the environment file (where
/// the requirement comes from), anything else at the file proved. `None` when neither is a file.
fn fallback(proof: &Proof, kind: FindingKind, env: Option<&str>) -> Option<Location> {
    let file = match (kind, env) {
        (FindingKind::UncoveredRequirement, Some(env)) => env,
        _ if !proof.file.is_empty() => &proof.file,
        _ => env?,
    };
    Some(Location {
        file: file.to_string(),
        ..Location::default()
    })
}

/// What a check of one coverage entry is called in JUnit.
fn entry(artifact: ArtifactKind, id: &str) -> String {
    match artifact {
        ArtifactKind::Nsg => format!("requirement {id}"),
        ArtifactKind::Routes => format!("route check {id}"),
        ArtifactKind::Firewall => format!("dependency {id}"),
    }
}

/// `env` names the environment file (`None` for the embedded example).
pub fn proofs(v: &Verification, env: Option<&str>) -> Proofs {
    let mut p = Proofs::default();
    for proof in &v.proofs {
        let artifact = proof.artifact.as_str();
        for f in &proof.findings {
            let location = match &f.rule {
                Some(r) if r.line.is_some() && !proof.file.is_empty() => Some(Location {
                    file: proof.file.clone(),
                    line: r.line,
                    column: r.column,
                }),
                _ => fallback(proof, f.kind, env),
            };
            p.findings.push(Finding {
                rule: f.kind.info(),
                artifact,
                location,
                message: f.message.clone(),
            });
        }
        for c in &proof.coverage {
            let reasons: Vec<&str> = proof
                .findings
                .iter()
                .filter(|f| f.fails() && f.requirements.contains(&c.id))
                .map(|f| f.message.as_str())
                .collect();
            let failure = if !c.covered || !reasons.is_empty() {
                Some(if reasons.is_empty() {
                    "not covered".to_string()
                } else {
                    reasons.join("\n")
                })
            } else {
                None
            };
            p.checks.push(Check {
                environment: None,
                artifact,
                name: entry(proof.artifact, &c.id),
                status: CheckStatus::failed_if(failure),
            });
        }
        // Failing findings tied to no requirement: openings, unknown tags, limits.
        let other: Vec<&str> = proof
            .findings
            .iter()
            .filter(|f| f.fails() && !proof.coverage.iter().any(|c| f.requirements.contains(&c.id)))
            .map(|f| f.message.as_str())
            .collect();
        p.checks.push(Check {
            environment: None,
            artifact,
            name: "nothing open or unknown beyond the requirements".to_string(),
            status: CheckStatus::failed_if((!other.is_empty()).then(|| other.join("\n"))),
        });
    }
    // What the environment's mode needs and the run was not given: a skipped check, not a pass.
    for k in &v.unverified {
        p.checks.push(Check {
            environment: None,
            artifact: k.as_str(),
            name: format!("{} proved", k.as_str()),
            status: CheckStatus::Skipped("not given; this environment's mode needs it proved too".to_string()),
        });
    }
    p
}
