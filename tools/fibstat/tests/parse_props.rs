//! The module's request parser (`parse.rs` at the repository root, compiled into the kernel
//! module too), tested on the host: the strict attribute rules as properties, and the exact
//! errno and extended ack message of every case of the guest's malformed-request test
//! (`tests/guest/malformed.sh`), built with the same encoder `fibstat raw` uses.

#[path = "../../../protocol.rs"]
mod protocol;

#[path = "../../../parse.rs"]
mod parse;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fibstat::client::raw::{parse_attr, parse_hex, parse_msg_type, parse_num, RawRequest};
use parse::{parse_attrs, parse_command, Command, ErrAttr, Errno, ParseError, RECORD_POLICY};
use proptest::prelude::*;
use protocol::*;

/// One attribute to encode: type (with flags) and payload.
#[derive(Clone, Debug, PartialEq)]
struct A {
    ty: u16,
    payload: Vec<u8>,
}

impl A {
    fn new(ty: u16, payload: &[u8]) -> Self {
        Self {
            ty,
            payload: payload.to_vec(),
        }
    }
}

/// Encodes attributes (host byte order headers, 4-byte aligned); `pad_last`: whether the last
/// one gets its padding. Returns the bytes and the offset of every attribute.
fn encode(attrs: &[A], pad_last: bool) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for (i, a) in attrs.iter().enumerate() {
        offsets.push(out.len());
        let len = u16::try_from(4 + a.payload.len()).expect("attribute too long for the test");
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&a.ty.to_ne_bytes());
        out.extend_from_slice(&a.payload);
        if pad_last || i + 1 < attrs.len() {
            out.resize(parse::nla_align(out.len()), 0);
        }
    }
    (out, offsets)
}

fn msg(e: &ParseError) -> &str {
    e.msg.to_str().expect("extack messages are ASCII")
}

fn record(bytes: &[u8]) -> Result<Command, ParseError> {
    parse_command(MSG_RECORD, bytes, || true)
}

