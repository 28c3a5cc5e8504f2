//! `fibstat explain`: find, title and decode every kernel report in a log.
//!
//! The pipeline is a single streaming pass:
//!
//! 1. [`scan`] reads the log in chunks; an Aho-Corasick prefilter finds
//!    the few lines that may hold a [`banner`]; a report's line prefix is
//!    learnt from its banner ([`prefix`], with [`normalize`]'s known forms)
//!    and [`segment`] cuts the report out, foreign lines left out;
//! 2. [`decode`] turns each lockdep report into a [`model::Report`] (frames
//!    by [`frame`], lockdep vocabulary by [`lockdep`], advice by [`fix`]);
//!    [`oops`] decodes every other kind syzkaller knows, [`title`] titles
//!    it from its row of [`kinds::ROWS`] (the guilty frame by [`guilty`]);
//! 3. [`group`] groups identical reports; [`symbolize`] adds source lines
//!    from DWARF (`--vmlinux`, `--modules`);
//! 4. [`render`] prints them for humans, as a summary, or as JSON (schema
//!    in `EXPLAIN.md`).

pub mod annotate;
pub mod banner;
pub mod decode;
pub mod fix;
pub mod frame;
pub mod group;
pub mod guilty;
pub mod input;
pub mod kinds;
pub mod lockdep;
pub mod model;
pub mod normalize;
pub mod oops;
pub mod prefix;
pub mod render;
pub mod scan;
pub mod segment;
pub mod symbolize;
pub mod title;

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

pub use model::{Kind, Output, Report, SCHEMA_VERSION};

/// Arguments of `fibstat explain`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExplainArgs {
    /// Kernel logs to read (dmesg, syslog, journalctl, serial console,
    /// syzkaller log, mail or chat paste), each explained on its own under a
    /// `==> FILE <==` line when there are several; gzip-compressed ones are
    /// decompressed; `-` or nothing for standard input.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<PathBuf>,
    /// One line per distinct report: how many, where, title.
    #[arg(short = 's', long)]
    pub summary: bool,
    /// Show every report in full, identical ones too (default: identical
    /// reports are shown once, with their count and lines).
    #[arg(long, conflicts_with = "summary")]
    pub all: bool,
    /// Exit with status 1 if the log holds any kernel report; prints the
    /// summary (unless -j).
    #[arg(long)]
    pub fail_on_report: bool,
    /// vmlinux with DWARF debug info: adds source lines (file:line, inlined
    /// functions) to the frames of the kernel image.
    #[arg(long, value_name = "FILE")]
    pub vmlinux: Option<PathBuf>,
    /// Directory searched (recursively) for the `.ko` files of the modules
    /// named in frames (`func+0x1/0x2 [mod]`), to symbolize them too.
    #[arg(long, value_name = "DIR")]
    pub modules: Option<PathBuf>,
    /// Print the log itself with source lines added, ready to paste into a
    /// mail (as decode_stacktrace.sh): ` file:line` after every frame that
    /// --vmlinux / --modules resolve, the functions inlined there on lines
    /// of their own before it, marked `[inline]`; all else unchanged.
    #[arg(
        long,
        visible_alias = "symbolize",
        conflicts_with_all = ["summary", "all", "fail_on_report"]
    )]
    pub annotate: bool,
}

/// How to print (the global `-j` / `-p` options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    pub json: bool,
    pub pretty: bool,
}

/// Exit code: input read (and, with `--fail-on-report`, no report found).
pub const EXIT_OK: i32 = 0;
/// Exit code of `--fail-on-report` when the log holds a report.
pub const EXIT_REPORT_FOUND: i32 = 1;
/// Exit code: the input could not be read, the output not written, or the
/// debug info not loaded.
pub const EXIT_IO_ERROR: i32 = 2;

fn output(reports: Vec<Report>) -> Output {
    let groups = group::group(&reports);
    Output {
        schema_version: SCHEMA_VERSION,
        reports,
        groups,
    }
}

