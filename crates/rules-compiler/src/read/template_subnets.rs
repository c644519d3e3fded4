//! Which subnets of a template's virtual network an NSG or route table of the template is on: an
//! exported resource group writes the association on the subnet, not on the NSG (the virtual
//! network's inline `subnets` and its child `Microsoft.Network/virtualNetworks/subnets`
//! resources, each naming its `networkSecurityGroup` and `routeTable` by id, usually
//! `[resourceId('Microsoft.Network/networkSecurityGroups', parameters('...'))]`). What the
//! template does not say plainly (`template_names`) is taken for an association, so that an
//! unreadable reference never becomes a finding.

use super::json::Json;
use super::subnets::SubnetRef;
use super::template_names::{Place, Scope};

const VIRTUAL_NETWORK: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";

/// One subnet a template deploys, and what it is associated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SubnetLink {
    /// Its virtual network and its own name, where the template says them plainly.
    pub virtual_network: Option<String>,
    pub subnet: Option<String>,
    pub nsg: Link,
    pub route_table: Link,
}

/// A subnet's reference to an NSG or a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Link {
    /// The subnet names none.
    Absent,
    /// By name, with the resource group and subscription its id names, where it names them.
    To {
        name: String,
        resource_group: Option<String>,
        subscription: Option<String>,
    },
    /// By what the template does not say plainly.
    Unknown,
}

/// The subnets a template resource of type `kind` deploys: a virtual network's inline ones, or
/// the subnet a child resource is (`deployed` its name as deployed, `vnet/subnet` at the top).
pub(super) fn links<'v, J: Json<'v>>(
    scope: &Scope<'_, J>,
    kind: &str,
    resource: J,
    deployed: Option<&str>,
    parent: Option<&str>,
) -> Vec<SubnetLink> {
    let link = |subnet: J, key: &str, type_name: &str| -> Link {
        let Some(reference) = subnet.get("properties").and_then(|p| p.get(key)).filter(|r| !r.is_null()) else {
            return Link::Absent;
        };
        match reference.get("id").and_then(J::as_str).and_then(|id| scope.value(id)) {
            Some(id) => parse_id(&id, type_name).unwrap_or(Link::Unknown),
            None => Link::Unknown,
        }
    };
    let subnet_link = |subnet: J, virtual_network: Option<String>, name: Option<String>| SubnetLink {
        virtual_network,
        subnet: name,
        nsg: link(subnet, "networkSecurityGroup", "networkSecurityGroups"),
        route_table: link(subnet, "routeTable", "routeTables"),
    };
    if kind.eq_ignore_ascii_case(VIRTUAL_NETWORK) {
        let Some(subnets) = resource.get("properties").and_then(|p| p.get("subnets")).and_then(J::as_array) else {
            return Vec::new();
        };
        return subnets
            .map(|s| {
                let name = s.get("name").and_then(J::as_str).and_then(|n| scope.value(n));
                subnet_link(s, deployed.map(str::to_string), name)
            })
            .collect();
    }
    if kind.eq_ignore_ascii_case(SUBNET) {
        // At the top a child is named `vnet/subnet`; nested in its network, by its own name.
        let (virtual_network, name) = match (parent, deployed) {
            (Some(vnet), name) => (Some(vnet.to_string()), name.map(str::to_string)),
            (None, Some(name)) => match name.split_once('/') {
                Some((vnet, subnet)) => (Some(vnet.to_string()), Some(subnet.to_string())),
                None => (None, None),
            },
            (None, None) => (None, None),
        };
        return vec![subnet_link(resource, virtual_network, name)];
    }
    Vec::new()
}

/// A resource id (`/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/T/N`, the
/// subscription and group left out by a `resourceId` of the deployment's own) of type `type_name`.
fn parse_id(id: &str, type_name: &str) -> Option<Link> {
    let parts: Vec<&str> = id.split('/').collect();
    let after = |segment: &str| {
        let i = parts.iter().position(|p| p.eq_ignore_ascii_case(segment))?;
        parts.get(i + 1).filter(|s| !s.is_empty()).map(|s| s.to_string())
    };
    Some(Link::To {
        name: after(type_name)?,
        resource_group: after("resourceGroups"),
        subscription: after("subscriptions"),
    })
}

