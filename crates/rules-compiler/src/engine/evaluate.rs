//! Exact first-match evaluation of one NSG direction over a domain of packets.
//!
//! Rules are ordered by priority and intersected with the domain; the decision structure itself
//! (dimensions cut into atoms, memoized on the rules still active, the last one painted) lives in
//! `tree`. Every packet of the domain lands in exactly one region, with the rule that decides it
//! and the rule that would decide it if that one were removed.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::flows::{address_set, new_cells, Cell, FlowBox, FlowSet, ProtoSet};
use super::intervals::IntervalSet;
use super::meeting::{RegionIndex, Runs};
use super::tree::decision_regions;
use crate::azure::nsg::{Access, Direction, SecurityRule};
use crate::engine::{Packet, TagResolver};

/// The packets an evaluation covers (a product set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    flows: FlowBox,
}

impl Domain {
    pub fn new(flows: FlowBox) -> Self {
        Domain { flows }
    }

    /// Every IPv4 packet.
    pub fn everything() -> Self {
        Domain::new(FlowBox::everything())
    }

    /// Inbound to the given subnets: any protocol, source and ports.
    pub fn inbound_to(subnets: &[Ipv4Net]) -> Self {
        Domain::new(FlowBox::new(
            ProtoSet::ALL,
            IntervalSet::full(),
            IntervalSet::full(),
            IntervalSet::from_prefixes(subnets.iter().copied()),
            IntervalSet::full(),
        ))
    }

    /// Outbound from the given subnets: any protocol, destination and ports.
    pub fn outbound_from(subnets: &[Ipv4Net]) -> Self {
        Domain::new(FlowBox::new(
            ProtoSet::ALL,
            IntervalSet::from_prefixes(subnets.iter().copied()),
            IntervalSet::full(),
            IntervalSet::full(),
            IntervalSet::full(),
        ))
    }

    pub fn flows(&self) -> &FlowBox {
        &self.flows
    }
}

/// Something about the rules worth reporting that is not a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Note {
    /// The rule names a tag the resolver does not know; it was taken to match nothing.
    UnresolvedTag { rule: usize, rule_name: String, tag: String },
}

/// A part of the domain where the same rule decides and the same rule would decide next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub flows: FlowBox,
    /// Index into the rules slice; `None` when no rule matches (implicitly denied).
    pub decider: Option<usize>,
    /// The next matching rule after `decider`: what decides if `decider` is removed.
    pub next: Option<usize>,
}

/// What a rule contributes to the evaluated direction and domain, in rising order (the most a rule
/// does over two domains is the greater of its effects there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RuleEffect {
    /// The rule is for the other direction.
    NotEvaluated,
    /// It decides no packet of the domain.
    Shadowed,
    /// It decides some packets, but each would get the same access from the next matching rule
    /// (or the implicit deny).
    Redundant,
    /// Removing it changes the access of some packet.
    Effective,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    direction: Direction,
    domain: Domain,
    /// Indices of the rules of `direction`, in evaluation order.
    order: Vec<usize>,
    /// Per rule of the slice, its place in `order` (`usize::MAX`: the other direction).
    rank: Vec<usize>,
    /// Access of every rule of the slice (by index).
    access: Vec<Access>,
    regions: Vec<Region>,
    /// Per rule of the slice (by index), the indices of the regions it decides, ascending: the
    /// per-rule queries cost the rule's regions, not all of them (a proof asks for every rule).
    decided: Vec<Vec<usize>>,
    by_access: OnceLock<(FlowSet, FlowSet)>,
    /// The regions below each atom of the tree's first cut, for [`Evaluation::deciders_meeting`].
    runs: Runs,
    /// Built from `runs` on the first `deciders_meeting`.
    index: OnceLock<RegionIndex>,
    /// The cell of region 0 (see `FlowSet::from_cells`); region k is cell `first_cell + k`.
    first_cell: Cell,
    notes: Vec<Note>,
}

fn access_or_deny(access: &[Access], rule: Option<usize>) -> Access {
    rule.map_or(Access::Deny, |i| access[i])
}

