// SPDX-License-Identifier: GPL-2.0

//! A kernel `spinlock_t` shared by several contexts, each taking it with the primitive its own
//! context calls for, as C code does with one `spinlock_t`: `spin_lock_bh()` in process context,
//! `spin_lock()` in the softirq or hard interrupt handler, `spin_lock_irqsave()` where hard
//! interrupts may be disabled.
//!
//! The kernel crate's [`Lock`](kernel::sync::lock::Lock) fixes one backend per lock type, so one
//! `spinlock_t` cannot be taken with `spin_lock_bh()` on one side and `spin_lock()` on the other.
//! [`ContextLock`] has a default primitive (its `B`, used by [`ContextLock::lock`]) and can be
//! taken with any other [`SpinLockPrimitive`] through [`ContextLock::lock_with`]. The caller
//! names the primitive in its source: nothing is decided at run time. Whether the primitives a
//! program uses in its contexts are consistent is for lockdep to check, as for C; a wrong one is
//! a deadlock or a lockdep report, never undefined behaviour.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use core::{
    cell::UnsafeCell,
    marker::{PhantomData, PhantomPinned},
    ops::{Deref, DerefMut},
};
use kernel::{
    bindings,
    prelude::*,
    str::CStr,
    sync::{
        lock::{spinlock::SpinLockBackend, Backend},
        LockClassKey,
    },
    types::Opaque,
};

use super::{
    spinlock_bh::SpinLockBhBackend, spinlock_irq::SpinLockIrqBackend,
    spinlock_irqsave::SpinLockIrqSaveBackend,
};

/// A lock backend that locks a kernel `spinlock_t` initialised by `__spin_lock_init()`.
///
/// # Safety
///
/// The backend's `lock` and `try_lock` acquire, and its `unlock` releases, the `spinlock_t`
/// itself (whatever else they do with interrupts or bottom halves), for any `spinlock_t`
/// initialised by `__spin_lock_init()`, so that all implementers exclude each other on the same
/// lock; `unlock` undoes exactly what `lock` or `try_lock` did, given their guard state.
pub(crate) unsafe trait SpinLockPrimitive:
    Backend<State = bindings::spinlock_t>
{
}

// SAFETY: `spin_lock()` / `spin_unlock()` on the `spinlock_t`.
unsafe impl SpinLockPrimitive for SpinLockBackend {}
// SAFETY: `spin_lock_bh()` / `spin_unlock_bh()` on the `spinlock_t`.
unsafe impl SpinLockPrimitive for SpinLockBhBackend {}
// SAFETY: `spin_lock_irq()` / `spin_unlock_irq()` on the `spinlock_t`.
unsafe impl SpinLockPrimitive for SpinLockIrqBackend {}
// SAFETY: `spin_lock_irqsave()` / `spin_unlock_irqrestore()` on the `spinlock_t`, the flags in
// the guard state.
unsafe impl SpinLockPrimitive for SpinLockIrqSaveBackend {}

