//! Which subnets of a template's virtual network an NSG or route table of the template is on: an
//! exported resource group writes the association on the subnet, not on the NSG (the virtual
//! network's inline `subnets` and its child `Microsoft.Network/virtualNetworks/subnets`
//! resources, each naming its `networkSecurityGroup` and `routeTable` by id, usually
//! `[resourceId('Microsoft.Network/networkSecurityGroups', parameters('...'))]`). Only the
//! environment's virtual network counts, where the template deploys it plainly (in the
//! environment's resource group and subscription, without a `condition` it says is false); what the template does
//! not say plainly is taken for an association, so that an unreadable reference never becomes a
//! finding (nor a ticket command).

use super::json::Json;
use super::subnets::SubnetRef;
use super::template_names::{Place, Scope, TOP_RESOURCE_GROUP, TOP_SUBSCRIPTION};
use ise_model::env::Environment;

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
    /// Written as a child resource (deployed after its network, whose inline subnet it replaces).
    pub child: bool,
    /// Its resource (the network or the child) has a `condition` the template says is false.
    pub undeployed: bool,
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
    /// A resource of another type (or provider) than the one asked about.
    Other,
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
    // A condition the template says is false deploys nothing; one it does not say plainly is
    // taken to hold (a finding to look at, rather than an association left unchecked).
    // A `copy` loop of no iteration deploys nothing either.
    let no_copies = resource.get("copy").and_then(|c| c.get("count")).is_some_and(|count| {
        count.as_number().and_then(|n| n.as_u64()) == Some(0)
            || count.as_str().and_then(|t| scope.value(t)).is_some_and(|v| v.trim() == "0")
    });
    let undeployed = no_copies || resource.get("condition").is_some_and(|c| scope.condition(c) == Some(false));
    let link = |subnet: J, key: &str, type_name: &str| -> Link {
        let Some(reference) = subnet.get("properties").and_then(|p| p.get(key)).filter(|r| !r.is_null()) else {
            return Link::Absent;
        };
        match reference.get("id").and_then(J::as_str).and_then(|id| scope.id(id)) {
            Some(id) => parse_id(&id, type_name),
            None => Link::Unknown,
        }
    };
    let subnet_link = |subnet: J, virtual_network: Option<String>, name: Option<String>, child: bool| SubnetLink {
        virtual_network,
        subnet: name,
        nsg: link(subnet, "networkSecurityGroup", "networkSecurityGroups"),
        route_table: link(subnet, "routeTable", "routeTables"),
        child,
        undeployed,
    };
    if kind.eq_ignore_ascii_case(VIRTUAL_NETWORK) {
        let Some(subnets) = resource.get("properties").and_then(|p| p.get("subnets")).and_then(J::as_array) else {
            return Vec::new();
        };
        return subnets
            .map(|s| {
                let name = s.get("name").and_then(J::as_str).and_then(|n| scope.value(n));
                subnet_link(s, deployed.map(str::to_string), name, false)
            })
            .collect();
    }
    if kind.eq_ignore_ascii_case(SUBNET) {
        // At the top a child is named `vnet/subnet`; nested in its network, by its own name.
        let (virtual_network, name) = match (parent, deployed) {
            (Some(vnet), name) => (Some(vnet.to_string()), name.filter(|n| !n.contains('/')).map(str::to_string)),
            (None, Some(name)) => match name.split('/').collect::<Vec<_>>().as_slice() {
                [vnet, subnet] => (Some(vnet.to_string()), Some(subnet.to_string())),
                _ => (None, None),
            },
            (None, None) => (None, None),
        };
        return vec![subnet_link(resource, virtual_network, name, true)];
    }
    Vec::new()
}

