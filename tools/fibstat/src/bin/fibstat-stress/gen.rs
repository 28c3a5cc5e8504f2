//! The fuzzer's message generator: valid requests, valid requests with
//! mutations (header and attributes), structured random attribute lists and
//! plain random bytes; one to several messages per datagram.

use fibstat::protocol::*;

use crate::model::{frame, Framed};
use crate::nl::{
    self, align4, attr, header, u16_at, NLA_HDRLEN, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_REQUEST,
};
use crate::rng::Rng;

/// At most this many messages the kernel frames in one datagram (their
/// answers must fit the receive buffer).
pub const MAX_FRAMED: usize = 32;

/// Message types worth hitting: ours, the reply type, neighbours, control
/// types (below NLMSG_MIN_TYPE), extremes.
const TYPES: &[u16] = &[
    0, 1, 2, 3, 4, 0x0f, MSG_GET, MSG_RECORD, MSG_RESET, MSG_STATS, 0x14, 0x20, 0x7fff, 0xffff,
];
/// Attribute types worth hitting: request types, reply types, the pad, out of
/// range, and with the nested / byte-order flag bits.
const ATTR_TYPES: &[u16] = &[
    0, 1, 2, 3, 4, 5, 7, 13, 16, 17, 99, 0x3fff, 0x4001, 0x4004, 0x8001, 0x8004, 0xc004, 0xffff,
];
const COUNTS: &[u32] = &[
    0,
    1,
    2,
    999_999,
    MAX_RECORD_COUNT,
    MAX_RECORD_COUNT + 1,
    0x7fff_ffff,
    u32::MAX,
];
const BYTES: &[u8] = &[0, 1, 3, 4, 0x0f, 0x10, 0x7f, 0x80, 0xfe, 0xff];

/// A valid request: RECORD (70%), GET (29.5%) or RESET (0.5%).
fn valid(rng: &mut Rng) -> Vec<u8> {
    let k = rng.below(201);
    let (ty, payload) = if k < 140 {
        let gw = if rng.chance(55) {
            attr(ATTR_GATEWAY4, &[192, 0, 2, rng.range(1, 254) as u8])
        } else {
            let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            a[15] = rng.range(1, 255) as u8;
            attr(ATTR_GATEWAY6, &a)
        };
        let count = match rng.below(10) {
            0 => *rng.pick(&[1, MAX_RECORD_COUNT]),
            1..=2 => rng.range(1, u64::from(MAX_RECORD_COUNT)) as u32,
            _ => rng.range(1, 1000) as u32,
        };
        let mut attrs = vec![gw, attr(ATTR_COUNT, &count.to_ne_bytes())];
        if rng.chance(50) {
            attrs.push(attr(ATTR_IFINDEX, &(rng.below(64) as u32).to_ne_bytes()));
        }
        shuffle(rng, &mut attrs);
        (MSG_RECORD, attrs.concat())
    } else if k < 200 {
        (MSG_GET, Vec::new())
    } else {
        (MSG_RESET, Vec::new())
    };
    nl::message(ty, NLM_F_REQUEST | NLM_F_ACK, 0, &payload)
}

