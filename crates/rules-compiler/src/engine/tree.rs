//! The decision structure behind the engine: the protocol and three of the four other dimensions
//! are cut into atoms one after the other (each atom keeps the ordered list of rules covering it),
//! and the last dimension is painted with the first and second rule covering each value.
//!
//! Two things keep it fast and compact. The result below a level depends only on the ordered list
//! of rules still active there, so it is memoized on that list (cut short after two rules that
//! cover everything below: no later rule can be first or second). And nodes are hash-consed, so
//! atoms whose sub-results are equal are merged into one group instead of being repeated.

use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use super::evaluate::Region;
use super::first_cut;
use super::flows::{FlowBox, ProtoSet};
use super::fxhash::{FxHasher, FxMap};
use super::intervals::IntervalSet;
use super::meeting::{coded, Atoms, Runs};
use super::partition::Scratch;

/// Cuts `domain` into regions by first and second matching box, with the runs of regions below
/// each atom of the first cut dimension. `boxes` are in evaluation order and already inside
/// `domain`; `ids[k]` is the rule index of `boxes[k]`.
pub(crate) fn decision_regions(boxes: &[FlowBox], ids: &[usize], domain: &FlowBox) -> (Vec<Region>, Runs) {
    let coded: Vec<[IntervalSet<u32>; 4]> = boxes.iter().map(code).collect();
    let same = set_ids(&coded);
    let domain_coded = code(domain);
    let order = dimension_order(&coded);
    let mut b = Builder {
        boxes,
        coded: &coded,
        same: &same,
        domain: &domain_coded,
        protocols: domain.protocols(),
        order,
        full_from: Vec::new(),
        memo: Default::default(),
        nodes: Vec::new(),
        interned: FxMap::default(),
        same_hash: Vec::new(),
        atoms: FxMap::default(),
        scratch: Scratch::take_spare(),
        shared: None,
    };
    b.full_from = (0..boxes.len()).map(|k| b.full_from_level(k)).collect();
    let root = b.build(0, (0..boxes.len() as u32).collect());
    let mut path = Path {
        protocols: domain.protocols(),
        src: domain.src().clone(),
        src_ports: domain.src_ports().clone(),
        dst: domain.dst().clone(),
        dst_ports: domain.dst_ports().clone(),
    };
    let mut out = Vec::new();
    let mut runs = Runs {
        dim: b.order[0] as usize,
        ..Runs::default()
    };
    b.flatten(root, 0, &mut path, ids, &mut out, &mut runs);
    std::mem::take(&mut b.scratch).keep_spare();
    (out, runs)
}

/// The four non-protocol dimensions, in `code` order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dim {
    Src = 0,
    SrcPorts = 1,
    Dst = 2,
    DstPorts = 3,
}

const DIMS: [Dim; 4] = [Dim::Src, Dim::SrcPorts, Dim::Dst, Dim::DstPorts];

/// A box's four non-protocol sets, ports widened to `u32` so that every dimension sweeps alike.
fn code(b: &FlowBox) -> [IntervalSet<u32>; 4] {
    std::array::from_fn(|d| coded(b, d))
}

/// Per box and dimension, an id shared by the boxes whose sets there are equal (a tag used by
/// many rules), so that the sweeps walk each distinct set once.
fn set_ids(coded: &[[IntervalSet<u32>; 4]]) -> Vec<[u32; 4]> {
    let mut seen: [FxMap<&IntervalSet<u32>, u32>; 4] = Default::default();
    coded
        .iter()
        .map(|c| {
            std::array::from_fn(|d| {
                let next = seen[d].len() as u32;
                *seen[d].entry(&c[d]).or_insert(next)
            })
        })
        .collect()
}

/// A set of one dimension in its own type.
#[derive(Clone, PartialEq, Eq, Hash)]
enum DimSet {
    Addresses(IntervalSet<u32>),
    Ports(IntervalSet<u16>),
}

