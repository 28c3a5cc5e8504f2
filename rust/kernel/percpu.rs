// SPDX-License-Identifier: GPL-2.0

//! Per-CPU variables: one instance of a type for every possible CPU.
//!
//! [`DynamicPerCpu<T>`] allocates a `T` for every possible CPU with `alloc_percpu()`, initialises
//! each in place, and drops and frees them (`free_percpu()`) when it is dropped. It hands out
//! shared references only: to the local CPU's instance while a [`BhGuard`] keeps the caller on
//! its CPU ([`DynamicPerCpu::this_cpu`]), and to any possible CPU's ([`DynamicPerCpu::get`]).
//! How an instance is written is the business of `T` and its interior mutability:
//! [`stats::PerCpuStats`] is the networking stack's pattern for statistics updated from softirq
//! context (`pcpu_sw_netstats`, `SNMP_INC_STATS`): each CPU writes its own copy with bottom
//! halves disabled, without a shared lock, and readers combine every possible CPU's copy.
//!
//! The shape is that of the per-CPU series proposed upstream (Mitchell Levy, "rust: percpu"): a
//! `PerCpuPtr<T>` for the `__percpu` pointer, a `PerCpuAllocation<T>` that owns it, a
//! `DynamicPerCpu<T>` on top and a guard that keeps the task on its CPU. Two differences: the
//! guard here is [`BhGuard`] (bottom halves disabled, which implies preemption disabled except on
//! PREEMPT_RT), what statistics shared with softirq context need; and access is through shared
//! references, safe for any caller, instead of an `unsafe` `get` that hands out `&mut T`. The
//! series' static per-CPU variables (`define_per_cpu!`) are not needed here and not included.
//!
//! Possible CPUs are those of `cpu_possible_mask`, fixed at boot: a CPU taken offline keeps its
//! instance, and whatever it counted stays in the sums.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use core::{
    marker::PhantomData,
    mem::{align_of, size_of},
    ptr::NonNull,
};
use kernel::{bindings, prelude::*};

pub(crate) mod stats;

/// A possible CPU.
///
/// # Invariants
///
/// `self.0 < nr_cpu_ids` and `cpu_possible(self.0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpuId(u32);

impl CpuId {
    /// Returns `cpu` if it is a possible CPU (in `cpu_possible_mask`).
    pub(crate) fn from_u32(cpu: u32) -> Option<Self> {
        if cpu >= nr_cpu_ids() {
            return None;
        }
        // SAFETY: `cpu < nr_cpu_ids <= NR_CPUS`: the bit is within `cpu_possible_mask`.
        let possible = unsafe { bindings::cpu_possible(cpu) };
        // INVARIANT: Checked just above.
        possible.then_some(Self(cpu))
    }

    /// The CPU's number.
    #[allow(dead_code)] // Used by the KUnit suite only.
    pub(crate) fn as_u32(self) -> u32 {
        self.0
    }
}

/// `nr_cpu_ids`: one more than the highest possible CPU's number.
fn nr_cpu_ids() -> u32 {
    // SAFETY: `nr_cpu_ids` is set during boot, before any module is loaded, and never written
    // again.
    unsafe { bindings::nr_cpu_ids }
}

/// Returns the possible CPUs, in increasing order.
pub(crate) fn possible_cpus() -> impl Iterator<Item = CpuId> {
    (0..nr_cpu_ids()).filter_map(CpuId::from_u32)
}

/// Bottom halves disabled on the local CPU (`local_bh_disable()`) for the guard's lifetime.
///
/// While it exists no softirq runs on this CPU and the task stays on it: preemption is disabled
/// too, except on PREEMPT_RT, where `local_bh_disable()` takes the CPU's bottom-half lock and
/// disables migration instead.
///
/// # Context
///
/// Process and softirq context (where it nests), as `local_bh_disable()`. Not in hard interrupt
/// context nor with hard interrupts disabled: `local_bh_enable()` warns there, never undefined
/// behaviour.
pub(crate) struct BhGuard {
    /// Released on the CPU that took it: not `Send`.
    _not_send: PhantomData<*mut ()>,
}

impl BhGuard {
    /// Disables bottom halves on the local CPU until the guard is dropped.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        // SAFETY: No preconditions; undone by `drop`.
        unsafe { bindings::local_bh_disable() };
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Drop for BhGuard {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: Bottom halves were disabled by `new` on this CPU (the guard is not `Send`).
        unsafe { bindings::local_bh_enable() };
    }
}

/// A `__percpu` pointer to a `T`: the per-CPU areas' offset of a `T`, not an address. Not a smart
/// pointer: it does not own the allocation.
///
/// # Invariants
///
/// `self.0` was returned by `alloc_percpu()` for a `T` (size and alignment) and is not freed yet.
struct PerCpuPtr<T>(NonNull<T>);

impl<T> PerCpuPtr<T> {
    /// The address of `cpu`'s instance (`per_cpu_ptr()`).
    #[inline(always)]
    fn per_cpu(&self, cpu: CpuId) -> *mut T {
        // SAFETY: `self.0` is a live `__percpu` pointer (type invariant) and `cpu` a possible CPU
        // (`CpuId` invariant): `per_cpu_ptr()` adds that CPU's area offset.
        unsafe { bindings::per_cpu_ptr(self.0.as_ptr().cast(), cpu.0) }.cast()
    }