/// Creates a [`ContextLock`] initialiser with the given name and a newly-created lock class.
macro_rules! new_context_lock {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::kernel_next::sync::lock::context::ContextLock::new(
            $inner,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_context_lock;

/// A `spinlock_t` protecting a `T`, taken with `B` by default and with any other
/// [`SpinLockPrimitive`] where a context needs it.
///
/// # Context
///
/// Those of the primitive used for each acquisition (see each backend's documentation).
///
/// # Invariants
///
/// `state` is a `spinlock_t` initialised by `__spin_lock_init()`; `data` is only accessed
/// through a [`ContextGuard`], which exists only while the lock is held.
#[pin_data]
pub(crate) struct ContextLock<T, B: SpinLockPrimitive> {
    #[pin]
    state: Opaque<bindings::spinlock_t>,
    #[pin]
    _pin: PhantomPinned,
    data: UnsafeCell<T>,
    _backend: PhantomData<B>,
}

// SAFETY: The lock can be transferred across threads iff the data it protects can.
unsafe impl<T: Send, B: SpinLockPrimitive> Send for ContextLock<T, B> {}
// SAFETY: The lock hands out access to the data to one guard at a time, on any thread: shared
// references are safe iff the data is `Send`.
unsafe impl<T: Send, B: SpinLockPrimitive> Sync for ContextLock<T, B> {}

impl<T, B: SpinLockPrimitive> ContextLock<T, B> {
    /// Constructs a new lock initialiser, with the lock class `key` named `name`.
    pub(crate) fn new(t: T, name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        // `LockClassKey` is a transparent wrapper of `Opaque<lock_class_key>`, itself of an
        // `UnsafeCell`: the pointer may be written through by lockdep.
        let key = core::ptr::from_ref(key)
            .cast::<bindings::lock_class_key>()
            .cast_mut();
        // INVARIANT: `state` is initialised by `__spin_lock_init()` below; `data` is private and
        // only handed out by the guards.
        pin_init!(Self {
            data: UnsafeCell::new(t),
            _pin: PhantomPinned,
            _backend: PhantomData,
            // SAFETY: `slot` is valid for writes while the closure runs; `name` and `key` are
            // valid for reads forever (static).
            state <- Opaque::ffi_init(|slot| unsafe {
                bindings::__spin_lock_init(slot, name.as_char_ptr(), key)
            }),
        })
    }

    /// Acquires the lock with its default primitive `B`.
    #[inline(always)]
    pub(crate) fn lock(&self) -> ContextGuard<'_, T, B> {
        self.lock_with::<B>()
    }

    /// Tries to acquire the lock with its default primitive `B`.
    #[inline(always)]
    #[allow(dead_code)] // Used by the KUnit suite only.
    pub(crate) fn try_lock(&self) -> Option<ContextGuard<'_, T, B>> {
        // SAFETY: `state` was initialised by `__spin_lock_init()` (type invariant), which every
        // `SpinLockPrimitive` accepts.
        let state = unsafe { B::try_lock(self.state.get()) }?;
        // INVARIANT: The lock is held with `B`, whose guard state is `state`.
        Some(ContextGuard {
            lock: &self.state,
            data: &self.data,
            state,
            _backend: PhantomData,
        })
    }

    /// Acquires the lock with the primitive `P`, the one the caller's context calls for.
    ///
    /// `inline(always)`: the C helper is the frame taking the lock, the caller the next one.
    #[inline(always)]
    pub(crate) fn lock_with<P: SpinLockPrimitive>(&self) -> ContextGuard<'_, T, P> {
        // SAFETY: `state` was initialised by `__spin_lock_init()` (type invariant), which every
        // `SpinLockPrimitive` accepts.
        let state = unsafe { P::lock(self.state.get()) };
        // INVARIANT: The lock is held with `P`, whose guard state is `state`.
        ContextGuard {
            lock: &self.state,
            data: &self.data,
            state,
            _backend: PhantomData,
        }
    }
}

/// A held [`ContextLock`], taken with the primitive `P`; released on drop with the same one.
///
/// Not `Send`: it is released on the CPU (and, for interrupt state, in the context) that took it.
///
/// # Invariants
///
/// `lock` is held, taken with `P`, which returned `state`; `data` is the data it protects.
pub(crate) struct ContextGuard<'a, T, P: SpinLockPrimitive> {
    lock: &'a Opaque<bindings::spinlock_t>,
    data: &'a UnsafeCell<T>,
    state: P::GuardState,
    _backend: PhantomData<*mut P>,
}

impl<T, P: SpinLockPrimitive> Deref for ContextGuard<'_, T, P> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The lock is held (type invariant), so no one else accesses the data.
        unsafe { &*self.data.get() }
    }
}

impl<T, P: SpinLockPrimitive> DerefMut for ContextGuard<'_, T, P> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The lock is held (type invariant), so no one else accesses the data.
        unsafe { &mut *self.data.get() }
    }
}

impl<T, P: SpinLockPrimitive> Drop for ContextGuard<'_, T, P> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: The lock is held, taken with `P`, which returned `self.state` (type
        // invariant); it is released once, here.
        unsafe { P::unlock(self.lock.get(), &self.state) }
    }
}
