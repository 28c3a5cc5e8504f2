//! arp-flood: send ARP requests, each one a real neighbour update at the receiver, as fast as
//! the receiver answers them (a benchmark helper, `tests/bench/neigh-rate`).
//!
//!   arp-flood --dev IFACE --src-ip ADDR --dst-ip ADDR (--seconds S | --count N) [--macs N]
//!             [--window W]
//!
//! Broadcast ARP requests "who has DST-IP, tell SRC-IP" from IFACE (an `AF_PACKET` socket), the
//! sender hardware address cycling through N locally administered MACs (02:00:00:00:00:01, ...;
//! default 2). The receiver owning DST-IP handles each request in its receive softirq:
//! `arp_rcv()` -> `arp_process()` -> `neigh_event_ns()` -> `__neigh_update()`, and since the
//! link-layer address of SRC-IP changed since the previous request, every request updates its
//! neighbour entry and raises `NETEVENT_NEIGH_UPDATE`.
//!
//! Closed loop: at most W requests (default 1) are outstanding; the next one goes out when the
//! receiver's reply to one comes back (IFACE is put in promiscuous mode: the replies go to the
//! MACs above, which nobody owns) or after a 1 s timeout (counted). So the rate is what the
//! receiver sustains, and no request is lost in a queue (an open-loop flood overruns emulated
//! NICs' rings, and their drops make the rate meaningless).
//!
//! Prints `sent N frames, R replies in T s (E send errors, L timeouts)`; exit status 0, or 1 on
//! a setup error.

use std::ffi::CString;
use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

/// `ETH_P_ARP`.
const ETH_P_ARP: u16 = 0x0806;
/// `ETH_P_IP`.
const ETH_P_IP: u16 = 0x0800;
/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `ARPOP_REQUEST`.
const ARPOP_REQUEST: u16 = 1;
/// `ARPOP_REPLY`.
const ARPOP_REPLY: u16 = 2;
/// Minimum Ethernet frame length without the FCS: shorter frames are padded with zeroes.
const ETH_ZLEN: usize = 60;

#[derive(Parser)]
#[command(
    name = "arp-flood",
    about = "Send ARP requests that each update the receiver's neighbour entry (benchmark helper)"
)]
struct Args {
    /// Interface to send on.
    #[arg(long)]
    dev: String,
    /// Sender protocol address (the neighbour the receiver updates).
    #[arg(long)]
    src_ip: Ipv4Addr,
    /// Target protocol address (an address of the receiver).
    #[arg(long)]
    dst_ip: Ipv4Addr,
    /// Send for this many seconds.
    #[arg(long, conflicts_with = "count", required_unless_present = "count")]
    seconds: Option<f64>,
    /// Send this many frames.
    #[arg(long)]
    count: Option<u64>,
    /// Number of sender MACs to cycle through (at least 2, so that every request is an update).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..))]
    macs: u8,
    /// Requests outstanding at most (sent, not answered yet).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    window: u32,
}

/// Whether `f` is an ARP reply from `from` to one of our MACs (02:00:00:00:00:xx).
fn is_reply(f: &[u8], from: Ipv4Addr) -> bool {
    f.len() >= 42
        && f[12..14] == ETH_P_ARP.to_be_bytes()
        && f[20..22] == ARPOP_REPLY.to_be_bytes()
        && f[28..32] == from.octets()
        && f[32..37] == [0x02, 0, 0, 0, 0]
}

/// The frame with sender MAC number `i` (1-based).
fn frame(args: &Args, i: u8) -> [u8; ETH_ZLEN] {
    let mac = [0x02, 0, 0, 0, 0, i];
    let mut f = [0u8; ETH_ZLEN];
    let mut w = 0;
    let mut put = |bytes: &[u8]| {
        f[w..w + bytes.len()].copy_from_slice(bytes);
        w += bytes.len();
    };
    // Ethernet: broadcast destination, source, type.
    put(&[0xff; 6]);
    put(&mac);
    put(&ETH_P_ARP.to_be_bytes());
    // ARP request.
    put(&ARPHRD_ETHER.to_be_bytes());
    put(&ETH_P_IP.to_be_bytes());
    put(&[6, 4]);
    put(&ARPOP_REQUEST.to_be_bytes());
    put(&mac);
    put(&args.src_ip.octets());
    put(&[0; 6]);
    put(&args.dst_ip.octets());
    f
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// What a run did.
struct Outcome {
    sent: u64,
    replies: u64,
    errors: u64,
    timeouts: u64,
    elapsed: Duration,
}

fn setsockopt<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, v: &T) -> libc::c_int {
    // SAFETY: `v` is valid for reads of its size, which is passed.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    }
}

