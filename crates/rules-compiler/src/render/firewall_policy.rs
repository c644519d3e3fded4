//! `firewall-policy.json`: the ISE's Azure Firewall rules as a deployable ARM template fragment.
//!
//! Shape (validated against `Microsoft.Network.NRP.json`, 2023-11-01, definitions
//! `firewallPolicies_ruleCollectionGroups`, `FirewallPolicyRuleCollection`, `FirewallPolicyRule`):
//!
//! ```text
//! { "$schema": deploymentTemplate 2019-04-01, "contentVersion": "1.0.0.0",
//!   "metadata": { "generatedBy": "isenet", ... },
//!   "parameters": { "firewallPolicyName": { "type": "string" } },
//!   "resources": [ { "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
//!     "apiVersion": "2023-11-01",
//!     "name": "[concat(parameters('firewallPolicyName'), '/<name>-dependencies')]",
//!     "properties": { "priority": 500, "ruleCollections": [
//!       { "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name", "priority",
//!         "action": { "type": "Allow" },
//!         "rules": [ { "ruleType": "NetworkRule", "name", "description", "ipProtocols",
//!                      "sourceAddresses", "destinationAddresses", "destinationPorts" } ] },
//!       { ..., "rules": [ { "ruleType": "ApplicationRule", "name", "description",
//!                           "protocols": [ { "protocolType": "Https", "port": 443 } ],
//!                           "sourceAddresses", "fqdnTags" | "targetFqdns" } ] } ] } } ] }
//! ```
//!
//! The policy itself is not created: the template adds the environment's group (by default
//! `<name>-dependencies`, priority 500) to an existing policy named by the parameter. Outside firewall mode `ruleCollections` is empty.

use super::template;
use crate::azure::firewall::{ApplicationRule, NetworkRule, RuleCollection};
use crate::plan::Plan;
use serde_json::{json, Map, Value};

/// A network rule's fields both forms share; they differ only in the protocols' key (classic
/// collections: `protocols`, policies: `ipProtocols`).
pub(super) fn network_fields(props: &mut Map<String, Value>, r: &NetworkRule, protocols_key: &str) {
    props.insert("name".into(), json!(r.name));
    props.insert("description".into(), json!(r.description));
    props.insert(protocols_key.into(), json!(r.ip_protocols));
    props.insert("sourceAddresses".into(), json!(r.source_addresses));
    props.insert("destinationAddresses".into(), json!(r.destination_addresses));
    props.insert("destinationPorts".into(), json!(r.destination_ports));
}

fn network_rule(r: &NetworkRule) -> Value {
    let mut props = Map::new();
    props.insert("ruleType".into(), json!("NetworkRule"));
    network_fields(&mut props, r, "ipProtocols");
    Value::Object(props)
}

/// An application rule's fields both forms share: name, description, protocols, sources and the
/// non-empty target lists.
pub(super) fn application_fields(props: &mut Map<String, Value>, r: &ApplicationRule) {
    props.insert("name".into(), json!(r.name));
    props.insert("description".into(), json!(r.description));
    props.insert("protocols".into(), json!(r.protocols));
    props.insert("sourceAddresses".into(), json!(r.source_addresses));
    if !r.fqdn_tags.is_empty() {
        props.insert("fqdnTags".into(), json!(r.fqdn_tags));
    }
    if !r.target_fqdns.is_empty() {
        props.insert("targetFqdns".into(), json!(r.target_fqdns));
    }
}

fn application_rule(r: &ApplicationRule) -> Value {
    let mut props = Map::new();
    props.insert("ruleType".into(), json!("ApplicationRule"));
    application_fields(&mut props, r);
    Value::Object(props)
}

fn collection<R>(c: &RuleCollection<R>, rule: impl Fn(&R) -> Value) -> Value {
    json!({
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": c.name,
        "priority": c.priority,
        "action": { "type": c.action },
        "rules": c.rules.iter().map(rule).collect::<Vec<_>>(),
    })
}

/// The policy's rule collections: network collections, then application collections.
pub(super) fn rule_collections(plan: &Plan) -> Vec<Value> {
    let fw = &plan.firewall;
    let mut collections: Vec<Value> = fw.network_rule_collections.iter().map(|c| collection(c, network_rule)).collect();
    collections.extend(fw.application_rule_collections.iter().map(|c| collection(c, application_rule)));
    collections
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    let fw = &plan.firewall;
    let collections = rule_collections(plan);
    template::json_file(&json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generatedBy": "isenet",
            "iseName": env.name,
            "forcedTunneling": env.forced_tunneling.mode,
            "description": format!(
                "Azure Firewall rules of the ISE {}: one rule collection group for an existing firewall policy. Empty unless forcedTunneling.mode is firewall.",
                env.name
            ),
        },
        "parameters": {
            "firewallPolicyName": {
                "type": "string",
                "metadata": { "description": "Name of the existing Azure Firewall policy that receives the rule collection group." }
            }
        },
        "resources": [{
            "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            "apiVersion": "2023-11-01",
            "name": format!("[concat(parameters('firewallPolicyName'), '/{}')]", fw.rule_collection_group),
            "properties": {
                "priority": fw.rule_collection_group_priority,
                "ruleCollections": collections,
            }
        }]
    }))
}
