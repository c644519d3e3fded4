//! `change-ticket.md`: what a firewall/network change request needs, readable in GitHub and Azure
//! DevOps: the environment, a Mermaid picture of the flows, every rule, route, firewall rule and
//! service endpoint to create with its justification and published reference, risk notes,
//! validation commands and rollback. Rendered from the review (plan + proof) through
//! templates/change-ticket.md.hbs.

use super::flows;
use super::inserts::Inserts;
use super::review::{Exposure, Review, Row};
use super::template;
use super::ticket_commands;
use ise_model::env::TunnelingMode;
use serde_json::{json, Value};

/// A Markdown table cell's replacements: pipes escaped, line breaks flattened.
fn cell_byte(b: u8) -> Option<&'static str> {
    match b {
        b'|' => Some("\\|"),
        b'\n' | b'\r' => Some(" "),
        _ => None,
    }
}

/// Appends `s` as a Markdown table cell.
fn cell(out: &mut String, s: &str) {
    super::substitute::substitute_into(out, s, cell_byte);
}

/// `s` as a CommonMark code span. A span ends at the first backtick run as long as its opening
/// one, so the fence is the shortest run length `s` lacks; content starting or ending with a
/// backtick is padded with a space (CommonMark strips one from each side).
fn code(s: &str) -> String {
    let mut lengths = std::collections::BTreeSet::new();
    let mut run = 0;
    for c in s.chars().chain(std::iter::once(' ')) {
        if c == '`' {
            run += 1;
        } else if run > 0 {
            lengths.insert(run);
            run = 0;
        }
    }
    let fence = "`".repeat((1..).find(|n| !lengths.contains(n)).unwrap_or(1));
    // CommonMark strips a space from both sides only when both sides have one and the content is
    // not all spaces: padding both sides is then undone exactly.
    let pad = if s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' ') && s.trim() != "") {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` as a table cell on its own (the summary's values).
fn cell_text(s: &str) -> String {
    super::substitute::substitute(s, cell_byte)
}

/// Appends one line of a section's table, in the columns of the template's header. Written here
/// rather than by the template (handlebars' lookups cost about 4,500 instructions a cell), each
/// cell escaped straight into the section's text.
fn row(out: &mut String, r: &Row) {
    let w = &r.written;
    out.push_str("| ");
    cell(out, &code(&w.name));
    for field in [
        &w.priority,
        &w.direction,
        &w.access,
        &w.protocol,
        &w.source,
        &w.destination,
        &w.ports,
    ] {
        out.push_str(" | ");
        cell(out, field);
    }
    out.push_str(" | ");
    cell(out, &r.purpose);
    if !r.requirements.is_empty() {
        out.push_str(" (");
        cell(out, &r.requirements.join(", "));
        out.push(')');
    }
    // The link text drops brackets, which would end it early.
    out.push_str(" | [");
    super::substitute::substitute_into(out, &r.reference, |b| match b {
        b'[' | b']' => Some(""),
        b => cell_byte(b),
    });
    out.push_str("](");
    out.push_str(r.url.split(' ').next().unwrap_or_default());
    out.push_str(") |");
}

fn risks(review: &Review) -> Vec<String> {
    let env = &review.plan.environment;
    let mut out = Vec::new();
    for r in review.rows.iter().filter(|r| r.internet != Exposure::No) {
        let what = match r.internet {
            Exposure::Any => "admits **any Internet address**",
            _ => "admits public addresses (Azure service addresses or declared callers)",
        };
        out.push(format!(
            "`{}` {what} on port(s) {}: {}.",
            r.written.name, r.written.ports, r.purpose
        ));
    }
    out.push(match env.forced_tunneling.mode {
        TunnelingMode::None => "VirtualNetwork tag: without forced tunneling the tag means the address space and its peerings, as the published table writes it. If a 0.0.0.0/0 route is ever added to these subnets, VirtualNetwork grows to the whole Internet: recompile with the tunneling mode set.".to_string(),
        _ => "VirtualNetwork/UDR trap: a 0.0.0.0/0 route on the subnets makes Azure's VirtualNetwork tag (and the default AllowVnetInBound) cover the whole Internet. These rules never use VirtualNetwork as a peer; they name the address space and the declared internal callers, and `deny-all-inbound` at 4096 shuts AllowVnetInBound off.".to_string(),
    });
    if env.forced_tunneling.mode == TunnelingMode::Firewall {
        let fw = &review.plan.firewall;
        out.push(format!(
            "Firewall policy: the rules are one rule collection group, `{group}`, at priority {priority}, added to the existing policy. Azure Firewall processes every network rule before any application rule, and within each kind the groups by priority (lower number first): a network Deny in a group numbered below {priority} overrides these network rules, a network Deny in any group overrides these application rules for the addresses it names, and an application Deny in a group below {priority} overrides these application rules. Check the policy's other groups for such Deny rules before deploying.",
            group = fw.rule_collection_group,
            priority = fw.rule_collection_group_priority
        ));
        out.push("Firewall: do not enable TLS/SSL termination, TLS inspection or any other inspection (IDPS) for traffic from the ISE subnets, and do not change their outbound TLS traffic (seed 002, network virtual appliances). The rule collection group joins an existing policy: if that policy inspects TLS or runs IDPS in deny mode, exempt the four ISE subnets before the ISE deploys.".to_string());
    }
    if !env.custom_dns_servers.is_empty() {
        out.push("Custom DNS: set the virtual network's DNS servers before the ISE is deployed; after any later change to the DNS servers or their settings, restart the ISE so it picks the change up (seed 002).".to_string());
    }
    if env.forced_tunneling.mode == TunnelingMode::Firewall {
        out.extend(crate::plan::not_through_the_firewall(env));
    }
    if env.outbound_policy == ise_model::env::OutboundPolicy::Open {
        out.push("Outbound policy `open`: Azure's default AllowInternetOutBound stays, so the ISE can reach any Internet address; set `outboundPolicy: restricted` to allow only the requirements and the declared destinations.".into());
    }
    // Rules whose addresses stand in for a tag: they change when Microsoft changes the source.
    let standing_in = [
        ("does not work in NSGs", "Government substitutions: {} carry Microsoft's published Logic Apps and connector address lists instead of tags that do not work in NSGs here. When Microsoft changes those lists, recompile and raise a new change."),
        ("does not list NSG among its networkFeatures", "Service tags written as addresses: {} carry the addresses of tags this cloud's tag file does not mark usable in NSGs. When Microsoft changes those tags, `isenet tags diff` names these rules: recompile and raise a new change."),
    ];
    for (condition, note) in standing_in {
        let names: Vec<String> = review
            .rows
            .iter()
            .filter(|r| r.condition.contains(condition))
            .map(|r| format!("`{}`", r.written.name))
            .collect();
        if !names.is_empty() {
            out.push(note.replace("{}", &names.join(", ")));
        }
    }
    out.push(format!(
        "Service tags: {}. Microsoft publishes a new file weekly; `isenet tags diff OLD NEW --env ENV` says whether these rules change.",
        review.tags_snapshot
    ));
    let informational: Vec<&str> = review
        .rows
        .iter()
        .filter(|r| r.proof.contains("shadowed") || r.proof.contains("redundant"))
        .map(|r| r.written.name.as_str())
        .collect();
    if !informational.is_empty() {
        out.push(format!(
            "Overlapping rules (informational, kept so each published requirement has its own rule): {}.",
            informational.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

pub fn render(review: &Review, graph: &flows::Graph) -> String {
    let plan = review.plan;
    let env = &plan.environment;
    let count = |kind: &str| review.rows.iter().filter(|r| r.written.artifact.starts_with(kind)).count();
    // The rows (thousands of prefixes with --expand-tags) go in after rendering.
    let mut inserts = Inserts::default();
    let sections: Vec<Value> = [
        ("NSG rules", "nsg"),
        ("Routes", "route"),
        ("Azure Firewall rules", "firewall"),
        ("Service endpoints", "service-endpoint"),
    ]
    .iter()
    .filter_map(|(title, kind)| {
        let mut rows = String::new();
        let mut listed = 0;
        for r in review.rows.iter().filter(|r| r.written.artifact.starts_with(kind)) {
            if listed > 0 {
                rows.push('\n');
            }
            row(&mut rows, r);
            listed += 1;
        }
        (listed > 0).then(|| json!({ "title": format!("{title} to create ({listed})"), "rows": inserts.add(rows) }))
    })
    .collect();
    let data = json!({
        "tableVersion": plan.table_version,
        "tagsSnapshot": cell_text(&review.tags_snapshot),
        "proof": if review.ok { "isenet verify: every requirement covered, nothing else open" } else { "isenet verify found gaps or openings: see review.csv" },
        "title": code(&env.name),
        // Every value of the summary table is a cell: a `|` in a subnet name would split it.
        "env": {
            "name": cell_text(&code(&env.name)),
            "sku": cell_text(&format!("{} {}", template::word(env.sku.name), env.sku.capacity)),
            "cloud": cell_text(&env.cloud.facts().display_name),
            "location": cell_text(&env.location),
            "subscription": cell_text(&code(&env.subscription_id)),
            "resourceGroup": cell_text(&code(&env.resource_group)),
            "vnet": cell_text(&code(&env.virtual_network.name)),
            "addressSpace": cell_text(&env.virtual_network.address_space.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
            "subnets": cell_text(&plan.subnets.iter().map(|s| format!("{} {}", code(&s.name), s.prefix)).collect::<Vec<_>>().join(", ")),
            "accessEndpoint": cell_text(&template::word(env.access_endpoint)),
            "tunneling": cell_text(&match env.forced_tunneling.firewall_private_ip {
                Some(ip) if env.forced_tunneling.mode == TunnelingMode::Firewall => format!("firewall at {ip}"),
                _ => template::word(env.forced_tunneling.mode),
            }),
            "outboundPolicy": cell_text(&template::word(env.outbound_policy)),
            "nsg": cell_text(&code(&env.nsg_name)),
            "routeTable": cell_text(&code(&env.route_table_name)),
            "serviceEndpoints": cell_text(&plan.subnets.first().map(|s| s.service_endpoints.join(", ")).unwrap_or_default()),
        },
        "counts": {
            "nsg": count("nsg"),
            "routes": count("route"),
            "firewall": count("firewall"),
            "endpoints": count("service-endpoint"),
        },
        "mermaid": flows::mermaid(graph),
        "sections": sections,
        "risks": risks(review),
        "validation": ticket_commands::validation(review),
        "namesPolicy": ticket_commands::names_policy(review),
        "policy": ticket_commands::POLICY,
        "policyResourceGroup": ticket_commands::POLICY_RESOURCE_GROUP,
        "ipFlows": ticket_commands::ip_flows(review),
        "rollback": ticket_commands::rollback(review)
            .into_iter()
            .map(|s| json!({ "text": s.text, "commands": s.commands }))
            .collect::<Vec<_>>(),
    });
    template::text_inserting("change-ticket.md", data, inserts)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn code_spans_take_a_fence_the_content_lacks() {
        // CommonMark: a span closes at the first backtick run as long as its opening one.
        assert_eq!(super::code("ise-1"), "`ise-1`");
        assert_eq!(super::code("a`b"), "``a`b``");
        assert_eq!(super::code("a``b"), "`a``b`");
        assert_eq!(super::code("a`b``c"), "```a`b``c```");
        assert_eq!(super::code("`x"), "`` `x ``");
        assert_eq!(super::code("x`"), "`` x` ``");
        assert_eq!(super::code(" x "), "`  x  `");
        assert_eq!(super::code("app|db"), "`app|db`");
    }

    proptest! {
        #[test]
        fn cells_escape_pipes_and_flatten_line_breaks(s in "[a|\n\ré ]{0,12}") {
            let mut cell = String::from("x");
            super::cell(&mut cell, &s);
            prop_assert_eq!(cell, format!("x{}", s.replace('|', "\\|").replace(['\n', '\r'], " ")));
        }
    }
}
