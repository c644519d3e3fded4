//! `subnets.json`: the four subnets as `Microsoft.Network/virtualNetworks/subnets` resources
//! (apiVersion 2023-11-01) with their NSG, route table, service endpoints and delegation.

use super::{ids, template};
use crate::plan::{Plan, PlanSubnet, DELEGATION_SERVICE};
use serde_json::{json, Value};

fn subnet_json(plan: &Plan, s: &PlanSubnet) -> Value {
    let env = &plan.environment;
    let mut props = json!({
        "addressPrefix": s.prefix,
        "networkSecurityGroup": { "id": ids::nsg(env) },
        "serviceEndpoints": s.service_endpoints.iter().map(|svc| json!({ "service": svc })).collect::<Vec<_>>(),
        "delegations": if s.delegated {
            json!([{ "name": "integrationServiceEnvironments", "properties": { "serviceName": DELEGATION_SERVICE } }])
        } else {
            json!([])
        },
    });
    if s.route_table {
        props["routeTable"] = json!({ "id": ids::route_table(env) });
    }
    json!({
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "apiVersion": "2023-11-01",
        "name": format!("{}/{}", env.virtual_network.name, s.name),
        "properties": props,
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
