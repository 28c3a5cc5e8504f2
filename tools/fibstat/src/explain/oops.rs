//! Decoding of every report that is not lockdep's: `WARN()`, `BUG()`,
//! oopses, sanitizers, stalls, hangs, leaks, panics.
//!
//! Titles follow syzkaller's pkg/report/linux.go (the anchor: the same title
//! for the same bug): the format of the report kind, and the "guilty" frame
//! taken the way syzkaller takes it, i.e. the first frame of the right
//! stack (the `RIP:` line, else the `Call Trace:`) whose function is not
//! in syzkaller's skip list (reporting, locking, allocation, list, string
//! helpers) nor in the kind's own skip list; stalls and hangs pick a
//! representative frame deeper in the stack (the caller of the first
//! dispatch function, or the lock everybody waits for).

use super::frame::{clean_function, is_bare_address, parse_bare_address, parse_frame};
use super::model::{Frame, Kind, Report, Stack, Task};
use super::segment::RawReport;

/// syzkaller's `linuxStackParams.skipPatterns`: `^` and `$` anchor, `|`
/// separates alternatives, everything else is a substring.
const SKIP: &[&str] = &[
    "__sanitizer",
    "__asan",
    "kasan",
    "hwasan",
    "__msan",
    "kmsan",
    "kcsan_setup_watchpoint",
    "check_memory_region",
    "check_heap_object",
    "check_object",
    "read_word_at_a_time",
    "read_once_|write_once_",
    "print_address_description",
    "panic",
    "invalid_op",
    "report_bug",
    "fixup_bug",
    "print_report",
    "print_usage_bug",
    "do_error",
    "_trap$|do_trap",
    "show_stack",
    "dump_stack",
    "walk_stack",
    "dump_backtrace",
    "warn_slowpath",
    "warn_alloc",
    "warn_bogus",
    "__warn",
    "alloc_page",
    "malloc|zalloc|calloc",
    "krealloc",
    "kmem_cache",
    "allocate_slab",
    "__alloc_frozen_pages_noprof",
    "folio_alloc|folio_unlock",
    "filemap_alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page_write_begin",
    "slab_",
    "debug_object",
    "timer_is_static_object",
    "work_is_static_object",
    "__might_fault",
    "print_unlock",
    "imbalance_bug",
    "lockdep",
    "bh_enable",
    "bh_disable",
    "perf_trace",
    "lock_acquire",
    "lock_release",
    "lock_class",
    "mark_lock",
    "reacquire_held_locks|mark_held_locks",
    "raw_spin_rq",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "read_lock",
    "read_trylock",
    "write_lock",
    "write_trylock",
    "read_unlock",
    "write_unlock",
    "^down$",
    "down_read",
    "down_write",
    "down_trylock",
    "up_read",
    "up_write",
    "^mutex_",
    "^__mutex_",
    "^rt_mutex_",
    "owner_on_cpu",
    "osq_lock",
    "osq_unlock",
    "set_bit|clear_bit|change_bit|test_bit",
    "__wake_up",
    "^refcount_",
    "^kref_",
    "ref_tracker",
    "seqprop_assert",
    "memcpy",
    "memcmp",
    "memset",
    "memchr",
    "memmove",
    "memdup",
    "strcmp",
    "strncmp",
    "strcpy",
    "strlcpy",
    "strncpy",
    "strscpy",
    "strlen",
    "strstr",
    "strnstr",
    "strnlen",
    "strchr",
    "strdup",
    "strndup",
    "copy_to_user",
    "copy_from_user",
    "copy_to_iter",
    "copy_from_iter",
    "copy_page_to_iter",
    "copy_page_from_iter",
    "copy_folio_to_iter",
    "^copyin$",
    "^copyout$",
    "put_user",
    "get_user",
    "might_fault",
    "might_sleep",
    "list_add",
    "list_del",
    "list_replace",
    "list_move",
    "list_splice",
    "^rb_",
    "^__rb_",
    "_indirect_thunk_",
    "string",
    "pointer",
    "snprintf",
    "scnprintf",
    "kasprintf",
    "kvasprintf",
    "printk",
    "va_format",
    "dev_info",
    "dev_notice",
    "dev_warn",
    "dev_err",
    "dev_alert",
    "dev_crit",
    "dev_emerg",
    "program_check_exception",
    "program_check_common",
    "del_timer",
    "flush_work",
    "__cancel_work_timer",
    "cancel_work_sync",
    "try_to_grab_pending",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
    "queue_work",
    "finish_wait",
    "kthread_stop",
    "kobject_",
    "add_uevent_var",
    "get_device_parent",
    "device_add",
    "device_del",
    "device_unregister",
    "device_destroy",
    "device_release",
    "devres_release_all",
    "hwrng_unregister",
    "i2c_del_adapter",
    "__unregister_client",
    "device_for_each_child",
    "rollback_registered",
    "unregister_netdev",
    "sysfs_remove",
    "device_remove_file",
    "tty_unregister_device",
    "dummy_urb_enqueue",
    "usb_kill_urb",
    "usb_kill_anchored_urbs",
    "usb_control_msg",
    "usb_hcd_submit_urb",
    "usb_submit_urb",
    "^complete$",
    "wait_for_completion",
    "^kfree$|^kvfree$",
    "kfree_skb",
    "readb$|readw$|readl$|readq$",
    "writeb$|writew$|writel$|writeq$",
    "logic_in",
    "logic_out",
    "crc_itu_t",
    "__might_resched",
    "assertfail",
    "^iput$",
    "^iput_final$",
    "^ihold$",
    "hex_dump_to_buffer",
    "print_hex_dump",
    "^klist_",
    "trace_hardirq|trace_softirq|lockdep_hardirq|lockdep_softirq",
    "^lock_page|^unlock_page",
    "stack_trace_consume_entry",
    "arch_stack_walk",
    "stack_trace_save",
    "insert_work",
    "__queue_delayed_work",
    "queue_delayed_work_on",
    "ida_free",
    "do_kernel_fault|do_translation_fault",
    "do_mem_abort",
    "el1_abort",
    "el1h_64_sync",
    "print_tainted",
    "xas_start|xas_load|xas_find",
    "find_lock_entries",
    "truncate_inode_pages_range",
    "__phys_addr",
    "__fortify_report",
    "cleanup_srcu_struct",
    "rhashtable_lookup",
    "extract_user_to_sg|extract_iter_to_sg",
    "drop_nlink",
    "^get_taint$",
    "^put_device$",
    "lock_timer_base",
    "__timer_delete_sync",
    "sk_stop_timer_sync",
    "__mod_timer",
    "fast_dput",
    "dput",
];

