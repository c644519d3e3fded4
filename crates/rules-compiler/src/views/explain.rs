//! `explain` for people: one flow in full (NSG decisions, route, firewall, verdict, expectation),
//! or many flows as a table with one line each.

use super::summary::{self, Names};
use super::table;
use crate::azure::firewall::FirewallAction;
use crate::azure::nsg::{Access, Protocol};
use crate::engine::flows::FlowPiece;
use crate::prove::explain::{Checked, Decision, Explanation, Verdict};
use crate::prove::explain_path::{FirewallDecision, FirewallRuleKind, RouteStep};
use ipnet::Ipv4Net;

/// `tcp/443`, `udp/1000-2000`, `icmp`, `any/*`.
fn flow_label(e: &Explanation) -> String {
    let protocol = match e.protocol {
        Protocol::Any => "any".to_string(),
        p => p.as_str().to_ascii_lowercase(),
    };
    match e.protocol {
        Protocol::Icmp | Protocol::Esp | Protocol::Ah => protocol,
        _ => format!("{protocol}/{}", e.ports),
    }
}

fn nsg_who(d: &Decision) -> String {
    if d.unfiltered {
        return "the platform: NSGs do not filter 168.63.129.16 and 169.254.169.254 (Azure DNS, DHCP, health, instance metadata)".into();
    }
    let mut who = match (&d.rule, d.default_rule) {
        (Some(r), true) => format!("Azure default rule {r} ({})", d.priority.unwrap_or_default()),
        (Some(r), false) => format!("rule {r} (priority {})", d.priority.unwrap_or_default()),
        (None, _) => "no rule (denied)".to_string(),
    };
    if d.serves_no_requirement {
        who += ", which serves no requirement";
    }
    who
}

fn firewall_who(f: &FirewallDecision) -> String {
    let verdict = if f.action == FirewallAction::Allow { "allowed" } else { "denied" };
    let mut who = match (f.kind, &f.rule) {
        (FirewallRuleKind::None, _) | (_, None) => return "denied: no rule matches (Azure Firewall denies by default)".into(),
        (FirewallRuleKind::Network, Some(r)) => format!("{verdict} by network rule {r}"),
        (FirewallRuleKind::Application, Some(r)) => format!("{verdict} by application rule {r}"),
    };
    if let Some(c) = &f.collection {
        who += &format!(" (collection {c})");
    }
    if !f.dependencies.is_empty() {
        who += &format!(", dependency {}", f.dependencies.join(", "));
    } else if f.serves_no_requirement {
        who += ", which serves no requirement";
    }
    who
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
        Verdict::Mixed => "mixed (part allowed, part denied)",
    }
}

/// Runs of at least this many routes with one next hop and nothing else to say are one line: a
/// DNS name follows every route (it may resolve anywhere), the compiled table has dozens to the
/// Internet, and one line per route buried the firewall's decision.
const COLLAPSED_RUN: usize = 4;

/// A collapsed run up to this long names every route (the service endpoints' system routes);
/// a longer one its first three and a count.
const NAMED_RUN: usize = 6;

/// Whether a step says no more than its route, next hop and flows.
fn plain(s: &RouteStep) -> bool {
    s.firewall.is_empty() && s.note.is_none()
}

fn same_hop(a: &RouteStep, b: &RouteStep) -> bool {
    a.next_hop == b.next_hop && a.next_hop_ip_address == b.next_hop_ip_address
}

fn route_lines(steps: &[RouteStep], names: &Names) -> String {
    let mut out = String::new();
    let mut at = 0;
    while at < steps.len() {
        let run = steps[at..]
            .iter()
            .take_while(|s| plain(s) && plain(&steps[at]) && same_hop(s, &steps[at]))
            .count();
        if run >= COLLAPSED_RUN {
            out += &collapsed_routes(&steps[at..at + run], names);
            at += run;
            continue;
        }
        out += &route_step(&steps[at], steps.len() > 1, names);
        at += 1;
    }
    out
}

