//! Per-kind decoding of a segmented report into a [`Report`].
//!
//! One pass over the report's lines recognises the headings lockdep prints
//! (see print_usage_bug(), print_circular_bug_header(), print_deadlock_bug(),
//! print_irq_inversion_bug(), print_bad_irq_dependency(), ... in
//! kernel/locking/lockdep.c) and fills a [`Facts`] record; the kind then
//! decides the title, the process/irq sides and the fix.

use super::fix;
use super::frame::{
    clean_function, first_caller, is_lock_machinery, label_bare_frames, parse_bare_address,
    parse_frame,
};
use super::lockdep::{
    canonical_state, irq_kind, name_wait_types, parse_comm_pid, parse_lock_desc, parse_state,
    parse_task_with_flags, state_meaning, LockDesc,
};
use super::model::{ChainEntry, Frame, HeldLock, Kind, Lock, Report, Task, Transition};
use super::segment::RawReport;

/// Where lock description lines that follow a heading go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Lock,
    Held,
    Other,
    Safe,
    Unsafe,
}

/// What the current line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Locks(Slot),
    RegistrationStack,
    Chain,
    Scenario,
    HeldLocks,
    Backtrace,
}

#[derive(Debug, Default)]
struct Facts {
    kernel: Option<String>,
    message: Option<String>,
    task: Option<Task>,
    from: Option<String>,
    to: Option<String>,
    irq_word: Option<String>,
    lock: Option<Lock>,
    acquired_at: Option<Frame>,
    held: Option<Lock>,
    held_at: Option<Frame>,
    other: Option<Lock>,
    safe: Option<Lock>,
    unsafe_: Option<Lock>,
    /// `this lock took another, X-unsafe lock` (true) or `was taken by
    /// another, X-safe lock` (false).
    inversion_forwards: Option<bool>,
    registration_stack: Vec<Frame>,
    chain: Vec<ChainEntry>,
    scenario: Vec<String>,
    held_locks: Vec<HeldLock>,
    current_stack: Vec<Frame>,
}

impl Facts {
    fn slot_mut(&mut self, slot: Slot) -> (&mut Option<Lock>, Option<&mut Option<Frame>>) {
        match slot {
            Slot::Lock => (&mut self.lock, Some(&mut self.acquired_at)),
            Slot::Held => (&mut self.held, Some(&mut self.held_at)),
            Slot::Other => (&mut self.other, None),
            Slot::Safe => (&mut self.safe, None),
            Slot::Unsafe => (&mut self.unsafe_, None),
        }
    }

    /// Stores a lock description in a slot. Repeated descriptions of the
    /// same lock (syzkaller prints one per inlined frame) only update the
    /// `at:` frame: the last one is the real function.
    fn put(&mut self, slot: Slot, d: LockDesc) -> bool {
        let (lock, at) = self.slot_mut(slot);
        match lock {
            Some(l) if l.name == d.lock.name => {}
            Some(_) => return false,
            None => *lock = Some(d.lock),
        }
        if let (Some(at), Some(frame)) = (at, d.at) {
            *at = Some(frame);
        }
        true
    }
}

/// Decodes a segmented report: lockdep's field by field, the others by
/// [`oops`](super::oops).
pub fn decode(raw: RawReport) -> Report {
    if raw.kind.is_lockdep() {
        let facts = collect(&raw);
        build(raw, facts)
    } else {
        let loaded = raw.loaded_module.clone();
        let mut r = super::oops::decode(raw);
        label_bare(&mut r, loaded.as_deref());
        r
    }
}

