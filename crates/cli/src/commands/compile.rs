//! `isenet compile`: environment -> plan -> artifacts, written atomically (or printed, or checked).

use crate::args::{Cli, ErrorFormat};
use crate::outdir::{self, Written};
use crate::{input, output, Exit};
use ise_model::codes::E_ONLY;
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;
use rules_compiler::azure::nsg::Direction;
use rules_compiler::plan::Plan;
use rules_compiler::render::{self, Artifact, Backend};
use std::path::Path;

pub struct Args<'a> {
    pub env: Option<&'a Path>,
    pub out_dir: &'a Path,
    pub service_tags: Option<&'a Path>,
    pub table_version: Option<&'a str>,
    /// Replace service tags by their prefixes (`rules_compiler::plan::expand`).
    pub expand_tags: bool,
    /// Leave the ISE out of the templates.
    pub network_only: bool,
    /// `--only`: backend names; empty for all.
    pub only: &'a [String],
    pub stdout: bool,
    pub check: bool,
}

/// The backend `--only` means by `name`: a backend's name (`firewall`), or one of its files
/// (`firewall-policy.json`), which selects that file alone.
fn named(name: &str) -> Option<&'static Backend> {
    render::backend(name).or_else(|| render::BACKENDS.iter().find(|b| b.files.contains(&name)))
}

/// The backends `--only` names (all when empty), or `E1805` naming the unknown ones and the known.
pub fn selection(only: &[String]) -> Result<Vec<&'static Backend>, Diagnostic> {
    if only.is_empty() {
        return Ok(render::BACKENDS.iter().collect());
    }
    let unknown: Vec<&str> = only.iter().map(|n| n.trim()).filter(|n| named(n).is_none()).collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = render::BACKENDS.iter().map(|b| b.name).collect();
        return Err(
            Diagnostic::error(E_ONLY, "", format!("unknown artifact `{}`", unknown.join("`, `")))
                .with_help(format!(
                    "this build writes: {} (or one file of them, such as firewall-policy.json)",
                    known.join(", ")
                ))
                .in_file("--only"),
        );
    }
    let mut backends: Vec<&'static Backend> = only.iter().filter_map(|n| named(n.trim())).collect();
    backends.sort_by_key(|b| b.name);
    backends.dedup_by_key(|b| b.name);
    Ok(backends)
}

/// The files `--only` keeps of its backends' output: `None` when it names backends alone (all
/// their files), else the files named and those of the backends named.
pub fn selected_files(only: &[String]) -> Option<Vec<&'static str>> {
    let names: Vec<&str> = only.iter().map(|n| n.trim()).collect();
    if names.iter().all(|n| render::backend(n).is_some()) {
        return None;
    }
    let files = render::BACKENDS.iter().flat_map(|b| b.files.iter().copied());
    Some(
        files
            .filter(|f| {
                names
                    .iter()
                    .any(|n| n == f || render::backend(n).is_some_and(|b| b.files.contains(f)))
            })
            .collect(),
    )
}

/// `artifacts` less those `--only` did not name by file ([`selected_files`]).
pub fn keep_selected(artifacts: &mut Vec<Artifact>, only: &[String]) {
    if let Some(files) = selected_files(only) {
        artifacts.retain(|a| files.contains(&a.file_name));
    }
}

/// The plan of one environment (tags expanded when asked), its selected artifacts, and whether
/// their proof holds when a review artifact ran it.
fn compile_env(
    env: &Environment,
    tags: &ServiceTags,
    args: &Args,
    backends: &[&Backend],
) -> Result<(Plan, Vec<Artifact>, Option<bool>), Vec<Diagnostic>> {
    let plan = plan_env(env, args.env, tags, args)?;
    let (artifacts, proved) = render::render_and_prove(&plan, tags, backends);
    Ok((plan, artifacts, proved))
}

/// The warnings of a plan past the environment's own (W1008: an expanded NSG over Azure's address
/// limit), named as the environment's diagnostics are.
pub fn plan_warnings(plan: &Plan, file: Option<&Path>, args: &Args) -> Vec<Diagnostic> {
    // A plan with tags is within the limit or refused (E1007): only an expanded one can warn.
    if !args.expand_tags {
        return Vec::new();
    }
    let warnings: Vec<Diagnostic> = rules_compiler::plan::expanded_address_warning(plan).into_iter().collect();
    input::name_stage_diagnostics(warnings, file, args.service_tags)
}

