//! The other lockdep reports: recognised, titled, with the locks and callers
//! that can be extracted. The texts follow the printk formats of
//! kernel/locking/lockdep.c (v6.12) and kernel/sched/core.c; the lock and
//! function names are made up for the fib_stat module.

use fibstat::explain::explain_bytes;
use fibstat::explain::model::{Kind, Report};

fn one(text: &str) -> Report {
    let mut out = explain_bytes(text.as_bytes()).reports;
    assert_eq!(out.len(), 1, "{out:#?}");
    out.remove(0)
}

const TRACE_TAIL: &str = "\
CPU: 0 UID: 0 PID: 231 Comm: fibstat Tainted: G           O       6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
";

#[test]
fn bad_unlock_balance() {
    let text = format!(
        "\
[   50.000001] unrelated line
=====================================
WARNING: bad unlock balance detected!
6.12.0 #1 Tainted: G           O
-------------------------------------
fibstat/231 is trying to release lock (fib_statistics.lock) at:
[<ffffffffc0a01234>] fib_stat_reset+0x64/0x90 [fib_stat]
but there are no more locks to release!

other info that might help us debug this:
no locks held by fibstat/231.

stack backtrace:
{TRACE_TAIL} print_unlock_imbalance_bug.part.0+0xf9/0x110
 lock_release+0x1e5/0x2b0
 _raw_spin_unlock+0x17/0x40
 fib_stat_reset+0x64/0x90 [fib_stat]
 netlink_rcv_skb+0x57/0x110
 </TASK>
[   50.000002] unrelated line
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::BadUnlockBalance);
    assert_eq!(r.title, "WARNING: bad unlock balance in fib_stat_reset");
    assert_eq!(r.line, 3);
    assert_eq!(
        r.lock.as_ref().map(|l| l.name.as_str()),
        Some("fib_statistics.lock")
    );
    let at = r.acquired_at.as_ref().unwrap();
    assert_eq!(at.address.as_deref(), Some("ffffffffc0a01234"));
    assert_eq!(r.current_caller.as_deref(), Some("fib_stat_reset"));
    assert_eq!(
        r.task.as_ref().map(|t| (t.comm.as_str(), t.pid)),
        Some(("fibstat", Some(231)))
    );
    assert!(r.fix.is_none());
    assert!(r.raw.last().unwrap().contains("</TASK>"));
}

#[test]
fn held_lock_freed() {
    let text = format!(
        "\
=========================
WARNING: held lock freed!
6.12.0 #1 Tainted: G           O
-------------------------
fibstat/231 is freeing memory ffff888104a2c000-ffff888104a2c3ff, with a lock still held there!
ffff888104a2c1d8 (fib_statistics.lock){{+.+.}}-{{2:2}}, at: fib_stat_netns_exit+0x2c/0x80 [fib_stat]
1 lock held by fibstat/231:
 #0: ffff888104a2c1d8 (fib_statistics.lock){{+.+.}}-{{2:2}}, at: fib_stat_netns_exit+0x2c/0x80 [fib_stat]

stack backtrace:
{TRACE_TAIL} debug_check_no_locks_freed+0x12b/0x160
 kfree+0xc7/0x380
 fib_stat_netns_exit+0x51/0x80 [fib_stat]
 ops_exit_list+0x33/0x80
 </TASK>
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::HeldLockFreed);
    assert_eq!(r.title, "WARNING: held lock freed in fib_stat_netns_exit");
    assert_eq!(
        r.lock.as_ref().unwrap().address.as_deref(),
        Some("ffff888104a2c1d8")
    );
    assert_eq!(r.held_locks.len(), 1);
    assert_eq!(r.current_caller.as_deref(), Some("kfree"));
}

#[test]
fn lock_held_returning_to_user_space() {
    let text = "\
[   60.1] ================================================
[   60.1] WARNING: lock held when returning to user space!
[   60.1] 6.12.0 #1 Tainted: G           O
[   60.1] ------------------------------------------------
[   60.1] fibstat/231 is leaving the kernel with locks still held!
[   60.1] 1 lock held by fibstat/231:
[   60.1]  #0: ffff888104a2c1d8 (fib_statistics.lock){+.+.}-{2:2}, at: fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
[   60.2] fib_stat: recorded 1 gateway(s)
[   60.3] WARNING: CPU: 0 PID: 1 at x.c:1 y+0x1/0x2
";
    let mut out = explain_bytes(text.as_bytes()).reports;
    assert_eq!(out.len(), 2, "{out:#?}");
    // The WARN() line after it is a report of its own.
    assert_eq!(out[1].kind, Kind::Warning);
    assert_eq!(out[1].title, "WARNING in y");
    let r = out.remove(0);
    assert_eq!(r.kind, Kind::LockHeldReturningToUser);
    assert_eq!(
        r.title,
        "WARNING: lock held when returning to user space in fib_stat_rcv_proc"
    );
    assert_eq!(r.end_line, 7);
    assert_eq!(r.held_locks[0].lock.name, "fib_statistics.lock");
    assert_eq!(r.task.as_ref().unwrap().comm, "fibstat");
}

