//! The `make repro` verdict: did the `spin` build reproduce the seed's lockdep
//! report, and did the `bh` build run the identical workload clean?
//!
//! Every lockdep fact comes from [`crate::explain`], the same decoder that
//! `fibstat explain` uses: one parser for both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::client::render::StatsJson as Stats;
use crate::explain::model::Frame;
use crate::explain::{self, Kind, Report};

/// The lock class the module registers (see `fib_stat.rs`).
pub const LOCK_CLASS: &str = "fib_stat.lock";
/// Gateway records one scenario sends: 5 RECORDs with count 7.
pub const GATEWAY_RECORDS: u64 = 35;

/// One guest run, as `scripts/repro` describes it:
/// `MODE:SCENARIO:TOPOLOGY:ORDER:VM_STATUS:LOG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    pub mode: String,
    pub scenario: String,
    pub topology: String,
    pub order: String,
    pub vm_status: i32,
    pub log: PathBuf,
}

impl RunSpec {
    pub fn parse(s: &str) -> Result<Self, String> {
        let f: Vec<&str> = s.splitn(6, ':').collect();
        let [mode, scenario, topology, order, status, log] = f[..] else {
            return Err(format!(
                "run '{s}': expected MODE:SCENARIO:TOPOLOGY:ORDER:VM_STATUS:LOG"
            ));
        };
        if mode != "spin" && mode != "bh" {
            return Err(format!("run '{s}': mode must be spin or bh"));
        }
        if order != "netlink-first" && order != "arp-first" {
            return Err(format!(
                "run '{s}': order must be netlink-first or arp-first"
            ));
        }
        let vm_status = status
            .parse()
            .map_err(|_| format!("run '{s}': VM_STATUS '{status}' is not a number"))?;
        Ok(Self {
            mode: mode.into(),
            scenario: scenario.into(),
            topology: topology.into(),
            order: order.into(),
            vm_status,
            log: log.into(),
        })
    }
}

/// What the verdict expects beyond the run itself.
#[derive(Debug, Clone)]
pub struct Expect {
    pub lock_class: String,
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            lock_class: LOCK_CLASS.into(),
        }
    }
}

/// One check of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The verdict on one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunVerdict {
    pub mode: String,
    pub scenario: String,
    pub topology: String,
    pub order: String,
    pub log: PathBuf,
    pub vm_status: i32,
    /// Any lockdep report in the guest's kernel log.
    pub lockdep_report: bool,
    pub title: Option<String>,
    pub transition: Option<String>,
    pub lock_class: Option<String>,
    /// First caller of the stack taken with interrupts enabled (process context).
    pub process_side_caller: Option<String>,
    /// First caller of the stack taken in interrupt context.
    pub irq_side_caller: Option<String>,
    /// `WARNING:` and `BUG:` lines of the kernel log.
    pub warnings: Vec<String>,
    pub debug_locks: Option<u32>,
    /// The class's usage string in /proc/lockdep after the run (e.g. `+.-.`).
    pub lockdep_usage: Option<String>,
    pub stats: Option<Stats>,
    pub checks: Vec<Check>,
    pub passed: bool,
    #[serde(skip)]
    pub report: Option<Report>,
}

/// The verdict on every run.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub schema_version: u32,
    pub passed: bool,
    pub expected_lock_class: String,
    pub runs: Vec<RunVerdict>,
}

/// Sections of a `vm-run --log` file.
struct Sections<'a> {
    kernel_log: &'a str,
    stats_json: Option<&'a str>,
    /// The class's line of /proc/lockdep, printed by the scenario.
    lockdep_class: Option<&'a str>,
    debug_locks: Option<u32>,
}

/// Kernel log lines that mean trouble (as in tests/lib.sh's check_clean_log).
const TROUBLE: [&str; 6] = [
    "WARNING:",
    "BUG:",
    "Oops",
    "cut here",
    "INFO: ",
    "Call Trace",
];

