//! One function per subcommand: read inputs, call the libraries, print, choose the exit code.

use crate::args::{Cli, Command, DiffFormat, ErrorFormat, RequirementsFormat, TagsCommand};
use crate::{input, output, Exit};
use ise_model::codes::{E_ENUM, E_USAGE_OTHER};
use ise_model::diag::Diagnostic;
use rules_compiler::views::requirements as view;
use std::path::PathBuf;

mod compile;
mod diff;
mod explain;
mod fleet;
mod fleet_tags;
mod fleet_validate;
mod fleet_verify;
mod man;
mod tags;
mod verify;

pub const SCHEMA: &str = include_str!("../../../../schemas/environment.schema.json");

pub fn run(cli: &Cli) -> Exit {
    match &cli.command {
        Command::Validate {
            envs,
            env,
            env_dir,
            format,
            service_tags,
        } => {
            // validate's report is its diagnostics: `--error-format json` asks for it as JSON too.
            let format = output::error_format(cli.error_format, *format == ErrorFormat::Json);
            match fleet::select(envs, env, env_dir.as_deref()) {
                Ok(fleet::Selection::One(env)) => validate(env.as_deref(), format, cli.deny_warnings, service_tags.as_deref()),
                Ok(fleet::Selection::Many(files)) => fleet_validate::run(cli, &files, format, service_tags.as_deref()),
                Err(d) => output::bad_input(format, &[d]),
            }
        }
        Command::Requirements {
            env,
            format,
            table_version,
            service_tags,
        } => requirements(cli, env.as_deref(), *format, table_version.as_deref(), service_tags.as_deref()),
        Command::Compile {
            envs,
            env,
            env_dir,
            out_dir,
            service_tags,
            table_version,
            expand_tags,
            network_only,
            only,
            stdout,
            check,
        } => {
            let args = compile::Args {
                env: env.first().map(PathBuf::as_path),
                out_dir,
                service_tags: service_tags.as_deref(),
                table_version: table_version.as_deref(),
                expand_tags: *expand_tags,
                network_only: *network_only,
                only,
                stdout: *stdout,
                check: *check,
            };
            // A bare ENV is a fleet of one (OUT/<name>/); --env once, or none, a single compile.
            if envs.is_empty() && env_dir.is_none() && env.len() <= 1 {
                compile::run(cli, &args)
            } else if *stdout {
                // clap refuses --stdout with ENV... and --env-dir; --env repeated is a fleet too,
                // which would otherwise be written to --out-dir (its default `out`) unasked.
                let d = Diagnostic::error(
                    E_USAGE_OTHER,
                    "",
                    format!(
                        "prints one environment's artifact, and --env names {} environments (a fleet)",
                        env.len()
                    ),
                )
                .with_help("give --env once with --stdout, or write the fleet with --out-dir")
                .in_file("--stdout");
                output::bad_input(cli.error_format, &[d])
            } else {
                let named: Vec<PathBuf> = envs.iter().chain(env).cloned().collect();
                fleet::compile(cli, &args, &named, env_dir.as_deref())
            }
        }
        Command::Tags { command } => match command {
            TagsCommand::Show {
                name,
                cloud,
                location,
                service_tags,
                format,
            } => tags::show(cli, name, *cloud, location.as_deref(), service_tags.as_deref(), *format),
            TagsCommand::Diff {
                old,
                new,
                env,
                env_dir,
                expand_tags,
                table_version,
                all,
                fail_on,
                format,
            } => {
                let args = tags::DiffArgs {
                    old,
                    new,
                    expand_tags: *expand_tags,
                    table_version: table_version.as_deref(),
                    all: *all,
                    fail_on: *fail_on,
                    format: *format,
                };
                match fleet::select(&[], env, env_dir.as_deref()) {
                    Ok(fleet::Selection::One(env)) => tags::diff(cli, &args, env.as_deref()),
                    Ok(fleet::Selection::Many(files)) => fleet_tags::diff(cli, &args, &files),
                    Err(d) => output::bad_input(output::error_format(cli.error_format, *format == ErrorFormat::Json), &[d]),
                }
            }
        },
        Command::Verify {
            envs,
            env,
            env_dir,
            artifacts_dir,
            nsg,
            routes,
            firewall,
            service_tags,
            table_version,
            format,
            verbose,
        } => match check_table_version(table_version.as_deref()).and_then(|()| fleet::select(envs, env, env_dir.as_deref())) {
            // Deployed files are one environment's resources: with one environment, however it was
            // named (--env, ENV, a folder of one), they are verified as given. With several they
            // are refused (`E1820`), never left unread.
            Ok(selection) if (nsg.is_some() || routes.is_some() || firewall.is_some()) && selection.one().is_some() => {
                let env = selection.one().flatten();
                let inputs = verify::Inputs {
                    env,
                    routes: routes.as_deref(),
                    service_tags: service_tags.as_deref(),
                    table_version: table_version.as_deref(),
                };
                verify::run(cli, &inputs, nsg.as_deref(), firewall.as_deref(), *format, *verbose)
            }
            Ok(selection) => {
                let files = match selection {
                    fleet::Selection::Many(files) => files,
                    // One environment with --artifacts-dir, or with no file to verify (its compiled
                    // artifacts): a fleet of one.
                    fleet::Selection::One(env) => env.into_iter().collect(),
                };
                let args = fleet_verify::Args {
                    artifacts_dir: artifacts_dir.as_deref(),
                    single_files: [nsg, routes, firewall].into_iter().flatten().map(|p| p.as_path()).collect(),
                    service_tags: service_tags.as_deref(),
                    table_version: table_version.as_deref(),
                    format: *format,
                    verbose: *verbose,
                };
                fleet_verify::run(cli, &files, &args)
            }
            Err(d) => verify::refused(cli, *format, &[d]),
        },
        Command::Explain {
            env,
            nsg,
            routes,
            firewall,
            service_tags,
            table_version,
            from,
            to,
            port,
            protocol,
            expect,
            as_member,
            flows,
            format,
        } => {
            if let Err(d) = check_table_version(table_version.as_deref()) {
                return output::bad_input(output::error_format(cli.error_format, *format == ErrorFormat::Json), &[d]);
            }
            let inputs = verify::Inputs {
                env: env.as_deref(),
                routes: routes.as_deref(),
                service_tags: service_tags.as_deref(),
                table_version: table_version.as_deref(),
            };
            let query = explain::Query {
                from: from.as_deref(),
                to: to.as_deref(),
                ports: *port,
                protocol: *protocol,
                expect: *expect,
                flows: flows.as_deref(),
                members: as_member,
            };
            explain::run(cli, &inputs, nsg.as_deref(), firewall.as_deref(), &query, *format)
        }
        Command::Diff {
            deployed,
            env,
            service_tags,
            table_version,
            expand_tags,
            format,
        } => {
            if let Err(d) = check_table_version(table_version.as_deref()) {
                return output::bad_input(output::error_format(cli.error_format, *format == DiffFormat::Json), &[d]);
            }
            let inputs = diff::Inputs {
                deployed,
                env: env.as_deref(),
                service_tags: service_tags.as_deref(),
                table_version: table_version.as_deref(),
                expand_tags: *expand_tags,
            };
            diff::run(cli, &inputs, *format)
        }
        Command::Schema => {
            print!("{SCHEMA}");
            Exit::Ok
        }
        Command::Example => {
            print!("{}", ise_model::data::EXAMPLE_ENVIRONMENT);
            Exit::Ok
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(
                *shell,
                &mut <crate::args::Cli as clap::CommandFactory>::command(),
                "isenet",
                &mut out,
            );
            print!("{}", String::from_utf8_lossy(&out));
            Exit::Ok
        }
        Command::Man => {
            let mut out = Vec::new();
            let written = man::render(&<crate::args::Cli as clap::CommandFactory>::command(), &mut out);
            match written {
                Ok(()) => {
                    print!("{}", String::from_utf8_lossy(&out));
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: cannot render the man page: {e}");
                    Exit::BadInput
                }
            }
        }
    }
}

