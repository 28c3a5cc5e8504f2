//! fib_stat messages and attributes, built on netlink-packet-core.
//!
//! [`FibStatMessage`] is the inner message of a
//! `NetlinkMessage<FibStatMessage>`: the header is netlink-packet-core's, the
//! payload a list of [`Attr`] (the protocol has no fixed family header). The
//! codec is symmetric (requests and replies both serialize and parse), so it
//! can be tested by round trips.

use std::net::IpAddr;

use netlink_packet_core::{
    emit_u32, emit_u64, parse_ip, parse_u32, parse_u64, parse_u8, DecodeError, DefaultNla,
    Emitable, ErrorContext, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, Nla,
    NlaBuffer, NlasIterator, Parseable,
};

use crate::protocol::*;

/// One fib_stat netlink attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// [`ATTR_GATEWAY4`] or [`ATTR_GATEWAY6`], by address family.
    Gateway(IpAddr),
    /// [`ATTR_IFINDEX`].
    Ifindex(u32),
    /// [`ATTR_COUNT`].
    Count(u32),
    /// [`ATTR_LOCK_MODE`].
    LockMode(u8),
    /// [`ATTR_NL_REQUESTS`].
    NlRequests(u64),
    /// [`ATTR_GW_RECORDS`].
    GwRecords(u64),
    /// [`ATTR_NEIGH_UPDATES`].
    NeighUpdates(u64),
    /// [`ATTR_REDIRECTS`].
    Redirects(u64),
    /// [`ATTR_LAST_NEIGH4`] or [`ATTR_LAST_NEIGH6`], by address family.
    LastNeigh(IpAddr),
    /// [`ATTR_LAST_NEIGH_IFINDEX`].
    LastNeighIfindex(u32),
    /// [`ATTR_LAST_UPDATE_NS`].
    LastUpdateNs(u64),
    /// [`ATTR_NETNS_INUM`].
    NetnsInum(u32),
    /// [`ATTR_VERSION`].
    Version(u8),
    /// [`ATTR_HARDIRQ_TICKS`].
    HardirqTicks(u64),
    /// Any other type (kept verbatim, ignored when interpreting replies).
    Other(DefaultNla),
}

fn ip_kind(addr: &IpAddr, v4: u16, v6: u16) -> u16 {
    if addr.is_ipv4() {
        v4
    } else {
        v6
    }
}

fn ip_octets(addr: &IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        match self {
            Attr::Gateway(a) | Attr::LastNeigh(a) => ip_octets(a).len(),
            Attr::LockMode(_) | Attr::Version(_) => 1,
            Attr::Ifindex(_) | Attr::Count(_) | Attr::LastNeighIfindex(_) | Attr::NetnsInum(_) => 4,
            Attr::NlRequests(_)
            | Attr::GwRecords(_)
            | Attr::NeighUpdates(_)
            | Attr::Redirects(_)
            | Attr::LastUpdateNs(_)
            | Attr::HardirqTicks(_) => 8,
            Attr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Attr::Gateway(a) => ip_kind(a, ATTR_GATEWAY4, ATTR_GATEWAY6),
            Attr::Ifindex(_) => ATTR_IFINDEX,
            Attr::Count(_) => ATTR_COUNT,
            Attr::LockMode(_) => ATTR_LOCK_MODE,
            Attr::NlRequests(_) => ATTR_NL_REQUESTS,
            Attr::GwRecords(_) => ATTR_GW_RECORDS,
            Attr::NeighUpdates(_) => ATTR_NEIGH_UPDATES,
            Attr::Redirects(_) => ATTR_REDIRECTS,
            Attr::LastNeigh(a) => ip_kind(a, ATTR_LAST_NEIGH4, ATTR_LAST_NEIGH6),
            Attr::LastNeighIfindex(_) => ATTR_LAST_NEIGH_IFINDEX,
            Attr::LastUpdateNs(_) => ATTR_LAST_UPDATE_NS,
            Attr::NetnsInum(_) => ATTR_NETNS_INUM,
            Attr::Version(_) => ATTR_VERSION,
            Attr::HardirqTicks(_) => ATTR_HARDIRQ_TICKS,
            Attr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        // The buffers are sized by value_len(), so the emit_* calls cannot fail.
        match self {
            Attr::Gateway(a) | Attr::LastNeigh(a) => buf.copy_from_slice(&ip_octets(a)),
            Attr::LockMode(v) | Attr::Version(v) => buf[0] = *v,
            Attr::Ifindex(v) | Attr::Count(v) | Attr::LastNeighIfindex(v) | Attr::NetnsInum(v) => {
                emit_u32(buf, *v).expect("sized by value_len")
            }
            Attr::NlRequests(v)
            | Attr::GwRecords(v)
            | Attr::NeighUpdates(v)
            | Attr::Redirects(v)
            | Attr::LastUpdateNs(v)
            | Attr::HardirqTicks(v) => emit_u64(buf, *v).expect("sized by value_len"),
            Attr::Other(nla) => nla.emit_value(buf),
        }
    }
}

