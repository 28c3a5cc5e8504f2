// SPDX-License-Identifier: GPL-2.0

//! Strict parsing of fib_stat requests: the pure part, shared by the module and the host tests.
//!
//! Like `protocol.rs`, this file is compiled into the kernel module (`mod parse;` in
//! `fib_stat.rs`) and, with `#[path]`, into the host test `tools/fibstat/tests/parse_props.rs`,
//! which checks its rules with property tests. It uses `core` only and reaches the protocol
//! constants as `super::protocol`, so both crates must have `protocol.rs` as a sibling module.
//!
//! The module hands [`parse_command`] the message type and the attribute bytes of a request
//! (everything after the netlink header, within `nlmsg_len`), and turns a [`ParseError`] into
//! the errno and the extended ack: the message, and the offending attribute (by its offset in
//! the attribute bytes) or the missing attribute type.
//!
//! # Attribute rules
//!
//! [`parse_attrs`] applies strict rules to a flat attribute list, in the spirit of the kernel's
//! `NL_VALIDATE_STRICT` but not the same: the order of the checks and the extended ack messages
//! are this parser's own, not those `nla_parse()` with a strict policy gives (the kernel checks
//! the type range, then the length, then `NLA_F_NESTED`, and rejects a type the policy refuses
//! with "Attribute failed policy validation"). Checked attribute by attribute in this order, the
//! first failure reported:
//!
//! 1. a complete header whose length covers itself and fits in the remaining bytes, else "bytes
//!    leftover after parsing attributes" (no attribute);
//! 2. no `NLA_F_NESTED` flag ("NLA_F_NESTED not expected"), then no `NLA_F_NET_BYTEORDER` flag
//!    ("NLA_F_NET_BYTEORDER not expected", a message of this parser);
//! 3. a type the policy knows: not 0 and below the policy's length ("Unknown attribute type");
//! 4. a type this message accepts ("Attribute not allowed for this message type");
//! 5. exactly the payload length the policy requires ("invalid attribute length");
//! 6. not seen before in this message ("duplicate attribute").
//!
//! Attributes are aligned to 4 bytes; the last one may omit its padding (as `nla_next()`
//! allows).

use super::protocol;
use core::{
    ffi::CStr,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

/// `NLA_HDRLEN`: the size of `struct nlattr`, already aligned.
pub const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED`: the attribute carries nested attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`: the payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;

/// `NLA_ALIGN()`: attributes start at multiples of 4 bytes.
pub const fn nla_align(len: usize) -> usize {
    (len + 3) & !3
}

/// How a request attribute type is validated by [`parse_attrs`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AttrPolicy {
    /// A known attribute type that this message type does not accept.
    Reject,
    /// A `u32` in host byte order (exactly 4 bytes).
    U32,
    /// An opaque payload of exactly this many bytes.
    ExactLen(usize),
}

/// The errno of a [`ParseError`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Errno {
    /// `EINVAL`: the request breaks a rule.
    Inval,
    /// `EOPNOTSUPP`: unknown message type.
    OpNotSupp,
    /// `EPERM`: the sender lacks `CAP_NET_ADMIN`.
    Perm,
}

/// The attribute a [`ParseError`] points at, for the extended ack.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrAttr {
    /// None (`NL_SET_ERR_MSG()`).
    None,
    /// The attribute that starts at this offset of the attribute bytes
    /// (`NL_SET_ERR_MSG_ATTR()`: `bad_attr`).
    At(usize),
    /// A required attribute of this type is missing (`NL_SET_ERR_ATTR_MISS()`).
    Missing(u16),
}

/// Why a request was refused: errno, extended ack message and attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ParseError {
    /// The error returned (and acked).
    pub errno: Errno,
    /// The extended ack message (`NLMSGERR_ATTR_MSG`).
    pub msg: &'static CStr,
    /// The attribute reported with it.
    pub attr: ErrAttr,
}

impl ParseError {
    const fn inval(msg: &'static CStr, attr: ErrAttr) -> Self {
        Self {
            errno: Errno::Inval,
            msg,
            attr,
        }
    }
}