/// Everything `compile` would refuse once the environment is valid: the service-tag file (it parses,
/// is of the environment's cloud, has every tag the requirements need) and every limit the plan
/// hits, found by building the plan `compile` builds. Diagnostics name their files.
fn compile_check(
    env: &ise_model::Environment,
    env_path: Option<&std::path::Path>,
    tags_path: Option<&std::path::Path>,
    version: Option<&str>,
) -> Vec<Diagnostic> {
    match tags_path.map(tags::read_tag_file).transpose() {
        Ok(file) => compile_check_with(env, env_path, file.as_ref().zip(tags_path), version),
        Err(d) => vec![d],
    }
}

/// [`compile_check`] with the service-tag file already parsed (a fleet parses it once).
pub fn compile_check_with(
    env: &ise_model::Environment,
    env_path: Option<&std::path::Path>,
    tag_file: Option<(&ise_model::servicetags::ServiceTags, &std::path::Path)>,
    version: Option<&str>,
) -> Vec<Diagnostic> {
    let tags = match tag_file {
        None => ise_model::servicetags::ServiceTags::embedded(env.cloud),
        Some((tags, path)) => {
            if let Err(d) = tags.check_cloud(env.cloud) {
                return vec![d.in_file(&input::display_name(path))];
            }
            let file = path.display().to_string();
            let reqs = ise_model::resolve::resolve(env, version);
            let missing: Vec<Diagnostic> = tags.check_required(&reqs).into_iter().map(|d| d.in_file(&file)).collect();
            if !missing.is_empty() {
                return missing;
            }
            tags
        }
    };
    input::plan(env, tags, version, env_path, tag_file.map(|(_, p)| p))
        .err()
        .unwrap_or_default()
}

