//! Service-tag resolution for one environment, as Azure does it: tags from the cloud's tag file,
//! and the platform tags. `VirtualNetwork` is the address space, the declared internal callers
//! (peered and on-premises networks) and the prefixes of the user-defined routes on the subnets;
//! `Internet` is everything outside the address space and the declared networks;
//! `AzureLoadBalancer` is the platform address 168.63.129.16.

use crate::engine::intervals::IntervalSet;
use crate::engine::TagResolver;
use crate::plan::trusted_network;
use ipnet::{IpNet, Ipv4Net, Ipv4Subnets};
use ise_model::cloud::CloudId;
use ise_model::env::Environment;
use ise_model::servicetags::ServiceTags;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Mutex, OnceLock};

pub struct EnvResolver<'a> {
    tags: &'a ServiceTags,
    /// NSG rules' tags: those the cloud does not let NSGs use resolve to nothing (F0108).
    nsg_rules_of: Option<CloudId>,
    virtual_network: Vec<Ipv4Net>,
    internet: Vec<Ipv4Net>,
    /// The two platform tags as sets, built once per resolver (many rules name VirtualNetwork).
    virtual_network_set: IntervalSet<u32>,
    internet_set: IntervalSet<u32>,
}

/// A tag's IPv4 addresses as a set, built once per tag file for each tag: every rule and every
/// requirement naming the tag, both proofs, and every environment of a fleet ask for the same
/// dozen tags. The sets are kept by the tag file's [`ServiceTags::id`], so two tag files in one
/// process (`tags diff`, tests) never see each other's sets, and a lookup costs no comparison of
/// the tag's thousands of prefixes. Only the latest few files' sets are kept.
pub fn tag_set(tags: &ServiceTags, name: &str) -> Option<IntervalSet<u32>> {
    const KEPT_FILES: usize = 4;
    type Sets = HashMap<String, IntervalSet<u32>>;
    static CACHE: OnceLock<Mutex<Vec<(u64, Sets)>>> = OnceLock::new();
    let entry = tags.get(name)?;
    let cache = CACHE.get_or_init(Mutex::default);
    let lock = || cache.lock().unwrap_or_else(|e| e.into_inner());
    let id = tags.id();
    if let Some(set) = lock()
        .iter()
        .find(|(file, _)| *file == id)
        .and_then(|(_, sets)| sets.get(&entry.name))
    {
        return Some(set.clone());
    }
    let set = match entry.prefixes.ipv4_ranges() {
        Some(ranges) => IntervalSet::from_normalized(&ranges.collect::<Vec<_>>()),
        None => IntervalSet::from_intervals(entry.prefixes.iter().filter_map(|p| match p {
            IpNet::V4(n) => Some((u32::from(n.network()), u32::from(n.broadcast()))),
            IpNet::V6(_) => None,
        })),
    };
    let mut files = lock();
    match files.iter_mut().find(|(file, _)| *file == id) {
        Some((_, sets)) => {
            sets.insert(entry.name.clone(), set.clone());
        }
        None => {
            if files.len() == KEPT_FILES {
                files.remove(0);
            }
            files.push((id, Sets::from([(entry.name.clone(), set.clone())])));
        }
    }
    Some(set)
}

/// What VirtualNetwork holds before any route: the declared networks and the host's virtual IP
/// (azure-semantics.md, the VirtualNetwork service tag); `Internet` is everything else.
fn virtual_network_members(env: &Environment) -> Vec<Ipv4Net> {
    trusted_network(env).into_iter().chain([Ipv4Net::from(LOAD_BALANCER)]).collect()
}

/// The `Internet` tag of `env`: everything outside the declared networks and the host's virtual IP.
pub fn internet(env: &Environment) -> Vec<Ipv4Net> {
    complement(&virtual_network_members(env))
}

impl<'a> EnvResolver<'a> {
    /// `udr_prefixes`: address prefixes of the routes on the ISE subnets (they join VirtualNetwork).
    pub fn new(env: &Environment, tags: &'a ServiceTags, udr_prefixes: &[Ipv4Net]) -> Self {
        let trusted = virtual_network_members(env);
        let mut vnet: Vec<Ipv4Net> = trusted.iter().chain(udr_prefixes).copied().collect();
        vnet = Ipv4Net::aggregate(&vnet);
        let internet = complement(&trusted);
        EnvResolver {
            tags,
            nsg_rules_of: None,
            virtual_network_set: IntervalSet::from_prefixes(vnet.iter().copied()),
            internet_set: IntervalSet::from_prefixes(internet.iter().copied()),
            virtual_network: vnet,
            internet,
        }
    }

    /// What a requirement means by VirtualNetwork: the network without the route prefixes.
    pub fn intended(env: &Environment, tags: &'a ServiceTags) -> Self {
        Self::new(env, tags, &[])
    }

