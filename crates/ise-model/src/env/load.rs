//! Reads an environment file: JSON syntax, then every field's type, enum and format, then the
//! network rules (network.rs) and certificates (certificate.rs). Every problem is collected; an
//! `Environment` is returned only when there is no error.

use super::*;
use crate::cloud::{self, CloudId};
use crate::codes::*;
use crate::diag::{excerpt, sort_diagnostics, Diagnostic};
use crate::fuzzy::did_you_mean;
use crate::jsonpos::{field, index, Positions};
use crate::ports::PortRange;
use serde_json::{Map, Value};

/// The result of loading: the environment when there were no errors, and all diagnostics
/// (warnings included) sorted by position.
#[derive(Debug)]
pub struct Loaded {
    pub env: Option<Environment>,
    pub diagnostics: Vec<Diagnostic>,
}

const TOP_FIELDS: &[&str] = &[
    "name",
    "cloud",
    "location",
    "subscriptionId",
    "resourceGroup",
    "accessEndpoint",
    "sku",
    "virtualNetwork",
    "subnets",
    "customDnsServers",
    "forcedTunneling",
    "externalCallers",
    "internalCallers",
    "outboundPolicy",
    "outboundDestinations",
    "certificates",
    "nsgName",
    "routeTableName",
    "identity",
    "encryption",
    "$schema",
];
/// The longest string any field but a certificate takes, with room: names are at most 90
/// characters, locations, prefixes, GUIDs and ports far shorter.
const MAX_VALUE_CHARS: usize = 256;
/// A certificate's base64 or PEM text: an X.509 certificate with a 16,384-bit key is under 8 KB.
const MAX_CERTIFICATE_CHARS: usize = 65_536;

/// Names people bring from ARM templates, the Azure CLI and Terraform for fields this file names
/// otherwise, too far apart for the edit distance to suggest (`dnsServers`, `region`).
const ALIASES: &[(&str, &str)] = &[
    ("accessEndpointType", "accessEndpoint"),
    ("addressPrefix", "prefix"),
    ("addressPrefixes", "addressSpace"),
    ("azureEnvironment", "cloud"),
    ("delegation", "delegated"),
    ("delegations", "delegated"),
    ("dnsServers", "customDnsServers"),
    ("environment", "cloud"),
    ("firewallIp", "firewallPrivateIp"),
    ("firewallIpAddress", "firewallPrivateIp"),
    ("firewallPrivateIpAddress", "firewallPrivateIp"),
    ("integrationServiceEnvironmentName", "name"),
    ("iseName", "name"),
    ("networkSecurityGroupName", "nsgName"),
    ("nextHopIpAddress", "firewallPrivateIp"),
    ("region", "location"),
    ("resourceGroupName", "resourceGroup"),
    ("routeTable", "routeTableName"),
    ("skuName", "sku"),
    ("subscription", "subscriptionId"),
    ("vnet", "virtualNetwork"),
    ("virtualNetworkName", "virtualNetwork"),
];

/// The field of `known` that `key` names under another tool's name ([`ALIASES`]), any case.
fn alias_of<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let target = ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(key))?.1;
    known.iter().copied().find(|k| *k == target)
}

/// The fields of `forcedTunneling`.
const FORCED_TUNNELING_FIELDS: &[&str] = &[
    "mode",
    "firewallPrivateIp",
    "ruleCollectionGroupName",
    "ruleCollectionGroupPriority",
];
const TOP_REQUIRED: &[&str] = &["name", "location", "subscriptionId", "resourceGroup", "virtualNetwork", "subnets"];

/// Loads and checks an environment. `file` only names the source in diagnostics.
pub fn load(text: &str, file: &str) -> Loaded {
    let mut w = Walker::default();
    let parsed = crate::jsondoc::parse::<Value>(text, file, E_SYNTAX);
    let env = match &parsed {
        Ok(value) if too_many_items(value, &mut w) => None,
        Ok(value) => w.environment(value),
        Err(diags) => {
            w.diags.extend(diags.iter().cloned());
            None
        }
    };
    // The position scanner assumes well-formed JSON (it does not terminate on some malformed text);
    // a syntax error carries serde_json's own position. Scanned only for a diagnostic to place:
    // a valid file (a fleet's every environment) needs none.
    let positions = if parsed.is_ok() && w.diags.iter().any(|d| d.line.is_none()) {
        Positions::of(text)
    } else {
        Positions::default()
    };
    let mut diagnostics: Vec<Diagnostic> = w
        .diags
        .into_iter()
        .map(|mut d| {
            if d.line.is_none() {
                if let Some((l, c)) = positions.find(&d.path) {
                    d = d.at(l, c);
                }
            }
            d.in_file(file)
        })
        .collect();
    sort_diagnostics(&mut diagnostics);
    // Canonical only once valid: the diagnostics above point at the file's own order.
    let env = if crate::diag::has_errors(&diagnostics) {
        None
    } else {
        env.map(super::canonical::canonical)
    };
    Loaded { env, diagnostics }
}

/// The most list items an environment may hold in all. The largest valid lists are a few hundred
/// (200 outbound destinations, callers, address-space prefixes); each item costs a check and,
/// when malformed, a diagnostic, so a file of millions of items is refused before any is checked.
const MAX_ITEMS: usize = 50_000;

