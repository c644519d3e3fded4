//! `isenet validate ENV... | --env-dir DIR`: every environment checked as `validate` checks one
//! (with the service-tag file parsed once), a summary table, and one exit code (2 when any is
//! invalid).

use super::fleet::{self, Member};
use crate::args::{Cli, ErrorFormat};
use crate::{input, output, Exit};
use ise_model::diag::Diagnostic;
use std::path::{Path, PathBuf};

/// One environment's outcome.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    environment: String,
    file: String,
    /// `valid` or `invalid`.
    result: &'static str,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<Diagnostic>,
}

/// Under `deny_warnings` a warning refuses its environment, as it refuses a single one.
fn check(m: Member, tag_file: Option<(&ise_model::servicetags::ServiceTags, &Path)>, deny_warnings: bool) -> Outcome {
    let (environment, file) = (m.name(), m.file_name());
    let diagnostics = match m.loaded {
        Ok((env, warnings)) => {
            let stage = super::compile_check_with(&env, Some(&m.file), tag_file, None);
            warnings.into_iter().chain(stage).collect()
        }
        Err(d) => d,
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    Outcome {
        environment,
        file,
        result: if errors == 0 && (!deny_warnings || diagnostics.is_empty()) {
            "valid"
        } else {
            "invalid"
        },
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics,
    }
}

pub fn run(cli: &Cli, files: &[PathBuf], format: ErrorFormat, service_tags: Option<&Path>) -> Exit {
    let tag_file = match service_tags.map(super::tags::read_tag_file).transpose() {
        Ok(t) => t,
        Err(d) => return output::bad_input(format, &[d]),
    };
    let tag_file = tag_file.as_ref().zip(service_tags);
    let outcomes: Vec<Outcome> = fleet::load_each(files, cli.deny_warnings)
        .into_iter()
        .map(|m| check(m, tag_file, cli.deny_warnings))
        .collect();
    let refused = |o: &Outcome| o.result == "invalid";
    let exit = fleet::worst(outcomes.iter().map(|o| if refused(o) { Exit::BadInput } else { Exit::Ok }));
    let all: Vec<Diagnostic> = outcomes.iter().flat_map(|o| o.diagnostics.iter().cloned()).collect();
    match format {
        ErrorFormat::Json => {
            let doc = serde_json::json!({
                "environments": outcomes,
                "valid": outcomes.iter().filter(|o| !refused(o)).count(),
                "invalid": outcomes.iter().filter(|o| refused(o)).count(),
            });
            let doc = output::with_diagnostics(doc, &all);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        ErrorFormat::Text => {
            output::diagnostics(ErrorFormat::Text, &all);
            if !output::quiet() {
                print!(
                    "{}",
                    fleet::summary_table(
                        ["errors", "warnings"],
                        outcomes
                            .iter()
                            .map(|o| (o.environment.clone(), o.file.clone(), o.result, [o.errors, o.warnings])),
                    )
                );
                let invalid = outcomes.iter().filter(|o| refused(o)).count();
                let tags = service_tags.map_or_else(String::new, |p| format!(" (service tags {})", input::display_name(p)));
                println!(
                    "{} environment(s): {} valid, {invalid} invalid{tags}",
                    outcomes.len(),
                    outcomes.len() - invalid
                );
            }
        }
    }
    exit
}