const ATOMIC_OPS: &[&str] = &[
    "dec", "inc", "read", "set", "or", "xor", "and", "add", "sub", "fetch", "xchg", "cmpxchg",
    "try",
];

/// Matches one skip pattern against a function name.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alt| {
        let (anchored_start, alt) = match alt.strip_prefix('^') {
            Some(a) => (true, a),
            None => (false, alt),
        };
        let (anchored_end, alt) = match alt.strip_suffix('$') {
            Some(a) => (true, a),
            None => (false, alt),
        };
        match (anchored_start, anchored_end) {
            (true, true) => name == alt,
            (true, false) => name.starts_with(alt),
            (false, true) => name.ends_with(alt),
            (false, false) => name.contains(alt),
        }
    })
}

/// Whether syzkaller skips this function when choosing the guilty frame.
fn skipped(name: &str, extra: &[&str]) -> bool {
    if SKIP.iter().chain(extra).any(|p| pattern_matches(p, name)) {
        return true;
    }
    // `atomic(64)?_(dec|inc|...)`, `^crc\d+`.
    if let Some(i) = name.find("atomic") {
        let rest = &name[i + 6..];
        let rest = rest.strip_prefix("64").unwrap_or(rest);
        if let Some(op) = rest.strip_prefix('_') {
            if ATOMIC_OPS.iter().any(|o| op.starts_with(o)) {
                return true;
            }
        }
    }
    name.strip_prefix("crc")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

/// syzkaller's `stripFramePrefixes`: the shortest of the names with one
/// syscall-entry prefix removed.
fn strip_frame(name: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "SYSC_",
        "SyS_",
        "sys_",
        "__x64_",
        "__ia32_",
        "__arm64_",
        "____sys_",
        "___sys_",
        "__sys_",
        "__se_",
        "__se_sys_",
        "__do_sys_",
        "compat_SYSC_",
        "compat_SyS_",
        "ksys_",
    ];
    PREFIXES
        .iter()
        .filter_map(|p| name.strip_prefix(p))
        .min_by_key(|s| s.len())
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}

/// Functions whose caller represents a stall (syzkaller's
/// `linuxStallAnchorFrames`).
fn is_stall_anchor(name: &str) -> bool {
    const ANCHORS: &[&str] = &[
        "process_one_work",
        "do_syscall_",
        "do_fast_syscall_",
        "sysenter_dispatch",
        "tracesys_phase2",
        "el0_svc_handler",
        "invoke_syscall",
        "ret_fast_syscall",
        "netif_receive_skb",
        "do_softirq",
        "call_timer_fn",
        "_run_timers",
        "run_timer_softirq",
        "hrtimer_run",
        "run_ksoftirqd",
        "smpboot_thread_fn",
        "^kthread$",
        "start_secondary",
        "cpu_startup_entry",
        "ret_from_fork",
        "vfs_write",
        "vfs_read",
        "vfs_iter_read",
        "vfs_iter_write",
        "do_iter_read",
        "do_iter_write",
        "call_read_iter",
        "call_write_iter",
        "new_sync_read",
        "new_sync_write",
        "vfs_ioctl",
        "ksys_ioctl",
        "compat_ioctl",
        "compat_sys_ioctl",
        "blkdev_driver_ioctl",
        "blkdev_ioctl",
        "do_iter_readv_writev",
        "^call_mmap",
        "mmap_region",
        "do_mmap",
        "do_dentry_open",
        "vfs_open",
        "^sock_sendmsg",
        "^sock_recvmsg",
        "^sock_release",
        "^__sock_release",
        "^setsockopt$",
        "kernel_setsockopt",
        "sock_common_setsockopt",
        "^listen$",
        "kernel_listen",
        "sk_common_release",
        "^sock_mmap",
        "^accept$",
        "kernel_accept",
        "^sock_do_ioctl",
        "^sock_ioctl",
        "^compat_sock_ioctl",
        "^nfnetlink_rcv_msg",
        "^rtnetlink_rcv_msg",
        "^netlink_dump",
        "^socketpair|^connect|^ioctl|^sys_socketpair|^sys_connect|^sys_ioctl",
        "__do_fault",
        "do_page_fault",
        "^page_fault$",
        "__fput",
        "task_work_run",
        "exit_to_usermode",
        "smp_call_function",
        "tasklet_action",
        "tasklet_hi_action",
    ];
    ANCHORS.iter().any(|p| pattern_matches(p, name))
}

