//! `isenet tags diff OLD NEW --env A --env B | --env-dir DIR`: the two tag files read and diffed
//! once, each environment's impact, a summary table and one exit code (2 bad input beats 1 an
//! artifact changed, or with `--fail-on effective` an address behind a tag, beats 0).

use super::fleet;
use super::tags::{self, DiffArgs};
use crate::args::{Cli, ErrorFormat};
use crate::{output, Exit};
use ise_model::diag::Diagnostic;
use rules_compiler::diff::tags::Impact;
use serde_json::json;
use std::path::PathBuf;

type Outcome = fleet::Outcome<Impact>;

impl Outcome {
    fn exit(&self, a: &DiffArgs) -> Exit {
        match &self.result {
            Ok(i) if tags::fails(i, a.fail_on) => Exit::Findings,
            Ok(_) => Exit::Ok,
            Err(_) => Exit::BadInput,
        }
    }

    /// `changed` (an artifact), `effective` (only addresses behind tags), `unchanged`, `invalid`.
    fn word(&self) -> &'static str {
        match &self.result {
            Ok(i) if i.artifacts_changed() => "changed",
            Ok(i) if i.effective_changed() => "effective",
            Ok(_) => "unchanged",
            Err(_) => "invalid",
        }
    }
}

pub fn diff(cli: &Cli, a: &DiffArgs, files: &[PathBuf]) -> Exit {
    let (old, new, d) = match tags::read_both(a) {
        Ok(x) => x,
        Err(diags) => return output::bad_input(output::error_format(cli.error_format, a.format == ErrorFormat::Json), &diags),
    };
    let outcomes = fleet::each(files, cli.deny_warnings, |m, env| {
        tags::impact_of(a, env, &m.file, (&old, &new), &d)
    });
    let exit = fleet::worst(outcomes.iter().map(|o| o.exit(a)));
    let diags: Vec<Diagnostic> = outcomes.iter().filter_map(|o| o.result.as_ref().err()).flatten().cloned().collect();
    // `--error-format json` puts diagnostics on stdout as JSON: with an environment refused, the
    // text report gives way to the JSON one, which holds every diagnostic and every result.
    let format = if cli.error_format == ErrorFormat::Json && !diags.is_empty() {
        ErrorFormat::Json
    } else {
        a.format
    };
    match format {
        ErrorFormat::Json => {
            let envs: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| {
                    let mut v = json!({ "environment": o.environment, "file": o.file, "result": o.word() });
                    match &o.result {
                        Ok(i) => v["impact"] = json!(i),
                        Err(diags) => v["diagnostics"] = json!(diags),
                    }
                    v
                })
                .collect();
            let doc = json!({
                "environments": envs,
                "affected": outcomes.iter().filter(|o| o.word() == "changed").count(),
                "summary": tags::summary_json(&d),
                "diff": a.all.then_some(&d),
            });
            let doc = output::with_diagnostics(doc, &diags);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        ErrorFormat::Text => {
            if !diags.is_empty() {
                output::diagnostics(ErrorFormat::Text, &diags);
            }
            print!("{}", text(a, &outcomes, &d));
        }
    }
    exit
}

fn text(a: &DiffArgs, outcomes: &[Outcome], d: &rules_compiler::diff::tags::TagDiff) -> String {
    let mut out = String::new();
    for o in outcomes {
        let Ok(i) = &o.result else { continue };
        if output::quiet() {
            out += &tags::quiet_text(i, a.fail_on, &format!("{}: ", o.environment));
        } else {
            out += &tags::impact_text(i);
        }
    }
    if output::quiet() {
        return out;
    }
    out += &tags::diff_text(d, a.all);
    out += "\n";
    out += &fleet::summary_table(
        ["artifact changes", "effective changes"],
        outcomes.iter().map(|o| {
            let counts = o.result.as_ref().map_or([0, 0], |i| [i.artifacts.len(), i.effective.len()]);
            (o.environment.clone(), o.file.clone(), o.word(), counts)
        }),
    );
    let count = |w: &str| outcomes.iter().filter(|o| o.word() == w).count();
    out += &format!(
        "{} environment(s): {} with artifact changes, {} with effective changes only, {} unchanged, {} invalid\n",
        outcomes.len(),
        count("changed"),
        count("effective"),
        count("unchanged"),
        count("invalid")
    );
    out
}
