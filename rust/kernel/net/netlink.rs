// SPDX-License-Identifier: GPL-2.0

//! Netlink: a kernel socket per network namespace, incoming requests and replies.
//!
//! - [`SocketCfg`]: protocol number, owner module and input callback of kernel sockets; creating
//!   one is the promise that the protocol number is the module's (see below).
//! - [`KernelSocket`]: `netlink_kernel_create()` / `netlink_kernel_release()`; created only by
//!   the pernet abstraction (`pernet::NetData::netlink`), see its safety rules.
//! - [`netlink_input!`]: defines the input callback of a kernel socket ([`Input`]), which passes
//!   every request message to `netlink_rcv_skb()`, and the per-message callback that
//!   `netlink_rcv_skb()` calls. Both are `#[no_mangle] unsafe extern "C"` trampolines with
//!   exactly the C types (raw pointers: the kCFI type check of the indirect calls compares the
//!   types, and a Rust function taking references has another type id); the per-message one
//!   builds a [`Request`] and hands it to a safe Rust body.
//! - [`Request`]: one message handed to the body: header fields, sender, namespace, capability
//!   check, attribute bytes, extended ack messages, and [`Reply`] (`nlmsg_new()`, `nlmsg_put()`,
//!   `nla_put()`, `nlmsg_end()`, `nlmsg_unicast()`).
//!
//! Acks follow `netlink_rcv_skb()`: an error returned by the body is sent back as an
//! `NLMSG_ERROR` (with the extended ack set through [`Request`]), success is acked only if the
//! request carries `NLM_F_ACK`. Messages without `NLM_F_REQUEST`, control messages (type below
//! `NLMSG_MIN_TYPE`) and truncated messages never reach the body.
//!
//! # The protocol number
//!
//! A protocol number used with [`KernelSocket::new`] must not be used by any other kernel code:
//! the netlink core records the module owning a protocol (`nl_table[unit].module`) only for the
//! first kernel socket of that number, in any namespace, and user sockets of the protocol pin
//! that module only (`netlink_create()`). If other code created the first kernel socket of the
//! number, our kernel sockets would serve requests while nothing keeps our module loaded: with
//! `NETLINK_USERSOCK` (2), which af_netlink registers at boot for a NULL module, `rmmod` succeeds
//! while a request may still run in the module's code. Within one namespace a second kernel
//! socket of the same number is refused (`netlink_insert()` finds port 0 taken), which
//! [`KernelSocket::new`] reports as `EADDRINUSE`. The precondition also means that every socket
//! sending to our kernel sockets is a user socket, which [`Request::net`] relies on.
//!
//! [`SocketCfg::new`] accepts only the numbers no code of the kernel tree registers
//! ([`is_unregistered_protocol`]). That no code outside the tree (another out-of-tree module)
//! uses the number cannot be checked with the kernel's public API (`nl_table` is private to
//! af_netlink, and a conflict in another namespace is not reported), so it stays a promise:
//! [`SocketCfg::new`] is `unsafe`, and its caller, the module that owns the number, makes it.
//! That is the one `unsafe` a module using [`pernet_subsys!`](super::pernet::pernet_subsys)
//! with a netlink socket writes.
//!
//! # Attribute parsing
//!
//! The attributes of a request are parsed by the pure, host-tested `parse.rs` (strict
//! `NL_VALIDATE_STRICT`-like rules, see there) from [`Request::attr_bytes`]; its errors are
//! reported with [`Request::set_err_msg`], [`Request::set_err_msg_at`] and
//! [`Request::set_err_msg_missing`]. The kernel's `__nla_parse()` with a `struct nla_policy`
//! table is not used: the policy is a C struct with bitfields and unions that bindgen exposes
//! only as opaque blobs, so building it from Rust would need unsafe initialisation of every
//! entry.
//!
//! C headers: [`include/linux/netlink.h`](srctree/include/linux/netlink.h),
//! [`include/net/netlink.h`](srctree/include/net/netlink.h)

