//! The parameters of the deployable templates, shared by `azuredeploy.json`, its parameters file,
//! `main.bicep` and `main.bicepparam`, so the ARM and Bicep forms take the same inputs.

use super::ise_request;
use crate::plan::Plan;
use ise_model::env::TunnelingMode;
use serde_json::{json, Value};

pub(super) struct Param {
    pub name: &'static str,
    /// `string` or `int` (ARM and Bicep spell both the same).
    pub kind: &'static str,
    pub description: &'static str,
    /// The environment's value; `None` when the environment does not know it (the firewall
    /// policy's name), so the deployment asks for it.
    pub value: Option<Value>,
    /// The values a deployment may give. Where the artifacts were compiled for one value (the
    /// access endpoint decides the NSG's rules, the location the regional routes and tags), that
    /// value alone: another would deploy an ISE its own rules do not fit; recompile instead.
    pub allowed: Vec<String>,
    pub range: Option<(u32, u32)>,
    /// The value when the deployment gives none, as an ARM expression and in Bicep.
    pub default: Option<Default>,
}

/// A parameter's default value: the same expression in both template languages.
pub(super) struct Default {
    pub arm: &'static str,
    pub bicep: &'static str,
}

fn param(name: &'static str, description: &'static str, value: Value) -> Param {
    Param {
        name,
        kind: if value.is_number() { "int" } else { "string" },
        description,
        value: Some(value),
        allowed: Vec::new(),
        range: None,
        default: None,
    }
}

/// Whether the route table is deployed: only when the subnets route through it (tunneling).
pub(super) fn has_route_table(plan: &Plan) -> bool {
    plan.subnets.iter().any(|s| s.route_table)
}

pub(super) fn has_firewall_rules(plan: &Plan) -> bool {
    plan.environment.forced_tunneling.mode == TunnelingMode::Firewall
}

pub(super) fn params(plan: &Plan) -> Vec<Param> {
    let env = &plan.environment;
    let mut out = vec![
        Param {
            allowed: vec![env.location.clone()],
            ..param(
                "location",
                "Azure region of the NSG, the route table and the ISE (the rules and routes were compiled for it: recompile for another).",
                json!(env.location),
            )
        },
        param(
            "virtualNetworkName",
            "Name of the existing virtual network that holds the four ISE subnets.",
            json!(env.virtual_network.name),
        ),
        param(
            "nsgName",
            "Name of the network security group of the four ISE subnets.",
            json!(env.nsg_name),
        ),
    ];
    if has_route_table(plan) {
        out.push(param(
            "routeTableName",
            "Name of the route table of the four ISE subnets.",
            json!(env.route_table_name),
        ));
    }
    if has_firewall_rules(plan) {
        out.push(Param {
            value: None,
            ..param(
                "firewallPolicyName",
                "Name of the existing Azure Firewall policy that receives the ISE's rule collection group (its name and priority are in the template).",
                json!(""),
            )
        });
        // A hub's policy usually lives in another resource group than the ISE's network.
        out.push(Param {
            value: None,
            default: Some(Default {
                arm: "[resourceGroup().name]",
                bicep: "resourceGroup().name",
            }),
            ..param(
                "firewallPolicyResourceGroup",
                "Resource group of the firewall policy (default: the deployment's resource group).",
                json!(""),
            )
        });
    }
    if plan.deployment.include_ise {
        out.push(param("iseName", "Name of the integration service environment.", json!(env.name)));
        out.push(Param {
            allowed: vec!["Premium".into(), "Developer".into()],
            ..param(
                "skuName",
                "ISE SKU: Premium, or Developer (no SLA, no scale units).",
                ise_request::sku(env)["name"].clone(),
            )
        });
        out.push(Param {
            range: Some((0, 10)),
            ..param(
                "skuCapacity",
                "Extra scale units of a Premium ISE (0-10; 0 for Developer).",
                json!(env.sku.capacity),
            )
        });
        let endpoint = ise_request::access_endpoint_type(env);
        out.push(Param {
            allowed: vec![endpoint.to_string()],
            ..param(
                "accessEndpointType",
                "Whether request triggers, webhooks and run history are reachable from outside the virtual network (the NSG's rules were compiled for this one: recompile for the other).",
                json!(endpoint),
            )
        });
    }
    out
}