/// How the guilty frame is chosen from the candidate frames.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extract {
    First,
    Stall,
    Hang,
}

fn stall_frame(frames: &[String]) -> Option<String> {
    let mut prev = frames.first()?.clone();
    for f in frames {
        if is_stall_anchor(f) {
            if f.contains("smp_call_function") {
                return Some("smp_call_function".to_owned());
            }
            return Some(prev);
        }
        prev.clone_from(f);
    }
    None
}

fn hang_frame(frames: &[String]) -> Option<String> {
    for f in frames {
        if f.contains("rtnl_lock") {
            return Some(f.clone());
        }
        for a in [
            "synchronize_rcu",
            "synchronize_srcu",
            "synchronize_net",
            "synchronize_sched",
        ] {
            if f.contains(a) {
                return Some("synchronize_rcu".to_owned());
            }
        }
    }
    const SKIP: &[&str] = &[
        "sched",
        "_lock",
        "_slowlock",
        "down",
        "rwsem",
        "completion",
        "kthread",
        "wait",
        "synchronize",
        "context_switch",
        "__switch_to",
        "cancel_delayed_work",
        "rcu_barrier",
    ];
    frames
        .iter()
        .find(|f| !SKIP.iter().any(|s| f.contains(s)))
        .cloned()
}

/// The parsed body of an oops-like report.
#[derive(Debug, Default)]
struct Body {
    stacks: Vec<Stack>,
    rip: Option<Frame>,
    task: Option<Task>,
    kernel: Option<String>,
}

/// `RIP: 0010:func+0x1/0x2`, `IP: [<...>] func+...`, arm `pc : func+...`,
/// `PC is at func+...`.
fn rip_frame(t: &str) -> Option<Frame> {
    let rest = t
        .strip_prefix("RIP: ")
        .or_else(|| t.strip_prefix("IP: "))
        .or_else(|| t.strip_prefix("NIP: "))
        .or_else(|| t.strip_prefix("pc : "))
        .or_else(|| t.strip_prefix("PC is at "))?;
    let rest = rest.trim_start();
    // `0010:func+...` (segment) or `[<...>] func+...`.
    let rest = match rest.split_once(':') {
        Some((seg, r)) if seg.len() == 4 && seg.bytes().all(|b| b.is_ascii_hexdigit()) => r,
        _ => rest,
    };
    let f = parse_frame(rest)?;
    f.offset.is_some().then_some(f)
}

/// `CPU: 0 UID: 0 PID: 231 Comm: fibstat Tainted: G O 6.12.0 #1`.
fn cpu_line(t: &str) -> Option<(Task, String)> {
    let rest = t.strip_prefix("CPU: ")?;
    let (_, after_pid) = rest.split_once("PID: ")?;
    let (pid, after) = after_pid.split_once(' ')?;
    let comm_rest = after.strip_prefix("Comm: ")?;
    // The comm is up to 15 chars and may hold spaces; the kernel ident
    // starts with `Not tainted` or `Tainted:`.
    let (comm, kernel) = match comm_rest
        .find(" Not tainted")
        .or_else(|| comm_rest.find(" Tainted:"))
    {
        Some(i) => (&comm_rest[..i], comm_rest[i + 1..].trim()),
        None => comm_rest.split_once(' ').unwrap_or((comm_rest, "")),
    };
    Some((
        Task {
            comm: comm.to_owned(),
            pid: pid.parse().ok(),
            ..Task::default()
        },
        kernel.to_owned(),
    ))
}

fn stack_label(t: &str) -> Option<String> {
    let t = t.trim();
    let label = t.trim_end_matches(':');
    const HEADERS: &[&str] = &[
        "Call Trace",
        "Call trace",
        "Backtrace",
        "Allocated by task",
        "Freed by task",
        "allocated by task",
        "freed by task",
        "Last potentially related work creation",
        "Second to last potentially related work creation",
        "Uninit was created at",
        "Uninit was stored to memory at",
        "page last allocated",
        "page last free",
        "Preemption disabled at",
        "Use-after-free",
        "Out-of-bounds",
        "Invalid read",
        "Invalid write",
        "Invalid free",
        "Corrupted memory",
    ];
    if HEADERS.iter().any(|h| t.starts_with(h))
        || (t.starts_with("Local variable ") && t.ends_with("created at:"))
    {
        return Some(label.to_owned());
    }
    if t.starts_with("backtrace") {
        return Some("backtrace".to_owned());
    }
    // KCSAN: `write to 0x... of 8 bytes by task 1 on cpu 0:`.
    if t.ends_with(':')
        && (t.starts_with("read") || t.starts_with("write"))
        && t.contains(" by task ")
    {
        return Some(label.to_owned());
    }
    None
}

fn parse_body(lines: &[String]) -> Body {
    let mut b = Body::default();
    let mut current: Option<usize> = None;
    for line in lines.iter().skip(1) {
        let t = line.trim();
        if b.task.is_none() {
            if let Some((task, kernel)) = cpu_line(t) {
                b.task = Some(task);
                if !kernel.is_empty() {
                    b.kernel = Some(kernel);
                }
                continue;
            }
        }
        if b.rip.is_none() {
            if let Some(f) = rip_frame(t) {
                b.rip = Some(f);
                continue;
            }
        }
        if let Some(label) = stack_label(t) {
            b.stacks.push(Stack {
                label,
                frames: Vec::new(),
            });
            current = Some(b.stacks.len() - 1);
            continue;
        }
        if let Some(f) = parse_frame(t).or_else(|| parse_bare_address(t)) {
            let i = match current {
                Some(i) => i,
                None => {
                    b.stacks.push(Stack {
                        label: "stack".to_owned(),
                        frames: Vec::new(),
                    });
                    b.stacks.len() - 1
                }
            };
            b.stacks[i].frames.push(f);
            current = Some(i);
        }
    }
    b.stacks.retain(|s| !s.frames.is_empty());
    b
}

