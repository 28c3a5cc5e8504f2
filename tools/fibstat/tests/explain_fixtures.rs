//! `fibstat explain` on real lockdep reports (tests/fixtures, sources in
//! tests/fixtures/SOURCES.md): every decoded field the project relies on is
//! asserted exactly.

use std::path::PathBuf;

use fibstat::explain::model::{Frame, Kind, Report};
use fibstat::explain::{explain_bytes, Output};

fn fixture(name: &str) -> Output {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    explain_bytes(&bytes)
}

fn only(name: &str) -> Report {
    let out = fixture(name);
    assert_eq!(out.schema_version, 2);
    assert_eq!(out.reports.len(), 1, "{name}: {:#?}", out.reports);
    out.reports
        .into_iter()
        .next()
        .unwrap_or_else(|| unreachable!())
}

fn functions(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|f| f.function.as_str()).collect()
}

/// The fields every inconsistent-lock-state fixture is checked on.
struct Expect<'a> {
    title: &'a str,
    from: &'a str,
    to: &'a str,
    lock: &'a str,
    address: Option<&'a str>,
    usage: &'a str,
    wait: Option<&'a str>,
    comm: &'a str,
    pid: u64,
    flags: &'a str,
    registration_caller: &'a str,
    current_caller: &'a str,
    process_side: &'a str,
    irq_kind: &'a str,
    primitive: &'a str,
}

fn check_inconsistent(r: &Report, e: &Expect) {
    assert_eq!(r.kind, Kind::InconsistentLockState);
    assert_eq!(r.title, e.title);
    assert_eq!(r.banner, "WARNING: inconsistent lock state");
    let t = r.transition.as_ref().expect("transition");
    assert_eq!((t.from.as_str(), t.to.as_str()), (e.from, e.to));
    let lock = r.lock.as_ref().expect("lock");
    assert_eq!(lock.name, e.lock);
    assert_eq!(lock.address.as_deref(), e.address);
    assert_eq!(lock.usage_bits.as_deref(), Some(e.usage));
    assert_eq!(lock.wait_types.as_deref(), e.wait);
    let task = r.task.as_ref().expect("task");
    assert_eq!(task.comm, e.comm);
    assert_eq!(task.pid, Some(e.pid));
    assert_eq!(task.flags.as_deref(), Some(e.flags));
    assert_eq!(
        r.registration_caller.as_deref(),
        Some(e.registration_caller)
    );
    assert_eq!(r.current_caller.as_deref(), Some(e.current_caller));
    assert_eq!(r.irq_kind.as_deref(), Some(e.irq_kind));
    assert_eq!(r.process_side.as_deref(), Some(e.process_side));
    let (proc_caller, irq_caller) = if e.process_side == "registration" {
        (e.registration_caller, e.current_caller)
    } else {
        (e.current_caller, e.registration_caller)
    };
    assert_eq!(r.process_side_caller.as_deref(), Some(proc_caller));
    assert_eq!(r.irq_side_caller.as_deref(), Some(irq_caller));
    let fix = r.fix.as_ref().expect("fix");
    assert_eq!(fix.primitive.as_deref(), Some(e.primitive));
    assert_eq!(fix.apply_to.as_deref(), Some(proc_caller));
    assert!(!r.registration_stack.is_empty());
    assert!(!r.current_stack.is_empty());
    assert!(r.scenario.iter().any(|l| l.trim() == "<Interrupt>"));
    assert!(r
        .scenario
        .last()
        .is_some_and(|l| l.contains("*** DEADLOCK ***")));
}

