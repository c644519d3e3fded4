//! The environment in one form whatever the order of its unordered lists. Address space, callers,
//! subnets, outbound destinations (with their prefixes and ports) and certificates are sets to
//! Azure: their order decides nothing (an ISE's four subnets are told apart by their delegation,
//! not their place; destination rules own priorities by name; the ISE request keys certificates
//! by name). So they are sorted, and duplicates dropped, after validation (whose diagnostics name
//! the user's own indices), and every artifact is the same for a reordered file. The custom DNS
//! servers keep their order: the VNet asks them in that order.

use super::Environment;

/// Sorts and deduplicates `items`.
fn set<T: Ord>(items: &mut Vec<T>) {
    items.sort();
    items.dedup();
}

pub(super) fn canonical(mut env: Environment) -> Environment {
    set(&mut env.virtual_network.address_space);
    set(&mut env.internal_callers);
    set(&mut env.external_callers);
    env.subnets.sort_by(|a, b| a.name.cmp(&b.name));
    env.outbound_destinations.sort_by(|a, b| a.name.cmp(&b.name));
    for d in &mut env.outbound_destinations {
        set(&mut d.prefixes);
        // As the NSG rule writes them: sorted, overlapping and adjacent ranges merged.
        d.ports = crate::ports::normalise(&d.ports);
    }
    env.certificates.sort_by(|a, b| a.name.cmp(&b.name));
    env
}
