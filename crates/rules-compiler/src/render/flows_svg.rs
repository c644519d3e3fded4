//! `flows.svg`: the flow picture of the change ticket drawn by isenet itself, for ticketing systems
//! that do not render Mermaid. Fixed three-column layout (sources, the four ISE subnets,
//! destinations), nodes in the graph's sorted order, so the same plan gives the same bytes; no
//! fonts or scripts are referenced.

use super::flows::{Graph, Side, ISE};
use std::borrow::Cow;

const NODE_W: u32 = 360;
const NODE_H: u32 = 34;
const GAP: u32 = 12;
const TOP: u32 = 60;
const COL_GAP: u32 = 190;
const ISE_W: u32 = 220;

/// The replacement of each byte markup escapes.
fn markup_byte(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// Text for SVG character data and attributes.
pub fn escape(s: &str) -> String {
    super::substitute::substitute(s, markup_byte)
}

/// [`escape`] appended to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    super::substitute::substitute_into(out, s, markup_byte);
}

/// Labels longer than a node are cut with an ellipsis (the full text is the node's `<title>`).
/// Only the first `max` characters are looked at: a label may list thousands of prefixes.
fn fit(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) => {
            let cut = s.char_indices().nth(max.saturating_sub(1)).map_or(s.len(), |(at, _)| at);
            Cow::Owned(format!("{}…", &s[..cut]))
        }
    }
}

fn node(out: &mut String, id: &str, x: u32, y: u32, w: u32, label: &str, class: &str) {
    out.push_str(&format!("<g class=\"node {class}\" id=\"{id}\"><title>"));
    // The title holds the whole label: escaped straight into the picture.
    escape_into(out, label);
    out.push_str(&format!(
        "</title><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{NODE_H}\" rx=\"6\"/><text x=\"{}\" y=\"{}\">",
        x + 8,
        y + 22
    ));
    escape_into(out, &fit(label, (w as usize - 16) * 10 / 65));
    out.push_str("</text></g>\n");
}

pub fn render(g: &Graph) -> String {
    let sources: Vec<_> = g.nodes.iter().filter(|n| n.side == Side::Source).collect();
    let dests: Vec<_> = g.nodes.iter().filter(|n| n.side == Side::Destination).collect();
    let rows = sources.len().max(dests.len()).max(g.subnets.len() + 1) as u32;
    let height = TOP + rows * (NODE_H + GAP) + 40;
    let x_src = 20;
    let x_ise = x_src + NODE_W + COL_GAP;
    let x_dst = x_ise + ISE_W + COL_GAP;
    let width = x_dst + NODE_W + 20;
    let y_of = |i: usize| TOP + i as u32 * (NODE_H + GAP);
    // The ISE box is centred vertically on the columns.
    let ise_h = g.subnets.len() as u32 * (NODE_H + GAP) + 40;
    let ise_y = TOP + (rows * (NODE_H + GAP)).saturating_sub(ise_h) / 2;
    let ise_mid = ise_y + ise_h / 2;

    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"ISE network flows\">\n"
    );
    out.push_str("<style>text{font-family:sans-serif;font-size:12px;fill:#1b1b1b}.node rect{fill:#eef3fb;stroke:#4a6fa5}.ise rect{fill:#e8f5e9;stroke:#2e7d32}.edge{fill:none;stroke:#7a869a;stroke-width:1.2}.port{font-size:11px;fill:#37474f}.head{font-weight:bold;font-size:14px}</style>\n");
    out.push_str(&format!(
        "<text class=\"head\" x=\"{x_src}\" y=\"30\">Sources (inbound)</text><text class=\"head\" x=\"{x_ise}\" y=\"30\">ISE subnets</text><text class=\"head\" x=\"{x_dst}\" y=\"30\">Destinations (outbound)</text>\n"
    ));
    // Edges first, so nodes are drawn over their ends.
    let index = |id: &str, list: &[&super::flows::Node]| list.iter().position(|n| n.id == id);
    for e in &g.edges {
        let (x1, y1, x2, y2, label_x, anchor) = if e.to == ISE {
            let y = y_of(index(&e.from, &sources).unwrap_or(0)) + NODE_H / 2;
            (x_src + NODE_W, y, x_ise, ise_mid, x_src + NODE_W + 6, "start")
        } else {
            let y = y_of(index(&e.to, &dests).unwrap_or(0)) + NODE_H / 2;
            (x_ise + ISE_W, ise_mid, x_dst, y, x_dst - 6, "end")
        };
        let (c1, c2) = (x1 + COL_GAP / 2, x2 - COL_GAP / 2);
        out.push_str(&format!(
            "<g class=\"flow\" data-from=\"{}\" data-to=\"{}\"><path class=\"edge\" d=\"M{x1},{y1} C{c1},{y1} {c2},{y2} {x2},{y2}\"/><text class=\"port\" x=\"{label_x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text></g>\n",
            escape(&e.from),
            escape(&e.to),
            if e.to == ISE { y1 - 4 } else { y2 - 4 },
            escape(&fit(&e.label, 26))
        ));
    }
    for (i, n) in sources.iter().enumerate() {
        node(&mut out, &n.id, x_src, y_of(i), NODE_W, &n.label, "source");
    }
    for (i, n) in dests.iter().enumerate() {
        node(&mut out, &n.id, x_dst, y_of(i), NODE_W, &n.label, "destination");
    }
    out.push_str(&format!(
        "<g class=\"ise\" id=\"{ISE}\"><rect x=\"{x_ise}\" y=\"{ise_y}\" width=\"{ISE_W}\" height=\"{ise_h}\" rx=\"10\"/>\n"
    ));
    for (i, (name, prefix)) in g.subnets.iter().enumerate() {
        let y = ise_y + 30 + i as u32 * (NODE_H + GAP);
        node(
            &mut out,
            &format!("s{i}"),
            x_ise + 10,
            y,
            ISE_W - 20,
            &format!("{name} {prefix}"),
            "subnet",
        );
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::flows;
    use proptest::prelude::*;

    proptest! {
        /// Each of the five characters becomes its entity, `&` first (no double escaping).
        #[test]
        fn escape_replaces_the_five_characters(s in "[a&<>\"'é ]{0,12}") {
            let expected = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;");
            prop_assert_eq!(escape(&s), expected);
        }
    }

    #[test]
    fn svg_has_a_node_per_graph_node_and_subnet_and_a_path_per_edge() {
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let plan = crate::plan::build(&env, ise_model::servicetags::ServiceTags::embedded(env.cloud), None).unwrap();
        let g = flows::graph(&plan);
        let svg = render(&g);
        assert_eq!(svg.matches("<g class=\"node ").count(), g.nodes.len() + 4);
        assert_eq!(svg.matches("<path class=\"edge\"").count(), g.edges.len());
        assert!(!svg.contains("<script") && !svg.contains("href") && !svg.contains("@import"));
        assert_eq!(svg, render(&flows::graph(&plan)), "deterministic");
        assert_eq!(escape("a<b&\"c'"), "a&lt;b&amp;&quot;c&#39;");
    }

    proptest! {
        /// A label is cut as before (all its characters counted), whatever its length and script.
        #[test]
        fn labels_are_cut_after_max_characters(s in "[a-z0-9. é…]{0,30}", max in 1usize..12) {
            let whole = if s.chars().count() <= max { s.clone() } else { s.chars().take(max - 1).collect::<String>() + "…" };
            prop_assert_eq!(fit(&s, max), whole);
        }
    }
}
