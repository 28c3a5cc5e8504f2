//! Line-prefix learning: a report's lines all carry the prefix its banner
//! line carries (timestamp, printk caller id, syslog host, mail quote,
//! indentation, or anything else the pasting added), so the banner's
//! prefix is learnt as a [`Template`] and exactly that prefix is stripped
//! from the lines that follow. A line without it (another CPU's printk
//! with another caller id, user space writing to the same console, a line
//! of the mail around the paste) is foreign and stays out of the report.
//!
//! The template keeps what must be equal (quotes, indentation, host name,
//! caller id, unknown text) and what may vary (timestamps, printk levels,
//! `/dev/kmsg` sequence numbers, syslog dates, digits in unknown text).

use super::normalize::{
    strip_bracket, strip_dmesg_x, strip_kmsg, strip_level, strip_quote, strip_syslog_clock,
    FACILITIES, LEVELS,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text that must be there as is: quotes, indentation, separators, a
    /// host name, `kernel:`, words of an unknown prefix.
    Exact(String),
    /// printk level `<4>` (the level varies within a report).
    Level,
    /// `/dev/kmsg` record head `4,123,456,-;`.
    Kmsg,
    /// `dmesg -x` `kern  :warn  :` with this facility.
    DmesgX(String),
    /// syslog / journal / ISO date and time.
    Clock,
    /// syslog `facility.level` token with this facility.
    FacilityLevel(String),
    /// `[   65.630201]`, `[Wed Apr  9 16:20:26 2025]`, `[ ]`.
    Stamp,
    /// printk caller id `T1234` / `C1` (`[ T1234]`): the printing context.
    Caller(String),
    /// A word of unknown text containing digits: same text, any digits.
    Shape(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    part: Part,
    /// Recognised as a known log prefix form (or whitespace): never dropped
    /// by [`Template::calibrate`].
    known: bool,
}

/// The learnt prefix of one report's lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pieces: Vec<Piece>,
    /// After `Sending NMI from CPU` / `NMI backtrace for cpu`, lines of CPU
    /// contexts (`[    C1]`) belong to the report too.
    pub cpu_contexts: bool,
    calibrated: bool,
    /// Width of the banner's prefix: the continuation lines of a
    /// multi-line printk record are indented to it by dmesg and journalctl.
    width: usize,
}

