// SPDX-License-Identifier: GPL-2.0

//! Netevent notifier: the softirq side.
//!
//! The netevent chain (`register_netevent_notifier()`) is an atomic notifier chain called by the
//! neighbour code on every neighbour entry update (`NETEVENT_NEIGH_UPDATE`, typically from NAPI
//! softirq: `arp_rcv()` -> `neigh_event_ns()` -> `__neigh_update()`, but also from process
//! context, e.g. `ip neigh replace`) and by IPv6 on redirects (`NETEVENT_REDIRECT`, softirq).
//! Callbacks run inside an RCU read-side critical section and must not sleep.
//!
//! - [`netevent_callback!`] defines the callback: a `#[no_mangle] extern "C"` function with exactly
//!   the C type `notifier_fn_t` (so it keeps its name in stack traces, and kCFI accepts the
//!   indirect call) that decodes the [`NetEvent`] and hands it to a safe Rust body, with the
//!   proof ([`rcu::ReadSection`]) of the RCU read-side critical section the chain runs in: the
//!   body needs no critical section of its own (under `CONFIG_PROVE_RCU` every nested
//!   `rcu_read_lock()` is a lockdep acquisition).
//! - [`Registration`] registers it; dropping it unregisters the callback and waits until no CPU
//!   runs it anymore.
//! - [`Neighbour`], [`Redirect`], [`NetDevice`] are read-only views of the event objects,
//!   including the neighbour's device -> network namespace lookup ([`NetDevice::net`]).
//!
//! # The namespace of a device
//!
//! The device of an event is referenced (by the neighbour entry or the route), so it stays
//! allocated during the call, but it is not necessarily registered in a namespace that stays
//! alive: `NETEVENT_NEIGH_UPDATE` is also raised while a device is unregistered or moved to
//! another namespace (`neigh_flush_dev()` -> `neigh_cleanup_and_release()` from the
//! `NETDEV_UNREGISTER` notifiers), including when its namespace is dismantled. What keeps the
//! namespace read from `dev->nd_net` around is RCU: [`NetDevice::net`] reads it with
//! `dev_net_rcu()` and returns it for the RCU read-side critical section only. Before a namespace
//! clean-up (`cleanup_net()`) frees any per-subsystem data (`ops_free_list()`), it removes every
//! device (`default_device_exit_batch()`): moving one ends with `synchronize_net()` after
//! `dev_net_set()` (`__dev_change_net_namespace()`), unregistering one calls `synchronize_net()`
//! after the `NETDEV_UNREGISTER` notifiers (which kill its neighbour entries and re-point its
//! routes) and then waits for every reference to it (`netdev_run_todo()`), including the one the
//! event holds. So a namespace read from an event's device in a critical section is a
//! [`ReadyNet`] for that critical section.
//!
//! The RCU read-side critical section is the one `atomic_notifier_call_chain()` holds around
//! every callback of the chain; the accessors that need it take the [`rcu::ReadSection`] the
//! callback was given, and call the `_rcu` variants of the C accessors (`dev_net_rcu()`,
//! `dst_dev_rcu()`), whose `rcu_dereference()` lockdep checks under `CONFIG_PROVE_RCU`.
//!
//! C header: [`include/net/netevent.h`](srctree/include/net/netevent.h)

use super::namespace::ReadyNet;
use crate::kernel_next::sync::rcu;
use core::{
    ffi::c_void,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};
use kernel::{
    bindings,
    ffi::{c_int, c_ulong},
    prelude::*,
    types::Opaque,
};

/// A network device (`struct net_device`).
///
/// # Invariants
///
/// A `&NetDevice` points to the device of a netevent being delivered (of its neighbour entry or
/// route), which stays allocated for the lifetime of the reference: the entry or route holds a
/// reference to it, or, for a route whose device was just replaced, RCU keeps it (see the module
/// documentation for its namespace).
#[repr(transparent)]
pub(crate) struct NetDevice(Opaque<bindings::net_device>);

impl NetDevice {
    /// # Safety
    ///
    /// `ptr` must be a valid device satisfying the type invariant for `'a`.
    unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a NetDevice {
        // SAFETY: `NetDevice` is a transparent wrapper; the caller guarantees validity.
        unsafe { &*ptr.cast::<NetDevice>() }
    }

