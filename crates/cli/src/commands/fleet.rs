//! Fleets: many environments in one run (`isenet compile ENV... | --env-dir DIR`). Every
//! environment is loaded and checked first (names must be unique: they are the output folders), so
//! bad input writes nothing; then each plan is built and checked (every compile error is met
//! there, so bad input still writes nothing), and only then rendered, proved and written on all
//! cores, each into OUT/<name>/ with the same atomic replacement as a single compile, its artifacts
//! dropped once written so memory stays flat however large the fleet. Shared data (the embedded tag
//! snapshots, a --service-tags file) is loaded once.

use super::compile::{self, Args};
use crate::args::{Cli, ErrorFormat};
use crate::{input, outdir, output, style, Exit};
use ise_model::codes::{E_FLEET_EMPTY, E_FLEET_NAME};
use ise_model::diag::Diagnostic;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;
use rules_compiler::prove::verify as verification;
use rules_compiler::render::Backend;
use std::path::{Path, PathBuf};

/// The environment files of a fleet: those named, then the `*.json` of `dir`, sorted by name.
/// Every entry so named is a member, whatever it is: one that cannot be read as a file (a broken
/// symbolic link, a folder or a link to one) is refused when it is loaded (`E0001` naming it),
/// never left out, so that an environment cannot drop out of the fleet unseen.
pub fn env_files(envs: &[PathBuf], dir: Option<&Path>) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut files = envs.to_vec();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Diagnostic::error(ise_model::codes::E_READ, "", format!("cannot read the folder: {e}"))
                .with_help("--env-dir names a folder of environment files (*.json)")
                .in_file(&dir.display().to_string())
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Which environments a command runs on: one (`--env FILE` or the embedded example), with the
/// output of a single run, or several (`ENV...`, `--env` repeated, `--env-dir`): a fleet, with a
/// summary table and one exit code.
pub enum Selection {
    One(Option<PathBuf>),
    Many(Vec<PathBuf>),
}

impl Selection {
    /// The one environment selected, if there is one (`Some(None)`: the embedded example).
    pub fn one(&self) -> Option<Option<&Path>> {
        match self {
            Selection::One(env) => Some(env.as_deref()),
            Selection::Many(files) if files.len() == 1 => Some(Some(&files[0])),
            Selection::Many(_) => None,
        }
    }
}

/// The selection of `validate`, `verify` and `tags diff`: positional files and repeated `--env`,
/// then the folder's files. A fleet that finds no file is `E1822`.
pub fn select(positional: &[PathBuf], env: &[PathBuf], dir: Option<&Path>) -> Result<Selection, Diagnostic> {
    if positional.is_empty() && dir.is_none() && env.len() <= 1 {
        return Ok(Selection::One(env.first().cloned()));
    }
    let named: Vec<PathBuf> = positional.iter().chain(env).cloned().collect();
    fleet_files(&named, dir).map(Selection::Many)
}

/// [`env_files`], refusing a fleet of none (`E1822`: an empty `--env-dir`).
pub fn fleet_files(envs: &[PathBuf], dir: Option<&Path>) -> Result<Vec<PathBuf>, Diagnostic> {
    let files = env_files(envs, dir)?;
    if files.is_empty() {
        let folder = dir.map_or_else(String::new, |d| d.display().to_string());
        return Err(Diagnostic::error(E_FLEET_EMPTY, "", "no environment file (*.json) in the folder")
            .with_help("name environment files, or a folder that holds them")
            .in_file(&folder));
    }
    Ok(files)
}

/// One environment of a fleet: its file and either the environment with its warnings or every
/// diagnostic that refuses it.
pub struct Member {
    pub file: PathBuf,
    pub loaded: input::LoadedEnvironment,
    /// The file's text (empty when unreadable): `verify` locates findings at its keys.
    pub text: String,
    /// What reports call it: the environment's name, or the file's stem when it did not load or
    /// shares its name with another's. One refused for its warnings alone (`--deny-warnings`)
    /// keeps its name, so a report keys its row alike with and without the flag.
    name: String,
}

impl Member {
    pub fn name(&self) -> String {
        self.name.clone()
    }

