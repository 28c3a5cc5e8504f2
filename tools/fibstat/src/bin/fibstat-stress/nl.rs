//! Raw netlink sockets and message bytes, for the fuzzer and load generators:
//! whatever bytes we build go to the kernel unchanged, and every answer comes
//! back as bytes to be checked.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

pub const NLMSG_HDRLEN: usize = 16;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_CAPPED: u16 = 0x100;
pub const NLM_F_ACK_TLVS: u16 = 0x200;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_MIN_TYPE: u16 = 0x10;
pub const NLA_HDRLEN: usize = 4;
/// `SOL_NETLINK` and its options (linux/netlink.h).
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_EXT_ACK: libc::c_int = 11;
/// `NLMSGERR_ATTR_OFFS`: offset of the offending attribute in the request.
pub const NLMSGERR_ATTR_OFFS: u16 = 2;

/// How long to wait for any answer of the kernel: generous, for TCG guests on
/// a loaded host and the debug kernel; a missing answer is still an error.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A netlink header as bytes (host byte order).
pub fn header(len: u32, ty: u16, flags: u16, seq: u32) -> [u8; NLMSG_HDRLEN] {
    let mut h = [0u8; NLMSG_HDRLEN];
    h[0..4].copy_from_slice(&len.to_ne_bytes());
    h[4..6].copy_from_slice(&ty.to_ne_bytes());
    h[6..8].copy_from_slice(&flags.to_ne_bytes());
    h[8..12].copy_from_slice(&seq.to_ne_bytes());
    h
}

/// One attribute (header, value, padding to 4 bytes).
pub fn attr(ty: u16, value: &[u8]) -> Vec<u8> {
    let len = NLA_HDRLEN + value.len();
    let mut a = Vec::with_capacity(align4(len));
    a.extend_from_slice(&(len as u16).to_ne_bytes());
    a.extend_from_slice(&ty.to_ne_bytes());
    a.extend_from_slice(value);
    a.resize(align4(len), 0);
    a
}

/// A whole message: header with the right length, then `payload`.
pub fn message(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = header((NLMSG_HDRLEN + payload.len()) as u32, ty, flags, seq).to_vec();
    m.extend_from_slice(payload);
    m
}

pub fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

pub fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// One message of a kernel answer.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

/// Splits a datagram from the kernel into its messages (the kernel's own
/// answers are well formed: a length that does not fit is an error).
pub fn answers(datagram: &[u8]) -> Result<Vec<Answer<'_>>, String> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < datagram.len() {
        if datagram.len() - off < NLMSG_HDRLEN {
            return Err(format!(
                "{} stray bytes after the last message",
                datagram.len() - off
            ));
        }
        let len = u32_at(datagram, off) as usize;
        if len < NLMSG_HDRLEN || len > datagram.len() - off {
            return Err(format!(
                "answer with nlmsg_len {len} at offset {off} of {}",
                datagram.len()
            ));
        }
        out.push(Answer {
            ty: u16_at(datagram, off + 4),
            flags: u16_at(datagram, off + 6),
            seq: u32_at(datagram, off + 8),
            payload: &datagram[off + NLMSG_HDRLEN..off + len],
        });
        off += align4(len).min(datagram.len() - off);
    }
    Ok(out)
}

/// Attributes as (type, value) pairs; `None` if they do not parse cleanly.
pub fn attrs(mut b: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < NLA_HDRLEN {
            return None;
        }
        let len = usize::from(u16_at(b, 0));
        if len < NLA_HDRLEN || len > b.len() {
            return None;
        }
        out.push((u16_at(b, 2), &b[NLA_HDRLEN..len]));
        b = b.get(align4(len)..).unwrap_or(&[]);
    }
    Some(out)
}

/// A decoded NLMSG_ERROR: errno (positive, 0 for an ack), the echoed request
/// header and, for errors without NLM_F_CAPPED, its payload; the TLVs.
#[derive(Debug)]
pub struct Ack<'a> {
    pub errno: i32,
    pub echoed_header: &'a [u8],
    pub echoed_payload: Option<&'a [u8]>,
    pub bad_attr_offset: Option<u32>,
}

pub fn parse_ack<'a>(a: &Answer<'a>) -> Result<Ack<'a>, String> {
    let p = a.payload;
    if p.len() < 4 + NLMSG_HDRLEN {
        return Err(format!("NLMSG_ERROR of {} bytes", p.len()));
    }
    let error = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
    let echoed_header = &p[4..4 + NLMSG_HDRLEN];
    let mut rest = &p[4 + NLMSG_HDRLEN..];
    let mut echoed_payload = None;
    if a.flags & NLM_F_CAPPED == 0 {
        let len = u32_at(echoed_header, 0) as usize;
        let plen = len.saturating_sub(NLMSG_HDRLEN);
        if plen > rest.len() {
            return Err(format!(
                "echoed request of {len} bytes, only {} present",
                rest.len()
            ));
        }
        echoed_payload = Some(&rest[..plen]);
        rest = rest.get(align4(plen)..).unwrap_or(&[]);
    }
    let mut bad_attr_offset = None;
    if a.flags & NLM_F_ACK_TLVS != 0 {
        for (ty, v) in attrs(rest).ok_or("extended ack TLVs do not parse")? {
            if ty == NLMSGERR_ATTR_OFFS && v.len() == 4 {
                bad_attr_offset = Some(u32_at(v, 0));
            }
        }
    }
    Ok(Ack {
        errno: error.checked_neg().unwrap_or(i32::MAX),
        echoed_header,
        echoed_payload,
        bad_attr_offset,
    })
}

