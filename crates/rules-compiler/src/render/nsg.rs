//! `nsg.json`: the one NSG of the four ISE subnets as an ARM resource (apiVersion 2023-11-01).
//! Azure's field rules: one service tag or `*` in the singular address field, CIDRs only in the
//! plural one; one port range in the singular port field, several in the plural one.

use super::template;
use crate::azure::nsg::AddressMatch;
use crate::plan::{Plan, PlanRule};
use ise_model::ports::PortRange;
use serde_json::{json, Map, Value};

fn address_fields(props: &mut Map<String, Value>, side: &str, a: &AddressMatch) {
    match a {
        AddressMatch::Any => {
            props.insert(format!("{side}AddressPrefix"), json!("*"));
        }
        AddressMatch::Tag(t) => {
            props.insert(format!("{side}AddressPrefix"), json!(t));
        }
        AddressMatch::Prefixes(p) if p.len() == 1 => {
            props.insert(format!("{side}AddressPrefix"), json!(p[0].to_string()));
        }
        AddressMatch::Prefixes(p) => {
            props.insert(
                format!("{side}AddressPrefixes"),
                json!(p.iter().map(ToString::to_string).collect::<Vec<_>>()),
            );
        }
        AddressMatch::Prefixes6(p) if p.len() == 1 => {
            props.insert(format!("{side}AddressPrefix"), json!(p[0].to_string()));
        }
        AddressMatch::Prefixes6(p) => {
            props.insert(
                format!("{side}AddressPrefixes"),
                json!(p.iter().map(ToString::to_string).collect::<Vec<_>>()),
            );
        }
    }
}

fn port_fields(props: &mut Map<String, Value>, side: &str, ports: &[PortRange]) {
    if ports.len() == 1 {
        props.insert(format!("{side}PortRange"), json!(ports[0].to_string()));
    } else {
        props.insert(
            format!("{side}PortRanges"),
            json!(ports.iter().map(ToString::to_string).collect::<Vec<_>>()),
        );
    }
}

/// One rule as ARM writes it: `{"name": ..., "properties": {...}}`.
pub fn security_rule_json(r: &PlanRule) -> Value {
    let mut props = Map::new();
    props.insert("description".into(), json!(r.description));
    props.insert("protocol".into(), json!(r.rule.protocol.as_str()));
    port_fields(&mut props, "source", &r.rule.source_ports);
    port_fields(&mut props, "destination", &r.rule.destination_ports);
    address_fields(&mut props, "source", &r.rule.source);
    address_fields(&mut props, "destination", &r.rule.destination);
    props.insert("access".into(), json!(r.rule.access.as_str()));
    props.insert("priority".into(), json!(r.rule.priority));
    props.insert("direction".into(), json!(r.rule.direction.as_str()));
    json!({ "name": r.rule.name, "properties": props })
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    let rules: Vec<Value> = plan.security_rules.iter().map(security_rule_json).collect();
    template::json_file(&json!({
        "type": "Microsoft.Network/networkSecurityGroups",
        "apiVersion": "2023-11-01",
        "name": env.nsg_name,
        "location": env.location,
        "tags": { "generatedBy": "isenet", "iseName": env.name },
        "properties": { "securityRules": rules }
    }))
}
