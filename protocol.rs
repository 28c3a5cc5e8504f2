// SPDX-License-Identifier: GPL-2.0

//! The fib_stat netlink protocol: the one source of truth.
//!
//! This file is compiled into the kernel module (`mod protocol;` in
//! `fib_stat.rs`) and into the userspace tool (`#[path]` include in
//! `tools/fibstat`). It holds nothing but plain constants so that it builds in
//! both worlds unchanged.
//!
//! # Wire format
//!
//! Every message is a `struct nlmsghdr` followed directly by netlink attributes
//! (no fixed family header). All integers in attributes are in host byte
//! order, addresses in network byte order, as in rtnetlink.
//!
//! | request          | attributes                                   | privilege     | reply                    |
//! |------------------|----------------------------------------------|---------------|--------------------------|
//! | [`MSG_GET`]      | none                                         | none          | one [`MSG_STATS`]        |
//! | [`MSG_RECORD`]   | GATEWAY4 or GATEWAY6, COUNT, IFINDEX (opt.)  | CAP_NET_ADMIN | ack (if NLM_F_ACK)       |
//! | [`MSG_RESET`]    | none                                         | CAP_NET_ADMIN | ack (if NLM_F_ACK)       |
//!
//! A RECORD must carry exactly one of GATEWAY4 and GATEWAY6. GET with NLM_F_ACK
//! gets the STATS reply followed by an ack.
//!
//! Errors are always acked (`NLMSG_ERROR` with a negative errno and, where
//! useful, an extack message): `EINVAL` for attributes that fail the strict
//! policy, `EOPNOTSUPP` for an unknown message type, `EPERM` without
//! CAP_NET_ADMIN in the user namespace owning the socket's network namespace.
//! A datagram shorter than `struct nlmsghdr` (16 bytes) cannot be answered:
//! `netlink_rcv_skb` drops it silently, and it does not reach the handler.
#![allow(dead_code)]

/// Default netlink protocol number (`socket(AF_NETLINK, SOCK_RAW, 25)`).
/// Free in 6.12 (`MAX_LINKS` is 32); the module parameter `nl_proto` overrides it.
pub const NETLINK_FIB_STAT: i32 = 25;

/// Protocol version, reported in every [`MSG_STATS`] reply.
pub const FIB_STAT_VERSION: u8 = 1;

// Message types (`nlmsg_type`). They start at `NLMSG_MIN_TYPE` (0x10).

/// Request: report the statistics of the caller's network namespace.
pub const MSG_GET: u16 = 0x10;
/// Request: add COUNT to "gateway records applied" and remember the gateway.
pub const MSG_RECORD: u16 = 0x11;
/// Request: zero the statistics of the caller's network namespace.
pub const MSG_RESET: u16 = 0x12;
/// Reply to [`MSG_GET`].
pub const MSG_STATS: u16 = 0x13;

/// Largest COUNT one RECORD request may carry (COUNT is 1..=this).
pub const MAX_RECORD_COUNT: u32 = 1_000_000;

// Attribute types. 1..=ATTR_REQ_MAX are accepted in requests; everything else
// appears only in replies and is rejected in requests as unknown.

/// Unused attribute type 0.
pub const ATTR_UNSPEC: u16 = 0;
/// Request and reply: IPv4 gateway, 4 bytes, network byte order.
pub const ATTR_GATEWAY4: u16 = 1;
/// Request and reply: IPv6 gateway, 16 bytes, network byte order.
pub const ATTR_GATEWAY6: u16 = 2;
/// Request and reply: ifindex of the gateway, u32 (optional in RECORD, default 0).
pub const ATTR_IFINDEX: u16 = 3;
/// Request: how many gateway records to apply, u32, 1..=[`MAX_RECORD_COUNT`].
pub const ATTR_COUNT: u16 = 4;
/// Highest attribute type a request may carry.
pub const ATTR_REQ_MAX: u16 = ATTR_COUNT;

/// Reply: lock mode of the module build, u8 ([`LOCK_SPIN`], [`LOCK_BH`], [`LOCK_IRQ`],
/// [`LOCK_IRQSAVE`] or [`LOCK_PERCPU`]).
pub const ATTR_LOCK_MODE: u16 = 5;
/// Reply: netlink requests handled in this netns (all types, also failed ones), u64.
pub const ATTR_NL_REQUESTS: u16 = 6;
/// Reply: gateway records applied (sum of RECORD counts), u64.
pub const ATTR_GW_RECORDS: u16 = 7;
/// Reply: NETEVENT_NEIGH_UPDATE events seen for devices of this netns, u64.
pub const ATTR_NEIGH_UPDATES: u16 = 8;
/// Reply: NETEVENT_REDIRECT events seen for this netns, u64.
pub const ATTR_REDIRECTS: u16 = 9;
/// Reply: last neighbour updated, IPv4 (4 bytes), if it was IPv4.
pub const ATTR_LAST_NEIGH4: u16 = 10;
/// Reply: last neighbour updated, IPv6 (16 bytes), if it was IPv6.
pub const ATTR_LAST_NEIGH6: u16 = 11;
/// Reply: ifindex of the last neighbour updated, u32.
pub const ATTR_LAST_NEIGH_IFINDEX: u16 = 12;
/// Reply: CLOCK_REALTIME of the last statistics update in ns, u64 (0: never).
pub const ATTR_LAST_UPDATE_NS: u16 = 13;
/// Reply: inode number of the network namespace (as in `/proc/self/ns/net`), u32.
pub const ATTR_NETNS_INUM: u16 = 14;
/// Reply: protocol version, u8 ([`FIB_STAT_VERSION`]).
pub const ATTR_VERSION: u16 = 15;
/// Reply: padding for 64-bit attributes (`nla_put_u64_64bit`), ignored by readers.
pub const ATTR_PAD: u16 = 16;
/// Reply: hard interrupt ticks counted in this netns (module parameter `hardirq_tick_ms`), u64.
pub const ATTR_HARDIRQ_TICKS: u16 = 17;
/// Highest attribute type in use.
pub const ATTR_MAX: u16 = ATTR_HARDIRQ_TICKS;

// In MSG_STATS replies the last gateway recorded is reported with
// ATTR_GATEWAY4 or ATTR_GATEWAY6 and ATTR_IFINDEX (absent: none recorded).

/// [`ATTR_LOCK_MODE`] value: plain `spin_lock` on the process-context side (buggy).
pub const LOCK_SPIN: u8 = 1;
/// [`ATTR_LOCK_MODE`] value: `spin_lock_bh` on the process-context side (correct).
pub const LOCK_BH: u8 = 2;
/// [`ATTR_LOCK_MODE`] value: `spin_lock_irq` on the process-context side.
pub const LOCK_IRQ: u8 = 3;
/// [`ATTR_LOCK_MODE`] value: `spin_lock_irqsave` on the process-context side.
pub const LOCK_IRQSAVE: u8 = 4;
/// [`ATTR_LOCK_MODE`] value: per-CPU statistics, no shared lock on the update paths.
pub const LOCK_PERCPU: u8 = 5;
