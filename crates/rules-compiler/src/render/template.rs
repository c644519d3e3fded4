//! How artifacts become bytes. JSON artifacts are serialisable views of the plan (or `serde_json`
//! values) printed here in one canonical form (sorted keys, two-space indent, trailing newline, see
//! `canonical`), so every JSON artifact is valid and byte-identical across runs. Text artifacts (tickets, Bicep, `.http`)
//! are handlebars templates from `templates/`, embedded in the binary.

use handlebars::{handlebars_helper, Context, Handlebars};
use serde::Serialize;
use std::sync::OnceLock;

/// Name and text of every text template, embedded.
pub(super) const TEMPLATES: &[(&str, &str)] = &[
    ("change-ticket.md", include_str!("../../../../templates/change-ticket.md.hbs")),
    ("ise-request.http", include_str!("../../../../templates/ise-request.http.hbs")),
    ("main.bicep", include_str!("../../../../templates/main.bicep.hbs")),
    ("main.bicepparam", include_str!("../../../../templates/main.bicepparam.hbs")),
    ("modules/nsg.bicep", include_str!("../../../../templates/modules/nsg.bicep.hbs")),
    (
        "modules/route-table.bicep",
        include_str!("../../../../templates/modules/route-table.bicep.hbs"),
    ),
    (
        "modules/subnets.bicep",
        include_str!("../../../../templates/modules/subnets.bicep.hbs"),
    ),
    (
        "modules/firewall-rules.bicep",
        include_str!("../../../../templates/modules/firewall-rules.bicep.hbs"),
    ),
    ("modules/ise.bicep", include_str!("../../../../templates/modules/ise.bicep.hbs")),
];

handlebars_helper!(json_helper: |v: Json| serde_json::to_string(v).expect("JSON values serialise"));
handlebars_helper!(bicep_helper: |v: Json, indent: u64| bicep_literal(v, indent as usize));

/// A value as a Bicep literal: objects and arrays one member per line, indented by two under
/// `indent`; strings single-quoted with Bicep's escapes (`\\`, `\'`, `\${`, control characters).
pub fn bicep_literal(v: &impl Serialize, indent: usize) -> String {
    super::canonical::bicep(v, indent)
}

/// The index of template `name` in `TEMPLATES`.
fn position(name: &str) -> usize {
    TEMPLATES
        .iter()
        .position(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no template {name}"))
}

/// A handlebars registry holding the one template `TEMPLATES[i]`, compiled on first use:
/// compiling costs more than rendering (pest), and a run compiles only the templates it renders.
fn registry(i: usize) -> &'static Handlebars<'static> {
    static REGISTRIES: [OnceLock<Handlebars<'static>>; TEMPLATES.len()] = [const { OnceLock::new() }; TEMPLATES.len()];
    REGISTRIES[i].get_or_init(|| compiled(TEMPLATES[i]))
}

fn compiled((name, text): (&str, &str)) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h.register_helper("json", Box::new(json_helper));
    h.register_helper("bicep", Box::new(bicep_helper));
    h.register_template(
        name,
        super::template_compile::compile(name, text).expect("embedded templates compile (tested)"),
    );
    h
}

/// Whether a template's text has anything to substitute: one without is its own rendering
/// (tested), never compiled.
fn is_plain(src: &str) -> bool {
    !src.contains("{{")
}

/// Compiles, ahead of their rendering, the templates of these artifact files (the text
/// artifacts' templates have their file names): a thread started once the tags are loaded runs
/// this while the plan is built and the proofs run. The ticket's goes first, as it is rendered
/// last, after the proofs, when nothing else is left to overlap its compiling with.
pub fn prepare<'a>(files: impl IntoIterator<Item = &'a str>) {
    let mut wanted: Vec<usize> = files
        .into_iter()
        .filter_map(|f| TEMPLATES.iter().position(|(n, _)| *n == f))
        .filter(|&i| !is_plain(TEMPLATES[i].1))
        .collect();
    wanted.sort_by_key(|&i| (TEMPLATES[i].0 != "change-ticket.md", i));
    for i in wanted {
        registry(i);
    }
}

