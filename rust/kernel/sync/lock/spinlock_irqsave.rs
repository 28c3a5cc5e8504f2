// SPDX-License-Identifier: GPL-2.0

//! A kernel spinlock that disables hard interrupts while it is held and restores their previous
//! state on unlock: `spin_lock_irqsave()` / `spin_unlock_irqrestore()`.
//!
//! For data shared with hard interrupt context, taken in any context: the interrupt state saved
//! by the lock is kept in the guard and restored by its drop, so it is correct also where hard
//! interrupts are already disabled.
//!
//! The state is a plain `spinlock_t` initialised by `__spin_lock_init()`, as for the kernel
//! crate's [`SpinLock`](kernel::sync::SpinLock); the backend differs only in the functions it
//! calls to lock and unlock, always the same ones: nothing is decided at run time.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::{
    bindings,
    ffi::c_ulong,
    sync::lock::{Backend, Lock},
};

/// A spinlock that keeps hard interrupts disabled on the local CPU while it is held, restoring
/// their previous state when it is released.
///
/// Exposes the kernel's `spinlock_t` taken with `spin_lock_irqsave()`.
///
/// # Context
///
/// Any context a `spinlock_t` may be taken in, hard interrupts enabled or not, as for C. Guards
/// must be released in the reverse order of their creation on the same CPU (they are not
/// `Send`): restoring the flags of an outer section first would enable interrupts inside an
/// inner one, a bug that lockdep reports, never undefined behaviour. On PREEMPT_RT,
/// `spin_lock_irqsave()` is `spin_lock()` (a sleeping lock), leaves hard interrupts enabled and
/// saves flags of 0.
#[allow(dead_code)] // The module uses the backend through `ContextLock`.
pub(crate) type SpinLockIrqSave<T> = Lock<T, SpinLockIrqSaveBackend>;

/// A kernel `spinlock_t` lock backend that disables hard interrupts while the lock is held; the
/// guard state holds the interrupt flags saved by `spin_lock_irqsave()`.
pub(crate) struct SpinLockIrqSaveBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion. `relock` uses the
// default implementation, which calls `lock` and stores the newly saved flags in the guard
// state, which `unlock` then restores.
unsafe impl Backend for SpinLockIrqSaveBackend {
    type State = bindings::spinlock_t;
    type GuardState = c_ulong;

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
        let mut flags: c_ulong = 0;
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before; `flags` is a local the helper writes
        // the saved interrupt state to.
        unsafe { bindings::spin_lock_irqsave(ptr, &mut flags) };
        flags
    }

    #[inline(always)]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let mut flags: c_ulong = 0;
        // SAFETY: As for `lock`; on failure the helper has restored the interrupt state itself.
        let acquired = unsafe { bindings::spin_trylock_irqsave(ptr, &mut flags) };
        (acquired != 0).then_some(flags)
    }

    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that `ptr` is valid and that
        // the caller is the owner of the spinlock, taken by `lock` or `try_lock` above, which
        // returned the flags in `guard_state`.
        unsafe { bindings::spin_unlock_irqrestore(ptr, *guard_state) }
    }

    #[inline(always)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_assert_is_held(ptr) }
    }
}
