// SPDX-License-Identifier: GPL-2.0

//! Per network namespace data: `struct pernet_operations` with `net_generic()` storage.
//!
//! A type implementing [`NetData`], with its subsystem declared by [`pernet_subsys!`], gets one
//! instance per network namespace: for every namespace that exists when the [`Registration`] is
//! created and for every namespace created while it lives. The instance is built in place
//! (pinned) by [`NetData::init`] and dropped when the namespace goes away or the registration is
//! dropped (module unload).
//!
//! The subsystem can also give every namespace a kernel netlink socket ([`NetData::netlink`]).
//! Kernel sockets hold no reference on their namespace and may sleep when released, so only this
//! abstraction creates them ([`KernelSocket::new`] is `unsafe`): it releases each in process
//! context, in the namespace's (or the subsystem's) clean-up, before the namespace goes.
//!
//! The storage is the `net_generic()` slot of the subsystem (`pernet_operations::id` and
//! `::size`): the network namespace core allocates it zeroed before calling our `init` and frees
//! it after our `exit` (or right after a failed `init`). Next to the data the slot holds a `live`
//! flag, set once `init` has completed and cleared in `pre_exit`.
//!
//! # Lookups
//!
//! [`Subsys::get`] looks the data up for the duration of an RCU read-side critical section. It
//! reads the slot through `net_generic()` (which nests a read-side critical section of its own
//! inside the caller's), which checks nothing: the slot pointer of a namespace
//! is only meaningful while the namespace core keeps the slot allocated, and the array may even
//! be too short for our id in a namespace our `init` has not run for. So `get` takes a
//! [`ReadyNet`]: a namespace whose slots (of every registered subsystem) stay allocated while the
//! reference lives. The abstractions hand out `&ReadyNet` only where they can prove it:
//!
//! - the namespace of a netlink request to a kernel socket (`netlink::Request::net`): the
//!   sender's socket holds a reference on the namespace, so it is fully set up and its clean-up
//!   has not started;
//! - the namespace of a device seen in an RCU read-side critical section
//!   (`netevent::NetDevice::net`): the namespace clean-up moves or unregisters every device,
//!   waiting for an RCU grace period, before it frees any slot.
//!
//! A namespace whose creation fails in our `init` (the core frees the slot at once, without a
//! grace period) is never ready: it never became visible to user space, and it held no device
//! yet (subsystems are initialised before any device). The remaining cases are the subsystem's
//! own registration and unregistration, which happen while namespaces stay alive. They are
//! covered by the subsystem's `active` flag: set only once `register_pernet_subsys()` has
//! initialised every namespace (so a failed registration, whose slots are freed without a grace
//! period, is never looked at), and cleared before `unregister_pernet_subsys()`, which waits for
//! a grace period before it frees the slots.
//! Finally, `get` hands the data out only while `live` is set: the core runs `synchronize_rcu()`
//! between all `pre_exit` and all `exit` callbacks (in `cleanup_net()` as in
//! `unregister_pernet_subsys()`), so no lookup can still be using the data when `exit` drops it.
//!
//! # Registration order and partial failure
//!
//! The data and the sockets are two `pernet_operations`, registered one after the other: the
//! data of every namespace first (its `id`/`size` slot, `init`, `pre_exit`, `exit`), then the
//! sockets (no slot of its own: `init` creates the socket into the data slot, `exit` releases
//! it). The core runs them in registration order for a new namespace and in reverse order on
//! clean-up, so a namespace has its data before its socket exists and after it is released.
//!
//! Why two: once a kernel socket of the protocol exists, a user socket can be opened and take a
//! reference on the module (`netlink_create()` accepts a module that is still loading), and a
//! module whose init fails is freed whatever its reference count (`do_init_module()`): that user
//! socket would then hold, and a request could be running in, freed module memory. So nothing
//! that can fail may come after the first socket:
//!
//! - everything the data subsystem does (slot allocation, `net_generic()` array growth,
//!   [`NetData::init`]) is done for every namespace before any socket exists;
//! - the socket subsystem allocates nothing in the core (`ops_init()` without `id`), and while it
//!   registers, a namespace whose socket cannot be created does not fail the registration unless
//!   it is the first one (before it, no socket exists): it is logged and left without a socket
//!   (requests sent there get `ECONNREFUSED`) until the module is loaded again.
//!
//! Namespaces created later are set up by the core with the registration complete; there a
//! socket failure fails the namespace creation, as it does for C modules. What remains:
//!
//! - a namespace left without a socket by a failure while registering (only allocation failures
//!   are possible there, the protocol being exclusive), logged, until the module is reloaded;
//! - a namespace created right after the socket registration returns and before
//!   [`Registration::new`] notes that (a few instructions, outside the core's lock) is treated as
//!   still registering: a socket failure there also leaves it without a socket instead of
//!   failing its creation;
//! - the caller's part: nothing that can fail may follow [`Registration::new`] in its module's
//!   init (`fib_stat` registers it last).
//!
//! A user socket opened while the module loads still pins a module that is not live yet; that
//! is harmless as long as the load cannot fail anymore.
//!
//! C headers: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h),
//! [`include/net/netns/generic.h`](srctree/include/net/netns/generic.h)

