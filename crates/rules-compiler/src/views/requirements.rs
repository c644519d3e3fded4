//! `isenet requirements`: the requirements resolved for one environment, as an aligned table, JSON
//! or CSV, one line each with id, direction, source, destination, protocol, ports, purpose and
//! reference. The CSV is for reviewers: full addresses (tags with their prefix count), the
//! condition, and the published table with its version and URL.

use super::{csv_safe, describe, table};
use ise_model::ports::format_list;
use ise_model::published;
use ise_model::requirement::Protocol;
use ise_model::resolve::Resolved;
use ise_model::servicetags::ServiceTags;

const HEADER: [&str; 8] = [
    "id",
    "direction",
    "source",
    "destination",
    "protocol",
    "ports",
    "purpose",
    "reference",
];

fn cells(r: &Resolved, table_version: &str) -> Vec<String> {
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    vec![
        r.id.clone(),
        r.kind.as_str().to_string(),
        r.source.short(),
        r.destination.short(),
        dash(Protocol::text(r.protocol).to_string()),
        dash(format_list(&r.ports)),
        r.purpose.clone(),
        published::requirement(&r.reference, r.kind, table_version).reference,
    ]
}

/// The requirements of table version `table_version`, each with where Microsoft publishes it.
pub fn render_table(reqs: &[Resolved], table_version: &str) -> String {
    table::render(&HEADER, &reqs.iter().map(|r| cells(r, table_version)).collect::<Vec<_>>())
}

const CSV_HEADER: [&str; 11] = [
    "id",
    "direction",
    "source",
    "destination",
    "protocol",
    "ports",
    "condition",
    "purpose",
    "reference",
    "table_version",
    "url",
];

/// The requirements of table version `table_version` as reviewer CSV (see `csv_safe`).
pub fn render_csv(reqs: &[Resolved], tags: &ServiceTags, table_version: &str) -> String {
    let rows: Vec<Vec<String>> = reqs
        .iter()
        .map(|r| {
            let p = published::requirement(&r.reference, r.kind, table_version);
            vec![
                r.id.clone(),
                r.kind.as_str().to_string(),
                describe::peer(&r.source, tags),
                describe::peer(&r.destination, tags),
                Protocol::text(r.protocol).to_string(),
                format_list(&r.ports),
                describe::condition(r),
                r.purpose.clone(),
                p.reference,
                p.version,
                p.url,
            ]
        })
        .collect();
    csv_safe::render(&CSV_HEADER, &rows)
}

/// The requirements as the plan holds them, `reference` the published citation (as in the CSV)
/// with its `url`, not the model's own note of where the row came from.
pub fn render_json(reqs: &[Resolved], table_version: &str) -> String {
    let cited: Vec<serde_json::Value> = reqs
        .iter()
        .map(|r| {
            let p = published::requirement(&r.reference, r.kind, table_version);
            let mut v = serde_json::to_value(r).expect("serialisable");
            v["reference"] = p.reference.into();
            v["url"] = p.url.into();
            v
        })
        .collect();
    serde_json::to_string_pretty(&cited).expect("serialisable") + "\n"
}