#[test]
fn locks_held_at_task_exit() {
    let text = format!(
        "\
====================================
WARNING: kworker/0:1/15 still has locks held!
6.12.0 #1 Tainted: G           O
------------------------------------
1 lock held by kworker/0:1/15:
 #0: ffff888104a2c1d8 (fib_statistics.lock){{+.+.}}-{{2:2}}, at: fib_stat_gc_work+0x30/0x90 [fib_stat]

stack backtrace:
{TRACE_TAIL} debug_check_no_locks_held+0x4a/0x60
 do_exit+0x3a1/0xbc0
 kthread_exit+0x1b/0x20
 </TASK>
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::LocksHeldAtExit);
    assert_eq!(r.title, "WARNING: still has locks held in fib_stat_gc_work");
    let t = r.task.as_ref().unwrap();
    assert_eq!((t.comm.as_str(), t.pid), ("kworker/0:1", Some(15)));
}

#[test]
fn suspicious_rcu_usage() {
    let text = format!(
        "\
=============================
WARNING: suspicious RCU usage
6.12.0 #1 Tainted: G           O
-----------------------------
net/fib_stat/netevent.c:88 suspicious rcu_dereference_check() usage!

other info that might help us debug this:


rcu_scheduler_active = 2, debug_locks = 1
no locks held by fibstat/231.

stack backtrace:
{TRACE_TAIL} lockdep_rcu_suspicious+0x155/0x190
 rcu_deref_check_helper+0x10/0x20
 fib_stat_lookup+0x8e/0xa0 [fib_stat]
 fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
 </TASK>
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::SuspiciousRcuUsage);
    assert_eq!(r.title, "WARNING: suspicious RCU usage in fib_stat_lookup");
    assert_eq!(
        r.message.as_deref(),
        Some("net/fib_stat/netevent.c:88 suspicious rcu_dereference_check() usage!")
    );
}

#[test]
fn invalid_wait_context() {
    let text = format!(
        "\
=============================
[ BUG: Invalid wait context ]
6.12.0 #1 Tainted: G           O
-----------------------------
swapper/0/0 is trying to lock:
ffff888104a2c1e0 (fib_stat_mutex){{+.+.}}-{{3:3}}, at: fib_stat_timer_fn+0x20/0x60 [fib_stat]
other info that might help us debug this:
context-{{2:2}}
1 lock held by swapper/0/0:
 #0: ffffffff82b3a0c0 (&base->lock){{-.-.}}-{{2:2}}, at: __run_timers+0x5d/0x2a0
stack backtrace:
{TRACE_TAIL} __lock_acquire+0x8e0/0x1c00
 lock_acquire+0xd0/0x2f0
 __mutex_lock+0x6a/0xa60
 fib_stat_timer_fn+0x20/0x60 [fib_stat]
 call_timer_fn+0x90/0x1a0
 </TASK>
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::InvalidWaitContext);
    // syzkaller titles it so on every architecture.
    assert_eq!(r.title, "WARNING: locking bug in fib_stat_timer_fn");
    let t = r.task.as_ref().unwrap();
    assert_eq!((t.comm.as_str(), t.pid), ("swapper/0", Some(0)));
    assert_eq!(r.lock.as_ref().unwrap().name, "fib_stat_mutex");
    assert_eq!(r.current_caller.as_deref(), Some("fib_stat_timer_fn"));
}

