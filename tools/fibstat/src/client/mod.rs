//! The netlink client of the fib_stat module: `fibstat show|record|reset|raw`.
//!
//! * [`msg`]: fib_stat messages and attributes (netlink-packet-core traits).
//! * [`socket`]: the socket, network namespace entry, acks and replies.
//! * [`error`]: NLMSG_ERROR decoding with extended acks, errno texts.
//! * [`render`]: the statistics as a table or JSON.
//! * [`raw`]: arbitrary messages for the malformed-request tests.
//!
//! Exit codes: 0 success, 1 failure (kernel error, module not loaded, netns
//! missing, no answer), 2 usage error (from clap), 3 `raw` got no answer.

pub mod error;
pub mod msg;
pub mod raw;
pub mod render;
pub mod socket;

use std::net::IpAddr;
use std::time::Duration;

use clap::Args;

use crate::protocol::{MAX_RECORD_COUNT, NETLINK_FIB_STAT};
use msg::{FibStatMessage, Record};
use raw::{HexBytes, RawRequest};
use socket::{ClientError, FibStatSocket, Target};

/// Exit status of a failure (kernel error, module missing, ...).
pub const EXIT_FAILURE: i32 = 1;
/// Exit status of `raw` when the kernel did not answer.
pub const EXIT_NO_ANSWER: i32 = 3;

/// How long `show`, `record` and `reset` wait for the kernel.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the netlink subcommands talk to the module: the global `-n` and
/// `--proto` options.
#[derive(Debug, Clone)]
pub struct Conn {
    /// Network namespace NAME (`/run/netns/NAME`, or a path), like `ip -n`.
    pub netns: Option<String>,
    /// Netlink protocol number of the module (its `nl_proto` parameter).
    pub proto: i32,
}

impl Default for Conn {
    fn default() -> Self {
        Conn {
            netns: None,
            proto: NETLINK_FIB_STAT,
        }
    }
}

impl Conn {
    fn target(&self, timeout: Duration) -> Target {
        Target {
            netns: self.netns.clone(),
            proto: self.proto,
            timeout,
        }
    }
}

/// `fibstat show` (no options of its own: `-j`, `-p`, `-n`, `--proto` are global).
#[derive(Args, Debug, Clone, Default)]
pub struct ShowArgs {}

/// `fibstat record`
#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// Gateway address, IPv4 or IPv6.
    #[arg(long, value_name = "ADDR")]
    pub gateway: IpAddr,

    /// Interface index of the gateway (omitted: the module uses 0).
    #[arg(long, value_name = "N")]
    pub ifindex: Option<u32>,

    /// Number of gateway records to apply.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RECORD_COUNT))
    )]
    pub count: u32,
}

/// `fibstat reset`
#[derive(Args, Debug, Clone, Default)]
pub struct ResetArgs {}

/// `fibstat raw`: send an arbitrary message, print the kernel's answers.
#[derive(Args, Debug, Clone)]
pub struct RawArgs {
    /// nlmsg_type: a number (decimal or 0x hex) or GET, RECORD, RESET, STATS.
    #[arg(long = "type", value_name = "T", value_parser = raw::parse_msg_type)]
    pub msg_type: u16,

    /// nlmsg_flags (default NLM_F_REQUEST|NLM_F_ACK).
    #[arg(long, value_name = "F", default_value = "0x5", value_parser = raw::parse_num::<u16>)]
    pub flags: u16,

    /// nlmsg_seq.
    #[arg(long, value_name = "N", default_value = "1", value_parser = raw::parse_num::<u32>)]
    pub seq: u32,

    /// Attribute TYPE:HEX, or TYPE:u8|u16|u32|u64:N (host order), or TYPE:ip:ADDR;
    /// TYPE is a number or GATEWAY4, GATEWAY6, IFINDEX, COUNT. Repeatable, in order.
    #[arg(long = "attr", value_name = "TYPE:VALUE", value_parser = raw::parse_attr)]
    pub attrs: Vec<netlink_packet_core::DefaultNla>,

    /// Payload after the header as hex, instead of --attr.
    #[arg(long, value_name = "HEX", conflicts_with = "attrs", value_parser = raw::parse_hex)]
    pub payload_hex: Option<HexBytes>,

    /// Override nlmsg_len; below 16 the datagram is also cut to N bytes.
    #[arg(long, value_name = "N", value_parser = raw::parse_num::<u32>)]
    pub len: Option<u32>,

    /// How long to wait for an answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub timeout_ms: u64,
}

/// Prints a failure as `fibstat: ...` and returns the exit status.
fn fail(e: ClientError) -> i32 {
    eprintln!("fibstat: {e}");
    EXIT_FAILURE
}

fn run(f: impl FnOnce() -> Result<(), ClientError>) -> i32 {
    f().map_or_else(fail, |()| 0)
}

/// Fetches the statistics of the target's network namespace.
pub fn get_stats(target: &Target) -> Result<msg::Stats, ClientError> {
    let mut sock = FibStatSocket::open(target)?;
    classify_get(target.proto, sock.request_reply(FibStatMessage::Get))
}

