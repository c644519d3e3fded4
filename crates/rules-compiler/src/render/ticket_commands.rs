//! The shell commands of `change-ticket.md`: the validation, Network Watcher's `test-ip-flow`
//! checks and the rollback. Every block starts with `az cloud set` for the environment's cloud (a
//! shell left on another cloud would send each command there), names come shell-quoted, and what
//! the environment does not know is a marked placeholder (`<policy>`, `<policy-resource-group>`,
//! `<test-vm>`).

use super::review::Review;
use crate::azure::nsg::{Access, AddressMatch, Direction};
use crate::diff::az::{quote, resource_group_option};
use crate::engine::intervals::IntervalSet;
use crate::prove::explain::{Explainer, Inputs, RemoteDecision};
use crate::prove::verify;
use ipnet::Ipv4Net;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The firewall policy and its resource group: not in the environment file, so the ticket's reader
/// fills them in (a hub's policy usually lives in another resource group than the ISE).
pub const POLICY: &str = "<policy>";
pub const POLICY_RESOURCE_GROUP: &str = "<policy-resource-group>";

/// The first lines of every block: the environment's cloud and subscription for the Azure CLI (a
/// shell left in another subscription, with resources of the same names, would change those).
fn cloud_set(review: &Review) -> String {
    let env = &review.plan.environment;
    format!(
        "az cloud set --name {}\naz account set --subscription {}",
        env.cloud.facts().az_cli_cloud,
        quote(&env.subscription_id)
    )
}

/// `-g GROUP`, or `--resource-group=GROUP` for a name starting with `-` ([`resource_group_option`]).
fn group_option(group: &str) -> String {
    match group.starts_with('-') {
        true => resource_group_option(group),
        false => format!("-g {}", quote(group)),
    }
}

/// Whether the change writes firewall rules (the environment's rule collection group).
fn has_firewall(review: &Review) -> bool {
    !review.plan.firewall.dependencies.is_empty()
}

/// The saved-state file of a subnet (step 1 of the rollback).
fn subnet_file(name: &str) -> String {
    format!("before-subnet-{name}.json")
}

/// The proof of what is deployed: `show` each resource, `isenet verify` it.
pub fn validation(review: &Review) -> Vec<String> {
    let env = &review.plan.environment;
    let rg = group_option(&env.resource_group);
    // The proof must use the table and the service tags the artifacts were compiled from.
    let mut verify = match review.plan.table_version == ise_model::requirement::latest_table_version() {
        true => "isenet verify --env env.json".to_string(),
        false => format!("isenet verify --env env.json --table-version {}", review.plan.table_version),
    };
    let embedded = ise_model::servicetags::ServiceTags::embedded(env.cloud).change_number;
    let mut out = Vec::new();
    if review.plan.service_tags_change_number != embedded {
        verify += " --service-tags service-tags.json";
        out.push(format!(
            "# service-tags.json: the service-tag file these artifacts were compiled from (change {}; isenet's own snapshot is change {embedded})",
            review.plan.service_tags_change_number
        ));
    }
    out.extend([
        cloud_set(review),
        format!("az network nsg show {rg} -n {} -o json > deployed-nsg.json", quote(&env.nsg_name)),
        format!("{verify} --nsg deployed-nsg.json"),
    ]);
    if !review.plan.routes.is_empty() {
        out.push(format!(
            "az network route-table show {rg} -n {} -o json > deployed-routes.json",
            quote(&env.route_table_name)
        ));
        out.push(format!("{verify} --routes deployed-routes.json"));
    }
    if has_firewall(review) {
        out.push(format!(
            "az network firewall policy rule-collection-group show -g {POLICY_RESOURCE_GROUP} --policy-name {POLICY} -n {} -o json > deployed-firewall.json",
            quote(&review.plan.firewall.rule_collection_group)
        ));
        out.push(format!("{verify} --firewall deployed-firewall.json"));
    }
    out
}

/// Whether the validation needs the firewall placeholders explained.
pub fn names_policy(review: &Review) -> bool {
    has_firewall(review)
}

/// The ephemeral port on the side of a `test-ip-flow` packet that the rule does not name.
const EPHEMERAL_PORT: u16 = 60000;

