//! One-dimensional sweeps behind the engine: cutting a dimension into atoms by the rules covering
//! them, and first-match "painting" of ordered rules over one dimension.
//!
//! Rules are named by their position in the engine's priority-ordered list (`u32`), so the
//! ascending list of rules covering a value starts with the one that decides it.
//!
//! Each rule's set comes with an id, equal ids meaning equal sets (a tag such as `VirtualNetwork`
//! used by many rules): the sweep walks each distinct set once, as a group of rules, instead of
//! once per rule. A set's intervals are already sorted, so its events are a sorted run and the
//! sort of all events is a merge of runs.

use super::fxhash::FxMap;
use super::intervals::{Bound, IntervalSet};

mod refine;
pub(crate) use refine::Base;

/// No group (an unused slot of `group_of`, an absent rule).
const NONE: u32 = u32::MAX;

/// Events pack the group below the position: `position << GROUP_BITS | group`. Positions go up
/// to `T::MAX + 1 <= 2^32`, so 31 bits remain for groups.
const GROUP_BITS: u32 = 31;
const GROUP_MASK: u64 = (1 << GROUP_BITS) - 1;

/// Buffers reused across sweeps (the engine runs thousands of small ones).
#[derive(Default)]
pub(crate) struct Scratch {
    /// The group of each set id during a sweep (`NONE` otherwise), indexed by set id.
    group_of: Vec<u32>,
    /// The set id of each group.
    group_ids: Vec<u32>,
    /// The group of each active rule, in `active` order.
    rule_group: Vec<u32>,
    /// Rules of group `g`, ascending: `rules[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
    rules: Vec<u32>,
    /// `position << GROUP_BITS | group`; each event toggles its group (a set's intervals are
    /// disjoint and non-adjacent, so a group has at most one event per position).
    events: Vec<u64>,
    /// The groups covering the current segment, one bit each. Groups are numbered in the order
    /// of their first rules, so the lowest bit holds the first covering rule.
    covering: Vec<u64>,
    /// (output group, lo, hi) per segment inside the universe, ascending.
    segments: Vec<(u32, u64, u64)>,
    /// Output group by key: the covering word itself when one word holds every group, else a
    /// hash of the words (the latest output group with that hash; `chain` links earlier ones).
    index: FxMap<u64, u32>,
    chain: Vec<u32>,
    /// The covering words of each output group (partitions only).
    keys: Vec<u64>,
    /// First and second covering rule of each output group (paints only).
    pairs: Vec<(u32, u32)>,
    /// Segments counted and placed by output group.
    offsets: Vec<u32>,
    fill: Vec<u32>,
    placed: Vec<(u64, u64)>,
    /// One-word keys seen this sweep with their output groups, by a hash of the word:
    /// `(word, output group, sweep)`, a slot counting only when its sweep is `sweep`.
    recent: Vec<(u64, u32, u32)>,
    /// The current sweep's number (see `recent`).
    sweep: u32,
}

/// Values of a dimension with their first and second covering rule.
pub(crate) type Painted<T> = (IntervalSet<T>, (Option<u32>, Option<u32>));

/// What values are grouped by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// The whole list of covering rules.
    Covering,
    /// The first two covering rules.
    FirstTwo,
}

/// Slots of `Scratch::recent`.
const RECENT: usize = 64;

/// The slot of a one-word key in `Scratch::recent` (Fibonacci hashing: the top bits of the
/// product).
fn recent_slot(word: u64) -> usize {
    (word.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT.trailing_zeros())) as usize
}

/// A fixed pseudo-random word per group: the hash of a set of groups is the xor of its members',
/// updated by one xor whenever a group starts or stops covering.
fn zobrist(g: u64) -> u64 {
    // splitmix64's finaliser.
    let mut z = g.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn opt(r: u32) -> Option<u32> {
    (r != NONE).then_some(r)
}

/// The set bits of `words`, ascending.
fn bits(words: &[u64]) -> impl Iterator<Item = u32> + '_ {
    words.iter().enumerate().flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let b = rest.trailing_zeros();
                rest &= rest - 1;
                w as u32 * 64 + b
            })
        })
    })
}

