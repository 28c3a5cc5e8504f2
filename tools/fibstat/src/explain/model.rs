//! The decoded form of a kernel report: what `--json` prints.
//!
//! Every struct here is part of the stable JSON schema (`schema_version` 2,
//! [`SCHEMA_VERSION`], documented in `tools/fibstat/EXPLAIN.md`). Fields are never omitted:
//! what a report does not carry is `null` or an empty array, so a consumer
//! can rely on the shape.

use serde::Serialize;

/// Version of the JSON schema below. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Top-level JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    pub schema_version: u32,
    /// Every report, in input order.
    pub reports: Vec<Report>,
    /// Identical reports (same title, same stacks) grouped, in order of
    /// first appearance.
    pub groups: Vec<Group>,
}

/// Reports with the same title and the same stacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub kind: Kind,
    pub title: String,
    /// How many reports.
    pub count: usize,
    /// 1-based input line of each report's banner.
    pub lines: Vec<usize>,
    /// Index (in `reports`) of each report.
    pub reports: Vec<usize>,
}

/// One stack trace of a report, with the heading it was printed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    /// `Call Trace`, `Allocated by task 1`, `backtrace`, ...
    pub label: String,
    pub frames: Vec<Frame>,
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $id:literal,)*) => {
        /// Which kernel report a banner announces: lockdep's reports first, then
        /// every other kind syzkaller's pkg/report titles for Linux. How each
        /// kind is recognised and titled is [`super::kinds::ROWS`] (and, for the
        /// irregular ones, [`super::banner`] and [`super::title`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($(#[$doc])* $variant,)*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The snake_case machine id, as in JSON.
            pub fn id(self) -> &'static str {
                match self {
                    $(Kind::$variant => $id,)*
                }
            }
        }
    };
}

