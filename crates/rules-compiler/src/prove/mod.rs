//! Proofs with Azure's semantics: an NSG, a route table and Azure Firewall rules against what an
//! environment requires, and `explain` of one flow.

pub mod explain;
pub mod explain_path;
pub mod findings;
pub mod firewall;
pub mod nsg;
pub mod provenance;
pub mod resolver;
pub mod routes;
pub mod undeclared;
pub mod verify;