/// ARM's `resourceId([subscriptionId], [resourceGroupName], resourceType, name1, [name2], ...)`:
/// the id, its subscription and resource group only where given (the deployment's own otherwise).
pub(super) fn resource_id(args: &[String]) -> Option<String> {
    let at = args.iter().position(|a| a.contains('/'))?;
    let (place, rest) = args.split_at(at);
    let (kind, names) = rest.split_first()?;
    let mut id = match place {
        [] => String::new(),
        [group] => format!("/resourceGroups/{group}"),
        [subscription, group] => format!("/subscriptions/{subscription}/resourceGroups/{group}"),
        _ => return None,
    };
    let mut types = kind.split('/');
    id += &format!("/providers/{}", types.next()?);
    for name in names {
        id += &format!("/{}/{name}", types.next()?);
    }
    types.next().is_none().then_some(id)
}

/// A template's resource whose subnets are asked: its name as deployed and its place.
pub(super) struct Referenced<'a> {
    pub name: &'a str,
    pub resource_group: &'a Place,
    pub subscription: &'a Place,
}

/// The subnets of virtual network `virtual_network` that are on `target` (an NSG when `nsg`, else
/// a route table): `links` holds every subnet the template deploys, each with its virtual
/// network's place. `None` when the template deploys no subnet of that network: it does not say.
pub(super) fn associated<'l>(
    links: impl Iterator<Item = (&'l SubnetLink, &'l Place, &'l Place)>,
    virtual_network: &str,
    target: &Referenced,
    nsg: bool,
) -> Option<Vec<SubnetRef>> {
    let mut said = false;
    let mut out: Vec<SubnetRef> = Vec::new();
    for (link, resource_group, subscription) in links {
        if !link
            .virtual_network
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(virtual_network))
        {
            continue;
        }
        said = true;
        let Some(subnet) = &link.subnet else { continue };
        let on = match if nsg { &link.nsg } else { &link.route_table } {
            Link::Absent => false,
            Link::Unknown => true,
            Link::To {
                name,
                resource_group: group,
                subscription: sub,
            } => {
                name.eq_ignore_ascii_case(target.name)
                    && may_be_same(group.as_deref(), resource_group, target.resource_group)
                    && may_be_same(sub.as_deref(), subscription, target.subscription)
            }
        };
        let named = |p: &Place| match p {
            Place::Named(n) => Some(n.clone()),
            _ => None,
        };
        let subnet = SubnetRef {
            subscription: named(subscription),
            resource_group: named(resource_group),
            virtual_network: virtual_network.to_string(),
            subnet: subnet.clone(),
        };
        if on && !out.contains(&subnet) {
            out.push(subnet);
        }
    }
    said.then_some(out)
}

