//! Printing diagnostics and results.

use crate::args::ErrorFormat;
use ise_model::diag::Diagnostic;
use serde_json::json;

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
                    eprintln!("{d}");
                }
            }
            for (code, n) in shown.iter().filter(|(_, n)| **n > TEXT_PER_CODE) {
                eprintln!("... and {} more {code} (--error-format json lists every one)", n - TEXT_PER_CODE);
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
