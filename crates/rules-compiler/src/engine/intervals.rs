//! Sorted, disjoint sets of inclusive integer intervals: the per-dimension building block of flow
//! sets (addresses as `u32`, ports as `u16`).
//!
//! Sets are always stored normalized (sorted, disjoint and with no two intervals adjacent), so two
//! sets are equal exactly when they hold the same values and the derived `Eq`/`Ord` (and `Hash`,
//! which agrees with them) can be used as keys.

use std::fmt::Debug;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ipnet::Ipv4Net;

use crate::azure::nsg::PortRange;

/// An unsigned integer type usable as interval bounds. Arithmetic goes through `u64` so that
/// `MAX + 1` never overflows.
pub trait Bound: Copy + Ord + Hash + Debug {
    const MIN: Self;
    const MAX: Self;
    fn to_u64(self) -> u64;
    /// Only called with values in `MIN..=MAX`.
    fn from_u64(v: u64) -> Self;
    /// The next value; only called below `MAX`.
    fn succ(self) -> Self;
    /// The previous value; only called above `MIN`.
    fn pred(self) -> Self;
    /// Runs `f` with this thread's empty buffer of intervals: set operations build their result
    /// there and copy it out once, exactly sized, instead of growing a vector of their own each
    /// time (a fleet reallocates millions of times). `f` must not call it again.
    fn with_buffer<R>(f: impl FnOnce(&mut Vec<(Self, Self)>) -> R) -> R
    where
        Self: Sized;
}

macro_rules! impl_bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn to_u64(self) -> u64 {
                u64::from(self)
            }
            fn from_u64(v: u64) -> Self {
                <$t>::try_from(v).expect("interval bound within the type's range")
            }
            fn succ(self) -> Self {
                self + 1
            }
            fn pred(self) -> Self {
                self - 1
            }
            fn with_buffer<R>(f: impl FnOnce(&mut Vec<(Self, Self)>) -> R) -> R {
                thread_local! {
                    static BUFFER: std::cell::RefCell<Vec<($t, $t)>> = const { std::cell::RefCell::new(Vec::new()) };
                }
                BUFFER.with_borrow_mut(|buffer| {
                    buffer.clear();
                    f(buffer)
                })
            }
        }
    )*};
}
impl_bound!(u8, u16, u32);

/// Length ratio above which set operations look the short set's intervals up in the long one
/// (`short * log long` steps) instead of walking both lists.
const LOPSIDED: usize = 16;

/// A set of values of `T`, as sorted, disjoint, non-adjacent inclusive `(lo, hi)` intervals.
#[derive(Clone, Debug, Eq, PartialOrd, Ord)]
pub struct IntervalSet<T: Bound> {
    /// Shared so that clones (one per region and per query result) cost no allocation.
    ranges: Arc<[(T, T)]>,
}

/// Clones share their intervals, and comparing those of a service tag's set with its clone's
/// walked thousands of them: one pointer test answers that. (`Arc`'s own shortcut does not apply
/// to slices.)
impl<T: Bound> PartialEq for IntervalSet<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.ranges, &other.ranges) || self.ranges[..] == other.ranges[..]
    }
}

/// Intervals a hash reads at most: all of a short set, evenly spaced ones of a long set.
const HASHED: usize = 64;

/// Equal sets hash alike (equal sets have equal intervals), so this agrees with `Eq`. A service
/// tag's thousands of intervals are sampled, not all read: the decision tree keys maps by its
/// rules' sets and nodes for every evaluation, and sets with equal samples are told apart by
/// `Eq`.
impl<T: Bound> Hash for IntervalSet<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let n = self.ranges.len();
        n.hash(state);
        if n <= HASHED {
            self.ranges.hash(state);
        } else {
            for k in 0..HASHED {
                self.ranges[k * (n - 1) / (HASHED - 1)].hash(state);
            }
        }
    }
}

impl<T: Bound> Default for IntervalSet<T> {
    fn default() -> Self {
        Self::empty()
    }
}

