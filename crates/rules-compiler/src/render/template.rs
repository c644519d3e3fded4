//! How artifacts become bytes. JSON artifacts are built as `serde_json` values by their backend and
//! printed here in one canonical form (sorted keys, two-space indent, trailing newline), so every
//! JSON artifact is valid and byte-identical across runs. Text artifacts (tickets, Bicep, `.http`)
//! are handlebars templates from `templates/`, embedded in the binary.

use handlebars::{handlebars_helper, Handlebars};
use serde::Serialize;
use std::sync::OnceLock;

/// Name and text of every text template, embedded.
const TEMPLATES: &[(&str, &str)] = &[];

handlebars_helper!(json_helper: |v: Json| serde_json::to_string(v).expect("JSON values serialise"));

fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut h = Handlebars::new();
        h.set_strict_mode(true);
        h.register_escape_fn(handlebars::no_escape);
        h.register_helper("json", Box::new(json_helper));
        for (name, text) in TEMPLATES {
            h.register_template_string(name, *text)
                .expect("embedded templates compile (tested)");
        }
        h
    })
}

/// Renders a text template.
#[allow(dead_code)] // the text artifacts (ticket, Bicep, .http) render through it
pub fn text(template: &str, data: &impl Serialize) -> String {
    registry()
        .render(template, data)
        .unwrap_or_else(|e| panic!("template {template} renders: {e}"))
}

/// A JSON artifact in canonical form.
pub fn json_file(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values serialise") + "\n"
}

/// The JSON word of a serialisable enum (`expressRoute`), for prose inside artifacts.
pub fn word(value: impl Serialize) -> String {
    match serde_json::to_value(value).expect("serialises") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_compile() {
        let _ = super::registry();
    }
}
