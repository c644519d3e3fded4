//! The rules of a firewall rule collection: network rules (protocols, addresses, ports) and
//! application rules (protocol:port pairs, FQDNs, FQDN tags, `*` destinations), each field checked the way Azure
//! Firewall checks it, every problem reported at its path.

use super::fields::{non_empty_name, one_of, words, Object};
use super::json::Json;
use crate::azure::firewall::{
    is_every_address, parse_address, parse_port, ApplicationProtocol, ApplicationProtocolType, ApplicationRule, FirewallAddress,
    NetworkProtocol, NetworkRule, MAX_APPLICATION_PORT,
};
use ise_model::codes::{E_FIREWALL_FIELD, E_FIREWALL_UNSUPPORTED, E_FIREWALL_VALUE};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::index;

const NETWORK_PROTOCOLS: &[(&str, NetworkProtocol)] = &[
    ("TCP", NetworkProtocol::Tcp),
    ("UDP", NetworkProtocol::Udp),
    ("ICMP", NetworkProtocol::Icmp),
    ("Any", NetworkProtocol::Any),
];
/// Classic application rules take Mssql too; policy application rules only Http and Https (ARM
/// schema 2023-11-01).
pub(super) const CLASSIC_APPLICATION_PROTOCOLS: &[(&str, ApplicationProtocolType)] = &[
    ("Http", ApplicationProtocolType::Http),
    ("Https", ApplicationProtocolType::Https),
    ("Mssql", ApplicationProtocolType::Mssql),
];
const POLICY_APPLICATION_PROTOCOLS: &[(&str, ApplicationProtocolType)] = CLASSIC_APPLICATION_PROTOCOLS.split_at(2).0;

/// A rule of either kind, as read.
pub(super) enum Rule {
    Network(NetworkRule),
    Application(ApplicationRule),
}

