//! Decoding of lockdep's own vocabulary, after kernel/locking/lockdep.c
//! (v6.12): usage states (`usage_str[]`), usage characters
//! (`get_usage_char()`), wait types (`enum lockdep_wait_type`), the task
//! context flags of `print_usage_bug()` and the lock descriptions of
//! `print_lock()` / `print_lock_name()`.

use super::frame::parse_frame;
use super::model::{Frame, Lock, Task, UsageBit};

/// Canonical (upper-case) form of a usage state. Kernels before 2.6.2x
/// printed `in-softirq-W` / `softirq-on-W`; today it is `IN-SOFTIRQ-W`.
pub fn canonical_state(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

/// Parsed usage state, e.g. `SOFTIRQ-ON-W`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State<'a> {
    /// `HARDIRQ`, `SOFTIRQ`, `RECLAIM_FS`, ...
    pub irq: &'a str,
    /// `true` for `IN-X-*` (used in that context), `false` for `X-ON-*`.
    pub in_irq: bool,
    /// `true` for `-R`.
    pub read: bool,
}

/// Parses a canonical state string.
pub fn parse_state(s: &str) -> Option<State<'_>> {
    let (body, access) = s.rsplit_once('-')?;
    let read = match access {
        "R" => true,
        "W" => false,
        _ => return None,
    };
    if let Some(irq) = body.strip_prefix("IN-") {
        return (!irq.is_empty()).then_some(State {
            irq,
            in_irq: true,
            read,
        });
    }
    let irq = body.strip_suffix("-ON")?;
    (!irq.is_empty()).then_some(State {
        irq,
        in_irq: false,
        read,
    })
}

fn irq_words(irq: &str) -> (&'static str, &'static str) {
    match irq {
        "HARDIRQ" => ("hardirq", "hardirqs"),
        "SOFTIRQ" => ("softirq", "softirqs"),
        "RECLAIM_FS" => ("fs-reclaim", "fs-reclaim (__GFP_FS allocations)"),
        _ => ("irq", "irqs"),
    }
}

/// One-line meaning of a usage state.
pub fn state_meaning(s: &str) -> String {
    match s {
        "INITIAL USE" => return "first acquisition of the lock class".to_owned(),
        "INITIAL READ USE" => return "first read acquisition of the lock class".to_owned(),
        "IN-NMI" => return "taken in NMI context".to_owned(),
        _ => {}
    }
    let Some(st) = parse_state(s) else {
        return "unknown usage state".to_owned();
    };
    let access = if st.read { "read" } else { "write" };
    let (ctx, plural) = irq_words(st.irq);
    if st.in_irq {
        format!("taken for {access} in {ctx} context (the lock is {ctx}-safe)")
    } else {
        format!("taken for {access} with {plural} enabled (the lock is {ctx}-unsafe)")
    }
}

/// The irq kind (`softirq`, `hardirq`, `reclaim_fs`) of a state.
pub fn irq_kind(state: &str) -> Option<String> {
    let st = parse_state(state)?;
    Some(match st.irq {
        "HARDIRQ" => "hardirq".to_owned(),
        "SOFTIRQ" => "softirq".to_owned(),
        other => other.to_ascii_lowercase(),
    })
}

/// Decodes a usage string such as `{+.?.}` (braces optional). Positions
/// come in (write, read) pairs per state, in lockdep_states.h order:
/// HARDIRQ, SOFTIRQ (and RECLAIM_FS on kernels that had it).
pub fn decode_usage(bits: &str) -> Vec<UsageBit> {
    const IRQS: [&str; 3] = ["hardirq", "softirq", "reclaim_fs"];
    let inner = bits.trim_start_matches('{').trim_end_matches('}');
    inner
        .chars()
        .enumerate()
        .filter_map(|(i, c)| {
            let irq = *IRQS.get(i / 2)?;
            let read = i % 2 == 1;
            let (used_in_irq, used_with_irq_enabled) = match c {
                '.' => (false, false),
                '-' => (true, false),
                '+' => (false, true),
                '?' => (true, true),
                _ => return None,
            };
            let what = if read { "read-acquired" } else { "acquired" };
            let meaning = match c {
                '.' => format!("never {what} in {irq} context nor with {irq}s enabled"),
                '-' => format!("{what} in {irq} context ({irq}s disabled elsewhere)"),
                '+' => format!("{what} with {irq}s enabled, never in {irq} context"),
                _ => format!("{what} in {irq} context and also with {irq}s enabled"),
            };
            Some(UsageBit {
                position: i,
                irq: irq.to_owned(),
                access: if read { "read" } else { "write" }.to_owned(),
                char: c.to_string(),
                used_in_irq,
                used_with_irq_enabled,
                meaning,
            })
        })
        .collect()
}

