// SPDX-License-Identifier: GPL-2.0

//! fib_stat: per-network-namespace FIB statistics over netlink.
//!
//! Every network namespace gets a [`NetState`]: statistics behind one [`ContextLock`] (or, with
//! `percpu`, per-CPU copies) and a kernel netlink socket (protocol
//! [`protocol::NETLINK_FIB_STAT`], or `nl_proto`). Three contexts update them, each in its own
//! frame, with the primitive named in its source:
//!
//! - process context: netlink requests, [`fib_stat_rcv_proc`], with the build's lock mode
//!   (`FIB_STAT_LOCK=spin|bh|irq|irqsave|percpu`);
//! - softirq context: neighbour updates and redirects, [`net_event_callback`];
//! - hard interrupt context: the `hardirq_tick_ms` tick, [`fib_stat_hardirq_tick`].
//!
//! `spin` reproduces lockdep's `{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}` report; the other modes are
//! correct (`bh` only without the tick). The design (lock modes, counting rules, the softirq
//! path, where the `unsafe` code is) is in [`docs/design.md`](docs/design.md); the
//! abstractions are in `rust/kernel/` (module `kernel_next`).

use core::net::IpAddr;
use kernel::{ffi::c_int, prelude::*};

#[cfg(CONFIG_FIB_STAT_KUNIT_TEST)]
mod fib_stat_kunit;
#[path = "rust/kernel/mod.rs"]
mod kernel_next;
// Shared verbatim with the host tests (`tools/fibstat/tests/parse_props.rs`), where it is `pub`.
#[allow(unreachable_pub)]
mod parse;
// Shared verbatim with the userspace tool, where its constants are `pub`.
#[allow(unreachable_pub)]
mod protocol;

#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
use kernel_next::irq_work::{hardirq_tick_callback, impl_has_hardirq_tick, HardIrqTick};
#[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
use kernel_next::sync::lock::context::{new_context_lock, ContextLock};
use kernel_next::{
    module_param::module_param_int,
    net::{
        namespace::Net,
        netevent::{self, netevent_callback, NetEvent},
        netlink::{self, netlink_input, Request},
        pernet::{self, pernet_subsys},
    },
    sync::rcu,
    time as clock,
};
use parse::{Command, ErrAttr, Errno};
#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
use {
    core::sync::atomic::{AtomicU64, Ordering},
    kernel::sync::SpinLock,
    kernel_next::percpu::stats::{new_percpu_stats, PerCpuStats},
};

// The shared parser spells out the attribute header size and flags (it cannot see the bindings).
const _: () = {
    assert!(parse::NLA_HDRLEN == netlink::NLA_HDRLEN);
    assert!(parse::NLA_F_NESTED as u32 == kernel::bindings::NLA_F_NESTED);
    assert!(parse::NLA_F_NET_BYTEORDER as u32 == kernel::bindings::NLA_F_NET_BYTEORDER);
};

module! {
    type: FibStat,
    name: "fib_stat",
    author: "fib-stat project",
    description: "Per-netns FIB statistics over netlink (lockdep spin vs spin_lock_bh demo)",
    license: "GPL",
}

module_param_int! {
    /// Netlink protocol number of the fib_stat kernel sockets. The numbers code of the kernel
    /// tree registers are refused; that no other out-of-tree module uses it cannot be checked,
    /// and is the promise `NetData::netlink` makes (`rust/kernel/net/netlink.rs`).
    static NL_PROTO: "nl_proto" = protocol::NETLINK_FIB_STAT, perm: 0o444,
        desc: "netlink protocol number: 23-29 or 31, the ones no kernel code registers (default 25)";
}

#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
module_param_int! {
    /// Period of the hard interrupt tick in ms; 0: off.
    static HARDIRQ_TICK_MS: "hardirq_tick_ms" = 0, perm: 0o444,
        desc: "hard interrupt tick period in ms, counted in hardirq_ticks (0, the default: off)";
}

#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
module_param_int! {
    /// Delay of the first hard interrupt tick in ms (0: one period).
    static HARDIRQ_TICK_DELAY_MS: "hardirq_tick_delay_ms" = 0, perm: 0o444,
        desc: "delay of the first hard interrupt tick after the namespace's state is set up, in \
               ms (0, the default: one period); orders the contexts in the lock matrix";
}

