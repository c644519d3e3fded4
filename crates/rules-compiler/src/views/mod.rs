//! Read-only views of resolved data for the terminal and for pipelines (not deployable artifacts).

pub mod proof_report;
pub mod requirements;
pub mod summary;
pub mod table;