use super::{
    namespace::{Net, ReadyNet},
    netlink::{KernelSocket, SocketCfg},
};
use crate::kernel_next::sync::rcu;
use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    mem::{align_of, size_of},
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_uint},
    prelude::*,
    types::Opaque,
};

/// Data kept for every network namespace.
///
/// Implement it, then declare the type's subsystem with [`pernet_subsys!`] and register it with
/// a [`Registration`].
pub(crate) trait NetData: Sized + Send + Sync + 'static {
    /// Returns an initialiser for the data of the namespace `net`.
    ///
    /// Called in process context (it may sleep) while the namespace is created, or, for the
    /// namespaces that already exist, while the [`Registration`] is created. An error makes the
    /// namespace creation (or the registration) fail.
    fn init(net: &Net) -> impl PinInit<Self, Error>;

    /// The kernel netlink socket to create in every namespace once its data is initialised, and
    /// to release before the data is dropped; `None` (the default): no socket.
    ///
    /// Called in process context while the sockets are created, for every namespace. The
    /// protocol number's promise is made where the [`SocketCfg`] is created.
    fn netlink() -> Option<SocketCfg> {
        None
    }
}

/// Links a [`NetData`] type to its subsystem, the `static` declared with it by
/// [`pernet_subsys!`].
///
/// # Safety
///
/// [`HasSubsys::subsys`] must always return the same `'static` [`Subsys`]: the pernet callbacks
/// registered by a [`Registration`] of `Self` find the slot of a namespace through the id that
/// `register_pernet_subsys()` wrote into that subsystem, so any other subsystem (not registered,
/// or registered with another id) would make them read and write another slot, or none.
/// [`pernet_subsys!`] is the only implementer (a second one for the same type does not compile:
/// the implementations conflict).
#[doc(hidden)]
pub(crate) unsafe trait HasSubsys: NetData {
    /// The subsystem (a `static`) that registers this type.
    ///
    /// The pernet callbacks are plain C functions that only receive the namespace; they find the
    /// `net_generic()` id through this function.
    fn subsys() -> &'static Subsys<Self>;
}

