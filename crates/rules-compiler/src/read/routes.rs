//! Reads a route table (ARM `route-table.json`, the route table of an ARM template, or `az network
//! route-table show -o json`): each route's name, address prefix (a CIDR or a service tag) and next
//! hop. Every problem is a coded diagnostic with its JSON path and position; all are reported.

use super::fields::{items, no_items, resource_name, unique_names, Object};
use super::json::{Json, Locate};
use super::template::{named_otherwise, Wanted};
use super::{locate, LimitViolation, Location};
use crate::azure::is_tag_word;
use crate::azure::route::{NextHop, RouteEntry, MAX_ROUTES, MAX_TAG_ROUTES};
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::{E_ROUTE_DUPLICATE_NAME, E_ROUTE_DUPLICATE_PREFIX, E_ROUTE_FILE};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::index;
use ise_model::servicetags::ServiceTags;
use std::net::Ipv4Addr;

/// The routes of a route table file.
#[derive(Debug)]
pub struct RouteFile {
    pub routes: Vec<RouteEntry>,
    /// Where each route was read, in the order of `routes`.
    pub origins: Vec<Location>,
    /// The table's `disableBgpRoutePropagation`; `None` when the file does not say (Azure's
    /// default is `false`).
    pub disable_bgp_route_propagation: Option<bool>,
    /// Azure limits the table exceeds (findings, not input errors).
    pub limit_violations: Vec<LimitViolation>,
    /// The subnets the route table is on, where the file says (`subnets::associated`).
    pub subnets: Option<Vec<super::subnets::SubnetRef>>,
    /// ISE subnets a template puts on another resource of this kind instead: (subnet, that
    /// resource's name, or its id when it lies elsewhere than the virtual network).
    pub elsewhere: Vec<(String, String)>,
    /// The name of a bare file's route table, when the environment names its own otherwise.
    pub named_otherwise: Option<String>,
}

pub fn parse(text: &str, file: &str) -> Result<RouteFile, Vec<Diagnostic>> {
    parse_wanted(text, file, &Wanted::default())
}

/// [`parse`], taking from a template that holds several the resource of the wanted name.
pub fn parse_wanted(text: &str, file: &str, wanted: &Wanted) -> Result<RouteFile, Vec<Diagnostic>> {
    let tree = ise_model::jsondoc::tree::parse(text, file, E_ROUTE_FILE)?;
    read(tree.root(), &tree, file, wanted)
}

