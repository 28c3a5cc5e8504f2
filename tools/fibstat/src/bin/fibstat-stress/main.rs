//! fibstat-stress: the stress, fuzz and benchmark load generators of fib-stat
//! (tests/stress.test.sh, `make soak`, `make bench`). Runs in the guest.
//!
//!   fibstat-stress fuzz [--seed S] [--messages N] [-n NETNS] [--unprivileged]
//!   fibstat-stress write [-n NETNS] (--count N | --seconds S) [--seed S] [--label L] [--reopen]
//!   fibstat-stress hold [-n NETNS] --ready FILE --release FILE
//!   fibstat-stress flood --dev IFACE --target ADDR --sender ADDR [--arp] [--ping] --seconds S [--rate PPS]
//!   fibstat-stress nlrate [--ms MS] [--rounds N]
//!   fibstat-stress recrate --netns A --netns2 B [--ms MS] [--rounds N]
//!
//! Every random choice comes from a seeded xorshift64* generator; the seed is
//! printed. Exit status 0 when every check passed, 1 otherwise (the reason on
//! stderr), 2 for usage errors.

mod fuzz;
mod gen;
mod load;
mod model;
mod nl;
mod rate;
mod rng;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use fibstat::protocol::NETLINK_FIB_STAT;

#[derive(Parser)]
#[command(
    name = "fibstat-stress",
    about = "Stress, fuzz and benchmark load for the fib_stat module"
)]
struct Cli {
    /// Netlink protocol number of the module.
    #[arg(long, global = true, default_value_t = NETLINK_FIB_STAT, env = "FIBSTAT_NETLINK_PROTO")]
    proto: i32,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Random and mutated-valid messages; every answer checked against a model.
    Fuzz {
        /// Seed (decimal or 0x hex); default: from the clock (printed).
        #[arg(long, value_parser = rng::parse_seed)]
        seed: Option<u64>,
        /// Messages to send (a datagram holds one or several).
        #[arg(long, default_value_t = 10_000)]
        messages: u64,
        /// Network namespace (ip netns name or path).
        #[arg(short = 'n', long)]
        netns: Option<String>,
        /// Drop to uid/gid 65534 after opening the socket (RECORD/RESET: EPERM).
        #[arg(long)]
        unprivileged: bool,
        /// Print a progress line every N datagrams (0: never).
        #[arg(long, default_value_t = 0)]
        progress: u64,
    },
    /// RECORD writer: random counts 1..=1000, each acked; prints the acked sum.
    Write(load::WriteArgs),
    /// Send a GET, leave its answer unread until FILE --release exists.
    Hold {
        #[arg(short = 'n', long)]
        netns: Option<String>,
        #[arg(long)]
        ready: PathBuf,
        #[arg(long)]
        release: PathBuf,
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// ARP requests (alternating sender MAC) and/or ICMP echo requests.
    Flood(load::FloodArgs),
    /// GET vs RTM_GETLINK vs CTRL_CMD_GETFAMILY requests/s, interleaved.
    Nlrate {
        #[arg(long, default_value_t = 1000)]
        ms: u64,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// RECORD rate: 1 writer vs 2 (same netns) vs 2 (two netns), interleaved.
    Recrate {
        #[arg(long)]
        netns: String,
        #[arg(long)]
        netns2: String,
        #[arg(long, default_value_t = 1000)]
        ms: u64,
        #[arg(long, default_value_t = 6)]
        rounds: usize,
    },
}

/// Drops to uid/gid 65534 (nobody) with no supplementary groups, and so
/// every capability.
pub fn drop_privileges() -> Result<(), String> {
    // SAFETY: plain system calls; groups and gid first, while we may still change them.
    let ok = unsafe {
        libc::setgroups(0, std::ptr::null()) == 0
            && libc::setgid(65534) == 0
            && libc::setuid(65534) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "dropping to uid 65534: {}",
            std::io::Error::last_os_error()
        ))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let proto = cli.proto;
    let result = match cli.cmd {
        Cmd::Fuzz {
            seed,
            messages,
            netns,
            unprivileged,
            progress,
        } => fuzz::run(&fuzz::FuzzArgs {
            seed: seed.unwrap_or_else(rng::seed_from_clock),
            messages,
            netns,
            proto,
            unprivileged,
            progress_every: progress,
        }),
        Cmd::Write(a) => load::write(proto, &a),
        Cmd::Hold {
            netns,
            ready,
            release,
            timeout,
        } => load::hold(
            netns.as_deref(),
            proto,
            &ready,
            &release,
            Duration::from_secs(timeout),
        ),
        Cmd::Flood(a) => {
            if !a.arp && !a.ping {
                Err("flood: give --arp, --ping or both".to_string())
            } else {
                load::flood(&a)
            }
        }
        Cmd::Nlrate { ms, rounds } => rate::nlrate(proto, ms, rounds),
        Cmd::Recrate {
            netns,
            netns2,
            ms,
            rounds,
        } => rate::recrate(proto, &netns, &netns2, ms, rounds),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fibstat-stress: {e}");
            ExitCode::FAILURE
        }
    }
}
