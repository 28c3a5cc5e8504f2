//! Request rates for `make bench`, measured inside one guest boot with
//! interleaved repetitions (orders A B C, then C B A, ...):
//!
//! * `nlrate`: fib_stat GET vs rtnetlink RTM_GETLINK (ifindex 1) vs genetlink
//!   CTRL_CMD_GETFAMILY ("nlctrl"), one socket each, request -> reply in a
//!   tight loop;
//! * `recrate`: RECORD (acked) with one writer on CPU 0, two writers on CPUs
//!   0 and 1 in the same namespace (same lock), and two writers in two
//!   namespaces (two locks).
//!
//! Each line: the figure and its peer (medians of the repetitions), the
//! median of the per-repetition ratios, the repetitions, and the spread of
//! those ratios ((max - min) / median, in percent).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use fibstat::protocol::{MSG_GET, MSG_STATS};

use crate::load::{open_fib, record_msg, wait_ack};
use crate::nl::{self, NlSocket, ANSWER_TIMEOUT, NLM_F_REQUEST};

const NETLINK_ROUTE: i32 = 0;
const NETLINK_GENERIC: i32 = 16;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// (max - min) / median, in percent.
pub fn spread(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::MIN, f64::max);
    let min = v.iter().copied().fold(f64::MAX, f64::min);
    100.0 * (max - min) / median(v)
}

/// One bench line: `NAME: A=<a>/s B=<b>/s ratio=<r> runs=<n> spread=<s>%`.
pub fn line(name: &str, a: (&str, &[f64]), b: (&str, &[f64])) -> String {
    let ratios: Vec<f64> = a.1.iter().zip(b.1).map(|(x, y)| x / y).collect();
    format!(
        "{name}: {}={:.0}/s {}={:.0}/s ratio={:.2} runs={} spread={:.1}%",
        a.0,
        median(a.1),
        b.0,
        median(b.1),
        median(&ratios),
        ratios.len(),
        spread(&ratios)
    )
}

/// Rates of `names.len()` configurations: one warm-up run of each (a quarter
/// of `ms`), then `rounds` repetitions of `ms` each, in the order first to
/// last and then last to first alternately (so that a drift during the run
/// weighs on every configuration alike). Prints a `WHAT round R: NAME=<rate>/s
/// ...` line per repetition on stderr; `measure(i, dur)` runs configuration
/// `i` for `dur`.
fn interleaved(
    what: &str,
    names: &[&str],
    ms: u64,
    rounds: usize,
    mut measure: impl FnMut(usize, Duration) -> Result<f64, String>,
) -> Result<Vec<Vec<f64>>, String> {
    for i in 0..names.len() {
        measure(i, Duration::from_millis(ms / 4 + 1))?;
    }
    let dur = Duration::from_millis(ms);
    let mut rates = vec![Vec::new(); names.len()];
    for r in 0..rounds {
        let mut order: Vec<usize> = (0..names.len()).collect();
        if r % 2 == 1 {
            order.reverse();
        }
        for i in order {
            rates[i].push(measure(i, dur)?);
        }
        let figures: Vec<String> = names
            .iter()
            .zip(&rates)
            .map(|(name, v)| format!("{name}={:.0}/s", v[r]))
            .collect();
        eprintln!("{what} round {r}: {}", figures.join(" "));
    }
    Ok(rates)
}

struct Kind {
    name: &'static str,
    sock: NlSocket,
    request: Vec<u8>,
    reply_type: u16,
}

