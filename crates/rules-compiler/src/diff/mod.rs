//! Comparisons: artifacts item by item (`artifacts`), and what a new service-tag file changes for
//! an environment (`tags`).

pub mod artifacts;
pub mod tags;