fn parse_addr(value: &[u8], want: usize) -> Result<IpAddr, DecodeError> {
    if value.len() != want {
        return Err(DecodeError::invalid_ip_address(value.len()));
    }
    parse_ip(value)
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let kind = buf.kind();
        let attr = match kind {
            ATTR_GATEWAY4 => Attr::Gateway(parse_addr(v, 4)?),
            ATTR_GATEWAY6 => Attr::Gateway(parse_addr(v, 16)?),
            ATTR_IFINDEX => Attr::Ifindex(parse_u32(v)?),
            ATTR_COUNT => Attr::Count(parse_u32(v)?),
            ATTR_LOCK_MODE => Attr::LockMode(parse_u8(v)?),
            ATTR_NL_REQUESTS => Attr::NlRequests(parse_u64(v)?),
            ATTR_GW_RECORDS => Attr::GwRecords(parse_u64(v)?),
            ATTR_NEIGH_UPDATES => Attr::NeighUpdates(parse_u64(v)?),
            ATTR_REDIRECTS => Attr::Redirects(parse_u64(v)?),
            ATTR_LAST_NEIGH4 => Attr::LastNeigh(parse_addr(v, 4)?),
            ATTR_LAST_NEIGH6 => Attr::LastNeigh(parse_addr(v, 16)?),
            ATTR_LAST_NEIGH_IFINDEX => Attr::LastNeighIfindex(parse_u32(v)?),
            ATTR_LAST_UPDATE_NS => Attr::LastUpdateNs(parse_u64(v)?),
            ATTR_NETNS_INUM => Attr::NetnsInum(parse_u32(v)?),
            ATTR_VERSION => Attr::Version(parse_u8(v)?),
            ATTR_HARDIRQ_TICKS => Attr::HardirqTicks(parse_u64(v)?),
            _ => Attr::Other(DefaultNla::parse(buf)?),
        };
        Ok(attr)
    }
}

/// Parses a buffer of attributes (a message payload).
pub fn parse_attrs(payload: &[u8]) -> Result<Vec<Attr>, DecodeError> {
    NlasIterator::new(payload)
        .map(|nla| {
            let nla = nla?;
            let kind = nla.kind();
            Attr::parse(&nla).with_context(|| format!("attribute type {kind}"))
        })
        .collect()
}

fn attrs_len(attrs: &[Attr]) -> usize {
    Emitable::buffer_len(&attrs)
}

fn emit_attrs(attrs: &[Attr], buf: &mut [u8]) {
    Emitable::emit(&attrs, buf)
}

/// A RECORD request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub gateway: IpAddr,
    /// Omitted from the request when `None` (the module then uses 0).
    pub ifindex: Option<u32>,
    pub count: u32,
}

impl Record {
    fn attrs(&self) -> Vec<Attr> {
        let mut attrs = vec![Attr::Gateway(self.gateway)];
        attrs.extend(self.ifindex.map(Attr::Ifindex));
        attrs.push(Attr::Count(self.count));
        attrs
    }

    fn from_attrs(attrs: Vec<Attr>) -> Result<Self, DecodeError> {
        let (mut gateway, mut ifindex, mut count) = (None, None, None);
        for attr in attrs {
            match attr {
                Attr::Gateway(a) => gateway = Some(a),
                Attr::Ifindex(i) => ifindex = Some(i),
                Attr::Count(c) => count = Some(c),
                other => return Err(format!("unexpected attribute in RECORD: {other:?}").into()),
            }
        }
        Ok(Record {
            gateway: gateway.ok_or("RECORD without gateway")?,
            ifindex,
            count: count.ok_or("RECORD without COUNT")?,
        })
    }
}

/// Lock mode of the module build ([`ATTR_LOCK_MODE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Spin,
    Bh,
    Irq,
    IrqSave,
    /// Per-CPU statistics, no shared lock.
    Percpu,
    /// A value this tool does not know.
    Unknown(u8),
}

impl From<u8> for LockMode {
    fn from(v: u8) -> Self {
        match v {
            LOCK_SPIN => LockMode::Spin,
            LOCK_BH => LockMode::Bh,
            LOCK_IRQ => LockMode::Irq,
            LOCK_IRQSAVE => LockMode::IrqSave,
            LOCK_PERCPU => LockMode::Percpu,
            v => LockMode::Unknown(v),
        }
    }
}

impl From<LockMode> for u8 {
    fn from(m: LockMode) -> u8 {
        match m {
            LockMode::Spin => LOCK_SPIN,
            LockMode::Bh => LOCK_BH,
            LockMode::Irq => LOCK_IRQ,
            LockMode::IrqSave => LOCK_IRQSAVE,
            LockMode::Percpu => LOCK_PERCPU,
            LockMode::Unknown(v) => v,
        }
    }
}

