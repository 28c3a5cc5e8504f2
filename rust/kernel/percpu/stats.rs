// SPDX-License-Identifier: GPL-2.0

//! Per-CPU statistics: every CPU updates its own copy, with bottom halves disabled and no shared
//! lock, and readers take each possible CPU's copy whole.
//!
//! This is the networking stack's pattern for statistics updated from softirq context
//! (`pcpu_sw_netstats` with `u64_stats_sync`): a writer only ever touches the local CPU's copy,
//! inside a write section of that copy's sequence count, with bottom halves (and preemption)
//! disabled, so no other writer of that copy can run until it is done; a reader on any CPU
//! retries a copy whose sequence count changed while it read it. `u64_stats_sync` is empty on
//! 64-bit architectures, where it only has to keep single 64-bit counters from tearing; a copy
//! here is any `Copy` type (counters with the address they last saw, say), so the sequence count
//! is the `seqcount_t` `u64_stats_sync` is built on, on every architecture.
//!
//! C headers: [`include/linux/seqlock.h`](srctree/include/linux/seqlock.h),
//! [`include/linux/u64_stats_sync.h`](srctree/include/linux/u64_stats_sync.h)

use super::{possible_cpus, BhGuard, CpuId, DynamicPerCpu};
use core::{cell::UnsafeCell, marker::PhantomData, mem::MaybeUninit};
use kernel::{bindings, prelude::*, str::CStr, sync::LockClassKey, types::Opaque};

