// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `fib_stat` (`CONFIG_FIB_STAT_KUNIT_TEST`, out of tree `FIB_STAT_KUNIT=1`, bh
//! lock mode only): runs when the module is loaded, after its init, and prints KTAP to the
//! kernel log (`make kunit`).
//!
//! - the bh lock in every context it may be taken in: process context, nested in a
//!   bottom-half-disabled section, and in a real softirq; its trylock, the state its guards
//!   leave behind (bottom halves enabled again, hard interrupts never touched);
//! - the request parser as the kernel builds it (overflow checks on);
//! - the statistics update rules;
//! - the pernet data of the initial namespace, and the namespace a redirect is counted in;
//! - the per-CPU abstraction (`rust/kernel/percpu.rs`, whatever the lock mode: it does not
//!   depend on it): possible CPUs, an instance per CPU, dropped once each, the local CPU's
//!   under a [`BhGuard`]; per-CPU statistics updated in process context and in a real softirq,
//!   read whole, nested updates refused; and the percpu mode's statistics: sums, the latest
//!   last gateway, RESET's generation (a copy of an older generation counts as zero and starts
//!   from zero).

use crate::kernel_next::percpu::BhGuard;
use crate::{
    kernel_next::{
        irq,
        kunit::{kunit_suite, run_in_softirq},
        net::{namespace::ReadyNet, netevent::test_support},
        sync::rcu,
    },
    parse::{self, Command, ErrAttr, Errno},
    protocol, Stats, NET_STATE,
};
use core::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::atomic::{AtomicU32, Ordering},
};

/// Checks `cond`, reporting a failure to KUnit (and ending the case) if it is false.
macro_rules! check {
    ($cond:expr) => {
        ::kernel::kunit_assert!("fib_stat", "fib_stat_kunit.rs", 0, $cond)
    };
}

mod bh {
    use super::*;
    use crate::kernel_next::sync::lock::spinlock_bh::{new_spinlock_bh, SpinLockBh};
    use kernel::{prelude::*, sync::Arc};

    fn new_lock() -> Option<Arc<SpinLockBh<u32>>> {
        Arc::pin_init(new_spinlock_bh!(0, "fib_stat_kunit.a"), GFP_KERNEL).ok()
    }

    pub(super) fn bh_lock_disables_bh_while_held() {
        let Some(lock) = new_lock() else {
            return check!(false);
        };
        check!(!irq::bh_disabled());
        {
            let mut guard = lock.lock();
            *guard += 1;
            check!(irq::bh_disabled());
            check!(!irq::irqs_disabled());
        }
        check!(!irq::bh_disabled());
        check!(!irq::irqs_disabled());
        check!(*lock.lock() == 1);
    }

    pub(super) fn bh_try_lock_free_succeeds() {
        let Some(lock) = new_lock() else {
            return check!(false);
        };
        let guard = lock.try_lock();
        check!(guard.is_some());
        check!(irq::bh_disabled());
        drop(guard);
        check!(!irq::bh_disabled());
    }

    pub(super) fn bh_try_lock_held_fails_and_restores_bh() {
        let Some(lock) = new_lock() else {
            return check!(false);
        };
        let guard = lock.lock();
        // `spin_trylock_bh()` that fails re-enables what it disabled: the count is the outer
        // guard's alone, so dropping that guard enables bottom halves again.
        check!(lock.try_lock().is_none());
        check!(irq::bh_disabled());
        drop(guard);
        check!(!irq::bh_disabled());
    }

    pub(super) fn bh_lock_nests_in_bh_disabled_section() {
        let (Some(outer), Some(inner)) = (
            new_lock(),
            Arc::pin_init(new_spinlock_bh!(0, "fib_stat_kunit.b"), GFP_KERNEL).ok(),
        ) else {
            return check!(false);
        };
        let o = outer.lock();
        {
            let mut i = inner.lock();
            *i += 1;
        }
        // The inner `spin_unlock_bh()` left bottom halves disabled: the outer section goes on.
        check!(irq::bh_disabled());
        drop(o);
        check!(!irq::bh_disabled());
        check!(*inner.lock() == 1);
    }