/// Appends `lo..=hi` to intervals given in ascending `lo` order, merging overlaps and neighbours.
fn push_merging<T: Bound>(out: &mut Vec<(T, T)>, lo: T, hi: T) {
    debug_assert!(lo <= hi);
    if let Some(last) = out.last_mut() {
        debug_assert!(last.0 <= lo);
        if lo.to_u64() <= last.1.to_u64() + 1 {
            last.1 = last.1.max(hi);
            return;
        }
    }
    out.push((lo, hi));
}

impl<T: Bound> IntervalSet<T> {
    pub fn empty() -> Self {
        IntervalSet { ranges: Arc::new([]) }
    }

    /// The whole universe `T::MIN..=T::MAX`.
    pub fn full() -> Self {
        IntervalSet {
            ranges: Arc::new([(T::MIN, T::MAX)]),
        }
    }

    /// `lo..=hi`; empty when `lo > hi`.
    pub fn interval(lo: T, hi: T) -> Self {
        if lo <= hi {
            IntervalSet {
                ranges: Arc::new([(lo, hi)]),
            }
        } else {
            Self::empty()
        }
    }

    pub fn point(x: T) -> Self {
        Self::interval(x, x)
    }

    /// Any intervals, in any order, overlapping or not; reversed ones (`lo > hi`) are ignored.
    pub fn from_intervals<I: IntoIterator<Item = (T, T)>>(intervals: I) -> Self {
        let intervals = intervals.into_iter();
        let (least, most) = intervals.size_hint();
        let mut v: Vec<(T, T)> = Vec::with_capacity(most.unwrap_or(least));
        v.extend(intervals.filter(|(lo, hi)| lo <= hi));
        // A tag's prefixes mostly come sorted already.
        if !v.is_sorted() {
            v.sort_unstable();
        }
        // Merge overlaps and neighbours in place.
        let mut kept = 0;
        for k in 0..v.len() {
            let (lo, hi) = v[k];
            if kept > 0 && lo.to_u64() <= v[kept - 1].1.to_u64() + 1 {
                v[kept - 1].1 = v[kept - 1].1.max(hi);
            } else {
                v[kept] = (lo, hi);
                kept += 1;
            }
        }
        v.truncate(kept);
        IntervalSet { ranges: v.into() }
    }

    /// Caller guarantees `v` is sorted, disjoint and without neighbours.
    pub(crate) fn from_normalized(v: &[(T, T)]) -> Self {
        debug_assert!(v.iter().all(|(lo, hi)| lo <= hi));
        debug_assert!(v.windows(2).all(|w| w[0].1.to_u64() + 1 < w[1].0.to_u64()));
        IntervalSet { ranges: v.into() }
    }

    /// The set of a [`Bound::with_buffer`] buffer holding normalized intervals, copied out.
    fn from_buffer(out: &[(T, T)]) -> Self {
        if out.is_empty() {
            return Self::empty();
        }
        Self::from_normalized(out)
    }

    /// The smallest and the largest value, `None` when empty.
    pub(crate) fn span(&self) -> Option<(T, T)> {
        Some((self.ranges.first()?.0, self.ranges.last()?.1))
    }

