// SPDX-License-Identifier: GPL-2.0

//! A spinlock that keeps bottom halves (softirqs) disabled while it is held.
//!
//! This is the kernel's `spinlock_t` taken with `spin_lock_bh()` / released with
//! `spin_unlock_bh()`, plugged into the kernel crate's generic [`Lock`] as a [`Backend`]. It is
//! meant for data that is shared between process context and softirq context: taking the lock
//! disables softirqs on the local CPU first, so a softirq can never interrupt the lock holder and
//! then spin on the same lock (which lockdep reports as an inconsistent
//! `{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}` usage).
//!
//! The lock state is a plain `spinlock_t` initialised with `__spin_lock_init()`, exactly like the
//! kernel crate's [`SpinLock`](kernel::sync::SpinLock): lockdep sees the same name and lock
//! class whichever of the two is used.
//!
//! Locking returns the generic [`Guard`](kernel::sync::lock::Guard); the lock is released (and
//! bottom halves re-enabled) when the guard is dropped. [`Lock::try_lock`] and the lockdep
//! assertion every guard makes (`Backend::assert_is_held`) come with the lock API that
//! `kernel/patches/0005-*` backports to 6.12.
//!
//! # Context
//!
//! Any context in which a `spinlock_t` may be taken: process context, softirq context, and with
//! hard interrupts disabled or in hard interrupt context. That is what the safe
//! [`Lock::lock`] allows, so the backend is correct in all of them:
//!
//! - bottom halves enabled (process context): `spin_lock_bh()` and `spin_unlock_bh()`;
//! - bottom halves already disabled (softirq context, or inside `local_bh_disable()`), or hard
//!   interrupts disabled, which includes hard interrupt context: `spin_lock()` and
//!   `spin_unlock()`, as C code does there. No softirq can run on this CPU then, and
//!   `spin_unlock_bh()` must not run with hard interrupts disabled: it would run pending
//!   softirqs, which enable interrupts, and with `CONFIG_TRACE_IRQFLAGS` it turns them back on
//!   itself (`__local_bh_enable_ip()`), behind the back of whoever disabled them. In softirq
//!   context it is merely redundant, but costly under lockdep (that interrupt toggle is traced);
//! - a guard taken with bottom halves and interrupts enabled but dropped with interrupts disabled
//!   (an interrupt-disabling guard created in between and still alive): `spin_unlock()` and
//!   `_local_bh_enable()`, which re-enables bottom halves without running softirqs or touching
//!   the interrupt state (pending ones run at the next interrupt exit or `local_bh_enable()`).
//!
//! A guard taken in a bottom-half-disabled section must be dropped before that section ends (as
//! Rust scopes do): if the section ends first (another guard dropped out of order), softirqs may
//! run while the lock is held, a deadlock if one takes it, which lockdep reports when it sees
//! bottom halves re-enabled with the lock held. Not in NMI context (like every spinlock: the NMI
//! may have interrupted the holder). Whether one lock may be taken in all the contexts a program
//! uses it in is for lockdep to check, as for C: e.g. taking it in hard interrupt context and
//! elsewhere with interrupts enabled is an inconsistent-lock-state report (a deadlock, not a
//! memory-safety issue). On `PREEMPT_RT`, a `spinlock_t` sleeps and must never be taken with
//! interrupts disabled; this backend is not meant for it.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use crate::irq;
use kernel::{
    bindings,
    sync::lock::{Backend, Lock},
};

/// A spinlock that disables bottom halves while held (`spin_lock_bh()`); see the module
/// documentation for the contexts it may be taken in.
///
/// Instances need a name and a lock class and must be pinned, as for
/// [`SpinLock`](kernel::sync::SpinLock): create them with
/// `SpinLockBh::new(data, c_str!("name"), static_lock_class!())` inside `pin_init!`.
///
/// # Examples
///
/// ```ignore
/// let mut guard = stats.lock(); // spin_lock_bh()
/// guard.count += 1;
/// // spin_unlock_bh() when `guard` goes out of scope.
/// if let Some(mut guard) = stats.try_lock() { // spin_trylock_bh()
///     guard.count += 1;
/// }
/// ```
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// A kernel `spinlock_t` lock backend that disables bottom halves while the lock is held.
pub(crate) struct SpinLockBhBackend;

/// How a [`SpinLockBh`] was taken (the guard state of [`SpinLockBhBackend`]).
pub(crate) enum BhGuardState {
    /// `spin_lock_bh()`: bottom halves were enabled; the lock disabled them.
    DisabledBh,
    /// `spin_lock()`: bottom halves or hard interrupts were already disabled, so no softirq
    /// could run on this CPU.
    Plain,
}

impl BhGuardState {
    /// How to take the lock now, in the current context.
    #[inline(always)]
    fn current() -> Self {
        if irq::in_softirq() || irq::irqs_disabled() {
            Self::Plain
        } else {
            Self::DisabledBh
        }
    }
}

// SAFETY: The kernel `spinlock_t` gives mutual exclusion whichever lock/unlock variant is used;
// the default `relock` calls `lock` again, which picks the variant for the current context.
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = BhGuardState;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The safety requirements ensure that `ptr` is valid for writes, and `name` and
        // `key` are valid for read indefinitely.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    // `inline(always)`: the lock must show up as taken by the caller (the C helper is the next
    // frame), which is what lockdep reports and stack traces show.
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        let state = BhGuardState::current();
        match state {
            // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
            // memory, and that it has been initialised before.
            BhGuardState::DisabledBh => unsafe { bindings::spin_lock_bh(ptr) },
            // SAFETY: As above.
            BhGuardState::Plain => unsafe { bindings::spin_lock(ptr) },
        }
        state
    }

    #[inline(always)]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let state = BhGuardState::current();
        let acquired = match state {
            // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
            // memory, and that it has been initialised before.
            BhGuardState::DisabledBh => unsafe { bindings::spin_trylock_bh(ptr) },
            // SAFETY: As above.
            BhGuardState::Plain => unsafe { bindings::spin_trylock(ptr) },
        };
        (acquired != 0).then_some(state)
    }

    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        match guard_state {
            // SAFETY: The safety requirements of this function ensure that `ptr` is valid and
            // that the caller is the owner of the spinlock, taken with `spin_lock()`.
            BhGuardState::Plain => unsafe { bindings::spin_unlock(ptr) },
            BhGuardState::DisabledBh if irq::irqs_disabled() => {
                // SAFETY: As above, taken with `spin_lock_bh()`: `spin_unlock()` releases the
                // lock and the preemption count, then `_local_bh_enable()` the bottom-half count,
                // without running softirqs (interrupts are disabled, as it requires).
                unsafe {
                    bindings::spin_unlock(ptr);
                    bindings::_local_bh_enable();
                }
            }
            // SAFETY: As above, taken with `spin_lock_bh()`.
            BhGuardState::DisabledBh => unsafe { bindings::spin_unlock_bh(ptr) },
        }
    }

    #[inline(always)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_assert_is_held(ptr) }
    }
}