/// The answer to GET, or why it shows that the protocol is not fib_stat's:
/// fib_stat answers GET with a STATS message, or (namespace being set up,
/// no memory) EAGAIN / ENOMEM; anything else comes from another kernel
/// socket on that protocol number.
pub fn classify_get(
    proto: i32,
    answer: Result<FibStatMessage, ClientError>,
) -> Result<msg::Stats, ClientError> {
    let not_fib_stat = |detail: String| ClientError::NotFibStat { proto, detail };
    match answer {
        Ok(FibStatMessage::Stats(stats)) => Ok(stats),
        Ok(other) => Err(not_fib_stat(format!(
            "the answer to GET is not a STATS message ({other:?})"
        ))),
        Err(ClientError::BadReply(m)) => Err(not_fib_stat(format!(
            "the answer to GET is not a valid fib_stat STATS message ({m})"
        ))),
        Err(ClientError::Kernel(e)) if !matches!(e.errno, libc::EAGAIN | libc::ENOMEM) => {
            Err(not_fib_stat(format!(
                "GET was answered with an error fib_stat never gives ({e})"
            )))
        }
        Err(ClientError::Timeout(d)) => Err(not_fib_stat(format!(
            "no answer to GET within {} ms (fib_stat answers it at once)",
            d.as_millis()
        ))),
        Err(e) => Err(e),
    }
}

/// `fibstat show`: prints the statistics as a table, or JSON (`-j`, `-p`).
pub fn show(conn: &Conn, json: bool, pretty: bool) -> i32 {
    run(|| {
        let stats = get_stats(&conn.target(REPLY_TIMEOUT))?;
        if json || pretty {
            println!("{}", render::json(&stats, pretty));
        } else {
            print!("{}", render::table(&stats));
        }
        Ok(())
    })
}

/// `fibstat record`: sends RECORD and waits for the ack.
pub fn record(conn: &Conn, args: &RecordArgs) -> i32 {
    run(|| {
        let mut sock = FibStatSocket::open(&conn.target(REPLY_TIMEOUT))?;
        sock.request_ack(FibStatMessage::Record(Record {
            gateway: args.gateway,
            ifindex: args.ifindex,
            count: args.count,
        }))
    })
}

/// `fibstat reset`: sends RESET and waits for the ack.
pub fn reset(conn: &Conn) -> i32 {
    run(|| {
        let mut sock = FibStatSocket::open(&conn.target(REPLY_TIMEOUT))?;
        sock.request_ack(FibStatMessage::Reset)
    })
}

/// `fibstat raw`: sends the message, prints one line per answer; 0 if the
/// kernel answered, 3 if it did not, 1 if the message could not be sent.
pub fn raw(conn: &Conn, args: &RawArgs) -> i32 {
    let request = RawRequest {
        message_type: args.msg_type,
        flags: args.flags,
        seq: args.seq,
        payload: args.payload_hex.clone().map(|h| h.0),
        attrs: args.attrs.clone(),
        len: args.len,
    };
    let target = conn.target(Duration::from_millis(args.timeout_ms.max(1)));
    let exchange = || -> Result<bool, ClientError> {
        let sock = FibStatSocket::open(&target)?;
        sock.send_bytes(&request.to_bytes())?;
        let mut answered = false;
        while let Some(msgs) = sock.recv::<msg::RawMessage>()? {
            answered = true;
            let mut last = false;
            for m in &msgs {
                println!("{}", raw::describe(m));
                last |= raw::is_last(m, request.flags);
            }
            if last {
                break;
            }
        }
        Ok(answered)
    };
    match exchange() {
        Ok(true) => 0,
        Ok(false) => {
            println!("no answer");
            EXIT_NO_ANSWER
        }
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::error::KernelError;
    use super::*;

    fn detail(r: Result<msg::Stats, ClientError>) -> String {
        match r {
            Err(e @ ClientError::NotFibStat { .. }) => e.to_string(),
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn answers_that_are_not_fib_stats() {
        let kernel = |errno| {
            Err(ClientError::Kernel(KernelError {
                errno,
                msg: Some("Invalid header".into()),
            }))
        };
        assert_eq!(
            detail(classify_get(0, kernel(libc::EINVAL))),
            "netlink protocol 0 is not fib_stat's: GET was answered with an error fib_stat \
             never gives (invalid argument: Invalid header); use --proto with the module's \
             nl_proto parameter (cat /sys/module/fib_stat/parameters/nl_proto)"
        );
        assert!(detail(classify_get(3, Ok(FibStatMessage::Reset)))
            .contains("the answer to GET is not a STATS message (Reset)"));
        assert!(
            detail(classify_get(3, Err(ClientError::BadReply("short".into()))))
                .contains("not a valid fib_stat STATS message (short)")
        );
        assert!(detail(classify_get(
            3,
            Err(ClientError::Timeout(Duration::from_secs(5)))
        ))
        .contains("no answer to GET within 5000 ms"));
        // fib_stat's own transient errors pass through.
        assert!(matches!(
            classify_get(25, kernel(libc::EAGAIN)),
            Err(ClientError::Kernel(_))
        ));
    }
}
