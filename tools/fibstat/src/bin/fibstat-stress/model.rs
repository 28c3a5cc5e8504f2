//! A reference model of what the kernel does with a datagram sent to the
//! fib_stat socket: `netlink_rcv_skb()`'s framing and acks, then the module's
//! strict request rules (protocol.rs, `parse_command` in fib_stat.rs), then
//! its statistics. Written from the documented rules, independently of the
//! module's code, so that the fuzzer can predict every answer exactly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fibstat::protocol::*;

use crate::nl::{align4, u16_at, u32_at, NLA_HDRLEN, NLMSG_HDRLEN, NLMSG_MIN_TYPE, NLM_F_REQUEST};

pub const EPERM: i32 = libc::EPERM;
pub const EINVAL: i32 = libc::EINVAL;
pub const EOPNOTSUPP: i32 = libc::EOPNOTSUPP;

/// `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`: the module rejects both.
const NLA_F_NESTED: u16 = 1 << 15;
const NLA_F_NET_BYTEORDER: u16 = 1 << 14;

/// One message as `netlink_rcv_skb()` frames it out of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    /// Offset of its header in the datagram.
    pub start: usize,
    /// Its `nlmsg_len` (16 ..= the bytes left from `start`).
    pub len: usize,
}

impl Framed {
    pub fn ty(&self, d: &[u8]) -> u16 {
        u16_at(d, self.start + 4)
    }
    pub fn flags(&self, d: &[u8]) -> u16 {
        u16_at(d, self.start + 6)
    }
    pub fn seq(&self, d: &[u8]) -> u32 {
        u32_at(d, self.start + 8)
    }
    pub fn header<'a>(&self, d: &'a [u8]) -> &'a [u8] {
        &d[self.start..self.start + NLMSG_HDRLEN]
    }
    pub fn payload<'a>(&self, d: &'a [u8]) -> &'a [u8] {
        &d[self.start + NLMSG_HDRLEN..self.start + self.len]
    }
}

/// The messages `netlink_rcv_skb()` hands on (or acks) in datagram `d`, in
/// order: it stops at the first header that is short or claims more bytes than
/// are left, and steps by the aligned length, capped at what is left.
pub fn frame(d: &[u8]) -> Vec<Framed> {
    let mut out = Vec::new();
    let mut off = 0;
    while d.len() - off >= NLMSG_HDRLEN {
        let len = u32_at(d, off) as usize;
        if len < NLMSG_HDRLEN || len > d.len() - off {
            break;
        }
        out.push(Framed { start: off, len });
        off += align4(len).min(d.len() - off);
    }
    out
}

/// What happens to one framed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not a request (no NLM_F_REQUEST) or a control type below
    /// NLMSG_MIN_TYPE: acked 0 without reaching the module.
    Skipped,
    /// A GET: STATS reply, then the ack.
    Get,
    /// An applied RECORD.
    Record {
        gateway: IpAddr,
        ifindex: u32,
        count: u32,
    },
    /// An applied RESET.
    Reset,
    /// Refused with this errno (the module counts it in nl_requests).
    Error(i32),
}

/// Predicts the outcome of a framed message of type `ty`, flags `flags`,
/// attributes `payload`, sent by a task with (`privileged`) or without
/// CAP_NET_ADMIN over the namespace.
pub fn outcome(ty: u16, flags: u16, payload: &[u8], privileged: bool) -> Outcome {
    if flags & NLM_F_REQUEST == 0 || ty < NLMSG_MIN_TYPE {
        return Outcome::Skipped;
    }
    match ty {
        MSG_GET => match parse_attrs(payload, false) {
            Some(_) => Outcome::Get,
            None => Outcome::Error(EINVAL),
        },
        MSG_RESET if !privileged => Outcome::Error(EPERM),
        MSG_RESET => match parse_attrs(payload, false) {
            Some(_) => Outcome::Reset,
            None => Outcome::Error(EINVAL),
        },
        MSG_RECORD if !privileged => Outcome::Error(EPERM),
        MSG_RECORD => {
            record(payload).map_or(Outcome::Error(EINVAL), |(gateway, ifindex, count)| {
                Outcome::Record {
                    gateway,
                    ifindex,
                    count,
                }
            })
        }
        _ => Outcome::Error(EOPNOTSUPP),
    }
}