    fn stem(&self) -> String {
        self.file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned())
    }

    pub fn file_name(&self) -> String {
        input::display_name(&self.file)
    }
}

/// Loads every environment, each on its own and on all cores (loading and validating is a share of
/// the fleet's time that would otherwise keep one core idle), sorted by environment name, then
/// file, so that no report depends on the order the files were named in: of two environments of
/// one name, the later in that order is refused with `E1806` naming both files.
pub fn load_each(files: &[PathBuf], deny_warnings: bool) -> Vec<Member> {
    let mut members: Vec<Member> = parallel(files, |f| {
        let (loaded, text) = input::environment_and_text(Some(f), false);
        let mut m = Member {
            file: f.clone(),
            name: loaded.as_ref().map(|(env, _)| env.name.clone()).unwrap_or_default(),
            loaded,
            text,
        };
        match m.loaded {
            Ok((_, ref warnings)) if deny_warnings && !warnings.is_empty() => {
                m.loaded = Err(warnings.iter().cloned().map(Diagnostic::denied).collect())
            }
            Err(_) => m.name = m.stem(),
            Ok(_) => {}
        }
        m
    });
    members.sort_by_cached_key(|m| (m.name(), m.file_name()));
    let mut by_name: std::collections::BTreeMap<String, PathBuf> = std::collections::BTreeMap::new();
    for m in &mut members {
        let Ok((env, _)) = &m.loaded else { continue };
        let key = env.name.to_lowercase();
        match by_name.get(&key) {
            Some(first) if same_file(first, &m.file) => {
                // One file named twice (`a.json a.json`, or by name and by --env-dir).
                let d = Diagnostic::error(E_FLEET_NAME, "name", format!("`{}`: this file is named twice", env.name))
                    .with_help("name each environment file once")
                    .in_file(&input::display_name(&m.file));
                m.loaded = Err(vec![d]);
                m.name = m.stem();
            }
            Some(first) => {
                let d = Diagnostic::error(
                    E_FLEET_NAME,
                    "name",
                    format!("`{}` is also the name of {}", env.name, input::display_name(first)),
                )
                .with_help(
                    "a run tells its environments apart by name (reports and summary rows; compile writes \
                     OUT/<name>/, verify --artifacts-dir reads DIR/<name>/): give them different names",
                )
                .in_file(&input::display_name(&m.file));
                m.loaded = Err(vec![d]);
                m.name = m.stem();
            }
            None => {
                by_name.insert(key, m.file.clone());
            }
        }
    }
    members
}

/// One environment's result in a fleet run of `verify` or `tags diff`.
pub struct Outcome<T> {
    pub environment: String,
    pub file: String,
    /// What the command made of it, or the diagnostics that stopped it (the environment's own, or
    /// of its artifacts or limits).
    pub result: Result<T, Vec<Diagnostic>>,
}

/// Loads every file and runs `job` on each environment that loads, on all cores; results in the
/// order of [`load_each`] (environment name, then file).
pub fn each<T: Send>(
    files: &[PathBuf],
    deny_warnings: bool,
    job: impl Fn(&Member, &Environment) -> Result<T, Vec<Diagnostic>> + Sync,
) -> Vec<Outcome<T>> {
    let members = load_each(files, deny_warnings);
    let results = parallel(&members, |m| {
        let (env, _) = m.loaded.as_ref().map_err(Clone::clone)?;
        job(m, env)
    });
    members
        .iter()
        .zip(results)
        .map(|(m, result)| Outcome {
            environment: m.name(),
            file: m.file_name(),
            result,
        })
        .collect()
}

/// The environments of a fleet that loaded, each with its file, and the warnings of all.
pub type LoadedFleet = (Vec<(PathBuf, Environment)>, Vec<Diagnostic>);

/// Loads every environment, with the warnings of all; `Err` with every problem of every file,
/// including two files that share a name.
pub fn load_all(files: &[PathBuf], deny_warnings: bool) -> Result<LoadedFleet, Vec<Diagnostic>> {
    let mut envs = Vec::new();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    for m in load_each(files, deny_warnings) {
        match m.loaded {
            Ok((env, w)) => {
                envs.push((m.file, env));
                warnings.extend(w);
            }
            Err(d) => problems.extend(d),
        }
    }
    if problems.is_empty() {
        Ok((envs, warnings))
    } else {
        Err(problems)
    }
}

