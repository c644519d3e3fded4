//! `isenet verify ENV... | --env-dir DIR [--artifacts-dir DIR]`: each environment proved against
//! its compiled artifacts (nsg.json, route-table.json, firewall-policy.json rendered in memory and
//! read back as files are), or against the files in `DIR/<name>/` as `compile --out-dir DIR` writes
//! a fleet: those its tunneling mode needs must be there (an absent NSG would otherwise pass
//! unproved), the others are proved when present. One report over all environments in the chosen
//! format, a summary table in text, and one exit code (2 bad input beats 1 findings beats 0).

use super::fleet::{self, Member};
use crate::args::{Cli, VerifyFormat};
use crate::report::{self, adapter, Proofs};
use crate::style;
use crate::{input, output, Exit};
use ise_model::codes::{E_FLEET_ARTIFACT_MISSING, E_FLEET_NO_ARTIFACTS, E_FLEET_ONE_FILE, E_USAGE_MISSING};
use ise_model::diag::Diagnostic;
use ise_model::env::TunnelingMode;
use ise_model::servicetags::ServiceTags;
use rules_compiler::prove::findings::{ArtifactKind, Verification};
use rules_compiler::prove::verify::{self as verification, Read};
use rules_compiler::read::{firewall as firewallfile, nsg as nsgfile, routes as routefile};
use rules_compiler::views::proof_report::{self, TextOptions};
use rules_compiler::views::summary::Names;
use std::path::{Path, PathBuf};

pub struct Args<'a> {
    pub artifacts_dir: Option<&'a Path>,
    /// --nsg, --routes, --firewall: refused with several environments (`E1820`).
    pub single_files: Vec<&'a Path>,
    pub service_tags: Option<&'a Path>,
    /// Port-table version (`None`: the latest).
    pub table_version: Option<&'a str>,
    pub format: VerifyFormat,
    pub verbose: bool,
}

/// The artifact files verify reads, as `compile` names them.
const NSG: &str = "nsg.json";
const ROUTES: &str = "route-table.json";
const FIREWALL: &str = "firewall-policy.json";

/// Where one environment's artifacts come from.
enum Source<'a> {
    Compiled,
    Dir(&'a Path),
}

/// The (name, text) of each artifact file of the environment that exists.
fn artifact_texts(
    plan: &rules_compiler::plan::Plan,
    tags: &ServiceTags,
    source: &Source,
    name: &str,
) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    match source {
        Source::Compiled => {
            let backends: Vec<_> = ["nsg", "routes", "firewall"]
                .into_iter()
                .filter_map(rules_compiler::render::backend)
                .collect();
            Ok(rules_compiler::render::render_selected(plan, tags, &backends)
                .into_iter()
                .filter(|a| [NSG, ROUTES, FIREWALL].contains(&a.file_name))
                .map(|a| (format!("<compiled {name}>/{}", a.file_name), a.contents))
                .collect())
        }
        Source::Dir(dir) => {
            let folder = dir.join(name);
            let present: Vec<PathBuf> = [NSG, ROUTES, FIREWALL]
                .iter()
                .map(|f| folder.join(f))
                .filter(|p| p.is_file())
                .collect();
            if present.is_empty() {
                return Err(vec![Diagnostic::error(
                    E_FLEET_NO_ARTIFACTS,
                    "",
                    format!("no {NSG}, {ROUTES} or {FIREWALL} for environment `{name}`"),
                )
                .with_help(
                    "--artifacts-dir DIR holds each environment's files in DIR/<name>/, as `isenet compile --out-dir DIR` writes a fleet",
                )
                .in_file(&folder.display().to_string())]);
            }
            let missing: Vec<Diagnostic> = needed(plan.environment.forced_tunneling.mode)
                .filter(|(f, _)| !present.contains(&folder.join(f)))
                .map(|(f, what)| {
                    Diagnostic::error(
                        E_FLEET_ARTIFACT_MISSING,
                        "",
                        format!("environment `{name}` cannot be verified without {what}, and this file is not there"),
                    )
                    .with_help(
                        "export the deployed resource to this path (az network ... show -o json), or compile the environment into DIR",
                    )
                    .in_file(&input::display_name(&folder.join(f)))
                })
                .collect();
            if !missing.is_empty() {
                return Err(missing);
            }
            present
                .into_iter()
                .map(|p| input::read_text(&p).map(|t| (input::display_name(&p), t)).map_err(|d| vec![d]))
                .collect()
        }
    }
}

