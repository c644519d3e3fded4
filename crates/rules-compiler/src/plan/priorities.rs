//! Stable NSG priorities. Each table row owns a slot of 10 from its position in the requirement
//! table (whether or not it applies), each outbound destination owns the slot of its own band that
//! its rule name hashes to, and the deny-all rules sit at 4096. So adding, removing or reordering
//! destinations, or adding a caller, never renumbers another rule (a destination whose slot another
//! one took moves to the next free one, the same whatever the order of the file).

use crate::fnv::fnv1a;
use ise_model::requirement::{model, Kind};
use std::collections::BTreeMap;

/// First priority of the table rows of each direction.
pub const TABLE_BASE: u32 = 100;
/// Slot width: a requirement split over several rules (4,000-prefix limit) uses its slot's units.
pub const SLOT: u32 = 10;
/// Outbound destinations: 2000, 2010, ... up to 3990.
pub const DESTINATION_BASE: u32 = 2000;
pub const DESTINATION_MAX: u32 = 3990;
/// Explicit deny-all, the last explicit priority Azure allows.
pub const DENY_ALL: u32 = 4096;

/// Priority of the first rule of a table row.
pub fn table_slot(requirement_id: &str, kind: Kind) -> u32 {
    let index = model()
        .iter()
        .filter(|r| r.kind == kind)
        .position(|r| r.id == requirement_id)
        .expect("a resolved requirement comes from the table");
    TABLE_BASE + SLOT * index as u32
}

/// How many slots the destination band holds (2000, 2010, ... 3990).
pub const DESTINATION_SLOTS: u32 = (DESTINATION_MAX - DESTINATION_BASE) / SLOT + 1;

/// The first priority of each outbound destination's rule, by rule name: the slot the name hashes
/// to, or, when a name placed before it (names in byte order, so the file's order does not count)
/// took that slot, the next free one after it (wrapping). None when the band is too small.
pub fn destination_slots<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<BTreeMap<&'a str, u32>> {
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    if names.len() > DESTINATION_SLOTS as usize {
        return None;
    }
    let mut taken = [false; DESTINATION_SLOTS as usize];
    let mut out = BTreeMap::new();
    for name in names {
        let home = home_slot(name);
        let slot = (0..DESTINATION_SLOTS)
            .map(|probe| ((home + probe) % DESTINATION_SLOTS) as usize)
            .find(|&s| !taken[s])?;
        taken[slot] = true;
        out.insert(name, DESTINATION_BASE + SLOT * slot as u32);
    }
    Some(out)
}

/// The slot a destination's rule name hashes to (32-bit FNV-1a: the same in every build), before
/// any collision is resolved.
fn home_slot(name: &str) -> u32 {
    fnv1a(name) % DESTINATION_SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination_home(name: &str) -> u32 {
        DESTINATION_BASE + SLOT * home_slot(name)
    }

    #[test]
    fn table_slots_fit_below_the_destination_band() {
        for kind in [Kind::Inbound, Kind::Outbound] {
            let rows = model().iter().filter(|r| r.kind == kind).count() as u32;
            assert!(TABLE_BASE + SLOT * rows <= DESTINATION_BASE);
        }
        assert_eq!(table_slot("in-intersubnet", Kind::Inbound), 100);
        assert_eq!(table_slot("out-intersubnet", Kind::Outbound), 100);
        assert_eq!(DESTINATION_SLOTS, 200);
    }

    #[test]
    fn a_full_band_fits_and_one_more_does_not() {
        let names: Vec<String> = (0..200).map(|i| format!("out-dest-d{i}")).collect();
        let slots = destination_slots(names.iter().map(String::as_str)).unwrap();
        let mut priorities: Vec<u32> = slots.values().copied().collect();
        priorities.sort_unstable();
        assert_eq!(priorities, (0..200).map(|i| 2000 + 10 * i).collect::<Vec<u32>>());
        let more: Vec<String> = (0..201).map(|i| format!("out-dest-d{i}")).collect();
        assert_eq!(destination_slots(more.iter().map(String::as_str)), None);
    }

    /// A set of rule names of outbound destinations, and a permutation of it.
    fn names() -> impl Strategy<Value = Vec<String>> {
        prop::collection::btree_set("out-dest-[a-z0-9-]{1,12}", 0..120)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>())
            .prop_shuffle()
    }

    fn slots(names: &[String]) -> BTreeMap<String, u32> {
        destination_slots(names.iter().map(String::as_str))
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn slots_do_not_depend_on_the_order_of_the_names(names in names(), seed in any::<u64>()) {
            let mut shuffled = names.clone();
            // A second order: sort by a seeded key.
            shuffled.sort_by_key(|n| fnv1a(&format!("{seed}{n}")));
            prop_assert_eq!(slots(&names), slots(&shuffled));
        }

        #[test]
        fn priorities_are_unique_and_inside_the_band(names in names()) {
            let got = slots(&names);
            prop_assert_eq!(got.len(), names.len());
            let unique: std::collections::BTreeSet<u32> = got.values().copied().collect();
            prop_assert_eq!(unique.len(), got.len());
            let band: std::collections::BTreeSet<u32> = (0..DESTINATION_SLOTS).map(|i| DESTINATION_BASE + SLOT * i).collect();
            prop_assert_eq!(band.last(), Some(&DESTINATION_MAX));
            for p in got.values() {
                prop_assert!(band.contains(p), "{}", p);
            }
        }

        #[test]
        fn adding_a_name_moves_only_names_that_collide(names in names(), new in "out-dest-[a-z0-9-]{1,12}") {
            prop_assume!(!names.contains(&new));
            let before = slots(&names);
            let mut grown = names.clone();
            grown.push(new.clone());
            let after = slots(&grown);
            for (name, p) in &before {
                let q = after[name];
                // A name moves only when a collision pushes it on, never back towards its home.
                prop_assert!(*p == q || q != destination_home(name), "{} moved from {} to its home {}", name, p, q);
                prop_assert!(distance(name, q) >= distance(name, *p));
            }
            // A newcomer whose slot is free takes it, and nothing else moves.
            if !before.values().any(|p| *p == destination_home(&new)) {
                prop_assert_eq!(after[&new], destination_home(&new));
                for (name, p) in &before {
                    prop_assert_eq!(after[name], *p, "{} moved", name);
                }
            }
        }

        #[test]
        fn removing_a_name_moves_only_names_that_had_collided(names in names(), pick in any::<prop::sample::Index>()) {
            prop_assume!(!names.is_empty());
            let before = slots(&names);
            let mut shrunk = names.clone();
            shrunk.remove(pick.index(names.len()));
            let after = slots(&shrunk);
            for (name, q) in &after {
                let p = before[name];
                prop_assert!(p == *q || p != destination_home(name), "{} moved off its home {} to {}", name, p, q);
                prop_assert!(distance(name, *q) <= distance(name, p));
            }
            if before.iter().all(|(name, p)| *p == destination_home(name)) {
                for (name, q) in &after {
                    prop_assert_eq!(before[name], *q, "{} moved", name);
                }
            }
        }
    }

    /// How many slots past its home a name sits (wrapping).
    fn distance(name: &str, priority: u32) -> u32 {
        let slot = |p: u32| (p - DESTINATION_BASE) / SLOT;
        (slot(priority) + DESTINATION_SLOTS - slot(destination_home(name))) % DESTINATION_SLOTS
    }
}
