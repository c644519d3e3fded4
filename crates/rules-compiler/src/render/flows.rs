//! The flow picture shared by the Mermaid flowchart of change-ticket.md and flows.svg: sources on
//! the left, the four ISE subnets in the middle, destinations on the right; one node per service
//! tag or named group of addresses (so it stays readable), edges labelled with their ports. Built
//! from the plan's allow rules (and, in firewall mode, the default route to the firewall).

use crate::azure::nsg::{Access, AddressMatch, Direction};
use crate::azure::route::NextHop;
use crate::plan::{Plan, PlanRule};
use crate::render::prefix_text;
use ise_model::ports::{format_list, PortRange};
use ise_model::resolve::Peer;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Source,
    Destination,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// From the node's own side and label (`node_ids`), so one node more or less leaves every
    /// other node's id, and every edge, as it was.
    pub id: String,
    pub side: Side,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Node id, or [`ISE`] for the subnets.
    pub from: String,
    pub to: String,
    /// Ports, `*` or a route note.
    pub label: String,
}

/// The id of the group of the four ISE subnets.
pub const ISE: &str = "ise";

#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// `(name, prefix)` of the four subnets.
    pub subnets: Vec<(String, String)>,
    pub edges: Vec<Edge>,
}

/// One label per address field: the tag, or the requirement's name for its prefixes.
fn peer_label(plan: &PlanRule, field: &AddressMatch, side: Side, p: &Plan) -> String {
    let req = plan.requirements.first().and_then(|id| p.requirements.iter().find(|r| &r.id == id));
    match field {
        AddressMatch::Any => "Any address".into(),
        AddressMatch::Tag(t) => t.clone(),
        AddressMatch::Prefixes(prefixes) => {
            let peer = req.map(|r| if side == Side::Source { &r.source } else { &r.destination });
            match peer {
                Some(Peer::Prefixes { label, .. }) if prefixes.len() > 2 => format!("{label} ({} prefixes)", prefixes.len()),
                Some(Peer::Prefixes { label, .. }) if !label.contains('/') => {
                    format!("{label}: {}", prefix_text::join(prefixes, " "))
                }
                _ => prefix_text::join(prefixes, " "),
            }
        }
        AddressMatch::Prefixes6(p) => format!("{} IPv6 prefixes", p.len()),
    }
}

pub fn graph(plan: &Plan) -> Graph {
    // (side, label) -> set of (edge label) per direction.
    let mut edges: BTreeMap<(Side, String), BTreeSet<PortRange>> = BTreeMap::new();
    let mut routes: BTreeSet<String> = BTreeSet::new();
    for r in plan.security_rules.iter().filter(|r| r.rule.access == Access::Allow) {
        let (side, field) = match r.rule.direction {
            Direction::Inbound => (Side::Source, &r.rule.source),
            Direction::Outbound => (Side::Destination, &r.rule.destination),
        };
        edges
            .entry((side, peer_label(r, field, side, plan)))
            .or_default()
            .extend(r.rule.destination_ports.iter().copied());
    }
    if let Some(default) = plan.routes.iter().find(|r| r.address_prefix == "0.0.0.0/0") {
        let label = match (default.next_hop_type, default.next_hop_ip_address) {
            (NextHop::VirtualAppliance, Some(ip)) => format!("Azure Firewall {ip}"),
            (hop, _) => format!("{hop:?} (default route)"),
        };
        routes.insert(label);
    }
    let mut nodes = Vec::new();
    let mut out_edges = Vec::new();
    let labelled = edges
        .into_iter()
        .map(|(k, ports)| (k, format_list(&ports.into_iter().collect::<Vec<_>>()).replace(',', ", ")))
        .chain(
            routes
                .into_iter()
                .map(|label| ((Side::Destination, label), "0.0.0.0/0 route".to_string())),
        );
    let mut sorted: Vec<((Side, String), String)> = labelled.collect();
    sorted.sort();
    let ids = node_ids(sorted.iter().map(|((side, label), _)| (*side, label.as_str())));
    for (((side, label), label_ports), id) in sorted.into_iter().zip(ids) {
        out_edges.push(match side {
            Side::Source => Edge {
                from: id.clone(),
                to: ISE.into(),
                label: label_ports,
            },
            Side::Destination => Edge {
                from: ISE.into(),
                to: id.clone(),
                label: label_ports,
            },
        });
        nodes.push(Node { id, side, label });
    }
    Graph {
        nodes,
        subnets: plan.subnets.iter().map(|s| (s.name.clone(), s.prefix.clone())).collect(),
        edges: out_edges,
    }
}

