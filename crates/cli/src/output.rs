//! Printing diagnostics and results.

use crate::args::ErrorFormat;
use crate::style::{self, Stream};
use ise_model::diag::Diagnostic;
use serde_json::json;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`: only findings and diagnostics are printed. Process-wide, like the colour choice.
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether summaries, tables and "wrote" lines are left out (`--quiet`).
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Set once stdout's reader has gone away: the rest of the output is dropped, the run goes on to
/// its own exit code (a pipeline's `| head -1` must not turn findings or bad input into exit 0).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout; after a closed pipe, nothing more is written. Any other write error is
/// reported and exits 2: the results did not reach their file. Used by the crate's
/// `print!`/`println!`.
pub fn stdout(args: std::fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let result = std::io::stdout().lock().write_fmt(args);
    if let Err(e) = result {
        write_failed(&e);
    }
}

/// Writes to stderr, ignoring every error: diagnostics that cannot be shown must not change the
/// exit code that carries them (and std's `eprintln!` would panic). Used by `eprint!`/`eprintln!`.
pub fn stderr(args: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Writes `value` as pretty JSON and a line end to stdout as it is serialised, not built as one
/// string first, with [`stdout`]'s handling of a closed pipe.
pub fn json_to_stdout<T: serde::Serialize>(value: &T) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    if let Err(e) = result {
        write_failed(&e);
    }
}

/// Flushes stdout before exit, with the same handling of a closed pipe.
pub fn flush() {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().flush() {
        write_failed(&e);
    }
}

/// A closed pipe ends stdout quietly; anything else (a full disk) fails the run.
fn write_failed(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        return;
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(crate::Exit::BadInput as i32);
}

/// Diagnostics of one code printed as text before the rest are counted.
pub const TEXT_PER_CODE: usize = 50;

/// Prints diagnostics: text on stderr, or one JSON document on stdout.
pub fn diagnostics(format: ErrorFormat, diags: &[Diagnostic]) {
    match format {
        ErrorFormat::Text => {
            // Text is for people: the first few of each code, then how many more (JSON lists all).
            let mut shown: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
            for d in diags {
                let n = shown.entry(d.code).or_default();
                *n += 1;
                if *n <= TEXT_PER_CODE {
                    let text = d.to_string();
                    eprintln!(
                        "{}",
                        style::diagnostic(Stream::Stderr, &rules_compiler::views::printable::printable(&text))
                    );
                }
            }
            for (code, n) in shown.iter().filter(|(_, n)| **n > TEXT_PER_CODE) {
                eprintln!("... and {} more {code} (--error-format json lists every one)", n - TEXT_PER_CODE);
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            if !diags.is_empty() && !quiet() {
                eprintln!("{errors} error(s), {warnings} warning(s)");
            }
        }
        ErrorFormat::Json => {
            let doc = serde_json::Value::Object(diagnostics_fields(diags));
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
    }
}

/// `errors`, `warnings` and `diagnostics`: the document `--error-format json` prints, and the
/// top-level fields of a fleet's JSON report, which holds every environment's diagnostics.
pub fn diagnostics_fields(diags: &[Diagnostic]) -> serde_json::Map<String, serde_json::Value> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let mut fields = serde_json::Map::new();
    fields.insert("errors".into(), errors.into());
    fields.insert("warnings".into(), (diags.len() - errors).into());
    fields.insert("diagnostics".into(), json!(diags));
    fields
}

/// A fleet's JSON report with [`diagnostics_fields`] of `diags` added at its top level.
pub fn with_diagnostics(mut report: serde_json::Value, diags: &[Diagnostic]) -> serde_json::Value {
    if let serde_json::Value::Object(fields) = &mut report {
        fields.extend(diagnostics_fields(diags));
    }
    report
}

/// How a run prints its diagnostics: as `--error-format` says, but as JSON on stdout whenever the
/// run's own report is JSON (`--format json`), so that bad input still leaves a JSON document
/// there rather than an empty stdout.
pub fn error_format(global: ErrorFormat, report_is_json: bool) -> ErrorFormat {
    if report_is_json {
        ErrorFormat::Json
    } else {
        global
    }
}

/// Bad input: prints every diagnostic and yields exit 2 (nothing was written).
pub fn bad_input(format: ErrorFormat, diags: &[Diagnostic]) -> crate::Exit {
    diagnostics(format, diags);
    crate::Exit::BadInput
}
