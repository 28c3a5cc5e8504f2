//! icmp6-redirect: send one ICMPv6 Redirect (RFC 4861 4.5), a test helper.
//!
//!   icmp6-redirect --dev IFACE --src LINK-LOCAL --dst ADDR --target ADDR --dest ADDR
//!                  [--target-lladdr MAC]
//!
//! Sends type 137 code 0 from SRC (bound with IFACE's scope id) to DST on IFACE, hop limit
//! 255, body reserved(4) + target(16) + destination(16), and optionally a Target Link-Layer
//! Address option. No Redirected Header option: the receiver then takes
//! `ndisc_redirect_rcv()` -> `ip6_redirect_no_header()` -> `rt6_do_redirect()`, which raises
//! `NETEVENT_REDIRECT` like the `icmpv6_notify()` path does. The kernel fills the ICMPv6
//! checksum of raw ICMPv6 sockets (`rawv6_init_sk()`: checksum offset 2).
//!
//! Exit status 0 when the whole message was sent, 1 on any error (message on stderr).

use std::ffi::CString;
use std::io;
use std::mem;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;

use clap::Parser;

/// ICMPv6 type of a Redirect message.
const ND_REDIRECT: u8 = 137;
/// Neighbour discovery option: Target Link-Layer Address.
const ND_OPT_TARGET_LL_ADDR: u8 = 2;
/// The hop limit every neighbour discovery message must carry (`ndisc_rcv()` drops others).
const ND_HOP_LIMIT: libc::c_int = 255;

#[derive(Parser)]
#[command(
    name = "icmp6-redirect",
    about = "Send one ICMPv6 Redirect (test helper)"
)]
struct Args {
    /// Interface to send on (its index is the scope id of link-local addresses).
    #[arg(long)]
    dev: String,
    /// Source address (a redirect must come from a link-local address of the current router).
    #[arg(long)]
    src: Ipv6Addr,
    /// Destination of the IPv6 packet: the host being redirected.
    #[arg(long)]
    dst: Ipv6Addr,
    /// Target: the better first hop (link-local), or equal to --dest for "on link".
    #[arg(long)]
    target: Ipv6Addr,
    /// Destination whose traffic is redirected.
    #[arg(long)]
    dest: Ipv6Addr,
    /// Also send a Target Link-Layer Address option with this MAC (aa:bb:cc:dd:ee:ff).
    #[arg(long, value_parser = parse_mac)]
    target_lladdr: Option<[u8; 6]>,
}

fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != mac.len() {
        return Err(format!(
            "'{s}' is not a MAC address (6 hex bytes separated by ':')"
        ));
    }
    for (b, p) in mac.iter_mut().zip(&parts) {
        let hex = (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_hexdigit());
        *b = hex
            .then(|| u8::from_str_radix(p, 16).ok())
            .flatten()
            .ok_or_else(|| format!("'{s}' is not a MAC address (bad byte '{p}')"))?;
    }
    Ok(mac)
}

