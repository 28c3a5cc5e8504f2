//! The `make repro` verdict: did the `spin` build reproduce the seed's lockdep
//! report, and did the `bh` build run the identical workload clean?
//!
//! Every fact about the kernel log comes from [`crate::explain`], the same
//! parser `fibstat explain` uses: a `bh` run with any kernel report at all
//! fails, a `spin` run fails with anything besides its one expected report.
//! With `vmlinux` and the modules (both with debug info), the report's
//! frames get source lines, and the process-side and softirq-side lines
//! where the lock is taken are part of the verdict.
//!
//! What lockdep saw comes from the guest too: the scenario reads the lock
//! class's usage in `/proc/lockdep` after each of its phases, and the run
//! must show exactly the sequence its lock mode and order produce (see
//! [`expected_usage`]). Every verdict names the kernel that produced it: the
//! guest's `uname -r` and the Debian `linux-source` package version it was
//! built from.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::client::render::StatsJson as Stats;
use crate::explain::model::Frame;
use crate::explain::symbolize::Symbolizer;
use crate::explain::{self, Kind, Report};

/// The lock class the module registers (see `fib_stat.rs`).
pub const LOCK_CLASS: &str = "fib_stat.lock";
/// The class the percpu build's updates take instead: the seqcount of each CPU's statistics
/// (no shared lock; the `fib_stat.reset` lock of GET and RESET is not taken by the scenario
/// until its final `fibstat show`).
pub const PERCPU_CLASS: &str = "fib_stat.percpu";
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
        if mode != "spin" && mode != "bh" && mode != "percpu" {
            return Err(format!("run '{s}': mode must be spin, bh or percpu"));
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
    /// Version of the Debian `linux-source` package the kernel was built
    /// from (`6.12.118-1~deb12u1`): every guest's `uname -r` must be its
    /// upstream version (`6.12.118`, then `-` and the local version).
    pub linux_source_version: Option<String>,
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            lock_class: LOCK_CLASS.into(),
            vmlinux: None,
            modules: None,
            linux_source_version: None,
        }
    }
}

/// The upstream part of a Debian version: no epoch (`1:`), no Debian
/// revision (`-1~deb12u1`).
pub fn upstream_version(debian: &str) -> &str {
    let v = debian.split_once(':').map_or(debian, |(_, v)| v);
    v.rsplit_once('-').map_or(v, |(u, _)| u)
}

/// The class's usage in `/proc/lockdep` after one phase of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseUsage {
    /// `loaded` (module loaded, no traffic yet), `netlink` (5 RECORDs),
    /// `arp` (the ARP request into ns1), `show` (`fibstat show`, which takes
    /// the lock in process context too).
    pub phase: String,
    /// The four usage characters (`+.-.`); `None`: the class is not in
    /// `/proc/lockdep`, i.e. no lock of the class was taken yet.
    pub usage: Option<String>,
}

impl PhaseUsage {
    fn new(phase: &str, usage: Option<&str>) -> Self {
        Self {
            phase: phase.into(),
            usage: usage.map(Into::into),
        }
    }
}

/// What `/proc/lockdep` must show for the lock class after each phase.
///
/// The four characters are hardirq write, hardirq read, softirq write,
/// softirq read; `+`: the lock was taken with that irq enabled
/// (`ENABLED_*`), `-`: in that irq's context (`USED_IN_*`), `?`: both, `.`:
/// neither. So:
///
/// * the process side with `spin_lock()` (hardirqs and softirqs on) sets
///   `+.+.`, with `spin_lock_bh()` (softirqs off) `+...`;
/// * the softirq side (NAPI poll -> `arp_rcv`, hardirqs on) sets `+.-.` on
///   its own: a `+.-.` at the end of a run says nothing about the process
///   side. Only the netlink-first order shows the process side's own bits
///   (`+...` in a `bh` build; a build whose process side takes no lock shows
///   no class at all after that phase);
/// * in a `spin` build the second side sets the conflicting bit (`+.?.`),
///   lockdep prints its report and turns itself off (`debug_locks` 0): the
///   class stays `+.?.` for the rest of the run, whatever takes it later;
/// * a `percpu` build takes no shared lock: its class is the per-CPU
///   seqcount's ([`PERCPU_CLASS`]), written with bottom halves off in process
///   context (`+...`) and in softirq context (`+.-.`): the same sequence as
///   `bh`. (Its readers, GET, read it with hard interrupts off: no bit.)
///
/// No lock of the class is taken before the scenario: after `loaded` the
/// class is not in `/proc/lockdep`.
pub fn expected_usage(mode: &str, order: &str) -> Vec<PhaseUsage> {
    let spin = mode == "spin";
    let (first, first_usage, second) = if order == "netlink-first" {
        ("netlink", if spin { "+.+." } else { "+..." }, "arp")
    } else {
        ("arp", "+.-.", "netlink")
    };
    let after_both = if spin { "+.?." } else { "+.-." };
    vec![
        PhaseUsage::new("loaded", None),
        PhaseUsage::new(first, Some(first_usage)),
        PhaseUsage::new(second, Some(after_both)),
        PhaseUsage::new("show", Some(after_both)),
    ]
}

