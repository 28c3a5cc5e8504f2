//! Round-trip properties of the client's codec.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fibstat::client::msg::{parse_attrs, Attr, FibStatMessage, Located, LockMode, Record, Stats};
use fibstat::client::raw::RawRequest;
use fibstat::client::socket::{serialize, split};
use fibstat::protocol::MAX_RECORD_COUNT;
use netlink_packet_core::{DefaultNla, NetlinkPayload};
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn located() -> impl Strategy<Value = Option<Located>> {
    proptest::option::of((ip(), any::<u32>()).prop_map(|(addr, ifindex)| Located { addr, ifindex }))
}

fn stats() -> impl Strategy<Value = Stats> {
    (
        any::<u8>().prop_map(LockMode::from),
        any::<(u8, u32, u64, u64, u64, u64, u64)>(),
        located(),
        located(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(
            |(lock_mode, (version, netns_inum, a, b, c, d, t), gw, n, h)| Stats {
                lock_mode,
                version,
                netns_inum,
                nl_requests: a,
                gateway_records: b,
                neigh_updates: c,
                redirects: d,
                last_gateway: gw,
                last_neigh: n,
                last_update_ns: t,
                hardirq_ticks: h,
            },
        )
}

fn record() -> impl Strategy<Value = Record> {
    (
        ip(),
        proptest::option::of(any::<u32>()),
        1..=MAX_RECORD_COUNT,
    )
        .prop_map(|(gateway, ifindex, count)| Record {
            gateway,
            ifindex,
            count,
        })
}

fn roundtrip(msg: FibStatMessage, flags: u16, seq: u32) -> Result<(), TestCaseError> {
    let bytes = serialize(msg.clone(), flags, seq);
    prop_assert_eq!(bytes.len() % 4, 0);
    let msgs = split::<FibStatMessage>(&bytes).map_err(TestCaseError::fail)?;
    prop_assert_eq!(msgs.len(), 1);
    prop_assert_eq!(msgs[0].header.length as usize, bytes.len());
    prop_assert_eq!(msgs[0].header.flags, flags);
    prop_assert_eq!(msgs[0].header.sequence_number, seq);
    prop_assert_eq!(&msgs[0].payload, &NetlinkPayload::InnerMessage(msg));
    Ok(())
}

proptest! {
    #[test]
    fn stats_roundtrip(s in stats(), flags: u16, seq: u32) {
        roundtrip(FibStatMessage::Stats(s), flags, seq)?;
    }

    #[test]
    fn record_roundtrip(r in record(), flags: u16, seq: u32) {
        roundtrip(FibStatMessage::Record(r), flags, seq)?;
    }

    /// Unknown attributes survive emit/parse verbatim, whatever their length.
    #[test]
    fn raw_attrs_roundtrip(
        // 16 (ATTR_PAD) and everything above ATTR_MAX (17, ATTR_HARDIRQ_TICKS, is known).
        attrs in proptest::collection::vec(
            ((16u16..0x3fff).prop_filter("a known attribute", |k| *k != 17),
             proptest::collection::vec(any::<u8>(), 0..40)),
            0..8,
        ),
        ty: u16, flags: u16, seq: u32,
    ) {
        let attrs: Vec<DefaultNla> = attrs.into_iter().map(|(k, v)| DefaultNla::new(k, v)).collect();
        let bytes = RawRequest { message_type: ty, flags, seq, attrs: attrs.clone(), ..Default::default() }.to_bytes();
        let parsed = parse_attrs(&bytes[16..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, attrs.into_iter().map(Attr::Other).collect::<Vec<_>>());
    }

    /// Parsing arbitrary bytes never panics.
    #[test]
    fn split_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = split::<FibStatMessage>(&bytes);
        if let Ok(msgs) = split::<fibstat::client::msg::RawMessage>(&bytes) {
            msgs.iter().for_each(|m| drop(fibstat::client::raw::describe(m)));
        }
    }
}
