//! `nsg.json`: the one NSG of the four ISE subnets as an ARM resource (apiVersion 2023-11-01).
//! Azure's field rules: one service tag or `*` in the singular address field, CIDRs only in the
//! plural one; one port range in the singular port field, several in the plural one.

use super::prefix_text::{List, Text};
use super::template;
use crate::azure::nsg::AddressMatch;
use crate::plan::{Plan, PlanRule};
use ise_model::ports::PortRange;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{json, Value};

/// The field names of one side of a rule: singular and plural address, singular and plural port.
struct Side {
    address: &'static str,
    addresses: &'static str,
    port: &'static str,
    ports: &'static str,
}

const SOURCE: Side = Side {
    address: "sourceAddressPrefix",
    addresses: "sourceAddressPrefixes",
    port: "sourcePortRange",
    ports: "sourcePortRanges",
};

const DESTINATION: Side = Side {
    address: "destinationAddressPrefix",
    addresses: "destinationAddressPrefixes",
    port: "destinationPortRange",
    ports: "destinationPortRanges",
};

// The fields are a struct's (keys known when compiling): a map's keys would be copied into strings
// of their own by the serializer, nine per rule and document.
fn address_fields<M: SerializeStruct>(m: &mut M, side: &Side, a: &AddressMatch) -> Result<(), M::Error> {
    match a {
        AddressMatch::Any => m.serialize_field(side.address, "*"),
        AddressMatch::Tag(t) => m.serialize_field(side.address, t),
        AddressMatch::Prefixes(p) if p.len() == 1 => m.serialize_field(side.address, &Text(&p[0])),
        AddressMatch::Prefixes(p) => m.serialize_field(side.addresses, &List(p)),
        AddressMatch::Prefixes6(p) if p.len() == 1 => m.serialize_field(side.address, &Text(&p[0])),
        AddressMatch::Prefixes6(p) => m.serialize_field(side.addresses, &List(p)),
    }
}

fn port_fields<M: SerializeStruct>(m: &mut M, side: &Side, ports: &[PortRange]) -> Result<(), M::Error> {
    if ports.len() == 1 {
        m.serialize_field(side.port, &ports[0])
    } else {
        m.serialize_field(side.ports, ports)
    }
}

/// One rule as ARM writes it, `{"name": ..., "properties": {...}}`, serialised straight from the
/// plan (no value tree: a rule may hold thousands of prefixes).
pub(super) struct SecurityRuleJson<'a>(pub &'a PlanRule);

struct Properties<'a>(&'a PlanRule);

impl Serialize for SecurityRuleJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("SecurityRule", 2)?;
        m.serialize_field("name", &self.0.rule.name)?;
        m.serialize_field("properties", &Properties(self.0))?;
        m.end()
    }
}

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (r, rule) = (self.0, &self.0.rule);
        let mut m = s.serialize_struct("SecurityRuleProperties", 9)?;
        m.serialize_field("access", rule.access.as_str())?;
        m.serialize_field("description", &r.description)?;
        address_fields(&mut m, &DESTINATION, &rule.destination)?;
        port_fields(&mut m, &DESTINATION, &rule.destination_ports)?;
        m.serialize_field("direction", rule.direction.as_str())?;
        m.serialize_field("priority", &rule.priority)?;
        m.serialize_field("protocol", rule.protocol.as_str())?;
        address_fields(&mut m, &SOURCE, &rule.source)?;
        port_fields(&mut m, &SOURCE, &rule.source_ports)?;
        m.end()
    }
}

/// One rule as ARM writes it, as a JSON value.
pub fn security_rule_json(r: &PlanRule) -> Value {
    serde_json::to_value(SecurityRuleJson(r)).expect("rules serialise")
}

/// The rules of the plan's NSG, in plan order.
pub(super) fn security_rules(plan: &Plan) -> Vec<SecurityRuleJson<'_>> {
    plan.security_rules.iter().map(SecurityRuleJson).collect()
}

pub fn render(plan: &Plan) -> String {
    let env = &plan.environment;
    #[derive(serde::Serialize)]
    struct Props<'a> {
        #[serde(rename = "securityRules")]
        security_rules: Vec<SecurityRuleJson<'a>>,
    }
    // Fields in key order: `canonical` then writes them in place instead of reordering the text.
    #[derive(serde::Serialize)]
    struct Nsg<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        location: &'a str,
        name: &'a str,
        properties: Props<'a>,
        tags: Value,
        r#type: &'static str,
    }
    template::json_file(&Nsg {
        r#type: "Microsoft.Network/networkSecurityGroups",
        api_version: "2023-11-01",
        name: &env.nsg_name,
        location: &env.location,
        tags: json!({ "generatedBy": "isenet", "iseName": env.name }),
        properties: Props {
            security_rules: security_rules(plan),
        },
    })
}
