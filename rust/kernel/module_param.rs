// SPDX-License-Identifier: GPL-2.0

//! Read-only `int` module parameters (`module_param(name, int, 0444)`).
//!
//! The `module!` macro of the 6.12 kernel crate has no parameter support, so this is the C
//! `module_param()` spelled out: a `struct kernel_param` in the `__param` section, using the
//! kernel's `param_ops_int`, plus the `parm`/`parmtype` modinfo strings `modinfo` shows.
//!
//! Only read-only permissions are accepted: the value is written by the module loader while it
//! parses the load arguments, before the module's init function runs, and never afterwards, so
//! reading it needs no locking.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use core::cell::UnsafeCell;
use kernel::{bindings, ffi::c_int};

/// The storage of an `int` module parameter; see [`module_param_int!`].
#[repr(transparent)]
pub(crate) struct ParamInt(UnsafeCell<c_int>);

// SAFETY: The value is only written by the module loader before the module's init runs (the
// parameter is read-only in sysfs, enforced by `module_param_int!`); afterwards it is only read.
unsafe impl Sync for ParamInt {}

impl ParamInt {
    /// Creates the storage with the default value.
    #[doc(hidden)]
    pub(crate) const fn new(default: c_int) -> Self {
        Self(UnsafeCell::new(default))
    }

    /// Returns the value of the parameter.
    pub(crate) fn get(&self) -> c_int {
        // SAFETY: See the `Sync` implementation: no write can happen once module code runs.
        unsafe { *self.0.get() }
    }
}

/// A `struct kernel_param` placed in the `__param` section by [`module_param_int!`].
#[doc(hidden)]
#[repr(transparent)]
pub(crate) struct KernelParam(bindings::kernel_param);

// SAFETY: The kernel only reads the descriptor; the value it points to is `ParamInt`, see there.
unsafe impl Sync for KernelParam {}

impl KernelParam {
    /// Describes an `int` parameter for the module loader.
    ///
    /// # Safety
    ///
    /// `name` must be NUL-terminated, `module` this module's `struct module` (or NULL when
    /// built in), and `perm` must not allow writing (checked by [`module_param_int!`]).
    #[doc(hidden)]
    pub(crate) const unsafe fn new_int(
        name: &'static [u8],
        module: *mut bindings::module,
        perm: u16,
        value: &'static ParamInt,
    ) -> Self {
        Self(bindings::kernel_param {
            name: name.as_ptr().cast(),
            mod_: module,
            ops: &raw const bindings::param_ops_int,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: value.0.get().cast(),
            },
        })
    }
}

/// Declares a read-only `int` module parameter.
///
/// ```ignore
/// module_param_int! {
///     /// Rust documentation of the static.
///     static NL_PROTO: "nl_proto" = 25, perm: 0o444, desc: "Netlink protocol number";
/// }
/// let proto = NL_PROTO.get();
/// ```
///
/// When built in, the parameter and its `.modinfo` strings are prefixed with the module name
/// (`fib_stat.nl_proto=` on the kernel command line), taken from `module!` (`__LOG_PREFIX`), like
/// the `.modinfo` strings `module!` emits itself.
///
/// The strings are built at compile time, by `const fn`s local to the expansion that only
/// initialise `const` and `static` items: nothing of it runs (or can panic) at run time.
macro_rules! module_param_int {
    (
        $(#[$meta:meta])*
        static $static:ident: $name:literal = $default:expr, perm: $perm:literal,
            desc: $desc:literal;
    ) => {
        $(#[$meta])*
        static $static: $crate::kernel_next::module_param::ParamInt =
            $crate::kernel_next::module_param::ParamInt::new($default);

        const _: () = {
            assert!($perm & 0o222 == 0, "module_param_int! parameters must be read-only");

            /// Total length of `parts`.
            const fn total_len(parts: &[&[u8]]) -> usize {
                let mut len = 0;
                let mut p = 0;
                while p < parts.len() {
                    len += parts[p].len();
                    p += 1;
                }
                len
            }

            /// Concatenates `parts` into an array of `N` bytes, their total length.
            const fn concat_bytes<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
                let mut out = [0u8; N];
                let mut n = 0;
                let mut p = 0;
                while p < parts.len() {
                    let mut i = 0;
                    while i < parts[p].len() {
                        out[n] = parts[p][i];
                        n += 1;
                        i += 1;
                    }
                    p += 1;
                }
                out
            }

            /// The prefix of built-in parameters and their `.modinfo` strings: `"<module>."`.
            #[cfg(MODULE)]
            const PREFIX: &[u8] = b"";
            #[cfg(not(MODULE))]
            const PREFIX: &[u8] = &{
                // `module!`'s `__LOG_PREFIX` is the module name, NUL-terminated.
                const MODULE_NAME: &[u8] = match $crate::__LOG_PREFIX.split_last() {
                    Some((_nul, name)) => name,
                    None => b"",
                };
                const PARTS: &[&[u8]] = &[MODULE_NAME, b"."];
                concat_bytes::<{ total_len(PARTS) }>(PARTS)
            };

            const NAME_PARTS: &[&[u8]] = &[PREFIX, concat!($name, "\0").as_bytes()];
            static NAME: [u8; total_len(NAME_PARTS)] = concat_bytes(NAME_PARTS);

            #[link_section = "__param"]
            #[used(compiler)]
            // SAFETY: `NAME` is NUL-terminated, the module is this one (`THIS_MODULE`) and the
            // permissions are read-only (asserted above).
            static PARAM: $crate::kernel_next::module_param::KernelParam = unsafe {
                $crate::kernel_next::module_param::KernelParam::new_int(
                    &NAME,
                    $crate::THIS_MODULE.as_ptr(),
                    $perm,
                    &$static,
                )
            };

            const PARMTYPE_PARTS: &[&[u8]] =
                &[PREFIX, concat!("parmtype=", $name, ":int\0").as_bytes()];
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; total_len(PARMTYPE_PARTS)] = concat_bytes(PARMTYPE_PARTS);

            const PARM_PARTS: &[&[u8]] =
                &[PREFIX, concat!("parm=", $name, ":", $desc, "\0").as_bytes()];
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; total_len(PARM_PARTS)] = concat_bytes(PARM_PARTS);
        };
    };
}
pub(crate) use module_param_int;