/// The worst exit of a fleet: bad input beats findings beats ok.
pub fn worst(exits: impl IntoIterator<Item = Exit>) -> Exit {
    exits.into_iter().max_by_key(|e| *e as u8).unwrap_or(Exit::Ok)
}

/// The summary table of a `validate`, `verify` or `tags diff` fleet: environment, file, result
/// (coloured) and two counts named by `counts`; one row per (environment, file, result, counts).
pub fn summary_table(counts: [&str; 2], rows: impl Iterator<Item = (String, String, &'static str, [usize; 2])>) -> String {
    let cells: Vec<Vec<String>> = rows
        .map(|(env, file, result, [a, b])| vec![env, file, result.to_string(), a.to_string(), b.to_string()])
        .collect();
    render_table(&["environment", "file", "result", counts[0], counts[1]], &cells, 2)
}

/// A summary table on stdout: columns aligned, the `result` column (index `result`) coloured by
/// what it says.
pub fn render_table(header: &[&str], rows: &[Vec<String>], result: usize) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let mut l = cells.join("  ").trim_end().to_string();
        l.push('\n');
        l
    };
    let pad = |c: &str, w: usize| format!("{c:<w$}");
    let mut out = line(header.iter().zip(&widths).map(|(h, w)| pad(h, *w)).collect());
    for r in rows {
        let mut cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        // Padded first, painted after, so escape codes do not count as width.
        let word = r[result].as_str();
        let spaces = widths[result].saturating_sub(word.chars().count());
        cells[result] = style::paint(style::Stream::Stdout, style::result_role(word), word) + &" ".repeat(spaces);
        out += &line(cells);
    }
    out
}

/// The tags of `env`'s cloud: the one parsed --service-tags file (checked to be that cloud's), or
/// the embedded snapshot.
pub fn tags_for<'t>(file: Option<&'t (ServiceTags, String)>, env: &Environment) -> Result<&'t ServiceTags, Diagnostic>
where
    'static: 't,
{
    match file {
        None => Ok(ServiceTags::embedded(env.cloud)),
        Some((tags, name)) => {
            // One file serves the whole fleet: the message names the environment it does not fit.
            tags.check_cloud(env.cloud).map_err(|d| Diagnostic {
                message: format!("environment `{}`: {}", env.name, d.message),
                ..d.in_file(name)
            })?;
            Ok(tags)
        }
    }
}

/// One line of the summary table.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub environment: String,
    pub file: String,
    pub cloud: String,
    pub endpoint: String,
    pub mode: String,
    pub rules: usize,
    pub routes: usize,
    pub firewall_rules: usize,
    /// The compiled NSG, route table and firewall rules proved against the requirements (as
    /// review.csv reports them): `ok` or `findings`.
    pub proof: &'static str,
    /// With --check: the files that differ (`stale: nsg.json`), else empty.
    pub differences: Vec<String>,
    /// Whether OUT/<name>/ was written: false when it held exactly these artifacts already (then
    /// nothing in it was touched) and with --check.
    pub written: bool,
    /// Whether writing (or with --check comparing) OUT/<name>/ failed: it was left as it was, and
    /// the run's diagnostics say why (exit 2). The other rows still say what was written.
    pub failed: bool,
}

impl Row {
    /// The row of `env` before anything is compiled: no counts, nothing written.
    fn new(env: &Environment, file: &Path) -> Row {
        Row {
            environment: env.name.clone(),
            file: input::display_name(file),
            cloud: env.cloud.to_string(),
            endpoint: word(serde_json::json!(env.access_endpoint)),
            mode: word(serde_json::json!(env.forced_tunneling.mode)),
            rules: 0,
            routes: 0,
            firewall_rules: 0,
            proof: "-",
            differences: Vec::new(),
            written: false,
            failed: false,
        }
    }