/// Whether the resource group (or subscription) a subnet's reference names may be the target's:
/// an id that names none means the subnet's own deployment's. Told apart only when both are
/// named plainly.
fn may_be_same(in_id: Option<&str>, subnets: &Place, targets: &Place) -> bool {
    let referenced = match in_id {
        Some(n) => Place::Named(n.to_string()),
        None => subnets.clone(),
    };
    match (referenced, targets) {
        (Place::Named(a), Place::Named(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_are_built_as_arm_builds_them() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            resource_id(&s(&["Microsoft.Network/networkSecurityGroups", "ise-nsg"])).as_deref(),
            Some("/providers/Microsoft.Network/networkSecurityGroups/ise-nsg")
        );
        assert_eq!(
            resource_id(&s(&["net-rg", "Microsoft.Network/routeTables", "rt"])).as_deref(),
            Some("/resourceGroups/net-rg/providers/Microsoft.Network/routeTables/rt")
        );
        assert_eq!(
            resource_id(&s(&["sub", "rg", "Microsoft.Network/virtualNetworks/subnets", "vnet", "ise-1"])).as_deref(),
            Some("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/ise-1")
        );
        // Names and types must pair up; no type at all says nothing.
        assert_eq!(resource_id(&s(&["Microsoft.Network/virtualNetworks/subnets", "vnet"])), None);
        assert_eq!(resource_id(&s(&["a", "b"])), None);
        assert_eq!(
            parse_id("/providers/Microsoft.Network/networkSecurityGroups/n", "networkSecurityGroups"),
            Some(Link::To {
                name: "n".into(),
                resource_group: None,
                subscription: None
            })
        );
        assert_eq!(
            parse_id("/providers/Microsoft.Network/routeTables/n", "networkSecurityGroups"),
            None
        );
    }

    /// A virtual network's inline subnets, a child subnet nested in it and one at the top each say
    /// their NSG and route table; an id the template does not say plainly is unknown.
    #[test]
    fn subnets_are_read_inline_nested_and_at_the_top() {
        use serde_json::json;
        let template = json!({"parameters": {"rt": {"defaultValue": "ise-routes"}}});
        let scope = Scope::top(&template);
        let vnet = json!({"properties": {"subnets": [
            {"name": "ise-1", "properties": {"routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', parameters('rt'))]"}}},
            {"name": "ise-2", "properties": {"routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', uniqueString('x'))]"},
                                              "networkSecurityGroup": null}},
            {"name": "ise-3", "properties": {}}
        ]}});
        let got = links(&scope, "Microsoft.Network/virtualNetworks", &vnet, Some("vnet"), None);
        let tables: Vec<(Option<String>, Link, Link)> = got.into_iter().map(|l| (l.subnet, l.route_table, l.nsg)).collect();
        let to = |name: &str| Link::To {
            name: name.into(),
            resource_group: None,
            subscription: None,
        };
        assert_eq!(
            tables,
            [
                (Some("ise-1".into()), to("ise-routes"), Link::Absent),
                (Some("ise-2".into()), Link::Unknown, Link::Absent),
                (Some("ise-3".into()), Link::Absent, Link::Absent)
            ]
        );
        let child =
            json!({"properties": {"routeTable": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/routeTables/rt"}}});
        let nested = links(
            &scope,
            "Microsoft.Network/virtualNetworks/subnets",
            &child,
            Some("ise-4"),
            Some("vnet"),
        );
        let top = links(
            &scope,
            "microsoft.network/virtualNetworks/subnets",
            &child,
            Some("vnet/ise-4"),
            None,
        );
        for l in [&nested[0], &top[0]] {
            assert_eq!((l.virtual_network.as_deref(), l.subnet.as_deref()), (Some("vnet"), Some("ise-4")));
            assert_eq!(
                l.route_table,
                Link::To {
                    name: "rt".into(),
                    resource_group: Some("g".into()),
                    subscription: Some("s".into())
                }
            );
        }
        assert!(links(&scope, "Microsoft.Network/networkSecurityGroups", &child, Some("n"), None).is_empty());
    }

    #[test]
    fn only_the_named_networks_subnets_on_the_target_count() {
        let to = |name: &str, group: Option<&str>| Link::To {
            name: name.into(),
            resource_group: group.map(str::to_string),
            subscription: None,
        };
        let link = |vnet: &str, subnet: &str, nsg: Link| SubnetLink {
            virtual_network: Some(vnet.into()),
            subnet: Some(subnet.into()),
            nsg,
            route_table: Link::Absent,
        };
        let (inherited, net_rg, other_rg) = (Place::Inherited, Place::Named("net-rg".into()), Place::Named("other-rg".into()));
        // (link, the subnet's resource group)
        let links = [
            (link("vnet", "ise-1", to("ISE-NSG", None)), &inherited),
            (link("vnet", "ise-2", to("jumpbox-nsg", None)), &inherited),
            (link("vnet", "ise-3", Link::Unknown), &inherited),
            (link("vnet", "ise-4", Link::Absent), &inherited),
            (link("vnet", "ise-1", to("ise-nsg", None)), &inherited),
            (link("vnet", "ise-5", to("ise-nsg", Some("other-rg"))), &inherited),
            (link("vnet", "ise-6", to("ise-nsg", None)), &net_rg),
            (link("other-vnet", "a", to("ise-nsg", None)), &inherited),
        ];
        let on = |vnet: &str, target_group: &Place, nsg: bool| {
            let target = Referenced {
                name: "ise-nsg",
                resource_group: target_group,
                subscription: &inherited,
            };
            associated(links.iter().map(|(l, group)| (l, *group, &inherited)), vnet, &target, nsg)
                .map(|v| v.into_iter().map(|s| s.subnet).collect::<Vec<_>>())
        };
        let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        // A place the template leaves to the deployment is not told apart from a named one.
        assert_eq!(on("VNET", &inherited, true), names(&["ise-1", "ise-3", "ise-5", "ise-6"]));
        assert_eq!(on("vnet", &inherited, false), names(&[]));
        assert_eq!(on("absent-vnet", &inherited, true), None);
        // Named apart: the subnet in net-rg names an NSG of its own resource group.
        assert_eq!(on("vnet", &other_rg, true), names(&["ise-1", "ise-3", "ise-5"]));
    }
}
