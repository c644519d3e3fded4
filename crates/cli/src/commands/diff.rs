//! `isenet diff --deployed`: read the environment and the deployed files, ask the drift library,
//! print the report. Every problem of every input is reported together (exit 2).

use crate::args::{Cli, DiffFormat};
use crate::{input, output, Exit};
use ise_model::diag::Diagnostic;
use rules_compiler::diff::{deployed, drift, drift_view};
use rules_compiler::views::printable::printable;
use std::path::{Path, PathBuf};

pub struct Inputs<'a> {
    pub deployed: &'a [PathBuf],
    pub env: Option<&'a Path>,
    pub service_tags: Option<&'a Path>,
    /// Port-table version (`None`: the latest).
    pub table_version: Option<&'a str>,
    /// Compare with the plan `compile --expand-tags` writes.
    pub expand_tags: bool,
}

pub fn run(cli: &Cli, inputs: &Inputs, format: DiffFormat) -> Exit {
    let (env, service_tags) = (inputs.env, inputs.service_tags);
    let errors = output::error_format(cli.error_format, format == DiffFormat::Json);
    let fail = |diags: &[Diagnostic]| output::bad_input(errors, diags);
    let mut diags = Vec::new();
    let texts: Vec<(String, String)> = inputs
        .deployed
        .iter()
        .filter_map(|p| match input::read_text(p) {
            Ok(text) => Some((input::display_name(p), text)),
            Err(d) => {
                diags.push(d);
                None
            }
        })
        .collect();
    let loaded = input::environment(env, cli.deny_warnings).and_then(|(environment, _warnings)| {
        let tags = input::service_tags(service_tags, environment.cloud).map_err(|d| vec![d])?;
        let plan = input::plan(&environment, &tags, inputs.table_version, env, service_tags)?;
        let plan = match inputs.expand_tags {
            true => rules_compiler::plan::expand::expand(&plan, &tags).map_err(|d| input::name_stage_diagnostics(d, env, service_tags))?,
            false => plan,
        };
        Ok((tags, plan))
    });
    // The deployed files are read even when the environment is not, so every problem is reported;
    // of a file holding several NSGs (an exported resource group), the environment's is read.
    let wanted = loaded.as_ref().map(|(_, plan)| plan.deployed_names()).unwrap_or_default();
    let deployed = deployed::read_all(&texts, &wanted).map_err(|d| diags.extend(d)).ok();
    let (tags, plan) = match loaded {
        Ok(x) if diags.is_empty() => x,
        Ok(_) => return fail(&diags),
        Err(d) => {
            diags.extend(d);
            return fail(&diags);
        }
    };
    let deployed = deployed.unwrap_or_default();
    let report = match drift::drift(&drift::Inputs {
        plan: &plan,
        tags: &tags,
        deployed: &deployed.artifacts,
        templates: &deployed.templates,
    }) {
        Ok(r) => r,
        Err(d) => return fail(&d),
    };
    match format {
        DiffFormat::Text if output::quiet() => print!("{}", printable(&drift_view::render_text_quiet(&report))),
        DiffFormat::Text => print!("{}", printable(&drift_view::render_text(&report))),
        DiffFormat::Json => print!("{}", drift_view::render_json(&report)),
        DiffFormat::Ticket => print!("{}", printable(&drift_view::render_ticket(&report))),
    }
    if report.in_sync {
        Exit::Ok
    } else {
        Exit::Findings
    }
}