#[cfg(any(
    all(CONFIG_FIB_STAT_LOCK_SPIN, CONFIG_FIB_STAT_LOCK_BH),
    all(CONFIG_FIB_STAT_LOCK_SPIN, CONFIG_FIB_STAT_LOCK_IRQ),
    all(CONFIG_FIB_STAT_LOCK_SPIN, CONFIG_FIB_STAT_LOCK_IRQSAVE),
    all(CONFIG_FIB_STAT_LOCK_BH, CONFIG_FIB_STAT_LOCK_IRQ),
    all(CONFIG_FIB_STAT_LOCK_BH, CONFIG_FIB_STAT_LOCK_IRQSAVE),
    all(CONFIG_FIB_STAT_LOCK_IRQ, CONFIG_FIB_STAT_LOCK_IRQSAVE),
    all(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_LOCK_SPIN),
    all(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_LOCK_BH),
    all(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_LOCK_IRQ),
    all(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_LOCK_IRQSAVE),
))]
compile_error!("the CONFIG_FIB_STAT_LOCK_* options are mutually exclusive");
#[cfg(not(any(
    CONFIG_FIB_STAT_LOCK_SPIN,
    CONFIG_FIB_STAT_LOCK_BH,
    CONFIG_FIB_STAT_LOCK_IRQ,
    CONFIG_FIB_STAT_LOCK_IRQSAVE,
    CONFIG_FIB_STAT_LOCK_PERCPU
)))]
compile_error!("set one CONFIG_FIB_STAT_LOCK_* (FIB_STAT_LOCK=spin|bh|irq|irqsave|percpu)");
#[cfg(all(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_SOFTIRQ_IRQSAVE))]
compile_error!("FIB_STAT_SOFTIRQ_LOCK=irqsave needs a lock: the percpu notifier takes none");
#[cfg(all(CONFIG_FIB_STAT_HARDIRQ_TICK, CONFIG_PREEMPT_RT))]
compile_error!(
    "the hard interrupt tick takes a spinlock_t in hard interrupt context, which PREEMPT_RT \
     forbids (spinlock_t is a sleeping rt_mutex there): build without it (FIB_STAT_HARDIRQ=n)"
);

/// The lock mode this module was built with.
struct LockMode {
    /// Its number in the protocol (`ATTR_LOCK_MODE`).
    wire: u8,
    /// Its name (`FIB_STAT_LOCK`).
    name: &'static str,
    /// What it does, for the load message.
    what: &'static str,
}

/// The process side's primitive: plain `spin_lock()` (buggy, reproduces the lockdep report).
#[cfg(CONFIG_FIB_STAT_LOCK_SPIN)]
type ProcessLock = kernel::sync::lock::spinlock::SpinLockBackend;
#[cfg(CONFIG_FIB_STAT_LOCK_SPIN)]
const LOCK_MODE: LockMode = LockMode {
    wire: protocol::LOCK_SPIN,
    name: "spin",
    what: "spin_lock: reproduces the lockdep warning",
};

/// The process side's primitive: `spin_lock_bh()` (correct without the hard interrupt tick).
#[cfg(CONFIG_FIB_STAT_LOCK_BH)]
type ProcessLock = kernel_next::sync::lock::spinlock_bh::SpinLockBhBackend;
#[cfg(CONFIG_FIB_STAT_LOCK_BH)]
const LOCK_MODE: LockMode = LockMode {
    wire: protocol::LOCK_BH,
    name: "bh",
    what: "spin_lock_bh: correct",
};

/// The process side's primitive: `spin_lock_irq()` (correct, also with the hard interrupt tick).
#[cfg(CONFIG_FIB_STAT_LOCK_IRQ)]
type ProcessLock = kernel_next::sync::lock::spinlock_irq::SpinLockIrqBackend;
#[cfg(CONFIG_FIB_STAT_LOCK_IRQ)]
const LOCK_MODE: LockMode = LockMode {
    wire: protocol::LOCK_IRQ,
    name: "irq",
    what: "spin_lock_irq: correct, also against hard interrupts",
};

