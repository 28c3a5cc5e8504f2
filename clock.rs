// SPDX-License-Identifier: GPL-2.0

//! Wall-clock time.
//!
//! C header: [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

use kernel::bindings;

/// Returns the current `CLOCK_REALTIME` time in nanoseconds since the epoch
/// (`ktime_get_real_ns()`).
///
/// Usable in any context except NMI (the same as `ktime_get()`).
pub(crate) fn ktime_get_real_ns() -> u64 {
    // SAFETY: `ktime_get_real_ns()` has no preconditions outside NMI context, and Rust code does
    // not run in NMI context.
    unsafe { bindings::ktime_get_real_ns() }
}
