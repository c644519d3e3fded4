//! One-dimensional sweeps behind the engine: cutting a dimension into atoms by the rules covering
//! them, and first-match "painting" of ordered rules over one dimension.
//!
//! Rules are named by their position in the engine's priority-ordered list (`u32`), so the
//! ascending list of rules covering a value starts with the one that decides it.

use super::fxhash::FxMap;
use super::intervals::{Bound, IntervalSet};

/// Buffers reused across sweeps (the engine runs thousands of small ones).
#[derive(Default)]
pub(crate) struct Scratch {
    /// (position, rule or `UNIVERSE`, +1 start / -1 end).
    events: Vec<(u64, u32, i8)>,
    /// Rules covering the current segment, ascending.
    covering: Vec<u32>,
    /// (group, lo, hi) per segment inside the universe.
    segments: Vec<(usize, u64, u64)>,
}

const UNIVERSE: u32 = u32::MAX;

/// Values of a dimension with their first and second covering rule.
pub(crate) type Painted<T> = (IntervalSet<T>, (Option<u32>, Option<u32>));

impl Scratch {
    /// Sweeps `universe` and groups its values by the first `key_len` rules of `active` covering
    /// them. Groups come in order of first appearance (ascending values): deterministic output.
    fn sweep<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> &'a IntervalSet<T>,
        key_len: usize,
    ) -> Vec<(IntervalSet<T>, Vec<u32>)> {
        self.events.clear();
        let add = |s: &IntervalSet<T>, r: u32, events: &mut Vec<(u64, u32, i8)>| {
            for &(lo, hi) in s.intervals() {
                events.push((lo.to_u64(), r, 1));
                events.push((hi.to_u64() + 1, r, -1));
            }
        };
        add(universe, UNIVERSE, &mut self.events);
        for &r in active {
            add(set_of(r), r, &mut self.events);
        }
        self.events.sort_unstable();

        let mut keys: Vec<Vec<u32>> = Vec::new();
        let mut index: FxMap<Vec<u32>, usize> = FxMap::default();
        self.covering.clear();
        self.segments.clear();
        let mut inside = false;
        let mut i = 0;
        while i < self.events.len() {
            let pos = self.events[i].0;
            while i < self.events.len() && self.events[i].0 == pos {
                let (_, r, delta) = self.events[i];
                if r == UNIVERSE {
                    inside = delta > 0;
                } else {
                    let at = self.covering.binary_search(&r);
                    match (delta > 0, at) {
                        (true, Err(at)) => self.covering.insert(at, r),
                        (false, Ok(at)) => {
                            self.covering.remove(at);
                        }
                        _ => unreachable!("a rule's intervals are disjoint"),
                    }
                }
                i += 1;
            }
            // The segment up to the next event; nothing is covered past the last one.
            if inside && i < self.events.len() {
                let key = &self.covering[..key_len.min(self.covering.len())];
                let group = match index.get(key) {
                    Some(&g) => g,
                    None => {
                        index.insert(key.to_vec(), keys.len());
                        keys.push(key.to_vec());
                        keys.len() - 1
                    }
                };
                self.segments.push((group, pos, self.events[i].0 - 1));
            }
        }

        // Segments are ascending; a stable sort by group keeps them so within each group.
        self.segments.sort_by_key(|s| s.0);
        let mut out = Vec::with_capacity(keys.len());
        let mut rest = &self.segments[..];
        let mut merged: Vec<(T, T)> = Vec::new();
        for key in keys {
            let n = rest.iter().take_while(|s| s.0 == out.len()).count();
            merged.clear();
            for &(_, lo, hi) in &rest[..n] {
                // Neighbouring segments of one group join into one interval.
                match merged.last_mut() {
                    Some(last) if last.1.to_u64() + 1 == lo => last.1 = T::from_u64(hi),
                    _ => merged.push((T::from_u64(lo), T::from_u64(hi))),
                }
            }
            rest = &rest[n..];
            out.push((IntervalSet::from_normalized(&merged), key));
        }
        out
    }

    /// Cuts `universe` into groups of values covered by the same sub-list of `active` (in the
    /// order of `active`, which must be ascending). The groups partition `universe`; a group's
    /// list may be empty.
    pub(crate) fn partition<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> &'a IntervalSet<T>,
    ) -> Vec<(IntervalSet<T>, Vec<u32>)> {
        self.sweep(universe, active, set_of, usize::MAX)
    }

    /// The first and second rule of `active` (ascending) covering each value of `universe`:
    /// groups of values with the same `(first, second)`.
    pub(crate) fn paint<'a, T: Bound + 'a>(
        &mut self,
        universe: &IntervalSet<T>,
        active: &[u32],
        set_of: impl Fn(u32) -> &'a IntervalSet<T>,
    ) -> Vec<Painted<T>> {
        self.sweep(universe, active, set_of, 2)
            .into_iter()
            .map(|(s, k)| (s, (k.first().copied(), k.get(1).copied())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_records_first_and_second() {
        let sets = [
            IntervalSet::<u8>::interval(10, 20),
            IntervalSet::interval(15, 30),
            IntervalSet::interval(0, 255),
        ];
        let got = Scratch::default().paint(&IntervalSet::interval(0, 40), &[0, 1, 2], |r| &sets[r as usize]);
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
        let got = Scratch::default().partition(&IntervalSet::interval(0, 20), &[0, 1], |r| &sets[r as usize]);
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
        let got = Scratch::default().paint(&universe, &[0], |r| &sets[r as usize]);
        assert_eq!(got, vec![(universe, (Some(0), None))]);
    }
}
