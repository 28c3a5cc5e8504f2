//! Report banners: the first line of every kind of kernel report, as
//! printed by v6.12 (and, where syzkaller still matches them, older
//! kernels), and the anchors the prefilter searches for.
//!
//! A banner is recognised at the start of a log message (after its line
//! prefix). The prefilter only looks for a few rare anchors ([`ANCHORS`]);
//! around each hit, [`candidates`] lists where a banner could start
//! (`watchdog: BUG: soft lockup` is found through `BUG`).

use super::kinds::{self, Continues};
use super::model::Kind;

/// What starts a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banner {
    pub kind: Kind,
    /// Whether the banner text alone identifies a kernel report (then a line
    /// prefix never seen before is accepted in front of it); catch-all
    /// banners such as `WARNING: <anything>` need a known prefix.
    pub specific: bool,
    /// The row of [`kinds::ROWS`] it is, if it is a regular banner.
    pub row: Option<usize>,
}

/// Substrings the prefilter searches for: every banner contains one.
pub const ANCHORS: &[&str] = &[
    "WARNING:",
    "BUG",
    "INFO:",
    "Oops",
    "general protection fault",
    "Unable to handle kernel",
    "stack segment:",
    "Kernel panic",
    "PANIC: double fault",
    "divide error:",
    "divide_error:",
    "invalid opcode:",
    "UBSAN:",
    "unreferenced object",
    "unregister_netdevice: waiting",
    "Internal error:",
    "Unhandled fault:",
    "Alignment trap:",
    "CFI failure at",
    "rust_kernel: panicked",
];

/// Text that may precede an anchor inside the banner itself (a `pr_fmt`
/// prefix, `kernel BUG`, the old `[ INFO: ... ]` brackets).
const LEAD_INS: &[&str] = &[
    "watchdog: ",
    "Internal error: ",
    "rcu: ",
    "kernel ",
    "Kernel ",
    "Oops: ",
    "[ ",
];

/// Byte offsets in `line` where a banner containing the anchor found at
/// `hit` may start: the hit itself, and before it the lead-ins that end
/// there.
pub fn candidates(line: &str, hit: usize) -> impl Iterator<Item = usize> + '_ {
    let before = line.get(..hit).unwrap_or("");
    LEAD_INS
        .iter()
        .filter(move |l| before.ends_with(*l))
        .map(move |l| hit - l.len())
        .chain(std::iter::once(hit))
}

/// Banners printed by lockdep (kernel/locking/lockdep.c) and
/// `__might_resched()`, after `WARNING: `, `INFO: ` or `BUG: `.
fn lockdep_kind(body: &str) -> Option<Kind> {
    let kind = if body.starts_with("inconsistent lock state") {
        Kind::InconsistentLockState
    } else if body.starts_with("possible circular locking dependency detected") {
        Kind::CircularLockingDependency
    } else if body.starts_with("possible recursive locking detected") {
        Kind::RecursiveLocking
    } else if body.starts_with("possible irq lock inversion dependency detected") {
        Kind::IrqLockInversion
    } else if body.contains("-safe -> ") && body.contains("-unsafe lock order detected") {
        Kind::IrqSafeUnsafeOrder
    } else if body.starts_with("bad unlock balance detected") {
        Kind::BadUnlockBalance
    } else if body.starts_with("bad contention detected") {
        Kind::BadContention
    } else if body.starts_with("held lock freed") {
        Kind::HeldLockFreed
    } else if body.starts_with("lock held when returning to user space") {
        Kind::LockHeldReturningToUser
    } else if body.ends_with("still has locks held!") || body.ends_with("still has locks held! ]") {
        Kind::LocksHeldAtExit
    } else if body.starts_with("suspicious RCU usage") {
        Kind::SuspiciousRcuUsage
    } else if body.starts_with("Invalid wait context") {
        Kind::InvalidWaitContext
    } else if body.starts_with("Nested lock was not taken") {
        Kind::NestedLockNotTaken
    } else if body.starts_with("chain_key collision") {
        Kind::ChainKeyCollision
    } else if body.starts_with("sleeping function called from invalid context") {
        Kind::SleepingInInvalidContext
    } else {
        return None;
    };
    Some(kind)
}