fn decode(d: Dim, s: IntervalSet<u32>) -> DimSet {
    match d {
        Dim::Src | Dim::Dst => DimSet::Addresses(s),
        Dim::SrcPorts | Dim::DstPorts => {
            let narrow = |v: u32| u16::try_from(v).expect("port");
            DimSet::Ports(IntervalSet::from_normalized(
                &s.intervals().iter().map(|&(lo, hi)| (narrow(lo), narrow(hi))).collect::<Vec<_>>(),
            ))
        }
    }
}

/// Dimensions from the most rule boundaries to the fewest. A dimension cut near the top is swept
/// once and its atoms merge wherever their sub-results are equal; the painted (last) dimension is
/// swept again for every leaf and repeated in every region of it. So the busiest dimension (often
/// the source addresses, with service tags of thousands of prefixes) goes first; painting it last
/// measured 20 to 100 times slower, with 30 times more regions, on 1,000-rule NSGs.
fn dimension_order(coded: &[[IntervalSet<u32>; 4]]) -> [Dim; 4] {
    let mut order = DIMS;
    let weight = |d: Dim| -> usize { coded.iter().map(|c| c[d as usize].intervals().len()).sum() };
    order.sort_by_key(|&d| (std::cmp::Reverse(weight(d)), d as usize));
    order
}

type NodeId = usize;

/// The first and second rule covering a painted group.
type Deciders = (Option<u32>, Option<u32>);

/// The result below one level: groups of atoms of that level's dimension, each with the node of
/// the next level (or, at the last level, the painted first and second rules).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Node {
    Protocols(Vec<(ProtoSet, NodeId)>),
    Cut(Vec<(DimSet, NodeId)>),
    Leaf(Vec<(DimSet, Deciders)>),
}

/// Protocol, three cut dimensions, the painted dimension.
const LEVELS: usize = 5;

struct Builder<'a> {
    boxes: &'a [FlowBox],
    coded: &'a [[IntervalSet<u32>; 4]],
    /// See `set_ids`.
    same: &'a [[u32; 4]],
    domain: &'a [IntervalSet<u32>; 4],
    protocols: ProtoSet,
    /// Dimensions of levels 1 to 4.
    order: [Dim; 4],
    /// Per box, the first level from which it covers the whole domain in every later dimension.
    full_from: Vec<usize>,
    /// Per level, node by (shortened) active list.
    memo: [FxMap<Vec<u32>, NodeId>; LEVELS],
    nodes: Vec<Rc<Node>>,
    /// Node by the hash of its contents: the latest node with that hash (`same_hash` links the
    /// earlier ones). A level-1 node holds a service tag's atoms, so it is hashed only once.
    interned: FxMap<u64, NodeId>,
    same_hash: Vec<Option<NodeId>>,
    /// Per level-1 node, its atoms in value order (see `meeting`).
    atoms: FxMap<NodeId, Atoms>,
    scratch: Scratch,
    /// The first cut dimension swept once for the rules of every protocol group (see `Shared`).
    shared: Option<Shared>,
}

/// The groups of one level-1 sweep: each group's set and its ascending list of covering rules.
type Groups = Vec<(IntervalSet<u32>, Vec<u32>)>;

/// One sweep of the first cut dimension over the rules of all protocol groups. The groups of
/// fewer rules are unions of these groups (values covered by the same rules overall are covered
/// by the same rules of any subset), so each protocol group's cut is read off this sweep instead
/// of sweeping a service tag's thousands of intervals again (TCP and UDP usually differ by a rule
/// or two, and the portless protocols by the rules with ports).
struct Shared {
    /// Ascending.
    rules: Vec<u32>,
    /// The weight (see `Builder::weight`) below which a sub-list sweeps on its own.
    least: usize,
    groups: Groups,
    /// `(group, lo, hi)` in value order; shared with the atoms of the projection of every rule.
    segments: Arc<Vec<Segment>>,
}