    /// The row of an environment whose compile failed, with why.
    fn failed(mut self, why: Vec<Diagnostic>) -> (Row, Vec<Diagnostic>) {
        self.failed = true;
        (self, why)
    }
}

/// Whether two paths name one file (`x.json` and `./x.json`, or through a link).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn word(v: serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Every error compiling this environment can meet (plan limits, tags missing from a tag file,
/// an output folder that could not be replaced), found without rendering: the fleet's first
/// pass, so bad input writes nothing.
fn check_one(env: &Environment, file: &Path, tags: &ServiceTags, args: &Args) -> Result<(), Vec<Diagnostic>> {
    let plan = compile::plan_env(env, Some(file), tags, args);
    let target = if args.check {
        Ok(())
    } else {
        outdir::precheck(&args.out_dir.join(&env.name))
    };
    let mut problems = Vec::new();
    match plan {
        Ok(plan) => problems.extend(verification::udr_prefixes(&plan, None, tags).err().into_iter().flatten()),
        Err(d) => problems.extend(d),
    }
    problems.extend(target.err());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Compiles, proves and writes (or with --check compares) one environment: the fleet's second
/// pass. Its artifacts are dropped once written, so memory does not grow with the fleet. The row
/// comes back whatever happens, with the diagnostics of a failure (only I/O can fail here: the
/// first pass met every input error), so that the report still says what was written.
/// One environment of a fleet: its row, and the diagnostics it adds (errors; W1008 warnings).
fn compile_one(
    env: &Environment,
    file: &Path,
    tags: &ServiceTags,
    args: &Args,
    backends: &[&Backend],
    deny_warnings: bool,
) -> (Row, Vec<Diagnostic>) {
    let mut row = Row::new(env, file);
    let plan = match compile::plan_env(env, Some(file), tags, args) {
        Ok(plan) => plan,
        Err(d) => return row.failed(d),
    };
    let warnings = compile::plan_warnings(&plan, Some(file), args);
    if deny_warnings && !warnings.is_empty() {
        return row.failed(warnings.into_iter().map(Diagnostic::denied).collect());
    }
    // The fleet's workers keep every core busy: the review's proofs run on this one.
    let (mut artifacts, proved) = rules_compiler::render::render_and_prove_inline(&plan, tags, backends);
    compile::keep_selected(&mut artifacts, args.only);
    // The review artifacts ran the proofs already; without them (`--only`), run them here.
    let proved = proved.unwrap_or_else(|| rules_compiler::render::review::review(&plan, tags).ok);
    row.rules = plan.security_rules.len();
    row.routes = plan.routes.len();
    row.firewall_rules = plan.firewall.rule_count();
    row.proof = if compile::holds(proved, &warnings) { "ok" } else { "findings" };
    let dir = args.out_dir.join(&env.name);
    let done = if args.check {
        outdir::compare(&dir, &artifacts).map(|d| row.differences = d.into_iter().map(|(k, f)| format!("{k}: {f}")).collect())
    } else {
        // The fleet created OUT once; each environment only replaces its own folder.
        outdir::replace(&dir, &artifacts).map(|w| row.written = w == outdir::Written::Replaced)
    };
    match done {
        Ok(()) => (row, warnings),
        Err(d) => row.failed(warnings.into_iter().chain([d]).collect()),
    }
}

/// Runs `job` over `items` on every core (at most one thread per item); results in item order.
pub fn parallel<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, job(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a fleet worker panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

pub fn compile(cli: &Cli, args: &Args, envs: &[PathBuf], env_dir: Option<&Path>) -> Exit {
    // Refused before any environment compiled: the report's shape still, with no rows.
    let fail = |diags: Vec<Diagnostic>| match cli.error_format {
        ErrorFormat::Json => {
            let doc = output::with_diagnostics(serde_json::json!({ "environments": [] }), &diags);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
            Exit::BadInput
        }
        ErrorFormat::Text => output::bad_input(cli.error_format, &diags),
    };
    let mut problems: Vec<Diagnostic> = super::check_table_version(args.table_version).err().into_iter().collect();
    let backends = compile::selection(args.only).unwrap_or_else(|d| {
        problems.push(d);
        Vec::new()
    });
    let tag_file = match args
        .service_tags
        .map(|p| super::tags::read_tag_file(p).map(|t| (t, input::display_name(p))))
    {
        Some(Err(d)) => {
            problems.push(d);
            None
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let files = match fleet_files(envs, env_dir) {
        Ok(f) => f,
        Err(d) => return fail(problems.into_iter().chain([d]).collect()),
    };
    let (loaded, warnings) = match load_all(&files, cli.deny_warnings) {
        Ok(l) if problems.is_empty() => l,
        Ok(_) => return fail(problems),
        Err(d) => return fail(problems.into_iter().chain(d).collect()),
    };
    let checked = parallel(&loaded, |(file, env)| {
        let tags = tags_for(tag_file.as_ref(), env).map_err(|d| vec![d])?;
        check_one(env, file, tags, args)
    });
    let errors: Vec<Diagnostic> = checked.into_iter().filter_map(Result::err).flatten().collect();
    if !errors.is_empty() {
        return fail(errors);
    }
    if args.expand_tags && tag_file.is_none() {
        crate::version::note_stale_expansion(loaded.iter().map(|(_, env)| env.cloud));
    }
    if !args.check {
        if let Err(d) = outdir::create_all(args.out_dir) {
            return fail(vec![d]);
        }
    }
    let compiled = parallel(&loaded, |(file, env)| match tags_for(tag_file.as_ref(), env) {
        Ok(tags) => compile_one(env, file, tags, args, &backends, cli.deny_warnings),
        Err(d) => Row::new(env, file).failed(vec![d]),
    });
    let (mut rows, added): (Vec<Row>, Vec<Vec<Diagnostic>>) = compiled.into_iter().unzip();
    let (errors, late_warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = added.into_iter().flatten().partition(Diagnostic::is_error);
    unclaimed_outputs(args, env_dir.is_some(), &loaded, &mut rows);
    // The environments' warnings, as a single compile reports them, then what failed here.
    let diagnostics: Vec<Diagnostic> = warnings.into_iter().chain(late_warnings).chain(errors.iter().cloned()).collect();
    // A write that fails part-way (a full disk) leaves the folders written before it replaced:
    // the report lists every environment, written or failed, beside the diagnostics.
    match cli.error_format {
        // One shape whatever the outcome: a pipeline reads `.environments[]` of every run.
        ErrorFormat::Json => {
            let doc = output::with_diagnostics(serde_json::json!({ "environments": rows }), &diagnostics);
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
        ErrorFormat::Text => {
            output::diagnostics(ErrorFormat::Text, &diagnostics);
            if output::quiet() {
                print!("{}", quiet_findings(&rows, args));
            } else {
                print!("{}", table(&rows, args));
            }
        }
    }
    // As for one environment, the proof is reported, not an exit code (`compile::proof_line`).
    if !errors.is_empty() {
        Exit::BadInput
    } else if rows.iter().any(|r| !r.differences.is_empty()) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// A `--check` row for what lies in OUT that no environment of the run writes.
fn stale_row(environment: String, difference: String) -> Row {
    let dash = || "-".to_string();
    Row {
        environment,
        file: String::new(),
        cloud: dash(),
        endpoint: dash(),
        mode: dash(),
        rules: 0,
        routes: 0,
        firewall_rules: 0,
        proof: "-",
        differences: vec![difference],
        written: false,
        failed: false,
    }
}

/// Each OUT/<name>/ holding a compile's output that no environment of this run claims, as a
/// removed or renamed environment leaves. `--check` of a whole `--env-dir` reports it as a row of
/// its own that differs (the folder's environments own OUT, so those committed artifacts are
/// stale; exit 1). Otherwise (named files may be part of a fleet, a compile) it gets a note on
/// stderr: the run neither fails on it nor touches it, deleting is the user's call. A single
/// compile's artifacts at OUT's top level (`nsg.json`, `modules/`) are treated alike.
fn unclaimed_outputs(args: &Args, whole_dir: bool, loaded: &[(PathBuf, Environment)], rows: &mut Vec<Row>) {
    let names: std::collections::HashSet<&str> = loaded.iter().map(|(_, env)| env.name.as_str()).collect();
    for name in outdir::unclaimed_outputs(args.out_dir, &names) {
        let dir = args.out_dir.join(&name).display().to_string();
        if !(args.check && whole_dir) {
            eprintln!("note: {dir} holds artifacts of no environment in this run (left from a removed or renamed environment?); remove it if nothing else compiles into it");
            continue;
        }
        rows.push(stale_row(
            name,
            format!("unclaimed: no environment of this run compiles into {dir}; remove it"),
        ));
    }
    let loose = outdir::loose_artifacts(args.out_dir);
    if !loose.is_empty() {
        let what = format!(
            "{} holds a single compile's artifacts at its top ({}), where a fleet writes only <name>/ folders",
            args.out_dir.display(),
            loose.join(", ")
        );
        match args.check && whole_dir {
            true => rows.push(stale_row("-".to_string(), format!("extra: {what}; remove them"))),
            false => eprintln!("note: {what}; remove them if nothing else compiles into it"),
        }
    }
    rows.sort_by(|a, b| (&a.environment, &a.file).cmp(&(&b.environment, &b.file)));
}

/// `--quiet`: only what fails, one line each (a stale file, an environment whose proof has
/// findings); when an environment failed, also each folder written, since the run changed them.
fn quiet_findings(rows: &[Row], args: &Args) -> String {
    let mut out = String::new();
    let partial = rows.iter().any(|r| r.failed);
    for r in rows {
        if r.proof == "findings" {
            out += &format!("{}: the compiled artifacts have proof findings\n", r.environment);
        }
        for d in &r.differences {
            out += &format!("{}: {d}\n", r.environment);
        }
        if partial && r.written {
            out += &format!("{}: written to {}\n", r.environment, args.out_dir.join(&r.environment).display());
        }
    }
    out
}

/// The summary table, columns aligned, one line per environment (by name, then file).
pub fn table(rows: &[Row], args: &Args) -> String {
    let header = [
        "environment",
        "cloud",
        "endpoint",
        "mode",
        "rules",
        "routes",
        "firewall rules",
        "proof",
        if args.check { "check" } else { "written to" },
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.environment.clone(),
                r.cloud.clone(),
                r.endpoint.clone(),
                r.mode.clone(),
                r.rules.to_string(),
                r.routes.to_string(),
                r.firewall_rules.to_string(),
                r.proof.to_string(),
                if r.failed {
                    let dir = args.out_dir.join(&r.environment).display().to_string();
                    format!("{dir} (failed: {})", if args.check { "not compared" } else { "not written" })
                } else if !args.check {
                    let dir = args.out_dir.join(&r.environment).display().to_string();
                    if r.written {
                        dir
                    } else {
                        format!("{dir} (up to date)")
                    }
                } else if r.differences.is_empty() {
                    "up to date".to_string()
                } else {
                    r.differences.join(", ")
                },
            ]
        })
        .collect();
    let mut out = render_table(&header, &cells, 7);
    let findings = rows.iter().filter(|r| r.proof == "findings").count();
    // Rows without a file are unclaimed outputs (`unclaimed_outputs`: folders, a single compile's
    // loose artifacts), not environments.
    let unclaimed = rows.iter().filter(|r| r.file.is_empty()).count();
    let stale = rows.iter().filter(|r| !r.differences.is_empty()).count() - unclaimed;
    let failed = rows.iter().filter(|r| r.failed).count();
    out += &format!(
        "{} environment(s): {} with proof findings{}{}\n",
        rows.len() - unclaimed,
        findings,
        if args.check && unclaimed > 0 {
            format!(", {stale} not up to date, {unclaimed} unclaimed output(s)")
        } else if args.check {
            format!(", {stale} not up to date")
        } else {
            let written = rows.iter().filter(|r| r.written).count();
            format!(", {written} written, {} up to date", rows.len() - written - failed)
        },
        if failed > 0 { format!(", {failed} failed") } else { String::new() }
    );
    out
}
