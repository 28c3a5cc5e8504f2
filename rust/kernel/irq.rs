// SPDX-License-Identifier: GPL-2.0

//! The local CPU's interrupt state, read only: whether hard interrupts are disabled
//! (`irqs_disabled()`) and whether bottom halves are (`softirq_count()`).
//!
//! For assertions and tests (the KUnit suite checks what a lock guard leaves behind): code must
//! not choose what to do from its calling context; it documents the contexts it may run in.
//!
//! C headers: [`include/linux/irqflags.h`](srctree/include/linux/irqflags.h),
//! [`include/linux/preempt.h`](srctree/include/linux/preempt.h)

use kernel::bindings;

/// Returns whether hard interrupts are disabled on the local CPU (`irqs_disabled()`).
///
/// True in hard interrupt and NMI context too, where they always are.
#[inline]
#[allow(dead_code)] // Used by the KUnit suite only.
pub(crate) fn irqs_disabled() -> bool {
    // SAFETY: `irqs_disabled()` only reads the local CPU's interrupt flag.
    unsafe { bindings::irqs_disabled() }
}

/// Returns whether bottom halves are disabled on the local CPU (`softirq_count() != 0`): while a
/// softirq is being served, or inside `local_bh_disable()` (a `spin_lock_bh()` section, say).
#[inline]
#[allow(dead_code)] // Used by the KUnit suite only.
pub(crate) fn bh_disabled() -> bool {
    // SAFETY: `softirq_count()` only reads the local CPU's preemption count.
    unsafe { bindings::softirq_count() != 0 }
}