/// One packet of a `test-ip-flow` check and the NSG rule that decides it.
struct Probe {
    local: SocketAddrV4,
    remote: String,
    remote_port: u16,
    /// The deciding rule's name and access.
    rule: String,
    access: Access,
    /// The tag the remote address was taken from, when the rule names one.
    tag: Option<String>,
}

/// The packet that checks `rule`: a remote address that `rule` decides when there is one (the
/// rule's addresses in order: an internal caller may be all that an earlier rule leaves it), else
/// one of its addresses and the rule that decides that one. The rule's port is on the ISE side
/// inbound and on the remote side outbound; the other end uses an ephemeral port.
fn probe(explainer: &Explainer, local: Ipv4Addr, rule: &crate::azure::nsg::SecurityRule) -> Option<Probe> {
    let port = rule.destination_ports.first().map(|p| p.lo).filter(|p| *p != 0)?;
    let remote = match rule.direction {
        Direction::Inbound => &rule.source,
        Direction::Outbound => &rule.destination,
    };
    // Named lazily: an expanded tag's rule lists thousands of prefixes and most rules decide
    // their first.
    let candidates: Vec<Remote> = match remote {
        AddressMatch::Prefixes(p) if !p.is_empty() => p.iter().map(|&n| Remote::Prefix(n)).collect(),
        AddressMatch::Tag(t) => vec![Remote::Tag(t)],
        _ => return None,
    };
    let (local, remote_port) = match rule.direction {
        Direction::Inbound => (SocketAddrV4::new(local, port), EPHEMERAL_PORT),
        Direction::Outbound => (SocketAddrV4::new(local, EPHEMERAL_PORT), port),
    };
    // The platform's addresses (168.63.129.16, in VirtualNetwork) are no caller to probe from:
    // NSGs do not filter their traffic, whatever a rule says.
    let platform = crate::prove::resolver::unfiltered_addresses();
    let decide = |c: &Remote| -> Vec<RemoteDecision> {
        let decided = explainer
            .decide_remote(rule.direction, local, &c.text(), remote_port)
            .unwrap_or_default();
        decided
            .into_iter()
            .filter(|d| d.rule.is_some())
            // A tag's decision holds thousands of intervals: cut only where a platform address is.
            .map(|d| {
                match crate::prove::resolver::UNFILTERED
                    .iter()
                    .any(|&a| d.addresses.contains(u32::from(a)))
                {
                    true => RemoteDecision {
                        addresses: d.addresses.difference(&platform),
                        ..d
                    },
                    false => d,
                }
            })
            .filter(|d| !d.addresses.is_empty())
            .collect()
    };
    let decides_itself = |ds: &[RemoteDecision]| {
        ds.iter()
            .position(|d| d.rule.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&rule.name)))
    };
    let first = decide(candidates.first()?);
    let (candidate, mut ds, at) = match decides_itself(&first) {
        Some(at) => (&candidates[0], first, at),
        None => candidates[1..]
            .iter()
            .find_map(|c| {
                let ds = decide(c);
                decides_itself(&ds).map(|at| (c, ds, at))
            })
            .unwrap_or((&candidates[0], first, 0)),
    };
    let count = ds.len();
    if at >= count {
        return None;
    }
    let decision = ds.swap_remove(at);
    // An address the rule decides, pasteable: of a tag, the first of its addresses the rule decides
    // (the line names the tag, whose addresses move with the weekly files).
    let remote = first_host(&decision.addresses)?;
    let tag = match candidate {
        Remote::Tag(tag) if !ise_model::servicetags::is_platform_tag(tag) => Some(tag.to_string()),
        _ => None,
    };
    Some(Probe {
        local,
        remote,
        remote_port,
        rule: decision.rule.unwrap_or_default(),
        access: decision.access,
        tag,
    })
}

/// What a rule names on the remote side.
enum Remote<'a> {
    Prefix(Ipv4Net),
    Tag(&'a str),
}

impl Remote<'_> {
    fn text(&self) -> String {
        match self {
            Remote::Prefix(net) => net.to_string(),
            Remote::Tag(tag) => tag.to_string(),
        }
    }
}

