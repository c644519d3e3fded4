//! `route-table.json`: the route table of the four ISE subnets (apiVersion 2023-11-01). In mode
//! `none` it has no routes and the subnets are not associated with it (nothing needs routing).

use super::template;
use crate::plan::{Plan, PlanRoute};
use serde_json::{json, Value};

fn route_json(r: &PlanRoute) -> Value {
    let mut props = json!({
        "addressPrefix": r.address_prefix,
        "nextHopType": r.next_hop_type.as_str(),
    });
    if let Some(ip) = r.next_hop_ip_address {
        props["nextHopIpAddress"] = json!(ip.to_string());
    }
    json!({ "name": r.name, "properties": props })
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    let routes: Vec<Value> = plan.routes.iter().map(route_json).collect();
    template::json_file(&json!({
        "type": "Microsoft.Network/routeTables",
        "apiVersion": "2023-11-01",
        "name": env.route_table_name,
        "location": env.location,
        "tags": { "generatedBy": "isenet", "iseName": env.name, "forcedTunneling": env.forced_tunneling.mode },
        "properties": { "disableBgpRoutePropagation": false, "routes": routes }
    }))
}