fn shuffle<T>(rng: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// Offsets of the attributes of message `m` that parse (stops at the first
/// that does not).
fn attr_offsets(m: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = NLMSG_HDRLEN;
    while m.len() >= off + NLA_HDRLEN {
        let len = usize::from(u16_at(m, off));
        if len < NLA_HDRLEN || off + len > m.len() {
            break;
        }
        out.push(off);
        off += align4(len);
    }
    out
}

fn set_len(m: &mut [u8], len: u32) {
    m[0..4].copy_from_slice(&len.to_ne_bytes());
}

/// One random mutation of message `m` (header included).
fn mutate(rng: &mut Rng, m: &mut Vec<u8>) {
    let attrs = attr_offsets(m);
    let payload_len = m.len() - NLMSG_HDRLEN;
    match rng.below(15) {
        0 => {
            let i = rng.below(m.len() as u64) as usize;
            m[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = rng.below(m.len() as u64) as usize;
            m[i] = *rng.pick(BYTES);
        }
        2 => {
            let at = NLMSG_HDRLEN + rng.below(payload_len as u64 + 1) as usize;
            let n = rng.range(1, 8) as usize;
            let junk = rng.bytes(n);
            m.splice(at..at, junk);
        }
        3 if payload_len > 0 => {
            let at = NLMSG_HDRLEN + rng.below(payload_len as u64) as usize;
            let end = (at + rng.range(1, 8) as usize).min(m.len());
            m.drain(at..end);
        }
        4 => m.truncate(NLMSG_HDRLEN + rng.below(payload_len as u64 + 1) as usize),
        5 => {
            let ty = *rng.pick(ATTR_TYPES);
            let len = *rng.pick(&[0usize, 1, 2, 3, 4, 8, 15, 16, 17, 20]);
            let value = rng.bytes(len);
            m.extend_from_slice(&attr(ty, &value));
        }
        6 if !attrs.is_empty() => {
            let at = *rng.pick(&attrs);
            let len = align4(usize::from(u16_at(m, at))).min(m.len() - at);
            let copy = m[at..at + len].to_vec();
            m.extend_from_slice(&copy);
        }
        7 if !attrs.is_empty() => {
            let at = *rng.pick(&attrs);
            let len: u16 = *rng.pick(&[0, 1, 3, 4, 5, 7, 8, 9, 12, 20, 24, 0x100, 0xffff]);
            m[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        8 if !attrs.is_empty() => {
            let at = *rng.pick(&attrs);
            let ty = if rng.chance(50) {
                *rng.pick(ATTR_TYPES)
            } else {
                u16_at(m, at + 2) | *rng.pick(&[0x4000u16, 0x8000])
            };
            m[at + 2..at + 4].copy_from_slice(&ty.to_ne_bytes());
        }
        9 if attrs.len() >= 2 => {
            // Move the last attribute to the front.
            let last = *attrs.last().unwrap_or(&NLMSG_HDRLEN);
            let tail = m.split_off(last);
            m.splice(NLMSG_HDRLEN..NLMSG_HDRLEN, tail);
        }
        10 => {
            let ty = if rng.chance(80) {
                *rng.pick(TYPES)
            } else {
                rng.next_u32() as u16
            };
            m[4..6].copy_from_slice(&ty.to_ne_bytes());
        }
        11 => {
            let flags: u16 = if rng.chance(50) {
                rng.next_u32() as u16
            } else {
                *rng.pick(&[0, 1, 4, 5, 0x300, 0xffff])
            };
            m[6..8].copy_from_slice(&flags.to_ne_bytes());
        }
        12 => {
            let len = m.len() as u32;
            let new = match rng.below(4) {
                0 => rng.below(NLMSG_HDRLEN as u64 + 1) as u32,
                1 => len.saturating_sub(rng.range(1, 4) as u32),
                2 => len + rng.range(1, 4) as u32,
                _ => rng.next_u32(),
            };
            set_len(m, new);
            return;
        }
        13 if !attrs.is_empty() => {
            // A value at a boundary (COUNT 0, 1000001, u32::MAX, ...).
            let at = *rng.pick(&attrs);
            if usize::from(u16_at(m, at)) == NLA_HDRLEN + 4 {
                m[at + 4..at + 8].copy_from_slice(&rng.pick(COUNTS).to_ne_bytes());
            }
        }
        _ => {
            // Pad the payload with zero bytes (a truncated attribute header, or padding).
            let n = rng.range(1, 6) as usize;
            m.resize(m.len() + n, 0);
        }
    }
    // Usually keep nlmsg_len consistent with the bytes; sometimes not.
    if rng.chance(90) {
        let len = m.len() as u32;
        set_len(m, len);
    }
}

/// A random attribute list under a valid header.
fn structured(rng: &mut Rng) -> Vec<u8> {
    let mut payload = Vec::new();
    for _ in 0..rng.below(6) {
        let ty = *rng.pick(ATTR_TYPES);
        let len = *rng.pick(&[0usize, 2, 4, 4, 4, 8, 16, 16, 17]);
        let value = if len == 4 && rng.chance(50) {
            rng.pick(COUNTS).to_ne_bytes().to_vec()
        } else {
            rng.bytes(len)
        };
        payload.extend_from_slice(&attr(ty, &value));
    }
    if rng.chance(20) && payload.len() >= 2 {
        payload.truncate(payload.len() - rng.range(1, 2) as usize);
    }
    let ty = if rng.chance(85) {
        *rng.pick(&[MSG_GET, MSG_RECORD, MSG_RECORD, MSG_RESET])
    } else {
        *rng.pick(TYPES)
    };
    nl::message(ty, NLM_F_REQUEST | NLM_F_ACK, 0, &payload)
}

/// 1..=160 random bytes, half of the time under a plausible header. (Never
/// none: af_netlink refuses an empty datagram with ENODATA before any
/// netlink code runs, and logs that once.)
fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let n = rng.range(1, 160) as usize;
    let mut m = rng.bytes(n);
    if m.len() >= NLMSG_HDRLEN && rng.chance(50) {
        let h = header(
            m.len() as u32,
            *rng.pick(TYPES),
            NLM_F_REQUEST | NLM_F_ACK,
            0,
        );
        m[..NLMSG_HDRLEN].copy_from_slice(&h);
    }
    m
}

/// One message: valid (30%), mutated valid (45%), structured random (15%),
/// random bytes (7%), or a large one (3%).
pub fn message(rng: &mut Rng) -> Vec<u8> {
    match rng.below(100) {
        0..=29 => valid(rng),
        30..=74 => {
            let mut m = valid(rng);
            for _ in 0..rng.range(1, 4) {
                mutate(rng, &mut m);
            }
            m
        }
        75..=89 => structured(rng),
        90..=96 => random_bytes(rng),
        _ => {
            // A valid RECORD followed by up to 4 KiB of attributes or junk.
            let mut m = valid(rng);
            let n = rng.range(1, 4096) as usize;
            if rng.chance(50) {
                let junk = rng.bytes(n);
                m.extend_from_slice(&junk);
            } else {
                while m.len() < n {
                    m.extend_from_slice(&attr(*rng.pick(ATTR_TYPES), &[0; 4]));
                }
            }
            let len = m.len() as u32;
            set_len(&mut m, len);
            m
        }
    }
}

/// A datagram of one (85%) or 2..=5 messages (at most `max_parts`), and how
/// many messages it was built from. Every message the kernel will frame gets
/// NLM_F_ACK (so every one is answered) and a sequence number from `next_seq`.
pub fn datagram(
    rng: &mut Rng,
    next_seq: &mut u32,
    max_parts: usize,
) -> (Vec<u8>, usize, Vec<Framed>) {
    loop {
        let parts = if rng.chance(85) {
            1
        } else {
            rng.range(2, 5) as usize
        };
        let parts = parts.min(max_parts.max(1));
        let mut d = Vec::new();
        for _ in 0..parts {
            let m = message(rng);
            d.extend_from_slice(&m);
            if rng.chance(90) {
                d.resize(align4(d.len()), 0);
            }
        }
        let framed = frame(&d);
        if framed.len() > MAX_FRAMED {
            continue;
        }
        for f in &framed {
            let flags = u16_at(&d, f.start + 6) | NLM_F_ACK;
            d[f.start + 6..f.start + 8].copy_from_slice(&flags.to_ne_bytes());
            d[f.start + 8..f.start + 12].copy_from_slice(&next_seq.to_ne_bytes());
            *next_seq = next_seq.wrapping_add(1).max(1);
        }
        return (d, parts, framed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{outcome, Outcome};

    #[test]
    fn deterministic_per_seed() {
        let (mut a, mut b) = (Rng::new(11), Rng::new(11));
        let (mut sa, mut sb) = (1, 1);
        for _ in 0..500 {
            assert_eq!(
                datagram(&mut a, &mut sa, 5).0,
                datagram(&mut b, &mut sb, 5).0
            );
        }
    }

    #[test]
    fn every_framed_message_asks_for_an_ack_and_has_its_own_seq() {
        let mut rng = Rng::new(5);
        let mut seq = 1;
        let mut seqs = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (d, _, framed) = datagram(&mut rng, &mut seq, 5);
            assert!(framed.len() <= MAX_FRAMED);
            assert!(!d.is_empty());
            assert_eq!(
                frame(&d),
                framed,
                "marking acks and seqs does not change the framing"
            );
            for f in framed {
                assert_ne!(f.flags(&d) & NLM_F_ACK, 0);
                assert!(seqs.insert(f.seq(&d)));
            }
        }
    }

    /// The mix reaches every outcome, RECORDs are a good share, and some
    /// datagrams are dropped whole or hold several messages.
    #[test]
    fn the_mix_covers_every_outcome() {
        let mut rng = Rng::new(1);
        let mut seq = 1;
        let (mut skipped, mut get, mut record, mut reset, mut einval, mut eopnotsupp) =
            (0, 0, 0, 0, 0, 0);
        let (mut empty, mut multi) = (0, 0);
        for _ in 0..20_000 {
            let (d, _, framed) = datagram(&mut rng, &mut seq, 5);
            empty += usize::from(framed.is_empty());
            multi += usize::from(framed.len() > 1);
            for f in &framed {
                match outcome(f.ty(&d), f.flags(&d), f.payload(&d), true) {
                    Outcome::Skipped => skipped += 1,
                    Outcome::Get => get += 1,
                    Outcome::Record { .. } => record += 1,
                    Outcome::Reset => reset += 1,
                    Outcome::Error(libc::EINVAL) => einval += 1,
                    Outcome::Error(libc::EOPNOTSUPP) => eopnotsupp += 1,
                    Outcome::Error(e) => panic!("unexpected errno {e}"),
                }
            }
        }
        for (name, n, min) in [
            ("skipped", skipped, 200),
            ("get", get, 1000),
            ("record", record, 4000),
            ("reset", reset, 30),
            ("einval", einval, 4000),
            ("eopnotsupp", eopnotsupp, 200),
            ("dropped datagrams", empty, 100),
            ("multi-message datagrams", multi, 1000),
        ] {
            assert!(n >= min, "{name}: {n} < {min}");
        }
    }
}
