//! The one place that turns the library's verification (typed findings per proof) into the
//! located findings and pass/fail checks the CI formats write.

use super::{is_file, Check, CheckStatus, Finding, Location, Proofs, Subject};
use ise_model::jsonpos::Positions;
use rules_compiler::plan::Plan;
use rules_compiler::prove::findings::{self, ArtifactKind, FindingKind, Proof, Verification};
use rules_compiler::views::proof_report::finding_text;
use rules_compiler::views::summary::Names;
use std::collections::BTreeMap;

/// The environment file of a run, for findings no artifact file can locate (an uncovered
/// requirement; anything about an artifact compiled in memory or piped on stdin): its name and
/// the line and column of the key each requirement, dependency or route check comes from.
#[derive(Debug, Clone, Default)]
pub struct EnvFile {
    pub file: String,
    keys: BTreeMap<String, (usize, usize)>,
}

impl EnvFile {
    /// `file` as reports name it, `text` what it holds, `plan` what was made of it.
    pub fn new(file: String, text: &str, plan: &Plan) -> Self {
        let positions = Positions::of(text);
        let keys = rules_compiler::prove::provenance::environment_keys(plan, &destination_names(text))
            .into_iter()
            .filter_map(|(id, path)| positions.find(&path).map(|at| (id, at)))
            .collect();
        EnvFile { file, keys }
    }

    /// Where the first of `ids` that comes from a key of the file stands; else the whole file.
    fn at(&self, ids: &[String]) -> Location {
        let at = ids.iter().find_map(|id| self.keys.get(id));
        Location {
            file: self.file.clone(),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
        }
    }
}

/// The names of the file's outbound destinations, in its order (the plan holds them sorted).
fn destination_names(text: &str) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap_or_default();
    doc["outboundDestinations"]
        .as_array()
        .map(|list| list.iter().map(|d| d["name"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

/// Where a finding points: the offending rule in the file proved; else, for an uncovered
/// requirement or an artifact that is no file, the environment key the finding's requirements
/// come from (or the environment file) when that is a file; else the file proved (code scanning
/// refuses a SARIF result without a location). `None` when neither is a file (both piped in, or
/// the embedded example with an artifact on stdin).
fn locate(proof: &Proof, f: &findings::Finding, env: Option<&EnvFile>) -> Option<Location> {
    let proved_file = is_file(&proof.file);
    if let Some(r) = f.rule.as_ref().filter(|r| r.line.is_some() && proved_file) {
        return Some(Location {
            file: proof.file.clone(),
            line: r.line,
            column: r.column,
        });
    }
    match env.filter(|e| is_file(&e.file)) {
        Some(env) if f.kind == FindingKind::UncoveredRequirement || !proved_file => Some(env.at(&f.requirements)),
        _ => proved_file.then(|| Location {
            file: proof.file.clone(),
            ..Location::default()
        }),
    }
}

/// A name as one segment of a logical path: `/` (firewall rule and collection names may hold one)
/// and `%` escaped, so two rules never share a path.
fn segment(name: &str) -> String {
    name.replace('%', "%25").replace('/', "%2F")
}

/// The rule a finding is about, else its first requirement (dependency, route check).
fn subject(artifact: ArtifactKind, f: &findings::Finding) -> Option<Subject> {
    if let Some(r) = &f.rule {
        let within = match (artifact, &r.collection) {
            (_, Some(collection)) => segment(collection),
            // Azure's own rules, as the NSG resource lists them.
            (ArtifactKind::Nsg, None) if r.is_default => "defaultSecurityRules".into(),
            (ArtifactKind::Nsg, None) => "securityRules".into(),
            (ArtifactKind::Routes, None) => "routes".into(),
            (ArtifactKind::Firewall, None) => "rules".into(),
        };
        return Some(Subject {
            name: r.name.clone(),
            path: format!("{}/{within}/{}", artifact.as_str(), segment(&r.name)),
        });
    }
    f.requirements.first().map(|id| Subject {
        name: id.clone(),
        path: format!("{}/requirements/{}", artifact.as_str(), segment(id)),
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

/// `env` is the environment file (`None` for the embedded example); `names` what the findings'
/// flows call by name (the VNet, Internet).
pub fn proofs(v: &Verification, env: Option<&EnvFile>, names: &Names) -> Proofs {
    let mut p = Proofs::default();
    for proof in &v.proofs {
        let artifact = proof.artifact.as_str();
        for f in &proof.findings {
            p.findings.push(Finding {
                rule: f.kind.info(),
                artifact,
                location: locate(proof, f, env),
                subject: subject(proof.artifact, f),
                message: finding_text(f, names),
            });
        }
        // A requirement's case fails for findings that it is not met; an opening fails the case of
        // what lies beyond the requirements even when its rule also serves some.
        let unmet = |f: &&findings::Finding| f.fails() && f.kind.unmet_requirement();
        for c in &proof.coverage {
            let reasons: Vec<String> = proof
                .findings
                .iter()
                .filter(unmet)
                .filter(|f| f.requirements.contains(&c.id))
                .map(|f| finding_text(f, names))
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
        // Every other failing finding: openings, unknown tags, limits.
        let other: Vec<String> = proof
            .findings
            .iter()
            .filter(|f| f.fails() && !(unmet(f) && proof.coverage.iter().any(|c| f.requirements.contains(&c.id))))
            .map(|f| finding_text(f, names))
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

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn names_with_a_slash_keep_logical_paths_apart() {
        // Rule `ssh/extra` in collection `deps`, and rule `extra` in collection `deps/ssh`.
        let a = format!("firewall/{}/{}", segment("deps"), segment("ssh/extra"));
        let b = format!("firewall/{}/{}", segment("deps/ssh"), segment("extra"));
        assert_eq!(a, "firewall/deps/ssh%2Fextra");
        assert_eq!(b, "firewall/deps%2Fssh/extra");
        assert_eq!(segment("100%/x"), "100%25%2Fx");
    }
}