/// Asserts an `EINVAL` with message `m` at attribute `attr`.
fn assert_inval(r: Result<Command, ParseError>, m: &str, attr: ErrAttr) {
    let e = r.expect_err("the request must be refused");
    assert_eq!((e.errno, msg(&e), e.attr), (Errno::Inval, m, attr));
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn gateway_attr(gw: &IpAddr) -> A {
    match gw {
        IpAddr::V4(a) => A::new(ATTR_GATEWAY4, &a.octets()),
        IpAddr::V6(a) => A::new(ATTR_GATEWAY6, &a.octets()),
    }
}

/// A valid RECORD: its attributes in any order, and the command it must parse to.
fn valid_record() -> impl Strategy<Value = (Vec<A>, Command)> {
    (
        ip(),
        proptest::option::of(any::<u32>()),
        1..=MAX_RECORD_COUNT,
    )
        .prop_flat_map(|(gateway, ifindex, count)| {
            let mut attrs = vec![
                gateway_attr(&gateway),
                A::new(ATTR_COUNT, &count.to_ne_bytes()),
            ];
            if let Some(i) = ifindex {
                attrs.push(A::new(ATTR_IFINDEX, &i.to_ne_bytes()));
            }
            let cmd = Command::Record {
                gateway,
                ifindex: ifindex.unwrap_or(0),
                count,
            };
            (Just(attrs).prop_shuffle(), Just(cmd))
        })
}

/// The payload length the RECORD policy requires for request attribute type `ty`.
fn policy_len(ty: u16) -> usize {
    match RECORD_POLICY[usize::from(ty)] {
        parse::AttrPolicy::U32 => 4,
        parse::AttrPolicy::ExactLen(n) => n,
        parse::AttrPolicy::Reject => unreachable!("RECORD accepts every request attribute"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Valid RECORDs parse to exactly their values, in any attribute order, with or without
    /// the last attribute's padding.
    #[test]
    fn valid_record_parses((attrs, cmd) in valid_record(), pad_last: bool) {
        let (bytes, _) = encode(&attrs, pad_last);
        prop_assert_eq!(record(&bytes), Ok(cmd));
    }

    /// Trailing bytes that do not form a whole attribute are refused, pointing at nothing.
    #[test]
    fn trailing_bytes((attrs, _) in valid_record(), tail in prop::collection::vec(any::<u8>(), 1..4)) {
        let (mut bytes, _) = encode(&attrs, true);
        bytes.extend_from_slice(&tail);
        assert_inval(record(&bytes), "bytes leftover after parsing attributes", ErrAttr::None);
    }

    /// An attribute whose length does not cover its header, or runs past the message, is
    /// refused the same way.
    #[test]
    fn bad_attribute_length_field(
        (attrs, _) in valid_record(),
        ty in 1..=ATTR_REQ_MAX,
        short in 0u16..4,
        over in 1u16..64,
        use_short: bool,
    ) {
        let (mut bytes, _) = encode(&attrs, true);
        let tail_payload = [0u8; 4];
        let len = if use_short { short } else { 4 + tail_payload.len() as u16 + over };
        bytes.extend_from_slice(&len.to_ne_bytes());
        bytes.extend_from_slice(&ty.to_ne_bytes());
        bytes.extend_from_slice(&tail_payload);
        assert_inval(record(&bytes), "bytes leftover after parsing attributes", ErrAttr::None);
    }

    /// Every request attribute has an exact payload length; any other is refused at it.
    #[test]
    fn exact_lengths(
        (mut attrs, _) in valid_record(),
        which in any::<prop::sample::Index>(),
        len in 0usize..40,
    ) {
        let i = which.index(attrs.len());
        prop_assume!(len != policy_len(attrs[i].ty));
        attrs[i].payload.resize(len, 0xab);
        let (bytes, offsets) = encode(&attrs, true);
        assert_inval(record(&bytes), "invalid attribute length", ErrAttr::At(offsets[i]));
    }

    /// A second attribute of a type already seen is refused at the second one.
    #[test]
    fn duplicates(
        (mut attrs, _) in valid_record(),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
    ) {
        let i = which.index(attrs.len());
        // Insert the copy anywhere after the original.
        let pos = i + 1 + at.index(attrs.len() - i);
        let copy = attrs[i].clone();
        attrs.insert(pos, copy);
        let (bytes, offsets) = encode(&attrs, true);
        assert_inval(record(&bytes), "duplicate attribute", ErrAttr::At(offsets[pos]));
    }

    /// Types the request policy does not know (0, reply-only types, anything larger) are
    /// refused at the attribute, whatever their payload.
    #[test]
    fn unknown_types(
        (mut attrs, _) in valid_record(),
        ty in prop_oneof![Just(0u16), (ATTR_REQ_MAX + 1)..NLA_TYPE_MASK],
        payload in prop::collection::vec(any::<u8>(), 0..24),
        at in any::<prop::sample::Index>(),
    ) {
        let pos = at.index(attrs.len() + 1);
        attrs.insert(pos, A { ty, payload });
        let (bytes, offsets) = encode(&attrs, true);
        assert_inval(record(&bytes), "Unknown attribute type", ErrAttr::At(offsets[pos]));
    }

    /// The nested and byte-order flags are refused on any attribute, nested first.
    #[test]
    fn flags(
        (mut attrs, _) in valid_record(),
        which in any::<prop::sample::Index>(),
        flags in 1u16..4,
    ) {
        let i = which.index(attrs.len());
        attrs[i].ty |= flags << 14;
        let (bytes, offsets) = encode(&attrs, true);
        let m = if flags & 2 != 0 { "NLA_F_NESTED not expected" } else { "NLA_F_NET_BYTEORDER not expected" };
        assert_inval(record(&bytes), m, ErrAttr::At(offsets[i]));
    }

    /// A RECORD with both gateways is refused at GATEWAY6.
    #[test]
    fn both_gateways(
        (mut attrs, _) in valid_record(),
        other in ip(),
        at in any::<prop::sample::Index>(),
    ) {
        let has_v4 = attrs.iter().any(|a| a.ty == ATTR_GATEWAY4);
        let extra = match (has_v4, other) {
            (true, IpAddr::V6(a)) => A::new(ATTR_GATEWAY6, &a.octets()),
            (true, IpAddr::V4(a)) => A::new(ATTR_GATEWAY6, &a.to_ipv6_mapped().octets()),
            (false, IpAddr::V4(a)) => A::new(ATTR_GATEWAY4, &a.octets()),
            (false, IpAddr::V6(a)) => A::new(ATTR_GATEWAY4, &a.octets()[..4]),
        };
        attrs.insert(at.index(attrs.len() + 1), extra);
        let (bytes, offsets) = encode(&attrs, true);
        let gw6 = attrs.iter().position(|a| a.ty == ATTR_GATEWAY6).unwrap();
        assert_inval(
            record(&bytes),
            "GATEWAY4 and GATEWAY6 are mutually exclusive",
            ErrAttr::At(offsets[gw6]),
        );
    }

    /// COUNT is accepted exactly in 1..=MAX_RECORD_COUNT, else refused at COUNT.
    #[test]
    fn count_bounds(
        (mut attrs, _) in valid_record(),
        count in prop_oneof![Just(0u32), Just(MAX_RECORD_COUNT), Just(MAX_RECORD_COUNT + 1), any::<u32>()],
    ) {
        let i = attrs.iter().position(|a| a.ty == ATTR_COUNT).unwrap();
        attrs[i].payload = count.to_ne_bytes().to_vec();
        let (bytes, offsets) = encode(&attrs, true);
        let r = record(&bytes);
        if (1..=MAX_RECORD_COUNT).contains(&count) {
            let ok = matches!(r, Ok(Command::Record { count: c, .. }) if c == count);
            prop_assert!(ok, "count {} refused: {:?}", count, r);
        } else {
            assert_inval(r, "COUNT must be 1..=1000000", ErrAttr::At(offsets[i]));
        }
    }

    /// Missing required attributes are reported as missing, the gateway first.
    #[test]
    fn missing((attrs, _) in valid_record(), drop_gw: bool, drop_count: bool) {
        prop_assume!(drop_gw || drop_count);
        let kept: Vec<A> = attrs
            .into_iter()
            .filter(|a| !(drop_gw && (a.ty == ATTR_GATEWAY4 || a.ty == ATTR_GATEWAY6)))
            .filter(|a| !(drop_count && a.ty == ATTR_COUNT))
            .collect();
        let (bytes, _) = encode(&kept, true);
        if drop_gw {
            assert_inval(record(&bytes), "RECORD needs GATEWAY4 or GATEWAY6", ErrAttr::Missing(ATTR_GATEWAY4));
        } else {
            assert_inval(record(&bytes), "RECORD needs COUNT", ErrAttr::Missing(ATTR_COUNT));
        }
    }

    /// GET and RESET take no attribute: a request attribute type is "not allowed", anything
    /// else unknown.
    #[test]
    fn get_and_reset_take_no_attributes(
        reset: bool,
        ty in 0u16..64,
        payload in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let t = if reset { MSG_RESET } else { MSG_GET };
        prop_assert_eq!(parse_command(t, &[], || true), Ok(if reset { Command::Reset } else { Command::Get }));
        let (bytes, _) = encode(&[A { ty, payload }], true);
        let m = if (1..=ATTR_REQ_MAX).contains(&ty) {
            "Attribute not allowed for this message type"
        } else {
            "Unknown attribute type"
        };
        assert_inval(parse_command(t, &bytes, || true), m, ErrAttr::At(0));
    }

    /// Without CAP_NET_ADMIN, RECORD and RESET are EPERM whatever their attributes; GET never
    /// asks.
    #[test]
    fn privilege(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for (t, m) in [(MSG_RECORD, "RECORD needs CAP_NET_ADMIN"), (MSG_RESET, "RESET needs CAP_NET_ADMIN")] {
            let e = parse_command(t, &bytes, || false).unwrap_err();
            prop_assert_eq!((e.errno, msg(&e), e.attr), (Errno::Perm, m, ErrAttr::None));
        }
        let _ = parse_command(MSG_GET, &bytes, || panic!("GET must not check the capability"));
    }

    /// Unknown message types are EOPNOTSUPP, without a capability check.
    #[test]
    fn unknown_message_types(t in any::<u16>(), bytes in prop::collection::vec(any::<u8>(), 0..32)) {
        prop_assume!(![MSG_GET, MSG_RECORD, MSG_RESET].contains(&t));
        let e = parse_command(t, &bytes, || panic!("no capability check for unknown types")).unwrap_err();
        prop_assert_eq!((e.errno, msg(&e), e.attr), (Errno::OpNotSupp, "unknown message type", ErrAttr::None));
    }

    /// Arbitrary bytes never panic; an error points at the start of an attribute inside the
    /// bytes; what parses keeps to the policy.
    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        match parse_attrs(&bytes, &RECORD_POLICY) {
            Ok(attrs) => {
                for ty in 1..=ATTR_REQ_MAX {
                    if let Some(a) = attrs.get(ty) {
                        prop_assert_eq!(a.payload().len(), policy_len(ty));
                        prop_assert!(a.offset() % 4 == 0 && a.offset() + 4 + a.payload().len() <= bytes.len());
                    }
                }
            }
            Err(e) => {
                prop_assert_eq!(e.errno, Errno::Inval);
                if let ErrAttr::At(off) = e.attr {
                    prop_assert!(off % 4 == 0 && off + 4 <= bytes.len());
                }
            }
        }
    }
}

/// `NLA_TYPE_MASK`: the type bits below the two flags.
const NLA_TYPE_MASK: u16 = !(parse::NLA_F_NESTED | parse::NLA_F_NET_BYTEORDER);

/// One case of `tests/guest/malformed.sh`: what, expected exit status of `fibstat raw`, expected
/// answer (regex), `fibstat raw` arguments.
struct Case<'a> {
    what: &'a str,
    status: &'a str,
    want: &'a str,
    args: Vec<&'a str>,
}

fn malformed_cases() -> Vec<Case<'static>> {
    let script = include_str!("../../../tests/guest/malformed.sh");
    let table = script
        .split_once("<<'CASES'\n")
        .and_then(|(_, rest)| rest.split_once("\nCASES\n"))
        .map(|(table, _)| table)
        .expect("malformed.sh has a CASES here-document");
    table
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '|').collect();
            assert_eq!(f.len(), 4, "malformed.sh case line {l:?}");
            Case {
                what: f[0],
                status: f[1],
                want: f[2],
                args: f[3].split_whitespace().collect(),
            }
        })
        .collect()
}

