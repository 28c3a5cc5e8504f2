//! Throughput of `fibstat explain` on a large synthetic kernel log.
//!
//! `cargo bench --bench explain` generates (in memory, never on disk in the
//! repository) FIBSTAT_BENCH_MB megabytes (default 200) of ordinary kernel
//! lines with `[timestamp]` prefixes, including decoys that pass the cheap
//! prefilter (`WARNING: CPU: ...`, `BUG: ...`, `INFO: ...`), and sprinkles a
//! real lockdep report into it every ~2 MB. It then decodes the log the way
//! `fibstat explain` does (streaming, line by line) and prints MB/s.
//! A second run goes through a temporary file and a `BufReader`, as the CLI
//! reads a FILE argument.

use std::io::{BufReader, Write};
use std::time::Instant;

use fibstat::explain::explain_reader;

const REPORTS: &[&str] = &[
    include_str!("../tests/fixtures/rust-module-in-softirq-synthetic.txt"),
    include_str!("../tests/fixtures/syzbot-sctp-circular.txt"),
    include_str!("../tests/fixtures/mt76-in-softirq-plain.txt"),
    include_str!("../tests/fixtures/syzbot-ppp-irq-inversion.txt"),
];

const ORDINARY: &[&str] = &[
    "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "EXT4-fs (nvme0n1p2): mounted filesystem 5e0f1c9a-3c7e-4e52-9d8e-1f2a3b4c5d6e r/w with ordered data mode. Quota mode: none.",
    "audit: type=1400 audit(1712672426.123:42): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"nvidia_modprobe\" pid=812 comm=\"apparmor_parser\"",
    "usb 1-1.4: new high-speed USB device number 5 using xhci_hcd",
    "IPv6: ADDRCONF(NETDEV_CHANGE): wlp3s0: link becomes ready",
    "fib_stat: recorded 1 gateway(s) in netns 4026531840",
    "TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.  Check SNMP counters.",
    "nvme nvme0: 8/0/0 default/read/poll queues",
    "WARNING: CPU: 3 PID: 1187 at drivers/gpu/drm/i915/display/intel_display.c:1234 intel_atomic_commit_tail+0x5a1/0x1710 [i915]",
    "BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 31s!",
    "INFO: task kworker/u16:3:1234 blocked for more than 122 seconds.",
    "systemd-journald[301]: Received client request to flush runtime journal.",
];

fn generate(target: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(target + 64 * 1024);
    let mut seconds = 0u64;
    let mut micros = 0u64;
    let mut i = 0usize;
    let mut next_report = 2 << 20;
    let mut reports = 0usize;
    while out.len() < target {
        if out.len() >= next_report {
            out.extend_from_slice(REPORTS[reports % REPORTS.len()].as_bytes());
            reports += 1;
            next_report += 2 << 20;
            continue;
        }
        micros += 137;
        if micros >= 1_000_000 {
            micros -= 1_000_000;
            seconds += 1;
        }
        let _ = writeln!(
            out,
            "[{seconds:5}.{micros:06}] {}",
            ORDINARY[i % ORDINARY.len()]
        );
        i += 1;
    }
    (out, reports)
}

fn expected_reports(n: usize) -> usize {
    // Every fixture in REPORTS holds exactly one report.
    n
}

fn main() {
    let mb: usize = std::env::var("FIBSTAT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let (log, sprinkled) = generate(mb << 20);
    let size_mb = log.len() as f64 / (1u64 << 20) as f64;
    println!(
        "synthetic log: {size_mb:.1} MiB, {} lines, {sprinkled} reports sprinkled",
        log.iter().filter(|&&b| b == b'\n').count()
    );

    // In memory (what the decoder itself costs).
    let mut best = f64::MAX;
    for run in 0..3 {
        let t = Instant::now();
        let out = match explain_reader(&log[..]) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("read error: {e}");
                std::process::exit(1);
            }
        };
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        assert_eq!(out.reports.len(), expected_reports(sprinkled));
        println!(
            "run {run}: in-memory {:.3} s, {:.0} MiB/s, {} reports",
            secs,
            size_mb / secs,
            out.reports.len()
        );
    }
    println!("best in-memory: {:.0} MiB/s", size_mb / best);

    // Through a file, as `fibstat explain FILE` reads it.
    let path = std::env::temp_dir().join(format!("fibstat-bench-{}.log", std::process::id()));
    if std::fs::write(&path, &log).is_ok() {
        if let Ok(f) = std::fs::File::open(&path) {
            let t = Instant::now();
            let out = explain_reader(BufReader::with_capacity(1 << 18, f));
            let secs = t.elapsed().as_secs_f64();
            if let Ok(out) = out {
                println!(
                    "file: {:.3} s, {:.0} MiB/s, {} reports",
                    secs,
                    size_mb / secs,
                    out.reports.len()
                );
            }
        }
        let _ = std::fs::remove_file(&path);
    }
}