/// Whether the document holds more than [`MAX_ITEMS`] array items in all (reported at the largest).
fn too_many_items(root: &Value, w: &mut Walker) -> bool {
    // Paths are built for containers only: scalars hold no lists.
    fn container(v: &Value) -> bool {
        v.is_array() || v.is_object()
    }
    fn walk(v: &Value, path: String, total: &mut usize, largest: &mut (usize, String)) {
        match v {
            Value::Array(items) => {
                *total += items.len();
                if items.len() > largest.0 {
                    *largest = (items.len(), path.clone());
                }
                for (i, item) in items.iter().enumerate().filter(|(_, v)| container(v)) {
                    walk(item, index(&path, i), total, largest);
                }
            }
            Value::Object(map) => map
                .iter()
                .filter(|(_, v)| container(v))
                .for_each(|(k, item)| walk(item, field(&path, &excerpt(k)), total, largest)),
            _ => {}
        }
    }
    let (mut total, mut largest) = (0, (0, String::new()));
    walk(root, String::new(), &mut total, &mut largest);
    if total > MAX_ITEMS {
        w.push(crate::jsondoc::too_many(
            &largest.1,
            total,
            MAX_ITEMS,
            "list items in the environment",
        ));
    }
    total > MAX_ITEMS
}

#[derive(Default)]
pub(super) struct Walker {
    pub(super) diags: Vec<Diagnostic>,
}

/// One item of `subnets` with the parts that passed their own checks (`None` where one failed or,
/// for the whole item, where it is not an object).
pub(super) struct SubnetItem {
    /// Index in the file's `subnets` array.
    pub index: usize,
    pub name: Option<String>,
    pub prefix: Option<Ipv4Net>,
    pub delegated: Option<bool>,
}

impl SubnetItem {
    /// The subnet when every part passed its checks.
    fn complete(self) -> Option<Subnet> {
        Some(Subnet {
            name: self.name?,
            prefix: self.prefix?,
            delegated: self.delegated?,
        })
    }
}

/// The value of a number that is a whole number, as JSON Schema 2020-12 counts them (`1.0`, `1e0`
/// and `-0` are integers; the schema's `"type": "integer"` accepts them, so validate does too);
/// `None` for a fraction.
fn whole_number(n: &serde_json::Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    // Beyond i128 a float is far outside every range checked here; saturating keeps it outside.
    n.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0).map(|f| f as i128)
}