/// Reads a parsed file (generic: its tests read serde's `Value` too, the path before the tree).
pub(super) fn read<'v, J: Json<'v>>(
    document: J,
    positions: &impl Locate,
    file: &str,
    wanted: &Wanted,
) -> Result<RouteFile, Vec<Diagnostic>> {
    // An ARM template (an exported resource group): read its route table resource.
    let (prefix, value, named_otherwise) = match super::template::resource(document, &super::template::ROUTE_TABLE, wanted) {
        Err(diags) => return Err(locate(diags, positions, file)),
        Ok(Some((prefix, value))) => (prefix, value, None),
        Ok(None) => (
            String::new(),
            document,
            named_otherwise(document, &super::template::ROUTE_TABLE, wanted),
        ),
    };
    let Some((base, routes)) = items(value, "routes").map(|(p, r)| (format!("{prefix}{p}"), r)) else {
        let help = "pass isenet's route-table.json or `az network route-table show -g RG -n NAME -o json`";
        return Err(locate(vec![no_items(E_ROUTE_FILE, "routes", help)], positions, file));
    };
    let mut diags = Vec::new();
    let disable_bgp_route_propagation = disable_bgp(value, &prefix, &mut diags);
    let entries: Vec<(usize, RouteEntry)> = routes
        .clone()
        .enumerate()
        .filter_map(|(i, route)| Some((i, parse_route(route, &index(&base, i), &mut diags)?)))
        .collect();
    unique_names(routes.clone(), &base, E_ROUTE_DUPLICATE_NAME, "route", &mut diags);
    unique_prefixes(&entries, &base, &mut diags);
    if !diags.is_empty() {
        return Err(locate(diags, positions, file));
    }
    let at = || Location::of(positions, file, base.clone());
    let tag_routes = entries.iter().filter(|(_, r)| is_tag_route(r)).count();
    let limit_violations = [
        LimitViolation::at_most("routes per route table", MAX_ROUTES, routes.len(), at),
        LimitViolation::at_most("service-tag routes per route table", MAX_TAG_ROUTES, tag_routes, at),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (subnets, elsewhere) = super::template::subnets_of(document, value, &super::template::ROUTE_TABLE, &prefix, wanted);
    Ok(RouteFile {
        origins: entries
            .iter()
            .map(|(i, _)| Location::of(positions, file, index(&base, *i)))
            .collect(),
        routes: entries.into_iter().map(|(_, r)| r).collect(),
        disable_bgp_route_propagation,
        limit_violations,
        subnets,
        elsewhere,
        named_otherwise,
    })
}

/// `disableBgpRoutePropagation` under `properties` (ARM) or at the top (az); absent or null is
/// `None`, anything but a boolean is reported.
fn disable_bgp<'v, J: Json<'v>>(table: J, prefix: &str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    const KEY: &str = "disableBgpRoutePropagation";
    let table = Object::new(table, prefix.trim_end_matches('.').to_string(), E_ROUTE_FILE);
    let holder = match table.value.get("properties") {
        Some(p) if p.get(KEY).is_some() => table.properties(),
        _ => table,
    };
    let value = holder.get(KEY)?;
    let flag = value.as_bool();
    if flag.is_none() {
        diags.push(Diagnostic::error(
            E_ROUTE_FILE,
            holder.at(KEY),
            format!("`{KEY}` must be true or false"),
        ));
    }
    flag
}

/// Azure refuses a table with two routes for one prefix (RouteConflict): were it read, the proof
/// would have to pick one of them, and so would decide what Azure never deploys.
fn unique_prefixes(entries: &[(usize, RouteEntry)], base: &str, diags: &mut Vec<Diagnostic>) {
    // A prefix by its network (`10.0.0.0/8` and `10.1.0.0/8` are one), a tag case-insensitively.
    let key = |r: &RouteEntry| match ise_model::ip_text::prefix(&r.address_prefix) {
        Some(net) => net.trunc().to_string(),
        None => r.address_prefix.to_lowercase(),
    };
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (i, route) in entries {
        match seen.entry(key(route)) {
            std::collections::btree_map::Entry::Occupied(first) => diags.push(
                Diagnostic::error(
                    E_ROUTE_DUPLICATE_PREFIX,
                    index(base, *i),
                    format!(
                        "route `{}` is for `{}`, like the route at {}",
                        route.name,
                        route.address_prefix,
                        index(base, *first.get())
                    ),
                )
                .with_help("Azure refuses two routes with one address prefix (RouteConflict): keep one of them"),
            ),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(*i);
            }
        }
    }
}

/// A route whose address prefix is a service tag rather than a CIDR.
pub fn is_tag_route(route: &RouteEntry) -> bool {
    ise_model::ip_text::prefix(&route.address_prefix).is_none()
}

fn parse_route<'v, J: Json<'v>>(route: J, path: &str, diags: &mut Vec<Diagnostic>) -> Option<RouteEntry> {
    let item = Object::new(route, path.to_string(), E_ROUTE_FILE);
    if !item.is_object("a route", diags) {
        return None;
    }
    let before = diags.len();
    let name = item.text("name", true, diags);
    diags.extend(name.and_then(|n| resource_name(n, "route", E_ROUTE_FILE, item.at("name"))));
    let props = item.checked_properties(diags)?;
    let address_prefix = address_prefix(&props, diags);
    let next_hop_type = next_hop_type(&props, diags);
    let ip_text = props.text("nextHopIpAddress", false, diags).filter(|s| !s.is_empty());
    let next_hop_ip_address = match (next_hop_type?, ip_text) {
        (NextHop::VirtualAppliance, Some(ip)) => match ip.parse::<Ipv4Addr>() {
            Ok(a) => Some(a),
            Err(_) => {
                let message = format!("next hop `{ip}` is not an IPv4 address");
                diags.push(Diagnostic::error(E_ROUTE_FILE, props.at("nextHopIpAddress"), message));
                None
            }
        },
        (NextHop::VirtualAppliance, None) => {
            let message = "a VirtualAppliance route needs `nextHopIpAddress`";
            diags.push(Diagnostic::error(E_ROUTE_FILE, props.at("nextHopIpAddress"), message));
            None
        }
        // ARM (2023-11-01): next hop values are only allowed where the next hop type is
        // VirtualAppliance; Azure refuses the route.
        (hop, Some(ip)) => {
            let message = format!("a {} route has no next hop address (`{ip}`)", hop.as_str());
            diags.push(
                Diagnostic::error(E_ROUTE_FILE, props.at("nextHopIpAddress"), message)
                    .with_help("only VirtualAppliance routes take `nextHopIpAddress`: remove it, or make the route VirtualAppliance"),
            );
            None
        }
        (_, None) => None,
    };
    if diags.len() > before {
        return None;
    }
    Some(RouteEntry {
        name: name?.to_string(),
        address_prefix: address_prefix?.to_string(),
        next_hop_type: next_hop_type?,
        next_hop_ip_address,
    })
}

