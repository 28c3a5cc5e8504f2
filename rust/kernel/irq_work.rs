// SPDX-License-Identifier: GPL-2.0

//! A periodic source of hard interrupt context: [`HardIrqTick`], a `timer_list` whose callback
//! queues an `irq_work` initialised with `IRQ_WORK_INIT_HARD()`, whose callback runs in hard
//! interrupt context (from the irq_work self-IPI, or the next timer interrupt), on PREEMPT_RT
//! too.
//!
//! Why not an `hrtimer` in hard interrupt mode: its callback returns `enum hrtimer_restart`, and
//! with kCFI's integer normalization (`CONFIG_CFI_CLANG`, clang 19, rustc 1.95) the type id
//! rustc gives an `extern "C" fn(*mut hrtimer) -> u32` is not the one clang gives the C enum:
//! the indirect call in `__hrtimer_run_queues()` is a CFI failure and a panic. The timer and
//! irq_work callbacks return `void`.
//!
//! The owner `T` embeds a `HardIrqTick<T>` ([`impl_has_hardirq_tick`]); the callback, defined
//! with [`hardirq_tick_callback`], is a named function that receives `&T`.
//!
//! C headers: [`include/linux/irq_work.h`](srctree/include/linux/irq_work.h),
//! [`include/linux/timer.h`](srctree/include/linux/timer.h)

