//! Load generators: RECORD writers, a client holding its socket mid-request,
//! and ARP / ICMP echo floods.

use std::fs;
use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use fibstat::client::msg::{parse_attrs, Stats};
use fibstat::protocol::*;

use crate::nl::{self, NlSocket, ANSWER_TIMEOUT, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use crate::rng::Rng;

/// A RECORD request of `count` for `gateway`.
pub fn record_msg(seq: u32, gateway: Ipv4Addr, ifindex: u32, count: u32) -> Vec<u8> {
    let payload = [
        nl::attr(ATTR_GATEWAY4, &gateway.octets()),
        nl::attr(ATTR_IFINDEX, &ifindex.to_ne_bytes()),
        nl::attr(ATTR_COUNT, &count.to_ne_bytes()),
    ]
    .concat();
    nl::message(MSG_RECORD, NLM_F_REQUEST | NLM_F_ACK, seq, &payload)
}

/// Waits for the ack of `seq`; returns its errno (0: acked).
pub fn wait_ack(sock: &mut NlSocket, seq: u32) -> Result<i32, String> {
    loop {
        let d = sock
            .recv()
            .map_err(|e| format!("recv: {e}"))?
            .ok_or("no ack within 30 s")?;
        for a in nl::answers(d)? {
            if a.ty == NLMSG_ERROR && a.seq == seq {
                return Ok(nl::parse_ack(&a)?.errno);
            }
        }
    }
}

/// Opens a fib_stat socket with a 5 s receive timeout.
pub fn open_fib(proto: i32) -> io::Result<NlSocket> {
    let s = NlSocket::open(proto)?;
    s.set_timeout(ANSWER_TIMEOUT)?;
    Ok(s)
}

/// `fibstat-stress write`'s options.
#[derive(clap::Args)]
pub struct WriteArgs {
    #[arg(short = 'n', long)]
    pub netns: Option<String>,
    #[arg(long, value_parser = crate::rng::parse_seed, default_value = "1")]
    pub seed: u64,
    #[arg(long, default_value = "w")]
    pub label: String,
    /// Stop after N acked RECORDs.
    #[arg(long, required_unless_present = "seconds")]
    pub count: Option<u64>,
    /// Stop after S seconds.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Gateway to record.
    #[arg(long, default_value = "192.0.2.254", value_parser = ipv4)]
    pub gateway: Ipv4Addr,
    /// New socket per request; wait and retry while the module is absent
    /// (socket() EPROTONOSUPPORT, send() ECONNREFUSED, an EAGAIN answer),
    /// and only then: any other error fails.
    #[arg(long)]
    pub reopen: bool,
    /// Stop when this file exists (checked before every request).
    #[arg(long)]
    pub stop_file: Option<std::path::PathBuf>,
}

/// Whether `e` says the module is not there right now (with `--reopen`).
fn module_absent(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPROTONOSUPPORT | libc::ECONNREFUSED)
    )
}