fn route_step(s: &RouteStep, with_flows: bool, names: &Names) -> String {
    let mut out = format!("  route {}: next hop {}", s.route, s.next_hop);
    if let Some(ip) = s.next_hop_ip_address {
        out += &format!(" {ip}");
    }
    if let Some(n) = &s.note {
        out += &format!(" ({n})");
    }
    out += "\n";
    if with_flows {
        out += &format!("    for {}\n", summary::flows(&s.flows, names));
    }
    for f in &s.firewall {
        out += &format!("    firewall: {}\n", firewall_who(f));
        if s.firewall.len() > 1 {
            out += &format!("      for {}\n", summary::flows(&f.flows, names));
        }
    }
    out
}

/// A run of plain steps through one next hop: the first routes by name, how many there are, and
/// their flows joined when they differ only in destination (`--format json` lists each).
fn collapsed_routes(run: &[RouteStep], names: &Names) -> String {
    let first = &run[0];
    let names_of = |n: usize| run.iter().take(n).map(|s| s.route.as_str()).collect::<Vec<_>>().join(", ");
    let routes = if run.len() <= NAMED_RUN {
        names_of(run.len())
    } else {
        format!("{} and {} more ({} routes)", names_of(3), run.len() - 3, run.len())
    };
    let mut out = format!("  routes {routes}: next hop {}", first.next_hop);
    if let Some(ip) = first.next_hop_ip_address {
        out += &format!(" {ip}");
    }
    out += "\n";
    let pieces: Vec<&FlowPiece> = run.iter().flat_map(|s| &s.flows).collect();
    let alike = |a: &FlowPiece, b: &FlowPiece| {
        a.protocols == b.protocols && a.src == b.src && a.src_ports == b.src_ports && a.dst_ports == b.dst_ports
    };
    let Some(&first_piece) = pieces.first() else {
        return out;
    };
    if pieces.iter().all(|p| alike(p, first_piece)) {
        let joined = FlowPiece {
            dst: Ipv4Net::aggregate(&pieces.iter().flat_map(|p| p.dst.iter().copied()).collect::<Vec<_>>()),
            ..first_piece.clone()
        };
        out += &format!("    for {}\n", summary::flow(&joined, names));
    } else {
        let all: Vec<FlowPiece> = pieces.into_iter().cloned().collect();
        out += &format!("    for {}\n", summary::flows(&all, names));
    }
    out
}

/// The `--as-member` addresses, which change what VirtualNetwork and Internet hold: said with
/// every answer that takes them.
fn members_line(e: &Explanation, indent: &str, names: &Names) -> String {
    match e.taken_as_members.as_deref() {
        None => String::new(),
        Some([]) => format!(
            "{indent}taken as VirtualNetwork members (--as-member): none, every address given is a declared network's or the platform's\n"
        ),
        Some(members) => {
            let prefixes: Vec<ipnet::Ipv4Net> = members.iter().filter_map(|m| m.parse().ok()).collect();
            format!(
                "{indent}taken as VirtualNetwork members, not Internet (--as-member): {}\n",
                summary::addresses(&prefixes, names)
            )
        }
    }
}

/// One flow in full.
pub fn render_text(c: &Checked, names: &Names) -> String {
    let e = &c.explanation;
    let mut out = format!("{} -> {} {}\n", e.from, e.to, flow_label(e));
    out += &members_line(e, "  ", names);
    if let Some(subnets) = &e.decided_only_within {
        out += &format!(
            "  decided only where an end is in the ISE subnets ({}): this NSG filters nothing else of the flow\n",
            subnets.join(", ")
        );
    }
    for d in &e.decisions {
        let verdict = if d.access == Access::Allow { "allowed" } else { "denied" };
        out += &format!("  {}: {verdict} by {}\n", d.direction, nsg_who(d));
        if !d.requirements.is_empty() {
            out += &format!("    requirements: {}\n", d.requirements.join(", "));
        }
        if e.decisions.iter().filter(|x| x.direction == d.direction).count() > 1 {
            for f in &d.flows {
                out += &format!("    for {}\n", summary::flow(f, names));
            }
        }
    }
    out += &route_lines(&e.path, names);
    out += &format!("  verdict: {}\n", verdict_word(e.verdict));
    if e.verdict == Verdict::Mixed {
        out += &format!("    allowed: {}\n", summary::flows(&e.allowed, names));
        out += &format!("    denied: {}\n", summary::flows(&e.denied, names));
    }
    if let (Some(expect), Some(ok)) = (c.expect, c.matches) {
        out += &if ok {
            format!("  expected {}: ok\n", expect.as_str())
        } else if c.unproved {
            format!(
                "  UNPROVED: expected {}, and the verdict is {}, but a firewall rule the verifier set aside or an undocumented group order may decide otherwise (warnings below)\n",
                expect.as_str(),
                e.verdict.as_str()
            )
        } else {
            format!(
                "  MISMATCH: expected {}, but the verdict is {}\n",
                expect.as_str(),
                e.verdict.as_str()
            )
        };
    }
    // After the verdict, which it may make wrong.
    for n in &e.notes {
        out += &format!("  warning[{}]: {}\n", n.code, n.message);
    }
    out
}