/// The ICMPv6 message: header (checksum 0, filled by the kernel), body, options.
fn message(args: &Args) -> Vec<u8> {
    let mut msg = vec![ND_REDIRECT, 0, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(&args.target.octets());
    msg.extend_from_slice(&args.dest.octets());
    if let Some(mac) = args.target_lladdr {
        // type, length in units of 8 octets, address
        msg.extend_from_slice(&[ND_OPT_TARGET_LL_ADDR, 1]);
        msg.extend_from_slice(&mac);
    }
    msg
}

fn sockaddr(addr: &Ipv6Addr, scope_id: u32) -> libc::sockaddr_in6 {
    // SAFETY: `sockaddr_in6` is plain old data; all zeroes is a valid value.
    let mut sa: libc::sockaddr_in6 = unsafe { mem::zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_addr.s6_addr = addr.octets();
    sa.sin6_scope_id = scope_id;
    sa
}

/// Scope id for `addr` on interface `ifindex`: the index if it is link-local, else 0.
fn scope_for(addr: &Ipv6Addr, ifindex: u32) -> u32 {
    if addr.segments()[0] & 0xffc0 == 0xfe80 {
        ifindex
    } else {
        0
    }
}

fn context(what: String) -> impl FnOnce(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

fn run(args: &Args) -> Result<usize, String> {
    let name = CString::new(args.dev.as_str())
        .map_err(|_| format!("bad interface name '{}'", args.dev))?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(context(format!("interface '{}'", args.dev))(
            io::Error::last_os_error(),
        ));
    }

    // SAFETY: Plain system call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6) };
    if fd < 0 {
        return Err(context(
            "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) (needs CAP_NET_RAW)".into(),
        )(io::Error::last_os_error()));
    }
    // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let fd = sock.as_raw_fd();

    let hops = ND_HOP_LIMIT;
    // SAFETY: `hops` is a valid c_int for the length passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            (&hops as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(context("setsockopt(IPV6_UNICAST_HOPS, 255)".into())(
            io::Error::last_os_error(),
        ));
    }

    let src = sockaddr(&args.src, scope_for(&args.src, ifindex));
    // SAFETY: `src` is a valid sockaddr_in6 of the length passed.
    let rc = unsafe {
        libc::bind(
            fd,
            (&src as *const libc::sockaddr_in6).cast(),
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(context(format!("bind to {}%{}", args.src, args.dev))(
            io::Error::last_os_error(),
        ));
    }

    let msg = message(args);
    let dst = sockaddr(&args.dst, scope_for(&args.dst, ifindex));
    // SAFETY: `msg` and `dst` are valid for the lengths passed.
    let sent = unsafe {
        libc::sendto(
            fd,
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&dst as *const libc::sockaddr_in6).cast(),
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(context(format!("sendto {}%{}", args.dst, args.dev))(
            io::Error::last_os_error(),
        ));
    }
    let sent = sent as usize;
    if sent != msg.len() {
        return Err(format!("sendto: sent {sent} of {} bytes", msg.len()));
    }
    Ok(sent)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(n) => {
            println!(
                "icmp6-redirect: sent {n}-byte redirect {} -> {} on {}: target {} dest {}",
                args.src, args.dst, args.dev, args.target, args.dest
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("icmp6-redirect: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(lladdr: Option<[u8; 6]>) -> Args {
        Args {
            dev: "fs0".into(),
            src: "fe80::2".parse().unwrap(),
            dst: "fe80::1".parse().unwrap(),
            target: "fe80::3".parse().unwrap(),
            dest: "2001:db8:99::1".parse().unwrap(),
            target_lladdr: lladdr,
        }
    }

    #[test]
    fn message_layout() {
        let m = message(&args(None));
        assert_eq!(m.len(), 40);
        assert_eq!(&m[..8], &[137, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[8..24], &"fe80::3".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(
            &m[24..40],
            &"2001:db8:99::1".parse::<Ipv6Addr>().unwrap().octets()
        );
        let m = message(&args(Some([0x52, 0x54, 0, 0xf5, 0, 3])));
        assert_eq!(&m[40..], &[2, 1, 0x52, 0x54, 0, 0xf5, 0, 3]);
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(
            parse_mac("52:54:00:f5:00:0a"),
            Ok([0x52, 0x54, 0, 0xf5, 0, 0x0a])
        );
        assert!(parse_mac("52:54:00:f5:00").is_err());
        assert!(parse_mac("52:54:00:f5:00:100").is_err());
        assert!(parse_mac("52:54:00:f5:00:zz").is_err());
        assert!(parse_mac("52:54:00:f5:00:+1").is_err());
        assert!(parse_mac("52:54:00:f5::01").is_err());
    }

    #[test]
    fn scope_only_for_link_local() {
        assert_eq!(scope_for(&"fe80::1".parse().unwrap(), 7), 7);
        assert_eq!(scope_for(&"febf::1".parse().unwrap(), 7), 7);
        assert_eq!(scope_for(&"2001:db8::1".parse().unwrap(), 7), 0);
    }
}
