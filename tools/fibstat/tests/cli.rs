//! The command line: iproute2-style global options before or after the
//! subcommand, JSON forms, exit statuses, usage errors, the terminal notice,
//! the man pages and completions generated from the CLI definition.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SPIN: &str = "project-spin-netlink-then-arp.txt";

fn fixture(rel: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", rel]
        .iter()
        .collect()
}

fn fibstat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(args)
        .env_remove("FIBSTAT_NETLINK_PROTO")
        .stdin(Stdio::null())
        .output()
        .expect("fibstat runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_options_before_and_after_the_subcommand() {
    let f = fixture(SPIN);
    let f = f.to_str().unwrap();
    let before = fibstat(&["-j", "explain", f]);
    let after = fibstat(&["explain", f, "--json"]);
    assert!(before.status.success() && after.status.success());
    assert_eq!(stdout(&before), stdout(&after));
    // Compact: one line.
    assert_eq!(stdout(&before).lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&before)).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(
        v["reports"][0]["title"],
        "inconsistent lock state in net_event_callback"
    );
    // -p: pretty (and JSON even without -j).
    for args in [
        ["-p", "explain", f].as_slice(),
        &["-j", "-p", "explain", f],
        &["explain", "-p", f],
    ] {
        let o = fibstat(args);
        assert!(
            stdout(&o).starts_with("{\n  \"schema_version\": 2,\n"),
            "{args:?}"
        );
    }
    // --summary -j: the groups only.
    let o = fibstat(&["-j", "explain", "--summary", f]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reports"], 1);
    assert_eq!(v["groups"][0]["count"], 1);
    assert_eq!(v["groups"][0]["kind"], "inconsistent_lock_state");
}