/// The first stack with one of these labels.
fn stack<'a>(b: &'a Body, labels: &[&str]) -> Option<&'a Stack> {
    b.stacks
        .iter()
        .find(|s| labels.iter().any(|l| s.label.starts_with(l)))
}

const CALL_TRACE: &[&str] = &["Call Trace", "Call trace", "Backtrace", "stack"];

/// Reliable frame names of a stack, syzkaller-skips applied. Like
/// syzkaller, `[inline]` frames of symbolized reports do not count: the
/// title names the function the code is compiled into.
fn names(frames: &[Frame], extra: &[&str]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| !f.unreliable && !f.inline && !is_bare_address(f))
        .map(|f| clean_function(&f.function).to_owned())
        .filter(|n| !skipped(n, extra))
        .map(|n| strip_frame(&n).to_owned())
        .collect()
}

/// The first frame of a stack outside syzkaller's skip list (the
/// allocator, `might_sleep()` / `__might_resched()`, reporting, locking):
/// what syzkaller names in `BUG: sleeping function called from invalid
/// context in FUNC`.
pub fn syzkaller_frame(frames: &[Frame]) -> Option<String> {
    names(frames, &[]).into_iter().next()
}

/// The guilty frame: `first` (the banner's or `RIP:` function) unless it
/// is skipped, else from the main stack.
fn guilty(
    b: &Body,
    first: Option<&str>,
    extra: &[&str],
    how: Extract,
    rip: bool,
) -> Option<String> {
    let mut frames: Vec<String> = Vec::new();
    let lead = first.map(str::to_owned).or_else(|| {
        if rip {
            b.rip
                .as_ref()
                .map(|f| clean_function(&f.function).to_owned())
        } else {
            None
        }
    });
    if let Some(l) = lead {
        if !skipped(&l, extra) {
            frames.push(strip_frame(&l).to_owned());
            if how == Extract::First {
                return frames.pop();
            }
        }
    }
    if let Some(s) = stack(b, CALL_TRACE) {
        frames.extend(names(&s.frames, extra));
    }
    match how {
        Extract::First => frames.into_iter().next(),
        Extract::Stall => stall_frame(&frames),
        Extract::Hang => hang_frame(&frames),
    }
}

fn in_frame(prefix: &str, f: Option<String>) -> String {
    match f {
        Some(f) if !f.is_empty() => format!("{prefix} in {f}"),
        _ => prefix.to_owned(),
    }
}

/// The function named after ` in ` in a banner (`BUG: KASAN: ... in f+0x1/0x2`).
fn banner_function(banner: &str) -> Option<String> {
    let (_, rest) = banner.rsplit_once(" in ")?;
    let tok = rest.split_whitespace().next()?;
    let name = tok.split(['+', '.']).next()?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| name.to_owned())
}

/// `WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 func+0x1/0x2` → the
/// source location; also `kernel BUG at mm/slub.c:42!`, `UBSAN: ... in x.c:1:2`.
fn location(banner: &str) -> Option<String> {
    if let Some(rest) = banner.strip_prefix("UBSAN: ") {
        let (_, loc) = rest.rsplit_once(" in ")?;
        let mut parts = loc.trim().split(':');
        let (file, line) = (parts.next()?, parts.next()?);
        return line
            .parse::<u32>()
            .is_ok()
            .then(|| format!("{file}:{line}"));
    }
    let file_line = |after: &str| {
        let tok = after
            .split_whitespace()
            .next()?
            .trim_end_matches(['!', ',']);
        let (file, line) = tok.rsplit_once(':')?;
        let line = line.split(':').next()?;
        (line.parse::<u32>().is_ok() && file.contains('.')).then(|| format!("{file}:{line}"))
    };
    // The newer `WARNING: FILE:LINE at FUNC+0x1/0x2, CPU#0: comm/pid` (and
    // `WARNING: [flags] FILE:LINE at ...`) name the location first.
    if let Some(loc) = banner
        .strip_prefix("WARNING: ")
        .map(|r| match r.strip_prefix('[') {
            Some(flags) => flags.split_once("] ").map_or(flags, |(_, r)| r),
            None => r,
        })
        .and_then(file_line)
    {
        return Some(loc);
    }
    file_line(banner.rsplit_once(" at ").map(|(_, r)| r)?)
}

/// The free-text message of a report.
fn message(kind: Kind, raw: &RawReport) -> Option<String> {
    let banner = raw.lines.first().map(String::as_str).unwrap_or("");
    let next = || {
        raw.lines
            .get(1)
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
    };
    match kind {
        Kind::Warning | Kind::KernelBug | Kind::Odebug | Kind::Refcount | Kind::ListCorruption => {
            let text: Vec<&str> = raw
                .prelude
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty() && !l.contains("[ cut here ]"))
                .collect();
            (!text.is_empty()).then(|| text.join(" "))
        }
        Kind::Kasan | Kind::Kfence => raw
            .lines
            .iter()
            .map(|l| l.trim())
            .find(|l| {
                l.starts_with("Read of size")
                    || l.starts_with("Write of size")
                    || l.contains(" read at 0x")
                    || l.contains(" write at 0x")
                    || l.starts_with("Invalid free of")
            })
            .map(str::to_owned),
        Kind::Ubsan | Kind::RustPanic => next(),
        Kind::KernelPanic => banner
            .split_once("not syncing: ")
            .map(|(_, m)| m.trim().to_owned()),
        Kind::CfiFailure => banner
            .split_once(" (")
            .map(|(_, m)| format!("({}", m.trim())),
        _ => None,
    }
}

