//! `azuredeploy.json`: the whole deployment as one ARM template (deploymentTemplate 2019-04-01)
//! for `az deployment group create`: the NSG with every rule of `nsg.json`, the route table when
//! tunneled, the four subnets of the existing virtual network (chained, since Azure updates one
//! subnet of a virtual network at a time), the firewall rule collection group in firewall mode (in a
//! nested deployment to the policy's resource group, `firewallPolicyResourceGroup`), and
//! the ISE (left out under `--network-only`). Everything is literal (no copy loops), so a reviewer
//! reads the rules and `isenet verify --nsg azuredeploy.json` proves them.
//!
//! Certificates are not part of the template: the 2019-05-01 resource type has no `certificates`
//! property; `ise-request.http` uploads them (README, "The ISE REST requests").

use super::deploy_params::{has_firewall_rules, has_route_table, params};
use super::nsg::{security_rules, SecurityRuleJson};
use super::{firewall_policy, ise_request, route_table, subnets, template};
use crate::plan::{Plan, ISE_API_VERSION, ISE_TYPE, NETWORK_API_VERSION};
use serde::Serialize;
use serde_json::{json, Map, Value};

const SCHEMA: &str = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";
const ROUTE_TABLE_TYPE: &str = "Microsoft.Network/routeTables";
const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";
const RULE_GROUP_TYPE: &str = "Microsoft.Network/firewallPolicies/ruleCollectionGroups";
const DEPLOYMENTS_TYPE: &str = "Microsoft.Resources/deployments";
/// What Bicep writes for a module.
const DEPLOYMENTS_API_VERSION: &str = "2022-09-01";
/// The nested deployment of the firewall rules, named as the Bicep module: per network (resource
/// group and NSG), so that two ISEs deploying into one hub's policy at once keep theirs apart.
const FIREWALL_DEPLOYMENT: &str = "format('ise-firewall-rules-{0}', uniqueString(resourceGroup().id, parameters('nsgName')))";

fn p(name: &str) -> String {
    format!("parameters('{name}')")
}

fn resource_id(kind: &str, names: &[String]) -> String {
    format!("[resourceId('{kind}', {})]", names.join(", "))
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn nsg_id() -> String {
    resource_id(NSG_TYPE, &[p("nsgName")])
}

fn route_table_id() -> String {
    resource_id(ROUTE_TABLE_TYPE, &[p("routeTableName")])
}

fn subnet_id(name: &str) -> String {
    resource_id(SUBNET_TYPE, &[p("virtualNetworkName"), quoted(name)])
}

fn template_parameters(plan: &Plan) -> Map<String, Value> {
    params(plan)
        .into_iter()
        .map(|prm| {
            let mut def = json!({ "type": prm.kind, "metadata": { "description": prm.description } });
            if !prm.allowed.is_empty() {
                def["allowedValues"] = json!(prm.allowed);
            }
            if let Some((min, max)) = prm.range {
                def["minValue"] = json!(min);
                def["maxValue"] = json!(max);
            }
            if let Some(default) = &prm.default {
                def["defaultValue"] = json!(default.arm);
            }
            (prm.name.to_string(), def)
        })
        .collect()
}

fn tags(plan: &Plan) -> Value {
    json!({ "generatedBy": "isenet", "iseName": plan.environment.name })
}

/// A network resource of the resource group, named by a parameter, at the template's location.
/// Fields in key order, as in `Template`: `canonical` writes them in place (no reordering of the
/// text of thousands of prefixes).
#[derive(Serialize)]
struct Located<P> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    location: String,
    name: String,
    properties: P,
    tags: Value,
    r#type: &'static str,
}

fn located<P>(plan: &Plan, kind: &'static str, name_param: &str, properties: P) -> Located<P> {
    Located {
        r#type: kind,
        api_version: NETWORK_API_VERSION,
        name: format!("[{}]", p(name_param)),
        location: format!("[{}]", p("location")),
        tags: tags(plan),
        properties,
    }
}

#[derive(Serialize)]
struct NsgProperties<'a> {
    #[serde(rename = "securityRules")]
    security_rules: Vec<SecurityRuleJson<'a>>,
}

/// A resource of the template: the NSG is serialised straight from the plan (it may hold
/// thousands of prefixes), the others are small values.
#[derive(Serialize)]
#[serde(untagged)]
enum Resource<'a> {
    Nsg(Located<NsgProperties<'a>>),
    Located(Located<Value>),
    Other(Value),
}

fn nsg(plan: &Plan) -> Resource<'_> {
    Resource::Nsg(located(
        plan,
        NSG_TYPE,
        "nsgName",
        NsgProperties {
            security_rules: security_rules(plan),
        },
    ))
}

fn route_table(plan: &Plan) -> Resource<'_> {
    let routes: Vec<Value> = plan.routes.iter().map(route_table::route_json).collect();
    Resource::Located(located(
        plan,
        ROUTE_TABLE_TYPE,
        "routeTableName",
        json!({ "disableBgpRoutePropagation": false, "routes": routes }),
    ))
}

fn subnet_resources(plan: &Plan) -> Vec<Value> {
    let mut previous: Option<String> = None;
    plan.subnets
        .iter()
        .map(|s| {
            let mut depends = vec![nsg_id()];
            if s.route_table {
                depends.push(route_table_id());
            }
            depends.extend(previous.replace(subnet_id(&s.name)));
            json!({
                "type": SUBNET_TYPE,
                "apiVersion": NETWORK_API_VERSION,
                "name": format!("[format('{{0}}/{{1}}', {}, {})]", p("virtualNetworkName"), quoted(&s.name)),
                "dependsOn": depends,
                "properties": subnets::subnet_properties(s, &nsg_id(), &route_table_id()),
            })
        })
        .collect()
}