/// The process side's primitive: `spin_lock_irqsave()` (correct in every context).
#[cfg(CONFIG_FIB_STAT_LOCK_IRQSAVE)]
type ProcessLock = kernel_next::sync::lock::spinlock_irqsave::SpinLockIrqSaveBackend;
#[cfg(CONFIG_FIB_STAT_LOCK_IRQSAVE)]
const LOCK_MODE: LockMode = LockMode {
    wire: protocol::LOCK_IRQSAVE,
    name: "irqsave",
    what: "spin_lock_irqsave: correct in every context",
};

/// No shared lock: per-CPU statistics (see [`PcpuStats`]).
#[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
const LOCK_MODE: LockMode = LockMode {
    wire: protocol::LOCK_PERCPU,
    name: "percpu",
    what: "per-CPU statistics: no shared lock on the softirq path",
};

/// The notifier's primitive: the process side's (see the module documentation)...
#[cfg(not(any(CONFIG_FIB_STAT_SOFTIRQ_IRQSAVE, CONFIG_FIB_STAT_LOCK_PERCPU)))]
type SoftirqLock = ProcessLock;
/// ... or `spin_lock_irqsave()` (`FIB_STAT_SOFTIRQ_LOCK=irqsave`, a lock-matrix cell).
#[cfg(CONFIG_FIB_STAT_SOFTIRQ_IRQSAVE)]
type SoftirqLock = kernel_next::sync::lock::spinlock_irqsave::SpinLockIrqSaveBackend;

/// The hard interrupt side's primitive: plain `spin_lock()`, hard interrupts being disabled.
#[cfg(all(CONFIG_FIB_STAT_HARDIRQ_TICK, not(CONFIG_FIB_STAT_LOCK_PERCPU)))]
type HardIrqLock = kernel::sync::lock::spinlock::SpinLockBackend;

/// The statistics lock: one `spinlock_t`, taken with [`ProcessLock`] by default.
#[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
type StatsLock<T> = ContextLock<T, ProcessLock>;

/// The namespace's statistics: behind the lock...
#[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
type NetStats = StatsLock<Stats>;
/// ... or per CPU.
#[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
type NetStats = PcpuStats;

/// The statistics' initialiser: one lock class for every namespace (the macro expands to one
/// static class).
#[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
fn new_stats() -> impl PinInit<NetStats> {
    new_context_lock!(Stats::default(), "fib_stat.lock")
}

/// The statistics of one network namespace.
#[derive(Clone, Copy, Default)]
struct Stats {
    nl_requests: u64,
    gw_records: u64,
    neigh_updates: u64,
    redirects: u64,
    /// Hard interrupt ticks counted (`hardirq_tick_ms`).
    hardirq_ticks: u64,
    /// Last gateway recorded and its ifindex.
    last_gateway: Option<(IpAddr, u32)>,
    /// Last neighbour updated and its ifindex.
    last_neigh: Option<(IpAddr, u32)>,
    /// `CLOCK_REALTIME` of the last update in ns, 0 if none.
    last_update_ns: u64,
}

/// The update rules (see the module documentation), applied under the lock. `now` reads the
/// clock: called under the lock, only when something is counted.
impl Stats {
    /// Counts a request that reached the handler, valid or not.
    fn count_request(&mut self) {
        self.nl_requests = self.nl_requests.wrapping_add(1);
    }

    /// Applies a valid request (counted already); returns the snapshot a GET replies with.
    fn apply(&mut self, command: Command, now: impl FnOnce() -> u64) -> Option<Stats> {
        match command {
            Command::Get => Some(*self),
            Command::Record {
                gateway,
                ifindex,
                count,
            } => {
                self.gw_records = self.gw_records.wrapping_add(u64::from(count));
                self.last_gateway = Some((gateway, ifindex));
                self.last_update_ns = now();
                None
            }
            Command::Reset => {
                *self = Stats {
                    nl_requests: 1,
                    ..Stats::default()
                };
                None
            }
        }
    }

    /// Counts a neighbour update; `last` is its address and ifindex, if it has an IP address.
    fn count_neigh_update(&mut self, last: Option<(IpAddr, u32)>, now: impl FnOnce() -> u64) {
        self.neigh_updates = self.neigh_updates.wrapping_add(1);
        if last.is_some() {
            self.last_neigh = last;
        }
        self.last_update_ns = now();
    }

    /// Counts a redirect.
    fn count_redirect(&mut self, now: impl FnOnce() -> u64) {
        self.redirects = self.redirects.wrapping_add(1);
        self.last_update_ns = now();
    }

