//! The subnets a deployed NSG or route table is associated with, as `az ... show` and REST output
//! list them (`subnets`, each by its id); a template says it on its subnets instead
//! (`template_subnets`), isenet's own single-resource artifacts not at all.

use super::json::Json;
use serde::Serialize;

/// A subnet by its subscription, resource group, virtual network and name, from its resource id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetRef {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub virtual_network: String,
    pub subnet: String,
}

impl SubnetRef {
    /// Whether this is the subnet `subnet` of `virtual_network` in `resource_group` of
    /// `subscription` (what the id leaves out is not held against it); Azure compares names
    /// case-insensitively.
    pub fn is(&self, subscription: &str, resource_group: &str, virtual_network: &str, subnet: &str) -> bool {
        let same = |mine: &Option<String>, theirs: &str| mine.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(theirs));
        same(&self.subscription, subscription)
            && same(&self.resource_group, resource_group)
            && self.virtual_network.eq_ignore_ascii_case(virtual_network)
            && self.subnet.eq_ignore_ascii_case(subnet)
    }

    /// Whether this is the environment's subnet `subnet` (of its virtual network, resource group
    /// and subscription).
    pub fn is_environments(&self, env: &ise_model::env::Environment, subnet: &str) -> bool {
        self.is(&env.subscription_id, &env.resource_group, &env.virtual_network.name, subnet)
    }
}

/// The subnets a resource lists (`subnets`, at its top or under `properties`), each by the parts
/// of its id. A resource Azure returned (it states its `provisioningState`) is on none when it
/// lists none: REST output leaves an empty list out, az prints null. `None` for a file that does
/// not say (a template, isenet's own artifact).
pub(crate) fn associated<'v, J: Json<'v>>(resource: J) -> Option<Vec<SubnetRef>> {
    let field = |key: &str| resource.get(key).or_else(|| resource.get("properties").and_then(|p| p.get(key)));
    let Some(list) = field("subnets") else {
        return field("provisioningState").map(|_| Vec::new());
    };
    let ids: Vec<J> = list.as_array().map(|a| a.collect()).unwrap_or_default();
    Some(
        ids.iter()
            .filter_map(|s| s.get("id").and_then(J::as_str))
            .filter_map(|id| {
                let parts: Vec<&str> = id.split('/').collect();
                let after = |segment: &str| {
                    let i = parts.iter().position(|p| p.eq_ignore_ascii_case(segment))?;
                    parts.get(i + 1).filter(|s| !s.is_empty()).map(|s| s.to_string())
                };
                Some(SubnetRef {
                    subscription: after("subscriptions"),
                    resource_group: after("resourceGroups"),
                    virtual_network: after("virtualNetworks")?,
                    subnet: after("subnets")?,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// az lists a resource's subnets at its top, REST under `properties`; each is named by its id's
    /// virtual network and subnet parts. Null is no subnet; no list says nothing.
    #[test]
    fn associated_subnets_are_read_from_their_ids() {
        let id = |vnet: &str, subnet: &str| json!({"id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}")});
        let refs = |v: Value| associated(&v).map(|l| l.into_iter().map(|s| (s.virtual_network, s.subnet)).collect::<Vec<_>>());
        let pair = |v: &str, s: &str| (v.to_string(), s.to_string());
        assert_eq!(
            refs(json!({"subnets": [id("v", "a"), {"id": "/not/a/subnet"}, {}]})),
            Some(vec![pair("v", "a")])
        );
        assert_eq!(refs(json!({"properties": {"subnets": [id("V", "B")]}})), Some(vec![pair("V", "B")]));
        assert_eq!(refs(json!({"subnets": null})), Some(vec![]));
        assert_eq!(refs(json!({"securityRules": []})), None);
        // Azure's output of a resource on no subnet leaves the list out (REST) or prints null (az).
        assert_eq!(refs(json!({"securityRules": [], "provisioningState": "Succeeded"})), Some(vec![]));
        assert_eq!(
            refs(json!({"properties": {"routes": [], "provisioningState": "Succeeded"}})),
            Some(vec![])
        );
        let unplaced = SubnetRef {
            subscription: None,
            resource_group: None,
            virtual_network: "V".into(),
            subnet: "B".into(),
        };
        assert!(unplaced.is("s", "rg", "v", "b"));
        let placed = associated(&json!({"subnets": [id("v", "a")]})).unwrap().remove(0);
        assert_eq!(
            (placed.subscription.as_deref(), placed.resource_group.as_deref()),
            (Some("s"), Some("rg"))
        );
        assert!(placed.is("S", "RG", "V", "A"));
        assert!(!placed.is("s", "other-rg", "v", "a") && !placed.is("t", "rg", "v", "a"));
    }
}