/// Renders a text template. One without any `{{` is its own rendering (tested), so it is not compiled.
/// The data is taken as a value and handed to handlebars as its context, not copied into one
/// (`render` would clone every string of it, and a ticket holds thousands of prefixes).
pub fn text(template: &str, data: serde_json::Value) -> String {
    let i = position(template);
    let src = TEMPLATES[i].1;
    if is_plain(src) {
        return src.to_string();
    }
    registry(i)
        .render_with_context(template, &Context::from(data))
        .unwrap_or_else(|e| panic!("template {template} renders: {e}"))
}

/// [`text`], with the long texts of `inserts` put in where `data` holds their placeholders.
pub fn text_inserting(template: &str, data: serde_json::Value, inserts: super::inserts::Inserts) -> String {
    inserts.render(data, |data| text(template, data))
}

/// A JSON artifact in canonical form.
pub fn json_file(value: &impl Serialize) -> String {
    let mut text = super::canonical::json(value);
    text.push('\n');
    text
}

/// The JSON word of a serialisable enum (`expressRoute`), for prose inside artifacts.
pub fn word(value: impl Serialize) -> String {
    match serde_json::to_value(value).expect("serialises") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
/// The former `Value`-tree writer of Bicep literals: the reference the canonical writer is tested
/// against. A JSON value as a Bicep literal: objects and arrays one member per line, indented by two under
/// `indent`; strings single-quoted with Bicep's escapes (`\\`, `\'`, `\${`, control characters).
pub(super) fn bicep_literal_of_value(v: &serde_json::Value, indent: usize) -> String {
    use serde_json::Value;
    let pad = " ".repeat(indent + 2);
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => bicep_string(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        Value::Array(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|x| format!("{pad}{}\n", bicep_literal_of_value(x, indent + 2)))
                .collect();
            format!("[\n{}{}]", items.concat(), " ".repeat(indent))
        }
        Value::Object(o) => {
            let members: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{pad}{}: {}\n", bicep_key(k), bicep_literal_of_value(x, indent + 2)))
                .collect();
            format!("{{\n{}{}}}", members.concat(), " ".repeat(indent))
        }
    }
}

#[cfg(test)]
fn bicep_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An identifier stays bare; anything else is a quoted key.
#[cfg(test)]
fn bicep_key(k: &str) -> String {
    let ident =
        k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        k.to_string()
    } else {
        bicep_string(k)
    }
}

#[cfg(test)]
mod tests {
    /// `prepare` finds a backend's templates by its file names.
    #[test]
    fn every_template_is_named_for_the_artifact_it_renders() {
        for (name, _) in super::TEMPLATES {
            assert!(super::super::ARTIFACT_NAMES.contains(name), "{name}");
        }
    }

    #[test]
    fn all_templates_compile_and_plain_ones_render_as_themselves() {
        for (i, (name, text)) in super::TEMPLATES.iter().enumerate() {
            let h = super::registry(i);
            if super::is_plain(text) {
                assert_eq!(h.render(name, &serde_json::json!({})).unwrap(), *text, "{name}");
            }
        }
    }

    #[test]
    fn bicep_literals_escape_what_bicep_interprets() {
        use super::bicep_literal;
        use serde_json::json;
        assert_eq!(bicep_literal(&json!("it's ${x} \\ ok"), 0), r"'it\'s \${x} \\ ok'");
        assert_eq!(bicep_literal(&json!("$5 {a}"), 0), "'$5 {a}'");
        assert_eq!(bicep_literal(&json!([]), 0), "[]");
        assert_eq!(
            bicep_literal(&json!({ "a": [1, true, null], "b-c": {} }), 2),
            "{\n    a: [\n      1\n      true\n      null\n    ]\n    'b-c': {}\n  }"
        );
    }
}