    /// Counts a hard interrupt tick (not an update: `last_update_ns` stays).
    #[cfg(all(CONFIG_FIB_STAT_HARDIRQ_TICK, not(CONFIG_FIB_STAT_LOCK_PERCPU)))]
    fn count_hardirq_tick(&mut self) {
        self.hardirq_ticks = self.hardirq_ticks.wrapping_add(1);
    }
}

/// One CPU's statistics in percpu mode, and the RESET generation they belong to.
#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
#[derive(Clone, Copy, Default)]
struct CpuStats {
    /// The generation (RESETs done) these statistics were counted in.
    generation: u64,
    stats: Stats,
    /// When this CPU set `stats.last_gateway` and `stats.last_neigh`: the sum takes the latest.
    gateway_ns: u64,
    neigh_ns: u64,
}

#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
impl CpuStats {
    /// Moves this copy to `generation` if it belongs to an older one: it starts from zero.
    fn enter(&mut self, generation: u64) {
        if self.generation < generation {
            *self = CpuStats {
                generation,
                ..CpuStats::default()
            };
        }
    }

    /// Adds `copy` to this sum: counters add up, `last_update_ns` is the maximum, the last
    /// gateway and neighbour are those set last.
    fn add(&mut self, copy: &CpuStats) {
        let (s, c) = (&mut self.stats, &copy.stats);
        s.nl_requests = s.nl_requests.wrapping_add(c.nl_requests);
        s.gw_records = s.gw_records.wrapping_add(c.gw_records);
        s.neigh_updates = s.neigh_updates.wrapping_add(c.neigh_updates);
        s.redirects = s.redirects.wrapping_add(c.redirects);
        s.last_update_ns = s.last_update_ns.max(c.last_update_ns);
        if c.last_gateway.is_some()
            && (s.last_gateway.is_none() || copy.gateway_ns > self.gateway_ns)
        {
            s.last_gateway = c.last_gateway;
            self.gateway_ns = copy.gateway_ns;
        }
        if c.last_neigh.is_some() && (s.last_neigh.is_none() || copy.neigh_ns > self.neigh_ns) {
            s.last_neigh = c.last_neigh;
            self.neigh_ns = copy.neigh_ns;
        }
    }
}

/// The statistics of one namespace in percpu mode (`FIB_STAT_LOCK=percpu`): no shared lock on
/// the update paths.
///
/// - Every update (a request's count, a RECORD, a neighbour update, a redirect) changes the
///   local CPU's copy only, with bottom halves disabled, inside the copy's seqcount write
///   section ([`PerCpuStats::update`]), the networking stack's per-CPU statistics pattern.
/// - GET sums the copies of every possible CPU (an offline CPU keeps what it counted) that
///   belong to the current generation; `last_update_ns` is their maximum.
/// - RESET does not touch the copies: under `reset`, it starts a new generation. A copy of an
///   older generation counts as zero in every sum from then on, and its CPU's next update
///   starts it from zero in the new generation (inside its write section, where it reads the
///   generation).
///
/// Why RESET is exact: every update changes one copy inside one write section and is tagged,
/// in that section, with the generation it read there; it is thus counted entirely in that
/// generation, or not at all, never in part, and never twice. RESET never writes a copy, so it
/// cannot lose a concurrent update (zeroing another CPU's counters would race with its
/// `+=`). An update concurrent with a RESET reads either generation: if the old one, it is
/// ordered before the RESET and wiped; if the new one, after it and counted; either order is
/// one a concurrent request may take. GET and RESET take `reset`, so a GET never sums across
/// a generation change: it sees the generation fixed, and every copy either in it (counted,
/// read whole under its seqcount) or older (zero). Updates never take `reset`: the softirq path
/// stays lock-free. The tick, in hard interrupt context, counts in an atomic counter, which
/// RESET zeroes with one atomic store: each tick's increment is before or after it.
#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
#[pin_data]
struct PcpuStats {
    /// RESETs done; written under `reset` only.
    generation: AtomicU64,
    /// Taken by GET and RESET (process context only), never by an update.
    #[pin]
    reset: SpinLock<()>,
    cpus: PerCpuStats<CpuStats>,
    /// Hard interrupt ticks: the per-CPU copies are written with hard interrupts enabled, so the
    /// tick cannot write them.
    hardirq_ticks: AtomicU64,
}