impl Evaluation {
    pub fn direction(&self) -> Direction {
        self.direction
    }
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
    /// Indices of the rules of the evaluated direction, highest priority first.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
    /// `rules` (indices into the slice) in evaluation order, those of the other direction left
    /// out: what `order().filter(|i| rules.contains(i))` gives, in the size of `rules`.
    pub fn in_order(&self, rules: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let mut out: Vec<usize> = rules
            .into_iter()
            .filter(|&i| self.rank.get(i).is_some_and(|&r| r != usize::MAX))
            .collect();
        out.sort_unstable_by_key(|&i| self.rank[i]);
        out.dedup();
        out
    }

    /// Disjoint regions covering the domain exactly.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The region holding `packet`, `None` outside the domain.
    pub fn region_of(&self, packet: &Packet) -> Option<&Region> {
        self.regions.iter().find(|r| r.flows.contains(packet))
    }

    /// The regions kept, each as the cell of its own index (regions partition the domain).
    fn select(&self, keep: impl Fn(&Region) -> bool) -> FlowSet {
        self.cells_of(self.regions.iter().enumerate().filter(|(_, r)| keep(r)).map(|(k, _)| k))
    }

    fn cells_of(&self, regions: impl Iterator<Item = usize>) -> FlowSet {
        let (boxes, cells) = regions
            .map(|k| (self.regions[k].flows.clone(), self.first_cell + k as Cell))
            .unzip();
        FlowSet::from_cells(boxes, cells)
    }

    /// The regions `rule` decides.
    fn regions_decided_by(&self, rule: usize) -> impl Iterator<Item = &Region> {
        self.decided.get(rule).into_iter().flatten().map(|&k| &self.regions[k])
    }

    fn select_decided_by(&self, rule: usize, keep: impl Fn(&Region) -> bool) -> FlowSet {
        let decided = self.decided.get(rule).map_or(&[][..], Vec::as_slice);
        self.cells_of(decided.iter().copied().filter(|&k| keep(&self.regions[k])))
    }

    fn decided_access(&self, r: &Region) -> Access {
        access_or_deny(&self.access, r.decider)
    }

    /// The allowed and denied packets, each knowing the other as its rest of the domain (so
    /// that taking either away from a requirement is an intersection), computed once.
    fn by_access(&self) -> &(FlowSet, FlowSet) {
        self.by_access.get_or_init(|| {
            let allowed = self.select(|r| self.decided_access(r) == Access::Allow);
            let denied = self.select(|r| self.decided_access(r) == Access::Deny);
            let within = self.domain.flows().clone();
            (
                allowed.clone().with_rest(within.clone(), denied.clone()),
                denied.with_rest(within, allowed),
            )
        })
    }

    pub fn allowed(&self) -> FlowSet {
        self.by_access().0.clone()
    }

    /// Denied by a rule or by matching none.
    pub fn denied(&self) -> FlowSet {
        self.by_access().1.clone()
    }

    /// Matched by no rule (denied implicitly; empty whenever the default rules are included).
    pub fn unmatched(&self) -> FlowSet {
        self.select(|r| r.decider.is_none())
    }

    pub fn decided_by(&self, rule: usize) -> FlowSet {
        self.select_decided_by(rule, |_| true)
    }

    pub fn deciding_rules(&self) -> BTreeSet<usize> {
        (0..self.decided.len()).filter(|&i| !self.decided[i].is_empty()).collect()
    }

    /// The rules that would take over the packets `rule` decides (`None`: no rule, implicit deny).
    pub fn next_deciders(&self, rule: usize) -> BTreeSet<Option<usize>> {
        self.regions_decided_by(rule).map(|r| r.next).collect()
    }

    /// Packets whose access would flip if `rule` were removed.
    pub fn changed_if_removed(&self, rule: usize) -> FlowSet {
        self.select_decided_by(rule, |r| access_or_deny(&self.access, r.next) != self.access[rule])
    }

    pub fn effect(&self, rule: usize) -> RuleEffect {
        if !self.order.contains(&rule) {
            return RuleEffect::NotEvaluated;
        }
        let mut decides = false;
        for r in self.regions_decided_by(rule) {
            decides = true;
            if access_or_deny(&self.access, r.next) != self.access[rule] {
                return RuleEffect::Effective;
            }
        }
        if decides {
            RuleEffect::Redundant
        } else {
            RuleEffect::Shadowed
        }
    }

