//! The first cut of a decision structure, kept across the evaluations of one thread. A fleet
//! evaluates the NSGs of hundreds of environments built from one requirement table: the same
//! service tags, in the same rule positions, next to each environment's own few addresses. The
//! cut of the tags alone is kept after an environment has needed it twice, and later
//! environments refine it with their own sets (`Scratch::refine`) instead of sweeping the tags'
//! thousands of intervals again. A single compile cuts as before.

use std::cell::RefCell;

use super::intervals::IntervalSet;
use super::partition::{Base, Scratch};

/// Sets of at least this many intervals are a service tag's, kept in the base.
const TAG_SIZE: usize = 64;
/// Bases are kept only for cuts through at least this many intervals of such sets.
const KEEP_FROM: usize = 1_000;
/// Kept per thread: both directions of a few NSG shapes (internal and external endpoints).
const KEPT: usize = 8;

/// A first cut seen before: its universe and tag-sized sets by rule, and once seen twice, the
/// cut by those sets alone.
struct Kept {
    universe: IntervalSet<u32>,
    tags: Vec<(u32, IntervalSet<u32>)>,
    base: Option<Base>,
}

thread_local! {
    static KEPT_CUTS: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// What `scratch.partition(universe, active, set_of)` returns, and leaves as its segments.
pub(crate) fn partition<'a>(
    scratch: &mut Scratch,
    universe: &IntervalSet<u32>,
    active: &[u32],
    set_of: impl Fn(u32) -> (u32, &'a IntervalSet<u32>),
) -> Vec<(IntervalSet<u32>, Vec<u32>)> {
    let (tags, own): (Vec<u32>, Vec<u32>) = active.iter().partition(|&&r| set_of(r).1.intervals().len() >= TAG_SIZE);
    if tags.iter().map(|&r| set_of(r).1.intervals().len()).sum::<usize>() < KEEP_FROM {
        return scratch.partition(universe, active, set_of);
    }
    KEPT_CUTS.with_borrow_mut(|kept| {
        let same = |k: &Kept| {
            k.universe == *universe
                && k.tags.len() == tags.len()
                && k.tags.iter().zip(&tags).all(|((r, s), &t)| *r == t && s == set_of(t).1)
        };
        let Some(at) = kept.iter().position(same) else {
            if kept.len() == KEPT {
                kept.remove(0);
            }
            kept.push(Kept {
                universe: universe.clone(),
                tags: tags.iter().map(|&r| (r, set_of(r).1.clone())).collect(),
                base: None,
            });
            return scratch.partition(universe, active, set_of);
        };
        let entry = &mut kept[at];
        let base = match &entry.base {
            Some(base) => base,
            None => entry.base.insert(scratch.partition_base(universe, &tags, &set_of)),
        };
        scratch
            .refine(base, universe, &own, &set_of)
            .unwrap_or_else(|| scratch.partition(universe, active, &set_of))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A tag-sized set: hundreds of short intervals over a range that small sets also reach.
    fn tag() -> impl Strategy<Value = IntervalSet<u32>> {
        prop::collection::vec((0u32..100_000, 0u32..50), 600..900)
            .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len))))
    }

    /// An environment's own set: a few ranges, or everything (`*`).
    fn own_set() -> impl Strategy<Value = IntervalSet<u32>> {
        prop_oneof![
            4 => prop::collection::vec((0u32..100_000, 0u32..5_000), 0..4)
                .prop_map(|v| IntervalSet::from_intervals(v.into_iter().map(|(lo, len)| (lo, lo + len)))),
            1 => Just(IntervalSet::full()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Environments after one another, each with the same tags at the same rule positions and
        /// sets of its own: every cut (the first two swept in full, later ones refined from the
        /// kept base) equals the plain partition, groups and segments.
        #[test]
        fn kept_cuts_equal_plain_partitions(
            tags in prop::collection::vec(tag(), 2),
            environments in prop::collection::vec(prop::collection::vec(own_set(), 3), 4),
            universe in prop_oneof![Just(IntervalSet::full()), own_set()],
        ) {
            for own in &environments {
                // Rules 0 and 3 name the tags; 1, 2 and 4 the environment's sets.
                let sets = [&tags[0], &own[0], &own[1], &tags[1], &own[2]];
                let order = [0u32, 1, 2, 3, 4];
                let set_of = |r: u32| (r, sets[r as usize]);
                let mut plain = Scratch::default();
                let want = plain.partition(&universe, &order, set_of);
                let want_segments = plain.take_segments();
                let mut scratch = Scratch::default();
                let got = partition(&mut scratch, &universe, &order, set_of);
                prop_assert_eq!(got, want);
                prop_assert_eq!(scratch.take_segments(), want_segments);
            }
        }
    }
}