/// `loaded none, netlink +..., ...`
pub fn usage_sequence(phases: &[PhaseUsage]) -> String {
    if phases.is_empty() {
        return "no phase read".into();
    }
    phases
        .iter()
        .map(|p| format!("{} {}", p.phase, p.usage.as_deref().unwrap_or("none")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lock chains holding the class after one phase of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseChains {
    pub phase: String,
    /// How many chains of `/proc/lockdep_chains` hold the class, by the
    /// chain's `irq_context` (`0`: process context, `softirq`, `hardirq`).
    pub chains: BTreeMap<String, u32>,
}

/// `loaded none, netlink 0=1, arp 0=1 softirq=1, ...`
pub fn chains_sequence(phases: &[PhaseChains]) -> String {
    if phases.is_empty() {
        return "no phase read".into();
    }
    phases
        .iter()
        .map(|p| {
            let counts = if p.chains.is_empty() {
                "none".to_owned()
            } else {
                p.chains
                    .iter()
                    .map(|(ctx, n)| format!("{ctx}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            format!("{} {counts}", p.phase)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first phase after which a chain of `irq_context` `ctx` holds the class.
fn first_chain_phase<'a>(phases: &'a [PhaseChains], ctx: &str) -> Option<&'a str> {
    phases
        .iter()
        .find(|p| p.chains.get(ctx) > Some(&0))
        .map(|p| p.phase.as_str())
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
    /// The guest's `uname -r`.
    pub kernel_release: Option<String>,
    /// The class's usage in /proc/lockdep after each phase, in the order
    /// the scenario ran them.
    pub usage_by_phase: Vec<PhaseUsage>,
    /// The class's usage string in /proc/lockdep after the run (e.g. `+.-.`):
    /// the last of `usage_by_phase`.
    pub lockdep_usage: Option<String>,
    /// The lock chains holding the class after each phase: lockdep
    /// validated an acquisition in that context (in a `bh` run, the
    /// process side's chain is the proof that it took the lock, in either
    /// order; its usage bits are hidden under the softirq side's `+.-.` when
    /// ARP comes first).
    pub chains_by_phase: Vec<PhaseChains>,
    pub stats: Option<Stats>,
    pub checks: Vec<Check>,
    pub passed: bool,
    #[serde(skip)]
    pub report: Option<Report>,
}

/// report.json's schema: 2 replaced the grepped `warnings` lines with
/// `reports` (every kernel report the explain parser found) and added the
/// `*_source` / `*_lock_call` source lines; 3 added `kernel` and the runs'
/// `kernel_release`, `usage_by_phase` and `chains_by_phase`.
pub const VERDICT_SCHEMA_VERSION: u32 = 3;

/// The kernel that produced the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct KernelVersion {
    /// The guests' `uname -r`, if every run printed the same one.
    pub release: Option<String>,
    /// The Debian `linux-source` package version it was built from.
    pub linux_source_version: Option<String>,
}

/// The verdict on every run.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub schema_version: u32,
    pub passed: bool,
    pub kernel: KernelVersion,
    pub expected_lock_class: String,
    pub runs: Vec<RunVerdict>,
}

/// Sections of a `vm-run --log` file.
struct Sections<'a> {
    kernel_log: &'a str,
    stats_json: Option<&'a str>,
    /// `(phase, the class's line of /proc/lockdep or "")`, printed by the
    /// scenario after each phase as `lockdep after PHASE: LINE`.
    lockdep_phases: Vec<(&'a str, &'a str)>,
    /// `(phase, "0=1 softirq=1")`: the chains holding the class by
    /// irq_context, printed as `lockdep chains after PHASE: COUNTS`.
    chain_phases: Vec<(&'a str, &'a str)>,
    /// `kernel release: RELEASE`, printed by the scenario.
    kernel_release: Option<&'a str>,
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
        lockdep_phases: text
            .lines()
            .filter_map(|l| l.strip_prefix("lockdep after ")?.split_once(':'))
            .map(|(phase, line)| (phase, line.trim()))
            .collect(),
        chain_phases: text
            .lines()
            .filter_map(|l| l.strip_prefix("lockdep chains after ")?.split_once(':'))
            .map(|(phase, counts)| (phase, counts.trim()))
            .collect(),
        kernel_release: text
            .lines()
            .find_map(|l| l.strip_prefix("kernel release:"))
            .map(str::trim)
            .filter(|r| !r.is_empty()),
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
    // A line that is not the class's (another class, garbage) is kept as
    // it is: it matches no expected usage. The percpu build's class is its
    // per-CPU seqcount's.
    let class = if spec.mode == "percpu" {
        PERCPU_CLASS
    } else {
        expect.lock_class.as_str()
    };
    let usage_by_phase: Vec<PhaseUsage> = sec
        .lockdep_phases
        .iter()
        .map(|&(phase, line)| PhaseUsage {
            phase: phase.into(),
            usage: (!line.is_empty())
                .then(|| class_usage(line, class).unwrap_or_else(|| line.into())),
        })
        .collect();
    let usage = usage_by_phase.last().and_then(|p| p.usage.clone());
    // Counts that do not parse are left out: they cannot make a chain appear.
    let chains_by_phase: Vec<PhaseChains> = sec
        .chain_phases
        .iter()
        .map(|&(phase, counts)| PhaseChains {
            phase: phase.into(),
            chains: counts
                .split_whitespace()
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_owned(), v.parse().ok()?))
                })
                .collect(),
        })
        .collect();
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
    let upstream = expect.linux_source_version.as_deref().map(upstream_version);
    let release_ok = match (sec.kernel_release, upstream) {
        (None, _) => false,
        (Some(r), Some(up)) => r == up || r.starts_with(&format!("{up}-")),
        (Some(_), None) => true,
    };
    c.check(
        "kernel release",
        release_ok,
        match (sec.kernel_release, &expect.linux_source_version) {
            (None, _) => "no 'kernel release:' line in the log".into(),
            (Some(r), Some(v)) if release_ok => format!("{r} (linux-source {v})"),
            (Some(r), Some(v)) => format!(
                "{r} is not linux-source {v}'s version {}",
                upstream.unwrap_or(v)
            ),
            (Some(r), None) => format!("{r} (linux-source version not given)"),
        },
    );
    // What lockdep recorded for the class after each phase (/proc/lockdep):
    // the exact sequence for this mode and order (see `expected_usage`).
    let want = expected_usage(&spec.mode, &spec.order);
    let got = usage_sequence(&usage_by_phase);
    c.check(
        "lockdep usage by phase",
        usage_by_phase == want,
        if usage_by_phase == want {
            got
        } else {
            format!("{got} (expected {})", usage_sequence(&want))
        },
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
        // The chains say which paths lockdep watched take the lock, in either
        // order: the first process-context chain after the netlink phase, the
        // first softirq chain after the ARP phase, none in hard irq context.
        let phases: Vec<&str> = chains_by_phase.iter().map(|p| p.phase.as_str()).collect();
        let want_phases: Vec<String> = expected_usage(&spec.mode, &spec.order)
            .into_iter()
            .map(|p| p.phase)
            .collect();
        let only_known = chains_by_phase
            .iter()
            .flat_map(|p| p.chains.keys())
            .all(|ctx| ctx == "0" || ctx == "softirq");
        let chains_ok = phases == want_phases
            && first_chain_phase(&chains_by_phase, "0") == Some("netlink")
            && first_chain_phase(&chains_by_phase, "softirq") == Some("arp")
            && only_known;
        let got = chains_sequence(&chains_by_phase);
        c.check(
            "lock chains by phase",
            chains_ok,
            if chains_ok {
                got
            } else {
                format!(
                    "{got} (expected phases {}; the first irq_context 0 chain after netlink, \
                     the first softirq chain after arp, no other)",
                    want_phases.join(", ")
                )
            },
        );
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
            sec.debug_locks
                .map_or("no 'guest debug_locks:' line in the log".into(), |d| {
                    format!("debug_locks {d}")
                }),
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
        kernel_release: sec.kernel_release.map(Into::into),
        usage_by_phase,
        lockdep_usage: usage,
        chains_by_phase,
        stats,
        checks: c.0,
        passed,
        report,
    }
}