    /// What the softirq half of `bh_lock_in_softirq` saw, one bit per check.
    static SOFTIRQ_SEEN: AtomicU32 = AtomicU32::new(0);

    /// Runs in a real softirq: takes the statistics lock of the initial namespace as the
    /// notifier does, and its trylock.
    fn take_stats_lock_in_softirq() {
        let mut seen = 1; // ran
        let rcu = rcu::read_lock();
        if let Some(state) = NET_STATE.get(ReadyNet::init_net(), &rcu) {
            seen |= 2; // found the state
            {
                let mut stats = state.stats.lock();
                stats.count_redirect(|| 7);
                if state.stats.try_lock().is_none() {
                    seen |= 4; // excluded
                }
            }
            if irq::bh_disabled() && !irq::irqs_disabled() {
                seen |= 8; // still in softirq, bottom halves off, interrupts on
            }
            if let Some(mut stats) = state.stats.try_lock() {
                stats.redirects = stats.redirects.wrapping_sub(1);
                seen |= 16; // trylock of the free lock
            }
        }
        SOFTIRQ_SEEN.store(seen, Ordering::Release);
    }

    pub(super) fn bh_lock_in_softirq() {
        SOFTIRQ_SEEN.store(0, Ordering::Release);
        check!(run_in_softirq(take_stats_lock_in_softirq));
        check!(SOFTIRQ_SEEN.load(Ordering::Acquire) == 31);
        check!(!irq::bh_disabled());
    }
}

use bh::*;

// ---------------------------------------------------------------------------------------------
// The parser, as the kernel builds it.
// ---------------------------------------------------------------------------------------------

/// Attribute bytes of a request, built on the stack.
struct Attrs {
    bytes: [u8; 64],
    len: usize,
}

impl Attrs {
    fn new() -> Self {
        Attrs {
            bytes: [0; 64],
            len: 0,
        }
    }

    /// Appends an attribute of type `ty` (flags included) and `payload`, padded to 4 bytes
    /// unless `pad` is false; `nla_len` overrides the length field.
    fn raw(mut self, ty: u16, payload: &[u8], nla_len: Option<u16>, pad: bool) -> Self {
        let len = parse::NLA_HDRLEN + payload.len();
        let end = if pad { parse::nla_align(len) } else { len };
        if self.len + end > self.bytes.len() {
            return self;
        }
        let l = nla_len.unwrap_or(len as u16).to_ne_bytes();
        let t = ty.to_ne_bytes();
        self.bytes[self.len..self.len + 4].copy_from_slice(&[l[0], l[1], t[0], t[1]]);
        self.bytes[self.len + 4..self.len + len].copy_from_slice(payload);
        self.len += end;
        self
    }