/// Ranges no Internet host has an address in (RFC 6890 special-purpose and private), ascending:
/// a probe "from the Internet" names an address outside them where it can (the Internet tag's
/// lowest is 0.0.0.1).
const NOT_INTERNET: [(u32, u32); 10] = [
    (0x0000_0000, 0x00FF_FFFF), // 0.0.0.0/8
    (0x0A00_0000, 0x0AFF_FFFF), // 10.0.0.0/8
    (0x6440_0000, 0x647F_FFFF), // 100.64.0.0/10
    (0x7F00_0000, 0x7FFF_FFFF), // 127.0.0.0/8
    (0xA9FE_0000, 0xA9FE_FFFF), // 169.254.0.0/16
    (0xAC10_0000, 0xAC1F_FFFF), // 172.16.0.0/12
    (0xC000_0000, 0xC000_00FF), // 192.0.0.0/24
    (0xC0A8_0000, 0xC0A8_FFFF), // 192.168.0.0/16
    (0xC612_0000, 0xC613_FFFF), // 198.18.0.0/15
    (0xE000_0000, 0xFFFF_FFFF), // 224.0.0.0/3
];

/// A host address of the lowest prefix of `addresses`: not the network address of a wider prefix,
/// nor, where the set has others, one of [`NOT_INTERNET`]. Walks the set's intervals from the
/// lowest and stops at the first ordinary address: a tag's set holds thousands of intervals.
fn first_host(addresses: &IntervalSet<u32>) -> Option<String> {
    let ordinary = addresses.intervals().iter().find_map(|&(lo, hi)| {
        let mut start = u64::from(lo);
        for &(a, b) in &NOT_INTERNET {
            if start > u64::from(hi) {
                return None;
            }
            if u64::from(a) > start {
                return Some((start as u32, hi.min(a - 1)));
            }
            if u64::from(b) >= start {
                start = u64::from(b) + 1;
            }
        }
        (start <= u64::from(hi)).then_some((start as u32, hi))
    });
    let (lo, hi) = ordinary.or_else(|| addresses.intervals().first().copied())?;
    let net = *IntervalSet::interval(lo, hi).to_prefixes().first()?;
    Some(net.hosts().next().unwrap_or(net.addr()).to_string())
}

#[cfg(test)]
mod first_host_tests {
    use super::*;

    /// Against the definition, at every edge of the ranges: the first address at or after `lo` in
    /// no range (stepping past each range it falls in), its run up to the next range.
    #[test]
    fn the_lowest_ordinary_address_is_taken_else_the_lowest() {
        let edges: Vec<u32> = NOT_INTERNET
            .iter()
            .flat_map(|&(a, b)| [a.saturating_sub(1), a, b, b.saturating_add(1)])
            .collect();
        for &lo in &edges {
            for &hi in edges.iter().filter(|&&hi| hi >= lo) {
                let mut x = u64::from(lo);
                while let Some(&(_, b)) = NOT_INTERNET.iter().find(|&&(a, b)| u64::from(a) <= x && x <= u64::from(b)) {
                    x = u64::from(b) + 1;
                }
                let (start, end) = match x <= u64::from(hi) {
                    true => {
                        let next = NOT_INTERNET.iter().map(|&(a, _)| u64::from(a)).filter(|&a| a > x).min();
                        (x as u32, next.map_or(hi, |a| hi.min((a - 1) as u32)))
                    }
                    false => (lo, hi),
                };
                let net = *IntervalSet::interval(start, end).to_prefixes().first().unwrap();
                let want = net.hosts().next().unwrap_or(net.addr()).to_string();
                assert_eq!(first_host(&IntervalSet::interval(lo, hi)).unwrap(), want, "{lo:#x}-{hi:#x}");
            }
        }
        assert_eq!(first_host(&IntervalSet::interval(0, u32::MAX)).unwrap(), "1.0.0.1");
        assert_eq!(
            first_host(&IntervalSet::interval(0x0A00_0000, 0x0A00_00FF)).unwrap(),
            "10.0.0.1",
            "all private: the lowest"
        );
    }
}