/// The request `fibstat raw ARGS` sends.
fn raw_request(args: &[&str]) -> RawRequest {
    let mut req = RawRequest {
        flags: 0x5,
        seq: 1,
        ..Default::default()
    };
    let mut it = args.iter();
    while let Some(opt) = it.next() {
        let v = it.next().expect("option value");
        match *opt {
            "--type" => req.message_type = parse_msg_type(v).unwrap(),
            "--attr" => req.attrs.push(parse_attr(v).unwrap()),
            "--payload-hex" => req.payload = Some(parse_hex(v).unwrap().0),
            "--len" => req.len = Some(parse_num(v).unwrap()),
            o => panic!("option {o} not handled here"),
        }
    }
    req
}

fn errno_name(e: Errno) -> &'static str {
    match e {
        Errno::Inval => "EINVAL (22)",
        Errno::OpNotSupp => "EOPNOTSUPP (95)",
        Errno::Perm => "EPERM (1)",
    }
}

/// Every answered case of the guest's malformed-request table gets exactly the errno and
/// message the guest expects from the module. (The unanswered ones never reach the parser:
/// `netlink_rcv_skb()` drops them.)
#[test]
fn guest_malformed_cases() {
    let cases = malformed_cases();
    assert_eq!(cases.len(), 16, "the guest test's case count changed");
    let mut checked = 0;
    for c in &cases {
        if c.status != "0" {
            continue;
        }
        let want = c
            .want
            .strip_prefix('^')
            .unwrap_or(c.want)
            .replace("\\(", "(")
            .replace("\\)", ")");
        let bytes = raw_request(&c.args).to_bytes();
        let len = u32::from_ne_bytes(bytes[..4].try_into().unwrap()) as usize;
        let msg_type = u16::from_ne_bytes(bytes[4..6].try_into().unwrap());
        let e = parse_command(msg_type, &bytes[16..len], || true).expect_err(c.what);
        let got = format!("errno={} msg=\"{}\"", errno_name(e.errno), msg(&e));
        assert_eq!(got, want, "case {:?}", c.what);
        checked += 1;
    }
    assert_eq!(checked, 14);
}