    fn attr(self, ty: u16, payload: &[u8]) -> Self {
        self.raw(ty, payload, None, true)
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn parse(msg_type: u16, attrs: &Attrs) -> Result<Command, parse::ParseError> {
    parse::parse_command(msg_type, attrs.get(), || true)
}

/// Checks that `r` is the `EINVAL` with `msg` and `attr`.
fn is_inval(r: Result<Command, parse::ParseError>, msg: &core::ffi::CStr, attr: ErrAttr) -> bool {
    matches!(r, Err(e) if e.errno == Errno::Inval && e.msg == msg && e.attr == attr)
}

const GW4: [u8; 4] = [192, 0, 2, 1];

fn record(count: u32) -> Attrs {
    Attrs::new()
        .attr(protocol::ATTR_GATEWAY4, &GW4)
        .attr(protocol::ATTR_COUNT, &count.to_ne_bytes())
}

fn parse_get_ok() {
    check!(parse(protocol::MSG_GET, &Attrs::new()) == Ok(Command::Get));
}

fn parse_get_rejects_attributes() {
    let a = Attrs::new().attr(protocol::ATTR_COUNT, &1u32.to_ne_bytes());
    check!(is_inval(
        parse(protocol::MSG_GET, &a),
        c"Attribute not allowed for this message type",
        ErrAttr::At(0)
    ));
}

fn parse_record_v4() {
    let a = record(7).attr(protocol::ATTR_IFINDEX, &3u32.to_ne_bytes());
    check!(
        parse(protocol::MSG_RECORD, &a)
            == Ok(Command::Record {
                gateway: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                ifindex: 3,
                count: 7,
            })
    );
}

fn parse_record_v6() {
    let gw = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let a = Attrs::new()
        .attr(protocol::ATTR_GATEWAY6, &gw.octets())
        .attr(protocol::ATTR_COUNT, &1u32.to_ne_bytes());
    check!(
        parse(protocol::MSG_RECORD, &a)
            == Ok(Command::Record {
                gateway: IpAddr::V6(gw),
                ifindex: 0,
                count: 1,
            })
    );
}

fn parse_record_needs_a_gateway() {
    let a = Attrs::new().attr(protocol::ATTR_COUNT, &1u32.to_ne_bytes());
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"RECORD needs GATEWAY4 or GATEWAY6",
        ErrAttr::Missing(protocol::ATTR_GATEWAY4)
    ));
}

fn parse_record_gateways_exclusive() {
    let a = record(1).attr(protocol::ATTR_GATEWAY6, &[0; 16]);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"GATEWAY4 and GATEWAY6 are mutually exclusive",
        ErrAttr::At(16)
    ));
}

fn parse_record_needs_count() {
    let a = Attrs::new().attr(protocol::ATTR_GATEWAY4, &GW4);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"RECORD needs COUNT",
        ErrAttr::Missing(protocol::ATTR_COUNT)
    ));
}

fn parse_record_count_range() {
    let msg = c"COUNT must be 1..=1000000";
    check!(is_inval(
        parse(protocol::MSG_RECORD, &record(0)),
        msg,
        ErrAttr::At(8)
    ));
    let over = protocol::MAX_RECORD_COUNT + 1;
    check!(is_inval(
        parse(protocol::MSG_RECORD, &record(over)),
        msg,
        ErrAttr::At(8)
    ));
    check!(is_inval(
        parse(protocol::MSG_RECORD, &record(u32::MAX)),
        msg,
        ErrAttr::At(8)
    ));
    check!(parse(protocol::MSG_RECORD, &record(protocol::MAX_RECORD_COUNT)).is_ok());
}

fn parse_privileged_types_need_cap_net_admin() {
    let mut asked = 0;
    let r = parse::parse_command(protocol::MSG_RECORD, record(1).get(), || {
        asked += 1;
        false
    });
    check!(matches!(r, Err(e) if e.errno == Errno::Perm && e.msg == c"RECORD needs CAP_NET_ADMIN"));
    let r = parse::parse_command(protocol::MSG_RESET, &[], || {
        asked += 1;
        false
    });
    check!(matches!(r, Err(e) if e.errno == Errno::Perm && e.msg == c"RESET needs CAP_NET_ADMIN"));
    // GET asks nothing.
    check!(parse::parse_command(protocol::MSG_GET, &[], || {
        asked += 1;
        false
    })
    .is_ok());
    check!(asked == 2);
}

fn parse_unknown_message_type() {
    let r = parse(protocol::MSG_STATS, &Attrs::new());
    check!(matches!(r, Err(e) if e.errno == Errno::OpNotSupp && e.msg == c"unknown message type"));
}

fn parse_rejects_nested_flag() {
    let a = Attrs::new().attr(protocol::ATTR_GATEWAY4 | parse::NLA_F_NESTED, &GW4);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"NLA_F_NESTED not expected",
        ErrAttr::At(0)
    ));
}

fn parse_rejects_wrong_length() {
    let a = Attrs::new().attr(protocol::ATTR_GATEWAY4, &[192, 0, 2]);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"invalid attribute length",
        ErrAttr::At(0)
    ));
}

