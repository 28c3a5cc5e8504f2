//! Decoding of every report that is not lockdep's: `WARN()`, `BUG()`,
//! oopses, sanitizers, stalls, hangs, leaks, panics: the body (task,
//! `RIP:`, stacks), the message and location, then the title
//! ([`super::title`], from the kind's row of [`super::kinds::ROWS`]; the
//! guilty frame by [`super::guilty`]).

use super::frame::{clean_function, parse_bare_address, parse_frame};
use super::guilty::CALL_TRACE;
use super::kinds;
use super::model::{Frame, Kind, Report, Stack, Task};
use super::segment::RawReport;

/// The parsed body of an oops-like report.
#[derive(Debug, Default)]
pub struct Body {
    pub stacks: Vec<Stack>,
    pub rip: Option<Frame>,
    pub task: Option<Task>,
    pub kernel: Option<String>,
}

/// `RIP: 0010:func+0x1/0x2`, `IP: [<...>] func+...`, arm `pc : func+...`,
/// `PC is at func+...`.
pub fn rip_frame(t: &str) -> Option<Frame> {
    let rest = t
        .strip_prefix("RIP: ")
        .or_else(|| t.strip_prefix("IP: "))
        .or_else(|| t.strip_prefix("NIP: "))
        .or_else(|| t.strip_prefix("pc : "))
        .or_else(|| t.strip_prefix("PC is at "))?;
    let rest = rest.trim_start();
    // `0010:func+...` (segment) or `[<...>] func+...`.
    let rest = match rest.split_once(':') {
        Some((seg, r)) if seg.len() == 4 && seg.bytes().all(|b| b.is_ascii_hexdigit()) => r,
        _ => rest,
    };
    let f = parse_frame(rest)?;
    f.offset.is_some().then_some(f)
}

/// `CPU: 0 UID: 0 PID: 231 Comm: fibstat Tainted: G O 6.12.0 #1`.
fn cpu_line(t: &str) -> Option<(Task, String)> {
    let rest = t.strip_prefix("CPU: ")?;
    let (_, after_pid) = rest.split_once("PID: ")?;
    let (pid, after) = after_pid.split_once(' ')?;
    let comm_rest = after.strip_prefix("Comm: ")?;
    // The comm is up to 15 chars and may hold spaces; the kernel ident
    // starts with `Not tainted` or `Tainted:`.
    let (comm, kernel) = match comm_rest
        .find(" Not tainted")
        .or_else(|| comm_rest.find(" Tainted:"))
    {
        Some(i) => (&comm_rest[..i], comm_rest[i + 1..].trim()),
        None => comm_rest.split_once(' ').unwrap_or((comm_rest, "")),
    };
    Some((
        Task {
            comm: comm.to_owned(),
            pid: pid.parse().ok(),
            ..Task::default()
        },
        kernel.to_owned(),
    ))
}

pub fn stack_label(t: &str) -> Option<String> {
    let t = t.trim();
    let label = t.trim_end_matches(':');
    const HEADERS: &[&str] = &[
        "Call Trace",
        "Call trace",
        "Backtrace",
        "Allocated by task",
        "Freed by task",
        "allocated by task",
        "freed by task",
        "Last potentially related work creation",
        "Second to last potentially related work creation",
        "Uninit was created at",
        "Uninit was stored to memory at",
        "page last allocated",
        "page last free",
        "Preemption disabled at",
        "Use-after-free",
        "Out-of-bounds",
        "Invalid read",
        "Invalid write",
        "Invalid free",
        "Corrupted memory",
    ];
    if HEADERS.iter().any(|h| t.starts_with(h))
        || (t.starts_with("Local variable ") && t.ends_with("created at:"))
    {
        return Some(label.to_owned());
    }
    if t.starts_with("backtrace") {
        return Some("backtrace".to_owned());
    }
    // KCSAN: `write to 0x... of 8 bytes by task 1 on cpu 0:`.
    if t.ends_with(':')
        && (t.starts_with("read") || t.starts_with("write"))
        && t.contains(" by task ")
    {
        return Some(label.to_owned());
    }
    None
}

