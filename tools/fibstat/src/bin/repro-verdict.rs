//! repro-verdict: the verdict of `make repro` (see `fibstat::repro`).
//!
//!   repro-verdict --out DIR [--expect-class NAME] [--linux-source-version VERSION]
//!                 [--vmlinux FILE --modules DIR] RUN...
//!
//! RUN is `MODE:SCENARIO:TOPOLOGY:ORDER:VM_STATUS:LOG`. Prints the human
//! report, writes DIR/report.txt and DIR/report.json, exits 0 only if every
//! check of every run passed. With `--vmlinux` and `--modules` (holding
//! `MODE/fib_stat.ko`), the reports get source lines. With
//! `--linux-source-version` (the Debian package's, `6.12.118-1~deb12u1`),
//! every guest's `uname -r` must be that source's version.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fibstat::repro::{self, Expect, RunSpec};

#[derive(Parser)]
#[command(name = "repro-verdict")]
struct Args {
    /// Directory for report.txt and report.json.
    #[arg(long)]
    out: PathBuf,
    /// Lock class the spin reports must name.
    #[arg(long, default_value = repro::LOCK_CLASS)]
    expect_class: String,
    /// Version of the Debian linux-source package the kernel was built from;
    /// every guest's `uname -r` must be its upstream version.
    #[arg(long, value_name = "VERSION")]
    linux_source_version: Option<String>,
    /// vmlinux with debug info, for source lines.
    #[arg(long, value_name = "FILE")]
    vmlinux: Option<PathBuf>,
    /// Directory holding MODE/fib_stat.ko (with debug info), for source lines.
    #[arg(long, value_name = "DIR", requires = "vmlinux")]
    modules: Option<PathBuf>,
    /// Runs as MODE:SCENARIO:TOPOLOGY:ORDER:VM_STATUS:LOG.
    #[arg(required = true, value_parser = RunSpec::parse)]
    runs: Vec<RunSpec>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let expect = Expect {
        lock_class: args.expect_class,
        vmlinux: args.vmlinux,
        modules: args.modules,
        linux_source_version: args.linux_source_version,
    };
    let verdict = match repro::judge_all(&args.runs, &expect) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("repro-verdict: cannot load the debug info for source lines: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", repro::render_text(&verdict));
    if let Err(e) = repro::write(&verdict, &args.out) {
        eprintln!(
            "repro-verdict: cannot write the report to {}: {e}",
            args.out.display()
        );
        return ExitCode::from(2);
    }
    println!(
        "\nreport: {}/report.txt, {}/report.json",
        args.out.display(),
        args.out.display()
    );
    if verdict.passed {
        ExitCode::SUCCESS
    } else {
        let failed: Vec<String> = verdict
            .runs
            .iter()
            .flat_map(|r| {
                r.checks
                    .iter()
                    .filter(|c| !c.ok)
                    .map(move |c| format!("{} {}: {}", r.mode, r.scenario, c.name))
            })
            .collect();
        eprintln!("repro-verdict: FAIL: {}", failed.join("; "));
        ExitCode::FAILURE
    }
}