/// The files of the artifacts an environment's mode cannot be verified without, with what each is.
fn needed(mode: TunnelingMode) -> impl Iterator<Item = (&'static str, &'static str)> {
    verification::needed_artifacts(mode).iter().map(|k| match k {
        ArtifactKind::Nsg => (NSG, "its NSG"),
        ArtifactKind::Routes => (ROUTES, "the route table of its forced tunneling"),
        ArtifactKind::Firewall => (FIREWALL, "the firewall rules of its firewall mode"),
    })
}

/// One environment proved: the verification, its text report and `--quiet` lines, and its file
/// for locating findings.
struct Proved {
    verification: Verification,
    /// The text report, then the `--quiet` lines.
    lines: Vec<String>,
    env_file: adapter::EnvFile,
    /// What its findings' flows call by name.
    names: Names,
    /// The environment's warnings (validate's W-codes).
    warnings: Vec<Diagnostic>,
}

/// Proves one environment, or the diagnostics that stop it (its warnings among them).
fn verify_one(
    m: &Member,
    env: &ise_model::Environment,
    tag_file: Option<&(ServiceTags, String)>,
    args: &Args,
    source: &Source,
) -> Result<Proved, Vec<Diagnostic>> {
    let warnings = m.loaded.as_ref().map(|(_, w)| w.clone()).unwrap_or_default();
    match prove_one(m, env, tag_file, args, source) {
        Ok(p) => Ok(Proved { warnings, ..p }),
        Err(d) => Err(warnings.into_iter().chain(d).collect()),
    }
}

fn prove_one(
    m: &Member,
    env: &ise_model::Environment,
    tag_file: Option<&(ServiceTags, String)>,
    args: &Args,
    source: &Source,
) -> Result<Proved, Vec<Diagnostic>> {
    let tags = fleet::tags_for(tag_file, env).map_err(|d| vec![d])?;
    let plan = input::plan(env, tags, args.table_version, Some(&m.file), args.service_tags)?;
    let texts = artifact_texts(&plan, tags, source, &env.name)?;
    let parsed = |suffix: &str| texts.iter().find(|(f, _)| f.ends_with(suffix)).cloned();
    let wanted = plan.deployed_names();
    let nsg = parsed(NSG)
        .map(|(f, t)| read_text(f, t, |t, f| nsgfile::parse_wanted(t, f, &wanted)))
        .transpose()?;
    let routes = parsed(ROUTES)
        .map(|(f, t)| read_text(f, t, |t, f| routefile::parse_wanted(t, f, &wanted)))
        .transpose()?;
    let firewall = parsed(FIREWALL)
        .map(|(f, t)| read_text(f, t, |t, f| firewallfile::parse_wanted(t, f, &wanted)))
        .transpose()?;
    let v = verification::verify(&verification::Inputs {
        plan: &plan,
        tags,
        nsg: nsg.as_ref().map(Read::of),
        routes: routes.as_ref().map(Read::of),
        firewall: firewall.as_ref().map(Read::of),
    })?;
    let names = verification::names(&plan);
    let text = proof_report::render_text(
        &v,
        &TextOptions {
            verbose: args.verbose,
            names: &names,
        },
    );
    let quiet = super::verify::finding_lines(&v, &names);
    Ok(Proved {
        verification: v,
        lines: [text].into_iter().chain(quiet).collect(),
        env_file: adapter::EnvFile::new(m.file_name(), &m.text, &plan),
        names,
        warnings: Vec::new(),
    })
}

/// A file already read, parsed like [`read`] does.
fn read_text<T>(
    file: String,
    text: String,
    parse: impl Fn(&str, &str) -> Result<T, Vec<Diagnostic>>,
) -> Result<(String, String, T), Vec<Diagnostic>> {
    let content = parse(&text, &file)?;
    Ok((file, text, content))
}

type Outcome = fleet::Outcome<Proved>;

impl Outcome {
    fn exit(&self) -> Exit {
        match &self.result {
            Ok(p) if p.verification.ok => Exit::Ok,
            Ok(_) => Exit::Findings,
            Err(_) => Exit::BadInput,
        }
    }

    fn word(&self) -> &'static str {
        match self.exit() {
            Exit::Ok => "ok",
            Exit::Findings => "findings",
            Exit::BadInput => "bad input",
        }
    }

    /// What stopped the environment, or its warnings.
    fn diagnostics(&self) -> &[Diagnostic] {
        match &self.result {
            Ok(p) => &p.warnings,
            Err(d) => d,
        }
    }

    /// The findings that fail the proofs, and the notes.
    fn counts(&self) -> [usize; 2] {
        let Ok(p) = &self.result else { return [0, 0] };
        let all = p.verification.proofs.iter().flat_map(|p| &p.findings);
        let failing = all.clone().filter(|f| f.fails()).count();
        [failing, all.count() - failing]
    }
}

