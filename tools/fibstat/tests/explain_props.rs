//! Property tests: `fibstat explain` never panics, whatever the bytes, and
//! decodes a report the same way whatever log prefix wraps its lines.

use std::path::PathBuf;

use fibstat::explain::{explain_bytes, render, Output};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "seed-blog.txt",
    "mt76-in-softirq-plain.txt",
    "mt76-serial-console.txt",
    "nfs-xa-lock-indented-wrapped.txt",
    "selinux-sidtab-quoted-kmsg.txt",
    "kfence-cpa-lock-tab-syzkaller.txt",
    "syzbot-snd-hrtimer-hardirq.txt",
    "syzbot-sctp-circular.txt",
    "ksmbd-recursive.txt",
    "syzbot-ppp-irq-inversion.txt",
    "rust-module-in-softirq-synthetic.txt",
];

/// A fixture's bytes; a missing or unreadable fixture fails the test (an
/// empty input would make every property below pass vacuously).
fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Fixtures the prefix property applies to: lines in raw dmesg form (no
/// `\r`, no syslog `kernel:` or `<4>` prefix of their own).
fn plain(text: &str) -> bool {
    !text.contains('\r') && !text.contains("kernel:") && !text.contains("<4>")
}

/// Every fixture is there, holds exactly the reports it was chosen for, and
/// the prefix property really runs on the plain ones: a renamed, emptied or
/// truncated fixture fails here instead of making the properties vacuous.
#[test]
fn fixtures_hold_their_reports() {
    let mut counts = Vec::new();
    let mut plain_ones = Vec::new();
    for name in FIXTURES {
        let bytes = fixture(name);
        let out = explain_bytes(&bytes);
        counts.push((*name, out.reports.len()));
        if plain(&String::from_utf8_lossy(&bytes)) {
            plain_ones.push(*name);
        }
    }
    assert_eq!(
        counts,
        [
            ("seed-blog.txt", 1),
            ("mt76-in-softirq-plain.txt", 1),
            ("mt76-serial-console.txt", 1),
            ("nfs-xa-lock-indented-wrapped.txt", 1),
            ("selinux-sidtab-quoted-kmsg.txt", 1),
            ("kfence-cpa-lock-tab-syzkaller.txt", 1),
            ("syzbot-snd-hrtimer-hardirq.txt", 1),
            ("syzbot-sctp-circular.txt", 1),
            ("ksmbd-recursive.txt", 1),
            ("syzbot-ppp-irq-inversion.txt", 1),
            ("rust-module-in-softirq-synthetic.txt", 1),
        ]
    );
    assert_eq!(plain_ones, PLAIN_FIXTURES);
}

/// The fixtures [`plain`] selects (checked by `fixtures_hold_their_reports`).
const PLAIN_FIXTURES: &[&str] = &[
    "mt76-in-softirq-plain.txt",
    "nfs-xa-lock-indented-wrapped.txt",
    "kfence-cpa-lock-tab-syzkaller.txt",
    "syzbot-snd-hrtimer-hardirq.txt",
    "syzbot-sctp-circular.txt",
    "ksmbd-recursive.txt",
    "syzbot-ppp-irq-inversion.txt",
    "rust-module-in-softirq-synthetic.txt",
];

/// Invariants of any output, and both renderers must run.
fn check(out: &Output, input_lines: usize) {
    assert_eq!(out.schema_version, 2);
    let mut prev_end = 0;
    for r in &out.reports {
        assert!(
            r.line >= 1 && r.line <= r.end_line,
            "{} {}",
            r.line,
            r.end_line
        );
        assert!(r.end_line <= input_lines.max(1));
        assert!(r.line > prev_end, "reports overlap");
        prev_end = r.end_line;
        assert!(!r.raw.is_empty());
        assert!(!r.title.is_empty());
    }
    let _ = render::human(out, true);
    let _ = render::json(out, true);
}

fn line_count(b: &[u8]) -> usize {
    b.split(|&c| c == b'\n').count()
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    Truncate(usize),
    FlipByte(usize, u8),
    InsertBytes(usize, Vec<u8>),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Mutation::InsertBytes(i, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(input: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = input.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
    for m in muts {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let n = lines.len();
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::Truncate(i) => {
                let mut flat = lines.join(&b'\n');
                flat.truncate(i % (flat.len() + 1));
                lines = flat.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            }
            Mutation::FlipByte(i, b) => {
                let l = &mut lines[i % n];
                if !l.is_empty() {
                    let k = i / n % l.len();
                    l[k] ^= b | 1;
                }
            }
            Mutation::InsertBytes(i, v) => {
                let l = &mut lines[i % n];
                let k = (i / n) % (l.len() + 1);
                l.splice(k..k, v.iter().copied());
            }
        }
    }
    lines.join(&b'\n')
}

/// Log prefixes people paste reports with.
fn prefix(kind: u8, i: usize) -> String {
    let ts = 100.0 + i as f64 * 0.000_013;
    match kind % 8 {
        0 => String::new(),
        1 => format!("[{ts:12.6}] "),
        2 => format!("<4>[{ts:12.6}] "),
        3 => format!("Apr  9 16:20:26 fibvm kernel: [{ts:12.6}] "),
        4 => "Apr 09 16:20:26 fibvm kernel: ".to_owned(),
        5 => format!("kern  :warn  : [{ts:12.6}] "),
        6 => format!("> [{ts:12.6}] "),
        _ => format!("\x1b[0m[{ts:12.6}][ T231] "),
    }
}

// 256 cases per property by default; PROPTEST_CASES=N for a longer run.
proptest! {

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let out = explain_bytes(&bytes);
        check(&out, line_count(&bytes));
    }

    #[test]
    fn banner_soup_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("WARNING: inconsistent lock state\n".to_owned()),
        Just("inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.\n".to_owned()),
        Just("a/1 [HC0[0]:SC1[1]:HE1:SE0] takes:\n".to_owned()),
        Just("ffff8 (x){+.?.}-{2:2}, at: f+0x1/0x2\n".to_owned()),
        Just("(((((){{{}}}){.?}-{9:\n".to_owned()),
        Just("{SOFTIRQ-ON-W} state was registered at:\n".to_owned()),
        Just("stack backtrace:\n".to_owned()),
        Just("Call Trace:\n".to_owned()),
        Just(" ? g+0x1/0x2 [m]\n".to_owned()),
        Just("-> #1 (l){-.-.}:\n".to_owned()),
        Just("#0: ffff (l){....}, at:\n".to_owned()),
        Just(" Possible unsafe locking scenario:\n".to_owned()),
        Just("WARNING: possible circular locking dependency detected\n".to_owned()),
        Just("WARNING: possible irq lock inversion dependency detected\n".to_owned()),
        Just("but this lock took another, SOFTIRQ-unsafe lock in the past:\n".to_owned()),
        Just("x/1 is trying to release lock (y) at:\n".to_owned()),
        Just("\n".to_owned()),
        "[ -~]{0,40}\n",
    ], 0..200)) {
        let text: String = parts.concat();
        let out = explain_bytes(text.as_bytes());
        check(&out, line_count(text.as_bytes()));
    }

    #[test]
    fn mutated_real_reports_never_panic(
        which in 0..FIXTURES.len(),
        muts in proptest::collection::vec(mutation(), 1..12),
    ) {
        let input = apply(&fixture(FIXTURES[which]), &muts);
        let out = explain_bytes(&input);
        check(&out, line_count(&input));
    }

    #[test]
    fn prefixes_do_not_change_the_decoding(which in 0..FIXTURES.len(), kind in any::<u8>()) {
        let original = fixture(FIXTURES[which]);
        let text = String::from_utf8_lossy(&original);
        // Only lines that are plain (the fixtures in raw dmesg form).
        if plain(&text) {
            let wrapped: String = text
                .lines()
                .enumerate()
                .map(|(i, l)| format!("{}{l}\n", prefix(kind, i)))
                .collect();
            let a = explain_bytes(text.as_bytes());
            let b = explain_bytes(wrapped.as_bytes());
            // Equal decodings of nothing would prove nothing.
            prop_assert!(!a.reports.is_empty(), "no report in {}", FIXTURES[which]);
            prop_assert_eq!(a.reports.len(), b.reports.len());
            for (x, y) in a.reports.iter().zip(&b.reports) {
                prop_assert_eq!(&x.title, &y.title);
                prop_assert_eq!(&x.transition, &y.transition);
                prop_assert_eq!(&x.lock, &y.lock);
                prop_assert_eq!(&x.registration_caller, &y.registration_caller);
                prop_assert_eq!(&x.current_caller, &y.current_caller);
                prop_assert_eq!(&x.fix, &y.fix);
                prop_assert_eq!(x.line, y.line);
            }
        }
    }
}
