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

use super::firewall_policy::{application_fields, network_fields};
use super::template;
use crate::azure::firewall::{ApplicationRule, NetworkRule, RuleCollection};
use crate::plan::Plan;
use serde_json::{json, Map, Value};

fn network_rule(r: &NetworkRule) -> Value {
    let mut props = Map::new();
    network_fields(&mut props, r, "protocols");
    Value::Object(props)
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
    let comment = format!(
        "Classic Azure Firewall rule collections of the ISE {} (forced tunneling {}): merge into the properties of the Microsoft.Network/azureFirewalls resource (apiVersion 2023-11-01) of a firewall without a policy. Empty unless forcedTunneling.mode is firewall.",
        env.name,
        template::word(env.forced_tunneling.mode)
    );
    template::json_file(&json!({
        "$comment": comment,
        "applicationRuleCollections": application,
        "networkRuleCollections": network,
    }))
}