/// A CIDR or a service tag word; Azure refuses a bare IP or a malformed prefix.
fn address_prefix<'v, J: Json<'v>>(props: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<&'v str> {
    let text = props.text("addressPrefix", true, diags)?;
    if ise_model::ip_text::prefix(text).is_some() || is_tag_word(text) {
        return Some(text);
    }
    diags.push(
        Diagnostic::error(
            E_ROUTE_FILE,
            props.at("addressPrefix"),
            format!("`{text}` is neither a CIDR prefix nor a service tag"),
        )
        .with_help(match ise_model::ip_text::has_leading_zero(text) {
            true => ise_model::ip_text::leading_zero_help(text),
            false => "write a prefix such as 10.0.0.0/24 (an address needs /32) or a service tag such as `Storage`".into(),
        }),
    );
    None
}

fn next_hop_type<'v, J: Json<'v>>(props: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<NextHop> {
    let text = props.text("nextHopType", true, diags)?;
    let hop = NextHop::parse(text);
    if hop.is_none() {
        diags.push(
            Diagnostic::error(E_ROUTE_FILE, props.at("nextHopType"), format!("unknown next hop type `{text}`"))
                .with_help("Azure knows VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance and None"),
        );
    }
    hop
}

/// The IPv4 prefixes a route names: its CIDR, or its service tag's prefixes.
pub fn route_prefixes(address_prefix: &str, tags: &ServiceTags) -> Option<Vec<Ipv4Net>> {
    match ise_model::ip_text::prefix(address_prefix) {
        Some(IpNet::V4(n)) => Some(vec![n.trunc()]),
        Some(IpNet::V6(_)) => Some(Vec::new()),
        None => tags.get(address_prefix).map(|t| t.ipv4()),
    }
}

/// All address prefixes of the routes (they join the VirtualNetwork tag). A route naming a tag the
/// tag file lacks is an error at the route's place in its file (`origins`, parallel to `routes`,
/// empty for routes that were not read from a file).
pub fn entries_prefixes(routes: &[RouteEntry], origins: &[Location], tags: &ServiceTags) -> Result<Vec<Ipv4Net>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        match route_prefixes(&r.address_prefix, tags) {
            Some(p) => out.extend(p),
            None => {
                let message = format!("`{}` is neither a prefix nor a tag of the service-tag file", r.address_prefix);
                diags.push(match origins.get(i) {
                    Some(o) => o.error(E_ROUTE_FILE, message),
                    None => Diagnostic::error(E_ROUTE_FILE, format!("routes[{i}]"), message),
                });
            }
        }
    }
    if diags.is_empty() {
        Ok(Ipv4Net::aggregate(&out))
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    const ROUTE: &str = r#"{"name": "r", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}"#;

    #[test]
    fn bgp_propagation_is_read_from_az_arm_and_template_shapes() {
        let az = format!(r#"{{"disableBgpRoutePropagation": true, "routes": [{ROUTE}]}}"#);
        let arm = format!(r#"{{"properties": {{"disableBgpRoutePropagation": true, "routes": [{ROUTE}]}}}}"#);
        let template = format!(
            r#"{{"resources": [{{"type": "Microsoft.Network/routeTables", "properties": {{"disableBgpRoutePropagation": false, "routes": [{ROUTE}]}}}}]}}"#
        );
        let absent = format!(r#"{{"routes": [{ROUTE}], "disableBgpRoutePropagation": null}}"#);
        let got: Vec<Option<bool>> = [az, arm, template, absent]
            .iter()
            .map(|t| parse(t, "f.json").unwrap().disable_bgp_route_propagation)
            .collect();
        assert_eq!(got, [Some(true), Some(true), Some(false), None]);
    }

    #[test]
    fn bgp_propagation_that_is_not_a_boolean_is_reported_at_its_path() {
        let text = format!(r#"{{"properties": {{"disableBgpRoutePropagation": "yes", "routes": [{ROUTE}]}}}}"#);
        let diags = parse(&text, "f.json").unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].path, "properties.disableBgpRoutePropagation");
    }
}
