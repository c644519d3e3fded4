//! rules-compiler: turns the ISE requirement model and one environment into a plan, renders every
//! artifact from that plan, reads deployed or hand-written artifacts back, and proves NSGs, route
//! tables and firewall rules correct with Azure's own evaluation semantics.
//!
//! The modules are the stages, in order: `azure` (the resource types every stage shares) ->
//! `plan` (model + environment -> plan, and `expand` of a plan) -> `render` (plan -> artifacts) ->
//! `read` (artifact files -> azure types) -> `prove` (azure types + environment -> findings), with
//! `engine` (exact NSG evaluation over intervals), `diff` (comparisons) and `views` (text for
//! people) beside them.
//!
//! Not here: reading files, flags or exit codes (the `isenet` CLI), nor the requirement data and the
//! environment file format (`ise-model`).

pub mod azure;
pub mod diff;
pub mod engine;
mod fnv;
pub mod plan;
pub mod prove;
pub mod read;
pub mod render;
pub use ise_model::threads;
pub mod views;
