//! Report cutting: given the messages that follow a banner (prefixes
//! already stripped by the scanner, foreign lines already left out), decide
//! line by line where the report ends.
//!
//! Two families:
//! * lockdep reports end after their call trace (a blank or unrelated line
//!   after frames), or for reports without a trace at the blank line after
//!   the held locks;
//! * every other report (oopses, WARN(), sanitizers, stalls, leaks) ends at
//!   an end marker (`---[ end trace ... ]---`, the closing `=====` of a
//!   sanitizer report, `---[ end Kernel panic ... ]---`), or at the first
//!   line after its stacks that is none of the lines such reports print.
//!
//! Either ends at the next banner (decided by the scanner) or after
//! [`MAX_REPORT_LINES`] lines.

use super::banner::banner_at;
use super::frame::{parse_bare_address, parse_frame};
use super::model::Kind;

/// Hard cap on the lines of one report.
pub const MAX_REPORT_LINES: usize = 2000;
/// Unknown lines tolerated after `stack backtrace:` before the first frame.
const MAX_TRACE_HEADER_LINES: usize = 8;
/// Lines a wrapped (mail-folded) line may be joined from.
const MAX_JOINS: usize = 3;
/// Free-form lines tolerated between an oops banner and its first stack.
const MAX_PRELUDE_LINES: usize = 60;

/// A report cut out of the log, its lines prefix-stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReport {
    pub kind: Kind,
    /// 1-based line of the banner.
    pub line: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// The messages; `lines[0]` is the banner.
    pub lines: Vec<String>,
    /// The `------------[ cut here ]------------` block printed just before
    /// a `WARN()` / `BUG()` banner (the warning's message), if any.
    pub prelude: Vec<String>,
    /// Lines inside the report's span that did not carry its prefix.
    pub foreign_lines: usize,
    /// The printk timestamp in the banner line's prefix (`2.784975` of
    /// `[    2.784975] `), if it has one: with the lines, what makes a
    /// report printed once but logged twice recognisable.
    pub stamp: Option<String>,
    /// The module the log said it loaded before the report (`MOD: loading
    /// out-of-tree module taints kernel.`), if it did.
    pub loaded_module: Option<String>,
}

/// The first printk timestamp (`[    2.784975]`, `[T123]`-less) of a line
/// prefix: seconds with a fraction inside brackets, without the brackets
/// and padding.
pub fn printk_stamp(prefix: &str) -> Option<&str> {
    let mut rest = prefix;
    while let Some(i) = rest.find('[') {
        let after = &rest[i + 1..];
        let end = after.find(']')?;
        let inner = after[..end].trim();
        if let Some((secs, frac)) = inner.split_once('.') {
            if !secs.is_empty()
                && !frac.is_empty()
                && secs.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
            {
                return Some(inner);
            }
        }
        rest = &after[end + 1..];
    }
    None
}

/// What a line means for the open report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The line belongs to the report.
    Accept,
    /// The report ended before this line.
    End,
    /// The line is the report's last.
    EndAfter,
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
        "<EOI>",
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
        "DR6:",
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

/// Headings that start a stack trace of an oops-like report.
fn is_stack_header(t: &str) -> bool {
    const STARTS: &[&str] = &[
        "Call Trace:",
        "Call trace:",
        "Backtrace:",
        "backtrace",
        "stack backtrace:",
        "Allocated by task ",
        "Freed by task ",
        "allocated by task ",
        "freed by task ",
        "Last potentially related work creation:",
        "Second to last potentially related work creation:",
        "Uninit was created at:",
        "Uninit was stored to memory at:",
        "page last allocated via",
        "page last free",
        "Exception stack",
        "Preemption disabled at:",
    ];
    STARTS.iter().any(|p| t.starts_with(p))
        || (t.starts_with("Local variable ") && t.ends_with("created at:"))
}