/// The usage string of `class` in a /proc/lockdep line
/// (`(ptr) FD:    1 BD:    1 +.-.: fib_stat.lock`).
fn class_usage(line: &str, class: &str) -> Option<String> {
    let (head, name) = line.rsplit_once(": ")?;
    if name.trim() != class {
        return None;
    }
    head.split_whitespace().last().map(str::to_owned)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn sections(text: &str) -> Sections<'_> {
    Sections {
        kernel_log: between(
            text,
            "----- guest kernel log -----\n",
            "----- end of guest kernel log -----",
        )
        .unwrap_or(""),
        stats_json: between(text, "=== fibstat show\n", "=== end"),
        lockdep_class: text.lines().find_map(|l| l.strip_prefix("lockdep class: ")),
        debug_locks: text
            .lines()
            .find_map(|l| l.strip_prefix("guest debug_locks:"))
            .and_then(|v| v.trim().parse().ok()),
    }
}

/// `(process-context stack, interrupt-context stack)` of an inconsistent
/// lock state report, from which side of the transition is `IN-*`.
fn sides(r: &Report) -> (&[Frame], &[Frame]) {
    let current_in_irq = r.process_side.as_deref() == Some("registration");
    if current_in_irq {
        (&r.registration_stack, &r.current_stack)
    } else {
        (&r.current_stack, &r.registration_stack)
    }
}

fn position(stack: &[Frame], name: &str) -> Option<usize> {
    stack
        .iter()
        .position(|f| !f.unreliable && f.function == name)
}

struct Checker(Vec<Check>);

impl Checker {
    fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.0.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        });
    }
}