use core::{
    marker::{PhantomData, PhantomPinned},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{bindings, ffi::c_ulong, prelude::*, types::Opaque};

/// A type that embeds a [`HardIrqTick<Self>`].
///
/// # Safety
///
/// `Self` has one field of type `HardIrqTick<Self>`, and `tick_container_of`, given a pointer to
/// that field, returns a pointer to the `Self` containing it. Use [`impl_has_hardirq_tick`].
pub(crate) unsafe trait HasHardIrqTick: Sized {
    /// Returns a pointer to the `Self` whose tick field `ptr` points to.
    ///
    /// # Safety
    ///
    /// `ptr` points to the tick field of a `Self`.
    unsafe fn tick_container_of(ptr: *mut HardIrqTick<Self>) -> *mut Self;
}

/// Implements [`HasHardIrqTick`] for `$ty`, whose field `$field` is a `HardIrqTick<$ty>`.
macro_rules! impl_has_hardirq_tick {
    (impl HasHardIrqTick for $ty:ty { self.$field:ident }) => {
        // The field's type.
        const _: fn(&$ty) -> &$crate::kernel_next::irq_work::HardIrqTick<$ty> = |t| &t.$field;

        // SAFETY: `$field` is a `HardIrqTick<$ty>` (checked above), and `tick_container_of`
        // subtracts its offset.
        unsafe impl $crate::kernel_next::irq_work::HasHardIrqTick for $ty {
            #[inline(always)]
            unsafe fn tick_container_of(
                ptr: *mut $crate::kernel_next::irq_work::HardIrqTick<Self>,
            ) -> *mut Self {
                // SAFETY: The caller guarantees that `ptr` points to the field `$field` of a
                // `Self`, so the containing object starts its offset before.
                unsafe {
                    ptr.cast::<u8>()
                        .sub(::core::mem::offset_of!($ty, $field))
                        .cast::<Self>()
                }
            }
        }
    };
}
pub(crate) use impl_has_hardirq_tick;

/// Defines the hard interrupt callback of the [`HardIrqTick`]s embedded in `$ty`: a function
/// named `$name` (the frame stack traces and lockdep show) that receives the owner, and the
/// constant `$cb` to hand to [`HardIrqTick::new`].
///
/// The body runs in hard interrupt context, hard interrupts disabled.
macro_rules! hardirq_tick_callback {
    (
        $(#[$meta:meta])*
        const $cb:ident: fn $name:ident($owner:ident: &$ty:ty) $body:block
    ) => {
        $(#[$meta])*
        ///
        /// # Safety
        ///
        /// Only to be called by the irq_work of a `HardIrqTick` (it is registered through the
        /// `Callback` constant defined with it).
        #[no_mangle]
        #[inline(never)]
        unsafe extern "C" fn $name(work: *mut ::kernel::bindings::irq_work) {
            #[inline(always)]
            fn body($owner: &$ty) $body

            // SAFETY: This function is only registered through `$cb`, so `work` is the irq_work
            // of a live `HardIrqTick<$ty>`, as `HardIrqTick::owner` requires.
            let owner = unsafe { $crate::kernel_next::irq_work::HardIrqTick::<$ty>::owner(work) };
            body(owner);
        }

        const $cb: $crate::kernel_next::irq_work::Callback<$ty> = {
            // SAFETY: `$name` uses its argument only through `HardIrqTick::<$ty>::owner`.
            unsafe { $crate::kernel_next::irq_work::Callback::new($name) }
        };
    };
}
pub(crate) use hardirq_tick_callback;

/// The hard interrupt callback of the ticks embedded in a `T` (see [`hardirq_tick_callback`]).
///
/// # Invariants
///
/// The function uses its argument only through [`HardIrqTick::<T>::owner`].
pub(crate) struct Callback<T>(
    unsafe extern "C" fn(*mut bindings::irq_work),
    PhantomData<T>,
);

impl<T: HasHardIrqTick> Callback<T> {
    /// Wraps `f`.
    ///
    /// # Safety
    ///
    /// `f` uses its argument only through [`HardIrqTick::<T>::owner`].
    pub(crate) const unsafe fn new(f: unsafe extern "C" fn(*mut bindings::irq_work)) -> Self {
        // INVARIANT: The caller's promise.
        Self(f, PhantomData)
    }
}

/// A periodic tick in hard interrupt context, stopped (timer shut down, irq_work synced) on drop.
///
/// # Context
///
/// [`HardIrqTick::start`] in any context; drop in process context (it waits for the timer and
/// the irq_work to finish, and spins on the irq_work).
///
/// # Invariants
///
/// `timer` is initialised with [`Self::timer_fn`] and `work` with `IRQ_WORK_INIT_HARD()` and a
/// callback that uses its argument only through [`HardIrqTick::owner`]; this tick is the tick
/// field of a `T` (it was initialised in place by `T`'s initialiser through [`Self::new`]).
/// `period` is in jiffies, 0 until started.
#[pin_data(PinnedDrop)]
pub(crate) struct HardIrqTick<T: HasHardIrqTick> {
    #[pin]
    timer: Opaque<bindings::timer_list>,
    #[pin]
    work: Opaque<bindings::irq_work>,
    period: AtomicUsize,
    #[pin]
    _pin: PhantomPinned,
    _owner: PhantomData<T>,
}

// SAFETY: The timer and irq_work are used from any CPU by the kernel; the tick holds no `T`.
unsafe impl<T: HasHardIrqTick> Send for HardIrqTick<T> {}
// SAFETY: `start` only calls `mod_timer()`, which is safe to call concurrently.
unsafe impl<T: HasHardIrqTick> Sync for HardIrqTick<T> {}

impl<T: HasHardIrqTick> HardIrqTick<T> {
    /// Creates a stopped tick whose hard interrupt callback is `cb`. Must be the tick field of
    /// the `T` being initialised (`T`'s initialiser uses it for that field).
    pub(crate) fn new(cb: Callback<T>) -> impl PinInit<Self> {
        let key = kernel::static_lock_class!();
        // `LockClassKey` is a transparent wrapper of `Opaque<lock_class_key>`.
        let key = core::ptr::from_ref(key)
            .cast::<bindings::lock_class_key>()
            .cast_mut();
        // INVARIANT: `timer` is initialised with `timer_fn`, `work` with `IRQ_WORK_INIT_HARD()`
        // and `cb` (invariant of `Callback`), `period` is 0; the caller initialises the tick
        // field of a `T` with it.
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes while the closure runs; the name and key are
            // static.
            timer <- Opaque::ffi_init(|slot| unsafe {
                bindings::init_timer_key(
                    slot,
                    Some(Self::timer_fn),
                    0,
                    kernel::c_str!("fib_stat_hardirq_tick_timer").as_char_ptr(),
                    key,
                )
            }),
            // SAFETY: `slot` is valid for writes while the closure runs.
            work <- Opaque::ffi_init(|slot| unsafe {
                bindings::init_irq_work_hard(slot, Some(cb.0))
            }),
            period: AtomicUsize::new(0),
            _pin: PhantomPinned,
            _owner: PhantomData,
        })
    }

    /// Starts the tick: every `ms` milliseconds (rounded up to a jiffy) the callback runs once
    /// in hard interrupt context, the first time after `delay_ms` (0: after one period). A
    /// started tick is not started again.
    pub(crate) fn start(&self, ms: u32, delay_ms: u32) {
        // SAFETY: `__msecs_to_jiffies()` only computes.
        let period = unsafe { bindings::__msecs_to_jiffies(ms) }.max(1);
        // SAFETY: As above.
        let delay = unsafe { bindings::__msecs_to_jiffies(delay_ms) };
        let first = if delay_ms == 0 { period } else { delay.max(1) };
        // `unsigned long` is as wide as a pointer on every Linux target.
        let (first, period) = (first as usize, period as usize);
        if self
            .period
            .compare_exchange(0, period, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // SAFETY: `timer` was initialised by `new` (type invariant) and is not shut down (the
        // tick is alive).
        unsafe { bindings::mod_timer(self.timer.get(), Self::after(first)) };
    }

    /// `jiffies + period`.
    fn after(period: usize) -> c_ulong {
        // SAFETY: `jiffies` is a kernel variable, always readable; a volatile read as C does.
        let now = unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) };
        now.wrapping_add(period as c_ulong)
    }

    /// The timer callback (softirq context, or the timer thread on PREEMPT_RT): queues the hard
    /// irq_work and re-arms the timer.
    ///
    /// # Safety
    ///
    /// Only to be called by the timer code, for the `timer` field of a `HardIrqTick<T>` (`new`
    /// registers it for that timer only).
    unsafe extern "C" fn timer_fn(timer: *mut bindings::timer_list) {
        // SAFETY: `timer_fn` is only the callback of the `timer` field of a `HardIrqTick<T>`
        // (type invariant).
        let this = unsafe { kernel::container_of!(timer, Self, timer) };
        // SAFETY: The tick is alive while its timer runs (drop shuts it down first).
        let this = unsafe { &*this };
        // SAFETY: `work` was initialised by `new` (type invariant); queueing an irq_work that is
        // already pending does nothing.
        unsafe { bindings::irq_work_queue(this.work.get()) };
        // After `timer_shutdown_sync()` (drop), `mod_timer()` does nothing.
        // SAFETY: `timer` is initialised (type invariant).
        unsafe { bindings::mod_timer(timer, Self::after(this.period.load(Ordering::Relaxed))) };
    }

    /// Returns the owner of the tick whose irq_work is `work`.
    ///
    /// # Safety
    ///
    /// `work` is the `work` field of a `HardIrqTick<T>` whose irq_work is running (the callback
    /// of its `IRQ_WORK_INIT_HARD()`): the tick, and the `T` it is the tick field of, are alive
    /// until the irq_work is synced, which drop does before anything of the tick goes away; the
    /// owner's other fields must be dropped after its tick (declared after it).
    pub(crate) unsafe fn owner<'a>(work: *mut bindings::irq_work) -> &'a T {
        let work = work.cast::<Opaque<bindings::irq_work>>();
        // SAFETY: `work` is the `work` field of a `HardIrqTick<T>` (safety requirements).
        let tick = unsafe { kernel::container_of!(work, Self, work) }.cast_mut();
        // SAFETY: The tick is the tick field of a `T` (type invariant).
        let owner = unsafe { T::tick_container_of(tick) };
        // SAFETY: The `T` is alive while its irq_work runs (safety requirements).
        unsafe { &*owner }
    }
}

#[pinned_drop]
impl<T: HasHardIrqTick> PinnedDrop for HardIrqTick<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `timer` is initialised (type invariant); after this no timer callback runs and
        // the timer cannot be re-armed, so nothing queues the irq_work anymore.
        unsafe { bindings::timer_shutdown_sync(self.timer.get()) };
        // SAFETY: `work` is initialised (type invariant); this waits for a queued or running
        // callback to finish.
        unsafe { bindings::irq_work_sync(self.work.get()) };
    }
}
