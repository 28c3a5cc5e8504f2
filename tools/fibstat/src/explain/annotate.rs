//! `fibstat explain --annotate`: the log as it was, with source lines, ready
//! to paste into a mail (what decode_stacktrace.sh and syz-symbolize give).
//!
//! Every line holding a frame that the debug info resolves gets ` file:line`
//! appended, and the functions inlined at that address are inserted before
//! it, innermost first, each on its own line marked `[inline]` and with the
//! line's own prefix (timestamp, indentation):
//!
//! ```text
//! [    5.000005]  sym_test::inner sym_test.rs:10 [inline]
//! [    5.000005]  outer+0x1b/0x40 [sym_test] sym_test.rs:16
//! ```
//!
//! Every other line, and every frame the debug info does not resolve (or
//! that already has a source line), is copied unchanged, byte for byte.

use std::io::{self, BufRead, Write};

use super::frame::parse_frame;
use super::model::Frame;
use super::symbolize::{Location, Symbolizer};

/// Where a frame sits in a line: the byte offset of its function name,
/// the parsed frame, and whether its address is the faulting instruction
/// (`RIP:`, `pc :`) rather than a return address.
struct Found {
    start: usize,
    frame: Frame,
    exact: bool,
}

/// Finds the frame of a log line, whatever the prefix in front of it: the
/// first `func+0x1/0x2` token (after `RIP: 0010:` for the register line).
fn find_frame(line: &str) -> Option<Found> {
    let mut pos = 0;
    for tok in line.split_inclusive(char::is_whitespace) {
        let start = pos;
        pos += tok.len();
        let word = tok.trim_end();
        // A banner that names its source already (`WARNING: ... at
        // net/core/dev.c:123 func+0x1/0x2`): left as it is.
        if is_file_line(word) {
            return None;
        }
        let Some(plus) = word.find("+0x") else {
            continue;
        };
        // `0010:func+0x1/0x2` (RIP with its code segment).
        let (skip, exact) = match word[..plus].rfind(':') {
            Some(colon) => (colon + 1, true),
            None => (0, false),
        };
        let start = start + skip;
        let exact = exact || line[..start].trim_end().ends_with("pc :");
        let frame = parse_frame(&line[start..])?;
        if frame.offset.is_none() || frame.file.is_some() || frame.inline {
            return None;
        }
        return Some(Found {
            start,
            frame,
            exact,
        });
    }
    None
}

/// `dir/file.c:123` (a source position printed in the line).
fn is_file_line(word: &str) -> bool {
    word.trim_end_matches([',', '!'])
        .rsplit_once(':')
        .is_some_and(|(file, line)| {
            file.contains('.')
                && !file.contains('+')
                && !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The text of one line, annotated: the inserted `[inline]` lines and the
/// frame line with its source line, or `None` to copy the line unchanged.
pub fn annotate_line(sym: &mut Symbolizer, line: &str) -> Option<String> {
    let found = find_frame(line)?;
    let locs: Vec<Location> = sym.locate(&found.frame, found.exact);
    let (outer, inner) = locs.split_last()?;
    let outer_fl = outer.file_line()?;
    let prefix = &line[..found.start];
    let mut out = String::new();
    for l in inner {
        match l.file_line() {
            Some(fl) => out.push_str(&format!("{prefix}{} {fl} [inline]\n", l.function)),
            None => out.push_str(&format!("{prefix}{} [inline]\n", l.function)),
        }
    }
    // The source line goes after the frame and its `[module]`, before any
    // annotation pasted after them.
    let frame_end = frame_end(line, found.start, found.frame.module.is_some());
    out.push_str(&line[..frame_end]);
    out.push(' ');
    out.push_str(&outer_fl);
    out.push_str(&line[frame_end..]);
    Some(out)
}

/// Byte offset after `func+0x1/0x2` (and ` [module]`) at `start`.
fn frame_end(line: &str, start: usize, module: bool) -> usize {
    let rest = &line[start..];
    let mut end = start + rest.find(char::is_whitespace).unwrap_or(rest.len());
    if module {
        let after = &line[end..];
        let trimmed = after.trim_start();
        if trimmed.starts_with('[') {
            if let Some(close) = trimmed.find(']') {
                end += after.len() - trimmed.len() + close + 1;
            }
        }
    }
    end
}

/// Copies `input` to `output`, annotating frame lines; lines are split at
/// `\n` (a `\r` before it is kept), bytes that are no UTF-8 are copied as
/// they are.
pub fn annotate<R: BufRead, W: Write>(
    sym: &mut Symbolizer,
    mut input: R,
    output: &mut W,
) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let body_len =
            buf.len() - usize::from(buf.ends_with(b"\n")) - usize::from(buf.ends_with(b"\r\n"));
        let annotated = std::str::from_utf8(&buf[..body_len])
            .ok()
            .and_then(|line| annotate_line(sym, line));
        match annotated {
            Some(text) => {
                output.write_all(text.as_bytes())?;
                output.write_all(&buf[body_len..])?;
            }
            None => output.write_all(&buf)?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_found_behind_any_prefix() {
        let f = find_frame("[    5.000005]  outer+0x1b/0x40 [sym_test]").unwrap();
        assert_eq!((f.start, f.exact), (16, false));
        assert_eq!(f.frame.function, "outer");
        let f = find_frame("[ 1.0] RIP: 0010:ib_device_get+0x529/0x530").unwrap();
        assert!(f.exact);
        assert_eq!(f.frame.function, "ib_device_get");
        let f = find_frame(" ? [<ffffffff81117391>] ktime_get+0xe1/0x180").unwrap();
        assert!(!f.exact);
        assert!(find_frame("  spin_lock include/linux/spinlock.h:351 [inline]").is_none());
        assert!(find_frame("  f+0x1/0x2 mm/slub.c:42").is_none());
        assert!(find_frame("irq event stamp: 4316").is_none());
        assert!(find_frame("WARNING: CPU: 0 PID: 1 at x/y.c:4 f+0x4/0x10").is_none());
        assert!(find_frame("WARNING: x/y.c:4 at f+0x4/0x10, CPU#0: a/1").is_none());
    }

    #[test]
    fn source_line_goes_after_the_module() {
        let line = "  outer+0x1b/0x40 [sym_test] //note";
        assert_eq!(
            &line[..frame_end(line, 2, true)],
            "  outer+0x1b/0x40 [sym_test]"
        );
        assert_eq!(&line[..frame_end(line, 2, false)], "  outer+0x1b/0x40");
    }
}
