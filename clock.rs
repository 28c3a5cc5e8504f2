// SPDX-License-Identifier: GPL-2.0

//! Wall-clock time.
//!
//! C header: [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

use kernel::bindings;

/// Returns the current `CLOCK_REALTIME` time in nanoseconds since the epoch
/// (`ktime_get_real_ns()`).
///
/// # Context
///
/// Any context except NMI: it reads the timekeeper in a `tk_core.seq` seqcount retry loop, which
/// never ends if the NMI interrupted a timekeeping update on the same CPU (the NMI-safe clocks
/// are the `ktime_get_*_fast_ns()` ones). That is a hang, not a memory-safety issue, so this
/// function is safe and the context is the caller's to respect, as for other non-NMI-safe
/// functions.
pub(crate) fn ktime_get_real_ns() -> u64 {
    // SAFETY: `ktime_get_real_ns()` has no memory-safety preconditions: it only reads the
    // timekeeper, consistently thanks to the seqcount (see the context note above for NMI).
    unsafe { bindings::ktime_get_real_ns() }
}
