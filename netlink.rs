// SPDX-License-Identifier: GPL-2.0

//! Netlink: a kernel socket per network namespace, incoming requests and replies.
//!
//! - [`KernelSocket`]: `netlink_kernel_create()` / `netlink_kernel_release()`.
//! - [`InputFn`], [`rcv_skb`], [`RcvMsgFn`]: the input callback of a kernel socket and the
//!   per-message callback of `netlink_rcv_skb()`. They are plain `extern "C"` functions (so that
//!   they keep readable symbol names in stack traces) whose arguments are references to the
//!   wrapper types below instead of raw pointers, so they are written in safe Rust.
//! - [`Request`]: one message handed to a [`RcvMsgFn`]: header fields, sender, namespace,
//!   capability check, strict attribute parsing, extended ack messages, and [`Reply`]
//!   (`nlmsg_new()`, `nlmsg_put()`, `nla_put()`, `nlmsg_end()`, `nlmsg_unicast()`).
//!
//! Acks follow `netlink_rcv_skb()`: a non-zero return value of the [`RcvMsgFn`] is sent back as
//! an `NLMSG_ERROR` (with the extended ack set through [`Request`]), success is acked only if
//! the request carries `NLM_F_ACK`. Messages without `NLM_F_REQUEST`, control messages (type
//! below `NLMSG_MIN_TYPE`) and truncated messages never reach the [`RcvMsgFn`].
//!
//! # Attribute parsing
//!
//! [`Request::parse_attrs`] is a small safe-Rust TLV parser instead of the kernel's
//! `__nla_parse()` with a `struct nla_policy` table. The policy table is a C struct with
//! bitfields and unions whose layout bindgen exposes only as opaque blobs, so building it from
//! Rust would need unsafe initialisation of every entry; the parser below is a few dozen lines
//! over a bounds-checked byte slice and implements the `NL_VALIDATE_STRICT` rules that matter:
//! no trailing bytes, no unknown or unexpected attribute types, no nested/byte-order flags,
//! exact payload lengths, plus no duplicates. Its error messages mirror the kernel's.
//!
//! C headers: [`include/linux/netlink.h`](srctree/include/linux/netlink.h),
//! [`include/net/netlink.h`](srctree/include/net/netlink.h)

use crate::pernet::Net;
use core::{mem::size_of, ptr::NonNull};
use kernel::{
    bindings, c_str,
    error::to_result,
    ffi::{c_int, c_uint},
    prelude::*,
    types::Opaque,
};

/// `EMSGSIZE`: the message does not fit (the kernel crate of 6.12 does not declare it).
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as c_int))
}

/// `NLMSG_HDRLEN`: the aligned size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = align(size_of::<bindings::nlmsghdr>());
/// `NLA_HDRLEN`: the aligned size of `struct nlattr`.
const NLA_HDRLEN: usize = align(size_of::<bindings::nlattr>());

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
/// A `&SkBuff` points to a valid `struct sk_buff` whose `sk` is the receiving kernel socket and
/// whose `cb` holds the netlink parameters (`NETLINK_CB()`), for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

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
pub(crate) struct NlMsgHdr(Opaque<bindings::nlmsghdr>);

/// The extended ack of a message (`struct netlink_ext_ack`), reported with the error ack.
///
/// # Invariants
///
/// A `&ExtAck` points to a valid `struct netlink_ext_ack` that nobody else accesses while the
/// reference lives.
#[repr(transparent)]
pub(crate) struct ExtAck(Opaque<bindings::netlink_ext_ack>);

/// The input callback of a kernel socket: receives each `skb` sent to the socket.
///
/// Usually it just calls [`rcv_skb`] with its [`RcvMsgFn`].
pub(crate) type InputFn = extern "C" fn(&SkBuff);

/// The per-message callback of [`rcv_skb`]: returns 0 or a negative errno (acked as error).
///
/// Build a [`Request`] from its arguments.
pub(crate) type RcvMsgFn = extern "C" fn(&SkBuff, &NlMsgHdr, &ExtAck) -> c_int;