fn validate(path: Option<&std::path::Path>, format: ErrorFormat, deny_warnings: bool, tags: Option<&std::path::Path>) -> Exit {
    let name = input::env_name(path);
    match input::environment(path, deny_warnings) {
        Ok((env, warnings)) => {
            let stage_diags = compile_check(&env, path, tags, None);
            if !stage_diags.is_empty() {
                let all: Vec<Diagnostic> = warnings.into_iter().chain(stage_diags).collect();
                return output::bad_input(format, &all);
            }
            output::diagnostics(format, &warnings);
            if format == ErrorFormat::Text && !output::quiet() {
                let valid = crate::style::paint(crate::style::Stream::Stdout, crate::style::Role::Ok, "valid");
                match tags {
                    Some(t) => println!("{name}: {valid} (service tags {}: {valid})", input::display_name(t)),
                    None => println!("{name}: {valid}"),
                }
            }
            Exit::Ok
        }
        Err(mut diags) => {
            // A tag file that cannot be parsed is reported too; its cloud needs a valid environment.
            if let Some(Err(d)) = tags.map(tags::read_tag_file) {
                diags.push(d);
            }
            output::bad_input(format, &diags)
        }
    }
}

/// Refuses an unknown `--table-version`.
pub fn check_table_version(version: Option<&str>) -> Result<(), Diagnostic> {
    let versions = ise_model::requirement::table_versions();
    match version.filter(|v| !versions.iter().any(|x| x == *v)) {
        Some(v) => Err(Diagnostic::error(E_ENUM, "", format!("unknown table version `{v}`"))
            .with_help(format!("known versions: {}", versions.join(", ")))
            .in_file("--table-version")),
        None => Ok(()),
    }
}

fn requirements(
    cli: &Cli,
    path: Option<&std::path::Path>,
    format: RequirementsFormat,
    version: Option<&str>,
    tags: Option<&std::path::Path>,
) -> Exit {
    let errors = output::error_format(cli.error_format, format == RequirementsFormat::Json);
    if let Err(d) = check_table_version(version) {
        return output::bad_input(errors, &[d]);
    }
    let (env, warnings) = match input::environment(path, cli.deny_warnings) {
        Ok(x) => x,
        Err(diags) => {
            return output::bad_input(errors, &diags);
        }
    };
    let diags = compile_check(&env, path, tags, version);
    if !diags.is_empty() {
        return output::bad_input(errors, &diags);
    }
    if cli.error_format == ErrorFormat::Text {
        output::diagnostics(cli.error_format, &warnings);
    }
    let reqs = ise_model::resolve::resolve(&env, version);
    let table_version = version.map_or_else(ise_model::requirement::latest_table_version, str::to_string);
    let text = match format {
        RequirementsFormat::Table => view::render_table(&reqs, &table_version),
        RequirementsFormat::Json => view::render_json(&reqs, &table_version),
        RequirementsFormat::Csv => match input::service_tags(tags, env.cloud) {
            Ok(t) => view::render_csv(&reqs, &t, &table_version),
            Err(d) => return output::bad_input(errors, &[d]),
        },
    };
    print!("{text}");
    Exit::Ok
}
