//! VirtualNetwork members the environment does not declare. Azure's VirtualNetwork tag also holds
//! peered networks and on-premises space behind a gateway, which the environment file need not
//! list: the main proof reads such an address as Internet. Here each direction is evaluated a
//! second time as if undeclared addresses were VirtualNetwork members (in VirtualNetwork, out of
//! Internet), and what that admits beyond the requirements, and beyond what the same address is
//! admitted as Internet, is reported.
//!
//! Which addresses: everything outside the declared networks and the platform's addresses, except
//! the Azure service-tag ranges the rules name (Microsoft's own public ranges, where no peered or
//! on-premises network lives). Within that space, addresses that the rules' explicit prefixes do
//! not tell apart (the same prefixes hold them) are decided alike, so one address stands for each
//! such class: the evaluation is exact over all of them at the cost of a few points.

use super::findings::{ArtifactKind, Finding, FindingKind, RuleRef};
use super::nsg::requirement_rule;
use crate::azure::nsg::{Access, AddressMatch, Direction, SecurityRule};
use crate::engine::evaluate::{evaluate_where, Domain, Evaluation};
use crate::engine::flows::{FlowBox, FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::TagResolver;
use crate::prove::resolver::unfiltered_addresses;
use ipnet::Ipv4Net;
use ise_model::requirement::Kind;
use ise_model::resolve::Resolved;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A resolver with `members` moved from Internet into VirtualNetwork.
struct WithMembers<'r, R: ?Sized> {
    inner: &'r R,
    members: &'r IntervalSet<u32>,
}

impl<R: TagResolver + ?Sized> TagResolver for WithMembers<'_, R> {
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        self.resolve_set(tag).map(|set| set.to_prefixes())
    }

    fn resolve_set(&self, tag: &str) -> Option<IntervalSet<u32>> {
        let set = self.inner.resolve_set(tag)?;
        Some(if tag.eq_ignore_ascii_case("VirtualNetwork") {
            set.union(self.members)
        } else if tag.eq_ignore_ascii_case("Internet") {
            set.difference(self.members)
        } else {
            set
        })
    }
}

/// The far side of a rule: the source inbound, the destination outbound.
fn far(rule: &SecurityRule, direction: Direction) -> &AddressMatch {
    match direction {
        Direction::Inbound => &rule.source,
        Direction::Outbound => &rule.destination,
    }
}

/// One class of undeclared addresses: those inside exactly the same explicit prefixes.
struct Class {
    /// The address standing for the class (`None` while every address seen is excluded).
    stand_in: Option<u32>,
    /// The class's addresses, in order (for reports, which take out what no member is: most runs
    /// report nothing, so the sets are not made here).
    addresses: Vec<(u32, u32)>,
}

/// The first address of `lo..=hi` in none of `sets`.
fn first_free(lo: u32, hi: u32, sets: &[IntervalSet<u32>]) -> Option<u32> {
    let mut at = lo;
    'search: loop {
        for set in sets {
            let ranges = set.intervals();
            let i = ranges.partition_point(|&(_, h)| h < at);
            if let Some(&(l, h)) = ranges.get(i) {
                if l <= at {
                    if h >= hi {
                        return None;
                    }
                    at = h + 1;
                    continue 'search;
                }
            }
        }
        return Some(at);
    }
}