    /// The normalized intervals, ascending.
    pub fn intervals(&self) -> &[(T, T)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_full(&self) -> bool {
        *self.ranges == [(T::MIN, T::MAX)]
    }

    pub fn contains(&self, x: T) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < x);
        i < self.ranges.len() && self.ranges[i].0 <= x
    }

    /// Number of values in the set.
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|&(lo, hi)| hi.to_u64() - lo.to_u64() + 1).sum()
    }

    pub fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        T::with_buffer(|out| {
            let (mut i, mut j) = (0, 0);
            while i < self.ranges.len() || j < other.ranges.len() {
                let take_self = j == other.ranges.len() || (i < self.ranges.len() && self.ranges[i].0 <= other.ranges[j].0);
                let (lo, hi) = if take_self {
                    i += 1;
                    self.ranges[i - 1]
                } else {
                    j += 1;
                    other.ranges[j - 1]
                };
                push_merging(out, lo, hi);
            }
            Self::from_buffer(out)
        })
    }

    pub fn intersection(&self, other: &Self) -> Self {
        if !self.bounds_meet(other) {
            return Self::empty();
        }
        // A rule's tag within a domain of every address: share the set, do not copy it.
        if other.is_full() {
            return self.clone();
        }
        if self.is_full() {
            return other.clone();
        }
        // A few intervals against many (a port range against a service tag's thousands of
        // prefixes): look each up instead of walking the long list.
        let (short, long) = if self.ranges.len() <= other.ranges.len() {
            (self, other)
        } else {
            (other, self)
        };
        T::with_buffer(|out| {
            if short.ranges.len() * LOPSIDED < long.ranges.len() {
                for &(lo, hi) in short.ranges.iter() {
                    let from = long.ranges.partition_point(|&(_, h)| h < lo);
                    for &(l, h) in long.ranges[from..].iter().take_while(|&&(l, _)| l <= hi) {
                        out.push((l.max(lo), h.min(hi)));
                    }
                }
                return Self::from_buffer(out);
            }
            let (mut i, mut j) = (0, 0);
            while i < self.ranges.len() && j < other.ranges.len() {
                let (a_lo, a_hi) = self.ranges[i];
                let (b_lo, b_hi) = other.ranges[j];
                let lo = a_lo.max(b_lo);
                let hi = a_hi.min(b_hi);
                if lo <= hi {
                    out.push((lo, hi));
                }
                if a_hi < b_hi {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            // Pieces of disjoint, non-adjacent inputs are themselves non-adjacent.
            Self::from_buffer(out)
        })
    }

    /// Whether the spans `first lo..=last hi` of the two sets overlap (a cheap necessary
    /// condition for meeting).
    fn bounds_meet(&self, other: &Self) -> bool {
        match (self.ranges.first(), self.ranges.last(), other.ranges.first(), other.ranges.last()) {
            (Some(a), Some(b), Some(c), Some(d)) => a.0 <= d.1 && c.0 <= b.1,
            _ => false,
        }
    }

    pub fn intersects(&self, other: &Self) -> bool {
        if !self.bounds_meet(other) {
            return false;
        }
        let (short, long) = if self.ranges.len() <= other.ranges.len() {
            (self, other)
        } else {
            (other, self)
        };
        if short.ranges.len() * LOPSIDED < long.ranges.len() {
            return short.ranges.iter().any(|&(lo, hi)| {
                let from = long.ranges.partition_point(|&(_, h)| h < lo);
                from < long.ranges.len() && long.ranges[from].0 <= hi
            });
        }
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a_lo, a_hi) = self.ranges[i];
            let (b_lo, b_hi) = other.ranges[j];
            if a_lo.max(b_lo) <= a_hi.min(b_hi) {
                return true;
            }
            if a_hi < b_hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }

    /// Everything of `T::MIN..=T::MAX` not in `self`.
    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next = T::MIN.to_u64();
        for &(lo, hi) in self.ranges.iter() {
            if lo.to_u64() > next {
                out.push((T::from_u64(next), T::from_u64(lo.to_u64() - 1)));
            }
            next = hi.to_u64() + 1;
        }
        if next <= T::MAX.to_u64() {
            out.push((T::from_u64(next), T::MAX));
        }
        IntervalSet { ranges: out.into() }
    }

    /// Everything of `universe` not in `self`.
    pub fn complement_within(&self, universe: &Self) -> Self {
        universe.difference(self)
    }

    pub fn difference(&self, other: &Self) -> Self {
        if !self.bounds_meet(other) {
            return self.clone();
        }
        // A requirement's service tag against a domain of every address: nothing is left.
        if other.is_full() {
            return Self::empty();
        }
        if self.is_full() {
            return other.complement();
        }
        // Many intervals less a few: the few's complement is short, and the intersection with it
        // copies the long list's untouched stretches whole.
        if other.ranges.len() * LOPSIDED < self.ranges.len() {
            return self.intersection(&other.complement());
        }
        // A few intervals against many: find where each starts in the long list instead of
        // walking it (a subnet minus a service tag's thousands of prefixes).
        let lopsided = self.ranges.len() * LOPSIDED < other.ranges.len();
        T::with_buffer(|out| {
            let mut j = 0;
            for &(lo, hi) in self.ranges.iter() {
                let rest = &other.ranges[j..];
                j += if lopsided {
                    rest.partition_point(|&(_, h)| h < lo)
                } else {
                    rest.iter().take_while(|&&(_, h)| h < lo).count()
                };
                // `other`'s intervals meeting `lo..=hi` cut it; the last may reach into the next.
                let mut start = Some(lo);
                while let Some(from) = start {
                    match other.ranges.get(j) {
                        Some(&(cut_lo, cut_hi)) if cut_lo <= hi => {
                            if cut_lo > from {
                                out.push((from, cut_lo.pred()));
                            }
                            // Past `hi` (or at MAX) nothing of this interval is left.
                            start = (cut_hi < hi).then(|| cut_hi.succ());
                            if start.is_some() {
                                j += 1;
                            }
                        }
                        _ => {
                            out.push((from, hi));
                            start = None;
                        }
                    }
                }
            }
            Self::from_buffer(out)
        })
    }

    /// Whether every interval of `self` lies in one of `other`'s (both sorted, disjoint and with
    /// neighbours merged), walked without building the intersection: reports ask this of every
    /// address set they print.
    pub fn is_subset(&self, other: &Self) -> bool {
        let mut outer = other.ranges.iter().peekable();
        self.ranges.iter().all(|&(lo, hi)| {
            while outer.next_if(|&&(_, end)| end < lo).is_some() {}
            outer.peek().is_some_and(|&&(start, end)| start <= lo && hi <= end)
        })
    }
}

