//! fibstat: the companion library of the fib_stat kernel module.
//!
//! * [`protocol`]: the netlink protocol constants, shared with the module.
//! * [`client`]: the netlink client (`fibstat show|record|reset`).
//! * [`explain`]: the kernel report finder and decoder (`fibstat explain`).
//! * [`cli`]: the command line (also for the man page and completions).
//! * [`repro`]: the `make repro` verdict, built on [`explain`].

#[path = "../../../protocol.rs"]
pub mod protocol;

pub mod cli;
pub mod client;
pub mod explain;
pub mod repro;
