//! Report kinds as data: one row per banner form, as syzkaller's
//! pkg/report/linux.go declares them (header, title format, stack rule with
//! its skip list). The same row drives recognition ([`super::banner`]),
//! the continuation rules and the title ([`super::title`]).
//!
//! Adding a kind: a [`Kind`] variant, a row here, a fixture under
//! `tests/fixtures/kinds/`. Only the irregular kinds are code: lockdep's
//! banners and titles, `WARNING:` with a source location (`WARN()`), the
//! catch-all `BUG:` / `INFO:` / `WARNING:` lines, and the titles marked
//! [`Title::Custom`] (KASAN's access, the kernel-panic stack protector,
//! CFI, Rust panics, `workqueue leaked lock`).

use std::sync::OnceLock;

use super::model::Kind;

/// What the kernel prints in front of a banner's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// Nothing: the body starts the message.
    None,
    /// `BUG: ` (or the soft-lockup watchdog's `watchdog: BUG: `).
    Bug,
    /// `INFO: ` (or RCU's `rcu: INFO: `).
    Info,
    /// `WARNING: `.
    Warning,
    /// x86 traps: `Oops: ` since v6.7, nothing before.
    Trap,
}

impl Header {
    /// The body of `msg` after this header, if `msg` starts with it.
    fn strip(self, msg: &str) -> Option<&str> {
        match self {
            Header::None => Some(msg),
            Header::Bug => msg
                .strip_prefix("BUG: ")
                .or_else(|| msg.strip_prefix("watchdog: BUG: ")),
            Header::Info => msg
                .strip_prefix("INFO: ")
                .or_else(|| msg.strip_prefix("rcu: INFO: ")),
            Header::Warning => msg.strip_prefix("WARNING: "),
            Header::Trap => Some(msg.strip_prefix("Oops: ").unwrap_or(msg)),
        }
    }
}

/// The title's text before ` in FUNC`.
#[derive(Debug, Clone, Copy)]
pub enum Title {
    /// Fixed text.
    Text(&'static str),
    /// Computed from the banner line (`KMSAN: TYPE`, `UBSAN: TYPE`, ...).
    Banner(fn(&str) -> String),
    /// The banner line itself (first 120 characters), no frame.
    Line,
    /// Hand-written in [`super::title`] for this kind.
    Custom,
}

/// Where the guilty frame is looked for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// Only the stack.
    None,
    /// The `RIP:` / `pc :` function, unless skipped.
    Rip,
    /// The function the banner names (`... in FUNC+0x1/0x2`), unless skipped.
    Banner,
}

/// How the guilty frame is chosen (syzkaller's stack extractors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// No frame: the title is the text alone.
    None,
    /// The `RIP:` function, skipped or not.
    Rip,
    /// The lead, else the first `Call Trace` frame outside the skip lists.
    First,
    /// The caller of the first dispatch function (stalls, lockups).
    Stall,
    /// The lock everybody waits for, else the first frame outside
    /// scheduling and waiting (hung tasks).
    Hang,
    /// The frames the timer interrupt that found an RCU stall interrupted,
    /// then the stall rule.
    RcuStall,
    /// The first frame outside the skip lists of the first stack with one of
    /// these headings.
    Stack(&'static [&'static str]),
}

/// Whether a banner found inside an open report continues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continues {
    /// It starts a report of its own.
    Never,
    /// Always (a panic after the report that caused it).
    Always,
    /// Any report but syzkaller's `BUG: memory leak` block.
    AnyReport,
    /// A report of one of these kinds (the trap after a `BUG()`).
    After(&'static [Kind]),
    /// A report of any kind but these.
    NotAfter(&'static [Kind]),
}

/// One banner form of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub kind: Kind,
    pub header: Header,
    /// The body (after the header) starts with one of these ...
    pub starts: &'static [&'static str],
    /// ... and, after that, contains all of these.
    pub contains: &'static [&'static str],
    /// ... and, after that, passes this check.
    pub check: Option<fn(&str) -> bool>,
    pub title: Title,
    pub lead: Lead,
    pub pick: Pick,
    /// The kind's own skip patterns, on top of syzkaller's list
    /// ([`super::guilty`]): `^`/`$` anchor, `|` separates alternatives.
    pub skip: &'static [&'static str],
    pub continues: Continues,
}

