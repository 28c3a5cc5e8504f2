//! The scanner: one pass over the log, in bounded memory, that finds every
//! report and cuts it out.
//!
//! Outside reports nothing is done per line: an Aho-Corasick automaton
//! (SIMD "Teddy" prefilter) searches whole buffers for the banner anchors
//! ([`banner::ANCHORS`]), and only the lines around a hit are looked at.
//! Line numbers come from counting newlines (`memchr`), only as far as a
//! report needs them. When a banner is found, its line prefix is learnt
//! ([`Template`]) and the report's lines are taken one by one: prefix
//! stripped, foreign lines left out, until [`Builder`] says the report
//! ended.
//!
//! Input is read in chunks of [`CHUNK`] bytes; lines longer than
//! [`MAX_LINE`] are cut there.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

use super::banner::{self, banner_at, candidates, Banner};
use super::model::Kind;
use super::normalize::{normalize, strip_control, strip_prefixes};
use super::prefix::Template;
use super::segment::{Builder, RawReport, Step};

/// Read size of the streaming driver.
pub const CHUNK: usize = 1 << 20;
/// Longest line kept, in bytes (the rest of a longer line is dropped).
pub const MAX_LINE: usize = 64 * 1024;
/// How far back the scanner may look from a banner for its `cut here` block.
const LOOKBACK_BYTES: usize = 8 * 1024;
/// Lines looked at before a banner for its `cut here` block.
const LOOKBACK_LINES: usize = 8;
/// Consecutive foreign lines after which an open report is closed.
const MAX_FOREIGN_RUN: usize = 400;
/// Longest unknown text accepted in front of a banner.
const MAX_UNKNOWN_PREFIX: usize = 96;

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(banner::ANCHORS.iter().chain(MODULE_LOAD))
            .unwrap_or_else(|_| unreachable!("the anchors are valid patterns"))
    })
}

/// What the kernel prints when it loads the first module that taints it
/// (`fib_stat: loading out-of-tree module taints kernel.`): the prefilter
/// finds these too, and the module they name is the one a bare address in
/// a later report's init code may belong to (see `RawReport::loaded_module`).
const MODULE_LOAD: &[&str] = &[
    ": loading out-of-tree module taints kernel",
    ": module verification failed: ",
    ": module is from the staging directory",
];

/// The module named by a [`MODULE_LOAD`] line: the word before the match.
fn loaded_module(line: &str, anchor_at: usize) -> Option<String> {
    let name = line.get(..anchor_at)?.split_whitespace().next_back()?;
    (!name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    .then(|| name.to_owned())
}

/// A banner found on a line, and what stands in front of it.
struct Found<'a> {
    banner: Banner,
    prefix: &'a str,
    message: &'a str,
}

/// Whether the text in front of a banner consists of known prefix forms
/// only (timestamps, levels, syslog, quotes, indentation).
fn known_prefix(prefix: &str) -> bool {
    strip_prefixes(prefix).trim().is_empty()
}

/// Finds a report banner in a (control-stripped) line.
fn find_banner(line: &str) -> Option<Found<'_>> {
    for m in automaton().find_iter(line) {
        for start in candidates(line, m.start()) {
            let Some(msg) = line.get(start..) else {
                continue;
            };
            let Some(banner) = banner_at(msg) else {
                continue;
            };
            let prefix = &line[..start];
            let ok = known_prefix(prefix)
                || (banner.specific
                    && prefix.len() <= MAX_UNKNOWN_PREFIX
                    && !prefix.ends_with(|c: char| c.is_alphanumeric() || c == '_'));
            if ok {
                return Some(Found {
                    banner,
                    prefix,
                    message: msg.trim_end(),
                });
            }
        }
    }
    None
}

fn text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = &bytes[..bytes.len().min(MAX_LINE)];
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

/// The report being read.
struct Open {
    builder: Builder,
    template: Template,
    /// Whether the banner's prefix had unknown text (then calibration may
    /// show it was no prefix at all).
    unknown_prefix: bool,
    first_line: bool,
    foreign_run: usize,
}

