//! `fibstat explain` on what it is given to read: several files (one
//! section each, under a header naming it), gzip-compressed logs, and the
//! inputs worth a warning: empty, binary, `--modules DIR` without the
//! module the frames name; `explain --help` without the netlink options.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SPIN: &str = "project-spin-netlink-then-arp.txt";
const SPIN_SUMMARY: &str = "1 kernel report (1 distinct):\n     1x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (line 4)\n";

fn fixture(rel: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", rel]
        .iter()
        .collect()
}

/// A scratch directory of this test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("fibstat-inputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fibstat(args: &[&str]) -> Output {
    fibstat_stdin(args, &[])
}

fn fibstat_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(args)
        .env_remove("FIBSTAT_NETLINK_PROTO")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fibstat runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn spin_log() -> Vec<u8> {
    std::fs::read(fixture(SPIN)).unwrap()
}

const CLEAN: &[u8] =
    b"[    0.000000] Linux version 6.12.117-fib-stat\n[    1.0] random: crng init done\n";

#[test]
fn several_files_one_section_each_under_its_name() {
    let s = Scratch::new("several");
    let a = s.file("a.log", &spin_log());
    let b = s.file("b.log", CLEAN);
    let o = fibstat(&["explain", "-s", &a, &b]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("==> {a} <==\n{SPIN_SUMMARY}\n==> {b} <==\nno kernel report found\n")
    );
    assert_eq!(stderr(&o), "");
    // The full explanation too: each file's own, in order.
    let o = fibstat(&["explain", &b, &a]);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!(
            "==> {b} <==\nno kernel report found\n\n==> {a} <==\nReport 1 (line 4): inconsistent lock state in net_event_callback\n"
        )),
        "{text}"
    );
    // One file: no header, as before.
    let o = fibstat(&["explain", "-s", &a]);
    assert_eq!(stdout(&o), SPIN_SUMMARY);
    // --fail-on-report: 1 if any file holds a report.
    let o = fibstat(&["explain", "--fail-on-report", &b, &a]);
    assert_eq!(o.status.code(), Some(1));
    let o = fibstat(&["explain", "--fail-on-report", &b, &b]);
    assert_eq!(o.status.code(), Some(0));
    // A file that cannot be read: its error, the others explained, status 2
    // (before 1: the check did not see everything).
    let missing = s.path().join("missing.log");
    let missing = missing.to_str().unwrap();
    let o = fibstat(&["explain", "--fail-on-report", &a, missing, &b]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: {missing}: No such file or directory (os error 2)\n")
    );
    assert_eq!(
        stdout(&o),
        format!("==> {a} <==\n{SPIN_SUMMARY}\n==> {b} <==\nno kernel report found\n")
    );
    // Standard input among them, as `-`.
    let o = fibstat_stdin(&["explain", "-s", &b, "-"], &spin_log());
    assert_eq!(
        stdout(&o),
        format!("==> {b} <==\nno kernel report found\n\n==> (standard input) <==\n{SPIN_SUMMARY}")
    );
}

#[test]
fn several_files_as_json_one_document_each_naming_it() {
    let s = Scratch::new("json");
    let a = s.file("a.log", &spin_log());
    let b = s.file("b.log", CLEAN);
    let o = fibstat(&["-j", "explain", &a, &b]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2, "{text}");
    assert!(
        text.starts_with("{\"schema_version\":2,\"file\":"),
        "{text}"
    );
    assert_eq!(docs[0]["file"], a.as_str());
    assert_eq!(
        docs[0]["reports"][0]["title"],
        "inconsistent lock state in net_event_callback"
    );
    assert_eq!(docs[1]["file"], b.as_str());
    assert_eq!(docs[1]["reports"], serde_json::json!([]));
    // --summary -j: the same, groups only.
    let o = fibstat(&["-j", "explain", "-s", &a, &b]);
    let docs: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs[0]["reports"], 1);
    assert_eq!(docs[1]["reports"], 0);
    assert_eq!(docs[1]["file"], b.as_str());
    // One file: the document as before, no "file".
    let o = fibstat(&["-j", "explain", &a]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v.get("file").is_none());
}

#[test]
fn gzip_logs_are_read_transparently() {
    let s = Scratch::new("gzip");
    let plain = s.file("kern.log", &spin_log());
    let gz = s.file("kern.log.gz", &gzip(&spin_log()));
    // Not by its name: the magic bytes (a rotated log named kern.log.1 too).
    let unnamed = s.file("kern.log.1", &gzip(&spin_log()));
    let want = stdout(&fibstat(&["explain", &plain]));
    assert!(want.starts_with("Report 1 (line 4): inconsistent lock state"));
    for f in [&gz, &unnamed] {
        let o = fibstat(&["explain", f]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(stdout(&o), want, "{f}");
        assert_eq!(stderr(&o), "", "{f}");
    }
    // From standard input, and two gzip members one after the other (line
    // numbers run on across them).
    let o = fibstat_stdin(&["explain", "-s"], &gzip(&spin_log()));
    assert_eq!(stdout(&o), SPIN_SUMMARY);
    let mut two = gzip(CLEAN);
    two.extend(gzip(&spin_log()));
    let o = fibstat_stdin(&["explain", "-s"], &two);
    assert_eq!(
        stdout(&o),
        SPIN_SUMMARY.replace("(line 4)", "(line 6)"),
        "{}",
        stderr(&o)
    );
    // A damaged one is an input error that says it is gzip.
    let mut bad = gzip(&spin_log());
    let n = bad.len();
    bad.truncate(n / 2);
    let badf = s.file("bad.log.gz", &bad);
    let o = fibstat(&["explain", &badf]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "fibstat explain: {badf}: cannot decompress (gzip): "
        )) && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn empty_input_warns() {
    let s = Scratch::new("empty");
    let e = s.file("empty.log", b"");
    let o = fibstat(&["explain", "--fail-on-report", &e]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: {e}: empty input\n")
    );
    assert_eq!(stdout(&o), "no kernel report found\n");
    let o = fibstat_stdin(&["explain"], b"");
    assert_eq!(
        stderr(&o),
        "fibstat explain: warning: (standard input): empty input\n"
    );
    // A gzip file of nothing is empty too.
    let ez = s.file("empty.log.gz", &gzip(b""));
    let o = fibstat(&["explain", &ez]);
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: {ez}: empty input\n")
    );
    // With JSON the warning still goes to stderr, the document to stdout.
    let o = fibstat(&["-j", "explain", &e]);
    assert_eq!(
        stdout(&o),
        "{\"schema_version\":2,\"reports\":[],\"groups\":[]}\n"
    );
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: {e}: empty input\n")
    );
}