/// What decided, in a few words: the NSG rules, then the route and firewall rules.
fn deciders(e: &Explanation) -> String {
    let mut names: Vec<String> = e
        .decisions
        .iter()
        .map(|d| {
            let none = if d.unfiltered { "platform (not filtered)" } else { "no rule" };
            let rule = d.rule.clone().unwrap_or_else(|| none.into());
            let mark = if d.serves_no_requirement { " (serves no requirement)" } else { "" };
            format!("{} {rule}{mark}", d.direction.as_str().to_ascii_lowercase())
        })
        .collect();
    for s in &e.path {
        let ip = s.next_hop_ip_address.map(|ip| format!(" {ip}")).unwrap_or_default();
        names.push(format!("route {} -> {}{ip}", s.route, s.next_hop));
        names.extend(s.firewall.iter().map(|f| {
            let mark = if f.serves_no_requirement { " (serves no requirement)" } else { "" };
            format!("firewall {}{mark}", f.rule.as_deref().unwrap_or("no rule"))
        }));
    }
    names.dedup();
    names.join("; ")
}

/// Many flows: one line each, and a closing count; `quiet`, only the mismatches (the findings),
/// without the count.
pub fn render_table(results: &[Checked], quiet: bool) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter(|c| !quiet || c.failed())
        .map(|c| {
            let e = &c.explanation;
            vec![
                c.line.map(|l| l.to_string()).unwrap_or_default(),
                e.from.clone(),
                e.to.clone(),
                flow_label(e),
                c.expect.map(|x| x.as_str().to_string()).unwrap_or_else(|| "-".into()),
                e.verdict.as_str().to_string(),
                match c.matches {
                    Some(true) => "ok".into(),
                    Some(false) if c.unproved => "UNPROVED".into(),
                    Some(false) => "MISMATCH".into(),
                    None => "-".into(),
                },
                deciders(e),
            ]
        })
        .collect();
    let mut out = String::new();
    if !rows.is_empty() {
        out += &table::render(&["line", "from", "to", "flow", "expect", "verdict", "result", "decided by"], &rows);
    }
    if !quiet {
        // The same addresses for every flow of the run.
        out += &results
            .first()
            .map(|c| members_line(&c.explanation, "", &Names::default()))
            .unwrap_or_default();
        let failed = results.iter().filter(|c| c.failed() && !c.unproved).count();
        let unproved = results.iter().filter(|c| c.failed() && c.unproved).count();
        let checked = results.iter().filter(|c| c.expect.is_some()).count();
        let unproved = if unproved > 0 {
            format!(", {unproved} unproved")
        } else {
            String::new()
        };
        out += &format!(
            "\n{} flows, {checked} with an expectation, {failed} {}{unproved}\n",
            results.len(),
            if failed == 1 { "mismatch" } else { "mismatches" }
        );
    }
    // Once per rule and tag, not per flow: a flows file asks the same rules many times.
    let mut warned: Vec<(&str, &str)> = Vec::new();
    for n in results.iter().flat_map(|c| &c.explanation.notes) {
        if !warned.contains(&(n.rule.as_str(), n.tag.as_str())) {
            warned.push((&n.rule, &n.tag));
            out += &format!("warning[{}]: {}\n", n.code, n.message);
        }
    }
    out
}
