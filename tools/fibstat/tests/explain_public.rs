//! Public kernel reports of every kind syzkaller titles (tests/fixtures/kinds)
//! and pastes in prefix forms no fixed parser knows (tests/fixtures/formats);
//! sources in tests/fixtures/SOURCES.md.
//!
//! The anchor for titles: for a syzbot report, the title syzbot gave the
//! same bug (the mail's subject, without the `(N)` recurrence counter).

use std::path::PathBuf;

use fibstat::explain::model::{Kind, Report};
use fibstat::explain::{explain_bytes, Output};

fn load(dir: &str, name: &str) -> Output {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", dir, name]
        .iter()
        .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    explain_bytes(&bytes)
}

fn only(dir: &str, name: &str) -> Report {
    let mut out = load(dir, name);
    assert_eq!(out.reports.len(), 1, "{name}: {:#?}", out.reports);
    out.reports.remove(0)
}

fn functions(r: &Report) -> Vec<&str> {
    r.current_stack
        .iter()
        .map(|f| f.function.as_str())
        .collect()
}

/// (fixture, kind, title, banner line, task comm)
const KINDS: &[(&str, Kind, &str, usize, &str)] = &[
    (
        "syzbot-kasan-uaf-lock-sock-arm64.txt",
        Kind::Kasan,
        "KASAN: slab-use-after-free Read in __lock_sock",
        2,
        "kworker/u5:3",
    ),
    (
        "syzbot-ubsan-array-index-ip6-rt-copy-init.txt",
        Kind::Ubsan,
        "UBSAN: array-index-out-of-bounds in ip6_rt_copy_init",
        2,
        "kworker/1:3",
    ),
    (
        "syzbot-refcount-inet-twsk-kill.txt",
        Kind::Refcount,
        "WARNING: refcount bug in inet_twsk_kill",
        3,
        "syz-executor.3",
    ),
    (
        "syzbot-hung-task-io-wq-put-and-exit.txt",
        Kind::HungTask,
        "INFO: task hung in io_wq_put_and_exit",
        1,
        "syz-executor123",
    ),
    (
        "syzbot-rcu-stall-inet-rtm-newaddr.txt",
        Kind::RcuStall,
        "INFO: rcu detected stall in inet_rtm_newaddr",
        2,
        "syz-executor",
    ),
    (
        "syzbot-gpf-mntput.txt",
        Kind::GeneralProtectionFault,
        "general protection fault in mntput",
        1,
        "syz.3.69",
    ),
    (
        "syzbot-soft-lockup-sendmsg-arm64.txt",
        Kind::SoftLockup,
        "BUG: soft lockup in sys_sendmsg",
        1,
        "syz-executor.0",
    ),
    (
        "syzbot-odebug-bss-free.txt",
        Kind::Odebug,
        "WARNING: ODEBUG bug in bss_free",
        3,
        "kworker/u8:13",
    ),
    (
        "syzbot-corrupted-list-folio-undo.txt",
        Kind::ListCorruption,
        "BUG: corrupted list in __folio_undo_large_rmappable",
        3,
        "syz-executor331",
    ),
    (
        "lore-kfence-uaf-kvm-xen-ts.txt",
        Kind::Kfence,
        "KFENCE: use-after-free read in kvm_xen_hvm_set_attr",
        4,
        "a.out",
    ),
    (
        "syzbot-kcsan-io-uring-dmesg-x.txt",
        Kind::Kcsan,
        "KCSAN: data-race in io_submit_sqes / io_uring_show_fdinfo",
        3,
        "syz.0.732",
    ),
    (
        "syzbot-null-deref-f2fs-journal-monotonic.txt",
        Kind::NullPointerDereference,
        "BUG: unable to handle kernel NULL pointer dereference in f2fs_update_meta_page",
        2,
        "syz-executor.3",
    ),
    (
        "syzbot-scheduling-while-atomic-mail-quoted.txt",
        Kind::SchedulingWhileAtomic,
        "BUG: scheduling while atomic in exit_to_user_mode_prepare",
        6,
        "syz-executor.3",
    ),
    (
        "lore-cfi-failure-kobject-put.txt",
        Kind::CfiFailure,
        "CFI failure in kobject_put",
        3,
        "rmmod",
    ),
    (
        "syzbot-warning-sock-i-ino-dmesg-T.txt",
        Kind::Warning,
        "WARNING in sock_i_ino",
        3,
        "syz-executor487",
    ),
    (
        "syzbot-paging-request-p9-arm64.txt",
        Kind::PageFault,
        "BUG: unable to handle kernel paging request in p9_client_disconnect",
        1,
        "syz-executor.1",
    ),
    (
        "syzbot-kernel-bug-ib-device-syslog.txt",
        Kind::KernelBug,
        "kernel BUG in ib_device_get_by_netdev",
        3,
        "syz.1.433",
    ),
    // The newer `WARNING: FILE:LINE at FUNC+0x1/0x2, CPU#N: comm/pid`.
    (
        "constructed-warning-cpu-hash-format.txt",
        Kind::Warning,
        "WARNING in dev_deactivate_many",
        2,
        "syz.0.17",
    ),
    // The allocator and __might_resched() skipped, [inline] frames too.
    (
        "constructed-sleeping-kzalloc-under-bh-lock.txt",
        Kind::SleepingInInvalidContext,
        "BUG: sleeping function called from invalid context in neigh_stats_snapshot",
        1,
        "syz.2.61",
    ),
    // A race with an unknown origin names one `%pS` function.
    (
        "constructed-kcsan-unknown-origin-pS.txt",
        Kind::Kcsan,
        "KCSAN: data-race in do_epoll_ctl",
        2,
        "syz.0.112",
    ),
];

