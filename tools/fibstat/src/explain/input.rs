//! Opening a log for `explain`: gzip-compressed logs (`dmesg.log.gz`,
//! rotated syslogs) are decompressed on the fly, recognised by their magic
//! bytes whatever their name (standard input too); and what is read is
//! watched for the two inputs that are no kernel log at all: nothing, or
//! binary data.

use std::io::{self, Cursor, Read};

use flate2::read::MultiGzDecoder;

/// The first bytes of a gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much of the (decompressed) input is looked at to call it binary.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// What was seen of an input, once read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// The input was gzip-compressed.
    pub gzip: bool,
    /// Control bytes (NUL and the others text never holds) among the first
    /// [`SNIFF_BYTES`].
    pub control: usize,
    /// How many bytes that sample held.
    pub sampled: usize,
}

impl Seen {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// More than 1% of the sample are bytes no text log holds: an ELF
    /// file, an archive, a compressed file of another kind. (A few NUL
    /// bytes of a serial console's start are not enough.)
    pub fn is_binary(&self) -> bool {
        self.control > 0 && self.control * 100 > self.sampled
    }
}

/// A byte text never holds: C0 controls other than tab, newline, vertical
/// tab, form feed, carriage return, backspace, bell and escape (which
/// consoles and ANSI colours put in logs), and DEL.
fn is_control(b: u8) -> bool {
    matches!(b, 0x00..=0x06 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f)
}

/// A reader that counts what passes through it.
pub struct Sniffer<R> {
    inner: R,
    seen: Seen,
}

impl<R: Read> Read for Sniffer<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = SNIFF_BYTES - self.seen.sampled;
        if room > 0 {
            let sample = &buf[..n.min(room)];
            self.seen.control += sample.iter().filter(|&&b| is_control(b)).count();
            self.seen.sampled += sample.len();
        }
        self.seen.bytes += n as u64;
        Ok(n)
    }
}

impl<R> Sniffer<R> {
    /// What was read so far.
    pub fn seen(&self) -> Seen {
        self.seen
    }
}

/// Opens `input` for reading as text: decompressed if it starts with the
/// gzip magic, counted either way.
pub fn open<'a, R: Read + 'a>(mut input: R) -> io::Result<Sniffer<Box<dyn Read + 'a>>> {
    let mut head = Vec::with_capacity(GZIP_MAGIC.len());
    // (read_exact would fail on a one-byte input; a pipe may give one byte
    // at a time.)
    input
        .by_ref()
        .take(GZIP_MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    let gzip = head == GZIP_MAGIC;
    let whole = Cursor::new(head).chain(input);
    let inner: Box<dyn Read + 'a> = if gzip {
        Box::new(MultiGzDecoder::new(whole))
    } else {
        Box::new(whole)
    };
    Ok(Sniffer {
        inner,
        seen: Seen {
            gzip,
            ..Seen::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(data: &[u8]) -> (Vec<u8>, Seen) {
        let mut r = open(data).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, r.seen())
    }

    #[test]
    fn plain_text_passes_through() {
        let (out, seen) = read_all(b"[    1.0] hello\n\x1b[31mred\x1b[0m\r\n");
        assert_eq!(out, b"[    1.0] hello\n\x1b[31mred\x1b[0m\r\n");
        assert!(!seen.gzip && !seen.is_empty() && !seen.is_binary());
    }

    #[test]
    fn gzip_is_decompressed_concatenated_members_too() {
        let gz = |s: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(s).unwrap();
            e.finish().unwrap()
        };
        let mut data = gz(b"first\n");
        data.extend(gz(b"second\n"));
        let (out, seen) = read_all(&data);
        assert_eq!(out, b"first\nsecond\n");
        assert!(seen.gzip && !seen.is_binary());
        assert_eq!(seen.bytes, 13);
    }

    #[test]
    fn empty_one_byte_and_binary() {
        assert!(read_all(b"").1.is_empty());
        let (out, seen) = read_all(b"\x1f");
        assert_eq!(out, b"\x1f");
        assert!(!seen.gzip && seen.is_binary());
        let elf: Vec<u8> = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".repeat(100);
        assert!(read_all(&elf).1.is_binary());
        // A serial console's few NUL bytes before the kernel's first line.
        let mut log = b"\0\0\0".to_vec();
        log.extend(b"[    0.000000] Linux version 6.12.0\n".repeat(10));
        assert!(!read_all(&log).1.is_binary());
    }
}
