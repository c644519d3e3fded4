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
}

pub(super) fn load(cli: &Cli, inputs: &Inputs) -> Result<Loaded, Vec<Diagnostic>> {
    // The route table is read whatever becomes of the environment, so both files' problems are
    // reported together.
    let routes = inputs.routes.map(|p| read(p, routefile::parse)).transpose();
    let (environment, env_text) = input::environment_and_text(inputs.env, cli.deny_warnings);
    let planned = environment.and_then(|(env, _warnings)| {
        let tags = input::service_tags(inputs.service_tags, env.cloud).map_err(|d| vec![d])?;
        let plan = input::plan(&env, &tags, inputs.table_version, inputs.env, inputs.service_tags)?;
        Ok((tags, plan))
    });
    let ((tags, plan), routes) = both(planned, routes)?;
    let udr = verification::udr_prefixes(&plan, routes.as_ref().map(|(_, _, r)| r), &tags)?;
    Ok(Loaded {
        tags,
        plan,
        routes,
        udr,
        env_text,
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
    match report::document(format, &super::fleet_verify::refused(diags)) {
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

pub fn run(cli: &Cli, inputs: &Inputs, nsg: Option<&Path>, firewall: Option<&Path>, format: VerifyFormat, verbose: bool) -> Exit {
    let fail = |diags: Vec<Diagnostic>| refused(cli, format, &diags);
    // Every input is read, so that all their problems are reported in one run.
    let loaded = load(cli, inputs);
    let nsg = nsg.map(|p| read(p, nsgfile::parse)).transpose();
    let firewall = firewall.map(|p| read(p, firewallfile::parse)).transpose();
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
    match format {
        VerifyFormat::Sarif | VerifyFormat::Junit | VerifyFormat::Github | VerifyFormat::AzureDevops => {
            let env_file = inputs
                .env
                .map(|p| adapter::EnvFile::new(input::display_name(p), &loaded.env_text, &loaded.plan));
            let proofs = adapter::proofs(&verification, env_file.as_ref());
            print!("{}", report::document(format, &proofs).unwrap_or_default());
        }
        VerifyFormat::Text if output::quiet() => {
            for line in finding_lines(&verification, &verification::names(&loaded.plan)) {
                println!("{line}");
            }
        }
        VerifyFormat::Text => {
            let names = verification::names(&loaded.plan);
            let text = proof_report::render_text(&verification, &TextOptions { verbose, names: &names });
            print!("{}", crate::style::verify_text(&text));
        }
        VerifyFormat::Json => print!("{}", proof_report::render_json(&verification)),
    }
    if verification.ok {
        Exit::Ok
    } else {
        Exit::Findings
    }
}
