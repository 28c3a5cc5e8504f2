//! The `make repro` verdict: did the `spin` build reproduce the seed's lockdep
//! report, and did the `bh` build run the identical workload clean?
//!
//! Every fact about the kernel log comes from [`crate::explain`], the same
//! parser `fibstat explain` uses: a `bh` run with any kernel report at all
//! fails, a `spin` run fails with anything besides its one expected report.
//! With `vmlinux` and the modules (both with debug info), the report's
//! frames get source lines, and the process-side and softirq-side lines
//! where the lock is taken are part of the verdict.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::client::render::StatsJson as Stats;
use crate::explain::model::Frame;
use crate::explain::symbolize::Symbolizer;
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

/// What the verdict expects beyond the run itself, and where the debug
/// info for source lines is.
#[derive(Debug, Clone)]
pub struct Expect {
    pub lock_class: String,
    /// vmlinux with DWARF: symbolize the reports.
    pub vmlinux: Option<PathBuf>,
    /// Directory with `<mode>/fib_stat.ko` (with DWARF).
    pub modules: Option<PathBuf>,
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            lock_class: LOCK_CLASS.into(),
            vmlinux: None,
            modules: None,
        }
    }
}

/// One kernel report of a run's log, as the summary lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub line: usize,
    pub kind: Kind,
    pub title: String,
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
    /// Any kernel report (of any kind) in the guest's kernel log.
    pub lockdep_report: bool,
    /// Every kernel report of the log (`fibstat explain`'s parser).
    pub reports: Vec<Found>,
    pub title: Option<String>,
    pub transition: Option<String>,
    pub lock_class: Option<String>,
    /// First caller of the stack taken with interrupts enabled (process context).
    pub process_side_caller: Option<String>,
    /// First caller of the stack taken in interrupt context.
    pub irq_side_caller: Option<String>,
    /// With debug info: where the process side takes the lock
    /// (`fib_stat.rs:287`) ...
    pub process_side_source: Option<String>,
    /// ... and the kernel crate's line the lock call comes from
    /// (`rust/kernel/sync/lock.rs:127`).
    pub process_side_lock_call: Option<String>,
    pub irq_side_source: Option<String>,
    pub irq_side_lock_call: Option<String>,
    pub debug_locks: Option<u32>,
    /// The class's usage string in /proc/lockdep after the run (e.g. `+.-.`).
    pub lockdep_usage: Option<String>,
    pub stats: Option<Stats>,
    pub checks: Vec<Check>,
    pub passed: bool,
    #[serde(skip)]
    pub report: Option<Report>,
}

/// report.json's schema: 2 replaced the grepped `warnings` lines with
/// `reports` (every kernel report the explain parser found) and added the
/// `*_source` / `*_lock_call` source lines.
pub const VERDICT_SCHEMA_VERSION: u32 = 2;

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

