// SPDX-License-Identifier: GPL-2.0

//! A kernel spinlock that disables hard interrupts while it is held: `spin_lock_irq()`.
//!
//! For data shared with hard interrupt context, taken where hard interrupts are known to be
//! enabled (process context, softirq context): `spin_unlock_irq()` enables them again
//! unconditionally. Where they may already be disabled, use
//! [`SpinLockIrqSave`](super::spinlock_irqsave::SpinLockIrqSave).
//!
//! The state is a plain `spinlock_t` initialised by `__spin_lock_init()`, as for the kernel
//! crate's [`SpinLock`](kernel::sync::SpinLock); the backend differs only in the functions it
//! calls to lock and unlock, always the same ones: nothing is decided at run time.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::{
    bindings,
    sync::lock::{Backend, Lock},
};

/// A spinlock that keeps hard interrupts disabled on the local CPU while it is held.
///
/// Exposes the kernel's `spinlock_t` taken with `spin_lock_irq()`.
///
/// # Context
///
/// Process and softirq context with hard interrupts enabled, as for C: unlocking enables them
/// again whatever they were before. Taken where they are disabled (hard interrupt context,
/// inside another `spin_lock_irqsave()` section), the unlock enables them too early: a bug
/// that lockdep and the interrupt code report, never undefined behaviour (no Rust code may
/// rely on the interrupt state for memory safety). On PREEMPT_RT, `spin_lock_irq()` is
/// `spin_lock()` (a sleeping lock) and leaves hard interrupts enabled.
#[allow(dead_code)] // The module uses the backend through `ContextLock`.
pub(crate) type SpinLockIrq<T> = Lock<T, SpinLockIrqBackend>;

/// A kernel `spinlock_t` lock backend that disables hard interrupts while the lock is held.
pub(crate) struct SpinLockIrqBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion. `relock` uses the
// default implementation, which calls `lock`: the same `spin_lock_irq()` as the original lock.
unsafe impl Backend for SpinLockIrqBackend {
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

    // `inline(always)` here and below: the C helper is the frame that takes the lock, the next
    // one is the caller of `lock`, as lockdep reports and stack traces show it.
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_lock_irq(ptr) }
    }

    #[inline(always)]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        let acquired = unsafe { bindings::spin_trylock_irq(ptr) };
        (acquired != 0).then_some(())
    }

    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that `ptr` is valid and that
        // the caller is the owner of the spinlock, taken by `lock` or `try_lock` above.
        unsafe { bindings::spin_unlock_irq(ptr) }
    }

    #[inline(always)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_assert_is_held(ptr) }
    }
}
