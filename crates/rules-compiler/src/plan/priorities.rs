//! Stable NSG priorities. Each table row owns a slot of 10 from its position in the requirement
//! table (whether or not it applies), outbound destinations own slots in their own band in the
//! order of the environment file, and the deny-all rules sit at 4096. So adding a destination or a
//! caller never renumbers an existing rule.

use ise_model::requirement::{model, Kind};

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

/// Priority of the `i`-th outbound destination, or None when the band is full.
pub fn destination_slot(i: usize) -> Option<u32> {
    let p = DESTINATION_BASE + SLOT * i as u32;
    (p <= DESTINATION_MAX).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_slots_fit_below_the_destination_band() {
        for kind in [Kind::Inbound, Kind::Outbound] {
            let rows = model().iter().filter(|r| r.kind == kind).count() as u32;
            assert!(TABLE_BASE + SLOT * rows <= DESTINATION_BASE);
        }
        assert_eq!(table_slot("in-intersubnet", Kind::Inbound), 100);
        assert_eq!(table_slot("out-intersubnet", Kind::Outbound), 100);
        assert_eq!(destination_slot(199), Some(3990));
        assert_eq!(destination_slot(200), None);
    }
}
