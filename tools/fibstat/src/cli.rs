//! The `fibstat` command line, after iproute2's conventions: global options
//! (`-j`, `-p`, `-n NETNS`, `--proto N`) before the subcommand (`fibstat -j
//! show`, `fibstat -n ns1 show`) or after it (`fibstat show -n ns1 -j`).
//! The man page and shell completions are generated from this definition
//! (`fibstat-docs`).

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::client::{self, Conn};
use crate::explain;
use crate::protocol::NETLINK_FIB_STAT;

/// fibstat: talk to the fib_stat kernel module, and explain kernel reports.
#[derive(Parser, Debug)]
#[command(
    name = "fibstat",
    version,
    long_about = "fibstat: talk to the fib_stat kernel module over its netlink protocol \
                  (show, record, reset), and find, title and explain kernel reports in \
                  kernel logs (explain).",
    after_help = "Global options may come before or after the subcommand, as in ip(8): \
                  `fibstat -j show` and `fibstat show -j` are the same. \
                  Exit status: 0 success, 1 failure (explain --fail-on-report: a report was \
                  found), 2 usage error or unreadable input."
)]
pub struct Cli {
    /// Print JSON, compact (with -p, pretty-printed).
    #[arg(short = 'j', long = "json", global = true)]
    pub json: bool,

    /// Pretty-print JSON (implies -j).
    #[arg(short = 'p', long = "pretty", global = true)]
    pub pretty: bool,

    /// Run in network namespace NAME (/run/netns/NAME, or a path), like `ip -n`
    /// (show, record, reset).
    #[arg(short = 'n', long = "netns", value_name = "NAME", global = true)]
    pub netns: Option<String>,

    /// Netlink protocol number of the module, 0..=31 (its `nl_proto` parameter).
    #[arg(
        long,
        value_name = "N",
        env = "FIBSTAT_NETLINK_PROTO",
        default_value_t = NETLINK_FIB_STAT,
        value_parser = clap::value_parser!(i32).range(0..=31),
        global = true
    )]
    pub proto: i32,

    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Statistics and lock mode of the current (or named) network namespace.
    Show(client::ShowArgs),
    /// Record a gateway (CAP_NET_ADMIN).
    Record(client::RecordArgs),
    /// Zero the statistics of the network namespace (CAP_NET_ADMIN).
    Reset(client::ResetArgs),
    /// Find, title and explain kernel reports (lockdep, WARNING, BUG, KASAN,
    /// UBSAN, oopses, stalls, leaks...) in a kernel log.
    Explain(explain::ExplainArgs),
    /// Send an arbitrary netlink message and print the answers (for tests).
    #[command(hide = true)]
    Raw(client::RawArgs),
}

/// The clap command (for the man page and completions). `explain` takes
/// none of the netlink options: it gets them hidden, so that its help, man
/// page and completions leave them out (global, they would be listed), and
/// `main` still refuses them there with the reason.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let netlink: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| matches!(a.get_id().as_str(), "netns" | "proto"))
        .map(|a| a.clone().hide(true))
        .collect();
    cmd.mut_subcommand("explain", |explain| explain.args(netlink))
}

fn given(m: &ArgMatches, id: &str) -> bool {
    let on_line = |m: &ArgMatches| m.value_source(id) == Some(ValueSource::CommandLine);
    on_line(m) || m.subcommand().is_some_and(|(_, sub)| on_line(sub))
}

/// Parses the command line and runs the subcommand; returns the exit status.
pub fn main() -> i32 {
    let matches = command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let conn = Conn {
        netns: cli.netns.clone(),
        proto: cli.proto,
    };
    match &cli.cmd {
        Cmd::Show(_) => client::show(&conn, cli.json, cli.pretty),
        Cmd::Record(a) => client::record(&conn, a),
        Cmd::Reset(_) => client::reset(&conn),
        Cmd::Raw(a) => client::raw(&conn, a),
        Cmd::Explain(a) => {
            for (id, opt) in [("netns", "-n/--netns"), ("proto", "--proto")] {
                if given(&matches, id) {
                    command()
                        .error(
                            ErrorKind::ArgumentConflict,
                            format!("{opt} applies to show, record and reset, not to explain"),
                        )
                        .exit();
                }
            }
            explain::run(
                a,
                explain::Format {
                    json: cli.json || cli.pretty,
                    pretty: cli.pretty,
                },
            )
        }
    }
}
