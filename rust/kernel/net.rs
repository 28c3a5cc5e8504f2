// SPDX-License-Identifier: GPL-2.0

//! Networking: network namespaces, per-namespace data, netlink kernel sockets and the netevent
//! notifier chain.

pub(crate) mod namespace;
pub(crate) mod netevent;
pub(crate) mod netlink;
pub(crate) mod pernet;