impl std::fmt::Display for LockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockMode::Spin => f.write_str("spin"),
            LockMode::Bh => f.write_str("bh"),
            LockMode::Irq => f.write_str("irq"),
            LockMode::IrqSave => f.write_str("irqsave"),
            LockMode::Percpu => f.write_str("percpu"),
            LockMode::Unknown(v) => write!(f, "unknown({v})"),
        }
    }
}

/// An address with its interface index, as reported in MSG_STATS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub addr: IpAddr,
    pub ifindex: u32,
}

/// The statistics of one network namespace (a MSG_STATS reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub lock_mode: LockMode,
    pub version: u8,
    pub netns_inum: u32,
    pub nl_requests: u64,
    pub gateway_records: u64,
    pub neigh_updates: u64,
    pub redirects: u64,
    pub last_gateway: Option<Located>,
    pub last_neigh: Option<Located>,
    /// CLOCK_REALTIME in ns, 0: never updated.
    pub last_update_ns: u64,
    /// Hard interrupt ticks ([`ATTR_HARDIRQ_TICKS`]); `None` from a module without them.
    pub hardirq_ticks: Option<u64>,
}

impl Stats {
    fn attrs(&self) -> Vec<Attr> {
        let mut attrs = vec![
            Attr::LockMode(self.lock_mode.into()),
            Attr::Version(self.version),
            Attr::NetnsInum(self.netns_inum),
            Attr::NlRequests(self.nl_requests),
            Attr::GwRecords(self.gateway_records),
            Attr::NeighUpdates(self.neigh_updates),
            Attr::Redirects(self.redirects),
        ];
        if let Some(gw) = self.last_gateway {
            attrs.extend([Attr::Gateway(gw.addr), Attr::Ifindex(gw.ifindex)]);
        }
        if let Some(n) = self.last_neigh {
            attrs.extend([Attr::LastNeigh(n.addr), Attr::LastNeighIfindex(n.ifindex)]);
        }
        attrs.push(Attr::LastUpdateNs(self.last_update_ns));
        attrs.extend(self.hardirq_ticks.map(Attr::HardirqTicks));
        attrs
    }

    /// Interprets the attributes of a MSG_STATS reply. Every counter is
    /// required; unknown attribute types are ignored; an ifindex without its
    /// address is ignored, an address without ifindex gets ifindex 0.
    pub fn from_attrs(attrs: Vec<Attr>) -> Result<Self, DecodeError> {
        let mut lock_mode = None;
        let mut version = None;
        let mut netns_inum = None;
        let mut nl_requests = None;
        let mut gateway_records = None;
        let mut neigh_updates = None;
        let mut redirects = None;
        let mut last_update_ns = None;
        let mut hardirq_ticks = None;
        let (mut gw, mut gw_ifindex, mut neigh, mut neigh_ifindex) = (None, None, None, None);
        for attr in attrs {
            match attr {
                Attr::LockMode(v) => lock_mode = Some(v.into()),
                Attr::Version(v) => version = Some(v),
                Attr::NetnsInum(v) => netns_inum = Some(v),
                Attr::NlRequests(v) => nl_requests = Some(v),
                Attr::GwRecords(v) => gateway_records = Some(v),
                Attr::NeighUpdates(v) => neigh_updates = Some(v),
                Attr::Redirects(v) => redirects = Some(v),
                Attr::LastUpdateNs(v) => last_update_ns = Some(v),
                Attr::HardirqTicks(v) => hardirq_ticks = Some(v),
                Attr::Gateway(a) => gw = Some(a),
                Attr::Ifindex(v) => gw_ifindex = Some(v),
                Attr::LastNeigh(a) => neigh = Some(a),
                Attr::LastNeighIfindex(v) => neigh_ifindex = Some(v),
                Attr::Count(_) | Attr::Other(_) => {}
            }
        }
        fn req<T>(v: Option<T>, name: &str) -> Result<T, DecodeError> {
            v.ok_or_else(|| format!("MSG_STATS reply lacks {name}").into())
        }
        let located = |addr: Option<IpAddr>, ifindex: Option<u32>| {
            addr.map(|addr| Located {
                addr,
                ifindex: ifindex.unwrap_or(0),
            })
        };
        Ok(Stats {
            lock_mode: req(lock_mode, "ATTR_LOCK_MODE")?,
            version: req(version, "ATTR_VERSION")?,
            netns_inum: req(netns_inum, "ATTR_NETNS_INUM")?,
            nl_requests: req(nl_requests, "ATTR_NL_REQUESTS")?,
            gateway_records: req(gateway_records, "ATTR_GW_RECORDS")?,
            neigh_updates: req(neigh_updates, "ATTR_NEIGH_UPDATES")?,
            redirects: req(redirects, "ATTR_REDIRECTS")?,
            last_gateway: located(gw, gw_ifindex),
            last_neigh: located(neigh, neigh_ifindex),
            last_update_ns: req(last_update_ns, "ATTR_LAST_UPDATE_NS")?,
            hardirq_ticks,
        })
    }
}