#[test]
fn sleeping_function_in_invalid_context() {
    let text = "\
[   70.1] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
[   70.1] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 231, name: fibstat
[   70.1] preempt_count: 1, expected: 0
[   70.1] RCU nest depth: 0, expected: 0
[   70.1] 1 lock held by fibstat/231:
[   70.1]  #0: ffff888104a2c1d8 (fib_statistics.lock){+.+.}-{2:2}, at: fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
[   70.1] Preemption disabled at:
[   70.1] [<ffffffffc0a01234>] fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
[   70.1] CPU: 0 UID: 0 PID: 231 Comm: fibstat Tainted: G           O       6.12.0 #1
[   70.1] Call Trace:
[   70.1]  <TASK>
[   70.1]  dump_stack_lvl+0x5d/0x80
[   70.1]  __might_resched+0x1c9/0x2d0
[   70.1]  __mutex_lock+0x6a/0xa60
[   70.1]  fib_stat_flush+0x22/0x70 [fib_stat]
[   70.1]  fib_stat_rcv_proc+0x1c8/0x3c0 [fib_stat]
[   70.1]  </TASK>
";
    let r = one(text);
    assert_eq!(r.kind, Kind::SleepingInInvalidContext);
    assert_eq!(
        r.title,
        "BUG: sleeping function called from invalid context in fib_stat_flush"
    );
    assert_eq!(r.message.as_deref(), Some("kernel/locking/mutex.c:585"));
    let t = r.task.as_ref().unwrap();
    assert_eq!((t.comm.as_str(), t.pid), ("fibstat", Some(231)));
    assert_eq!(r.held_locks.len(), 1);
    assert_eq!(r.current_stack.len(), 5);
    // A sleeping call in atomic context is no lock-context report: no
    // primitive to switch to, so no fix line.
    assert!(r.fix.is_none());
    let out = fibstat::explain::explain_bytes(text.as_bytes());
    let human = fibstat::explain::render::human(&out, true);
    assert!(!human.contains("fix:"), "{human}");
    let json = fibstat::explain::render::json(&out, false);
    assert!(json.contains("\"fix\":null"), "{json}");
}

#[test]
fn softirq_safe_to_unsafe_lock_order() {
    let text = format!(
        "\
=====================================================
WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected
6.12.0 #1 Tainted: G           O
-----------------------------------------------------
fibstat/231 [HC0[0]:SC0[0]:HE0:SE0] is trying to acquire:
ffff888104a2c1d8 (fib_statistics.lock){{+.+.}}-{{2:2}}, at: fib_stat_record+0x44/0x120 [fib_stat]

and this task is already holding:
ffff888100e3a0b0 (&tbl->lock){{+.-.}}-{{2:2}}, at: neigh_lookup+0x3c/0x200
which would create a new lock dependency:
 (&tbl->lock){{+.-.}}-{{2:2}} -> (fib_statistics.lock){{+.+.}}-{{2:2}}

but this new dependency connects a SOFTIRQ-irq-safe lock:
 (&tbl->lock){{+.-.}}-{{2:2}}

... which became SOFTIRQ-irq-safe at:
  lock_acquire+0xd0/0x2f0
  _raw_write_lock+0x2e/0x40
  neigh_timer_handler+0x5a/0x3c0
  call_timer_fn+0x90/0x1a0

to a SOFTIRQ-irq-unsafe lock:
 (fib_statistics.lock){{+.+.}}-{{2:2}}

... which became SOFTIRQ-irq-unsafe at:
...
  lock_acquire+0xd0/0x2f0
  _raw_spin_lock+0x30/0x40
  fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
  netlink_rcv_skb+0x57/0x110

other info that might help us debug this:

 Possible interrupt unsafe locking scenario:

       CPU0                    CPU1
       ----                    ----
  lock(fib_statistics.lock);
                               local_irq_disable();
                               lock(&tbl->lock);
                               lock(fib_statistics.lock);
  <Interrupt>
    lock(&tbl->lock);

 *** DEADLOCK ***

1 lock held by fibstat/231:
 #0: ffff888100e3a0b0 (&tbl->lock){{+.-.}}-{{2:2}}, at: neigh_lookup+0x3c/0x200

the dependencies between SOFTIRQ-irq-safe lock and the holding lock:
-> (&tbl->lock){{+.-.}}-{{2:2}} {{
   IN-SOFTIRQ-W at:
                    lock_acquire+0xd0/0x2f0
                    neigh_timer_handler+0x5a/0x3c0
 }}

the dependencies between the lock to be acquired and SOFTIRQ-irq-unsafe lock:
-> (fib_statistics.lock){{+.+.}}-{{2:2}} {{
   HARDIRQ-ON-W at:
                    lock_acquire+0xd0/0x2f0
                    fib_stat_rcv_proc+0x1a2/0x3c0 [fib_stat]
 }}

stack backtrace:
{TRACE_TAIL} __lock_acquire+0x8e0/0x1c00
 lock_acquire+0xd0/0x2f0
 _raw_spin_lock+0x30/0x40
 fib_stat_record+0x44/0x120 [fib_stat]
 neigh_update+0x20/0x40
 </TASK>
"
    );
    let r = one(&text);
    assert_eq!(r.kind, Kind::IrqSafeUnsafeOrder);
    assert_eq!(r.title, "possible deadlock in fib_stat_record");
    assert_eq!(r.irq_kind.as_deref(), Some("softirq"));
    assert_eq!(r.lock.as_ref().unwrap().name, "fib_statistics.lock");
    assert_eq!(r.held_lock.as_ref().unwrap().name, "&tbl->lock");
    assert_eq!(r.irq_safe_lock.as_ref().unwrap().name, "&tbl->lock");
    assert_eq!(
        r.irq_unsafe_lock.as_ref().unwrap().name,
        "fib_statistics.lock"
    );
    let t = r.task.as_ref().unwrap();
    assert_eq!(t.flags.as_deref(), Some("HC0[0]:SC0[0]:HE0:SE0"));
    assert_eq!(r.registration_caller.as_deref(), Some("fib_stat_rcv_proc"));
    assert_eq!(r.process_side_caller.as_deref(), Some("fib_stat_rcv_proc"));
    assert_eq!(r.current_caller.as_deref(), Some("fib_stat_record"));
    let fix = r.fix.as_ref().unwrap();
    assert_eq!(fix.primitive.as_deref(), Some("spin_lock_bh"));
    assert_eq!(fix.apply_to.as_deref(), Some("fib_stat_rcv_proc"));
}