/// Lines oops-like reports print besides frames, that do not end them:
/// the trace decorations and these.
fn is_oops_vocabulary(t: &str) -> bool {
    const STARTS: &[&str] = &[
        "------------[ cut here ]------------",
        "CPU#",
        "IP:",
        "RBX:",
        "RCX:",
        "RSI:",
        "EFLAGS:",
        "#PF:",
        "PGD ",
        "Mem abort info:",
        "Data abort info:",
        "ESR = ",
        "EC = ",
        "SET = ",
        "FSC = ",
        "CM = ",
        "user pgtable:",
        "swapper pgtable:",
        "Internal error:",
        "Process ",
        "Not tainted",
        "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"",
        "irq event stamp:",
        "hardirqs last",
        "softirqs last",
        "Kernel panic - not syncing",
        "Kernel Offset:",
        "Rebooting in",
        "Dumping ftrace buffer",
        "Showing all locks held",
        "Showing busy workqueues",
        "no locks held by",
        "INFO: lockdep is turned off",
        "Disabling lock debugging due to kernel taint",
        "Sending NMI from CPU",
        "NMI backtrace for cpu",
        "rcu: ",
        "rcu_preempt kthread",
        "rcu_sched kthread",
        "Unless rcu_preempt kthread",
        "in_atomic():",
        "preempt_count:",
        "RCU nest depth:",
        "Preemption disabled at:",
        "KASAN: ",
        "Read of size",
        "Write of size",
        "The buggy address",
        "Memory state around",
        "page:",
        "flags:",
        "raw:",
        "head:",
        "page_type:",
        "page dumped because",
        "page_owner",
        "kfence-#",
        "ODEBUG:",
        "refcount_t:",
        "list_add corruption",
        "list_del corruption",
        "BUG: Bad page",
        "index ",
        "shift exponent",
        "signed integer overflow",
        "load of value",
        "member access within",
        "----",
        "---[",
        "-> ",
    ];
    STARTS.iter().any(|p| t.starts_with(p))
        || is_trace_decoration(t)
        || (t.contains(" lock held by ") || t.contains(" locks held by "))
        || t.starts_with('#')
        || is_register_line(t)
}

/// `R13: 0000 R14: ...`, arm64 `x29: ffff800 x28: ...`.
fn is_register_line(t: &str) -> bool {
    let Some((reg, rest)) = t.split_once(": ") else {
        return false;
    };
    let reg_ok = reg.len() <= 4
        && reg
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b.is_ascii_lowercase())
        && reg
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    reg_ok
        && rest
            .split_whitespace()
            .next()
            .is_some_and(|w| w.len() >= 8 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Sanitizer reports sit between two `=====` lines and print free text
/// between their stacks.
fn is_sanitizer(kind: Kind) -> bool {
    matches!(kind, Kind::Kasan | Kind::Kfence | Kind::Kmsan | Kind::Kcsan)
}

fn is_rule(t: &str) -> bool {
    t.len() >= 10 && t.bytes().all(|b| b == b'=')
}

/// Where an oops-like report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between the banner and the first stack.
    Prelude,
    /// In or after a stack.
    Stacks,
    /// After `---[ end trace`: only the register dump and panic lines follow.
    AfterEnd,
}

/// The report being cut.
#[derive(Debug)]
pub struct Builder {
    kind: Kind,
    line: usize,
    end_line: usize,
    lines: Vec<String>,
    prelude: Vec<String>,
    foreign_lines: usize,
    /// Foreign lines since the last line of the report (they only count
    /// if the report goes on after them).
    pending_foreign: usize,
    // lockdep family
    in_trace: bool,
    trace_header_lines: usize,
    frames_in_trace: usize,
    held_list_seen: bool,
    /// Inside the `N locks held by` list: only `#N:` lines and the known
    /// follow-up headings may come next.
    in_held_list: bool,
    joins: usize,
    // oops family
    phase: Phase,
    frames: usize,
    prelude_lines: usize,
    /// Accepted lines at the end that are blank (trimmed at the end).
    trailing_blank: usize,
    stamp: Option<String>,
    loaded_module: Option<String>,
}

impl Builder {
    /// Starts a report at its banner.
    pub fn new(kind: Kind, line: usize, banner: String, prelude: Vec<String>) -> Self {
        Builder {
            kind,
            line,
            end_line: line,
            lines: vec![banner],
            prelude,
            foreign_lines: 0,
            pending_foreign: 0,
            in_trace: false,
            trace_header_lines: 0,
            frames_in_trace: 0,
            held_list_seen: false,
            in_held_list: false,
            joins: 0,
            phase: Phase::Prelude,
            frames: 0,
            prelude_lines: 0,
            trailing_blank: 0,
            stamp: None,
            loaded_module: None,
        }
    }

