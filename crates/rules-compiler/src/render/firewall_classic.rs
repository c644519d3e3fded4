//! `firewall-classic.json`: the same rules as classic Azure Firewall rule collections, for firewalls
//! without a policy: the `applicationRuleCollections` and `networkRuleCollections` of a
//! `Microsoft.Network/azureFirewalls` resource's `properties` (apiVersion 2023-11-01; definitions
//! `AzureFirewallApplicationRuleCollection`, `AzureFirewallNetworkRuleCollection` and their rules
//! in `Microsoft.Network.NRP.json`), to merge into the firewall's resource:
//!
//! ```text
//! { "$comment",
//!   "applicationRuleCollections": [ { "name", "properties": { "priority", "action": { "type": "Allow" },
//!       "rules": [ { "name", "description", "sourceAddresses",
//!                    "protocols": [ { "protocolType": "Https", "port": 443 } ], "fqdnTags" | "targetFqdns" } ] } } ],
//!   "networkRuleCollections": [ { "name", "properties": { "priority", "action": { "type": "Allow" },
//!       "rules": [ { "name", "description", "protocols": ["TCP", "UDP"], "sourceAddresses",
//!                    "destinationAddresses", "destinationPorts" } ] } } ] }
//! ```
//!
//! Classic network rules name their protocols `protocols` (policy rules: `ipProtocols`). NAT
//! collections are left out so merging never touches the firewall's own DNAT rules. Outside
//! firewall mode both arrays are empty.

use super::firewall_policy::application_fields;
use super::template;
use crate::azure::firewall::{ApplicationRule, NetworkRule, RuleCollection};
use crate::plan::Plan;
use serde_json::{json, Map, Value};

fn network_rule(r: &NetworkRule) -> Value {
    json!({
        "name": r.name,
        "description": r.description,
        "protocols": r.ip_protocols,
        "sourceAddresses": r.source_addresses,
        "destinationAddresses": r.destination_addresses,
        "destinationPorts": r.destination_ports,
    })
}

fn application_rule(r: &ApplicationRule) -> Value {
    let mut props = Map::new();
    application_fields(&mut props, r);
    Value::Object(props)
}

fn collection<R>(c: &RuleCollection<R>, rule: impl Fn(&R) -> Value) -> Value {
    json!({
        "name": c.name,
        "properties": {
            "priority": c.priority,
            "action": { "type": c.action },
            "rules": c.rules.iter().map(rule).collect::<Vec<_>>(),
        },
    })
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    let fw = &plan.firewall;
    let application: Vec<Value> = fw
        .application_rule_collections
        .iter()
        .map(|c| collection(c, application_rule))
        .collect();
    let network: Vec<Value> = fw.network_rule_collections.iter().map(|c| collection(c, network_rule)).collect();
    template::json(
        "firewall-classic.json",
        &json!({
            "iseName": env.name,
            "mode": env.forced_tunneling.mode,
            "applicationRuleCollections": application,
            "networkRuleCollections": network,
        }),
    )
}