/// The attributes of a request by type, if they obey the strict rules: every
/// attribute fits (the last one may lack its padding), no flag bits, types
/// 1..=ATTR_REQ_MAX only, allowed for the message type (RECORD: all four; GET
/// and RESET: none), exact length, no duplicates, nothing left over.
fn parse_attrs(
    mut rest: &[u8],
    record: bool,
) -> Option<[Option<&[u8]>; ATTR_REQ_MAX as usize + 1]> {
    let mut out = [None; ATTR_REQ_MAX as usize + 1];
    while !rest.is_empty() {
        if rest.len() < NLA_HDRLEN {
            return None;
        }
        let len = usize::from(u16_at(rest, 0));
        let ty = u16_at(rest, 2);
        if len < NLA_HDRLEN || len > rest.len() || ty & (NLA_F_NESTED | NLA_F_NET_BYTEORDER) != 0 {
            return None;
        }
        let want = match ty {
            ATTR_GATEWAY4 | ATTR_IFINDEX | ATTR_COUNT if record => 4,
            ATTR_GATEWAY6 if record => 16,
            _ => return None,
        };
        if len - NLA_HDRLEN != want {
            return None;
        }
        let slot = &mut out[usize::from(ty)];
        if slot.is_some() {
            return None;
        }
        *slot = Some(&rest[NLA_HDRLEN..len]);
        rest = rest.get(align4(len)..).unwrap_or(&[]);
    }
    Some(out)
}

fn record(payload: &[u8]) -> Option<(IpAddr, u32, u32)> {
    let a = parse_attrs(payload, true)?;
    let gateway = match (a[usize::from(ATTR_GATEWAY4)], a[usize::from(ATTR_GATEWAY6)]) {
        (Some(v4), None) => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(v4).ok()?)),
        (None, Some(v6)) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v6).ok()?)),
        _ => return None,
    };
    let count = u32_at(a[usize::from(ATTR_COUNT)]?, 0);
    if !(1..=MAX_RECORD_COUNT).contains(&count) {
        return None;
    }
    let ifindex = a[usize::from(ATTR_IFINDEX)].map_or(0, |v| u32_at(v, 0));
    Some((gateway, ifindex, count))
}

/// The statistics the requests can change, as the module keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    pub nl_requests: u64,
    pub gw_records: u64,
    pub last_gateway: Option<(IpAddr, u32)>,
}

