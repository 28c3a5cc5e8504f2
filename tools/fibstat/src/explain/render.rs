//! Renderers: human-readable explanation, one-line summary, and JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::frame::is_lock_machinery;
use super::lockdep::state_meaning;
use super::model::{Frame, Group, Lock, Output, Report, Task};

fn to_json<T: Serialize>(v: &T, pretty: bool) -> String {
    let r = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    // Serialization of plain data cannot fail; keep the contract anyway.
    let mut s = r.unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// JSON of the whole output (compact, or pretty), with a trailing newline.
pub fn json(out: &Output, pretty: bool) -> String {
    to_json(out, pretty)
}

/// The `--summary -j` document: the groups only.
#[derive(Serialize)]
struct Summary<'a> {
    schema_version: u32,
    reports: usize,
    groups: &'a [Group],
}

/// JSON of the summary (`{"schema_version", "reports", "groups"}`).
pub fn summary_json(out: &Output, pretty: bool) -> String {
    to_json(
        &Summary {
            schema_version: out.schema_version,
            reports: out.reports.len(),
            groups: &out.groups,
        },
        pretty,
    )
}

/// The JSON document of one of several inputs: as [`json`]'s, with the
/// input's name after `schema_version`.
#[derive(Serialize)]
struct FileDoc<'a> {
    schema_version: u32,
    file: &'a str,
    reports: &'a [Report],
    groups: &'a [Group],
}

/// JSON of the output of one of several inputs, named `file`.
pub fn json_file(out: &Output, file: &str, pretty: bool) -> String {
    to_json(
        &FileDoc {
            schema_version: out.schema_version,
            file,
            reports: &out.reports,
            groups: &out.groups,
        },
        pretty,
    )
}

/// The `--summary -j` document of one of several inputs.
#[derive(Serialize)]
struct FileSummary<'a> {
    schema_version: u32,
    file: &'a str,
    reports: usize,
    groups: &'a [Group],
}

/// JSON of the summary of one of several inputs, named `file`.
pub fn summary_json_file(out: &Output, file: &str, pretty: bool) -> String {
    to_json(
        &FileSummary {
            schema_version: out.schema_version,
            file,
            reports: out.reports.len(),
            groups: &out.groups,
        },
        pretty,
    )
}

/// `line 12`, `lines 12, 40, 77 and 5 more`.
fn lines_text(lines: &[usize]) -> String {
    const SHOWN: usize = 6;
    let shown: Vec<String> = lines.iter().take(SHOWN).map(usize::to_string).collect();
    let mut t = format!(
        "{} {}",
        if lines.len() == 1 { "line" } else { "lines" },
        shown.join(", ")
    );
    if lines.len() > SHOWN {
        let _ = write!(t, " and {} more", lines.len() - SHOWN);
    }
    t
}

/// One line per distinct report.
pub fn summary(out: &Output) -> String {
    let mut s = String::new();
    if out.reports.is_empty() {
        s.push_str("no kernel report found\n");
        return s;
    }
    let _ = writeln!(
        s,
        "{} kernel report{} ({} distinct):",
        out.reports.len(),
        if out.reports.len() == 1 { "" } else { "s" },
        out.groups.len()
    );
    for g in &out.groups {
        let _ = writeln!(
            s,
            "  {:>4}x  {}  [{}] ({})",
            g.count,
            g.title,
            g.kind.id(),
            lines_text(&g.lines)
        );
    }
    s
}

/// Human-readable explanation of every report; `grouped`: identical
/// reports once, with their count and lines.
pub fn human(out: &Output, grouped: bool) -> String {
    let mut s = String::new();
    if out.reports.is_empty() {
        s.push_str("no kernel report found\n");
        return s;
    }
    if grouped {
        for (i, g) in out.groups.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            let r = &out.reports[g.reports[0]];
            let where_ = if g.count > 1 {
                format!("{} identical reports, {}", g.count, lines_text(&g.lines))
            } else {
                format!("line {}", r.line)
            };
            report(&mut s, i + 1, r, &where_);
        }
    } else {
        for (i, r) in out.reports.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            report(&mut s, i + 1, r, &format!("line {}", r.line));
        }
    }
    s
}

/// A frame as syzkaller prints a symbolized one.
pub fn frame_text(f: &Frame) -> String {
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
    if let Some(n) = &f.note {
        let _ = write!(t, "  ({n})");
    }
    t
}

fn inlined_text(i: &super::model::Inlined) -> String {
    match (&i.file, i.line) {
        (Some(file), Some(line)) => format!("{} {file}:{line} [inline]", i.function),
        _ => format!("{} [inline]", i.function),
    }
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
        for i in &f.inlined {
            let _ = writeln!(s, "  {:<12}   {}", "", inlined_text(i));
        }
        let _ = writeln!(s, "  {:<12}   {}", "", frame_text(f));
    }
    if shown.len() > 8 {
        let _ = writeln!(s, "  {:<12}   ... {} more frames", "", shown.len() - 8);
    }
}

fn report(s: &mut String, n: usize, r: &Report, where_: &str) {
    let _ = writeln!(s, "Report {n} ({where_}): {}", r.title);
    let _ = writeln!(s, "  {:<12} {} [{}]", "banner:", r.banner, r.kind.id());
    if !r.kind.is_lockdep() {
        oops_report(s, r);
        return;
    }
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
    for (side, src, call) in [
        (
            "process side",
            &r.process_side_source,
            &r.process_side_lock_call,
        ),
        ("interrupt side", &r.irq_side_source, &r.irq_side_lock_call),
    ] {
        if let Some(src) = src {
            let _ = write!(s, "  {:<12} {side} takes the lock at {src}", "source:");
            if let Some(c) = call {
                let _ = write!(s, " (lock call from {c})");
            }
            s.push('\n');
        }
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

/// The decoded fields of a non-lockdep report.
fn oops_report(s: &mut String, r: &Report) {
    if let Some(k) = &r.kernel {
        let _ = writeln!(s, "  {:<12} {k}", "kernel:");
    }
    if let Some(l) = &r.location {
        let _ = writeln!(s, "  {:<12} {l}", "location:");
    }
    if let Some(m) = &r.message {
        let _ = writeln!(s, "  {:<12} {m}", "message:");
    }
    if let Some(t) = &r.task {
        task_block(s, t);
    }
    if let Some(f) = &r.rip {
        for i in &f.inlined {
            let _ = writeln!(s, "  {:<12} {}", "", inlined_text(i));
        }
        let _ = writeln!(s, "  {:<12} {}", "rip:", frame_text(f));
    }
    for st in &r.stacks {
        let _ = writeln!(s, "  {}:", st.label);
        let shown: Vec<&Frame> = st.frames.iter().filter(|f| !f.unreliable).collect();
        for f in shown.iter().take(12) {
            for i in &f.inlined {
                let _ = writeln!(s, "    {}", inlined_text(i));
            }
            let _ = writeln!(s, "    {}", frame_text(f));
        }
        if shown.len() > 12 {
            let _ = writeln!(s, "    ... {} more frames", shown.len() - 12);
        }
    }
    if r.foreign_lines > 0 {
        let _ = writeln!(
            s,
            "  ({} lines of other contexts inside the report left out)",
            r.foreign_lines
        );
    }
}
