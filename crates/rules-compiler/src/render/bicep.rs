//! `main.bicep`, `main.bicepparam` and `modules/*.bicep`: the deployment of `azuredeploy.json` in
//! Bicep. The modules are generic (typed parameters, one concern each) so a team can take one into
//! its own codebase; `main.bicep` holds the plan's values literally and wires the modules together.

use super::deploy_params::{has_firewall_rules, has_route_table, params};
use super::inserts::Inserts;
use super::{firewall_policy, ise_request, nsg, route_table, subnets, template};
use crate::plan::Plan;
use serde_json::{json, Value};

/// The module files, in the order `render_all` lists them.
pub const MODULES: &[&str] = &[
    "modules/firewall-rules.bicep",
    "modules/ise.bicep",
    "modules/nsg.bicep",
    "modules/route-table.bicep",
    "modules/subnets.bicep",
];

/// `firewallPolicyName` -> `FIREWALL_POLICY_NAME`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn params_json(plan: &Plan) -> Vec<Value> {
    params(plan)
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "kind": p.kind,
                "description": p.description,
                "given": p.value.is_some(),
                "value": p.value,
                "allowed": if p.allowed.is_empty() { Value::Null } else { json!(p.allowed) },
                "range": p.range.map(|(a, b)| json!([a, b])),
                "upper": screaming(p.name),
                "default": p.default.as_ref().map(|d| d.bicep),
            })
        })
        .collect()
}

fn subnets_json(plan: &Plan) -> Vec<Value> {
    plan.subnets
        .iter()
        .map(|s| {
            // The same properties as the template's subnets; the module adds the NSG and route table.
            let props = subnets::subnet_properties(s, "", "");
            json!({
                "name": s.name,
                "addressPrefix": props["addressPrefix"],
                "serviceEndpoints": props["serviceEndpoints"],
                "delegations": props["delegations"],
            })
        })
        .collect()
}

/// What `main.bicep` renders. The lists (rules with their prefixes, routes, subnets, firewall
/// rule collections) are finished Bicep literals, put in after rendering (`inserts`): handlebars
/// copies its data into a value tree first, which for thousands of prefixes cost more than
/// writing them.
fn data(plan: &Plan, inserts: &mut Inserts) -> Value {
    let env = &plan.environment;
    json!({
        "iseName": env.name,
        "cloud": env.cloud,
        "location": env.location,
        "mode": env.forced_tunneling.mode,
        "includeIse": plan.deployment.include_ise,
        "routeTable": has_route_table(plan),
        "firewall": has_firewall_rules(plan),
        "params": params_json(plan),
        "tags": { "generatedBy": "isenet", "iseName": env.name },
        "securityRules": inserts.add(template::bicep_literal(&nsg::security_rules(plan), 0)),
        "routes": inserts.add(template::bicep_literal(&plan.routes.iter().map(route_table::route_json).collect::<Vec<_>>(), 0)),
        "subnets": inserts.add(template::bicep_literal(&subnets_json(plan), 0)),
        "ruleCollectionGroup": plan.firewall.rule_collection_group,
        "ruleCollectionGroupPriority": plan.firewall.rule_collection_group_priority,
        "ruleCollections": inserts.add(template::bicep_literal(&firewall_policy::rule_collections(plan), 0)),
        "identity": ise_request::identity(env, false),
        "encryptionKeyReference": env.encryption.as_ref().map(ise_request::encryption_key_reference),
    })
}

pub fn render_main(plan: &Plan) -> String {
    let mut inserts = Inserts::default();
    let data = data(plan, &mut inserts);
    template::text_inserting("main.bicep", data, inserts)
}

pub fn render_params(plan: &Plan) -> String {
    // Only what main.bicepparam names (not the rules).
    template::text(
        "main.bicepparam",
        json!({ "iseName": plan.environment.name, "params": params_json(plan) }),
    )
}

pub fn render_module(name: &str) -> String {
    template::text(name, json!({}))
}