    /// [`EnvResolver::new`] for the tags NSG rules name: one the environment's cloud does not let
    /// NSGs use ([`why_not_in_nsg`]) matches nothing, as it does nothing in Azure.
    pub fn for_nsg_rules(env: &Environment, tags: &'a ServiceTags, udr_prefixes: &[Ipv4Net]) -> Self {
        EnvResolver {
            nsg_rules_of: Some(env.cloud),
            ..Self::new(env, tags, udr_prefixes)
        }
    }

    /// This resolver with `members` (peered or on-premises addresses the environment does not
    /// declare) in VirtualNetwork and out of Internet, as Azure reads them once they are peered.
    pub fn with_members(self, members: &IntervalSet<u32>) -> Self {
        if members.is_empty() {
            return self;
        }
        let virtual_network_set = self.virtual_network_set.union(members);
        let internet_set = self.internet_set.difference(members);
        EnvResolver {
            virtual_network: virtual_network_set.to_prefixes(),
            internet: internet_set.to_prefixes(),
            virtual_network_set,
            internet_set,
            ..self
        }
    }

    fn usable(&self, tag: &str) -> bool {
        self.nsg_rules_of
            .is_none_or(|cloud| why_not_in_nsg(tag, cloud, self.tags).is_none())
    }
}

/// Why the cloud does not let an NSG rule use `tag`: seed 002 says Government's Logic Apps tags
/// (regional ones too) do not work there, and a tag whose networkFeatures in the cloud's tag file
/// lack NSG is not one NSGs take. `None` where the rule may use it, and for a tag the file lacks
/// (an unknown tag, F0105).
pub fn why_not_in_nsg(tag: &str, cloud: CloudId, tags: &ServiceTags) -> Option<String> {
    if platform(tag).is_some() {
        return None;
    }
    let entry = tags.get(tag)?;
    let base = entry.name.split('.').next().unwrap_or(&entry.name);
    if !ise_model::resolve::tag_works_in_nsg(cloud, base) {
        return Some(format!(
            "does not work in NSGs in {} (seed 002: the published addresses stand in for it)",
            cloud.facts().display_name
        ));
    }
    (!tags.tag_works_in(&entry.name, "NSG")).then(|| {
        format!(
            "is not marked usable in NSGs: the {} tag file does not list NSG among its networkFeatures",
            tags.cloud
        )
    })
}

/// The tags the platform defines per network rather than in the tag file.
enum Platform {
    VirtualNetwork,
    Internet,
    LoadBalancer,
}

/// `AzureLoadBalancer`: the platform's health-probe source.
const LOAD_BALANCER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);

/// The platform's addresses (DNS, DHCP, health monitoring; the instance metadata service), which
/// NSGs do not filter (azure-semantics.md).
pub const UNFILTERED: [Ipv4Addr; 2] = [LOAD_BALANCER, Ipv4Addr::new(169, 254, 169, 254)];

/// [`UNFILTERED`] as a set of addresses.
pub fn unfiltered_addresses() -> IntervalSet<u32> {
    IntervalSet::from_intervals(UNFILTERED.map(|a| (u32::from(a), u32::from(a))))
}

/// The platform tag `tag` names (Azure reads tag names in any case), if it is one.
fn platform(tag: &str) -> Option<Platform> {
    [
        ("virtualnetwork", Platform::VirtualNetwork),
        ("internet", Platform::Internet),
        ("azureloadbalancer", Platform::LoadBalancer),
    ]
    .into_iter()
    .find_map(|(name, p)| tag.eq_ignore_ascii_case(name).then_some(p))
}

impl TagResolver for EnvResolver<'_> {
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        match platform(tag) {
            Some(Platform::VirtualNetwork) => Some(self.virtual_network.clone()),
            Some(Platform::Internet) => Some(self.internet.clone()),
            Some(Platform::LoadBalancer) => Some(vec![Ipv4Net::from(LOAD_BALANCER)]),
            None if !self.usable(tag) => None,
            None => self.tags.get(tag).map(|t| t.ipv4()),
        }
    }

    fn resolve_set(&self, tag: &str) -> Option<IntervalSet<u32>> {
        match platform(tag) {
            Some(Platform::VirtualNetwork) => Some(self.virtual_network_set.clone()),
            Some(Platform::Internet) => Some(self.internet_set.clone()),
            Some(Platform::LoadBalancer) => Some(IntervalSet::point(u32::from(LOAD_BALANCER))),
            None if !self.usable(tag) => None,
            None => tag_set(self.tags, tag),
        }
    }
}

