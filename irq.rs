// SPDX-License-Identifier: GPL-2.0

//! The local CPU's interrupt state: `irqs_disabled()`, `in_softirq()`,
//! `local_irq_save()`/`local_irq_restore()`.
//!
//! C headers: [`include/linux/irqflags.h`](srctree/include/linux/irqflags.h),
//! [`include/linux/preempt.h`](srctree/include/linux/preempt.h)

use core::marker::PhantomData;
use kernel::{bindings, ffi::c_ulong};

/// Returns whether hard interrupts are disabled on the local CPU (`irqs_disabled()`).
///
/// True in hard interrupt and NMI context too, where they always are.
#[inline(always)]
pub(crate) fn irqs_disabled() -> bool {
    // SAFETY: Reads the CPU's interrupt flag; no requirements.
    unsafe { bindings::irqs_disabled() }
}

/// Returns whether bottom halves are disabled on the local CPU (`in_softirq()`): while a softirq
/// is being served, or inside `local_bh_disable()` (a `spin_lock_bh()` section, say).
#[inline(always)]
pub(crate) fn in_softirq() -> bool {
    // SAFETY: Reads the CPU's preemption count; no requirements.
    unsafe { bindings::in_softirq() }
}

/// Hard interrupts disabled on the local CPU (`local_irq_save()`), until dropped
/// (`local_irq_restore()`), which restores the state found at creation.
///
/// Guards must be dropped in the reverse order of their creation (as Rust scopes do): dropping
/// an outer one first enables interrupts while the inner one lives. Nothing relies on the
/// interrupt state for memory safety here; the kernel crate's later `LocalInterruptDisabled`
/// handles any order with a per-CPU count. Not `Send`: the state belongs to this CPU and context.
///
/// # Invariants
///
/// `flags` is the interrupt state `local_irq_save()` saved in the context that owns the guard.
pub(crate) struct LocalIrqDisabled {
    flags: c_ulong,
    _not_send: PhantomData<*mut ()>,
}

/// Disables hard interrupts on the local CPU until the returned guard is dropped.
#[inline(always)]
pub(crate) fn local_irq_save() -> LocalIrqDisabled {
    // INVARIANT: `flags` is saved here, in the context that gets the guard.
    LocalIrqDisabled {
        // SAFETY: No requirements; the guard restores the saved state in this context.
        flags: unsafe { bindings::local_irq_save() },
        _not_send: PhantomData,
    }
}

impl Drop for LocalIrqDisabled {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: By the type invariant, `flags` was saved by `local_irq_save()` in this context
        // (the guard is not `Send`).
        unsafe { bindings::local_irq_restore(self.flags) };
    }
}
