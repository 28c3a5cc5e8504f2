// SPDX-License-Identifier: GPL-2.0

//! A kernel spinlock that disables bottom halves while it is held.
//!
//! This module allows Rust code to use the kernel's `spinlock_t` with `spin_lock_bh()` and
//! `spin_unlock_bh()`: the lock for data shared between process context and softirq context
//! (a netlink handler and a netevent notifier called from NAPI, say). Taking it disables
//! softirqs on the local CPU first, so a softirq can never interrupt the holder and then spin on
//! the same lock; lockdep reports that deadlock, when a plain `spin_lock()` leaves softirqs on,
//! as an inconsistent `{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}` usage.
//!
//! The state is a plain `spinlock_t` initialised by `__spin_lock_init()`, as for the kernel
//! crate's [`SpinLock`](kernel::sync::SpinLock); the backend differs only in the functions it
//! calls to lock and unlock, always the same ones: nothing is decided at run time.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::{
    bindings,
    sync::lock::{Backend, Lock},
};

/// Creates a [`SpinLockBh`] initialiser with the given name and a newly-created lock class.
///
/// It uses the name if one is given, otherwise it generates one based on the file name and line
/// number.
#[allow(unused_macros)] // Used by the KUnit suite only.
macro_rules! new_spinlock_bh {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::kernel_next::sync::lock::spinlock_bh::SpinLockBh::new(
            $inner,
            ::kernel::optional_name!($($name)?),
            ::kernel::static_lock_class!(),
        )
    };
}
// Used by the KUnit suite; fib_stat uses the backend through `ContextLock`.
#[allow(unused_imports)]
pub(crate) use new_spinlock_bh;

/// A spinlock that keeps bottom halves disabled on the local CPU while it is held.
///
/// Exposes the kernel's `spinlock_t` taken with `spin_lock_bh()`. When multiple CPUs attempt to
/// lock the same spinlock, only one at a time is allowed to progress, the others will block
/// (spinning) until the spinlock is unlocked, at which point another CPU will be allowed to make
/// progress. While it is held no softirq runs on the holder's CPU.
///
/// Instances of [`SpinLockBh`] need a lock class and to be pinned. The recommended way to create
/// such instances is with the [`pin_init`](kernel::pin_init) and [`new_spinlock_bh`] macros.
///
/// # Context
///
/// Process context and softirq context (where `spin_lock_bh()` nests: bottom halves are already
/// disabled, and `spin_unlock_bh()` does not run softirqs from there), as for C. Not in hard
/// interrupt context and not with hard interrupts disabled: `spin_unlock_bh()` may run pending
/// softirqs, which enable interrupts. Such misuse is a kernel warning (`__local_bh_enable_ip()`
/// checks both) and a lockdep report, never undefined behaviour: no Rust code may rely on the
/// interrupt state for memory safety. Whether one lock may be taken in all the contexts a
/// program uses it in (e.g. a lock taken in hard interrupt context too, which needs
/// `spin_lock_irqsave()`) is for lockdep to check, as for C.
///
/// # Examples
///
/// ```ignore
/// #[pin_data]
/// struct Example {
///     c: u32,
///     #[pin]
///     d: SpinLockBh<u32>,
/// }
///
/// impl Example {
///     fn new() -> impl PinInit<Self> {
///         pin_init!(Self {
///             c: 10,
///             d <- new_spinlock_bh!(20, "example.d"),
///         })
///     }
/// }
///
/// fn bump(e: &Example) {
///     *e.d.lock() += 1; // spin_lock_bh() ... spin_unlock_bh()
///     if let Some(mut d) = e.d.try_lock() {
///         // spin_trylock_bh()
///         *d += 1;
///     }
/// }
/// ```
#[allow(dead_code)] // Used by the KUnit suite; fib_stat uses the backend through `ContextLock`.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// A kernel `spinlock_t` lock backend that disables bottom halves while the lock is held.
pub(crate) struct SpinLockBhBackend;

// SAFETY: The underlying kernel `spinlock_t` object ensures mutual exclusion. `relock` uses the
// default implementation, which calls `lock`: the same `spin_lock_bh()` as the original lock.
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The safety requirements ensure that `ptr` is valid for writes, and `name` and
        // `key` are valid for read indefinitely.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    // `inline(always)` here and below: the C helper is the frame that takes the lock, the next
    // one is the caller of `Lock::lock`, as lockdep reports and stack traces show it.
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_lock_bh(ptr) }
    }

    #[inline(always)]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        let acquired = unsafe { bindings::spin_trylock_bh(ptr) };
        (acquired != 0).then_some(())
    }

    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements of this function ensure that `ptr` is valid and that
        // the caller is the owner of the spinlock, taken by `lock` or `try_lock` above.
        unsafe { bindings::spin_unlock_bh(ptr) }
    }

    #[inline(always)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The safety requirements of this function ensure that `ptr` points to valid
        // memory, and that it has been initialised before.
        unsafe { bindings::spin_assert_is_held(ptr) }
    }
}