    /// The deciders (`None`: no rule, implicit deny) of the regions meeting `set`: the rules that
    /// decide in place of a rule matching `set`.
    pub fn deciders_meeting(&self, set: &FlowSet) -> BTreeSet<Option<usize>> {
        let mut out = BTreeSet::new();
        let own = self.first_cell..self.first_cell + self.regions.len() as Cell;
        // Runs already visited for the current box (see `RegionIndex::candidates`).
        let (mut marks, mut stamp) = (Vec::new(), 0);
        for (b, cell) in set.with_cells() {
            // A box cut from this evaluation lies in the region its cell names (and is not empty).
            if own.contains(&cell) {
                out.insert(self.regions[(cell - self.first_cell) as usize].decider);
                continue;
            }
            // Only the regions below the atoms the box meets, and whose spans meet its span.
            let index = self.index.get_or_init(|| RegionIndex::new(&self.runs, &self.regions));
            if marks.is_empty() {
                marks = vec![0; index.runs()];
            }
            stamp += 1;
            index.candidates(&self.runs, b, &mut marks, stamp, |k| {
                let r = &self.regions[k];
                if !out.contains(&r.decider) && b.intersects(&r.flows) {
                    out.insert(r.decider);
                }
            });
        }
        out
    }

    /// `set` less the allowed packets: `set.difference(&self.allowed())`, box for box and cell
    /// for cell, with the denied regions a box meets found through the region index instead of
    /// checking the box against every denied region (a requirement is one box; a large NSG has
    /// thousands of regions).
    pub fn not_allowed(&self, set: &FlowSet) -> FlowSet {
        // Boxes of a known cell are checked only within it: the general path does that.
        if set.with_cells().any(|(_, c)| c != 0) {
            return set.difference(&self.allowed());
        }
        let within = self.domain.flows();
        let index = self.index.get_or_init(|| RegionIndex::new(&self.runs, &self.regions));
        let mut marks = vec![0; index.runs()];
        let (mut boxes, mut cells) = (Vec::new(), Vec::new());
        let mut meeting = Vec::new();
        for (stamp, (a, _)) in (1..).zip(set.with_cells()) {
            for piece in a.difference(within) {
                boxes.push(piece);
                cells.push(0);
            }
            let inner = a.intersection(within);
            if inner.is_empty() {
                continue;
            }
            meeting.clear();
            index.candidates(&self.runs, &inner, &mut marks, stamp, |k| {
                let r = &self.regions[k];
                if self.decided_access(r) == Access::Deny && inner.intersects(&r.flows) {
                    meeting.push(k);
                }
            });
            // In region order, as the denied set lists them.
            meeting.sort_unstable();
            for &k in &meeting {
                boxes.push(inner.intersection(&self.regions[k].flows));
                cells.push(self.first_cell + k as Cell);
            }
        }
        FlowSet::from_cells(boxes, cells)
    }

    /// Rules of the evaluated direction deciding no packet, in evaluation order.
    pub fn shadowed(&self) -> Vec<usize> {
        let deciding = self.deciding_rules();
        self.order.iter().copied().filter(|i| !deciding.contains(i)).collect()
    }

    /// Rules that decide packets but whose removal changes no access, in evaluation order.
    pub fn redundant(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.effect(i) == RuleEffect::Redundant)
            .collect()
    }
}

/// Rules of `direction` in evaluation order: ascending priority, then slice order (Azure forbids
/// equal priorities in one direction; the tie-break only keeps the answer deterministic).
fn evaluation_order(rules: &[SecurityRule], direction: Direction) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].direction == direction).collect();
    order.sort_by_key(|&i| (rules[i].priority, i));
    order
}

/// The packets a rule matches; an unknown tag makes it match nothing (and is noted).
fn resolve_rule<R: TagResolver + ?Sized>(rules: &[SecurityRule], i: usize, resolver: &R, notes: Option<&mut Vec<Note>>) -> FlowBox {
    let rule = &rules[i];
    let mut unresolved = Vec::new();
    let mut field = |m| {
        address_set(m, resolver).unwrap_or_else(|e| {
            unresolved.push(e.tag);
            IntervalSet::empty()
        })
    };
    let src = field(&rule.source);
    let dst = field(&rule.destination);
    if let Some(notes) = notes {
        notes.extend(unresolved.into_iter().map(|tag| Note::UnresolvedTag {
            rule: i,
            rule_name: rule.name.clone(),
            tag,
        }));
    }
    FlowBox::new(
        ProtoSet::matched_by(rule.protocol),
        src,
        IntervalSet::from_port_ranges(&rule.source_ports),
        dst,
        IntervalSet::from_port_ranges(&rule.destination_ports),
    )
}

