//! Comparisons: artifacts item by item (`artifacts`), what a new service-tag file changes for
//! an environment (`tags`), and what must change on deployed resources to match the environment
//! (`deployed` reads them, `canonical` puts both sides in one form, `firewall_sets` says what a
//! firewall rule's lists mean, `drift` compares, `az` writes the commands that converge,
//! `nsg_order` orders their NSG rule updates, `rollback` turns them around, `drift_view` the
//! reports).

pub mod artifacts;
pub mod az;
pub mod canonical;
pub mod deployed;
pub mod drift;
pub mod drift_view;
pub mod firewall_sets;
pub mod nsg_order;
pub mod rollback;
pub mod tags;
