//! `isenet verify`: load the environment, the NSG (a file, or the compiled one), the routes and the
//! firewall rules, then ask the proof. `explain` loads its inputs the same way.

use crate::args::{Cli, VerifyFormat};
use crate::report::{self, adapter};
use crate::{input, output, Exit};
use ipnet::Ipv4Net;
use ise_model::diag::Diagnostic;
use ise_model::servicetags::ServiceTags;
use rules_compiler::plan::Plan;
use rules_compiler::prove::verify::{self as verification, Read};
use rules_compiler::read::routes::RouteFile;
use rules_compiler::read::{firewall as firewallfile, nsg as nsgfile, routes as routefile};
use rules_compiler::views::proof_report::{self, TextOptions};
use std::borrow::Cow;
use std::path::Path;

pub struct Inputs<'a> {
    pub env: Option<&'a Path>,
    pub routes: Option<&'a Path>,
    pub service_tags: Option<&'a Path>,
    /// Port-table version (`None`: the latest).
    pub table_version: Option<&'a str>,
}

pub(super) struct Loaded {
    pub tags: Cow<'static, ServiceTags>,
    pub plan: Plan,
    /// The route table given with --routes: path, text, routes.
    pub routes: Option<(String, String, RouteFile)>,
    pub udr: Vec<Ipv4Net>,
    /// The environment file's text (the embedded example's without --env).
    pub env_text: String,
    /// The environment's warnings (validate's W-codes).
    pub warnings: Vec<Diagnostic>,
}

pub(super) fn load(cli: &Cli, inputs: &Inputs) -> Result<Loaded, Vec<Diagnostic>> {
    let (environment, env_text) = input::environment_and_text(inputs.env, cli.deny_warnings);
    // The environment's warnings are reported whatever stops the run later.
    let warnings = environment.as_ref().map(|(_, w)| w.clone()).unwrap_or_default();
    let with_warnings = |d: Vec<Diagnostic>| warnings.iter().cloned().chain(d).collect::<Vec<_>>();
    let planned = environment.and_then(|(env, _)| {
        let tags = input::service_tags(inputs.service_tags, env.cloud).map_err(|d| vec![d])?;
        let plan = input::plan(&env, &tags, inputs.table_version, inputs.env, inputs.service_tags)?;
        Ok((tags, plan))
    });
    // The route table is read whatever becomes of the environment, so both files' problems are
    // reported together; of a template holding several, the environment's is read.
    let wanted = planned.as_ref().map(|(_, plan)| plan.deployed_names()).unwrap_or_default();
    let routes = inputs
        .routes
        .map(|p| read(p, |t, f| routefile::parse_wanted(t, f, &wanted)))
        .transpose();
    let ((tags, plan), routes) = both(planned, routes).map_err(with_warnings)?;
    let udr = verification::udr_prefixes(&plan, routes.as_ref().map(|(_, _, r)| r), &tags).map_err(with_warnings)?;
    Ok(Loaded {
        tags,
        plan,
        routes,
        udr,
        env_text,
        warnings,
    })
}

/// Both results, or every diagnostic of either.
pub(super) fn both<A, B>(a: Result<A, Vec<Diagnostic>>, b: Result<B, Vec<Diagnostic>>) -> Result<(A, B), Vec<Diagnostic>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a.err().into_iter().chain(b.err()).flatten().collect()),
    }
}

/// Reads a file given to verify: path as given, text, and what the reader makes of it.
pub(super) fn read<T>(
    path: &Path,
    parse: impl Fn(&str, &str) -> Result<T, Vec<Diagnostic>>,
) -> Result<(String, String, T), Vec<Diagnostic>> {
    let file = input::display_name(path);
    let text = input::read_text(path).map_err(|d| vec![d])?;
    let content = parse(&text, &file)?;
    Ok((file, text, content))
}

/// Bad input (exit 2): the diagnostics as --error-format says (as JSON with `--format json`), and
/// in a machine format also the document a pipeline uploads (SARIF, JUnit, annotations), holding
/// them as a fleet's does, so that the upload step does not meet an empty file.
/// The diagnostics then go to stderr as text: stdout holds the one document.
pub(super) fn refused(cli: &Cli, format: VerifyFormat, diags: &[Diagnostic]) -> Exit {
    match report::refused_document(format, diags, cli.deny_warnings) {
        Some(document) => {
            print!("{document}");
            output::bad_input(crate::args::ErrorFormat::Text, diags)
        }
        None => output::bad_input(output::error_format(cli.error_format, format == VerifyFormat::Json), diags),
    }
}

