//! `plan.json`: the plan with provenance, for review and for diffing compiles.

use super::template;
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let mut doc = serde_json::to_value(plan).expect("the plan serialises");
    doc["$comment"] = "isenet plan: the requirements resolved for this environment and the rules that serve them. Every other artifact is rendered from this.".into();
    template::json_file(&doc)
}