/// `write`: RECORDs with random counts (1..=1000, seeded), each acked before
/// the next; prints the sum of the acked counts. With `reopen` it tolerates a
/// missing module (insmod/rmmod cycles): a new socket per request, retried
/// until the module answers.
pub fn write(proto: i32, a: &WriteArgs) -> Result<(), String> {
    if let Some(ns) = &a.netns {
        nl::enter_netns(ns)?;
    }
    let mut rng = Rng::fork(a.seed, 0);
    let (mut records, mut acked_sum, mut unavailable) = (0u64, 0u64, 0u64);
    let mut sock: Option<NlSocket> = None;
    let start = Instant::now();
    let deadline = a.seconds.map(|s| start + Duration::from_secs_f64(s));
    let mut seq = 0u32;
    let mut count = rng.range(1, 1000) as u32;
    loop {
        if a.count.is_some_and(|n| records >= n)
            || deadline.is_some_and(|d| Instant::now() >= d)
            || a.stop_file.as_deref().is_some_and(Path::exists)
        {
            break;
        }
        if sock.is_none() {
            match open_fib(proto) {
                Ok(s) => sock = Some(s),
                // EPROTONOSUPPORT: the module is not loaded right now.
                Err(e) if a.reopen && module_absent(&e) => {
                    unavailable += 1;
                    sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => return Err(format!("socket: {e}")),
            }
        }
        let s = sock.as_mut().ok_or("no socket")?;
        seq = seq.wrapping_add(1);
        let sent = s.send(&record_msg(seq, a.gateway, records as u32 & 0xffff, count));
        let result = match sent {
            Ok(_) => wait_ack(s, seq),
            // ECONNREFUSED: the kernel socket went away (module unloading).
            Err(e) if a.reopen && module_absent(&e) => Ok(libc::EAGAIN),
            Err(e) => Err(format!("send: {e}")),
        };
        if a.reopen {
            sock = None;
        }
        match result {
            Ok(0) => {
                records += 1;
                acked_sum += u64::from(count);
                count = rng.range(1, 1000) as u32;
            }
            // EAGAIN: the namespace's state is not there yet (module loading).
            Ok(libc::EAGAIN) if a.reopen => {
                unavailable += 1;
                sleep(Duration::from_millis(20));
            }
            Ok(errno) => return Err(format!("RECORD {records} answered errno {errno}")),
            Err(e) => return Err(e),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "write {}: records={records} acked_sum={acked_sum} unavailable={unavailable} \
         seconds={secs:.2} rate={:.0}/s cpu={}",
        a.label,
        records as f64 / secs,
        nl::current_cpu()
    );
    Ok(())
}

/// `hold`: opens a socket, sends a GET and leaves its answer unread; creates
/// READY; waits for RELEASE; then reads the STATS reply and the ack, sends a
/// RECORD of 1 and checks its ack: the module served us before and after the
/// rmmod attempt made meanwhile.
pub fn hold(
    netns: Option<&str>,
    proto: i32,
    ready: &Path,
    release: &Path,
    timeout: Duration,
) -> Result<(), String> {
    if let Some(ns) = netns {
        nl::enter_netns(ns)?;
    }
    let mut s = open_fib(proto).map_err(|e| format!("socket: {e}"))?;
    s.send(&nl::message(MSG_GET, NLM_F_REQUEST | NLM_F_ACK, 1, &[]))
        .map_err(|e| format!("send GET: {e}"))?;
    fs::write(ready, "").map_err(|e| format!("{}: {e}", ready.display()))?;
    let start = Instant::now();
    while !release.exists() {
        if start.elapsed() > timeout {
            return Err(format!(
                "{} did not appear within {timeout:?}",
                release.display()
            ));
        }
        sleep(Duration::from_millis(10));
    }
    let d = s
        .recv()
        .map_err(|e| format!("recv: {e}"))?
        .ok_or("no STATS reply")?
        .to_vec();
    let a = nl::answers(&d)?;
    let first = a.first().ok_or("empty answer")?;
    if first.ty != MSG_STATS {
        return Err(format!("expected STATS, got type {:#x}", first.ty));
    }
    let stats = Stats::from_attrs(parse_attrs(first.payload).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if a.len() < 2 && wait_ack(&mut s, 1)? != 0 {
        return Err("GET not acked with 0".into());
    }
    s.send(&record_msg(2, Ipv4Addr::new(192, 0, 2, 253), 0, 1))
        .map_err(|e| format!("send RECORD: {e}"))?;
    match wait_ack(&mut s, 2)? {
        0 => {}
        e => return Err(format!("RECORD after the rmmod attempt: errno {e}")),
    }
    println!(
        "hold: GET answered after {:.2}s held (nl_requests={}), RECORD acked",
        start.elapsed().as_secs_f64(),
        stats.nl_requests
    );
    Ok(())
}

/// `fibstat-stress flood`'s options.
#[derive(clap::Args)]
pub struct FloodArgs {
    #[arg(long)]
    pub dev: String,
    #[arg(long, value_parser = ipv4)]
    pub target: Ipv4Addr,
    /// Sender address of the ARP requests.
    #[arg(long, value_parser = ipv4)]
    pub sender: Ipv4Addr,
    #[arg(long)]
    pub seconds: f64,
    #[arg(long)]
    pub arp: bool,
    #[arg(long)]
    pub ping: bool,
    /// Distinguishes the fake MACs of parallel flooders.
    #[arg(long, default_value_t = 0)]
    pub id: u8,
    /// Packets of each kind per second (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn ifindex(dev: &str) -> Result<i32, String> {
    let name = std::ffi::CString::new(dev).map_err(|e| e.to_string())?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if i == 0 {
        Err(format!("no interface {dev}"))
    } else {
        Ok(i as i32)
    }
}

/// An ARP request for `target` from `sender` with source MAC `mac`, broadcast.
fn arp_frame(mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&sender.octets());
    // target MAC unknown: zero
    f[38..42].copy_from_slice(&target.octets());
    f
}

/// Sends `buf` to `addr` (a `sockaddr_*`) on `fd`; whether all of it went out.
fn send_to<A>(fd: &OwnedFd, buf: &[u8], addr: &A) -> bool {
    // SAFETY: `buf` and `addr` are valid for reads of the lengths passed.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            0,
            (addr as *const A).cast(),
            mem::size_of::<A>() as u32,
        )
    };
    n == buf.len() as isize
}