/// Judges one run from its log text.
pub fn judge(spec: &RunSpec, log_text: &str, expect: &Expect) -> RunVerdict {
    let sec = sections(log_text);
    let reports = explain::explain_bytes(sec.kernel_log.as_bytes()).reports;
    let warnings: Vec<String> = sec
        .kernel_log
        .lines()
        .filter(|l| TROUBLE.iter().any(|t| l.contains(t)))
        .map(|l| l.trim().to_owned())
        .collect();
    let usage = sec
        .lockdep_class
        .and_then(|l| class_usage(l, &expect.lock_class));
    let stats: Option<Stats> = sec.stats_json.and_then(|j| serde_json::from_str(j).ok());
    let report = reports.first().cloned();
    let mut c = Checker(Vec::new());

    c.check(
        "guest ran the scenario",
        spec.vm_status == 0,
        format!("vm-run exit status {}", spec.vm_status),
    );
    let loaded = format!("fib_stat: loaded, lock mode {} ", spec.mode);
    c.check(
        "module loaded in this lock mode",
        sec.kernel_log.contains(&loaded),
        if sec.kernel_log.contains(&loaded) {
            loaded.trim_end().to_owned()
        } else {
            format!("no '{}' in the kernel log", loaded.trim_end())
        },
    );
    // What lockdep recorded for the class over the whole run (/proc/lockdep):
    // spin `+.?.` (softirq write both in softirq and with softirqs enabled),
    // bh `+.-.` (in softirq, never with softirqs enabled): proof that lockdep
    // watched both paths take the lock, and how.
    let want_usage = if spec.mode == "spin" { "+.?." } else { "+.-." };
    c.check(
        "lockdep usage of the class",
        usage.as_deref() == Some(want_usage),
        format!(
            "{} (expected {want_usage})",
            usage.as_deref().unwrap_or("class not in /proc/lockdep")
        ),
    );
    match &stats {
        Some(s) => {
            c.check(
                "module reports its lock mode",
                s.lock_mode == spec.mode,
                format!("lock_mode {}", s.lock_mode),
            );
            c.check(
                "process-context path ran",
                s.gateway_records == GATEWAY_RECORDS,
                format!(
                    "gateway_records {} (sent {GATEWAY_RECORDS})",
                    s.gateway_records
                ),
            );
            c.check(
                "softirq path ran",
                s.neigh_updates > 0,
                format!("neigh_updates {}", s.neigh_updates),
            );
        }
        None => c.check(
            "statistics read back",
            false,
            "no `fibstat show -j` output in the log",
        ),
    }

    if spec.mode == "spin" {
        judge_spin(spec, &mut c, report.as_ref(), reports.len(), expect);
        // Nothing but the one report: its banner and its stack dump.
        let other: Vec<&String> = warnings
            .iter()
            .filter(|l| {
                !l.ends_with("WARNING: inconsistent lock state") && !l.ends_with("Call Trace:")
            })
            .collect();
        let dumps = warnings.len() - other.len();
        c.check(
            "nothing else went wrong",
            other.is_empty() && dumps == 2,
            match other.first() {
                Some(l) => format!("also: {l}"),
                None => format!("{dumps} report lines (banner, Call Trace)"),
            },
        );
    } else {
        c.check(
            "no lockdep report",
            reports.is_empty(),
            match reports.first() {
                Some(r) => format!("{} report(s), first: {}", reports.len(), r.title),
                None => "none".into(),
            },
        );
        c.check(
            "no WARNING, BUG, Oops or stack dump",
            warnings.is_empty(),
            warnings.first().cloned().unwrap_or_else(|| "none".into()),
        );
        c.check(
            "lockdep still on",
            sec.debug_locks == Some(1),
            format!("debug_locks {:?}", sec.debug_locks),
        );
    }

    let passed = c.0.iter().all(|x| x.ok);
    RunVerdict {
        mode: spec.mode.clone(),
        scenario: spec.scenario.clone(),
        topology: spec.topology.clone(),
        order: spec.order.clone(),
        log: spec.log.clone(),
        vm_status: spec.vm_status,
        lockdep_report: !reports.is_empty(),
        title: report.as_ref().map(|r| r.title.clone()),
        transition: report
            .as_ref()
            .and_then(|r| r.transition.as_ref())
            .map(|t| format!("{{{}}} -> {{{}}}", t.from, t.to)),
        lock_class: report
            .as_ref()
            .and_then(|r| r.lock.as_ref())
            .map(|l| l.name.clone()),
        process_side_caller: report.as_ref().and_then(|r| r.process_side_caller.clone()),
        irq_side_caller: report.as_ref().and_then(|r| r.irq_side_caller.clone()),
        warnings,
        debug_locks: sec.debug_locks,
        lockdep_usage: usage,
        stats,
        checks: c.0,
        passed,
        report,
    }
}

