// SPDX-License-Identifier: GPL-2.0

//! Wall-clock time.
//!
//! C header: [`include/linux/timekeeping.h`](srctree/include/linux/timekeeping.h)

use kernel::bindings;

/// Returns the current `CLOCK_REALTIME` time in nanoseconds since the epoch, from the fast,
/// NMI-safe timekeeper (`ktime_get_real_fast_ns()`).
///
/// Not `ktime_get_real_ns()`: that one reads the timekeeper inside a `tk_core.seq` read section,
/// which `CONFIG_DEBUG_LOCK_ALLOC` turns into a lockdep acquisition with traced interrupt
/// toggling, several times the cost of everything else a statistics update does. The fast
/// timekeeper reads the same clock through a latch, without it. Its caveat (see
/// `ktime_get_mono_fast_ns()`): across a timekeeping update that lowers the clock's slope, a
/// reading may be a little (nanoseconds) behind one taken just before on another CPU. And
/// `CLOCK_REALTIME` can be set back by an administrator anyway.
///
/// # Context
///
/// Any, NMI included.
pub(crate) fn ktime_get_real_fast_ns() -> u64 {
    // SAFETY: `ktime_get_real_fast_ns()` has no requirements: it only reads the timekeeper,
    // consistently thanks to its latch, in any context.
    unsafe { bindings::ktime_get_real_fast_ns() }
}