#[test]
fn seed_blog_syslog_softirq_on_to_in_softirq() {
    let r = only("seed-blog.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in net_event_callback",
            from: "SOFTIRQ-ON-W",
            to: "IN-SOFTIRQ-W",
            lock: "&net->ipv4.fib_statistics->lock",
            address: Some("ffff88810d520018"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "swapper/1",
            pid: 0,
            flags: "HC0[0]:SC1[1]:HE1:SE0",
            registration_caller: "fib_stat_rcv_proc",
            current_caller: "net_event_callback",
            process_side: "registration",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
    );
    assert_eq!(r.line, 8);
    assert_eq!(r.kernel.as_deref(), Some("6.1 #4 Tainted: G O"));
    let task = r.task.as_ref().unwrap();
    assert_eq!(task.hardirq_context, Some(0));
    assert_eq!(task.hardirq_count, Some(0));
    assert_eq!(task.softirq_context, Some(1));
    assert_eq!(task.softirq_count, Some(1));
    assert_eq!(task.hardirqs_enabled, Some(true));
    assert_eq!(task.softirqs_enabled, Some(false));
    let lock = r.lock.as_ref().unwrap();
    assert_eq!(lock.wait_type_outer, Some(2));
    assert_eq!(lock.wait_type_inner, Some(2));
    let chars: Vec<(&str, &str, &str)> = lock
        .usage_decoded
        .iter()
        .map(|b| (b.irq.as_str(), b.access.as_str(), b.char.as_str()))
        .collect();
    assert_eq!(
        chars,
        vec![
            ("hardirq", "write", "+"),
            ("hardirq", "read", "."),
            ("softirq", "write", "?"),
            ("softirq", "read", ".")
        ]
    );
    assert!(lock.usage_decoded[2].used_in_irq && lock.usage_decoded[2].used_with_irq_enabled);
    let at = r.acquired_at.as_ref().unwrap();
    assert_eq!(
        (
            at.function.as_str(),
            at.offset.as_deref(),
            at.size.as_deref()
        ),
        ("net_event_callback", Some("0x373"), Some("0x490"))
    );
    assert_eq!(
        functions(&r.registration_stack[..3]),
        vec!["lock_acquire", "_raw_spin_lock", "fib_stat_rcv_proc"]
    );
    assert_eq!(r.registration_stack.len(), 13);
    // The `//spin_lock(...)` annotation pasted after a frame is ignored.
    assert!(r
        .current_stack
        .iter()
        .any(|f| f.function == "_raw_spin_lock"));
    assert!(r.current_stack.iter().filter(|f| f.unreliable).count() >= 6);
    assert_eq!(
        r.scenario,
        vec![
            "CPU0",
            "----",
            "lock(&net->ipv4.fib_statistics->lock);",
            "<Interrupt>",
            "lock(&net->ipv4.fib_statistics->lock);",
            "",
            "*** DEADLOCK ***"
        ]
    );
    assert_eq!(r.held_locks.len(), 3);
    assert_eq!(r.held_locks[2].lock.name, "rcu_read_lock");
    assert_eq!(
        r.held_locks[2]
            .acquired_at
            .as_ref()
            .map(|f| f.function.as_str()),
        Some("net_event_callback")
    );
    assert_eq!(
        r.fix.as_ref().unwrap().unlock.as_deref(),
        Some("spin_unlock_bh")
    );
    // The blog repeats fragments of the log without a banner: not reports.
    assert_eq!(r.raw[0], "WARNING: inconsistent lock state");
}

#[test]
fn mt76_plain_in_softirq_to_softirq_on() {
    let r = only("mt76-in-softirq-plain.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in mt76_dma_cleanup",
            from: "IN-SOFTIRQ-W",
            to: "SOFTIRQ-ON-W",
            lock: "&dev->lock#2",
            address: Some("ffff888156a83530"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "rmmod",
            pid: 1227,
            flags: "HC0[0]:SC0[0]:HE1:SE1",
            registration_caller: "mt76_dma_tx_cleanup",
            current_caller: "mt76_dma_cleanup",
            process_side: "current",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
    );
    assert_eq!(r.line, 9);
    assert_eq!(
        r.acquired_at.as_ref().unwrap().module.as_deref(),
        Some("mt76")
    );
    // The report ends with the call trace (RIP/Code lines included).
    assert!(r.raw.last().unwrap().starts_with("Code:"));
}

#[test]
fn mt76_serial_console_variant_decodes_the_same() {
    let plain = only("mt76-in-softirq-plain.txt");
    let serial = only("mt76-serial-console.txt");
    assert_eq!(serial.line, 4);
    assert_eq!(serial.title, plain.title);
    assert_eq!(serial.transition, plain.transition);
    assert_eq!(serial.lock, plain.lock);
    assert_eq!(serial.registration_stack, plain.registration_stack);
    assert_eq!(serial.current_stack, plain.current_stack);
    assert_eq!(serial.scenario, plain.scenario);
    assert_eq!(serial.fix, plain.fix);
}

#[test]
fn nfs_indented_and_mail_wrapped() {
    let r = only("nfs-xa-lock-indented-wrapped.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in nfs_netfs_issue_read",
            from: "IN-SOFTIRQ-W",
            to: "SOFTIRQ-ON-W",
            lock: "&xa->xa_lock#4",
            address: Some("ffff888127baa598"),
            usage: "{+.?.}",
            wait: Some("{3:3}"),
            comm: "test5",
            pid: 1708,
            flags: "HC0[0]:SC0[0]:HE1:SE1",
            registration_caller: "__folio_end_writeback",
            current_caller: "nfs_netfs_issue_read",
            process_side: "current",
            irq_kind: "softirq",
            primitive: "xa_lock_bh",
        },
    );
    // `{4:4}` mutexes in the held locks reveal CONFIG_PROVE_RAW_LOCK_NESTING,
    // so 3 is LD_WAIT_CONFIG.
    let lock = r.lock.as_ref().unwrap();
    assert!(lock
        .wait_type_inner_name
        .as_deref()
        .is_some_and(|n| n.starts_with("LD_WAIT_CONFIG")));
    assert_eq!(r.held_locks.len(), 2);
    assert_eq!(
        r.held_locks[0]
            .acquired_at
            .as_ref()
            .map(|f| f.function.as_str()),
        Some("nfs_start_io_read")
    );
    assert_eq!(
        r.current_stack.last().map(|f| f.function.as_str()),
        Some("ksys_read")
    );
}

#[test]
fn selinux_quoted_printk_levels() {
    let r = only("selinux-sidtab-quoted-kmsg.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in sidtab_sid2str_put",
            from: "SOFTIRQ-ON-W",
            to: "IN-SOFTIRQ-W",
            lock: "&(&s->cache_lock)->rlock",
            address: Some("ffff888703331198"),
            usage: "{+.?.}",
            wait: None,
            comm: "client",
            pid: 4460,
            flags: "HC0[0]:SC1[1]:HE1:SE0",
            registration_caller: "sidtab_sid2str_put",
            current_caller: "sidtab_sid2str_put",
            process_side: "registration",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
    );
    assert_eq!(
        r.acquired_at.as_ref().unwrap().function,
        "sidtab_sid2str_put.part.0"
    );
    assert_eq!(r.held_locks.len(), 5);
    assert_eq!(r.held_locks[4].lock.name, "&selinux_ss.policy_rwlock");
    assert_eq!(
        r.held_locks[4].lock.address.as_deref(),
        Some("ffffffffa2023128")
    );
}

#[test]
fn kfence_tab_indented_syzkaller_frames() {
    let r = only("kfence-cpa-lock-tab-syzkaller.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in __change_page_attr_set_clr",
            from: "SOFTIRQ-ON-W",
            to: "IN-SOFTIRQ-W",
            lock: "cpa_lock",
            address: Some("ffffffff89fcf9b8"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "ksoftirqd/1",
            pid: 16,
            flags: "HC0[0]:SC1[1]:HE1:SE0",
            registration_caller: "__change_page_attr_set_clr",
            current_caller: "__change_page_attr_set_clr",
            process_side: "registration",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
    );
    let at = r.acquired_at.as_ref().unwrap();
    assert_eq!(at.file.as_deref(), Some("arch/x86/mm/pat/set_memory.c"));
    assert_eq!(at.line, Some(1658));
    assert!(!at.inline);
    let inline = &r.registration_stack[1];
    assert_eq!(inline.function, "__raw_spin_lock");
    assert!(inline.inline);
    assert_eq!(r.held_locks.len(), 1);
    assert_eq!(
        r.held_locks[0]
            .acquired_at
            .as_ref()
            .map(|f| f.function.as_str()),
        Some("rcu_core")
    );
}

#[test]
fn syzbot_hardirq() {
    let r = only("syzbot-snd-hrtimer-hardirq.txt");
    let e = Expect {
        title: "inconsistent lock state in snd_hrtimer_callback",
        from: "HARDIRQ-ON-W",
        to: "IN-HARDIRQ-W",
        lock: "&timer->lock",
        address: Some("ffff8880294bb948"),
        usage: "{?.+.}",
        wait: Some("{2:2}"),
        comm: "syz-executor390",
        pid: 5221,
        flags: "HC1[1]:SC0[0]:HE0:SE1",
        registration_caller: "snd_timer_close_locked",
        current_caller: "snd_hrtimer_callback",
        process_side: "registration",
        irq_kind: "hardirq",
        primitive: "spin_lock_irqsave",
    };
    check_inconsistent(&r, &e);
    assert_eq!(
        r.fix.as_ref().unwrap().unlock.as_deref(),
        Some("spin_unlock_irqrestore")
    );
    let task = r.task.as_ref().unwrap();
    assert_eq!(task.hardirq_context, Some(1));
    assert_eq!(task.hardirqs_enabled, Some(false));

    // The same report as journalctl shows it.
    let j = only("syzbot-snd-hrtimer-hardirq-journal.txt");
    check_inconsistent(&j, &e);
    assert_eq!(j.line, 3);
    assert_eq!(j.current_stack, r.current_stack);
    assert_eq!(j.registration_stack, r.registration_stack);
}

#[test]
fn rust_module_v0_symbols_and_rust_helper() {
    let r = only("rust-module-in-softirq-synthetic.txt");
    check_inconsistent(
        &r,
        &Expect {
            title: "inconsistent lock state in fib_stat::netlink::fib_stat_rcv_proc",
            from: "IN-SOFTIRQ-W",
            to: "SOFTIRQ-ON-W",
            lock: "fib_statistics.lock",
            address: Some("ffff888104a2c1d8"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "fibstat",
            pid: 231,
            flags: "HC0[0]:SC0[0]:HE1:SE1",
            registration_caller: "fib_stat::netevent::net_event_callback",
            current_caller: "fib_stat::netlink::fib_stat_rcv_proc",
            process_side: "current",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
    );
    assert_eq!(
        r.acquired_at.as_ref().unwrap().function,
        "rust_helper_spin_lock"
    );
    let rcv = r
        .current_stack
        .iter()
        .find(|f| f.function == "fib_stat::netlink::fib_stat_rcv_proc")
        .unwrap();
    assert_eq!(
        rcv.symbol,
        "_RNvNtCs3yuwAp0waWO_8fib_stat7netlink17fib_stat_rcv_proc"
    );
    assert_eq!(rcv.module.as_deref(), Some("fib_stat"));
    assert!(functions(&r.current_stack).contains(
        &"<kernel::sync::lock::spinlock::SpinLockBackend as kernel::sync::lock::Backend>::lock"
    ));
    assert!(functions(&r.current_stack).contains(&"<kernel::sync::lock::Lock<_, _>>::lock"));
    // Legacy mangling, hash stripped.
    assert!(functions(&r.current_stack).contains(&"core::ops::function::FnOnce::call_once"));
    assert!(r.fix.as_ref().unwrap().why.contains("Rust"));
}

#[test]
fn circular_dependency_chain() {
    let r = only("syzbot-sctp-circular.txt");
    assert_eq!(r.kind, Kind::CircularLockingDependency);
    assert_eq!(r.title, "possible deadlock in sctp_sock_migrate");
    assert_eq!(r.lock.as_ref().unwrap().name, "sk_lock-AF_INET/1");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "sk_lock-AF_INET");
    let task = r.task.as_ref().unwrap();
    assert_eq!((task.comm.as_str(), task.pid), ("syz.5.1757", Some(14440)));
    let chain: Vec<(u32, &str, Option<&str>)> = r
        .chain
        .iter()
        .map(|c| (c.depth, c.lock.name.as_str(), c.caller.as_deref()))
        .collect();
    assert_eq!(
        chain,
        vec![
            (3, "sk_lock-AF_INET", Some("do_ip_getsockopt")),
            (2, "rtnl_mutex", Some("smc_vlan_by_tcpsk")),
            (1, "sk_lock-AF_SMC", Some("smc_close_non_accepted")),
            (0, "sk_lock-AF_INET/1", Some("sctp_sock_migrate")),
        ]
    );
    assert_eq!(r.current_caller.as_deref(), Some("sctp_sock_migrate"));
    // rtnl_mutex is {4:4}: raw-lock nesting numbering, 4 = LD_WAIT_SLEEP.
    assert!(r.chain[1]
        .lock
        .wait_type_inner_name
        .as_deref()
        .is_some_and(|n| n.starts_with("LD_WAIT_SLEEP")));
    assert_eq!(r.scenario[0].trim(), "CPU0                    CPU1");
    let fix = r.fix.as_ref().unwrap();
    assert_eq!(fix.primitive, None);
    assert!(fix.why.contains("sk_lock-AF_INET -> rtnl_mutex"));
}

#[test]
fn recursive_locking_plain_and_dmesg_x() {
    for name in ["ksmbd-recursive.txt", "ksmbd-recursive-dmesg-x.txt"] {
        let r = only(name);
        assert_eq!(r.kind, Kind::RecursiveLocking, "{name}");
        assert_eq!(r.title, "possible deadlock in ksmbd_vfs_mkdir");
        assert_eq!(r.lock.as_ref().unwrap().name, "sb_writers#5");
        assert_eq!(r.held_lock.as_ref().unwrap().name, "sb_writers#5");
        assert_eq!(
            r.acquired_at.as_ref().map(|f| f.function.as_str()),
            Some("ksmbd_vfs_mkdir")
        );
        let task = r.task.as_ref().unwrap();
        assert_eq!((task.comm.as_str(), task.pid), ("kworker/1:1", Some(32)));
        assert_eq!(r.held_locks.len(), 4);
        assert_eq!(r.scenario.len(), 6);
        // The mail's trailer is not part of the report.
        assert!(!r.raw.iter().any(|l| l.contains("Cc:")));
        assert!(r.fix.as_ref().unwrap().why.contains("nesting annotation"));
    }
}

#[test]
fn irq_lock_inversion() {
    let r = only("syzbot-ppp-irq-inversion.txt");
    assert_eq!(r.kind, Kind::IrqLockInversion);
    assert_eq!(r.title, "possible deadlock in ppp_asynctty_receive");
    assert_eq!(r.irq_kind.as_deref(), Some("hardirq"));
    assert_eq!(r.lock.as_ref().unwrap().name, "disc_data_lock");
    assert_eq!(
        r.lock.as_ref().unwrap().usage_bits.as_deref(),
        Some("{.+..}")
    );
    assert_eq!(r.other_lock.as_ref().unwrap().name, "&port_lock_key");
    assert_eq!(r.irq_safe_lock.as_ref().unwrap().name, "&port_lock_key");
    assert_eq!(r.irq_unsafe_lock.as_ref().unwrap().name, "disc_data_lock");
    let task = r.task.as_ref().unwrap();
    assert_eq!((task.comm.as_str(), task.pid), ("kworker/u4:1", Some(12)));
    assert_eq!(r.held_locks.len(), 4);
    assert_eq!(r.current_caller.as_deref(), Some("ap_get"));
    let fix = r.fix.as_ref().unwrap();
    assert_eq!(fix.primitive.as_deref(), Some("read_lock_irqsave"));
    assert_eq!(fix.apply_to.as_deref(), Some("ap_get"));
    assert!(r
        .scenario
        .iter()
        .any(|l| l.contains("local_irq_disable();")));
}

#[test]
fn all_fixtures_together_in_one_log() {
    let mut log = Vec::new();
    let names = [
        "seed-blog.txt",
        "syzbot-sctp-circular.txt",
        "ksmbd-recursive-dmesg-x.txt",
        "syzbot-ppp-irq-inversion.txt",
        "rust-module-in-softirq-synthetic.txt",
    ];
    for n in names {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", n]
            .iter()
            .collect();
        log.extend(std::fs::read(path).unwrap());
        log.extend_from_slice(b"[ 1.0] unrelated: line between logs\n");
    }
    let out = explain_bytes(&log);
    let kinds: Vec<Kind> = out.reports.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Kind::InconsistentLockState,
            Kind::CircularLockingDependency,
            Kind::RecursiveLocking,
            Kind::IrqLockInversion,
            Kind::InconsistentLockState,
        ]
    );
    let lines: Vec<usize> = out.reports.iter().map(|r| r.line).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn json_schema_shape_is_stable() {
    let out = fixture("seed-blog.txt");
    let v: serde_json::Value =
        serde_json::from_str(&fibstat::explain::render::json(&out, true)).unwrap();
    assert_eq!(v["schema_version"], 2);
    let r = &v["reports"][0];
    let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "kind",
        "title",
        "banner",
        "line",
        "end_line",
        "kernel",
        "message",
        "location",
        "task",
        "transition",
        "irq_kind",
        "lock",
        "held_lock",
        "other_lock",
        "irq_safe_lock",
        "irq_unsafe_lock",
        "acquired_at",
        "rip",
        "registration_stack",
        "current_stack",
        "stacks",
        "registration_caller",
        "current_caller",
        "process_side",
        "process_side_caller",
        "irq_side_caller",
        "process_side_source",
        "process_side_lock_call",
        "irq_side_source",
        "irq_side_lock_call",
        "chain",
        "scenario",
        "held_locks",
        "fix",
        "foreign_lines",
        "raw",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(r["kind"], "inconsistent_lock_state");
    assert_eq!(r["transition"]["from"], "SOFTIRQ-ON-W");
    assert_eq!(r["lock"]["usage_bits"], "{+.?.}");
    assert_eq!(r["task"]["softirq_context"], 1);
    assert_eq!(r["task"]["softirqs_enabled"], false);
    assert_eq!(r["process_side_caller"], "fib_stat_rcv_proc");
    assert_eq!(r["irq_side_caller"], "net_event_callback");
    assert_eq!(r["fix"]["primitive"], "spin_lock_bh");
    let frame = r["current_stack"][0].as_object().unwrap();
    let mut fkeys: Vec<&str> = frame.keys().map(String::as_str).collect();
    fkeys.sort_unstable();
    assert_eq!(
        fkeys,
        vec![
            "address",
            "file",
            "function",
            "inline",
            "inlined",
            "line",
            "module",
            "note",
            "offset",
            "size",
            "symbol",
            "unreliable"
        ]
    );
}

#[test]
fn no_report_in_ordinary_log() {
    let out = explain_bytes(
        b"[    0.000000] Linux version 6.12.0\n[    0.1] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!\n[    1.0] traps: a.out[9] general protection fault ip:7f3b sp:7ffd error:0 in libc.so.6[7f3b+155000]\n",
    );
    assert!(out.reports.is_empty(), "{:#?}", out.reports);
    // A WARN() line alone is a report now (titled after its function).
    let out = explain_bytes(b"[    1.0] WARNING: CPU: 0 PID: 1 at foo.c:1 bar+0x1/0x2\n");
    assert_eq!(out.reports.len(), 1);
    assert_eq!(out.reports[0].title, "WARNING in bar");
}

/// The project's own `make repro` captures (6.12, Rust module, QEMU guest):
/// `project-spin-*.txt`, cut from `build/repro/spin-*.log`.
fn project_spin(name: &str, e: &Expect, irq_path: &[&str]) -> Report {
    let r = only(name);
    check_inconsistent(&r, e);
    assert_eq!(
        r.lock.as_ref().map(|l| l.name.as_str()),
        Some("fib_stat.lock")
    );
    assert_eq!(
        r.acquired_at.as_ref().map(|f| f.function.as_str()),
        Some("rust_helper_spin_lock")
    );
    let (proc_stack, irq_stack) = if e.process_side == "registration" {
        (&r.registration_stack, &r.current_stack)
    } else {
        (&r.current_stack, &r.registration_stack)
    };
    let reliable = |frames: &[Frame]| -> Vec<String> {
        frames
            .iter()
            .filter(|f| !f.unreliable)
            .map(|f| f.function.clone())
            .collect()
    };
    let proc_fns = reliable(proc_stack);
    let pos = |fns: &[String], name: &str| fns.iter().position(|f| f == name);
    // Process side: the lock is taken in fib_stat_rcv_proc, called back by
    // netlink_rcv_skb from nl_gateway_input, under netlink_unicast.
    let chain = [
        "fib_stat_rcv_proc",
        "netlink_rcv_skb",
        "nl_gateway_input",
        "netlink_unicast",
    ];
    let at: Vec<Option<usize>> = chain.iter().map(|n| pos(&proc_fns, n)).collect();
    assert!(at.iter().all(Option::is_some), "{name}: {proc_fns:?}");
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{name}: {proc_fns:?}");
    assert_eq!(
        proc_stack
            .iter()
            .find(|f| f.function == "fib_stat_rcv_proc")
            .and_then(|f| f.module.as_deref()),
        Some("fib_stat")
    );
    // Softirq side: net_event_callback under the netevent chain, the
    // neighbour code, arp_rcv and the given receive path, in this order.
    let irq_fns = reliable(irq_stack);
    let mut last = None;
    for n in [
        "net_event_callback",
        "call_netevent_notifiers",
        "__neigh_update",
        "neigh_event_ns",
        "arp_rcv",
    ]
    .iter()
    .chain(irq_path)
    {
        let p = pos(&irq_fns, n);
        assert!(
            p.is_some() && p > last,
            "{name}: {n} out of order in {irq_fns:?}"
        );
        last = p;
    }
    r
}

#[test]
fn project_spin_netlink_then_arp_vmxnet3() {
    project_spin(
        "project-spin-netlink-then-arp.txt",
        &Expect {
            title: "inconsistent lock state in net_event_callback",
            from: "SOFTIRQ-ON-W",
            to: "IN-SOFTIRQ-W",
            lock: "fib_stat.lock",
            address: Some("ffff888003dd7da8"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "arping",
            pid: 67,
            flags: "HC0[0]:SC1[1]:HE1:SE0",
            registration_caller: "fib_stat_rcv_proc",
            current_caller: "net_event_callback",
            process_side: "registration",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
        &["vmxnet3_poll_rx_only", "__napi_poll", "net_rx_action"],
    );
}

#[test]
fn project_spin_arp_then_netlink_reverse_transition() {
    let r = project_spin(
        "project-spin-arp-then-netlink.txt",
        &Expect {
            title: "inconsistent lock state in fib_stat_rcv_proc",
            from: "IN-SOFTIRQ-W",
            to: "SOFTIRQ-ON-W",
            lock: "fib_stat.lock",
            address: Some("ffff888003d9fda8"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "fibstat",
            pid: 64,
            flags: "HC0[0]:SC0[0]:HE1:SE1",
            registration_caller: "net_event_callback",
            current_caller: "fib_stat_rcv_proc",
            process_side: "current",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
        &["vmxnet3_poll_rx_only", "__napi_poll", "net_rx_action"],
    );
    let task = r.task.as_ref().unwrap_or_else(|| unreachable!());
    assert_eq!(task.softirq_context, Some(0));
    assert_eq!(task.softirqs_enabled, Some(true));
}

#[test]
fn project_spin_veth_backlog() {
    project_spin(
        "project-spin-netlink-then-arp-veth.txt",
        &Expect {
            title: "inconsistent lock state in net_event_callback",
            from: "SOFTIRQ-ON-W",
            to: "IN-SOFTIRQ-W",
            lock: "fib_stat.lock",
            address: Some("ffff888003761da8"),
            usage: "{+.?.}",
            wait: Some("{2:2}"),
            comm: "arping",
            pid: 63,
            flags: "HC0[0]:SC1[1]:HE1:SE0",
            registration_caller: "fib_stat_rcv_proc",
            current_caller: "net_event_callback",
            process_side: "registration",
            irq_kind: "softirq",
            primitive: "spin_lock_bh",
        },
        &["process_backlog", "__napi_poll", "net_rx_action"],
    );
}

/// A lock taken in a module's init function, whose `__init` text was freed
/// after the load: the registration stack goes through a bare address and
/// the module loader. The stack is kept whole, the bare frame labelled, and
/// the process side named from the frames below it.
#[test]
fn stack_through_freed_module_init() {
    let r = only("project-spin-init-then-arp-freed-init.txt");
    assert_eq!(r.title, "inconsistent lock state in net_event_callback");
    assert_eq!(
        functions(&r.registration_stack),
        vec![
            "lock_acquire",
            "_raw_spin_lock",
            "rust_helper_spin_lock",
            "0xffffffffa000601c",
            "do_one_initcall",
            "do_init_module",
            "load_module",
            "init_module_from_file",
            "idempotent_init_module",
            "__x64_sys_finit_module",
            "x64_sys_call",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ]
    );
    let bare = &r.registration_stack[3];
    assert_eq!(bare.address.as_deref(), Some("ffffffffa000601c"));
    assert_eq!(
        bare.note.as_deref(),
        Some("init text of module fib_stat (freed after load)")
    );
    assert!(
        r.registration_stack
            .iter()
            .filter(|f| f.note.is_some())
            .count()
            == 1
    );
    assert_eq!(r.registration_caller.as_deref(), Some("do_one_initcall"));
    assert_eq!(r.process_side.as_deref(), Some("registration"));
    assert_eq!(r.process_side_caller.as_deref(), Some("do_one_initcall"));
    assert_eq!(r.irq_side_caller.as_deref(), Some("net_event_callback"));
    let fix = r.fix.as_ref().expect("fix");
    assert_eq!(fix.primitive.as_deref(), Some("spin_lock_bh"));
    // The function to change is the module's init, not the loader.
    assert_eq!(fix.apply_to, None);
    assert!(
        fix.why
            .contains("with softirqs enabled by fib_stat's init function (module_init)."),
        "{}",
        fix.why
    );
    assert!(
        fix.why.contains(
            "That function is the bare address 0xffffffffa000601c called by do_one_initcall()"
        ),
        "{}",
        fix.why
    );
    let out = fixture("project-spin-init-then-arp-freed-init.txt");
    let text = fibstat::explain::render::human(&out, true);
    assert!(
        text.contains(
            "\n               caller do_one_initcall   <- process side: change its locking\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  0xffffffffa000601c  (init text of module fib_stat (freed after load))\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  fix:         spin_lock_bh() / spin_unlock_bh()\n"),
        "{text}"
    );
    let json = fibstat::explain::render::json(&out, false);
    assert!(
        json.contains("\"note\":\"init text of module fib_stat (freed after load)\""),
        "{json}"
    );
}

/// Without a module named in the report's frames, the log's load line
/// (`fib_stat: loading out-of-tree module taints kernel.`) names it; without
/// that either, the bare frame above the module loader is still init code;
/// one called by anything else is unknown code.
#[test]
fn bare_frames_without_a_module_name() {
    let text = std::fs::read_to_string(
        [
            env!("CARGO_MANIFEST_DIR"),
            "tests",
            "fixtures",
            "project-spin-init-then-arp-freed-init.txt",
        ]
        .iter()
        .collect::<PathBuf>(),
    )
    .unwrap()
    .replace(" [fib_stat]", "");
    let r = explain_bytes(text.as_bytes()).reports.remove(0);
    assert_eq!(
        r.registration_stack[3].note.as_deref(),
        Some("init text of module fib_stat (freed after load)")
    );
    let text = text.replace(
        "fib_stat: loading out-of-tree module taints kernel.",
        "fib_stat: hello",
    );
    let r = explain_bytes(text.as_bytes()).reports.remove(0);
    assert_eq!(
        r.registration_stack[3].note.as_deref(),
        Some("init text of the module being loaded (freed after load)")
    );
    assert!(r
        .fix
        .as_ref()
        .unwrap()
        .why
        .contains("the loaded module's init function"));
    let text = text.replace(
        "  do_one_initcall+0x6b/0x2e0\n",
        "  fib_stat_setup+0x1b/0x40\n",
    );
    let r = explain_bytes(text.as_bytes()).reports.remove(0);
    assert_eq!(
        r.registration_stack[3].note.as_deref(),
        Some("freed or unknown code")
    );
    assert_eq!(r.registration_caller.as_deref(), Some("fib_stat_setup"));
    assert_eq!(
        r.fix.as_ref().unwrap().apply_to.as_deref(),
        Some("fib_stat_setup")
    );
}