// One line per kind: the variant and its JSON id.
kinds! {
    /// `WARNING: inconsistent lock state` (print_usage_bug).
    InconsistentLockState => "inconsistent_lock_state",
    /// `WARNING: possible circular locking dependency detected`.
    CircularLockingDependency => "circular_locking_dependency",
    /// `WARNING: possible recursive locking detected` (print_deadlock_bug).
    RecursiveLocking => "recursive_locking",
    /// `WARNING: possible irq lock inversion dependency detected`.
    IrqLockInversion => "irq_lock_inversion",
    /// `WARNING: {HARDIRQ,SOFTIRQ}-safe -> ...-unsafe lock order detected`.
    IrqSafeUnsafeOrder => "irq_safe_unsafe_order",
    /// `WARNING: bad unlock balance detected!`.
    BadUnlockBalance => "bad_unlock_balance",
    /// `WARNING: bad contention detected!`.
    BadContention => "bad_contention",
    /// `WARNING: held lock freed!`.
    HeldLockFreed => "held_lock_freed",
    /// `WARNING: lock held when returning to user space!`.
    LockHeldReturningToUser => "lock_held_returning_to_user",
    /// `WARNING: comm/pid still has locks held!` (task exit).
    LocksHeldAtExit => "locks_held_at_exit",
    /// `WARNING: suspicious RCU usage`.
    SuspiciousRcuUsage => "suspicious_rcu_usage",
    /// `[ BUG: Invalid wait context ]`.
    InvalidWaitContext => "invalid_wait_context",
    /// `WARNING: Nested lock was not taken`.
    NestedLockNotTaken => "nested_lock_not_taken",
    /// `WARNING: chain_key collision`.
    ChainKeyCollision => "chain_key_collision",
    /// `BUG: sleeping function called from invalid context` (not printed by
    /// lockdep itself, but it carries lockdep's held-lock list and is the
    /// usual companion of locking bugs).
    SleepingInInvalidContext => "sleeping_in_invalid_context",
    /// `WARNING: CPU: N PID: N at FILE:LINE FUNC` (`WARN()`), and other
    /// `WARNING:` lines.
    Warning => "warning",
    /// A `WARN()` of lib/debugobjects.c (`ODEBUG: ...`).
    Odebug => "odebug",
    /// A `WARN()` of lib/refcount.c (`refcount_t: ...`).
    Refcount => "refcount",
    /// lib/list_debug.c: `list_add corruption`, `list_del corruption`.
    ListCorruption => "list_corruption",
    /// `BUG: KASAN: ...`.
    Kasan => "kasan",
    /// `BUG: KFENCE: ...`.
    Kfence => "kfence",
    /// `BUG: KMSAN: ...`.
    Kmsan => "kmsan",
    /// `BUG: KCSAN: ...`.
    Kcsan => "kcsan",
    /// `UBSAN: ...`.
    Ubsan => "ubsan",
    /// `BUG: unable to handle page fault for address`, `... kernel paging
    /// request`, arm's `Unable to handle kernel paging request`.
    PageFault => "page_fault",
    /// `BUG: kernel NULL pointer dereference, address: ...`.
    NullPointerDereference => "null_pointer_dereference",
    /// `Oops: general protection fault ...`.
    GeneralProtectionFault => "general_protection_fault",
    /// `kernel BUG at FILE:LINE!` (`BUG()`, `BUG_ON()`).
    KernelBug => "kernel_bug",
    /// `Oops: invalid opcode: ...` (a `ud2` that is not a `BUG()`).
    InvalidOpcode => "invalid_opcode",
    /// `Oops: divide error: ...`.
    DivideError => "divide_error",
    /// `Oops: stack segment: ...`.
    StackSegmentFault => "stack_segment_fault",
    /// `PANIC: double fault`.
    DoubleFault => "double_fault",
    /// arm/arm64 `Internal error: Oops ...`.
    InternalError => "internal_error",
    /// Any other oops (`Oops: 0000 [#1]`, arm `Unhandled fault:`).
    Oops => "oops",
    /// `Kernel panic - not syncing: MESSAGE`.
    KernelPanic => "kernel_panic",
    /// `watchdog: BUG: soft lockup - CPU#N stuck for Ns!`.
    SoftLockup => "soft_lockup",
    /// `rcu: INFO: rcu_preempt self-detected stall on CPU`, `... detected stalls`.
    RcuStall => "rcu_stall",
    /// `INFO: task COMM:PID blocked for more than N seconds.`
    HungTask => "hung_task",
    /// `BUG: scheduling while atomic`.
    SchedulingWhileAtomic => "scheduling_while_atomic",
    /// `BUG: using smp_processor_id() in preemptible [...] code`.
    PreemptibleAccess => "preemptible_access",
    /// `BUG: spinlock lockup suspected`, `bad magic`, `wrong owner`, ...
    SpinlockBug => "spinlock_bug",
    /// `BUG: Bad page state`, `Bad page cache`, `Bad page map`.
    BadPage => "bad_page",
    /// `BUG: TASK stack guard page was hit at ...`.
    StackGuardPage => "stack_guard_page",
    /// `BUG: workqueue lockup`, `BUG: workqueue leaked lock or atomic`.
    WorkqueueLockup => "workqueue_lockup",
    /// kmemleak's `unreferenced object 0x... (size N):`, syzkaller's
    /// `BUG: memory leak`.
    MemoryLeak => "memory_leak",
    /// `CFI failure at FUNC (target: ...; expected type: ...)` (kCFI).
    CfiFailure => "cfi_failure",
    /// `unregister_netdevice: waiting for DEV to become free. Usage count = N`.
    UnregisterNetdevice => "unregister_netdevice",
    /// `rust_kernel: panicked at FILE:LINE:COL:` (a Rust panic, then `BUG()`).
    RustPanic => "rust_panic",
    /// `INFO: trying to register non-static key.`
    NonStaticKey => "non_static_key",
    /// `WARNING: kernel stack regs at ADDR in COMM:PID has bad 'bp' value`,
    /// `WARNING: kernel stack frame pointer at ... has bad value` (the
    /// frame-pointer unwinder, arch/x86/kernel/unwind_frame.c).
    BadFramePointer => "bad_frame_pointer",
    /// Any other `BUG:` line (`BUG: Bad rss-counter state`, ...).
    Bug => "bug",
    /// Any other `INFO:` line.
    Info => "info",
}

impl Kind {
    /// Whether lockdep's decoder handles this kind (locks, usage states,
    /// held locks, scenario); the others are decoded as oopses (title,
    /// message, stacks).
    pub fn is_lockdep(self) -> bool {
        matches!(
            self,
            Kind::InconsistentLockState
                | Kind::CircularLockingDependency
                | Kind::RecursiveLocking
                | Kind::IrqLockInversion
                | Kind::IrqSafeUnsafeOrder
                | Kind::BadUnlockBalance
                | Kind::BadContention
                | Kind::HeldLockFreed
                | Kind::LockHeldReturningToUser
                | Kind::LocksHeldAtExit
                | Kind::SuspiciousRcuUsage
                | Kind::InvalidWaitContext
                | Kind::NestedLockNotTaken
                | Kind::ChainKeyCollision
                | Kind::SleepingInInvalidContext
        )
    }