    /// Sets the module the log loaded before the report.
    pub fn with_loaded_module(mut self, module: Option<String>) -> Self {
        self.loaded_module = module;
        self
    }

    /// Sets the banner's timestamp from its line prefix ([`printk_stamp`]).
    pub fn with_stamp(mut self, prefix: &str) -> Self {
        self.stamp = printk_stamp(prefix).map(str::to_owned);
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The banner line.
    pub fn banner(&self) -> &str {
        self.lines.first().map_or("", String::as_str)
    }

    /// Counts a line inside the report that is not the report's.
    pub fn foreign(&mut self) {
        self.pending_foreign += 1;
    }

    /// Ends the report.
    pub fn finish(mut self) -> RawReport {
        let keep = self.lines.len().saturating_sub(self.trailing_blank).max(1);
        self.lines.truncate(keep);
        RawReport {
            kind: self.kind,
            line: self.line,
            end_line: self.end_line,
            lines: self.lines,
            prelude: self.prelude,
            foreign_lines: self.foreign_lines,
            stamp: self.stamp,
            loaded_module: self.loaded_module,
        }
    }

    /// Whether the last line was cut by mail folding and continues on the
    /// next one (`..., at:` + `func+0x1/0x2`, `(&ctx->lock` + `){..}`).
    pub fn wants_continuation(&self) -> bool {
        if !self.kind.is_lockdep() || self.joins >= MAX_JOINS {
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

    /// Feeds one message (prefix stripped).
    pub fn push(&mut self, line_no: usize, line: &str) -> Step {
        if self.lines.len() >= MAX_REPORT_LINES {
            return Step::End;
        }
        let step = if self.kind.is_lockdep() {
            if self.accept_lockdep(line_no, line) {
                self.foreign_lines += std::mem::take(&mut self.pending_foreign);
                return Step::Accept;
            }
            Step::End
        } else {
            self.accept_oops(line.trim())
        };
        if step != Step::End {
            self.foreign_lines += std::mem::take(&mut self.pending_foreign);
            let blank = line.trim().is_empty();
            self.trailing_blank = if blank { self.trailing_blank + 1 } else { 0 };
            self.lines.push(line.trim_end().to_owned());
            if !blank {
                self.end_line = line_no;
            }
        }
        step
    }

    fn accept_oops(&mut self, t: &str) -> Step {
        if t.starts_with("---[ end Kernel panic") {
            return Step::EndAfter;
        }
        if t.starts_with("---[ end trace") {
            self.phase = Phase::AfterEnd;
            return Step::Accept;
        }
        if is_rule(t) {
            // The closing rule of a sanitizer / hung task lock dump; the
            // opening one of an old UBSAN report is the line before the banner.
            return if self.frames > 0 || self.lines.len() > 3 {
                Step::EndAfter
            } else {
                Step::Accept
            };
        }
        if t.is_empty() {
            return if self.phase == Phase::AfterEnd {
                Step::End
            } else {
                Step::Accept
            };
        }
        if parse_frame(t).is_some() || parse_bare_address(t).is_some() {
            self.frames += 1;
            if self.phase == Phase::Prelude {
                self.phase = Phase::Stacks;
            }
            return Step::Accept;
        }
        if is_stack_header(t) {
            if self.phase == Phase::Prelude {
                self.phase = Phase::Stacks;
            }
            return Step::Accept;
        }
        if is_oops_vocabulary(t) || banner_at(t).is_some() {
            return Step::Accept;
        }
        if is_sanitizer(self.kind) && self.lines.len() < MAX_REPORT_LINES {
            return Step::Accept;
        }
        match self.phase {
            Phase::Prelude
                if !self.kind.without_stack() && self.prelude_lines < MAX_PRELUDE_LINES =>
            {
                self.prelude_lines += 1;
                Step::Accept
            }
            _ => Step::End,
        }
    }

    /// The lockdep family: returns false when the line does not belong to
    /// the report (which then ends before it).
    fn accept_lockdep(&mut self, line_no: usize, line: &str) -> bool {
        let t = line.trim();
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
            if parse_frame(t).is_some() || parse_bare_address(t).is_some() {
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
        self.lines.push(line.trim_end().to_owned());
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
        || banner_at(t).is_some()
}