#[test]
fn fail_on_report_exit_status_and_summary() {
    let f = fixture(SPIN);
    let o = fibstat(&["explain", "--fail-on-report", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "1 kernel report (1 distinct):\n     1x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (line 4)\n"
    );
    // Without reports: status 0.
    let clean = fixture("kinds/../seed-blog.txt");
    let none = std::env::temp_dir().join(format!("fibstat-cli-clean-{}.txt", std::process::id()));
    std::fs::write(
        &none,
        "[    0.000000] Linux version 6.12.117-fib-stat\n[    1.0] random: crng init done\n",
    )
    .unwrap();
    let o = fibstat(&["explain", "--fail-on-report", none.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "no kernel report found\n");
    // -j keeps the JSON; the status still says it.
    let o = fibstat(&["-j", "explain", "--fail-on-report", clean.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("{\"schema_version\":2,"));
    let _ = std::fs::remove_file(none);
    // An unreadable input is status 2.
    let o = fibstat(&["explain", "--fail-on-report", "/nonexistent/dmesg.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/dmesg.txt"));
}

#[test]
fn grouping_identical_reports() {
    // The same report three times, at three times: one group of three,
    // printed once.
    let one = std::fs::read_to_string(fixture(SPIN)).unwrap();
    let (two, three) = (one.replace("[    ", "[   1"), one.replace("[    ", "[   2"));
    let log = std::env::temp_dir().join(format!("fibstat-cli-group-{}.txt", std::process::id()));
    std::fs::write(&log, format!("{one}{two}{three}")).unwrap();
    let o = fibstat(&["explain", log.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(text.matches("Report ").count(), 1, "{text}");
    assert!(text.starts_with(
        "Report 1 (3 identical reports, lines 4, 116, 228): inconsistent lock state in net_event_callback\n"
    ));
    let all = fibstat(&["explain", "--all", log.to_str().unwrap()]);
    assert_eq!(stdout(&all).matches("\nReport ").count() + 1, 3);
    let s = fibstat(&["explain", "-s", log.to_str().unwrap()]);
    assert_eq!(
        stdout(&s),
        "3 kernel reports (1 distinct):\n     3x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (lines 4, 116, 228)\n"
    );
    // The same log twice (vm-run's live echo, then its record): each
    // report was printed once, and counts once.
    std::fs::write(&log, format!("{one}{two}{one}{two}")).unwrap();
    let s = fibstat(&["explain", "-s", log.to_str().unwrap()]);
    assert_eq!(
        stdout(&s),
        "2 kernel reports (1 distinct):\n     2x  inconsistent lock state in net_event_callback  [inconsistent_lock_state] (lines 4, 116)\n"
    );
    let _ = std::fs::remove_file(log);
}

#[test]
fn usage_errors() {
    // --proto outside 0..=31, on the command line or in the environment.
    for args in [
        ["--proto", "32", "show"].as_slice(),
        &["show", "--proto=-1"],
    ] {
        let o = fibstat(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("--proto"), "{}", stderr(&o));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .arg("show")
        .env("FIBSTAT_NETLINK_PROTO", "99")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Options that do not apply to explain.
    let f = fixture(SPIN);
    for args in [
        ["-n", "ns1", "explain", f.to_str().unwrap()],
        ["--proto", "27", "explain", f.to_str().unwrap()],
    ] {
        let o = fibstat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("not to explain"), "{}", stderr(&o));
    }
    // -n before and after the subcommand reaches the netlink commands.
    for args in [
        ["-n", "no-such-netns-fibstat", "show"],
        ["show", "-n", "no-such-netns-fibstat"],
    ] {
        let o = fibstat(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&o).contains("network namespace \"no-such-netns-fibstat\" does not exist"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_protocol_that_is_not_fib_stat_says_so() {
    // NETLINK_GENERIC (16) answers fib_stat's GET (type 0x10: the generic
    // netlink controller to it, without a genl header) with an error
    // fib_stat never gives.
    let o = fibstat(&["--proto", "16", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("netlink protocol 16 is not fib_stat's: GET was answered with an error"),
        "{}",
        stderr(&o)
    );
}

/// `fibstat explain` with a terminal on stdin says it reads stdin.
#[test]
fn explain_on_a_terminal_says_it_waits_for_stdin() {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new file descriptors into the pointers.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .arg("explain")
        .stdin(Stdio::from(slave))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = err.read(&mut buf).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    drop(master);
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("fibstat explain: reading a kernel log from standard input"),
        "{text}"
    );
    // Not on a pipe or file (here /dev/null: only the warning that it is empty).
    let o = fibstat(&["explain"]);
    assert_eq!(
        stderr(&o),
        "fibstat explain: warning: (standard input): empty input\n"
    );
    assert_eq!(stdout(&o), "no kernel report found\n");
}

#[test]
fn man_pages_and_completions_from_the_cli_definition() {
    let dir = std::env::temp_dir().join(format!("fibstat-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(env!("CARGO_BIN_EXE_fibstat-docs"))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let read =
        |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let man = read("man/man1/fibstat.1");
    assert!(man.contains(".TH fibstat 1"));
    assert!(man.contains("\\-\\-json"));
    let explain = read("man/man1/fibstat-explain.1");
    assert!(explain.contains("\\-\\-fail\\-on\\-report"));
    assert!(explain.contains("\\-\\-vmlinux"));
    for sub in ["show", "record", "reset"] {
        assert!(dir.join(format!("man/man1/fibstat-{sub}.1")).is_file());
    }
    // Each page has the sections a man page has, in man-pages(7) order,
    // and its own NAME line; the exit codes are no EXTRA afterthought.
    for (page, name) in [
        (
            "fibstat",
            "fibstat \\- talk to the fib_stat kernel module, and explain kernel reports\n",
        ),
        (
            "fibstat-explain",
            "fibstat\\-explain \\- decode kernel reports (lockdep, WARNING, BUG, KASAN, UBSAN, oopses, stalls, leaks) in kernel logs\n",
        ),
        (
            "fibstat-show",
            "fibstat\\-show \\- show the statistics and lock mode of a network namespace\n",
        ),
        ("fibstat-record", "fibstat\\-record \\- record a gateway in the fib_stat statistics\n"),
        (
            "fibstat-reset",
            "fibstat\\-reset \\- zero the fib_stat statistics of a network namespace\n",
        ),
    ] {
        let text = read(&format!("man/man1/{page}.1"));
        assert!(text.contains(&format!(".SH NAME\n{name}")), "{page}: {text}");
        let at = |section: &str| {
            text.find(&format!(".SH {section}\n"))
                .unwrap_or_else(|| panic!("{page}: no {section}: {text}"))
        };
        let order = [
            at("NAME"),
            at("SYNOPSIS"),
            at("DESCRIPTION"),
            at("OPTIONS"),
            at("\"EXIT STATUS\""),
            at("EXAMPLES"),
            at("\"SEE ALSO\""),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{page}: {order:?}");
        assert!(!text.contains(".SH EXTRA"), "{page}");
        assert!(!text.contains("fibstat: fibstat"), "{page}");
    }
    assert!(explain
        .contains(".TP\n.B 1\nWith \\-\\-fail\\-on\\-report: the log holds a kernel report.\n"));
    assert!(explain.contains(".B dmesg | fibstat explain\n"));
    assert!(man.contains("fibstat\\-explain(1)"));
    // The hidden test subcommand has no page.
    assert!(!dir.join("man/man1/fibstat-raw.1").exists());
    let bash = read("bash-completion/completions/fibstat");
    assert!(bash.contains("--fail-on-report") && bash.contains("explain"));
    assert!(read("zsh/site-functions/_fibstat").contains("#compdef fibstat"));
    assert!(read("fish/vendor_completions.d/fibstat.fish").contains("fail-on-report"));
    let _ = std::fs::remove_dir_all(dir);
}
