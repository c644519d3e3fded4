//! Comparisons: what a new service-tag file changes for an environment.

pub mod tags;
