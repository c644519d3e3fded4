//! VirtualNetwork members the environment does not declare. Azure's VirtualNetwork tag also holds
//! peered networks and on-premises space behind a gateway, which the environment file need not
//! list: the main proof reads such an address as Internet. So each direction is evaluated once
//! more for one stand-in member: an address outside everything declared that joins VirtualNetwork
//! and leaves Internet. It matches what every undeclared member matches (`*`, VirtualNetwork,
//! `0.0.0.0/0`) and nothing naming declared networks, service tags or listed addresses, so its
//! packets are exactly the ones an NSG lets through for any member nobody declared.

use super::findings::{ArtifactKind, Finding, FindingKind, RuleRef};
use super::nsg::requirement_rule;
use crate::azure::nsg::{Access, Direction, SecurityRule};
use crate::engine::evaluate::{evaluate, Domain, Evaluation};
use crate::engine::flows::{FlowBox, FlowSet, ProtoSet};
use crate::engine::intervals::IntervalSet;
use crate::engine::TagResolver;
use ipnet::Ipv4Net;
use ise_model::requirement::Kind;
use ise_model::resolve::Resolved;

/// The environment's resolver with `member` moved from Internet into VirtualNetwork.
struct WithMember<'r, R: ?Sized> {
    inner: &'r R,
    member: u32,
}

impl<R: TagResolver + ?Sized> TagResolver for WithMember<'_, R> {
    fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        self.resolve_set(tag).map(|set| set.to_prefixes())
    }

    fn resolve_set(&self, tag: &str) -> Option<IntervalSet<u32>> {
        let set = self.inner.resolve_set(tag)?;
        let member = IntervalSet::point(self.member);
        Some(if tag.eq_ignore_ascii_case("VirtualNetwork") {
            set.union(&member)
        } else if tag.eq_ignore_ascii_case("Internet") {
            set.difference(&member)
        } else {
            set
        })
    }
}

/// An address to stand for the undeclared members: in 0.0.0.0/8, which no network, service tag or
/// listed address uses, and outside the network as `resolver` reads VirtualNetwork. `None` when
/// VirtualNetwork already holds every address (forced tunneling routes 0.0.0.0/0, which joins
/// the tag): then the main proof has seen every member.
fn stand_in<R: TagResolver + ?Sized>(resolver: &R) -> Option<u32> {
    let unused = IntervalSet::from_prefix("0.0.0.0/8".parse().expect("prefix"));
    let declared = resolver.resolve_set("VirtualNetwork").unwrap_or_default();
    let free = unused.difference(&declared);
    // Not 0.0.0.0 itself: an address nothing could ever be.
    free.intervals().iter().find_map(|&(lo, hi)| (lo.max(1) <= hi).then_some(lo.max(1)))
}

/// One direction of an NSG evaluated for the stand-in member as the far side (the source inbound,
/// the destination outbound), the ISE subnets the near side, with what the requirements need of it.
pub struct Undeclared {
    eval: Evaluation,
    /// Each requirement of the direction naming VirtualNetwork or `*` on the far side: its flows
    /// from or to the stand-in.
    required: Vec<(String, FlowSet)>,
}

impl Undeclared {
    /// `rules`: the explicit rules and Azure's defaults; `resolver`: the one the main proof reads
    /// them with; `intended`: the one it reads the requirements with.
    pub fn evaluate<R: TagResolver + ?Sized, I: TagResolver + ?Sized>(
        rules: &[SecurityRule],
        resolver: &R,
        subnets: &[Ipv4Net],
        direction: Direction,
        requirements: &[Resolved],
        intended: &I,
    ) -> Option<Self> {
        let member = stand_in(resolver)?;
        let far = IntervalSet::point(member);
        let near = IntervalSet::from_prefixes(subnets.iter().copied());
        let (src, dst, kind) = match direction {
            Direction::Inbound => (far, near, Kind::Inbound),
            Direction::Outbound => (near, far, Kind::Outbound),
        };
        let domain = FlowBox::new(ProtoSet::ALL, src, IntervalSet::full(), dst, IntervalSet::full());
        let within = FlowSet::from_box(domain.clone());
        let eval = evaluate(rules, &WithMember { inner: resolver, member }, direction, &Domain::new(domain));
        let intended = WithMember { inner: intended, member };
        let required = requirements
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| {
                let flows = FlowSet::from_rule(&requirement_rule(r), &intended).ok()?.intersection(&within);
                (!flows.is_empty()).then(|| (r.id.clone(), flows))
            })
            .collect();
        Some(Undeclared { eval, required })
    }

    pub fn evaluation(&self) -> &Evaluation {
        &self.eval
    }

    /// The allow rules deciding some of what requirement `id` needs of undeclared members.
    pub fn serving(&self, id: &str, rules: &[SecurityRule]) -> Vec<usize> {
        self.required
            .iter()
            .filter(|(r, _)| r == id)
            .flat_map(|(_, flows)| self.eval.deciders_meeting(flows))
            .flatten()
            .filter(|&i| rules[i].access == Access::Allow)
            .collect()
    }

    /// Allow rules admitting undeclared members on flows no requirement needs, one finding per
    /// deciding rule. The findings' flows leave the far side empty: it is no address anyone
    /// wrote, and the message says what it stands for.
    pub fn openings(&self, rules: &[SecurityRule]) -> Vec<Finding> {
        let eval = &self.eval;
        let mut open = eval.allowed();
        for (_, flows) in &self.required {
            if open.is_empty() {
                break;
            }
            open = open.difference(flows);
        }
        if open.is_empty() {
            return Vec::new();
        }
        let meeting = eval.deciders_meeting(&open);
        let direction = eval.direction();
        eval.order()
            .iter()
            .filter(|&&i| rules[i].access == Access::Allow && meeting.contains(&Some(i)))
            .filter_map(|&i| {
                let decided = eval.decided_by(i);
                let by_rule = decided.intersection(&open);
                let serves = self
                    .required
                    .iter()
                    .filter(|(_, flows)| !flows.intersection(&decided).is_empty())
                    .map(|(id, _)| id.clone())
                    .collect();
                (!by_rule.is_empty()).then(|| opening(&rules[i], direction, &by_rule, serves))
            })
            .collect()
    }
}

