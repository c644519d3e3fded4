//! Reads an NSG to verify: our `nsg.json` (an ARM resource, rules under `properties`) or the output
//! of `az network nsg show -o json` (rules flattened, `defaultSecurityRules` beside them). Every
//! problem is a coded diagnostic with its JSON path and position; all are reported.

use super::{invalid_json, locate};
use crate::azure::nsg::{Access, AddressMatch, Direction, Protocol, SecurityRule, MAX_PRIORITY, MIN_PRIORITY};
use ipnet::{IpNet, Ipv4Net};
use ise_model::codes::*;
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};
use ise_model::ports::PortRange;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The explicit rules of the file (defaults are Azure's and are added by the verifier).
#[derive(Debug)]
pub struct NsgFile {
    pub name: String,
    pub rules: Vec<SecurityRule>,
}

pub fn parse(text: &str, file: &str) -> Result<NsgFile, Vec<Diagnostic>> {
    let value: Value = serde_json::from_str(text).map_err(|e| vec![invalid_json(E_NSG_FILE, &e, file)])?;
    let mut diags = Vec::new();
    // An ARM template (azuredeploy.json): read its NSG resource.
    let (base, value) = super::template::resource(&value, "Microsoft.Network/networkSecurityGroups").unwrap_or((String::new(), &value));
    let (rules_path, rules) = match (value.pointer("/properties/securityRules"), value.get("securityRules")) {
        (Some(Value::Array(r)), _) => (format!("{base}properties.securityRules"), r.as_slice()),
        (_, Some(Value::Array(r))) => (format!("{base}securityRules"), r.as_slice()),
        _ => {
            let d = Diagnostic::error(
                E_NSG_FILE,
                "",
                "no `properties.securityRules` (ARM resource) or `securityRules` (az network nsg show) array found",
            )
            .with_help("pass isenet's nsg.json or the output of `az network nsg show -g RG -n NAME -o json`");
            return Err(vec![d.in_file(file)]);
        }
    };
    let name = value.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if let Some(r) = parse_rule(rule, &index(&rules_path, i), &mut diags) {
            out.push(r);
        }
    }
    let mut seen: BTreeMap<(Direction, u32), &str> = BTreeMap::new();
    for (i, r) in out.iter().enumerate() {
        if let Some(other) = seen.insert((r.direction, r.priority), &r.name) {
            diags.push(
                Diagnostic::error(
                    E_NSG_DUPLICATE_PRIORITY,
                    index(&rules_path, i),
                    format!("rule `{}` has priority {} like `{other}` in the same direction", r.name, r.priority),
                )
                .with_help("Azure refuses two rules with one priority and direction"),
            );
        }
    }
    if diags.is_empty() {
        Ok(NsgFile { name, rules: out })
    } else {
        Err(locate(diags, text, file))
    }
}

/// ARM puts the fields under `properties`; az flattens them into the rule.
fn rule_fields<'v>(rule: &'v Value, path: &str) -> Option<(&'v Map<String, Value>, String)> {
    match rule.get("properties") {
        Some(Value::Object(p)) => Some((p, field(path, "properties"))),
        _ => rule.as_object().map(|m| (m, path.to_string())),
    }
}