/// Judges one run from its log text; `sym` adds source lines.
pub fn judge(
    spec: &RunSpec,
    log_text: &str,
    expect: &Expect,
    sym: Option<&mut Symbolizer>,
) -> RunVerdict {
    let sec = sections(log_text);
    let mut out = explain::explain_bytes(sec.kernel_log.as_bytes());
    if let Some(sym) = sym {
        sym.apply(&mut out);
    }
    let reports = out.reports;
    let found: Vec<Found> = reports
        .iter()
        .map(|r| Found {
            line: r.line,
            kind: r.kind,
            title: r.title.clone(),
        })
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
        // Nothing but the one report.
        c.check(
            "nothing else went wrong",
            reports.len() == 1,
            match reports.get(1) {
                Some(r) => format!("also line {}: {}", r.line, r.title),
                None => format!("{} kernel report(s)", reports.len()),
            },
        );
    } else {
        c.check(
            "no kernel report",
            reports.is_empty(),
            match reports.first() {
                Some(r) => format!(
                    "{} report(s), first at line {}: {}",
                    reports.len(),
                    r.line,
                    r.title
                ),
                None => "none".into(),
            },
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
        process_side_source: report.as_ref().and_then(|r| r.process_side_source.clone()),
        process_side_lock_call: report
            .as_ref()
            .and_then(|r| r.process_side_lock_call.clone()),
        irq_side_source: report.as_ref().and_then(|r| r.irq_side_source.clone()),
        irq_side_lock_call: report.as_ref().and_then(|r| r.irq_side_lock_call.clone()),
        reports: found,
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
    if expect.vmlinux.is_some() {
        for (side, src) in [
            ("process side", &r.process_side_source),
            ("softirq side", &r.irq_side_source),
        ] {
            let got = src.as_deref().unwrap_or("none");
            c.check(
                &format!("{side}: source line in fib_stat.rs"),
                got.starts_with("fib_stat.rs:"),
                got,
            );
        }
    }
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

/// Judges every run; a log that cannot be read fails its run. Errors only
/// if the debug info asked for cannot be loaded.
pub fn judge_all(specs: &[RunSpec], expect: &Expect) -> Result<Verdict, String> {
    let mut sym = match &expect.vmlinux {
        Some(v) => Some(Symbolizer::new(Some(v), None)?),
        None => None,
    };
    let mut runs = Vec::new();
    for s in specs {
        let text = std::fs::read(&s.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if let (Some(sym), Some(dir)) = (sym.as_mut(), &expect.modules) {
            sym.set_modules_dir(&dir.join(&s.mode))?;
        }
        runs.push(judge(s, &text, expect, sym.as_mut()));
    }
    Ok(Verdict {
        schema_version: VERDICT_SCHEMA_VERSION,
        passed: !runs.is_empty() && runs.iter().all(|r| r.passed),
        expected_lock_class: expect.lock_class.clone(),
        runs,
    })
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
                "no kernel report"
            }
        );
        if r.lockdep_report && r.transition.is_some() {
            let _ = writeln!(o, "     transition   {}", or_dash(&r.transition));
            let _ = writeln!(o, "     lock class   {}", or_dash(&r.lock_class));
            for (label, caller, src, call) in [
                (
                    "process side",
                    &r.process_side_caller,
                    &r.process_side_source,
                    &r.process_side_lock_call,
                ),
                (
                    "softirq side",
                    &r.irq_side_caller,
                    &r.irq_side_source,
                    &r.irq_side_lock_call,
                ),
            ] {
                let _ = write!(o, "     {label} {}", or_dash(caller));
                if let Some(src) = src {
                    let _ = write!(o, " at {src}");
                    if let Some(call) = call {
                        let _ = write!(o, " (lock call {call})");
                    }
                }
                o.push('\n');
            }
        }
        for f in r.reports.iter().skip(usize::from(r.mode == "spin")) {
            let _ = writeln!(o, "     report       line {}: {}", f.line, f.title);
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
        judge(spec, &log.text(), expect, None)
            .checks
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn spin_splat_passes() {
        let v = judge(&spec("spin"), &Log::spin().text(), &Expect::default(), None);
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
            ..Expect::default()
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
                "no kernel report",
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
        // Any kernel report fails a bh run, whatever its kind.
        for extra in [
            "[ 3.0] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI\n",
            "[ 3.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:10 dev_x+0x1/0x2\n",
            "[ 3.0] BUG: KASAN: slab-use-after-free in fib_stat_rcv_proc+0x1/0x2 [fib_stat]\n",
            "[ 3.0] unreferenced object 0xffff888003dd7da8 (size 64):\n",
            "[ 3.0] UBSAN: shift-out-of-bounds in fib_stat.rs:12:5\n",
        ] {
            let log = format!("{BH_LOADED}{extra}");
            let bh_oops = Log {
                kernel_log: &log,
                ..Log::bh()
            };
            assert_eq!(failed(&spec("bh"), &bh_oops, &d), ["no kernel report"], "{extra}");
        }
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
        let v = judge(&spec("bh"), "----- guest kernel log -----\n", &d, None);
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
