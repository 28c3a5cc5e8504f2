//! Report segmenter: a single pass over the log that cuts out every lockdep
//! report, line by line, without looking back or ahead more than one line.
//!
//! Outside a report only lines that contain `WARNING:`, `BUG:` or `INFO:`
//! are normalized (the cheap prefilter that keeps big logs fast); a report
//! starts at a banner that begins a normalized line and ends
//! * at the next banner,
//! * after its call trace (a blank line or an unrelated line after frames),
//! * for reports without a trace, at the blank line after the held locks,
//! * or after [`MAX_REPORT_LINES`] lines.

use super::frame::parse_frame;
use super::model::Kind;
use super::normalize::normalize;

/// Hard cap on the lines of one report.
pub const MAX_REPORT_LINES: usize = 2000;
/// Unknown lines tolerated after `stack backtrace:` before the first frame.
const MAX_TRACE_HEADER_LINES: usize = 8;
/// Lines a wrapped (mail-folded) line may be joined from.
const MAX_JOINS: usize = 3;

/// A report cut out of the log, its lines normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReport {
    pub kind: Kind,
    /// 1-based line of the banner.
    pub line: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// Normalized lines; `lines[0]` is the banner.
    pub lines: Vec<String>,
}

/// Recognises a banner at the start of a normalized, trimmed line.
pub fn banner_kind(t: &str) -> Option<Kind> {
    // Old kernels: `[ INFO: inconsistent lock state ]`, `[ BUG: ... ]`.
    let t = t.strip_prefix("[ ").unwrap_or(t);
    let body = t
        .strip_prefix("WARNING: ")
        .or_else(|| t.strip_prefix("INFO: "))
        .or_else(|| t.strip_prefix("BUG: "))?;
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

/// Cheap test on the raw line: can it hold a banner at all?
#[inline]
pub fn may_hold_banner(raw: &str) -> bool {
    raw.contains("WARNING:") || raw.contains("BUG:") || raw.contains("INFO:")
}

/// Lines that belong to a call trace without being frames.
fn is_trace_decoration(t: &str) -> bool {
    const STARTS: &[&str] = &[
        "CPU:",
        "Hardware name:",
        "Call Trace:",
        "Call trace:",
        "<IRQ>",
        "</IRQ>",
        "<TASK>",
        "</TASK>",
        "<NMI>",
        "</NMI>",
        "<SOFTIRQ>",
        "</SOFTIRQ>",
        "Workqueue:",
        "Exception stack",
        "Sched_ext:",
        "Tainted:",
        "Modules linked in:",
        "RIP:",
        "RSP:",
        "RAX:",
        "RDX:",
        "RBP:",
        "R08:",
        "R10:",
        "R13:",
        "FS:",
        "CS:",
        "CR2:",
        "DR0:",
        "DR3:",
        "Code:",
        "PKRU:",
        "---[ end trace",
        "--- interrupt:",
        "pc :",
        "lr :",
        "sp :",
        "pstate:",
        "Backtrace:",
        "Stack:",
        "task:",
    ];
    STARTS.iter().any(|p| t.starts_with(p))
        || (t.len() > 4 && t.starts_with('x') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
}

#[derive(Debug)]
struct Builder {
    kind: Kind,
    line: usize,
    end_line: usize,
    lines: Vec<String>,
    in_trace: bool,
    trace_header_lines: usize,
    frames_in_trace: usize,
    held_list_seen: bool,
    /// Inside the `N locks held by` list: only `#N:` lines and the known
    /// follow-up headings may come next.
    in_held_list: bool,
    joins: usize,
}

impl Builder {
    fn new(kind: Kind, line: usize, banner: String) -> Self {
        Builder {
            kind,
            line,
            end_line: line,
            lines: vec![banner],
            in_trace: false,
            trace_header_lines: 0,
            frames_in_trace: 0,
            held_list_seen: false,
            in_held_list: false,
            joins: 0,
        }
    }

    fn finish(self) -> RawReport {
        RawReport {
            kind: self.kind,
            line: self.line,
            end_line: self.end_line,
            lines: self.lines,
        }
    }

    /// Whether the last line was cut by mail folding and continues on the
    /// next one (`..., at:` + `func+0x1/0x2`, `(&ctx->lock` + `){..}`).
    fn wants_continuation(&self) -> bool {
        if self.joins >= MAX_JOINS {
            return false;
        }
        let Some(last) = self.lines.last() else {
            return false;
        };
        let t = last.trim();
        if t.ends_with(", at:") || (t.ends_with("):") && t.contains(" last ")) {
            return true;
        }
        // A held-lock line cut after its address: `#4: ffffffffa2023128`.
        if let Some((idx, addr)) = t.split_once(": ") {
            if idx.starts_with('#')
                && addr.len() >= 8
                && addr.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return true;
            }
        }
        // An unbalanced lock description: `ffff8880 (&ctx->timeout_lock`.
        let opens = t.bytes().filter(|&b| b == b'(').count();
        let closes = t.bytes().filter(|&b| b == b')').count();
        opens > closes
            && (t.starts_with('(')
                || t.split_whitespace()
                    .next()
                    .is_some_and(|w| w.len() >= 8 && w.bytes().all(|b| b.is_ascii_hexdigit())))
    }

    /// Feeds one normalized line; returns false when the line does not
    /// belong to the report (which then ends before it).
    fn accept(&mut self, line_no: usize, line: &str) -> bool {
        let t = line.trim();
        if self.lines.len() >= MAX_REPORT_LINES {
            return false;
        }
        let continues = t.starts_with(", at:") || t.starts_with("){");
        if !t.is_empty()
            && self.joins < MAX_JOINS
            && (continues || (self.wants_continuation() && !looks_like_line_start(t)))
        {
            if let Some(last) = self.lines.last_mut() {
                if !continues && !last.ends_with('(') {
                    last.push(' ');
                }
                last.push_str(t);
            }
            self.joins += 1;
            self.end_line = line_no;
            return true;
        }
        self.joins = 0;
        if self.in_trace {
            if parse_frame(t).is_some() {
                self.frames_in_trace += 1;
            } else if t.is_empty() {
                if self.frames_in_trace > 0 {
                    return false;
                }
            } else if !is_trace_decoration(t) {
                if self.frames_in_trace > 0 || self.trace_header_lines >= MAX_TRACE_HEADER_LINES {
                    return false;
                }
                self.trace_header_lines += 1;
            }
        } else if t.starts_with("stack backtrace:") || t.starts_with("Call Trace:") {
            self.in_trace = true;
        } else if self.in_held_list && self.kind.has_backtrace() {
            if !t.is_empty() && !t.starts_with('#') {
                if !HELD_LIST_FOLLOWERS.iter().any(|p| t.starts_with(p)) {
                    return false;
                }
                self.in_held_list = false;
            }
        } else if !self.kind.has_backtrace() {
            if t.starts_with('#') {
                self.held_list_seen = true;
            } else if self.held_list_seen {
                return false;
            }
        }
        if (t.contains(" lock held by ") || t.contains(" locks held by ")) && t.ends_with(':') {
            self.in_held_list = true;
        }
        self.lines.push(line.to_owned());
        self.end_line = line_no;
        true
    }
}

/// What lockdep prints after the held-locks list of a report.
const HELD_LIST_FOLLOWERS: &[&str] = &[
    "stack backtrace:",
    "Call Trace:",
    "the shortest dependencies",
    "the dependencies between",
    "and the lock comparison",
    "other info that might help",
    "but this task is not holding",
    "Preemption disabled at",
    "[<",
    "CPU:",
    "Hardware name:",
];

/// Lines that start something new and are never a folded continuation.
fn looks_like_line_start(t: &str) -> bool {
    t.starts_with("stack backtrace:")
        || t.starts_with("other info")
        || t.starts_with("but task")
        || t.starts_with("irq event stamp")
        || t.starts_with('{')
        || t.starts_with('#')
        || t.starts_with("->")
        || banner_kind(t).is_some()
}

/// The streaming segmenter.
#[derive(Debug, Default)]
pub struct Segmenter {
    current: Option<Builder>,
    line_no: usize,
}

impl Segmenter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next raw line (without `\n`); returns a report that this
    /// line completed, if any.
    pub fn push(&mut self, raw: &str) -> Option<RawReport> {
        self.line_no += 1;
        let line_no = self.line_no;
        if self.current.is_none() {
            if !may_hold_banner(raw) {
                return None;
            }
            let norm = normalize(raw);
            if let Some(kind) = banner_kind(norm.trim()) {
                self.current = Some(Builder::new(kind, line_no, norm.trim().to_owned()));
            }
            return None;
        }
        let norm = normalize(raw);
        let t = norm.trim();
        if let Some(kind) = banner_kind(t) {
            let done = self.current.take().map(Builder::finish);
            self.current = Some(Builder::new(kind, line_no, t.to_owned()));
            return done;
        }
        let accepted = match self.current.as_mut() {
            Some(b) => b.accept(line_no, &norm),
            None => true,
        };
        if accepted {
            None
        } else {
            self.current.take().map(Builder::finish)
        }
    }

    /// Ends the input; returns the report still open, if any.
    pub fn finish(&mut self) -> Option<RawReport> {
        self.current.take().map(Builder::finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(text: &str) -> Vec<RawReport> {
        let mut s = Segmenter::new();
        let mut out: Vec<RawReport> = text.lines().filter_map(|l| s.push(l)).collect();
        out.extend(s.finish());
        out
    }

    #[test]
    fn banners() {
        assert_eq!(
            banner_kind("WARNING: inconsistent lock state"),
            Some(Kind::InconsistentLockState)
        );
        assert_eq!(
            banner_kind("[ INFO: inconsistent lock state ]"),
            Some(Kind::InconsistentLockState)
        );
        assert_eq!(
            banner_kind("WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected"),
            Some(Kind::IrqSafeUnsafeOrder)
        );
        assert_eq!(
            banner_kind("WARNING: kworker/1:1/32 still has locks held!"),
            Some(Kind::LocksHeldAtExit)
        );
        assert_eq!(
            banner_kind("[ BUG: Invalid wait context ]"),
            Some(Kind::InvalidWaitContext)
        );
        assert_eq!(
            banner_kind("WARNING: CPU: 1 PID: 1 at foo.c:1 bar+0x1/0x2"),
            None
        );
        assert_eq!(banner_kind("x WARNING: inconsistent lock state"), None);
    }

    #[test]
    fn ends_after_trace() {
        let text = "\
noise
WARNING: possible recursive locking detected
6.6.0 #1
--------------------------------------------
a/1 is trying to acquire lock:
ffff888005ac83f8 (sb_writers#5){.+.+}-{0:0}, at: f+0x1/0x2

stack backtrace:
CPU: 1 PID: 32 Comm: a
Call Trace:
 <TASK>
 dump_stack_lvl+0x1/0x2
 f+0x1/0x2
 </TASK>
unrelated line
WARNING: possible recursive locking detected
";
        let r = segment(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[0].end_line, 14);
        assert_eq!(r[1].line, 16);
    }

    #[test]
    fn joins_folded_lines() {
        let text = "\
WARNING: inconsistent lock state
x/1 [HC0[0]:SC0[0]:HE1:SE1] takes:
ffff888127baa598 (&xa->xa_lock#4){+.?.}-{3:3}, at:
nfs_netfs_issue_read+0x1b2/0x4b0 [nfs]
ffff888078e11418 (&ctx->timeout_lock
){?.+.}-{2:2}
, at: io_timeout_fn+0x6f/0x360
";
        let r = segment(text);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].lines[2],
            "ffff888127baa598 (&xa->xa_lock#4){+.?.}-{3:3}, at: nfs_netfs_issue_read+0x1b2/0x4b0 [nfs]"
        );
        assert_eq!(
            r[0].lines[3],
            "ffff888078e11418 (&ctx->timeout_lock){?.+.}-{2:2}, at: io_timeout_fn+0x6f/0x360"
        );
    }
}