#[test]
fn every_kind_gets_syzbots_title() {
    for &(name, kind, title, line, comm) in KINDS {
        let r = only("kinds", name);
        assert_eq!((r.kind, r.title.as_str()), (kind, title), "{name}");
        assert_eq!(r.line, line, "{name}: banner line");
        assert_eq!(
            r.task.as_ref().map(|t| t.comm.as_str()),
            Some(comm),
            "{name}: task"
        );
        assert!(!r.current_stack.is_empty(), "{name}: no stack");
        assert!(r.fix.is_none() && r.transition.is_none(), "{name}");
    }
}

/// A kind that is one row of `kinds::ROWS` (no code): the frame-pointer
/// unwinder's warning, with syzkaller's fixed title and no stack, then the
/// KMSAN report the unwinder's dump triggered.
#[test]
fn unwinder_bad_frame_pointer_is_a_row() {
    let out = load("kinds", "syzbot-unwind-bad-frame-pointer-kmsan.txt");
    let got: Vec<(Kind, &str, usize, usize)> = out
        .reports
        .iter()
        .map(|r| (r.kind, r.title.as_str(), r.line, r.end_line))
        .collect();
    assert_eq!(
        got,
        [
            (
                Kind::BadFramePointer,
                "WARNING: kernel stack frame pointer has bad value",
                1,
                3
            ),
            (Kind::Kmsan, "KMSAN: uninit-value in unwind_dump", 4, 34),
        ]
    );
    let r = &out.reports[0];
    assert_eq!(
        r.raw[1],
        "unwind stack type:0 next_sp:ffff888103513fd8 mask:0x4 graph_idx:0"
    );
    assert!(r.current_stack.is_empty() && r.stacks.is_empty() && r.task.is_none());
    assert_eq!(out.reports[1].task.as_ref().unwrap().comm, "kworker/1:1");
    // The `regs` form, its own title: Naresh Kamboju's LKFT report (5.8.4-rc1,
    // LTP fork13), Message-ID `<CA+G9fYvyrY7FEM18OK1XVF7-C=_FPiwsss-3_TCXrSbPwyJgGQ@mail.gmail.com>`;
    // the banner line the mail wrapped is joined again.
    let text = "\
[  928.754534] WARNING: kernel stack regs at 00000000d9dac8ad in fork13:28354 has bad 'bp' value 0000000000000000
[  928.754536] unwind stack type:0 next_sp:0000000000000000 mask:0x6 graph_idx:0
[  928.754541] 00000000908d9a89: ffff88841fb89ad0 (0xffff88841fb89ad0)
[  928.754546] 00000000713a6f3f: ffffffffb6b2524c (arch_stack_walk+0x8c/0xf0)
";
    let out = explain_bytes(text.as_bytes());
    assert_eq!(out.reports.len(), 1, "{:#?}", out.reports);
    let r = &out.reports[0];
    assert_eq!(
        (r.kind, r.title.as_str(), r.line),
        (
            Kind::BadFramePointer,
            "WARNING: kernel stack regs has bad 'bp' value",
            1
        )
    );
}