/// A netlink socket connected to the kernel (port 0) of one protocol.
pub struct NlSocket {
    fd: OwnedFd,
    buf: Vec<u8>,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn setsockopt_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `v` is a valid int for the duration of the call.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&v as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
}

impl NlSocket {
    /// Opens, binds (kernel-assigned port) and connects to the kernel.
    pub fn open(proto: i32) -> io::Result<NlSocket> {
        // SAFETY: plain system call.
        let fd =
            unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) };
        check(fd)?;
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero sockaddr_nl is valid (port 0: autobind / the kernel).
        let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        let ptr = (&addr as *const libc::sockaddr_nl).cast::<libc::sockaddr>();
        // SAFETY: `ptr` points to a valid sockaddr_nl of `len` bytes.
        check(unsafe { libc::bind(fd.as_raw_fd(), ptr, len) })?;
        // SAFETY: as above.
        check(unsafe { libc::connect(fd.as_raw_fd(), ptr, len) })?;
        Ok(NlSocket {
            fd,
            buf: vec![0; 1 << 17],
        })
    }

    /// Extended acks (error messages and offending attribute offsets).
    pub fn set_ext_ack(&self) -> io::Result<()> {
        setsockopt_int(&self.fd, SOL_NETLINK, NETLINK_EXT_ACK, 1)
    }

    /// A receive buffer of `bytes` (SO_RCVBUFFORCE as root, else SO_RCVBUF).
    pub fn set_rcvbuf(&self, bytes: i32) -> io::Result<()> {
        setsockopt_int(&self.fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes)
            .or_else(|_| setsockopt_int(&self.fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes))
    }

    pub fn set_timeout(&self, d: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: `tv` is a valid timeval for the duration of the call.
        check(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        })
    }

    /// Sends one datagram; returns the bytes sent.
    pub fn send(&self, bytes: &[u8]) -> io::Result<usize> {
        // SAFETY: `bytes` is valid for reads of its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Receives one datagram; `Ok(None)` when the receive timeout expired.
    /// A datagram larger than the buffer is an error (MSG_TRUNC).
    pub fn recv(&mut self) -> io::Result<Option<&[u8]>> {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) => Ok(None),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if n > self.buf.len() {
            return Err(io::Error::other(format!("answer of {n} bytes truncated")));
        }
        Ok(Some(&self.buf[..n]))
    }
}

/// Moves the calling thread into network namespace `name` (`ip netns` name or path).
pub fn enter_netns(name: &str) -> Result<(), String> {
    fibstat::client::socket::enter_netns(name).map_err(|e| e.to_string())
}

/// Pins the calling thread to one CPU.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET stays within it for cpu < 1024.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    if cpu >= 8 * mem::size_of::<libc::cpu_set_t>() {
        return Err(io::Error::other(format!("CPU {cpu} out of range")));
    }
    // SAFETY: `cpu` is within the set (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    check(unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), &set) })
}

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> i32 {
    // SAFETY: plain system call.
    unsafe { libc::sched_getcpu() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_and_attr_layout() {
        let a = attr(4, &7u32.to_ne_bytes());
        assert_eq!(a.len(), 8);
        let g = attr(1, &[192, 0, 2, 1]);
        let m = message(0x11, NLM_F_REQUEST | NLM_F_ACK, 9, &[g, a].concat());
        assert_eq!(u32_at(&m, 0) as usize, m.len());
        let ans = answers(&m).unwrap();
        assert_eq!(ans.len(), 1);
        assert_eq!((ans[0].ty, ans[0].seq), (0x11, 9));
        let at = attrs(ans[0].payload).unwrap();
        assert_eq!(
            at,
            vec![(1, &[192, 0, 2, 1][..]), (4, &7u32.to_ne_bytes()[..])]
        );
        let odd = attr(9, &[1, 2, 3]);
        assert_eq!((odd.len(), u16_at(&odd, 0)), (8, 7));
    }

    #[test]
    fn ack_parsing() {
        // An error ack with the request echoed and an offset TLV.
        let req = message(0x11, NLM_F_REQUEST | NLM_F_ACK, 3, &attr(99, &[0; 4]));
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&req);
        p.extend_from_slice(&attr(NLMSGERR_ATTR_OFFS, &16u32.to_ne_bytes()));
        let m = message(NLMSG_ERROR, NLM_F_ACK_TLVS, 3, &p);
        let ans = answers(&m).unwrap();
        let ack = parse_ack(&ans[0]).unwrap();
        assert_eq!(ack.errno, 22);
        assert_eq!(ack.echoed_header, &req[..16]);
        assert_eq!(ack.echoed_payload, Some(&req[16..]));
        assert_eq!(ack.bad_attr_offset, Some(16));
    }
}