impl IntervalSet<u32> {
    /// The addresses of one prefix (host bits of a non-canonical prefix are ignored).
    pub fn from_prefix(net: Ipv4Net) -> Self {
        Self::interval(u32::from(net.network()), u32::from(net.broadcast()))
    }

    pub fn from_prefixes<I: IntoIterator<Item = Ipv4Net>>(nets: I) -> Self {
        Self::from_intervals(nets.into_iter().map(|n| (u32::from(n.network()), u32::from(n.broadcast()))))
    }

    /// The fewest CIDR prefixes covering exactly this set, ascending.
    pub fn to_prefixes(&self) -> Vec<Ipv4Net> {
        self.prefixes().collect()
    }

    /// The prefixes of [`Self::to_prefixes`], made as they are taken.
    pub fn prefixes(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        self.blocks().map(|(lo, bits)| {
            let addr = Ipv4Addr::from(u32::try_from(lo).expect("IPv4 address"));
            let len = u8::try_from(32 - bits).expect("prefix length");
            Ipv4Net::new(addr, len).expect("prefix length <= 32")
        })
    }

    /// How many prefixes [`Self::to_prefixes`] makes, without making them (a report decides by
    /// the count whether to list them).
    pub fn prefix_count(&self) -> usize {
        self.blocks().count()
    }

    /// The prefixes of [`Self::to_prefixes`] as (first address, host bits): in each interval, the
    /// largest block aligned at its start that still fits, then the next.
    fn blocks(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.ranges.iter().flat_map(|&(lo, hi)| {
            let (mut lo, hi) = (u64::from(lo), u64::from(hi));
            std::iter::from_fn(move || {
                if lo > hi {
                    return None;
                }
                let mut bits = if lo == 0 { 32 } else { lo.trailing_zeros().min(32) };
                while (1u64 << bits) > hi - lo + 1 {
                    bits -= 1;
                }
                let block = (lo, bits);
                lo += 1u64 << bits;
                Some(block)
            })
        })
    }
}

impl IntervalSet<u16> {
    pub fn from_port_ranges(ranges: &[PortRange]) -> Self {
        Self::from_intervals(ranges.iter().map(|r| (r.lo, r.hi)))
    }