#[test]
fn warn_messages_locations_and_rip() {
    let r = only("kinds", "syzbot-refcount-inet-twsk-kill.txt");
    assert_eq!(
        r.message.as_deref(),
        Some("refcount_t: decrement hit 0; leaking memory.")
    );
    assert_eq!(r.location.as_deref(), Some("lib/refcount.c:31"));
    assert_eq!(
        r.rip.as_ref().map(|f| f.function.as_str()),
        Some("refcount_warn_saturate")
    );
    // The user-space RIP after the trace is not the kernel's.
    assert_eq!(
        r.raw.first().map(String::as_str),
        Some("------------[ cut here ]------------")
    );
    assert!(r.raw.last().is_some_and(|l| l.contains("</TASK>")));

    let r = only("kinds", "syzbot-odebug-bss-free.txt");
    assert!(r
        .message
        .as_deref()
        .is_some_and(|m| m.starts_with("ODEBUG: activate active (active state 1)")));

    let r = only("kinds", "syzbot-corrupted-list-folio-undo.txt");
    assert_eq!(
        r.message.as_deref(),
        Some("list_del corruption, ffffea0001eb8090->next is NULL")
    );
    assert_eq!(r.location.as_deref(), Some("lib/list_debug.c:53"));

    let r = only("kinds", "syzbot-ubsan-array-index-ip6-rt-copy-init.txt");
    assert_eq!(r.location.as_deref(), Some("net/ipv6/route.c:1095"));
    assert_eq!(
        r.message.as_deref(),
        Some("index 255 is out of range for type 'const int[12]'")
    );
    // Inline frames are listed, but the title names the function they are in.
    assert_eq!(functions(&r)[3], "ip6_rt_type_to_error");
    assert!(r.current_stack[3].inline);
}

#[test]
fn sanitizer_reports_keep_all_their_stacks() {
    let r = only("kinds", "syzbot-kasan-uaf-lock-sock-arm64.txt");
    let labels: Vec<&str> = r.stacks.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Call trace", "Allocated by task 8151", "Freed by task 8151"]
    );
    assert_eq!(
        r.message.as_deref(),
        Some("Read of size 8 at addr ffff0000d553e0b0 by task kworker/u5:3/6271")
    );
    // The report ends with the closing rule, the shadow dump included.
    assert!(r.raw.last().is_some_and(|l| l.starts_with("=====")));
    assert!(r.raw.iter().any(|l| l.starts_with(">ffff0000d553e080:")));

    let r = only("kinds", "lore-kfence-uaf-kvm-xen-ts.txt");
    let labels: Vec<&str> = r.stacks.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert!(labels[1].starts_with("allocated by task 941"));
    // The mail text after the report is not part of it.
    assert!(!r.raw.iter().any(|l| l.contains("PATCH")));
    assert_eq!(r.end_line, 35);

    let r = only("kinds", "syzbot-kcsan-io-uring-dmesg-x.txt");
    assert_eq!(r.stacks.len(), 2);
    assert_eq!(r.stacks[1].frames[0].function, "io_uring_show_fdinfo");
}

#[test]
fn memory_leaks_are_one_report_per_object_and_grouped() {
    let out = load("kinds", "syzbot-memory-leak-nr-create.txt");
    assert_eq!(out.reports.len(), 3);
    assert!(out
        .reports
        .iter()
        .all(|r| r.kind == Kind::MemoryLeak && r.title == "memory leak in nr_create"));
    assert_eq!(
        out.reports[0]
            .task
            .as_ref()
            .map(|t| (t.comm.as_str(), t.pid)),
        Some(("syz-executor.3", Some(5156)))
    );
    // Objects 1 and 3 were allocated through the same stack: one group.
    let groups: Vec<(usize, Vec<usize>)> = out
        .groups
        .iter()
        .map(|g| (g.count, g.lines.clone()))
        .collect();
    assert_eq!(groups, [(2, vec![1, 53]), (1, vec![28])]);
}

