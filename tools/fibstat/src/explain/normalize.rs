//! Line normalizer: strips the prefixes that logging, capturing and pasting
//! add in front of kernel messages, so the decoder sees what printk printed.
//!
//! Handled, in any combination and order:
//! * serial-console junk: `\r`, ANSI escape sequences, other control bytes;
//! * mail quoting `> ` / `>>` and `| `, tab or space indentation;
//! * printk level `<4>`, `/dev/kmsg` records `4,123,456789,-;`;
//! * `dmesg -x` facility/level `kern  :warn  : `;
//! * syslog / journalctl prefixes `Apr  9 16:20:26 host kernel: `,
//!   `Apr 9 16:20:26 kern.warn kernel: `, `2025-04-09T16:20:26.1+02:00 host kernel: `;
//! * timestamps `[   65.630201]`, `dmesg -T` `[Wed Apr  9 16:20:26 2025]`,
//!   caller ids `[ T1234]` / `[  C1]`, and empty `[ ]`.
//!
//! What remains keeps its own leading whitespace (the kernel's indentation);
//! trailing whitespace is removed.

use std::borrow::Cow;

/// Upper bound on prefix-stripping rounds (guards against pathological input).
const MAX_ROUNDS: usize = 12;

/// Normalizes one log line (without its `\n`).
pub fn normalize(line: &str) -> Cow<'_, str> {
    let cleaned = strip_control(line);
    match cleaned {
        Cow::Borrowed(s) => Cow::Borrowed(strip_prefixes(s)),
        Cow::Owned(s) => Cow::Owned(strip_prefixes(&s).to_owned()),
    }
}

/// Removes ANSI escape sequences and control characters other than tab.
pub(crate) fn strip_control(line: &str) -> Cow<'_, str> {
    if !line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                // CSI: ESC [ params... final byte in @..~
                Some('[') => {
                    chars.next();
                    for c2 in chars.by_ref() {
                        if ('@'..='~').contains(&c2) {
                            break;
                        }
                    }
                }
                // OSC: ESC ] ... BEL or ESC \
                Some(']') => {
                    chars.next();
                    while let Some(c2) = chars.next() {
                        if c2 == '\x07' {
                            break;
                        }
                        if c2 == '\x1b' {
                            chars.next();
                            break;
                        }
                    }
                }
                // Two-byte escape: drop the next char too.
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Strips every recognised prefix; returns the message with its own
/// indentation and without trailing whitespace.
pub fn strip_prefixes(mut s: &str) -> &str {
    for _ in 0..MAX_ROUNDS {
        let t = s.trim_start();
        let next = strip_quote(t)
            .or_else(|| strip_level(t))
            .or_else(|| strip_kmsg(t))
            .or_else(|| strip_dmesg_x(t))
            .or_else(|| strip_syslog(t))
            .or_else(|| strip_bracket(t));
        match next {
            // A prefix is followed by one separator space, not indentation.
            Some(rest) => s = rest.strip_prefix(' ').unwrap_or(rest),
            None => break,
        }
    }
    s.trim_end()
}

/// `>` / `>>` / `> ` mail quoting, `| ` quoting.
pub(crate) fn strip_quote(t: &str) -> Option<&str> {
    if let Some(rest) = t.strip_prefix('>') {
        return Some(rest);
    }
    t.strip_prefix("| ")
}

/// printk level `<4>` (also `<12>` syslog priorities).
pub(crate) fn strip_level(t: &str) -> Option<&str> {
    let rest = t.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(&rest[end + 1..])
}

