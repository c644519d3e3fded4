//! One function per subcommand: read inputs, call the libraries, print, choose the exit code.

use crate::args::{Cli, Command, ErrorFormat, RequirementsFormat};
use crate::{input, output, Exit};
use ise_model::codes::E_ENUM;
use ise_model::diag::Diagnostic;
use rules_compiler::views::requirements as view;

mod compile;
mod verify;

pub const SCHEMA: &str = include_str!("../../../../schemas/environment.schema.json");

pub fn run(cli: &Cli) -> Exit {
    match &cli.command {
        Command::Validate { env, format } => validate(env.as_deref(), *format, cli.deny_warnings),
        Command::Requirements {
            env,
            format,
            table_version,
        } => requirements(cli, env.as_deref(), *format, table_version.as_deref()),
        Command::Compile {
            env,
            out_dir,
            service_tags,
            table_version,
        } => compile::run(cli, env.as_deref(), out_dir, service_tags.as_deref(), table_version.as_deref()),
        Command::Verify {
            env,
            nsg,
            routes,
            service_tags,
            format,
        } => verify::run(
            cli,
            env.as_deref(),
            nsg.as_deref(),
            routes.as_deref(),
            service_tags.as_deref(),
            *format,
        ),
        Command::Explain {
            env,
            nsg,
            routes,
            service_tags,
            from,
            to,
            port,
            protocol,
            format,
        } => {
            let inputs = verify::Inputs {
                env: env.as_deref(),
                routes: routes.as_deref(),
                service_tags: service_tags.as_deref(),
            };
            verify::explain(cli, &inputs, nsg.as_deref(), from, to, *port, *protocol, *format)
        }
        Command::Schema => {
            print!("{SCHEMA}");
            Exit::Ok
        }
        Command::Example => {
            print!("{}", ise_model::data::EXAMPLE_ENVIRONMENT);
            Exit::Ok
        }
    }
}

fn validate(path: Option<&std::path::Path>, format: ErrorFormat, deny_warnings: bool) -> Exit {
    let name = path.map_or(input::EMBEDDED_EXAMPLE.to_string(), |p| p.display().to_string());
    match input::environment(path, deny_warnings) {
        Ok((_, warnings)) => {
            output::diagnostics(format, &warnings);
            if format == ErrorFormat::Text {
                println!("{name}: valid");
            }
            Exit::Ok
        }
        Err(diags) => {
            output::diagnostics(format, &diags);
            Exit::BadInput
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

fn requirements(cli: &Cli, path: Option<&std::path::Path>, format: RequirementsFormat, version: Option<&str>) -> Exit {
    if let Err(d) = check_table_version(version) {
        output::diagnostics(cli.error_format, &[d]);
        return Exit::BadInput;
    }
    let (env, warnings) = match input::environment(path, cli.deny_warnings) {
        Ok(x) => x,
        Err(diags) => {
            output::diagnostics(cli.error_format, &diags);
            return Exit::BadInput;
        }
    };
    if cli.error_format == ErrorFormat::Text {
        output::diagnostics(cli.error_format, &warnings);
    }
    let reqs = ise_model::resolve::resolve(&env, version);
    let text = match format {
        RequirementsFormat::Table => view::render_table(&reqs),
        RequirementsFormat::Json => view::render_json(&reqs),
        RequirementsFormat::Csv => view::render_csv(&reqs),
    };
    print!("{text}");
    Exit::Ok
}
