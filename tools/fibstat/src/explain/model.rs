//! The decoded form of a lockdep report: what `--json` prints.
//!
//! Every struct here is part of the stable JSON schema (`schema_version` 1,
//! documented in `tools/fibstat/EXPLAIN.md`). Fields are never omitted:
//! what a report does not carry is `null` or an empty array, so a consumer
//! can rely on the shape.

use serde::Serialize;

/// Version of the JSON schema below. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Top-level JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    pub schema_version: u32,
    pub reports: Vec<Report>,
}

/// Which lockdep (or lockdep-adjacent) report a banner announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `WARNING: inconsistent lock state` (print_usage_bug).
    InconsistentLockState,
    /// `WARNING: possible circular locking dependency detected`.
    CircularLockingDependency,
    /// `WARNING: possible recursive locking detected` (print_deadlock_bug).
    RecursiveLocking,
    /// `WARNING: possible irq lock inversion dependency detected`.
    IrqLockInversion,
    /// `WARNING: {HARDIRQ,SOFTIRQ}-safe -> ...-unsafe lock order detected`.
    IrqSafeUnsafeOrder,
    /// `WARNING: bad unlock balance detected!`.
    BadUnlockBalance,
    /// `WARNING: bad contention detected!`.
    BadContention,
    /// `WARNING: held lock freed!`.
    HeldLockFreed,
    /// `WARNING: lock held when returning to user space!`.
    LockHeldReturningToUser,
    /// `WARNING: comm/pid still has locks held!` (task exit).
    LocksHeldAtExit,
    /// `WARNING: suspicious RCU usage`.
    SuspiciousRcuUsage,
    /// `[ BUG: Invalid wait context ]`.
    InvalidWaitContext,
    /// `WARNING: Nested lock was not taken`.
    NestedLockNotTaken,
    /// `WARNING: chain_key collision`.
    ChainKeyCollision,
    /// `BUG: sleeping function called from invalid context` (not printed by
    /// lockdep itself, but it carries lockdep's held-lock list and is the
    /// usual companion of locking bugs).
    SleepingInInvalidContext,
}

impl Kind {
    /// The snake_case machine id, as in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Kind::InconsistentLockState => "inconsistent_lock_state",
            Kind::CircularLockingDependency => "circular_locking_dependency",
            Kind::RecursiveLocking => "recursive_locking",
            Kind::IrqLockInversion => "irq_lock_inversion",
            Kind::IrqSafeUnsafeOrder => "irq_safe_unsafe_order",
            Kind::BadUnlockBalance => "bad_unlock_balance",
            Kind::BadContention => "bad_contention",
            Kind::HeldLockFreed => "held_lock_freed",
            Kind::LockHeldReturningToUser => "lock_held_returning_to_user",
            Kind::LocksHeldAtExit => "locks_held_at_exit",
            Kind::SuspiciousRcuUsage => "suspicious_rcu_usage",
            Kind::InvalidWaitContext => "invalid_wait_context",
            Kind::NestedLockNotTaken => "nested_lock_not_taken",
            Kind::ChainKeyCollision => "chain_key_collision",
            Kind::SleepingInInvalidContext => "sleeping_in_invalid_context",
        }
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
    /// `file:line text!` line; sleeping function: the `at file:line` part).
    pub message: Option<String>,
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
    /// The `{STATE} state was registered at:` stack.
    pub registration_stack: Vec<Frame>,
    /// The `stack backtrace:` / `Call Trace:` stack.
    pub current_stack: Vec<Frame>,
    /// First frame of `registration_stack` outside lock/lockdep machinery.
    pub registration_caller: Option<String>,
    /// First frame of `current_stack` outside lock/lockdep machinery.
    pub current_caller: Option<String>,
    /// `registration` or `current`: which stack is the process-context side.
    pub process_side: Option<String>,
    pub process_side_caller: Option<String>,
    pub irq_side_caller: Option<String>,
    /// `the existing dependency chain (in reverse order)` of a circular report.
    pub chain: Vec<ChainEntry>,
    /// The `Possible unsafe locking scenario` block, dedented.
    pub scenario: Vec<String>,
    /// `N locks held by comm/pid:` list.
    pub held_locks: Vec<HeldLock>,
    pub fix: Option<Fix>,
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