/// `test-ip-flow` for the first four allow rules with a port: a host of the first subnet (Azure
/// reserves the first four addresses) and a remote address, each expecting the rule that decides
/// that packet as `explain` computes it (Network Watcher reports the deciding rule, which may be an
/// earlier one than the rule checked).
pub fn ip_flows(review: &Review) -> Vec<String> {
    let plan = review.plan;
    let env = &plan.environment;
    let Some(subnet) = env.subnets.first() else { return Vec::new() };
    let local = Ipv4Addr::from(u32::from(subnet.prefix.network()) + 4);
    let rules = verify::compiled_rules(plan);
    let udr = verify::udr_prefixes(plan, None, review.tags).unwrap_or_default();
    let explainer = Explainer::nsg_only(&Inputs {
        plan,
        tags: review.tags,
        rules: &rules,
        udr_prefixes: &udr,
        routes: None,
        firewall: None,
        firewall_doubts: Default::default(),
    });
    let mut out = vec![cloud_set(review)];
    for rule in plan.security_rules.iter().map(|r| &r.rule).filter(|r| r.access == Access::Allow) {
        if out.len() > 4 {
            break;
        }
        let Some(p) = probe(&explainer, local, rule) else { continue };
        let mut notes = Vec::new();
        if !p.rule.eq_ignore_ascii_case(&rule.name) {
            notes.push(format!("it decides this packet before {}", rule.name));
        }
        if let Some(tag) = &p.tag {
            notes.push(format!("{} is an address of {tag}", p.remote));
        }
        let before = match notes.is_empty() {
            true => String::new(),
            false => format!(" ({})", notes.join("; ")),
        };
        out.push(format!(
            "az network watcher test-ip-flow {} --vm <test-vm> --direction {} --protocol TCP --local {} --remote {}:{} # expect {} by {}{before}",
            group_option(&env.resource_group),
            rule.direction.as_str(),
            p.local,
            p.remote,
            p.remote_port,
            p.access.as_str(),
            p.rule,
        ));
    }
    match out.len() {
        1 => Vec::new(),
        _ => out,
    }
}

/// One step of the rollback: what to do and why, and its commands (none for a step of prose).
pub struct Step {
    pub text: String,
    pub commands: Vec<String>,
}

impl Step {
    fn new(review: &Review, text: impl Into<String>, commands: Vec<String>) -> Step {
        let commands = match commands.is_empty() {
            true => commands,
            false => std::iter::once(cloud_set(review)).chain(commands).collect(),
        };
        Step {
            text: text.into(),
            commands,
        }
    }
}