    /// Returns the interface index (`READ_ONCE(dev->ifindex)`).
    ///
    /// The index is the device's in its namespace: a move to another namespace may give the
    /// device a new index (`__dev_change_net_namespace()` writes it with no lock we hold), so the
    /// value may be that of either namespace when the event races with a move.
    pub(crate) fn ifindex(&self) -> u32 {
        // The read is volatile (`READ_ONCE()`): it may race with the plain store of a namespace
        // move, and must be a single load that the compiler neither tears nor repeats.
        // SAFETY: By the type invariant the device is valid.
        let ifindex = unsafe { core::ptr::addr_of!((*self.0.get()).ifindex) };
        // SAFETY: `ifindex` is a properly aligned `int` inside the valid device.
        let ifindex = unsafe { ifindex.read_volatile() };
        u32::try_from(ifindex).unwrap_or(0)
    }

    /// Returns the network namespace of the device (`dev_net_rcu()`), for the RCU read-side
    /// critical section `rcu`.
    ///
    /// The device may be moving to another namespace: the result is the old or the new one.
    pub(crate) fn net<'a>(&'a self, _rcu: &'a rcu::ReadSection) -> &'a ReadyNet {
        // SAFETY: By the type invariant the device is valid; `rcu` holds the RCU read lock that
        // `dev_net_rcu()` (`rcu_dereference()`) requires.
        let net = unsafe { bindings::dev_net_rcu(self.0.get()) };
        // The device is the one of an event being delivered, so (module documentation) its
        // namespace, old or new, keeps its `struct net` and the slots of every registered
        // subsystem until the end of `rcu`. A namespace holding a device has been initialised by
        // every registered subsystem: subsystems run before any device exists in a new
        // namespace, and a registration initialises every namespace before it completes.
        // SAFETY: That is the invariant of `ReadyNet`, for `'a`.
        unsafe { ReadyNet::from_raw(net) }
    }
}

/// A neighbour entry (`struct neighbour`), as passed with `NETEVENT_NEIGH_UPDATE`.
///
/// # Invariants
///
/// A `&Neighbour` points to a valid, referenced neighbour entry, whose `dev` and `tbl` are valid,
/// for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Neighbour(Opaque<bindings::neighbour>);

impl Neighbour {
    /// Returns the device of the entry.
    pub(crate) fn dev(&self) -> &NetDevice {
        // SAFETY: By the type invariant the entry is valid; `dev` does not change.
        let dev = unsafe { (*self.0.get()).dev };
        // SAFETY: By the type invariant `dev` is valid; the entry holds a reference to it
        // (`netdev_hold()` in `___neigh_create()`) for its whole lifetime, and we are in the
        // notifier call of this entry.
        unsafe { NetDevice::from_raw(dev) }
    }

    /// Returns the protocol address of the entry (`primary_key`), if it is IPv4 or IPv6.
    pub(crate) fn addr(&self) -> Option<IpAddr> {
        let n = self.0.get();
        // SAFETY: By the type invariant the entry is valid; `tbl` does not change.
        let tbl = unsafe { (*n).tbl };
        // SAFETY: By the type invariant `tbl` is valid; `family` is constant.
        let family = unsafe { (*tbl).family };
        // SAFETY: By the type invariant `tbl` is valid; `key_len` is constant.
        let key_len = unsafe { (*tbl).key_len };
        // SAFETY: Only computes the address of the flexible array member of a valid entry.
        let key = unsafe { core::ptr::addr_of!((*n).primary_key) }.cast::<u8>();
        match (u32::try_from(family), key_len) {
            (Ok(bindings::AF_INET), 4) => {
                // SAFETY: The entry is allocated with `key_len` bytes of `primary_key`, which do
                // not change during its lifetime.
                let b = unsafe { key.cast::<[u8; 4]>().read_unaligned() };
                Some(IpAddr::V4(Ipv4Addr::from(b)))
            }
            (Ok(bindings::AF_INET6), 16) => {
                // SAFETY: As above.
                let b = unsafe { key.cast::<[u8; 16]>().read_unaligned() };
                Some(IpAddr::V6(Ipv6Addr::from(b)))
            }
            _ => None,
        }
    }
}

