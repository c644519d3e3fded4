//! rules-compiler: turns the ISE requirement model and one environment into a plan, renders every
//! artifact from that plan, and proves NSGs (and later routes and firewall rules) correct with
//! Azure's own evaluation semantics.
//!
//! Not here: reading files, flags or exit codes (the `isenet` CLI), nor the requirement data and the
//! environment file format (`ise-model`).

pub mod verify;
pub mod views;
pub mod backends;
pub mod plan;
pub mod nsgfile;
pub mod resolver;