/// A stable counting sort of `(key, item)` pairs, keys below `keys`: `out` gets the items by key,
/// those of key `k` at `out[offsets[k]..offsets[k + 1]]` in their given order. `fill` is scratch.
fn counting_sort<I: Copy + Default>(
    pairs: impl Iterator<Item = (u32, I)> + Clone,
    keys: usize,
    offsets: &mut Vec<u32>,
    fill: &mut Vec<u32>,
    out: &mut Vec<I>,
) {
    offsets.clear();
    offsets.resize(keys + 1, 0);
    for (k, _) in pairs.clone() {
        offsets[k as usize + 1] += 1;
    }
    for k in 0..keys {
        offsets[k + 1] += offsets[k];
    }
    out.clear();
    out.resize(offsets[keys] as usize, I::default());
    fill.clear();
    fill.extend_from_slice(&offsets[..keys]);
    for (k, item) in pairs {
        out[fill[k as usize] as usize] = item;
        fill[k as usize] += 1;
    }
}

thread_local! {
    /// The scratch of this thread's last decision structure, so the next one starts with buffers
    /// already grown (a fleet evaluates two directions per environment, thousands of times).
    static SPARE: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

impl Scratch {
    /// This thread's spare scratch, or a new one.
    pub(crate) fn take_spare() -> Scratch {
        SPARE.take().unwrap_or_default()
    }

    /// Keeps `self` as this thread's spare scratch.
    pub(crate) fn keep_spare(self) {
        SPARE.set(Some(self));
    }

    /// Groups the rules of `active` by set id, groups numbered in order of first appearance, and
    /// returns each group's set.
    fn group<'a, T: Bound + 'a>(&mut self, active: &[u32], set_of: &impl Fn(u32) -> (u32, &'a IntervalSet<T>)) -> Vec<&'a IntervalSet<T>> {
        assert!(active.len() < GROUP_MASK as usize, "fewer than 2^31 rules");
        let mut sets = Vec::new();
        self.group_ids.clear();
        self.rule_group.clear();
        for &r in active {
            let (id, set) = set_of(r);
            let slot = id as usize;
            if slot >= self.group_of.len() {
                self.group_of.resize(slot + 1, NONE);
            }
            if self.group_of[slot] == NONE {
                self.group_of[slot] = sets.len() as u32;
                self.group_ids.push(id);
                sets.push(set);
            }
            self.rule_group.push(self.group_of[slot]);
        }
        for &id in &self.group_ids {
            self.group_of[id as usize] = NONE;
        }
        // Rules by group, kept ascending within each.
        counting_sort(
            self.rule_group.iter().copied().zip(active.iter().copied()),
            sets.len(),
            &mut self.starts,
            &mut self.fill,
            &mut self.rules,
        );
        sets
    }

    fn group_rules(&self, g: u32) -> &[u32] {
        &self.rules[self.starts[g as usize] as usize..self.starts[g as usize + 1] as usize]
    }

    /// The output group of the current segment, created on first sight; `hash` is the xor of
    /// the covering groups' `zobrist` words. Inlined into the sweep's loop, with the map's path
    /// out of line: a call per segment cost about 40 instructions, most of them spills.
    #[inline(always)]
    fn output_group(&mut self, key: Key, hash: u64) -> u32 {
        // A tag's segments alternate among a handful of keys: a slot per hashed word answers
        // most of them without a call or the map.
        if key == Key::Covering && self.covering.len() == 1 {
            let word = self.covering[0];
            let (w, o, sweep) = self.recent[recent_slot(word)];
            if w == word && sweep == self.sweep {
                return o;
            }
        }
        self.new_output_group(key, hash)
    }

    /// [`Scratch::output_group`] past the recent keys.
    #[inline(never)]
    fn new_output_group(&mut self, key: Key, hash: u64) -> u32 {
        if key == Key::FirstTwo {
            let mut covering = bits(&self.covering);
            let pair = match (covering.next(), covering.next()) {
                (None, _) => (NONE, NONE),
                (Some(g), next) => {
                    let first = self.group_rules(g);
                    let later = [first.get(1).copied(), next.map(|h| self.group_rules(h)[0])];
                    (first[0], later.into_iter().flatten().min().unwrap_or(NONE))
                }
            };
            let packed = u64::from(pair.0) << 32 | u64::from(pair.1);
            let next_out = self.pairs.len() as u32;
            return *self.index.entry(packed).or_insert_with(|| {
                self.pairs.push(pair);
                next_out
            });
        }
        let words = self.covering.len();
        if words == 1 {
            // The word is the key: no hash to check.
            let word = self.covering[0];
            let next_out = self.chain.len() as u32;
            let o = *self.index.entry(word).or_insert_with(|| {
                self.chain.push(NONE);
                self.keys.push(word);
                next_out
            });
            self.recent[recent_slot(word)] = (word, o, self.sweep);
            return o;
        }
        let mut o = self.index.get(&hash).copied().unwrap_or(NONE);
        while o != NONE {
            let at = o as usize * words;
            if self.keys[at..at + words] == self.covering[..] {
                return o;
            }
            o = self.chain[o as usize];
        }
        let o = self.chain.len() as u32;
        self.chain.push(self.index.insert(hash, o).unwrap_or(NONE));
        self.keys.extend_from_slice(&self.covering);
        o
    }

    /// Sweeps `universe`, grouping its values by `key` of the rules of `active` covering them,
    /// and leaves per output group its segments in `placed[offsets[o]..offsets[o + 1]]`,
    /// ascending. Output groups come in order of first appearance (ascending values).
    fn sweep<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<T>),
        key: Key,
    ) -> usize {
        let sets = self.group(active, &set_of);
        let universe_group = sets.len() as u64;
        self.events.clear();
        let bounds: usize = sets.iter().chain([&universe]).map(|s| s.intervals().len()).sum();
        self.events.reserve(2 * bounds);
        for (g, s) in sets.iter().copied().chain([universe]).enumerate() {
            for &(lo, hi) in s.intervals() {
                self.events.push(lo.to_u64() << GROUP_BITS | g as u64);
                self.events.push((hi.to_u64() + 1) << GROUP_BITS | g as u64);
            }
        }
        // One sorted run per set: the stable sort merges runs instead of sorting from scratch.
        self.events.sort();

        self.index.clear();
        // A new sweep number empties `recent` (cleared only when the numbers wrap).
        self.recent.resize(RECENT, (0, NONE, 0));
        self.sweep = self.sweep.wrapping_add(1);
        if self.sweep == 0 {
            self.recent.fill((0, NONE, 0));
            self.sweep = 1;
        }
        self.chain.clear();
        self.keys.clear();
        self.pairs.clear();
        self.covering.clear();
        self.covering.resize(sets.len().div_ceil(64).max(1), 0);
        self.segments.clear();
        // One segment per distinct position at most: a level-1 sweep's segments are taken away,
        // so the next sweep would otherwise grow a new list by doubling.
        self.segments.reserve(self.events.len());
        let multiword = self.covering.len() > 1;
        let (mut inside, mut hash) = (false, 0u64);
        let mut i = 0;
        let n = self.events.len();
        while i < n {
            let pos = self.events[i] >> GROUP_BITS;
            while i < n && self.events[i] >> GROUP_BITS == pos {
                let g = self.events[i] & GROUP_MASK;
                if g == universe_group {
                    inside = !inside;
                } else {
                    self.covering[(g / 64) as usize] ^= 1 << (g % 64);
                    if multiword {
                        hash ^= zobrist(g);
                    }
                }
                i += 1;
            }
            // The segment up to the next event; nothing is covered past the last one.
            if inside && i < n {
                let o = self.output_group(key, hash);
                self.segments.push((o, pos, (self.events[i] >> GROUP_BITS) - 1));
            }
        }

        // Place the segments by output group, kept ascending in each.
        let groups = if key == Key::FirstTwo { self.pairs.len() } else { self.chain.len() };
        counting_sort(
            self.segments.iter().map(|&(o, lo, hi)| (o, (lo, hi))),
            groups,
            &mut self.offsets,
            &mut self.fill,
            &mut self.placed,
        );
        groups
    }

    /// The segments of the last sweep, ascending: `(output group, lo, hi)`, output groups
    /// numbered as the sweep returned them. Taken, not copied (the next sweep starts afresh).
    pub(crate) fn take_segments(&mut self) -> Vec<(u32, u64, u64)> {
        std::mem::take(&mut self.segments)
    }

    /// The intervals of output group `o` as a set (neighbouring segments joined); `merged` is
    /// scratch.
    fn output_set<T: Bound>(&self, o: usize, merged: &mut Vec<(T, T)>) -> IntervalSet<T> {
        merged.clear();
        for &(lo, hi) in &self.placed[self.offsets[o] as usize..self.offsets[o + 1] as usize] {
            match merged.last_mut() {
                Some(last) if last.1.to_u64() + 1 == lo => last.1 = T::from_u64(hi),
                _ => merged.push((T::from_u64(lo), T::from_u64(hi))),
            }
        }
        IntervalSet::from_normalized(merged)
    }

    /// Cuts `universe` into groups of values covered by the same sub-list of `active` (in the
    /// order of `active`, which must be ascending). The groups partition `universe`; a group's
    /// list may be empty. `set_of(r)` is rule `r`'s set and an id equal only for equal sets.
    pub(crate) fn partition<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<T>),
    ) -> Vec<(IntervalSet<T>, Vec<u32>)> {
        let groups = self.sweep(universe, active, set_of, Key::Covering);
        T::with_buffer(|merged| {
            (0..groups)
                .map(|o| {
                    let words = self.covering.len();
                    let mut rules: Vec<u32> = bits(&self.keys[o * words..(o + 1) * words])
                        .flat_map(|g| self.group_rules(g))
                        .copied()
                        .collect();
                    rules.sort_unstable();
                    (self.output_set(o, merged), rules)
                })
                .collect()
        })
    }

    /// The first and second rule of `active` (ascending) covering each value of `universe`:
    /// groups of values with the same `(first, second)`. `set_of` as for [`Scratch::partition`].
    pub(crate) fn paint<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> (u32, &'a IntervalSet<T>),
    ) -> Vec<Painted<T>> {
        let groups = self.sweep(universe, active, set_of, Key::FirstTwo);
        T::with_buffer(|merged| {
            (0..groups)
                .map(|o| {
                    let (a, b) = self.pairs[o];
                    (self.output_set(o, merged), (opt(a), opt(b)))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Each rule its own id.
    fn own<'a>(sets: &'a [IntervalSet<u8>]) -> impl Fn(u32) -> (u32, &'a IntervalSet<u8>) {
        |r| (r, &sets[r as usize])
    }

    #[test]
    fn paint_records_first_and_second() {
        let sets = [
            IntervalSet::<u8>::interval(10, 20),
            IntervalSet::interval(15, 30),
            IntervalSet::interval(0, 255),
        ];
        let got = Scratch::default().paint(&IntervalSet::interval(0, 40), &[0, 1, 2], own(&sets));
        let want = vec![
            (IntervalSet::from_intervals([(0, 9), (31, 40)]), (Some(2), None)),
            (IntervalSet::interval(10, 14), (Some(0), Some(2))),
            (IntervalSet::interval(15, 20), (Some(0), Some(1))),
            (IntervalSet::interval(21, 30), (Some(1), Some(2))),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn partition_groups_equal_lists() {
        let sets = [IntervalSet::<u8>::from_intervals([(0, 4), (10, 14)]), IntervalSet::interval(12, 20)];
        let got = Scratch::default().partition(&IntervalSet::interval(0, 20), &[0, 1], own(&sets));
        let want = vec![
            (IntervalSet::from_intervals([(0, 4), (10, 11)]), vec![0]),
            (IntervalSet::interval(5, 9), vec![]),
            (IntervalSet::interval(12, 14), vec![0, 1]),
            (IntervalSet::interval(15, 20), vec![1]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn universe_limits_the_groups() {
        let sets = [IntervalSet::<u8>::interval(0, 255)];
        let universe = IntervalSet::from_intervals([(3, 5), (250, 255)]);
        let got = Scratch::default().paint(&universe, &[0], own(&sets));
        assert_eq!(got, vec![(universe, (Some(0), None))]);
    }

    #[test]
    fn shared_sets_keep_every_rule() {
        // Rules 0 and 2 share one set (one id): both are listed wherever it covers, in order.
        let sets = [IntervalSet::<u8>::interval(5, 9), IntervalSet::interval(0, 6)];
        let ids = [7, 3, 7];
        let set_of = |r: u32| (ids[r as usize], &sets[(r % 2) as usize]);
        let universe = IntervalSet::interval(0, 12);
        let got = Scratch::default().partition(&universe, &[0, 1, 2], set_of);
        let want = vec![
            (IntervalSet::interval(0, 4), vec![1]),
            (IntervalSet::interval(5, 6), vec![0, 1, 2]),
            (IntervalSet::interval(7, 9), vec![0, 2]),
            (IntervalSet::interval(10, 12), vec![]),
        ];
        assert_eq!(got, want);
        let got = Scratch::default().paint(&universe, &[1, 2], set_of);
        let want = vec![
            (IntervalSet::interval(0, 4), (Some(1), None)),
            (IntervalSet::interval(5, 6), (Some(1), Some(2))),
            (IntervalSet::interval(7, 9), (Some(2), None)),
            (IntervalSet::interval(10, 12), (None, None)),
        ];
        assert_eq!(got, want);
    }

    /// Candidate sets, rules as (candidate, whether it gets an id of its own), the universe.
    type Case = (Vec<IntervalSet<u8>>, Vec<(usize, bool)>, IntervalSet<u8>);

    /// Up to 12 rules over `u8`, each set drawn from 4 candidates (so sets repeat), the id being
    /// the candidate's index or, for some rules, an id of their own.
    fn case() -> impl Strategy<Value = Case> {
        let set = || {
            prop::collection::vec((any::<u8>(), 0u8..40), 0..6)
                .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo.saturating_add(len)))))
        };
        (
            prop::collection::vec(set(), 4),
            prop::collection::vec((0usize..4, any::<bool>()), 0..12),
            set(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Every value of `u8` against the definition: the ascending list of covering rules.
        #[test]
        fn sweeps_match_every_value((candidates, picks, universe) in case(), skip in any::<u16>()) {
            let sets: Vec<&IntervalSet<u8>> = picks.iter().map(|&(c, _)| &candidates[c]).collect();
            let ids: Vec<u32> = picks.iter().enumerate().map(|(r, &(c, own))| if own { 100 + r as u32 } else { c as u32 }).collect();
            // Any ascending sub-list of the rules may be active.
            let active: Vec<u32> = (0..picks.len() as u32).filter(|r| skip & (1 << r) == 0).collect();
            let set_of = |r: u32| (ids[r as usize], sets[r as usize]);
            let mut scratch = Scratch::default();
            let parts = scratch.partition(&universe, &active, set_of);
            let painted = scratch.paint(&universe, &active, set_of);
            let mut lists = std::collections::BTreeSet::new();
            for v in 0..=255u8 {
                let covering: Vec<u32> = active.iter().copied().filter(|&r| sets[r as usize].contains(v)).collect();
                let holding: Vec<_> = parts.iter().filter(|(s, _)| s.contains(v)).collect();
                let painted_at: Vec<_> = painted.iter().filter(|(s, _)| s.contains(v)).collect();
                if universe.contains(v) {
                    prop_assert_eq!(holding.len(), 1);
                    prop_assert_eq!(&holding[0].1, &covering);
                    prop_assert_eq!(painted_at.len(), 1);
                    prop_assert_eq!(painted_at[0].1, (covering.first().copied(), covering.get(1).copied()));
                } else {
                    prop_assert!(holding.is_empty() && painted_at.is_empty());
                }
            }
            // One group per distinct list, and per distinct pair.
            for (_, l) in &parts {
                prop_assert!(lists.insert(l.clone()), "list {:?} twice", l);
            }
            let pairs: std::collections::BTreeSet<_> = painted.iter().map(|(_, k)| *k).collect();
            prop_assert_eq!(pairs.len(), painted.len());
            // Groups in order of first appearance.
            let firsts: Vec<u8> = parts.iter().map(|(s, _)| s.intervals()[0].0).collect();
            prop_assert!(firsts.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
