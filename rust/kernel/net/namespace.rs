// SPDX-License-Identifier: GPL-2.0

//! Network namespaces (`struct net`): [`Net`], and [`ReadyNet`], a namespace whose per-subsystem
//! data may be looked up (see `pernet` for where one comes from).
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use kernel::{bindings, types::Opaque};

/// A network namespace (`struct net`).
///
/// # Invariants
///
/// A `&Net` points to a `struct net` that is not freed while the reference lives.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// Creates a reference to a network namespace from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net` that stays allocated for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `struct net`, and the caller guarantees that
        // the pointee lives long enough.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// Returns the raw pointer to the `struct net`.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// Returns the inode number of the namespace, as shown by `/proc/<pid>/ns/net`.
    pub(crate) fn inum(&self) -> u32 {
        // SAFETY: By the type invariant the `struct net` is valid; `ns.inum` is set when the
        // namespace is allocated and never changes.
        unsafe { (*self.as_ptr()).ns.inum }
    }
}

/// A network namespace whose per-subsystem data ([`Subsys::get`]) may be looked up.
///
/// A [`Net`] only guarantees that the `struct net` is allocated. That is not enough to read a
/// `net_generic()` slot: the slots of a namespace are allocated by `ops_init()` (which also grows
/// the slot array to cover the subsystem's id) and freed by the namespace clean-up
/// (`ops_free_list()`) while the `struct net` stays allocated, leaving dangling pointers in the
/// array. See the module documentation for where a `&ReadyNet` comes from.
///
/// # Invariants
///
/// A `&ReadyNet` points to a valid `struct net` (so it is a valid [`Net`]) that, for the lifetime
/// of the reference:
///
/// - has been initialised by every pernet subsystem that is registered (`ops_init()` ran for it,
///   so its `net_generic()` array covers the subsystem's id and holds its slot), except
///   subsystems whose registration is still in progress;
/// - keeps those slots allocated, except the slots of a subsystem that is being unregistered.
#[repr(transparent)]
pub(crate) struct ReadyNet(Net);

impl ReadyNet {
    /// Returns the initial network namespace (`init_net`).
    ///
    /// It is a static that is never freed, and every pernet subsystem initialises it before its
    /// registration completes, so it is always ready.
    #[allow(dead_code)] // Used by the KUnit suite only.
    pub(crate) fn init_net() -> &'static ReadyNet {
        // SAFETY: `init_net` is a static `struct net` that satisfies the type invariant forever
        // (see above); only its address is taken.
        unsafe { ReadyNet::from_raw(&raw const bindings::init_net) }
    }

    /// Creates a reference to a ready network namespace from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net` that satisfies the type invariant for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a ReadyNet {
        // SAFETY: `ReadyNet` is a transparent wrapper of `Net`, itself a transparent wrapper of
        // `struct net`; the caller guarantees the invariant for `'a`.
        unsafe { &*ptr.cast::<ReadyNet>() }
    }
}

impl core::ops::Deref for ReadyNet {
    type Target = Net;

    fn deref(&self) -> &Net {
        &self.0
    }
}