fn is_ws(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

fn facility_level(word: &str) -> Option<&str> {
    let (fac, lvl) = word.split_once('.')?;
    (FACILITIES.contains(&fac) && LEVELS.contains(&lvl)).then_some(fac)
}

/// The caller id inside `[ T1234]` / `[    C1]`, if the bracket is one.
fn caller_id(bracket: &str) -> Option<&str> {
    let inner = bracket.strip_prefix('[')?.strip_suffix(']')?.trim();
    let digits = inner
        .strip_prefix('T')
        .or_else(|| inner.strip_prefix('C'))?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(inner)
}

impl Template {
    /// Learns the template from the text in front of a banner.
    pub fn learn(prefix: &str) -> Template {
        let mut pieces = Vec::new();
        let mut s = prefix;
        let mut after_clock = false;
        let push = |pieces: &mut Vec<Piece>, part, known| pieces.push(Piece { part, known });
        while !s.is_empty() {
            let ws = s.len() - s.trim_start_matches([' ', '\t']).len();
            if ws > 0 {
                push(&mut pieces, Part::Exact(s[..ws].to_owned()), true);
                s = &s[ws..];
                continue;
            }
            let taken = |rest: &str| s.len() - rest.len();
            if let Some(rest) = strip_quote(s) {
                push(&mut pieces, Part::Exact(s[..taken(rest)].to_owned()), true);
                s = rest;
                continue;
            }
            if let Some(rest) = strip_level(s) {
                push(&mut pieces, Part::Level, true);
                s = rest;
                continue;
            }
            if let Some(rest) = strip_kmsg(s) {
                push(&mut pieces, Part::Kmsg, true);
                s = rest;
                continue;
            }
            if let Some(rest) = strip_dmesg_x(s) {
                let fac = s.split(':').next().unwrap_or("").trim_end().to_owned();
                push(&mut pieces, Part::DmesgX(fac), true);
                s = rest;
                continue;
            }
            if let Some(rest) = strip_syslog_clock(s) {
                push(&mut pieces, Part::Clock, true);
                after_clock = true;
                s = rest;
                continue;
            }
            if let Some(rest) = strip_bracket(s) {
                let bracket = &s[..taken(rest)];
                let part = match caller_id(bracket) {
                    Some(id) => Part::Caller(id.to_owned()),
                    None => Part::Stamp,
                };
                push(&mut pieces, part, true);
                s = rest;
                continue;
            }
            // A word of text: the syslog host and `kernel:` after a clock,
            // anything else otherwise.
            let end = s.find([' ', '\t']).unwrap_or(s.len());
            let word = &s[..end];
            let part = if let Some(fac) = facility_level(word).filter(|_| after_clock) {
                Part::FacilityLevel(fac.to_owned())
            } else if word.bytes().any(|b| b.is_ascii_digit()) {
                Part::Shape(word.to_owned())
            } else {
                Part::Exact(word.to_owned())
            };
            push(&mut pieces, part, after_clock);
            s = &s[end..];
        }
        Template {
            pieces,
            cpu_contexts: false,
            calibrated: false,
            width: prefix.chars().count(),
        }
    }

    /// Whether the template is empty (the banner had no prefix).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Whether any piece came from text that is no known prefix form.
    pub fn has_unknown(&self) -> bool {
        self.pieces.iter().any(|p| !p.known)
    }

    /// Strips the template's prefix from `line`; `None` if the line does not
    /// carry it (a foreign line).
    pub fn strip<'a>(&self, line: &'a str) -> Option<&'a str> {
        strip_pieces(&self.pieces, line, self.cpu_contexts)
    }

    /// A continuation line of a multi-line record, as dmesg and journalctl
    /// print it: no prefix, but indented by the prefix's width (`[ 12.3]`
    /// followed by a line of 15 spaces and `but task is already holding`).
    pub fn strip_continuation<'a>(&self, line: &'a str) -> Option<&'a str> {
        if self.width < 4 {
            return None;
        }
        let spaces = line.bytes().take_while(|&b| b == b' ').count();
        (spaces + 2 >= self.width && spaces < line.len()).then(|| &line[spaces.min(self.width)..])
    }

    /// On the first line after the banner: if the line does not carry the
    /// whole prefix but does carry it without some leading words of
    /// unknown text (`syzkaller login: [ 1.2] BUG: ...`, `** 3 printk
    /// messages dropped ** ...`), forget those words. Runs once.
    pub fn calibrate(&mut self, line: &str) {
        if self.calibrated || line.trim().is_empty() {
            return;
        }
        self.calibrated = true;
        if self.strip(line).is_some() || self.strip_continuation(line).is_some() {
            return;
        }
        for i in 1..=self.pieces.len() {
            let dropped = &self.pieces[..i];
            let droppable = dropped
                .iter()
                .all(|p| !p.known || matches!(&p.part, Part::Exact(t) if is_ws(t)));
            if !droppable {
                return;
            }
            if dropped.iter().all(|p| p.known) {
                continue;
            }
            if strip_pieces(&self.pieces[i..], line, self.cpu_contexts).is_some() {
                self.pieces.drain(..i);
                return;
            }
        }
    }
}

fn strip_pieces<'a>(pieces: &[Piece], line: &'a str, cpu_contexts: bool) -> Option<&'a str> {
    let mut s = line;
    for (i, piece) in pieces.iter().enumerate() {
        if s.is_empty() {
            // An empty message: the rest of the prefix was trailing space.
            let rest_ws = pieces[i..]
                .iter()
                .all(|p| matches!(&p.part, Part::Exact(t) if is_ws(t)));
            return rest_ws.then_some(s);
        }
        s = match &piece.part {
            Part::Exact(t) => s.strip_prefix(t.as_str())?,
            Part::Level => strip_level(s)?,
            Part::Kmsg => strip_kmsg(s)?,
            Part::DmesgX(fac) => {
                let rest = strip_dmesg_x(s)?;
                (s.split(':').next().unwrap_or("").trim_end() == fac).then_some(rest)?
            }
            Part::Clock => strip_syslog_clock(s)?,
            Part::FacilityLevel(fac) => {
                let end = s.find([' ', '\t']).unwrap_or(s.len());
                (facility_level(&s[..end]) == Some(fac.as_str())).then_some(&s[end..])?
            }
            Part::Stamp => {
                let rest = strip_bracket(s)?;
                let bracket = &s[..s.len() - rest.len()];
                caller_id(bracket).is_none().then_some(rest)?
            }
            Part::Caller(id) => {
                let rest = strip_bracket(s)?;
                let got = caller_id(&s[..s.len() - rest.len()])?;
                (got == id || (cpu_contexts && got.starts_with('C'))).then_some(rest)?
            }
            Part::Shape(t) => strip_shape(t, s)?,
        };
    }
    Some(s)
}

