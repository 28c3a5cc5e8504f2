// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections.
//!
//! The same API as the kernel crate's `kernel::sync::rcu` of later kernels (6.13+), which 6.12
//! lacks: [`read_lock`] returns a [`Guard`]; the critical section lasts until it is dropped.
//! References obtained under RCU borrow the guard, so they cannot outlive the critical section.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::marker::PhantomData;
use kernel::bindings;

/// Evidence that the RCU read lock is held on the current CPU.
///
/// The critical section ends when the guard is dropped. Code holding it must not sleep.
/// Not `Send`: the critical section must end in the context that started it.
#[must_use = "the RCU read lock is released immediately when the guard is unused"]
pub(crate) struct Guard(PhantomData<*mut ()>);

impl Guard {
    /// Acquires the RCU read side lock and returns a guard.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        // SAFETY: An FFI call with no additional requirements; the guard ends the critical
        // section in the same context.
        unsafe { bindings::rcu_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: The existence of `self` guarantees that the RCU read side lock is held, taken
        // by `Guard::new` in this context.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Acquires the RCU read side lock (`rcu_read_lock()`).
#[inline(always)]
pub(crate) fn read_lock() -> Guard {
    Guard::new()
}
