//! Whole `scripts/vm-run --log` files of this project's guests
//! (tests/fixtures/guest), of both kernel flavors (default: lockdep; debug:
//! lockdep, KASAN, kmemleak, UBSAN, DEBUG_OBJECTS, ...): a clean boot and a
//! clean `bh` repro run hold no report (`--fail-on-report` must not fire on
//! them), a `spin` run exactly its one. These are the logs the test library checks with
//! `fibstat explain --fail-on-report`.

use std::path::PathBuf;
use std::process::Command;

use fibstat::explain::model::Kind;
use fibstat::explain::{explain_bytes, explain_bytes_once};

fn path(name: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "guest",
        name,
    ]
    .iter()
    .collect()
}

fn fail_on_report(name: &str) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(["explain", "--fail-on-report"])
        .arg(path(name))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

const CLEAN: &[&str] = &[
    "clean-boot-default.log",
    "bh-netlink-then-arp.log",
    "clean-boot-debug.log",
    "bh-netlink-then-arp-debug.log",
];

#[test]
fn clean_guest_logs_hold_no_report() {
    for name in CLEAN {
        let bytes = std::fs::read(path(name)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        // Really a whole guest log, with lines the prefilter looks at.
        assert!(text.contains("----- guest kernel log -----"), "{name}");
        assert!(text.contains("Linux version 6.12"), "{name}");
        let out = explain_bytes(&bytes);
        assert!(out.reports.is_empty(), "{name}: {:#?}", out.reports);
        assert_eq!(
            fail_on_report(name),
            (Some(0), "no kernel report found\n".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn debug_flavor_logs_are_the_debug_kernel() {
    for name in ["clean-boot-debug.log", "bh-netlink-then-arp-debug.log"] {
        let text = std::fs::read_to_string(path(name)).unwrap();
        assert!(
            text.contains("KernelAddressSanitizer initialized"),
            "{name}"
        );
        assert!(
            text.contains("kmemleak: Kernel memory leak detector initialized"),
            "{name}"
        );
        assert!(text.contains("guest kmemleak: 0"), "{name}");
    }
}

#[test]
fn spin_guest_logs_hold_their_one_report() {
    for name in [
        "spin-netlink-then-arp.log",
        "spin-netlink-then-arp-debug.log",
    ] {
        spin_log(name);
    }
}

/// vm-run echoes the kernel log live and prints it again in its record:
/// piped into explain, the one report is there twice, verbatim (same
/// banner timestamp, same text), and counts once. The doubled log is the
/// real one with its report's lines (as the live echo printed them) in
/// front.
#[test]
fn report_logged_twice_counts_once() {
    let name = "spin-netlink-then-arp-doubled.log";
    let text = std::fs::read_to_string(path(name)).unwrap();
    assert_eq!(text.matches("WARNING: inconsistent lock state").count(), 2);
    let (code, summary) = fail_on_report(name);
    assert_eq!(code, Some(1));
    assert_eq!(
        summary,
        "1 kernel report (1 distinct):\n     1x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (line 7)\n"
    );
    let out = explain_bytes_once(text.as_bytes());
    // The library's plain explain_bytes() counts every report it reads.
    assert_eq!(explain_bytes(text.as_bytes()).reports.len(), 2);
    assert_eq!(out.reports[0].line, 7);
    assert_eq!(out.groups.len(), 1);
    assert_eq!(out.groups[0].count, 1);
    // The same text at another time is another report: both count.
    let again = text.replacen(
        "[   44.326476] WARNING: inconsistent",
        "[   99.000001] WARNING: inconsistent",
        1,
    );
    assert_eq!(explain_bytes_once(again.as_bytes()).reports.len(), 2);
    // And without timestamps, nothing tells a repeat from a second report.
    let report: String = text
        .lines()
        .take(100)
        .map(|l| format!("{}\n", l.split_once("] ").map_or(l, |(_, m)| m)))
        .collect();
    let twice = format!("{report}{report}");
    assert_eq!(explain_bytes_once(twice.as_bytes()).reports.len(), 2);
}

fn spin_log(name: &str) {
    let out = explain_bytes(&std::fs::read(path(name)).unwrap());
    assert_eq!(out.reports.len(), 1, "{:#?}", out.reports);
    let r = &out.reports[0];
    assert_eq!(r.kind, Kind::InconsistentLockState);
    assert_eq!(r.title, "inconsistent lock state in net_event_callback");
    assert_eq!(r.process_side_caller.as_deref(), Some("fib_stat_rcv_proc"));
    let (code, text) = fail_on_report(name);
    assert_eq!(code, Some(1));
    assert_eq!(
        text,
        format!(
            "1 kernel report (1 distinct):\n     1x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (line {})\n",
            r.line
        )
    );
}

/// Real reports of the debug-flavor kernel (tests/fixtures/guest/oracle):
/// a test module of this project (`oracle`) commits one bug of each kind at
/// load time. The titles follow syzkaller's rules, quirks included: its
/// skip patterns are unanchored substrings, so `oracle_kasan`,
/// `oracle_ubsan` and `oracle_kmemleak` are skipped like KASAN's, UBSAN's
/// and kmemleak's own frames, and the title names the next frame.
#[test]
fn debug_kernel_reports_of_every_kind() {
    for (name, kind, title) in [
        (
            "kasan.log",
            Kind::Kasan,
            "KASAN: slab-use-after-free Read in init_module",
        ),
        (
            "ubsan.log",
            Kind::Ubsan,
            "UBSAN: array-index-out-of-bounds in init_module",
        ),
        (
            "odebug.log",
            Kind::Odebug,
            "WARNING: ODEBUG bug in oracle_odebug",
        ),
        (
            "debug_net.log",
            Kind::Warning,
            "WARNING in oracle_debug_net",
        ),
        // CFI failure, then the oops and the panic it causes: one report.
        ("cfi.log", Kind::CfiFailure, "CFI failure in oracle_cfi"),
        // vm-run's kmemleak dump after the kernel log: unprefixed lines,
        // 6.x's `backtrace (crc ...)`, a bare address for the module's
        // freed init code.
        (
            "kmemleak.log",
            Kind::MemoryLeak,
            "memory leak in do_one_initcall",
        ),
    ] {
        let p = format!("oracle/{name}");
        let out = explain_bytes(&std::fs::read(path(&p)).unwrap());
        let got: Vec<(Kind, &str)> = out
            .reports
            .iter()
            .map(|r| (r.kind, r.title.as_str()))
            .collect();
        assert_eq!(got, vec![(kind, title)], "{name}");
        let (code, text) = fail_on_report(&p);
        assert_eq!(code, Some(1), "{name}");
        assert!(text.contains(title), "{name}: {text}");
    }
}

#[test]
fn kmemleak_backtrace_keeps_the_bare_address_frame() {
    let out = explain_bytes(&std::fs::read(path("oracle/kmemleak.log")).unwrap());
    let r = &out.reports[0];
    let frames: Vec<&str> = r.stacks[0]
        .frames
        .iter()
        .map(|f| f.function.as_str())
        .collect();
    assert_eq!(r.stacks[0].label, "backtrace");
    assert_eq!(
        frames,
        [
            "kmemleak_alloc",
            "__kmalloc_cache_noprof",
            "oracle_kmemleak",
            "0xffffffffa00070c6",
            "do_one_initcall",
            "do_init_module",
            "load_module",
            "__x64_sys_finit_module",
            "x64_sys_call",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ]
    );
    assert_eq!(r.task.as_ref().map(|t| t.comm.as_str()), Some("insmod"));
    // The bare address above the module loader: the oracle module's init
    // function, named from the report's `[oracle]` frame.
    let notes: Vec<Option<&str>> = r.stacks[0]
        .frames
        .iter()
        .map(|f| f.note.as_deref())
        .collect();
    assert_eq!(
        notes[3],
        Some("init text of module oracle (freed after load)")
    );
    assert_eq!(notes.iter().flatten().count(), 1);
}

/// A real RCU stall of a starved TCG guest during a `bh` repro run (the
/// host was overloaded): two reports, `rcu: ` after the timestamp, an NMI
/// line of another CPU with an older timestamp in between, no stack at
/// loglevel 5. Identical, so one group of two.
#[test]
fn rcu_stall_of_a_starved_guest() {
    let name = "rcu-stall-tcg.log";
    let out = explain_bytes(&std::fs::read(path(name)).unwrap());
    let got: Vec<(Kind, &str, usize)> = out
        .reports
        .iter()
        .map(|r| (r.kind, r.title.as_str(), r.line))
        .collect();
    assert_eq!(
        got,
        [
            (Kind::RcuStall, "INFO: rcu detected stall", 22),
            (Kind::RcuStall, "INFO: rcu detected stall", 31)
        ]
    );
    assert_eq!(out.groups.len(), 1);
    assert_eq!(out.groups[0].count, 2);
    assert_eq!(
        fail_on_report(name),
        (
            Some(1),
            "2 kernel reports (1 distinct):\n     2x  INFO: rcu detected stall  [rcu_stall] (lines 22, 31)\n".to_owned()
        )
    );
}

/// A real WARNING of a Rust module (a `spin_unlock_bh` with interrupts
/// off, in a selftest build of fib_stat): `__local_bh_enable_ip` and the
/// unlock helpers are skipped as syzkaller skips them (`bh_enable`,
/// `spin_unlock`), the title names the demangled Rust function.
#[test]
fn rust_module_warning() {
    let out = explain_bytes(&std::fs::read(path("rust-warning-unlock-bh.log")).unwrap());
    assert_eq!(out.reports.len(), 1);
    let r = &out.reports[0];
    assert_eq!(r.kind, Kind::Warning);
    assert_eq!(
        r.title,
        "WARNING in <fib_stat::FibStat as kernel::Module>::init"
    );
    assert_eq!(r.location.as_deref(), Some("kernel/softirq.c:387"));
}
