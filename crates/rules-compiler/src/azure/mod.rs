//! The Azure resource types every stage shares: NSG security rules, routes and Azure Firewall rule
//! collections, with Azure's limits. Depends on no other module of the crate.

pub mod firewall;
pub mod nsg;
pub mod route;