/// `/dev/kmsg` record: `level,seq,usec,flags[,...];message`.
pub(crate) fn strip_kmsg(t: &str) -> Option<&str> {
    let semi = t.find(';')?;
    let head = &t[..semi];
    let mut fields = head.split(',');
    for _ in 0..3 {
        let f = fields.next()?;
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let flags = fields.next()?;
    if flags.len() > 2 || !flags.bytes().all(|b| matches!(b, b'-' | b'c' | b'+')) {
        return None;
    }
    Some(&t[semi + 1..])
}

pub(crate) const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
pub(crate) const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

/// `dmesg -x`: `kern  :warn  : message`.
pub(crate) fn strip_dmesg_x(t: &str) -> Option<&str> {
    let (fac, rest) = t.split_once(':')?;
    if !FACILITIES.contains(&fac.trim_end()) {
        return None;
    }
    let (lvl, rest) = rest.split_once(':')?;
    if !LEVELS.contains(&lvl.trim_end()) {
        return None;
    }
    Some(rest)
}

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The date and time that start a syslog / journalctl / `dmesg --time-format
/// iso` line (`Apr  9 16:20:26[.123]`, `2025-04-09T16:20:26.1+02:00`);
/// returns what follows them.
pub(crate) fn strip_syslog_clock(t: &str) -> Option<&str> {
    if t.len() > 3 && MONTHS.contains(&t.get(..3)?) {
        let rest = t[3..].trim_start();
        let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if day_len == 0 || day_len > 2 {
            return None;
        }
        skip_clock(rest[day_len..].trim_start())
    } else if t.len() >= 19
        && t.as_bytes()[4] == b'-'
        && t.as_bytes()[7] == b'-'
        && t.as_bytes()[10] == b'T'
        && t.as_bytes()[..4].iter().all(u8::is_ascii_digit)
    {
        let end = t.find(' ').unwrap_or(t.len());
        Some(&t[end..])
    } else {
        None
    }
}

/// syslog / journalctl: a date, a time, up to three tokens (host,
/// `facility.level`, ...) and `kernel:`.
fn strip_syslog(t: &str) -> Option<&str> {
    let after_time = if t.len() > 3 && MONTHS.contains(&t.get(..3)?) {
        // `Apr  9 16:20:26[.123456]`
        let rest = t[3..].trim_start();
        let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if day_len == 0 || day_len > 2 {
            return None;
        }
        let rest = rest[day_len..].trim_start();
        skip_clock(rest)?
    } else if t.len() >= 19
        && t.as_bytes()[4] == b'-'
        && t.as_bytes()[7] == b'-'
        && t.as_bytes()[10] == b'T'
        && t.as_bytes()[..4].iter().all(u8::is_ascii_digit)
    {
        // ISO 8601: `2025-04-09T16:20:26.123456+02:00`
        let end = t.find(' ')?;
        &t[end..]
    } else {
        return None;
    };
    let mut rest = after_time;
    for _ in 0..4 {
        let r = rest.trim_start();
        let (tok, tail) = match r.find(' ') {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        };
        if tok.is_empty() {
            return None;
        }
        if tok == "kernel:" || (tok.starts_with("kernel[") && tok.ends_with("]:")) {
            return Some(tail);
        }
        rest = tail;
    }
    None
}

/// `HH:MM:SS` with optional fraction; returns what follows.
pub(crate) fn skip_clock(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if b.len() < 8
        || !(b[0].is_ascii_digit()
            && b[1].is_ascii_digit()
            && b[2] == b':'
            && b[3].is_ascii_digit()
            && b[4].is_ascii_digit()
            && b[5] == b':'
            && b[6].is_ascii_digit()
            && b[7].is_ascii_digit())
    {
        return None;
    }
    let mut i = 8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if i < b.len() && b[i] != b' ' {
        return None;
    }
    Some(&s[i..])
}

const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `[   65.630201]`, `[ T1234]`, `[  C1]`, `[ ]`, `[Wed Apr  9 16:20:26 2025]`.
pub(crate) fn strip_bracket(t: &str) -> Option<&str> {
    let rest = t.strip_prefix('[')?;
    let end = rest.get(..rest.len().min(48))?.find(']')?;
    let inner = rest[..end].trim();
    let ok = inner.is_empty()
        || (inner.bytes().any(|b| b.is_ascii_digit())
            && inner
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b' '))
        || ((inner.starts_with('T') || inner.starts_with('C'))
            && inner.len() > 1
            && inner[1..].bytes().all(|b| b.is_ascii_digit()))
        || (inner.len() >= 20
            && WEEKDAYS.contains(&inner.get(..3).unwrap_or(""))
            && inner.contains(':'));
    if ok {
        Some(&rest[end + 1..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn n(s: &str) -> String {
        normalize(s).into_owned()
    }

    #[test]
    fn plain_and_timestamps() {
        assert_eq!(
            n("WARNING: inconsistent lock state"),
            "WARNING: inconsistent lock state"
        );
        assert_eq!(n("[   65.630294] WARNING: x"), "WARNING: x");
        assert_eq!(
            n("[65.630294] lock_acquire+0x1/0x2"),
            "lock_acquire+0x1/0x2"
        );
        assert_eq!(n("[   12.1][ T5221] foo"), "foo");
        assert_eq!(n("[  12.1][    C1] foo"), "foo");
        assert_eq!(
            n(" [ ]   lock_acquire+0x1f8/0x328"),
            "  lock_acquire+0x1f8/0x328"
        );
        assert_eq!(n("[Wed Apr  9 16:20:26 2025] foo bar"), "foo bar");
    }

    #[test]
    fn keeps_kernel_indentation() {
        assert_eq!(n("[ 1.0]   lock_acquire+0x1/0x2"), "  lock_acquire+0x1/0x2");
        assert_eq!(n("[ 1.0]  <Interrupt>"), " <Interrupt>");
    }

    #[test]
    fn does_not_eat_kernel_brackets() {
        assert_eq!(
            n("[ INFO: inconsistent lock state ]"),
            "[ INFO: inconsistent lock state ]"
        );
        assert_eq!(
            n("[ BUG: Invalid wait context ]"),
            "[ BUG: Invalid wait context ]"
        );
        assert_eq!(
            n(" [<ffffffff80c3f954>] f+0x84/0xa0"),
            " [<ffffffff80c3f954>] f+0x84/0xa0"
        );
        assert_eq!(n(" <IRQ>"), " <IRQ>");
        assert_eq!(n("  <Interrupt>"), "  <Interrupt>");
    }

    #[test]
    fn printk_level_and_dmesg_x_and_kmsg() {
        assert_eq!(n("<4>[ 12.3] WARNING: x"), "WARNING: x");
        assert_eq!(
            n("<4>[  237.722603]   lock_acquire+0xe5/0x210"),
            "  lock_acquire+0xe5/0x210"
        );
        assert_eq!(n("kern  :warn  : [   65.63] WARNING: x"), "WARNING: x");
        assert_eq!(n("kern  :warn  : WARNING: x"), "WARNING: x");
        assert_eq!(
            n("4,5126,12947306496,-; ? show_regs+0x6c/0x80"),
            "? show_regs+0x6c/0x80"
        );
        assert_eq!(n("4,5126,12947306496,c;foo"), "foo");
    }

    #[test]
    fn syslog_and_journal() {
        assert_eq!(
            n("Apr 9 16:20:26 kern.warn kernel: [ 65.630201] WARNING: inconsistent lock state"),
            "WARNING: inconsistent lock state"
        );
        assert_eq!(
            n("Apr  9 16:20:26 host kernel: [   65.63] lock_acquire+0xc2/0x290"),
            "lock_acquire+0xc2/0x290"
        );
        assert_eq!(
            n("Sep 29 13:29:53 mcs70 kernel: inconsistent {hardirq-on-W} -> {in-hardirq-W} usage."),
            "inconsistent {hardirq-on-W} -> {in-hardirq-W} usage."
        );
        assert_eq!(n("Apr 09 16:20:26.123456 fibvm kernel: foo"), "foo");
        assert_eq!(
            n("2025-04-09T16:20:26.123456+02:00 fibvm kernel: [ 1.2] foo"),
            "foo"
        );
        // Not a kernel line: left alone.
        assert_eq!(
            n("Apr  9 16:20:26 host sshd[12]: hello"),
            "Apr  9 16:20:26 host sshd[12]: hello"
        );
    }

    #[test]
    fn mail_quotes_and_indentation() {
        assert_eq!(n("> WARNING: x"), "WARNING: x");
        assert_eq!(n(">> <4>[  237.72] WARNING: x"), "WARNING: x");
        assert_eq!(n("> >   lock_acquire+0x1/0x2"), "  lock_acquire+0x1/0x2");
        assert_eq!(
            n("| inconsistent {A} -> {B} usage."),
            "inconsistent {A} -> {B} usage."
        );
        assert_eq!(n("\t  lock_acquire+0x1/0x2"), "\t  lock_acquire+0x1/0x2");
    }

    #[test]
    fn serial_console_junk() {
        assert_eq!(n("[   65.63] WARNING: x\r"), "WARNING: x");
        assert_eq!(
            n("\x1b[0m\x1b[31m[   65.63] WARNING: x\x1b[0m\r\r"),
            "WARNING: x"
        );
        assert_eq!(n("\x1b]0;title\x07[ 1.0] foo"), "foo");
        assert_eq!(n("\0\0foo"), "foo");
    }
}