    /// The address of the local CPU's instance (`this_cpu_ptr()`); `_guard` keeps the caller on
    /// this CPU while it uses it.
    #[inline(always)]
    fn this_cpu(&self, _guard: &BhGuard) -> *mut T {
        // SAFETY: `self.0` is a live `__percpu` pointer (type invariant); the guard keeps the task
        // on its CPU (`this_cpu_ptr()` checks that under CONFIG_DEBUG_PREEMPT).
        unsafe { bindings::this_cpu_ptr(self.0.as_ptr().cast()) }.cast()
    }
}

/// A per-CPU allocation (`alloc_percpu()`) of room for a `T` on every possible CPU, freed
/// (`free_percpu()`) when dropped. It drops no `T`.
///
/// # Invariants
///
/// `self.0` is owned: no other `PerCpuAllocation` frees it.
struct PerCpuAllocation<T>(PerCpuPtr<T>);

impl<T> PerCpuAllocation<T> {
    /// Allocates zeroed room for a `T` on every possible CPU (`GFP_KERNEL`: may sleep).
    fn new() -> Result<Self> {
        // `alloc_percpu()` refuses (and warns about) size 0: a zero-sized `T` gets one byte.
        let size = size_of::<T>().max(1);
        // SAFETY: No preconditions.
        let ptr = unsafe { bindings::alloc_percpu(size, align_of::<T>()) };
        let ptr = NonNull::new(ptr.cast::<T>()).ok_or(ENOMEM)?;
        // INVARIANT: Just allocated for a `T`, owned by nobody else.
        Ok(Self(PerCpuPtr(ptr)))
    }
}

impl<T> Drop for PerCpuAllocation<T> {
    fn drop(&mut self) {
        // SAFETY: `self.0` was returned by `alloc_percpu()` and is freed once, here (type
        // invariants).
        unsafe { bindings::free_percpu(self.0 .0.as_ptr().cast()) }
    }
}

/// An initialised `T` for every possible CPU, in its per-CPU area.
///
/// The instances never move (the per-CPU areas are not reallocated) and only shared references
/// to them are handed out, so a `T` that must be pinned (a lock, a seqcount) may live there.
///
/// # Invariants
///
/// The instance of every possible CPU in `alloc` is initialised, until `drop` drops it.
pub(crate) struct DynamicPerCpu<T> {
    alloc: PerCpuAllocation<T>,
}

// SAFETY: The `T`s are dropped by whoever drops `self` (on any thread): `T: Send` suffices.
unsafe impl<T: Send> Send for DynamicPerCpu<T> {}
// SAFETY: `&self` hands out `&T` only, on any thread: `T: Sync` suffices.
unsafe impl<T: Sync> Sync for DynamicPerCpu<T> {}

impl<T> DynamicPerCpu<T> {
    /// Allocates a `T` for every possible CPU and initialises each with `init(cpu)`, in place.
    ///
    /// On error the instances initialised so far are dropped and the allocation freed. May sleep.
    pub(crate) fn new<I: PinInit<T, Error>>(init: impl Fn(CpuId) -> I) -> Result<Self> {
        let alloc = PerCpuAllocation::<T>::new()?;
        for cpu in possible_cpus() {
            let slot = alloc.0.per_cpu(cpu);
            // SAFETY: `slot` is valid for writes of a `T`, uninitialised, and never moves until
            // `free_percpu()`, which `drop` calls after dropping the `T`.
            if let Err(e) = unsafe { init(cpu).__pinned_init(slot) } {
                for done in possible_cpus().take_while(|c| *c != cpu) {
                    // SAFETY: Initialised above; nothing else refers to it yet.
                    unsafe { core::ptr::drop_in_place(alloc.0.per_cpu(done)) };
                }
                return Err(e);
            }
        }
        // INVARIANT: Every possible CPU's instance was initialised.
        Ok(Self { alloc })
    }

    /// The instance of the possible CPU `cpu`.
    #[inline(always)]
    pub(crate) fn get(&self, cpu: CpuId) -> &T {
        // SAFETY: `cpu` is possible, so its instance is initialised (type invariant) and lives as
        // long as `self`; only shared references are ever made.
        unsafe { &*self.alloc.0.per_cpu(cpu) }
    }

    /// The local CPU's instance, for as long as `guard` keeps the caller on this CPU.
    #[inline(always)]
    pub(crate) fn this_cpu<'a>(&'a self, guard: &'a BhGuard) -> &'a T {
        // SAFETY: The local CPU is possible, so its instance is initialised (type invariant) and
        // lives as long as `self`; only shared references are ever made.
        unsafe { &*self.alloc.0.this_cpu(guard) }
    }
}

impl<T> Drop for DynamicPerCpu<T> {
    fn drop(&mut self) {
        for cpu in possible_cpus() {
            // SAFETY: Initialised (type invariant); no reference outlives `&mut self`; dropped
            // once, here, before `alloc` frees the memory.
            unsafe { core::ptr::drop_in_place(self.alloc.0.per_cpu(cpu)) };
        }
    }
}