impl Model {
    /// Applies one outcome: every message that reaches the module counts in
    /// nl_requests (a GET before its snapshot); a RESET leaves nl_requests 1.
    pub fn apply(&mut self, o: &Outcome) {
        match *o {
            Outcome::Skipped => {}
            Outcome::Get | Outcome::Error(_) => self.nl_requests += 1,
            Outcome::Record {
                gateway,
                ifindex,
                count,
            } => {
                self.nl_requests += 1;
                self.gw_records += u64::from(count);
                self.last_gateway = Some((gateway, ifindex));
            }
            Outcome::Reset => {
                *self = Model {
                    nl_requests: 1,
                    gw_records: 0,
                    last_gateway: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::{attr, message, NLM_F_ACK};

    const RA: u16 = NLM_F_REQUEST | NLM_F_ACK;

    fn rec(attrs: &[Vec<u8>]) -> Outcome {
        outcome(MSG_RECORD, RA, &attrs.concat(), true)
    }
    fn count(n: u32) -> Vec<u8> {
        attr(ATTR_COUNT, &n.to_ne_bytes())
    }
    fn gw4() -> Vec<u8> {
        attr(ATTR_GATEWAY4, &[192, 0, 2, 1])
    }

    // The table of tests/guest/malformed.sh, predicted.
    #[test]
    fn documented_rules() {
        let ok = Outcome::Record {
            gateway: "192.0.2.1".parse().unwrap(),
            ifindex: 0,
            count: 5,
        };
        assert_eq!(rec(&[gw4(), count(5)]), ok);
        assert_eq!(rec(&[count(5), gw4()]), ok);
        assert_eq!(
            rec(&[attr(ATTR_GATEWAY4, &[192, 0, 2]), count(1)]),
            Outcome::Error(EINVAL)
        );
        assert_eq!(
            rec(&[gw4(), attr(ATTR_COUNT, &[1, 0])]),
            Outcome::Error(EINVAL)
        );
        assert_eq!(
            rec(&[gw4(), count(1), attr(99, &[0; 4])]),
            Outcome::Error(EINVAL)
        );
        assert_eq!(
            rec(&[gw4(), count(1), attr(7, &[0; 8])]),
            Outcome::Error(EINVAL)
        );
        assert_eq!(
            outcome(MSG_GET, RA, &count(1), true),
            Outcome::Error(EINVAL)
        );
        assert_eq!(rec(&[gw4(), count(1), count(1)]), Outcome::Error(EINVAL));
        assert_eq!(rec(&[gw4(), count(0)]), Outcome::Error(EINVAL));
        assert_eq!(rec(&[gw4(), count(1_000_001)]), Outcome::Error(EINVAL));
        assert_eq!(rec(&[gw4()]), Outcome::Error(EINVAL));
        assert_eq!(rec(&[count(1)]), Outcome::Error(EINVAL));
        assert_eq!(
            rec(&[gw4(), attr(ATTR_GATEWAY6, &[0; 16]), count(1)]),
            Outcome::Error(EINVAL)
        );
        assert_eq!(
            outcome(MSG_RECORD, RA, &[8, 0], true),
            Outcome::Error(EINVAL)
        );
        assert_eq!(outcome(0x20, RA, &[], true), Outcome::Error(EOPNOTSUPP));
        assert_eq!(
            outcome(MSG_STATS, RA, &[], true),
            Outcome::Error(EOPNOTSUPP)
        );
        assert_eq!(outcome(MSG_GET, RA, &[], true), Outcome::Get);
        assert_eq!(outcome(MSG_RESET, RA, &[], true), Outcome::Reset);
        // No privilege: RECORD and RESET refused before their attributes are read.
        assert_eq!(
            outcome(MSG_RESET, RA, &[1, 2, 3], false),
            Outcome::Error(EPERM)
        );
        assert_eq!(outcome(MSG_RECORD, RA, &[], false), Outcome::Error(EPERM));
        assert_eq!(outcome(MSG_GET, RA, &[], false), Outcome::Get);
        // Not requests, or control messages: never reach the module.
        assert_eq!(outcome(MSG_RECORD, NLM_F_ACK, &[], true), Outcome::Skipped);
        assert_eq!(outcome(0x3, RA, &[], true), Outcome::Skipped);
        // Flag bits in the attribute type.
        let mut nested = gw4();
        nested[3] |= 0x80;
        assert_eq!(rec(&[nested, count(1)]), Outcome::Error(EINVAL));
    }

    #[test]
    fn last_attribute_may_lack_padding() {
        let mut p = [gw4(), count(3), attr(ATTR_IFINDEX, &9u32.to_ne_bytes())].concat();
        assert!(matches!(
            outcome(MSG_RECORD, RA, &p, true),
            Outcome::Record { ifindex: 9, .. }
        ));
        // A 16-byte GATEWAY6 attribute is 20 bytes, aligned already; a stray byte is left over.
        p.push(0);
        assert_eq!(outcome(MSG_RECORD, RA, &p, true), Outcome::Error(EINVAL));
    }

    #[test]
    fn framing_like_netlink_rcv_skb() {
        let a = message(MSG_GET, RA, 1, &[]);
        let b = message(MSG_RECORD, RA, 2, &[gw4(), count(1)].concat());
        let d = [a.clone(), b.clone()].concat();
        assert_eq!(
            frame(&d),
            vec![
                Framed { start: 0, len: 16 },
                Framed {
                    start: 16,
                    len: b.len()
                }
            ]
        );
        // A length beyond the datagram ends the walk; so does one below 16.
        let mut bad = d.clone();
        bad[16..20].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(frame(&bad).len(), 1);
        bad[16..20].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(frame(&bad).len(), 1);
        // An unaligned length steps over the padding; a short tail is ignored.
        let mut c = message(MSG_GET, RA, 3, &[1]);
        c.extend_from_slice(&[0; 3]);
        c.extend_from_slice(&a);
        c.extend_from_slice(&[0; 15]);
        assert_eq!(
            frame(&c),
            vec![Framed { start: 0, len: 17 }, Framed { start: 20, len: 16 }]
        );
        assert!(frame(&[0; 15]).is_empty());
    }

    #[test]
    fn model_counts() {
        let mut m = Model {
            nl_requests: 4,
            gw_records: 10,
            last_gateway: None,
        };
        m.apply(&Outcome::Skipped);
        m.apply(&Outcome::Error(EINVAL));
        m.apply(&rec(&[gw4(), count(7)]));
        assert_eq!((m.nl_requests, m.gw_records), (6, 17));
        m.apply(&Outcome::Reset);
        m.apply(&Outcome::Get);
        assert_eq!((m.nl_requests, m.gw_records, m.last_gateway), (2, 0, None));
    }
}