/// A request attribute, validated against its [`AttrPolicy`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attr<'a> {
    /// Offset of the attribute (its header) in the attribute bytes.
    offset: usize,
    payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// Returns the offset of the attribute's header in the attribute bytes.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Returns the payload.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Returns the payload as a host byte order `u32` (0 if it is not 4 bytes long; policy
    /// [`AttrPolicy::U32`] guarantees it is).
    pub fn as_u32(&self) -> u32 {
        self.as_array().map_or(0, u32::from_ne_bytes)
    }

    /// Returns the payload as an array, if it has exactly `N` bytes.
    pub fn as_array<const N: usize>(&self) -> Option<[u8; N]> {
        self.payload().try_into().ok()
    }

    fn at(&self) -> ErrAttr {
        ErrAttr::At(self.offset())
    }
}

/// The attributes of a request, indexed by type; `N` is the policy length (max type + 1).
#[derive(Debug)]
pub struct Attrs<'a, const N: usize> {
    attrs: [Option<Attr<'a>>; N],
}

impl<'a, const N: usize> Attrs<'a, N> {
    /// Returns the attribute of type `ty`, if present.
    pub fn get(&self, ty: u16) -> Option<Attr<'a>> {
        self.attrs.get(usize::from(ty)).copied().flatten()
    }
}

/// Parses `bytes` as attributes, strictly, against `policy` (indexed by attribute type); see
/// the module documentation for the rules. Every error is `EINVAL`.
///
/// Required attributes and value ranges are for the caller to check.
pub fn parse_attrs<'a, const N: usize>(
    bytes: &'a [u8],
    policy: &[AttrPolicy; N],
) -> Result<Attrs<'a, N>, ParseError> {
    let mut attrs = Attrs { attrs: [None; N] };
    let mut offset = 0;
    while let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) {
        let leftover = ParseError::inval(c"bytes leftover after parsing attributes", ErrAttr::None);
        let Some(&[l0, l1, t0, t1]) = rest.first_chunk::<NLA_HDRLEN>() else {
            return Err(leftover);
        };
        let nla_len = usize::from(u16::from_ne_bytes([l0, l1]));
        let nla_type = u16::from_ne_bytes([t0, t1]);
        // `None` if the length does not cover the header or goes beyond the bytes.
        let Some(payload) = rest.get(NLA_HDRLEN..nla_len) else {
            return Err(leftover);
        };
        let attr = Attr { offset, payload };
        if nla_type & NLA_F_NESTED != 0 {
            return Err(ParseError::inval(c"NLA_F_NESTED not expected", attr.at()));
        }
        if nla_type & NLA_F_NET_BYTEORDER != 0 {
            return Err(ParseError::inval(
                c"NLA_F_NET_BYTEORDER not expected",
                attr.at(),
            ));
        }
        let index = usize::from(nla_type);
        let expected_len = match policy.get(index) {
            Some(_) if index == 0 => None,
            None => None,
            Some(AttrPolicy::Reject) => {
                return Err(ParseError::inval(
                    c"Attribute not allowed for this message type",
                    attr.at(),
                ))
            }
            Some(AttrPolicy::U32) => Some(4),
            Some(AttrPolicy::ExactLen(len)) => Some(*len),
        };
        let Some(expected_len) = expected_len else {
            return Err(ParseError::inval(c"Unknown attribute type", attr.at()));
        };
        if payload.len() != expected_len {
            return Err(ParseError::inval(c"invalid attribute length", attr.at()));
        }
        match attrs.attrs.get_mut(index) {
            Some(slot @ None) => *slot = Some(attr),
            _ => return Err(ParseError::inval(c"duplicate attribute", attr.at())),
        }
        offset += nla_align(nla_len);
    }
    Ok(attrs)
}

/// A request, validated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Command {
    /// `MSG_GET`.
    Get,
    /// `MSG_RECORD`.
    Record {
        /// GATEWAY4 or GATEWAY6.
        gateway: IpAddr,
        /// IFINDEX, 0 if absent.
        ifindex: u32,
        /// COUNT, 1..=[`protocol::MAX_RECORD_COUNT`].
        count: u32,
    },
    /// `MSG_RESET`.
    Reset,
}