/// The scanning state machine; fed by [`scan_slice`] / [`scan_reader`].
struct Engine<F: FnMut(RawReport)> {
    emit: F,
    open: Option<Open>,
    /// Absolute offset up to which newlines were counted, and their count.
    counted_to: u64,
    newlines: usize,
    /// Absolute offset where the last report ended (lookback stops there).
    last_end: u64,
    /// The module of the last [`MODULE_LOAD`] line.
    loaded: Option<String>,
}

impl<F: FnMut(RawReport)> Engine<F> {
    fn new(emit: F) -> Self {
        Engine {
            emit,
            open: None,
            counted_to: 0,
            newlines: 0,
            last_end: 0,
            loaded: None,
        }
    }

    /// 1-based number of the line starting at `buf[rel]` (newlines are
    /// counted up to there; `buf` holds everything not counted yet).
    fn line_no(&mut self, buf: &[u8], base: u64, rel: usize) -> usize {
        let abs = base + rel as u64;
        if abs > self.counted_to {
            let from = (self.counted_to - base) as usize;
            self.newlines += memchr::memchr_iter(b'\n', &buf[from..rel]).count();
            self.counted_to = abs;
        }
        self.newlines + 1
    }

    /// Processes the complete lines of `buf[start..]` (`buf` starts at a
    /// line boundary, at absolute offset `base`; `buf[..start]` is context
    /// already processed). Returns the offset after the last processed line.
    fn feed(&mut self, buf: &[u8], base: u64, start: usize, eof: bool) -> usize {
        let complete = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf[start..]) {
                Some(i) => start + i + 1,
                None => return start,
            }
        };
        let mut pos = start;
        while pos < complete {
            if self.open.is_some() {
                pos = self.in_report(buf, base, pos, complete);
                continue;
            }
            let Some(m) = automaton().find(Input::new(buf).span(pos..complete)) else {
                break;
            };
            let line_start =
                memchr::memrchr(b'\n', &buf[pos..m.start()]).map_or(pos, |i| pos + i + 1);
            let line_end = memchr::memchr(b'\n', &buf[m.start()..complete])
                .map_or(complete, |i| m.start() + i + 1);
            if m.pattern().as_usize() >= banner::ANCHORS.len() {
                let line = text(&buf[line_start..m.start()]);
                if let Some(name) = loaded_module(&line, line.len()) {
                    self.loaded = Some(name);
                }
                pos = line_end;
                continue;
            }
            let raw = text(&buf[line_start..line_end]);
            let cleaned = strip_control(&raw);
            if let Some(found) = find_banner(&cleaned) {
                let line_no = self.line_no(buf, base, line_start);
                let template = Template::learn(found.prefix);
                let prelude = if matches!(found.banner.kind, Kind::Warning | Kind::KernelBug) {
                    self.lookback(buf, base, line_start, &template)
                } else {
                    Vec::new()
                };
                self.open = Some(Open {
                    builder: Builder::new(
                        found.banner.kind,
                        line_no,
                        found.message.to_owned(),
                        prelude,
                    )
                    .with_stamp(found.prefix)
                    .with_loaded_module(self.loaded.clone()),
                    unknown_prefix: !known_prefix(found.prefix),
                    template,
                    first_line: true,
                    foreign_run: 0,
                });
            }
            pos = line_end;
        }
        if eof {
            self.close(base + complete as u64);
        }
        complete
    }

    /// The `------------[ cut here ]------------` block just before a
    /// `WARN()` / `BUG()` banner at `buf[line_start]`.
    fn lookback(&self, buf: &[u8], base: u64, line_start: usize, t: &Template) -> Vec<String> {
        let floor = self.last_end.saturating_sub(base) as usize;
        let floor = floor.max(line_start.saturating_sub(LOOKBACK_BYTES));
        let mut end = line_start;
        let mut lines = Vec::new();
        for _ in 0..LOOKBACK_LINES {
            if end <= floor || end == 0 {
                break;
            }
            let start =
                memchr::memrchr(b'\n', &buf[floor..end - 1]).map_or(floor, |i| floor + i + 1);
            let raw = text(&buf[start..end]);
            let cleaned = strip_control(&raw);
            if let Some(msg) = t.strip(&cleaned) {
                let msg = msg.trim_end();
                if msg.contains("[ cut here ]") {
                    lines.push(msg.to_owned());
                    // lib/list_debug.c prints its message before `cut here`.
                    if let Some(before) = self.line_before(buf, floor, start, t) {
                        if before.contains(" corruption") {
                            lines.push(before);
                        }
                    }
                    lines.reverse();
                    return lines;
                }
                if find_banner(msg).is_some() || msg.is_empty() {
                    break;
                }
                lines.push(msg.to_owned());
            }
            end = start;
        }
        Vec::new()
    }

    /// The prefix-stripped line ending at `end` (not before `floor`).
    fn line_before(&self, buf: &[u8], floor: usize, end: usize, t: &Template) -> Option<String> {
        if end <= floor || end == 0 {
            return None;
        }
        let start = memchr::memrchr(b'\n', &buf[floor..end - 1]).map_or(floor, |i| floor + i + 1);
        let raw = text(&buf[start..end]);
        let cleaned = strip_control(&raw);
        t.strip(&cleaned).map(|m| m.trim_end().to_owned())
    }

    /// Takes lines of the open report from `pos`; returns where scanning
    /// continues (the report may have ended there).
    fn in_report(&mut self, buf: &[u8], base: u64, mut pos: usize, complete: usize) -> usize {
        while pos < complete {
            let line_end =
                memchr::memchr(b'\n', &buf[pos..complete]).map_or(complete, |i| pos + i + 1);
            let raw = text(&buf[pos..line_end]);
            let cleaned = strip_control(&raw);
            let line_no = self.line_no(buf, base, pos);
            let Some(open) = self.open.as_mut() else {
                return pos;
            };
            if open.first_line && !cleaned.trim().is_empty() {
                open.first_line = false;
                open.template.calibrate(&cleaned);
                if open.unknown_prefix && open.template.is_empty() {
                    // The "prefix" was text of a line that merely mentions a
                    // banner (a mail subject, a quoted title): no report.
                    self.open = None;
                    return pos;
                }
            }
            // An empty line inside a paste is a blank line of the report.
            let stripped = if cleaned.trim().is_empty() {
                Some("")
            } else {
                open.template
                    .strip(&cleaned)
                    .or_else(|| open.template.strip_continuation(&cleaned))
            };
            let step = match stripped {
                // rsyslog writes the newlines inside a record as `#012`.
                Some(msg) if msg.contains("#012") => {
                    open.foreign_run = 0;
                    let mut step = Step::Accept;
                    for part in msg.split("#012") {
                        step = open.builder.push(line_no, part);
                        if step != Step::Accept {
                            break;
                        }
                    }
                    step
                }
                Some(msg) => {
                    open.foreign_run = 0;
                    if msg.contains("Sending NMI from CPU") || msg.contains("NMI backtrace for cpu")
                    {
                        open.template.cpu_contexts = true;
                    }
                    let m = msg.trim_start();
                    match banner_at(m.trim_end()) {
                        Some(b)
                            if !banner::continues(
                                open.builder.kind(),
                                open.builder.banner(),
                                &b,
                                m,
                            ) =>
                        {
                            Step::End
                        }
                        _ => open.builder.push(line_no, msg),
                    }
                }
                None => {
                    if open.builder.wants_continuation() && !cleaned.trim().is_empty() {
                        let norm = normalize(&raw);
                        open.builder.push(line_no, &norm)
                    } else if find_banner(&cleaned).is_some() {
                        Step::End
                    } else {
                        open.builder.foreign();
                        open.foreign_run += 1;
                        if open.foreign_run > MAX_FOREIGN_RUN {
                            Step::End
                        } else {
                            Step::Accept
                        }
                    }
                }
            };
            match step {
                Step::Accept => pos = line_end,
                Step::End => {
                    self.close(base + pos as u64);
                    return pos;
                }
                Step::EndAfter => {
                    self.close(base + line_end as u64);
                    return line_end;
                }
            }
        }
        pos
    }

    /// Ends the open report (if any) at absolute offset `end`.
    fn close(&mut self, end: u64) {
        if let Some(open) = self.open.take() {
            self.last_end = end;
            (self.emit)(open.builder.finish());
        }
    }
}

