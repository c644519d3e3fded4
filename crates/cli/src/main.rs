//! `isenet`: flags, files and exit codes. Every decision about the ISE lives in `ise-model` and
//! `rules-compiler`; this crate wires them to the command line.

// Every `print!`/`println!` of this crate goes through `output::stdout`, every `eprint!`/`eprintln!`
// through `output::stderr`: a reader that went away (`isenet verify ... | head -1`, `2>&1 | true`)
// drops the rest of that stream instead of std's "failed printing to stdout" panic (exit 101), and
// the run still ends with its own exit code. Defined before the modules so that they shadow std's.
macro_rules! print {
    ($($t:tt)*) => { $crate::output::stdout(format_args!($($t)*)) };
}
macro_rules! println {
    () => { $crate::output::stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::output::stdout(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! eprint {
    ($($t:tt)*) => { $crate::output::stderr(format_args!($($t)*)) };
}
macro_rules! eprintln {
    () => { $crate::output::stderr(format_args!("\n")) };
    ($($t:tt)*) => { $crate::output::stderr(format_args!("{}\n", format_args!($($t)*))) };
}

mod args;
mod commands;
mod cpus;
mod input;
mod memory;
mod outdir;
mod output;
#[cfg(test)]
mod pipelines_doc;
mod pool;
mod report;
mod style;
mod usage;
mod version;

use clap::Parser;

// glibc's allocator until `main` enables the pool, once the command line is read. Not under
// `cargo test`: the harness runs each test on a thread of its own, and every ended thread leaves
// its free lists behind.
#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: pool::Pool = pool::Pool;
use std::process::ExitCode;

/// Exit codes are a contract with users' pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Findings = 1,
    BadInput = 2,
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Before parsing, so that help and usage errors follow --color too.
    style::init(usage::requested_color(&argv));
    let cli = match args::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(usage_error(&e, &argv) as u8),
    };
    if let Some(d) = usage::stdin_twice(&argv) {
        print_refused_document(&argv, std::slice::from_ref(&d));
        let format = match usage::requested_report(&argv) {
            Some(_) => args::ErrorFormat::Text,
            None => usage::requested_format(&argv),
        };
        return ExitCode::from(output::bad_input(format, &[d]) as u8);
    }
    let fleet = cli.command.may_run_a_fleet();
    memory::tune_allocator(fleet);
    pool::enable();
    if !fleet {
        ise_model::threads::on_start(memory::advise_thread_heap);
    }
    ise_model::threads::set_joiner(cpus::join_elsewhere);
    output::set_quiet(cli.quiet);
    let exit = commands::run(&cli);
    output::flush();
    ExitCode::from(exit as u8)
}

/// With `--format sarif|junit|github|azure-devops`, the document holding bad input found before
/// the command runs: the pipeline's upload step must not meet an empty file. The diagnostics go
/// to stderr as text beside it.
fn print_refused_document(argv: &[std::ffi::OsString], diags: &[ise_model::diag::Diagnostic]) {
    if let Some(document) =
        usage::requested_report(argv).and_then(|format| report::refused_document(format, diags, usage::has_flag(argv, "--deny-warnings")))
    {
        print!("{document}");
    }
}

/// `--help` and `--version` are not errors; every other parse failure is a coded usage error.
fn usage_error(e: &clap::Error, argv: &[std::ffi::OsString]) -> Exit {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp => {
            // clap styles help only on a terminal; a closed pipe is not worth an error here.
            let _ = e.print();
            Exit::Ok
        }
        ErrorKind::DisplayVersion => {
            version::print();
            Exit::Ok
        }
        _ => {
            print_refused_document(argv, &[usage::diagnostic(e)]);
            let format = usage::requested_format(argv);
            if format == args::ErrorFormat::Text {
                // clap's own text keeps its usage line and suggestions; the code leads it.
                let text = usage::rendered(e);
                let code = usage::code(e.kind());
                let head = style::diagnostic(style::Stream::Stderr, &format!("error[{code}]:"));
                eprint!("{head} {}", text.strip_prefix("error: ").unwrap_or(&text));
                Exit::BadInput
            } else {
                output::bad_input(format, &[usage::diagnostic(e)])
            }
        }
    }
}