use super::namespace::{Net, ReadyNet};
use core::{ffi::CStr, marker::PhantomData, mem::size_of, ptr::NonNull};
use kernel::{bindings, error::to_result, ffi::c_int, prelude::*, types::Opaque};

/// `EMSGSIZE`: the message does not fit (the kernel crate of 6.12 does not declare it).
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as c_int))
}

/// `EADDRINUSE` (the kernel crate of 6.12 does not declare it).
fn eaddrinuse() -> Error {
    Error::from_errno(-(bindings::EADDRINUSE as c_int))
}

/// `NLMSG_HDRLEN`: the aligned size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = align(size_of::<bindings::nlmsghdr>());
/// `NLA_HDRLEN`: the aligned size of `struct nlattr`.
pub(crate) const NLA_HDRLEN: usize = align(size_of::<bindings::nlattr>());

/// `NLMSG_ALIGN()` / `NLA_ALIGN()` (both align to 4 bytes).
const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// `nla_total_size()`: the room an attribute with `payload` bytes takes in a message.
pub(crate) const fn nla_total_size(payload: usize) -> usize {
    align(NLA_HDRLEN + payload)
}

/// `nla_total_size_64bit()`: the room a 64-bit attribute with `payload` bytes takes, including
/// a possible padding attribute.
pub(crate) const fn nla_total_size_64bit(payload: usize) -> usize {
    nla_total_size(payload) + nla_total_size(0)
}

/// A socket buffer with netlink messages, received by a kernel netlink socket.
///
/// # Invariants
///
/// A `&SkBuff` points to a valid `struct sk_buff` whose `sk` is the receiving kernel socket,
/// created by [`KernelSocket::new`], and whose `cb` holds the netlink parameters
/// (`NETLINK_CB()`), for the lifetime of the reference; it is being delivered to the input
/// callback of that socket, in the context of the sender.
#[repr(transparent)]
struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }
}

/// A netlink message header (`struct nlmsghdr`).
///
/// # Invariants
///
/// A `&NlMsgHdr` points to a header followed by its whole message: `nlmsg_len` bytes, at least
/// `NLMSG_HDRLEN`, are readable and not modified for the lifetime of the reference.
#[repr(transparent)]
struct NlMsgHdr(Opaque<bindings::nlmsghdr>);

/// The extended ack of a message (`struct netlink_ext_ack`), reported with the error ack.
///
/// # Invariants
///
/// A `&ExtAck` points to a valid `struct netlink_ext_ack` that nobody else accesses while the
/// reference lives.
#[repr(transparent)]
struct ExtAck(Opaque<bindings::netlink_ext_ack>);

/// The C type of the per-message callback of `netlink_rcv_skb()`.
#[doc(hidden)]
pub(crate) type RcvMsgFn = unsafe extern "C" fn(
    *mut bindings::sk_buff,
    *mut bindings::nlmsghdr,
    *mut bindings::netlink_ext_ack,
) -> c_int;

/// The input callback of a kernel socket, created by [`netlink_input!`].
///
/// # Invariants
///
/// The function is safe to call as the input callback of kernel sockets created by
/// [`KernelSocket::new`] with a [`SocketCfg`] holding it.
#[derive(Clone, Copy)]
pub(crate) struct Input(unsafe extern "C" fn(*mut bindings::sk_buff));

impl Input {
    /// Wraps an input callback.
    ///
    /// # Safety
    ///
    /// `f` must be safe to call as the input callback of kernel sockets created by
    /// [`KernelSocket::new`] (with a [`SocketCfg`] holding it): by the netlink core, with an skb
    /// being delivered to such a socket, in the sender's context.
    #[doc(hidden)]
    pub(crate) const unsafe fn new(f: unsafe extern "C" fn(*mut bindings::sk_buff)) -> Self {
        // INVARIANT: The caller's promise.
        Self(f)
    }
}

