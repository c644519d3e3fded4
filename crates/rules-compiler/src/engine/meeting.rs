//! Which regions of an evaluation a box may meet, without testing every region.
//!
//! The decision tree cuts its first dimension (after the protocols) into atoms, and every region
//! lies below exactly one atom: the regions below one atom are consecutive (a "run"). Within one
//! protocol group the atoms are disjoint, so their intervals, sorted, can be searched. A box
//! then only needs testing against the regions of the atoms its own set meets in that dimension:
//! a shadowed rule's few prefixes reach a few atoms instead of every region of a large NSG.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::evaluate::Region;
use super::flows::{FlowBox, ProtoSet, Span};
use super::intervals::IntervalSet;

/// The atoms of one level-1 node, as its sweep found them: segments `(group, lo, hi)` in value
/// order, numbered by the sweep's groups, and where each went when groups were merged.
#[derive(Debug, Clone, Default)]
pub(crate) struct Atoms {
    /// Shared: the cut of every rule is also the shared sweep's (see `tree::Shared`).
    pub segments: Arc<Vec<(u32, u64, u64)>>,
    pub slot: Vec<usize>,
    /// Each distinct set of the node's rules and the merged groups (by slot) whose atoms it
    /// covers: a box whose set in this dimension is one of them (a requirement naming the tag a
    /// rule names) meets exactly those, found without walking the atoms.
    pub by_set: Vec<(IntervalSet<u32>, Vec<usize>)>,
}

/// The regions below each atom of the first cut dimension (index in `coded` order): per
/// protocol group, the index of its first run and its atoms (the node's groups are its runs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Runs {
    pub dim: usize,
    pub runs: Vec<Range<usize>>,
    pub layers: Vec<(ProtoSet, u32, Atoms)>,
}

/// A box's set in dimension `d` (source, source ports, destination, destination ports), ports
/// widened to `u32`.
pub(crate) fn coded(b: &FlowBox, d: usize) -> IntervalSet<u32> {
    match d {
        0 => b.src().clone(),
        1 => widen(b.src_ports()),
        2 => b.dst().clone(),
        _ => widen(b.dst_ports()),
    }
}

/// Ports as `u32`, so that every dimension sweeps alike.
pub(crate) fn widen(s: &IntervalSet<u16>) -> IntervalSet<u32> {
    let v: Vec<(u32, u32)> = s.intervals().iter().map(|&(lo, hi)| (u32::from(lo), u32::from(hi))).collect();
    IntervalSet::from_normalized(&v)
}

/// One protocol group's atoms: the runs below each of its rules' sets (see `Atoms::by_set`),
/// and, built on the first box that is not one of those sets, the atoms' intervals `(lo, hi,
/// run)`, disjoint and ascending (`None` if they are not: never from the tree).
#[derive(Debug, Clone)]
struct Layer {
    protocols: ProtoSet,
    first_run: u32,
    by_set: Vec<(IntervalSet<u32>, Vec<u32>)>,
    entries: OnceLock<Option<Vec<(u32, u32, u32)>>>,
}

impl Layer {
    fn entries(&self, atoms: &Atoms) -> Option<&[(u32, u32, u32)]> {
        self.entries
            .get_or_init(|| {
                let mut entries: Vec<(u32, u32, u32)> = Vec::with_capacity(atoms.segments.len());
                for &(o, lo, hi) in atoms.segments.iter() {
                    // Bounds fit: the coding is u32.
                    let (lo, hi, run) = (lo as u32, hi as u32, self.first_run + atoms.slot[o as usize] as u32);
                    match entries.last_mut() {
                        Some(last) if last.2 == run && u64::from(last.1) + 1 == u64::from(lo) => last.1 = hi,
                        _ => entries.push((lo, hi, run)),
                    }
                }
                let disjoint = entries.windows(2).all(|w| w[0].1 < w[1].0);
                debug_assert!(disjoint, "atoms of one protocol group are disjoint");
                disjoint.then_some(entries)
            })
            .as_deref()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RegionIndex {
    dim: usize,
    runs: Vec<Range<usize>>,
    /// `None` if not every region is below one run (never from the tree): test every region.
    layers: Option<Vec<Layer>>,
    /// Each region's span, compared before the exact test.
    spans: Vec<Span>,
}

impl RegionIndex {
    pub(crate) fn new(runs: &Runs, regions: &[Region]) -> Self {
        let layers: Vec<Layer> = runs
            .layers
            .iter()
            .map(|(protocols, first_run, atoms)| Layer {
                protocols: *protocols,
                first_run: *first_run,
                by_set: atoms
                    .by_set
                    .iter()
                    .map(|(set, slots)| (set.clone(), slots.iter().map(|&g| first_run + g as u32).collect()))
                    .collect(),
                entries: OnceLock::new(),
            })
            .collect();
        // The tree guarantees it; were it broken, every region is tested instead.
        let covered = runs.runs.iter().map(Range::len).sum::<usize>() == regions.len();
        debug_assert!(covered, "every region below one run");
        RegionIndex {
            dim: runs.dim,
            runs: runs.runs.clone(),
            layers: covered.then_some(layers),
            spans: regions.iter().map(|r| Span::of(&r.flows)).collect(),
        }
    }

    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Calls `visit` with every region that may meet `b` (every region that does), each once.
    /// `marks` has `runs()` entries, none equal to `stamp` (a value new to this box).
    /// `runs` is what the index was built from.
    pub(crate) fn candidates(&self, runs: &Runs, b: &FlowBox, marks: &mut [u32], stamp: u32, mut visit: impl FnMut(usize)) {
        let span = Span::of(b);
        let Some(layers) = &self.layers else {
            (0..self.spans.len()).filter(|&k| self.spans[k].meets(&span)).for_each(visit);
            return;
        };
        let mut run = |k: u32| {
            if std::mem::replace(&mut marks[k as usize], stamp) != stamp {
                self.runs[k as usize]
                    .clone()
                    .filter(|&k| self.spans[k].meets(&span))
                    .for_each(&mut visit);
            }
        };
        let set = coded(b, self.dim);
        let wanted = set.intervals();
        for (layer, (_, _, atoms)) in layers.iter().zip(&runs.layers) {
            if layer.protocols.intersection(b.protocols()).is_empty() {
                continue;
            }
            // A rule's own set (shared storage makes the comparison one pointer test).
            let own = layer.by_set.iter().find(|(s, _)| s.intervals().len() == wanted.len() && *s == set);
            if let Some((_, below)) = own {
                below.iter().for_each(|&k| run(k));
                continue;
            }
            let Some(entries) = layer.entries(atoms) else {
                // Every run, each once.
                (0..self.runs.len() as u32).for_each(&mut run);
                continue;
            };
            if wanted.len() * 16 < entries.len() {
                // A few intervals (a rule's prefixes): look each up.
                for &(lo, hi) in wanted {
                    // Entries are disjoint, so their `hi` ascend with their `lo`.
                    let from = entries.partition_point(|e| e.1 < lo);
                    entries[from..].iter().take_while(|e| e.0 <= hi).for_each(|e| run(e.2));
                }
            } else {
                // Many (a tag's): walk both lists.
                let mut at = 0;
                for &(lo, hi, k) in entries {
                    while at < wanted.len() && wanted[at].1 < lo {
                        at += 1;
                    }
                    if at == wanted.len() {
                        break;
                    }
                    if wanted[at].0 <= hi {
                        run(k);
                    }
                }
            }
        }
    }
}