/// A policy rule says its type in `ruleType`; a classic one takes the type of its collection.
pub(super) fn policy_rule<'v, J: Json<'v>>(rule: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<Rule> {
    match rule.text("ruleType", true, diags)? {
        t if t.eq_ignore_ascii_case("NetworkRule") => network_rule(rule, diags).map(Rule::Network),
        t if t.eq_ignore_ascii_case("ApplicationRule") => {
            application_rule(rule, POLICY_APPLICATION_PROTOCOLS, diags).map(Rule::Application)
        }
        t => {
            diags.push(
                Diagnostic::error(
                    E_FIREWALL_VALUE,
                    rule.at("ruleType"),
                    format!("unknown ruleType `{t}` in a filter rule collection"),
                )
                .with_help("a filter rule collection holds NetworkRule and ApplicationRule rules"),
            );
            None
        }
    }
}

/// A rule's name: any non-empty text (Azure Firewall takes spaces and punctuation in rule names).
pub(super) fn rule_name<'v, J: Json<'v>>(rule: &Object<'v, J>, name: Option<&str>, diags: &mut Vec<Diagnostic>) {
    diags.extend(name.and_then(|n| non_empty_name(n, "rule", E_FIREWALL_VALUE, rule.at("name"))));
}

pub(super) fn network_rule<'v, J: Json<'v>>(rule: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<NetworkRule> {
    let before = diags.len();
    unresolvable(rule, &[SOURCE_IP_GROUPS, DESTINATION_IP_GROUPS, NETWORK_FQDNS], diags);
    let name = rule.text("name", true, diags);
    rule_name(rule, name, diags);
    let description = rule.text("description", false, diags);
    // Policies write `ipProtocols`, classic collections `protocols`.
    let key = if rule.get("ipProtocols").is_some() {
        "ipProtocols"
    } else {
        "protocols"
    };
    let ip_protocols = rule
        .text_list(key, diags)
        .into_iter()
        .filter_map(|(p, path)| word(p, path, "network protocol", NETWORK_PROTOCOLS, diags))
        .collect();
    let source_addresses = addresses(rule, "sourceAddresses", false, diags);
    let destination_addresses = addresses(rule, "destinationAddresses", true, diags);
    let destination_ports = rule
        .text_list("destinationPorts", diags)
        .into_iter()
        .filter_map(|(p, path)| match parse_port(p) {
            Ok(_) => Some(p.to_string()),
            Err(why) => {
                diags.push(
                    Diagnostic::error(E_FIREWALL_VALUE, path, format!("invalid port `{p}`: {why}"))
                        .with_help("Azure Firewall takes `*`, a port 1-65535 or a range A-B with A <= B"),
                );
                None
            }
        })
        .collect();
    readable(diags, before).then(|| NetworkRule {
        name: name.unwrap_or_default().to_string(),
        description: description.unwrap_or_default().to_string(),
        ip_protocols,
        source_addresses,
        destination_addresses,
        destination_ports,
    })
}

/// Whether a rule whose problems are `diags[before..]` is read: none, or only what the verifier
/// cannot resolve (reported; another group's rule set aside is widened from the rest).
fn readable(diags: &[Diagnostic], before: usize) -> bool {
    diags[before..].iter().all(|d| d.code == E_FIREWALL_UNSUPPORTED)
}

pub(super) fn application_rule<'v, J: Json<'v>>(
    rule: &Object<'v, J>,
    known: &[(&str, ApplicationProtocolType)],
    diags: &mut Vec<Diagnostic>,
) -> Option<ApplicationRule> {
    let before = diags.len();
    unresolvable(rule, &[SOURCE_IP_GROUPS, TARGET_URLS, WEB_CATEGORIES], diags);
    let name = rule.text("name", true, diags);
    rule_name(rule, name, diags);
    let description = rule.text("description", false, diags);
    let protocols = application_protocols(rule, known, diags);
    let source_addresses = addresses(rule, "sourceAddresses", false, diags);
    let fqdn_tags = strings(rule, "fqdnTags", diags);
    let target_fqdns = strings(rule, "targetFqdns", diags);
    let destination_addresses = application_destinations(rule, name, diags);
    let terminate_tls = flag(rule, "terminateTLS", diags);
    readable(diags, before).then(|| ApplicationRule {
        name: name.unwrap_or_default().to_string(),
        description: description.unwrap_or_default().to_string(),
        protocols,
        source_addresses,
        fqdn_tags,
        target_fqdns,
        destination_addresses,
        terminate_tls,
    })
}

/// An application rule's destination addresses: `*` matches every destination (refusing it would
/// refuse a common rule; ignoring it took an allow-all rule for one that allows nothing). Other
/// addresses or tags are refused (`E1213`): an FQDN dependency matches them only if the name
/// resolves into them, which no file says.
fn application_destinations<'v, J: Json<'v>>(rule: &Object<'v, J>, name: Option<&str>, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let list = addresses(rule, "destinationAddresses", true, diags);
    if !list.is_empty() && !list.iter().any(|a| is_every_address(a)) {
        let message = format!(
            "application rule {} matches destination addresses ({}): whether the ISE's FQDN dependencies resolve into them cannot be decided without DNS",
            name.unwrap_or("(no name)"),
            list.join(", ")
        );
        diags.push(Diagnostic::error(E_FIREWALL_UNSUPPORTED, rule.at("destinationAddresses"), message).with_help(
            "write `*` to match every destination, name the destinations in targetFqdns, or move the rule to another rule collection group (there it is reported, F0309, not proved)",
        ));
    }
    list
}

/// A true/false field; absent or null is false.
fn flag<'v, J: Json<'v>>(rule: &Object<'v, J>, key: &str, diags: &mut Vec<Diagnostic>) -> bool {
    match rule.get(key).map(J::as_bool) {
        None => false,
        Some(Some(b)) => b,
        Some(None) => {
            diags.push(Diagnostic::error(
                E_FIREWALL_FIELD,
                rule.at(key),
                format!("`{key}` must be true or false"),
            ));
            false
        }
    }
}

fn application_protocols<'v, J: Json<'v>>(
    rule: &Object<'v, J>,
    known: &[(&str, ApplicationProtocolType)],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ApplicationProtocol> {
    let list = match rule.get("protocols").map(J::as_array) {
        None => return Vec::new(),
        Some(Some(list)) => list,
        Some(None) => {
            diags.push(Diagnostic::error(
                E_FIREWALL_FIELD,
                rule.at("protocols"),
                "`protocols` must be a list",
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, p) in list.enumerate() {
        let p = Object::new(p, index(&rule.at("protocols"), i), E_FIREWALL_FIELD);
        if !p.is_object("a protocol {protocolType, port}", diags) {
            continue;
        }
        let kind = p
            .text("protocolType", true, diags)
            .and_then(|t| word(t, p.at("protocolType"), "application protocol", known, diags));
        let port = p
            .whole_number("port", E_FIREWALL_VALUE, diags)
            .and_then(|n| match u16::try_from(n) {
                Ok(port) if port <= MAX_APPLICATION_PORT => Some(port),
                _ => {
                    diags.push(Diagnostic::error(
                        E_FIREWALL_VALUE,
                        p.at("port"),
                        format!("port {n} is above {MAX_APPLICATION_PORT}, the highest an application rule takes"),
                    ));
                    None
                }
            });
        if let (Some(protocol_type), Some(port)) = (kind, port) {
            out.push(ApplicationProtocol { protocol_type, port });
        }
    }
    out
}

/// One of Azure's words, compared case-insensitively.
fn word<T: Copy>(text: &str, path: impl Into<String>, what: &str, table: &[(&str, T)], diags: &mut Vec<Diagnostic>) -> Option<T> {
    let found = one_of(text, table);
    if found.is_none() {
        diags.push(
            Diagnostic::error(E_FIREWALL_VALUE, path, format!("unknown {what} `{text}`"))
                .with_help(format!("Azure Firewall takes {}", words(table))),
        );
    }
    found
}

fn strings<'v, J: Json<'v>>(rule: &Object<'v, J>, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    rule.text_list(key, diags).into_iter().map(|(s, _)| s.to_string()).collect()
}

/// An address list: IPs, CIDRs, ranges `a-b`, `*`, and service tags where Azure takes them
/// (network rule destinations only).
fn addresses<'v, J: Json<'v>>(rule: &Object<'v, J>, key: &str, tags_allowed: bool, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out = Vec::new();
    for (a, path) in rule.text_list(key, diags) {
        match parse_address(a) {
            Ok(FirewallAddress::Tag(_)) if !tags_allowed => diags.push(
                Diagnostic::error(
                    E_FIREWALL_VALUE,
                    path,
                    format!("`{a}`: a service tag is not an address Azure takes in `{key}`"),
                )
                .with_help("service tags are allowed in a network rule's destinationAddresses only"),
            ),
            Ok(_) => out.push(a.to_string()),
            Err(why) => diags.push(Diagnostic::error(E_FIREWALL_VALUE, path, why)),
        }
    }
    out
}

/// A rule field whose matches the file does not say, so the proof cannot tell what the rule
/// matches: what it is, and what to write instead.
struct Unresolvable {
    key: &'static str,
    what: &'static str,
    help: &'static str,
}

const IP_GROUPS_HELP: &str = "the verifier works on addresses: list the group's addresses in the rule to verify it";
/// IP groups are resources of their own: their addresses are not in the file.
const SOURCE_IP_GROUPS: Unresolvable = Unresolvable {
    key: "sourceIpGroups",
    what: "the rule uses IP groups",
    help: IP_GROUPS_HELP,
};
const DESTINATION_IP_GROUPS: Unresolvable = Unresolvable {
    key: "destinationIpGroups",
    what: "the rule uses IP groups",
    help: IP_GROUPS_HELP,
};
/// A network rule's FQDNs match the addresses the firewall's DNS proxy resolves them to when the
/// packet passes: no file holds them. Ignoring the field would take an allow-all-ports rule for
/// one that matches nothing, and a Deny that network rules decide first for one that never does.
const NETWORK_FQDNS: Unresolvable = Unresolvable {
    key: "destinationFqdns",
    what: "the network rule names destination FQDNs, whose addresses are resolved by the firewall's DNS proxy at run time",
    help: "allow FQDNs with an application rule (targetFqdns, protocols Http/Https), or list the addresses in destinationAddresses",
};
/// Premium TLS inspection: a URL or a web category matches on what the firewall sees inside the
/// connection, which no file says.
const TARGET_URLS: Unresolvable = Unresolvable {
    key: "targetUrls",
    what: "the application rule matches URLs (TLS inspection), which the verifier cannot evaluate",
    help: "verify rules with targetFqdns or fqdnTags; move URL rules to another rule collection group (there they are reported, F0309, not proved)",
};
const WEB_CATEGORIES: Unresolvable = Unresolvable {
    key: "webCategories",
    what: "the application rule matches web categories, which the verifier cannot evaluate",
    help: "verify rules with targetFqdns or fqdnTags; move web-category rules to another rule collection group (there they are reported, F0309, not proved)",
};

/// Refuses each of `fields` the rule sets to a non-empty list (`E1213`): left unread, the rule
/// would be proved as if it matched nothing.
fn unresolvable<'v, J: Json<'v>>(rule: &Object<'v, J>, fields: &[Unresolvable], diags: &mut Vec<Diagnostic>) {
    for field in fields {
        if rule.get(field.key).and_then(J::as_array).is_some_and(|a| a.len() > 0) {
            diags.push(Diagnostic::error(E_FIREWALL_UNSUPPORTED, rule.at(field.key), field.what).with_help(field.help));
        }
    }
}
