//! `ise-request.http`: the ISE's REST requests in the `.http` format editors run (VS Code REST
//! Client, JetBrains HTTP client): the PUT that creates it, the PATCH that replaces the custom root
//! certificates, and the GET that polls `provisioningState`, against the cloud's ARM host with
//! api-version 2019-05-01 (seed 000). The bearer token is a variable, read from the environment.

use super::{ise_request, template};
use crate::plan::{Plan, ISE_API_VERSION};
use serde_json::json;

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    template::text(
        "ise-request.http",
        json!({
            "iseName": env.name,
            "host": plan.deployment.arm_host,
            "path": plan.deployment.ise_id,
            "apiVersion": ISE_API_VERSION,
            "put": template::json_file(&ise_request::put_body(plan)).trim_end(),
            "patch": ise_request::patch_body(plan).map(|b| template::json_file(&b).trim_end().to_string()),
            "certificateCount": env.certificates.len(),
        }),
    )
}
