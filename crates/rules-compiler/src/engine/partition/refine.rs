//! A partition read off a kept one. A fleet's environments cut the same service tags (thousands
//! of intervals) together with a few sets of their own (an address space, a DNS server): the cut
//! of the tags alone is kept (`Base`), and each environment splits its segments at its own sets'
//! bounds instead of sweeping the tags again. The result is the full sweep's, group for group
//! and segment for segment (tested against it).

use super::{Scratch, GROUP_BITS, GROUP_MASK, NONE};
use crate::engine::intervals::IntervalSet;

/// A partition kept for refining: each output group's set and rules, and the segments in value
/// order.
pub(crate) struct Base {
    sets: Vec<IntervalSet<u32>>,
    rules: Vec<Vec<u32>>,
    segments: Vec<(u32, u64, u64)>,
}

/// Output groups of a refinement, numbered in order of first appearance: `(base group, local
/// sets covering)`, with the rules of both and of the sets covering the whole universe.
struct Outputs<'b> {
    base: &'b Base,
    /// Rules of the sets covering the whole universe, in every group.
    everywhere: Vec<u32>,
    keys: Vec<(u32, u64)>,
    /// Per covering met so far, the output group of each base group (`NONE`: not met yet).
    tables: Vec<(u64, Vec<u32>)>,
}

impl Outputs<'_> {
    /// The table of `covering`, made on first use.
    fn table(&mut self, covering: u64) -> usize {
        self.tables.iter().position(|(c, _)| *c == covering).unwrap_or_else(|| {
            self.tables.push((covering, vec![NONE; self.base.rules.len()]));
            self.tables.len() - 1
        })
    }

    /// Maps `segments` (all under one covering, table `t`) to their output groups, appended to
    /// `out`. The hot loop of a refinement: a fleet walks thousands of tag segments per cut.
    #[inline]
    fn map_into(&mut self, t: usize, segments: &[(u32, u64, u64)], out: &mut Vec<(u32, u64, u64)>) {
        let (covering, table) = &mut self.tables[t];
        for &(g, lo, hi) in segments {
            let o = &mut table[g as usize];
            if *o == NONE {
                *o = self.keys.len() as u32;
                self.keys.push((g, *covering));
            }
            out.push((*o, lo, hi));
        }
    }

    /// Per output group, whether its base group's segments went to more than one output group
    /// (got different coverings): its set is then rebuilt from its pieces, else shared.
    fn mixed(&self) -> Vec<bool> {
        let mut outputs_of = vec![0u8; self.base.rules.len()];
        for &(g, _) in &self.keys {
            outputs_of[g as usize] = outputs_of[g as usize].saturating_add(1);
        }
        self.keys.iter().map(|&(g, _)| outputs_of[g as usize] > 1).collect()
    }

    /// The rules of output group `o`, ascending.
    fn rules(&self, scratch: &Scratch, local: &[u32], o: usize) -> Vec<u32> {
        let (g, covering) = self.keys[o];
        let mut rules = self.base.rules[g as usize].clone();
        rules.extend_from_slice(&self.everywhere);
        for b in (0..64).filter(|b| covering & (1 << b) != 0) {
            rules.extend_from_slice(scratch.group_rules(local[b as usize]));
        }
        rules.sort_unstable();
        rules
    }
}