/// Each node's id, for nodes in (side, label) order: `src` or `dst` and the 32-bit FNV-1a of the
/// label in hex (`dst6f1c02aa`), a word Mermaid, SVG and HTML all take as an id, distinct from the
/// subnets' `s0`-`s3`, the groups' names and the page's sections. Of two labels of one side that
/// hash alike, the later (in label order) hashes its label with `#1`, `#2`, ... until its id is free.
fn node_ids<'a>(nodes: impl Iterator<Item = (Side, &'a str)>) -> Vec<String> {
    let mut taken = BTreeSet::new();
    nodes
        .map(|(side, label)| {
            let prefix = match side {
                Side::Source => "src",
                Side::Destination => "dst",
            };
            let id = (0u32..)
                .map(|k| {
                    let key = if k == 0 { label.to_string() } else { format!("{label}#{k}") };
                    format!("{prefix}{:08x}", crate::fnv::fnv1a(&key))
                })
                .find(|id| !taken.contains(id))
                .expect("a free id");
            taken.insert(id.clone());
            id
        })
        .collect()
}

/// The bytes kept in a Mermaid label, by value (a table: labels run to thousands of prefixes).
const SAFE_IN_MERMAID: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b',' | b':' | b'/' | b'(' | b')' | b'+' | b'*' | b'-' | b'_' | b'\'');
        b += 1;
    }
    t
};

/// The bytes of a label already safe: [`SAFE_IN_MERMAID`] and the space.
const SAFE_OR_SPACE: [bool; 256] = {
    let mut t = SAFE_IN_MERMAID;
    t[b' ' as usize] = true;
    t
};

/// Text safe in a Mermaid label: letters and digits (any script: a quoted label takes Unicode, and
/// a subnet may be named `Ωmega`), space and `.,:/()+*-_'`; anything else (quotes, brackets,
/// pipes, `;`, `#`, `<`, `>`, `&`, other symbols and controls) becomes a space, since Mermaid parses
/// those.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    mermaid_text_into(&mut out, s);
    out
}