/// `WARNING:` lines that are not kernel reports (syzkaller's suppressions
/// and boot-time notices).
const WARNING_IGNORES: &[&str] = &[
    "/etc/ssh/moduli does not exist",
    "workqueue cpumask: online intersect > possible intersect",
    "The mand mount option",
    "the mand mount option",
    "Unsupported flag value",
    "Unprivileged eBPF is enabled",
    "kernel not compiled with CPU_SRSO",
    "Spectre v2 mitigation",
];

/// `INFO:` lines that are not kernel reports.
const INFO_IGNORES: &[&str] = &[
    "lockdep is turned off",
    "Stall ended before state dump start",
    "NMI handler",
    "recovery required on readonly filesystem",
    "no syscalls can create resource",
];

fn starts_with_any(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| s.starts_with(p))
}

/// `WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 func+0x1/0x2`, the old
/// `WARNING: at net/core/dev.c:123 func()` and the newer
/// `WARNING: net/core/dev.c:123 at func+0x1/0x2, CPU#0: comm/1`.
fn is_warn_location(body: &str) -> bool {
    if body.starts_with("CPU: ") && body.contains(" at ") {
        return true;
    }
    if body.starts_with("at ") {
        return true;
    }
    let first = body.split_whitespace().next().unwrap_or("");
    let src = first.trim_start_matches('[').trim_end_matches(']');
    (src.contains(".c:") || src.contains(".h:") || src.contains(".rs:")) && body.contains(" at ")
}

/// Recognises a banner at the start of a message: lockdep's, then the
/// rows of [`kinds::ROWS`], then the irregular `WARNING:` (`WARN()` with a
/// source location, other lines) and the catch-all `BUG:` / `INFO:` lines.
pub fn banner_at(msg: &str) -> Option<Banner> {
    let specific = |kind| {
        Some(Banner {
            kind,
            specific: true,
            row: None,
        })
    };
    let generic = |kind| {
        Some(Banner {
            kind,
            specific: false,
            row: None,
        })
    };

    // Old lockdep: `[ INFO: inconsistent lock state ]`, `[ BUG: ... ]`.
    let bracketed = msg.strip_prefix("[ ");
    let m = bracketed.unwrap_or(msg);

    if let Some(body) = m
        .strip_prefix("WARNING: ")
        .or_else(|| m.strip_prefix("INFO: "))
        .or_else(|| m.strip_prefix("BUG: "))
    {
        if let Some(kind) = lockdep_kind(body) {
            return specific(kind);
        }
    }
    if bracketed.is_some() {
        return None;
    }

    if let Some((i, row)) = kinds::find(msg) {
        return Some(Banner {
            kind: row.kind,
            specific: true,
            row: Some(i),
        });
    }

    if let Some(body) = msg.strip_prefix("WARNING: ") {
        if is_warn_location(body) {
            return specific(Kind::Warning);
        }
        if body.trim().is_empty() || starts_with_any(body, WARNING_IGNORES) {
            return None;
        }
        return generic(Kind::Warning);
    }
    if let Some(body) = msg
        .strip_prefix("BUG: ")
        .or_else(|| msg.strip_prefix("watchdog: BUG: "))
    {
        if body.trim().is_empty() || body.starts_with("no syscalls can create resource") {
            return None;
        }
        return generic(Kind::Bug);
    }
    if let Some(body) = msg
        .strip_prefix("INFO: ")
        .or_else(|| msg.strip_prefix("rcu: INFO: "))
    {
        if body.trim().is_empty()
            || starts_with_any(body, INFO_IGNORES)
            || body.contains("took too long")
            || msg.starts_with("rcu: ")
        {
            return None;
        }
        return generic(Kind::Info);
    }
    None
}