/// Which end of a packet [`decide_line`] varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Source,
    Destination,
}

/// The rules of `direction` in evaluation order, each with the packets it matches: what
/// [`decide_line`] walks, resolved once for many questions.
pub fn resolved_in_order<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction) -> Vec<(usize, FlowBox)> {
    evaluation_order(rules, direction)
        .into_iter()
        .map(|i| (i, resolve_rule(rules, i, resolver, None)))
        .collect()
}

/// How `rules` ([`resolved_in_order`]) decide `packet` as the address at its `end` runs over
/// `addresses` (every other field as in `packet`): each deciding rule with the addresses it
/// decides, in evaluation order, then `None` with those no rule matches. One dimension, so no
/// decision tree: the change ticket asks this of a tag's thousands of prefixes.
pub fn decide_line(
    rules: &[(usize, FlowBox)],
    packet: &Packet,
    end: End,
    addresses: IntervalSet<u32>,
) -> Vec<(Option<usize>, IntervalSet<u32>)> {
    let mut left = addresses;
    let mut decided = Vec::new();
    for (i, rule) in rules {
        if left.is_empty() {
            break;
        }
        let (varying, fixed, fixed_address) = match end {
            End::Source => (rule.src(), rule.dst(), packet.dst),
            End::Destination => (rule.dst(), rule.src(), packet.src),
        };
        let ports =
            !packet.protocol.has_ports() || (rule.src_ports().contains(packet.src_port) && rule.dst_ports().contains(packet.dst_port));
        if !(rule.protocols().contains(packet.protocol) && ports && fixed.contains(u32::from(fixed_address))) {
            continue;
        }
        // A rule naming the tag asked about shares its set: no merge needed.
        let mine = if left == *varying {
            left.clone()
        } else {
            left.intersection(varying)
        };
        if mine.is_empty() {
            continue;
        }
        // Most often the rule takes all that is left: no difference to compute.
        left = if mine == left {
            IntervalSet::empty()
        } else {
            left.difference(&mine)
        };
        decided.push((Some(*i), mine));
    }
    if !left.is_empty() {
        decided.push((None, left));
    }
    decided
}

/// The rule deciding one packet (`None`: no rule matches, so it is denied). For `explain`.
pub fn decide<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction, packet: &Packet) -> Option<usize> {
    evaluation_order(rules, direction)
        .into_iter()
        .find(|&i| resolve_rule(rules, i, resolver, None).contains(packet))
}

/// Evaluates the rules of `direction` over every packet of `domain`, exactly.
pub fn evaluate<R: TagResolver + ?Sized>(rules: &[SecurityRule], resolver: &R, direction: Direction, domain: &Domain) -> Evaluation {
    evaluate_where(rules, resolver, direction, domain, |_| true)
}

/// [`evaluate`] where the caller knows that the rules failing `may_match` match no packet of
/// `domain`: they are not resolved (they stay in the order, deciding nothing).
pub fn evaluate_where<R: TagResolver + ?Sized>(
    rules: &[SecurityRule],
    resolver: &R,
    direction: Direction,
    domain: &Domain,
    may_match: impl Fn(&SecurityRule) -> bool,
) -> Evaluation {
    let order = evaluation_order(rules, direction);
    let mut notes = Vec::new();
    let mut ids = Vec::new();
    let mut boxes = Vec::new();
    for &i in order.iter().filter(|&&i| may_match(&rules[i])) {
        let b = resolve_rule(rules, i, resolver, Some(&mut notes)).intersection(domain.flows());
        if !b.is_empty() {
            ids.push(i);
            boxes.push(b);
        }
    }
    let (regions, runs) = decision_regions(&boxes, &ids, domain.flows());
    let first_cell = new_cells(regions.len());
    let mut decided = vec![Vec::new(); rules.len()];
    for (k, r) in regions.iter().enumerate() {
        if let Some(i) = r.decider {
            decided[i].push(k);
        }
    }
    let mut rank = vec![usize::MAX; rules.len()];
    for (k, &i) in order.iter().enumerate() {
        rank[i] = k;
    }
    Evaluation {
        direction,
        domain: domain.clone(),
        order,
        rank,
        access: rules.iter().map(|r| r.access).collect(),
        regions,
        decided,
        by_access: OnceLock::new(),
        runs,
        index: OnceLock::new(),
        first_cell,
        notes,
    }
}