fn parse_rule(rule: &Value, path: &str, diags: &mut Vec<Diagnostic>) -> Option<SecurityRule> {
    let Some(name) = rule.get("name").and_then(Value::as_str) else {
        diags.push(Diagnostic::error(E_NSG_FIELD, field(path, "name"), "rule has no `name` string"));
        return None;
    };
    let Some((props, ppath)) = rule_fields(rule, path) else {
        diags.push(Diagnostic::error(E_NSG_FIELD, path.to_string(), "a rule must be an object"));
        return None;
    };
    let before = diags.len();
    for asg in ["sourceApplicationSecurityGroups", "destinationApplicationSecurityGroups"] {
        if props.get(asg).and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            diags.push(
                Diagnostic::error(
                    E_NSG_UNSUPPORTED,
                    field(&ppath, asg),
                    format!("rule `{name}` uses application security groups"),
                )
                .with_help("the verifier works on addresses: replace the groups by prefixes or tags"),
            );
        }
    }
    let text = |key: &str, diags: &mut Vec<Diagnostic>| -> Option<String> {
        match props.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                diags.push(Diagnostic::error(
                    E_NSG_FIELD,
                    field(&ppath, key),
                    format!("`{key}` must be a string"),
                ));
                None
            }
            None => {
                diags.push(Diagnostic::error(
                    E_NSG_FIELD,
                    field(&ppath, key),
                    format!("rule `{name}` has no `{key}`"),
                ));
                None
            }
        }
    };
    let protocol = text("protocol", diags).and_then(|p| match p.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "icmp" => Some(Protocol::Icmp),
        "esp" => Some(Protocol::Esp),
        "ah" => Some(Protocol::Ah),
        "*" | "any" => Some(Protocol::Any),
        _ => {
            diags.push(
                Diagnostic::error(E_NSG_VALUE, field(&ppath, "protocol"), format!("unknown protocol `{p}`"))
                    .with_help("Tcp, Udp, Icmp, Esp, Ah or *"),
            );
            None
        }
    });
    let access = text("access", diags).and_then(|a| match a.to_ascii_lowercase().as_str() {
        "allow" => Some(Access::Allow),
        "deny" => Some(Access::Deny),
        _ => {
            diags.push(Diagnostic::error(E_NSG_VALUE, field(&ppath, "access"), format!("unknown access `{a}`")).with_help("Allow or Deny"));
            None
        }
    });
    let direction = text("direction", diags).and_then(|d| match d.to_ascii_lowercase().as_str() {
        "inbound" => Some(Direction::Inbound),
        "outbound" => Some(Direction::Outbound),
        _ => {
            diags.push(
                Diagnostic::error(E_NSG_VALUE, field(&ppath, "direction"), format!("unknown direction `{d}`"))
                    .with_help("Inbound or Outbound"),
            );
            None
        }
    });
    let priority = match props.get("priority").and_then(Value::as_u64) {
        Some(p) if (u64::from(MIN_PRIORITY)..=u64::from(MAX_PRIORITY)).contains(&p) => Some(p as u32),
        Some(p) => {
            diags.push(Diagnostic::error(
                E_NSG_VALUE,
                field(&ppath, "priority"),
                format!("priority {p} is outside {MIN_PRIORITY}-{MAX_PRIORITY}"),
            ));
            None
        }
        None => {
            diags.push(Diagnostic::error(
                E_NSG_FIELD,
                field(&ppath, "priority"),
                format!("rule `{name}` has no whole-number `priority`"),
            ));
            None
        }
    };
    let source = addresses(props, &ppath, "source", diags);
    let destination = addresses(props, &ppath, "destination", diags);
    let source_ports = ports(props, &ppath, "source", diags);
    let destination_ports = ports(props, &ppath, "destination", diags);
    if diags.len() > before {
        return None;
    }
    Some(SecurityRule {
        name: name.to_string(),
        priority: priority?,
        direction: direction?,
        access: access?,
        protocol: protocol?,
        source: source?,
        source_ports: source_ports?,
        destination: destination?,
        destination_ports: destination_ports?,
        is_default: false,
    })
}

/// Reads the singular or the plural field of a side (`sourceAddressPrefix` / `...Prefixes`).
fn singular_or_plural<'v>(
    props: &'v Map<String, Value>,
    ppath: &str,
    single: &str,
    plural: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<(&'v str, String)>> {
    let mut items = Vec::new();
    if let Some(Value::Array(list)) = props.get(plural) {
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) => items.push((s, index(&field(ppath, plural), i))),
                None => diags.push(Diagnostic::error(E_NSG_FIELD, index(&field(ppath, plural), i), "must be a string")),
            }
        }
    }
    if items.is_empty() {
        match props.get(single) {
            Some(Value::String(s)) => items.push((s.as_str(), field(ppath, single))),
            _ => {
                diags.push(Diagnostic::error(
                    E_NSG_FIELD,
                    field(ppath, single),
                    format!("neither `{single}` nor a non-empty `{plural}` is given"),
                ));
                return None;
            }
        }
    }
    Some(items)
}

fn addresses(props: &Map<String, Value>, ppath: &str, side: &str, diags: &mut Vec<Diagnostic>) -> Option<AddressMatch> {
    let items = singular_or_plural(
        props,
        ppath,
        &format!("{side}AddressPrefix"),
        &format!("{side}AddressPrefixes"),
        diags,
    )?;
    if let [(s, _)] = items.as_slice() {
        if *s == "*" || s.eq_ignore_ascii_case("any") {
            return Some(AddressMatch::Any);
        }
        if s.parse::<IpNet>().is_err() && s.parse::<std::net::IpAddr>().is_err() {
            return Some(AddressMatch::Tag(s.to_string()));
        }
    }
    let mut v4 = Vec::new();
    for (s, path) in items {
        match s.parse::<IpNet>().or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from)) {
            Ok(IpNet::V4(n)) => v4.push(n.trunc()),
            // IPv6 entries never match an IPv4 packet of the ISE subnets.
            Ok(IpNet::V6(_)) => {}
            Err(_) => diags.push(
                Diagnostic::error(E_NSG_VALUE, path, format!("`{s}` is not an address or prefix"))
                    .with_help("the plural field takes IPs and CIDRs only; a service tag needs a rule of its own"),
            ),
        }
    }
    v4.sort();
    Some(AddressMatch::Prefixes(Ipv4Net::aggregate(&v4)))
}

fn ports(props: &Map<String, Value>, ppath: &str, side: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<PortRange>> {
    let items = singular_or_plural(props, ppath, &format!("{side}PortRange"), &format!("{side}PortRanges"), diags)?;
    let mut out = Vec::new();
    for (s, path) in items {
        match PortRange::parse(s) {
            Ok(r) => out.push(r),
            Err(why) => diags.push(Diagnostic::error(E_NSG_VALUE, path, format!("invalid port `{s}`: {why}"))),
        }
    }
    Some(ise_model::ports::normalise(&out))
}
