//! Reads a route table (ARM `route-table.json` or `az network route-table show -o json`): each
//! route's name, address prefix (a CIDR or a service tag) and next hop.

use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::E_ROUTE_FILE;
use ise_model::diag::Diagnostic;
use ise_model::servicetags::ServiceTags;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub name: String,
    /// A CIDR or a service tag.
    pub address_prefix: String,
    /// `Internet`, `VirtualAppliance`, `VnetLocal`, `VirtualNetworkGateway` or `None`.
    pub next_hop_type: String,
    pub next_hop_ip_address: Option<String>,
}

pub fn parse(text: &str, file: &str) -> Result<Vec<RouteEntry>, Diagnostic> {
    let err = |path: String, msg: String| Diagnostic::error(E_ROUTE_FILE, path, msg).in_file(file);
    let value: Value = serde_json::from_str(text).map_err(|e| err(String::new(), format!("invalid JSON: {e}")).at(e.line(), e.column()))?;
    let (base, routes) = match (value.pointer("/properties/routes"), value.get("routes")) {
        (Some(Value::Array(r)), _) => ("properties.routes", r),
        (_, Some(Value::Array(r))) => ("routes", r),
        _ => {
            return Err(err(
                String::new(),
                "no `properties.routes` (ARM resource) or `routes` (az output) array found".into(),
            )
            .with_help("pass isenet's route-table.json or `az network route-table show -g RG -n NAME -o json`"))
        }
    };
    routes
        .iter()
        .enumerate()
        .map(|(i, route)| {
            let field = |k: &str| {
                route
                    .pointer(&format!("/properties/{k}"))
                    .or_else(|| route.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let path = format!("{base}[{i}]");
            Ok(RouteEntry {
                name: field("name")
                    .or_else(|| route.get("name").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default(),
                address_prefix: field("addressPrefix").ok_or_else(|| err(path.clone(), "route has no addressPrefix".into()))?,
                next_hop_type: field("nextHopType").ok_or_else(|| err(path.clone(), "route has no nextHopType".into()))?,
                next_hop_ip_address: field("nextHopIpAddress"),
            })
        })
        .collect()
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
