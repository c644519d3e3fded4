//! The decision structure behind the engine: the "small" dimensions (protocol, one address
//! dimension, source ports, destination ports) are cut into atoms one after the other, and the
//! remaining "large" address dimension is painted first-match.
//!
//! Two things keep it fast and compact. The result below a level depends only on the ordered list
//! of rules still active there, so it is memoized on that list (cut short after two rules that
//! cover everything below: no later rule can be first or second). And nodes are hash-consed, so
//! atoms whose sub-results are equal are merged into one group instead of being repeated.

use std::rc::Rc;

use super::engine::Region;
use super::flows::{FlowBox, ProtoSet};
use super::fxhash::FxMap;
use super::intervals::IntervalSet;
use super::partition::{Painted, Scratch};

/// Cuts `domain` into regions by first and second matching box. `boxes` are in evaluation order
/// and already inside `domain`; `ids[k]` is the rule index of `boxes[k]`.
pub(crate) fn decision_regions(boxes: &[FlowBox], ids: &[usize], domain: &FlowBox) -> Vec<Region> {
    // Paint the address dimension with more boundaries; cut the other into atoms.
    let count = |f: fn(&FlowBox) -> &IntervalSet<u32>| -> usize { boxes.iter().map(|b| f(b).intervals().len()).sum() };
    let large = if count(FlowBox::src) > count(FlowBox::dst) {
        Axis::Src
    } else {
        Axis::Dst
    };
    let mut b = Builder {
        boxes,
        domain,
        large,
        full_from: Vec::new(),
        memo: Default::default(),
        nodes: Vec::new(),
        interned: FxMap::default(),
        scratch: Scratch::default(),
    };
    b.full_from = boxes.iter().map(|x| b.full_from_level(x)).collect();
    let root = b.build(0, (0..boxes.len() as u32).collect());
    let mut path = Path {
        protocols: domain.protocols(),
        small: b.large.small(domain).clone(),
        src_ports: domain.src_ports().clone(),
        dst_ports: domain.dst_ports().clone(),
    };
    let mut out = Vec::new();
    b.flatten(root, &mut path, ids, &mut out);
    STAT.with(|c| {
        eprintln!(
            "leaves {:?} memo {:?}",
            c.borrow(),
            b.memo.iter().map(|m| m.len()).collect::<Vec<_>>()
        );
        *c.borrow_mut() = Default::default();
    });
    out
}

/// The address dimension that is painted; the other one is cut into atoms.
#[derive(Clone, Copy)]
enum Axis {
    Src,
    Dst,
}

impl Axis {
    fn small(self, b: &FlowBox) -> &IntervalSet<u32> {
        match self {
            Axis::Src => b.dst(),
            Axis::Dst => b.src(),
        }
    }

    fn large(self, b: &FlowBox) -> &IntervalSet<u32> {
        match self {
            Axis::Src => b.src(),
            Axis::Dst => b.dst(),
        }
    }
}

type NodeId = usize;

/// The result below one level: groups of atoms of that level's dimension, each with the node of
/// the next level (or, at the last level, the painted first and second rules).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Node {
    Protocols(Vec<(ProtoSet, NodeId)>),
    Address(Vec<(IntervalSet<u32>, NodeId)>),
    SrcPorts(Vec<(IntervalSet<u16>, NodeId)>),
    DstPorts(Vec<(IntervalSet<u16>, NodeId)>),
    Leaf(Vec<Painted<u32>>),
}

const LEVELS: usize = 5;

struct Builder<'a> {
    boxes: &'a [FlowBox],
    domain: &'a FlowBox,
    large: Axis,
    /// Per box, the first level from which it covers the whole domain in every later dimension.
    full_from: Vec<usize>,
    /// Per level, node by (shortened) active list.
    memo: [FxMap<Vec<u32>, NodeId>; LEVELS],
    nodes: Vec<Rc<Node>>,
    interned: FxMap<Rc<Node>, NodeId>,
    scratch: Scratch,
}