/// `(group, lo, hi)`: the values `lo..=hi` all fall in one group of a sweep.
type Segment = (u32, u64, u64);

impl Shared {
    /// What sweeping `active` (ascending, a subset of `rules`) would return: its groups in order
    /// of first appearance and its segments (neighbouring ones of one group may stay apart).
    fn project(&self, active: &[u32]) -> Option<(Groups, Arc<Vec<Segment>>)> {
        // The protocol group of every rule (TCP, as a rule): the sweep itself.
        if active == self.rules {
            return Some((self.groups.clone(), Arc::clone(&self.segments)));
        }
        let top = self.rules.last().map_or(0, |&r| r as usize + 1);
        let mut member = vec![false; top];
        for &r in active {
            if self.rules.binary_search(&r).is_err() {
                return None;
            }
            member[r as usize] = true;
        }
        // Each group of the sweep goes to the group of its rules within `active`; groups are
        // created in the sweep's order, which is ascending by first value, as a sweep's are.
        let mut index: FxMap<Vec<u32>, u32> = FxMap::default();
        let mut lists: Vec<Vec<u32>> = Vec::new();
        let to: Vec<u32> = self
            .groups
            .iter()
            .map(|(_, list)| {
                let sub: Vec<u32> = list.iter().copied().filter(|&r| member[r as usize]).collect();
                let next = lists.len() as u32;
                *index.entry(sub).or_insert_with_key(|sub| {
                    lists.push(sub.clone());
                    next
                })
            })
            .collect();
        let mut sizes = vec![0usize; lists.len()];
        for &(g, _, _) in self.segments.iter() {
            sizes[to[g as usize] as usize] += 1;
        }
        let mut parts: Vec<Vec<(u32, u32)>> = sizes.into_iter().map(Vec::with_capacity).collect();
        let mut segments = Vec::with_capacity(self.segments.len());
        for &(g, lo, hi) in self.segments.iter() {
            let p = to[g as usize];
            segments.push((p, lo, hi));
            // Segments come in value order, so each group's intervals come ascending.
            let (lo, hi) = (u32::try_from(lo).expect("u32 coding"), u32::try_from(hi).expect("u32 coding"));
            let part = &mut parts[p as usize];
            match part.last_mut() {
                Some(last) if u64::from(last.1) + 1 == u64::from(lo) => last.1 = hi,
                _ => part.push((lo, hi)),
            }
        }
        let groups = parts
            .iter()
            .zip(lists)
            .map(|(part, list)| (IntervalSet::from_normalized(part), list))
            .collect();
        Some((groups, Arc::new(segments)))
    }
}