/// A resource id (`/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/T/N`, the
/// subscription and group left out by a `resourceId` of the deployment's own): of type
/// `type_name` of `Microsoft.Network`, or another resource.
fn parse_id(id: &str, type_name: &str) -> Link {
    let parts: Vec<&str> = id.split('/').collect();
    let after = |segment: &str| {
        let i = parts.iter().position(|p| p.eq_ignore_ascii_case(segment))?;
        parts.get(i + 1).filter(|s| !s.is_empty()).map(|s| s.to_string())
    };
    let Some(provider) = parts.iter().position(|p| p.eq_ignore_ascii_case("providers")) else {
        return Link::Unknown;
    };
    // A place written partly after the deployment's (`[concat(resourceGroup().name, '-x')]`), or
    // a part with control characters, which no Azure name holds (nor may a message or a command
    // print): not said plainly.
    if parts
        .iter()
        .any(|p| p.chars().any(char::is_control) && *p != TOP_RESOURCE_GROUP && *p != TOP_SUBSCRIPTION)
    {
        return Link::Unknown;
    }
    let of_type = parts.len() == provider + 4
        && parts[provider + 1].eq_ignore_ascii_case("Microsoft.Network")
        && parts[provider + 2].eq_ignore_ascii_case(type_name)
        && !parts[provider + 3].is_empty();
    if !of_type {
        return Link::Other;
    }
    Link::To {
        name: parts[provider + 3].to_string(),
        resource_group: after("resourceGroups"),
        subscription: after("subscriptions"),
    }
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

/// Where a template deploys, the environment's resource group and subscription standing for the
/// deployment's own (the file is the environment's export); `None` where it does not say.
fn resolved(place: &Place, environments: &str) -> Option<String> {
    match place {
        Place::Inherited | Place::Top => Some(environments.to_ascii_lowercase()),
        Place::Named(n) => Some(n.to_ascii_lowercase()),
        Place::Unknown => None,
    }
}

/// A part of an id as a template writes it, the top deployment's resource group and subscription
/// (`resourceGroup().name`, `subscription().subscriptionId` there, in any part: a resource may be
/// named after its resource group) being the environment's.
fn as_environments<'a>(written: &'a str, env: &'a Environment) -> &'a str {
    match written {
        TOP_RESOURCE_GROUP => &env.resource_group,
        TOP_SUBSCRIPTION => &env.subscription_id,
        _ => written,
    }
}

/// The environment's subnets `target` (an NSG when `nsg`, else a route table) is on, as the
/// template's subnets say: `links` holds every subnet the template deploys, each with the place
/// of its resource. A subnet written as a child resource is deployed after its network and
/// replaces the inline one; one the template does not deploy is left as it is (counted on).
/// `None` when the template does not deploy the environment's virtual network plainly.
pub(super) fn associated<'l>(
    links: impl Iterator<Item = (&'l SubnetLink, &'l Place, &'l Place)>,
    env: &Environment,
    target: &Referenced,
    nsg: bool,
) -> Option<Associations> {
    let target_group = resolved(target.resource_group, &env.resource_group);
    let target_subscription = resolved(target.subscription, &env.subscription_id);
    // Per ISE subnet: whether each link (children, inline) puts it on the target.
    let mut said = false;
    let mut children: Vec<Vec<bool>> = vec![Vec::new(); env.subnets.len()];
    let mut inline: Vec<Vec<bool>> = vec![Vec::new(); env.subnets.len()];
    // Per ISE subnet, the other resource the deciding links name (children's over inline ones).
    let mut other: Vec<(Option<String>, Option<String>)> = vec![(None, None); env.subnets.len()];
    for (link, group, subscription) in links {
        if !link
            .virtual_network
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(&env.virtual_network.name))
        {
            continue;
        }
        let (group, subscription) = (resolved(group, &env.resource_group), resolved(subscription, &env.subscription_id));
        let ours = (group.as_deref(), subscription.as_deref())
            == (
                Some(env.resource_group.to_ascii_lowercase().as_str()),
                Some(env.subscription_id.to_ascii_lowercase().as_str()),
            );
        if !ours || link.undeployed {
            continue;
        }
        // A subnet of the network whose name the template does not say may be any of them.
        let Some(subnet) = &link.subnet else { return None };
        said = true;
        let Some(i) = env.subnets.iter().position(|s| s.name.eq_ignore_ascii_case(subnet)) else {
            continue;
        };
        let on = match if nsg { &link.nsg } else { &link.route_table } {
            Link::Absent | Link::Other => false,
            Link::Unknown => true,
            Link::To {
                name,
                resource_group: in_id_group,
                subscription: in_id_subscription,
            } => {
                let name = as_environments(name, env);
                let in_id_group = in_id_group.as_deref().map(|g| as_environments(g, env));
                let in_id_subscription = in_id_subscription.as_deref().map(|s| as_environments(s, env));
                let referenced_group = in_id_group.map(str::to_ascii_lowercase).or(group.clone());
                let referenced_subscription = in_id_subscription.map(str::to_ascii_lowercase).or(subscription.clone());
                let same = name.eq_ignore_ascii_case(target.name)
                    && may_be_same(&referenced_group, &target_group)
                    && may_be_same(&referenced_subscription, &target_subscription);
                if !same {
                    // As an association command names it: by name in the network's own
                    // resource group and subscription, else by id.
                    let own = referenced_group.as_deref() == Some(env.resource_group.to_ascii_lowercase().as_str())
                        && referenced_subscription.as_deref() == Some(env.subscription_id.to_ascii_lowercase().as_str());
                    let kind = if nsg { "networkSecurityGroups" } else { "routeTables" };
                    let shown = match (own, in_id_group, in_id_subscription) {
                        (true, _, _) => name.to_string(),
                        (false, group, subscription) => format!(
                            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/{kind}/{name}",
                            subscription.unwrap_or(&env.subscription_id),
                            group.unwrap_or(&env.resource_group)
                        ),
                    };
                    let slot = &mut other[i];
                    if link.child {
                        slot.0 = Some(shown)
                    } else {
                        slot.1 = Some(shown)
                    }
                }
                same
            }
        };
        let by_kind = if link.child { &mut children } else { &mut inline };
        by_kind[i].push(on);
    }
    if !said {
        return None;
    }
    let mut out = Associations::default();
    for (i, s) in env.subnets.iter().enumerate() {
        let by_child = !children[i].is_empty();
        let deciding = if by_child { &children[i] } else { &inline[i] };
        if deciding.iter().all(|on| *on) {
            out.on.push(SubnetRef {
                subscription: Some(env.subscription_id.clone()),
                resource_group: Some(env.resource_group.clone()),
                virtual_network: env.virtual_network.name.clone(),
                subnet: s.name.clone(),
            });
        } else if let Some(now) = if by_child { other[i].0.take() } else { other[i].1.take() } {
            out.elsewhere.push((s.name.clone(), now));
        }
    }
    Some(out)
}