/// Refines the banner's kind from the report's content (a `WARN()` of
/// lib/refcount.c is a refcount bug, ...).
fn refine(kind: Kind, banner: &str, prelude: &[String]) -> Kind {
    let pre = prelude.join("\n");
    match kind {
        Kind::Warning if banner.contains("lib/debugobjects.c") || pre.contains("ODEBUG:") => {
            Kind::Odebug
        }
        Kind::Warning if banner.contains("lib/refcount.c") || pre.contains("refcount_t:") => {
            Kind::Refcount
        }
        Kind::Warning | Kind::KernelBug
            if banner.contains("lib/list_debug.c") || pre.contains(" corruption") =>
        {
            Kind::ListCorruption
        }
        k => k,
    }
}

/// syzkaller's WARNING formats, in order.
fn warning_title(kind: Kind, banner: &str, b: &Body) -> String {
    let after_at = |pat: &str| {
        banner
            .split_once(" at ")
            .is_some_and(|(_, r)| r.contains(pat))
    };
    // Without a stack (a truncated paste), the function the banner names.
    let at_fn = banner
        .rsplit_once(' ')
        .and_then(|(_, f)| parse_frame(f))
        .map(|f| clean_function(&f.function).to_owned());
    let w = |prefix: &str, extra: &[&str]| {
        let f = guilty(b, None, extra, Extract::First, true)
            .or_else(|| at_fn.clone().filter(|f| !skipped(f, extra)));
        in_frame(prefix, f)
    };
    if kind == Kind::Odebug {
        return w(
            "WARNING: ODEBUG bug",
            &[
                "debug_",
                "rcu",
                "hrtimer_",
                "timer_",
                "work_",
                "percpu_",
                "vunmap",
                "vfree",
                "__free_",
                "debug_check",
                "kobject_",
            ],
        );
    }
    if after_at("mm/usercopy.c") {
        return w("WARNING: bad usercopy", &["usercopy", "__check"]);
    }
    if after_at("lib/kobject.c") {
        return w("WARNING: kobject bug", &["kobject_"]);
    }
    if after_at("fs/proc/generic.c") {
        return w("WARNING: proc registration bug", &["proc_"]);
    }
    if kind == Kind::Refcount {
        return w("WARNING: refcount bug", &["refcount", "kobject_"]);
    }
    if after_at("kernel/locking/lockdep.c") && banner.contains("lock_") {
        return w("WARNING: locking bug", &["lock_sock", "release_sock"]);
    }
    let mm = banner
        .split_once(" at ")
        .is_some_and(|(_, r)| r.starts_with("mm/") && (r.contains("malloc") || r.contains(" k")));
    if mm && (banner.contains("kmalloc") || banner.contains("krealloc") || banner.contains("alloc"))
    {
        return w(
            "WARNING: kmalloc bug",
            &["kmalloc", "krealloc", "slab", "kmem"],
        );
    }
    if banner.contains("mm/vmalloc.c") && banner.contains("__vmalloc_node") {
        return w("WARNING: zero-size vmalloc", &[]);
    }
    if banner.ends_with(" usb_submit_urb") || banner.contains(" usb_submit_urb+") {
        let f = guilty(
            b,
            None,
            &[
                "usb_submit_urb",
                "usb_start_wait_urb",
                "usb_bulk_msg",
                "usb_interrupt_msg",
                "usb_control_msg",
            ],
            Extract::First,
            true,
        );
        return match f {
            Some(f) => format!("WARNING in {f}/usb_submit_urb"),
            None => "WARNING in usb_submit_urb".to_owned(),
        };
    }
    if location(banner).is_some() {
        return w("WARNING", &[]);
    }
    let text = banner.trim_end();
    text.chars().take(120).collect()
}

/// `BUG: KCSAN: data-race in f1 / f2` → `KCSAN: data-race in f1 / f2`:
/// syzkaller keeps the banner's text; the `+0x1/0x2` of a `%pS` function
/// (a race with an unknown origin names one function so) is left out, so
/// that the title is the same on every build.
fn kcsan_title(banner: &str) -> String {
    let body = banner.trim_start_matches("BUG: KCSAN: ").trim();
    let words: Vec<&str> = body
        .split(' ')
        .map(|w| match w.find("+0x") {
            Some(i) if i > 0 && w[i + 3..].contains("/0x") => &w[..i],
            _ => w,
        })
        .collect();
    format!("KCSAN: {}", words.join(" "))
}