/// The inner message of `NetlinkMessage<FibStatMessage>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FibStatMessage {
    /// [`MSG_GET`] request.
    Get,
    /// [`MSG_RECORD`] request.
    Record(Record),
    /// [`MSG_RESET`] request.
    Reset,
    /// [`MSG_STATS`] reply.
    Stats(Stats),
}

impl FibStatMessage {
    fn attrs(&self) -> Vec<Attr> {
        match self {
            FibStatMessage::Get | FibStatMessage::Reset => Vec::new(),
            FibStatMessage::Record(r) => r.attrs(),
            FibStatMessage::Stats(s) => s.attrs(),
        }
    }
}

impl NetlinkSerializable for FibStatMessage {
    fn message_type(&self) -> u16 {
        match self {
            FibStatMessage::Get => MSG_GET,
            FibStatMessage::Record(_) => MSG_RECORD,
            FibStatMessage::Reset => MSG_RESET,
            FibStatMessage::Stats(_) => MSG_STATS,
        }
    }

    fn buffer_len(&self) -> usize {
        attrs_len(&self.attrs())
    }

    fn serialize(&self, buffer: &mut [u8]) {
        emit_attrs(&self.attrs(), buffer)
    }
}

impl NetlinkDeserializable for FibStatMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let attrs = parse_attrs(payload)?;
        let no_attrs = |msg| {
            if attrs.is_empty() {
                Ok(msg)
            } else {
                Err(DecodeError::from("unexpected attributes"))
            }
        };
        match header.message_type {
            MSG_GET => no_attrs(FibStatMessage::Get),
            MSG_RESET => no_attrs(FibStatMessage::Reset),
            MSG_RECORD => Record::from_attrs(attrs).map(FibStatMessage::Record),
            MSG_STATS => Stats::from_attrs(attrs).map(FibStatMessage::Stats),
            t => Err(format!("unknown fib_stat message type {t:#x}").into()),
        }
    }
}

/// Any message, payload kept as bytes: what `fibstat raw` sends and receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    pub message_type: u16,
    pub payload: Vec<u8>,
}

impl NetlinkSerializable for RawMessage {
    fn message_type(&self) -> u16 {
        self.message_type
    }

    fn buffer_len(&self) -> usize {
        self.payload.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.payload)
    }
}

impl NetlinkDeserializable for RawMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(RawMessage {
            message_type: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

/// Name of a fib_stat message type, for diagnostics.
pub fn message_type_name(t: u16) -> Option<&'static str> {
    match t {
        MSG_GET => Some("GET"),
        MSG_RECORD => Some("RECORD"),
        MSG_RESET => Some("RESET"),
        MSG_STATS => Some("STATS"),
        netlink_packet_core::NLMSG_NOOP => Some("NOOP"),
        netlink_packet_core::NLMSG_ERROR => Some("ERROR"),
        netlink_packet_core::NLMSG_DONE => Some("DONE"),
        netlink_packet_core::NLMSG_OVERRUN => Some("OVERRUN"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_with_wrong_length_is_rejected() {
        // GATEWAY4 with 3 bytes of value (nla_len 7, padded to 8).
        let buf = [7, 0, ATTR_GATEWAY4 as u8, 0, 10, 0, 0, 0];
        assert!(parse_attrs(&buf).is_err());
    }

    #[test]
    fn unknown_attr_is_kept() {
        let buf = [5, 0, 99, 0, 0xab, 0, 0, 0];
        let attrs = parse_attrs(&buf).unwrap();
        assert_eq!(attrs, vec![Attr::Other(DefaultNla::new(99, vec![0xab]))]);
    }

    #[test]
    fn lock_mode_values() {
        assert_eq!(LockMode::from(LOCK_SPIN), LockMode::Spin);
        assert_eq!(LockMode::from(LOCK_BH), LockMode::Bh);
        assert_eq!(LockMode::from(LOCK_IRQ), LockMode::Irq);
        assert_eq!(LockMode::from(LOCK_IRQSAVE), LockMode::IrqSave);
        assert_eq!(LockMode::IrqSave.to_string(), "irqsave");
        assert_eq!(LockMode::from(LOCK_PERCPU), LockMode::Percpu);
        assert_eq!(LockMode::Percpu.to_string(), "percpu");
        assert_eq!(u8::from(LockMode::Percpu), LOCK_PERCPU);
        assert_eq!(LockMode::from(7).to_string(), "unknown(7)");
    }
}
