//! `fibstat explain`: find and decode lockdep reports in a kernel log.
//!
//! The pipeline is a single streaming pass:
//!
//! 1. [`reader`] yields lines as bytes, converted lossily to UTF-8, with a
//!    cap on line length;
//! 2. [`segment`] normalizes candidate lines ([`normalize`]) and cuts out
//!    every report between its banner and the end of its call trace;
//! 3. [`decode`] turns each report into a [`model::Report`] (frames by
//!    [`frame`], lockdep vocabulary by [`lockdep`], advice by [`fix`]);
//! 4. [`render`] prints it for humans or as JSON (schema in `EXPLAIN.md`).

pub mod decode;
pub mod fix;
pub mod frame;
pub mod lockdep;
pub mod model;
pub mod normalize;
pub mod reader;
pub mod render;
pub mod segment;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

pub use model::{Kind, Output, Report, SCHEMA_VERSION};

/// Arguments of `fibstat explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// Kernel log to read (dmesg, syslog, journalctl, serial console, mail);
    /// `-` or nothing for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Print the decoded reports as JSON (schema_version 1, see EXPLAIN.md).
    #[arg(long)]
    pub json: bool,
}

/// Exit code: input read (whether or not it held reports).
pub const EXIT_OK: i32 = 0;
/// Exit code: the input could not be read or the output not written.
pub const EXIT_IO_ERROR: i32 = 2;

/// Decodes every lockdep report of a log, streaming it line by line.
pub fn explain_reader<R: BufRead>(input: R) -> io::Result<Output> {
    let mut seg = segment::Segmenter::new();
    let mut reports = Vec::new();
    reader::for_each_line(input, |line| {
        if let Some(raw) = seg.push(line) {
            reports.push(decode::decode(raw));
        }
    })?;
    if let Some(raw) = seg.finish() {
        reports.push(decode::decode(raw));
    }
    Ok(Output {
        schema_version: SCHEMA_VERSION,
        reports,
    })
}

/// Decodes every lockdep report of an in-memory log (bytes, any encoding).
pub fn explain_bytes(input: &[u8]) -> Output {
    // Reading from a slice cannot fail.
    explain_reader(input).unwrap_or(Output {
        schema_version: SCHEMA_VERSION,
        reports: Vec::new(),
    })
}

/// Runs `fibstat explain`; returns the process exit code.
pub fn run(args: &ExplainArgs) -> i32 {
    let result = match args.file.as_deref() {
        None => explain_reader(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => explain_reader(io::stdin().lock()),
        Some(p) => match File::open(p) {
            Ok(f) => explain_reader(BufReader::with_capacity(1 << 18, f)),
            Err(e) => {
                eprintln!("fibstat explain: {}: {e}", p.display());
                return EXIT_IO_ERROR;
            }
        },
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            eprintln!("fibstat explain: read error: {e}");
            return EXIT_IO_ERROR;
        }
    };
    let text = if args.json {
        render::json(&out)
    } else {
        render::human(&out)
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => EXIT_OK,
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("fibstat explain: write error: {e}");
            EXIT_IO_ERROR
        }
    }
}