impl Builder<'_> {
    fn full_from_level(&self, b: &FlowBox) -> usize {
        let d = self.domain;
        let full = [
            b.protocols() == d.protocols(),
            self.large.small(b) == self.large.small(d),
            b.src_ports() == d.src_ports(),
            b.dst_ports() == d.dst_ports(),
            self.large.large(b) == self.large.large(d),
        ];
        (0..=LEVELS).rev().take_while(|&l| l == LEVELS || full[l]).last().unwrap_or(LEVELS)
    }

    fn intern(&mut self, n: Node) -> NodeId {
        if let Some(&id) = self.interned.get(&n) {
            return id;
        }
        let n = Rc::new(n);
        self.nodes.push(n.clone());
        self.interned.insert(n, self.nodes.len() - 1);
        self.nodes.len() - 1
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
        let (boxes, domain, axis) = (self.boxes, self.domain, self.large);
        let node = match level {
            0 => {
                // Six protocols: group them by the rules matching each.
                let mut groups: Vec<(ProtoSet, Vec<u32>)> = Vec::new();
                for p in domain.protocols().iter() {
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
                let children = self.children(1, groups);
                Node::Protocols(merge(children, |a, b| a.union(*b)))
            }
            1 => {
                let groups = self
                    .scratch
                    .partition(axis.small(domain), &active, |r| axis.small(&boxes[r as usize]));
                Node::Address(merge(self.children(2, groups), IntervalSet::union))
            }
            2 => {
                let groups = self
                    .scratch
                    .partition(domain.src_ports(), &active, |r| boxes[r as usize].src_ports());
                Node::SrcPorts(merge(self.children(3, groups), IntervalSet::union))
            }
            3 => {
                let groups = self
                    .scratch
                    .partition(domain.dst_ports(), &active, |r| boxes[r as usize].dst_ports());
                Node::DstPorts(merge(self.children(4, groups), IntervalSet::union))
            }
            _ => {
                let universe = axis.large(domain);
                Node::Leaf(self.scratch.paint(universe, &active, |r| axis.large(&boxes[r as usize])))
            }
        };
        let id = self.intern(node);
        self.memo[level].insert(active, id);
        id
    }

    fn children<S>(&mut self, level: usize, groups: Vec<(S, Vec<u32>)>) -> Vec<(S, NodeId)> {
        groups.into_iter().map(|(s, sub)| (s, self.build(level, sub))).collect()
    }

    fn flatten(&self, id: NodeId, path: &mut Path, ids: &[usize], out: &mut Vec<Region>) {
        match &*self.nodes[id] {
            Node::Protocols(groups) => {
                for (s, child) in groups {
                    path.protocols = *s;
                    self.flatten(*child, path, ids, out);
                }
            }
            Node::Address(groups) => {
                for (s, child) in groups {
                    path.small = s.clone();
                    self.flatten(*child, path, ids, out);
                }
            }
            Node::SrcPorts(groups) => {
                for (s, child) in groups {
                    path.src_ports = s.clone();
                    self.flatten(*child, path, ids, out);
                }
            }
            Node::DstPorts(groups) => {
                for (s, child) in groups {
                    path.dst_ports = s.clone();
                    self.flatten(*child, path, ids, out);
                }
            }
            Node::Leaf(painted) => {
                for (set, (first, second)) in painted {
                    let (src, dst) = match self.large {
                        Axis::Src => (set.clone(), path.small.clone()),
                        Axis::Dst => (path.small.clone(), set.clone()),
                    };
                    // Rule boxes hold the portless invariant, so an atom with a portless protocol
                    // always sits under full port sets.
                    let flows = FlowBox::from_raw(path.protocols, src, path.src_ports.clone(), dst, path.dst_ports.clone());
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

/// Joins the groups that lead to the same child (their sets are disjoint atoms of one dimension).
fn merge<S>(groups: Vec<(S, NodeId)>, union: impl Fn(&S, &S) -> S) -> Vec<(S, NodeId)> {
    let mut out: Vec<(S, NodeId)> = Vec::with_capacity(groups.len());
    let mut index: FxMap<NodeId, usize> = FxMap::default();
    for (s, child) in groups {
        match index.get(&child) {
            Some(&i) => out[i].0 = union(&out[i].0, &s),
            None => {
                index.insert(child, out.len());
                out.push((s, child));
            }
        }
    }
    out
}

/// The small-dimension sets on the way down to a leaf.
struct Path {
    protocols: ProtoSet,
    small: IntervalSet<u32>,
    src_ports: IntervalSet<u16>,
    dst_ports: IntervalSet<u16>,
}

thread_local! { static STAT: std::cell::RefCell<(usize,usize,usize,usize)> = Default::default(); }
