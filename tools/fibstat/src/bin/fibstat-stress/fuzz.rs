//! `fibstat-stress fuzz`: random and mutated-valid datagrams to the module's
//! socket, every answer checked against the reference model (model.rs).
//!
//! Checks, for every message the kernel frames: exactly one ack, in order,
//! echoing its header (and, for errors, its payload), with the predicted errno
//! (0, EINVAL, EOPNOTSUPP, EPERM); an extended-ack attribute offset, if any,
//! inside the message; for a GET a STATS reply before the ack whose
//! nl_requests, gateway_records and last gateway equal the model's. At the
//! end the statistics equal the sum of the COUNTs of the RECORDs acked with 0
//! since the last acked RESET; the second half of the run sends no RESET (a
//! datagram that would reset is generated anew), so that sum spans at least
//! every RECORD of that half. Nothing else may arrive.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fibstat::client::msg::{parse_attrs, Stats};
use fibstat::protocol::{MSG_GET, MSG_STATS};

use crate::gen;
use crate::model::{self, Framed, Model, Outcome};
use crate::nl::{
    self, NlSocket, ANSWER_TIMEOUT, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_REQUEST,
};
use crate::rng::Rng;

pub struct FuzzArgs {
    pub seed: u64,
    pub messages: u64,
    pub netns: Option<String>,
    pub proto: i32,
    /// Drop to uid/gid 65534 after opening the socket: RECORD and RESET get EPERM.
    pub unprivileged: bool,
    pub progress_every: u64,
}

#[derive(Default)]
struct Tally {
    datagrams: u64,
    messages: u64,
    framed: u64,
    answers: u64,
    skipped: u64,
    gets: u64,
    records: u64,
    resets: u64,
    einval: u64,
    eopnotsupp: u64,
    eperm: u64,
    dropped_datagrams: u64,
    /// Sum of the COUNTs of every RECORD acked with 0, over the whole run.
    acked_count_total: u64,
    /// The same since the last RESET acked with 0: what gateway_records must be.
    acked_count_since_reset: u64,
    /// RECORDs acked with 0 since the last RESET acked with 0.
    records_since_reset: u64,
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn stats_of(payload: &[u8]) -> Result<Stats, String> {
    parse_attrs(payload)
        .map_err(|e| e.to_string())
        .and_then(|a| Stats::from_attrs(a).map_err(|e| e.to_string()))
}

fn check_stats(s: &Stats, m: &Model, when: &str) -> Result<(), String> {
    let last = s.last_gateway.map(|l| (l.addr, l.ifindex));
    if s.nl_requests != m.nl_requests || s.gateway_records != m.gw_records || last != m.last_gateway
    {
        return Err(format!(
            "{when}: STATS says nl_requests={} gateway_records={} last_gateway={:?}, \
             the model nl_requests={} gateway_records={} last_gateway={:?}",
            s.nl_requests, s.gateway_records, last, m.nl_requests, m.gw_records, m.last_gateway
        ));
    }
    Ok(())
}

struct Fuzzer {
    sock: NlSocket,
    model: Model,
    privileged: bool,
    tally: Tally,
}

impl Fuzzer {
    /// Receives the next answer message (each answer is its own datagram).
    fn next_answer(
        &mut self,
        pending: &mut Vec<(u16, u16, u32, Vec<u8>)>,
    ) -> Result<(u16, u16, u32, Vec<u8>), String> {
        if pending.is_empty() {
            let d = self
                .sock
                .recv()
                .map_err(|e| format!("recv: {e}"))?
                .ok_or("no answer within 30 s")?
                .to_vec();
            for a in nl::answers(&d)?.iter().rev() {
                pending.push((a.ty, a.flags, a.seq, a.payload.to_vec()));
            }
        }
        self.tally.answers += 1;
        pending
            .pop()
            .ok_or_else(|| "empty answer datagram".to_string())
    }

