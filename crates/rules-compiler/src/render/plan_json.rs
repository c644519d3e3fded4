//! `plan.json`: the plan with provenance, for review and for diffing compiles.

use super::template;
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    template::json("plan.json", &serde_json::json!({ "plan": plan }))
}
