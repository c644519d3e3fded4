//! rules-compiler: turns the ISE requirement model and one environment into a plan, renders every
//! artifact from that plan, and proves NSGs (and later routes and firewall rules) correct with
//! Azure's own evaluation semantics.
//!
//! Not here: reading files, flags or exit codes (the `isenet` CLI), nor the requirement data and the
//! environment file format (`ise-model`).

pub mod backends;
pub mod expand;
pub mod explain;
pub mod firewall_proof;
pub mod firewallfile;
pub mod nsgfile;
pub mod plan;
pub mod proof;
pub mod resolver;
pub mod route_proof;
pub mod routefile;
pub mod tagdiff;
pub mod verify;
pub mod views;