/// An ICMPv6 redirect (`struct netevent_redirect`), as passed with `NETEVENT_REDIRECT`.
///
/// # Invariants
///
/// A `&Redirect` points to a valid `struct netevent_redirect` whose non-NULL pointers are valid,
/// for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Redirect(Opaque<bindings::netevent_redirect>);

impl Redirect {
    /// Returns the device of the redirect: the one of the new route, else the old route's, else
    /// the new gateway neighbour's; for the RCU read-side critical section `rcu`.
    ///
    /// A route's device is read with `dst_dev_rcu()`: it may be replaced concurrently
    /// (`dst_dev_put()`, by the device's `NETDEV_UNREGISTER` notifiers, which are followed by
    /// `synchronize_net()`), and the old one stays allocated until the end of the critical
    /// section, which lockdep checks. A route whose device was replaced that way points to
    /// `blackhole_netdev`, which lives in the initial namespace whatever the route's: it tells
    /// nothing of the redirect's namespace and is skipped, so a redirect racing with the
    /// unregistration of its device is counted in the namespace of another of its devices, or
    /// not at all (`None`), never in the initial namespace by mistake.
    pub(crate) fn dev<'a>(&'a self, _rcu: &'a rcu::ReadSection) -> Option<&'a NetDevice> {
        let r = self.0.get();
        // SAFETY: `blackhole_netdev` is written once, at boot (`blackhole_netdev_init()`, a
        // subsys initcall), before any module can be loaded; only its value is compared here.
        let blackhole = unsafe { bindings::blackhole_netdev };
        // SAFETY: By the type invariant the redirect is valid.
        let new = unsafe { (*r).new };
        // SAFETY: By the type invariant the redirect is valid.
        let old = unsafe { (*r).old };
        // SAFETY: By the type invariant the redirect is valid.
        let neigh = unsafe { (*r).neigh };
        let dev = [new, old]
            .into_iter()
            .filter(|dst| !dst.is_null())
            .map(|dst| {
                // SAFETY: By the type invariant a non-NULL route is valid; `rcu` holds the RCU
                // read lock that `dst_dev_rcu()` requires.
                unsafe { bindings::dst_dev_rcu(dst) }
            })
            .find(|dev| !dev.is_null() && *dev != blackhole)
            .or_else(|| {
                (!neigh.is_null()).then(|| {
                    // SAFETY: By the type invariant a non-NULL neighbour is valid.
                    unsafe { (*neigh).dev }
                })
            });
        let dev = dev.filter(|dev| *dev != blackhole);
        let dev = dev.filter(|dev| !dev.is_null())?;
        // The device of a route stays allocated during `rcu` (see above); the neighbour's holds
        // a reference to it.
        // SAFETY: So the device is valid for `'a`, and referenced by the route or neighbour, or
        // kept by RCU: the invariant of `NetDevice`.
        Some(unsafe { NetDevice::from_raw(dev) })
    }
}

/// A decoded netevent.
pub(crate) enum NetEvent<'a> {
    /// `NETEVENT_NEIGH_UPDATE`: a neighbour entry changed state or link-layer address.
    NeighUpdate(&'a Neighbour),
    /// `NETEVENT_REDIRECT`: a route was redirected to another gateway.
    Redirect(&'a Redirect),
    /// Any other event (not decoded).
    Other,
}

impl NetEvent<'_> {
    /// Decodes the arguments of a netevent notifier call.
    ///
    /// # Safety
    ///
    /// `event` and `ptr` must be the arguments of a call of the netevent chain, which is in
    /// progress for the lifetime of the result: `ptr` points to the object `event` documents
    /// in `include/net/netevent.h`.
    #[doc(hidden)]
    #[inline(always)]
    pub(crate) unsafe fn from_raw(event: c_ulong, ptr: *mut c_void) -> Self {
        match u32::try_from(event) {
            Ok(bindings::netevent_notif_type_NETEVENT_NEIGH_UPDATE) if !ptr.is_null() => {
                // SAFETY: For this event `ptr` is the `struct neighbour` being updated, valid and
                // referenced during the call (`__neigh_update()` / `neigh_update_notify()`).
                let n = unsafe { &*ptr.cast::<Neighbour>() };
                NetEvent::NeighUpdate(n)
            }
            Ok(bindings::netevent_notif_type_NETEVENT_REDIRECT) if !ptr.is_null() => {
                // SAFETY: For this event `ptr` is a `struct netevent_redirect` on the caller's
                // stack (`rt6_do_redirect()`), valid during the call.
                let r = unsafe { &*ptr.cast::<Redirect>() };
                NetEvent::Redirect(r)
            }
            _ => NetEvent::Other,
        }
    }
}