/// Scans an in-memory log.
pub fn scan_slice<F: FnMut(RawReport)>(input: &[u8], emit: F) {
    let mut engine = Engine::new(emit);
    engine.feed(input, 0, 0, true);
}

/// Scans a log from a reader, in chunks of [`CHUNK`] bytes.
pub fn scan_reader<R: Read, F: FnMut(RawReport)>(input: R, emit: F) -> io::Result<()> {
    scan_reader_chunked(input, CHUNK, emit)
}

/// [`scan_reader`] with another chunk size (tests use small ones to cross
/// chunk boundaries everywhere).
pub fn scan_reader_chunked<R: Read, F: FnMut(RawReport)>(
    mut input: R,
    chunk: usize,
    emit: F,
) -> io::Result<()> {
    let chunk = chunk.max(1);
    let mut engine = Engine::new(emit);
    let cap = chunk + LOOKBACK_BYTES + MAX_LINE;
    let mut buf = vec![0u8; cap];
    let mut len = 0usize;
    let mut start = 0usize;
    let mut base = 0u64;
    let mut eof = false;
    // Dropping the rest of an overlong line, up to its newline.
    let mut skipping = false;
    loop {
        while !eof && len < cap {
            let n = match input.read(&mut buf[len..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                eof = true;
                break;
            }
            if skipping {
                match memchr::memchr(b'\n', &buf[len..len + n]) {
                    Some(i) => {
                        // The newline was already put where the line was cut.
                        buf.copy_within(len + i + 1..len + n, len);
                        len += n - i - 1;
                        skipping = false;
                    }
                    None => continue,
                }
            } else {
                len += n;
            }
            if len - start >= chunk {
                break;
            }
        }
        let done = engine.feed(&buf[..len], base, start, eof);
        if eof {
            return Ok(());
        }
        if done == start && len == cap {
            // No newline in a whole buffer: keep MAX_LINE bytes of the line
            // and drop the rest up to its end.
            len = start + MAX_LINE;
            buf[len - 1] = b'\n';
            skipping = true;
            continue;
        }
        // Keep a little processed text for the next banner's lookback.
        let keep_from = done.saturating_sub(LOOKBACK_BYTES);
        let keep_from = if keep_from == 0 {
            0
        } else {
            memchr::memchr(b'\n', &buf[keep_from..done]).map_or(done, |i| keep_from + i + 1)
        };
        // Count the newlines of what is dropped before it goes.
        engine.line_no(&buf[..len], base, keep_from);
        buf.copy_within(keep_from..len, 0);
        len -= keep_from;
        base += keep_from as u64;
        start = done - keep_from;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports_slice(input: &[u8]) -> Vec<RawReport> {
        let mut v = Vec::new();
        scan_slice(input, |r| v.push(r));
        v
    }

    fn reports_reader(input: &[u8], chunk: usize) -> Vec<RawReport> {
        let mut v = Vec::new();
        scan_reader_chunked(input, chunk, |r| v.push(r)).unwrap();
        v
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let one = include_str!("../../tests/fixtures/project-spin-netlink-then-arp.txt");
        let warn = "[ 9.0] ------------[ cut here ]------------\n[ 9.0] refcount_t: underflow; use-after-free.\n[ 9.0] WARNING: CPU: 0 PID: 1 at lib/refcount.c:28 refcount_warn_saturate+0x1/0x2\n[ 9.0] Call Trace:\n[ 9.0]  <TASK>\n[ 9.0]  sock_put+0x1/0x2\n[ 9.0]  </TASK>\n";
        let mut log = String::new();
        for i in 0..40 {
            for j in 0..(i * 7) {
                log.push_str(&format!("[ {i}.{j:06}] filler line {j} of block {i}\n"));
            }
            log.push_str(if i % 3 == 0 { warn } else { one });
        }
        let want = reports_slice(log.as_bytes());
        assert_eq!(want.len(), 40);
        for chunk in [1, 7, 100, 1000, 4096, 65536] {
            let got = reports_reader(log.as_bytes(), chunk);
            assert_eq!(got, want, "chunk {chunk}");
        }
        // The `cut here` message survives a chunk boundary right before the banner.
        assert!(want[0].prelude.iter().any(|l| l.contains("refcount_t")));
    }

    #[test]
    fn overlong_lines_are_cut_and_counted_once() {
        let mut log = vec![b'x'; MAX_LINE * 3];
        log.push(b'\n');
        log.extend_from_slice(b"[ 1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2\n");
        let got = reports_reader(&log, 4096);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].line, 2);
        assert_eq!(reports_slice(&log)[0].line, 2);
    }
}