/// `serves`: the requirements the rule also serves for undeclared members.
fn opening(rule: &SecurityRule, direction: Direction, flows: &FlowSet, serves: Vec<String>) -> Finding {
    let who = if rule.is_default {
        format!("Azure's default rule {}", rule.name)
    } else {
        format!("rule {}", rule.name)
    };
    let why = if rule.is_default {
        " (no rule above it denies all of VirtualNetwork)"
    } else {
        ""
    };
    let message = format!(
        "{who} admits VirtualNetwork members the environment does not declare (peered networks, on-premises space behind a gateway) on flows no requirement needs{why}"
    );
    let mut pieces = flows.pieces();
    for p in &mut pieces {
        match direction {
            Direction::Inbound => p.src.clear(),
            Direction::Outbound => p.dst.clear(),
        }
    }
    Finding::new(FindingKind::UndeclaredMemberOpening, ArtifactKind::Nsg, message)
        .direction(direction)
        .rule(RuleRef {
            priority: Some(rule.priority),
            is_default: rule.is_default,
            ..RuleRef::named(&rule.name)
        })
        .requirements(serves)
        .flows(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// VirtualNetwork as given, Internet its complement, no other tag.
    struct Network(Vec<Ipv4Net>);

    impl TagResolver for Network {
        fn resolve(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
            let vnet = IntervalSet::from_prefixes(self.0.iter().copied());
            match tag {
                "VirtualNetwork" => Some(vnet.to_prefixes()),
                "Internet" => Some(vnet.complement().to_prefixes()),
                _ => None,
            }
        }
    }

    fn network(prefixes: &[&str]) -> Network {
        Network(prefixes.iter().map(|p| p.parse().unwrap()).collect())
    }

    #[test]
    fn the_stand_in_is_outside_everything_declared() {
        assert_eq!(stand_in(&network(&["10.0.0.0/16"])), Some(1));
        assert_eq!(stand_in(&network(&["0.0.0.0/30"])), Some(4));
        assert_eq!(stand_in(&network(&["0.0.0.0/8"])), None);
        // Forced tunneling: the 0.0.0.0/0 route joins VirtualNetwork, which then holds everyone.
        assert_eq!(stand_in(&network(&["10.0.0.0/16", "0.0.0.0/0"])), None);
    }

    #[test]
    fn the_stand_in_moves_from_internet_to_virtual_network_only() {
        let inner = network(&["10.0.0.0/16"]);
        let with = WithMember { inner: &inner, member: 1 };
        let vnet = with.resolve_set("VirtualNetwork").unwrap();
        assert!(vnet.contains(1) && vnet.contains(u32::from(Ipv4Addr::new(10, 0, 3, 4))));
        let internet = with.resolve_set("Internet").unwrap();
        assert!(!internet.contains(1) && internet.contains(2) && !internet.contains(u32::from(Ipv4Addr::new(10, 0, 3, 4))));
        assert_eq!(with.resolve("Storage"), None);
        assert_eq!(
            with.resolve("VirtualNetwork").unwrap(),
            vec!["0.0.0.1/32".parse::<Ipv4Net>().unwrap(), "10.0.0.0/16".parse().unwrap()]
        );
    }
}