/// Name of a wait type number (include/linux/lockdep_types.h,
/// `enum lockdep_wait_type`). Without CONFIG_PROVE_RAW_LOCK_NESTING (the
/// 6.12 default) LD_WAIT_CONFIG aliases LD_WAIT_SPIN and LD_WAIT_SLEEP is 3;
/// with it, 3 is LD_WAIT_CONFIG and 4 is LD_WAIT_SLEEP. `raw_nesting` says
/// which numbering the report uses.
pub fn wait_type_name(n: u32, raw_nesting: bool) -> String {
    let name = match (n, raw_nesting) {
        (0, _) => "LD_WAIT_INV: not checked (catch-all, e.g. rcu_read_lock, locks held across sleeps)",
        (1, _) => "LD_WAIT_FREE: wait-free (RCU etc.)",
        (2, _) => "LD_WAIT_SPIN: spinning lock (raw_spinlock_t; spinlock_t without PREEMPT_RT nesting checks)",
        (3, false) => "LD_WAIT_SLEEP: sleeping lock (mutex, rwsem)",
        (3, true) => "LD_WAIT_CONFIG: preemptible in PREEMPT_RT (spinlock_t, rwlock_t)",
        (4, true) => "LD_WAIT_SLEEP: sleeping lock (mutex, rwsem)",
        _ => "unknown wait type",
    };
    name.to_owned()
}

/// Parses `HC0[0]:SC1[1]:HE1:SE0`.
pub fn parse_flags(flags: &str, task: &mut Task) -> bool {
    let mut ok = 0;
    for part in flags.split(':') {
        let part = part.trim();
        let (Some(key), Some(val)) = (part.get(..2), part.get(2..)) else {
            continue;
        };
        match key {
            "HC" | "SC" => {
                let (ctx, count) = match val.split_once('[') {
                    Some((c, rest)) => (c, rest.strip_suffix(']').unwrap_or(rest)),
                    None => (val, ""),
                };
                let ctx = ctx.parse().ok();
                let count = count.parse().ok();
                if key == "HC" {
                    task.hardirq_context = ctx;
                    task.hardirq_count = count;
                } else {
                    task.softirq_context = ctx;
                    task.softirq_count = count;
                }
                ok += 1;
            }
            "HE" | "SE" => {
                let v = val.parse::<u64>().ok().map(|v| v != 0);
                if key == "HE" {
                    task.hardirqs_enabled = v;
                } else {
                    task.softirqs_enabled = v;
                }
                ok += 1;
            }
            _ => {}
        }
    }
    if ok == 0 {
        return false;
    }
    task.flags = Some(flags.to_owned());
    task.meaning = Some(flags_meaning(task));
    true
}

fn flags_meaning(t: &Task) -> String {
    let mut parts = Vec::new();
    match (t.hardirq_context, t.hardirq_count) {
        (Some(c), n) if c > 0 => parts.push(format!(
            "in hardirq context (HC{c}, hardirq count {})",
            n.unwrap_or(c)
        )),
        (Some(_), _) => parts.push("not in hardirq context (HC0)".to_owned()),
        _ => {}
    }
    match (t.softirq_context, t.softirq_count) {
        (Some(c), n) if c > 0 => parts.push(format!(
            "in softirq context (SC{c}, softirq count {})",
            n.unwrap_or(c)
        )),
        (Some(_), Some(n)) if n > 0 => parts.push(format!(
            "not serving a softirq but bottom halves disabled (SC0, softirq count {n})"
        )),
        (Some(_), _) => parts.push("not in softirq context (SC0)".to_owned()),
        _ => {}
    }
    if let Some(e) = t.hardirqs_enabled {
        parts.push(
            if e {
                "hardirqs enabled (HE1)"
            } else {
                "hardirqs disabled (HE0)"
            }
            .to_owned(),
        );
    }
    if let Some(e) = t.softirqs_enabled {
        parts.push(
            if e {
                "softirqs enabled (SE1)"
            } else {
                "softirqs disabled (SE0)"
            }
            .to_owned(),
        );
    }
    parts.join(", ")
}