    /// Checks the answers to one framed message and applies it to the model.
    fn answer(
        &mut self,
        d: &[u8],
        f: &Framed,
        pending: &mut Vec<(u16, u16, u32, Vec<u8>)>,
    ) -> Result<(), String> {
        let (ty, flags, seq) = (f.ty(d), f.flags(d), f.seq(d));
        let predicted = model::outcome(ty, flags, f.payload(d), self.privileged);
        self.model.apply(&predicted);
        if predicted == Outcome::Get {
            let (aty, _, aseq, payload) = self.next_answer(pending)?;
            if aty != MSG_STATS || aseq != seq {
                return Err(format!(
                    "expected STATS seq {seq} for a GET, got type {aty:#x} seq {aseq}"
                ));
            }
            let s = stats_of(&payload).map_err(|e| format!("STATS reply does not parse: {e}"))?;
            check_stats(&s, &self.model, "GET")?;
        }
        let (aty, aflags, aseq, payload) = self.next_answer(pending)?;
        if aty != NLMSG_ERROR || aseq != seq {
            return Err(format!(
                "expected the ack of seq {seq}, got type {aty:#x} seq {aseq}"
            ));
        }
        let ack = nl::parse_ack(&nl::Answer {
            ty: aty,
            flags: aflags,
            seq: aseq,
            payload: &payload,
        })?;
        let want = match predicted {
            Outcome::Error(e) => e,
            _ => 0,
        };
        if ack.errno != want {
            return Err(format!(
                "predicted {predicted:?} (errno {want}), the kernel answered errno {}",
                ack.errno
            ));
        }
        if ack.echoed_header != f.header(d) {
            return Err(format!(
                "ack echoes header {}, sent {}",
                hex(ack.echoed_header),
                hex(f.header(d))
            ));
        }
        if want != 0 && ack.echoed_payload != Some(f.payload(d)) {
            return Err("error ack does not echo the request's payload".into());
        }
        if let Some(off) = ack.bad_attr_offset {
            if (off as usize) < NLMSG_HDRLEN || off as usize >= f.len {
                return Err(format!(
                    "extended ack offset {off} outside the {}-byte message",
                    f.len
                ));
            }
        }
        match predicted {
            Outcome::Skipped => self.tally.skipped += 1,
            Outcome::Get => self.tally.gets += 1,
            Outcome::Record { count, .. } => {
                self.tally.records += 1;
                self.tally.acked_count_total += u64::from(count);
                self.tally.acked_count_since_reset += u64::from(count);
                self.tally.records_since_reset += 1;
            }
            Outcome::Reset => {
                self.tally.resets += 1;
                self.tally.acked_count_since_reset = 0;
                self.tally.records_since_reset = 0;
            }
            Outcome::Error(libc::EINVAL) => self.tally.einval += 1,
            Outcome::Error(libc::EOPNOTSUPP) => self.tally.eopnotsupp += 1,
            Outcome::Error(libc::EPERM) => self.tally.eperm += 1,
            Outcome::Error(e) => return Err(format!("unexpected predicted errno {e}")),
        }
        Ok(())
    }