/// Reports already seen, to count a report logged twice once: `scripts/vm-run`
/// echoes the kernel log live and prints it again at its end, so piping its
/// output holds every report twice. A repeat is the same banner timestamp
/// with the same text (prelude and lines); reports without a timestamp are
/// never taken for repeats (a `WARN()` that fires twice prints the same
/// text twice, but not at the same time).
#[derive(Default)]
pub struct Repeats {
    seen: std::collections::HashSet<(String, Vec<String>, Vec<String>)>,
}

impl Repeats {
    fn is_repeat(&mut self, raw: &segment::RawReport) -> bool {
        let Some(stamp) = &raw.stamp else {
            return false;
        };
        !self
            .seen
            .insert((stamp.clone(), raw.prelude.clone(), raw.lines.clone()))
    }
}

/// Finds and decodes every report of a log read from `input`, in chunks
/// and bounded memory.
pub fn explain_reader<R: Read>(input: R) -> io::Result<Output> {
    read_reports(input, false)
}

/// [`explain_reader`], a report logged twice verbatim counted once (what
/// `fibstat explain` does): see [`Repeats`].
pub fn explain_reader_once<R: Read>(input: R) -> io::Result<Output> {
    read_reports(input, true)
}

fn read_reports<R: Read>(input: R, once: bool) -> io::Result<Output> {
    let mut reports = Vec::new();
    let mut repeats = Repeats::default();
    scan::scan_reader(input, |raw| {
        if !(once && repeats.is_repeat(&raw)) {
            reports.push(decode::decode(raw));
        }
    })?;
    Ok(output(reports))
}

/// Finds and decodes every report of an in-memory log (bytes, any encoding).
pub fn explain_bytes(input: &[u8]) -> Output {
    bytes_reports(input, false)
}

/// [`explain_bytes`], a report logged twice verbatim counted once (what
/// `fibstat explain` does): see [`Repeats`].
pub fn explain_bytes_once(input: &[u8]) -> Output {
    bytes_reports(input, true)
}

fn bytes_reports(input: &[u8], once: bool) -> Output {
    let mut reports = Vec::new();
    let mut repeats = Repeats::default();
    scan::scan_slice(input, |raw| {
        if !(once && repeats.is_repeat(&raw)) {
            reports.push(decode::decode(raw));
        }
    });
    output(reports)
}

fn write_out(text: &str) -> i32 {
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

/// Prints a warning about the input on stderr.
fn warn(msg: &str) {
    eprintln!("fibstat explain: warning: {msg}");
}

/// One input: a file, or standard input (`-`, or no FILE at all).
enum Source<'a> {
    Stdin,
    File(&'a Path),
}

impl Source<'_> {
    fn name(&self) -> String {
        match self {
            Source::Stdin => "(standard input)".to_owned(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Reads and decodes one input; warns if it is empty or binary. `Err`: the
/// message of why it could not be read.
fn read_source(src: &Source) -> Result<Output, String> {
    let name = src.name();
    let (result, seen) = match src {
        Source::Stdin => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!(
                    "fibstat explain: reading a kernel log from standard input \
                     (end with Ctrl-D; or give a FILE)"
                );
            }
            let mut r = input::open(stdin.lock()).map_err(|e| format!("{name}: {e}"))?;
            (explain_reader_once(&mut r), r.seen())
        }
        Source::File(path) => {
            let f = File::open(path).map_err(|e| format!("{name}: {e}"))?;
            let mut r = input::open(f).map_err(|e| format!("{name}: {e}"))?;
            (explain_reader_once(&mut r), r.seen())
        }
    };
    let out = result.map_err(|e| {
        if seen.gzip {
            format!("{name}: cannot decompress (gzip): {e}")
        } else {
            format!("{name}: read error: {e}")
        }
    })?;
    if seen.is_empty() {
        warn(&format!("{name}: empty input"));
    } else if seen.is_binary() {
        warn(&format!("{name}: binary file, not a kernel log"));
    }
    Ok(out)
}

/// `fibstat explain --annotate`: each input copied to standard output with
/// source lines added ([`annotate`]).
fn run_annotate(args: &ExplainArgs, sources: &[Source]) -> i32 {
    if args.vmlinux.is_none() && args.modules.is_none() {
        eprintln!("fibstat explain: --annotate needs --vmlinux FILE or --modules DIR");
        return EXIT_IO_ERROR;
    }
    let mut sym = match symbolize::Symbolizer::new(args.vmlinux.as_deref(), args.modules.as_deref())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fibstat explain: {e}");
            return EXIT_IO_ERROR;
        }
    };
    let several = sources.len() > 1;
    let mut failed = false;
    let mut stdout = io::stdout().lock();
    for (i, src) in sources.iter().enumerate() {
        let name = src.name();
        let opened = match src {
            Source::Stdin => input::open(Box::new(io::stdin().lock()) as Box<dyn Read>),
            Source::File(path) => {
                File::open(path).and_then(|f| input::open(Box::new(f) as Box<dyn Read>))
            }
        };
        let reader = match opened {
            Ok(r) => r,
            Err(e) => {
                eprintln!("fibstat explain: {name}: {e}");
                failed = true;
                continue;
            }
        };
        let mut result = Ok(());
        if several {
            let sep = if i == 0 { "" } else { "\n" };
            result = writeln!(stdout, "{sep}==> {name} <==");
        }
        let result = result
            .and_then(|()| annotate::annotate(&mut sym, io::BufReader::new(reader), &mut stdout))
            .and_then(|()| stdout.flush());
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return EXIT_OK,
            Err(e) => {
                eprintln!("fibstat explain: {name}: {e}");
                failed = true;
            }
        }
    }
    for w in sym.warnings() {
        warn(w);
    }
    if failed {
        EXIT_IO_ERROR
    } else {
        EXIT_OK
    }
}