#[test]
fn binary_input_warns() {
    let s = Scratch::new("binary");
    // The fibstat program itself: an ELF file.
    let elf = std::fs::read(env!("CARGO_BIN_EXE_fibstat")).unwrap();
    let b = s.file("fibstat.bin", &elf[..64 * 1024]);
    let o = fibstat(&["explain", &b]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: {b}: binary file, not a kernel log\n")
    );
    assert_eq!(stdout(&o), "no kernel report found\n");
    // A log with a few NUL bytes (a serial console starting up) is no binary.
    let mut log = b"\0\0".to_vec();
    log.extend(spin_log());
    let l = s.file("serial.log", &log);
    let o = fibstat(&["explain", "-s", &l]);
    assert_eq!(stderr(&o), "");
    assert_eq!(stdout(&o), SPIN_SUMMARY);
    // Several files: one warning each, for the ones it applies to.
    let e = s.file("empty.log", b"");
    let o = fibstat(&["explain", "-s", &b, &l, &e]);
    assert_eq!(
        stderr(&o),
        format!(
            "fibstat explain: warning: {b}: binary file, not a kernel log\n\
             fibstat explain: warning: {e}: empty input\n"
        )
    );
}

#[test]
fn modules_dir_without_the_module_warns_once() {
    let s = Scratch::new("modules");
    // A directory with another module in it: fib_stat.ko is not there.
    s.file("other.ko", b"not an ELF file");
    let a = s.file("a.log", &spin_log());
    let dir = s.path().to_str().unwrap().to_owned();
    let o = fibstat(&["explain", "-s", "--modules", &dir, &a]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: module fib_stat: no fib_stat.ko under {dir}\n")
    );
    assert_eq!(stdout(&o), SPIN_SUMMARY);
    // Two logs naming it: said once.
    let o = fibstat(&["explain", "-s", "--modules", &dir, &a, &a]);
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: warning: module fib_stat: no fib_stat.ko under {dir}\n")
    );
    // Not a directory at all: an error.
    let o = fibstat(&["explain", "--modules", &a, &a]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("fibstat explain: --modules {a}: not a directory\n")
    );
}

#[test]
fn explain_help_lists_only_its_own_options() {
    let o = fibstat(&["explain", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for own in [
        "--summary",
        "--all",
        "--fail-on-report",
        "--vmlinux",
        "--modules",
        "--json",
        "--pretty",
    ] {
        assert!(help.contains(own), "{own} missing:\n{help}");
    }
    for other in ["--netns", "--proto", "FIBSTAT_NETLINK_PROTO"] {
        assert!(!help.contains(other), "{other} listed:\n{help}");
    }
    assert!(
        help.contains("Usage: fibstat explain [OPTIONS] [FILE|-]..."),
        "{help}"
    );
    // They stay in the help of the commands they apply to.
    for sub in ["show", "record", "reset"] {
        let help = stdout(&fibstat(&[sub, "--help"]));
        assert!(
            help.contains("--netns") && help.contains("--proto"),
            "{sub}:\n{help}"
        );
    }
    // Given to explain anyway, before or after it: refused with the reason.
    let f = fixture(SPIN);
    let f = f.to_str().unwrap();
    for args in [
        ["explain", "-n", "ns1", f],
        ["explain", "--proto", "27", f],
        ["-n", "ns1", "explain", f],
    ] {
        let o = fibstat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).starts_with("error: ")
                && stderr(&o).contains("applies to show, record and reset, not to explain"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // The environment's protocol number does not bother explain.
    let o = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(["explain", "-s", f])
        .env("FIBSTAT_NETLINK_PROTO", "27")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), SPIN_SUMMARY);
}

#[test]
fn explain_man_page_without_the_netlink_options() {
    let s = Scratch::new("docs");
    let o = Command::new(env!("CARGO_BIN_EXE_fibstat-docs"))
        .arg("--out")
        .arg(s.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |rel: &str| std::fs::read_to_string(s.path().join(rel)).unwrap();
    let explain = read("man/man1/fibstat-explain.1");
    assert!(explain.contains("\\-\\-modules"), "{explain}");
    assert!(explain.contains("==> FILE <=="), "{explain}");
    assert!(
        !explain.contains("netns") && !explain.contains("\\-\\-proto"),
        "{explain}"
    );
    let show = read("man/man1/fibstat-show.1");
    assert!(
        show.contains("\\-\\-netns") && show.contains("\\-\\-proto"),
        "{show}"
    );
    // Completions: explain completes no netlink option.
    let fish = read("fish/vendor_completions.d/fibstat.fish");
    let explain_netns = fish
        .lines()
        .any(|l| l.contains("__fish_seen_subcommand_from explain") && l.contains("-l netns"));
    assert!(!explain_netns, "{fish}");
}