fn parse_rejects_duplicates() {
    let a = record(1).attr(protocol::ATTR_COUNT, &2u32.to_ne_bytes());
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        c"duplicate attribute",
        ErrAttr::At(16)
    ));
}

fn parse_rejects_truncated_attribute() {
    let msg = c"bytes leftover after parsing attributes";
    // A length beyond the bytes, then a length shorter than the header.
    let a = Attrs::new().raw(protocol::ATTR_GATEWAY4, &GW4, Some(12), true);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        msg,
        ErrAttr::None
    ));
    let a = Attrs::new().raw(protocol::ATTR_GATEWAY4, &GW4, Some(3), true);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        msg,
        ErrAttr::None
    ));
}

fn parse_rejects_unknown_attribute_types() {
    let msg = c"Unknown attribute type";
    let a = Attrs::new().attr(protocol::ATTR_REQ_MAX + 1, &[0; 4]);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        msg,
        ErrAttr::At(0)
    ));
    let a = Attrs::new().attr(protocol::ATTR_UNSPEC, &[0; 4]);
    check!(is_inval(
        parse(protocol::MSG_RECORD, &a),
        msg,
        ErrAttr::At(0)
    ));
}

fn parse_last_attribute_may_omit_padding() {
    let gw = [0u8; 16];
    let a = Attrs::new()
        .attr(protocol::ATTR_COUNT, &1u32.to_ne_bytes())
        .raw(protocol::ATTR_GATEWAY6, &gw, None, false);
    check!(parse(protocol::MSG_RECORD, &a).is_ok());
}

// ---------------------------------------------------------------------------------------------
// The statistics update rules.
// ---------------------------------------------------------------------------------------------

fn gw() -> Command {
    Command::Record {
        gateway: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        ifindex: 2,
        count: 5,
    }
}

fn stats_record_adds_count_and_sets_last() {
    let mut s = Stats::default();
    s.count_request();
    check!(s.apply(gw(), || 42).is_none());
    s.count_request();
    check!(s.apply(gw(), || 43).is_none());
    check!(s.nl_requests == 2 && s.gw_records == 10 && s.last_update_ns == 43);
    check!(s.last_gateway == Some((IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 2)));
}

fn stats_get_snapshot_counts_itself_and_reads_no_clock() {
    let mut s = Stats::default();
    s.count_request();
    let snap = s.apply(Command::Get, || {
        s_clock_read();
        0
    });
    check!(matches!(snap, Some(t) if t.nl_requests == 1 && t.last_update_ns == 0));
}

/// A clock read where none may happen.
fn s_clock_read() {
    check!(false);
}

fn stats_reset_leaves_only_itself() {
    let mut s = Stats::default();
    s.count_request();
    s.apply(gw(), || 9);
    s.count_neigh_update(Some((IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 1)), || 10);
    s.count_redirect(|| 11);
    s.count_request();
    check!(s.apply(Command::Reset, || 12).is_none());
    check!(s.nl_requests == 1 && s.gw_records == 0 && s.neigh_updates == 0 && s.redirects == 0);
    check!(s.last_gateway.is_none() && s.last_neigh.is_none() && s.last_update_ns == 0);
}

fn stats_counters_wrap_without_overflow_panic() {
    let mut s = Stats {
        nl_requests: u64::MAX,
        gw_records: u64::MAX - 1,
        neigh_updates: u64::MAX,
        redirects: u64::MAX,
        ..Stats::default()
    };
    s.count_request();
    s.apply(gw(), || 1);
    s.count_neigh_update(None, || 2);
    s.count_redirect(|| 3);
    check!(s.nl_requests == 0 && s.gw_records == 3 && s.neigh_updates == 0 && s.redirects == 0);
}

fn stats_neigh_update_keeps_last_address_when_none() {
    let mut s = Stats::default();
    let n = (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 4);
    s.count_neigh_update(Some(n), || 5);
    s.count_neigh_update(None, || 6);
    check!(s.neigh_updates == 2 && s.last_neigh == Some(n) && s.last_update_ns == 6);
}