/// The one module a report names: in its frames (`[fib_stat]`), else in
/// its `Modules linked in:` list, else the one the log said it loaded
/// before it (`loaded`); `None` when it names none or several.
fn report_module(r: &Report, loaded: Option<&str>) -> Option<String> {
    let mut names: Vec<&str> = r
        .registration_stack
        .iter()
        .chain(&r.current_stack)
        .chain(r.stacks.iter().flat_map(|s| &s.frames))
        .chain(r.chain.iter().flat_map(|c| &c.stack))
        .chain(&r.acquired_at)
        .chain(r.held_locks.iter().filter_map(|h| h.acquired_at.as_ref()))
        .filter_map(|f| f.module.as_deref())
        .collect();
    if names.is_empty() {
        if let Some(list) = r
            .raw
            .iter()
            .find_map(|l| l.trim().strip_prefix("Modules linked in:"))
        {
            names = list
                .split_whitespace()
                .map(|m| m.split('(').next().unwrap_or(m))
                .filter(|m| !m.is_empty() && !m.starts_with('['))
                .collect();
        }
    }
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [one] => Some((*one).to_owned()),
        [] => loaded.map(str::to_owned),
        _ => None,
    }
}

/// Labels every bare-address frame of a report (see [`label_bare_frames`]).
fn label_bare(r: &mut Report, loaded: Option<&str>) {
    let module = report_module(r, loaded);
    let m = module.as_deref();
    label_bare_frames(&mut r.registration_stack, m);
    label_bare_frames(&mut r.current_stack, m);
    for s in &mut r.stacks {
        label_bare_frames(&mut s.frames, m);
    }
    for c in &mut r.chain {
        label_bare_frames(&mut c.stack, m);
    }
}