/// The classes of undeclared addresses the rules of `direction` tell apart, each with its stand-in,
/// and the sets of addresses no member has (see the module doc). `declared`: what the main proof
/// takes as no Internet address (the declared networks).
fn classes<R: TagResolver + ?Sized>(
    rules: &[SecurityRule],
    resolver: &R,
    direction: Direction,
    declared: &IntervalSet<u32>,
) -> (Vec<Class>, Vec<IntervalSet<u32>>) {
    let platform = unfiltered_addresses();
    let mut excluded = vec![declared.clone(), platform.clone()];
    // Where an explicit prefix starts and ends, by rule, packed in one word to sort (the position,
    // up to 2^32, then whether it starts, then the rule's index): the sweep below keeps, for each
    // stretch between two such points, which rules' prefixes hold it.
    const RULE_BITS: u32 = 22;
    const STARTS: u64 = 1 << RULE_BITS;
    const AT: u32 = RULE_BITS + 1;
    let mut events: Vec<u64> = Vec::new();
    for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.direction == direction) {
        match far(rule, direction) {
            AddressMatch::Prefixes(nets) => {
                for n in nets {
                    events.push(u64::from(u32::from(n.network())) << AT | STARTS | i as u64);
                    events.push((u64::from(u32::from(n.broadcast())) + 1) << AT | i as u64);
                }
            }
            AddressMatch::Tag(tag) if !is_platform(tag) => excluded.extend(resolver.resolve_set(tag)),
            _ => {}
        }
    }
    events.sort_unstable();
    // A class is known by the rules holding it: the XOR of a random 64-bit word per rule
    // (Zobrist; two classes share a key with odds of 2^-64 a pair), updated as the sweep enters a
    // rule's first prefix and leaves its last (a rule's prefixes may overlap: each is counted).
    let mut inside = vec![0u32; rules.len()];
    let mut key = 0u64;
    let mut index: HashMap<u64, usize, BuildHasherDefault<Identity>> = HashMap::default();
    let mut classes: Vec<Class> = Vec::new();
    let mut start = 0u64;
    let mut next = 0;
    while start <= u64::from(u32::MAX) {
        while next < events.len() && events[next] >> AT == start {
            let i = (events[next] & (STARTS - 1)) as usize;
            let before = inside[i];
            inside[i] = if events[next] & STARTS != 0 { before + 1 } else { before - 1 };
            if (before == 0) != (inside[i] == 0) {
                key ^= splitmix(i as u64);
            }
            next += 1;
        }
        let end = events.get(next).map_or(u64::from(u32::MAX), |e| (e >> AT) - 1);
        let (lo, hi) = (start as u32, end as u32);
        let k = *index.entry(key).or_insert_with(|| {
            classes.push(Class {
                stand_in: None,
                addresses: Vec::new(),
            });
            classes.len() - 1
        });
        let class = &mut classes[k];
        if class.stand_in.is_none() {
            class.stand_in = first_free(lo, hi, &excluded);
        }
        class.addresses.push((lo, hi));
        start = end + 1;
    }
    classes.retain(|c| c.stand_in.is_some());
    (classes, excluded)
}