/// The plan `compile` renders: every error a compile can meet is met here, before any rendering.
/// Its diagnostics name `file`, where `env` was read (`None`: the embedded example).
pub fn plan_env(env: &Environment, file: Option<&Path>, tags: &ServiceTags, args: &Args) -> Result<Plan, Vec<Diagnostic>> {
    let plan = input::plan(env, tags, args.table_version, file, args.service_tags)?;
    let mut plan = if args.expand_tags {
        rules_compiler::plan::expand::expand(&plan, tags).map_err(|diags| input::name_stage_diagnostics(diags, file, args.service_tags))?
    } else {
        plan
    };
    plan.deployment.include_ise = !args.network_only;
    Ok(plan)
}

pub fn run(cli: &Cli, args: &Args) -> Exit {
    let fail = |diags: Vec<Diagnostic>| output::bad_input(cli.error_format, &diags);
    let mut problems: Vec<Diagnostic> = super::check_table_version(args.table_version).err().into_iter().collect();
    let backends = match selection(args.only) {
        Ok(b) => b,
        Err(d) => {
            problems.push(d);
            Vec::new()
        }
    };
    let (env, warnings) = match input::environment(args.env, cli.deny_warnings) {
        Ok(x) if problems.is_empty() => x,
        Ok(_) => return fail(problems),
        Err(diags) => return fail(problems.into_iter().chain(diags).collect()),
    };
    // The text templates compile on the spare core while a tag file is read and the plan built.
    let selected = backends.clone();
    let _ = crate::cpus::spawn_elsewhere(move || render::prepare_templates(&selected));
    let tags = match input::service_tags(args.service_tags, env.cloud) {
        Ok(t) => t,
        Err(d) => return fail(vec![d]),
    };
    let (plan, mut artifacts, proved) = match compile_env(&env, &tags, args, &backends) {
        Ok(x) => x,
        Err(diags) => return fail(diags),
    };
    keep_selected(&mut artifacts, args.only);
    let late = plan_warnings(&plan, args.env, args);
    if cli.deny_warnings && !late.is_empty() {
        return fail(warnings.into_iter().chain(late).map(Diagnostic::denied).collect());
    }
    let warnings: Vec<Diagnostic> = warnings.into_iter().chain(late).collect();
    if args.expand_tags && args.service_tags.is_none() {
        crate::version::note_stale_expansion([env.cloud]);
    }
    if args.stdout {
        return match artifacts.as_slice() {
            [one] => {
                // stdout holds the artifact, so the warnings go to stderr as text whatever the
                // error format.
                output::diagnostics(ErrorFormat::Text, &warnings);
                print!("{}", one.contents);
                Exit::Ok
            }
            many => fail(vec![Diagnostic::error(
                E_ONLY,
                "",
                format!(
                    "prints one file, and --only selects {}: {}",
                    many.len(),
                    many.iter().map(|a| a.file_name).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_help("select one artifact (e.g. --only nsg), or write them with --out-dir")
            .in_file("--stdout")]),
        };
    }
    if args.check {
        return check(cli, args.out_dir, &artifacts);
    }
    let written = match outdir::write(args.out_dir, &artifacts) {
        Ok(w) => w,
        Err(d) => return fail(vec![d]),
    };
    output::diagnostics(cli.error_format, &warnings);
    if output::quiet() {
        return Exit::Ok;
    }
    let mut report = summary(&env, &plan, args, &artifacts, written);
    if let Some(proved) = proved {
        report += &format!("  {}\n", proof_line(proved, &warnings, args.env));
    }
    if !warnings.is_empty() {
        report += &format!("  warnings: {}\n", warnings.len());
    }
    // With `--error-format json` the diagnostics' document is stdout's one document: the summary
    // goes to stderr, so that a pipeline parses stdout as JSON.
    match cli.error_format {
        ErrorFormat::Json => eprint!("{report}"),
        ErrorFormat::Text => print!("{report}"),
    }
    Exit::Ok
}

/// `--check`: what differs between the directory and what would be written, exit 1 when anything.
pub fn check(cli: &Cli, dir: &Path, artifacts: &[Artifact]) -> Exit {
    let differences = match outdir::compare(dir, artifacts) {
        Ok(d) => d,
        Err(d) => return output::bad_input(cli.error_format, &[d]),
    };
    if cli.error_format == ErrorFormat::Json {
        let doc = serde_json::json!({
            "directory": dir.display().to_string(),
            "upToDate": differences.is_empty(),
            "differences": differences.iter().map(|(kind, file)| serde_json::json!({ "file": file, "status": kind })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
    } else if differences.is_empty() {
        if !output::quiet() {
            println!("{}: up to date ({} file(s))", dir.display(), artifacts.len());
        }
    } else {
        for (kind, file) in &differences {
            println!("{kind}: {}", dir.join(file).display());
        }
        if !output::quiet() {
            println!(
                "{}: {} file(s) differ from what `isenet compile` writes now; rerun it without --check",
                dir.display(),
                differences.len()
            );
        }
    }
    if differences.is_empty() {
        Exit::Ok
    } else {
        Exit::Findings
    }
}

/// Whether the compile's proof holds for the artifacts as Azure would take them: an NSG past
/// Azure's address limit (W1008, `--expand-tags`) is one `verify` fails (F0107), whatever its
/// rules prove.
pub fn holds(proved: bool, warnings: &[Diagnostic]) -> bool {
    proved && !warnings.iter().any(|w| w.code == ise_model::codes::W_EXPANDED_NSG_ADDRESSES)
}

/// What the compile's own proof says (review.csv has it row by row). It is reported, not an exit
/// code: `compile` and `compile --check` answer whether the artifacts are written and current, and
/// `verify` is the gate on what they admit (the same in a fleet). `warnings`: the plan's, which
/// say whether the proved rules still exceed Azure's address limit ([`holds`]).
pub fn proof_line(proved: bool, warnings: &[Diagnostic], env: Option<&Path>) -> String {
    if holds(proved, warnings) {
        "proof: ok (every requirement covered, nothing beyond them open; review.csv)".to_string()
    } else if proved {
        "proof: findings (the rules are proved, but the NSG is over Azure's address limit, W1008: `isenet verify` reports F0107 and exits 1)".to_string()
    } else {
        let verify = env.map_or_else(|| "isenet verify".to_string(), |p| format!("isenet verify --env {}", p.display()));
        format!("proof: findings (review.csv has them; `{verify}` lists them and exits 1)")
    }
}

/// The lines printed after a successful compile.
fn summary(env: &Environment, plan: &Plan, args: &Args, artifacts: &[Artifact], written: Written) -> String {
    let count = |dir| plan.security_rules.iter().filter(|r| r.rule.direction == dir).count();
    let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut out = format!(
        "compiled {} ({} {}, {} access endpoint, forced tunneling {})\n",
        env.name,
        env.cloud,
        env.location,
        name(serde_json::json!(env.access_endpoint)),
        name(serde_json::json!(env.forced_tunneling.mode))
    );
    out += &format!(
        "  requirements: {} (table version {})\n",
        plan.requirements.len(),
        plan.table_version
    );
    if args.expand_tags {
        out += &format!(
            "  service tags expanded to prefixes (change {}; VirtualNetwork, Internet, AzureLoadBalancer kept)\n",
            plan.service_tags_change_number
        );
    }
    out += &format!(
        "  nsg.json: {} inbound and {} outbound rules\n",
        count(Direction::Inbound),
        count(Direction::Outbound)
    );
    out += &format!(
        "  route-table.json: {} route(s); subnets.json: {} subnets, {} service endpoint(s) each\n",
        plan.routes.len(),
        plan.subnets.len(),
        plan.subnets.first().map_or(0, |s| s.service_endpoints.len())
    );
    let files = artifacts.iter().map(|a| a.file_name).collect::<Vec<_>>().join(", ");
    out += &match written {
        Written::Replaced => format!("  wrote {}: {files}\n", args.out_dir.display()),
        Written::UpToDate => format!("  {} up to date, nothing written: {files}\n", args.out_dir.display()),
    };
    out
}
