//! The suggested fix: which primitive the process-context side needs, and
//! why.

use super::frame::{is_bare_address, is_lock_machinery};
use super::lockdep::parse_state;
use super::model::{Fix, Kind, Report};

/// Lock flavour, guessed from the access modes and the class name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Spin,
    RwRead,
    RwWrite,
    Xarray,
    Seqcount,
}

fn flavour(name: &str, process_read: bool, irq_read: bool) -> Flavour {
    let lower = name.to_ascii_lowercase();
    if lower.contains("xa_lock") || lower.contains("i_pages") {
        return Flavour::Xarray;
    }
    if process_read {
        return Flavour::RwRead;
    }
    if irq_read || lower.contains("rwlock") || lower.contains("rw_lock") {
        return Flavour::RwWrite;
    }
    if (lower.contains("seq") || lower.contains("syncp")) && !lower.contains("lock") {
        return Flavour::Seqcount;
    }
    Flavour::Spin
}

/// (lock, unlock) primitives for a flavour and irq kind.
fn primitives(fl: Flavour, irq: &str) -> (&'static str, &'static str) {
    match (fl, irq) {
        (Flavour::Spin, "softirq") => ("spin_lock_bh", "spin_unlock_bh"),
        (Flavour::Spin, _) => ("spin_lock_irqsave", "spin_unlock_irqrestore"),
        (Flavour::RwRead, "softirq") => ("read_lock_bh", "read_unlock_bh"),
        (Flavour::RwRead, _) => ("read_lock_irqsave", "read_unlock_irqrestore"),
        (Flavour::RwWrite, "softirq") => ("write_lock_bh", "write_unlock_bh"),
        (Flavour::RwWrite, _) => ("write_lock_irqsave", "write_unlock_irqrestore"),
        (Flavour::Xarray, "softirq") => ("xa_lock_bh", "xa_unlock_bh"),
        (Flavour::Xarray, _) => ("xa_lock_irqsave", "xa_unlock_irqrestore"),
        (Flavour::Seqcount, "softirq") => ("local_bh_disable", "local_bh_enable"),
        (Flavour::Seqcount, _) => ("local_irq_save", "local_irq_restore"),
    }
}

fn is_rust(report: &Report) -> bool {
    report
        .registration_stack
        .iter()
        .chain(&report.current_stack)
        .any(|f| {
            f.function.contains("::")
                || f.function.starts_with("rust_helper_")
                || f.symbol.starts_with("_R")
        })
}

fn or_unknown(s: Option<&str>, what: &'static str) -> String {
    s.map_or_else(|| what.to_owned(), |s| format!("{s}()"))
}

/// Suggests a fix for a decoded report.
pub fn suggest(r: &Report) -> Option<Fix> {
    match r.kind {
        Kind::InconsistentLockState => inconsistent(r),
        Kind::IrqLockInversion | Kind::IrqSafeUnsafeOrder => irq_dependency(r),
        Kind::CircularLockingDependency => Some(circular(r)),
        Kind::RecursiveLocking => Some(recursive(r)),
        _ => None,
    }
}