/// A hasher for keys that are random words already (the sweep's class keys).
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Whether a rule's far side holds every undeclared member however they are addressed: `*` or
/// the platform tags (VirtualNetwork, or Internet, which holds them in the main proof).
fn names_all_members(rule: &SecurityRule, direction: Direction) -> bool {
    match far(rule, direction) {
        AddressMatch::Any => true,
        AddressMatch::Tag(tag) => ["VirtualNetwork", "Internet"].iter().any(|p| tag.eq_ignore_ascii_case(p)),
        AddressMatch::Prefixes(_) | AddressMatch::Prefixes6(_) => false,
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn is_platform(tag: &str) -> bool {
    ["VirtualNetwork", "Internet", "AzureLoadBalancer"]
        .iter()
        .any(|p| tag.eq_ignore_ascii_case(p))
}

/// One direction of an NSG evaluated for the undeclared addresses (their stand-ins) on the far
/// side and the ISE subnets on the near side, as VirtualNetwork members, with what the
/// requirements need of them as such.
pub struct Undeclared<'r, R: ?Sized> {
    resolver: &'r R,
    /// The stand-ins, as a set.
    members: IntervalSet<u32>,
    /// Each stand-in (sorted) and the stretches of addresses it stands for (before what no
    /// member is, `outside`, is taken out).
    classes: Vec<(u32, Vec<(u32, u32)>)>,
    /// The declared networks, the platform's addresses and the ranges of the service tags the
    /// rules name.
    outside: Vec<IntervalSet<u32>>,
    as_members: Evaluation,
    /// Each requirement of the direction with flows from or to the stand-ins (as members), and
    /// whether it names VirtualNetwork or `*` there (one naming prefixes meets a stand-in inside
    /// them only as a hypothetical member: it serves no member).
    required: Vec<(String, FlowSet, bool)>,
}

impl<'r, R: TagResolver + ?Sized> Undeclared<'r, R> {
    /// `rules`: the explicit rules and Azure's defaults; `resolver`: the one the main proof reads
    /// them with; `intended`: the one it reads the requirements with. `None` when no address is
    /// left undeclared.
    pub fn evaluate<I: TagResolver + ?Sized>(
        rules: &[SecurityRule],
        resolver: &'r R,
        subnets: &[Ipv4Net],
        direction: Direction,
        requirements: &[Resolved],
        intended: &I,
    ) -> Option<Self> {
        // Undeclared is what the main proof takes as Internet, not what VirtualNetwork lacks: a
        // route's prefix (a forced tunnel's 0.0.0.0/0) joins VirtualNetwork while its addresses
        // stay Internet there, so a deny of Internet stops them, and a member, out of Internet,
        // passes it.
        let declared = resolver.resolve_set("Internet").unwrap_or_default().complement();
        let (classes, outside) = classes(rules, resolver, direction, &declared);
        let mut classes: Vec<(u32, Vec<(u32, u32)>)> = classes.into_iter().filter_map(|c| Some((c.stand_in?, c.addresses))).collect();
        if classes.is_empty() {
            return None;
        }
        classes.sort_unstable_by_key(|c| c.0);
        let members = IntervalSet::from_intervals(classes.iter().map(|c| (c.0, c.0)));
        let near = IntervalSet::from_prefixes(subnets.iter().copied());
        let (src, dst, kind) = match direction {
            Direction::Inbound => (members.clone(), near, Kind::Inbound),
            Direction::Outbound => (near, members.clone(), Kind::Outbound),
        };
        let domain = FlowBox::new(ProtoSet::ALL, src, IntervalSet::full(), dst, IntervalSet::full());
        let within = FlowSet::from_box(domain.clone());
        let domain = Domain::new(domain);
        // A rule whose far side names a service tag matches no stand-in (they lie outside the
        // tags the rules name), nor does one naming prefixes that hold none.
        let may_hold = |rule: &SecurityRule| match far(rule, direction) {
            AddressMatch::Any => true,
            AddressMatch::Tag(tag) => tag.eq_ignore_ascii_case("VirtualNetwork"),
            AddressMatch::Prefixes(nets) => nets.iter().any(|n| {
                let stand_ins = members.intervals();
                let at = stand_ins.partition_point(|&(_, hi)| hi < u32::from(n.network()));
                stand_ins.get(at).is_some_and(|&(lo, _)| lo <= u32::from(n.broadcast()))
            }),
            AddressMatch::Prefixes6(_) => false,
        };
        let as_members = evaluate_where(
            rules,
            &WithMembers {
                inner: resolver,
                members: &members,
            },
            direction,
            &domain,
            may_hold,
        );
        let intended = WithMembers {
            inner: intended,
            members: &members,
        };
        let required = requirements
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| {
                let rule = requirement_rule(r);
                // Only the tags are worth resolving first: a requirement may name one no rule does.
                let holds = match far(&rule, direction) {
                    AddressMatch::Tag(tag) => intended.resolve_set(tag).is_some_and(|set| set.intersects(&members)),
                    _ => may_hold(&rule),
                };
                if !holds {
                    return None;
                }
                let flows = FlowSet::from_rule(&rule, &intended).ok()?.intersection(&within);
                (!flows.is_empty()).then(|| (r.id.clone(), flows, names_all_members(&rule, direction)))
            })
            .collect();
        Some(Undeclared {
            resolver,
            members,
            classes,
            outside,
            as_members,
            required,
        })
    }

    /// The evaluation with the undeclared addresses as VirtualNetwork members.
    pub fn evaluation(&self) -> &Evaluation {
        &self.as_members
    }

    /// The allow rules deciding some of what requirement `id` needs of undeclared members.
    pub fn serving(&self, id: &str, rules: &[SecurityRule]) -> Vec<usize> {
        self.required
            .iter()
            .filter(|(r, _, members)| r == id && *members)
            .flat_map(|(_, flows, _)| self.as_members.deciders_meeting(flows))
            .flatten()
            .filter(|&i| rules[i].access == Access::Allow)
            .collect()
    }

    /// The rules deciding, for undeclared members, the packets rule `i` matches.
    pub fn covering(&self, i: usize, rules: &[SecurityRule]) -> Vec<usize> {
        let resolver = WithMembers {
            inner: self.resolver,
            members: &self.members,
        };
        let within = FlowSet::from_box(self.as_members.domain().flows().clone());
        let matched = FlowSet::from_rule(&rules[i], &resolver).map_or_else(|_| FlowSet::empty(), |m| m.intersection(&within));
        self.as_members.deciders_meeting(&matched).into_iter().flatten().collect()
    }

    /// Allow rules admitting undeclared members on flows no requirement needs and that the same
    /// addresses do not get as Internet (`main`, the main proof's evaluation of the direction:
    /// those are its openings), one finding per deciding rule, its flows' far side the addresses
    /// the members may have.
    pub fn openings(&self, rules: &[SecurityRule], main: &Evaluation) -> Vec<Finding> {
        let eval = &self.as_members;
        let mut open = eval.allowed();
        for (_, flows, _) in &self.required {
            if open.is_empty() {
                return Vec::new();
            }
            open = open.difference(flows);
        }
        if open.is_empty() {
            return Vec::new();
        }
        let meeting = eval.deciders_meeting(&open);
        let direction = eval.direction();
        let members = self.outside.iter().fold(IntervalSet::full(), |set, out| set.difference(out));
        eval.order()
            .iter()
            .filter(|&&i| rules[i].access == Access::Allow && meeting.contains(&Some(i)))
            .filter_map(|&i| {
                let decided = eval.decided_by(i);
                let by_rule = decided.intersection(&open);
                if by_rule.is_empty() {
                    return None;
                }
                // What the main proof's regions allow is looked up, not cut out of its whole
                // allowed set (the lookup takes sets of no cell; these cells are this
                // evaluation's, and the main one's pieces come back with its own).
                let by_rule = main.not_allowed(&by_rule.without_cells());
                let serves = self
                    .required
                    .iter()
                    .filter(|(_, flows, members)| *members && !flows.intersection(&decided).is_empty())
                    .map(|(id, _, _)| id.clone())
                    .collect();
                (!by_rule.is_empty()).then(|| self.opening(&rules[i], direction, &by_rule, serves, &members))
            })
            .collect()
    }

    /// The addresses the stand-ins in `far` stand for.
    fn stood_for(&self, far: &[Ipv4Net]) -> Vec<Ipv4Net> {
        let mut stretches = Vec::new();
        for net in far {
            let (lo, hi) = (u32::from(net.network()), u32::from(net.broadcast()));
            let from = self.classes.partition_point(|c| c.0 < lo);
            for (_, addresses) in self.classes[from..].iter().take_while(|c| c.0 <= hi) {
                stretches.extend_from_slice(addresses);
            }
        }
        let members = self
            .outside
            .iter()
            .fold(IntervalSet::from_intervals(stretches), |set, out| set.difference(out));
        members.to_prefixes()
    }

    /// `serves`: the requirements the rule also serves for undeclared members; `members`: every
    /// address taken as a possible member.
    fn opening(
        &self,
        rule: &SecurityRule,
        direction: Direction,
        flows: &FlowSet,
        serves: Vec<String>,
        members: &IntervalSet<u32>,
    ) -> Finding {
        let who = match rule.is_default {
            true => format!(
                "rule {} (Azure's default, with no rule above it denying all of VirtualNetwork)",
                rule.name
            ),
            false => format!("rule {}", rule.name),
        };
        let does = match direction {
            Direction::Inbound => "admits",
            Direction::Outbound => "lets the ISE reach",
        };
        let message = format!(
            "{who} {does} VirtualNetwork members the environment does not declare (peered networks, on-premises space behind a gateway) on flows no requirement needs"
        );
        let mut pieces = flows.pieces();
        for p in &mut pieces {
            match direction {
                Direction::Inbound => p.src = self.stood_for(&p.src),
                Direction::Outbound => p.dst = self.stood_for(&p.dst),
            }
        }
        let mut finding = Finding::new(FindingKind::UndeclaredMemberOpening, ArtifactKind::Nsg, message);
        finding.members = Some(members.clone());
        finding
            .direction(direction)
            .rule(RuleRef {
                priority: Some(rule.priority),
                is_default: rule.is_default,
                ..RuleRef::named(&rule.name)
            })
            .requirements(serves)
            .flows(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::nsg::PortRange;

    /// VirtualNetwork as given, Internet its complement, `Storage` one range, no other tag.
    struct Network(Vec<Ipv4Net>);

    impl TagResolver for Network {
        fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
            let vnet = IntervalSet::from_prefixes(self.0.iter().copied());
            match tag {
                "VirtualNetwork" => Some(vnet.to_prefixes()),
                "Internet" => Some(vnet.complement().to_prefixes()),
                "Storage" => Some(vec!["20.0.0.0/8".parse().unwrap()]),
                _ => None,
            }
        }
    }

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn inbound(name: &str, source: AddressMatch) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority: 100,
            direction: Direction::Inbound,
            access: Access::Deny,
            protocol: crate::azure::nsg::Protocol::Any,
            source,
            source_ports: vec![PortRange::ANY],
            destination: AddressMatch::Any,
            destination_ports: vec![PortRange::ANY],
            is_default: false,
        }
    }

    fn ip(s: &str) -> u32 {
        u32::from(s.parse::<std::net::Ipv4Addr>().unwrap())
    }

    /// Every address outside the declared network, the platform's and the named tags' ranges
    /// falls in a class with a stand-in of its own kind: inside exactly the prefixes it is in.
    #[test]
    fn each_class_of_addresses_the_prefixes_tell_apart_has_a_stand_in() {
        let resolver = Network(vec![net("10.10.0.0/16")]);
        let rules = vec![
            inbound("bogons", AddressMatch::Prefixes(vec![net("0.0.0.0/8")])),
            inbound("private", AddressMatch::Prefixes(vec![net("10.0.0.0/8"), net("172.16.0.0/12")])),
            inbound("storage", AddressMatch::Tag("Storage".into())),
            inbound("vnet", AddressMatch::Tag("VirtualNetwork".into())),
        ];
        let declared = resolver.resolve_set("VirtualNetwork").unwrap();
        let (found, _) = classes(&rules, &resolver, Direction::Inbound, &declared);
        let stand_ins: Vec<u32> = found.iter().map(|c| c.stand_in.unwrap()).collect();
        // In 0.0.0.0/8; in 10/8 or 172.16/12 but not the declared 10.10/16; in no prefix (the
        // first such address is 1.0.0.0, and Storage's 20/8 is skipped over).
        assert_eq!(stand_ins, vec![ip("0.0.0.0"), ip("1.0.0.0"), ip("10.0.0.0")]);
        let addresses = |k: usize| IntervalSet::from_intervals(found[k].addresses.clone());
        assert!(addresses(2).contains(ip("172.16.0.1")) && !addresses(2).contains(ip("0.1.2.3")));
        assert!(addresses(1).contains(ip("20.1.2.3")) && !addresses(1).contains(ip("10.1.2.3")));
        // Forced tunneling: the 0.0.0.0/0 route joins VirtualNetwork, which then holds everyone.
        let everything = IntervalSet::full();
        assert!(classes(&rules, &resolver, Direction::Inbound, &everything).0.is_empty());
    }

    #[test]
    fn members_move_from_internet_to_virtual_network_only() {
        let inner = Network(vec![net("10.0.0.0/16")]);
        let members = IntervalSet::point(ip("192.0.2.1"));
        let with = WithMembers {
            inner: &inner,
            members: &members,
        };
        let vnet = with.resolve_set("VirtualNetwork").unwrap();
        assert!(vnet.contains(ip("192.0.2.1")) && vnet.contains(ip("10.0.3.4")));
        let internet = with.resolve_set("Internet").unwrap();
        assert!(!internet.contains(ip("192.0.2.1")) && internet.contains(ip("192.0.2.2")) && !internet.contains(ip("10.0.3.4")));
        assert_eq!(with.resolve_set("Storage"), inner.resolve_set("Storage"));
        assert_eq!(with.resolve("Unknown"), None);
    }

    #[test]
    fn the_first_free_address_skips_every_set() {
        let a = IntervalSet::from_intervals([(0, 9), (20, 29)]);
        let b = IntervalSet::from_intervals([(10, 14)]);
        assert_eq!(first_free(0, 100, &[a.clone(), b.clone()]), Some(15));
        assert_eq!(first_free(0, 14, &[a.clone(), b]), None);
        assert_eq!(first_free(30, 30, &[a]), Some(30));
    }
}
