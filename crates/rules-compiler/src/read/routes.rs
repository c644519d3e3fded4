//! Reads a route table (ARM `route-table.json` or `az network route-table show -o json`): each
//! route's name, address prefix (a CIDR or a service tag) and next hop. Every problem is a coded
//! diagnostic with its JSON path and position; all are reported.

use super::locate;
use crate::azure::route::{NextHop, RouteEntry};
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::E_ROUTE_FILE;
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};
use ise_model::servicetags::ServiceTags;
use serde_json::Value;
use std::net::Ipv4Addr;

pub fn parse(text: &str, file: &str) -> Result<Vec<RouteEntry>, Vec<Diagnostic>> {
    let value: Value = ise_model::jsondoc::parse(text, file, E_ROUTE_FILE)?;
    let (base, routes) = match (value.pointer("/properties/routes"), value.get("routes")) {
        (Some(Value::Array(r)), _) => ("properties.routes", r),
        (_, Some(Value::Array(r))) => ("routes", r),
        _ => {
            let d = Diagnostic::error(
                E_ROUTE_FILE,
                "",
                "no `properties.routes` (ARM resource) or `routes` (az output) array found",
            )
            .with_help("pass isenet's route-table.json or `az network route-table show -g RG -n NAME -o json`");
            return Err(vec![d.in_file(file)]);
        }
    };
    let mut diags = Vec::new();
    let entries: Vec<RouteEntry> = routes
        .iter()
        .enumerate()
        .filter_map(|(i, route)| parse_route(route, &index(base, i), &mut diags))
        .collect();
    if diags.is_empty() {
        Ok(entries)
    } else {
        Err(locate(diags, text, file))
    }
}

/// ARM puts the fields under `properties`; az flattens them into the route.
fn parse_route(route: &Value, path: &str, diags: &mut Vec<Diagnostic>) -> Option<RouteEntry> {
    let (props, ppath) = match route.get("properties") {
        Some(p) => (p, field(path, "properties")),
        None => (route, path.to_string()),
    };
    let mut text_field = |key: &str, required: bool| -> Option<String> {
        match props.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                diags.push(Diagnostic::error(E_ROUTE_FILE, path, format!("route has no `{key}`")));
                None
            }
            Some(_) => {
                diags.push(Diagnostic::error(
                    E_ROUTE_FILE,
                    field(&ppath, key),
                    format!("`{key}` must be a string"),
                ));
                None
            }
        }
    };
    let name = route.get("name").and_then(Value::as_str).map(str::to_string);
    let address_prefix = text_field("addressPrefix", true);
    let hop_text = text_field("nextHopType", true);
    let ip_text = text_field("nextHopIpAddress", false);
    let next_hop_type = hop_text.and_then(|t| {
        let hop = NextHop::parse(&t);
        if hop.is_none() {
            diags.push(
                Diagnostic::error(E_ROUTE_FILE, field(&ppath, "nextHopType"), format!("unknown next hop type `{t}`"))
                    .with_help("Azure knows VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance and None"),
            );
        }
        hop
    });
    let next_hop_ip_address = match (&next_hop_type, ip_text.as_deref().filter(|s| !s.is_empty())) {
        (Some(NextHop::VirtualAppliance), Some(ip)) => match ip.parse::<Ipv4Addr>() {
            Ok(a) => Some(a),
            Err(_) => {
                let message = format!("next hop `{ip}` is not an IPv4 address");
                diags.push(Diagnostic::error(E_ROUTE_FILE, field(&ppath, "nextHopIpAddress"), message));
                return None;
            }
        },
        (Some(NextHop::VirtualAppliance), None) => {
            let message = "a VirtualAppliance route needs `nextHopIpAddress`";
            diags.push(Diagnostic::error(E_ROUTE_FILE, path, message));
            return None;
        }
        _ => None,
    };
    Some(RouteEntry {
        name: name.unwrap_or_default(),
        address_prefix: address_prefix?,
        next_hop_type: next_hop_type?,
        next_hop_ip_address,
    })
}

/// The IPv4 prefixes a route names: its CIDR, or its service tag's prefixes.
pub fn route_prefixes(address_prefix: &str, tags: &ServiceTags) -> Option<Vec<Ipv4Net>> {
    match address_prefix.parse::<IpNet>() {
        Ok(IpNet::V4(n)) => Some(vec![n.trunc()]),
        Ok(IpNet::V6(_)) => Some(Vec::new()),
        Err(_) => tags.get(address_prefix).map(|t| t.ipv4()),
    }
}

/// All address prefixes of the routes (they join the VirtualNetwork tag).
pub fn entries_prefixes(routes: &[RouteEntry], file: &str, tags: &ServiceTags) -> Result<Vec<Ipv4Net>, Diagnostic> {
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        match route_prefixes(&r.address_prefix, tags) {
            Some(p) => out.extend(p),
            None => {
                let message = format!("`{}` is neither a prefix nor a service tag of the file", r.address_prefix);
                return Err(Diagnostic::error(E_ROUTE_FILE, format!("routes[{i}].addressPrefix"), message).in_file(file));
            }
        }
    }
    Ok(Ipv4Net::aggregate(&out))
}
