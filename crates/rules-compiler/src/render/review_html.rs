//! `review.html`: one self-contained page for a reviewer who would rather look than read a CSV: the
//! summary, the flow diagram (the flows.svg drawing, inline), and the rule table with provenance and
//! proof status. No scripts, fonts or other files; a Content-Security-Policy of `default-src 'none'`
//! makes the browser refuse any network access the page might attempt.

use super::flows_svg::{escape, escape_into};
use super::review::{Exposure, Review, Row, Written};

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#1b1b1b}table{border-collapse:collapse;font-size:12px}\
th,td{border:1px solid #c5cbd3;padding:4px 6px;vertical-align:top;text-align:left}th{background:#eef3fb;position:sticky;top:0}\
td.addr{max-width:320px;word-break:break-all}tr.internet-any td{background:#fff3e0}tr.unproved td{background:#ffebee}\
.ok{color:#2e7d32}.bad{color:#c62828}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{font-weight:bold}\
figure{margin:0;overflow-x:auto}";

/// The columns after the rule's own (`Written::COLUMNS`).
const WHY: [&str; 3] = ["why (requirements, purpose, condition)", "published source", "proof"];

/// The page, with `svg` (flows.svg) inline.
pub fn render(review: &Review, svg: &str) -> String {
    let plan = review.plan;
    let env = &plan.environment;
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str(&format!(
        "<title>ISE network review: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&env.name)
    ));
    out.push_str(&format!("<h1>ISE network review: {}</h1>\n", escape(&env.name)));
    let (status_class, status) = if review.ok {
        ("ok", "isenet verify: every requirement covered, nothing else open")
    } else {
        ("bad", "isenet verify found gaps or openings (see the proof column)")
    };
    let facts = [
        ("cloud, location", format!("{}, {}", env.cloud.facts().display_name, env.location)),
        (
            "virtual network",
            format!(
                "{} ({})",
                env.virtual_network.name,
                env.virtual_network
                    .address_space
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "ISE subnets",
            plan.subnets
                .iter()
                .map(|s| format!("{} {}", s.name, s.prefix))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("access endpoint", super::template::word(env.access_endpoint)),
        (
            "forced tunneling",
            serde_json::json!(env.forced_tunneling.mode)
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        ("outbound policy", super::template::word(env.outbound_policy)),
        ("requirement table", plan.table_version.clone()),
        ("service tags", review.tags_snapshot.clone()),
    ];
    out.push_str("<section id=\"summary\"><h2>Summary</h2>\n<dl>\n");
    for (k, v) in facts {
        out.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(&v)));
    }
    out.push_str(&format!(
        "<dt>proof</dt><dd class=\"{status_class}\">{}</dd>\n</dl>\n</section>\n",
        escape(status)
    ));
    out.push_str("<section id=\"flows\"><h2>Flows</h2>\n<figure>\n");
    out.push_str(svg);
    out.push_str("</figure>\n</section>\n");
    out.push_str(&format!(
        "<section id=\"rules\"><h2>Rules ({})</h2>\n<table id=\"rule-table\">\n<thead><tr>",
        review.rows.len()
    ));
    for c in Written::COLUMNS.iter().chain(&WHY) {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &review.rows {
        row(&mut out, r);
    }
    out.push_str("</tbody>\n</table>\n</section>\n</body>\n</html>\n");
    out
}

/// Appends one row of the rule table, escaping each cell straight into the page (a fleet writes
/// thousands of rows).
fn row(out: &mut String, r: &Row) {
    out.push_str("<tr class=\"");
    let classes = [(r.internet == Exposure::Any, "internet-any"), (!r.proved, "unproved")];
    for (i, (_, class)) in classes.iter().filter(|(on, _)| *on).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(class);
    }
    out.push_str("\" data-artifact=\"");
    escape_into(out, r.written.artifact);
    out.push_str("\">");
    for (&column, c) in Written::COLUMNS.iter().zip(r.written.cells()) {
        // Address columns may hold thousands of prefixes: let them wrap.
        out.push_str(if column == "source" || column == "destination" {
            "<td class=\"addr\">"
        } else {
            "<td>"
        });
        escape_into(out, c);
        out.push_str("</td>");
    }
    // Why: requirements, purpose, condition.
    out.push_str("<td>");
    escape_into(out, &r.requirements.join(" "));
    out.push_str(" — ");
    escape_into(out, &r.purpose);
    out.push_str(" — ");
    escape_into(out, &r.condition);
    // The published source, its table version and links.
    out.push_str("</td><td>");
    escape_into(out, &r.reference);
    if !r.table_version.is_empty() {
        out.push_str(" (table ");
        escape_into(out, &r.table_version);
        out.push(')');
    }
    out.push_str("<br>");
    for (i, url) in r.url.split(' ').filter(|u| !u.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str("<a href=\"");
        escape_into(out, url);
        out.push_str("\">");
        escape_into(out, url);
        out.push_str("</a>");
    }
    // The proof, and the rule's exposure to the Internet.
    out.push_str("</td><td>");
    escape_into(out, &r.proof);
    if r.internet != Exposure::No {
        out.push_str("<br>Internet: ");
        escape_into(out, r.internet.as_str());
    }
    out.push_str("</td></tr>\n");
}
