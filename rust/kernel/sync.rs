// SPDX-License-Identifier: GPL-2.0

//! Synchronisation: spinlock backends that disable bottom halves or hard interrupts, a lock
//! taken with the primitive each context calls for, and RCU read-side critical sections.

pub(crate) mod rcu;

/// Lock backends for the kernel crate's generic [`kernel::sync::lock::Lock`], and
/// [`ContextLock`](lock::context::ContextLock), which takes one `spinlock_t` with any of them.
pub(crate) mod lock {
    pub(crate) mod context;
    pub(crate) mod spinlock_bh;
    pub(crate) mod spinlock_irq;
    pub(crate) mod spinlock_irqsave;
}
