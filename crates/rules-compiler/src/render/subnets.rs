//! `subnets.json`: the four subnets as `Microsoft.Network/virtualNetworks/subnets` resources
//! (apiVersion 2023-11-01) with their NSG, route table, service endpoints and delegation.

use super::{ids, template};
use crate::plan::{Plan, PlanSubnet, DELEGATION_SERVICE};
use serde_json::{json, Value};

/// A subnet's properties, with the ids (literal or ARM expressions) of its NSG and route table.
pub(super) fn subnet_properties(s: &PlanSubnet, nsg_id: &str, route_table_id: &str) -> Value {
    let mut props = json!({
        "addressPrefix": s.prefix,
        "networkSecurityGroup": { "id": nsg_id },
        "serviceEndpoints": s.service_endpoints.iter().map(|svc| json!({ "service": svc })).collect::<Vec<_>>(),
        "delegations": delegations(s),
    });
    if s.route_table {
        props["routeTable"] = json!({ "id": route_table_id });
    }
    props
}

/// The one delegation of the delegated subnet, none on the others.
pub(super) fn delegations(s: &PlanSubnet) -> Value {
    if s.delegated {
        json!([{ "name": "integrationServiceEnvironments", "properties": { "serviceName": DELEGATION_SERVICE } }])
    } else {
        json!([])
    }
}

fn subnet_json(plan: &Plan, s: &PlanSubnet) -> Value {
    let env = &plan.environment;
    json!({
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "apiVersion": "2023-11-01",
        "name": format!("{}/{}", env.virtual_network.name, s.name),
        "properties": subnet_properties(s, &ids::nsg(env), &ids::route_table(env)),
    })
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    let subnets: Vec<Value> = plan.subnets.iter().map(|s| subnet_json(plan, s)).collect();
    let route_table = plan.subnets.iter().any(|s| s.route_table).then(|| env.route_table_name.clone());
    let comment = format!(
        "The four ISE subnets of {}: NSG {}{}. Deploy them as child resources of the virtual network.",
        env.virtual_network.name,
        env.nsg_name,
        route_table.map(|t| format!(", route table {t}")).unwrap_or_default()
    );
    template::json_file(&json!({ "$comment": comment, "resources": subnets }))
}