#[test]
fn old_kernel_info_banner_lowercase_states() {
    // 2.6-era format: `[ INFO: ... ]`, lower-case states, no address, six
    // usage characters (RECLAIM_FS).
    let text = "\
Sep 29 13:29:53 mcs70 kernel: =================================
Sep 29 13:29:53 mcs70 kernel: [ INFO: inconsistent lock state ]
Sep 29 13:29:53 mcs70 kernel: ---------------------------------
Sep 29 13:29:53 mcs70 kernel: inconsistent {hardirq-on-W} -> {in-hardirq-W} usage.
Sep 29 13:29:53 mcs70 kernel: startDV24/3864 [HC1[1]:SC0[0]:HE0:SE1] takes:
Sep 29 13:29:53 mcs70 kernel:  (&acm->read_lock){?.+...}, at: [<e08952d8>] acm_read_bulk+0x60/0xde [cdc_acm]
Sep 29 13:29:53 mcs70 kernel: {hardirq-on-W} state was registered at:
Sep 29 13:29:53 mcs70 kernel:   [<c01321f3>] lock_acquire+0x4b/0x6a
Sep 29 13:29:53 mcs70 kernel:   [<c0295a7c>] _spin_lock+0x19/0x28
Sep 29 13:29:53 mcs70 kernel:   [<e0895a21>] acm_rx_tasklet+0x2f/0x2f5 [cdc_acm]
Sep 29 13:29:53 mcs70 kernel: stack backtrace:
Sep 29 13:29:53 mcs70 kernel:  [<c0103d9d>] show_trace+0x16/0x19
Sep 29 13:29:53 mcs70 kernel:  [<c0132000>] ? lock_acquire+0x4b/0x6a
Sep 29 13:29:53 mcs70 kernel:  [<c0295a7c>] _spin_lock+0x19/0x28
Sep 29 13:29:53 mcs70 kernel:  [<e08952d8>] acm_read_bulk+0x60/0xde [cdc_acm]
Sep 29 13:29:53 mcs70 kernel:  [<c025a6a1>] usb_hcd_giveback_urb+0x28/0x4f
Sep 29 13:29:54 mcs70 kernel: usb 1-1: USB disconnect
";
    let r = one(text);
    assert_eq!(r.kind, Kind::InconsistentLockState);
    assert_eq!(r.title, "inconsistent lock state in acm_read_bulk");
    let tr = r.transition.as_ref().unwrap();
    assert_eq!(
        (tr.from.as_str(), tr.to.as_str()),
        ("HARDIRQ-ON-W", "IN-HARDIRQ-W")
    );
    let lock = r.lock.as_ref().unwrap();
    assert_eq!(lock.name, "&acm->read_lock");
    assert_eq!(lock.address, None);
    assert_eq!(lock.usage_decoded.len(), 6);
    assert_eq!(lock.usage_decoded[4].irq, "reclaim_fs");
    assert_eq!(r.registration_caller.as_deref(), Some("acm_rx_tasklet"));
    assert_eq!(r.current_caller.as_deref(), Some("acm_read_bulk"));
    assert_eq!(r.process_side_caller.as_deref(), Some("acm_rx_tasklet"));
    assert_eq!(
        r.fix.as_ref().unwrap().primitive.as_deref(),
        Some("spin_lock_irqsave")
    );
}