/// The number of entries of a request policy: attribute types 0..=`ATTR_REQ_MAX`.
pub const REQ_POLICY_LEN: usize = protocol::ATTR_REQ_MAX as usize + 1;

/// Attribute policy of RECORD (indexed by attribute type).
pub const RECORD_POLICY: [AttrPolicy; REQ_POLICY_LEN] = {
    let mut p = [AttrPolicy::Reject; REQ_POLICY_LEN];
    p[protocol::ATTR_GATEWAY4 as usize] = AttrPolicy::ExactLen(4);
    p[protocol::ATTR_GATEWAY6 as usize] = AttrPolicy::ExactLen(16);
    p[protocol::ATTR_IFINDEX as usize] = AttrPolicy::U32;
    p[protocol::ATTR_COUNT as usize] = AttrPolicy::U32;
    p
};

/// Attribute policy of GET and RESET: no attributes.
pub const NO_ATTRS_POLICY: [AttrPolicy; REQ_POLICY_LEN] = [AttrPolicy::Reject; REQ_POLICY_LEN];

// The COUNT message below spells the maximum out.
const _: () = assert!(protocol::MAX_RECORD_COUNT == 1_000_000);

/// Validates a request: message type `msg_type`, attribute bytes `attrs`.
///
/// `net_admin` tells whether the sender has `CAP_NET_ADMIN` for the namespace; it is called
/// (once) only for the types that need it, before their attributes are looked at.
pub fn parse_command(
    msg_type: u16,
    attrs: &[u8],
    net_admin: impl FnOnce() -> bool,
) -> Result<Command, ParseError> {
    let perm = |msg| ParseError {
        errno: Errno::Perm,
        msg,
        attr: ErrAttr::None,
    };
    match msg_type {
        protocol::MSG_GET => {
            parse_attrs(attrs, &NO_ATTRS_POLICY)?;
            Ok(Command::Get)
        }
        protocol::MSG_RESET => {
            if !net_admin() {
                return Err(perm(c"RESET needs CAP_NET_ADMIN"));
            }
            parse_attrs(attrs, &NO_ATTRS_POLICY)?;
            Ok(Command::Reset)
        }
        protocol::MSG_RECORD => {
            if !net_admin() {
                return Err(perm(c"RECORD needs CAP_NET_ADMIN"));
            }
            let attrs = parse_attrs(attrs, &RECORD_POLICY)?;
            let gw4 = attrs.get(protocol::ATTR_GATEWAY4);
            let gw6 = attrs.get(protocol::ATTR_GATEWAY6);
            let gateway = match (
                gw4.and_then(|a| a.as_array()),
                gw6.and_then(|a| a.as_array()),
            ) {
                (Some(a), None) => IpAddr::V4(Ipv4Addr::from(a)),
                (None, Some(a)) => IpAddr::V6(Ipv6Addr::from(a)),
                (Some(_), Some(_)) => {
                    return Err(ParseError::inval(
                        c"GATEWAY4 and GATEWAY6 are mutually exclusive",
                        gw6.map_or(ErrAttr::None, |a| a.at()),
                    ))
                }
                (None, None) => {
                    return Err(ParseError::inval(
                        c"RECORD needs GATEWAY4 or GATEWAY6",
                        ErrAttr::Missing(protocol::ATTR_GATEWAY4),
                    ))
                }
            };
            let Some(count) = attrs.get(protocol::ATTR_COUNT) else {
                return Err(ParseError::inval(
                    c"RECORD needs COUNT",
                    ErrAttr::Missing(protocol::ATTR_COUNT),
                ));
            };
            if !(1..=protocol::MAX_RECORD_COUNT).contains(&count.as_u32()) {
                return Err(ParseError::inval(c"COUNT must be 1..=1000000", count.at()));
            }
            let ifindex = attrs.get(protocol::ATTR_IFINDEX).map_or(0, |a| a.as_u32());
            Ok(Command::Record {
                gateway,
                ifindex,
                count: count.as_u32(),
            })
        }
        _ => Err(ParseError {
            errno: Errno::OpNotSupp,
            msg: c"unknown message type",
            attr: ErrAttr::None,
        }),
    }
}