fn icmp_checksum(b: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in b.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `flood`: ARP requests whose sender MAC alternates between two addresses
/// (so every one that is received changes the target's neighbour entry for
/// SENDER: one NETEVENT_NEIGH_UPDATE each) and/or ICMP echo requests to
/// TARGET, interleaved, as fast as the sockets take them or at `rate`.
pub fn flood(a: &FloodArgs) -> Result<(), String> {
    let index = ifindex(&a.dev)?;
    let arp_sock = if a.arp {
        // SAFETY: plain system call.
        let fd =
            cvt(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })
                .map_err(|e| format!("packet socket: {e}"))?;
        // SAFETY: `fd` is new and owned by nobody else.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    } else {
        None
    };
    let ping_sock = if a.ping {
        // SAFETY: plain system call.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            )
        })
        .map_err(|e| format!("raw ICMP socket: {e}"))?;
        // SAFETY: as above.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // We never read the echo replies: keep the receive buffer small.
        let v: libc::c_int = 4096;
        // SAFETY: `v` is a valid int for the call.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&v as *const libc::c_int).cast(),
                4,
            );
        }
        Some(fd)
    } else {
        None
    };
    // SAFETY: all-zero sockaddr_ll / sockaddr_in are valid; filled in below.
    let mut ll: libc::sockaddr_ll = unsafe { mem::zeroed() };
    ll.sll_family = libc::AF_PACKET as u16;
    ll.sll_protocol = 0x0806u16.to_be();
    ll.sll_ifindex = index;
    ll.sll_halen = 6;
    ll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    // SAFETY: as above.
    let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
    sin.sin_family = libc::AF_INET as u16;
    sin.sin_addr.s_addr = u32::from_ne_bytes(a.target.octets());
    let macs = [[0x02, 0xfb, a.id, 0, 0, 1], [0x02, 0xfb, a.id, 0, 0, 2]];
    let frames = [
        arp_frame(macs[0], a.sender, a.target),
        arp_frame(macs[1], a.sender, a.target),
    ];
    let (mut arp_sent, mut ping_sent, mut send_errors) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(a.seconds);
    let mut echo = [0u8; 64];
    echo[0] = 8; // echo request
    echo[4..6].copy_from_slice(&(std::process::id() as u16).to_be_bytes());
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        if a.rate > 0 {
            let due = start + Duration::from_secs_f64(rounds as f64 / a.rate as f64);
            let now = Instant::now();
            if due > now {
                sleep(due - now);
            }
        }
        let batch = if a.rate > 0 { 1 } else { 16 };
        rounds += batch;
        for _ in 0..batch {
            if let Some(fd) = &arp_sock {
                if send_to(fd, &frames[(arp_sent % 2) as usize], &ll) {
                    arp_sent += 1;
                } else {
                    send_errors += 1;
                }
            }
            if let Some(fd) = &ping_sock {
                echo[2..4].copy_from_slice(&[0, 0]);
                echo[6..8].copy_from_slice(&(ping_sent as u16).to_be_bytes());
                let c = icmp_checksum(&echo);
                echo[2..4].copy_from_slice(&c.to_be_bytes());
                if send_to(fd, &echo, &sin) {
                    ping_sent += 1;
                } else {
                    send_errors += 1;
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "flood {}: arp={arp_sent} ping={ping_sent} send_errors={send_errors} seconds={secs:.2} \
         arp_rate={:.0}/s cpu={}",
        a.dev,
        arp_sent as f64 / secs,
        nl::current_cpu()
    );
    Ok(())
}

/// Parses an IPv4 address argument.
pub fn ipv4(s: &str) -> Result<Ipv4Addr, String> {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok(a),
        _ => Err(format!("'{s}' is not an IPv4 address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_checksum_verifies() {
        let mut echo = [0u8; 64];
        echo[0] = 8;
        echo[7] = 3;
        let c = icmp_checksum(&echo);
        echo[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(icmp_checksum(&echo), 0);
    }

    #[test]
    fn arp_request_layout() {
        let f = arp_frame(
            [2, 0, 0, 0, 0, 1],
            Ipv4Addr::new(198, 51, 100, 3),
            Ipv4Addr::new(198, 51, 100, 1),
        );
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[198, 51, 100, 3]);
        assert_eq!(&f[38..42], &[198, 51, 100, 1]);
    }
}
