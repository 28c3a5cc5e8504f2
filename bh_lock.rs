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
//! Taking a [`SpinLockBh`] from softirq context is allowed and harmless (bottom halves are already
//! disabled there; `spin_unlock_bh()` does not run pending softirqs while in interrupt context),
//! so one lock type serves both sides. It must not be taken with hard interrupts disabled or
//! from hard interrupt context.
//!
//! The lock state is a plain `spinlock_t` initialised with `__spin_lock_init()`, exactly like the
//! kernel crate's [`SpinLock`](kernel::sync::SpinLock): lockdep sees the same name and lock
//! class whichever of the two is used.
//!
//! Locking returns the generic [`Guard`](kernel::sync::lock::Guard); the lock is released (and
//! bottom halves re-enabled) when the guard is dropped.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::{
    bindings,
    sync::lock::{Backend, Lock},
};

/// A spinlock that disables bottom halves while held (`spin_lock_bh()`).
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
/// ```
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// A kernel `spinlock_t` lock backend that disables bottom halves while the lock is held.
pub(crate) struct SpinLockBhBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion between
// `spin_lock_bh()` and `spin_unlock_bh()`. `relock` uses the default implementation, which calls
// `lock` again, i.e. the same locking method.
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

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
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_lock_bh(ptr) }
    }

    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that `ptr` is valid and that the
        // caller is the owner of the spinlock.
        unsafe { bindings::spin_unlock_bh(ptr) }
    }
}
