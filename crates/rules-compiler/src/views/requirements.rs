//! `isenet requirements`: the requirements resolved for one environment, as an aligned table, JSON
//! or CSV, one line each with id, direction, source, destination, protocol, ports, purpose and
//! reference.

use super::table;
use ise_model::ports::format_list;
use ise_model::resolve::Resolved;

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

fn cells(r: &Resolved) -> Vec<String> {
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    vec![
        r.id.clone(),
        r.kind.as_str().to_string(),
        r.source.short(),
        r.destination.short(),
        dash(r.protocol.clone()),
        dash(format_list(&r.ports)),
        r.purpose.clone(),
        r.reference.clone(),
    ]
}

pub fn render_table(reqs: &[Resolved]) -> String {
    table::render(&HEADER, &reqs.iter().map(cells).collect::<Vec<_>>())
}

pub fn render_csv(reqs: &[Resolved]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("in-memory write");
    for r in reqs {
        w.write_record(cells(r)).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("cells are UTF-8")
}

pub fn render_json(reqs: &[Resolved]) -> String {
    serde_json::to_string_pretty(reqs).expect("serialisable") + "\n"
}