fn inconsistent(r: &Report) -> Option<Fix> {
    let tr = r.transition.as_ref()?;
    let from = parse_state(&tr.from)?;
    let to = parse_state(&tr.to)?;
    let (process, irq_state) = match (from.in_irq, to.in_irq) {
        (false, true) => (from, to),
        (true, false) => (to, from),
        _ => return None,
    };
    let irq = r.irq_kind.as_deref()?;
    let lock = r.lock.as_ref().map_or("the lock", |l| l.name.as_str());
    let init = init_code(r);
    let proc_fn = match &init {
        Some((name, _)) => name.clone(),
        None => or_unknown(
            r.process_side_caller.as_deref(),
            "the process-context caller",
        ),
    };
    // The function to change is the module's init function, which has no
    // name in the report: not the module loader's caller.
    let apply_to = if init.is_some() {
        None
    } else {
        r.process_side_caller.clone()
    };
    let irq_fn = or_unknown(r.irq_side_caller.as_deref(), "the interrupt-side caller");
    if irq == "reclaim_fs" {
        return Some(Fix {
            primitive: Some("memalloc_nofs_save".to_owned()),
            unlock: Some("memalloc_nofs_restore".to_owned()),
            apply_to: apply_to.clone(),
            why: format!(
                "{lock} is taken inside filesystem reclaim ({irq_fn}) and also around an allocation that \
                 may enter filesystem reclaim ({proc_fn}); reclaim can then recurse into the lock its own \
                 task holds. Allocate with GFP_NOFS, or wrap the section in memalloc_nofs_save()/\
                 memalloc_nofs_restore()."
            ),
        });
    }
    let fl = flavour(lock, process.read, irq_state.read);
    let (primitive, unlock) = primitives(fl, irq);
    let why = match irq {
        "softirq" => format!(
            "{lock} is taken in softirq context by {irq_fn} and in process context with softirqs \
             enabled by {proc_fn}. If the softirq runs on the CPU that is inside {proc_fn}'s critical \
             section, it spins on a lock its own CPU already holds and never returns: a one-CPU \
             deadlock (CPU0: lock; <Interrupt> lock). Take the lock with {primitive}()/{unlock}() in \
             {proc_fn} so bottom halves stay disabled while it is held; the softirq side can keep the \
             plain variant, since softirqs do not preempt each other on one CPU."
        ),
        _ => format!(
            "{lock} is taken in hardirq context by {irq_fn} and in process context with interrupts \
             enabled by {proc_fn}. If the interrupt arrives on the CPU that is inside {proc_fn}'s \
             critical section, the handler spins on a lock its own CPU already holds: a one-CPU \
             deadlock (CPU0: lock; <Interrupt> lock). Take the lock with {primitive}()/{unlock}() in \
             {proc_fn} (or the _irq variant where interrupts are known to be enabled) so local \
             interrupts stay disabled while it is held; disabling only bottom halves is not enough."
        ),
    };
    let why = match &init {
        Some((_, note)) => format!("{why} {note}"),
        None => why,
    };
    let why = if fl == Flavour::Seqcount {
        format!("{why} For a seqcount, disable them around the whole write section.")
    } else if is_rust(r) {
        format!(
            "{why} From Rust, the kernel crate's plain SpinLock::lock() maps to spin_lock(): use an \
             irq/bh-disabling lock type or helper (e.g. a rust_helper around {primitive}) for this lock."
        )
    } else {
        why
    };
    Some(Fix {
        primitive: Some(primitive.to_owned()),
        unlock: Some(unlock.to_owned()),
        apply_to,
        why,
    })
}

/// When the process side took the lock in a module's init code, whose
/// `__init` text was freed after the load (a bare address right above the
/// module loader's frames): that function's name for the advice, and a
/// sentence on where it is.
fn init_code(r: &Report) -> Option<(String, String)> {
    let stack = match r.process_side.as_deref()? {
        "registration" => &r.registration_stack,
        "current" => &r.current_stack,
        _ => return None,
    };
    let f = stack
        .iter()
        .take_while(|f| f.unreliable || is_bare_address(f) || is_lock_machinery(&f.function))
        .find(|f| {
            is_bare_address(f)
                && f.note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("init text"))
        })?;
    let module = f
        .note
        .as_deref()
        .and_then(|n| n.strip_prefix("init text of module "))
        .and_then(|n| n.split(' ').next());
    let called_by = r
        .process_side_caller
        .as_deref()
        .unwrap_or("do_one_initcall");
    let name = match module {
        Some(m) => format!("{m}'s init function (module_init)"),
        None => "the loaded module's init function (module_init)".to_owned(),
    };
    let note = format!(
        "That function is the bare address {} called by {called_by}(): a module's __init code \
         is freed after the load, so its symbol is gone.",
        f.function
    );
    Some((name, note))
}