/// The rollback: save everything the change touches, then undo exactly what it adds, in an order
/// that cuts nothing off and opens nothing on the way: the route table first (then neither the
/// firewall rules nor the deny rules matter to traffic the routes would have sent elsewhere), the
/// firewall's rule collection group, the NSG rules (deny rules first), the service endpoints, the
/// routes.
pub fn rollback(review: &Review) -> Vec<Step> {
    let plan = review.plan;
    let env = &plan.environment;
    let rg = group_option(&env.resource_group);
    let vnet = quote(&env.virtual_network.name);
    let nsg = quote(&env.nsg_name);
    let route_table = quote(&env.route_table_name);
    let group = quote(&plan.firewall.rule_collection_group);
    let routed = plan.subnets.iter().any(|s| s.route_table);
    let firewall = has_firewall(review);
    let endpoints = plan.subnets.iter().any(|s| !s.service_endpoints.is_empty());
    let each_subnet = |f: &dyn Fn(&str) -> String| plan.subnets.iter().map(|s| f(&s.name)).collect::<Vec<_>>();

    let mut save = vec![format!("az network nsg show {rg} -n {nsg} -o json > before-nsg.json")];
    if routed {
        save.push(format!(
            "az network route-table show {rg} -n {route_table} -o json > before-route-table.json"
        ));
    }
    save.extend(each_subnet(&|s| {
        format!(
            "az network vnet subnet show {rg} --vnet-name {vnet} -n {} -o json > {}",
            quote(s),
            quote(&subnet_file(s))
        )
    }));
    if firewall {
        save.push(format!(
            "az network firewall policy rule-collection-group show -g {POLICY_RESOURCE_GROUP} --policy-name {POLICY} -n {group} -o json > before-firewall.json"
        ));
    }
    let mut steps = vec![Step::new(
        review,
        "Before the change, save each thing it changes. A `show` that answers ResourceNotFound means the change creates that resource. Where a saved file shows that a rule, route or rule collection group of the same name was there before, put that one back from the file instead of deleting it below.",
        save,
    )];

    if routed {
        let why = match firewall {
            true => "their traffic then takes Azure's system routes instead of the firewall, so deleting the firewall rules next cuts nothing off, and deleting the deny rules later does not let AllowVnetInBound admit the Internet through the 0.0.0.0/0 route",
            false => "deleting the deny rules later then does not let AllowVnetInBound admit the Internet through the 0.0.0.0/0 route",
        };
        steps.push(Step::new(
            review,
            format!("To undo, first detach the route table from the ISE subnets: {why}. Where a saved subnet file names a route table, attach that one instead of `null`."),
            each_subnet(&|s| format!("az network vnet subnet update {rg} --vnet-name {vnet} -n {} --route-table null", quote(s))),
        ));
    }
    if firewall {
        steps.push(Step::new(
            review,
            format!("Delete the rule collection group this change added to the firewall policy (`{POLICY}` in `{POLICY_RESOURCE_GROUP}`, as in the validation):"),
            vec![format!(
                "az network firewall policy rule-collection-group delete -g {POLICY_RESOURCE_GROUP} --policy-name {POLICY} -n {group} --yes"
            )],
        ));
    }
    // Deny rules first: an allow rule deleted while the deny rule behind it stands cuts its traffic off.
    let mut rules: Vec<&crate::azure::nsg::SecurityRule> = plan.security_rules.iter().map(|r| &r.rule).collect();
    rules.sort_by_key(|r| r.access != Access::Deny);
    steps.push(Step::new(
        review,
        format!("Delete the NSG rules this change created, the deny rules first so that no allowed traffic is cut off on the way (if `before-nsg.json` was not saved, the change created the NSG: give each ISE subnet back the NSG its saved subnet file names, or none, with `az network vnet subnet update {rg} --vnet-name {vnet} -n <subnet> --nsg <that NSG's id, or null>`, then `az network nsg delete {rg} -n {nsg}` removes it whole):"),
        rules
            .iter()
            .map(|r| format!("az network nsg rule delete {rg} --nsg-name {nsg} -n {}", quote(&r.name)))
            .collect(),
    ));
    if endpoints {
        steps.push(Step::new(
            review,
            "Remove the service endpoints this change enabled on the subnets. An ISE subnet has none before its ISE; where a saved subnet file lists `serviceEndpoints`, give those services instead of `null`:",
            each_subnet(&|s| format!("az network vnet subnet update {rg} --vnet-name {vnet} -n {} --service-endpoints null", quote(s))),
        ));
    }
    if routed {
        steps.push(Step::new(
            review,
            format!("Remove the routes. If `before-route-table.json` was not saved, the change created the table: delete it whole with `az network route-table delete {rg} -n {route_table}`. Otherwise delete the routes this change added:"),
            plan.routes
                .iter()
                .map(|r| format!("az network route-table route delete {rg} --route-table-name {route_table} -n {}", quote(&r.name)))
                .collect(),
        ));
    }
    // The delegation goes last: the subnet keeps it while anything else of the change is undone.
    let delegated: Vec<String> = plan
        .subnets
        .iter()
        .filter(|s| s.delegated)
        .map(|s| {
            format!(
                "az network vnet subnet update {rg} --vnet-name {vnet} -n {} --remove delegations",
                quote(&s.name)
            )
        })
        .collect();
    if !delegated.is_empty() {
        steps.push(Step::new(
            review,
            "Remove the delegation to `Microsoft.Logic/integrationServiceEnvironments` this change set, where the saved subnet file shows the subnet had no delegation before (an ISE that was deployed meanwhile must be deleted first: Azure refuses to remove the delegation of a subnet in use):",
            delegated,
        ));
    }
    steps.push(Step::new(
        review,
        "Run the validation commands again: the restored state must verify as it did before the change.",
        Vec::new(),
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn shell_words_are_quoted_only_when_the_shell_would_read_them() {
        assert_eq!(quote("contoso-network"), "contoso-network");
        assert_eq!(quote("ise.redis_01"), "ise.redis_01");
        assert_eq!(quote("ise apim"), "'ise apim'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(rm -rf x)"), "'$(rm -rf x)'");
        assert_eq!(quote(""), "''");
    }
}
