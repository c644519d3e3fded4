//! Printing diagnostics and results.

use crate::args::ErrorFormat;
use ise_model::diag::Diagnostic;
use serde_json::json;

/// Prints diagnostics: text on stderr, or one JSON document on stdout.
pub fn diagnostics(format: ErrorFormat, diags: &[Diagnostic]) {
    match format {
        ErrorFormat::Text => {
            for d in diags {
                eprintln!("{d}");
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            if !diags.is_empty() {
                eprintln!("{errors} error(s), {warnings} warning(s)");
            }
        }
        ErrorFormat::Json => {
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let doc = json!({ "errors": errors, "warnings": diags.len() - errors, "diagnostics": diags });
            println!("{}", serde_json::to_string_pretty(&doc).expect("serialisable"));
        }
    }
}

/// Bad input: prints every diagnostic and yields exit 2 (nothing was written).
pub fn bad_input(format: ErrorFormat, diags: &[Diagnostic]) -> crate::Exit {
    diagnostics(format, diags);
    crate::Exit::BadInput
}