#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
impl PcpuStats {
    /// Updates the local CPU's copy in the current generation with `f`.
    #[inline(always)]
    fn update(&self, f: impl FnOnce(&mut CpuStats)) {
        // `None` (the copy's write section already open) cannot happen: updates run in process
        // and softirq context only, and `f` does not update.
        let _ = self.cpus.update(|copy| {
            copy.enter(self.generation.load(Ordering::Acquire));
            f(copy)
        });
    }

    /// Counts a request and applies it if valid, as [`Stats::apply`]; returns the snapshot a
    /// GET replies with.
    #[inline(always)]
    fn request(
        &self,
        command: Result<Command>,
        now: impl FnOnce() -> u64,
    ) -> Result<Option<Stats>> {
        let command = match command {
            Ok(command) => command,
            Err(e) => {
                self.update(|copy| copy.stats.count_request());
                return Err(e);
            }
        };
        match command {
            Command::Record { .. } => {
                self.update(|copy| {
                    copy.stats.count_request();
                    copy.stats.apply(command, now);
                    copy.gateway_ns = copy.stats.last_update_ns;
                });
                Ok(None)
            }
            Command::Get => {
                let _reset = self.reset.lock();
                self.update(|copy| copy.stats.count_request());
                Ok(Some(self.sum()))
            }
            Command::Reset => {
                let _reset = self.reset.lock();
                self.generation.fetch_add(1, Ordering::Release);
                self.hardirq_ticks.store(0, Ordering::Relaxed);
                self.update(|copy| copy.stats.count_request());
                Ok(None)
            }
        }
    }

    /// The sum of the current generation's copies. Called with `reset` held.
    fn sum(&self) -> Stats {
        let generation = self.generation.load(Ordering::Acquire);
        let mut sum = self.cpus.fold(CpuStats::default(), |mut sum, copy| {
            if copy.generation == generation {
                sum.add(&copy);
            }
            sum
        });
        sum.stats.hardirq_ticks = self.hardirq_ticks.load(Ordering::Relaxed);
        sum.stats
    }

    /// Counts a neighbour update, as [`Stats::count_neigh_update`].
    #[inline(always)]
    fn neigh_update(&self, last: Option<(IpAddr, u32)>, now: impl FnOnce() -> u64) {
        self.update(|copy| {
            copy.stats.count_neigh_update(last, now);
            if last.is_some() {
                copy.neigh_ns = copy.stats.last_update_ns;
            }
        });
    }

    /// Counts a redirect.
    #[inline(always)]
    fn redirect(&self, now: impl FnOnce() -> u64) {
        self.update(|copy| copy.stats.count_redirect(now));
    }

