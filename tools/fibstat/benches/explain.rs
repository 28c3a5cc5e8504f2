//! Throughput of `fibstat explain` against `grep -F -c` on the same log.
//!
//! `cargo bench --bench explain` builds a log of FIBSTAT_BENCH_MB megabytes
//! (default 200) from real guest kernel logs of this project (a clean boot
//! and a `bh` repro run, tests/fixtures/guest/), repeated with advancing
//! timestamps, with 48 real `spin` lockdep reports (tests/fixtures/project-
//! spin-*.txt) spread evenly through it. The file goes to cargo's target
//! tmp dir, never into the repository.
//!
//! Then, alternately and FIBSTAT_BENCH_RUNS times (default 7, after one
//! warm-up run each), it times the release `fibstat explain FILE` and
//! `grep -F -c 'WARNING: inconsistent lock state' FILE`, both as processes
//! writing to a pipe (with output to /dev/null GNU grep stops at the first
//! match), checks that both find the 48 reports, and prints the median
//! times with their spreads ((max - min) / median), ending with one line for
//! `make bench` (ratio: the median of the per-run ratios, spread: theirs):
//!
//!   explain-vs-grep: explain=<s>s grep=<s>s ratio=<r> runs=<n> spread=<pct>%

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const REPORTS: usize = 48;
const GREP_PATTERN: &str = "WARNING: inconsistent lock state";

fn fixture(rel: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", rel]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("bench: cannot read {}: {e}", path.display());
        std::process::exit(2)
    })
}

/// The kernel log lines of a `vm-run --log` file.
fn kernel_log(text: &str) -> Vec<String> {
    let start = text
        .find("----- guest kernel log -----\n")
        .map_or(0, |i| i + 29);
    let end = text[start..]
        .find("----- end of guest kernel log -----")
        .map_or(text.len(), |i| start + i);
    text[start..end].lines().map(str::to_owned).collect()
}

/// `[   12.345678] msg` -> (seconds, msg); lines without timestamp keep 0.
fn split_stamp(line: &str) -> (f64, &str) {
    if let Some(rest) = line.strip_prefix('[') {
        if let Some((ts, msg)) = rest.split_once("] ") {
            if let Ok(t) = ts.trim().parse::<f64>() {
                return (t, msg);
            }
        }
    }
    (0.0, line)
}

fn generate(target: usize) -> Vec<u8> {
    let mut boot: Vec<String> = Vec::new();
    for f in [
        "guest/clean-boot-default.log",
        "guest/bh-netlink-then-arp.log",
    ] {
        boot.extend(kernel_log(&fixture(f)));
    }
    let reports: Vec<Vec<String>> = [
        "project-spin-netlink-then-arp.txt",
        "project-spin-arp-then-netlink.txt",
        "project-spin-netlink-then-arp-veth.txt",
    ]
    .iter()
    .map(|f| fixture(f).lines().map(str::to_owned).collect())
    .collect();
    let mut out = Vec::with_capacity(target + (1 << 20));
    let every = target / REPORTS;
    let mut next_report = every / 2;
    let mut placed = 0;
    let mut base = 0.0f64;
    let mut last = 0.0f64;
    'fill: loop {
        for line in &boot {
            if out.len() >= target {
                break 'fill;
            }
            if placed < REPORTS && out.len() >= next_report {
                for l in &reports[placed % reports.len()] {
                    let (t, msg) = split_stamp(l);
                    let _ = writeln!(out, "[{:12.6}] {msg}", base + t);
                }
                placed += 1;
                next_report += every;
            }
            let (t, msg) = split_stamp(line);
            last = last.max(t);
            let _ = writeln!(out, "[{:12.6}] {msg}", base + t);
        }
        base += last + 1.0;
    }
    assert_eq!(placed, REPORTS, "log too small for {REPORTS} reports");
    out
}

/// Runs a command with stdout to a pipe we drain; returns (seconds, stdout).
fn timed(cmd: &mut Command) -> (f64, String) {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("bench: cannot run {cmd:?}: {e}");
            std::process::exit(2)
        });
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    let _ = child.wait();
    (t.elapsed().as_secs_f64(), out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn spread(v: &[f64], med: f64) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    (hi - lo) / med * 100.0
}

fn main() {
    let mb: usize = std::env::var("FIBSTAT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runs: usize = std::env::var("FIBSTAT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1);
    let log = generate(mb << 20);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("explain-bench-{mb}mb.log"));
    if let Err(e) = std::fs::write(&path, &log) {
        eprintln!("bench: cannot write {}: {e}", path.display());
        std::process::exit(2);
    }
    let lines = log.iter().filter(|&&b| b == b'\n').count();
    let size = log.len() as f64 / f64::from(1u32 << 20);
    drop(log);
    println!(
        "log: {} ({size:.1} MiB, {lines} lines, {REPORTS} lockdep reports in real guest boot logs)",
        path.display()
    );

    let explain = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fibstat"));
        c.arg("explain").arg(&path);
        c
    };
    let grep = || {
        let mut c = Command::new("grep");
        c.args(["-F", "-c", GREP_PATTERN]).arg(&path);
        c
    };
    // Warm-up (page cache) and the answers.
    let _ = timed(&mut explain());
    let (_, summary) = timed(explain().arg("--summary"));
    let (_, g_out) = timed(&mut grep());
    let want = format!("{REPORTS} kernel reports (");
    assert!(summary.starts_with(&want), "explain --summary:\n{summary}");
    assert_eq!(g_out.trim(), REPORTS.to_string(), "grep -c");

    let (mut te, mut tg) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let (e, _) = timed(&mut explain());
        let (g, _) = timed(&mut grep());
        println!(
            "run {run}: explain {e:.3} s ({:.0} MiB/s), grep {g:.3} s",
            size / e
        );
        te.push(e);
        tg.push(g);
    }
    // The ratio of each run (explain and grep back to back), as scripts/bench
    // reports every pairwise row: its median and spread.
    let mut tr: Vec<f64> = te.iter().zip(&tg).map(|(e, g)| e / g).collect();
    let (me, mg) = (median(&mut te), median(&mut tg));
    let (se, sg) = (spread(&te, me), spread(&tg, mg));
    let ratio = median(&mut tr);
    let sr = spread(&tr, ratio);
    println!(
        "median: explain {me:.3} s ({:.0} MiB/s, spread {se:.0}%), grep {mg:.3} s ({:.0} MiB/s, spread {sg:.0}%), ratio {ratio:.2}",
        size / me,
        size / mg
    );
    println!(
        "explain-vs-grep: explain={me:.3}s grep={mg:.3}s ratio={ratio:.2} runs={runs} spread={sr:.1}%"
    );
    let _ = std::fs::remove_file(&path);
}