fn collect(raw: &RawReport) -> Facts {
    let mut f = Facts::default();
    let mut section = Section::None;
    let lines = &raw.lines;

    if let Some(second) = lines.get(1).map(|l| l.trim()) {
        if !second.is_empty() && !second.starts_with("---") && banner_tail_ok(second) {
            f.kernel = Some(second.to_owned());
        }
    }
    let first = lines.first().map(String::as_str).unwrap_or("");
    if raw.kind == Kind::LocksHeldAtExit {
        if let Some(who) = first
            .trim_start_matches("[ ")
            .split_once(": ")
            .and_then(|(_, rest)| rest.strip_suffix(" still has locks held!"))
        {
            f.task = Some(parse_comm_pid(who));
        }
    }
    if raw.kind == Kind::SleepingInInvalidContext {
        if let Some((_, at)) = first.split_once(" context at ") {
            f.message = Some(at.trim().to_owned());
        }
    }
    if let Some(word) = first.split_once("-safe -> ").map(|(a, _)| a) {
        f.irq_word = word.rsplit(' ').next().map(str::to_owned);
    }

    let mut dashes_seen = false;
    for line in lines.iter().skip(1) {
        let t = line.trim();

        // The scenario block is copied verbatim up to `*** DEADLOCK ***`
        // (its `----` and `lock(...)` lines are not headings).
        if section == Section::Scenario {
            let ends_early = t.contains(" held by ")
                || t.starts_with("stack backtrace:")
                || t.starts_with("Call Trace:")
                || t.starts_with("the shortest dependencies")
                || t.starts_with("the dependencies between");
            if !ends_early {
                f.scenario.push(line.trim_end().to_owned());
                if t.contains("*** DEADLOCK ***") {
                    section = Section::None;
                }
                continue;
            }
            section = Section::None;
        }

        // Headings first: they switch sections.
        if let Some(rest) = t.strip_prefix("inconsistent {") {
            if let Some((from, rest)) = rest.split_once("} -> {") {
                if let Some((to, _)) = rest.split_once('}') {
                    f.from = Some(canonical_state(from));
                    f.to = Some(canonical_state(to));
                }
            }
            section = Section::None;
            continue;
        }
        if t.contains(" [HC")
            && (t.ends_with("takes:")
                || t.ends_with("took:")
                || t.ends_with("is trying to acquire:"))
        {
            f.task = parse_task_with_flags(t).or(f.task.take());
            section = Section::Locks(Slot::Lock);
            continue;
        }
        if let Some(who) = t
            .strip_suffix(" is trying to acquire lock:")
            .or_else(|| t.strip_suffix(" is trying to lock:"))
            .or_else(|| t.strip_suffix(" just changed the state of lock:"))
        {
            f.task = Some(parse_comm_pid(who));
            section = Section::Locks(Slot::Lock);
            continue;
        }
        if let Some((who, rest)) = t
            .split_once(" is trying to release lock (")
            .or_else(|| t.split_once(" is trying to contend lock ("))
        {
            f.task = Some(parse_comm_pid(who));
            if let Some(name) = rest
                .strip_suffix(") at:")
                .or_else(|| rest.split_once(") at:").map(|(n, _)| n))
            {
                f.lock = Some(Lock {
                    name: name.to_owned(),
                    ..Lock::default()
                });
                if let Some((_, frame)) = rest.split_once(") at:") {
                    f.acquired_at = parse_frame(frame);
                }
            }
            section = Section::Locks(Slot::Lock);
            continue;
        }
        if let Some((who, _)) = t
            .split_once(" is freeing memory ")
            .or_else(|| t.split_once(" is leaving the kernel with locks still held"))
        {
            f.task = Some(parse_comm_pid(who));
            section = Section::Locks(Slot::Lock);
            continue;
        }
        if t.starts_with("but task is already holding lock:")
            || t.starts_with("and this task is already holding:")
        {
            section = Section::Locks(Slot::Held);
            continue;
        }
        if t.starts_with("but this task is not holding:") {
            section = Section::None;
            continue;
        }
        if let Some(rest) = t.strip_prefix("but this lock took another, ") {
            f.irq_word = rest.split(['-', ' ']).next().map(str::to_owned);
            f.inversion_forwards = Some(true);
            section = Section::Locks(Slot::Other);
            continue;
        }
        if let Some(rest) = t.strip_prefix("but this lock was taken by another, ") {
            f.irq_word = rest.split(['-', ' ']).next().map(str::to_owned);
            f.inversion_forwards = Some(false);
            section = Section::Locks(Slot::Other);
            continue;
        }
        if t.starts_with("but this new dependency connects a ") {
            section = Section::Locks(Slot::Safe);
            continue;
        }
        if t.starts_with("to a ") && t.ends_with("-irq-unsafe lock:") {
            section = Section::Locks(Slot::Unsafe);
            continue;
        }
        if t.ends_with("state was registered at:")
            || (t.starts_with("... which became ") && t.ends_with("-irq-unsafe at:"))
        {
            section = Section::RegistrationStack;
            continue;
        }
        if let Some(num) = t.strip_prefix("-> #") {
            let depth = num
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            if let Some(d) = parse_lock_desc(t) {
                f.chain.push(ChainEntry {
                    depth,
                    lock: d.lock,
                    stack: Vec::new(),
                    caller: None,
                });
                section = Section::Chain;
            } else {
                section = Section::None;
            }
            continue;
        }
        if t.starts_with("Possible unsafe locking scenario")
            || t.starts_with("Possible interrupt unsafe locking scenario")
        {
            section = Section::Scenario;
            continue;
        }
        if (t.contains(" lock held by ") || t.contains(" locks held by ")) && t.ends_with(':') {
            section = Section::HeldLocks;
            continue;
        }
        if t.starts_with("stack backtrace:")
            || t.starts_with("Call Trace:")
            || t.starts_with("Call trace:")
        {
            section = Section::Backtrace;
            continue;
        }
        if t.starts_with("other info that might help") || t.starts_with("irq event stamp:") {
            section = Section::None;
            continue;
        }
        if t.starts_with("----") {
            dashes_seen = true;
            continue;
        }
        // Free-form message lines.
        if raw.kind == Kind::SuspiciousRcuUsage
            && f.message.is_none()
            && dashes_seen
            && !t.is_empty()
        {
            f.message = Some(t.to_owned());
            continue;
        }
        if raw.kind == Kind::SleepingInInvalidContext && t.starts_with("in_atomic():") {
            if let Some(name) = t.split_once("name: ").map(|(_, n)| n.trim()) {
                let pid = t
                    .split_once("pid: ")
                    .and_then(|(_, p)| p.split(',').next())
                    .and_then(|p| p.trim().parse().ok());
                f.task = Some(Task {
                    comm: name.to_owned(),
                    pid,
                    ..Task::default()
                });
            }
            continue;
        }

        match section {
            Section::None => {}
            Section::Locks(slot) => match parse_lock_desc(t) {
                Some(d) => {
                    if !f.put(slot, d) {
                        section = Section::None;
                    }
                }
                None => {
                    // Bad unlock balance prints the site as a bare frame.
                    if slot == Slot::Lock && f.acquired_at.is_none() {
                        if let Some(fr) = parse_frame(t) {
                            f.acquired_at = Some(fr);
                            continue;
                        }
                    }
                    if !t.is_empty() {
                        section = Section::None;
                    }
                }
            },
            Section::RegistrationStack => {
                // print_bad_irq_dependency() prints `...` before the trace.
                let t = t.strip_prefix("...").map_or(t, str::trim_start);
                if t.is_empty() {
                    continue;
                }
                // A bare address (a module's freed init code) does not end
                // the stack: the module loader's frames follow it.
                match parse_frame(t).or_else(|| parse_bare_address(t)) {
                    Some(fr) => f.registration_stack.push(fr),
                    None => section = Section::None,
                }
            }
            Section::Chain => {
                if let Some(fr) = parse_frame(t).or_else(|| parse_bare_address(t)) {
                    if let Some(e) = f.chain.last_mut() {
                        e.stack.push(fr);
                    }
                } else if !t.is_empty() {
                    section = Section::None;
                }
            }
            Section::Scenario => {}
            Section::HeldLocks => {
                if let Some(rest) = t.strip_prefix('#') {
                    if let Some((idx, desc)) = rest.split_once(':') {
                        if let (Ok(index), Some(d)) =
                            (idx.trim().parse::<u32>(), parse_lock_desc(desc))
                        {
                            match f.held_locks.last_mut() {
                                // Repeated line of an inlined frame: keep the last `at:`.
                                Some(h) if h.index == index && h.lock.name == d.lock.name => {
                                    if d.at.is_some() {
                                        h.acquired_at = d.at;
                                    }
                                }
                                _ => f.held_locks.push(HeldLock {
                                    index,
                                    lock: d.lock,
                                    acquired_at: d.at,
                                }),
                            }
                        }
                    }
                } else if !t.is_empty() {
                    section = Section::None;
                }
            }
            Section::Backtrace => {
                if let Some(fr) = parse_frame(t).or_else(|| parse_bare_address(t)) {
                    f.current_stack.push(fr);
                }
            }
        }
    }
    f.scenario = dedent(&f.scenario);
    f
}