impl Row {
    /// Whether `msg` (a message, log prefix stripped) is this banner.
    fn matches(&self, msg: &str) -> bool {
        let Some(body) = self.header.strip(msg) else {
            return false;
        };
        self.starts.iter().any(|s| {
            body.strip_prefix(s).is_some_and(|rest| {
                self.contains.iter().all(|c| rest.contains(c))
                    && self.check.is_none_or(|check| check(rest))
            })
        })
    }
}

/// The bytes a message that is `row`'s banner can start with.
fn first_bytes(row: &Row) -> Vec<u8> {
    let mut bytes = Vec::new();
    let of_starts = |bytes: &mut Vec<u8>| {
        for s in row.starts {
            match s.as_bytes().first() {
                Some(&b) => bytes.push(b),
                None => bytes.extend(0..=u8::MAX),
            }
        }
    };
    match row.header {
        Header::Bug => bytes.extend(b"Bw"),
        Header::Info => bytes.extend(b"Ir"),
        Header::Warning => bytes.push(b'W'),
        Header::Trap => {
            bytes.push(b'O');
            of_starts(&mut bytes);
        }
        Header::None => of_starts(&mut bytes),
    }
    bytes
}

/// For each first byte of a message, the rows (indices into [`ROWS`], in
/// order) its banner can be: the prefilter's hits (`DEBUG` holds `BUG`)
/// are mostly no banner, and are then rejected after a row or two.
fn by_first_byte() -> &'static [Vec<usize>] {
    static INDEX: OnceLock<Vec<Vec<usize>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = vec![Vec::new(); 256];
        for (i, row) in ROWS.iter().enumerate() {
            for b in first_bytes(row) {
                let rows: &mut Vec<usize> = &mut index[usize::from(b)];
                if rows.last() != Some(&i) {
                    rows.push(i);
                }
            }
        }
        index
    })
}

/// The first row whose banner `msg` is.
pub fn find(msg: &str) -> Option<(usize, &'static Row)> {
    let first = *msg.as_bytes().first()?;
    by_first_byte()[usize::from(first)]
        .iter()
        .map(|&i| (i, &ROWS[i]))
        .find(|(_, r)| r.matches(msg))
}

/// A row with the defaults: title text, first frame, no lead, no skips,
/// never a continuation.
const fn row(
    kind: Kind,
    header: Header,
    starts: &'static [&'static str],
    title: &'static str,
) -> Row {
    Row {
        kind,
        header,
        starts,
        contains: &[],
        check: None,
        title: Title::Text(title),
        lead: Lead::None,
        pick: Pick::First,
        skip: &[],
        continues: Continues::Never,
    }
}

/// A row whose title is the text alone.
const fn fixed(
    kind: Kind,
    header: Header,
    starts: &'static [&'static str],
    title: &'static str,
) -> Row {
    Row {
        pick: Pick::None,
        ..row(kind, header, starts, title)
    }
}

/// `0000 [#1] PREEMPT SMP` after `Oops: `.
fn hex4_oops(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_hexdigit) && rest[4..].starts_with(" [#")
}

/// `BUG: KFENCE: use-after-free read in f+0x1/0x2` → `KFENCE: use-after-free read`.
fn kfence_prefix(banner: &str) -> String {
    let body = banner.trim_start_matches("BUG: KFENCE: ");
    let (what, _) = body.split_once(" in ").unwrap_or((body, ""));
    format!("KFENCE: {what}")
}

