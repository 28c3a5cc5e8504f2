use clap::{Parser, Subcommand};

/// fibstat: talk to the fib_stat kernel module, and read lockdep reports.
#[derive(Parser)]
#[command(name = "fibstat", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Statistics and lock mode of the current (or named) network namespace.
    Show(fibstat::client::ShowArgs),
    /// Record a gateway (CAP_NET_ADMIN).
    Record(fibstat::client::RecordArgs),
    /// Zero the statistics of the network namespace (CAP_NET_ADMIN).
    Reset(fibstat::client::ResetArgs),
    /// Find and decode lockdep reports in a kernel log.
    Explain(fibstat::explain::ExplainArgs),
    /// Send an arbitrary netlink message and print the answers (for tests).
    #[command(hide = true)]
    Raw(fibstat::client::RawArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Show(a) => fibstat::client::show(&a),
        Cmd::Record(a) => fibstat::client::record(&a),
        Cmd::Reset(a) => fibstat::client::reset(&a),
        Cmd::Explain(a) => fibstat::explain::run(&a),
        Cmd::Raw(a) => fibstat::client::raw(&a),
    };
    std::process::exit(code);
}
