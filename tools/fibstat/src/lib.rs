//! fibstat: the companion library of the fib_stat kernel module.
//!
//! * [`protocol`]: the netlink protocol constants, shared with the module.
//! * [`client`]: the netlink client (`fibstat show|record|reset`).
//! * [`explain`]: the lockdep report decoder (`fibstat explain`).
//! * [`repro`]: the `make repro` verdict, built on [`explain`].

#[path = "../../../protocol.rs"]
pub mod protocol;

pub mod client;
pub mod explain;
pub mod repro;