impl Kind {
    /// Requests answered per second during `dur`.
    fn measure(&mut self, dur: Duration) -> Result<f64, String> {
        let start = Instant::now();
        let mut n = 0u64;
        let mut seq = 0u32;
        while start.elapsed() < dur {
            seq = seq.wrapping_add(1);
            self.request[8..12].copy_from_slice(&seq.to_ne_bytes());
            self.sock
                .send(&self.request)
                .map_err(|e| format!("{}: send: {e}", self.name))?;
            let d = self
                .sock
                .recv()
                .map_err(|e| format!("{}: recv: {e}", self.name))?
                .ok_or_else(|| format!("{}: no reply", self.name))?;
            let a = nl::answers(d)?;
            match a.first() {
                Some(m) if m.ty == self.reply_type && m.seq == seq => n += 1,
                Some(m) => {
                    return Err(format!(
                        "{}: expected reply type {:#x} seq {seq}, got type {:#x} seq {}",
                        self.name, self.reply_type, m.ty, m.seq
                    ))
                }
                None => return Err(format!("{}: empty reply", self.name)),
            }
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    }
}

fn open(proto: i32) -> Result<NlSocket, String> {
    let s = NlSocket::open(proto).map_err(|e| format!("socket(AF_NETLINK, {proto}): {e}"))?;
    s.set_timeout(ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
    Ok(s)
}

/// `nlrate`: GET vs RTM_GETLINK vs CTRL_CMD_GETFAMILY.
pub fn nlrate(proto: i32, ms: u64, rounds: usize) -> Result<(), String> {
    let ifinfomsg = [0u8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // family 0, ifindex 1
    let mut genl = vec![CTRL_CMD_GETFAMILY, 1, 0, 0];
    genl.extend_from_slice(&nl::attr(CTRL_ATTR_FAMILY_NAME, b"nlctrl\0"));
    let mut kinds = [
        Kind {
            name: "get",
            sock: open(proto)?,
            request: nl::message(MSG_GET, NLM_F_REQUEST, 0, &[]),
            reply_type: MSG_STATS,
        },
        Kind {
            name: "getlink",
            sock: open(NETLINK_ROUTE)?,
            request: nl::message(RTM_GETLINK, NLM_F_REQUEST, 0, &ifinfomsg),
            reply_type: RTM_NEWLINK,
        },
        Kind {
            name: "getfamily",
            sock: open(NETLINK_GENERIC)?,
            request: nl::message(GENL_ID_CTRL, NLM_F_REQUEST, 0, &genl),
            reply_type: GENL_ID_CTRL,
        },
    ];
    let rates = interleaved(
        "nlrate",
        &["get", "getlink", "getfamily"],
        ms,
        rounds,
        |i, dur| kinds[i].measure(dur),
    )?;
    println!(
        "{}",
        line("get-vs-getlink", ("get", &rates[0]), ("getlink", &rates[1]))
    );
    println!(
        "{}",
        line(
            "get-vs-getfamily",
            ("get", &rates[0]),
            ("getfamily", &rates[2])
        )
    );
    Ok(())
}

/// Acked RECORDs per second of writers `(cpu, netns)`, all running during `dur`.
fn writers(proto: i32, specs: &[(usize, String)], dur: Duration) -> Result<f64, String> {
    let barrier = Arc::new(Barrier::new(specs.len() + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for (i, (cpu, ns)) in specs.iter().cloned().enumerate() {
        let (barrier, stop) = (barrier.clone(), stop.clone());
        handles.push(thread::spawn(move || -> Result<u64, String> {
            let setup = (|| {
                nl::pin_to_cpu(cpu).map_err(|e| format!("pin to CPU {cpu}: {e}"))?;
                nl::enter_netns(&ns)?;
                open_fib(proto).map_err(|e| format!("socket: {e}"))
            })();
            barrier.wait();
            let mut s = setup?;
            let mut n = 0u64;
            let mut seq = 0u32;
            let gw = std::net::Ipv4Addr::new(192, 0, 2, 100 + i as u8);
            while !stop.load(Ordering::Relaxed) {
                seq = seq.wrapping_add(1);
                s.send(&record_msg(seq, gw, 0, 1))
                    .map_err(|e| format!("send: {e}"))?;
                match wait_ack(&mut s, seq)? {
                    0 => n += 1,
                    e => return Err(format!("RECORD answered errno {e}")),
                }
            }
            Ok(n)
        }));
    }
    barrier.wait();
    let start = Instant::now();
    thread::sleep(dur);
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(|_| "writer thread panicked")??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// `recrate`: RECORD rate, 1 writer vs 2 (same namespace) vs 2 (two namespaces).
pub fn recrate(proto: i32, ns_a: &str, ns_b: &str, ms: u64, rounds: usize) -> Result<(), String> {
    let a = ns_a.to_string();
    let configs = [
        ("one", vec![(0, a.clone())]),
        ("same", vec![(0, a.clone()), (1, a.clone())]),
        ("twons", vec![(0, a.clone()), (1, ns_b.to_string())]),
    ];
    let rates = interleaved(
        "recrate",
        &["one", "two-same-netns", "two-netns"],
        ms,
        rounds,
        |i, dur| writers(proto, &configs[i].1, dur),
    )?;
    println!(
        "{}",
        line("record-2w-vs-1w", ("two", &rates[1]), ("one", &rates[0]))
    );
    // Same lock vs two locks: contention shows if sharing the lock is slower
    // in every repetition (a sign test: chance 2^-runs if there is no effect).
    let ratios: Vec<f64> = rates[1].iter().zip(&rates[2]).map(|(s, t)| s / t).collect();
    let visible = ratios.iter().all(|&r| r < 1.0);
    println!(
        "{} contention={}",
        line(
            "record-2w-samens-vs-2ns",
            ("same", &rates[1]),
            ("twons", &rates[2])
        ),
        if visible { "visible" } else { "not-visible" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spread() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!((spread(&[0.9, 1.0, 1.1]) - 20.0).abs() < 1e-9);
        assert_eq!(
            line("x", ("a", &[2.0, 4.0]), ("b", &[1.0, 2.0])),
            "x: a=3/s b=2/s ratio=2.00 runs=2 spread=0.0%"
        );
    }

    #[test]
    fn interleaved_warms_up_then_alternates_the_order() {
        let mut calls = Vec::new();
        let rates = interleaved("t", &["a", "b", "c"], 4, 3, |i, dur| {
            calls.push((i, dur.as_millis()));
            Ok(calls.len() as f64)
        });
        assert_eq!(
            rates,
            Ok(vec![
                vec![4.0, 9.0, 10.0],
                vec![5.0, 8.0, 11.0],
                vec![6.0, 7.0, 12.0]
            ])
        );
        let order: Vec<usize> = calls.iter().map(|c| c.0).collect();
        assert_eq!(order, [0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2]);
        let ms: Vec<u128> = calls.iter().map(|c| c.1).collect();
        assert_eq!(ms, [2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    }
}
