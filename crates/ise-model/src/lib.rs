//! ise-model: everything an Azure Logic Apps integration service environment (ISE) needs from its
//! virtual network, as data: the requirement table, per-cloud facts, locations, published address
//! lists and service-tag snapshots (all embedded), plus the environment file and its validation.
//!
//! Not here: turning requirements into rules or artifacts, or proving them (`rules-compiler`), and
//! files, flags and exit codes (`isenet`).

pub mod aggregate;
pub mod bytesearch;
pub mod cloud;
pub mod codes;
pub mod data;
pub mod diag;
pub mod embedded_csv;
pub mod env;
pub mod fuzzy;
pub mod fxhash;
pub mod ip_text;
pub mod iplists;
pub mod jsondoc;
pub mod jsonpos;
pub mod ports;
pub mod published;
pub mod requirement;
pub mod resolve;
pub mod servicetags;
pub mod text;
pub mod threads;

pub use diag::{Diagnostic, Severity};
pub use env::Environment;