/// A netevent notifier callback, created by [`netevent_callback!`].
///
/// # Invariants
///
/// The function is non-NULL and safe to call with the arguments of the netevent chain.
#[derive(Clone, Copy)]
pub(crate) struct Callback(bindings::notifier_fn_t);

impl Callback {
    /// Wraps a notifier function.
    ///
    /// # Safety
    ///
    /// `f` must be safe to call with the arguments of the netevent chain: any event code, the
    /// object documented for it, in atomic context.
    #[doc(hidden)]
    pub(crate) const unsafe fn new(
        f: unsafe extern "C" fn(*mut bindings::notifier_block, c_ulong, *mut c_void) -> c_int,
    ) -> Self {
        // INVARIANT: Non-NULL; safe to call by the caller's promise.
        Self(Some(f))
    }
}

/// Defines a netevent notifier callback `$name` and a [`Callback`] constant for it.
///
/// The function is `#[no_mangle] unsafe extern "C"` with the exact C type of `notifier_fn_t`
/// (raw pointers, no references: the kCFI type check of the indirect call compares the types),
/// and `#[inline(never)]`, so that it appears by name in stack traces and lockdep reports.
/// `$body` is the body of a safe `#[inline(always)]` inner function that `$name` calls with the
/// decoded [`NetEvent`] `$event` and `$rcu`, a `&rcu::ReadSection`: the proof of the RCU
/// read-side critical section the chain holds around the call. It is safe Rust by construction,
/// and a lock taken in it is taken in the frame of `$name`. It runs in atomic context (usually
/// softirq) under RCU: it must not sleep. The callback returns `NOTIFY_DONE`.
///
/// ```ignore
/// netevent_callback! {
///     /// Counts neighbour updates.
///     const NET_EVENT: fn net_event_callback(event, rcu) {
///         if let NetEvent::NeighUpdate(n) = event { let net = n.dev().net(rcu); /* ... */ }
///     }
/// }
/// let reg = netevent::Registration::new(NET_EVENT)?;
/// ```
macro_rules! netevent_callback {
    (
        $(#[$meta:meta])*
        const $cb:ident: fn $name:ident($event:ident, $rcu:ident) $body:block
    ) => {
        $(#[$meta])*
        ///
        /// # Safety
        ///
        /// Only to be called by the netevent notifier chain (it is registered through the
        /// `Callback` constant defined with it).
        #[no_mangle]
        #[inline(never)]
        unsafe extern "C" fn $name(
            _nb: *mut ::kernel::bindings::notifier_block,
            event: ::kernel::ffi::c_ulong,
            ptr: *mut ::core::ffi::c_void,
        ) -> ::kernel::ffi::c_int {
            #[inline(always)]
            fn body<'a>(
                $event: $crate::kernel_next::net::netevent::NetEvent<'a>,
                $rcu: &'a $crate::kernel_next::sync::rcu::ReadSection,
            ) $body

            // SAFETY: This function is only registered through `$cb`, so it is only called by the
            // netevent chain, with `event` and `ptr` as `NetEvent::from_raw` requires, and the
            // decoded event does not outlive this call.
            let event = unsafe { $crate::kernel_next::net::netevent::NetEvent::from_raw(event, ptr) };
            // SAFETY: The netevent chain is an atomic notifier chain: `atomic_notifier_call_chain()`
            // holds `rcu_read_lock()` around every callback, so for this whole call.
            let rcu = unsafe { $crate::kernel_next::sync::rcu::ReadSection::assume() };
            body(event, rcu);
            ::kernel::bindings::NOTIFY_DONE as ::kernel::ffi::c_int
        }

        // SAFETY: `$name` decodes its arguments with `NetEvent::from_raw`, which handles every
        // event code, and hands the event to a safe function.
        const $cb: $crate::kernel_next::net::netevent::Callback = unsafe { $crate::kernel_next::net::netevent::Callback::new($name) };
    };
}
pub(crate) use netevent_callback;

/// A registered netevent notifier; unregistered on drop.
///
/// # Invariants
///
/// `nb` is registered on the netevent chain: by `new`, until `drop` unregisters it. Its memory
/// is owned by `self` and freed only after that.
pub(crate) struct Registration {
    nb: Pin<KBox<Opaque<bindings::notifier_block>>>,
}

// SAFETY: The notifier block is only accessed by the (internally locked) notifier chain and by
// `drop`.
unsafe impl Send for Registration {}
// SAFETY: No method takes `&self`.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers `cb` on the netevent chain. From now on it may run on any CPU at any time.
    pub(crate) fn new(cb: Callback) -> Result<Self> {
        let nb = KBox::pin(
            Opaque::new(bindings::notifier_block {
                notifier_call: cb.0,
                next: core::ptr::null_mut(),
                priority: 0,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `nb` is a valid notifier block that stays at its address (pinned) until it is
        // unregistered in `drop`.
        kernel::error::to_result(unsafe { bindings::register_netevent_notifier(nb.get()) })?;
        // INVARIANT: `nb` was registered just above.
        Ok(Self { nb })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // `unregister_netevent_notifier()` removes the block and waits for an RCU grace period
        // (`atomic_notifier_chain_unregister()`), after which no CPU runs the callback anymore.
        // SAFETY: By the type invariant `nb` is registered, and it is freed only after this
        // returns (see above). Unregistering a registered block cannot fail.
        unsafe { bindings::unregister_netevent_notifier(self.nb.get()) };
    }
}

/// Test support for the KUnit suite: the device a redirect is counted for, from routes built here.
#[cfg(CONFIG_FIB_STAT_KUNIT_TEST)]
pub(crate) mod test_support {
    use super::Redirect;
    use crate::kernel_next::{net::namespace::ReadyNet, sync::rcu};
    use kernel::bindings;

    /// Returns the ifindex [`Redirect::dev`] finds for a redirect whose old route's device is
    /// `blackhole_netdev` (as after `dst_dev_put()`) and, if `new_is_loopback`, whose new
    /// route's device is the initial namespace's loopback (else there is no new route), or `None`
    /// if it finds no device.
    pub(crate) fn redirect_ifindex(new_is_loopback: bool) -> Option<u32> {
        // SAFETY: All zeroes is a valid `struct dst_entry` (plain C data).
        let mut old: bindings::dst_entry = unsafe { core::mem::zeroed() };
        // SAFETY: As above.
        let mut new: bindings::dst_entry = unsafe { core::mem::zeroed() };
        // SAFETY: All zeroes is a valid `struct netevent_redirect` (NULL routes and neighbour).
        let mut redirect: bindings::netevent_redirect = unsafe { core::mem::zeroed() };
        // SAFETY: `blackhole_netdev` is written once at boot; only its value is read.
        old.__bindgen_anon_1.dev = unsafe { bindings::blackhole_netdev };
        redirect.old = &mut old;
        if new_is_loopback {
            // SAFETY: `init_net` is valid forever; `loopback_dev` is set when it is created.
            new.__bindgen_anon_1.dev = unsafe { (*ReadyNet::init_net().as_ptr()).loopback_dev };
            redirect.new = &mut new;
        }
        let rcu = rcu::read_lock();
        // SAFETY: `redirect` is a valid `struct netevent_redirect` whose non-NULL pointers point
        // to valid routes, whose devices are never freed, while the reference lives.
        let redirect = unsafe { &*(&raw const redirect).cast::<Redirect>() };
        redirect.dev(&rcu).map(|dev| dev.ifindex())
    }
}
