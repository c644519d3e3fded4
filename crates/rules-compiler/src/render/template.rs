//! Template rendering shared by the backends. JSON templates are rendered, parsed and printed again
//! in one canonical form (sorted keys, two-space indent, trailing newline), so every JSON artifact is
//! valid and byte-identical across runs whatever the template's whitespace.

use handlebars::{handlebars_helper, Handlebars};
use serde::Serialize;
use std::sync::OnceLock;

/// Name and text of every template, embedded.
const TEMPLATES: &[(&str, &str)] = &[
    ("change-ticket.md", include_str!("../../../../templates/change-ticket.md.hbs")),
    (
        "firewall-classic.json",
        include_str!("../../../../templates/firewall-classic.json.hbs"),
    ),
    (
        "firewall-policy.json",
        include_str!("../../../../templates/firewall-policy.json.hbs"),
    ),
    ("nsg.json", include_str!("../../../../templates/nsg.json.hbs")),
    ("plan.json", include_str!("../../../../templates/plan.json.hbs")),
    ("route-table.json", include_str!("../../../../templates/route-table.json.hbs")),
    ("subnets.json", include_str!("../../../../templates/subnets.json.hbs")),
];

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

/// Renders a template as text.
pub fn text(template: &str, data: &impl Serialize) -> String {
    registry()
        .render(template, data)
        .unwrap_or_else(|e| panic!("template {template} renders: {e}"))
}

/// Renders a JSON template and returns it in canonical form.
pub fn json(template: &str, data: &impl Serialize) -> String {
    let raw = text(template, data);
    let value: serde_json::Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("template {template} yields JSON: {e}\n{raw}"));
    serde_json::to_string_pretty(&value).expect("JSON values serialise") + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_compile() {
        let _ = super::registry();
    }
}
