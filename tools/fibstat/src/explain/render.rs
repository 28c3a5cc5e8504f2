//! Renderers: human-readable explanation and JSON.

use std::fmt::Write as _;

use super::frame::is_lock_machinery;
use super::lockdep::state_meaning;
use super::model::{Frame, Lock, Output, Report, Task};

/// Pretty JSON of the whole output, with a trailing newline.
pub fn json(out: &Output) -> String {
    let mut s = serde_json::to_string_pretty(out).unwrap_or_else(|e| {
        // Serialization of plain data cannot fail; keep the contract anyway.
        format!(
            "{{\"schema_version\":{},\"error\":\"{e}\"}}",
            out.schema_version
        )
    });
    s.push('\n');
    s
}

/// Human-readable explanation of every report.
pub fn human(out: &Output) -> String {
    let mut s = String::new();
    if out.reports.is_empty() {
        s.push_str("no lockdep report found\n");
        return s;
    }
    for (i, r) in out.reports.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        report(&mut s, i + 1, r);
    }
    s
}

fn frame_text(f: &Frame) -> String {
    let mut t = String::new();
    if f.unreliable {
        t.push_str("? ");
    }
    t.push_str(&f.function);
    if let (Some(o), Some(z)) = (&f.offset, &f.size) {
        let _ = write!(t, "+{o}/{z}");
    }
    if let Some(m) = &f.module {
        let _ = write!(t, " [{m}]");
    }
    if let (Some(file), Some(line)) = (&f.file, f.line) {
        let _ = write!(t, " {file}:{line}");
    }
    if f.inline {
        t.push_str(" [inline]");
    }
    t
}

fn lock_block(s: &mut String, label: &str, l: &Lock) {
    let _ = write!(s, "  {label:<12} {}", l.name);
    if let Some(a) = &l.address {
        let _ = write!(s, " (instance {a})");
    }
    s.push('\n');
    if let Some(u) = &l.usage_bits {
        let _ = writeln!(
            s,
            "  {:<12}   usage {u}: per irq state, write then read",
            ""
        );
        for b in &l.usage_decoded {
            let _ = writeln!(
                s,
                "  {:<12}     '{}' {} {}: {}",
                "", b.char, b.irq, b.access, b.meaning
            );
        }
    }
    if let Some(w) = &l.wait_types {
        let _ = writeln!(s, "  {:<12}   wait types {w}: outer:inner", "");
        if let Some(n) = &l.wait_type_outer_name {
            let _ = writeln!(s, "  {:<12}     outer {}", "", n);
        }
        if let Some(n) = &l.wait_type_inner_name {
            let _ = writeln!(s, "  {:<12}     inner {}", "", n);
        }
    }
}

fn task_block(s: &mut String, t: &Task) {
    let pid = t.pid.map_or_else(|| "?".to_owned(), |p| p.to_string());
    let _ = write!(s, "  {:<12} {} (pid {pid})", "task:", t.comm);
    if let Some(fl) = &t.flags {
        let _ = write!(s, " [{fl}]");
    }
    s.push('\n');
    if let Some(m) = &t.meaning {
        let _ = writeln!(s, "  {:<12}   {m}", "");
    }
}

fn stack_block(
    s: &mut String,
    label: &str,
    frames: &[Frame],
    caller: Option<&str>,
    side: Option<&str>,
) {
    if frames.is_empty() && caller.is_none() {
        return;
    }
    let _ = write!(s, "  {label:<12} caller {}", caller.unwrap_or("(unknown)"));
    if let Some(side) = side {
        let _ = write!(s, "   <- {side}");
    }
    s.push('\n');
    // Start at the caller: the lock/lockdep frames above it are noise here
    // (they are all in the JSON).
    let start = frames
        .iter()
        .position(|f| !f.unreliable && !is_lock_machinery(&f.function))
        .unwrap_or(0);
    if start > 0 {
        let _ = writeln!(
            s,
            "  {:<12}   ({start} frames above: lock machinery, `?` entries)",
            ""
        );
    }
    let shown = &frames[start..];
    for f in shown.iter().take(8) {
        let _ = writeln!(s, "  {:<12}   {}", "", frame_text(f));
    }
    if shown.len() > 8 {
        let _ = writeln!(s, "  {:<12}   ... {} more frames", "", shown.len() - 8);
    }
}