/// Creates a [`PerCpuStats`] with every copy set to `init`, the sequence counts in a
/// newly-created lock class with the given name.
macro_rules! new_percpu_stats {
    ($init:expr $(, $name:literal)? $(,)?) => {
        $crate::kernel_next::percpu::stats::PerCpuStats::new(
            $init,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_percpu_stats;

/// Preemption disabled (`preempt_disable()`) for the guard's lifetime: what a seqcount write
/// section needs, which `local_bh_disable()` implies except on PREEMPT_RT.
struct PreemptGuard {
    /// Released on the CPU that took it: not `Send`.
    _not_send: PhantomData<*mut ()>,
}

impl PreemptGuard {
    #[inline(always)]
    fn new() -> Self {
        // SAFETY: No preconditions; undone by `drop`.
        unsafe { bindings::preempt_disable() };
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Drop for PreemptGuard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: Preemption was disabled by `new` on this CPU (the guard is not `Send`).
        unsafe { bindings::preempt_enable() };
    }
}

/// One CPU's copy and its sequence count.
///
/// # Invariants
///
/// `seq` was initialised by `__seqcount_init()`. `data` is written only by
/// [`PerCpuStats::update`], on the CPU this copy belongs to, between `write_seqcount_begin()` and
/// `write_seqcount_end()` on `seq`, with bottom halves and preemption disabled, and only when no
/// other write section of this copy is open (the count is even).
#[pin_data]
struct CpuCopy<T> {
    #[pin]
    seq: Opaque<bindings::seqcount_t>,
    data: UnsafeCell<T>,
}

// SAFETY: A `seqcount_t` may be dropped (it needs no cleanup) on any thread; the data moves with
// it: `T: Send` suffices.
unsafe impl<T: Send> Send for CpuCopy<T> {}
// SAFETY: A `CpuCopy` is written by one writer at a time, on its own CPU (type invariant), and
// read by copying it out under its sequence count, from any CPU: `T: Copy + Send` suffices.
unsafe impl<T: Copy + Send> Sync for CpuCopy<T> {}

/// A `T` per possible CPU, updated by each CPU on its own copy without a shared lock, read whole.
///
/// # Context
///
/// [`PerCpuStats::update`]: process and softirq context (see [`BhGuard`]). The readers
/// ([`PerCpuStats::read`], [`PerCpuStats::fold`]): any context that cannot interrupt a writer
/// of the local CPU's copy, i.e. process and softirq context: a reader in a hard interrupt that
/// interrupted a write section of its own CPU's copy would wait for it forever (a hang, never
/// undefined behaviour).
pub(crate) struct PerCpuStats<T> {
    cpus: DynamicPerCpu<CpuCopy<T>>,
}

impl<T: Copy + Send> PerCpuStats<T> {
    /// Allocates a copy for every possible CPU, each set to `init`, their sequence counts in
    /// lock class `key` named `name`. May sleep.
    pub(crate) fn new(init: T, name: &'static CStr, key: &'static LockClassKey) -> Result<Self> {
        // `LockClassKey` is a transparent wrapper of `Opaque<lock_class_key>`: lockdep may write
        // through the pointer.
        let key = core::ptr::from_ref(key)
            .cast::<bindings::lock_class_key>()
            .cast_mut();
        let cpus = DynamicPerCpu::new(|_cpu| {
            try_pin_init!(CpuCopy {
                // SAFETY: `slot` is valid for writes while the closure runs; `name` and `key`
                // are valid for reads forever (static).
                seq <- Opaque::ffi_init(|slot| unsafe {
                    bindings::__seqcount_init(slot, name.as_char_ptr(), key)
                }),
                data: UnsafeCell::new(init),
            }? Error)
        })?;
        // INVARIANT: Every copy's `seq` was initialised above; nothing has written `data` yet.
        Ok(Self { cpus })
    }

    /// Updates the local CPU's copy with `f`, bottom halves and preemption disabled, inside a
    /// write section of the copy's sequence count; returns what `f` returns.
    ///
    /// Returns `None` without calling `f` if the copy's write section is already open: `update`
    /// called from `f` itself, or from a hard interrupt or NMI that interrupted a writer of this
    /// CPU's copy (whose `local_bh_disable()` also warns). Neither happens in process and softirq
    /// context: only the writer of a copy can be in its write section, and it cannot be
    /// interrupted by another process-context or softirq writer on its CPU.
    #[inline(always)]
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let bh = BhGuard::new();
        let _preempt = PreemptGuard::new();
        let copy = self.cpus.this_cpu(&bh);
        let seq = copy.seq.get();
        // SAFETY: `seq` is valid (initialised, type invariant); only this CPU writes the count,
        // and it is not in a write section unless we interrupted one.
        let count = unsafe { core::ptr::addr_of!((*seq).sequence).read_volatile() };
        if count & 1 != 0 {
            return None;
        }
        // SAFETY: `seq` was initialised by `__seqcount_init()`; preemption is disabled.
        unsafe { bindings::write_seqcount_begin(seq) };
        // SAFETY: This is the copy's only writer (type invariant: its CPU, bottom halves and
        // preemption disabled, no other write section open), so no other reference to `data`
        // exists until `write_seqcount_end()`; readers copy it out under the count.
        let r = f(unsafe { &mut *copy.data.get() });
        // SAFETY: Closes the write section opened above, on the same CPU.
        unsafe { bindings::write_seqcount_end(seq) };
        Some(r)
    }

    /// Reads `cpu`'s copy whole: retried while a write section ran during the read.
    pub(crate) fn read(&self, cpu: CpuId) -> T {
        let copy = self.cpus.get(cpu);
        let seq = copy.seq.get();
        loop {
            // SAFETY: `seq` was initialised by `__seqcount_init()` (type invariant).
            let start = unsafe { bindings::read_seqcount_begin(seq) };
            // SAFETY: `data` is valid for reads. A write racing this read makes the count
            // change, and the bytes are then discarded: read into `MaybeUninit`, which holds any
            // bytes, and assumed initialised only if no write section ran (as C's readers).
            let value = unsafe { copy.data.get().cast::<MaybeUninit<T>>().read_volatile() };
            // SAFETY: `seq` as above; `start` came from `read_seqcount_begin()` on it.
            if unsafe { bindings::read_seqcount_retry(seq, start) } == 0 {
                // SAFETY: No write section ran since `start`: the bytes are one whole `T`
                // written by `update` (or `init`).
                return unsafe { value.assume_init() };
            }
        }
    }

    /// Folds every possible CPU's copy (each read whole, see [`PerCpuStats::read`]) into `init`
    /// with `f`, in CPU order.
    pub(crate) fn fold<A>(&self, init: A, mut f: impl FnMut(A, T) -> A) -> A {
        possible_cpus().fold(init, |acc, cpu| f(acc, self.read(cpu)))
    }
}
