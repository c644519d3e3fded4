//! Reads an NSG to verify: our `nsg.json` (an ARM resource, rules under `properties`) or the output
//! of `az network nsg show -o json` (rules flattened, `defaultSecurityRules` beside them). Every
//! problem is a coded diagnostic with its JSON path and position; all are reported.

use super::fields::{items, no_items, one_of, resource_name, unique_names, words, ItemPath, Object};
use super::json::{Json, Locate};
use super::template::{named_otherwise, Wanted};
use super::{locate, LimitViolation, Location};
use crate::azure::is_tag_word;
use crate::azure::nsg::{
    Access, AddressMatch, Direction, Protocol, SecurityRule, MAX_PREFIXES_PER_NSG_SIDE, MAX_PRIORITY, MAX_RULES, MIN_PRIORITY,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ise_model::codes::*;
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::index;
use ise_model::ports::PortRange;
use std::collections::BTreeMap;

/// The explicit rules of the file (defaults are Azure's and are added by the verifier).
#[derive(Debug)]
pub struct NsgFile {
    pub name: String,
    pub rules: Vec<SecurityRule>,
    /// Where each rule was read, in the order of `rules`.
    pub origins: Vec<Location>,
    /// Azure limits the file exceeds (findings, not input errors).
    pub limit_violations: Vec<LimitViolation>,
    /// The subnets the NSG is on, where the file says (`subnets::associated`).
    pub subnets: Option<Vec<super::subnets::SubnetRef>>,
    /// ISE subnets a template puts on another resource of this kind instead: (subnet, that
    /// resource's name, or its id when it lies elsewhere than the virtual network).
    pub elsewhere: Vec<(String, String)>,
    /// The name of a bare file's NSG, when the environment names its own otherwise.
    pub named_otherwise: Option<String>,
}

const PROTOCOLS: &[(&str, Protocol)] = &[
    ("Tcp", Protocol::Tcp),
    ("Udp", Protocol::Udp),
    ("Icmp", Protocol::Icmp),
    ("Esp", Protocol::Esp),
    ("Ah", Protocol::Ah),
    ("*", Protocol::Any),
];
const ACCESSES: &[(&str, Access)] = &[("Allow", Access::Allow), ("Deny", Access::Deny)];
const DIRECTIONS: &[(&str, Direction)] = &[("Inbound", Direction::Inbound), ("Outbound", Direction::Outbound)];

/// One rule read, with what the limits and the duplicate checks need.
struct ReadRule {
    index: usize,
    rule: SecurityRule,
    /// (field path, number of addresses) of the source and destination fields.
    address_counts: [(String, usize); 2],
}

pub fn parse(text: &str, file: &str) -> Result<NsgFile, Vec<Diagnostic>> {
    parse_wanted(text, file, &Wanted::default())
}

/// [`parse`], taking from a template that holds several the resource of the wanted name.
pub fn parse_wanted(text: &str, file: &str, wanted: &Wanted) -> Result<NsgFile, Vec<Diagnostic>> {
    let tree = ise_model::jsondoc::tree::parse(text, file, E_NSG_FILE)?;
    read(tree.root(), &tree, file, wanted)
}

/// Reads a parsed file (generic: its tests read serde's `Value` too, the path before the tree).
pub(super) fn read<'v, J: Json<'v>>(document: J, positions: &impl Locate, file: &str, wanted: &Wanted) -> Result<NsgFile, Vec<Diagnostic>> {
    // An ARM template (azuredeploy.json): read its NSG resource.
    let (base, value, named_otherwise) = match super::template::resource(document, &super::template::NSG, wanted) {
        Err(diags) => return Err(locate(diags, positions, file)),
        Ok(Some((base, value))) => (base, value, None),
        Ok(None) => (String::new(), document, named_otherwise(document, &super::template::NSG, wanted)),
    };
    let Some((rules_path, rules)) = items(value, "securityRules").map(|(p, r)| (format!("{base}{p}"), r)) else {
        let help = "pass isenet's nsg.json or the output of `az network nsg show -g RG -n NAME -o json`";
        return Err(locate(vec![no_items(E_NSG_FILE, "securityRules", help)], positions, file));
    };
    let mut diags = Vec::new();
    let read: Vec<ReadRule> = rules
        .clone()
        .enumerate()
        .filter_map(|(i, rule)| parse_rule(rule, &rules_path, i, &mut diags))
        .collect();
    unique_names(rules.clone(), &rules_path, E_NSG_DUPLICATE_NAME, "rule", &mut diags);
    unique_priorities(&read, &rules_path, &mut diags);
    if !diags.is_empty() {
        return Err(locate(diags, positions, file));
    }
    let limit_violations = limit_violations(&read, &rules_path, rules.len(), |p| Location::of(positions, file, p));
    let (subnets, elsewhere) = super::template::subnets_of(document, value, &super::template::NSG, &base, wanted);
    Ok(NsgFile {
        name: value.get("name").and_then(J::as_str).unwrap_or("").to_string(),
        origins: read
            .iter()
            .map(|r| Location::of(positions, file, index(&rules_path, r.index)))
            .collect(),
        rules: read.into_iter().map(|r| r.rule).collect(),
        limit_violations,
        subnets,
        elsewhere,
        named_otherwise,
    })
}

/// Azure refuses two rules with one priority and direction.
fn unique_priorities(read: &[ReadRule], rules_path: &str, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(Direction, u32), &str> = BTreeMap::new();
    for r in read {
        if let Some(other) = seen.insert((r.rule.direction, r.rule.priority), &r.rule.name) {
            diags.push(
                Diagnostic::error(
                    E_NSG_DUPLICATE_PRIORITY,
                    index(rules_path, r.index),
                    format!(
                        "rule `{}` has priority {} like `{other}` in the same direction",
                        r.rule.name, r.rule.priority
                    ),
                )
                .with_help("Azure refuses two rules with one priority and direction"),
            );
        }
    }
}

/// More than 1,000 rules, or more than 4,000 addresses on the sources or on the destinations of
/// all the rules together (Azure counts them per security group, each side apart), placed at the
/// field whose addresses cross the limit.
fn limit_violations(read: &[ReadRule], rules_path: &str, rule_count: usize, at: impl Fn(String) -> Location) -> Vec<LimitViolation> {
    let mut out: Vec<LimitViolation> = LimitViolation::at_most("rules per NSG", MAX_RULES, rule_count, || at(rules_path.to_string()))
        .into_iter()
        .collect();
    let names = [
        "IP addresses and ranges per security group source (all its rules' sources)",
        "IP addresses and ranges per security group destination (all its rules' destinations)",
    ];
    for (side, name) in names.into_iter().enumerate() {
        let fields: Vec<&(String, usize)> = read.iter().map(|r| &r.address_counts[side]).collect();
        let total: usize = fields.iter().map(|(_, n)| n).sum();
        let crossing = fields
            .iter()
            .scan(0, |sum, (path, n)| {
                *sum += n;
                Some((path, *sum))
            })
            .find(|(_, sum)| *sum > MAX_PREFIXES_PER_NSG_SIDE)
            .map(|(path, _)| path.clone());
        out.extend(LimitViolation::at_most(name, MAX_PREFIXES_PER_NSG_SIDE, total, || {
            at(crossing.unwrap_or_else(|| rules_path.to_string()))
        }));
    }
    out
}

fn parse_rule<'v, J: Json<'v>>(rule: J, rules_path: &str, i: usize, diags: &mut Vec<Diagnostic>) -> Option<ReadRule> {
    let item = Object::new(rule, index(rules_path, i), E_NSG_FIELD);
    if !item.is_object("a rule", diags) {
        return None;
    }
    let before = diags.len();
    let name = item.text("name", true, diags).filter(|n| rule_name(n, &item, diags));
    let props = item.checked_properties(diags)?;
    no_application_security_groups(&props, diags);
    let protocol = word(&props, "protocol", PROTOCOLS, diags);
    let access = word(&props, "access", ACCESSES, diags);
    let direction = word(&props, "direction", DIRECTIONS, diags);
    let priority = priority(&props, diags);
    let source = addresses(&props, ("sourceAddressPrefix", "sourceAddressPrefixes"), diags);
    let destination = addresses(&props, ("destinationAddressPrefix", "destinationAddressPrefixes"), diags);
    let source_ports = ports(&props, ("sourcePortRange", "sourcePortRanges"), diags);
    let destination_ports = ports(&props, ("destinationPortRange", "destinationPortRanges"), diags);
    if diags.len() > before {
        return None;
    }
    let ((source, source_count), (destination, destination_count)) = (source?, destination?);
    Some(ReadRule {
        index: i,
        rule: SecurityRule {
            name: name?.to_string(),
            priority: priority?,
            direction: direction?,
            access: access?,
            protocol: protocol?,
            source,
            source_ports: source_ports?,
            destination,
            destination_ports: destination_ports?,
            is_default: false,
        },
        address_counts: [source_count, destination_count],
    })
}

/// Azure's rule for a security rule's name ([`resource_name`]).
fn rule_name<'v, J: Json<'v>>(name: &str, item: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> bool {
    let refused = resource_name(name, "rule", E_NSG_VALUE, item.at("name"));
    let valid = refused.is_none();
    diags.extend(refused);
    valid
}

fn no_application_security_groups<'v, J: Json<'v>>(props: &Object<'v, J>, diags: &mut Vec<Diagnostic>) {
    for asg in ["sourceApplicationSecurityGroups", "destinationApplicationSecurityGroups"] {
        if props.get(asg).and_then(J::as_array).is_some_and(|a| a.len() > 0) {
            diags.push(
                Diagnostic::error(E_NSG_UNSUPPORTED, props.at(asg), "the rule uses application security groups")
                    .with_help("the verifier works on addresses: replace the groups by prefixes or tags"),
            );
        }
    }
}

/// A field whose value is one of Azure's words, compared case-insensitively as Azure does.
fn word<'v, J: Json<'v>, T: Copy>(props: &Object<'v, J>, key: &str, table: &[(&str, T)], diags: &mut Vec<Diagnostic>) -> Option<T> {
    let text = props.text(key, true, diags)?;
    let found = one_of(text, table);
    if found.is_none() {
        diags.push(
            Diagnostic::error(E_NSG_VALUE, props.at(key), format!("unknown {key} `{text}`"))
                .with_help(format!("Azure takes {}", words(table))),
        );
    }
    found
}

fn priority<'v, J: Json<'v>>(props: &Object<'v, J>, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let p = props.whole_number("priority", E_NSG_VALUE, diags)?;
    if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&p) {
        diags.push(Diagnostic::error(
            E_NSG_VALUE,
            props.at("priority"),
            format!("priority {p} is outside {MIN_PRIORITY}-{MAX_PRIORITY}"),
        ));
        return None;
    }
    Some(p)
}

/// Reads the singular or the plural field of a side (`sourceAddressPrefix` / `...Prefixes`), with
/// the path of the field read.
fn singular_or_plural<'v, J: Json<'v>>(
    props: &Object<'v, J>,
    single: &str,
    plural: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<(&'v str, ItemPath)>, String)> {
    let items = props.text_list(plural, diags);
    if !items.is_empty() {
        // Azure takes one or the other; reading one would guess which the rule means.
        if let Some(s) = props.get(single).and_then(J::as_str).filter(|s| !s.is_empty()) {
            diags.push(
                Diagnostic::error(
                    E_NSG_VALUE,
                    props.at(single),
                    format!("`{single}` (`{s}`) and a non-empty `{plural}` are both given"),
                )
                .with_help(format!(
                    "a rule has `{single}` or `{plural}`, not both: keep the one the rule means"
                )),
            );
            return None;
        }
        return Some((items, props.at(plural)));
    }
    match props.get(single).and_then(J::as_str) {
        Some(s) => Some((vec![(s, ItemPath::field(props.at(single)))], props.at(single))),
        None => {
            diags.push(Diagnostic::error(
                E_NSG_FIELD,
                props.at(single),
                format!("neither `{single}` (a string) nor a non-empty `{plural}` is given"),
            ));
            None
        }
    }
}

/// An address field (its singular and plural names) and (its path, how many addresses it lists)
/// for the limit.
fn addresses<'v, J: Json<'v>>(
    props: &Object<'v, J>,
    (single, plural): (&str, &str),
    diags: &mut Vec<Diagnostic>,
) -> Option<(AddressMatch, (String, usize))> {
    let (items, path) = singular_or_plural(props, single, plural, diags)?;
    // Azure counts the addresses and ranges written: a tag or `*` in the singular field is none.
    let count = (path.clone(), items.len());
    if let [(s, _)] = items.as_slice() {
        if path.ends_with(single) {
            return single_address(s, &path, diags).map(|m| {
                let n = usize::from(matches!(m, AddressMatch::Prefixes(_) | AddressMatch::Prefixes6(_)));
                (m, (path.clone(), n))
            });
        }
    }
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for (s, path) in items {
        match ip_or_prefix(s) {
            Some(IpNet::V4(n)) => v4.push(n.trunc()),
            Some(IpNet::V6(n)) => v6.push(n.trunc()),
            None => diags.push(
                Diagnostic::error(E_NSG_VALUE, path, format!("`{s}` is not an address or prefix")).with_help(
                    match ise_model::ip_text::has_leading_zero(s) {
                        true => ise_model::ip_text::leading_zero_help(s),
                        false => "the plural field takes IPs and CIDRs only; a service tag needs a rule of its own".into(),
                    },
                ),
            ),
        }
    }
    // Aggregating sorts: the order read does not matter. IPv6 entries never match an IPv4 packet
    // of the ISE subnets; a list of them alone is kept (a `-v6` rule of `--expand-tags`), so that
    // `diff` shows and re-creates it with its addresses rather than with none.
    let addresses = if v4.is_empty() && !v6.is_empty() {
        AddressMatch::Prefixes6(Ipv6Net::aggregate(&v6))
    } else {
        AddressMatch::Prefixes(Ipv4Net::aggregate(&v4))
    };
    Some((addresses, count))
}

fn ip_or_prefix(s: &str) -> Option<IpNet> {
    ise_model::ip_text::address_or_prefix(s)
}

/// The singular field: `*`, an IP, a CIDR or one service tag word.
fn single_address(s: &str, path: &str, diags: &mut Vec<Diagnostic>) -> Option<AddressMatch> {
    if s == "*" {
        return Some(AddressMatch::Any);
    }
    // The portal shows `*` as "Any", but the API refuses the word ("Security rule has invalid
    // Address prefix"): a file holding it would not deploy, nor is it a tag.
    if s.eq_ignore_ascii_case("any") {
        diags.push(
            Diagnostic::error(E_NSG_VALUE, path, format!("`{s}` is no address Azure takes: every address is `*`"))
                .with_help("the portal shows `*` as Any; write `*` in the rule"),
        );
        return None;
    }
    match ip_or_prefix(s) {
        Some(IpNet::V4(n)) => Some(AddressMatch::Prefixes(vec![n.trunc()])),
        Some(IpNet::V6(n)) => Some(AddressMatch::Prefixes6(vec![n.trunc()])),
        None if is_tag_word(s) => Some(AddressMatch::Tag(s.to_string())),
        None => {
            diags.push(
                Diagnostic::error(
                    E_NSG_VALUE,
                    path,
                    format!("`{s}` is neither an address, a prefix nor a service tag"),
                )
                .with_help(match ise_model::ip_text::has_leading_zero(s) {
                    true => ise_model::ip_text::leading_zero_help(s),
                    false => "write `*`, an IP, a CIDR such as 10.0.0.0/24, or one service tag such as `Storage`".into(),
                }),
            );
            None
        }
    }
}

fn ports<'v, J: Json<'v>>(props: &Object<'v, J>, (single, plural): (&str, &str), diags: &mut Vec<Diagnostic>) -> Option<Vec<PortRange>> {
    let (items, _) = singular_or_plural(props, single, plural, diags)?;
    let mut out = Vec::new();
    for (s, path) in items {
        match PortRange::parse(s) {
            Ok(r) => out.push(r),
            Err(why) => diags.push(Diagnostic::error(E_NSG_VALUE, path, format!("invalid port `{s}`: {why}"))),
        }
    }
    Some(ise_model::ports::normalise(&out))
}
