// SPDX-License-Identifier: GPL-2.0

//! Synchronisation: a spinlock backend that disables bottom halves, and RCU read-side critical
//! sections.

pub(crate) mod rcu;

/// Lock backends for the kernel crate's generic [`kernel::sync::lock::Lock`].
pub(crate) mod lock {
    // Built where it is used (a `pub` item of the kernel crate would need no gate).
    #[cfg(CONFIG_FIB_STAT_LOCK_BH)]
    pub(crate) mod spinlock_bh;
}