fn report(s: &mut String, n: usize, r: &Report) {
    let _ = writeln!(s, "Report {n} (line {}): {}", r.line, r.title);
    let _ = writeln!(s, "  {:<12} {} [{}]", "banner:", r.banner, r.kind.id());
    if let Some(k) = &r.kernel {
        let _ = writeln!(s, "  {:<12} {k}", "kernel:");
    }
    if let Some(m) = &r.message {
        let _ = writeln!(s, "  {:<12} {m}", "message:");
    }
    if let Some(t) = &r.transition {
        let _ = writeln!(s, "  {:<12} {{{}}} -> {{{}}}", "transition:", t.from, t.to);
        let _ = writeln!(s, "  {:<12}   {}: {}", "", t.from, t.from_meaning);
        let _ = writeln!(s, "  {:<12}   {}: {}", "", t.to, t.to_meaning);
    }
    if let Some(k) = &r.irq_kind {
        let _ = writeln!(s, "  {:<12} {k}", "irq kind:");
    }
    if let Some(t) = &r.task {
        task_block(s, t);
    }
    if let Some(l) = &r.lock {
        lock_block(s, "lock:", l);
    }
    if let Some(a) = &r.acquired_at {
        let _ = writeln!(s, "  {:<12} {}", "at:", frame_text(a));
    }
    if let Some(l) = &r.held_lock {
        lock_block(s, "held lock:", l);
    }
    if let Some(l) = &r.irq_safe_lock {
        lock_block(s, "irq-safe:", l);
    }
    if let Some(l) = &r.irq_unsafe_lock {
        lock_block(s, "irq-unsafe:", l);
    } else if let Some(l) = &r.other_lock {
        lock_block(s, "other lock:", l);
    }
    let side = |which: &str| -> Option<&'static str> {
        match (r.process_side.as_deref(), which) {
            (Some("registration"), "registration") | (Some("current"), "current") => {
                Some("process side: change its locking")
            }
            (Some(_), _) => Some("interrupt side"),
            _ => None,
        }
    };
    if let Some(t) = &r.transition {
        let label = format!("{{{}}} registered:", t.from);
        let _ = writeln!(s, "  {label}");
        stack_block(
            s,
            "",
            &r.registration_stack,
            r.registration_caller.as_deref(),
            side("registration"),
        );
        let _ = writeln!(s, "  now {{{}}}: {}", t.to, state_meaning(&t.to));
    }
    stack_block(
        s,
        "stack:",
        &r.current_stack,
        r.current_caller.as_deref(),
        side("current"),
    );
    if r.process_side.is_some() {
        let _ = writeln!(
            s,
            "  {:<12} process side {} / interrupt side {}",
            "callers:",
            r.process_side_caller.as_deref().unwrap_or("(unknown)"),
            r.irq_side_caller.as_deref().unwrap_or("(unknown)")
        );
    }
    for c in &r.chain {
        let _ = writeln!(
            s,
            "  {:<12} #{} {} taken by {}",
            "chain:",
            c.depth,
            c.lock.name,
            c.caller.as_deref().unwrap_or("(unknown)")
        );
    }
    if !r.scenario.is_empty() {
        let _ = writeln!(s, "  scenario:");
        for l in &r.scenario {
            let _ = writeln!(s, "    {l}");
        }
    }
    if !r.held_locks.is_empty() {
        let _ = writeln!(s, "  held locks:");
        for h in &r.held_locks {
            let at = h.acquired_at.as_ref().map(frame_text).unwrap_or_default();
            let _ = writeln!(s, "    #{} {} at {}", h.index, h.lock.name, at);
        }
    }
    if let Some(f) = &r.fix {
        match (&f.primitive, &f.unlock) {
            (Some(p), Some(u)) => {
                let _ = write!(s, "  {:<12} {p}() / {u}()", "fix:");
            }
            _ => {
                let _ = write!(s, "  {:<12} no single primitive", "fix:");
            }
        }
        if let Some(a) = &f.apply_to {
            let _ = write!(s, " in {a}");
        }
        s.push('\n');
        for line in wrap(&f.why, 76) {
            let _ = writeln!(s, "    {line}");
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + w.len() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