/// Calls `cb` for every request message in `skb` and acks them (`netlink_rcv_skb()`).
///
/// Always inlined and never a tail call, so that the caller (the [`InputFn`]) keeps its frame
/// and shows up in stack traces between `netlink_unicast` and `netlink_rcv_skb`.
#[inline(always)]
pub(crate) fn rcv_skb(skb: &SkBuff, cb: RcvMsgFn) {
    // `netlink_rcv_skb()` calls `cb` with a valid skb (ours), a header whose `nlmsg_len` it
    // checked against `skb->len` (at least `NLMSG_HDRLEN`), and an extack on its stack, which
    // is what the invariants of `SkBuff`, `NlMsgHdr` and `ExtAck` require.
    // SAFETY: `RcvMsgFn` is ABI compatible with the C callback type: references and raw
    // pointers to sized types have the same ABI, and the wrapper types are transparent.
    let cb = unsafe {
        core::mem::transmute::<
            RcvMsgFn,
            unsafe extern "C" fn(
                *mut bindings::sk_buff,
                *mut bindings::nlmsghdr,
                *mut bindings::netlink_ext_ack,
            ) -> c_int,
        >(cb)
    };
    // SAFETY: By the type invariant, `skb` is a valid skb received by a kernel socket. The
    // return value is always 0.
    unsafe { bindings::netlink_rcv_skb(skb.as_ptr(), Some(cb)) };
    // Keep the call above out of tail position: rustc has no `-fno-optimize-sibling-calls`, and
    // a tail call would drop the caller's frame from every backtrace through it.
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// A kernel netlink socket (`netlink_kernel_create()`), released on drop.
pub(crate) struct KernelSocket {
    sk: NonNull<bindings::sock>,
}

// SAFETY: The socket is only released (once, on drop); everything else about it is handled by
// the netlink core with its own locking.
unsafe impl Send for KernelSocket {}
// SAFETY: No method takes `&self` to touch the socket.
unsafe impl Sync for KernelSocket {}

impl KernelSocket {
    /// Creates the kernel socket of netlink protocol `unit` in `net`, calling `input` for every
    /// message sent to it.
    ///
    /// `module` owns the protocol: user sockets of `unit` hold a reference to it, so it cannot
    /// be unloaded while one is open (and thus while a request is being handled).
    pub(crate) fn new(
        net: &Net,
        unit: i32,
        module: &'static ThisModule,
        input: InputFn,
    ) -> Result<Self> {
        // SAFETY: `InputFn` is ABI compatible with the C callback type (see `rcv_skb`); the
        // netlink core calls it with the skb being delivered to this socket, which satisfies the
        // invariant of `SkBuff`.
        let input = unsafe {
            core::mem::transmute::<InputFn, unsafe extern "C" fn(*mut bindings::sk_buff)>(input)
        };
        let mut cfg = bindings::netlink_kernel_cfg {
            groups: 0,
            flags: 0,
            input: Some(input),
            bind: None,
            unbind: None,
            release: None,
        };
        // SAFETY: `net` is valid, `cfg` is read during the call only. The C inline
        // `netlink_kernel_create()` passes `THIS_MODULE`; we pass the module that owns the code
        // of `input`. `__netlink_kernel_create()` validates `unit`.
        let sk = unsafe {
            bindings::__netlink_kernel_create(net.as_ptr(), unit, module.as_ptr(), &mut cfg)
        };
        // A NULL return means: `unit` out of range, no memory, or the protocol's kernel socket
        // already exists in `net` (another user of the same protocol number).
        let sk = NonNull::new(sk).ok_or(ENOMEM)?;
        Ok(Self { sk })
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: `sk` was created by `__netlink_kernel_create()` and is released once, here.
        unsafe { bindings::netlink_kernel_release(self.sk.as_ptr()) };
    }
}

/// How a request attribute type is validated by [`Request::parse_attrs`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrPolicy {
    /// A known attribute type that this message type does not accept.
    Reject,
    /// A `u32` in host byte order (exactly 4 bytes).
    U32,
    /// An opaque payload of exactly this many bytes.
    ExactLen(usize),
}

/// A request attribute, validated against its [`AttrPolicy`].
#[derive(Clone, Copy)]
pub(crate) struct Attr<'a> {
    /// The whole attribute, header included (for `bad_attr` in the extended ack).
    raw: &'a [u8],
}

impl<'a> Attr<'a> {
    /// Returns the payload.
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.raw.get(NLA_HDRLEN..).unwrap_or(&[])
    }

    /// Returns the payload as a host byte order `u32` (policy [`AttrPolicy::U32`]).
    pub(crate) fn as_u32(&self) -> u32 {
        self.payload()
            .first_chunk::<4>()
            .map_or(0, |b| u32::from_ne_bytes(*b))
    }

    /// Returns the payload as an array (policy [`AttrPolicy::ExactLen`] with `N`).
    pub(crate) fn as_array<const N: usize>(&self) -> Option<[u8; N]> {
        self.payload().try_into().ok()
    }
}

/// The attributes of a request, indexed by type; `N` is the policy length (max type + 1).
pub(crate) struct Attrs<'a, const N: usize> {
    attrs: [Option<Attr<'a>>; N],
}