fn parse_body(lines: &[String]) -> Body {
    let mut b = Body::default();
    let mut current: Option<usize> = None;
    for line in lines.iter().skip(1) {
        let t = line.trim();
        if b.task.is_none() {
            if let Some((task, kernel)) = cpu_line(t) {
                b.task = Some(task);
                if !kernel.is_empty() {
                    b.kernel = Some(kernel);
                }
                continue;
            }
        }
        if b.rip.is_none() {
            if let Some(f) = rip_frame(t) {
                b.rip = Some(f);
                continue;
            }
        }
        if let Some(label) = stack_label(t) {
            b.stacks.push(Stack {
                label,
                frames: Vec::new(),
            });
            current = Some(b.stacks.len() - 1);
            continue;
        }
        if let Some(f) = parse_frame(t).or_else(|| parse_bare_address(t)) {
            let i = match current {
                Some(i) => i,
                None => {
                    b.stacks.push(Stack {
                        label: "stack".to_owned(),
                        frames: Vec::new(),
                    });
                    b.stacks.len() - 1
                }
            };
            b.stacks[i].frames.push(f);
            current = Some(i);
        }
    }
    b.stacks.retain(|s| !s.frames.is_empty());
    b
}

/// `WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 func+0x1/0x2` → the
/// source location; also `kernel BUG at mm/slub.c:42!`, `UBSAN: ... in x.c:1:2`.
pub fn location(banner: &str) -> Option<String> {
    if let Some(rest) = banner.strip_prefix("UBSAN: ") {
        let (_, loc) = rest.rsplit_once(" in ")?;
        let mut parts = loc.trim().split(':');
        let (file, line) = (parts.next()?, parts.next()?);
        return line
            .parse::<u32>()
            .is_ok()
            .then(|| format!("{file}:{line}"));
    }
    let file_line = |after: &str| {
        let tok = after
            .split_whitespace()
            .next()?
            .trim_end_matches(['!', ',']);
        let (file, line) = tok.rsplit_once(':')?;
        let line = line.split(':').next()?;
        (line.parse::<u32>().is_ok() && file.contains('.')).then(|| format!("{file}:{line}"))
    };
    // The newer `WARNING: FILE:LINE at FUNC+0x1/0x2, CPU#0: comm/pid` (and
    // `WARNING: [flags] FILE:LINE at ...`) name the location first.
    if let Some(loc) = banner
        .strip_prefix("WARNING: ")
        .map(|r| match r.strip_prefix('[') {
            Some(flags) => flags.split_once("] ").map_or(flags, |(_, r)| r),
            None => r,
        })
        .and_then(file_line)
    {
        return Some(loc);
    }
    file_line(banner.rsplit_once(" at ").map(|(_, r)| r)?)
}

/// The free-text message of a report.
fn message(kind: Kind, raw: &RawReport) -> Option<String> {
    let banner = raw.lines.first().map(String::as_str).unwrap_or("");
    let next = || {
        raw.lines
            .get(1)
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
    };
    match kind {
        Kind::Warning | Kind::KernelBug | Kind::Odebug | Kind::Refcount | Kind::ListCorruption => {
            let text: Vec<&str> = raw
                .prelude
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty() && !l.contains("[ cut here ]"))
                .collect();
            (!text.is_empty()).then(|| text.join(" "))
        }
        Kind::Kasan | Kind::Kfence => raw
            .lines
            .iter()
            .map(|l| l.trim())
            .find(|l| {
                l.starts_with("Read of size")
                    || l.starts_with("Write of size")
                    || l.contains(" read at 0x")
                    || l.contains(" write at 0x")
                    || l.starts_with("Invalid free of")
            })
            .map(str::to_owned),
        Kind::Ubsan | Kind::RustPanic => next(),
        Kind::KernelPanic => banner
            .split_once("not syncing: ")
            .map(|(_, m)| m.trim().to_owned()),
        Kind::CfiFailure => banner
            .split_once(" (")
            .map(|(_, m)| format!("({}", m.trim())),
        _ => None,
    }
}