fn judge_spin(spec: &RunSpec, c: &mut Checker, report: Option<&Report>, n: usize, expect: &Expect) {
    let Some(r) = report.filter(|r| r.kind == Kind::InconsistentLockState) else {
        c.check(
            "WARNING: inconsistent lock state",
            false,
            match report {
                Some(r) => format!("first report is '{}', not inconsistent lock state", r.title),
                None => "no lockdep report in the kernel log".into(),
            },
        );
        return;
    };
    c.check(
        "WARNING: inconsistent lock state",
        r.banner.contains("WARNING: inconsistent lock state"),
        format!("{} ({n} report(s))", r.banner),
    );
    let (from, to) = if spec.order == "netlink-first" {
        ("SOFTIRQ-ON-W", "IN-SOFTIRQ-W")
    } else {
        ("IN-SOFTIRQ-W", "SOFTIRQ-ON-W")
    };
    let got = r
        .transition
        .as_ref()
        .map(|t| format!("{{{}}} -> {{{}}}", t.from, t.to))
        .unwrap_or_else(|| "none".into());
    c.check(
        "usage transition",
        got == format!("{{{from}}} -> {{{to}}}"),
        format!("{got} (expected {{{from}}} -> {{{to}}})"),
    );
    let class = r.lock.as_ref().map(|l| l.name.as_str()).unwrap_or("none");
    c.check(
        "lock class",
        class == expect.lock_class,
        format!("{class} (expected {})", expect.lock_class),
    );

    let (proc_stack, irq_stack) = sides(r);
    let caller = r.process_side_caller.as_deref().unwrap_or("none");
    c.check(
        "process side: fib_stat_rcv_proc takes the lock",
        caller == "fib_stat_rcv_proc",
        format!("first caller {caller}"),
    );
    let order_ok = matches!(
        (position(proc_stack, "fib_stat_rcv_proc"), position(proc_stack, "netlink_rcv_skb"), position(proc_stack, "nl_gateway_input")),
        (Some(a), Some(b), Some(c)) if a < b && b < c
    );
    c.check(
        "process side: fib_stat_rcv_proc <- netlink_rcv_skb <- nl_gateway_input",
        order_ok,
        if order_ok {
            "in order"
        } else {
            "frames missing or out of order"
        },
    );
    let caller = r.irq_side_caller.as_deref().unwrap_or("none");
    c.check(
        "softirq side: net_event_callback takes the lock",
        caller == "net_event_callback",
        format!("first caller {caller}"),
    );
    let under_arp = matches!(
        (position(irq_stack, "net_event_callback"), position(irq_stack, "arp_rcv")),
        (Some(a), Some(b)) if a < b
    );
    c.check(
        "softirq side: under arp_rcv",
        under_arp,
        if under_arp {
            "net_event_callback ... arp_rcv"
        } else {
            "arp_rcv not below net_event_callback"
        },
    );
    if spec.topology == "vmxnet3" {
        let arp = position(irq_stack, "arp_rcv");
        let poll = irq_stack.iter().enumerate().any(|(i, f)| {
            !f.unreliable
                && f.function.starts_with("vmxnet3_poll")
                && Some(i) > arp
                && arp.is_some()
        });
        c.check(
            "softirq side: under the vmxnet3 NAPI poll",
            poll,
            if poll {
                "vmxnet3_poll* below arp_rcv"
            } else {
                "no vmxnet3_poll* frame below arp_rcv"
            },
        );
    }
}

/// Judges every run; a log that cannot be read fails its run.
pub fn judge_all(specs: &[RunSpec], expect: &Expect) -> Verdict {
    let runs: Vec<RunVerdict> = specs
        .iter()
        .map(|s| {
            let text = std::fs::read(&s.log)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            judge(s, &text, expect)
        })
        .collect();
    Verdict {
        schema_version: 1,
        passed: !runs.is_empty() && runs.iter().all(|r| r.passed),
        expected_lock_class: expect.lock_class.clone(),
        runs,
    }
}

fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The human report: a table of runs, the failed checks, the decoded
/// explanation of the first `spin` report and its raw excerpt.
pub fn render_text(v: &Verdict) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "fib-stat repro verdict: {}\n",
        if v.passed { "PASS" } else { "FAIL" }
    );
    for r in &v.runs {
        let _ = writeln!(
            o,
            "{} {:4} {:22} {}",
            if r.passed { "PASS" } else { "FAIL" },
            r.mode,
            r.scenario,
            if r.lockdep_report {
                or_dash(&r.title)
            } else {
                "no lockdep report"
            }
        );
        if r.lockdep_report {
            let _ = writeln!(o, "     transition   {}", or_dash(&r.transition));
            let _ = writeln!(o, "     lock class   {}", or_dash(&r.lock_class));
            let _ = writeln!(o, "     process side {}", or_dash(&r.process_side_caller));
            let _ = writeln!(o, "     softirq side {}", or_dash(&r.irq_side_caller));
        }
        let _ = writeln!(
            o,
            "     debug_locks  {}   lockdep usage {}   stats: {}",
            r.debug_locks.map_or("-".into(), |d| d.to_string()),
            or_dash(&r.lockdep_usage),
            r.stats.as_ref().map_or("-".into(), |s| format!(
                "gateway_records {}, neigh_updates {}, lock_mode {}",
                s.gateway_records, s.neigh_updates, s.lock_mode
            ))
        );
        for c in r.checks.iter().filter(|c| !c.ok) {
            let _ = writeln!(o, "     check failed: {}: {}", c.name, c.detail);
        }
    }
    if let Some(r) = v
        .runs
        .iter()
        .find(|r| r.mode == "spin" && r.report.is_some())
    {
        if let Some(rep) = &r.report {
            let _ = writeln!(o, "\n== decoded: {} ({})\n", r.scenario, r.log.display());
            let one = explain::Output {
                schema_version: explain::SCHEMA_VERSION,
                reports: vec![rep.clone()],
                groups: explain::group::group(std::slice::from_ref(rep)),
            };
            o.push_str(&explain::render::human(&one, true));
            let _ = writeln!(o, "\n== raw excerpt\n");
            for l in &rep.raw {
                let _ = writeln!(o, "{l}");
            }
        }
    }
    o
}