fn stats_failed_request_counts_only_itself() {
    let mut s = Stats::default();
    s.count_request();
    // What `handle_request` does with a request the parser refused: count, apply nothing.
    check!(parse(protocol::MSG_RECORD, &record(0)).is_err());
    check!(s.nl_requests == 1 && s.gw_records == 0 && s.last_update_ns == 0);
}

// ---------------------------------------------------------------------------------------------
// Pernet data and the netevent abstraction.
// ---------------------------------------------------------------------------------------------

fn pernet_init_net_has_state() {
    let rcu = rcu::read_lock();
    check!(NET_STATE.get(ReadyNet::init_net(), &rcu).is_some());
}

fn pernet_state_is_per_namespace_lock() {
    let rcu = rcu::read_lock();
    let Some(state) = NET_STATE.get(ReadyNet::init_net(), &rcu) else {
        return check!(false);
    };
    let before = state.stats.lock().redirects;
    state.stats.lock().count_redirect(|| 1);
    let after = state.stats.lock().redirects;
    state.stats.lock().redirects = before;
    check!(after == before.wrapping_add(1));
}

fn netevent_redirect_to_blackhole_is_not_counted() {
    check!(test_support::redirect_ifindex(false).is_none());
}

fn netevent_redirect_uses_the_other_route_device() {
    // The initial namespace's loopback device has ifindex 1.
    check!(test_support::redirect_ifindex(true) == Some(1));
}

// ---------------------------------------------------------------------------------------------
// The per-CPU abstraction and the percpu mode's statistics.
// ---------------------------------------------------------------------------------------------

mod percpu {
    use super::*;
    use crate::{
        kernel_next::percpu::{
            possible_cpus,
            stats::{new_percpu_stats, PerCpuStats},
            CpuId, DynamicPerCpu,
        },
        new_pcpu_stats, CpuStats, PcpuStats,
    };
    use core::sync::atomic::AtomicPtr;
    use kernel::{prelude::*, sync::Arc};

    pub(super) fn percpu_possible_cpus() {
        let n = possible_cpus().count();
        check!(n >= 1);
        // Increasing, and each one is a `CpuId` again.
        let mut last = None;
        for cpu in possible_cpus() {
            check!(last.map_or(true, |l: u32| cpu.as_u32() > l));
            check!(CpuId::from_u32(cpu.as_u32()) == Some(cpu));
            last = Some(cpu.as_u32());
        }
        check!(CpuId::from_u32(0).is_some());
        check!(CpuId::from_u32(u32::MAX).is_none());
    }

    pub(super) fn percpu_instance_per_cpu_and_this_cpu() {
        let Ok(v) = DynamicPerCpu::new(|cpu| AtomicU32::new(cpu.as_u32() + 100)) else {
            return check!(false);
        };
        for cpu in possible_cpus() {
            check!(v.get(cpu).load(Ordering::Relaxed) == cpu.as_u32() + 100);
        }
        check!(!irq::bh_disabled());
        {
            let bh = BhGuard::new();
            check!(irq::bh_disabled());
            let mine = v.this_cpu(&bh);
            // The local CPU's instance is exactly one of the possible CPUs'.
            let same = possible_cpus()
                .filter(|cpu| core::ptr::eq(v.get(*cpu), mine))
                .count();
            check!(same == 1);
        }
        check!(!irq::bh_disabled());
    }

    /// Instances dropped by `percpu_drops_every_instance_once`.
    static DROPPED: AtomicU32 = AtomicU32::new(0);

    struct CountDrop;

    impl Drop for CountDrop {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn percpu_drops_every_instance_once() {
        DROPPED.store(0, Ordering::Relaxed);
        let Ok(v) = DynamicPerCpu::new(|_cpu| CountDrop) else {
            return check!(false);
        };
        check!(DROPPED.load(Ordering::Relaxed) == 0);
        drop(v);
        check!(DROPPED.load(Ordering::Relaxed) as usize == possible_cpus().count());
    }

    fn new_stats() -> Option<PerCpuStats<u64>> {
        new_percpu_stats!(0u64, "fib_stat_kunit.percpu").ok()
    }