impl<'a, const N: usize> Attrs<'a, N> {
    /// Returns the attribute of type `ty`, if present.
    pub(crate) fn get(&self, ty: u16) -> Option<Attr<'a>> {
        self.attrs.get(usize::from(ty)).copied().flatten()
    }
}

/// A netlink request, as handed to a [`RcvMsgFn`].
pub(crate) struct Request<'a> {
    skb: &'a SkBuff,
    nlh: &'a NlMsgHdr,
    extack: &'a ExtAck,
}

impl<'a> Request<'a> {
    /// Bundles the arguments of a [`RcvMsgFn`].
    pub(crate) fn new(skb: &'a SkBuff, nlh: &'a NlMsgHdr, extack: &'a ExtAck) -> Self {
        Self { skb, nlh, extack }
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
        // SAFETY: By the type invariant of `SkBuff`, `cb` holds a `struct netlink_skb_parms`
        // (`NETLINK_CB()`), which fits in and is aligned like `cb` (the core checks this with a
        // BUILD_BUG_ON).
        unsafe {
            let cb = core::ptr::addr_of!((*self.skb.as_ptr()).cb);
            (*cb.cast::<bindings::netlink_skb_parms>()).portid
        }
    }

    /// Returns the network namespace of the receiving kernel socket (`sock_net(skb->sk)`).
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: By the type invariant of `SkBuff`, `skb->sk` is the valid kernel socket; its
        // namespace outlives it, and the socket outlives the request.
        unsafe { Net::from_raw(bindings::sock_net((*self.skb.as_ptr()).sk)) }
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
    fn attr_bytes(&self) -> &'a [u8] {
        let len = usize::try_from(self.hdr().nlmsg_len).unwrap_or(0);
        let len = len.saturating_sub(NLMSG_HDRLEN);
        // SAFETY: By the type invariant of `NlMsgHdr`, `nlmsg_len >= NLMSG_HDRLEN` bytes from the
        // header are readable and not modified while `'a` lasts.
        unsafe { core::slice::from_raw_parts(self.nlh.0.get().cast::<u8>().add(NLMSG_HDRLEN), len) }
    }

    /// Parses the attributes strictly against `policy` (indexed by attribute type).
    ///
    /// On error, returns `EINVAL` with the extended ack message (and offending attribute) set:
    ///
    /// - "bytes leftover after parsing attributes": trailing bytes that do not form an
    ///   attribute, or an attribute whose length exceeds the message;
    /// - "Unknown attribute type": type 0 or beyond the policy;
    /// - "Attribute not allowed for this message type": a [`AttrPolicy::Reject`] type;
    /// - "NLA_F_NESTED not expected", "NLA_F_NET_BYTEORDER not expected": attribute flags;
    /// - "invalid attribute length": payload length not the one the policy requires;
    /// - "duplicate attribute".
    ///
    /// Required attributes and value ranges are for the caller to check.
    pub(crate) fn parse_attrs<const N: usize>(
        &self,
        policy: &[AttrPolicy; N],
    ) -> Result<Attrs<'a, N>> {
        let mut attrs = Attrs { attrs: [None; N] };
        let mut rest = self.attr_bytes();
        while !rest.is_empty() {
            let Some(&[l0, l1, t0, t1]) = rest.first_chunk::<4>() else {
                return Err(self.invalid(c_str!("bytes leftover after parsing attributes"), None));
            };
            let nla_len = usize::from(u16::from_ne_bytes([l0, l1]));
            let nla_type = u16::from_ne_bytes([t0, t1]);
            if nla_len < NLA_HDRLEN || nla_len > rest.len() {
                return Err(self.invalid(c_str!("bytes leftover after parsing attributes"), None));
            }
            let attr = Attr {
                raw: &rest[..nla_len],
            };
            if nla_type & bindings::NLA_F_NESTED as u16 != 0 {
                return Err(self.invalid(c_str!("NLA_F_NESTED not expected"), Some(&attr)));
            }
            if nla_type & bindings::NLA_F_NET_BYTEORDER as u16 != 0 {
                return Err(self.invalid(c_str!("NLA_F_NET_BYTEORDER not expected"), Some(&attr)));
            }
            let index = usize::from(nla_type);
            let expected_len = match policy.get(index) {
                None => return Err(self.invalid(c_str!("Unknown attribute type"), Some(&attr))),
                Some(_) if index == 0 => {
                    return Err(self.invalid(c_str!("Unknown attribute type"), Some(&attr)))
                }
                Some(AttrPolicy::Reject) => {
                    return Err(self.invalid(
                        c_str!("Attribute not allowed for this message type"),
                        Some(&attr),
                    ))
                }
                Some(AttrPolicy::U32) => size_of::<u32>(),
                Some(AttrPolicy::ExactLen(len)) => *len,
            };
            if attr.payload().len() != expected_len {
                return Err(self.invalid(c_str!("invalid attribute length"), Some(&attr)));
            }
            match attrs.attrs.get_mut(index) {
                Some(slot @ None) => *slot = Some(attr),
                _ => return Err(self.invalid(c_str!("duplicate attribute"), Some(&attr))),
            }
            // The last attribute may lack its alignment padding, as in `nla_next()`.
            rest = rest.get(align(nla_len)..).unwrap_or(&[]);
        }
        Ok(attrs)
    }

    fn invalid(&self, msg: &'static CStr, attr: Option<&Attr<'_>>) -> Error {
        match attr {
            Some(attr) => self.set_err_msg_attr(attr, msg),
            None => self.set_err_msg(msg),
        }
        EINVAL
    }

    fn extack(&self) -> *mut bindings::netlink_ext_ack {
        self.extack.0.get()
    }

    /// Sets the extended ack message (`NL_SET_ERR_MSG()`).
    pub(crate) fn set_err_msg(&self, msg: &'static CStr) {
        // SAFETY: By the type invariant of `ExtAck`, we have exclusive access to a valid extack;
        // `msg` is static, as the core requires.
        unsafe { (*self.extack())._msg = msg.as_char_ptr() };
    }

    /// Sets the extended ack message and the offending attribute (`NL_SET_ERR_MSG_ATTR()`).
    pub(crate) fn set_err_msg_attr(&self, attr: &Attr<'_>, msg: &'static CStr) {
        self.set_err_msg(msg);
        // SAFETY: As in `set_err_msg`. `attr` points into this request's message, which is what
        // `netlink_ack()` expects (it reports the offset from the header).
        unsafe { (*self.extack()).bad_attr = attr.raw.as_ptr().cast() };
    }

    /// Sets the extended ack message and reports attribute type `ty` as missing
    /// (`NL_SET_ERR_MSG()` + `NL_SET_ERR_ATTR_MISS()`).
    pub(crate) fn set_err_msg_missing(&self, ty: u16, msg: &'static CStr) {
        self.set_err_msg(msg);
        // SAFETY: As in `set_err_msg`; a top-level attribute has no nest.
        unsafe {
            (*self.extack()).miss_nest = core::ptr::null();
            (*self.extack()).miss_type = ty;
        }
    }

    /// Starts a reply of type `msg_type` to the sender, with room for `payload` bytes of
    /// attributes (`nlmsg_new()` + `nlmsg_put()`). Must be called in process context.
    pub(crate) fn reply(&self, msg_type: u16, payload: usize) -> Result<Reply<'a>> {
        // SAFETY: `nlmsg_new()` may be called with any size; we are in process context (the
        // input callback of a kernel socket runs in the sender's context), so it may sleep.
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
        Ok(Reply {
            skb,
            nlh,
            // SAFETY: By the type invariant of `SkBuff`, `skb->sk` is our kernel socket, which
            // outlives the request.
            sk: unsafe { (*self.skb.as_ptr()).sk },
            portid: self.portid(),
            _request: core::marker::PhantomData,
        })
    }
}