#[test]
fn continuation_banners_stay_in_their_report() {
    // `Oops: 0010`, `Kernel panic`, `Internal error: Oops` and the `invalid
    // opcode` of a BUG() are parts of the report before them.
    for (dir, name) in [
        ("kinds", "syzbot-null-deref-f2fs-journal-monotonic.txt"),
        ("kinds", "syzbot-scheduling-while-atomic-mail-quoted.txt"),
        ("kinds", "syzbot-paging-request-p9-arm64.txt"),
        ("kinds", "syzbot-kernel-bug-ib-device-syslog.txt"),
        ("kinds", "lore-cfi-failure-kobject-put.txt"),
        ("kinds", "syzbot-corrupted-list-folio-undo.txt"),
    ] {
        let out = load(dir, name);
        assert_eq!(out.reports.len(), 1, "{name}: {:#?}", out.reports);
    }
    let r = only("kinds", "syzbot-scheduling-while-atomic-mail-quoted.txt");
    assert!(r
        .raw
        .iter()
        .any(|l| l.starts_with("Kernel panic - not syncing")));
    assert_eq!(
        r.raw.last().map(String::as_str),
        Some("Rebooting in 86400 seconds..")
    );
}

#[test]
fn foreign_lines_of_other_contexts_stay_out() {
    let plain = only("kinds", "syzbot-gpf-mntput.txt");
    let r = only("kinds", "syzbot-gpf-mntput-caller-ids-interleaved.txt");
    assert_eq!(r.title, plain.title);
    assert_eq!(r.current_stack, plain.current_stack);
    assert!(!functions(&r).contains(&"ip6_route_input"));
    assert_eq!(r.foreign_lines, 3);
    assert_eq!(r.raw, plain.raw);
}

#[test]
fn learnt_prefixes_of_pastes() {
    // journalctl with continuation lines indented to the prefix width.
    let r = only("formats", "github-thermald-journal-continuation.txt");
    assert_eq!(r.kind, Kind::CircularLockingDependency);
    assert_eq!(r.title, "possible deadlock in powerclamp_set_cur_state");
    assert_eq!(r.lock.as_ref().unwrap().name, "cpu_hotplug_lock");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "&cdev->lock");
    assert_eq!(r.foreign_lines, 0);

    // journal with microseconds and no host name.
    let r = only("formats", "github-coreos-journal-usec-no-host.txt");
    assert_eq!(r.lock.as_ref().unwrap().name, "&sighand->siglock");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "css_set_lock");
    assert_eq!(r.line, 5);

    // rsyslog: ISO time, host, and newlines inside a record as `#012`.
    let r = only("formats", "github-ceph-rsyslog-iso-012.txt");
    assert_eq!(r.title, "possible deadlock in xfs_file_buffered_aio_write");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "&pipe->mutex/1");
    assert_eq!(r.chain.len(), 1);
    assert_eq!(r.chain[0].depth, 2);
    assert_eq!(r.chain[0].stack.len(), 2);

    // dmesg with continuation lines.
    let r = only("formats", "github-bcachefs-dmesg-continuation.txt");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "fs_reclaim");
    assert_eq!(r.chain.len(), 1);
    assert_eq!(r.chain[0].lock.name, "fs_reclaim");
    // fs_reclaim is lockdep's pseudo lock of GFP_KERNEL allocations.
    assert_eq!(r.chain[0].caller.as_deref(), Some("__kmalloc"));
}

#[test]
fn unknown_prefixes_are_learnt_from_the_banner_line() {
    // `[ seconds] HOST kernel: ` (journalctl -o short-monotonic): the host
    // and `kernel:` after a timestamp are no known form, the banner is.
    let r = only("kinds", "syzbot-null-deref-f2fs-journal-monotonic.txt");
    assert_eq!(
        r.raw[0],
        "BUG: kernel NULL pointer dereference, address: 0000000000000000"
    );
    assert!(r.raw.iter().all(|l| !l.contains("syzkaller kernel:")));
    // A mail subject naming a report is not a report.
    let out = explain_bytes(
        b"Subject: Re: WARNING: inconsistent lock state in foo\nFrom: a@b.c\nTo: d@e.f\n\nhello\n",
    );
    assert!(out.reports.is_empty(), "{:#?}", out.reports);
}