/// Calls `cb` for every request message in `skb` and acks them (`netlink_rcv_skb()`).
///
/// Always inlined and never a tail call, so that the caller (the input callback) keeps its
/// frame and shows up in stack traces between `netlink_unicast` and `netlink_rcv_skb`.
///
/// # Safety
///
/// `skb` must be an skb being delivered to the input callback of a kernel socket created by
/// [`KernelSocket::new`] (the caller is that callback), and `cb` must be safe to call by
/// `netlink_rcv_skb()` for the messages of such an skb.
#[doc(hidden)]
#[inline(always)]
pub(crate) unsafe fn rcv_skb(skb: *mut bindings::sk_buff, cb: RcvMsgFn) {
    // SAFETY: `skb` is a valid skb received by a kernel socket, and `cb` may be called with its
    // messages (the caller's guarantees). The return value is always 0.
    let ret = unsafe { bindings::netlink_rcv_skb(skb, Some(cb)) };
    // The result is looked at after the call, so the call cannot be a tail call (which would
    // drop the input callback's frame from every backtrace through it): not an optimisation
    // that may or may not happen, but the semantics of code that runs after the call returns.
    if ret != 0 {
        pr_warn!("netlink_rcv_skb() returned {}\n", ret);
    }
}

/// Defines the input callback of kernel sockets (`$input`, with an [`Input`] constant `$cb` for
/// [`KernelSocket::new`]) and the per-message callback `$rcv` it passes to `netlink_rcv_skb()`.
///
/// Both functions are `#[no_mangle] unsafe extern "C"` with exactly the C types
/// (`void (*)(struct sk_buff *)` and `int (*)(struct sk_buff *, struct nlmsghdr *, struct
/// netlink_ext_ack *)`), as the kCFI check of the indirect calls from C requires, and
/// `#[inline(never)]`, so that they keep their names in stack traces: `$rcv` <-
/// `netlink_rcv_skb` <- `$input` <- `netlink_unicast` (`$input` never tail-calls
/// `netlink_rcv_skb()`, see [`rcv_skb`]).
///
/// `$body` is the body of a safe `#[inline(always)]` function of the [`Request`] `$req`,
/// returning `Result`: it is safe Rust by construction, and it is inlined into `$rcv`, so a lock
/// it takes is taken in the frame of `$rcv`. An error is acked as an `NLMSG_ERROR`. It runs in
/// the sender's (process) context.
///
/// ```ignore
/// netlink_input! {
///     /// Input callback.
///     const INPUT: fn my_input;
///     /// Handles one request.
///     fn my_rcv_msg(req) -> Result {
///         req.set_err_msg(c"not implemented");
///         Err(EINVAL)
///     }
/// }
/// // SAFETY: No other out-of-tree module uses `unit`.
/// let cfg = unsafe { SocketCfg::new(unit, &THIS_MODULE, INPUT) }?; // `pernet::NetData::netlink`
/// ```
macro_rules! netlink_input {
    (
        $(#[$imeta:meta])*
        const $cb:ident: fn $input:ident;
        $(#[$rmeta:meta])*
        fn $rcv:ident($req:ident) -> Result $body:block
    ) => {
        $(#[$rmeta])*
        ///
        /// # Safety
        ///
        /// Only to be called by `netlink_rcv_skb()` from the input callback defined with it.
        #[no_mangle]
        #[inline(never)]
        unsafe extern "C" fn $rcv(
            skb: *mut ::kernel::bindings::sk_buff,
            nlh: *mut ::kernel::bindings::nlmsghdr,
            extack: *mut ::kernel::bindings::netlink_ext_ack,
        ) -> ::kernel::ffi::c_int {
            #[inline(always)]
            fn body($req: &$crate::kernel_next::net::netlink::Request<'_>) -> ::kernel::error::Result $body

            // SAFETY: `$rcv` is only passed to `netlink_rcv_skb()` by `$input`, the input callback
            // of kernel sockets created by `KernelSocket::new`, so the arguments are as
            // `Request::from_raw` requires, and the request does not outlive this call.
            let req = unsafe { $crate::kernel_next::net::netlink::Request::from_raw(skb, nlh, extack) };
            match body(&req) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }

        $(#[$imeta])*
        ///
        /// # Safety
        ///
        /// Only to be called by the netlink core as the input callback of a kernel socket (it is
        /// registered through the `Input` constant defined with it).
        #[no_mangle]
        #[inline(never)]
        unsafe extern "C" fn $input(skb: *mut ::kernel::bindings::sk_buff) {
            // SAFETY: `$input` is only registered through `$cb`, i.e. by `KernelSocket::new`, so
            // `skb` is being delivered to such a kernel socket; `$rcv` expects exactly the calls
            // `netlink_rcv_skb()` makes for it.
            unsafe { $crate::kernel_next::net::netlink::rcv_skb(skb, $rcv) };
        }

        // SAFETY: `$input` only passes `skb` on to `rcv_skb` with `$rcv`, which builds its
        // `Request` from the arguments of `netlink_rcv_skb()` and hands it to a safe function.
        const $cb: $crate::kernel_next::net::netlink::Input = unsafe { $crate::kernel_next::net::netlink::Input::new($input) };
    };
}
pub(crate) use netlink_input;

/// Returns whether no code of the kernel tree (Linux 6.12) registers netlink protocol `unit`.
///
/// Those are the numbers above `NETLINK_SMC` (22), the highest that `<uapi/linux/netlink.h>`
/// assigns, and below `MAX_LINKS` (32), except 30, the `NETLINK_LTE` of the staging gdm724x
/// driver: 23..=29 and 31. The numbers the header assigns but no code registers anymore (1, 3,
/// 5, 13, 14, 17, 19) stay reserved for their assignment: user space opening them expects
/// `EPROTONOSUPPORT`, and security modules classify their sockets (e.g. SELinux's
/// `netlink_nflog_socket`).
pub(crate) const fn is_unregistered_protocol(unit: i32) -> bool {
    matches!(unit, 23..=29 | 31)
}

/// The configuration of the kernel sockets of one netlink protocol: protocol number, owner
/// module and input callback.
///
/// # Invariants
///
/// - `unit` is a protocol number no code of the kernel tree registers
///   ([`is_unregistered_protocol`]).
/// - No kernel code outside `module` creates kernel sockets of `unit`, in any namespace, while a
///   kernel socket created with this configuration exists (see the module documentation).
/// - `input` is code of `module`.
#[derive(Clone, Copy)]
pub(crate) struct SocketCfg {
    unit: c_int,
    module: &'static ThisModule,
    input: Input,
}

impl SocketCfg {
    /// Describes kernel sockets of protocol `unit`, owned by `module` (the module whose code
    /// `input` is), calling `input` for every skb sent to them.
    ///
    /// `EINVAL` unless `unit` is a number no code of the kernel tree registers.
    ///
    /// # Safety
    ///
    /// - No kernel code outside `module` (in practice: no other out-of-tree module) creates
    ///   kernel sockets of `unit`, in any namespace, while a kernel socket created with the
    ///   returned configuration exists. Code of the kernel tree is excluded by the check.
    /// - `input` is code of `module` (an [`Input`] defined by [`netlink_input!`] in `module`).
    pub(crate) unsafe fn new(unit: i32, module: &'static ThisModule, input: Input) -> Result<Self> {
        if !is_unregistered_protocol(unit) {
            return Err(EINVAL);
        }
        // INVARIANT: `unit` is checked just above; the other two are the caller's promises.
        Ok(Self {
            unit,
            module,
            input,
        })
    }

    /// Returns the protocol number.
    pub(crate) fn unit(&self) -> i32 {
        self.unit
    }
}

/// A kernel netlink socket (`netlink_kernel_create()`), released on drop
/// (`netlink_kernel_release()`).
///
/// Creating one is `unsafe` (see [`KernelSocket::new`]): a kernel socket holds no reference on
/// its namespace, and releasing it may sleep, so whoever owns it must release it in process
/// context before the namespace goes away, which in this crate only the pernet abstraction can
/// promise (it creates them for `pernet::NetData::netlink` and releases them in its `exit`).
///
/// # Invariants
///
/// `sk` is a kernel netlink socket created by `__netlink_kernel_create()` with a [`SocketCfg`],
/// owned by this object (released by nobody else), whose namespace is alive; the owner drops it
/// in process context before the namespace is dismantled (the safety rules of
/// [`KernelSocket::new`]).
pub(crate) struct KernelSocket {
    sk: NonNull<bindings::sock>,
}

// SAFETY: The socket is only released (once, on drop; in process context, as `new` requires of
// the owner); everything else about it is handled by the netlink core with its own locking.
unsafe impl Send for KernelSocket {}
// SAFETY: No method takes `&self` to touch the socket.
unsafe impl Sync for KernelSocket {}

impl KernelSocket {
    /// Creates the kernel socket of `cfg` in `net`.
    ///
    /// `cfg`'s module owns the protocol: user sockets of it hold a reference to the module, so it
    /// cannot be unloaded while one is open (and thus while a request is being handled).
    ///
    /// Errors: `EADDRINUSE` if `__netlink_kernel_create()` fails, which it does when the
    /// protocol already has a kernel socket in `net` and on allocation failure, without telling
    /// which.
    ///
    /// No other module creates kernel sockets of `cfg.unit()` while the returned socket exists
    /// (invariant of [`SocketCfg`]).
    ///
    /// # Safety
    ///
    /// - The socket is dropped before `net` is dismantled: at the latest in an `exit` callback
    ///   of a pernet subsystem for `net` (it holds no reference on the namespace).
    /// - The socket is dropped in process context: `netlink_kernel_release()` may sleep.
    pub(crate) unsafe fn new(net: &Net, cfg: &SocketCfg) -> Result<Self> {
        let mut c = bindings::netlink_kernel_cfg {
            groups: 0,
            flags: 0,
            input: Some(cfg.input.0),
            bind: None,
            unbind: None,
            release: None,
        };
        // SAFETY: `net` is valid, `c` is read during the call only. The C inline
        // `netlink_kernel_create()` passes `THIS_MODULE`; we pass the module that owns the code
        // of `input`. `unit` is in range (invariant of `SocketCfg`).
        let sk = unsafe {
            bindings::__netlink_kernel_create(net.as_ptr(), cfg.unit, cfg.module.as_ptr(), &mut c)
        };
        // With `unit` in range, a NULL return means: the protocol's kernel socket already exists
        // in `net` (another user of the number), or no memory.
        let sk = NonNull::new(sk).ok_or_else(eaddrinuse)?;
        // INVARIANT: `sk` was just created and is owned by nobody else; dropping it in time is
        // the caller's promise.
        Ok(Self { sk })
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, `sk` was created by `__netlink_kernel_create()`, is owned
        // by `self` and is released once, here, in process context, before its namespace goes.
        unsafe { bindings::netlink_kernel_release(self.sk.as_ptr()) };
    }
}

/// A netlink request, as handed to the body of a [`netlink_input!`] callback.
///
/// `'a` is invariant (as for the request types of the kernel crate), so that references into
/// the request have exactly its lifetime.
///
/// # Invariants
///
/// `skb`, `nlh` and `extack` are the arguments of one call of a per-message callback by
/// `netlink_rcv_skb()`, itself called by the input callback of a kernel socket created by
/// [`KernelSocket::new`] (so `skb->sk` is that socket); the call lasts for `'a`.
pub(crate) struct Request<'a> {
    skb: &'a SkBuff,
    nlh: &'a NlMsgHdr,
    extack: &'a ExtAck,
    _invariant: PhantomData<fn(&'a ()) -> &'a ()>,
}

impl<'a> Request<'a> {
    /// Bundles the arguments of a `netlink_rcv_skb()` per-message callback.
    ///
    /// # Safety
    ///
    /// The arguments must be those of a call of the per-message callback by `netlink_rcv_skb()`,
    /// called by the input callback of a kernel socket created by [`KernelSocket::new`], and the
    /// call must last for `'a`.
    #[doc(hidden)]
    #[inline(always)]
    pub(crate) unsafe fn from_raw(
        skb: *mut bindings::sk_buff,
        nlh: *mut bindings::nlmsghdr,
        extack: *mut bindings::netlink_ext_ack,
    ) -> Self {
        // `netlink_rcv_skb()` calls back with the skb it was given (delivered to our kernel
        // socket, in the sender's context), a header whose `nlmsg_len` it checked against
        // `skb->len` (at least `NLMSG_HDRLEN`), and an extack on its stack that only this call
        // uses: the invariants of `SkBuff`, `NlMsgHdr` and `ExtAck`, for the duration of the call.
        // SAFETY: So `skb` is valid for `'a`, and `SkBuff` is transparent.
        let skb = unsafe { &*skb.cast::<SkBuff>() };
        // SAFETY: So `nlh` is valid for `'a`, and `NlMsgHdr` is transparent.
        let nlh = unsafe { &*nlh.cast::<NlMsgHdr>() };
        // SAFETY: So `extack` is valid for `'a`, and `ExtAck` is transparent.
        let extack = unsafe { &*extack.cast::<ExtAck>() };
        // INVARIANT: The arguments of the callback call, which lasts for `'a` (the caller's
        // promise).
        Self {
            skb,
            nlh,
            extack,
            _invariant: PhantomData,
        }
    }

    fn hdr(&self) -> bindings::nlmsghdr {
        // SAFETY: By the type invariant of `NlMsgHdr`, the header is readable and not modified.
        unsafe { self.nlh.0.get().read() }
    }

    /// Returns the message type (`nlmsg_type`).
    pub(crate) fn msg_type(&self) -> u16 {
        self.hdr().nlmsg_type
    }

    /// Returns the sequence number (`nlmsg_seq`).
    pub(crate) fn seq(&self) -> u32 {
        self.hdr().nlmsg_seq
    }

    /// Returns the port id of the sender (`NETLINK_CB(skb).portid`).
    pub(crate) fn portid(&self) -> u32 {
        // SAFETY: By the type invariant of `SkBuff`, `skb` is valid.
        let cb = unsafe { core::ptr::addr_of!((*self.skb.as_ptr()).cb) };
        // SAFETY: By the type invariant of `SkBuff`, `cb` holds a `struct netlink_skb_parms`
        // (`NETLINK_CB()`), which fits in and is aligned like `cb` (the core checks this with a
        // BUILD_BUG_ON).
        unsafe { (*cb.cast::<bindings::netlink_skb_parms>()).portid }
    }

    /// Returns the network namespace of the receiving kernel socket (`sock_net(skb->sk)`).
    pub(crate) fn net(&self) -> &'a ReadyNet {
        // A kernel socket holds no reference on its namespace, but the sender's socket does: it
        // is a user socket (the protocol is ours alone, see the module documentation), which
        // holds a reference on its namespace for its lifetime, and `netlink_unicast()` found our
        // socket with `netlink_lookup(sock_net(ssk), ...)`, i.e. in the sender's namespace. So
        // the namespace is not being dismantled while the request lasts, and it has been fully
        // set up: a user socket exists only in a namespace that `setup_net()` completed (every
        // subsystem registered then ran `init` on it; one registered later does so while it
        // registers).
        // SAFETY: By the type invariant of `SkBuff`, `skb` is valid.
        let sk = unsafe { (*self.skb.as_ptr()).sk };
        // SAFETY: By the type invariant of `SkBuff`, `sk` is the valid receiving kernel socket.
        let net = unsafe { bindings::sock_net(sk) };
        // SAFETY: The above is the invariant of `ReadyNet` for `'a`.
        unsafe { ReadyNet::from_raw(net) }
    }

    /// Returns whether the sender has capability `cap` in the user namespace owning the
    /// socket's network namespace (`netlink_net_capable()`).
    pub(crate) fn net_capable(&self, cap: u32) -> bool {
        let Ok(cap) = c_int::try_from(cap) else {
            return false;
        };
        // SAFETY: By the type invariant of `SkBuff`, `skb` is a valid netlink skb.
        unsafe { bindings::netlink_net_capable(self.skb.as_ptr(), cap) }
    }

    /// Returns the attribute bytes: everything after the header, within `nlmsg_len`.
    pub(crate) fn attr_bytes(&self) -> &'a [u8] {
        let len = usize::try_from(self.hdr().nlmsg_len).unwrap_or(0);
        let len = len.saturating_sub(NLMSG_HDRLEN);
        // SAFETY: By the type invariant of `NlMsgHdr`, `nlmsg_len >= NLMSG_HDRLEN` bytes from the
        // header are readable and not modified while `'a` lasts.
        unsafe { core::slice::from_raw_parts(self.nlh.0.get().cast::<u8>().add(NLMSG_HDRLEN), len) }
    }

    fn extack(&self) -> *mut bindings::netlink_ext_ack {
        self.extack.0.get()
    }

    /// Sets the extended ack message (`NL_SET_ERR_MSG()`).
    pub(crate) fn set_err_msg(&self, msg: &'static CStr) {
        // As `NL_SET_ERR_MSG()` does: the `netlink:netlink_extack` tracepoint sees the message.
        // SAFETY: `msg` is a valid NUL-terminated string.
        unsafe { bindings::do_trace_netlink_extack(msg.as_ptr().cast()) };
        // SAFETY: By the type invariant of `ExtAck`, we have exclusive access to a valid extack;
        // `msg` is static, as the core requires.
        unsafe { (*self.extack())._msg = msg.as_ptr().cast() };
    }

    /// Sets the extended ack message and the offending attribute: the one whose header starts at
    /// `offset` in [`Request::attr_bytes`] (`NL_SET_ERR_MSG_ATTR()`). An offset beyond the
    /// attribute bytes reports no attribute.
    pub(crate) fn set_err_msg_at(&self, offset: usize, msg: &'static CStr) {
        self.set_err_msg(msg);
        if let Some(attr) = self.attr_bytes().get(offset..).filter(|a| !a.is_empty()) {
            // `netlink_ack()` only compares `bad_attr` with the message bounds and reports its
            // offset from the header; it never dereferences it.
            // SAFETY: As in `set_err_msg`.
            unsafe { (*self.extack()).bad_attr = attr.as_ptr().cast() };
        }
    }

    /// Sets the extended ack message and reports attribute type `ty` as missing
    /// (`NL_SET_ERR_MSG()` + `NL_SET_ERR_ATTR_MISS()`).
    pub(crate) fn set_err_msg_missing(&self, ty: u16, msg: &'static CStr) {
        self.set_err_msg(msg);
        // SAFETY: As in `set_err_msg`; a top-level attribute has no nest.
        unsafe { (*self.extack()).miss_nest = core::ptr::null() };
        // SAFETY: As in `set_err_msg`.
        unsafe { (*self.extack()).miss_type = ty };
    }

    /// Starts a reply of type `msg_type` to the sender, with room for `payload` bytes of
    /// attributes (`nlmsg_new()` + `nlmsg_put()`).
    ///
    /// # Context
    ///
    /// May sleep: it allocates with `GFP_KERNEL`. The request itself is handled in the sender's
    /// process context, but the caller must not hold a spinlock or the RCU read lock.
    pub(crate) fn reply(&self, msg_type: u16, payload: usize) -> Result<Reply<'a>> {
        // SAFETY: `nlmsg_new()` may be called with any size. As for every `GFP_KERNEL`
        // allocation in the kernel crate, not sleeping in atomic context is documented (see
        // above), not enforced by the type system.
        let skb = NonNull::new(unsafe { bindings::nlmsg_new(payload, bindings::GFP_KERNEL) })
            .ok_or(ENOMEM)?;
        // SAFETY: `skb` is a fresh netlink skb; `nlmsg_put()` checks its tail room.
        let nlh = unsafe {
            bindings::nlmsg_put(
                skb.as_ptr(),
                self.portid(),
                self.seq(),
                c_int::from(msg_type),
                0,
                0,
            )
        };
        let Some(nlh) = NonNull::new(nlh) else {
            // SAFETY: `skb` was allocated above and is not used afterwards.
            unsafe { bindings::nlmsg_free(skb.as_ptr()) };
            return Err(emsgsize());
        };
        // INVARIANT: `skb` was allocated and `nlh` put into it above; the request's socket
        // outlives it.
        Ok(Reply {
            skb,
            nlh,
            // SAFETY: By the type invariant of `SkBuff`, `skb->sk` is our kernel socket, which
            // outlives the request.
            sk: unsafe { (*self.skb.as_ptr()).sk },
            portid: self.portid(),
            _request: PhantomData,
        })
    }
}

/// A reply message being built; freed on drop unless sent.
///
/// # Invariants
///
/// `skb` is a netlink message allocated by `nlmsg_new()` and owned by this object (freed on
/// drop, or consumed by [`Reply::send`]); `nlh` is the header `nlmsg_put()` put into it; `sk` is
/// the kernel socket the request was received on, which outlives `'a`, and `portid` the sender.
pub(crate) struct Reply<'a> {
    skb: NonNull<bindings::sk_buff>,
    nlh: NonNull<bindings::nlmsghdr>,
    sk: *mut bindings::sock,
    portid: u32,
    _request: PhantomData<&'a Request<'a>>,
}

impl Reply<'_> {
    /// Appends an attribute (`nla_put()`); `EMSGSIZE` if the message is full.
    pub(crate) fn put(&mut self, ty: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| emsgsize())?;
        // SAFETY: By the type invariant, `skb` is our valid message; `nla_put()` checks the tail
        // room and copies `len` bytes from `data`.
        to_result(unsafe {
            bindings::nla_put(
                self.skb.as_ptr(),
                c_int::from(ty),
                len,
                data.as_ptr().cast(),
            )
        })
    }

    /// Appends a `u8` attribute.
    pub(crate) fn put_u8(&mut self, ty: u16, value: u8) -> Result {
        self.put(ty, &[value])
    }

    /// Appends a host byte order `u32` attribute.
    pub(crate) fn put_u32(&mut self, ty: u16, value: u32) -> Result {
        self.put(ty, &value.to_ne_bytes())
    }

    /// Appends a host byte order `u64` attribute, preceded by an empty attribute of type `pad`
    /// where needed to align the value to 8 bytes (`nla_put_u64_64bit()`).
    pub(crate) fn put_u64(&mut self, ty: u16, value: u64, pad: u16) -> Result {
        let data = value.to_ne_bytes();
        // SAFETY: By the type invariant, `skb` is our valid message; `nla_put_64bit()` checks
        // the tail room (padding included) and copies 8 bytes from `data`.
        to_result(unsafe {
            bindings::nla_put_64bit(
                self.skb.as_ptr(),
                c_int::from(ty),
                8,
                data.as_ptr().cast(),
                c_int::from(pad),
            )
        })
    }

    /// Finalises the message and sends it to the requester (`nlmsg_end()` +
    /// `nlmsg_unicast()`).
    pub(crate) fn send(self) -> Result {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: By the type invariant, `nlh` was put into `skb` by `nlmsg_put()`.
        unsafe { bindings::nlmsg_end(this.skb.as_ptr(), this.nlh.as_ptr()) };
        // SAFETY: By the type invariant, `sk` is our kernel socket and `skb` our message, which
        // `nlmsg_unicast()` consumes whatever its result (hence no drop).
        to_result(unsafe { bindings::nlmsg_unicast(this.sk, this.skb.as_ptr(), this.portid) })
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the skb was allocated by `nlmsg_new()` and is ours: not
        // sent (`send` does not drop `self`).
        unsafe { bindings::nlmsg_free(self.skb.as_ptr()) };
    }
}

// Every number `is_unregistered_protocol` accepts is a netlink protocol number.
const _: () = assert!(31 < bindings::MAX_LINKS);