/// A reply message being built; freed on drop unless sent.
pub(crate) struct Reply<'a> {
    skb: NonNull<bindings::sk_buff>,
    nlh: NonNull<bindings::nlmsghdr>,
    sk: *mut bindings::sock,
    portid: u32,
    _request: core::marker::PhantomData<&'a Request<'a>>,
}

impl Reply<'_> {
    /// Appends an attribute (`nla_put()`); `EMSGSIZE` if the message is full.
    pub(crate) fn put(&mut self, ty: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is our valid message; `nla_put()` checks the tail room and copies `len`
        // bytes from `data`.
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
        // SAFETY: `skb` is our valid message; `nla_put_64bit()` checks the tail room (padding
        // included) and copies 8 bytes from `data`.
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
        // SAFETY: `nlh` was put into `skb` by `nlmsg_put()`. `nlmsg_unicast()` consumes the skb
        // whatever its result (hence no drop); `sk` is our kernel socket.
        unsafe {
            bindings::nlmsg_end(this.skb.as_ptr(), this.nlh.as_ptr());
            to_result(bindings::nlmsg_unicast(
                this.sk,
                this.skb.as_ptr(),
                this.portid,
            ))
        }
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        // SAFETY: The skb was allocated by `nlmsg_new()` and not sent.
        unsafe { bindings::nlmsg_free(self.skb.as_ptr()) };
    }
}

/// Limits of a protocol number for [`KernelSocket::new`] (`MAX_LINKS`).
pub(crate) const MAX_LINKS: c_uint = bindings::MAX_LINKS;