impl Builder<'_> {
    /// Whether box `k` covers the domain's whole set at `level`.
    fn full_at(&self, k: usize, level: usize) -> bool {
        match level {
            0 => self.boxes[k].protocols() == self.protocols,
            _ => {
                let d = self.order[level - 1] as usize;
                self.coded[k][d] == self.domain[d]
            }
        }
    }

    fn full_from_level(&self, k: usize) -> usize {
        let mut from = LEVELS;
        while from > 0 && self.full_at(k, from - 1) {
            from -= 1;
        }
        from
    }

    fn intern(&mut self, n: Node) -> NodeId {
        let hash = {
            let mut h = FxHasher::default();
            n.hash(&mut h);
            h.finish()
        };
        let mut at = self.interned.get(&hash).copied();
        while let Some(id) = at {
            if *self.nodes[id] == n {
                return id;
            }
            at = self.same_hash[id];
        }
        let id = self.nodes.len();
        self.nodes.push(Rc::new(n));
        self.same_hash.push(self.interned.insert(hash, id));
        id
    }

    fn build(&mut self, level: usize, mut active: Vec<u32>) -> NodeId {
        // After two rules covering everything below, no later rule is first or second anywhere.
        let mut full = 0;
        if let Some(cut) = active.iter().position(|&r| {
            full += usize::from(self.full_from[r as usize] <= level);
            full == 2
        }) {
            active.truncate(cut + 1);
        }
        if let Some(&id) = self.memo[level].get(&active) {
            return id;
        }
        let (boxes, coded, same) = (self.boxes, self.coded, self.same);
        let mut atoms = None;
        let node = if level == 0 {
            // Six protocols: group them by the rules matching each.
            let mut groups: Vec<(ProtoSet, Vec<u32>)> = Vec::new();
            for p in self.protocols.iter() {
                let sub: Vec<u32> = active
                    .iter()
                    .copied()
                    .filter(|&r| boxes[r as usize].protocols().contains(p))
                    .collect();
                match groups.iter_mut().find(|(_, l)| *l == sub) {
                    Some(g) => g.0 = g.0.union(ProtoSet::single(p)),
                    None => groups.push((ProtoSet::single(p), sub)),
                }
            }
            // Only the protocol groups whose first cut is about as busy as all of theirs together
            // share a sweep: a group of a few rules (the portless protocols) sweeps its own.
            let d = self.order[0] as usize;
            let mut heavy: Vec<&Vec<u32>> = Vec::new();
            if groups.len() > 1 {
                let whole = self.weight(groups.iter().flat_map(|(_, l)| l.iter().copied()), d);
                heavy = groups
                    .iter()
                    .map(|(_, l)| l)
                    .filter(|l| self.weight(l.iter().copied(), d) * 2 >= whole)
                    .collect();
            }
            // And only sets of many intervals each (service tags): the groups of many small sets
            // (a large NSG's prefix lists) carry long rule lists, dearer to filter than to sweep.
            if heavy.len() > 1 && self.many_intervals_each(heavy.iter().flat_map(|l| l.iter().copied()), d) {
                let mut all: Vec<u32> = heavy.iter().flat_map(|l| l.iter().copied()).collect();
                all.sort_unstable();
                all.dedup();
                let swept = first_cut::partition(&mut self.scratch, &self.domain[d], &all, |r| {
                    (same[r as usize][d], &coded[r as usize][d])
                });
                let segments = Arc::new(self.scratch.take_segments());
                self.shared = Some(Shared {
                    least: self.weight(all.iter().copied(), d).div_ceil(2),
                    rules: all,
                    groups: swept,
                    segments,
                });
            }
            let children = groups.into_iter().map(|(s, sub)| (s, self.build(1, sub))).collect();
            Node::Protocols(merge(children, |a, b| a.union(*b)).0)
        } else {
            let dim = self.order[level - 1];
            let d = dim as usize;
            let universe = &self.domain[d];
            if level < LEVELS - 1 {
                let projected = match &self.shared {
                    Some(sh) if level == 1 && self.weight(active.iter().copied(), d) >= sh.least => sh.project(&active),
                    _ => None,
                };
                let (groups, segments) = match projected {
                    Some((groups, segments)) => (groups, Some(segments)),
                    None => {
                        let set_of = |r: u32| (same[r as usize][d], &coded[r as usize][d]);
                        let groups = if level == 1 {
                            first_cut::partition(&mut self.scratch, universe, &active, set_of)
                        } else {
                            self.scratch.partition(universe, &active, set_of)
                        };
                        // The first cut's atoms in value order, before building below reuses the scratch.
                        (groups, (level == 1).then(|| Arc::new(self.scratch.take_segments())))
                    }
                };
                let covers = (level == 1).then(|| self.sets_covering(&groups, d));
                let children = groups.into_iter().map(|(s, sub)| (s, self.build(level + 1, sub))).collect();
                let (merged, slot) = merge(children, IntervalSet::union);
                atoms = segments.map(|segments| {
                    let by_set = covers
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(set, groups)| {
                            let mut runs: Vec<usize> = groups.into_iter().map(|g| slot[g]).collect();
                            runs.sort_unstable();
                            runs.dedup();
                            (set, runs)
                        })
                        .collect();
                    Atoms { segments, slot, by_set }
                });
                Node::Cut(merged.into_iter().map(|(s, c)| (decode(dim, s), c)).collect())
            } else {
                let painted = self
                    .scratch
                    .paint(universe, &active, |r| (same[r as usize][d], &coded[r as usize][d]));
                Node::Leaf(painted.into_iter().map(|(s, k)| (decode(dim, s), k)).collect())
            }
        };
        let id = self.intern(node);
        if let Some(atoms) = atoms {
            self.atoms.entry(id).or_insert(atoms);
        }
        self.memo[level].insert(active, id);
        id
    }

    /// The intervals a sweep of dimension `d` over `rules` walks: each distinct set once.
    fn weight(&self, rules: impl Iterator<Item = u32>, d: usize) -> usize {
        let mut seen: Vec<(u32, u32)> = rules.map(|r| (self.same[r as usize][d], r)).collect();
        seen.sort_unstable();
        seen.dedup_by_key(|&mut (id, _)| id);
        seen.iter().map(|&(_, r)| self.coded[r as usize][d].intervals().len()).sum()
    }

    /// Whether the distinct sets of `rules` in dimension `d` hold 32 intervals or more on average.
    fn many_intervals_each(&self, rules: impl Iterator<Item = u32>, d: usize) -> bool {
        let mut ids: Vec<u32> = rules.map(|r| self.same[r as usize][d]).collect();
        ids.sort_unstable();
        ids.dedup();
        let rules: Vec<u32> = (0..self.same.len() as u32).collect();
        self.weight(
            rules
                .iter()
                .copied()
                .filter(|&r| ids.binary_search(&self.same[r as usize][d]).is_ok()),
            d,
        ) >= 32 * ids.len()
    }

    /// Per distinct set of the rules of `groups` (in dimension `d`), the groups it covers: a box
    /// with exactly that set meets exactly those groups' atoms (the set's bounds are cut points).
    fn sets_covering(&self, groups: &Groups, d: usize) -> Vec<(IntervalSet<u32>, Vec<usize>)> {
        let mut by_id: FxMap<u32, usize> = FxMap::default();
        let mut out: Vec<(IntervalSet<u32>, Vec<usize>)> = Vec::new();
        for (g, (_, rules)) in groups.iter().enumerate() {
            for &r in rules {
                let id = self.same[r as usize][d];
                let next = out.len();
                let at = *by_id.entry(id).or_insert(next);
                if at == next {
                    out.push((self.coded[r as usize][d].clone(), Vec::new()));
                }
                // A group lists each rule once, so a set's last entry tells whether `g` is in.
                if out[at].1.last() != Some(&g) {
                    out[at].1.push(g);
                }
            }
        }
        out
    }

    fn flatten(&mut self, id: NodeId, level: usize, path: &mut Path, ids: &[usize], out: &mut Vec<Region>, runs: &mut Runs) {
        let node = Rc::clone(&self.nodes[id]);
        match &*node {
            Node::Protocols(groups) => {
                for (s, child) in groups {
                    path.protocols = *s;
                    self.flatten(*child, level + 1, path, ids, out, runs);
                }
            }
            Node::Cut(groups) => {
                let first_run = runs.runs.len() as u32;
                for (s, child) in groups {
                    path.set(self.order[level - 1], s);
                    let start = out.len();
                    self.flatten(*child, level + 1, path, ids, out, runs);
                    if level == 1 {
                        runs.runs.push(start..out.len());
                    }
                }
                if level == 1 {
                    // Each level-1 node is reached once (the protocol groups are merged by child).
                    let atoms = self.atoms.remove(&id).unwrap_or_default();
                    runs.layers.push((path.protocols, first_run, atoms));
                }
            }
            Node::Leaf(painted) => {
                for (s, (first, second)) in painted {
                    path.set(self.order[level - 1], s);
                    // Rule boxes hold the portless invariant, so an atom with a portless protocol
                    // always sits under full port sets.
                    let flows = FlowBox::from_raw(
                        path.protocols,
                        path.src.clone(),
                        path.src_ports.clone(),
                        path.dst.clone(),
                        path.dst_ports.clone(),
                    );
                    out.push(Region {
                        flows,
                        decider: first.map(|p| ids[p as usize]),
                        next: second.map(|p| ids[p as usize]),
                    });
                }
            }
        }
    }
}

