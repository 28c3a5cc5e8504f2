// SPDX-License-Identifier: GPL-2.0

//! KUnit test suites in a Rust module, built as the later kernel crate's `#[kunit_tests]`
//! attribute expands (6.12 lacks it).
//!
//! [`kunit_suite!`] declares a `struct kunit_suite` with its NULL-terminated array of
//! `struct kunit_case`, and a pointer to the suite in the `.kunit_test_suites` section: the
//! module loader collects that section (`mod->kunit_suites`), and KUnit runs its suites when the
//! module goes live, printing KTAP to the kernel log. Each case is an ordinary safe Rust
//! function; [`kunit_suite!`] wraps it in the `extern "C"` function KUnit calls. Checks use the
//! kernel crate's `kunit_assert!`, which reports a failure to KUnit and ends the case.
//!
//! C header: [`include/kunit/test.h`](srctree/include/kunit/test.h)

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{bindings, prelude::*, str::CStr};

/// Returns a test case of `name` that runs `run_case`.
pub(crate) const fn case(
    name: &'static CStr,
    run_case: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: `struct kunit_case` is plain data: all zeroes is a valid value (no function, no
    // name, no attributes), as `{}` is in C.
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(run_case);
    c.name = name.as_char_ptr();
    c
}

/// The all-zeroes case that ends a case array (`{}` in C).
pub(crate) const fn case_end() -> bindings::kunit_case {
    // SAFETY: As in `case`, all zeroes is a valid `struct kunit_case`.
    unsafe { core::mem::zeroed() }
}

/// Returns a suite of `name` running the cases of `cases` (a NULL-terminated array).
///
/// Names longer than the 255 bytes KUnit keeps are cut there.
pub(crate) const fn suite(name: &str, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: `struct kunit_suite` is plain data: all zeroes is a valid value.
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < s.name.len() - 1 {
        // Byte to C `char`: the name is ASCII.
        s.name[i] = bytes[i] as _;
        i += 1;
    }
    s.test_cases = cases;
    s
}

/// Declares a KUnit suite of test cases, each a safe `fn()` that checks with `kunit_assert!`.
///
/// ```ignore
/// kunit_suite!(fib_stat, [bh_lock_excludes, parse_rejects_nested]);
/// ```
macro_rules! kunit_suite {
    ($suite:ident, [$($case:ident),+ $(,)?]) => {
        // The `extern "C"` functions KUnit calls (`run_case`), one per case, of the same name.
        mod $suite {
            $(
                /// Runs the case (KUnit's `run_case`).
                ///
                /// # Safety
                ///
                /// Called by KUnit only, with the test it runs.
                pub(super) unsafe extern "C" fn $case(_test: *mut ::kernel::bindings::kunit) {
                    super::$case()
                }
            )+
        }

        const _: () = {
            const N: usize = [$(stringify!($case)),+].len() + 1;
            static mut CASES: [::kernel::bindings::kunit_case; N] = [
                $($crate::kernel_next::kunit::case(::kernel::c_str!(stringify!($case)), $suite::$case),)+
                $crate::kernel_next::kunit::case_end(),
            ];
            static mut SUITE: ::kernel::bindings::kunit_suite =
                $crate::kernel_next::kunit::suite(
                    stringify!($suite),
                    // Only the address is taken; KUnit is the only user of the array.
                    (&raw mut CASES).cast(),
                );
            // The module loader reads this section's pointers (`mod->kunit_suites`), as it does
            // for C's `kunit_test_suites()`.
            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut SUITE_ENTRY: *const ::kernel::bindings::kunit_suite =
                // Only the address is taken; KUnit is the only user of the suite.
                &raw const SUITE;
        };
    };
}
pub(crate) use kunit_suite;

/// What [`run_in_softirq`] hands its timer callback.
///
/// # Invariants
///
/// `timer` is zeroed until [`run_in_softirq`] initialises it with `init_timer_key()` and
/// [`softirq_callback`] as its function, before arming it; the allocation lives until the timer
/// is deleted (`timer_delete_sync()`).
#[repr(C)]
struct SoftirqRun {
    /// First field: the callback finds the struct from the timer's address.
    timer: bindings::timer_list,
    f: fn(),
    done: AtomicBool,
}

// A `timer_list` callback returns nothing. (An hrtimer's returns `enum hrtimer_restart`, whose
// kCFI type id rustc cannot match in 6.12: the call would be a CFI failure.)
/// The timer callback of [`run_in_softirq`].
///
/// # Safety
///
/// `timer` must be the `timer` field of a live [`SoftirqRun`].
unsafe extern "C" fn softirq_callback(timer: *mut bindings::timer_list) {
    // SAFETY: `timer` is the first field of a `SoftirqRun` (`repr(C)`), which `run_in_softirq`
    // keeps allocated until `timer_delete_sync()` has returned; nothing else writes it meanwhile.
    let run = unsafe { &*timer.cast::<SoftirqRun>() };
    (run.f)();
    run.done.store(true, Ordering::Release);
}

/// Runs `f` once in softirq context, from a real softirq (a `timer_list` callback runs from
/// `TIMER_SOFTIRQ`), and waits for it.
///
/// Returns whether `f` ran (`false`: no memory for the timer, or it did not run within a second).
///
/// # Context
///
/// Process context; sleeps.
pub(crate) fn run_in_softirq(f: fn()) -> bool {
    let run = KBox::new(
        SoftirqRun {
            // SAFETY: All zeroes is a valid `struct timer_list` before `init_timer_key()`.
            timer: unsafe { core::mem::zeroed() },
            f,
            done: AtomicBool::new(false),
        },
        GFP_KERNEL,
    );
    let Ok(run) = run else {
        return false;
    };
    let run = KBox::into_raw(run);
    // SAFETY: `run` is a valid allocation, not moved until freed below.
    let timer = unsafe { &raw mut (*run).timer };
    // The timer's lockdep class: a key in static storage, as lockdep requires.
    // SAFETY: All zeroes is a valid `struct lock_class_key`; lockdep is its only user.
    static mut KEY: bindings::lock_class_key = unsafe { core::mem::zeroed() };
    // INVARIANT: `timer` is initialised with `softirq_callback`.
    // SAFETY: `timer` is valid; the name and the lockdep key are static.
    unsafe {
        bindings::init_timer_key(
            timer,
            Some(softirq_callback),
            0,
            c"fib_stat_kunit.softirq".as_ptr().cast(),
            &raw mut KEY,
        )
    };
    // SAFETY: `jiffies` is the kernel's tick count, read as C reads it (a volatile load).
    let now = unsafe { (&raw const bindings::jiffies).read_volatile() };
    // SAFETY: `timer` is initialised; it expires at the next tick.
    unsafe { bindings::mod_timer(timer, now) };
    let mut ran = false;
    for _ in 0..1000 {
        // SAFETY: `run` is valid until freed below; `done` is atomic.
        ran = unsafe { (*run).done.load(Ordering::Acquire) };
        if ran {
            break;
        }
        // SAFETY: Process context, as documented.
        unsafe { bindings::msleep(1) };
    }
    // SAFETY: `timer` is initialised; `timer_delete_sync()` waits for a running callback.
    unsafe { bindings::timer_delete_sync(timer) };
    // SAFETY: `run` came from `KBox::into_raw` above, and the timer no longer uses it.
    drop(unsafe { KBox::from_raw(run) });
    ran
}
