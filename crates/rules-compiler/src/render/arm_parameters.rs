//! `azuredeploy.parameters.json`: the environment's values of `azuredeploy.json`'s parameters
//! (deploymentParameters 2019-04-01). The firewall policy's name is not in the environment: pass it
//! with `-p firewallPolicyName=NAME`.

use super::deploy_params::params;
use super::template::json_file;
use crate::plan::Plan;
use serde_json::{json, Map, Value};

const SCHEMA: &str = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

pub fn render(plan: &Plan) -> String {
    let values: Map<String, Value> = params(plan)
        .into_iter()
        .filter_map(|p| Some((p.name.to_string(), json!({ "value": p.value? }))))
        .collect();
    json_file(&json!({ "$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": values }))
}