/// Matches `shape` at the start of `s`, digit runs matching any digit run.
fn strip_shape<'a>(shape: &str, s: &'a str) -> Option<&'a str> {
    let (a, b) = (shape.as_bytes(), s.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() {
        if a[i].is_ascii_digit() {
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j == start {
                return None;
            }
        } else {
            if j >= b.len() || a[i] != b[j] {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    s.get(j..)
}

#[cfg(test)]
mod tests {
    use super::Template;

    fn learn(line: &str, banner: &str) -> Template {
        let at = line.find(banner).unwrap();
        Template::learn(&line[..at])
    }

    #[test]
    fn timestamps_vary_caller_ids_do_not() {
        let t = learn("[   65.630201][ T5221] WARNING: x", "WARNING");
        assert_eq!(
            t.strip("[  165.000001][ T5221]  foo+0x1/0x2"),
            Some(" foo+0x1/0x2")
        );
        assert_eq!(t.strip("[  165.000001][ T5222]  foo+0x1/0x2"), None);
        assert_eq!(t.strip("[  165.000001][    C1]  foo+0x1/0x2"), None);
        let mut t = t;
        t.cpu_contexts = true;
        assert_eq!(t.strip("[  165.000001][    C1] bar"), Some("bar"));
        assert_eq!(t.strip("[  165.000001][ T5221]"), Some(""));
        assert_eq!(t.strip("plain line"), None);
    }

    #[test]
    fn syslog_host_and_levels() {
        let t = learn(
            "Apr  9 16:20:26 fibvm kernel: [   65.63] WARNING: x",
            "WARNING",
        );
        assert_eq!(
            t.strip("Apr 10 06:20:26 fibvm kernel: [  100.1]   lock_acquire+0x1/0x2"),
            Some("  lock_acquire+0x1/0x2")
        );
        assert_eq!(t.strip("Apr 10 06:20:26 fibvm sshd[12]: hi"), None);
        assert_eq!(t.strip("Apr 10 06:20:26 other kernel: [ 1.0] x"), None);
        let t = learn("<4>[ 12.3] BUG: KASAN: x", "BUG");
        assert_eq!(t.strip("<3>[ 12.4] Read of size 8"), Some("Read of size 8"));
        let t = learn("Apr 9 16:20:26 kern.warn kernel: WARNING: x", "WARNING");
        assert_eq!(t.strip("Apr 9 16:20:26 kern.err kernel: y"), Some("y"));
        let t = learn("kern  :warn  : [ 1.0] WARNING: x", "WARNING");
        assert_eq!(t.strip("kern  :err   : [ 1.1] y"), Some("y"));
        assert_eq!(t.strip("user  :warn  : [ 1.1] y"), None);
    }

    #[test]
    fn unknown_prefixes_are_learnt() {
        let t = learn("2024-01-01 12:00:00.123 | host-7 | WARNING: x", "WARNING");
        assert_eq!(t.strip("2024-01-01 12:00:01.999 | host-7 | y"), Some("y"));
        assert_eq!(t.strip("2024-01-01 12:00:01.999 | host-8x | y"), None);
        let t = learn("ci-job#12: [  5.1] BUG: x", "BUG");
        assert_eq!(t.strip("ci-job#12: [  5.2]  f+0x1/0x2"), Some(" f+0x1/0x2"));
        let t = learn("> > \t WARNING: x", "WARNING");
        assert_eq!(t.strip("> > \t   y"), Some("  y"));
        assert_eq!(t.strip("> \t   y"), None);
    }

    #[test]
    fn continuation_lines_of_multi_line_records() {
        let t = learn("[ 1028.366165] WARNING: x", "WARNING");
        assert_eq!(
            t.strip_continuation("               but task is already holding lock:"),
            Some("but task is already holding lock:")
        );
        assert_eq!(t.strip_continuation("  foo"), None);
        assert_eq!(t.strip_continuation("                    "), None);
        let t = learn("Nov 13 08:58:21 fedora kernel: WARNING: x", "WARNING");
        assert_eq!(
            t.strip_continuation(
                "                               which lock already depends on the new lock."
            ),
            Some("which lock already depends on the new lock.")
        );
    }

    #[test]
    fn calibration_drops_leading_junk_only() {
        let mut t = learn("syzkaller login: [  123.4] WARNING: x", "WARNING");
        assert_eq!(t.strip("[  123.5] y"), None);
        t.calibrate("[  123.5] y");
        assert_eq!(t.strip("[  123.6] z"), Some("z"));
        // Known forms are never dropped: the line is foreign instead.
        let mut t = learn("[  12.0] WARNING: x", "WARNING");
        t.calibrate("Sent 1 probes");
        assert_eq!(t.strip("Sent 1 probes"), None);
        assert_eq!(t.strip("[  12.1] y"), Some("y"));
    }
}
