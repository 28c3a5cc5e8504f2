//! Kernel errors: NLMSG_ERROR decoding (with extended ack TLVs) and errno
//! names and meanings.

use std::ffi::CStr;
use std::fmt;

use netlink_packet_core::{
    parse_string, parse_u32, ErrorMessage, NetlinkHeader, NlasIterator, NLMSG_ALIGNTO,
    NLM_F_ACK_TLVS, NLM_F_CAPPED,
};

/// `NLMSGERR_ATTR_MSG` (linux/netlink.h): extack message, NUL-terminated string.
pub const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLMSGERR_ATTR_OFFS` (linux/netlink.h): offset of the bad attribute in the request, u32.
pub const NLMSGERR_ATTR_OFFS: u16 = 2;

/// Length of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;

/// The answer of the kernel in an NLMSG_ERROR message: an ack (errno 0) or
/// an error, with the extended ack TLVs if the kernel sent them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ack {
    /// Positive errno, 0 for an ack.
    pub errno: i32,
    /// `NLMSGERR_ATTR_MSG`.
    pub msg: Option<String>,
    /// `NLMSGERR_ATTR_OFFS`.
    pub offset: Option<u32>,
}

impl Ack {
    /// Decodes an NLMSG_ERROR message; `header` is the header of the
    /// NLMSG_ERROR message itself (its flags tell whether the original
    /// request is echoed in full and whether TLVs follow).
    pub fn parse(header: &NetlinkHeader, err: &ErrorMessage) -> Ack {
        let mut ack = Ack {
            errno: err.raw_code().checked_neg().unwrap_or(i32::MAX),
            ..Ack::default()
        };
        if header.flags & NLM_F_ACK_TLVS == 0 {
            return ack;
        }
        // err.header: the original nlmsghdr, its payload unless capped, TLVs.
        let echoed = &err.header;
        let skip = if header.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            echoed
                .get(..4)
                .and_then(|len| parse_u32(len).ok())
                .map_or(NLMSG_HDRLEN, |len| {
                    (len as usize)
                        .next_multiple_of(usize::from(NLMSG_ALIGNTO))
                        .max(NLMSG_HDRLEN)
                })
        };
        let Some(tlvs) = echoed.get(skip..) else {
            return ack;
        };
        for nla in NlasIterator::new(tlvs).map_while(Result::ok) {
            match nla.kind() {
                NLMSGERR_ATTR_MSG => ack.msg = parse_string(nla.value()).ok(),
                NLMSGERR_ATTR_OFFS => ack.offset = parse_u32(nla.value()).ok(),
                _ => {}
            }
        }
        ack
    }

    /// The error as a [`KernelError`], `None` for an ack.
    pub fn into_error(self) -> Option<KernelError> {
        (self.errno != 0).then_some(KernelError {
            errno: self.errno,
            msg: self.msg,
        })
    }
}

/// An error the kernel answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno.
    pub errno: i32,
    /// The extack message, if any.
    pub msg: Option<String>,
}

impl fmt::Display for KernelError {
    /// `operation not permitted: RESET needs CAP_NET_ADMIN`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&strerror(self.errno))?;
        match &self.msg {
            Some(m) if !m.is_empty() => write!(f, ": {m}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for KernelError {}

/// The meaning of an errno, as strerror(3) says it, starting in lower case:
/// "operation not permitted".
pub fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: the buffer is valid for its length; the XSI strerror_r (which the
    // libc crate links) NUL-terminates what it writes on success.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    let text = if rc == 0 {
        // SAFETY: NUL-terminated on success, see above.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    } else {
        format!("error {errno}")
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// The symbolic name of an errno ("EINVAL"), for the errnos a netlink
/// module plausibly returns.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    use libc::*;
    let name = match errno {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ENOSYS => "ENOSYS",
        ENODATA => "ENODATA",
        EPROTO => "EPROTO",
        EBADMSG => "EBADMSG",
        EOVERFLOW => "EOVERFLOW",
        EMSGSIZE => "EMSGSIZE",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ENOBUFS => "ENOBUFS",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH",
        EALREADY => "EALREADY",
        EINPROGRESS => "EINPROGRESS",
        // Kernel-internal, leaks to userspace on some paths (linux/errno.h).
        524 => "ENOTSUPP",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings() {
        assert_eq!(strerror(libc::EPERM), "operation not permitted");
        assert_eq!(errno_name(libc::EOPNOTSUPP), Some("EOPNOTSUPP"));
        assert_eq!(errno_name(4242), None);
    }

    #[test]
    fn display_with_and_without_extack() {
        let e = KernelError {
            errno: libc::EPERM,
            msg: Some("RESET needs CAP_NET_ADMIN".into()),
        };
        assert_eq!(
            e.to_string(),
            "operation not permitted: RESET needs CAP_NET_ADMIN"
        );
        let e = KernelError {
            errno: libc::EINVAL,
            msg: None,
        };
        assert_eq!(e.to_string(), "invalid argument");
    }
}
