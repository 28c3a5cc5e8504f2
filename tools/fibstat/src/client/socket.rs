//! The fib_stat netlink socket: network namespace entry, socket options,
//! request/reply exchange with ack handling.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, NLMSG_ALIGNTO,
};
use netlink_sys::{Socket, SocketAddr};

use super::error::{strerror, Ack, KernelError};

/// Why talking to the module failed. Display gives the text after
/// "fibstat: ".
#[derive(Debug)]
pub enum ClientError {
    /// The named network namespace cannot be opened or entered.
    Netns {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    /// No kernel socket for the protocol: the module is not loaded.
    NotLoaded { proto: i32 },
    /// The module is loaded but has no socket in this network namespace.
    NoKernelSocket { proto: i32 },
    /// The kernel answered with an error.
    Kernel(KernelError),
    /// No answer in time.
    Timeout(Duration),
    /// A reply that cannot be decoded or was not expected.
    BadReply(String),
    /// Something other than fib_stat answered on the protocol number.
    NotFibStat { proto: i32, detail: String },
    /// Any other system call failure.
    Io {
        what: &'static str,
        source: io::Error,
    },
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Netns { name, path, source } => match source.raw_os_error() {
                Some(libc::ENOENT) => write!(
                    f,
                    "network namespace \"{name}\" does not exist ({} not found)",
                    path.display()
                ),
                _ => write!(
                    f,
                    "cannot enter network namespace \"{name}\": {}",
                    io_text(source)
                ),
            },
            ClientError::NotLoaded { proto } => {
                write!(
                    f,
                    "fib_stat module not loaded (netlink protocol {proto} unsupported)"
                )
            }
            ClientError::NoKernelSocket { proto } => write!(
                f,
                "fib_stat has no netlink socket in this network namespace \
                 (netlink protocol {proto} refused the connection)"
            ),
            ClientError::Kernel(e) => e.fmt(f),
            ClientError::Timeout(d) => {
                write!(f, "no answer from the kernel within {} ms", d.as_millis())
            }
            ClientError::BadReply(m) => write!(f, "unexpected reply from the kernel: {m}"),
            ClientError::NotFibStat { proto, detail } => write!(
                f,
                "netlink protocol {proto} is not fib_stat's: {detail}; \
                 use --proto with the module's nl_proto parameter (cat /sys/module/fib_stat/parameters/nl_proto)"
            ),
            ClientError::Io { what, source } => write!(f, "{what}: {}", io_text(source)),
        }
    }
}

impl std::error::Error for ClientError {}

/// An I/O error as strerror(3) says it, without Rust's "(os error N)".
fn io_text(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), strerror)
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Network namespace name (`/run/netns/NAME`) or path; `None`: current.
    pub netns: Option<String>,
    /// Netlink protocol number.
    pub proto: i32,
    /// How long to wait for each answer.
    pub timeout: Duration,
}

/// Path of a network namespace given as `ip netns` name, or as a path if it
/// contains a `/` (like `ip -n`).
pub fn netns_path(name: &str) -> PathBuf {
    if name.contains('/') {
        PathBuf::from(name)
    } else {
        PathBuf::from("/run/netns").join(name)
    }
}

/// Moves the calling thread into the network namespace `name`.
pub fn enter_netns(name: &str) -> Result<()> {
    let path = netns_path(name);
    let err = |source| ClientError::Netns {
        name: name.to_owned(),
        path: path.clone(),
        source,
    };
    let file = File::open(&path).map_err(err)?;
    // SAFETY: plain system call on a file descriptor we own.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(err(io::Error::last_os_error()));
    }
    Ok(())
}

/// A socket connected to the fib_stat kernel socket.
pub struct FibStatSocket {
    socket: Socket,
    proto: i32,
    seq: u32,
    timeout: Duration,
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> ClientError {
    move |source| ClientError::Io { what, source }
}

impl FibStatSocket {
    /// Enters the target's netns (if any) and opens the socket there, with
    /// extended acks enabled and a receive timeout.
    pub fn open(target: &Target) -> Result<Self> {
        if let Some(name) = &target.netns {
            enter_netns(name)?;
        }
        let proto = target.proto;
        let socket = Socket::new(proto as isize).map_err(|e| match e.raw_os_error() {
            Some(libc::EPROTONOSUPPORT) => ClientError::NotLoaded { proto },
            _ => ClientError::Io {
                what: "socket",
                source: e,
            },
        })?;
        // Best effort: old kernels lack it; then errors come without message.
        let _ = socket.set_ext_ack(true);
        set_recv_timeout(&socket, target.timeout).map_err(io_err("setsockopt SO_RCVTIMEO"))?;
        let mut socket = FibStatSocket {
            socket,
            proto,
            seq: 0,
            timeout: target.timeout,
        };
        socket
            .socket
            .bind_auto()
            .map_err(io_err("bind netlink socket"))?;
        socket
            .socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(io_err("connect netlink socket"))?;
        Ok(socket)
    }