fn irq_dependency(r: &Report) -> Option<Fix> {
    let irq = r.irq_kind.as_deref()?;
    let safe = r
        .irq_safe_lock
        .as_ref()
        .map_or("the irq-safe lock", |l| l.name.as_str());
    let unsafe_lock = r
        .irq_unsafe_lock
        .as_ref()
        .map_or("the irq-unsafe lock", |l| l.name.as_str());
    let read = r
        .irq_unsafe_lock
        .as_ref()
        .and_then(|l| l.usage_bits.as_deref())
        .is_some_and(|u| {
            // an unsafe read usage shows as '+' / '?' on a read position
            let pos = if irq == "softirq" { 3 } else { 1 };
            matches!(u.trim_start_matches('{').chars().nth(pos), Some('+' | '?'))
        });
    let fl = flavour(unsafe_lock, read, false);
    let (primitive, unlock) = primitives(fl, irq);
    // When the reported lock is the irq-unsafe one, the current stack is
    // where it is taken with irqs enabled.
    // For a safe -> unsafe order report, the stack where the lock became
    // irq-unsafe is the one to change.
    let apply_to = match (&r.lock, &r.irq_unsafe_lock) {
        _ if r.kind == Kind::IrqSafeUnsafeOrder => r.registration_caller.clone(),
        (Some(l), Some(u)) if l.name == u.name => r.current_caller.clone(),
        _ => None,
    };
    Some(Fix {
        primitive: Some(primitive.to_owned()),
        unlock: Some(unlock.to_owned()),
        apply_to,
        why: format!(
            "{safe} is {irq}-safe (it is taken in {irq} context) and {unsafe_lock} is {irq}-unsafe (it \
             is taken with {irq}s enabled), and the two are nested. One CPU can hold {unsafe_lock} \
             with {irq}s enabled and be interrupted by a {irq} that wants {safe}, while another CPU \
             holds {safe} and waits for {unsafe_lock}: an ABBA deadlock through the interrupt. Take \
             {unsafe_lock} with {primitive}()/{unlock}() everywhere it is taken with {irq}s enabled, \
             or stop taking it under {safe}."
        ),
    })
}

fn circular(r: &Report) -> Fix {
    let mut names: Vec<&str> = r.chain.iter().map(|c| c.lock.name.as_str()).collect();
    if names.is_empty() {
        names.extend(r.lock.iter().map(|l| l.name.as_str()));
        names.extend(r.held_lock.iter().map(|l| l.name.as_str()));
    }
    let cycle = names.join(" -> ");
    let held = r
        .held_lock
        .as_ref()
        .map_or("the held lock", |l| l.name.as_str());
    let want = r.lock.as_ref().map_or("the new lock", |l| l.name.as_str());
    Fix {
        primitive: None,
        unlock: None,
        apply_to: r.current_caller.clone(),
        why: format!(
            "The locks form a cycle ({cycle}): tasks that take them in different orders can each \
             hold one and wait forever for the next. Choose one global order and follow it \
             everywhere, or release {held} before taking {want} in {}.",
            or_unknown(r.current_caller.as_deref(), "the current caller")
        ),
    }
}

fn recursive(r: &Report) -> Fix {
    let name = r.lock.as_ref().map_or("the lock", |l| l.name.as_str());
    Fix {
        primitive: None,
        unlock: None,
        apply_to: r.current_caller.clone(),
        why: format!(
            "The task already holds a lock of class {name} and takes another one of the same class. \
             If it is the same instance this deadlocks at once: drop the first acquisition or do not \
             re-take it. If they are different instances taken in a well-defined order, tell lockdep \
             with a nesting annotation (spin_lock_nested(), mutex_lock_nested(), \
             down_read_nested()) or give them separate lock classes."
        ),
    }
}