/// The line after the banner is print_kernel_ident() when it is not the
/// dashes and looks like `<release> #<n> <taint>`.
fn banner_tail_ok(t: &str) -> bool {
    t.contains(" #") || t.contains("ainted") || t.starts_with(|c: char| c.is_ascii_digit())
}

/// Trims blank edge lines and the common indentation of the scenario.
fn dedent(lines: &[String]) -> Vec<String> {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return Vec::new();
    };
    let body = &lines[start..=end];
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()).to_owned())
        .collect()
}

fn func_of(frame: Option<&Frame>) -> Option<String> {
    frame.map(|f| clean_function(&f.function).to_owned())
}

fn with_in(prefix: &str, func: Option<&str>) -> String {
    match func {
        Some(f) if !f.is_empty() => format!("{prefix} in {f}"),
        _ => prefix.to_owned(),
    }
}

/// The banner's own prefix (`WARNING`, `BUG`, `INFO`) for titles that keep it.
fn banner_prefix(banner: &str) -> &'static str {
    let b = banner.trim_start_matches("[ ");
    if b.starts_with("BUG:") {
        "BUG"
    } else {
        "WARNING"
    }
}

fn build(raw: RawReport, mut f: Facts) -> Report {
    let kind = raw.kind;
    let loaded = raw.loaded_module.clone();
    let banner = raw.lines.first().cloned().unwrap_or_default();

    // Wait-type numbering: any 4 means CONFIG_PROVE_RAW_LOCK_NESTING.
    let raw_nesting = {
        let mut all = Vec::new();
        all.extend(
            f.lock
                .iter()
                .chain(&f.held)
                .chain(&f.other)
                .chain(&f.safe)
                .chain(&f.unsafe_),
        );
        all.extend(f.chain.iter().map(|c| &c.lock));
        all.extend(f.held_locks.iter().map(|h| &h.lock));
        all.iter()
            .any(|l| l.wait_type_outer == Some(4) || l.wait_type_inner == Some(4))
    };
    for l in f
        .lock
        .iter_mut()
        .chain(f.held.iter_mut())
        .chain(f.other.iter_mut())
        .chain(f.safe.iter_mut())
        .chain(f.unsafe_.iter_mut())
        .chain(f.chain.iter_mut().map(|c| &mut c.lock))
        .chain(f.held_locks.iter_mut().map(|h| &mut h.lock))
    {
        name_wait_types(l, raw_nesting);
    }
    for e in &mut f.chain {
        e.caller = first_caller(&e.stack);
    }

    let registration_caller = first_caller(&f.registration_stack);
    let current_caller = first_caller(&f.current_stack).or_else(|| {
        f.acquired_at
            .as_ref()
            .filter(|a| !is_lock_machinery(&a.function))
            .map(|a| clean_function(&a.function).to_owned())
    });
    // The title names the `at:` function, as syzkaller does; when that is
    // lock machinery itself (a Rust module locks through
    // rust_helper_spin_lock), the first real caller is more useful.
    let at_func = match func_of(f.acquired_at.as_ref()) {
        Some(a) if is_lock_machinery(&a) => current_caller.clone().or(Some(a)),
        other => other,
    };

    let transition = match (&f.from, &f.to) {
        (Some(from), Some(to)) => Some(Transition {
            from: from.clone(),
            to: to.clone(),
            from_meaning: state_meaning(from),
            to_meaning: state_meaning(to),
        }),
        _ => None,
    };

    let mut irq = None;
    let mut process_side = None;
    let mut process_side_caller = None;
    let mut irq_side_caller = None;
    match kind {
        Kind::InconsistentLockState => {
            if let Some(tr) = &transition {
                irq = irq_kind(&tr.to).or_else(|| irq_kind(&tr.from));
                let from_is_irq = parse_state(&tr.from).is_some_and(|s| s.in_irq);
                let to_is_irq = parse_state(&tr.to).is_some_and(|s| s.in_irq);
                if to_is_irq && !from_is_irq {
                    // Registered with irqs enabled, now taken in irq context.
                    process_side = Some("registration".to_owned());
                    process_side_caller = registration_caller.clone();
                    irq_side_caller = current_caller.clone();
                } else if from_is_irq && !to_is_irq {
                    process_side = Some("current".to_owned());
                    process_side_caller = current_caller.clone();
                    irq_side_caller = registration_caller.clone();
                }
            }
        }
        Kind::IrqLockInversion => {
            irq = f.irq_word.as_deref().and_then(word_irq_kind);
            // forwards: this lock became irq-safe and took an irq-unsafe
            // lock before; backwards: this lock became irq-unsafe and was
            // taken under an irq-safe one.
            match f.inversion_forwards {
                Some(true) => {
                    f.safe = f.lock.clone();
                    f.unsafe_ = f.other.clone();
                }
                Some(false) => {
                    f.safe = f.other.clone();
                    f.unsafe_ = f.lock.clone();
                }
                None => {}
            }
        }
        Kind::IrqSafeUnsafeOrder => {
            irq = f.irq_word.as_deref().and_then(word_irq_kind);
            // The `... which became X-irq-unsafe at:` stack took the unsafe
            // lock with irqs enabled: the process side.
            if registration_caller.is_some() {
                process_side = Some("registration".to_owned());
                process_side_caller = registration_caller.clone();
            }
        }
        _ => {}
    }

    let title = match kind {
        Kind::InconsistentLockState => with_in("inconsistent lock state", at_func.as_deref()),
        Kind::CircularLockingDependency
        | Kind::RecursiveLocking
        | Kind::IrqLockInversion
        | Kind::IrqSafeUnsafeOrder => with_in("possible deadlock", at_func.as_deref()),
        Kind::BadUnlockBalance => with_in(
            &format!("{}: bad unlock balance", banner_prefix(&banner)),
            at_func.as_deref(),
        ),
        Kind::BadContention => with_in("WARNING: bad contention", at_func.as_deref()),
        Kind::HeldLockFreed => with_in(
            &format!("{}: held lock freed", banner_prefix(&banner)),
            at_func.as_deref(),
        ),
        Kind::LockHeldReturningToUser => with_in(
            &format!(
                "{}: lock held when returning to user space",
                banner_prefix(&banner)
            ),
            at_func.as_deref().or(f
                .held_locks
                .first()
                .and_then(|h| h.acquired_at.as_ref())
                .map(|a| clean_function(&a.function))),
        ),
        Kind::LocksHeldAtExit => with_in(
            &format!("{}: still has locks held", banner_prefix(&banner)),
            f.held_locks
                .first()
                .and_then(|h| h.acquired_at.as_ref())
                .map(|a| clean_function(&a.function))
                .or(current_caller.as_deref()),
        ),
        Kind::SuspiciousRcuUsage => with_in(
            "WARNING: suspicious RCU usage",
            f.current_stack
                .iter()
                .find(|fr| {
                    !fr.unreliable
                        && !is_lock_machinery(&fr.function)
                        && !fr.function.trim_start_matches('_').starts_with("rcu")
                })
                .map(|fr| clean_function(&fr.function)),
        ),
        // syzkaller titles both as it titles them on amd64 and arm64 alike.
        Kind::InvalidWaitContext => with_in("WARNING: locking bug", current_caller.as_deref()),
        Kind::NestedLockNotTaken => {
            with_in("WARNING: nested lock was not taken", at_func.as_deref())
        }
        Kind::ChainKeyCollision => "WARNING: chain_key collision".to_owned(),
        // syzkaller's generic skip list, which also passes the allocator
        // (`might_alloc`, `slab_*`, `__kmalloc_*`) and `__might_resched`.
        Kind::SleepingInInvalidContext => with_in(
            "BUG: sleeping function called from invalid context",
            super::guilty::syzkaller_frame(&f.current_stack)
                .as_deref()
                .or(current_caller.as_deref()),
        ),
        _ => banner.clone(),
    };

    let mut report = Report {
        kind,
        title,
        banner,
        line: raw.line,
        end_line: raw.end_line,
        kernel: f.kernel,
        message: f.message,
        location: None,
        task: f.task,
        transition,
        irq_kind: irq,
        lock: f.lock,
        held_lock: f.held,
        other_lock: f.other,
        irq_safe_lock: f.safe,
        irq_unsafe_lock: f.unsafe_,
        acquired_at: f.acquired_at,
        rip: None,
        registration_stack: f.registration_stack,
        current_stack: f.current_stack,
        stacks: Vec::new(),
        registration_caller,
        current_caller,
        process_side,
        process_side_caller,
        irq_side_caller,
        process_side_source: None,
        process_side_lock_call: None,
        irq_side_source: None,
        irq_side_lock_call: None,
        chain: f.chain,
        scenario: f.scenario,
        held_locks: f.held_locks,
        fix: None,
        foreign_lines: raw.foreign_lines,
        raw: raw.lines,
    };
    label_bare(&mut report, loaded.as_deref());
    report.fix = fix::suggest(&report);
    report
}

/// `SOFTIRQ` / `HARDIRQ` / `softirq` (from `SOFTIRQ-unsafe`, `HARDIRQ-READ-safe`).
fn word_irq_kind(w: &str) -> Option<String> {
    match w.to_ascii_uppercase().as_str() {
        "SOFTIRQ" => Some("softirq".to_owned()),
        "HARDIRQ" => Some("hardirq".to_owned()),
        _ => None,
    }
}
