//! `isenet verify` output: the proof report as text for people or JSON for pipelines.

use crate::prove::nsg::Report;

pub fn render_text(nsg: &str, report: &Report) -> String {
    let covered = report.requirements.iter().filter(|c| c.covered).count();
    let mut out = format!(
        "verify {nsg}: {covered} of {} requirements covered, {} opening(s) beyond them\n",
        report.requirements.len(),
        report.openings.len()
    );
    for c in &report.requirements {
        if c.covered {
            out += &format!(
                "  ok       {:<28} by {}\n",
                c.id,
                if c.rules.is_empty() { "-".to_string() } else { c.rules.join(", ") }
            );
        } else {
            out += &format!("  MISSING  {:<28} uncovered:\n", c.id);
            for f in &c.uncovered {
                out += &format!("             {f}\n");
            }
            if c.uncovered_more > 0 {
                out += &format!("             ... and {} more\n", c.uncovered_more);
            }
        }
    }
    for o in &report.openings {
        out += &format!("  OPEN     {:?} rule {} admits what no requirement needs:\n", o.direction, o.rule);
        for f in &o.flows {
            out += &format!("             {f}\n");
        }
        if o.flows_more > 0 {
            out += &format!("             ... and {} more\n", o.flows_more);
        }
    }
    if !report.shadowed.is_empty() {
        out += &format!("  shadowed (decide no packet): {}\n", report.shadowed.join(", "));
    }
    if !report.redundant.is_empty() {
        out += &format!("  redundant (removing them changes nothing): {}\n", report.redundant.join(", "));
    }
    for n in &report.notes {
        out += &format!("  note: {n}\n");
    }
    out += if report.ok { "result: ok\n" } else { "result: FINDINGS\n" };
    out
}

pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("serialisable") + "\n"
}

pub fn render_routes_text(report: &crate::prove::routes::RouteReport) -> String {
    let mut out = format!(
        "routes: {} route(s); {} of {} checks hold\n",
        report.routes,
        report.checks.iter().filter(|c| c.ok).count(),
        report.checks.len()
    );
    for c in &report.checks {
        if c.ok {
            out += &format!("  ok       {}\n", c.id);
        } else {
            out += &format!("  WRONG    {}:\n", c.id);
            for w in &c.wrong {
                out += &format!("             {w}\n");
            }
        }
    }
    for n in &report.notes {
        out += &format!("  note: {n}\n");
    }
    out += if report.ok {
        "routes result: ok\n"
    } else {
        "routes result: FINDINGS\n"
    };
    out
}

pub fn render_firewall_text(report: &crate::prove::firewall::FirewallReport) -> String {
    let covered = report
        .dependencies
        .iter()
        .filter(|d| d.covered && d.nsg_covered != Some(false))
        .count();
    let mut out = format!(
        "firewall: {covered} of {} dependencies allowed (firewall and NSG), {} opening(s) beyond them\n",
        report.dependencies.len(),
        report.openings.len()
    );
    for d in &report.dependencies {
        if d.covered && d.nsg_covered != Some(false) {
            out += &format!(
                "  ok       {:<34} by {}\n",
                d.id,
                if d.rules.is_empty() { "-".to_string() } else { d.rules.join(", ") }
            );
            continue;
        }
        out += &format!("  MISSING  {}:\n", d.id);
        for u in &d.uncovered {
            out += &format!("             firewall denies {u}\n");
        }
        for u in &d.nsg_uncovered {
            out += &format!("             NSG denies {u}\n");
        }
    }
    for o in &report.openings {
        out += &format!(
            "  OPEN     collection {} rule {} admits what no dependency needs:\n",
            o.collection, o.rule
        );
        for f in &o.flows {
            out += &format!("             {f}\n");
        }
    }
    for n in &report.notes {
        out += &format!("  note: {n}\n");
    }
    out += if report.ok {
        "firewall result: ok\n"
    } else {
        "firewall result: FINDINGS\n"
    };
    out
}
