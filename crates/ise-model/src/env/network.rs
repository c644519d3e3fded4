//! The network rules of an ISE: four empty /27 subnets inside the address space, not overlapping,
//! clear of the ranges Logic Apps cannot resolve, one delegated; callers and firewall placement;
//! published addresses available where a cloud's tags do not work in NSGs.

use super::load::{SubnetItem, Walker};
use super::{AccessEndpoint, ForcedTunneling, OutboundDestination, OutboundPolicy};
use crate::cloud::CloudId;
use crate::codes::*;
use crate::diag::{excerpt, Diagnostic};
use crate::iplists;
use crate::jsonpos::{field, index};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// Ranges the 2021 ISE article (table version 2021, data/table-versions.csv) forbids for the VNet and the subnets.
pub const FORBIDDEN_RANGES: [(&str, &str); 8] = [
    ("0.0.0.0/8", LOGIC_APPS),
    ("100.64.0.0/10", LOGIC_APPS),
    ("127.0.0.0/8", LOGIC_APPS),
    ("168.63.129.16/32", LOGIC_APPS),
    ("169.254.169.254/32", LOGIC_APPS),
    // Azure refuses these in any virtual network (multicast, broadcast, link-local).
    ("224.0.0.0/4", AZURE),
    ("255.255.255.255/32", AZURE),
    ("169.254.0.0/16", AZURE),
];
/// Why a range is forbidden.
const LOGIC_APPS: &str = "which Logic Apps cannot resolve";
const AZURE: &str = "which Azure reserves (multicast, broadcast and link-local ranges are in no virtual network)";

/// What the network checks need; each part is `None` when it failed its own checks. Lists hold one
/// entry per item of the file's array (`None` for an item that failed), so every finding is
/// reported at its item's own index and a bad item does not hide the others' problems.
pub(super) struct Parts<'a> {
    pub cloud: Option<CloudId>,
    pub location: Option<&'a str>,
    pub access_endpoint: Option<AccessEndpoint>,
    /// `None` when missing or not a non-empty array.
    pub address_space: Option<&'a [Option<Ipv4Net>]>,
    /// `None` when missing or not an array.
    pub subnets: Option<&'a [SubnetItem]>,
    pub forced_tunneling: Option<&'a ForcedTunneling>,
    pub external_callers: &'a [Option<Ipv4Net>],
    pub internal_callers: &'a [Option<Ipv4Net>],
    pub outbound_policy: Option<OutboundPolicy>,
    /// `None` when any destination is malformed (reported).
    pub outbound_destinations: Option<&'a [OutboundDestination]>,
    pub custom_dns_servers: &'a [Option<Ipv4Addr>],
}

/// Addresses no host in a virtual network has, by what they are (RFC 6890): a firewall or a DNS
/// server given one of them is a typo or a placeholder.
const SPECIAL_ADDRESSES: [(&str, &str); 5] = [
    ("0.0.0.0/8", "a \"this network\" address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address (the broadcast address among them)"),
];

/// What `ip` is when it is one of [`SPECIAL_ADDRESSES`].
fn special(ip: Ipv4Addr) -> Option<(Ipv4Net, &'static str)> {
    SPECIAL_ADDRESSES.iter().find_map(|(net, what)| {
        let net: Ipv4Net = net.parse().expect("constant");
        net.contains(&ip).then_some((net, *what))
    })
}

/// What the whole of `net` is when it lies inside one of [`SPECIAL_ADDRESSES`] or is Azure's
/// platform address.
fn special_prefix(net: &Ipv4Net) -> Option<&'static str> {
    if net.prefix_len() == 32 && net.addr() == Ipv4Addr::new(168, 63, 129, 16) {
        return Some("Azure's platform address (DNS, DHCP, health probes)");
    }
    let (range, what) = special(net.network())?;
    range.contains(net).then_some(what)
}

/// The private ranges (RFC 1918) and the shared address space (RFC 6598) that hub networks use.
const PRIVATE_RANGES: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl SubnetItem {
    /// How a message names the subnet: `subnet `ise-2`` by its name, else by its path.
    fn describe(&self, kind: &str) -> String {
        self.name
            .as_ref()
            .map_or_else(|| index("subnets", self.index), |name| format!("{kind} `{name}`"))
    }
}