/// [`mermaid_text`] appended to `out` (a label may list thousands of prefixes).
fn mermaid_text_into(out: &mut String, s: &str) {
    let safe = |b: u8| SAFE_IN_MERMAID[usize::from(b)];
    // Already safe, as prefix lists are (`a, b`): single spaces between safe bytes only.
    let bytes = s.as_bytes();
    let clean = bytes.first().is_none_or(|&b| safe(b))
        && bytes.last().is_none_or(|&b| safe(b))
        && bytes.iter().all(|&b| SAFE_OR_SPACE[usize::from(b)])
        && !bytes.windows(2).any(|pair| pair == b"  ");
    if clean {
        out.push_str(s);
        return;
    }
    // Otherwise one pass over the characters: runs of other characters become one space, none at
    // either end.
    let keep = |c: char| if c.is_ascii() { safe(c as u8) } else { c.is_alphanumeric() };
    let from = out.len();
    let mut pending_space = false;
    for c in s.chars() {
        if keep(c) {
            if pending_space && out.len() > from {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
}

/// The graph as a Mermaid `flowchart LR`.
pub fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let group = |out: &mut String, title: &str, id: &str, side: Side| {
        out.push_str(&format!("  subgraph {id}[\"{title}\"]\n"));
        for n in g.nodes.iter().filter(|n| n.side == side) {
            out.push_str("    ");
            out.push_str(&n.id);
            out.push_str("[\"");
            mermaid_text_into(out, &n.label);
            out.push_str("\"]\n");
        }
        out.push_str("  end\n");
    };
    group(&mut out, "Sources", "sources", Side::Source);
    out.push_str(&format!("  subgraph {ISE}[\"ISE subnets\"]\n"));
    for (i, (name, prefix)) in g.subnets.iter().enumerate() {
        out.push_str(&format!("    s{i}[\"{} {}\"]\n", mermaid_text(name), mermaid_text(prefix)));
    }
    out.push_str("  end\n");
    group(&mut out, "Destinations", "destinations", Side::Destination);
    for e in &g.edges {
        out.push_str("  ");
        out.push_str(&e.from);
        out.push_str(" -->|\"");
        mermaid_text_into(&mut out, &e.label);
        out.push_str("\"| ");
        out.push_str(&e.to);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::servicetags::ServiceTags;
    use std::collections::{BTreeMap, BTreeSet};

    fn plans() -> Vec<Plan> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden");
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path().join("env.json")).unwrap();
            let env = ise_model::env::load(&text, "env.json").env.unwrap();
            out.push(crate::plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap());
        }
        out
    }

    /// What a Mermaid parser needs of our output: every edge end declared, every subgraph closed,
    /// labels free of the characters Mermaid gives meaning to.
    fn check_mermaid(text: &str) {
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("flowchart LR"));
        let mut declared = BTreeSet::new();
        let mut depth = 0i32;
        let mut edges = 0;
        for line in lines {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("subgraph ") {
                depth += 1;
                declared.insert(rest.split('[').next().unwrap().to_string());
            } else if t == "end" {
                depth -= 1;
                assert!(depth >= 0, "`end` without subgraph");
            } else if let Some((from, rest)) = t.split_once(" -->|\"") {
                let (label, to) = rest.split_once("\"| ").unwrap();
                assert!(declared.contains(from) && declared.contains(to), "undeclared node in `{t}`");
                assert_eq!(label, mermaid_text(label));
                edges += 1;
            } else {
                let (id, label) = t.split_once("[\"").unwrap_or_else(|| panic!("unexpected line `{t}`"));
                let label = label.strip_suffix("\"]").unwrap();
                assert!(!label.is_empty() && label == mermaid_text(label), "label `{label}`");
                assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "id `{id}`");
                assert!(declared.insert(id.to_string()), "`{id}` declared twice");
            }
        }
        assert_eq!(depth, 0, "unbalanced subgraphs");
        assert!(edges > 0);
    }

    #[test]
    fn mermaid_of_every_golden_environment_is_well_formed() {
        for plan in plans() {
            let g = graph(&plan);
            check_mermaid(&mermaid(&g));
            // Every allow rule's peer has its node; four subnets in the middle.
            assert_eq!(g.subnets.len(), 4);
            let allows = plan.security_rules.iter().filter(|r| r.rule.access == Access::Allow).count();
            assert!(g.edges.len() <= allows + 1 && !g.edges.is_empty());
        }
    }

    #[test]
    fn node_ids_come_from_the_nodes_own_side_and_label() {
        let fnv = |s: &str| s.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        let ids = node_ids(
            [
                (Side::Source, "AzureCloud"),
                (Side::Destination, "AzureCloud"),
                (Side::Destination, "Storage"),
            ]
            .into_iter(),
        );
        assert_eq!(
            ids,
            [
                format!("src{:08x}", fnv("AzureCloud")),
                format!("dst{:08x}", fnv("AzureCloud")),
                format!("dst{:08x}", fnv("Storage"))
            ]
        );
        // `costarring` and `liquid` are a known FNV-1a collision (0x5e4daa9d): the later label
        // takes the hash of `liquid#1`, and the earlier keeps its own id whatever else is there.
        assert_eq!(fnv("costarring"), fnv("liquid"));
        let ids = node_ids([(Side::Destination, "costarring"), (Side::Destination, "liquid")].into_iter());
        assert_eq!(ids, ["dst5e4daa9d".to_string(), format!("dst{:08x}", fnv("liquid#1"))]);
        assert_eq!(
            node_ids([(Side::Source, "costarring"), (Side::Destination, "liquid")].into_iter()),
            ["src5e4daa9d", "dst5e4daa9d"]
        );
    }

    #[test]
    fn one_more_destination_or_caller_leaves_every_other_line_of_the_diagram() {
        let plan = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(ise_model::data::EXAMPLE_ENVIRONMENT).unwrap();
            v["accessEndpoint"] = "external".into();
            edit(&mut v);
            let env = ise_model::env::load(&v.to_string(), "env.json").env.unwrap();
            crate::plan::build(&env, ServiceTags::embedded(env.cloud), None).unwrap()
        };
        let before = graph(&plan(&|_| {}));
        let after = graph(&plan(&|v| {
            // `aaa` sorts before `partner-sftp`: positional ids would renumber that node and its edge.
            v["outboundDestinations"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"name": "aaa", "prefixes": ["192.0.2.1"], "ports": ["22"]}));
            v["internalCallers"] = serde_json::json!(["172.20.5.4"]);
        }));
        let key = |n: &Node| (n.side, n.label.clone());
        let ids: BTreeMap<(Side, String), String> = after.nodes.iter().map(|n| (key(n), n.id.clone())).collect();
        for n in &before.nodes {
            if let Some(id) = ids.get(&key(n)) {
                assert_eq!(id, &n.id, "{:?}", key(n));
            }
        }
        assert_eq!(after.nodes.len(), before.nodes.len() + 2, "{:?}", after.nodes);
        // Only the two new nodes' lines and their edges are new in the Mermaid text.
        let lines = |g: &Graph| mermaid(g).lines().map(str::to_string).collect::<BTreeSet<String>>();
        let added: Vec<String> = lines(&after).difference(&lines(&before)).cloned().collect();
        assert_eq!(added.len(), 4, "{added:?}");
        assert!(lines(&before).is_subset(&lines(&after)));
    }

    #[test]
    fn mermaid_text_drops_what_mermaid_parses() {
        assert_eq!(mermaid_text("a\"b[c]{d}|e;f#g<h>&i"), "a b c d e f g h i");
        assert_eq!(mermaid_text("10.10.0.0/16 (3 prefixes)"), "10.10.0.0/16 (3 prefixes)");
        // Letters of any script stay; symbols and controls outside ASCII go.
        assert_eq!(mermaid_text("Ωmega _日本語 Zé'ü${x}*|"), "Ωmega _日本語 Zé'ü x *");
        assert_eq!(mermaid_text("a\u{2028}b\u{202e}c→d"), "a b c d");
    }

    proptest::proptest! {
        /// The definition: map every other character to a space, then collapse whitespace.
        #[test]
        fn mermaid_text_keeps_safe_characters_and_single_spaces(s in "[a1 .,:/()+*\\-_'\"|;#<>&\téΩ→ ]{0,16}") {
            let mapped: String = s.chars().map(|c| if c.is_alphanumeric() || " .,:/()+*-_'".contains(c) { c } else { ' ' }).collect();
            proptest::prop_assert_eq!(mermaid_text(&s), mapped.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}