/// `BUG: KMSAN: uninit-value in f` → `KMSAN: uninit-value`.
fn kmsan_prefix(banner: &str) -> String {
    let body = banner.trim_start_matches("BUG: KMSAN: ");
    let what = body.split_whitespace().next().unwrap_or("");
    format!("KMSAN: {what}")
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

/// `UBSAN: array-index-out-of-bounds in x.c:1:2` → `UBSAN: array-index-out-of-bounds`.
fn ubsan_prefix(banner: &str) -> String {
    let body = banner.trim_start_matches("UBSAN: ");
    if body.starts_with("Undefined behaviour in") {
        "UBSAN: undefined-behaviour".to_owned()
    } else {
        let what = body.split(" in ").next().unwrap_or(body).trim();
        format!("UBSAN: {what}")
    }
}

/// `BUG: spinlock bad magic on CPU#0, ...` → `BUG: spinlock bad magic`.
fn spinlock_prefix(banner: &str) -> String {
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
    format!("BUG: {which} {what}")
}

/// `BUG: using __this_cpu_add() in preemptible [00000000] code: ...` →
/// `BUG: using __this_cpu_add() in preemptible code`.
fn preemptible_prefix(banner: &str) -> String {
    let what = banner
        .strip_prefix("BUG: using ")
        .and_then(|r| r.split("()").next())
        .unwrap_or("smp_processor_id");
    format!("BUG: using {what}() in preemptible code")
}

/// `Kernel panic - not syncing: MSG` → `kernel panic: MSG`.
fn panic_prefix(banner: &str) -> String {
    let msg = banner
        .split_once("not syncing: ")
        .map(|(_, m)| m.trim())
        .unwrap_or("");
    format!("kernel panic: {msg}")
}

/// What kmemleak's and syzkaller's leak reports skip: the allocators.
const LEAK_SKIP: &[&str] = &[
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
];

/// What a bad page's allocation stack skips: the page allocator.
const PAGE_SKIP: &[&str] = &[
    "free_page|put_page|get_page|update_page|release_page",
    "free_unref",
    "folio",
    "truncate_inode_pages",
    "page_frag_free",
    "alloc",
    "vmap",
    "page_owner",
];

/// Kinds whose `BUG()` the trap line after them belongs to.
const TRAPPED: &[Kind] = &[
    Kind::KernelBug,
    Kind::CfiFailure,
    Kind::RustPanic,
    Kind::ListCorruption,
    Kind::Ubsan,
    Kind::Warning,
];

/// An oops line continues any report but another oops.
const OOPS: Continues = Continues::NotAfter(&[Kind::Oops, Kind::InternalError]);

/// Every regular banner, in the order they are tried (within one header,
/// the more specific first).
pub const ROWS: &[Row] = &[
    // BUG: ...
    Row {
        title: Title::Custom,
        ..row(Kind::Kasan, Header::Bug, &["KASAN: "], "")
    },
    Row {
        title: Title::Banner(kfence_prefix),
        lead: Lead::Banner,
        ..row(Kind::Kfence, Header::Bug, &["KFENCE: "], "")
    },
    Row {
        title: Title::Banner(kmsan_prefix),
        skip: &["alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$"],
        ..row(Kind::Kmsan, Header::Bug, &["KMSAN: "], "")
    },
    Row {
        title: Title::Banner(kcsan_title),
        pick: Pick::None,
        ..row(Kind::Kcsan, Header::Bug, &["KCSAN: "], "")
    },
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::PageFault,
            Header::Bug,
            &[
                "unable to handle page fault",
                "unable to handle kernel paging request",
                "Unable to handle kernel data access",
            ],
            "BUG: unable to handle kernel paging request",
        )
    },
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::NullPointerDereference,
            Header::Bug,
            &[
                "kernel NULL pointer dereference",
                "unable to handle kernel NULL pointer dereference",
                "Kernel NULL pointer dereference",
            ],
            "BUG: unable to handle kernel NULL pointer dereference",
        )
    },
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::PageFault,
            Header::Bug,
            &["unable to handle kernel", "Unable to handle kernel"],
            "BUG: unable to handle kernel paging request",
        )
    },
    Row {
        title: Title::Banner(spinlock_prefix),
        skip: &["spin_", "_lock", "_unlock"],
        ..row(
            Kind::SpinlockBug,
            Header::Bug,
            &["spinlock ", "rwlock "],
            "",
        )
    },
    Row {
        lead: Lead::Rip,
        pick: Pick::Stall,
        ..row(
            Kind::SoftLockup,
            Header::Bug,
            &["soft lockup"],
            "BUG: soft lockup",
        )
    },
    Row {
        skip: &["schedule"],
        ..row(
            Kind::SchedulingWhileAtomic,
            Header::Bug,
            &["scheduling while atomic"],
            "BUG: scheduling while atomic",
        )
    },
    Row {
        contains: &[" in preemptible"],
        title: Title::Banner(preemptible_prefix),
        skip: &[
            "dump_stack",
            "preemption",
            "preempt",
            "debug_",
            "processor_id",
            "this_cpu",
        ],
        ..row(Kind::PreemptibleAccess, Header::Bug, &["using "], "")
    },
    fixed(
        Kind::WorkqueueLockup,
        Header::Bug,
        &["workqueue lockup"],
        "BUG: workqueue lockup",
    ),
    Row {
        title: Title::Custom,
        ..row(
            Kind::WorkqueueLockup,
            Header::Bug,
            &["workqueue leaked lock or atomic"],
            "",
        )
    },
    Row {
        pick: Pick::Stack(&["backtrace", "stack"]),
        skip: LEAK_SKIP,
        ..row(
            Kind::MemoryLeak,
            Header::Bug,
            &["memory leak"],
            "memory leak",
        )
    },
    Row {
        contains: &["stack guard page was hit at"],
        lead: Lead::Rip,
        pick: Pick::Stall,
        ..row(
            Kind::StackGuardPage,
            Header::Bug,
            &[""],
            "BUG: stack guard page was hit",
        )
    },
    Row {
        pick: Pick::Stack(&["page last allocated"]),
        skip: PAGE_SKIP,
        ..row(
            Kind::BadPage,
            Header::Bug,
            &["Bad page state"],
            "BUG: Bad page state",
        )
    },
    Row {
        pick: Pick::Stack(&["page last allocated"]),
        skip: PAGE_SKIP,
        ..row(
            Kind::BadPage,
            Header::Bug,
            &["Bad page cache"],
            "BUG: Bad page cache",
        )
    },
    fixed(
        Kind::BadPage,
        Header::Bug,
        &["Bad page map"],
        "BUG: Bad page map",
    ),
    fixed(
        Kind::Bug,
        Header::Bug,
        &["Bad rss-counter state"],
        "BUG: Bad rss-counter state",
    ),
    fixed(
        Kind::Bug,
        Header::Bug,
        &["non-zero nr_ptes"],
        "BUG: non-zero nr_ptes on freeing mm",
    ),
    fixed(
        Kind::Bug,
        Header::Bug,
        &["non-zero nr_pmds"],
        "BUG: non-zero nr_pmds on freeing mm",
    ),
    Row {
        contains: &[" still in use"],
        ..fixed(
            Kind::Bug,
            Header::Bug,
            &["Dentry "],
            "BUG: Dentry still in use in unmount",
        )
    },
    // kernel BUG, slab
    Row {
        contains: &["mm/usercopy.c", ":"],
        skip: &["usercopy", "__check"],
        continues: Continues::After(&[Kind::RustPanic, Kind::CfiFailure]),
        ..row(
            Kind::KernelBug,
            Header::None,
            &["kernel BUG at "],
            "BUG: bad usercopy",
        )
    },
    Row {
        contains: &[":"],
        lead: Lead::Rip,
        skip: &["^skb_"],
        continues: Continues::After(&[Kind::RustPanic, Kind::CfiFailure]),
        ..row(
            Kind::KernelBug,
            Header::None,
            &["kernel BUG at "],
            "kernel BUG",
        )
    },
    Row {
        lead: Lead::Rip,
        skip: &["^skb_"],
        continues: Continues::After(&[Kind::RustPanic, Kind::CfiFailure]),
        ..row(
            Kind::KernelBug,
            Header::None,
            &["Kernel BUG "],
            "kernel BUG",
        )
    },
    Row {
        contains: &["Object already free"],
        ..fixed(
            Kind::Bug,
            Header::None,
            &["BUG kmalloc-"],
            "BUG: Object already free",
        )
    },
    Row {
        title: Title::Line,
        ..fixed(
            Kind::Bug,
            Header::None,
            &["BUG kmalloc-", "BUG kmem_cache"],
            "",
        )
    },
    // INFO: ...
    Row {
        contains: &[" blocked for more than "],
        pick: Pick::Hang,
        ..row(Kind::HungTask, Header::Info, &["task "], "INFO: task hung")
    },
    Row {
        contains: &[" can't die for more than "],
        skip: &["schedule"],
        ..row(
            Kind::HungTask,
            Header::Info,
            &["task "],
            "INFO: task can't die",
        )
    },
    Row {
        contains: &["detected", "stall"],
        pick: Pick::RcuStall,
        ..row(
            Kind::RcuStall,
            Header::Info,
            &["rcu_", "rcu "],
            "INFO: rcu detected stall",
        )
    },
    Row {
        skip: &["stack", "lock", "IRQ"],
        ..row(
            Kind::NonStaticKey,
            Header::Info,
            &["trying to register non-static key"],
            "INFO: trying to register non-static key",
        )
    },
    // x86 traps
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::GeneralProtectionFault,
            Header::Trap,
            // Not user space's `traps: x[1] general protection fault ip:...`.
            &["general protection fault:", "general protection fault,"],
            "general protection fault",
        )
    },
    Row {
        pick: Pick::Rip,
        continues: Continues::After(TRAPPED),
        ..row(
            Kind::InvalidOpcode,
            Header::Trap,
            &["invalid opcode: "],
            "invalid opcode",
        )
    },
    Row {
        pick: Pick::Rip,
        ..row(
            Kind::DivideError,
            Header::Trap,
            &["divide error: ", "divide_error: "],
            "divide error",
        )
    },
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::StackSegmentFault,
            Header::Trap,
            &["stack segment: "],
            "stack segment fault",
        )
    },
    Row {
        check: Some(hex4_oops),
        lead: Lead::Rip,
        continues: OOPS,
        ..row(Kind::Oops, Header::None, &["Oops: "], "Oops")
    },
    Row {
        pick: Pick::Rip,
        continues: Continues::Always,
        ..row(
            Kind::DoubleFault,
            Header::None,
            &["PANIC: double fault"],
            "PANIC: double fault",
        )
    },
    // arm, arm64
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::NullPointerDereference,
            Header::None,
            &["Unable to handle kernel NULL pointer dereference"],
            "BUG: unable to handle kernel NULL pointer dereference",
        )
    },
    Row {
        lead: Lead::Rip,
        ..row(
            Kind::PageFault,
            Header::None,
            &[
                "Unable to handle kernel paging request",
                "Unable to handle kernel access to user memory",
            ],
            "BUG: unable to handle kernel paging request",
        )
    },
    Row {
        lead: Lead::Rip,
        continues: OOPS,
        ..row(
            Kind::InternalError,
            Header::None,
            &["Internal error: "],
            "Internal error",
        )
    },
    Row {
        lead: Lead::Rip,
        continues: OOPS,
        ..row(
            Kind::Oops,
            Header::None,
            &["Unhandled fault: "],
            "Unhandled fault",
        )
    },
    Row {
        lead: Lead::Rip,
        continues: OOPS,
        ..row(
            Kind::Oops,
            Header::None,
            &["Alignment trap: "],
            "Alignment trap",
        )
    },
    // Kernel panic - not syncing: ...
    Row {
        title: Title::Custom,
        continues: Continues::Always,
        ..row(
            Kind::KernelPanic,
            Header::None,
            &["Kernel panic - not syncing: stack-protector:"],
            "",
        )
    },
    Row {
        pick: Pick::Stall,
        skip: &["schedule", "retint_kernel"],
        continues: Continues::Always,
        ..row(
            Kind::KernelPanic,
            Header::None,
            &["Kernel panic - not syncing: corrupted stack end"],
            "kernel panic: corrupted stack end",
        )
    },
    Row {
        pick: Pick::Stall,
        skip: &["bad_stack"],
        continues: Continues::Always,
        ..row(
            Kind::KernelPanic,
            Header::None,
            &["Kernel panic - not syncing: kernel stack overflow"],
            "kernel stack overflow",
        )
    },
    Row {
        continues: Continues::Always,
        ..fixed(
            Kind::KernelPanic,
            Header::None,
            &["Kernel panic - not syncing: Couldn't open N_TTY ldisc"],
            "kernel panic: Couldn't open N_TTY ldisc",
        )
    },
    Row {
        title: Title::Banner(panic_prefix),
        continues: Continues::Always,
        ..fixed(
            Kind::KernelPanic,
            Header::None,
            &["Kernel panic - not syncing"],
            "",
        )
    },
    // Sanitizers, leaks and the rest
    Row {
        title: Title::Banner(ubsan_prefix),
        skip: &["ubsan", "overflow"],
        ..row(Kind::Ubsan, Header::None, &["UBSAN: "], "")
    },
    Row {
        pick: Pick::Stack(&["backtrace", "stack"]),
        skip: LEAK_SKIP,
        ..row(
            Kind::MemoryLeak,
            Header::None,
            &["unreferenced object 0x"],
            "memory leak",
        )
    },
    Row {
        title: Title::Custom,
        ..row(Kind::CfiFailure, Header::None, &["CFI failure at "], "")
    },
    Row {
        contains: &[" to become free"],
        continues: Continues::AnyReport,
        ..fixed(
            Kind::UnregisterNetdevice,
            Header::None,
            &["unregister_netdevice: waiting for "],
            "unregister_netdevice: waiting for DEV to become free",
        )
    },
    Row {
        title: Title::Custom,
        ..row(
            Kind::RustPanic,
            Header::None,
            &["rust_kernel: panicked at "],
            "",
        )
    },
    // WARNING: ... (the frame-pointer unwinder; `WARN()` is code)
    Row {
        contains: &[" has bad 'bp' value"],
        ..fixed(
            Kind::BadFramePointer,
            Header::Warning,
            &["kernel stack regs at "],
            "WARNING: kernel stack regs has bad 'bp' value",
        )
    },
    Row {
        contains: &[" has bad value"],
        ..fixed(
            Kind::BadFramePointer,
            Header::Warning,
            &["kernel stack frame pointer at "],
            "WARNING: kernel stack frame pointer has bad value",
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_reachable() {
        // Every row is the first match of one of its own banners (no row
        // hides a later one entirely).
        for (i, r) in ROWS.iter().enumerate() {
            let head = match r.header {
                Header::None | Header::Trap => "",
                Header::Bug => "BUG: ",
                Header::Info => "INFO: ",
                Header::Warning => "WARNING: ",
            };
            let reachable = r.starts.iter().any(|s| {
                let mut msg = format!("{head}{s}");
                for c in r.contains {
                    msg.push_str(c);
                }
                if r.check.is_some() {
                    msg.push_str("0000 [#1] SMP");
                }
                find(&msg).map(|(j, _)| j) == Some(i)
            });
            assert!(reachable, "row {i} ({:?}, {:?})", r.kind, r.starts);
        }
    }
}