fn judge_spin(spec: &RunSpec, c: &mut Checker, report: Option<&Report>, n: usize, expect: &Expect) {
    let ils = report.filter(|r| r.kind == Kind::InconsistentLockState);
    c.check(
        "WARNING: inconsistent lock state",
        ils.is_some(),
        match (ils, report) {
            (Some(r), _) => format!("{} ({n} report(s))", r.banner),
            (None, Some(r)) => {
                format!("first report is '{}', not inconsistent lock state", r.title)
            }
            (None, None) => "no lockdep report in the kernel log".into(),
        },
    );
    let Some(r) = ils else {
        return;
    };
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
    let release = match &runs[..] {
        [first, rest @ ..]
            if rest
                .iter()
                .all(|r| r.kernel_release == first.kernel_release) =>
        {
            first.kernel_release.clone()
        }
        _ => None,
    };
    Ok(Verdict {
        schema_version: VERDICT_SCHEMA_VERSION,
        passed: !runs.is_empty() && runs.iter().all(|r| r.passed),
        kernel: KernelVersion {
            release,
            linux_source_version: expect.linux_source_version.clone(),
        },
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
        "fib-stat repro verdict: {}",
        if v.passed { "PASS" } else { "FAIL" }
    );
    let release = match &v.kernel.release {
        Some(r) => format!("{r} (uname -r in every guest)"),
        None => {
            let mut all: Vec<&str> = v
                .runs
                .iter()
                .map(|r| r.kernel_release.as_deref().unwrap_or("unknown"))
                .collect();
            all.sort_unstable();
            all.dedup();
            format!("uname -r not the same in every guest: {}", all.join(", "))
        }
    };
    let _ = writeln!(
        o,
        "kernel: {release}, Debian linux-source {}\n",
        v.kernel
            .linux_source_version
            .as_deref()
            .unwrap_or("unknown")
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
        let _ = writeln!(
            o,
            "     usage by phase  {}",
            usage_sequence(&r.usage_by_phase)
        );
        let _ = writeln!(
            o,
            "     chains by phase {}",
            chains_sequence(&r.chains_by_phase)
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
    use std::fmt::Write as _;

    use super::*;

    const SPLAT: &str = include_str!("../tests/fixtures/project-spin-netlink-then-arp.txt");
    const SPLAT_ARP_FIRST: &str =
        include_str!("../tests/fixtures/project-spin-arp-then-netlink.txt");
    const SPLAT_VETH: &str =
        include_str!("../tests/fixtures/project-spin-netlink-then-arp-veth.txt");
    const BH_LOADED: &str =
        "[    1.9] fib_stat: loaded, lock mode bh (spin_lock_bh: correct), netlink protocol 25\n";
    const PERCPU_LOADED: &str =
        "[    1.9] fib_stat: loaded, lock mode percpu (per-CPU statistics: \
                                 no shared lock on the softirq path), netlink protocol 25\n";
    const RELEASE: &str = "6.12.118-fib-stat";

    /// `(phase, usage, chains)` as the scenario prints them (measured in
    /// the guest): usage "" = the class is not in /proc/lockdep; chains:
    /// the chains holding the class by irq_context. In a spin run the
    /// splat turns lockdep off before the second side's chain is added.
    type Phases<'a> = &'a [(&'a str, &'a str, &'a str)];
    const SPIN_NETLINK_FIRST: Phases<'static> = &[
        ("loaded", "", ""),
        ("netlink", "+.+.", "0=1"),
        ("arp", "+.?.", "0=1"),
        ("show", "+.?.", "0=1"),
    ];
    const SPIN_ARP_FIRST: Phases<'static> = &[
        ("loaded", "", ""),
        ("arp", "+.-.", "softirq=1"),
        ("netlink", "+.?.", "softirq=1"),
        ("show", "+.?.", "softirq=1"),
    ];
    const BH_NETLINK_FIRST: Phases<'static> = &[
        ("loaded", "", ""),
        ("netlink", "+...", "0=1"),
        ("arp", "+.-.", "0=1 softirq=1"),
        ("show", "+.-.", "0=1 softirq=1"),
    ];
    const BH_ARP_FIRST: Phases<'static> = &[
        ("loaded", "", ""),
        ("arp", "+.-.", "softirq=1"),
        ("netlink", "+.-.", "softirq=1 0=1"),
        ("show", "+.-.", "softirq=1 0=1"),
    ];

    /// A vm-run log: the scenario's output, then the kernel log.
    #[derive(Clone)]
    struct Log<'a> {
        /// `lock_mode` of the statistics.
        mode: &'a str,
        /// The class the scenario's lockdep lines name.
        class: &'a str,
        kernel_log: &'a str,
        debug_locks: Option<u32>,
        gateway_records: u64,
        neigh_updates: u64,
        phases: Phases<'a>,
        release: Option<&'a str>,
        stats: bool,
    }

    impl Log<'_> {
        fn spin() -> Self {
            Log {
                mode: "spin",
                class: "fib_stat.lock",
                kernel_log: SPLAT,
                debug_locks: Some(0),
                gateway_records: 35,
                neigh_updates: 1,
                phases: SPIN_NETLINK_FIRST,
                release: Some(RELEASE),
                stats: true,
            }
        }

        fn bh() -> Self {
            Log {
                mode: "bh",
                kernel_log: BH_LOADED,
                debug_locks: Some(1),
                phases: BH_NETLINK_FIRST,
                ..Log::spin()
            }
        }

        fn percpu() -> Self {
            Log {
                mode: "percpu",
                class: PERCPU_CLASS,
                kernel_log: PERCPU_LOADED,
                ..Log::bh()
            }
        }

        fn text(&self) -> String {
            let mut t = String::new();
            if let Some(r) = self.release {
                let _ = writeln!(t, "kernel release: {r}");
            }
            let (last, phases) = self.phases.split_last().expect("phases");
            let phase = |t: &mut String, (name, usage, chains): &(&str, &str, &str)| {
                let line = if usage.is_empty() {
                    String::new()
                } else {
                    format!("(____ptrval____) FD:    1 BD:    1 {usage}: {}", self.class)
                };
                let _ = writeln!(t, "lockdep after {name}: {line}");
                let _ = writeln!(t, "lockdep chains after {name}: {chains} ");
            };
            for p in phases {
                if p.0 == "arp" {
                    t.push_str("Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n");
                }
                phase(&mut t, p);
            }
            if self.stats {
                let _ = write!(
                    t,
                    "=== fibstat show\n{{\n  \"lock_mode\": \"{}\",\n  \
                     \"version\": 1,\n  \"netns_inum\": 4026532121,\n  \"nl_requests\": 6,\n  \
                     \"gateway_records\": {},\n  \"neigh_updates\": {},\n  \"redirects\": 0,\n  \
                     \"last_gateway\": \"192.0.2.2\",\n  \"last_gateway_ifindex\": 0,\n  \
                     \"last_neigh\": \"192.0.2.2\",\n  \"last_neigh_ifindex\": 3,\n  \
                     \"last_update_ns\": 1\n}}\n=== end\n",
                    self.mode, self.gateway_records, self.neigh_updates
                );
            }
            phase(&mut t, last);
            let _ = write!(
                t,
                "----- guest kernel log -----\n{}----- end of guest kernel log -----\n",
                self.kernel_log
            );
            if let Some(d) = self.debug_locks {
                let _ = writeln!(t, "guest debug_locks:     {d}");
            }
            t
        }
    }

    fn spec(mode: &str) -> RunSpec {
        RunSpec::parse(&format!(
            "{mode}:netlink-then-arp:vmxnet3:netlink-first:0:/dev/null"
        ))
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn arp_first(mode: &str) -> RunSpec {
        RunSpec {
            scenario: "arp-then-netlink".into(),
            order: "arp-first".into(),
            ..spec(mode)
        }
    }

    /// The failed checks of a run: `(name, detail)`.
    fn failed(spec: &RunSpec, log: &Log<'_>, expect: &Expect) -> Vec<(String, String)> {
        judge(spec, &log.text(), expect, None)
            .checks
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| (c.name, c.detail))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|&(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    /// `failed(...)` must be exactly `want`.
    #[track_caller]
    fn assert_fails(spec: &RunSpec, log: &Log<'_>, want: &[(&str, &str)]) {
        assert_eq!(failed(spec, log, &Expect::default()), pairs(want));
    }

    /// The text with the first line containing `what` replaced by `with`
    /// (several lines allowed, "" removes it).
    fn edit_line(text: &str, what: &str, with: &str) -> String {
        let mut done = false;
        let mut out = String::new();
        for l in text.lines() {
            if !done && l.contains(what) {
                done = true;
                if !with.is_empty() {
                    out.push_str(with);
                    out.push('\n');
                }
            } else {
                out.push_str(l);
                out.push('\n');
            }
        }
        assert!(done, "no line with {what}");
        out
    }

    // ---- runs that pass

    #[test]
    fn spin_splat_passes() {
        let v = judge(&spec("spin"), &Log::spin().text(), &Expect::default(), None);
        assert!(v.checks.iter().all(|c| c.ok), "{:#?}", v.checks);
        assert!(v.passed);
        let names: Vec<&str> = v.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "guest ran the scenario",
                "module loaded in this lock mode",
                "kernel release",
                "lockdep usage by phase",
                "module reports its lock mode",
                "process-context path ran",
                "softirq path ran",
                "WARNING: inconsistent lock state",
                "usage transition",
                "lock class",
                "process side: fib_stat_rcv_proc takes the lock",
                "process side: fib_stat_rcv_proc <- netlink_rcv_skb <- nl_gateway_input",
                "softirq side: net_event_callback takes the lock",
                "softirq side: under arp_rcv",
                "softirq side: under the vmxnet3 NAPI poll",
                "nothing else went wrong",
            ]
        );
        assert_eq!(
            v.transition.as_deref(),
            Some("{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}")
        );
        assert_eq!(v.process_side_caller.as_deref(), Some("fib_stat_rcv_proc"));
        assert_eq!(v.irq_side_caller.as_deref(), Some("net_event_callback"));
        assert_eq!(v.kernel_release.as_deref(), Some(RELEASE));
        assert_eq!(v.lockdep_usage.as_deref(), Some("+.?."));
        assert_eq!(
            usage_sequence(&v.usage_by_phase),
            "loaded none, netlink +.+., arp +.?., show +.?."
        );
        let detail = |name: &str| {
            v.checks
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.detail.clone())
        };
        assert_eq!(
            detail("lockdep usage by phase").as_deref(),
            Some("loaded none, netlink +.+., arp +.?., show +.?.")
        );
        assert_eq!(
            detail("kernel release").as_deref(),
            Some("6.12.118-fib-stat (linux-source version not given)")
        );
    }

    #[test]
    fn spin_arp_first_and_veth_pass() {
        let log = Log {
            kernel_log: SPLAT_ARP_FIRST,
            phases: SPIN_ARP_FIRST,
            ..Log::spin()
        };
        let v = judge(&arp_first("spin"), &log.text(), &Expect::default(), None);
        assert!(v.passed, "{:#?}", v.checks);
        assert_eq!(
            v.transition.as_deref(),
            Some("{IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W}")
        );
        let veth = RunSpec {
            topology: "veth".into(),
            ..spec("spin")
        };
        let log = Log {
            kernel_log: SPLAT_VETH,
            ..Log::spin()
        };
        let v = judge(&veth, &log.text(), &Expect::default(), None);
        assert!(v.passed, "{:#?}", v.checks);
        assert!(!v
            .checks
            .iter()
            .any(|c| c.name == "softirq side: under the vmxnet3 NAPI poll"));
    }

    #[test]
    fn clean_bh_runs_pass() {
        assert_fails(&spec("bh"), &Log::bh(), &[]);
        let v = judge(&spec("bh"), &Log::bh().text(), &Expect::default(), None);
        let names: Vec<&str> = v.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "guest ran the scenario",
                "module loaded in this lock mode",
                "kernel release",
                "lockdep usage by phase",
                "module reports its lock mode",
                "process-context path ran",
                "softirq path ran",
                "lock chains by phase",
                "no kernel report",
                "lockdep still on",
            ]
        );
        assert_eq!(
            v.checks
                .iter()
                .find(|c| c.name == "lock chains by phase")
                .map(|c| c.detail.as_str()),
            Some("loaded none, netlink 0=1, arp 0=1 softirq=1, show 0=1 softirq=1")
        );
        let log = Log {
            phases: BH_ARP_FIRST,
            ..Log::bh()
        };
        assert_fails(&arp_first("bh"), &log, &[]);
    }

    /// The percpu build: its per-CPU seqcount's class, the bh sequence, clean.
    #[test]
    fn clean_percpu_runs_pass() {
        assert_fails(&spec("percpu"), &Log::percpu(), &[]);
        let log = Log {
            phases: BH_ARP_FIRST,
            ..Log::percpu()
        };
        assert_fails(&arp_first("percpu"), &log, &[]);
        // Judged by the shared lock's class, which a percpu build does not have: red.
        let v = judge(
            &spec("percpu"),
            &Log {
                class: "fib_stat.lock",
                ..Log::percpu()
            }
            .text(),
            &Expect::default(),
            None,
        );
        assert!(!v.passed);
        // A bh module loaded for a percpu run: red.
        let v = judge(&spec("percpu"), &Log::bh().text(), &Expect::default(), None);
        assert!(!v.passed);
    }

    #[test]
    fn expected_usage_sequences() {
        for (mode, order, want) in [
            (
                "bh",
                "netlink-first",
                "loaded none, netlink +..., arp +.-., show +.-.",
            ),
            (
                "spin",
                "netlink-first",
                "loaded none, netlink +.+., arp +.?., show +.?.",
            ),
            (
                "bh",
                "arp-first",
                "loaded none, arp +.-., netlink +.-., show +.-.",
            ),
            (
                "spin",
                "arp-first",
                "loaded none, arp +.-., netlink +.?., show +.?.",
            ),
        ] {
            assert_eq!(usage_sequence(&expected_usage(mode, order)), want);
        }
        assert_eq!(usage_sequence(&[]), "no phase read");
    }

    #[test]
    fn kernel_release_matches_linux_source() {
        let pkg = |v: &str| Expect {
            linux_source_version: Some(v.into()),
            ..Expect::default()
        };
        assert_eq!(upstream_version("6.12.118-1~deb12u1"), "6.12.118");
        assert_eq!(upstream_version("1:6.12.118-1"), "6.12.118");
        assert_eq!(upstream_version("6.12.118"), "6.12.118");
        let v = judge(
            &spec("bh"),
            &Log::bh().text(),
            &pkg("6.12.118-1~deb12u1"),
            None,
        );
        assert!(v.passed, "{:#?}", v.checks);
        assert_eq!(
            v.checks
                .iter()
                .find(|c| c.name == "kernel release")
                .map(|c| c.detail.as_str()),
            Some("6.12.118-fib-stat (linux-source 6.12.118-1~deb12u1)")
        );
        // Another source than the one the kernel was built from.
        assert_eq!(
            failed(&spec("bh"), &Log::bh(), &pkg("6.12.119-1~deb12u1")),
            pairs(&[(
                "kernel release",
                "6.12.118-fib-stat is not linux-source 6.12.119-1~deb12u1's version 6.12.119"
            )])
        );
        // 6.12.11 is a prefix of 6.12.118, not its version.
        assert_eq!(
            failed(&spec("bh"), &Log::bh(), &pkg("6.12.11-1")),
            pairs(&[(
                "kernel release",
                "6.12.118-fib-stat is not linux-source 6.12.11-1's version 6.12.11"
            )])
        );
    }

    #[test]
    fn verdict_names_the_kernel() {
        let dir = std::env::temp_dir().join(format!("fibstat-repro-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let put = |name: &str, log: &Log<'_>| {
            let p = dir.join(name);
            std::fs::write(&p, log.text()).expect("write log");
            p
        };
        let spin_log = put("spin.log", &Log::spin());
        let bh_log = put("bh.log", &Log::bh());
        let specs = [
            RunSpec {
                log: spin_log,
                ..spec("spin")
            },
            RunSpec {
                log: bh_log.clone(),
                ..spec("bh")
            },
        ];
        let expect = Expect {
            linux_source_version: Some("6.12.118-1~deb12u1".into()),
            ..Expect::default()
        };
        let v = judge_all(&specs, &expect).expect("no debug info asked for");
        assert!(v.passed);
        assert_eq!(v.kernel.release.as_deref(), Some(RELEASE));
        write(&v, &dir).expect("write the verdict");
        let text = std::fs::read_to_string(dir.join("report.txt")).expect("report.txt");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("fib-stat repro verdict: PASS"));
        assert_eq!(
            lines.next(),
            Some("kernel: 6.12.118-fib-stat (uname -r in every guest), Debian linux-source 6.12.118-1~deb12u1")
        );
        assert!(text.contains(
            "\n     usage by phase  loaded none, netlink +..., arp +.-., show +.-.\n     \
             chains by phase loaded none, netlink 0=1, arp 0=1 softirq=1, show 0=1 softirq=1\n"
        ));
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("report.json")).expect("report.json"),
        )
        .expect("report.json is JSON");
        assert_eq!(json["schema_version"], 3);
        assert_eq!(
            json["kernel"],
            serde_json::json!({"release": RELEASE, "linux_source_version": "6.12.118-1~deb12u1"})
        );
        assert_eq!(json["runs"][1]["kernel_release"], RELEASE);
        assert_eq!(
            json["runs"][1]["chains_by_phase"],
            serde_json::json!([
                {"phase": "loaded", "chains": {}},
                {"phase": "netlink", "chains": {"0": 1}},
                {"phase": "arp", "chains": {"0": 1, "softirq": 1}},
                {"phase": "show", "chains": {"0": 1, "softirq": 1}},
            ])
        );
        assert_eq!(
            json["runs"][1]["usage_by_phase"],
            serde_json::json!([
                {"phase": "loaded", "usage": null},
                {"phase": "netlink", "usage": "+..."},
                {"phase": "arp", "usage": "+.-."},
                {"phase": "show", "usage": "+.-."},
            ])
        );
        // Guests of two kernels: no single release, and the text says so.
        let other = put(
            "other.log",
            &Log {
                release: Some("6.12.117-fib-stat"),
                ..Log::bh()
            },
        );
        let specs = [
            RunSpec {
                log: bh_log,
                ..spec("bh")
            },
            RunSpec {
                log: other,
                ..spec("bh")
            },
        ];
        let v = judge_all(&specs, &Expect::default()).expect("no debug info asked for");
        assert_eq!(v.kernel.release, None);
        assert_eq!(
            render_text(&v).lines().nth(1),
            Some("kernel: uname -r not the same in every guest: 6.12.117-fib-stat, 6.12.118-fib-stat, Debian linux-source unknown")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // ---- every check fails, with its reason

    #[test]
    fn fails_guest_did_not_finish() {
        let status = RunSpec {
            vm_status: 124,
            ..spec("bh")
        };
        assert_fails(
            &status,
            &Log::bh(),
            &[("guest ran the scenario", "vm-run exit status 124")],
        );
    }

    #[test]
    fn fails_module_not_loaded_in_this_mode() {
        let log = Log {
            kernel_log: "[ 1.8] fib_stat: loaded, lock mode spin (x)\n",
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[(
                "module loaded in this lock mode",
                "no 'fib_stat: loaded, lock mode bh' in the kernel log",
            )],
        );
    }

    #[test]
    fn fails_without_kernel_release() {
        let log = Log {
            release: None,
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[("kernel release", "no 'kernel release:' line in the log")],
        );
    }

    #[test]
    fn fails_bh_netlink_path_without_lock() {
        // A bh build whose netlink path takes no lock. Netlink first: no
        // class after the netlink phase (the old end-of-run `+.-.` would
        // have passed it), and no process-context chain.
        let log = Log {
            phases: &[
                ("loaded", "", ""),
                ("netlink", "", ""),
                ("arp", "+.-.", "softirq=1"),
                ("show", "+.-.", "softirq=1"),
            ],
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[
                (
                    "lockdep usage by phase",
                    "loaded none, netlink none, arp +.-., show +.-. \
                     (expected loaded none, netlink +..., arp +.-., show +.-.)",
                ),
                (
                    "lock chains by phase",
                    "loaded none, netlink none, arp softirq=1, show softirq=1 \
                     (expected phases loaded, netlink, arp, show; the first irq_context 0 \
                     chain after netlink, the first softirq chain after arp, no other)",
                ),
            ],
        );
        // ARP first: the usage is `+.-.` either way, only the chains tell.
        let log = Log {
            phases: &[
                ("loaded", "", ""),
                ("arp", "+.-.", "softirq=1"),
                ("netlink", "+.-.", "softirq=1"),
                ("show", "+.-.", "softirq=1"),
            ],
            ..Log::bh()
        };
        assert_fails(
            &arp_first("bh"),
            &log,
            &[(
                "lock chains by phase",
                "loaded none, arp softirq=1, netlink softirq=1, show softirq=1 \
                 (expected phases loaded, arp, netlink, show; the first irq_context 0 \
                 chain after netlink, the first softirq chain after arp, no other)",
            )],
        );
    }

    #[test]
    fn fails_bh_process_usage_only() {
        // `+...` only: the softirq path never took the lock under lockdep.
        let log = Log {
            phases: &[
                ("loaded", "", ""),
                ("netlink", "+...", "0=1"),
                ("arp", "+...", "0=1"),
                ("show", "+...", "0=1"),
            ],
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[
                (
                    "lockdep usage by phase",
                    "loaded none, netlink +..., arp +..., show +... \
                     (expected loaded none, netlink +..., arp +.-., show +.-.)",
                ),
                (
                    "lock chains by phase",
                    "loaded none, netlink 0=1, arp 0=1, show 0=1 \
                     (expected phases loaded, netlink, arp, show; the first irq_context 0 \
                     chain after netlink, the first softirq chain after arp, no other)",
                ),
            ],
        );
    }

    #[test]
    fn fails_wrong_usage_sequence() {
        let fail = |spec: &RunSpec, phases: Phases<'_>, base: Log<'_>| {
            failed(spec, &Log { phases, ..base }, &Expect::default())
        };
        // A bh process side taken with softirqs on (`+.+.`), as spin's; the
        // chains as a bh run's.
        assert_eq!(
            fail(
                &spec("bh"),
                &[
                    ("loaded", "", ""),
                    ("netlink", "+.+.", "0=1"),
                    ("arp", "+.?.", "0=1 softirq=1"),
                    ("show", "+.?.", "0=1 softirq=1"),
                ],
                Log::bh()
            ),
            pairs(&[(
                "lockdep usage by phase",
                "loaded none, netlink +.+., arp +.?., show +.?. \
                 (expected loaded none, netlink +..., arp +.-., show +.-.)"
            )])
        );
        // The usage of a bh run in a spin run (the chains are not checked
        // there: the splat shows both sides).
        assert_eq!(
            fail(&spec("spin"), BH_NETLINK_FIRST, Log::spin()),
            pairs(&[(
                "lockdep usage by phase",
                "loaded none, netlink +..., arp +.-., show +.-. \
                 (expected loaded none, netlink +.+., arp +.?., show +.?.)"
            )])
        );
        // The class used before the scenario: `+...` after netlink proves nothing.
        assert_eq!(
            fail(
                &spec("bh"),
                &[
                    ("loaded", "+...", "0=1"),
                    ("netlink", "+...", "0=1"),
                    ("arp", "+.-.", "0=1 softirq=1"),
                    ("show", "+.-.", "0=1 softirq=1"),
                ],
                Log::bh()
            ),
            pairs(&[
                (
                    "lockdep usage by phase",
                    "loaded +..., netlink +..., arp +.-., show +.-. \
                     (expected loaded none, netlink +..., arp +.-., show +.-.)"
                ),
                (
                    "lock chains by phase",
                    "loaded 0=1, netlink 0=1, arp 0=1 softirq=1, show 0=1 softirq=1 \
                     (expected phases loaded, netlink, arp, show; the first irq_context 0 \
                     chain after netlink, the first softirq chain after arp, no other)"
                ),
            ])
        );
        // Only the end-of-run reading.
        assert_eq!(
            fail(&spec("spin"), &[("show", "+.?.", "0=1")], Log::spin()),
            pairs(&[(
                "lockdep usage by phase",
                "show +.?. (expected loaded none, netlink +.+., arp +.?., show +.?.)"
            )])
        );
        // Another class's line (or garbage) is kept and matches nothing.
        let wrong_class = Expect {
            lock_class: "other.lock".into(),
            ..Expect::default()
        };
        let got = failed(&spec("bh"), &Log::bh(), &wrong_class);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "lockdep usage by phase");
        assert!(got[0].1.starts_with(
            "loaded none, netlink (____ptrval____) FD:    1 BD:    1 +...: fib_stat.lock, "
        ));
    }

    #[test]
    fn fails_wrong_chains() {
        let fail = |spec: &RunSpec, phases: Phases<'_>| {
            failed(
                spec,
                &Log {
                    phases,
                    ..Log::bh()
                },
                &Expect::default(),
            )
        };
        let expected = "(expected phases loaded, netlink, arp, show; the first irq_context 0 \
                        chain after netlink, the first softirq chain after arp, no other)";
        // No chains printed at all (a scenario of before).
        let no_chains = Log::bh().text().replace("lockdep chains after", "x");
        let v = judge(&spec("bh"), &no_chains, &Expect::default(), None);
        let bad: Vec<(&str, &str)> = v
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| (c.name.as_str(), c.detail.as_str()))
            .collect();
        assert_eq!(
            bad,
            [(
                "lock chains by phase",
                format!("no phase read {expected}").as_str()
            )]
        );
        // A chain in hard irq context.
        assert_eq!(
            fail(
                &spec("bh"),
                &[
                    ("loaded", "", ""),
                    ("netlink", "+...", "0=1"),
                    ("arp", "+.-.", "0=1 softirq=1 hardirq=1"),
                    ("show", "+.-.", "0=1 softirq=1 hardirq=1"),
                ]
            ),
            pairs(&[(
                "lock chains by phase",
                &format!(
                    "loaded none, netlink 0=1, arp 0=1 hardirq=1 softirq=1, \
                     show 0=1 hardirq=1 softirq=1 {expected}"
                )
            )])
        );
        // The softirq chain only after the show phase.
        assert_eq!(
            fail(
                &spec("bh"),
                &[
                    ("loaded", "", ""),
                    ("netlink", "+...", "0=1"),
                    ("arp", "+.-.", "0=1"),
                    ("show", "+.-.", "0=1 softirq=1"),
                ]
            ),
            pairs(&[(
                "lock chains by phase",
                &format!("loaded none, netlink 0=1, arp 0=1, show 0=1 softirq=1 {expected}")
            )])
        );
        // Counts that do not parse show no chain.
        assert_eq!(
            fail(
                &spec("bh"),
                &[
                    ("loaded", "", ""),
                    ("netlink", "+...", "0=x"),
                    ("arp", "+.-.", "0=x softirq=1"),
                    ("show", "+.-.", "0=x softirq=1"),
                ]
            ),
            pairs(&[(
                "lock chains by phase",
                &format!("loaded none, netlink none, arp softirq=1, show softirq=1 {expected}")
            )])
        );
    }

    #[test]
    fn fails_module_reports_another_mode() {
        let log = Log {
            mode: "spin",
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[("module reports its lock mode", "lock_mode spin")],
        );
    }

    #[test]
    fn fails_lost_record() {
        let log = Log {
            gateway_records: 28,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[("process-context path ran", "gateway_records 28 (sent 35)")],
        );
    }

    #[test]
    fn fails_no_neighbour_update() {
        let log = Log {
            neigh_updates: 0,
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[("softirq path ran", "neigh_updates 0")],
        );
    }

    #[test]
    fn fails_without_statistics() {
        let log = Log {
            stats: false,
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &log,
            &[(
                "statistics read back",
                "no `fibstat show -j` output in the log",
            )],
        );
    }

    #[test]
    fn fails_spin_without_report() {
        let quiet = Log {
            kernel_log: "[ 1.8] fib_stat: loaded, lock mode spin (x)\n",
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &quiet,
            &[
                (
                    "WARNING: inconsistent lock state",
                    "no lockdep report in the kernel log",
                ),
                ("nothing else went wrong", "0 kernel report(s)"),
            ],
        );
        let oops = "[ 1.8] fib_stat: loaded, lock mode spin (x)\n\
                    [ 3.0] BUG: unable to handle page fault for address: 0000000000001000\n";
        let other = Log {
            kernel_log: oops,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &other,
            &[(
                "WARNING: inconsistent lock state",
                "first report is 'BUG: unable to handle kernel paging request', \
                 not inconsistent lock state",
            )],
        );
    }

    #[test]
    fn fails_wrong_transition() {
        // The seed's order's report in an arp-first run.
        let log = Log {
            phases: SPIN_ARP_FIRST,
            ..Log::spin()
        };
        assert_fails(
            &arp_first("spin"),
            &log,
            &[(
                "usage transition",
                "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} (expected {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W})",
            )],
        );
    }

    #[test]
    fn fails_other_lock_class() {
        let splat = SPLAT.replace("(fib_stat.lock)", "(other.lock)");
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[("lock class", "other.lock (expected fib_stat.lock)")],
        );
    }

    #[test]
    fn fails_other_process_side_caller() {
        // A frame between the lock call and fib_stat_rcv_proc: the chain
        // below is intact, the caller is not the module's handler.
        let splat = edit_line(
            SPLAT,
            "  fib_stat_rcv_proc+",
            "[    2.786508]   fib_stat_helper+0x10/0x20 [fib_stat]\n\
             [    2.786508]   fib_stat_rcv_proc+0x33d/0x6e0 [fib_stat]",
        );
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "process side: fib_stat_rcv_proc takes the lock",
                "first caller fib_stat_helper",
            )],
        );
    }

    #[test]
    fn fails_process_side_not_under_netlink() {
        let splat = edit_line(SPLAT, "  nl_gateway_input+", "");
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "process side: fib_stat_rcv_proc <- netlink_rcv_skb <- nl_gateway_input",
                "frames missing or out of order",
            )],
        );
    }

    #[test]
    fn fails_other_softirq_side_caller() {
        let splat = edit_line(
            SPLAT,
            " net_event_callback+",
            "[    2.789719]  fib_stat_helper+0x10/0x20 [fib_stat]\n\
             [    2.789719]  net_event_callback+0x1ed/0x240 [fib_stat]",
        );
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "softirq side: net_event_callback takes the lock",
                "first caller fib_stat_helper",
            )],
        );
    }

    #[test]
    fn fails_without_arp_rcv_frame() {
        let splat = edit_line(SPLAT, " arp_rcv+", "");
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[
                (
                    "softirq side: under arp_rcv",
                    "arp_rcv not below net_event_callback",
                ),
                (
                    "softirq side: under the vmxnet3 NAPI poll",
                    "no vmxnet3_poll* frame below arp_rcv",
                ),
            ],
        );
    }

    #[test]
    fn fails_renamed_napi_poll_frame() {
        let splat = SPLAT.replace("vmxnet3_poll_rx_only+", "virtnet_poll+");
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "softirq side: under the vmxnet3 NAPI poll",
                "no vmxnet3_poll* frame below arp_rcv",
            )],
        );
    }

    #[test]
    fn fails_swapped_stacks() {
        // The registration stack and the current one swapped: the softirq
        // stack registered SOFTIRQ-ON-W, the netlink stack took it in softirq.
        let lines: Vec<&str> = SPLAT.lines().collect();
        let find = |what: &str| {
            lines
                .iter()
                .position(|l| l.contains(what))
                .unwrap_or_else(|| panic!("no {what}"))
        };
        let (reg, reg_end) = (
            find("state was registered at:") + 1,
            find("irq event stamp"),
        );
        let (cur, cur_end) = (find("Call Trace:") + 1, find("RIP: 0033"));
        let swapped: Vec<&str> = [
            &lines[..reg],
            &lines[cur..cur_end],
            &lines[reg_end..cur],
            &lines[reg..reg_end],
            &lines[cur_end..],
        ]
        .concat();
        let splat = swapped.join("\n") + "\n";
        let log = Log {
            kernel_log: &splat,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[
                (
                    "process side: fib_stat_rcv_proc takes the lock",
                    "first caller none",
                ),
                (
                    "process side: fib_stat_rcv_proc <- netlink_rcv_skb <- nl_gateway_input",
                    "frames missing or out of order",
                ),
                (
                    "softirq side: net_event_callback takes the lock",
                    "first caller fib_stat_rcv_proc",
                ),
                (
                    "softirq side: under arp_rcv",
                    "arp_rcv not below net_event_callback",
                ),
                (
                    "softirq side: under the vmxnet3 NAPI poll",
                    "no vmxnet3_poll* frame below arp_rcv",
                ),
            ],
        );
    }

    #[test]
    fn fails_without_source_lines() {
        // Debug info asked for, but the frames got no source line.
        let expect = Expect {
            vmlinux: Some("/nonexistent/vmlinux".into()),
            ..Expect::default()
        };
        assert_eq!(
            failed(&spec("spin"), &Log::spin(), &expect),
            pairs(&[
                ("process side: source line in fib_stat.rs", "none"),
                ("softirq side: source line in fib_stat.rs", "none"),
            ])
        );
    }

    #[test]
    fn fails_second_report() {
        let twice = format!(
            "{SPLAT}{}",
            &SPLAT[SPLAT.find("\n[").expect("two lines") + 1..]
        );
        let log = Log {
            kernel_log: &twice,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "nothing else went wrong",
                "also line 115: inconsistent lock state in net_event_callback",
            )],
        );
        let spin_oops = format!("{SPLAT}[ 3.0] BUG: unable to handle page fault\n");
        let log = Log {
            kernel_log: &spin_oops,
            ..Log::spin()
        };
        assert_fails(
            &spec("spin"),
            &log,
            &[(
                "nothing else went wrong",
                "also line 113: BUG: unable to handle kernel paging request",
            )],
        );
    }

    #[test]
    fn fails_bh_with_any_report() {
        // Any kernel report fails a bh run, whatever its kind.
        for (extra, title) in [
            (
                "[ 3.0] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI\n",
                "general protection fault",
            ),
            (
                "[ 3.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:10 dev_x+0x1/0x2\n",
                "WARNING in dev_x",
            ),
            (
                "[ 3.0] BUG: KASAN: slab-use-after-free in fib_stat_rcv_proc+0x1/0x2 [fib_stat]\n",
                "KASAN: slab-use-after-free in fib_stat_rcv_proc+0x1/0x2 [fib_stat]",
            ),
            (
                "[ 3.0] unreferenced object 0xffff888003dd7da8 (size 64):\n",
                "memory leak",
            ),
            (
                "[ 3.0] UBSAN: shift-out-of-bounds in fib_stat.rs:12:5\n",
                "UBSAN: shift-out-of-bounds",
            ),
        ] {
            let log = format!("{BH_LOADED}{extra}");
            let bh_oops = Log {
                kernel_log: &log,
                ..Log::bh()
            };
            assert_fails(
                &spec("bh"),
                &bh_oops,
                &[(
                    "no kernel report",
                    &format!("1 report(s), first at line 2: {title}"),
                )],
            );
        }
        // The spin splat judged as a bh run.
        let splat_as_bh = Log {
            mode: "bh",
            phases: BH_NETLINK_FIRST,
            ..Log::spin()
        };
        assert_fails(
            &spec("bh"),
            &splat_as_bh,
            &[
                (
                    "module loaded in this lock mode",
                    "no 'fib_stat: loaded, lock mode bh' in the kernel log",
                ),
                (
                    "no kernel report",
                    "1 report(s), first at line 4: inconsistent lock state in net_event_callback",
                ),
                ("lockdep still on", "debug_locks 0"),
            ],
        );
    }

    #[test]
    fn fails_bh_with_lockdep_off() {
        let off = Log {
            debug_locks: Some(0),
            ..Log::bh()
        };
        assert_fails(&spec("bh"), &off, &[("lockdep still on", "debug_locks 0")]);
        let unknown = Log {
            debug_locks: None,
            ..Log::bh()
        };
        assert_fails(
            &spec("bh"),
            &unknown,
            &[(
                "lockdep still on",
                "no 'guest debug_locks:' line in the log",
            )],
        );
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