/// Decodes an oops-like report.
pub fn decode(raw: RawReport) -> Report {
    let banner = raw.lines.first().cloned().unwrap_or_default();
    let kind = refine(raw.kind, &banner, &raw.prelude);
    let b = parse_body(&raw.lines);
    let bf = banner_function(&banner);
    let mut task = b.task.clone();
    let title = match kind {
        Kind::Warning | Kind::Odebug | Kind::Refcount => warning_title(kind, &banner, &b),
        Kind::ListCorruption => in_frame(
            if banner.starts_with("WARNING") {
                "WARNING: corrupted list"
            } else {
                "BUG: corrupted list"
            },
            guilty(&b, None, &[], Extract::First, banner.starts_with("WARNING")),
        ),
        Kind::Kasan => {
            let body = banner.trim_start_matches("BUG: KASAN: ");
            let bug = body.split_whitespace().next().unwrap_or("");
            let access = raw.lines.iter().find_map(|l| {
                let t = l.trim();
                if t.starts_with("Read ") {
                    Some("Read")
                } else if t.starts_with("Write ") {
                    Some("Write")
                } else {
                    None
                }
            });
            let free = matches!(bug, "double-free" | "invalid-free")
                || body.starts_with("double-free or invalid-free");
            if free {
                in_frame(
                    "KASAN: invalid-free",
                    guilty(
                        &b,
                        bf.as_deref(),
                        &["slab_", "kfree", "vunmap", "vfree"],
                        Extract::First,
                        false,
                    ),
                )
            } else if let Some(access) = access {
                in_frame(
                    &format!("KASAN: {bug} {access}"),
                    guilty(
                        &b,
                        bf.as_deref(),
                        &["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"],
                        Extract::First,
                        false,
                    ),
                )
            } else {
                format!("KASAN: {body}")
            }
        }
        Kind::Kfence => {
            let body = banner.trim_start_matches("BUG: KFENCE: ");
            let (what, _) = body.split_once(" in ").unwrap_or((body, ""));
            in_frame(
                &format!("KFENCE: {what}"),
                guilty(&b, bf.as_deref(), &[], Extract::First, false),
            )
        }
        Kind::Kmsan => {
            let body = banner.trim_start_matches("BUG: KMSAN: ");
            let what = body.split_whitespace().next().unwrap_or("");
            in_frame(
                &format!("KMSAN: {what}"),
                guilty(
                    &b,
                    None,
                    &["alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$"],
                    Extract::First,
                    false,
                ),
            )
        }
        Kind::Kcsan => kcsan_title(&banner),
        Kind::Ubsan => {
            let body = banner.trim_start_matches("UBSAN: ");
            let prefix = if body.starts_with("Undefined behaviour in") {
                "UBSAN: undefined-behaviour".to_owned()
            } else {
                let what = body.split(" in ").next().unwrap_or(body).trim();
                format!("UBSAN: {what}")
            };
            in_frame(
                &prefix,
                guilty(&b, None, &["ubsan", "overflow"], Extract::First, false),
            )
        }
        Kind::PageFault => in_frame(
            "BUG: unable to handle kernel paging request",
            guilty(&b, None, &[], Extract::First, true),
        ),
        Kind::NullPointerDereference => in_frame(
            "BUG: unable to handle kernel NULL pointer dereference",
            guilty(&b, None, &[], Extract::First, true),
        ),
        Kind::GeneralProtectionFault => in_frame(
            "general protection fault",
            guilty(&b, None, &[], Extract::First, true),
        ),
        Kind::KernelBug => {
            if banner.contains("mm/usercopy.c") {
                in_frame(
                    "BUG: bad usercopy",
                    guilty(&b, None, &["usercopy", "__check"], Extract::First, false),
                )
            } else {
                in_frame(
                    "kernel BUG",
                    guilty(&b, None, &["^skb_"], Extract::First, true),
                )
            }
        }
        Kind::InvalidOpcode => in_frame(
            "invalid opcode",
            b.rip
                .as_ref()
                .map(|f| clean_function(&f.function).to_owned()),
        ),
        Kind::DivideError => in_frame(
            "divide error",
            b.rip
                .as_ref()
                .map(|f| clean_function(&f.function).to_owned()),
        ),
        Kind::StackSegmentFault => in_frame(
            "stack segment fault",
            guilty(&b, None, &[], Extract::First, true),
        ),
        Kind::DoubleFault => in_frame(
            "PANIC: double fault",
            b.rip
                .as_ref()
                .map(|f| clean_function(&f.function).to_owned()),
        ),
        Kind::InternalError => in_frame(
            "Internal error",
            guilty(&b, None, &[], Extract::First, true),
        ),
        Kind::Oops => {
            let what = if banner.starts_with("Unhandled fault") {
                "Unhandled fault"
            } else if banner.starts_with("Alignment trap") {
                "Alignment trap"
            } else {
                "Oops"
            };
            in_frame(what, guilty(&b, None, &[], Extract::First, true))
        }
        Kind::KernelPanic => {
            let msg = banner
                .split_once("not syncing: ")
                .map(|(_, m)| m.trim())
                .unwrap_or("");
            if msg.starts_with("stack-protector:") {
                in_frame(
                    "kernel panic: stack is corrupted",
                    banner_function(&banner.replace("corrupted in: ", "corrupted in "))
                        .or_else(|| guilty(&b, None, &["stack_chk"], Extract::First, false)),
                )
            } else if msg.starts_with("corrupted stack end") {
                in_frame(
                    "kernel panic: corrupted stack end",
                    guilty(
                        &b,
                        None,
                        &["schedule", "retint_kernel"],
                        Extract::Stall,
                        false,
                    ),
                )
            } else if msg.starts_with("kernel stack overflow") {
                in_frame(
                    "kernel stack overflow",
                    guilty(&b, None, &["bad_stack"], Extract::Stall, false),
                )
            } else if msg.starts_with("Couldn't open N_TTY ldisc") {
                "kernel panic: Couldn't open N_TTY ldisc".to_owned()
            } else {
                format!("kernel panic: {msg}")
            }
        }
        Kind::SoftLockup => in_frame(
            "BUG: soft lockup",
            guilty(&b, None, &[], Extract::Stall, true),
        ),
        Kind::RcuStall => {
            // The frames interrupted by the timer interrupt that found the stall.
            in_frame("INFO: rcu detected stall", rcu_stall_frame(&raw.lines))
        }
        Kind::HungTask => {
            if let Some(who) = banner
                .strip_prefix("INFO: task ")
                .and_then(|r| r.split(" blocked for").next())
                .and_then(|r| r.split(" can't die").next())
            {
                let (comm, pid) = who.rsplit_once(':').unwrap_or((who, ""));
                task = Some(Task {
                    comm: comm.to_owned(),
                    pid: pid.parse().ok(),
                    ..Task::default()
                });
            }
            if banner.contains("can't die") {
                in_frame(
                    "INFO: task can't die",
                    guilty(&b, None, &["schedule"], Extract::First, false),
                )
            } else {
                in_frame(
                    "INFO: task hung",
                    guilty(&b, None, &[], Extract::Hang, false),
                )
            }
        }
        Kind::SchedulingWhileAtomic => in_frame(
            "BUG: scheduling while atomic",
            guilty(&b, None, &["schedule"], Extract::First, false),
        ),
        Kind::PreemptibleAccess => {
            let what = banner
                .strip_prefix("BUG: using ")
                .and_then(|r| r.split("()").next())
                .unwrap_or("smp_processor_id");
            in_frame(
                &format!("BUG: using {what}() in preemptible code"),
                guilty(
                    &b,
                    None,
                    &[
                        "dump_stack",
                        "preemption",
                        "preempt",
                        "debug_",
                        "processor_id",
                        "this_cpu",
                    ],
                    Extract::First,
                    false,
                ),
            )
        }
        Kind::SpinlockBug => {
            let body = banner.trim_start_matches("BUG: ");
            let mut words = body.splitn(2, ' ');
            let which = words.next().unwrap_or("spinlock");
            let what = words
                .next()
                .map(|r| {
                    r.split(" on CPU")
                        .next()
                        .unwrap_or(r)
                        .trim_end_matches(['!', ','])
                })
                .unwrap_or("");
            in_frame(
                &format!("BUG: {which} {what}"),
                guilty(
                    &b,
                    None,
                    &["spin_", "_lock", "_unlock"],
                    Extract::First,
                    false,
                ),
            )
        }
        Kind::BadPage => {
            if banner.contains("Bad page map") {
                "BUG: Bad page map".to_owned()
            } else {
                let which = if banner.contains("Bad page cache") {
                    "cache"
                } else {
                    "state"
                };
                let f = stack(&b, &["page last allocated"]).and_then(|s| {
                    names(
                        &s.frames,
                        &[
                            "free_page|put_page|get_page|update_page|release_page",
                            "free_unref",
                            "folio",
                            "truncate_inode_pages",
                            "page_frag_free",
                            "alloc",
                            "vmap",
                            "page_owner",
                        ],
                    )
                    .into_iter()
                    .next()
                });
                in_frame(&format!("BUG: Bad page {which}"), f)
            }
        }
        Kind::StackGuardPage => in_frame(
            "BUG: stack guard page was hit",
            guilty(&b, None, &[], Extract::Stall, true),
        ),
        Kind::WorkqueueLockup => {
            if banner.contains("leaked lock or atomic") {
                let f = raw
                    .lines
                    .iter()
                    .find_map(|l| l.trim().strip_prefix("last function: "))
                    .map(|f| {
                        f.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or(f)
                            .to_owned()
                    });
                in_frame("BUG: workqueue leaked lock or atomic", f)
            } else {
                "BUG: workqueue lockup".to_owned()
            }
        }
        Kind::MemoryLeak => {
            if let Some(comm) = raw
                .lines
                .iter()
                .find_map(|l| l.trim().strip_prefix("comm \""))
            {
                let (name, rest) = comm.split_once('"').unwrap_or((comm, ""));
                let pid = rest
                    .split_once("pid ")
                    .and_then(|(_, p)| p.split(',').next())
                    .and_then(|p| p.trim().parse().ok());
                task = Some(Task {
                    comm: name.to_owned(),
                    pid,
                    ..Task::default()
                });
            }
            let f = stack(&b, &["backtrace", "stack"]).and_then(|s| {
                names(
                    &s.frames,
                    &[
                        "kmemleak",
                        "mmap",
                        "kmem",
                        "slab",
                        "alloc",
                        "create_object",
                        "idr_get",
                        "list_lru_init",
                        "kasprintf",
                        "kvasprintf",
                        "pcpu_create",
                        "strdup",
                        "strndup",
                        "memdup",
                    ],
                )
                .into_iter()
                .next()
            });
            in_frame("memory leak", f)
        }
        Kind::CfiFailure => {
            let f = banner
                .strip_prefix("CFI failure at ")
                .and_then(parse_frame)
                .map(|f| clean_function(&f.function).to_owned());
            in_frame("CFI failure", f)
        }
        Kind::UnregisterNetdevice => {
            "unregister_netdevice: waiting for DEV to become free".to_owned()
        }
        Kind::RustPanic => {
            let msg = raw
                .lines
                .get(1)
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "rust_kernel: panicked".to_owned());
            in_frame(
                &msg,
                guilty(
                    &b,
                    None,
                    &[
                        "rust_begin_unwind",
                        "rust_panic",
                        "panic_fmt",
                        "core::panicking",
                    ],
                    Extract::First,
                    false,
                ),
            )
        }
        Kind::NonStaticKey => in_frame(
            "INFO: trying to register non-static key",
            guilty(&b, None, &["stack", "lock", "IRQ"], Extract::First, false),
        ),
        Kind::Bug => {
            if banner.starts_with("BUG kmalloc-") && banner.contains("Object already free") {
                "BUG: Object already free".to_owned()
            } else if banner.starts_with("BUG: Dentry ") {
                "BUG: Dentry still in use in unmount".to_owned()
            } else if banner.starts_with("BUG: Bad rss-counter state") {
                "BUG: Bad rss-counter state".to_owned()
            } else if banner.starts_with("BUG: non-zero nr_ptes") {
                "BUG: non-zero nr_ptes on freeing mm".to_owned()
            } else if banner.starts_with("BUG: non-zero nr_pmds") {
                "BUG: non-zero nr_pmds on freeing mm".to_owned()
            } else {
                banner.chars().take(120).collect()
            }
        }
        Kind::Info => banner.chars().take(120).collect(),
        _ => banner.chars().take(120).collect(),
    };
    let current_stack = stack(&b, CALL_TRACE)
        .or_else(|| b.stacks.first())
        .map(|s| s.frames.clone())
        .unwrap_or_default();
    let current_caller = current_stack
        .iter()
        .find(|f| !f.unreliable)
        .map(|f| clean_function(&f.function).to_owned());
    let mut lines = raw.prelude.clone();
    lines.extend(raw.lines.iter().cloned());
    Report {
        kind,
        title,
        banner: banner.clone(),
        line: raw.line,
        end_line: raw.end_line,
        kernel: b.kernel,
        message: message(kind, &raw),
        location: location(&banner),
        task,
        transition: None,
        irq_kind: None,
        lock: None,
        held_lock: None,
        other_lock: None,
        irq_safe_lock: None,
        irq_unsafe_lock: None,
        acquired_at: None,
        rip: b.rip,
        registration_stack: Vec::new(),
        current_stack,
        stacks: b.stacks,
        registration_caller: None,
        current_caller,
        process_side: None,
        process_side_caller: None,
        irq_side_caller: None,
        process_side_source: None,
        process_side_lock_call: None,
        irq_side_source: None,
        irq_side_lock_call: None,
        chain: Vec::new(),
        scenario: Vec::new(),
        held_locks: Vec::new(),
        fix: None,
        foreign_lines: raw.foreign_lines,
        raw: lines,
    }
}