/// Refines the banner's kind from the report's content (a `WARN()` of
/// lib/refcount.c is a refcount bug, ...).
fn refine(kind: Kind, banner: &str, prelude: &[String]) -> Kind {
    let pre = prelude.join("\n");
    match kind {
        Kind::Warning if banner.contains("lib/debugobjects.c") || pre.contains("ODEBUG:") => {
            Kind::Odebug
        }
        Kind::Warning if banner.contains("lib/refcount.c") || pre.contains("refcount_t:") => {
            Kind::Refcount
        }
        Kind::Warning | Kind::KernelBug
            if banner.contains("lib/list_debug.c") || pre.contains(" corruption") =>
        {
            Kind::ListCorruption
        }
        k => k,
    }
}

/// Decodes an oops-like report.
pub fn decode(raw: RawReport) -> Report {
    let banner = raw.lines.first().cloned().unwrap_or_default();
    let kind = refine(raw.kind, &banner, &raw.prelude);
    let b = parse_body(&raw.lines);
    let mut task = b.task.clone();
    match kind {
        Kind::HungTask => {
            if let Some(who) = banner
                .strip_prefix("INFO: task ")
                .and_then(|r| r.split(" blocked for").next())
                .and_then(|r| r.split(" can't die").next())
            {
                let (comm, pid) = who.rsplit_once(':').unwrap_or((who, ""));
                task = Some(Task {
                    comm: comm.to_owned(),
                    pid: pid.parse().ok(),
                    ..Task::default()
                });
            }
        }
        Kind::MemoryLeak => {
            if let Some(comm) = raw
                .lines
                .iter()
                .find_map(|l| l.trim().strip_prefix("comm \""))
            {
                let (name, rest) = comm.split_once('"').unwrap_or((comm, ""));
                let pid = rest
                    .split_once("pid ")
                    .and_then(|(_, p)| p.split(',').next())
                    .and_then(|p| p.trim().parse().ok());
                task = Some(Task {
                    comm: name.to_owned(),
                    pid,
                    ..Task::default()
                });
            }
        }
        _ => {}
    }
    // The banner's row, unless the content refined the kind.
    let row = kinds::find(&banner)
        .map(|(_, r)| r)
        .filter(|r| r.kind == kind);
    let title = super::title::title(kind, row, &banner, &raw, &b);
    let current_stack = super::guilty::stack(&b, CALL_TRACE)
        .or_else(|| b.stacks.first())
        .map(|s| s.frames.clone())
        .unwrap_or_default();
    let current_caller = current_stack
        .iter()
        .find(|f| !f.unreliable)
        .map(|f| clean_function(&f.function).to_owned());
    let mut lines = raw.prelude.clone();
    lines.extend(raw.lines.iter().cloned());
    Report {
        kind,
        title,
        banner: banner.clone(),
        line: raw.line,
        end_line: raw.end_line,
        kernel: b.kernel,
        message: message(kind, &raw),
        location: location(&banner),
        task,
        transition: None,
        irq_kind: None,
        lock: None,
        held_lock: None,
        other_lock: None,
        irq_safe_lock: None,
        irq_unsafe_lock: None,
        acquired_at: None,
        rip: b.rip,
        registration_stack: Vec::new(),
        current_stack,
        stacks: b.stacks,
        registration_caller: None,
        current_caller,
        process_side: None,
        process_side_caller: None,
        irq_side_caller: None,
        process_side_source: None,
        process_side_lock_call: None,
        irq_side_source: None,
        irq_side_lock_call: None,
        chain: Vec::new(),
        scenario: Vec::new(),
        held_locks: Vec::new(),
        fix: None,
        foreign_lines: raw.foreign_lines,
        raw: lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            location("WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 f+0x1/0x2").as_deref(),
            Some("net/core/dev.c:123")
        );
        assert_eq!(
            location("kernel BUG at lib/list_debug.c:29!").as_deref(),
            Some("lib/list_debug.c:29")
        );
        assert_eq!(
            location("UBSAN: array-index-out-of-bounds in net/x.c:12:5").as_deref(),
            Some("net/x.c:12")
        );
    }
}