pub fn run(cli: &Cli, files: &[PathBuf], args: &Args) -> Exit {
    let fail = |d: Diagnostic| super::verify::refused(cli, args.format, &[d]);
    if files.is_empty() {
        return fail(
            Diagnostic::error(
                E_USAGE_MISSING,
                "--env",
                "verifying artifacts needs the environment file(s) they were compiled for",
            )
            .with_help("give --env FILE (repeatable), ENV... or --env-dir DIR")
            .in_file(crate::usage::COMMAND_LINE),
        );
    }
    if files.len() > 1 && !args.single_files.is_empty() {
        return fail(
            Diagnostic::error(
                E_FLEET_ONE_FILE,
                "",
                format!("{} environments, and {} names one file", files.len(), args.single_files.iter().map(|p| input::display_name(p)).collect::<Vec<_>>().join(", ")),
            )
            .with_help("give each environment's deployed files with --artifacts-dir DIR (DIR/<name>/nsg.json, route-table.json, firewall-policy.json)")
            .in_file(crate::usage::COMMAND_LINE),
        );
    }
    let tag_file = match args
        .service_tags
        .map(|p| super::tags::read_tag_file(p).map(|t| (t, input::display_name(p))))
        .transpose()
    {
        Ok(t) => t,
        Err(d) => return fail(d),
    };
    let source = args.artifacts_dir.map_or(Source::Compiled, Source::Dir);
    let outcomes = fleet::each(files, cli.deny_warnings, |m, env| {
        verify_one(m, env, tag_file.as_ref(), args, &source)
    });
    let exit = fleet::worst(outcomes.iter().map(Outcome::exit));
    // The diagnostics of refused environments and the warnings of proved ones go to stderr as
    // text, except in the JSON report, which holds them (with `--error-format json` it replaces the
    // text report); stdout stays one document.
    let diags: Vec<Diagnostic> = outcomes.iter().flat_map(Outcome::diagnostics).cloned().collect();
    let format = super::verify::report_diagnostics(cli, args.format, &diags);
    match format {
        VerifyFormat::Text => print!("{}", text(&outcomes)),
        VerifyFormat::Json => {
            let doc = output::with_diagnostics(json(&outcomes), &diags);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        format => {
            let proofs = Proofs::fleet(
                outcomes
                    .iter()
                    .map(|o| (o.environment.clone(), machine_proofs(o, cli.deny_warnings)))
                    .collect(),
            );
            print!("{}", report::document(format, &proofs, args.verbose).unwrap_or_default());
        }
    }
    exit
}

/// One environment's findings and checks; a refused one is a failed "environment loads" check.
fn machine_proofs(o: &Outcome, deny_warnings: bool) -> Proofs {
    match &o.result {
        Ok(p) => adapter::proofs(&p.verification, Some(&p.env_file), &p.names).with_warnings(&p.warnings),
        Err(diags) => Proofs::refused(diags, deny_warnings),
    }
}

fn text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let Ok(Proved { lines, .. }) = &o.result else { continue };
        if output::quiet() {
            for l in &lines[1..] {
                out += &format!("{}: {l}\n", o.environment);
            }
        } else {
            out += &format!("== {} ({})\n", o.environment, o.file);
            out += &style::verify_text(&lines[0]);
        }
    }
    if output::quiet() {
        return out;
    }
    out += "\n";
    out += &fleet::summary_table(
        ["findings", "notes"],
        outcomes
            .iter()
            .map(|o| (o.environment.clone(), o.file.clone(), o.word(), o.counts())),
    );
    let count = |e: Exit| outcomes.iter().filter(|o| o.exit() == e).count();
    out += &format!(
        "{} environment(s): {} ok, {} with findings, {} bad input\n",
        outcomes.len(),
        count(Exit::Ok),
        count(Exit::Findings),
        count(Exit::BadInput)
    );
    out
}

fn json(outcomes: &[Outcome]) -> serde_json::Value {
    let envs: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let mut v = serde_json::json!({ "environment": o.environment, "file": o.file, "result": o.word() });
            match &o.result {
                Ok(p) => {
                    v["verification"] = serde_json::from_str(&proof_report::render_json(&p.verification)).expect("the report is JSON");
                    if !p.warnings.is_empty() {
                        v["diagnostics"] = serde_json::json!(p.warnings);
                    }
                }
                Err(d) => v["diagnostics"] = serde_json::json!(d),
            }
            v
        })
        .collect();
    let count = |e: Exit| outcomes.iter().filter(|o| o.exit() == e).count();
    serde_json::json!({
        "environments": envs,
        "ok": count(Exit::Ok),
        "findings": count(Exit::Findings),
        "badInput": count(Exit::BadInput),
    })
}
