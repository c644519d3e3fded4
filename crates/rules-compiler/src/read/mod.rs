//! Readers of the files `verify` and `diff` take: isenet's own artifacts and `az ... show -o json`
//! output, for NSGs, route tables and firewall rules. All three behave alike: every problem is a
//! coded diagnostic naming the file, the JSON path and its line:column, and all are reported.

pub mod firewall;
pub mod nsg;
pub mod places;
pub mod routes;

use ise_model::diag::{sort_diagnostics, Diagnostic};
use ise_model::jsonpos::Positions;

/// A JSON syntax error, at serde's position.
fn invalid_json(code: &'static str, e: &serde_json::Error, file: &str) -> Diagnostic {
    Diagnostic::error(code, "", format!("invalid JSON: {e}"))
        .at(e.line(), e.column())
        .in_file(file)
}

/// Gives each diagnostic its file and the line:column of its path, sorted.
fn locate(mut diags: Vec<Diagnostic>, text: &str, file: &str) -> Vec<Diagnostic> {
    let positions = Positions::of(text);
    for d in &mut diags {
        if let Some((l, c)) = positions.find(&d.path) {
            *d = d.clone().at(l, c);
        }
        *d = d.clone().in_file(file);
    }
    sort_diagnostics(&mut diags);
    diags
}