    /// A plain GET with ack, checked against the model.
    fn get(&mut self, seq: u32) -> Result<Stats, String> {
        let d = nl::message(MSG_GET, NLM_F_REQUEST | NLM_F_ACK, seq, &[]);
        self.sock.send(&d).map_err(|e| format!("send GET: {e}"))?;
        let mut pending = Vec::new();
        let (aty, _, aseq, payload) = self.next_answer(&mut pending)?;
        if aty != MSG_STATS || aseq != seq {
            return Err(format!(
                "GET: expected STATS seq {seq}, got type {aty:#x} seq {aseq}"
            ));
        }
        let s = stats_of(&payload)?;
        let (aty, _, aseq, payload) = self.next_answer(&mut pending)?;
        if aty != NLMSG_ERROR
            || aseq != seq
            || nl::parse_ack(&nl::Answer {
                ty: aty,
                flags: 0,
                seq: aseq,
                payload: &payload,
            })?
            .errno
                != 0
        {
            return Err("GET: no ack 0".into());
        }
        Ok(s)
    }
}

pub fn run(args: &FuzzArgs) -> Result<(), String> {
    println!(
        "fuzz: seed={:#x} messages={} netns={} privileged={} (repeat: fibstat-stress fuzz --seed {:#x} --messages {})",
        args.seed,
        args.messages,
        args.netns.as_deref().unwrap_or("-"),
        !args.unprivileged,
        args.seed,
        args.messages
    );
    if let Some(ns) = &args.netns {
        nl::enter_netns(ns)?;
    }
    let sock = NlSocket::open(args.proto)
        .map_err(|e| format!("socket(AF_NETLINK, {}): {e}", args.proto))?;
    sock.set_ext_ack()
        .map_err(|e| format!("NETLINK_EXT_ACK: {e}"))?;
    sock.set_rcvbuf(4 << 20)
        .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    sock.set_timeout(ANSWER_TIMEOUT)
        .map_err(|e| format!("SO_RCVTIMEO: {e}"))?;
    if args.unprivileged {
        crate::drop_privileges()?;
    }
    let mut fz = Fuzzer {
        sock,
        model: Model {
            nl_requests: 0,
            gw_records: 0,
            last_gateway: None,
        },
        privileged: !args.unprivileged,
        tally: Tally::default(),
    };
    // The starting point: whatever the namespace holds already.
    let s = fz.get(u32::MAX)?;
    fz.model = Model {
        nl_requests: s.nl_requests,
        gw_records: s.gateway_records,
        last_gateway: s.last_gateway.map(|l| (l.addr, l.ifindex)),
    };
    fz.tally.acked_count_since_reset = s.gateway_records;
    let start_records = s.gateway_records;
    let mut rng = Rng::new(args.seed);
    let mut seq = 1u32;
    let start = Instant::now();
    let mut pending = Vec::new();
    while fz.tally.messages < args.messages {
        let left = (args.messages - fz.tally.messages) as usize;
        let (mut d, mut parts, mut framed) = gen::datagram(&mut rng, &mut seq, left);
        // Second half: no RESET, so that the final statistics add up every
        // RECORD acked in it.
        while 2 * fz.tally.messages >= args.messages
            && framed.iter().any(|f| {
                model::outcome(f.ty(&d), f.flags(&d), f.payload(&d), fz.privileged)
                    == Outcome::Reset
            })
        {
            (d, parts, framed) = gen::datagram(&mut rng, &mut seq, left);
        }
        let index = fz.tally.datagrams;
        fz.tally.datagrams += 1;
        fz.tally.messages += parts as u64;
        fz.tally.framed += framed.len() as u64;
        if framed.is_empty() {
            fz.tally.dropped_datagrams += 1;
        }
        fz.sock
            .send(&d)
            .map_err(|e| format!("send datagram {index}: {e}"))?;
        for (i, f) in framed.iter().enumerate() {
            fz.answer(&d, f, &mut pending).map_err(|e| {
                format!(
                    "datagram {index} (seed {:#x}), message {i} of {} at offset {}: {e}\n  datagram: {}",
                    args.seed,
                    framed.len(),
                    f.start,
                    hex(&d)
                )
            })?;
        }
        if !pending.is_empty() {
            return Err(format!(
                "datagram {index}: {} answers more than expected",
                pending.len()
            ));
        }
        if args.progress_every > 0 && fz.tally.datagrams.is_multiple_of(args.progress_every) {
            eprintln!(
                "fuzz: {} messages, {:.0} msg/s",
                fz.tally.messages,
                fz.tally.messages as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Nothing else may arrive (answers to dropped datagrams, duplicates).
    fz.sock
        .set_timeout(Duration::from_millis(200))
        .map_err(|e| e.to_string())?;
    if let Some(extra) = fz.sock.recv().map_err(|e| e.to_string())? {
        return Err(format!("an answer nobody asked for: {}", hex(extra)));
    }
    fz.sock
        .set_timeout(ANSWER_TIMEOUT)
        .map_err(|e| e.to_string())?;
    fz.model.apply(&Outcome::Get);
    let s = fz.get(u32::MAX - 1)?;
    check_stats(&s, &fz.model, "final GET")?;
    let t = &fz.tally;
    if s.gateway_records != t.acked_count_since_reset {
        return Err(format!(
            "gateway_records {} != sum of acked RECORD counts since the last acked RESET {}",
            s.gateway_records, t.acked_count_since_reset
        ));
    }
    println!(
        "fuzz: datagrams={} messages={} framed={} answers={} dropped_datagrams={} skipped={} gets={} \
         records_acked={} resets_acked={} einval={} eopnotsupp={} eperm={} acked_count_total={}",
        t.datagrams,
        t.messages,
        t.framed,
        t.answers,
        t.dropped_datagrams,
        t.skipped,
        t.gets,
        t.records,
        t.resets,
        t.einval,
        t.eopnotsupp,
        t.eperm,
        t.acked_count_total
    );
    let since = if t.resets == 0 {
        format!(
            "{} at the start + the counts of the {} RECORDs acked",
            start_records, t.records_since_reset
        )
    } else {
        format!(
            "the counts of the {} RECORDs acked since the last acked RESET",
            t.records_since_reset
        )
    };
    println!(
        "fuzz: PASS seed={:#x} messages={} seconds={:.2} rate={:.0}/s gateway_records={} nl_requests={} (= {since})",
        args.seed,
        t.messages,
        elapsed,
        t.messages as f64 / elapsed,
        s.gateway_records,
        s.nl_requests,
    );
    Ok(())
}