/// RCU stall, as syzkaller reads it: the first `RIP:` with a function
/// after the timer interrupt (`apic_timer_interrupt`) and the frames that
/// follow it up to the next stack; failing that, the frames after the
/// interrupt entry (`apic_timer_interrupt`, `Exception stack`,
/// `el1h_64_irq`); then the stall rule.
fn rcu_stall_frame(lines: &[String]) -> Option<String> {
    let extra = ["apic_timer_interrupt", "rcu"];
    let keep = |f: &Frame, out: &mut Vec<String>| {
        let n = clean_function(&f.function);
        if !f.unreliable && !f.inline && !skipped(n, &extra) {
            out.push(strip_frame(n).to_owned());
        }
    };
    // Frames after line `from` until the next stack heading.
    let frames_after = |from: usize, out: &mut Vec<String>| {
        for l in &lines[from..] {
            let t = l.trim();
            if stack_label(t).is_some() {
                break;
            }
            if let Some(f) = parse_frame(t) {
                keep(&f, out);
            }
        }
    };
    let irq = lines
        .iter()
        .position(|l| l.contains("apic_timer_interrupt"));
    if let Some(i) = irq {
        let rip = lines[i..]
            .iter()
            .position(|l| rip_frame(l.trim()).is_some())
            .map(|k| i + k);
        if let Some(r) = rip {
            let mut frames = Vec::new();
            if let Some(f) = rip_frame(lines[r].trim()) {
                keep(&f, &mut frames);
            }
            frames_after(r + 1, &mut frames);
            if let Some(f) = stall_frame(&frames) {
                return Some(f);
            }
        }
    }
    let entry = lines.iter().position(|l| {
        l.contains("apic_timer_interrupt")
            || l.contains("Exception stack")
            || l.contains("el1h_64_irq")
    })?;
    let mut frames = Vec::new();
    frames_after(entry + 1, &mut frames);
    stall_frame(&frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_patterns() {
        for n in [
            "kmalloc_trace",
            "__kmalloc_node",
            "refcount_warn_saturate",
            "dump_stack_lvl",
            "_raw_spin_lock",
            "atomic_dec_and_test",
            "atomic64_read",
            "kfree",
            "crc32c",
            "__list_del_entry_valid_or_report",
        ] {
            assert!(skipped(n, &[]), "{n}");
        }
        for n in [
            "fib_stat_rcv_proc",
            "net_event_callback",
            "kfree_rcu_work_x",
            "sock_put",
            "refcountx",
        ] {
            assert!(!skipped(n, &[]), "{n}");
        }
        assert_eq!(strip_frame("__x64_sys_ioctl"), "sys_ioctl");
        assert_eq!(strip_frame("__do_sys_sendmsg"), "sendmsg");
        assert_eq!(strip_frame("ksys_read"), "read");
    }

    #[test]
    fn locations() {
        assert_eq!(
            location("WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 f+0x1/0x2").as_deref(),
            Some("net/core/dev.c:123")
        );
        assert_eq!(
            location("kernel BUG at lib/list_debug.c:29!").as_deref(),
            Some("lib/list_debug.c:29")
        );
        assert_eq!(
            location("UBSAN: array-index-out-of-bounds in net/x.c:12:5").as_deref(),
            Some("net/x.c:12")
        );
    }
}
