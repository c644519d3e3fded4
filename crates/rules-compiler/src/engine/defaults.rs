//! Azure's six default security rules, present in every NSG below all explicit rules.

use crate::azure::nsg::{Access, AddressMatch, Direction, PortRange, Protocol, SecurityRule};

pub const VIRTUAL_NETWORK: &str = "VirtualNetwork";
pub const INTERNET: &str = "Internet";
pub const AZURE_LOAD_BALANCER: &str = "AzureLoadBalancer";

fn default_rule(
    name: &str,
    priority: u32,
    direction: Direction,
    access: Access,
    source: AddressMatch,
    destination: AddressMatch,
) -> SecurityRule {
    SecurityRule {
        name: name.to_string(),
        priority,
        direction,
        access,
        protocol: Protocol::Any,
        source,
        source_ports: vec![PortRange::ANY],
        destination,
        destination_ports: vec![PortRange::ANY],
        is_default: true,
    }
}

fn tag(t: &str) -> AddressMatch {
    AddressMatch::Tag(t.to_string())
}

/// The default rules of one direction, in priority order.
pub fn default_rules_for(direction: Direction) -> Vec<SecurityRule> {
    use Access::{Allow, Deny};
    use AddressMatch::Any;
    match direction {
        Direction::Inbound => vec![
            default_rule(
                "AllowVnetInBound",
                65000,
                direction,
                Allow,
                tag(VIRTUAL_NETWORK),
                tag(VIRTUAL_NETWORK),
            ),
            default_rule(
                "AllowAzureLoadBalancerInBound",
                65001,
                direction,
                Allow,
                tag(AZURE_LOAD_BALANCER),
                Any,
            ),
            default_rule("DenyAllInBound", 65500, direction, Deny, Any, Any),
        ],
        Direction::Outbound => vec![
            default_rule(
                "AllowVnetOutBound",
                65000,
                direction,
                Allow,
                tag(VIRTUAL_NETWORK),
                tag(VIRTUAL_NETWORK),
            ),
            default_rule("AllowInternetOutBound", 65001, direction, Allow, Any, tag(INTERNET)),
            default_rule("DenyAllOutBound", 65500, direction, Deny, Any, Any),
        ],
    }
}

/// All six default rules, inbound first.
pub fn default_rules() -> Vec<SecurityRule> {
    let mut rules = default_rules_for(Direction::Inbound);
    rules.extend(default_rules_for(Direction::Outbound));
    rules
}

/// `explicit` followed by the six defaults, so the explicit rules keep their indices.
pub fn with_defaults(explicit: &[SecurityRule]) -> Vec<SecurityRule> {
    let mut rules = explicit.to_vec();
    rules.extend(default_rules());
    rules
}
