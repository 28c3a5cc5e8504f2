//! `fibstat raw`: send an arbitrary (possibly malformed) message and print
//! what the kernel answers. For the module's malformed-request tests.

use std::net::IpAddr;

use netlink_packet_core::{
    DefaultNla, Emitable, NetlinkBuffer, NetlinkMessage, NetlinkPayload, NLM_F_ACK,
};

use super::error::{errno_name, Ack, NLMSG_HDRLEN};
use super::msg::{message_type_name, RawMessage};
use super::socket;
use crate::protocol::*;

/// Bytes given in hexadecimal on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

/// Parses hex digits (an optional `0x` prefix; nothing means no bytes).
pub fn parse_hex(s: &str) -> Result<HexBytes, String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in {s:?}"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|byte| u8::from_str_radix(byte, 16).ok())
                .ok_or_else(|| format!("not hex: {s:?}"))
        })
        .collect::<Result<_, _>>()
        .map(HexBytes)
}

/// Parses a number in decimal or, with `0x`, hexadecimal.
pub fn parse_num<T>(s: &str) -> Result<T, String>
where
    T: TryFrom<u64>,
{
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse::<u64>(),
    }
    .map_err(|e| format!("{s:?}: {e}"))?;
    T::try_from(v).map_err(|_| format!("{s:?}: out of range"))
}

/// A message type: a number or GET, RECORD, RESET, STATS.
pub fn parse_msg_type(s: &str) -> Result<u16, String> {
    match s.to_ascii_uppercase().as_str() {
        "GET" => Ok(MSG_GET),
        "RECORD" => Ok(MSG_RECORD),
        "RESET" => Ok(MSG_RESET),
        "STATS" => Ok(MSG_STATS),
        _ => parse_num(s),
    }
}

fn parse_attr_type(s: &str) -> Result<u16, String> {
    match s.to_ascii_uppercase().as_str() {
        "GATEWAY4" => Ok(ATTR_GATEWAY4),
        "GATEWAY6" => Ok(ATTR_GATEWAY6),
        "IFINDEX" => Ok(ATTR_IFINDEX),
        "COUNT" => Ok(ATTR_COUNT),
        _ => parse_num(s),
    }
}

/// Parses `TYPE:VALUE`, VALUE being HEX, `u8:N`, `u16:N`, `u32:N`, `u64:N`
/// (host byte order) or `ip:ADDR` (network byte order). TYPE is a number or
/// GATEWAY4, GATEWAY6, IFINDEX, COUNT.
pub fn parse_attr(s: &str) -> Result<DefaultNla, String> {
    let (kind, value) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected TYPE:VALUE"))?;
    let kind = parse_attr_type(kind)?;
    let bytes = match value.split_once(':') {
        Some(("u8", n)) => vec![parse_num::<u8>(n)?],
        Some(("u16", n)) => parse_num::<u16>(n)?.to_ne_bytes().to_vec(),
        Some(("u32", n)) => parse_num::<u32>(n)?.to_ne_bytes().to_vec(),
        Some(("u64", n)) => parse_num::<u64>(n)?.to_ne_bytes().to_vec(),
        Some(("ip", a)) => match a.parse::<IpAddr>().map_err(|e| format!("{a:?}: {e}"))? {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        },
        Some((t, _)) => return Err(format!("{s:?}: unknown value type {t:?}")),
        None => parse_hex(value)?.0,
    };
    if bytes.len() > usize::from(u16::MAX) - 4 {
        return Err(format!("{s:?}: attribute too long"));
    }
    Ok(DefaultNla::new(kind, bytes))
}

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub message_type: u16,
    pub flags: u16,
    pub seq: u32,
    /// Payload bytes after the header; if `None`, the attributes.
    pub payload: Option<Vec<u8>>,
    pub attrs: Vec<DefaultNla>,
    /// Overrides nlmsg_len; below the header size (16) the datagram is also
    /// cut to that many bytes.
    pub len: Option<u32>,
}

impl RawRequest {
    /// The datagram to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = self.payload.clone().unwrap_or_else(|| {
            let attrs = self.attrs.as_slice();
            let mut buf = vec![0; attrs.buffer_len()];
            attrs.emit(&mut buf);
            buf
        });
        let msg = RawMessage {
            message_type: self.message_type,
            payload,
        };
        let mut bytes = socket::serialize(msg, self.flags, self.seq);
        if let Some(len) = self.len {
            NetlinkBuffer::new(&mut bytes).set_length(len);
            // A "short header" message: only the first len bytes go out.
            if (len as usize) < NLMSG_HDRLEN {
                bytes.truncate(len as usize);
            }
        }
        bytes
    }
}

/// One line describing a message from the kernel:
/// `ack`, `errno=EINVAL (22) msg="..." [offset=N]`, or
/// `reply type=0x13 (STATS) len=N`.
pub fn describe(msg: &NetlinkMessage<RawMessage>) -> String {
    match &msg.payload {
        NetlinkPayload::Error(e) => {
            let ack = Ack::parse(&msg.header, e);
            let mut line = if ack.errno == 0 {
                let mut line = "ack".to_owned();
                if let Some(m) = &ack.msg {
                    line += &format!(" msg={m:?}");
                }
                line
            } else {
                format!(
                    "errno={} ({}) msg={:?}",
                    errno_name(ack.errno).unwrap_or("UNKNOWN"),
                    ack.errno,
                    ack.msg.as_deref().unwrap_or("")
                )
            };
            if let Some(off) = ack.offset {
                line += &format!(" offset={off}");
            }
            line
        }
        _ => {
            let t = msg.header.message_type;
            match message_type_name(t) {
                Some(name) => format!("reply type={t:#x} ({name}) len={}", msg.header.length),
                None => format!("reply type={t:#x} len={}", msg.header.length),
            }
        }
    }
}

/// Whether the exchange is over after `msg`: after an NLMSG_ERROR (ack or
/// error), or after any reply when no ack was requested.
pub fn is_last(msg: &NetlinkMessage<RawMessage>, request_flags: u16) -> bool {
    matches!(msg.payload, NetlinkPayload::Error(_)) || request_flags & NLM_F_ACK == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex() {
        assert_eq!(parse_hex("").unwrap(), HexBytes(vec![]));
        assert_eq!(parse_hex("0a0B").unwrap(), HexBytes(vec![10, 11]));
        assert_eq!(parse_hex("0x01").unwrap(), HexBytes(vec![1]));
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn attr_specs() {
        assert_eq!(
            parse_attr("1:0a0000").unwrap(),
            DefaultNla::new(1, vec![10, 0, 0])
        );
        assert_eq!(
            parse_attr("COUNT:u32:0x10").unwrap(),
            DefaultNla::new(ATTR_COUNT, 16u32.to_ne_bytes().to_vec())
        );
        assert_eq!(
            parse_attr("gateway6:ip:::1").unwrap(),
            DefaultNla::new(
                ATTR_GATEWAY6,
                std::net::Ipv6Addr::LOCALHOST.octets().to_vec()
            )
        );
        assert_eq!(parse_attr("99:").unwrap(), DefaultNla::new(99, vec![]));
        assert!(parse_attr("1").is_err());
        assert!(parse_attr("1:f32:1").is_err());
        assert!(parse_attr("4:u8:256").is_err());
    }

    #[test]
    fn msg_types() {
        assert_eq!(parse_msg_type("record"), Ok(MSG_RECORD));
        assert_eq!(parse_msg_type("0x20"), Ok(0x20));
        assert_eq!(parse_msg_type("32"), Ok(32));
        assert!(parse_msg_type("0x10000").is_err());
    }
}