    /// Counts a hard interrupt tick.
    #[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
    fn hardirq_tick(&self) {
        self.hardirq_ticks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The statistics' initialiser: the lock classes are static, one for every namespace.
#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
fn new_pcpu_stats() -> impl PinInit<PcpuStats, Error> {
    try_pin_init!(PcpuStats {
        generation: AtomicU64::new(0),
        reset <- kernel::new_spinlock!((), "fib_stat.reset"),
        cpus: new_percpu_stats!(CpuStats::default(), "fib_stat.percpu")?,
        hardirq_ticks: AtomicU64::new(0),
    }? Error)
}
#[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
fn new_stats() -> impl PinInit<NetStats, Error> {
    new_pcpu_stats()
}

/// Per network namespace state. The namespace's kernel socket belongs to the pernet
/// subsystem ([`pernet::NetData::netlink`]), which creates it after this state and releases it
/// before.
///
/// The hard interrupt tick is declared first, so it is dropped (stopped: timer shut down,
/// irq_work synced) before the statistics its callback uses; it is started once the whole state
/// is initialised.
#[pin_data]
struct NetState {
    #[pin]
    tick: Tick,
    #[pin]
    stats: NetStats,
}

/// The namespace's hard interrupt tick.
#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
type Tick = HardIrqTick<NetState>;
/// No hard interrupt tick in this build (`FIB_STAT_HARDIRQ=n`).
#[cfg(not(CONFIG_FIB_STAT_HARDIRQ_TICK))]
type Tick = NoTick;
/// Stands for the tick in builds without it.
#[cfg(not(CONFIG_FIB_STAT_HARDIRQ_TICK))]
struct NoTick;

/// The tick's initialiser (stopped).
#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
fn new_tick() -> impl PinInit<Tick> {
    HardIrqTick::new(HARDIRQ_TICK)
}
#[cfg(not(CONFIG_FIB_STAT_HARDIRQ_TICK))]
fn new_tick() -> impl PinInit<Tick> {
    NoTick
}

/// Starts the tick if `hardirq_tick_ms` asks for it.
#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
fn start_tick(tick: &Tick) {
    let delay = u32::try_from(HARDIRQ_TICK_DELAY_MS.get()).unwrap_or(0);
    match u32::try_from(HARDIRQ_TICK_MS.get()) {
        Ok(ms) if ms > 0 => tick.start(ms, delay),
        _ => {}
    }
}
#[cfg(not(CONFIG_FIB_STAT_HARDIRQ_TICK))]
fn start_tick(_tick: &Tick) {}

#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
impl_has_hardirq_tick! {
    impl HasHardIrqTick for NetState { self.tick }
}

pernet_subsys! {
    /// The state of every network namespace, registered by [`FibStat`].
    static NET_STATE: Subsys<NetState>;
}

impl pernet::NetData for NetState {
    fn init(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(NetState {
            // One lock class for every namespace: `new_stats` expands the macro once.
            stats <- new_stats(),
            tick <- new_tick(),
        })
        // Started once the whole state is initialised (the callback uses `stats`).
        .pin_chain(|state| {
            start_tick(&state.tick);
            Ok(())
        })
    }

    fn netlink() -> Option<netlink::SocketCfg> {
        // `FibStat::init` checked the number before registering, so this is never `None`.
        // SAFETY: `nl_proto` must be a number no other out-of-tree module of this kernel uses
        // (its documentation; the tree's own are refused); `NL_INPUT` is this module's code.
        unsafe { netlink::SocketCfg::new(NL_PROTO.get(), &THIS_MODULE, NL_INPUT) }.ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Process context: netlink requests.
// ---------------------------------------------------------------------------------------------

netlink_input! {
    /// Input callback of the kernel sockets: runs in the sender's context, softirqs enabled.
    const NL_INPUT: fn nl_gateway_input;
    /// Handles one request message (called by `netlink_rcv_skb()`, which acks the result).
    ///
    /// This is the frame that takes the statistics lock on the process-context side.
    fn fib_stat_rcv_proc(req) -> Result {
        handle_request(req)
    }
}

/// Validates a request with the shared parser (`parse.rs`); on error, sets the extended ack
/// (message, and the offending or missing attribute) and returns the errno.
fn parse_command(req: &Request<'_>) -> Result<Command> {
    parse::parse_command(req.msg_type(), req.attr_bytes(), || {
        req.net_capable(kernel::bindings::CAP_NET_ADMIN)
    })
    .map_err(|e| {
        match e.attr {
            ErrAttr::None => req.set_err_msg(e.msg),
            ErrAttr::At(offset) => req.set_err_msg_at(offset, e.msg),
            ErrAttr::Missing(ty) => req.set_err_msg_missing(ty, e.msg),
        }
        match e.errno {
            Errno::Inval => EINVAL,
            Errno::OpNotSupp => eopnotsupp(),
            Errno::Perm => EPERM,
        }
    })
}

/// `EOPNOTSUPP` (the kernel crate of 6.12 does not declare it).
fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as c_int))
}

#[inline(always)]
fn handle_request(req: &Request<'_>) -> Result {
    let command = parse_command(req);
    // One lock round trip per request: count it, and apply it if valid. Inlined into
    // `fib_stat_rcv_proc`, which is thus the frame taking the lock.
    let rcu = rcu::read_lock();
    let Some(state) = NET_STATE.get(req.net(), &rcu) else {
        // Not expected: the socket exists only while the namespace's state does.
        req.set_err_msg(c"fib_stat: network namespace not ready, try again");
        return Err(EAGAIN);
    };
    #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
    let snapshot = {
        let mut stats = state.stats.lock();
        stats.count_request();
        stats.apply(command?, clock::ktime_get_real_fast_ns)
    };
    // percpu: this CPU's statistics, no shared lock (GET and RESET take theirs).
    #[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
    let snapshot = state
        .stats
        .request(command, clock::ktime_get_real_fast_ns)?;
    drop(rcu);
    // The reply is built and sent outside the lock and the RCU critical section (it may sleep).
    match snapshot {
        Some(stats) => send_stats(req, &stats),
        None => Ok(()),
    }
}

/// Payload size of a MSG_STATS reply (all attributes, the larger address variants).
const STATS_PAYLOAD: usize = 2 * netlink::nla_total_size(1) // LOCK_MODE, VERSION
    + netlink::nla_total_size(4) // NETNS_INUM
    // NL_REQUESTS, GW_RECORDS, NEIGH_UPDATES, REDIRECTS, LAST_UPDATE_NS, each with room for an
    // ATTR_PAD attribute (only used where 64-bit values need alignment)
    // (and HARDIRQ_TICKS)
    + 6 * netlink::nla_total_size_64bit(8)
    + 2 * netlink::nla_total_size(16) // GATEWAY6, LAST_NEIGH6
    + 2 * netlink::nla_total_size(4); // IFINDEX, LAST_NEIGH_IFINDEX

fn put_addr(reply: &mut netlink::Reply<'_>, v4: u16, v6: u16, addr: &IpAddr) -> Result {
    match addr {
        IpAddr::V4(a) => reply.put(v4, &a.octets()),
        IpAddr::V6(a) => reply.put(v6, &a.octets()),
    }
}

/// Sends the GET reply (process context, outside the lock).
fn send_stats(req: &Request<'_>, stats: &Stats) -> Result {
    let mut reply = req.reply(protocol::MSG_STATS, STATS_PAYLOAD)?;
    let pad = protocol::ATTR_PAD;
    reply.put_u8(protocol::ATTR_LOCK_MODE, LOCK_MODE.wire)?;
    reply.put_u8(protocol::ATTR_VERSION, protocol::FIB_STAT_VERSION)?;
    reply.put_u32(protocol::ATTR_NETNS_INUM, req.net().inum())?;
    reply.put_u64(protocol::ATTR_NL_REQUESTS, stats.nl_requests, pad)?;
    reply.put_u64(protocol::ATTR_GW_RECORDS, stats.gw_records, pad)?;
    reply.put_u64(protocol::ATTR_NEIGH_UPDATES, stats.neigh_updates, pad)?;
    reply.put_u64(protocol::ATTR_REDIRECTS, stats.redirects, pad)?;
    if let Some((gateway, ifindex)) = &stats.last_gateway {
        put_addr(
            &mut reply,
            protocol::ATTR_GATEWAY4,
            protocol::ATTR_GATEWAY6,
            gateway,
        )?;
        reply.put_u32(protocol::ATTR_IFINDEX, *ifindex)?;
    }
    if let Some((neigh, ifindex)) = &stats.last_neigh {
        put_addr(
            &mut reply,
            protocol::ATTR_LAST_NEIGH4,
            protocol::ATTR_LAST_NEIGH6,
            neigh,
        )?;
        reply.put_u32(protocol::ATTR_LAST_NEIGH_IFINDEX, *ifindex)?;
    }
    reply.put_u64(protocol::ATTR_LAST_UPDATE_NS, stats.last_update_ns, pad)?;
    reply.put_u64(protocol::ATTR_HARDIRQ_TICKS, stats.hardirq_ticks, pad)?;
    reply.send()
}

// ---------------------------------------------------------------------------------------------
// Softirq context: netevent notifier.
// ---------------------------------------------------------------------------------------------

netevent_callback! {
    /// Netevent notifier: neighbour updates (usually softirq: NAPI -> ARP/NDISC) and redirects.
    ///
    /// This is the frame that takes the statistics lock on the softirq side. `rcu` is the RCU
    /// read-side critical section the notifier chain holds.
    const NET_EVENT_CALLBACK: fn net_event_callback(event, rcu) {
        match event {
            NetEvent::NeighUpdate(neigh) => {
                let dev = neigh.dev();
                let Some(state) = NET_STATE.get(dev.net(rcu), rcu) else {
                    return;
                };
                let last = neigh.addr().map(|addr| (addr, dev.ifindex()));
                #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
                let mut stats = state.stats.lock_with::<SoftirqLock>();
                #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
                stats.count_neigh_update(last, clock::ktime_get_real_fast_ns);
                #[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
                state
                    .stats
                    .neigh_update(last, clock::ktime_get_real_fast_ns);
            }
            NetEvent::Redirect(redirect) => {
                let Some(state) = redirect
                    .dev(rcu)
                    .and_then(|dev| NET_STATE.get(dev.net(rcu), rcu))
                else {
                    return;
                };
                #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
                let mut stats = state.stats.lock_with::<SoftirqLock>();
                #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
                stats.count_redirect(clock::ktime_get_real_fast_ns);
                #[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
                state.stats.redirect(clock::ktime_get_real_fast_ns);
            }
            NetEvent::Other => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hard interrupt context: the tick.
// ---------------------------------------------------------------------------------------------

#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
hardirq_tick_callback! {
    /// The hard interrupt tick of one namespace (an `IRQ_WORK_INIT_HARD()` irq_work, queued by
    /// its timer every `hardirq_tick_ms`).
    ///
    /// This is the frame that takes the statistics lock on the hard interrupt side, with plain
    /// `spin_lock()`: hard interrupts are disabled here.
    const HARDIRQ_TICK: fn fib_stat_hardirq_tick(state: &NetState) {
        #[cfg(not(CONFIG_FIB_STAT_LOCK_PERCPU))]
        state.stats.lock_with::<HardIrqLock>().count_hardirq_tick();
        #[cfg(CONFIG_FIB_STAT_LOCK_PERCPU)]
        state.stats.hardirq_tick();
    }
}

// ---------------------------------------------------------------------------------------------
// Module.
// ---------------------------------------------------------------------------------------------

/// The module: its registrations, dropped in field order on unload, the reverse of the order
/// `init` creates them in.
///
/// `init` checks the parameters, registers the netevent notifier first and the pernet subsystem
/// last: the pernet registration creates the kernel sockets, and once one exists a user socket
/// of the protocol can be opened and take a reference on the module (`netlink_create()`). A
/// module whose `init` fails is freed whatever its reference count, so nothing that can fail may
/// come after the first socket. The pernet registration itself sets up the state of every
/// namespace before creating any socket, and does not fail after the first socket (see
/// `pernet.rs`, "Registration order and partial failure"). The notifier needs nothing from the
/// pernet subsystem: until it is registered, lookups find no state (`Subsys::get` returns
/// `None`).
///
/// On unload:
///
/// 1. The pernet subsystem is unregistered: the kernel sockets are released, lookups stop
///    finding state, then for every namespace `pre_exit` hides the state, a grace period passes,
///    and `exit` drops the statistics. A `net_event_callback` running meanwhile finds nothing,
///    or uses the state within its RCU read-side critical section, which the grace periods wait
///    for.
/// 2. Then the netevent notifier: unregistering waits for a grace period, so no
///    `net_event_callback` runs anymore when the module's code goes away.
///
/// No request can be in flight: user sockets of our netlink protocol hold a reference to the
/// module (`netlink_create()`), so the module cannot be unloaded while one is open.
struct FibStat {
    _pernet: pernet::Registration<NetState>,
    _events: netevent::Registration,
}

impl kernel::Module for FibStat {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let proto = NL_PROTO.get();
        if !netlink::is_unregistered_protocol(proto) {
            pr_err!(
                "nl_proto={} refused: use 23-29 or 31, the netlink protocol numbers no kernel \
                 code registers\n",
                proto
            );
            return Err(EINVAL);
        }
        // Order: see `FibStat`. If the pernet registration fails, `events` is dropped, i.e.
        // unregistered.
        let events = netevent::Registration::new(NET_EVENT_CALLBACK)?;
        let pernet = pernet::Registration::<NetState>::new().inspect_err(|e| {
            pr_err!(
                "registering the pernet subsystem (netlink protocol {}) failed: {:?}\n",
                proto,
                e
            )
        })?;
        pr_info!(
            "loaded, lock mode {} ({}), netlink protocol {}\n",
            LOCK_MODE.name,
            LOCK_MODE.what,
            proto
        );
        Ok(FibStat {
            _pernet: pernet,
            _events: events,
        })
    }
}

impl Drop for FibStat {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
