//! Read-only views of resolved data for the terminal and for pipelines (not deployable artifacts).

pub mod csv_safe;
pub mod describe;
pub mod explain;
pub mod printable;
pub mod proof_report;
pub mod requirements;
pub mod summary;
pub mod table;