/// For each prefix that overlaps a prefix earlier in the list, the position of the first such one:
/// one finding per offending item, never one per pair, in O(n log n).
///
/// CIDR prefixes either nest or are disjoint, so they form a forest by containment, and sorting by
/// (network, length, position) lists it in depth-first order: a prefix's ancestors are on a stack
/// when it is reached, and its descendants follow it contiguously. The first overlapping position
/// is the least of its ancestors' and its descendants' positions, both gathered in the one sweep.
pub(crate) fn first_earlier_overlap(prefixes: &[Ipv4Net]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..prefixes.len()).collect();
    order.sort_by_key(|&i| (prefixes[i].network(), prefixes[i].prefix_len(), i));
    // Per position: least position among strict ancestors and among strict descendants.
    let mut ancestors = vec![usize::MAX; prefixes.len()];
    let mut descendants = vec![usize::MAX; prefixes.len()];
    // Open prefixes (each containing the next), with the least position of it and its ancestors.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let close = |stack: &mut Vec<(usize, usize)>, descendants: &mut [usize]| {
        let (child, _) = stack.pop().expect("non-empty");
        if let Some(&(parent, _)) = stack.last() {
            descendants[parent] = descendants[parent].min(descendants[child]).min(child);
        }
    };
    for &i in &order {
        while stack.last().is_some_and(|&(top, _)| !prefixes[top].contains(&prefixes[i])) {
            close(&mut stack, &mut descendants);
        }
        let least_above = stack.last().map_or(usize::MAX, |&(_, least)| least);
        ancestors[i] = least_above;
        stack.push((i, least_above.min(i)));
    }
    while !stack.is_empty() {
        close(&mut stack, &mut descendants);
    }
    (0..prefixes.len())
        .map(|i| Some(ancestors[i].min(descendants[i])).filter(|&j| j < i))
        .collect()
}

/// The prefixes of `space` that no other contains, ascending: sorted and disjoint, for [`inside`].
/// (Not aggregated: a subnet must lie inside one address-space prefix, not across two adjacent ones.)
fn outermost(space: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let mut sorted = space.to_vec();
    sorted.sort_by_key(|n| (n.network(), n.prefix_len()));
    let mut out: Vec<Ipv4Net> = Vec::with_capacity(sorted.len());
    for net in sorted {
        if !out.last().is_some_and(|last| last.contains(&net)) {
            out.push(net);
        }
    }
    out
}

/// Whether `net` lies inside one of `space`, which must be sorted and disjoint ([`outermost`]):
/// a binary search, so checking n prefixes against a large space stays O(n log n).
fn inside(space: &[Ipv4Net], net: &Ipv4Net) -> Option<Ipv4Net> {
    let after = space.partition_point(|s| s.network() <= net.network());
    after.checked_sub(1).map(|i| space[i]).filter(|s| s.contains(net))
}