/// Splits `comm/pid` (comm may itself contain `/`, e.g. `swapper/1/0`).
pub fn parse_comm_pid(s: &str) -> Task {
    let s = s.trim();
    match s.rsplit_once('/') {
        Some((comm, pid)) if !comm.is_empty() && pid.parse::<u64>().is_ok() => Task {
            comm: comm.to_owned(),
            pid: pid.parse().ok(),
            ..Task::default()
        },
        _ => Task {
            comm: s.to_owned(),
            ..Task::default()
        },
    }
}

/// Parses the task header of usage / irq-dependency reports:
/// `swapper/1/0 [HC0[0]:SC1[1]:HE1:SE0] takes:`.
pub fn parse_task_with_flags(line: &str) -> Option<Task> {
    let open = line.find(" [HC")? + 1;
    // The flags contain nested brackets: find the `]` closing `[HC`.
    let mut depth = 0usize;
    let mut close = None;
    for (j, c) in line[open..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close = Some(open + j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let mut task = parse_comm_pid(&line[..open - 1]);
    parse_flags(&line[open + 1..close], &mut task);
    Some(task)
}

/// A lock as printed by print_lock() (with address and `at:`) or
/// print_lock_name() (name, usage and wait types only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockDesc {
    pub lock: Lock,
    pub at: Option<Frame>,
}

/// Parses `ffff88810d520018 (&net->lock){+.?.}-{2:2}, at: func+0x1/0x2`
/// and its variants (no address, `(____ptrval____)`, no wait types, no
/// `at:`, old `at: [<addr>] func+...`, `-> #1 (name){..}-{..}:`).
pub fn parse_lock_desc(line: &str) -> Option<LockDesc> {
    let t = line.trim();
    // The usage string closes the name: `){` followed by usage chars and `}`.
    let (name_end, usage_end) = find_usage(t)?;
    let open = matching_open(t, name_end)?;
    let name = &t[open + 1..name_end];
    if name.is_empty() {
        return None;
    }
    let before = t[..open].trim();
    let address = before
        .split_whitespace()
        .last()
        .filter(|a| a.len() >= 8 && a.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let usage_bits = &t[name_end + 1..usage_end + 1];
    let mut lock = Lock {
        name: name.to_owned(),
        address,
        usage_bits: Some(usage_bits.to_owned()),
        usage_decoded: decode_usage(usage_bits),
        ..Lock::default()
    };
    let mut rest = &t[usage_end + 1..];
    if let Some(w) = rest.strip_prefix("-{") {
        if let Some(end) = w.find('}') {
            if let Some((o, i)) = w[..end].split_once(':') {
                if let (Ok(o), Ok(i)) = (o.parse::<u32>(), i.parse::<u32>()) {
                    lock.wait_types = Some(format!("{{{o}:{i}}}"));
                    lock.wait_type_outer = Some(o);
                    lock.wait_type_inner = Some(i);
                }
            }
            rest = &w[end + 1..];
        }
    }
    let at = rest.find("at:").and_then(|i| parse_frame(&rest[i + 3..]));
    Some(LockDesc { lock, at })
}

/// Finds `){usage}`: returns (index of `)`, index of `}`).
fn find_usage(t: &str) -> Option<(usize, usize)> {
    let b = t.as_bytes();
    let mut search = 0;
    while let Some(off) = t.get(search..)?.find("){") {
        let close = search + off;
        let mut j = close + 2;
        while j < b.len() && matches!(b[j], b'.' | b'-' | b'+' | b'?') {
            j += 1;
        }
        if j < b.len() && b[j] == b'}' && j > close + 2 {
            return Some((close, j));
        }
        search = close + 2;
    }
    None
}

/// Index of the `(` matching the `)` at `close`.
fn matching_open(t: &str, close: usize) -> Option<usize> {
    let b = t.as_bytes();
    let mut depth = 0usize;
    for i in (0..=close).rev() {
        match b[i] {
            b')' => depth += 1,
            b'(' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Fills the wait type names of a lock once the numbering is known.
pub fn name_wait_types(lock: &mut Lock, raw_nesting: bool) {
    lock.wait_type_outer_name = lock.wait_type_outer.map(|n| wait_type_name(n, raw_nesting));
    lock.wait_type_inner_name = lock.wait_type_inner.map(|n| wait_type_name(n, raw_nesting));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let s = parse_state("SOFTIRQ-ON-W").unwrap();
        assert_eq!((s.irq, s.in_irq, s.read), ("SOFTIRQ", false, false));
        let s = parse_state("IN-HARDIRQ-R").unwrap();
        assert_eq!((s.irq, s.in_irq, s.read), ("HARDIRQ", true, true));
        assert_eq!(canonical_state("in-softirq-W"), "IN-SOFTIRQ-W");
        assert!(state_meaning("SOFTIRQ-ON-W").contains("with softirqs enabled"));
        assert!(state_meaning("IN-SOFTIRQ-W").contains("in softirq context"));
        assert!(parse_state("garbage").is_none());
    }

    #[test]
    fn usage() {
        let u = decode_usage("{+.?.}");
        assert_eq!(u.len(), 4);
        assert_eq!(
            (u[0].irq.as_str(), u[0].access.as_str()),
            ("hardirq", "write")
        );
        assert!(u[0].used_with_irq_enabled && !u[0].used_in_irq);
        assert_eq!((u[2].irq.as_str(), u[2].char.as_str()), ("softirq", "?"));
        assert!(u[2].used_in_irq && u[2].used_with_irq_enabled);
        assert!(!u[1].used_in_irq && !u[1].used_with_irq_enabled);
        assert_eq!(decode_usage("{?.+...}")[4].irq, "reclaim_fs");
    }

    #[test]
    fn task_flags() {
        let t = parse_task_with_flags("swapper/1/0 [HC0[0]:SC1[1]:HE1:SE0] takes:").unwrap();
        assert_eq!(t.comm, "swapper/1");
        assert_eq!(t.pid, Some(0));
        assert_eq!(t.hardirq_context, Some(0));
        assert_eq!(t.hardirq_count, Some(0));
        assert_eq!(t.softirq_context, Some(1));
        assert_eq!(t.softirq_count, Some(1));
        assert_eq!(t.hardirqs_enabled, Some(true));
        assert_eq!(t.softirqs_enabled, Some(false));
        assert_eq!(t.flags.as_deref(), Some("HC0[0]:SC1[1]:HE1:SE0"));
    }

    #[test]
    fn lock_lines() {
        let d = parse_lock_desc(
            "ffff88810d520018 (&net->ipv4.fib_statistics->lock){+.?.}-{2:2}, at: net_event_callback+0x373/0x490",
        )
        .unwrap();
        assert_eq!(d.lock.name, "&net->ipv4.fib_statistics->lock");
        assert_eq!(d.lock.address.as_deref(), Some("ffff88810d520018"));
        assert_eq!(d.lock.usage_bits.as_deref(), Some("{+.?.}"));
        assert_eq!(d.lock.wait_types.as_deref(), Some("{2:2}"));
        assert_eq!(d.at.unwrap().function, "net_event_callback");

        let d = parse_lock_desc(
            "ffff888129b461c0 ((work_completion)(&(&acpi_desc->dwork)->work)){+.+.}-{0:0}, at: __flush_work+0x43/0x450",
        )
        .unwrap();
        assert_eq!(d.lock.name, "(work_completion)(&(&acpi_desc->dwork)->work)");

        let d = parse_lock_desc(
            " (&(&host->lock)->rlock){?.+...}, at: [<c035d398>] sdhci_spin_lock+0x10/0x4c",
        )
        .unwrap();
        assert_eq!(d.lock.address, None);
        assert_eq!(d.at.unwrap().function, "sdhci_spin_lock");

        let d = parse_lock_desc("-> #1 (&pctrl->lock){-.-.}:").unwrap();
        assert_eq!(d.lock.name, "&pctrl->lock");
        assert!(d.at.is_none());

        assert!(parse_lock_desc("lock(&net->ipv4.fib_statistics->lock);").is_none());
    }
}