    /// Kinds whose report is the banner line plus what directly belongs to
    /// it, with no stack trace to wait for.
    pub fn without_stack(self) -> bool {
        matches!(
            self,
            Kind::UnregisterNetdevice | Kind::WorkqueueLockup | Kind::Info | Kind::Bug
        )
    }

    /// Whether the report ends with a `stack backtrace:` / `Call Trace:`.
    pub fn has_backtrace(self) -> bool {
        !matches!(self, Kind::LockHeldReturningToUser)
    }
}

/// One decoded report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub kind: Kind,
    /// syzkaller-style title, e.g. `inconsistent lock state in foo`.
    pub title: String,
    /// The banner line as printed, e.g. `WARNING: inconsistent lock state`.
    pub banner: String,
    /// 1-based line number of the banner in the input.
    pub line: usize,
    /// 1-based line number of the last line that belongs to the report.
    pub end_line: usize,
    /// The `print_kernel_ident()` line (release, version, taint), if present.
    pub kernel: Option<String>,
    /// A free-form message line of the report (suspicious RCU usage: the
    /// `file:line text!` line; sleeping function: the `at file:line` part;
    /// `WARN()`: the text printed under `cut here`; KASAN: the access).
    pub message: Option<String>,
    /// Source position printed in the banner (`WARN()`, `BUG()`, UBSAN).
    pub location: Option<String>,
    pub task: Option<Task>,
    pub transition: Option<Transition>,
    /// `softirq`, `hardirq` or (old kernels) `reclaim_fs`.
    pub irq_kind: Option<String>,
    /// The lock the report is about (the one being taken / changed / freed).
    pub lock: Option<Lock>,
    /// The lock already held (circular, recursive, irq-safe -> unsafe).
    pub held_lock: Option<Lock>,
    /// The other lock of an irq inversion (`this lock took another ...`).
    pub other_lock: Option<Lock>,
    /// Of the two locks of an irq inversion / safe->unsafe report: the one
    /// used in irq context.
    pub irq_safe_lock: Option<Lock>,
    /// ... and the one taken with that irq kind enabled.
    pub irq_unsafe_lock: Option<Lock>,
    /// `at:` of [`Report::lock`]: where it is being taken (for
    /// bad_unlock_balance / bad_contention: where it is released/contended).
    pub acquired_at: Option<Frame>,
    /// The faulting instruction of an oops (`RIP:`, `pc :`).
    pub rip: Option<Frame>,
    /// The `{STATE} state was registered at:` stack.
    pub registration_stack: Vec<Frame>,
    /// The `stack backtrace:` / `Call Trace:` stack.
    pub current_stack: Vec<Frame>,
    /// Every stack of a non-lockdep report, with its heading (KASAN's
    /// `Allocated by task N`, kmemleak's `backtrace`, ...).
    pub stacks: Vec<Stack>,
    /// First frame of `registration_stack` outside lock/lockdep machinery.
    pub registration_caller: Option<String>,
    /// First frame of `current_stack` outside lock/lockdep machinery.
    pub current_caller: Option<String>,
    /// `registration` or `current`: which stack is the process-context side.
    pub process_side: Option<String>,
    pub process_side_caller: Option<String>,
    pub irq_side_caller: Option<String>,
    /// With `--vmlinux`/`--modules`: the source line in the process-side
    /// caller's own code where the lock is taken (`fib_stat.rs:287`).
    pub process_side_source: Option<String>,
    /// ... and the line the lock call itself comes from (the innermost
    /// inlined frame, e.g. the kernel crate's `spinlock.rs`).
    pub process_side_lock_call: Option<String>,
    /// The same two for the interrupt side.
    pub irq_side_source: Option<String>,
    pub irq_side_lock_call: Option<String>,
    /// `the existing dependency chain (in reverse order)` of a circular report.
    pub chain: Vec<ChainEntry>,
    /// The `Possible unsafe locking scenario` block, dedented.
    pub scenario: Vec<String>,
    /// `N locks held by comm/pid:` list.
    pub held_locks: Vec<HeldLock>,
    pub fix: Option<Fix>,
    /// Lines inside the report's span that did not carry its prefix (other
    /// CPUs, user space on the console) and were left out.
    pub foreign_lines: usize,
    /// The report's lines, log prefixes stripped.
    pub raw: Vec<String>,
}