/// Runs `fibstat explain`; returns the process exit code: with several
/// inputs, 2 if any could not be read (the others are still explained),
/// else 1 if `--fail-on-report` found a report in any, else 0.
pub fn run(args: &ExplainArgs, format: Format) -> i32 {
    let sources: Vec<Source> = if args.files.is_empty() {
        vec![Source::Stdin]
    } else {
        args.files
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    Source::Stdin
                } else {
                    Source::File(p)
                }
            })
            .collect()
    };
    if args.annotate {
        return run_annotate(args, &sources);
    }
    let several = sources.len() > 1;
    let mut symbolizer: Option<symbolize::Symbolizer> = None;
    let mut warned = 0;
    let mut failed = false;
    let mut found = false;
    let mut first = true;
    for src in &sources {
        let name = src.name();
        let mut out = match read_source(src) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("fibstat explain: {e}");
                failed = true;
                continue;
            }
        };
        if args.vmlinux.is_some() || args.modules.is_some() {
            if symbolizer.is_none() {
                match symbolize::Symbolizer::new(args.vmlinux.as_deref(), args.modules.as_deref()) {
                    Ok(s) => symbolizer = Some(s),
                    Err(e) => {
                        eprintln!("fibstat explain: {e}");
                        return EXIT_IO_ERROR;
                    }
                }
            }
            if let Some(s) = symbolizer.as_mut() {
                s.apply(&mut out);
                // (Each problem once: the symbolizer keeps what it met.)
                for w in &s.warnings()[warned..] {
                    warn(w);
                }
                warned = s.warnings().len();
            }
        }
        found |= !out.reports.is_empty();
        let summary = args.summary || (args.fail_on_report && !format.json);
        let file = several.then_some(name.as_str());
        let mut text = if format.json {
            match (args.summary, file) {
                (true, None) => render::summary_json(&out, format.pretty),
                (true, Some(f)) => render::summary_json_file(&out, f, format.pretty),
                (false, None) => render::json(&out, format.pretty),
                (false, Some(f)) => render::json_file(&out, f, format.pretty),
            }
        } else if summary {
            render::summary(&out)
        } else {
            render::human(&out, !args.all)
        };
        if several && !format.json {
            text = format!("{}==> {name} <==\n{text}", if first { "" } else { "\n" });
        }
        first = false;
        let code = write_out(&text);
        if code != EXIT_OK {
            return code;
        }
    }
    if failed {
        EXIT_IO_ERROR
    } else if args.fail_on_report && found {
        EXIT_REPORT_FOUND
    } else {
        EXIT_OK
    }
}