fn run(args: &Args) -> Result<Outcome, String> {
    let name = CString::new(args.dev.as_str())
        .map_err(|_| format!("bad interface name '{}'", args.dev))?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(os_err(&format!("interface '{}'", args.dev)));
    }
    let proto = ETH_P_ARP.to_be();
    // SAFETY: Plain system call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, libc::c_int::from(proto)) };
    if fd < 0 {
        return Err(os_err("socket(AF_PACKET, SOCK_RAW) (needs CAP_NET_RAW)"));
    }
    // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };

    // SAFETY: `sockaddr_ll` is plain old data; all zeroes is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex as libc::c_int;
    // SAFETY: `sll` is a valid sockaddr_ll of the length passed.
    let rc = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(os_err(&format!("bind to {}", args.dev)));
    }

    let fd = sock.as_raw_fd();
    // SAFETY: `packet_mreq` is plain old data; all zeroes is a valid value.
    let mut mreq: libc::packet_mreq = unsafe { mem::zeroed() };
    mreq.mr_ifindex = ifindex as libc::c_int;
    mreq.mr_type = libc::PACKET_MR_PROMISC as libc::c_ushort;
    if setsockopt(fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq) != 0 {
        return Err(os_err("PACKET_ADD_MEMBERSHIP (promiscuous mode)"));
    }
    let timeout = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout) != 0 {
        return Err(os_err("SO_RCVTIMEO"));
    }

    let frames: Vec<[u8; ETH_ZLEN]> = (1..=args.macs).map(|i| frame(args, i)).collect();
    let deadline = args.seconds.map(Duration::from_secs_f64);
    let count = args.count.unwrap_or(u64::MAX);
    let mut o = Outcome {
        sent: 0,
        replies: 0,
        errors: 0,
        timeouts: 0,
        elapsed: Duration::ZERO,
    };
    let mut outstanding = 0u32;
    let mut buf = [0u8; 256];
    let start = Instant::now();
    let mut n = 0u64;
    loop {
        let done = n >= count || deadline.is_some_and(|d| start.elapsed() >= d);
        if !done && outstanding < args.window {
            let f = &frames[(n % frames.len() as u64) as usize];
            n += 1;
            // SAFETY: `f` is valid for the length passed; the socket is bound.
            let rc = unsafe { libc::send(fd, f.as_ptr().cast(), f.len(), 0) };
            if rc == f.len() as isize {
                o.sent += 1;
                outstanding += 1;
            } else {
                // ENOBUFS: the device queue was full; the frame is lost.
                o.errors += 1;
            }
            continue;
        }
        if outstanding == 0 {
            break;
        }
        // SAFETY: `buf` is valid for writes of its length.
        let rc = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if rc < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) => {
                    // No answer within the timeout: give the request up.
                    o.timeouts += 1;
                    outstanding -= 1;
                }
                Some(libc::EINTR) => {}
                _ => return Err(os_err("recv")),
            }
        } else if is_reply(&buf[..rc as usize], args.dst_ip) {
            o.replies += 1;
            outstanding -= 1;
        }
    }
    o.elapsed = start.elapsed();
    Ok(o)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(o) => {
            println!(
                "sent {} frames, {} replies in {:.6} s ({} send errors, {} timeouts)",
                o.sent,
                o.replies,
                o.elapsed.as_secs_f64(),
                o.errors,
                o.timeouts
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("arp-flood: {e}");
            ExitCode::FAILURE
        }
    }
}