    pub fn to_port_ranges(&self) -> Vec<PortRange> {
        self.ranges.iter().map(|&(lo, hi)| PortRange { lo, hi }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The walk that says whether a set lies within another answers what the intersection does.
        #[test]
        fn is_subset_is_what_the_intersection_says(a in prop::collection::vec((0u32..64, 0u32..8), 0..6), b in prop::collection::vec((0u32..64, 0u32..8), 0..6)) {
            let set = |v: &[(u32, u32)]| IntervalSet::from_intervals(v.iter().map(|&(lo, n)| (lo, lo + n)));
            let (a, b) = (set(&a), set(&b));
            prop_assert_eq!(a.is_subset(&b), a.intersection(&b) == a);
        }

        /// Counting prefixes gives the count of the prefixes made, over the whole address range.
        #[test]
        fn prefix_count_is_the_prefixes_made(v in prop::collection::vec((any::<u32>(), any::<u32>()), 0..5)) {
            let set = IntervalSet::from_intervals(v.iter().map(|&(a, b)| (a.min(b), a.max(b))));
            prop_assert_eq!(set.prefix_count(), set.to_prefixes().len());
            prop_assert_eq!(set.complement().prefix_count(), set.complement().to_prefixes().len());
        }

        /// Sampling long sets keeps the hash a function of the values: a set built from its
        /// intervals in another order, cut in pieces, hashes alike, short or long (beyond the
        /// intervals a hash reads); and sets of one length that differ only between samples
        /// are still told apart as keys.
        #[test]
        fn equal_sets_hash_alike_and_differing_ones_stay_apart(
            v in prop::collection::vec((0u32..100_000, 0u32..5), 0..200),
            bump in 0usize..200,
        ) {
            use std::collections::HashSet;
            let hash = |s: &IntervalSet<u32>| {
                let mut h = std::hash::DefaultHasher::new();
                s.hash(&mut h);
                std::hash::Hasher::finish(&h)
            };
            let set = IntervalSet::from_intervals(v.iter().map(|&(lo, n)| (lo, lo + n)));
            // The same values given back to front and split into single values.
            let again = IntervalSet::from_intervals(
                set.intervals().iter().rev().flat_map(|&(lo, hi)| (lo..=hi).map(|x| (x, x))),
            );
            prop_assert_eq!(&again, &set);
            prop_assert_eq!(hash(&again), hash(&set));
            // One interval moved by one, between samples or not: another key.
            if let Some(&(lo, hi)) = set.intervals().get(bump % set.intervals().len().max(1)) {
                let other = IntervalSet::from_intervals(set.intervals().iter().map(|&(l, h)| {
                    if (l, h) == (lo, hi) && hi < u32::MAX - 1 && !set.contains(hi + 2) { (l, h + 1) } else { (l, h) }
                }));
                let keys: HashSet<IntervalSet<u32>> = [set.clone(), other.clone()].into_iter().collect();
                prop_assert_eq!(keys.len(), if other == set { 1 } else { 2 });
            }
        }
    }

    #[test]
    fn prefixes_round_trip_minimally() {
        let s = IntervalSet::<u32>::interval(u32::from(Ipv4Addr::new(10, 0, 0, 1)), u32::from(Ipv4Addr::new(10, 0, 0, 6)));
        let got: Vec<String> = s.to_prefixes().iter().map(|n| n.to_string()).collect();
        assert_eq!(got, ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]);
        assert_eq!(
            IntervalSet::<u32>::full().to_prefixes(),
            vec!["0.0.0.0/0".parse::<Ipv4Net>().unwrap()]
        );
    }

    #[test]
    fn complement_of_empty_and_full() {
        assert!(IntervalSet::<u16>::empty().complement().is_full());
        assert!(IntervalSet::<u16>::full().complement().is_empty());
        assert_eq!(IntervalSet::<u8>::interval(0, 9).complement(), IntervalSet::interval(10, 255));
    }

    #[test]
    fn adjacent_intervals_merge() {
        let s = IntervalSet::<u8>::from_intervals([(5, 9), (0, 4), (11, 12)]);
        assert_eq!(s.intervals(), &[(0, 9), (11, 12)]);
        assert!(s.contains(9) && !s.contains(10) && s.contains(11));
    }
}
