//! Readers of the files `verify` and `diff` take: isenet's own artifacts and `az ... show -o json`
//! output, for NSGs, route tables and firewall rules. All three behave alike: every problem is a
//! coded diagnostic naming the file, the JSON path (as written in the file: ARM
//! `properties.securityRules[3].properties.x`, az's flattened `securityRules[3].x`) and its
//! line:column, and all are reported. Azure limits a deployed file may exceed are not input errors:
//! each reader accepts such a file and lists them as [`LimitViolation`]s for the proofs to report.

mod fields;
pub mod firewall;
mod firewall_rules;
mod firewall_source;
pub mod flows;
mod json;
pub mod nsg;
pub mod routes;
pub mod subnets;
pub mod template;
pub(crate) mod template_names;
mod template_subnets;

use ise_model::diag::{sort_diagnostics, Diagnostic};
use json::Locate;
use serde::Serialize;

/// Where an item was read: file, JSON path and line:column (always known for a path the file
/// holds; `None` only for a path it does not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    fn of(positions: &impl Locate, file: &str, path: String) -> Self {
        let pos = positions.find(&path);
        Location {
            file: file.to_string(),
            path,
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
        }
    }

    /// An error about the item read here.
    pub fn error(&self, code: &'static str, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(code, self.path.clone(), message).in_file(&self.file);
        match (self.line, self.column) {
            (Some(l), Some(c)) => d.at(l, c),
            _ => d,
        }
    }
}

/// The bound an Azure limit sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Limit {
    AtMost { max: u64 },
    Within { min: u64, max: u64 },
}

/// An Azure limit a file read exceeds: a finding for the proof, not an input error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitViolation {
    /// What is limited, as data/azure-limits.csv names it.
    pub name: &'static str,
    pub limit: Limit,
    pub actual: u64,
    pub at: Location,
}

impl LimitViolation {
    /// The violation when `actual` exceeds `max`.
    fn at_most(name: &'static str, max: usize, actual: usize, at: impl FnOnce() -> Location) -> Option<Self> {
        (actual > max).then(|| LimitViolation {
            name,
            limit: Limit::AtMost { max: max as u64 },
            actual: actual as u64,
            at: at(),
        })
    }

    /// The violation when `actual` lies outside `min..=max`.
    fn within(name: &'static str, (min, max): (u32, u32), actual: u32, at: impl FnOnce() -> Location) -> Option<Self> {
        (!(min..=max).contains(&actual)).then(|| LimitViolation {
            name,
            limit: Limit::Within {
                min: min.into(),
                max: max.into(),
            },
            actual: actual.into(),
            at: at(),
        })
    }
}

/// Gives each diagnostic its file and the line:column of its path, sorted.
fn locate(mut diags: Vec<Diagnostic>, positions: &impl Locate, file: &str) -> Vec<Diagnostic> {
    for d in &mut diags {
        if let Some((l, c)) = positions.find(&d.path) {
            *d = d.clone().at(l, c);
        }
        *d = d.clone().in_file(file);
    }
    sort_diagnostics(&mut diags);
    diags
}

#[cfg(test)]
mod tests;