/// Joins the groups that lead to the same child (their sets are disjoint atoms of one dimension),
/// and says where each group went.
fn merge<S>(groups: Vec<(S, NodeId)>, union: impl Fn(&S, &S) -> S) -> (Vec<(S, NodeId)>, Vec<usize>) {
    let mut out: Vec<(S, NodeId)> = Vec::with_capacity(groups.len());
    let mut slot = Vec::with_capacity(groups.len());
    let mut index: FxMap<NodeId, usize> = FxMap::default();
    for (s, child) in groups {
        match index.get(&child) {
            Some(&i) => {
                out[i].0 = union(&out[i].0, &s);
                slot.push(i);
            }
            None => {
                index.insert(child, out.len());
                slot.push(out.len());
                out.push((s, child));
            }
        }
    }
    (out, slot)
}

/// The sets on the way down to a leaf.
struct Path {
    protocols: ProtoSet,
    src: IntervalSet<u32>,
    src_ports: IntervalSet<u16>,
    dst: IntervalSet<u32>,
    dst_ports: IntervalSet<u16>,
}

impl Path {
    fn set(&mut self, d: Dim, s: &DimSet) {
        match (d, s) {
            (Dim::Src, DimSet::Addresses(s)) => self.src = s.clone(),
            (Dim::Dst, DimSet::Addresses(s)) => self.dst = s.clone(),
            (Dim::SrcPorts, DimSet::Ports(s)) => self.src_ports = s.clone(),
            (Dim::DstPorts, DimSet::Ports(s)) => self.dst_ports = s.clone(),
            _ => unreachable!("a dimension's sets have its type"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn set() -> impl Strategy<Value = IntervalSet<u32>> {
        prop::collection::vec((0u32..200, 0u32..30), 0..6)
            .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len))))
    }

    /// Neighbouring segments of one group joined (a projection may leave them apart).
    fn joined(segments: Vec<Segment>) -> Vec<Segment> {
        let mut out: Vec<Segment> = Vec::new();
        for (g, lo, hi) in segments {
            match out.last_mut() {
                Some(last) if last.0 == g && last.2 + 1 == lo => last.2 = hi,
                _ => out.push((g, lo, hi)),
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// A cut read off the sweep of more rules equals the sweep of the rules themselves:
        /// the same groups (sets, rule lists, order) and the same group at every value.
        #[test]
        fn projected_cuts_equal_own_sweeps(
            candidates in prop::collection::vec(set(), 4),
            picks in prop::collection::vec(0usize..4, 1..10),
            universe in set(),
            keep in any::<u16>(),
        ) {
            let set_of = |r: u32| (picks[r as usize] as u32, &candidates[picks[r as usize]]);
            let all: Vec<u32> = (0..picks.len() as u32).collect();
            let mut scratch = Scratch::default();
            let groups = scratch.partition(&universe, &all, set_of);
            let segments = Arc::new(scratch.take_segments());
            let shared = Shared { rules: all.clone(), least: 0, groups, segments };
            let active: Vec<u32> = all.iter().copied().filter(|r| keep & (1 << r) != 0).collect();
            let (got, got_segments) = shared.project(&active).expect("a subset");
            let want = scratch.partition(&universe, &active, set_of);
            let want_segments = scratch.take_segments();
            prop_assert_eq!(got, want);
            prop_assert_eq!(joined(got_segments.to_vec()), joined(want_segments));
            // A rule the sweep did not see cannot be read off it.
            let mut outside = active.clone();
            outside.push(picks.len() as u32);
            prop_assert!(shared.project(&outside).is_none());
        }
    }
}