/// Declares the pernet subsystem of a [`NetData`] type: a `static` [`Subsys`], which looks the
/// data up ([`Subsys::get`]) and which a [`Registration`] of the type registers.
///
/// It also links the type to that `static` (the `unsafe impl` of the hidden [`HasSubsys`]): the
/// pernet callbacks are plain C functions that only receive the namespace, and find the
/// subsystem's `net_generic()` id through that link. Declaring the `static` in the same macro is
/// what makes the link correct, so the caller writes no `unsafe`.
///
/// ```ignore
/// struct State { /* ... */ }
/// impl pernet::NetData for State {
///     fn init(_net: &Net) -> impl PinInit<Self, Error> { /* ... */ }
/// }
/// pernet_subsys! {
///     /// The state of every network namespace.
///     static STATE: Subsys<State>;
/// }
/// // In the module's init: `pernet::Registration::<State>::new()?`.
/// ```
macro_rules! pernet_subsys {
    (
        $(#[$meta:meta])*
        $vis:vis static $name:ident: Subsys<$t:ty>;
    ) => {
        $(#[$meta])*
        $vis static $name: $crate::kernel_next::net::pernet::Subsys<$t> =
            $crate::kernel_next::net::pernet::Subsys::new();

        // SAFETY: `subsys` always returns `$name`, the `'static` subsystem declared with it.
        unsafe impl $crate::kernel_next::net::pernet::HasSubsys for $t {
            fn subsys() -> &'static $crate::kernel_next::net::pernet::Subsys<Self> {
                &$name
            }
        }
    };
}
pub(crate) use pernet_subsys;

/// The `net_generic()` slot: allocated zeroed by the network namespace core.
///
/// # Invariants
///
/// - While `live` is set, `data` is initialised, pinned, and not yet dropped.
/// - `sock` holds the socket written by `sock_init_callback` until `sock_exit_callback` takes
///   it (zeroed memory before: `None`).
#[repr(C)]
struct Slot<T> {
    /// Set once `data` is initialised, cleared in `pre_exit`. Zeroed memory reads as `false`.
    live: AtomicBool,
    /// The namespace's kernel socket: written by `sock_init_callback`, taken by
    /// `sock_exit_callback` (never read before the first, nor after the second), never touched by
    /// lookups, which may hold a shared reference to the slot meanwhile.
    sock: UnsafeCell<Option<KernelSocket>>,
    data: T,
}

/// A network namespace subsystem (`struct pernet_operations`) keeping one `T` per namespace.
///
/// It is a `static` declared with [`pernet_subsys!`]; it is registered by creating a
/// [`Registration`].
///
/// # Invariants
///
/// - `claimed` is set while a [`Registration`] of this subsystem exists, and only then are `ops`
///   and `sock_ops` registered with the network namespace core or written by us.
/// - While `active` is set, `ops` is registered and `id` holds its `net_generic()` id, which
///   nobody writes anymore; every namespace that existed when it was set was initialised by
///   `init_callback`.
pub(crate) struct Subsys<T: NetData> {
    /// The data: `id`/`size` slot, `init`, `pre_exit`, `exit`.
    ops: Opaque<bindings::pernet_operations>,
    /// The sockets ([`NetData::netlink`]): `init`, `exit`, no slot of its own.
    sock_ops: Opaque<bindings::pernet_operations>,
    /// The `net_generic()` id, written by `register_pernet_subsys()`.
    id: Opaque<c_uint>,
    /// Set while a [`Registration`] exists (guards against registering twice).
    claimed: AtomicBool,
    /// Set between a successful `register_pernet_subsys()` and the start of unregistration:
    /// `id` is valid and lookups are allowed.
    active: AtomicBool,
    /// Set once `sock_ops` is registered: from then on a socket failure fails the creation of
    /// its namespace; before, during the registration, only the first one fails it.
    sockets_registered: AtomicBool,
    /// Whether the registration of `sock_ops` in progress has created a socket already.
    socket_created: AtomicBool,
    _data: PhantomData<T>,
}

// SAFETY: `ops`, `sock_ops` and `id` are written only by `Registration::new` (once, guarded by
// `claimed`) and by the network namespace core under its own locking; all other fields are
// atomics. `T` is `Send + Sync` and is only handed out as a shared reference.
unsafe impl<T: NetData> Sync for Subsys<T> {}

impl<T: HasSubsys> Subsys<T> {
    /// Alignment the network namespace core guarantees for the slot (it uses `kzalloc()`).
    const ALIGN_OK: () = assert!(
        align_of::<Slot<T>>() <= bindings::ARCH_SLAB_MINALIGN,
        "per-netns data needs more alignment than kzalloc() guarantees"
    );

    /// Creates a subsystem that is not registered yet.
    pub(crate) const fn new() -> Self {
        // INVARIANT: Not claimed, not active, nothing registered.
        // SAFETY: `pernet_operations` is a C struct of pointers, optional function pointers and
        // integers, for all of which the all-zeroes bit pattern is valid (`NULL`/`None`/0).
        let zeroed: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        Self {
            ops: Opaque::new(bindings::pernet_operations {
                init: Some(Self::init_callback),
                pre_exit: Some(Self::pre_exit_callback),
                exit: Some(Self::exit_callback),
                // `id` is set in `Registration::new`: it must point into `self`.
                size: size_of::<Slot<T>>(),
                ..zeroed
            }),
            sock_ops: Opaque::new(bindings::pernet_operations {
                init: Some(Self::sock_init_callback),
                exit: Some(Self::sock_exit_callback),
                ..zeroed
            }),
            id: Opaque::new(0),
            claimed: AtomicBool::new(false),
            active: AtomicBool::new(false),
            sockets_registered: AtomicBool::new(false),
            socket_created: AtomicBool::new(false),
            _data: PhantomData,
        }
    }

    /// Returns the data of the namespace `net`, valid during the RCU read-side critical
    /// section `rcu` (and while `net` is ready).
    ///
    /// Returns `None` if the subsystem is not registered, or the data of `net` is not (or no
    /// longer) initialised: while the namespace is being created or torn down, or while the
    /// registration is in progress.
    #[inline(always)]
    pub(crate) fn get<'a>(
        &self,
        net: &'a ReadyNet,
        _rcu: &'a rcu::ReadSection,
    ) -> Option<Pin<&'a T>> {
        // Read inside the critical section `rcu`: if it is still set, the unregistration (which
        // clears it first) has not reached its grace period yet, and waits for `rcu` to end.
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `active` is set (with release ordering, after `register_pernet_subsys()` wrote
        // the id and ran `init` for every namespace), so by the type invariant `id` is valid and
        // no longer written.
        let id = unsafe { *self.id.get() };
        // SAFETY: By the invariant of `ReadyNet`, `net`'s `net_generic()` array covers `id`,
        // since the subsystem is registered.
        let slot = unsafe { bindings::net_generic(net.as_ptr(), id) }
            .cast::<Slot<T>>()
            .cast_const();
        if slot.is_null() {
            return None;
        }
        // The slot is a zeroed allocation of `size_of::<Slot<T>>()` bytes, suitably aligned
        // (`ALIGN_OK`), made by `ops_init()` for this namespace. It stays allocated at least
        // until the end of `rcu`: the namespace clean-up cannot free it while `net` is ready
        // (invariant of `ReadyNet`), and the unregistration frees it only after a grace period
        // that started after `active` was cleared (see above).
        // SAFETY: So `slot` is valid for `'a`; `live` is an atomic, valid when zeroed.
        let slot = unsafe { &*slot };
        if !slot.live.load(Ordering::Acquire) {
            return None;
        }
        // `data` is dropped only in `exit_callback`, after `pre_exit` cleared `live` and a grace
        // period elapsed, i.e. after the critical section `rcu`; the slot is never reallocated.
        // SAFETY: `live` is set, so `data` was initialised by `init_callback` (acquire ordering
        // pairs with its release store), stays valid during `rcu` and is never moved (above).
        Some(unsafe { Pin::new_unchecked(&slot.data) })
    }

    /// Returns the slot of `net`.
    ///
    /// # Safety
    ///
    /// The subsystem must be registered and its pernet callbacks must be running for `net`
    /// (the slot exists from before `init` until after `exit`).
    unsafe fn slot(net: *mut bindings::net) -> *mut Slot<T> {
        // This is the subsystem whose callbacks are running (safety requirement of `HasSubsys`).
        let subsys = T::subsys();
        // SAFETY: The subsystem is registered (the callbacks are only called then), so `id` has
        // been written by `register_pernet_subsys()` before any callback ran, and is not written
        // while it is registered.
        let id = unsafe { *subsys.id.get() };
        // SAFETY: The core has assigned the slot of `net` for `id` (the caller's guarantee).
        unsafe { bindings::net_generic(net, id) }.cast::<Slot<T>>()
    }

    /// `pernet_operations::init`.
    ///
    /// # Safety
    ///
    /// Only to be called by the network namespace core, with a valid namespace whose slot it
    /// has allocated (zeroed), while the subsystem is registered.
    unsafe extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        // SAFETY: The core calls `init` with a valid namespace, after allocating our slot.
        let slot = unsafe { Self::slot(net) };
        // SAFETY: `net` is valid for the duration of this call.
        let init = T::init(unsafe { Net::from_raw(net) });
        // On error, the initialiser has cleaned up after itself and the core frees the slot at
        // once (no lookup can be reading it, see the module documentation).
        // SAFETY: `slot` points to a zeroed allocation of the right size and alignment, owned
        // by us until `exit`.
        let data = unsafe { core::ptr::addr_of_mut!((*slot).data) };
        // SAFETY: `data` is valid for writes and uninitialised; it is never moved, so the data
        // stays pinned.
        match unsafe { init.__pinned_init(data) } {
            Ok(()) => {
                // INVARIANT: `data` was initialised just above.
                // SAFETY: `slot` is valid (see above).
                unsafe { (*slot).live.store(true, Ordering::Release) };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// `pernet_operations::pre_exit`.
    ///
    /// # Safety
    ///
    /// Only to be called by the network namespace core, for a namespace whose `init` succeeded.
    unsafe extern "C" fn pre_exit_callback(net: *mut bindings::net) {
        // SAFETY: The core calls `pre_exit` only for namespaces whose `init` succeeded, with the
        // slot still allocated.
        let slot = unsafe { Self::slot(net) };
        // INVARIANT: Clearing `live` asks for nothing.
        // SAFETY: `slot` is valid (see above). New lookups see `live == false` from now on; the
        // core waits for an RCU grace period before calling `exit`.
        unsafe { (*slot).live.store(false, Ordering::Release) };
    }

    /// `pernet_operations::exit`.
    ///
    /// # Safety
    ///
    /// Only to be called by the network namespace core, once, for a namespace whose `init`
    /// succeeded, after `pre_exit` and an RCU grace period.
    unsafe extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: The core calls `exit` only for namespaces whose `init` succeeded, once, after
        // `pre_exit` and a grace period; the slot is freed right after.
        let slot = unsafe { Self::slot(net) };
        // SAFETY: The slot is valid (see above).
        let data = unsafe { core::ptr::addr_of_mut!((*slot).data) };
        // SAFETY: `data` was initialised by `init` and is dropped exactly once, here. No lookup
        // can reach it anymore (see `get`).
        unsafe { core::ptr::drop_in_place(data) };
    }

    /// `pernet_operations::init` of the sockets: creates the kernel socket of `net`.
    ///
    /// # Safety
    ///
    /// Only to be called by the network namespace core for `sock_ops`, with a valid namespace
    /// whose data `init` succeeded (`ops` is registered before `sock_ops` and unregistered after
    /// it, so the core runs it first), while `sock_ops` is registered.
    unsafe extern "C" fn sock_init_callback(net: *mut bindings::net) -> c_int {
        let subsys = T::subsys();
        // SAFETY: The data subsystem is registered and initialised `net` (see above).
        let slot = unsafe { Self::slot(net) };
        // SAFETY: `net` is valid for the duration of this call.
        let net_ref = unsafe { Net::from_raw(net) };
        let sock = match T::netlink() {
            None => None,
            Some(cfg) => {
                // SAFETY: `sock_exit_callback` of `net` releases the socket in process context,
                // before `net` goes (the protocol is exclusive: invariant of `SocketCfg`).
                match unsafe { KernelSocket::new(net_ref, &cfg) } {
                    Ok(sock) => {
                        subsys.socket_created.store(true, Ordering::Relaxed);
                        Some(sock)
                    }
                    // Registering, after a first socket: failing would fail the module load with
                    // a socket visible (see the module documentation).
                    Err(e)
                        if !subsys.sockets_registered.load(Ordering::Acquire)
                            && subsys.socket_created.load(Ordering::Relaxed) =>
                    {
                        pr_err!(
                            "netlink protocol {}: no kernel socket in netns {} ({:?}); that \
                             namespace stays without one until the module is loaded again\n",
                            cfg.unit(),
                            net_ref.inum(),
                            e
                        );
                        None
                    }
                    Err(e) => {
                        pr_err!(
                            "netlink protocol {}: no kernel socket in netns {} ({:?}): the \
                             protocol is in use by other kernel code, or out of memory\n",
                            cfg.unit(),
                            net_ref.inum(),
                            e
                        );
                        return e.to_errno();
                    }
                }
            }
        };
        // SAFETY: `slot` is valid (see above).
        let sock_cell = unsafe { &(*slot).sock };
        // SAFETY: `sock` is written once, here, before the `sock_exit_callback` of `net`, and no
        // lookup touches it.
        unsafe { sock_cell.get().write(sock) };
        0
    }

    /// `pernet_operations::exit` of the sockets: releases the kernel socket of `net`.
    ///
    /// # Safety
    ///
    /// Only to be called by the network namespace core for `sock_ops`, once, for a namespace
    /// whose `sock_init_callback` succeeded, before the data `exit` (see above).
    unsafe extern "C" fn sock_exit_callback(net: *mut bindings::net) {
        // SAFETY: The data slot of `net` is still allocated (its `exit` comes later).
        let slot = unsafe { Self::slot(net) };
        // SAFETY: `slot` is valid (see above).
        let sock_cell = unsafe { &(*slot).sock };
        // SAFETY: `sock` was written by the `sock_init_callback` of `net` and is moved out once,
        // here; dropping it releases the socket in process context (the core's clean-up).
        drop(unsafe { sock_cell.get().read() });
    }
}

/// A registered network namespace subsystem; unregistered on drop.
///
/// Dropping it releases the kernel sockets of every namespace, then runs `pre_exit` and (after a
/// grace period) `exit` for every namespace, which drops the data of every namespace.
///
/// # Invariants
///
/// `subsys` is `T::subsys()`, claimed by this registration (its `claimed` flag), with its `ops`
/// registered by `register_pernet_subsys()`, and `active` set until `drop` starts. `sock_ops` is
/// registered if and only if `sockets` is set.
pub(crate) struct Registration<T: HasSubsys> {
    subsys: &'static Subsys<T>,
    /// Whether `sock_ops` is registered.
    sockets: bool,
}

impl<T: HasSubsys> Registration<T> {
    /// Registers `T::subsys()`: initialises the data of every existing namespace, then creates
    /// the kernel sockets ([`NetData::netlink`]), see the module documentation for the order.
    pub(crate) fn new() -> Result<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Subsys::<T>::ALIGN_OK;
        let subsys = T::subsys();
        if subsys
            .claimed
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        let ops = subsys.ops.get();
        // SAFETY: `claimed` makes us the only user of `ops`, which is not registered; `id` lives
        // in the same `'static` object.
        unsafe { (*ops).id = subsys.id.get() };
        // SAFETY: `ops` is a valid, `'static` `pernet_operations` that is not registered yet.
        if let Err(e) = to_result(unsafe { bindings::register_pernet_subsys(ops) }) {
            subsys.claimed.store(false, Ordering::Release);
            return Err(e);
        }
        subsys.active.store(true, Ordering::Release);
        // From here on the registration is `Self`, whose drop undoes it.
        // INVARIANT: Claimed and `ops` registered above, `active` set; `sock_ops` not registered.
        let mut this = Self {
            subsys,
            sockets: false,
        };
        if T::netlink().is_some() {
            subsys.socket_created.store(false, Ordering::Relaxed);
            // SAFETY: `sock_ops` is a valid, `'static` `pernet_operations` that is not registered
            // (`claimed`); its callbacks need the data subsystem, registered above.
            to_result(unsafe { bindings::register_pernet_subsys(subsys.sock_ops.get()) })?;
            subsys.sockets_registered.store(true, Ordering::Release);
            // INVARIANT: `sock_ops` was registered just above.
            this.sockets = true;
        }
        Ok(this)
    }
}

impl<T: HasSubsys> Drop for Registration<T> {
    fn drop(&mut self) {
        if self.sockets {
            self.subsys
                .sockets_registered
                .store(false, Ordering::Release);
            // SAFETY: By the type invariant `sock_ops` is registered (`sockets`); it is
            // unregistered exactly once, here. This releases the socket of every namespace.
            unsafe { bindings::unregister_pernet_subsys(self.subsys.sock_ops.get()) };
        }
        self.subsys.active.store(false, Ordering::Release);
        // SAFETY: By the type invariant `ops` is registered; it is unregistered exactly once,
        // here. This runs `pre_exit`, waits for an RCU grace period, then runs `exit` for every
        // namespace.
        unsafe { bindings::unregister_pernet_subsys(self.subsys.ops.get()) };
        self.subsys.claimed.store(false, Ordering::Release);
    }
}
