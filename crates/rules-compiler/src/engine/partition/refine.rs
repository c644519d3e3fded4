//! A partition read off a kept one. A fleet's environments cut the same service tags (thousands
//! of intervals) together with a few sets of their own (an address space, a DNS server): the cut
//! of the tags alone is kept (`Base`), and each environment splits its segments at its own sets'
//! bounds instead of sweeping the tags again. The result is the full sweep's, group for group
//! and segment for segment (tested against it).

use super::{counting_sort, Scratch, GROUP_BITS, GROUP_MASK, NONE};
use crate::engine::intervals::{Bound, IntervalSet};

/// A partition kept for refining: each output group's rules, and its segments in value order.
pub(crate) struct Base {
    rules: Vec<Vec<u32>>,
    segments: Vec<(u32, u64, u64)>,
}

/// Slots of the table from `(base group, covering small sets)` to output group.
const SLOTS: usize = 64;

fn slot(group: u32, covering: u64) -> usize {
    let key = covering.rotate_left(17) ^ u64::from(group);
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

impl Scratch {
    /// [`Scratch::partition`] kept as a [`Base`].
    pub(crate) fn partition_base<'a>(
        &mut self,
        universe: &IntervalSet<u32>,
        active: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<u32>),
    ) -> Base {
        let groups = self.partition(universe, active, set_of);
        Base {
            rules: groups.into_iter().map(|(_, rules)| rules).collect(),
            segments: self.segments.clone(),
        }
    }

    /// What [`Scratch::partition`] returns, and leaves as its segments, for the rules of `base`
    /// and `small` together, `base` being the partition of the same universe by the others
    /// (ascending, like `small`); `None` when `small` has more than 64 distinct sets.
    pub(crate) fn refine<'a>(
        &mut self,
        base: &Base,
        small: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<u32>),
    ) -> Option<Vec<(IntervalSet<u32>, Vec<u32>)>> {
        let sets = self.group(small, &set_of);
        if sets.len() > 64 {
            return None;
        }
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        for (g, s) in sets.iter().enumerate() {
            for &(lo, hi) in s.intervals() {
                events.push(u64::from(lo) << GROUP_BITS | g as u64);
                events.push((u64::from(hi) + 1) << GROUP_BITS | g as u64);
            }
        }
        events.sort_unstable();
        let position = |e: u64| e >> GROUP_BITS;

        // Output groups by (base group, small sets covering) in order of first appearance.
        let mut table = [(NONE, 0u64, NONE); SLOTS];
        let mut keys: Vec<(u32, u64)> = Vec::new();
        let mut lists: Vec<Vec<u32>> = Vec::new();
        let mut output = |this: &Scratch, g: u32, covering: u64| -> u32 {
            let at = slot(g, covering);
            let (tg, tc, o) = table[at];
            if tg == g && tc == covering {
                return o;
            }
            let o = match keys.iter().position(|&k| k == (g, covering)) {
                Some(o) => o as u32,
                None => {
                    let mut rules = base.rules[g as usize].clone();
                    for b in (0..64).filter(|b| covering & (1 << b) != 0) {
                        rules.extend_from_slice(this.group_rules(b));
                    }
                    rules.sort_unstable();
                    keys.push((g, covering));
                    lists.push(rules);
                    (keys.len() - 1) as u32
                }
            };
            table[at] = (g, covering, o);
            o
        };

        let mut segments = std::mem::take(&mut self.segments);
        segments.clear();
        segments.reserve(base.segments.len() + events.len());
        let (mut covering, mut k) = (0u64, 0);
        for &(g, lo, hi) in &base.segments {
            while k < events.len() && position(events[k]) <= lo {
                covering ^= 1 << (events[k] & GROUP_MASK);
                k += 1;
            }
            let mut start = lo;
            while k < events.len() && position(events[k]) <= hi {
                let at = position(events[k]);
                segments.push((output(self, g, covering), start, at - 1));
                while k < events.len() && position(events[k]) == at {
                    covering ^= 1 << (events[k] & GROUP_MASK);
                    k += 1;
                }
                start = at;
            }
            segments.push((output(self, g, covering), start, hi));
        }
        self.events = events;
        self.segments = segments;

        let groups = lists.len();
        counting_sort(
            self.segments.iter().map(|&(o, lo, hi)| (o, (lo, hi))),
            groups,
            &mut self.offsets,
            &mut self.fill,
            &mut self.placed,
        );
        Some(u32::with_buffer(|merged| {
            lists
                .into_iter()
                .enumerate()
                .map(|(o, rules)| (self.output_set(o, merged), rules))
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Sets of a few intervals over a small range, or of many (a tag's).
    fn set() -> impl Strategy<Value = IntervalSet<u32>> {
        prop_oneof![
            prop::collection::vec((0u32..300, 0u32..40), 0..5),
            prop::collection::vec((0u32..300, 0u32..3), 20..80),
        ]
        .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len))))
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
            let got = scratch.refine(&base, &small, set_of).expect("few sets");
            prop_assert_eq!(got, want);
            prop_assert_eq!(scratch.take_segments(), want_segments);
        }
    }
}