    fn total(s: &PerCpuStats<u64>) -> u64 {
        s.fold(0, |a, v| a + v)
    }

    pub(super) fn percpu_stats_update_and_read_whole() {
        let Some(s) = new_stats() else {
            return check!(false);
        };
        for _ in 0..10 {
            check!(
                s.update(|v| {
                    *v += 3;
                    irq::bh_disabled() && !irq::irqs_disabled()
                }) == Some(true)
            );
        }
        check!(!irq::bh_disabled());
        check!(total(&s) == 30);
        // Exactly one CPU's copy has it all (no migration inside an update).
        check!(possible_cpus().filter(|c| s.read(*c) == 30).count() == 1);
    }

    pub(super) fn percpu_stats_nested_update_refused() {
        let Some(s) = new_stats() else {
            return check!(false);
        };
        let outer = s.update(|v| {
            *v += 1;
            s.update(|w| *w += 100)
        });
        check!(outer == Some(None));
        check!(total(&s) == 1);
        // The write section is closed again: a later update works.
        check!(s.update(|v| *v += 1).is_some());
        check!(total(&s) == 2);
    }

    /// The statistics `update_in_softirq` updates: set by `percpu_stats_update_in_softirq`,
    /// which keeps them alive until the softirq has run.
    static SOFTIRQ_STATS: AtomicPtr<PerCpuStats<u64>> = AtomicPtr::new(core::ptr::null_mut());
    static SOFTIRQ_OK: AtomicU32 = AtomicU32::new(0);

    fn update_in_softirq() {
        let p = SOFTIRQ_STATS.load(Ordering::Acquire);
        // SAFETY: `percpu_stats_update_in_softirq` stored a valid pointer and keeps the
        // statistics alive until `run_in_softirq` returned, after this callback.
        let Some(s) = (unsafe { p.as_ref() }) else {
            return;
        };
        let in_bh = irq::bh_disabled();
        if s.update(|v| *v += 7) == Some(()) && in_bh {
            SOFTIRQ_OK.store(1, Ordering::Release);
        }
    }

    pub(super) fn percpu_stats_update_in_softirq() {
        let Some(mut s) = new_stats() else {
            return check!(false);
        };
        check!(s.update(|v| *v += 1).is_some());
        SOFTIRQ_OK.store(0, Ordering::Release);
        SOFTIRQ_STATS.store(&raw mut s, Ordering::Release);
        let ran = run_in_softirq(update_in_softirq);
        SOFTIRQ_STATS.store(core::ptr::null_mut(), Ordering::Release);
        check!(ran);
        check!(SOFTIRQ_OK.load(Ordering::Acquire) == 1);
        check!(total(&s) == 8);
    }

    fn new_pcpu() -> Option<Arc<PcpuStats>> {
        Arc::pin_init(new_pcpu_stats(), GFP_KERNEL).ok()
    }

    fn get(p: &PcpuStats) -> Stats {
        match p.request(Ok(Command::Get), || 0) {
            Ok(Some(s)) => s,
            _ => Stats {
                nl_requests: u64::MAX,
                ..Stats::default()
            },
        }
    }

    pub(super) fn pcpu_requests_and_updates_sum() {
        let Some(p) = new_pcpu() else {
            return check!(false);
        };
        check!(matches!(p.request(Ok(gw()), || 50), Ok(None)));
        check!(p.request(Err(EINVAL), || 0).is_err());
        p.neigh_update(Some((IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 3)), || 60);
        p.redirect(|| 65);
        #[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
        p.hardirq_tick();
        let s = get(&p);
        check!(s.nl_requests == 3 && s.gw_records == 5);
        check!(s.neigh_updates == 1 && s.redirects == 1 && s.last_update_ns == 65);
        check!(s.last_neigh == Some((IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 3)));
        #[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
        check!(s.hardirq_ticks == 1);
    }