/// What a template says of the environment's subnets and one NSG or route table.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Associations {
    /// The subnets it is on (and those the template leaves as they are).
    pub on: Vec<SubnetRef>,
    /// Subnets on another NSG or route table instead: (subnet, that resource's name, or its id
    /// when it lies elsewhere than the network).
    pub elsewhere: Vec<(String, String)>,
}

/// Whether two places may be one: told apart only when both are known.
fn may_be_same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
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
            Link::To {
                name: "n".into(),
                resource_group: None,
                subscription: None
            }
        );
        assert_eq!(
            parse_id("/providers/Microsoft.Network/routeTables/n", "networkSecurityGroups"),
            Link::Other
        );
        assert_eq!(
            parse_id("/providers/Microsoft.Evil/networkSecurityGroups/n", "networkSecurityGroups"),
            Link::Other
        );
        assert_eq!(parse_id("not an id", "networkSecurityGroups"), Link::Unknown);
    }

    /// A virtual network's inline subnets, a child subnet nested in it and one at the top each say
    /// their NSG and route table; an id the template does not say plainly is unknown, one of
    /// another type or provider another resource.
    #[test]
    fn subnets_are_read_inline_nested_and_at_the_top() {
        use serde_json::json;
        let template = json!({"parameters": {"rt": {"defaultValue": "ise-routes"}}});
        let scope = Scope::top(&template);
        let vnet = json!({"condition": "[not(true())]", "properties": {"subnets": [
            {"name": "ise-1", "properties": {"routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', parameters('rt'))]"}}},
            {"name": "ise-2", "properties": {"routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', uniqueString('x'))]"},
                                              "networkSecurityGroup": null}},
            {"name": "ise-3", "properties": {"routeTable": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Evil/routeTables/rt"}}}
        ]}});
        let got = links(&scope, "Microsoft.Network/virtualNetworks", &vnet, Some("vnet"), None);
        let tables: Vec<(Option<String>, Link, Link)> = got
            .iter()
            .map(|l| (l.subnet.clone(), l.route_table.clone(), l.nsg.clone()))
            .collect();
        // `resourceId` at the top leaves out the deployment's own place: marked, for
        // `associated` to take as the environment's.
        let to = |name: &str| Link::To {
            name: name.into(),
            resource_group: Some(TOP_RESOURCE_GROUP.into()),
            subscription: Some(TOP_SUBSCRIPTION.into()),
        };
        assert_eq!(
            tables,
            [
                (Some("ise-1".into()), to("ise-routes"), Link::Absent),
                (Some("ise-2".into()), Link::Unknown, Link::Absent),
                (Some("ise-3".into()), Link::Other, Link::Absent)
            ]
        );
        assert!(got.iter().all(|l| l.undeployed && !l.child));
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
            assert_eq!(
                (l.virtual_network.as_deref(), l.subnet.as_deref(), l.child),
                (Some("vnet"), Some("ise-4"), true)
            );
            assert_eq!(
                l.route_table,
                Link::To {
                    name: "rt".into(),
                    resource_group: Some("g".into()),
                    subscription: Some("s".into())
                }
            );
        }
        // A name of three parts is no subnet of the network.
        let odd = links(&scope, SUBNET, &child, Some("vnet/ise-4/x"), None);
        assert_eq!((odd[0].virtual_network.as_deref(), odd[0].subnet.as_deref()), (None, None));
        assert!(links(&scope, "Microsoft.Network/networkSecurityGroups", &child, Some("n"), None).is_empty());
    }

    /// The example environment: `contoso-vnet` in `contoso-network`, subnets ise-1 to ise-4.
    fn example() -> Environment {
        ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap()
    }

    fn to(name: &str, group: Option<&str>) -> Link {
        Link::To {
            name: name.into(),
            resource_group: group.map(str::to_string),
            subscription: None,
        }
    }

    fn link(vnet: &str, subnet: &str, nsg: Link, child: bool) -> SubnetLink {
        SubnetLink {
            virtual_network: Some(vnet.into()),
            subnet: Some(subnet.into()),
            nsg,
            route_table: Link::Absent,
            child,
            undeployed: false,
        }
    }

    /// The subnets `target_group` holds the NSG `ise-nsg` on, of `links` (link, its resource group).
    fn on(env: &Environment, links: &[(SubnetLink, Place)], target_group: &Place) -> Option<Vec<String>> {
        let inherited = Place::Inherited;
        let target = Referenced {
            name: "ise-nsg",
            resource_group: target_group,
            subscription: &inherited,
        };
        associated(links.iter().map(|(l, group)| (l, group, &inherited)), env, &target, true)
            .map(|a| a.on.into_iter().map(|s| s.subnet).collect())
    }

    #[test]
    fn only_the_environments_network_in_its_place_says_and_children_decide() {
        let env = example();
        let (here, other) = (Place::Inherited, Place::Named("other-rg".into()));
        let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let links = [
            (link("CONTOSO-VNET", "ise-1", to("ISE-NSG", None), false), here.clone()),
            (link("contoso-vnet", "ise-2", to("jumpbox-nsg", None), false), here.clone()),
            (link("contoso-vnet", "ise-3", Link::Unknown, false), here.clone()),
            // Inline on it, but the child deployed after it leaves it off.
            (link("contoso-vnet", "ise-4", to("ise-nsg", None), false), here.clone()),
            (link("contoso-vnet", "ise-4", Link::Absent, true), here.clone()),
            (link("contoso-vnet", "jumpbox", Link::Absent, false), here.clone()),
            // The same network's name in another resource group is another network.
            (link("contoso-vnet", "ise-2", to("ise-nsg", None), false), other.clone()),
        ];
        assert_eq!(on(&env, &links, &here), names(&["ise-1", "ise-3"]));
        // An id naming another resource group names another NSG; one naming the environment's
        // is the deployment's own.
        let ids = [
            (link("contoso-vnet", "ise-1", to("ise-nsg", Some("other-rg")), false), here.clone()),
            (
                link("contoso-vnet", "ise-2", to("ise-nsg", Some("Contoso-Network")), false),
                here.clone(),
            ),
            (link("contoso-vnet", "ise-3", Link::Other, false), here.clone()),
        ];
        // ise-4 is not deployed by the template: left as it is.
        assert_eq!(on(&env, &ids, &here), names(&["ise-2", "ise-4"]));
        // The NSG placed in other-rg: the subnets' ids without a group name the environment's.
        assert_eq!(on(&env, &ids, &other), names(&["ise-1", "ise-4"]));
        // Another network, or the network elsewhere, says nothing; so does an unnamed subnet.
        assert_eq!(
            on(&env, &[(link("spoke-vnet", "ise-1", Link::Absent, false), here.clone())], &here),
            None
        );
        assert_eq!(
            on(&env, &[(link("contoso-vnet", "ise-1", Link::Absent, false), other.clone())], &here),
            None
        );
        let mut unnamed = link("contoso-vnet", "x", Link::Absent, false);
        unnamed.subnet = None;
        assert_eq!(
            on(
                &env,
                &[
                    (link("contoso-vnet", "ise-1", Link::Absent, false), here.clone()),
                    (unnamed, here.clone())
                ],
                &here
            ),
            None
        );
        let mut undeployed = link("contoso-vnet", "ise-1", Link::Absent, false);
        undeployed.undeployed = true;
        assert_eq!(on(&env, &[(undeployed, here)], &Place::Inherited), None);
    }
}
