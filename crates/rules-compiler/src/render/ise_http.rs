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
            // `az account get-access-token` answers for the cloud the CLI is set to.
            "azCloud": env.cloud.facts().az_cli_cloud,
            "path": url_path(&plan.deployment.ise_id),
            "apiVersion": ISE_API_VERSION,
            "put": template::json_file(&ise_request::put_body(plan)).trim_end(),
            "patch": ise_request::patch_body(plan).map(|b| template::json_file(&b).trim_end().to_string()),
            "certificateCount": env.certificates.len(),
        }),
    )
}

/// The resource ID as a URL path: Azure allows Unicode letters in resource group names, which a
/// request line must carry percent-encoded (UTF-8 bytes), as `az rest` sends them. The ID's other
/// characters (letters, digits, `-._()` and `/`) are valid in a path as they are.
fn url_path(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~()/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn unicode_resource_groups_are_percent_encoded() {
        assert_eq!(
            url_path("/subscriptions/s/resourceGroups/rg-(a)_b.c/x"),
            "/subscriptions/s/resourceGroups/rg-(a)_b.c/x"
        );
        // U+00E9 is the UTF-8 bytes C3 A9; a space would be %20.
        assert_eq!(url_path("/resourceGroups/r\u{e9}seau x"), "/resourceGroups/r%C3%A9seau%20x");
    }
}
