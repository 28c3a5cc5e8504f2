//! Exact bytes of the requests, and parsing of synthetic kernel answers.
#![cfg(target_endian = "little")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fibstat::client::error::Ack;
use fibstat::client::msg::{FibStatMessage, Located, LockMode, Record, Stats};
use fibstat::client::raw::{describe, parse_attr, RawRequest};
use fibstat::client::render;
use fibstat::client::socket::{serialize, split};
use fibstat::protocol::*;
use netlink_packet_core::{NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};

const REQ_ACK: u16 = NLM_F_REQUEST | NLM_F_ACK;

/// A netlink header, little endian.
fn hdr(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut v = len.to_le_bytes().to_vec();
    v.extend(ty.to_le_bytes());
    v.extend(flags.to_le_bytes());
    v.extend(seq.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v
}

/// An attribute with padding.
fn nla(ty: u16, value: &[u8]) -> Vec<u8> {
    let mut v = ((4 + value.len()) as u16).to_le_bytes().to_vec();
    v.extend(ty.to_le_bytes());
    v.extend(value);
    v.resize(v.len().next_multiple_of(4), 0);
    v
}

fn message(ty: u16, flags: u16, seq: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
    let payload = attrs.concat();
    let mut v = hdr(16 + payload.len() as u32, ty, flags, seq);
    v.extend(payload);
    v
}

#[test]
fn get_bytes() {
    assert_eq!(
        serialize(FibStatMessage::Get, NLM_F_REQUEST, 7),
        [16, 0, 0, 0, 0x10, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn reset_bytes() {
    assert_eq!(
        serialize(FibStatMessage::Reset, REQ_ACK, 1),
        [16, 0, 0, 0, 0x12, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn record_v4_bytes() {
    let rec = Record {
        gateway: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        ifindex: Some(2),
        count: 35,
    };
    #[rustfmt::skip]
    let want = [
        40, 0, 0, 0, 0x11, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0,
        8, 0, 1, 0, 10, 0, 0, 1,   // GATEWAY4, network order
        8, 0, 3, 0, 2, 0, 0, 0,    // IFINDEX
        8, 0, 4, 0, 35, 0, 0, 0,   // COUNT
    ];
    assert_eq!(serialize(FibStatMessage::Record(rec), REQ_ACK, 1), want);
}

#[test]
fn record_v6_without_ifindex_bytes() {
    let gw: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let rec = Record {
        gateway: gw.into(),
        ifindex: None,
        count: MAX_RECORD_COUNT,
    };
    let want = message(
        MSG_RECORD,
        REQ_ACK,
        9,
        &[
            nla(ATTR_GATEWAY6, &gw.octets()),
            nla(ATTR_COUNT, &MAX_RECORD_COUNT.to_le_bytes()),
        ],
    );
    assert_eq!(want.len(), 16 + 20 + 8);
    assert_eq!(serialize(FibStatMessage::Record(rec), REQ_ACK, 9), want);
}

fn stats_reply() -> Vec<u8> {
    message(
        MSG_STATS,
        0,
        1,
        &[
            nla(ATTR_LOCK_MODE, &[LOCK_BH]),
            nla(ATTR_VERSION, &[FIB_STAT_VERSION]),
            nla(ATTR_NETNS_INUM, &4026531840u32.to_le_bytes()),
            nla(ATTR_NL_REQUESTS, &12u64.to_le_bytes()),
            nla(ATTR_GW_RECORDS, &35u64.to_le_bytes()),
            nla(ATTR_NEIGH_UPDATES, &3u64.to_le_bytes()),
            nla(ATTR_REDIRECTS, &0u64.to_le_bytes()),
            nla(ATTR_GATEWAY4, &[192, 0, 2, 1]),
            nla(ATTR_IFINDEX, &2u32.to_le_bytes()),
            nla(
                ATTR_LAST_NEIGH6,
                &"fe80::1".parse::<Ipv6Addr>().unwrap().octets(),
            ),
            nla(ATTR_LAST_NEIGH_IFINDEX, &3u32.to_le_bytes()),
            nla(ATTR_UNSPEC, &[0; 4]), // padding attribute: ignored
            nla(
                ATTR_LAST_UPDATE_NS,
                &1_700_000_000_000_000_000u64.to_le_bytes(),
            ),
            nla(ATTR_HARDIRQ_TICKS, &5u64.to_le_bytes()),
            nla(77, b"future"), // unknown attribute: ignored
        ],
    )
}

fn expected_stats() -> Stats {
    Stats {
        lock_mode: LockMode::Bh,
        version: FIB_STAT_VERSION,
        netns_inum: 4026531840,
        nl_requests: 12,
        gateway_records: 35,
        neigh_updates: 3,
        redirects: 0,
        last_gateway: Some(Located {
            addr: "192.0.2.1".parse().unwrap(),
            ifindex: 2,
        }),
        last_neigh: Some(Located {
            addr: "fe80::1".parse().unwrap(),
            ifindex: 3,
        }),
        last_update_ns: 1_700_000_000_000_000_000,
        hardirq_ticks: Some(5),
    }
}

#[test]
fn parse_stats_reply() {
    let msgs = split::<FibStatMessage>(&stats_reply()).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        msgs[0].payload,
        NetlinkPayload::InnerMessage(FibStatMessage::Stats(expected_stats()))
    );
}

#[test]
fn stats_reply_missing_counter_is_an_error() {
    let bytes = message(MSG_STATS, 0, 1, &[nla(ATTR_LOCK_MODE, &[LOCK_SPIN])]);
    let err = split::<FibStatMessage>(&bytes).unwrap_err();
    assert!(err.contains("lacks"), "{err}");
}

#[test]
fn stats_reply_with_short_counter_is_an_error() {
    let bytes = message(MSG_STATS, 0, 1, &[nla(ATTR_GW_RECORDS, &[1, 0, 0, 0])]);
    assert!(split::<FibStatMessage>(&bytes).is_err());
}

#[test]
fn json_keys_and_values() {
    let v: serde_json::Value =
        serde_json::from_str(&render::json(&expected_stats(), false)).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "lock_mode",
        "version",
        "netns_inum",
        "nl_requests",
        "gateway_records",
        "neigh_updates",
        "redirects",
        "last_gateway",
        "last_gateway_ifindex",
        "last_neigh",
        "last_neigh_ifindex",
        "last_update_ns",
        "hardirq_ticks",
    ];
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    want.sort_unstable();
    assert_eq!(keys_sorted, want);
    assert_eq!(v["lock_mode"], "bh");
    assert_eq!(v["gateway_records"], 35);
    assert_eq!(v["last_gateway"], "192.0.2.1");
    assert_eq!(v["last_gateway_ifindex"], 2);
    assert_eq!(v["last_neigh"], "fe80::1");
    assert_eq!(v["last_update_ns"], 1_700_000_000_000_000_000u64);
    // -j is compact (one line, like `ip -j`), -j -p pretty (one key per line).
    let compact = render::json(&expected_stats(), false);
    assert!(!compact.contains('\n'));
    assert!(compact.contains("\"gateway_records\":35,"));
    let pretty = render::json(&expected_stats(), true);
    assert!(pretty.contains("\n  \"gateway_records\": 35,\n"));

    let empty = Stats {
        lock_mode: LockMode::Spin,
        last_gateway: None,
        last_neigh: None,
        last_update_ns: 0,
        hardirq_ticks: None,
        ..expected_stats()
    };
    let v: serde_json::Value = serde_json::from_str(&render::json(&empty, false)).unwrap();
    assert_eq!(v["lock_mode"], "spin");
    assert!(v["last_gateway"].is_null() && v["last_gateway_ifindex"].is_null());
    assert!(v["last_neigh"].is_null() && v["last_neigh_ifindex"].is_null());
    assert_eq!(v["last_update_ns"], 0);
    assert!(v["hardirq_ticks"].is_null());
}

#[test]
fn table() {
    let t = render::table(&expected_stats());
    assert!(t.contains("lock mode          bh\n"), "{t}");
    assert!(t.contains("hardirq ticks      5\n"), "{t}");
    assert!(
        t.contains("last gateway       192.0.2.1 (ifindex 2)\n"),
        "{t}"
    );
    assert!(
        t.contains("last update        2023-11-14 22:13:20.000000000 UTC\n"),
        "{t}"
    );
}

/// An NLMSG_ERROR answering `request`, as netlink_ack() builds it.
fn nlmsgerr(errno: i32, request: &[u8], capped: bool, tlvs: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = (-errno).to_le_bytes().to_vec();
    payload.extend(if capped { &request[..16] } else { request });
    let mut flags = 0;
    if capped {
        flags |= 0x100; // NLM_F_CAPPED
    }
    if !tlvs.is_empty() {
        flags |= 0x200; // NLM_F_ACK_TLVS
    }
    payload.extend(tlvs.concat());
    let mut v = hdr(16 + payload.len() as u32, 2, flags, 1);
    v.extend(payload);
    v
}

fn ack_of(bytes: &[u8]) -> Ack {
    let msgs = split::<FibStatMessage>(bytes).unwrap();
    let NetlinkPayload::Error(e) = &msgs[0].payload else {
        panic!("not an error: {msgs:?}")
    };
    Ack::parse(&msgs[0].header, e)
}

#[test]
fn parse_plain_ack() {
    let req = serialize(FibStatMessage::Reset, REQ_ACK, 1);
    let ack = ack_of(&nlmsgerr(0, &req, true, &[]));
    assert_eq!(ack, Ack::default());
    assert_eq!(ack.into_error(), None);
}

#[test]
fn parse_error_without_extack() {
    let req = serialize(FibStatMessage::Reset, REQ_ACK, 1);
    let ack = ack_of(&nlmsgerr(libc::EPERM, &req, false, &[]));
    let err = ack.into_error().unwrap();
    assert_eq!(err.errno, libc::EPERM);
    assert_eq!(err.to_string(), "operation not permitted");
}

#[test]
fn parse_error_with_extack_msg() {
    let req = serialize(FibStatMessage::Reset, REQ_ACK, 1);
    let bytes = nlmsgerr(
        libc::EPERM,
        &req,
        false,
        &[nla(1, b"RESET needs CAP_NET_ADMIN\0")],
    );
    let err = ack_of(&bytes).into_error().unwrap();
    assert_eq!(
        err.to_string(),
        "operation not permitted: RESET needs CAP_NET_ADMIN"
    );
}

#[test]
fn parse_error_with_extack_after_echoed_payload() {
    // The request's payload is echoed (not capped), the TLVs come after it.
    let req = RawRequest {
        message_type: MSG_RECORD,
        flags: REQ_ACK,
        seq: 1,
        attrs: vec![parse_attr("GATEWAY4:0a0000").unwrap()],
        ..Default::default()
    }
    .to_bytes();
    assert_eq!(req.len(), 24);
    let bytes = nlmsgerr(
        libc::EINVAL,
        &req,
        false,
        &[
            nla(1, b"attribute has wrong length\0"),
            nla(2, &16u32.to_le_bytes()),
        ],
    );
    let ack = ack_of(&bytes);
    assert_eq!(ack.errno, libc::EINVAL);
    assert_eq!(ack.msg.as_deref(), Some("attribute has wrong length"));
    assert_eq!(ack.offset, Some(16));
    let msgs = split(&bytes).unwrap();
    assert_eq!(
        describe(&msgs[0]),
        "errno=EINVAL (22) msg=\"attribute has wrong length\" offset=16"
    );
}

#[test]
fn parse_capped_error_with_extack() {
    let req = serialize(
        FibStatMessage::Record(Record {
            gateway: Ipv4Addr::LOCALHOST.into(),
            ifindex: None,
            count: 1,
        }),
        REQ_ACK,
        1,
    );
    let bytes = nlmsgerr(libc::EOPNOTSUPP, &req, true, &[nla(1, b"no\0")]);
    let ack = ack_of(&bytes);
    assert_eq!(
        (ack.errno, ack.msg.as_deref()),
        (libc::EOPNOTSUPP, Some("no"))
    );
}

#[test]
fn describe_answers() {
    let req = serialize(FibStatMessage::Reset, REQ_ACK, 1);
    let msgs = split(&nlmsgerr(0, &req, true, &[])).unwrap();
    assert_eq!(describe(&msgs[0]), "ack");
    let msgs = split(&nlmsgerr(libc::EOPNOTSUPP, &req, false, &[])).unwrap();
    assert_eq!(describe(&msgs[0]), "errno=EOPNOTSUPP (95) msg=\"\"");
    let msgs = split(&stats_reply()).unwrap();
    assert_eq!(
        describe(&msgs[0]),
        format!("reply type=0x13 (STATS) len={}", stats_reply().len())
    );
}

#[test]
fn several_messages_in_one_datagram() {
    let req = serialize(FibStatMessage::Get, REQ_ACK, 1);
    let mut datagram = stats_reply();
    datagram.extend(nlmsgerr(0, &req, true, &[]));
    let msgs = split::<FibStatMessage>(&datagram).unwrap();
    assert_eq!(msgs.len(), 2);
    assert!(matches!(msgs[1].payload, NetlinkPayload::Error(_)));
}

#[test]
fn raw_short_header() {
    let bytes = RawRequest {
        message_type: MSG_GET,
        flags: REQ_ACK,
        seq: 1,
        len: Some(8),
        ..Default::default()
    }
    .to_bytes();
    assert_eq!(bytes, [8, 0, 0, 0, 0x10, 0, 5, 0]);
}

#[test]
fn raw_long_nlmsg_len_keeps_the_bytes() {
    let bytes = RawRequest {
        message_type: MSG_GET,
        flags: REQ_ACK,
        seq: 1,
        len: Some(64),
        ..Default::default()
    }
    .to_bytes();
    assert_eq!(bytes, hdr(64, MSG_GET, REQ_ACK, 1));
}

#[test]
fn raw_attrs_and_payload() {
    let attrs = ["COUNT:u32:0", "99:", "4:u32:1000001", "1:ip:10.0.0.1"]
        .map(|s| parse_attr(s).unwrap())
        .to_vec();
    let bytes = RawRequest {
        message_type: 0x20,
        flags: REQ_ACK,
        seq: 3,
        attrs,
        ..Default::default()
    }
    .to_bytes();
    let want = message(
        0x20,
        REQ_ACK,
        3,
        &[
            nla(ATTR_COUNT, &0u32.to_le_bytes()),
            nla(99, &[]),
            nla(ATTR_COUNT, &1_000_001u32.to_le_bytes()),
            nla(ATTR_GATEWAY4, &[10, 0, 0, 1]),
        ],
    );
    assert_eq!(bytes, want);

    let bytes = RawRequest {
        message_type: MSG_RECORD,
        flags: REQ_ACK,
        seq: 1,
        payload: Some(vec![1, 2, 3]),
        ..Default::default()
    }
    .to_bytes();
    let mut want = hdr(19, MSG_RECORD, REQ_ACK, 1);
    want.extend([1, 2, 3]);
    assert_eq!(bytes, want);
}
