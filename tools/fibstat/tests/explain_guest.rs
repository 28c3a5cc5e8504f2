//! Whole `scripts/vm-run --log` files of this project's guests
//! (tests/fixtures/guest), of both kernel flavors (default: lockdep; debug:
//! lockdep, KASAN, kmemleak, UBSAN, DEBUG_OBJECTS, ...): a clean boot and a
//! clean `bh` repro run hold no report (`--fail-on-report` must not fire on
//! them), a `spin` run exactly its one. These are the logs the test library checks with
//! `fibstat explain --fail-on-report`.

use std::path::PathBuf;
use std::process::Command;

use fibstat::explain::explain_bytes;
use fibstat::explain::model::Kind;

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