    pub(super) fn pcpu_reset_starts_a_generation() {
        let Some(p) = new_pcpu() else {
            return check!(false);
        };
        check!(matches!(p.request(Ok(gw()), || 50), Ok(None)));
        #[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
        p.hardirq_tick();
        check!(matches!(p.request(Ok(Command::Reset), || 0), Ok(None)));
        let s = get(&p);
        check!(s.nl_requests == 2 && s.gw_records == 0 && s.hardirq_ticks == 0);
        check!(s.last_gateway.is_none() && s.last_update_ns == 0);
        // A copy still in the generation before the RESET (a CPU that has not updated since):
        // it counts as zero, and its next update starts it from zero.
        let _ = p.cpus.update(|c| {
            *c = CpuStats {
                generation: 0,
                stats: Stats {
                    gw_records: 1000,
                    nl_requests: 1000,
                    ..Stats::default()
                },
                ..CpuStats::default()
            }
        });
        // As a GET on another CPU sees it (a GET here would first count itself in this copy,
        // which moves it to the new generation).
        {
            let _reset = p.reset.lock();
            let s = p.sum();
            check!(s.gw_records == 0 && s.nl_requests == 0);
        }
        check!(matches!(p.request(Ok(gw()), || 70), Ok(None)));
        let s = get(&p);
        check!(s.gw_records == 5 && s.last_update_ns == 70);
    }

    pub(super) fn pcpu_sum_takes_latest_last_gateway() {
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
        let copy = |gw: IpAddr, ns: u64, n: u64| CpuStats {
            stats: Stats {
                gw_records: n,
                last_gateway: Some((gw, 1)),
                last_update_ns: ns,
                ..Stats::default()
            },
            gateway_ns: ns,
            ..CpuStats::default()
        };
        let mut sum = CpuStats::default();
        sum.add(&copy(a, 20, 2));
        sum.add(&copy(b, 10, 3));
        check!(sum.stats.gw_records == 5 && sum.stats.last_update_ns == 20);
        check!(sum.stats.last_gateway == Some((a, 1)));
        let mut sum = CpuStats::default();
        sum.add(&copy(b, 10, 3));
        sum.add(&copy(a, 20, 2));
        check!(sum.stats.last_gateway == Some((a, 1)));
    }
}

use percpu::*;

kunit_suite!(
    fib_stat,
    [
        bh_lock_disables_bh_while_held,
        bh_try_lock_free_succeeds,
        bh_try_lock_held_fails_and_restores_bh,
        bh_lock_nests_in_bh_disabled_section,
        bh_lock_in_softirq,
        parse_get_ok,
        parse_get_rejects_attributes,
        parse_record_v4,
        parse_record_v6,
        parse_record_needs_a_gateway,
        parse_record_gateways_exclusive,
        parse_record_needs_count,
        parse_record_count_range,
        parse_privileged_types_need_cap_net_admin,
        parse_unknown_message_type,
        parse_rejects_nested_flag,
        parse_rejects_wrong_length,
        parse_rejects_duplicates,
        parse_rejects_truncated_attribute,
        parse_rejects_unknown_attribute_types,
        parse_last_attribute_may_omit_padding,
        stats_record_adds_count_and_sets_last,
        stats_get_snapshot_counts_itself_and_reads_no_clock,
        stats_reset_leaves_only_itself,
        stats_counters_wrap_without_overflow_panic,
        stats_neigh_update_keeps_last_address_when_none,
        stats_failed_request_counts_only_itself,
        pernet_init_net_has_state,
        pernet_state_is_per_namespace_lock,
        netevent_redirect_to_blackhole_is_not_counted,
        netevent_redirect_uses_the_other_route_device,
        percpu_possible_cpus,
        percpu_instance_per_cpu_and_this_cpu,
        percpu_drops_every_instance_once,
        percpu_stats_update_and_read_whole,
        percpu_stats_nested_update_refused,
        percpu_stats_update_in_softirq,
        pcpu_requests_and_updates_sum,
        pcpu_reset_starts_a_generation,
        pcpu_sum_takes_latest_last_gateway,
    ]
);