/// The nested deployment that puts the firewall rules into the policy's resource group.
fn firewall_deployment_id() -> String {
    format!(
        "[resourceId({}, '{DEPLOYMENTS_TYPE}', {FIREWALL_DEPLOYMENT})]",
        p("firewallPolicyResourceGroup")
    )
}

/// The rule collection group, in a nested deployment to `firewallPolicyResourceGroup` (a hub's
/// policy usually lives in another resource group; the default is the deployment's own). The
/// inner template takes the policy's name as its own parameter, as Bicep compiles a module.
fn firewall_rules(plan: &Plan) -> Value {
    let fw = &plan.firewall;
    let group = json!({
        "type": RULE_GROUP_TYPE,
        "apiVersion": NETWORK_API_VERSION,
        "name": format!("[format('{{0}}/{{1}}', {}, {})]", p("firewallPolicyName"), quoted(&fw.rule_collection_group)),
        "properties": { "priority": fw.rule_collection_group_priority, "ruleCollections": firewall_policy::rule_collections(plan) },
    });
    json!({
        "type": DEPLOYMENTS_TYPE,
        "apiVersion": DEPLOYMENTS_API_VERSION,
        "name": format!("[{FIREWALL_DEPLOYMENT}]"),
        "resourceGroup": format!("[{}]", p("firewallPolicyResourceGroup")),
        "properties": {
            "mode": "Incremental",
            "expressionEvaluationOptions": { "scope": "Inner" },
            "parameters": { "firewallPolicyName": { "value": format!("[{}]", p("firewallPolicyName")) } },
            "template": {
                "$schema": SCHEMA,
                "contentVersion": "1.0.0.0",
                "parameters": { "firewallPolicyName": { "type": "string" } },
                "resources": [group],
            },
        },
    })
}

fn ise(plan: &Plan) -> Value {
    let env = &plan.environment;
    let subnet_ids: Vec<String> = plan.subnets.iter().map(|s| subnet_id(&s.name)).collect();
    let mut depends = subnet_ids.clone();
    // The subnets route 0.0.0.0/0 to the firewall: the ISE deployment fails unless the firewall
    // already allows its dependencies.
    if has_firewall_rules(plan) {
        depends.push(firewall_deployment_id());
    }
    let mut props = json!({
        "networkConfiguration": {
            "accessEndpoint": { "type": format!("[{}]", p("accessEndpointType")) },
            "subnets": subnet_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
        },
    });
    if let Some(e) = &env.encryption {
        props["encryptionConfiguration"] = json!({ "encryptionKeyReference": ise_request::encryption_key_reference(e) });
    }
    let mut r = json!({
        "type": ISE_TYPE,
        "apiVersion": ISE_API_VERSION,
        "name": format!("[{}]", p("iseName")),
        "location": format!("[{}]", p("location")),
        "tags": tags(plan),
        "dependsOn": depends,
        "sku": { "name": format!("[{}]", p("skuName")), "capacity": format!("[{}]", p("skuCapacity")) },
        "properties": props,
    });
    if let Some(identity) = ise_request::identity(env, false) {
        r["identity"] = identity;
    }
    r
}

#[derive(Serialize)]
struct Template<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "contentVersion")]
    content_version: &'static str,
    metadata: Value,
    outputs: Map<String, Value>,
    parameters: Map<String, Value>,
    resources: Vec<Resource<'a>>,
}

/// The template, ready to serialise.
fn template(plan: &Plan) -> Template<'_> {
    let env = &plan.environment;
    let mut resources = vec![nsg(plan)];
    let mut outputs = Map::new();
    outputs.insert("nsgId".into(), json!({ "type": "string", "value": nsg_id() }));
    if has_route_table(plan) {
        resources.push(route_table(plan));
        outputs.insert("routeTableId".into(), json!({ "type": "string", "value": route_table_id() }));
    }
    resources.extend(subnet_resources(plan).into_iter().map(Resource::Other));
    if has_firewall_rules(plan) {
        resources.push(Resource::Other(firewall_rules(plan)));
    }
    if plan.deployment.include_ise {
        resources.push(Resource::Other(ise(plan)));
        outputs.insert(
            "iseId".into(),
            json!({ "type": "string", "value": resource_id(ISE_TYPE, &[p("iseName")]) }),
        );
    }
    Template {
        schema: SCHEMA,
        content_version: "1.0.0.0",
        metadata: json!({
            "generatedBy": "isenet",
            "iseName": env.name,
            "cloud": env.cloud,
            "forcedTunneling": env.forced_tunneling.mode,
            "networkOnly": !plan.deployment.include_ise,
            "description": description(plan),
        }),
        parameters: template_parameters(plan),
        resources,
        outputs,
    }
}

/// What the template deploys, naming only the resources it holds (`--network-only` leaves the ISE
/// out; a route table and firewall rules exist only in the modes that need them).
fn description(plan: &Plan) -> String {
    let mut network = vec!["NSG"];
    if has_route_table(plan) {
        network.push("route table");
    }
    network.push("the four subnets of the existing virtual network");
    if has_firewall_rules(plan) {
        network.push("firewall rules");
    }
    let ise = match plan.deployment.include_ise {
        true => " and the ISE itself",
        false => " (network only: the ISE is not in this template)",
    };
    format!(
        "The ISE's network ({}){ise}, from the isenet plan. Rules are literal: review them here, prove them with isenet verify --nsg azuredeploy.json.",
        network.join(", ")
    )
}

pub fn render(plan: &Plan) -> String {
    template::json_file(&template(plan))
}