    /// Next sequence number (nonzero, so replies can be told apart).
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sends bytes as one datagram to the kernel.
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.socket
            .send(bytes, 0)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ECONNREFUSED) => ClientError::NoKernelSocket { proto: self.proto },
                _ => ClientError::Io {
                    what: "send",
                    source: e,
                },
            })?;
        Ok(())
    }

    /// Sends a message; fills in length, type, flags and sequence number.
    /// Returns the sequence number used.
    pub fn send<I: NetlinkSerializable>(&mut self, payload: I, flags: u16) -> Result<u32> {
        let seq = self.next_seq();
        let bytes = serialize(payload, flags, seq);
        self.send_bytes(&bytes)?;
        Ok(seq)
    }

    /// Receives one datagram and splits it into its netlink messages.
    /// `Ok(None)` on timeout.
    pub fn recv<I: NetlinkDeserializable>(&self) -> Result<Option<Vec<NetlinkMessage<I>>>> {
        let datagram = match self.socket.recv_from_full() {
            Ok((bytes, _)) => bytes,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN)) => return Ok(None),
            Err(e) => {
                return Err(ClientError::Io {
                    what: "recv",
                    source: e,
                })
            }
        };
        split(&datagram).map(Some).map_err(ClientError::BadReply)
    }

    /// Sends `request` with NLM_F_REQUEST|NLM_F_ACK and waits for the ack.
    pub fn request_ack<I>(&mut self, request: I) -> Result<()>
    where
        I: NetlinkSerializable + NetlinkDeserializable,
    {
        let flags = netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_ACK;
        let seq = self.send(request, flags)?;
        loop {
            for msg in self.recv_or_timeout::<I>()? {
                if msg.header.sequence_number != seq {
                    continue;
                }
                if let NetlinkPayload::Error(e) = &msg.payload {
                    return match Ack::parse(&msg.header, e).into_error() {
                        None => Ok(()),
                        Some(e) => Err(ClientError::Kernel(e)),
                    };
                }
            }
        }
    }

    /// Sends `request` with NLM_F_REQUEST and returns the first reply that
    /// is not an NLMSG_ERROR; an NLMSG_ERROR with an error fails.
    pub fn request_reply<I>(&mut self, request: I) -> Result<I>
    where
        I: NetlinkSerializable + NetlinkDeserializable,
    {
        let seq = self.send(request, netlink_packet_core::NLM_F_REQUEST)?;
        loop {
            for msg in self.recv_or_timeout::<I>()? {
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::InnerMessage(reply) => return Ok(reply),
                    NetlinkPayload::Error(e) => {
                        if let Some(e) = Ack::parse(&msg.header, &e).into_error() {
                            return Err(ClientError::Kernel(e));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn recv_or_timeout<I: NetlinkDeserializable>(&self) -> Result<Vec<NetlinkMessage<I>>> {
        self.recv()?.ok_or(ClientError::Timeout(self.timeout))
    }
}

/// Serializes a whole netlink message (header + payload).
pub fn serialize<I: NetlinkSerializable>(payload: I, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
    msg.finalize();
    let mut bytes = vec![0; msg.buffer_len()];
    msg.serialize(&mut bytes);
    bytes
}

/// Splits a datagram into netlink messages and decodes them.
pub fn split<I: NetlinkDeserializable>(
    datagram: &[u8],
) -> std::result::Result<Vec<NetlinkMessage<I>>, String> {
    let mut msgs = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let buf = NetlinkBuffer::new_checked(rest).map_err(|e| e.to_string())?;
        let len = buf.length() as usize;
        msgs.push(NetlinkMessage::deserialize(&rest[..len]).map_err(|e| e.to_string())?);
        let aligned = len.next_multiple_of(usize::from(NLMSG_ALIGNTO));
        rest = rest.get(aligned..).unwrap_or_default();
    }
    Ok(msgs)
}

fn set_recv_timeout(socket: &Socket, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: `tv` is a valid timeval for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