/// Whether a banner found inside an open report of kind `open` continues it
/// rather than starting a new report ([`kinds::Continues`]): the panic after
/// a fatal report, the trap of a `BUG()` (`kernel BUG at` / `invalid
/// opcode`), the oops line of a page fault, a `WARN()` after a permissive
/// CFI failure, the kmemleak object after syzkaller's `BUG: memory leak`.
pub fn continues(open: Kind, open_banner: &str, next: &Banner, msg: &str) -> bool {
    let rule = match next.row {
        Some(i) => kinds::ROWS[i].continues,
        None if next.kind == Kind::Warning => Continues::After(&[Kind::CfiFailure]),
        None => Continues::Never,
    };
    if rule == Continues::Always {
        return true;
    }
    // syzkaller prints `BUG: memory leak` before each kmemleak object.
    if open == Kind::MemoryLeak && open_banner == "BUG: memory leak" {
        return next.kind == Kind::MemoryLeak && msg.starts_with("unreferenced object");
    }
    match rule {
        Continues::Always | Continues::AnyReport => true,
        Continues::Never => false,
        Continues::After(kinds) => kinds.contains(&open),
        Continues::NotAfter(kinds) => !kinds.contains(&open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<Kind> {
        banner_at(s).map(|b| b.kind)
    }

    #[test]
    fn lockdep_banners() {
        assert_eq!(
            kind("WARNING: inconsistent lock state"),
            Some(Kind::InconsistentLockState)
        );
        assert_eq!(
            kind("[ INFO: inconsistent lock state ]"),
            Some(Kind::InconsistentLockState)
        );
        assert_eq!(
            kind("WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected"),
            Some(Kind::IrqSafeUnsafeOrder)
        );
        assert_eq!(
            kind("WARNING: kworker/1:1/32 still has locks held!"),
            Some(Kind::LocksHeldAtExit)
        );
        assert_eq!(
            kind("[ BUG: Invalid wait context ]"),
            Some(Kind::InvalidWaitContext)
        );
        assert_eq!(kind("x WARNING: inconsistent lock state"), None);
    }

    #[test]
    fn other_banners() {
        for (s, k) in [
            (
                "WARNING: CPU: 1 PID: 1 at net/core/dev.c:1 bar+0x1/0x2",
                Kind::Warning,
            ),
            (
                "BUG: KASAN: slab-use-after-free in foo+0x1/0x2",
                Kind::Kasan,
            ),
            (
                "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a:1]",
                Kind::SoftLockup,
            ),
            (
                "Oops: general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN NOPTI",
                Kind::GeneralProtectionFault,
            ),
            (
                "general protection fault: 0000 [#1] SMP KASAN",
                Kind::GeneralProtectionFault,
            ),
            ("kernel BUG at lib/list_debug.c:29!", Kind::KernelBug),
            (
                "rcu: INFO: rcu_preempt self-detected stall on CPU",
                Kind::RcuStall,
            ),
            (
                "INFO: task syz-executor:123 blocked for more than 143 seconds.",
                Kind::HungTask,
            ),
            (
                "unreferenced object 0xffff888100a3c000 (size 32):",
                Kind::MemoryLeak,
            ),
            (
                "CFI failure at call_timer_fn+0x2f/0x150 (target: dsp_cmx_send+0x0/0x530; expected type: 0x92ada1e9)",
                Kind::CfiFailure,
            ),
            ("Kernel panic - not syncing: Fatal exception", Kind::KernelPanic),
            ("Oops: 0000 [#1] PREEMPT SMP NOPTI", Kind::Oops),
            (
                "WARNING: kernel stack regs at 00000000d9dac8ad in fork13:28354 has bad 'bp' value 0000000000000000",
                Kind::BadFramePointer,
            ),
        ] {
            assert_eq!(kind(s), Some(k), "{s}");
        }
    }

    #[test]
    fn not_banners() {
        for s in [
            "general protection fault ip:7f3b sp:7ffd error:0 in libc.so.6[7f3b+155000]",
            "WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!",
            "INFO: lockdep is turned off.",
            "Oops: something",
            "BUG: ",
        ] {
            assert_eq!(kind(s), None, "{s}");
        }
        assert_eq!(
            banner_at("WARNING: something odd").map(|b| b.specific),
            Some(false)
        );
    }

    #[test]
    fn lead_ins() {
        let line = "[  1.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!";
        let hit = line.find("BUG").unwrap();
        let c: Vec<usize> = candidates(line, hit).collect();
        assert_eq!(c, vec![hit - "watchdog: ".len(), hit]);
    }
}