/// Writes `report.txt` and `report.json` into `dir`.
pub fn write(v: &Verdict, dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("report.txt"), render_text(v))?;
    let json = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report.json"), json + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLAT: &str = include_str!("../tests/fixtures/project-spin-netlink-then-arp.txt");
    const BH_LOADED: &str =
        "[    1.9] fib_stat: loaded, lock mode bh (spin_lock_bh: correct), netlink protocol 25\n";

    /// A vm-run log: the scenario's output, then the kernel log.
    struct Log<'a> {
        mode: &'a str,
        kernel_log: &'a str,
        debug_locks: u32,
        gateway_records: u64,
        usage: &'a str,
    }

    impl Log<'_> {
        fn spin() -> Self {
            Log {
                mode: "spin",
                kernel_log: SPLAT,
                debug_locks: 0,
                gateway_records: 35,
                usage: "+.?.",
            }
        }

        fn bh() -> Self {
            Log {
                mode: "bh",
                kernel_log: BH_LOADED,
                debug_locks: 1,
                gateway_records: 35,
                usage: "+.-.",
            }
        }

        fn text(&self) -> String {
            format!(
                "Sent 1 probes (1 broadcast(s))\n=== fibstat show\n{{\n  \"lock_mode\": \"{}\",\n  \
                 \"version\": 1,\n  \"netns_inum\": 4026532121,\n  \"nl_requests\": 6,\n  \
                 \"gateway_records\": {},\n  \"neigh_updates\": 1,\n  \"redirects\": 0,\n  \
                 \"last_gateway\": \"192.0.2.2\",\n  \"last_gateway_ifindex\": 0,\n  \
                 \"last_neigh\": \"192.0.2.2\",\n  \"last_neigh_ifindex\": 3,\n  \
                 \"last_update_ns\": 1\n}}\n=== end\n\
                 lockdep class: (____ptrval____) FD:    1 BD:    1 {}: fib_stat.lock\n\
                 ----- guest kernel log -----\n{}\
                 ----- end of guest kernel log -----\nguest debug_locks:     {}\n",
                self.mode, self.gateway_records, self.usage, self.kernel_log, self.debug_locks
            )
        }
    }

    fn spec(mode: &str) -> RunSpec {
        RunSpec::parse(&format!(
            "{mode}:netlink-then-arp:vmxnet3:netlink-first:0:/dev/null"
        ))
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn failed(spec: &RunSpec, log: &Log<'_>, expect: &Expect) -> Vec<String> {
        judge(spec, &log.text(), expect)
            .checks
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn spin_splat_passes() {
        let v = judge(&spec("spin"), &Log::spin().text(), &Expect::default());
        assert!(v.checks.iter().all(|c| c.ok), "{:#?}", v.checks);
        assert!(v.passed);
        assert_eq!(
            v.transition.as_deref(),
            Some("{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}")
        );
        assert_eq!(v.process_side_caller.as_deref(), Some("fib_stat_rcv_proc"));
        assert_eq!(v.irq_side_caller.as_deref(), Some("net_event_callback"));
    }

    #[test]
    fn clean_bh_run_passes() {
        assert_eq!(
            failed(&spec("bh"), &Log::bh(), &Expect::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn broken_expectations_fail() {
        let d = Expect::default();
        let wrong_class = Expect {
            lock_class: "other.lock".into(),
        };
        assert_eq!(
            failed(&spec("spin"), &Log::spin(), &wrong_class),
            ["lockdep usage of the class", "lock class"]
        );
        // The splat in a bh run fails; so does a spin run without one.
        let splat_as_bh = Log {
            mode: "bh",
            ..Log::spin()
        };
        assert_eq!(
            failed(&spec("bh"), &splat_as_bh, &d),
            [
                "module loaded in this lock mode",
                "lockdep usage of the class",
                "no lockdep report",
                "no WARNING, BUG, Oops or stack dump",
                "lockdep still on"
            ]
        );
        let quiet_spin = Log {
            kernel_log: "[ 1.8] fib_stat: loaded, lock mode spin (x)\n",
            ..Log::spin()
        };
        assert_eq!(
            failed(&spec("spin"), &quiet_spin, &d),
            [
                "WARNING: inconsistent lock state",
                "nothing else went wrong"
            ]
        );
        // A bh lock that lockdep saw taken with softirqs enabled, an oops, a lost RECORD.
        let bh_softirq_on = Log {
            usage: "+.?.",
            ..Log::bh()
        };
        assert_eq!(
            failed(&spec("bh"), &bh_softirq_on, &d),
            ["lockdep usage of the class"]
        );
        let oops = format!("{BH_LOADED}[ 3.0] Oops: general protection fault\n");
        let bh_oops = Log {
            kernel_log: &oops,
            ..Log::bh()
        };
        assert_eq!(
            failed(&spec("bh"), &bh_oops, &d),
            ["no WARNING, BUG, Oops or stack dump"]
        );
        let spin_lost = Log {
            gateway_records: 28,
            ..Log::spin()
        };
        assert_eq!(
            failed(&spec("spin"), &spin_lost, &d),
            ["process-context path ran"]
        );
        let spin_oops = format!("{SPLAT}[ 3.0] BUG: unable to handle page fault\n");
        let spin_extra = Log {
            kernel_log: &spin_oops,
            ..Log::spin()
        };
        assert_eq!(
            failed(&spec("spin"), &spin_extra, &d),
            ["nothing else went wrong"]
        );
        // The wrong direction for the scenario.
        let arp_first = RunSpec {
            order: "arp-first".into(),
            ..spec("spin")
        };
        assert_eq!(failed(&arp_first, &Log::spin(), &d), ["usage transition"]);
        // No statistics at all, or a guest that did not finish.
        let v = judge(&spec("bh"), "----- guest kernel log -----\n", &d);
        assert!(v
            .checks
            .iter()
            .any(|c| !c.ok && c.name == "statistics read back"));
        let status = RunSpec {
            vm_status: 124,
            ..spec("bh")
        };
        assert_eq!(failed(&status, &Log::bh(), &d), ["guest ran the scenario"]);
    }

    #[test]
    fn run_specs() {
        assert!(RunSpec::parse("spin:a:b:netlink-first:0:/x:y")
            .is_ok_and(|s| s.log == Path::new("/x:y")));
        assert!(RunSpec::parse("rw:a:b:netlink-first:0:/x").is_err());
        assert!(RunSpec::parse("spin:a:b:sideways:0:/x").is_err());
        assert!(RunSpec::parse("spin:a:b:arp-first:zero:/x").is_err());
        assert!(RunSpec::parse("spin:a").is_err());
    }

    #[test]
    fn proc_lockdep_usage() {
        let l = "(____ptrval____) FD:    1 BD:    1 +.-.: fib_stat.lock";
        assert_eq!(class_usage(l, "fib_stat.lock").as_deref(), Some("+.-."));
        assert_eq!(class_usage(l, "other"), None);
        assert_eq!(class_usage("garbage", "fib_stat.lock"), None);
    }
}
