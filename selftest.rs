// SPDX-License-Identifier: GPL-2.0

//! Self-test of the statistics lock type, run at load with the module parameter `selftest=1`.
//!
//! It takes a lock of its own (class `fib_stat.selftest`, so that the usage lockdep records for
//! `fib_stat.lock` stays that of the real workload) in every interrupt state the safe API
//! allows, and checks that the lock excludes (`try_lock`), and that releasing it leaves the
//! interrupt and bottom-half state as it found it: with `spin_lock_bh()` taken and
//! `spin_unlock_bh()` released while interrupts are disabled, they would be enabled again (and
//! lockdep would warn in `__local_bh_enable_ip()`). Every guard also asserts to lockdep that its lock is held.
//! `do_one_initcall()` checks what is left when the module's init returns: a preemption or
//! bottom-half count out of balance, or interrupts left disabled, is a kernel warning.

use crate::{irq, StatsLock};
use kernel::{c_str, prelude::*, static_lock_class};

/// Runs the checks; returns how many passed, or the first that failed.
pub(crate) fn run() -> Result<u32, &'static str> {
    let lock = KBox::pin_init(
        StatsLock::new(0u32, c_str!("fib_stat.selftest"), static_lock_class!()),
        GFP_KERNEL,
    )
    .map_err(|_| "allocating the test lock")?;
    let mut passed = 0;
    let mut check = |ok: bool, what: &'static str| {
        if ok {
            passed += 1;
            Ok(())
        } else {
            Err(what)
        }
    };

    check(!irq::irqs_disabled(), "interrupts enabled at the start")?;
    // Interrupts enabled: the process-context case.
    {
        let mut guard = lock.lock();
        *guard += 1;
        check(
            lock.try_lock().is_none(),
            "try_lock fails while the lock is held",
        )?;
    }
    check(!irq::irqs_disabled(), "interrupts enabled after unlock")?;
    check(!irq::in_softirq(), "bottom halves enabled after unlock")?;
    let guard = lock.try_lock();
    check(guard.is_some(), "try_lock succeeds on a free lock")?;
    if let Some(mut guard) = guard {
        *guard += 1;
    }

    // Interrupts disabled all along (as in hard interrupt context).
    {
        let irqs = irq::local_irq_save();
        {
            let mut guard = lock.lock();
            *guard += 1;
            check(
                lock.try_lock().is_none(),
                "try_lock fails while held, interrupts disabled",
            )?;
        }
        check(
            irq::irqs_disabled(),
            "interrupts still disabled after an unlock with interrupts disabled",
        )?;
        let guard = lock.try_lock();
        check(
            guard.is_some(),
            "try_lock succeeds on a free lock, interrupts disabled",
        )?;
        if let Some(mut guard) = guard {
            *guard += 1;
        }
        check(
            irq::irqs_disabled(),
            "interrupts still disabled after a try_lock guard",
        )?;
        drop(irqs);
    }
    check(
        !irq::irqs_disabled(),
        "interrupts enabled after local_irq_restore",
    )?;

    // Locked with interrupts enabled, unlocked with them disabled.
    {
        let mut guard = lock.lock();
        *guard += 1;
        let irqs = irq::local_irq_save();
        drop(guard);
        check(
            irq::irqs_disabled(),
            "interrupts still disabled after unlocking a lock taken with them enabled",
        )?;
        drop(irqs);
    }
    check(!irq::irqs_disabled(), "interrupts enabled at the end")?;
    check(!irq::in_softirq(), "bottom halves enabled at the end")?;

    check(*lock.lock() == 5, "every critical section updated the data")?;
    Ok(passed)
}