impl Scratch {
    /// [`Scratch::partition`] kept as a [`Base`].
    pub(crate) fn partition_base<'a>(
        &mut self,
        universe: &IntervalSet<u32>,
        active: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<u32>),
    ) -> Base {
        let (sets, rules) = self.partition(universe, active, set_of).into_iter().unzip();
        Base {
            sets,
            rules,
            segments: self.segments.clone(),
        }
    }

    /// What [`Scratch::partition`] returns, and leaves as its segments, for the rules of `base`
    /// and `small` together, `base` being the partition of `universe` by the others (ascending,
    /// like `small`); `None` when more than 64 of `small`'s distinct sets are local (cover only
    /// part of the universe).
    ///
    /// Sets covering the whole universe add their rules to every group and cut nothing. The local
    /// ones (an address space, a DNS server, `Internet`) cut the segments they meet. Between two
    /// local bounds the covering is constant, so the base segments there map through one table;
    /// a base group whose segments all get one covering keeps its set, shared.
    pub(crate) fn refine<'a>(
        &mut self,
        base: &Base,
        universe: &IntervalSet<u32>,
        small: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<u32>),
    ) -> Option<Vec<(IntervalSet<u32>, Vec<u32>)>> {
        let sets = self.group(small, &set_of);
        let mut outputs = Outputs {
            base,
            everywhere: Vec::new(),
            keys: Vec::new(),
            tables: Vec::new(),
        };
        // Small set-groups by kind: `local[b]` is the set-group of covering bit `b`.
        let mut local: Vec<u32> = Vec::new();
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        for (g, s) in sets.iter().enumerate() {
            if universe.is_subset(s) {
                outputs.everywhere.extend_from_slice(self.group_rules(g as u32));
                continue;
            }
            let bit = local.len() as u64;
            local.push(g as u32);
            for &(lo, hi) in s.intervals() {
                events.push(u64::from(lo) << GROUP_BITS | bit);
                events.push((u64::from(hi) + 1) << GROUP_BITS | bit);
            }
        }
        // A covering is a mask of 64 bits.
        if local.len() > 64 {
            self.events = events;
            return None;
        }
        events.sort_unstable();
        let position = |e: u64| e >> GROUP_BITS;

        // Between two local bounds the covering is constant: the base segments there map whole
        // through one table; a segment holding a bound is cut into pieces.
        let mut segments = std::mem::take(&mut self.segments);
        segments.clear();
        segments.reserve(base.segments.len() + events.len());
        let (mut covering, mut k, mut i) = (0u64, 0, 0);
        let mut t = outputs.table(covering);
        let n = base.segments.len();
        while i < n {
            let next = events.get(k).map_or(u64::MAX, |&e| position(e));
            // The segments ending before the next bound map whole.
            let whole = i + base.segments[i..].partition_point(|s| s.2 < next);
            outputs.map_into(t, &base.segments[i..whole], &mut segments);
            i = whole;
            if i == n {
                break;
            }
            let (g, lo, hi) = base.segments[i];
            let mut start = lo;
            // The bounds up to this segment's end: those inside it cut it.
            while k < events.len() && position(events[k]) <= hi {
                let at = position(events[k]);
                if at > start {
                    outputs.map_into(t, &[(g, start, at - 1)], &mut segments);
                    start = at;
                }
                while k < events.len() && position(events[k]) == at {
                    covering ^= 1 << (events[k] & GROUP_MASK);
                    k += 1;
                }
                t = outputs.table(covering);
            }
            outputs.map_into(t, &[(g, start, hi)], &mut segments);
            i += 1;
        }
        self.segments = segments;

        // Base groups kept whole keep their sets. A mixed one's output of covering `c` holds its
        // values where the covering is `c`: its set within that region, a few intervals looked
        // up in the set's many, instead of gathering its pieces from every segment.
        let mixed = outputs.mixed();
        let regions = if mixed.contains(&true) {
            covering_regions(&events)
        } else {
            Vec::new()
        };
        self.events = events;
        Some(
            (0..outputs.keys.len())
                .map(|o| {
                    let (g, covering) = outputs.keys[o];
                    let set = &base.sets[g as usize];
                    let set = if mixed[o] {
                        let region = regions.iter().find(|(c, _)| *c == covering).map(|(_, r)| r);
                        set.intersection(region.expect("every covering met has a region"))
                    } else {
                        set.clone()
                    };
                    (set, outputs.rules(self, &local, o))
                })
                .collect(),
        )
    }
}

/// Where each covering holds, from the local sets' sorted bound events (bit per set): the
/// values between two neighbouring bounds share one covering, 0 before the first.
fn covering_regions(events: &[u64]) -> Vec<(u64, IntervalSet<u32>)> {
    let mut stretches: Vec<(u64, Vec<(u32, u32)>)> = Vec::new();
    let mut add = |covering: u64, lo: u64, hi: u64| {
        // Bounds fit: positions run to 2^32, and a stretch ends one below a position.
        let piece = (lo as u32, hi as u32);
        match stretches.iter_mut().find(|(c, _)| *c == covering) {
            Some((_, v)) => v.push(piece),
            None => stretches.push((covering, vec![piece])),
        }
    };
    let (mut covering, mut from) = (0u64, 0u64);
    let mut k = 0;
    while k < events.len() {
        let at = events[k] >> GROUP_BITS;
        if at > from {
            add(covering, from, at - 1);
        }
        while k < events.len() && events[k] >> GROUP_BITS == at {
            covering ^= 1 << (events[k] & GROUP_MASK);
            k += 1;
        }
        from = at;
    }
    if from <= u64::from(u32::MAX) {
        add(covering, from, u64::from(u32::MAX));
    }
    stretches.into_iter().map(|(c, v)| (c, IntervalSet::from_intervals(v))).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Sets of a few intervals over a small range, of many (a tag's), or everything (`*`).
    fn set() -> impl Strategy<Value = IntervalSet<u32>> {
        prop_oneof![
            4 => prop::collection::vec((0u32..300, 0u32..40), 0..5)
                .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len)))),
            4 => prop::collection::vec((0u32..300, 0u32..3), 20..80)
                .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len)))),
            1 => Just(IntervalSet::full()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Refining the partition by some rules with the others gives the partition by all of
        /// them: the same groups (sets, rule lists, order) and the same segments.
        #[test]
        fn refined_partitions_equal_full_ones(
            candidates in prop::collection::vec(set(), 5),
            picks in prop::collection::vec(0usize..5, 1..12),
            in_base in any::<u16>(),
            universe in prop_oneof![Just(IntervalSet::full()), set()],
        ) {
            let set_of = |r: u32| (picks[r as usize] as u32, &candidates[picks[r as usize]]);
            let all: Vec<u32> = (0..picks.len() as u32).collect();
            // Rules of one set go to the same side, as the tree splits them (by set size).
            let (base_rules, small): (Vec<u32>, Vec<u32>) =
                all.iter().partition(|&&r| in_base & (1 << picks[r as usize]) != 0);
            let mut scratch = Scratch::default();
            let want = scratch.partition(&universe, &all, set_of);
            let want_segments = scratch.take_segments();
            let base = scratch.partition_base(&universe, &base_rules, set_of);
            let got = scratch.refine(&base, &universe, &small, set_of).expect("few sets");
            prop_assert_eq!(got, want);
            prop_assert_eq!(scratch.take_segments(), want_segments);
        }
    }
}