/// A number as a message shows it: a whole number as an integer (`11.0` is 11), except beyond
/// 2^53, where a float is no longer the integer it was written as (`1e308` would print as
/// `i128::MAX`, `1e30` as 1000000000000000019884624838656): there, and for a fraction, serde's
/// form.
fn as_written(n: &serde_json::Number) -> String {
    whole_number(n)
        .filter(|w| w.unsigned_abs() < 1 << 53)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Walker {
    pub(super) fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn wrong_type(&mut self, path: &str, expected: &str, v: &Value) {
        let help = if path.is_empty() {
            "an environment file is one JSON object; `isenet example` prints one to start from".to_string()
        } else {
            format!("write {expected} here")
        };
        self.push(Diagnostic::error(E_TYPE, path, format!("expected {expected}, found {}", type_name(v))).with_help(help));
    }

    /// Checks `v` is an object with only `known` fields and all `required` ones.
    pub(super) fn object<'v>(&mut self, v: &'v Value, path: &str, known: &[&str], required: &[&str]) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = v else {
            self.wrong_type(path, "an object", v);
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let shown = excerpt(key);
                let mut d = Diagnostic::error(E_UNKNOWN_FIELD, field(path, &shown), format!("unknown field `{shown}`"));
                d = match alias_of(key, known).or_else(|| did_you_mean(key, known.iter().copied())) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("allowed fields here: {}", known.join(", "))),
                };
                self.push(d);
            }
        }
        for req in required {
            if !map.contains_key(*req) {
                let within = if path.is_empty() {
                    "the top-level object".to_string()
                } else {
                    format!("`{path}`")
                };
                self.push(
                    Diagnostic::error(E_MISSING, path, format!("missing required field `{req}`"))
                        .with_help(format!("add `{req}` to {within} (`isenet example` shows a complete file)")),
                );
            }
        }
        Some(map)
    }

    pub(super) fn string<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v str> {
        self.string_at_most(v, path, MAX_VALUE_CHARS)
    }

    /// A string of at most `max` characters. A longer one is refused before any name rule or "did
    /// you mean" looks at it, so a hostile 10 MB value costs one pass and never fills a message.
    fn string_at_most<'v>(&mut self, v: &'v Value, path: &str, max: usize) -> Option<&'v str> {
        match v {
            Value::String(s) if self.within(s, path, max) => Some(s),
            Value::String(_) => None,
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    /// Whether `s` has at most `max` characters; `E0006` when not.
    fn within(&mut self, s: &str, path: &str, max: usize) -> bool {
        // Four bytes per character at most: a short byte length settles it without counting.
        if s.len() <= max || s.chars().count() <= max {
            return true;
        }
        self.push(
            Diagnostic::error(
                E_TOO_LONG,
                path,
                format!("`{}` is longer than any valid value here (at most {max} characters)", excerpt(s)),
            )
            .with_help("check the value: names, locations, prefixes and ports are short"),
        );
        false
    }

    fn array<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v [Value]> {
        match v {
            Value::Array(a) => Some(a),
            other => {
                self.wrong_type(path, "an array", other);
                None
            }
        }
    }

    pub(super) fn one_of<'v>(&mut self, v: &'v Value, path: &str, allowed: &[&str]) -> Option<&'v str> {
        let s = self.string(v, path)?;
        if allowed.contains(&s) {
            return Some(s);
        }
        let d = Diagnostic::error(E_ENUM, path, format!("`{s}` is not one of: {}", allowed.join(", ")));
        let help = match did_you_mean(s, allowed.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!(
                "write one of {} (values are case-sensitive)",
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        self.push(d.with_help(help));
        None
    }

    /// A name matching Azure's rule for that resource type.
    fn name(&mut self, v: &Value, path: &str, what: &str, rule: NameRule) -> Option<String> {
        let s = self.string(v, path)?;
        match rule.check(s) {
            Ok(()) => Some(s.to_string()),
            Err(why) => {
                self.push(Diagnostic::error(E_NAME, path, format!("invalid {what} name `{s}`: {why}")).with_help(rule.help()));
                None
            }
        }
    }

    /// The default name of a resource, the ISE's `name` and `suffix`, which must follow the
    /// resource's own rule (an ISE name of 75-80 characters is valid, its `-routes` table is not).
    fn default_name(&mut self, ise: &str, field: &str, what: &str, suffix: &str) -> Option<String> {
        let derived = format!("{ise}{suffix}");
        match NameRule::Resource.check(&derived) {
            Ok(()) => Some(derived),
            Err(why) => {
                self.push(
                    Diagnostic::error(E_NAME, "name", format!("the default {what} name `{derived}` is invalid: {why}"))
                        .with_help(format!("shorten the ISE name, or set `{field}`")),
                );
                None
            }
        }
    }

    /// An IPv4 prefix; a bare address counts as /32 when `allow_address`.
    pub(super) fn cidr(&mut self, v: &Value, path: &str, allow_address: bool) -> Option<Ipv4Net> {
        let s = self.string(v, path)?;
        parse_cidr(s, allow_address).map_err(|d| self.push(d.into_diag(path, s))).ok()
    }

    /// One entry per item (`None` where the item failed its check), so later checks report an item
    /// at its own index; `None` when `v` is not an array.
    fn cidr_items(&mut self, v: &Value, path: &str, allow_address: bool) -> Option<Vec<Option<Ipv4Net>>> {
        let items = self.array(v, path)?;
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| self.cidr(item, &index(path, i), allow_address))
                .collect(),
        )
    }

    fn ipv4(&mut self, v: &Value, path: &str, code: &'static str) -> Option<std::net::Ipv4Addr> {
        let s = self.string(v, path)?;
        match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => Some(a),
            Ok(std::net::IpAddr::V6(_)) => {
                self.push(
                    Diagnostic::error(E_IPV6, path, format!("`{s}` is IPv6; ISE networking is IPv4 only"))
                        .with_help("write an IPv4 address such as 10.10.0.4"),
                );
                None
            }
            Err(_) => {
                let help = match crate::ip_text::has_leading_zero(s) {
                    true => crate::ip_text::leading_zero_help(s),
                    false => "write a single address such as 10.10.0.4".to_string(),
                };
                self.push(Diagnostic::error(code, path, format!("`{s}` is not an IPv4 address")).with_help(help));
                None
            }
        }
    }

    fn environment(&mut self, root: &Value) -> Option<Environment> {
        let map = self.object(root, "", TOP_FIELDS, TOP_REQUIRED)?;
        let get = |k: &str| map.get(k);

        let name = get("name").and_then(|v| self.name(v, "name", "ISE", NameRule::Ise));
        let cloud = match get("cloud") {
            Some(v) => self.one_of(v, "cloud", &CloudId::NAMES).and_then(CloudId::parse),
            None => Some(CloudId::Public),
        };
        let location = get("location").and_then(|v| self.location(v, cloud));
        let subscription_id = get("subscriptionId").and_then(|v| self.guid(v, "subscriptionId"));
        let resource_group = get("resourceGroup").and_then(|v| self.name(v, "resourceGroup", "resource group", NameRule::ResourceGroup));
        let access_endpoint = match get("accessEndpoint") {
            Some(v) => self.choice(
                v,
                "accessEndpoint",
                &[("internal", AccessEndpoint::Internal), ("external", AccessEndpoint::External)],
            ),
            None => Some(AccessEndpoint::Internal),
        };
        let sku = match get("sku") {
            Some(v) => self.sku(v),
            None => Some(Sku {
                name: SkuName::Premium,
                capacity: 0,
            }),
        };
        let (vnet_name, address_space) = match get("virtualNetwork") {
            Some(v) => self.virtual_network(v),
            None => (None, None),
        };
        let subnet_items = get("subnets").and_then(|v| self.subnets(v));
        let custom_dns_servers = match get("customDnsServers") {
            Some(v) => self.dns_servers(v),
            None => Some(Vec::new()),
        };
        let forced_tunneling = match get("forcedTunneling") {
            Some(v) => self.forced_tunneling(v),
            None => Some(ForcedTunneling {
                mode: TunnelingMode::None,
                firewall_private_ip: None,
                rule_collection_group: None,
            }),
        };
        let rule_collection_group = self.rule_collection_group(get("forcedTunneling"), name.as_deref());
        let external_callers = get("externalCallers")
            .and_then(|v| self.cidr_items(v, "externalCallers", true))
            .unwrap_or_default();
        let internal_callers = get("internalCallers")
            .and_then(|v| self.cidr_items(v, "internalCallers", true))
            .unwrap_or_default();
        let outbound_policy = match get("outboundPolicy") {
            Some(v) => self.choice(
                v,
                "outboundPolicy",
                &[("open", OutboundPolicy::Open), ("restricted", OutboundPolicy::Restricted)],
            ),
            None => Some(OutboundPolicy::Open),
        };
        // Read from the text, not from `forced_tunneling`: a bad firewallPrivateIp must not hide
        // the ports the firewall would refuse.
        let firewall_mode = get("forcedTunneling").and_then(|f| f.get("mode")).and_then(Value::as_str) == Some("firewall");
        let outbound_destinations = match get("outboundDestinations") {
            Some(v) => self.destinations(v, firewall_mode),
            None => Some(Vec::new()),
        };
        let certificates = match get("certificates") {
            Some(v) => self.certificates(v),
            None => Some(Vec::new()),
        };
        let nsg_name = match get("nsgName") {
            Some(v) => self.name(v, "nsgName", "NSG", NameRule::Resource),
            None => name.as_ref().and_then(|n| self.default_name(n, "nsgName", "NSG", "-nsg")),
        };
        let route_table_name = match get("routeTableName") {
            Some(v) => self.name(v, "routeTableName", "route table", NameRule::Resource),
            None => name
                .as_ref()
                .and_then(|n| self.default_name(n, "routeTableName", "route table", "-routes")),
        };

        let (identity, encryption) = super::identity::check(self, get("identity"), get("encryption"));
        self.check_network(&super::network::Parts {
            cloud,
            location: location.as_deref(),
            access_endpoint,
            address_space: address_space.as_deref(),
            subnets: subnet_items.as_deref(),
            forced_tunneling: forced_tunneling.as_ref(),
            external_callers: &external_callers,
            internal_callers: &internal_callers,
            outbound_policy,
            outbound_destinations: outbound_destinations.as_deref(),
            custom_dns_servers: custom_dns_servers.as_deref().unwrap_or_default(),
        });
        // Every part below is complete only when its own checks passed (otherwise an error is out).
        let virtual_network = match (vnet_name, address_space) {
            (Some(name), Some(space)) => Some(VirtualNetwork {
                name,
                address_space: space.into_iter().collect::<Option<Vec<_>>>()?,
            }),
            _ => None,
        };
        let subnets = subnet_items.map(|items| items.into_iter().map(SubnetItem::complete).collect::<Option<Vec<_>>>());
        Some(Environment {
            name: name?,
            cloud: cloud?,
            location: location?,
            subscription_id: subscription_id?,
            resource_group: resource_group?,
            access_endpoint: access_endpoint?,
            sku: sku?,
            virtual_network: virtual_network?,
            subnets: subnets??,
            custom_dns_servers: custom_dns_servers?.into_iter().collect::<Option<_>>()?,
            forced_tunneling: ForcedTunneling {
                rule_collection_group: rule_collection_group?,
                ..forced_tunneling?
            },
            external_callers: external_callers.into_iter().collect::<Option<_>>()?,
            internal_callers: internal_callers.into_iter().collect::<Option<_>>()?,
            outbound_policy: outbound_policy?,
            outbound_destinations: outbound_destinations?,
            certificates: certificates?,
            nsg_name: nsg_name?,
            route_table_name: route_table_name?,
            identity: identity?,
            encryption: encryption?,
        })
    }

    /// One of the `(spelling, value)` options, with `E0104` and "did you mean" otherwise.
    fn choice<T: Copy>(&mut self, v: &Value, path: &str, options: &[(&str, T)]) -> Option<T> {
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let s = self.one_of(v, path, &names)?;
        options.iter().find(|(name, _)| *name == s).map(|(_, value)| *value)
    }

    /// Azure's limit of 20 on a list (DNS servers, certificates): `code` at `path` when over it.
    fn at_most_20(&mut self, count: usize, (code, path): (&'static str, &str), given_holder: &str, help: &str) {
        if count > 20 {
            self.push(Diagnostic::error(code, path, format!("{count} {given_holder} takes at most 20")).with_help(help));
        }
    }

    /// The custom DNS servers: IPv4 addresses, at most 20 (Azure's limit per virtual network).
    /// One entry per item, `None` for a malformed one (reported), so later checks keep the file's
    /// indices; the count counts them all.
    fn dns_servers(&mut self, v: &Value) -> Option<Vec<Option<std::net::Ipv4Addr>>> {
        let items = self.array(v, "customDnsServers")?;
        self.at_most_20(
            items.len(),
            (E_DNS_COUNT, "customDnsServers"),
            "DNS servers given; a virtual network",
            "keep at most 20 servers (Azure's limit per virtual network)",
        );
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| self.ipv4(x, &index("customDnsServers", i), E_DNS_IP))
                .collect(),
        )
    }

    /// The location's ARM name; with the cloud unknown (its own error is out), only its type is checked.
    fn location(&mut self, v: &Value, cloud: Option<CloudId>) -> Option<String> {
        let s = self.string(v, "location")?;
        let cloud = cloud?;
        if let Some(loc) = cloud::find_location(cloud, s) {
            return Some(loc.name.clone());
        }
        let mut d = Diagnostic::error(E_LOCATION, "location", format!("`{s}` is not a location of cloud `{cloud}`"));
        d = if let Some(other) = cloud::cloud_of_location(s) {
            d.with_help(format!(
                "`{s}` is a location of cloud `{other}`: set \"cloud\": \"{other}\" or pick a {cloud} location"
            ))
        } else {
            let names = || cloud::locations().iter().filter(|l| l.cloud == cloud).map(|l| l.name.as_str());
            match did_you_mean(&cloud::normalise_location(s), names()) {
                Some(m) => d.with_help(format!("did you mean `{m}`?")),
                None => d.with_help(format!(
                    "the locations of cloud `{cloud}`: {}",
                    names().collect::<Vec<_>>().join(", ")
                )),
            }
        };
        self.push(d);
        None
    }

    fn guid(&mut self, v: &Value, path: &str) -> Option<String> {
        let s = self.string(v, path)?;
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Some(s.to_ascii_lowercase())
        } else {
            self.push(
                Diagnostic::error(E_GUID, path, format!("`{s}` is not a GUID"))
                    .with_help("use the subscription id, e.g. 00000000-0000-0000-0000-000000000000"),
            );
            None
        }
    }

    fn sku(&mut self, v: &Value) -> Option<Sku> {
        let map = self.object(v, "sku", &["name", "capacity"], &["name"])?;
        let name = map
            .get("name")
            .and_then(|n| self.one_of(n, "sku.name", &["Premium", "Developer"]))
            .map(|s| if s == "Premium" { SkuName::Premium } else { SkuName::Developer });
        let capacity = match map.get("capacity") {
            None => Some(0),
            Some(Value::Number(n)) => match whole_number(n) {
                Some(c @ 0..=10) => Some(c as u32),
                Some(_) => {
                    self.push(
                        Diagnostic::error(E_RANGE, "sku.capacity", format!("capacity {} is outside 0-10", as_written(n)))
                            .with_help("Premium takes 0 to 10 extra scale units"),
                    );
                    None
                }
                None => {
                    self.push(
                        Diagnostic::error(E_TYPE, "sku.capacity", format!("expected a whole number, found {n}"))
                            .with_help("write a whole number of extra scale units here, 0 to 10"),
                    );
                    None
                }
            },
            Some(other) => {
                self.wrong_type("sku.capacity", "a whole number", other);
                None
            }
        };
        let (name, capacity) = (name?, capacity?);
        if name == SkuName::Developer && capacity > 0 {
            self.push(
                Diagnostic::error(E_SKU_CAPACITY, "sku.capacity", "the Developer SKU has no extra capacity")
                    .with_help("remove `capacity` or use 0, or choose the Premium SKU"),
            );
            return None;
        }
        Some(Sku { name, capacity })
    }

    /// The virtual network's name and its address space, one entry per item.
    fn virtual_network(&mut self, v: &Value) -> (Option<String>, Option<Vec<Option<Ipv4Net>>>) {
        let Some(map) = self.object(v, "virtualNetwork", &["name", "addressSpace"], &["name", "addressSpace"]) else {
            return (None, None);
        };
        let name = map
            .get("name")
            .and_then(|n| self.name(n, "virtualNetwork.name", "virtual network", NameRule::VirtualNetwork));
        let space = map.get("addressSpace").and_then(|s| {
            let list = self.cidr_items(s, "virtualNetwork.addressSpace", false)?;
            if list.is_empty() {
                self.push(
                    Diagnostic::error(
                        E_EMPTY,
                        "virtualNetwork.addressSpace",
                        "the address space needs at least one prefix",
                    )
                    .with_help("list the virtual network's prefixes, e.g. [\"10.10.0.0/16\"]"),
                );
                return None;
            }
            Some(list)
        });
        (name, space)
    }

    /// One entry per item of `subnets`, each with the parts that passed their checks, so the
    /// network rules still see every prefix and report it at its own index; `None` when `subnets`
    /// is not an array.
    fn subnets(&mut self, v: &Value) -> Option<Vec<SubnetItem>> {
        let items = self.array(v, "subnets")?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("subnets", i);
            let Some(map) = self.object(item, &path, &["name", "prefix", "delegated"], &["name", "prefix"]) else {
                out.push(SubnetItem {
                    index: i,
                    name: None,
                    prefix: None,
                    delegated: None,
                });
                continue;
            };
            let name = map.get("name").and_then(|n| self.subnet_name(n, &field(&path, "name")));
            let prefix = map.get("prefix").and_then(|p| self.cidr(p, &field(&path, "prefix"), false));
            let delegated = match map.get("delegated") {
                None => Some(false),
                Some(Value::Bool(b)) => Some(*b),
                Some(other) => {
                    self.wrong_type(&field(&path, "delegated"), "true or false", other);
                    None
                }
            };
            out.push(SubnetItem {
                index: i,
                name,
                prefix,
                delegated,
            });
        }
        Some(out)
    }

    fn subnet_name(&mut self, v: &Value, path: &str) -> Option<String> {
        let s = self.string(v, path)?;
        let first_ok = s.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_');
        // The 2021 ISE article's characters, and braces: Azure takes none in a subnet name, and
        // `{{` in the subnet id would start a variable in ise-request.http's REST clients. Nor
        // control characters: a line break would end the change ticket's code blocks.
        let mut bad: Vec<char> = s.chars().filter(|c| "<>%&\\?/{}".contains(*c) || c.is_control()).collect();
        bad.sort_unstable();
        bad.dedup();
        if s.is_empty() || s.chars().count() > 80 || !first_ok || !bad.is_empty() {
            let why = if !first_ok {
                "it must start with a letter or an underscore".to_string()
            } else if !bad.is_empty() {
                format!(
                    "it must not contain {}",
                    bad.iter()
                        .map(|c| match c.is_control() {
                            true => format!("the control character U+{:04X}", u32::from(*c)),
                            false => format!("`{c}`"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                "it must be 1 to 80 characters long".to_string()
            };
            self.push(
                Diagnostic::error(E_SUBNET_NAME, path, format!("invalid subnet name `{s}`: {why}"))
                    .with_help("ISE subnet names start with a letter or `_` and avoid < > % & \\ ? / { }"),
            );
            return None;
        }
        if let Some(owner) = reserved_subnet_owner(s) {
            self.push(
                Diagnostic::error(
                    E_SUBNET_NAME,
                    path,
                    format!("`{s}` is the name Azure reserves for the subnet of {owner}"),
                )
                .with_help(
                    "name the ISE subnets otherwise: that subnet takes no NSG or route table of the ISE's, and only its own service",
                ),
            );
            return None;
        }
        Some(s.to_string())
    }

    fn forced_tunneling(&mut self, v: &Value) -> Option<ForcedTunneling> {
        let map = self.object(v, "forcedTunneling", FORCED_TUNNELING_FIELDS, &["mode"])?;
        let mode = map
            .get("mode")
            .and_then(|m| self.one_of(m, "forcedTunneling.mode", &["none", "expressRoute", "firewall"]))
            .map(|s| match s {
                "none" => TunnelingMode::None,
                "expressRoute" => TunnelingMode::ExpressRoute,
                _ => TunnelingMode::Firewall,
            });
        // Checked even when the mode is wrong, so both problems are reported.
        let ip = map
            .get("firewallPrivateIp")
            .map(|v| self.ipv4(v, "forcedTunneling.firewallPrivateIp", E_FIREWALL_IP));
        let mode = mode?;
        let ip = match ip {
            Some(parsed) => Some(parsed?),
            None => None,
        };
        if mode == TunnelingMode::Firewall && ip.is_none() {
            self.push(
                Diagnostic::error(
                    E_FIREWALL_IP_MISSING,
                    "forcedTunneling",
                    "mode `firewall` needs `firewallPrivateIp`",
                )
                .with_help("add \"firewallPrivateIp\": the private IP of the Azure Firewall or appliance that receives 0.0.0.0/0"),
            );
            return None;
        }
        if mode != TunnelingMode::Firewall && ip.is_some() {
            self.push(
                Diagnostic::warning(
                    W_FIREWALL_IP_UNUSED,
                    "forcedTunneling.firewallPrivateIp",
                    "firewallPrivateIp is ignored unless mode is `firewall`",
                )
                .with_help("remove firewallPrivateIp, or set \"mode\": \"firewall\" if 0.0.0.0/0 goes to that firewall"),
            );
        }
        Some(ForcedTunneling {
            mode,
            firewall_private_ip: ip,
            rule_collection_group: None,
        })
    }

    /// The firewall policy's rule collection group, in firewall mode (`Some(None)` in the others);
    /// `None` when a value is wrong. `forced` is the `forcedTunneling` value, whose shape and mode
    /// `forced_tunneling` checks and reports.
    fn rule_collection_group(&mut self, forced: Option<&Value>, ise: Option<&str>) -> Option<Option<RuleCollectionGroup>> {
        const NAME: &str = "forcedTunneling.ruleCollectionGroupName";
        const PRIORITY: &str = "forcedTunneling.ruleCollectionGroupPriority";
        let Some(map) = forced.and_then(Value::as_object) else {
            return Some(None);
        };
        let (name, priority) = (map.get("ruleCollectionGroupName"), map.get("ruleCollectionGroupPriority"));
        if map.get("mode").and_then(Value::as_str) != Some("firewall") {
            if let Some(path) = [(NAME, name), (PRIORITY, priority)].iter().find_map(|(p, v)| v.map(|_| *p)) {
                self.push(
                    Diagnostic::warning(
                        W_RULE_COLLECTION_GROUP_UNUSED,
                        path,
                        "the rule collection group is written only in mode `firewall`",
                    )
                    .with_help("remove ruleCollectionGroupName and ruleCollectionGroupPriority, or set \"mode\": \"firewall\""),
                );
            }
            return Some(None);
        }
        let name = match name {
            Some(v) => self.name(v, NAME, "rule collection group", NameRule::Resource),
            None => ise.and_then(|n| {
                self.default_name(
                    n,
                    "forcedTunneling.ruleCollectionGroupName",
                    "rule collection group",
                    RuleCollectionGroup::DEFAULT_SUFFIX,
                )
            }),
        };
        let priority = match priority {
            None => Some(RuleCollectionGroup::DEFAULT_PRIORITY),
            Some(Value::Number(n)) => match whole_number(n) {
                Some(p @ 100..=65_000) => Some(p as u32),
                _ => {
                    self.push(
                        Diagnostic::error(
                            E_RANGE,
                            PRIORITY,
                            format!("priority {} is not a whole number from 100 to 65000", as_written(n)),
                        )
                        .with_help("Azure Firewall policies order rule collection groups by priority 100-65000, lowest first"),
                    );
                    None
                }
            },
            Some(other) => {
                self.wrong_type(PRIORITY, "a whole number", other);
                None
            }
        };
        Some(Some(RuleCollectionGroup {
            name: name?,
            priority: priority?,
        }))
    }

    /// In firewall mode the destinations also become Azure Firewall rules, whose ports are 1-65535.
    fn destinations(&mut self, v: &Value, firewall_mode: bool) -> Option<Vec<OutboundDestination>> {
        let items = self.array(v, "outboundDestinations")?;
        let mut out = Vec::new();
        let mut names = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = index("outboundDestinations", i);
            let Some(map) = self.object(
                item,
                &path,
                &["name", "prefixes", "protocol", "ports"],
                &["name", "prefixes", "ports"],
            ) else {
                ok = false;
                continue;
            };
            let name = map
                .get("name")
                .and_then(|n| self.name(n, &field(&path, "name"), "outbound destination", NameRule::RulePart));
            if let Some(n) = &name {
                names.push((i, n.clone()));
            }
            let prefixes = map.get("prefixes").and_then(|p| {
                let list = self.cidr_items(p, &field(&path, "prefixes"), true)?;
                if list.is_empty() {
                    self.push(
                        Diagnostic::error(E_EMPTY, field(&path, "prefixes"), "a destination needs at least one prefix")
                            .with_help("list the destination's addresses or prefixes, e.g. [\"203.0.113.10/32\"]"),
                    );
                    return None;
                }
                list.into_iter().collect::<Option<Vec<_>>>()
            });
            let protocol = match map.get("protocol") {
                None => Some(DestinationProtocol::Tcp),
                Some(p) => self.one_of(p, &field(&path, "protocol"), &["Tcp", "Udp", "*"]).map(|s| match s {
                    "Tcp" => DestinationProtocol::Tcp,
                    "Udp" => DestinationProtocol::Udp,
                    _ => DestinationProtocol::Any,
                }),
            };
            let ports = map.get("ports").and_then(|p| self.ports(p, &field(&path, "ports"), firewall_mode));
            match (name, prefixes, protocol, ports) {
                (Some(name), Some(prefixes), Some(protocol), Some(ports)) => out.push(OutboundDestination {
                    name,
                    prefixes,
                    protocol,
                    ports,
                }),
                _ => ok = false,
            }
        }
        self.duplicates(&names, "outboundDestinations", "outbound destination");
        ok.then_some(out)
    }

    fn ports(&mut self, v: &Value, path: &str, firewall_mode: bool) -> Option<Vec<PortRange>> {
        let items = self.array(v, path)?;
        if items.is_empty() {
            self.push(
                Diagnostic::error(E_EMPTY, path, "a destination needs at least one port, range or `*`")
                    .with_help("e.g. [\"443\"], [\"1000-2000\"] or [\"*\"]"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = index(path, i);
            let text = match item {
                Value::String(s) if !self.within(s, &p, MAX_VALUE_CHARS) => {
                    ok = false;
                    continue;
                }
                Value::String(s) if s.chars().any(char::is_whitespace) => {
                    // The schema's port pattern has no room for spaces; neither has Azure's syntax.
                    // Spaces around the text or the `-` are the likely slip; others are no guess.
                    let tidy = s.trim().split('-').map(str::trim).collect::<Vec<_>>().join("-");
                    let help = match tidy.chars().any(char::is_whitespace) {
                        true => "write a port (\"22\"), a range (\"1000-2000\") or \"*\", without spaces".to_string(),
                        false => format!("write it without spaces: \"{tidy}\""),
                    };
                    self.push(Diagnostic::error(E_PORT, p, format!("invalid port `{s}`: it contains whitespace")).with_help(help));
                    ok = false;
                    continue;
                }
                Value::String(s) => s.clone(),
                // A whole number such as `443.0` is the integer the schema takes; a fraction stays
                // as written and is refused as a port below.
                Value::Number(n) => as_written(n),
                other => {
                    self.wrong_type(&p, "a port string such as \"22\" or \"1000-2000\"", other);
                    ok = false;
                    continue;
                }
            };
            match PortRange::parse(&text) {
                Ok(r) if firewall_mode && !r.azure_firewall_takes() => {
                    self.push(
                        Diagnostic::error(
                            E_PORT,
                            p,
                            format!(
                                "{} outside Azure Firewall's ports 1-65535: in firewall mode this destination is also a firewall rule",
                                if r.hi == 0 {
                                    format!("port `{text}` is")
                                } else {
                                    format!("range `{text}` starts")
                                }
                            ),
                        )
                        .with_help(match r.hi {
                            0 => "name the destination's real port, or use \"*\" for every port".to_string(),
                            _ => format!("start at port 1 (\"{}\"), or use \"*\" for every port", PortRange { lo: 1, ..r }),
                        }),
                    );
                    ok = false;
                }
                Ok(r) => out.push(r),
                Err(why) => {
                    self.push(
                        Diagnostic::error(E_PORT, p, format!("invalid port `{text}`: {why}"))
                            .with_help("use a port (\"22\"), a range (\"1000-2000\") or \"*\""),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn certificates(&mut self, v: &Value) -> Option<Vec<Certificate>> {
        let items = self.array(v, "certificates")?;
        self.at_most_20(
            items.len(),
            (E_CERT_COUNT, "certificates"),
            "certificates given; an ISE",
            "upload only the root and intermediate certificates you need",
        );
        let mut out = Vec::new();
        let mut names = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = index("certificates", i);
            let Some(map) = self.object(item, &path, &["name", "publicCertificate"], &["name", "publicCertificate"]) else {
                ok = false;
                continue;
            };
            let name = map
                .get("name")
                .and_then(|n| self.name(n, &field(&path, "name"), "certificate", NameRule::RulePart));
            if let Some(n) = &name {
                names.push((i, n.clone()));
            }
            let cert_path = field(&path, "publicCertificate");
            let cert = map
                .get("publicCertificate")
                .and_then(|c| self.string_at_most(c, &cert_path, MAX_CERTIFICATE_CHARS))
                .and_then(|c| match super::certificate::check(c) {
                    Ok(der) => Some(super::certificate::request_form(&der)),
                    Err(d) => {
                        self.push(d.into_diag(&cert_path));
                        None
                    }
                });
            match (name, cert) {
                (Some(name), Some(public_certificate)) => out.push(Certificate { name, public_certificate }),
                _ => ok = false,
            }
        }
        self.duplicates(&names, "certificates", "certificate");
        ok.then_some(out)
    }

    /// Reports each name used more than once, at its later uses. `names` pairs each valid name with
    /// the index of its item in the list at `path`.
    pub(super) fn duplicates(&mut self, names: &[(usize, String)], path: &str, what: &str) {
        let mut first = std::collections::BTreeMap::new();
        for (i, n) in names.iter().map(|(i, n)| (*i, n)) {
            if let Some(j) = first.get(&n.to_ascii_lowercase()) {
                self.push(
                    Diagnostic::error(
                        E_DUPLICATE,
                        field(&index(path, i), "name"),
                        format!("{what} name `{n}` is already the name of {}", index(path, *j)),
                    )
                    .with_help("names must be unique (case-insensitively); they become resource and rule names"),
                );
            } else {
                first.insert(n.to_ascii_lowercase(), i);
            }
        }
    }
}

/// The service whose subnet Azure names `name` (compared without case, as Azure compares names):
/// such a subnet holds only that service, and Azure refuses the ISE's NSG or route table on some.
fn reserved_subnet_owner(name: &str) -> Option<&'static str> {
    const RESERVED: &[(&str, &str)] = &[
        ("GatewaySubnet", "virtual network gateways"),
        ("AzureFirewallSubnet", "Azure Firewall"),
        ("AzureFirewallManagementSubnet", "Azure Firewall's management traffic"),
        ("AzureBastionSubnet", "Azure Bastion"),
        ("RouteServerSubnet", "Azure Route Server"),
    ];
    RESERVED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, owner)| *owner)
}

/// Why a CIDR was refused.
pub(super) enum CidrError {
    Syntax,
    Ipv6,
    HostBits(ipnet::Ipv4Net),
}

impl CidrError {
    fn into_diag(self, path: &str, text: &str) -> Diagnostic {
        match self {
            CidrError::Syntax if crate::ip_text::has_leading_zero(text) => Diagnostic::error(
                E_CIDR,
                path,
                format!("`{text}` has a number with a leading zero, which tools read differently"),
            )
            .with_help(crate::ip_text::leading_zero_help(text)),
            CidrError::Syntax => Diagnostic::error(E_CIDR, path, format!("`{text}` is not an IPv4 CIDR prefix"))
                .with_help("write it as address/length, e.g. 10.10.1.0/27"),
            CidrError::Ipv6 => Diagnostic::error(E_IPV6, path, format!("`{text}` is IPv6; ISE networking is IPv4 only"))
                .with_help("write an IPv4 address or prefix such as 10.10.1.0/27"),
            CidrError::HostBits(n) => {
                Diagnostic::error(E_HOST_BITS, path, format!("`{text}` has host bits set")).with_help(format!("did you mean `{n}`?"))
            }
        }
    }
}

pub(super) fn parse_cidr(s: &str, allow_address: bool) -> Result<Ipv4Net, CidrError> {
    if let Some(net) = crate::ip_text::prefix(s) {
        return match net {
            ipnet::IpNet::V4(n) if n.trunc() == n => Ok(n),
            ipnet::IpNet::V4(n) => Err(CidrError::HostBits(n.trunc())),
            ipnet::IpNet::V6(_) => Err(CidrError::Ipv6),
        };
    }
    match s.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) if allow_address => Ok(Ipv4Net::from(a)),
        Ok(std::net::IpAddr::V6(_)) => Err(CidrError::Ipv6),
        _ => Err(CidrError::Syntax),
    }
}

#[derive(Clone, Copy)]
pub(super) enum NameRule {
    Ise,
    ResourceGroup,
    VirtualNetwork,
    /// NSG, route table: 1-80, starts alphanumeric, ends alphanumeric or `_`.
    Resource,
    /// Becomes part of a rule or certificate name: 1-40 word characters, `.` or `-`.
    RulePart,
}

impl NameRule {
    pub(super) fn check(self, s: &str) -> Result<(), &'static str> {
        let len = s.chars().count();
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        match self {
            NameRule::Ise => {
                if !(1..=80).contains(&len) {
                    return Err("it must be 1 to 80 characters long");
                }
                if !s.chars().all(|c| word(c) || c == '-' || c == '.') {
                    return Err("only letters, numbers, `-`, `_` and `.` are allowed");
                }
                // The name is also a folder (a fleet's OUT/<name>/) beside isenet's own
                // `.NAME.isenet-*` temporaries, and the start of the default NSG and route table
                // names, which must start with a letter or number.
                if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    return Err("it must start with a letter or number");
                }
                if s.ends_with('.') {
                    return Err("it must not end with `.`");
                }
            }
            NameRule::ResourceGroup => {
                if !(1..=90).contains(&len) {
                    return Err("it must be 1 to 90 characters long");
                }
                if !s.chars().all(|c| c.is_alphanumeric() || "_-.()".contains(c)) {
                    return Err("only letters, numbers, `_`, `-`, `.`, `(` and `)` are allowed");
                }
                if s.ends_with('.') {
                    return Err("it must not end with `.`");
                }
            }
            NameRule::VirtualNetwork | NameRule::Resource => {
                let max = if matches!(self, NameRule::VirtualNetwork) { 64 } else { 80 };
                if len < 2 && matches!(self, NameRule::VirtualNetwork) || len > max || len == 0 {
                    return Err(if max == 64 {
                        "it must be 2 to 64 characters long"
                    } else {
                        "it must be 1 to 80 characters long"
                    });
                }
                if !s.chars().all(|c| word(c) || c == '-' || c == '.') {
                    return Err("only letters, numbers, `_`, `-` and `.` are allowed");
                }
                if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    return Err("it must start with a letter or number");
                }
                if !s.ends_with(word) {
                    return Err("it must end with a letter, number or `_`");
                }
            }
            NameRule::RulePart => {
                if !(1..=40).contains(&len) {
                    return Err("it must be 1 to 40 characters long");
                }
                if !s.chars().all(|c| word(c) || c == '-' || c == '.') || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    return Err("it must start with a letter or number and use only letters, numbers, `_`, `-` and `.`");
                }
                // It ends the rule's name, and Azure refuses rule names ending in `.` or `-`.
                if !s.ends_with(word) {
                    return Err("it must end with a letter, number or `_` (it ends a rule name, which Azure requires so)");
                }
            }
        }
        Ok(())
    }

    fn help(self) -> &'static str {
        match self {
            NameRule::Ise => "ISE names use letters, numbers, `-`, `_` and `.` (1-80 characters), start with a letter or number and do not end with `.`",
            NameRule::ResourceGroup => "resource group names use letters, numbers, `_`, `-`, `.`, `(`, `)` (1-90 characters, not ending in `.`)",
            NameRule::VirtualNetwork => "virtual network names are 2-64 characters: letters, numbers, `_`, `-`, `.`; start with a letter or number; end with a letter, number or `_`",
            NameRule::Resource => "names are 1-80 characters: letters, numbers, `_`, `-`, `.`; start with a letter or number; end with a letter, number or `_`",
            NameRule::RulePart => "this name becomes part of rule names: 1-40 characters, letters, numbers, `_`, `-`, `.`; start with a letter or number; end with a letter, number or `_`",
        }
    }
}
