//! The verifier: Azure NSG semantics evaluated exhaustively over intervals.
//!
//! Packets are (protocol, source address, source port, destination address, destination port) over
//! IPv4 (ISE subnets are IPv4 only, so IPv6 prefixes in tags never match an ISE packet). Sets of
//! packets are unions of products of interval sets, never samples, so every answer holds for every
//! packet of the domain.

pub mod defaults;
pub mod evaluate;
mod first_cut;
pub mod flows;
use ise_model::fxhash;
pub mod intervals;
mod meeting;
mod packet;
mod partition;
pub mod reference;
mod tree;

pub use packet::{Packet, PacketProtocol, TagResolver};