impl Walker {
    pub(super) fn check_network(&mut self, p: &Parts) {
        let forbidden: Vec<(Ipv4Net, &str)> = FORBIDDEN_RANGES
            .iter()
            .map(|(r, why)| (r.parse().expect("constant"), *why))
            .collect();
        let check_forbidden = |w: &mut Walker, net: &Ipv4Net, path: &str| {
            for (f, why) in forbidden.iter().filter(|(f, _)| overlaps(f, net)) {
                w.push(
                    Diagnostic::error(E_FORBIDDEN_RANGE, path, format!("{net} overlaps {f}, {why}"))
                        .with_help("pick a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
                );
            }
        };

        if let Some(space) = p.address_space {
            let valid: Vec<(usize, Ipv4Net)> = space.iter().enumerate().filter_map(|(i, n)| n.map(|n| (i, n))).collect();
            let nets: Vec<Ipv4Net> = valid.iter().map(|&(_, n)| n).collect();
            for (&(i, net), earlier) in valid.iter().zip(first_earlier_overlap(&nets)) {
                let path = index("virtualNetwork.addressSpace", i);
                check_forbidden(self, &net, &path);
                if let Some((j, other)) = earlier.map(|e| valid[e]) {
                    self.push(
                        Diagnostic::error(
                            E_SPACE_OVERLAP,
                            path,
                            format!("{net} overlaps {other} (virtualNetwork.addressSpace[{j}])"),
                        )
                        .with_help("remove the prefix the other one already covers, or merge them into one"),
                    );
                }
            }
        }
        // Containment is only decided against a complete address space: when one of its prefixes
        // failed its own check, "outside" would be a guess.
        let full_space: Option<Vec<Ipv4Net>> = p
            .address_space
            .and_then(|s| s.iter().copied().collect::<Option<Vec<_>>>())
            .map(|s| outermost(&s));

        if let Some(items) = p.subnets {
            if items.len() != 4 {
                self.push(
                    Diagnostic::error(E_SUBNET_COUNT, "subnets", format!("{} subnets given; an ISE needs exactly four empty subnets", items.len()))
                        .with_help("one each for Logic Apps compute, the internal App Service Environment, the internal API Management and the internal Redis cache; one of them delegated"),
                );
            }
            let with_prefix: Vec<(&SubnetItem, Ipv4Net)> = items.iter().filter_map(|s| s.prefix.map(|p| (s, p))).collect();
            let prefixes: Vec<Ipv4Net> = with_prefix.iter().map(|&(_, p)| p).collect();
            let overlapping = first_earlier_overlap(&prefixes);
            for (&(s, prefix), earlier) in with_prefix.iter().zip(overlapping) {
                let path = field(&index("subnets", s.index), "prefix");
                let len = prefix.prefix_len();
                if len > 27 {
                    self.push(
                        Diagnostic::error(
                            E_SUBNET_TOO_SMALL,
                            path.clone(),
                            format!(
                                "{prefix} has {} addresses; each ISE subnet needs a /27 (32 addresses)",
                                1u64 << (32 - len)
                            ),
                        )
                        .with_help(format!("use {}", Ipv4Net::new(prefix.network(), 27).expect("27 <= 32").trunc())),
                    );
                } else if len < 27 {
                    self.push(
                        Diagnostic::warning(
                            W_SUBNET_TOO_LARGE,
                            path.clone(),
                            format!("{prefix} is larger than /27; more addresses give an ISE no benefit"),
                        )
                        .with_help(format!("{}/27 is enough", prefix.network())),
                    );
                }
                check_forbidden(self, &prefix, &path);
                if let Some(&(other, other_prefix)) = earlier.map(|e| &with_prefix[e]) {
                    let other_name = other.describe("subnet");
                    self.push(
                        Diagnostic::error(
                            E_SUBNET_OVERLAP,
                            path.clone(),
                            format!("{prefix} overlaps {other_name} ({other_prefix})"),
                        )
                        .with_help("give each of the four subnets its own /27"),
                    );
                }
                if let Some(space) = &full_space {
                    if inside(space, &prefix).is_none() {
                        let spaces = excerpt(&space.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")).into_owned();
                        self.push(
                            Diagnostic::error(
                                E_SUBNET_OUTSIDE,
                                path.clone(),
                                format!("{prefix} is not inside the virtual network's address space ({spaces})"),
                            )
                            .with_help("pick a prefix inside virtualNetwork.addressSpace, or add its range there"),
                        );
                    }
                }
            }
            let names: Vec<(usize, String)> = items.iter().filter_map(|s| s.name.clone().map(|n| (s.index, n))).collect();
            self.duplicates(&names, "subnets", "subnet");
            // A subnet whose `delegated` is malformed may be the delegated one: count only what is known.
            let delegated = items.iter().filter(|s| s.delegated == Some(true)).count();
            let unknown = items.iter().filter(|s| s.delegated.is_none()).count();
            if !items.is_empty() && (delegated > 1 || unknown == 0 && delegated != 1) {
                self.push(Diagnostic::error(E_DELEGATION, "subnets", format!("{delegated} subnets are delegated; exactly one must be"))
                    .with_help("set \"delegated\": true on one empty subnet: deployment through ARM, Bicep or REST needs one subnet delegated to the ISE"));
            }
            for (i, ip) in p.custom_dns_servers.iter().enumerate() {
                let Some(ip) = ip else { continue };
                for (s, prefix) in with_prefix.iter().filter(|(_, prefix)| prefix.contains(ip)) {
                    let what = s.describe("ISE subnet");
                    self.push(
                        Diagnostic::error(
                            E_DNS_IN_ISE_SUBNET,
                            index("customDnsServers", i),
                            format!("{ip} is inside {what} ({prefix}); ISE subnets must stay empty"),
                        )
                        .with_help("run the DNS server in a subnet of its own, or in a peered or on-premises network"),
                    );
                }
            }
            if let Some(ip) = p.forced_tunneling.and_then(|f| f.firewall_private_ip) {
                for (s, prefix) in with_prefix.iter().filter(|(_, prefix)| prefix.contains(&ip)) {
                    let what = s.describe("ISE subnet");
                    self.push(
                        Diagnostic::error(
                            E_FIREWALL_IN_ISE_SUBNET,
                            "forcedTunneling.firewallPrivateIp",
                            format!("{ip} is inside {what} ({prefix}); ISE subnets must stay empty"),
                        )
                        .with_help("give the firewall's private IP in its own subnet (AzureFirewallSubnet)"),
                    );
                }
            }
        }

        self.check_addresses_of_hosts(p);
        // Given callers count even when one of them is malformed.
        if p.access_endpoint == Some(AccessEndpoint::Internal) && !p.external_callers.is_empty() {
            self.push(Diagnostic::error(E_EXTERNAL_CALLERS_INTERNAL, "externalCallers", "externalCallers are given but the access endpoint is internal").with_help("an internal ISE is not reachable from the Internet: use internalCallers for callers in peered networks or on premises, or set accessEndpoint to external"));
        }
        let firewall = p.forced_tunneling.is_some_and(|f| f.mode == super::TunnelingMode::Firewall);
        // 0.0.0.0/0 among the callers is the whole Internet, as no callers are (W0503).
        let internet_callers = p.external_callers.is_empty() || p.external_callers.iter().any(|c| c.is_some_and(|c| c.prefix_len() == 0));
        if p.access_endpoint == Some(AccessEndpoint::External) && firewall && internet_callers {
            self.push(
                Diagnostic::warning(
                    W_EXTERNAL_FIREWALL_INTERNET,
                    "externalCallers",
                    "an external ISE in firewall mode answers Internet callers on 443, but the 0.0.0.0/0 route sends every reply to the firewall, which drops it (asymmetric routing)",
                )
                .with_help("list the callers' prefixes in externalCallers (their replies are routed to the Internet), or publish the endpoint through the firewall (DNAT) and make the ISE internal"),
            );
        }
        for (name, list) in [("externalCallers", p.external_callers), ("internalCallers", p.internal_callers)] {
            for (i, c) in list.iter().enumerate() {
                if let Some((net, what)) = c.and_then(|c| special_prefix(&c).map(|what| (c, what))) {
                    self.push(
                        Diagnostic::error(
                            E_CALLER_SPECIAL,
                            index(name, i),
                            format!("{net} is {what}, from which no caller sends"),
                        )
                        .with_help("give the callers' own addresses; Azure's platform traffic (168.63.129.16) needs no caller entry"),
                    );
                }
                if c.is_some_and(|c| c.prefix_len() == 0) {
                    let d = if name == "externalCallers" {
                        Diagnostic::warning(
                            W_CALLERS_ANY,
                            index(name, i),
                            "0.0.0.0/0 admits the whole Internet, which an empty externalCallers list already means",
                        )
                        .with_help("leave externalCallers empty, or list only the callers' prefixes")
                    } else {
                        Diagnostic::warning(
                            W_CALLERS_ANY,
                            index(name, i),
                            "0.0.0.0/0 admits every address to the ISE's port 443, as if it were external",
                        )
                        .with_help("list only the prefixes of the peered networks or on-premises callers")
                    };
                    self.push(d);
                }
            }
        }
        for (i, d) in p.outbound_destinations.unwrap_or_default().iter().enumerate() {
            for (j, prefix) in d.prefixes.iter().enumerate().filter(|(_, prefix)| prefix.prefix_len() == 0) {
                let path = index(&field(&index("outboundDestinations", i), "prefixes"), j);
                let d = match p.outbound_policy {
                    Some(OutboundPolicy::Restricted) => Diagnostic::warning(
                        W_DESTINATION_ANY,
                        path,
                        format!("{prefix} lets the ISE reach every address on this destination's ports: the restricted outbound policy no longer restricts them"),
                    )
                    .with_help("list only the destination's own addresses or prefixes"),
                    _ => Diagnostic::warning(
                        W_DESTINATION_ANY,
                        path,
                        format!("{prefix} adds nothing: the open outbound policy lets the ISE reach every Internet address already"),
                    )
                    .with_help("list only the destination's own addresses or prefixes, so the rule documents what it is for"),
                };
                self.push(d);
            }
        }
        if let Some(space) = p.address_space {
            let space = outermost(&space.iter().flatten().copied().collect::<Vec<_>>());
            // An Internet caller inside the network is a mistake, and in firewall mode its route to
            // the Internet (longer than the address space's VnetLocal) would take the subnets'
            // traffic to one another out of the network. 0.0.0.0/0 is W0503's.
            for (i, c) in p.external_callers.iter().enumerate() {
                let Some(c) = c.filter(|c| c.prefix_len() > 0) else { continue };
                if let Some(net) = space.iter().find(|s| overlaps(s, &c)) {
                    self.push(
                        Diagnostic::error(
                            E_EXTERNAL_CALLER_IN_VNET,
                            index("externalCallers", i),
                            format!("{c} overlaps the address space {net}: external callers are Internet addresses, outside the virtual network"),
                        )
                        .with_help("remove it; list peered or on-premises callers in internalCallers (outside the address space too)"),
                    );
                }
            }
            for (i, c) in p.internal_callers.iter().enumerate() {
                let Some(c) = c else { continue };
                if let Some(net) = inside(&space, c) {
                    self.push(
                        Diagnostic::warning(
                            W_CALLER_IN_VNET,
                            index("internalCallers", i),
                            format!("{c} is inside the address space {net}, which is admitted already"),
                        )
                        .with_help("remove it: the whole virtual network is allowed already"),
                    );
                }
            }
        }

        self.check_published_addresses(p);
    }

    /// The DNS servers and the firewall are hosts: an address no host has is refused, and a
    /// firewall whose "private" IP is public and outside the network is most likely a typo.
    fn check_addresses_of_hosts(&mut self, p: &Parts) {
        for (i, ip) in p.custom_dns_servers.iter().enumerate() {
            if let Some((ip, (net, what))) = ip.and_then(|ip| Some((ip, special(ip)?))) {
                self.push(
                    Diagnostic::error(
                        E_DNS_IP_SPECIAL,
                        index("customDnsServers", i),
                        format!("{ip} is {what} ({net}), which no DNS server has"),
                    )
                    .with_help("give the DNS servers' own addresses (168.63.129.16 for Azure's DNS)"),
                );
            }
        }
        let Some(ip) = p.forced_tunneling.and_then(|f| f.firewall_private_ip) else {
            return;
        };
        const PATH: &str = "forcedTunneling.firewallPrivateIp";
        let platform = Ipv4Addr::new(168, 63, 129, 16);
        let special = special(ip)
            .or_else(|| (ip == platform).then(|| (Ipv4Net::from(platform), "Azure's platform address, for DNS, DHCP and health probes")));
        if let Some((net, what)) = special {
            self.push(
                Diagnostic::error(
                    E_FIREWALL_IP_SPECIAL,
                    PATH,
                    format!("{ip} is {what} ({net}), which no appliance has"),
                )
                .with_help("give the private IP of the Azure Firewall or appliance (in its AzureFirewallSubnet)"),
            );
            return;
        }
        let private = PRIVATE_RANGES.iter().any(|r| r.parse::<Ipv4Net>().expect("constant").contains(&ip));
        let in_space = p.address_space.is_some_and(|space| space.iter().flatten().any(|s| s.contains(&ip)));
        if !private && !in_space {
            self.push(
                Diagnostic::warning(
                    W_FIREWALL_IP_PUBLIC,
                    PATH,
                    format!("{ip} is a public address outside the address space: the 0.0.0.0/0 route needs the firewall's private IP"),
                )
                .with_help("give the Azure Firewall's private IP (from its AzureFirewallSubnet, in this or a peered hub network), not its public one"),
            );
        }
    }

    /// In clouds where some tags do not work in NSGs, the location must have the published lists
    /// that replace them; an external ISE or firewall mode needs the connector addresses too.
    fn check_published_addresses(&mut self, p: &Parts) {
        let (Some(cloud), Some(location)) = (p.cloud, p.location) else {
            return;
        };
        let missing = iplists::missing_replacements(cloud, location);
        if !missing.is_empty() {
            let kinds = missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            self.push(
                Diagnostic::error(
                    E_NO_PUBLISHED_IPS,
                    "location",
                    format!(
                        "in {} the Logic Apps service tags do not work in NSGs, and no {kinds} addresses are published for `{location}`",
                        cloud.facts().display_name
                    ),
                )
                .with_help("choose a location with published Logic Apps addresses (data/logicapps-ips.csv)"),
            );
            return;
        }
        let needs_connectors = p.access_endpoint == Some(AccessEndpoint::External)
            || p.forced_tunneling.is_some_and(|f| f.mode == super::TunnelingMode::Firewall);
        if needs_connectors && !iplists::has_published(cloud, location, "connector-outbound") {
            self.push(
                Diagnostic::warning(W_CONNECTOR_TAG_FALLBACK, "location", format!("no managed-connector outbound addresses are published for `{location}`; the regional AzureConnectors service tag stands in for them"))
                    .with_help("nothing to change if the regional tag is acceptable; it admits more addresses than the connectors' published list would"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain O(n^2) definition the sweep must match.
    fn naive(prefixes: &[Ipv4Net]) -> Vec<Option<usize>> {
        (0..prefixes.len())
            .map(|i| (0..i).find(|&j| overlaps(&prefixes[i], &prefixes[j])))
            .collect()
    }

    fn arb_prefix() -> impl Strategy<Value = Ipv4Net> {
        // A small address range and every length, so nesting, equality and disjointness all occur.
        (0u32..64, 26u8..=32).prop_map(|(a, len)| Ipv4Net::new((0x0a00_0000 + a).into(), len).unwrap().trunc())
    }

    proptest! {
        #[test]
        fn the_sweep_finds_the_first_earlier_overlap_of_each_prefix(prefixes in prop::collection::vec(arb_prefix(), 0..40)) {
            prop_assert_eq!(first_earlier_overlap(&prefixes), naive(&prefixes));
        }

        #[test]
        fn inside_agrees_with_any_contains(space in prop::collection::vec(arb_prefix(), 0..10), net in arb_prefix()) {
            let expected = space.iter().any(|s| s.contains(&net));
            prop_assert_eq!(inside(&outermost(&space), &net).is_some(), expected);
        }
    }

    /// Every special range is a /16 or wider, so the first two octets decide: all 65,536 of them,
    /// at both ends of their /16, against the definitions in the standard library and RFC 6890
    /// (first octet 0, "this network"; 240 and up, reserved, the broadcast address among them).
    #[test]
    fn special_addresses_are_rfc_6890_s() {
        for high in 0..=u16::MAX {
            let [a, b] = high.to_be_bytes();
            for low in [0u8, 255] {
                let ip = Ipv4Addr::new(a, b, low, low);
                let expected = a == 0 || a >= 240 || ip.is_loopback() || ip.is_link_local() || ip.is_multicast();
                assert_eq!(special(ip).is_some(), expected, "{ip}");
            }
        }
    }

    #[test]
    fn many_identical_prefixes_cost_one_finding_each() {
        let prefixes = vec!["10.0.0.0/16".parse::<Ipv4Net>().unwrap(); 40_010];
        let found = first_earlier_overlap(&prefixes);
        assert_eq!(found[0], None);
        assert!(found[1..].iter().all(|f| *f == Some(0)));
    }
}
