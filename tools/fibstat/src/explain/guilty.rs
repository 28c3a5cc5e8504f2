//! The guilty frame of a report, chosen as syzkaller's pkg/report chooses
//! it: the first frame of the right stack (the `RIP:` line, else the `Call
//! Trace:`) whose function is not in syzkaller's skip list (reporting,
//! locking, allocation, list, string helpers) nor in the kind's own
//! ([`Row::skip`]); stalls and hangs pick a representative frame deeper in
//! the stack (the caller of the first dispatch function, or the lock
//! everybody waits for).

use super::frame::{clean_function, is_bare_address, parse_frame};
use super::kinds::{Lead, Pick, Row};
use super::model::{Frame, Stack};
use super::oops::{rip_frame, stack_label, Body};

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
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
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
pub fn skipped(name: &str, extra: &[&str]) -> bool {
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
pub fn strip_frame(name: &str) -> &str {
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
pub enum Extract {
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

/// The first stack with one of these labels.
pub fn stack<'a>(b: &'a Body, labels: &[&str]) -> Option<&'a Stack> {
    b.stacks
        .iter()
        .find(|s| labels.iter().any(|l| s.label.starts_with(l)))
}

pub const CALL_TRACE: &[&str] = &["Call Trace", "Call trace", "Backtrace", "stack"];

/// Reliable frame names of a stack, syzkaller-skips applied. Like
/// syzkaller, `[inline]` frames of symbolized reports do not count: the
/// title names the function the code is compiled into.
pub fn names(frames: &[Frame], extra: &[&str]) -> Vec<String> {
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
pub fn guilty(
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

/// The guilty frame of a report as its row says: the lead (`RIP:` or the
/// banner's function), the rule, the row's skip list.
pub fn row_frame(row: &Row, banner: &str, lines: &[String], b: &Body) -> Option<String> {
    let lead = match row.lead {
        Lead::Banner => banner_function(banner),
        Lead::None | Lead::Rip => None,
    };
    let rip = row.lead == Lead::Rip;
    match row.pick {
        Pick::None => None,
        Pick::Rip => b
            .rip
            .as_ref()
            .map(|f| clean_function(&f.function).to_owned()),
        Pick::First => guilty(b, lead.as_deref(), row.skip, Extract::First, rip),
        Pick::Stall => guilty(b, lead.as_deref(), row.skip, Extract::Stall, rip),
        Pick::Hang => guilty(b, lead.as_deref(), row.skip, Extract::Hang, rip),
        Pick::RcuStall => rcu_stall_frame(lines),
        Pick::Stack(labels) => {
            stack(b, labels).and_then(|s| names(&s.frames, row.skip).into_iter().next())
        }
    }
}

/// The function named after ` in ` in a banner (`BUG: KASAN: ... in f+0x1/0x2`).
pub fn banner_function(banner: &str) -> Option<String> {
    let (_, rest) = banner.rsplit_once(" in ")?;
    let tok = rest.split_whitespace().next()?;
    let name = tok.split(['+', '.']).next()?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| name.to_owned())
}

/// RCU stall, as syzkaller reads it: the first `RIP:` with a function
/// after the timer interrupt (`apic_timer_interrupt`) and the frames that
/// follow it up to the next stack; failing that, the frames after the
/// interrupt entry (`apic_timer_interrupt`, `Exception stack`,
/// `el1h_64_irq`); then the stall rule.
pub fn rcu_stall_frame(lines: &[String]) -> Option<String> {
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
}