/// `--quiet`: every finding that fails the proof (errors and warnings; notes are left out, so a
/// proof that holds prints nothing) on one line, `nsg: error F0102 <what>`.
pub fn finding_lines(v: &rules_compiler::prove::findings::Verification, names: &rules_compiler::views::summary::Names) -> Vec<String> {
    v.proofs
        .iter()
        .flat_map(|p| {
            p.findings.iter().filter(|f| f.fails()).map(move |f| {
                format!(
                    "{}: {} {} {}",
                    p.artifact.as_str(),
                    crate::style::paint(
                        crate::style::Stream::Stdout,
                        crate::style::severity_role(f.severity.as_str()),
                        f.severity.as_str()
                    ),
                    f.code,
                    proof_report::finding_line(f, names)
                )
            })
        })
        .collect()
}

/// The format a run writes its report in, having printed `diags` (the environment's warnings;
/// in a fleet also the diagnostics of the environments refused) where that format does not hold
/// them: on stderr as text, as validate prints them. The JSON report holds them, and a text
/// report gives way to it under `--error-format json`, with or without diagnostics, so that
/// stdout is one JSON document in every run a pipeline parses.
pub(super) fn report_diagnostics(cli: &Cli, format: VerifyFormat, diags: &[Diagnostic]) -> VerifyFormat {
    let format = match format {
        VerifyFormat::Text if cli.error_format == crate::args::ErrorFormat::Json => VerifyFormat::Json,
        format => format,
    };
    if format != VerifyFormat::Json && !diags.is_empty() {
        output::diagnostics(crate::args::ErrorFormat::Text, diags);
    }
    format
}

pub fn run(cli: &Cli, inputs: &Inputs, nsg: Option<&Path>, firewall: Option<&Path>, format: VerifyFormat, verbose: bool) -> Exit {
    // Every input is read, so that all their problems are reported in one run.
    let loaded = load(cli, inputs);
    let warnings = loaded.as_ref().map(|l| l.warnings.clone()).unwrap_or_default();
    let fail = |diags: Vec<Diagnostic>| refused(cli, format, &[&warnings[..], &diags].concat());
    let wanted = loaded.as_ref().map(|l| l.plan.deployed_names()).unwrap_or_default();
    let nsg = nsg.map(|p| read(p, |t, f| nsgfile::parse_wanted(t, f, &wanted))).transpose();
    let firewall = firewall
        .map(|p| read(p, |t, f| firewallfile::parse_wanted(t, f, &wanted)))
        .transpose();
    let (loaded, (nsg, firewall)) = match both(loaded, both(nsg, firewall)) {
        Ok(all) => all,
        Err(d) => return fail(d),
    };
    let verification = verification::verify(&verification::Inputs {
        plan: &loaded.plan,
        tags: &loaded.tags,
        nsg: nsg.as_ref().map(Read::of),
        routes: loaded.routes.as_ref().map(Read::of),
        firewall: firewall.as_ref().map(Read::of),
    });
    let verification = match verification {
        Ok(v) => v,
        Err(d) => return fail(d),
    };
    let format = report_diagnostics(cli, format, &warnings);
    match format {
        VerifyFormat::Sarif | VerifyFormat::Junit | VerifyFormat::Github | VerifyFormat::AzureDevops => {
            let env_file = inputs
                .env
                .map(|p| adapter::EnvFile::new(input::display_name(p), &loaded.env_text, &loaded.plan));
            let names = verification::names(&loaded.plan);
            let proofs = adapter::proofs(&verification, env_file.as_ref(), &names).with_warnings(&warnings);
            print!("{}", report::document(format, &proofs, verbose).unwrap_or_default());
        }
        VerifyFormat::Text if output::quiet() => {
            for line in finding_lines(&verification, &verification::names(&loaded.plan)) {
                println!("{line}");
            }
        }
        VerifyFormat::Text => {
            let names = verification::names(&loaded.plan);
            let text = proof_report::render_text(&verification, &TextOptions { verbose, names: &names });
            print!("{}", crate::style::verify_text(&rules_compiler::views::printable::printable(&text)));
        }
        VerifyFormat::Json => {
            let report = serde_json::from_str(&proof_report::render_json(&verification)).expect("the report is JSON");
            let doc = output::with_diagnostics(report, &warnings);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
    }
    if verification.ok {
        Exit::Ok
    } else {
        Exit::Findings
    }
}