/// The IPv4 space outside `nets`, as a minimal list of prefixes.
pub fn complement(nets: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let merged = Ipv4Net::aggregate(&nets.to_vec());
    let mut out = Vec::new();
    let mut next: u64 = 0;
    for n in &merged {
        let start = u64::from(u32::from(n.network()));
        if start > next {
            out.extend(Ipv4Subnets::new(Ipv4Addr::from(next as u32), Ipv4Addr::from((start - 1) as u32), 0));
        }
        next = u64::from(u32::from(n.broadcast())) + 1;
    }
    if next <= u64::from(u32::MAX) {
        out.extend(Ipv4Subnets::new(Ipv4Addr::from(next as u32), Ipv4Addr::from(u32::MAX), 0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(nets: &[Ipv4Net]) -> u64 {
        nets.iter().map(|n| 1u64 << (32 - n.prefix_len())).sum()
    }

    fn file(prefixes: &[&str]) -> ServiceTags {
        let list = prefixes.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(",");
        ServiceTags::parse(&format!(
            r#"{{"changeNumber": 1, "cloud": "Public", "values": [{{"name": "Sample", "properties": {{"addressPrefixes": [{list}]}}}}]}}"#
        ))
        .unwrap()
    }

    /// The per-process sets: each tag file gets the set of its own prefixes, whatever another
    /// file of the same cloud and tag name put in the cache before (or after) it.
    #[test]
    fn tag_sets_follow_the_file_at_hand() {
        let a = file(&["10.0.0.0/24", "2001:db8::/32", "10.0.1.0/24"]);
        let b = file(&["192.168.0.0/16"]);
        let want_a = IntervalSet::from_prefixes(a.get("Sample").unwrap().ipv4());
        let want_b = IntervalSet::from_prefixes(b.get("Sample").unwrap().ipv4());
        assert_eq!(want_a.intervals(), &[(0x0A00_0000, 0x0A00_01FF)]);
        for _ in 0..2 {
            assert_eq!(tag_set(&a, "Sample"), Some(want_a.clone()));
            assert_eq!(tag_set(&a, "sample"), Some(want_a.clone()));
            assert_eq!(tag_set(&b, "Sample"), Some(want_b.clone()));
        }
        assert_eq!(tag_set(&a, "Missing"), None);
        // The resolver answers the engine from the same sets.
        let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
        let resolver = EnvResolver::intended(&env, &a);
        assert_eq!(resolver.resolve_set("Sample"), Some(want_a));
        let vnet = resolver.resolve("VirtualNetwork").unwrap();
        assert_eq!(resolver.resolve_set("virtualNetwork"), Some(IntervalSet::from_prefixes(vnet)));
        let internet = resolver.resolve("Internet").unwrap();
        assert_eq!(resolver.resolve_set("INTERNET"), Some(IntervalSet::from_prefixes(internet)));
        assert_eq!(
            resolver.resolve_set("AzureLoadBalancer"),
            Some(IntervalSet::from_prefixes(resolver.resolve("AzureLoadBalancer").unwrap()))
        );
    }

    proptest::proptest! {
        /// Members move from Internet into VirtualNetwork and nothing else moves: the two tags
        /// still partition the space outside the route prefixes, the list and set forms agree,
        /// and other tags are untouched.
        #[test]
        fn members_move_from_internet_into_virtual_network(
            members in proptest::collection::vec((proptest::prelude::any::<u32>(), 0u8..=32), 0..6),
        ) {
            let env = ise_model::env::load(ise_model::data::EXAMPLE_ENVIRONMENT, "example").env.unwrap();
            let tags = file(&["10.0.0.0/24"]);
            let members = IntervalSet::from_prefixes(members.iter().map(|&(a, len)| Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()));
            let before = EnvResolver::intended(&env, &tags);
            let (vnet, internet) = (before.resolve_set("VirtualNetwork").unwrap(), before.resolve_set("Internet").unwrap());
            let after = EnvResolver::intended(&env, &tags).with_members(&members);
            let (vnet2, internet2) = (after.resolve_set("VirtualNetwork").unwrap(), after.resolve_set("Internet").unwrap());
            proptest::prop_assert_eq!(&vnet2, &vnet.union(&members));
            proptest::prop_assert_eq!(&internet2, &internet.difference(&members));
            proptest::prop_assert!(vnet2.intersection(&internet2).is_empty());
            proptest::prop_assert_eq!(vnet2.union(&internet2), IntervalSet::full());
            proptest::prop_assert_eq!(IntervalSet::from_prefixes(after.resolve("VirtualNetwork").unwrap()), vnet2);
            proptest::prop_assert_eq!(IntervalSet::from_prefixes(after.resolve("Internet").unwrap()), internet2);
            proptest::prop_assert_eq!(after.resolve_set("Sample"), before.resolve_set("Sample"));
        }
    }

    #[test]
    fn complement_partitions_the_space() {
        let nets: Vec<Ipv4Net> = vec!["10.0.0.0/8".parse().unwrap(), "192.168.1.0/24".parse().unwrap()];
        let c = complement(&nets);
        assert_eq!(total(&c) + total(&nets), 1u64 << 32);
        assert!(c.iter().all(|x| nets.iter().all(|n| !n.contains(x) && !x.contains(n))));
        assert_eq!(complement(&["0.0.0.0/0".parse().unwrap()]), vec![]);
        assert_eq!(complement(&[]), vec!["0.0.0.0/0".parse::<Ipv4Net>().unwrap()]);
    }
}
