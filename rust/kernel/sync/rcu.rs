// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections.
//!
//! The same API as the kernel crate's `kernel::sync::rcu` of later kernels (6.13+), which 6.12
//! lacks: [`read_lock`] returns a [`Guard`]; the critical section lasts until it is dropped.
//!
//! Functions that need a critical section take a [`&ReadSection`](ReadSection): the proof that
//! one is held, for the lifetime of the reference. A [`Guard`] lends one (it dereferences to
//! it); code that already runs inside a critical section opened by C (a notifier chain, say)
//! gets one from the abstraction that knows it, with [`ReadSection::assume`], instead of nesting
//! its own. References obtained under RCU borrow the proof, so they cannot outlive the critical
//! section.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::marker::PhantomData;
use kernel::bindings;

/// Proof that the current CPU is in an RCU read-side critical section, for as long as a
/// reference to it lives.
///
/// It cannot be created by safe code: only borrowed from a [`Guard`], or assumed (unsafely)
/// where a critical section is known to be held. Neither `Send` nor `Sync`: the proof is only
/// valid in the context (task or interrupt) that holds the critical section.
///
/// # Invariants
///
/// While a `&ReadSection` lives, the context it was created in is in an RCU read-side critical
/// section.
pub(crate) struct ReadSection(PhantomData<*mut ()>);

impl ReadSection {
    /// Returns the proof of a critical section that the caller knows to be held.
    ///
    /// # Safety
    ///
    /// The caller must be in an RCU read-side critical section (`rcu_read_lock()`, or a context
    /// that implies one, such as disabled preemption or bottom halves) that lasts at least for
    /// `'a`, in the current context.
    #[inline(always)]
    pub(crate) unsafe fn assume<'a>() -> &'a ReadSection {
        // INVARIANT: The caller guarantees the critical section for `'a`.
        &ReadSection(PhantomData)
    }
}

/// An RCU read-side critical section, opened by [`read_lock`] and closed on drop.
///
/// Code holding it must not sleep. Not `Send`: the critical section must end in the context
/// that started it.
///
/// # Invariants
///
/// The context that created the guard is in the RCU read-side critical section opened by
/// [`Guard::new`] until the guard is dropped.
#[must_use = "the RCU read lock is released immediately when the guard is unused"]
pub(crate) struct Guard(PhantomData<*mut ()>);

impl Guard {
    /// Acquires the RCU read side lock and returns a guard.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        // SAFETY: An FFI call with no additional requirements; the guard ends the critical
        // section in the same context.
        unsafe { bindings::rcu_read_lock() };
        // INVARIANT: The critical section was opened just above, in this context.
        Self(PhantomData)
    }
}

impl core::ops::Deref for Guard {
    type Target = ReadSection;

    #[inline(always)]
    fn deref(&self) -> &ReadSection {
        // SAFETY: The guard holds a critical section in this context until it is dropped (type
        // invariant), which the borrow of `self` outlives.
        unsafe { ReadSection::assume() }
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the RCU read side lock is held, taken by `Guard::new` in
        // this context; it is released once, here.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Acquires the RCU read side lock (`rcu_read_lock()`).
#[inline(always)]
pub(crate) fn read_lock() -> Guard {
    Guard::new()
}