/// The task named in the report header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Task {
    pub comm: String,
    pub pid: Option<u64>,
    /// `HC<n>`: lockdep_hardirq_context().
    pub hardirq_context: Option<u64>,
    /// `HC..[<n>]`: hardirq_count() >> HARDIRQ_SHIFT.
    pub hardirq_count: Option<u64>,
    /// `SC<n>`: lockdep_softirq_context(current).
    pub softirq_context: Option<u64>,
    /// `SC..[<n>]`: softirq_count() >> SOFTIRQ_SHIFT.
    pub softirq_count: Option<u64>,
    /// `HE<n>`: lockdep_hardirqs_enabled().
    pub hardirqs_enabled: Option<bool>,
    /// `SE<n>`: lockdep_softirqs_enabled(current).
    pub softirqs_enabled: Option<bool>,
    /// The flags as printed, e.g. `HC0[0]:SC1[1]:HE1:SE0`.
    pub flags: Option<String>,
    /// One-line reading of the flags.
    pub meaning: Option<String>,
}

/// `inconsistent {FROM} -> {TO} usage.`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub from_meaning: String,
    pub to_meaning: String,
}

/// A lock class as printed by print_lock()/print_lock_name().
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Lock {
    pub name: String,
    /// Instance address (`%px`), when printed.
    pub address: Option<String>,
    /// e.g. `{+.?.}`.
    pub usage_bits: Option<String>,
    pub usage_decoded: Vec<UsageBit>,
    /// e.g. `{2:2}`.
    pub wait_types: Option<String>,
    /// First number of `{o:i}`: wait_type_outer (the kernel prints
    /// wait_type_inner there when the class has no outer type).
    pub wait_type_outer: Option<u32>,
    /// Second number of `{o:i}`: wait_type_inner.
    pub wait_type_inner: Option<u32>,
    pub wait_type_outer_name: Option<String>,
    pub wait_type_inner_name: Option<String>,
}

/// One character of the usage string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageBit {
    /// 0-based position in the string.
    pub position: usize,
    /// `hardirq`, `softirq` or (old kernels) `reclaim_fs`.
    pub irq: String,
    /// `write` or `read`.
    pub access: String,
    pub char: String,
    /// Ever acquired in that irq context (`-` or `?`).
    pub used_in_irq: bool,
    /// Ever acquired with that irq kind enabled (`+` or `?`).
    pub used_with_irq_enabled: bool,
    pub meaning: String,
}

/// A stack frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Function name, demangled if it is a Rust symbol.
    pub function: String,
    /// The symbol as printed (mangled for Rust).
    pub symbol: String,
    /// `0x373` of `+0x373/0x490`.
    pub offset: Option<String>,
    /// `0x490` of `+0x373/0x490`.
    pub size: Option<String>,
    /// `fib_stat` of `[fib_stat]`.
    pub module: Option<String>,
    /// `?` frames: found on the stack but not proven by the unwinder.
    pub unreliable: bool,
    /// Source file (syzkaller / decode_stacktrace.sh style frames).
    pub file: Option<String>,
    pub line: Option<u32>,
    /// `[inline]` frames.
    pub inline: bool,
    /// `[<ffffffff80c3f954>]` of old-style frames.
    pub address: Option<String>,
    /// With `--vmlinux`/`--modules`: the functions inlined at this frame's
    /// address, innermost first (`file`/`line` above are the outermost).
    pub inlined: Vec<Inlined>,
    /// A bare-address frame (`0xffffffffa000601c`, code with no symbol):
    /// what the code there is, as far as the report tells (`init text of
    /// module fib_stat (freed after load)`, `freed or unknown code`).
    pub note: Option<String>,
}

/// A function inlined into a frame (as syzkaller prints `[inline]` frames).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inlined {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// One `-> #N (lock){..}-{..}:` entry of a circular dependency chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainEntry {
    pub depth: u32,
    pub lock: Lock,
    pub stack: Vec<Frame>,
    pub caller: Option<String>,
}

/// One ` #N: addr (lock){..}-{..}, at: frame` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldLock {
    pub index: u32,
    pub lock: Lock,
    pub acquired_at: Option<Frame>,
}

/// The suggested fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Lock primitive the process-context side needs (e.g. `spin_lock_bh`),
    /// or null when no single primitive fixes the report.
    pub primitive: Option<String>,
    /// Its unlock counterpart (e.g. `spin_unlock_bh`).
    pub unlock: Option<String>,
    /// The function whose locking must change.
    pub apply_to: Option<String>,
    /// Why, in a short paragraph.
    pub why: String,
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn ids_are_the_json_names() {
        for k in Kind::ALL {
            let json = serde_json::to_string(k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.id()), "{k:?}");
        }
        assert_eq!(Kind::ALL.len(), 52);
    }
}