/// A few fixed byte strings, as the kernel sees them.
#[test]
fn fixed_examples() {
    let gw = A::new(ATTR_GATEWAY4, &[192, 0, 2, 1]);
    let count = A::new(ATTR_COUNT, &7u32.to_ne_bytes());
    let (bytes, _) = encode(&[gw.clone(), count.clone()], true);
    assert_eq!(bytes, [8, 0, 1, 0, 192, 0, 2, 1, 8, 0, 4, 0, 7, 0, 0, 0]);
    assert_eq!(
        record(&bytes),
        Ok(Command::Record {
            gateway: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            ifindex: 0,
            count: 7
        })
    );
    // A GATEWAY4 of 3 bytes, unpadded as the last attribute: length error, not leftover.
    let (bytes, offsets) = encode(&[count, A::new(ATTR_GATEWAY4, &[192, 0, 2])], false);
    assert_eq!(bytes.len(), 15);
    assert_inval(
        record(&bytes),
        "invalid attribute length",
        ErrAttr::At(offsets[1]),
    );
    // Empty RECORD: the gateway is missing first.
    assert_inval(
        record(&[]),
        "RECORD needs GATEWAY4 or GATEWAY6",
        ErrAttr::Missing(ATTR_GATEWAY4),
    );
}

/// The kernel builds `parse.rs` with `CONFIG_RUST_OVERFLOW_CHECKS`: an overflow panics. This test
/// binary, which includes `parse.rs`, must do the same in every profile, `--release` too
/// (`[profile.release.package.fibstat] overflow-checks` in Cargo.toml); otherwise an overflow
/// the kernel would panic on wraps here, and the tests above may pass over it.
#[test]
fn overflow_checks_are_on() {
    let len = std::hint::black_box(parse::NLA_HDRLEN - 1);
    let wrapped = std::panic::catch_unwind(|| len - parse::NLA_HDRLEN);
    assert!(
        wrapped.is_err(),
        "{len} - {} did not panic (got {wrapped:?}): this build has no overflow checks",
        parse::NLA_HDRLEN
    );
}
