//! `plan.json`: the plan with provenance, for review and for diffing compiles.

use super::template;
use crate::plan::Plan;
use serde::Serialize;

/// The plan's fields and a `$comment` (first, since keys are written sorted).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$comment")]
    comment: &'static str,
    #[serde(flatten)]
    plan: &'a Plan,
}

pub fn render(plan: &Plan) -> String {
    template::json_file(&Document {
        comment: "isenet plan: the requirements resolved for this environment and the rules that serve them. Every other artifact is rendered from this.",
        plan,
    })
}
