//! Line reader: bytes in, `&str` lines out, in one pass and bounded memory.
//!
//! Lines are split on `\n`; invalid UTF-8 is replaced (lossy conversion per
//! line); a line longer than [`MAX_LINE`] bytes is truncated there and the
//! rest of it skipped, so a binary or newline-free input cannot make the
//! buffer grow without bound.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

/// Longest line kept, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Calls `f` with every line of `input` (without the line terminator).
pub fn for_each_line<R: BufRead, F: FnMut(&str)>(mut input: R, mut f: F) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let n = (&mut input)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if n == MAX_LINE {
            skip_rest_of_line(&mut input)?;
        }
        let line: Cow<'_, str> = match std::str::from_utf8(&buf) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&buf),
        };
        f(&line);
    }
}

/// Discards input up to and including the next `\n`.
fn skip_rest_of_line<R: BufRead>(input: &mut R) -> io::Result<()> {
    loop {
        let (done, used) = {
            let avail = input.fill_buf()?;
            if avail.is_empty() {
                return Ok(());
            }
            match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, avail.len()),
            }
        };
        input.consume(used);
        if done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut v = Vec::new();
        for_each_line(input, |l| v.push(l.to_owned())).unwrap();
        v
    }

    #[test]
    fn splits_and_converts() {
        assert_eq!(lines(b"a\nb\r\n\nc"), vec!["a", "b\r", "", "c"]);
        assert_eq!(lines(b"\xff\xfeok\n"), vec!["\u{fffd}\u{fffd}ok"]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn caps_long_lines() {
        let mut input = vec![b'x'; MAX_LINE * 3];
        input.extend_from_slice(b"\nnext\n");
        let v = lines(&input);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].len(), MAX_LINE);
        assert_eq!(v[1], "next");
    }
}
