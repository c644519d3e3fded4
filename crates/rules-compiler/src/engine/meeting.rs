//! Which regions of an evaluation a box may meet, without testing every region.
//!
//! The decision tree cuts its first dimension (after the protocols) into atoms, and every region
//! lies below exactly one atom: the regions below one atom are consecutive (a "run"). Within one
//! protocol group the atoms are disjoint, so their intervals, sorted, can be searched. A box
//! then only needs testing against the regions of the atoms its own set meets in that dimension:
//! a shadowed rule's few prefixes reach a few atoms instead of every region of a large NSG.

use std::ops::Range;

use super::evaluate::Region;
use super::flows::{FlowBox, ProtoSet, Span};
use super::intervals::IntervalSet;

/// The atoms of one level-1 node, as its sweep found them: segments `(group, lo, hi)` in value
/// order, numbered by the sweep's groups, and where each went when groups were merged.
#[derive(Debug, Clone, Default)]
pub(crate) struct Atoms {
    pub segments: Vec<(u32, u64, u64)>,
    pub slot: Vec<usize>,
}

/// The regions below each atom of the first cut dimension (index in `coded` order): per
/// protocol group, the index of its first run and its atoms (the node's groups are its runs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Runs {
    pub dim: usize,
    pub runs: Vec<Range<usize>>,
    pub layers: Vec<(ProtoSet, u32, Atoms)>,
}

/// One protocol group's atoms: their intervals `(lo, hi, run)`, disjoint and ascending.
type Layer = (ProtoSet, Vec<(u32, u32, u32)>);

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

#[derive(Debug, Clone)]
pub(crate) struct RegionIndex {
    dim: usize,
    runs: Vec<Range<usize>>,
    /// `None` if some protocol group's atoms overlap (never from the tree): test every region.
    layers: Option<Vec<Layer>>,
    /// Each region's span, compared before the exact test.
    spans: Vec<Span>,
}

impl RegionIndex {
    pub(crate) fn new(runs: &Runs, regions: &[Region]) -> Self {
        let layers: Vec<Layer> = runs
            .layers
            .iter()
            .map(|(protocols, first_run, atoms)| {
                let mut entries: Vec<(u32, u32, u32)> = Vec::with_capacity(atoms.segments.len());
                for &(o, lo, hi) in &atoms.segments {
                    // Bounds fit: the coding is u32.
                    let (lo, hi, run) = (lo as u32, hi as u32, first_run + atoms.slot[o as usize] as u32);
                    match entries.last_mut() {
                        Some(last) if last.2 == run && u64::from(last.1) + 1 == u64::from(lo) => last.1 = hi,
                        _ => entries.push((lo, hi, run)),
                    }
                }
                (*protocols, entries)
            })
            .collect();
        // The tree guarantees both; were either broken, every region is tested instead.
        let disjoint = layers.iter().all(|(_, e)| e.windows(2).all(|w| w[0].1 < w[1].0));
        let covered = runs.runs.iter().map(Range::len).sum::<usize>() == regions.len();
        debug_assert!(
            disjoint && covered,
            "atoms of one protocol group are disjoint, every region below one"
        );
        RegionIndex {
            dim: runs.dim,
            runs: runs.runs.clone(),
            layers: (disjoint && covered).then_some(layers),
            spans: regions.iter().map(|r| Span::of(&r.flows)).collect(),
        }
    }

    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Calls `visit` with every region that may meet `b` (every region that does), each once.
    /// `marks` has `runs()` entries, none equal to `stamp` (a value new to this box).
    pub(crate) fn candidates(&self, b: &FlowBox, marks: &mut [u32], stamp: u32, mut visit: impl FnMut(usize)) {
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
        for (protocols, entries) in layers {
            if protocols.intersection(b.protocols()).is_empty() {
                continue;
            }
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
