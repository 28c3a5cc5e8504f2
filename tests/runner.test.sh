# shellcheck shell=bash
# The guest runner as a Rust-for-Linux developer uses it on their own work:
# their own kernel (a copy of the project kernel in another directory) and
# their own modules (tiny C modules built here), a kernel missing what the
# guest needs refused by name, --dry-run, live output, the quiet default,
# the interactive shell on a pseudo-terminal, gdb attached to the stub;
# --help everywhere; KTAP output; make module KDIR checks; rust-analyzer.

# --- fixtures ---

# _my_kernel: $TEST_TMP/mykernel, the project kernel's bzImage and .config in a
# tree of their own (what vm-run reads of a built kernel directory).
_my_kernel() {
	local k=$TEST_TMP/mykernel src
	src=$(readlink -f "$ROOT/build/kernel")
	if [ ! -f "$k/arch/x86/boot/bzImage" ]; then
		mkdir -p "$k/arch/x86/boot"
		cp "$src/arch/x86/boot/bzImage" "$k/arch/x86/boot/"
		cp "$src/.config" "$k/.config"
	fi
	echo "$k"
}

# _my_modules: $TEST_TMP/mymod/{mymod,mydep}.ko, built against the project
# kernel: mymod exports mymod_magic (0x5eed1234, in .data) and mymod_get_magic
# (in .text), mydep uses the variable (so mydep loads only after mymod).
_my_modules() {
	local d=$TEST_TMP/mymod
	if [ ! -f "$d/mydep.ko" ]; then
		mkdir -p "$d"
		cat >"$d/mymod.c" <<-'EOF'
		#include <linux/init.h>
		#include <linux/module.h>
		int mymod_magic = 0x5eed1234;
		EXPORT_SYMBOL_GPL(mymod_magic);
		noinline int mymod_get_magic(void)
		{
			return READ_ONCE(mymod_magic);
		}
		EXPORT_SYMBOL_GPL(mymod_get_magic);
		static int __init mymod_init(void)
		{
			pr_info("mymod: loaded, magic %#x\n", mymod_get_magic());
			return 0;
		}
		static void __exit mymod_exit(void)
		{
			pr_info("mymod: unloaded\n");
		}
		module_init(mymod_init);
		module_exit(mymod_exit);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module");
		EOF
		cat >"$d/mydep.c" <<-'EOF'
		#include <linux/init.h>
		#include <linux/module.h>
		extern int mymod_magic;
		static int __init mydep_init(void)
		{
			pr_info("mydep: loaded, sees magic %#x\n", mymod_magic);
			return 0;
		}
		static void __exit mydep_exit(void)
		{
		}
		module_init(mydep_init);
		module_exit(mydep_exit);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module that needs mymod");
		EOF
		echo 'obj-m := mymod.o mydep.o' >"$d/Kbuild"
		make -C "$ROOT/build/kernel" M="$d" LLVM=-19 modules >"$d/build.log" 2>&1 ||
			_fail "building the test modules failed: $(tail -n 20 "$d/build.log")"
	fi
	if [ ! -f "$d/mymod.ko" ] || [ ! -f "$d/mydep.ko" ]; then _fail "no $d/mymod.ko or mydep.ko"; fi
	echo "$d"
}

# _lockbug_modules: $TEST_TMP/lockbug/*.ko, built against the project kernel
# from one source: a spinlock taken with spin_lock() in process context (module
# init) and then in interrupt context, lockbug_soft.ko in a timer (softirq),
# lockbug_hard.ko in an HRTIMER_MODE_REL_HARD hrtimer (hardirq); their fixed
# versions take it with spin_lock_bh() / spin_lock_irqsave() in init. And
# initfail.ko, whose init logs one line and fails with -ENODEV.
_lockbug_modules() {
	local d=$TEST_TMP/lockbug m
	if [ ! -f "$d/initfail.ko" ]; then
		mkdir -p "$d"
		cat >"$d/lockbug.c" <<-'EOF'
		#include <linux/completion.h>
		#include <linux/hrtimer.h>
		#include <linux/init.h>
		#include <linux/module.h>
		#include <linux/spinlock.h>
		#include <linux/timer.h>
		static DEFINE_SPINLOCK(lockbug_lock);
		static unsigned long lockbug_count;
		static DECLARE_COMPLETION(lockbug_done);
		#ifdef HARD
		static struct hrtimer lockbug_timer;
		static enum hrtimer_restart lockbug_hardirq_fn(struct hrtimer *t)
		{
			spin_lock(&lockbug_lock);
			lockbug_count++;
			spin_unlock(&lockbug_lock);
			complete(&lockbug_done);
			return HRTIMER_NORESTART;
		}
		#else
		static struct timer_list lockbug_timer;
		static void lockbug_softirq_fn(struct timer_list *t)
		{
			spin_lock(&lockbug_lock);
			lockbug_count++;
			spin_unlock(&lockbug_lock);
			complete(&lockbug_done);
		}
		#endif
		static int __init lockbug_init(void)
		{
		#if defined(FIXED) && defined(HARD)
			unsigned long flags;
			spin_lock_irqsave(&lockbug_lock, flags);
			lockbug_count++;
			spin_unlock_irqrestore(&lockbug_lock, flags);
		#elif defined(FIXED)
			spin_lock_bh(&lockbug_lock);
			lockbug_count++;
			spin_unlock_bh(&lockbug_lock);
		#else
			spin_lock(&lockbug_lock);
			lockbug_count++;
			spin_unlock(&lockbug_lock);
		#endif
		#ifdef HARD
			hrtimer_init(&lockbug_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
			lockbug_timer.function = lockbug_hardirq_fn;
			hrtimer_start(&lockbug_timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
		#else
			timer_setup(&lockbug_timer, lockbug_softirq_fn, 0);
			mod_timer(&lockbug_timer, jiffies + 1);
		#endif
			wait_for_completion(&lockbug_done);
			pr_info("%s: both sides took the lock (%lu)\n", KBUILD_MODNAME, lockbug_count);
			return 0;
		}
		static void __exit lockbug_exit(void)
		{
		#ifdef HARD
			hrtimer_cancel(&lockbug_timer);
		#else
			timer_delete_sync(&lockbug_timer);
		#endif
		}
		module_init(lockbug_init);
		module_exit(lockbug_exit);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module: a lock taken in process and interrupt context");
		EOF
		cat >"$d/initfail.c" <<-'EOF'
		#include <linux/init.h>
		#include <linux/module.h>
		static int __init initfail_init(void)
		{
			pr_info("initfail: init runs\n");
			return -ENODEV;
		}
		module_init(initfail_init);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module whose init fails");
		EOF
		for m in lockbug_soft lockbug_soft_fixed lockbug_hard lockbug_hard_fixed; do cp "$d/lockbug.c" "$d/$m.c"; done
		cat >"$d/Kbuild" <<-'EOF'
		obj-m := lockbug_soft.o lockbug_soft_fixed.o lockbug_hard.o lockbug_hard_fixed.o initfail.o
		CFLAGS_lockbug_soft_fixed.o := -DFIXED
		CFLAGS_lockbug_hard.o := -DHARD
		CFLAGS_lockbug_hard_fixed.o := -DHARD -DFIXED
		EOF
		make -C "$ROOT/build/kernel" M="$d" LLVM=-19 modules >"$d/build.log" 2>&1 ||
			_fail "building the lockbug test modules failed: $(tail -n 20 "$d/build.log")"
	fi
	echo "$d"
}

# _stub_qemu: a PATH directory whose qemu-system-x86_64 only records that it ran.
_stub_qemu() {
	local d=$TEST_TMP/stub
	mkdir -p "$d"
	# shellcheck disable=SC2016 # the stub's own $0 and $*
	printf '#!/bin/sh\necho "$0 $*" >>%q/ran\nexit 1\n' "$d" >"$d/qemu-system-x86_64"
	chmod +x "$d/qemu-system-x86_64"
	rm -f "$d/ran"
	echo "$d"
}

# _wait_for PATTERN FILE SECONDS [PID]: until a line of FILE matches (and PID, if
# given, still runs); fails on the deadline or when PID ends first.
_wait_for() {
	local end=$((SECONDS + $3))
	while ! grep -qE -- "$1" "$2" 2>/dev/null; do
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || _fail "process $4 ended before /$1/ appeared in $2"
		[ $SECONDS -lt $end ] || _fail "no /$1/ in $2 within $3 s: $(tail -n 20 "$2" 2>/dev/null)"
		sleep 0.2
	done
}

# --- own kernel, own modules ---

test_my_kernel_and_my_modules_in_order() {
	local k d o=$TEST_TMP/mine.out
	k=$(_my_kernel)
	d=$(_my_modules)
	vm "$o" --kernel "$k" --module "$d/mymod.ko" --module="$d/mydep.ko" --topology veth -- \
		sh -c 'cut -d" " -f1 /proc/modules; dmesg | grep -E "^\[ *[0-9.]+\] (mymod|mydep):"; /usr/sbin/ip -n ns1 -br addr show fs0'
	check_eq "vm-run status" 0 "$vm_rc"
	command_output "$o" >"$o.cmd"
	# /proc/modules lists the newest first.
	check_eq "modules loaded" "mydep mymod" "$(sed -n '1,2p' "$o.cmd" | tr '\n' ' ' | sed 's/ $//')"
	check_grep "mymod loaded first" '\] mymod: loaded, magic 0x5eed1234$' "$o.cmd"
	check_grep "then mydep, which needs it" '\] mydep: loaded, sees magic 0x5eed1234$' "$o.cmd"
	[ "$(grep -n 'mymod: loaded' "$o.cmd" | cut -d: -f1)" -lt "$(grep -n 'mydep: loaded' "$o.cmd" | cut -d: -f1)" ] ||
		_fail "mydep loaded before mymod"
	check_grep "topology up too" '^fs0@[a-z0-9]+ +UP +198\.51\.100\.1/24' "$o.cmd"
	check_clean_log "own kernel and modules" "$o"
	# The image that booted is the copy: the QEMU command line says so.
	local line
	line=$("$VM_RUN" --dry-run --kernel "$k" -- true 2>"$TEST_TMP/mine.dry.err")
	rm -rf "$(sed -n 's/^vm-run: --dry-run: kept \([^ ]*\) .*/\1/p' "$TEST_TMP/mine.dry.err")"
	[[ "$line" == *" -kernel $k/arch/x86/boot/bzImage "* ]] || _fail "--kernel DIR not used as the image: $line"
}

test_module_that_does_not_load_is_126() {
	local k d o=$TEST_TMP/order.out
	k=$(_my_kernel)
	d=$(_my_modules)
	# Wrong order: mydep cannot resolve mymod_magic.
	vm "$o" --kernel "$k" --module "$d/mydep.ko" --module "$d/mymod.ko" -- echo must-not-run
	check_eq "vm-run status" 126 "$vm_rc"
	check_grep "insmod's error, with the module named" "^vm-run: guest setup failed: insmod $d/mydep\.ko: insmod: can't insert '[^']*mydep\.ko': unknown symbol in module" "$o"
	check_no_grep "COMMAND did not run" 'must-not-run' "$o"
	check_grep "the kernel says which symbol" 'mydep: Unknown symbol mymod_magic' "$o"
	# Not a module at all.
	printf 'not an ELF file' >"$TEST_TMP/junk.ko"
	vm "$o" --kernel "$k" --module "$TEST_TMP/junk.ko" -- true
	check_eq "vm-run status for junk.ko" 126 "$vm_rc"
	check_grep "insmod's error" "^vm-run: guest setup failed: insmod $TEST_TMP/junk\.ko: insmod: can't insert '[^']*junk\.ko': invalid module format" "$o"
}

# _fake_guest: a PATH directory whose qemu-system-x86_64 plays a guest that ran
# COMMAND: console and output lines through vm-run's FIFOs, then $FAKE_DMESG as
# the guest's dmesg, debug_locks $FAKE_DEBUG_LOCKS, status $FAKE_STATUS; and
# $TEST_TMP/fake-vmlinuz, a file with a bzImage header to boot.
_fake_guest() {
	local d=$TEST_TMP/fakeguest
	mkdir -p "$d"
	cat >"$d/qemu-system-x86_64" <<-'EOF'
	#!/bin/bash
	for a; do case "$a" in local,id=ctl,path=*) ctl=${a#local,id=ctl,path=}; ctl=${ctl%%,*} ;; esac; done
	printf 'fib-stat: COMMAND starts\nfib-stat: COMMAND ended\n' >"$ctl/console.fifo"
	echo "fake COMMAND output" >"$ctl/out.fifo"
	cat "$FAKE_DMESG" >"$ctl/dmesg"
	printf ' debug_locks: %s\n' "${FAKE_DEBUG_LOCKS:-1}" >"$ctl/lockdep_stats"
	echo "${FAKE_STATUS:-0}" >"$ctl/status"
	EOF
	chmod +x "$d/qemu-system-x86_64"
	{ head -c 514 /dev/zero; printf HdrS; head -c 1000 /dev/zero; } >"$TEST_TMP/fake-vmlinuz"
	echo "$d"
}

# The verdict on the kernel log, with a fake guest (no boot): every distinct
# report one line (kind, title, count), the status 123 unless each is allowed,
# COMMAND's status otherwise; lockdep off without a report counts; a parser
# that fails is no success.
test_report_verdict_with_a_fake_guest() {
	local fake k=$TEST_TMP/fake-dmesg o=$TEST_TMP/fake.out keep=$TEST_TMP/fake-keep
	fake=$(_fake_guest)
	mkdir -p "$keep"
	printf '%s\n' '[    0.000000] Linux version 6.12.0-fib-stat' \
		'[    1.000000] WARNING: CPU: 0 PID: 1 at fake.c:1 fake_report+0x0/0x10' '[    1.000001] Modules linked in:' \
		'[    2.000000] UBSAN: array-index-out-of-bounds in fake.c:3:5' "[    2.000001] index 4 is out of range for type 'int[4]'" \
		'[    2.000003] Call Trace:' '[    2.000004]  <TASK>' '[    2.000005]  fake_index+0x10/0x20' '[    2.000006]  </TASK>' \
		'[    2.100000] ---[ end trace ]---' \
		'[    3.000000] WARNING: CPU: 0 PID: 1 at fake.c:1 fake_report+0x0/0x10' >"$k"
	_fake_run() { # STATUS DMESG DEBUG_LOCKS vm-run args...
		local st=$1 dm=$2 dl=$3
		shift 3
		vm_rc=0
		FAKE_STATUS=$st FAKE_DMESG=$dm FAKE_DEBUG_LOCKS=$dl FIB_STAT_ACCEL=tcg TMPDIR=$keep PATH=$fake:$PATH \
			"$VM_RUN" --kernel "$TEST_TMP/fake-vmlinuz" "$@" -- true >"$o" 2>"$o.err" || vm_rc=$?
		grep '^vm-run: guest kernel report' "$o.err" >"$o.reports" || true
	}
	_fake_run 0 "$k" 0
	check_eq "status with two kinds of reports" 123 "$vm_rc"
	check_eq "one line per distinct report" "vm-run: guest kernel report: warning: WARNING in fake_report (2 times)|vm-run: guest kernel report: ubsan: UBSAN: array-index-out-of-bounds in fake_index" \
		"$(tr '\n' '|' <"$o.reports" | sed 's/|$//')"
	check_grep "the exit line" '^vm-run: the guest kernel reported: exit 123 \(COMMAND exited 0\); kept ' "$o.err"
	check_eq "COMMAND's output still on stdout" "fake COMMAND output" "$(cat "$o")"
	_fake_run 3 "$k" 0
	check_eq "status when COMMAND failed too" 123 "$vm_rc"
	check_grep "COMMAND's status in the exit line" '^vm-run: the guest kernel reported: exit 123 \(COMMAND exited 3\); kept ' "$o.err"
	_fake_run 0 "$k" 0 --allow-reports=ubsan
	check_eq "one of two kinds allowed" 123 "$vm_rc"
	check_grep "the allowed one says so" '^vm-run: guest kernel report, allowed: ubsan: ' "$o.reports"
	_fake_run 3 "$k" 0 --allow-reports=ubsan --allow-reports=warning
	check_eq "both allowed: COMMAND's status" 3 "$vm_rc"
	_fake_run 0 "$k" 0 --allow-reports
	check_eq "all allowed" 0 "$vm_rc"
	check_eq "every line says allowed" 2 "$(grep -c '^vm-run: guest kernel report, allowed: ' "$o.reports")"
	printf '[    0.000000] Linux version 6.12.0-fib-stat\n' >"$k.clean"
	_fake_run 0 "$k.clean" 1
	check_eq "a clean log" 0 "$vm_rc"
	check_eq "nothing printed but the note on the unchecked image" "vm-run: cannot check $TEST_TMP/fake-vmlinuz: no .config next to it and no CONFIG_IKCONFIG in it; booting it unchecked (give the built tree with --kernel DIR to have it checked)" \
		"$(cat "$o.err")"
	_fake_run 0 "$k.clean" 0
	check_eq "lockdep off without a report" 123 "$vm_rc"
	check_eq "its line" "vm-run: guest kernel report: debug_locks_off: lockdep turned itself off (debug_locks 0) and the log holds no report fibstat explain knows" "$(cat "$o.reports")"
	_fake_run 0 "$k.clean" 0 --allow-reports=debug_locks_off
	check_eq "lockdep off, allowed by kind" 0 "$vm_rc"
	: >"$k.empty"
	_fake_run 0 "$k.empty" 1
	check_eq "an empty kernel log (fibstat explain warns about it)" 0 "$vm_rc"
	check_eq "no report in an empty log" "" "$(cat "$o.reports")"
	check_eq "nothing kept" "" "$(find "$keep" -mindepth 1 -maxdepth 1 -newer "$k.empty")"
	# A parser that fails gives no verdict: status 2, the log kept.
	local b=$TEST_TMP/fake-build f
	mkdir -p "$b/bin"
	for f in initramfs.cpio initramfs.cpio.key initramfs.cpio.list; do ln -sf "$ROOT/build/$f" "$b/$f"; done
	printf '#!/bin/sh\necho "fibstat: broken" >&2\nexit 2\n' >"$b/bin/fibstat"
	chmod +x "$b/bin/fibstat"
	FIB_STAT_BUILD=$b _fake_run 0 "$k.clean" 1
	check_eq "status when fibstat explain fails" 2 "$vm_rc"
	check_grep "why" "^vm-run: error: $b/bin/fibstat explain could not read the guest kernel log \(exit 2: fibstat: broken\): rebuild it with 'make tool'; the log is kept in $keep/fib-stat-vm\.[A-Za-z0-9]+/kernel\.log \(guest status 0\)$" "$o.err"
}

# A module's init that fails runs once: vm-run loads with one finit_module()
# (busybox insmod would retry with init_module() and run it again).
test_failing_module_init_runs_once() {
	local d o=$TEST_TMP/initfail.out
	d=$(_lockbug_modules)
	vm "$o" --module "$d/initfail.ko" -- echo must-not-run
	check_eq "vm-run status" 126 "$vm_rc"
	check_grep "insmod's error" "^vm-run: guest setup failed: insmod $d/initfail\.ko: insmod: can't insert '/run/fib-stat/mod/1/initfail\.ko': No such device$" "$o"
	check_eq "times the init ran" 1 "$(kernel_log "$o" | grep -c '\] initfail: init runs$')"
}

# _report_run NAME MODULE [vm-run options...]: MODULE.ko of _lockbug_modules in
# a guest (TMPDIR of its own: a kept control directory lands there).
_report_run() {
	local name=$1 ko=$2 d
	shift 2
	d=$(_lockbug_modules)
	mkdir -p "$TEST_TMP/keep-$name"
	TMPDIR=$TEST_TMP/keep-$name vm "$TEST_TMP/$name.out" --module "$d/$ko.ko" "$@" -- true
}

# A lock taken with spin_lock() in process context and in a timer (softirq):
# lockdep's report makes vm-run exit 123 with one line naming it and a command
# that decodes it with source lines; --allow-reports=KIND lets it through; the
# fixed module (spin_lock_bh) exits 0.
test_softirq_lock_bug_exits_123() {
	local o=$TEST_TMP/softbug.out keep cmd line
	_report_run softbug lockbug_soft
	check_eq "vm-run status" 123 "$vm_rc"
	check_grep "lockdep's report" 'inconsistent \{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\} usage\.' "$o"
	check_eq "the report, one line" "vm-run: guest kernel report: inconsistent_lock_state: inconsistent lock state in lockbug_softirq_fn" \
		"$(grep '^vm-run: guest kernel report' "$o.tty")"
	keep=$(find "$TEST_TMP/keep-softbug" -mindepth 1 -maxdepth 1 -name 'fib-stat-vm.*')
	if [ -z "$keep" ] || [ ! -f "$keep/kernel.log" ] || [ ! -f "$keep/mod/1/lockbug_soft.ko" ]; then
		_fail "no kept control directory with kernel.log and the module: '$keep'"
	fi
	check_eq "how to decode it" "vm-run: decode with source lines: $ROOT/build/bin/fibstat explain --vmlinux $ROOT/build/kernel/vmlinux --modules $keep $keep/kernel.log" \
		"$(grep '^vm-run: decode with source lines: ' "$o.tty")"
	check_eq "why the status" "vm-run: the guest kernel reported: exit 123 (COMMAND exited 0); kept $keep (kernel.log, the modules; rm -rf it when done); --allow-reports[=KIND,...] accepts reports" \
		"$(tail -n 1 "$o.tty")"
	check_grep "--log has the lines too" '^vm-run: guest kernel report: inconsistent_lock_state: ' "$o"
	# The printed command decodes the report down to the module's source line.
	cmd=$(sed -n 's/^vm-run: decode with source lines: //p' "$o.tty")
	line=$(awk '/^static void lockbug_softirq_fn/ { f = 1 } f && /spin_lock\(&lockbug_lock\)/ { print NR; exit }' "$TEST_TMP/lockbug/lockbug_soft.c")
	eval "$cmd" >"$o.decoded" 2>&1 || _fail "the decode command failed: $(tail -n 5 "$o.decoded")"
	check_grep "decoded to the interrupt side's source line" "lockbug_soft\.c:$line" "$o.decoded"
	# Allowed by kind: status 0, the line says so; another kind allowed: still 123.
	_report_run softbug-allowed lockbug_soft --allow-reports=warning,inconsistent_lock_state
	check_eq "status with --allow-reports=warning,inconsistent_lock_state" 0 "$vm_rc"
	check_eq "the report, allowed" "vm-run: guest kernel report, allowed: inconsistent_lock_state: inconsistent lock state in lockbug_softirq_fn" \
		"$(grep '^vm-run: guest kernel report' "$TEST_TMP/softbug-allowed.out.tty")"
	check_eq "nothing kept when allowed" "" "$(ls -A "$TEST_TMP/keep-softbug-allowed")"
	# The fix: spin_lock_bh() in process context.
	_report_run softfixed lockbug_soft_fixed
	check_eq "status of the fixed module" 0 "$vm_rc"
	check_grep "both sides ran" '\] lockbug_soft_fixed: both sides took the lock \(2\)$' "$TEST_TMP/softfixed.out"
	check_no_grep "no report line" '^vm-run: guest kernel report' "$TEST_TMP/softfixed.out.tty"
	check_clean_log "fixed softirq module" "$TEST_TMP/softfixed.out"
}

# A report no longer in the ring buffer when the guest dumps it (overrun in real
# life; cleared here by COMMAND with dmesg -c after the module's init, which waits
# for both sides) still counts: vm-run reads the serial console too.
test_report_only_on_the_serial_console_counts() {
	local o=$TEST_TMP/console-only.out d
	d=$(_lockbug_modules)
	vm "$o" --module "$d/lockbug_soft.ko" -- sh -c 'dmesg -c >/dev/null'
	check_eq "vm-run status" 123 "$vm_rc"
	kernel_log "$o" >"$o.klog"
	check_no_grep "the dumped log lost the report" 'inconsistent lock state' "$o.klog"
	check_eq "the report, one line" "vm-run: guest kernel report: inconsistent_lock_state: inconsistent lock state in lockbug_softirq_fn (on the serial console only, not in the dumped log)" \
		"$(grep '^vm-run: guest kernel report' "$o.tty")"
}

# The same in hard-irq context: an HRTIMER_MODE_REL_HARD hrtimer; the fix is
# spin_lock_irqsave().
test_hardirq_lock_bug_exits_123() {
	local o=$TEST_TMP/hardbug.out
	_report_run hardbug lockbug_hard
	check_eq "vm-run status" 123 "$vm_rc"
	check_grep "lockdep's report" 'inconsistent \{HARDIRQ-ON-W\} -> \{IN-HARDIRQ-W\} usage\.' "$o"
	check_eq "the report, one line" "vm-run: guest kernel report: inconsistent_lock_state: inconsistent lock state in lockbug_hardirq_fn" \
		"$(grep '^vm-run: guest kernel report' "$o.tty")"
	_report_run hardfixed lockbug_hard_fixed
	check_eq "status of the fixed module" 0 "$vm_rc"
	check_grep "both sides ran" '\] lockbug_hard_fixed: both sides took the lock \(2\)$' "$TEST_TMP/hardfixed.out"
	check_clean_log "fixed hardirq module" "$TEST_TMP/hardfixed.out"
}

test_bare_image_boots_unchecked() {
	local k o=$TEST_TMP/bare.out
	k=$(_my_kernel)
	mkdir -p "$TEST_TMP/bare"
	cp "$k/arch/x86/boot/bzImage" "$TEST_TMP/bare/vmlinuz-test"
	vm "$o" --kernel "$TEST_TMP/bare/vmlinuz-test" -- uname -r
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "says what it could not check" "^vm-run: cannot check $TEST_TMP/bare/vmlinuz-test: no \.config next to it and no CONFIG_IKCONFIG in it" "$o.tty"
	check_eq "uname -r" "$(cat "$ROOT/build/kernel/include/config/kernel.release")" "$(command_output "$o")"
	# config-VERSION next to vmlinuz-VERSION (as in /boot) is read.
	cp "$k/.config" "$TEST_TMP/bare/config-test"
	vm "$o" --kernel "$TEST_TMP/bare/vmlinuz-test" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_no_grep "checked this time" 'cannot check' "$o.tty"
}

test_kernel_missing_options_is_refused() {
	local k bad=$TEST_TMP/badkernel stub rc=0
	k=$(_my_kernel)
	stub=$(_stub_qemu)
	mkdir -p "$bad/arch/x86/boot"
	cp "$k/arch/x86/boot/bzImage" "$bad/arch/x86/boot/"
	sed -e 's/^CONFIG_VMXNET3=y$/# CONFIG_VMXNET3 is not set/' -e 's/^CONFIG_9P_FS=y$/CONFIG_9P_FS=m/' "$k/.config" >"$bad/.config"
	PATH=$stub:$PATH "$VM_RUN" --kernel "$bad" --topology vmxnet3 -- true >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status" 2 "$rc"
	check_eq "first line names every missing option" \
		"vm-run: error: $bad/arch/x86/boot/bzImage lacks what the guest needs: CONFIG_9P_FS=m CONFIG_VMXNET3" \
		"$(head -n 1 "$TEST_TMP/bad.err")"
	check_grep "why 9P_FS" '^  missing: CONFIG_9P_FS=m must be =y \(9p over virtio' "$TEST_TMP/bad.err"
	check_grep "why VMXNET3" '^  missing: CONFIG_VMXNET3 \(--topology vmxnet3\)$' "$TEST_TMP/bad.err"
	check_grep "the fix" 'Merge kernel/fib-stat\.config into the kernel config' "$TEST_TMP/bad.err"
	[ ! -e "$stub/ran" ] || _fail "QEMU was started for a refused kernel: $(cat "$stub/ran")"
	# Without the vmxnet3 topology, VMXNET3 is not needed; 9P_FS always is.
	rc=0
	PATH=$stub:$PATH "$VM_RUN" --kernel "$bad" --topology veth -- true >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status (veth)" 2 "$rc"
	check_eq "first line (veth)" "vm-run: error: $bad/arch/x86/boot/bzImage lacks what the guest needs: CONFIG_9P_FS=m" "$(head -n 1 "$TEST_TMP/bad.err")"
	# A bare image with the config built in (CONFIG_IKCONFIG): the config is
	# found inside (an LZ4 payload, as in the project's bzImage) and checked.
	local ik=$TEST_TMP/ikconfig-image
	{
		head -c 514 /dev/zero
		printf HdrS # the bzImage header's magic, at 0x202
		head -c 3578 /dev/zero
		{ head -c 1000 /dev/urandom; printf 'IKCFG_ST'; gzip -9c "$bad/.config"; printf 'IKCFG_ED'; head -c 1000 /dev/urandom; } | lz4 -l -c
	} >"$ik"
	rc=0
	PATH=$stub:$PATH "$VM_RUN" --kernel "$ik" --topology vmxnet3 --dry-run -- true >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status (IKCONFIG)" 2 "$rc"
	check_eq "first line (IKCONFIG)" "vm-run: error: $ik lacks what the guest needs: CONFIG_9P_FS=m CONFIG_VMXNET3" "$(head -n 1 "$TEST_TMP/bad.err")"
	check_grep "where the config came from" "config read from the config built into $ik \(CONFIG_IKCONFIG\)" "$TEST_TMP/bad.err"
	[ ! -e "$stub/ran" ] || _fail "QEMU was started: $(cat "$stub/ran")"
}

# _refused WANT vm-run ARGS...: vm-run exits 2 with the one line WANT on stderr,
# nothing on stdout, QEMU not started (a stub on PATH records any start).
_refused() {
	local want=$1 stub rc=0
	shift
	stub=$(_stub_qemu)
	PATH=$stub:$PATH "$VM_RUN" "$@" >"$TEST_TMP/refused.out" 2>"$TEST_TMP/refused.err" || rc=$?
	check_eq "status of vm-run $*" 2 "$rc"
	check_eq "stderr of vm-run $*" "$want" "$(cat "$TEST_TMP/refused.err")"
	check_eq "stdout of vm-run $*" "" "$(cat "$TEST_TMP/refused.out")"
	[ ! -e "$stub/ran" ] || _fail "vm-run $* started QEMU: $(cat "$stub/ran")"
}

# Host-side mistakes are found before the guest boots: one line, what failed and what to do.
test_refused_before_boot() {
	local h=$TEST_TMP/hostcmd
	mkdir -p "$h"
	printf '#!/bin/sh\necho hi\n' >"$h/test.sh"
	chmod +x "$h/test.sh"
	_refused "vm-run: error: --log $TEST_TMP/no-such-dir/run.log: cannot write it (No such file or directory): give a file in a writable directory" \
		--log "$TEST_TMP/no-such-dir/run.log" -- true
	_refused "vm-run: error: --log /etc/passwd/run.log: cannot write it (Not a directory): give a file in a writable directory" \
		--log /etc/passwd/run.log -- true
	_refused "vm-run: error: --log $TEST_TMP is a directory: give a file path" --log "$TEST_TMP" -- true
	_refused "vm-run: error: --kernel /etc/passwd is not a bzImage (no \"HdrS\" boot header at offset 0x202): give an x86 kernel image (arch/x86/boot/bzImage, /boot/vmlinuz-*) or a built kernel tree" \
		--kernel /etc/passwd -- true
	# COMMAND as a host path: the guest sees only --share DIR, at /share, where COMMAND runs.
	_refused "vm-run: error: COMMAND $h/test.sh is a host path the guest cannot see: share its directory and run it there: --share $h -- ./test.sh" \
		-- "$h/test.sh"
	_refused "vm-run: error: COMMAND $h/test.sh is a host path; the guest has --share $h at /share, where COMMAND runs: give ./test.sh (or /share/test.sh)" \
		--share "$h" -- "$h/test.sh"
	(cd "$h" && _refused "vm-run: error: COMMAND ./test.sh is not in --share $ROOT, where COMMAND runs (as /share): --share $h -- ./test.sh" -- ./test.sh)
	_refused "vm-run: error: COMMAND ./nope.sh: no such file in --share $h, where COMMAND runs (as /share)" --share "$h" -- ./nope.sh
	_refused "vm-run: error: COMMAND /share/nope.sh: no nope.sh in --share $h (mounted at /share): give a file of that directory" \
		--share "$h" -- /share/nope.sh
	_refused "vm-run: error: COMMAND /usr/bin/no-such-tool: no such file in the guest (nor on the host); the guest has --share $ROOT at /share, where COMMAND runs" \
		-- /usr/bin/no-such-tool
	# The kernel log parser vm-run needs after the run (no build/bin/fibstat, none on PATH).
	local path='' dir
	while IFS= read -r -d: dir; do [ -x "$dir/fibstat" ] || path+=$dir:; done <<<"$PATH:"
	PATH=${path%:} HOME=$TEST_TMP FIB_STAT_BUILD=$TEST_TMP/nobuild \
		_refused "vm-run: error: no $TEST_TMP/nobuild/bin/fibstat (or fibstat on PATH) to read the guest kernel log with: run 'make tool'" -- true
	# What the guest has passes: its own tools, files of --share by either name.
	local stub p
	stub=$(_stub_qemu)
	for p in /usr/sbin/ip /bin/busybox ./test.sh /share/test.sh; do
		PATH=$stub:$PATH "$VM_RUN" --dry-run --share "$h" -- "$p" >/dev/null 2>"$TEST_TMP/dry.err" ||
			_fail "vm-run --dry-run -- $p refused: $(cat "$TEST_TMP/dry.err")"
		rm -rf "$(sed -n 's/^vm-run: --dry-run: kept \([^ ]*\) .*/\1/p' "$TEST_TMP/dry.err")"
	done
}

# --- --dry-run, --append, --opt=value ---

test_dry_run_prints_the_qemu_command_line() {
	local stub out rc=0
	stub=$(_stub_qemu)
	out=$(PATH=$stub:$PATH "$VM_RUN" --dry-run --cpus=3 --memory 512 --topology=vmxnet3 --lock bh \
		--append 'foo=bar' --append=baz --qemu-arg -device --qemu-arg=virtio-rng-pci -- sh -c 'echo hi' 2>"$TEST_TMP/dry.err") || rc=$?
	check_eq "status" 0 "$rc"
	check_eq "one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	[ ! -e "$stub/ran" ] || _fail "--dry-run started QEMU: $(cat "$stub/ran")"
	# The control directory it names is kept, with COMMAND and the module, and said so.
	local ctl
	ctl=$(sed -n 's/^vm-run: --dry-run: kept \([^ ]*\) .*/\1/p' "$TEST_TMP/dry.err")
	check_eq "the note" "vm-run: --dry-run: kept $ctl for that command line (COMMAND in cmd, the modules, the tools); the guest writes its status and dmesg there; rm -rf $ctl when done" \
		"$(cat "$TEST_TMP/dry.err")"
	check_eq "COMMAND kept" "exec sh -c echo\ hi" "$(tail -n 1 "$ctl/cmd")"
	[ -f "$ctl/fib_stat.ko" ] || _fail "no module in $ctl"
	rm -rf "$ctl"
	# It is a valid shell command line: parse it back into words.
	local -a w
	eval "w=($out)"
	check_eq "program" qemu-system-x86_64 "${w[0]}"
	local joined=" ${w[*]} "
	[[ "$joined" == *" -smp 3,sockets=3 "* ]] || _fail "no -smp 3,sockets=3 in: $out"
	[[ "$joined" == *" -m 512 "* ]] || _fail "no -m 512 in: $out"
	[[ "$joined" == *" -kernel $(readlink -f "$ROOT/build/kernel")/arch/x86/boot/bzImage "* ]] ||
		[[ "$joined" == *" -kernel $ROOT/build/kernel/arch/x86/boot/bzImage "* ]] || _fail "not the project kernel: $out"
	[[ "$joined" == *" -device vmxnet3,netdev=n1,mac=52:54:00:f5:00:01 "* ]] || _fail "no vmxnet3 NIC in: $out"
	local i append=
	for i in "${!w[@]}"; do [ "${w[$i]}" = -append ] && append=${w[$((i + 1))]}; done
	[[ "$append" == *" fibstat.topology=vmxnet3 foo=bar baz" ]] || _fail "-append '$append' does not end with the topology and both --append values"
	check_eq "--qemu-arg, in order, at the end" "-device virtio-rng-pci" "${w[*]: -2}"
	[[ "$joined" == *" local,id=ctl,path=$ctl,security_model=none "* ]] || _fail "the line does not share $ctl: $out"
	# FIB_STAT_VM_APPEND still works, as a deprecated alias.
	out=$(FIB_STAT_VM_APPEND=old=1 PATH=$stub:$PATH "$VM_RUN" --dry-run -- true 2>"$TEST_TMP/dry.err")
	rm -rf "$(sed -n 's/^vm-run: --dry-run: kept \([^ ]*\) .*/\1/p' "$TEST_TMP/dry.err")"
	eval "w=($out)"
	append=
	for i in "${!w[@]}"; do [ "${w[$i]}" = -append ] && append=${w[$((i + 1))]}; done
	[[ "$append" == *" fibstat.topology=none old=1" ]] || _fail "FIB_STAT_VM_APPEND ignored: -append '$append'"
	check_grep "deprecation note" '^vm-run: FIB_STAT_VM_APPEND is deprecated: use --append$' "$TEST_TMP/dry.err"
	[ ! -e "$stub/ran" ] || _fail "--dry-run started QEMU: $(cat "$stub/ran")"
}

# The --dry-run line runs as it is: the guest boots, runs COMMAND (its output
# on the line's stdout) and writes its status into the kept directory; a
# --qemu-arg device is there.
test_dry_run_line_replays() {
	local out ctl rc=0
	# shellcheck disable=SC2016 # run by the guest's shell
	out=$("$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --dry-run --qemu-arg -device --qemu-arg virtio-rng-pci -- \
		sh -c 'echo replayed-$((6*7)); cat /sys/bus/pci/devices/*/device | grep -c "^0x1005$"; exit 5' 2>"$TEST_TMP/replay.err")
	ctl=$(sed -n 's/^vm-run: --dry-run: kept \([^ ]*\) .*/\1/p' "$TEST_TMP/replay.err")
	[ -d "$ctl" ] || _fail "no kept directory: $(cat "$TEST_TMP/replay.err")"
	timeout 120 bash -c "$out" </dev/null >"$TEST_TMP/replay.out" 2>&1 || rc=$?
	tr -d '\r' <"$TEST_TMP/replay.out" >"$TEST_TMP/replay.txt"
	check_eq "QEMU's status (the guest powered off)" 0 "$rc"
	check_grep "COMMAND ran, its output on stdout" '^replayed-42$' "$TEST_TMP/replay.txt"
	check_grep "the --qemu-arg device (virtio-rng, PCI id 0x1005)" '^1$' "$TEST_TMP/replay.txt"
	check_eq "COMMAND's status in the kept directory" 5 "$(cat "$ctl/status")"
	check_grep "and the kernel log" 'Linux version ' "$ctl/dmesg"
	rm -rf "$ctl"
}

# --- live output, quiet by default ---

test_live_output_before_the_timeout() {
	local out=$TEST_TMP/live.stdout err=$TEST_TMP/live.stderr pid rc=0
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --timeout 40 --log "$TEST_TMP/live.log" -- \
		sh -c 'echo early-line; echo "<4>fibtest: a kernel warning, live" >/dev/kmsg; sleep 600' >"$out" 2>"$err" &
	pid=$!
	# Both arrive while the guest still runs (it only ends when the timeout kills it).
	_wait_for '^early-line$' "$out" 35 "$pid"
	_wait_for 'fibtest: a kernel warning, live$' "$err" 35 "$pid"
	kill -0 "$pid" 2>/dev/null || _fail "vm-run ended before the timeout"
	wait "$pid" || rc=$?
	check_eq "status of the hung guest" 124 "$rc"
	check_eq "stdout: COMMAND's output, nothing else" "early-line" "$(cat "$out")"
	check_grep "a failure prints the kernel log" '^----- guest kernel log -----$' "$err"
	check_grep "and says why it ended" '^vm-run: guest timed out after 40s and was killed$' "$err"
	check_grep "--log has COMMAND's output" '^early-line$' "$TEST_TMP/live.log"
}

test_quiet_unless_failed_or_reported() {
	local o=$TEST_TMP/quiet.out
	vm "$o" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "nothing printed for a clean 'true'" "" "$(cat "$o.tty")"
	check_grep "--log still has the kernel log" '^----- guest kernel log -----$' "$o"
	check_grep "--log still has debug_locks" '^guest debug_locks: +1$' "$o"
	# A failed COMMAND: the kernel log and the summary, on stderr.
	vm_rc=0
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" -- sh -c 'echo out; exit 3' >"$o.stdout" 2>"$o.stderr" || vm_rc=$?
	check_eq "status" 3 "$vm_rc"
	check_eq "stdout" out "$(cat "$o.stdout")"
	check_grep "kernel log printed" '^\[ *0\.0+\] Linux version ' "$o.stderr"
	check_grep "summary printed" '^guest debug_locks: +1$' "$o.stderr"
	# A kernel report in the log, COMMAND fine: printed too, and status 123
	# unless --allow-reports (all kinds, or this one by name) accepts it.
	mkdir -p "$TEST_TMP/quiet-keep"
	TMPDIR=$TEST_TMP/quiet-keep vm "$o" -- sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at fake.c:1 fake_report+0x0/0x10" >/dev/kmsg'
	check_eq "status" 123 "$vm_rc"
	check_grep "report in the log: kernel log printed" '^----- guest kernel log -----$' "$o.tty"
	check_eq "the report" "vm-run: guest kernel report: warning: WARNING in fake_report" "$(grep '^vm-run: guest kernel report' "$o.tty")"
	vm "$o" --allow-reports -- sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at fake.c:1 fake_report+0x0/0x10" >/dev/kmsg'
	check_eq "status with --allow-reports" 0 "$vm_rc"
	check_grep "kernel log printed" '^----- guest kernel log -----$' "$o.tty"
	check_eq "the report, allowed" "vm-run: guest kernel report, allowed: warning: WARNING in fake_report" "$(grep '^vm-run: guest kernel report' "$o.tty")"
	check_grep "how to decode it: the --log file" "^vm-run: decode with source lines: $ROOT/build/bin/fibstat explain --vmlinux $ROOT/build/kernel/vmlinux $o\$" "$o.tty"
	# --verbose: the console as it happens (every level) and the summary.
	vm "$o" --verbose -- true
	check_eq "status" 0 "$vm_rc"
	check_grep "--verbose: the boot console" '^\[ *0\.0+\] Linux version ' "$o.tty"
	check_grep "--verbose: info-level messages too" 'Run /init as init process' "$o.tty"
	check_grep "--verbose: summary" '^guest debug_locks: +1$' "$o.tty"
}

test_temp_dirs_removed() {
	local t=$TEST_TMP/tmpdir
	mkdir -p "$t"
	TMPDIR=$t vm "$TEST_TMP/tmp.out" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "vm-run left nothing in TMPDIR" "" "$(ls -A "$t")"
	TMPDIR=$t vm "$TEST_TMP/tmp.out" -- false
	check_eq "vm-run status" 1 "$vm_rc"
	check_eq "nor after a failure (the record is in --log)" "" "$(ls -A "$t")"
}

# --- interactive shell on a pseudo-terminal ---

test_interactive_shell_on_a_pty() {
	local d ts=$TEST_TMP/typescript fifo=$TEST_TMP/pty.in pid rc=0
	d=$(_my_modules)
	rm -f "$ts" "$fifo"
	mkfifo "$fifo"
	# script(1) gives vm-run a pseudo-terminal; we type into it through the FIFO.
	script -qfec "$(printf '%q ' "$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --topology veth --module "$d/mymod.ko" --log "$TEST_TMP/pty.log"); echo \"vm-run exit \$?\"" \
		"$ts" <"$fifo" >/dev/null 2>&1 &
	pid=$!
	exec 3>"$fifo"
	_wait_for 'fib-stat-guest:/share# ' "$ts" 90 "$pid"
	# shellcheck disable=SC2016 # run by the guest's shell
	printf 'echo MARK-$((6*7)); /usr/sbin/ip -n ns1 -br addr show fs0; grep -c "^mymod " /proc/modules; tty\n' >&3
	_wait_for '^MARK-42' "$ts" 30 "$pid"
	_wait_for '^/dev/ttyS0' "$ts" 30 "$pid"
	printf 'exit 7\n' >&3
	_wait_for '^vm-run exit 7' "$ts" 60
	exec 3>&-
	wait "$pid" || rc=$?
	tr -d '\r' <"$ts" >"$ts.txt"
	check_grep "the shell ran the typed command" '^MARK-42$' "$ts.txt"
	check_grep "topology up" '^fs0@[a-z0-9]+ +UP +198\.51\.100\.1/24' "$ts.txt"
	check_grep "module loaded" '^1$' "$ts.txt"
	check_grep "a real terminal: the console" '^/dev/ttyS0$' "$ts.txt"
	check_grep "leaving the shell shut the guest down: its status came back" '^vm-run exit 7$' "$ts.txt"
	check_no_grep "no timeout, no crash" 'timed out|panicked|died before' "$ts.txt"
	check_grep "--log has the session" '^MARK-42$' "$TEST_TMP/pty.log"
	check_grep "--log has the kernel log" '^----- guest kernel log -----$' "$TEST_TMP/pty.log"
}

# --- gdb ---

test_gdb_attaches_reads_symbols_and_continues() {
	command -v gdb >/dev/null || skip "gdb not installed (scripts/setup installs it)"
	local d port share=$TEST_TMP/gdbshare out=$TEST_TMP/gdb.stdout err=$TEST_TMP/gdb.stderr pid rc=0
	local vmlinux=$ROOT/build/kernel/vmlinux
	[ "$FIB_STAT_FLAVOR" = default ] || vmlinux=$ROOT/build/kernel-$FIB_STAT_FLAVOR/vmlinux
	d=$(_my_modules)
	mkdir -p "$share"
	rm -f "$share/go"
	port=$((20000 + RANDOM % 20000))
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --gdb="$port" --module "$d/mymod.ko" --share "$share" -- \
		sh -c 'echo waiting; while [ ! -e /share/go ]; do sleep 0.2; done; echo done' >"$out" 2>"$err" &
	pid=$!
	_wait_for "target remote :$port" "$err" 30 "$pid"
	# 1: the guest is paused at its first instruction; stop at start_kernel, read
	# a kernel variable through vmlinux's symbols and types, let it run on.
	timeout 120 gdb -batch -nx "$vmlinux" -ex "target remote :$port" -ex 'hbreak start_kernel' -ex continue \
		-ex 'print linux_banner' -ex delete -ex detach >"$TEST_TMP/gdb1.log" 2>&1 || _fail "gdb 1 failed: $(cat "$TEST_TMP/gdb1.log")"
	check_grep "stopped at start_kernel" 'Breakpoint 1, start_kernel \(\)' "$TEST_TMP/gdb1.log"
	# shellcheck disable=SC2016 # gdb's $1, in a regex
	check_grep "read linux_banner" '^\$1 = "Linux version 6\.12\.[0-9]+-fib-stat ' "$TEST_TMP/gdb1.log"
	# 2: the module's sections, as vm-run printed them, then one of its variables.
	_wait_for '^waiting$' "$out" 90 "$pid"
	local sym
	sym=$(grep -m1 "^add-symbol-file $d/mymod.ko 0x" "$err") || _fail "no add-symbol-file line for mymod.ko in: $(cat "$err")"
	[[ "$sym" == *" -s .data 0x"* ]] || _fail "no .data address in: $sym"
	timeout 60 gdb -batch -nx "$vmlinux" -ex "target remote :$port" -ex "$sym" -ex 'print/x mymod_magic' \
		-ex 'info line mymod_get_magic' -ex 'print mymod_get_magic' -ex detach >"$TEST_TMP/gdb2.log" 2>&1 ||
		_fail "gdb 2 failed: $(cat "$TEST_TMP/gdb2.log")"
	# shellcheck disable=SC2016 # gdb's $1, in a regex
	check_grep "the module's variable read at its section address" '^\$1 = 0x5eed1234$' "$TEST_TMP/gdb2.log"
	check_grep "the module's source lines" '^Line [0-9]+ of ".*mymod\.c" starts at address 0x[0-9a-f]+ <mymod_get_magic' "$TEST_TMP/gdb2.log"
	# mymod_get_magic is the first function of .text (after its kCFI preamble).
	local text fn
	text=${sym#"add-symbol-file $d/mymod.ko "}
	text=${text%% *}
	# shellcheck disable=SC2016 # gdb's $2, in a regex
	fn=$(sed -n 's/^\$2 = {int (void)} \(0x[0-9a-f]*\) <mymod_get_magic>$/\1/p' "$TEST_TMP/gdb2.log")
	if [ -z "$fn" ] || [ $((fn - text)) -lt 0 ] || [ $((fn - text)) -ge 64 ]; then
		_fail "mymod_get_magic at '$fn', expected just after .text at $text: $(cat "$TEST_TMP/gdb2.log")"
	fi
	touch "$share/go"
	wait "$pid" || rc=$?
	check_eq "vm-run status after gdb detached" 0 "$rc"
	check_eq "COMMAND ran to its end" "waiting done" "$(tr '\n' ' ' <"$out" | sed 's/ $//')"
}

# --- --help everywhere, harmless ---

test_help_everywhere_starts_nothing() {
	local stub=$TEST_TMP/helpstub cmd out rc
	mkdir -p "$stub"
	for t in qemu-system-x86_64 make cargo tar rustc apt-get; do
		printf '#!/bin/sh\necho "%s $*" >>%q/ran\nexit 1\n' "$t" "$stub" >"$stub/$t"
		chmod +x "$stub/$t"
	done
	rm -f "$stub/ran"
	for cmd in scripts/vm-run scripts/repro scripts/test scripts/build-kernel scripts/build-module \
		scripts/build-tool scripts/setup scripts/rust-analyzer scripts/bench-boot scripts/kunit tests/run; do
		for h in -h --help; do
			rc=0
			out=$(cd "$ROOT" && PATH=$stub:$PATH "$cmd" "$h" 2>&1) || rc=$?
			check_eq "$cmd $h status" 0 "$rc"
			[[ "$out" == *"${cmd#*/}"* ]] || [[ "$out" == *"usage"* ]] || _fail "$cmd $h printed no help: $out"
			[ "$(printf '%s\n' "$out" | wc -l)" -ge 3 ] || _fail "$cmd $h: help too short: $out"
		done
	done
	[ ! -e "$stub/ran" ] || _fail "--help started something: $(cat "$stub/ran")"
	# vm-run --help: the firmware it boots with by default, the options and the status it adds.
	out=$("$VM_RUN" --help)
	[[ "$out" == *"firmware's MP table, where qboot (the default firmware) lists every CPU and"* ]] || _fail "vm-run --help: --cpus does not name qboot: $out"
	[[ "$out" == *"--qemu-arg ARG"* ]] || _fail "vm-run --help: --qemu-arg missing"
	[[ "$out" == *"--allow-reports[=KIND[,KIND...]]"* ]] || _fail "vm-run --help: --allow-reports missing"
	[[ "$out" == *"123 the guest kernel reported"* ]] || _fail "vm-run --help: exit status 123 not documented"
	out=$(cd "$ROOT" && make --no-print-directory help)
	if [[ "$out" != *"rust-analyzer"* ]] || [[ "$out" != *"repro"* ]]; then _fail "make help: $out"; fi
	# Usage errors: the cause first, on stderr, exit 2.
	for cmd in "scripts/repro --bogus" "tests/run --bogus" "scripts/build-module bogus" "scripts/build-kernel --bogus" \
		"scripts/rust-analyzer --bogus" "scripts/bench-boot --bogus" "scripts/test --flavors"; do
		rc=0
		# shellcheck disable=SC2086 # split the command line on purpose
		(cd "$ROOT" && PATH=$stub:$PATH $cmd) >"$TEST_TMP/ue.out" 2>"$TEST_TMP/ue.err" || rc=$?
		check_eq "$cmd status" 2 "$rc"
		[[ "$(head -n 1 "$TEST_TMP/ue.err")" =~ ^[a-z/-]+:\ error:\  ]] || _fail "$cmd: first stderr line is not the cause: $(head -n 3 "$TEST_TMP/ue.err")"
	done
	[ ! -e "$stub/ran" ] || _fail "a usage error started something: $(cat "$stub/ran")"
}

# vm-run's options: --help, its man page (docs/vm-run.1) and its bash completion
# (docs/vm-run.bash) name the same ones, every option the parser takes is in
# --help, and the man page renders without a warning.
_vm_run_help_options() {
	"$VM_RUN" --help | awk '/^  -/ { for (i = 1; i <= NF; i++) { if ($i !~ /^-/) break; o = $i; sub(/[=,[].*$/, "", o); print o } }' | LC_ALL=C sort -u
}
_vm_run_man_options() {
	sed -n '/^\.SH OPTIONS$/,/^\.SH [^O]/p' "$ROOT/docs/vm-run.1" | awk 'tp { print; tp = 0 } /^\.TP$/ { tp = 1 }' |
		sed 's/\\-/-/g' | grep -oE -- '--?[a-z][a-z-]*' | LC_ALL=C sort -u
}
# _vm_run_complete WORD...: what the completion offers for the last WORD.
_vm_run_complete() {
	bash -c '. "$1"; shift; COMP_WORDS=(scripts/vm-run "$@"); COMP_CWORD=$#; _vm_run; printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/docs/vm-run.bash" "$@"
}
test_vm_run_help_man_page_and_completion_agree() {
	local help man comp o
	help=$(_vm_run_help_options | paste -sd' ')
	man=$(_vm_run_man_options | paste -sd' ')
	comp=$(_vm_run_complete - | grep -vx -- -- | LC_ALL=C sort -u | paste -sd' ')
	echo "    --help: $help"
	[ "$(wc -w <<<"$help")" -ge 17 ] || _fail "vm-run --help: only these options found: $help"
	# Every option the parser takes a value for, and its flags, are in --help.
	for o in $(sed -n "s/^value_opts='\(.*\)'$/\1/p" "$VM_RUN") --verbose --dry-run --gdb --allow-reports -h --help; do
		[[ " $help " == *" $o "* ]] || _fail "vm-run parses $o but --help does not list it"
	done
	check_eq "options of the man page (docs/vm-run.1) = those of --help" "$help" "$man"
	check_eq "options of the completion (docs/vm-run.bash) = those of --help" "$help" "$comp"
	# Values and COMMAND.
	check_eq "completion of --flavor" "default debug rt" "$(_vm_run_complete --flavor '' | paste -sd' ')"
	check_eq "completion of --lock" "spin bh irq irqsave percpu none" "$(_vm_run_complete --lock '' | paste -sd' ')"
	check_eq "completion of --topology" "vmxnet3 veth none" "$(_vm_run_complete --topology '' | paste -sd' ')"
	check_eq "completion of --rootfs" "initramfs host" "$(_vm_run_complete --rootfs '' | paste -sd' ')"
	check_eq "completion of --cpus" "" "$(_vm_run_complete --cpus '')"
	check_eq "completion of COMMAND after --" "uname" "$(_vm_run_complete --lock bh -- unam | sort -u)"
	# The page renders cleanly, with its sections.
	check_eq "groff warnings for docs/vm-run.1" "" "$(groff -man -Tutf8 -ww -z "$ROOT/docs/vm-run.1" 2>&1)"
	for o in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		check_grep "man page section $o" "^\.SH \"?$o\"?$" "$ROOT/docs/vm-run.1"
	done
}

# kernel_report_in (scripts/lib.sh, scripts/bench's verdict on a guest log) is
# fibstat explain --fail-on-report: a report the old regex of bench missed
# (UBSAN) counts, a clean log does not, and no parser is no clean verdict.
test_kernel_report_in_is_the_parser() {
	local d=$TEST_TMP/kri
	mkdir -p "$d"
	printf '%s\n' '[    1.000000] fib-stat: loaded' '[    1.000001] bench: WARNING-free run' >"$d/clean.log"
	printf '%s\n' '[    2.000000] UBSAN: array-index-out-of-bounds in fake.c:3:5' "[    2.000001] index 4 is out of range for type 'int[4]'" \
		'[    2.000003] Call Trace:' '[    2.000004]  <TASK>' '[    2.000005]  fake_index+0x10/0x20' '[    2.000006]  </TASK>' >"$d/ubsan.log"
	# shellcheck disable=SC2016 # expanded by that bash
	_kri() { bash -c '. "$1/scripts/lib.sh" && if kernel_report_in "$2"; then echo report; else echo none; fi' _ "$ROOT" "$1"; }
	check_eq "clean log" none "$(_kri "$d/clean.log")"
	check_eq "UBSAN log" report "$(_kri "$d/ubsan.log")"
	check_eq "no parser" report "$(FIB_STAT_BUILD=$d/none PATH=/usr/bin:/bin _kri "$d/clean.log")"
}

# --- KTAP ---

test_ktap_from_tests_run() {
	local f=$TEST_TMP/ktap/sample.test.sh t=$TEST_TMP/ktap/tmp rc=0
	mkdir -p "$t"
	cat >"$f" <<-'EOF'
	test_a_passes() { true; }
	test_b_fails() { echo "detail of the failure"; check_eq "answer" 42 41; }
	test_c_skips() { skip "needs a unicorn"; }
	EOF
	(unset HOST_PASSED TEST_FILTER CI; TMPDIR=$t "$ROOT/tests/run" "$f") >"$TEST_TMP/ktap.out" 2>&1 || rc=$?
	check_eq "status with a failure" 1 "$rc"
	local o=$TEST_TMP/ktap.out
	check_eq "version line" "TAP version 13" "$(sed -n 1p "$o")"
	check_eq "plan" "1..3" "$(sed -n 2p "$o")"
	check_grep "pass" '^ok 1 sample:test_a_passes # time=[0-9.]+s$' "$o"
	check_grep "failure detail before its result" '^# \| +check failed: answer: expected .42., got .41.$' "$o"
	check_grep "fail" '^not ok 2 sample:test_b_fails # time=[0-9.]+s exit=1 log=' "$o"
	check_grep "skip" '^ok 3 sample:test_c_skips # SKIP needs a unicorn$' "$o"
	check_grep "totals" '^# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0$' "$o"
	check_eq "closing line" "1 passed, 1 failed, 1 skipped" "$(tail -n 1 "$o")"
	check_eq "logs kept after a failure" 1 "$(find "$t" -mindepth 1 -maxdepth 1 -name 'fib-stat-test.*' | wc -l)"
	check_grep "and named" "^# logs: $t/fib-stat-test\." "$o"
	rm -rf "${t:?}"/*
	(unset HOST_PASSED CI; TEST_FILTER=test_a TMPDIR=$t "$ROOT/tests/run" "$f") >"$o" 2>&1 || _fail "a passing run failed: $(cat "$o")"
	check_eq "closing line" "1 passed, 0 failed, 0 skipped" "$(tail -n 1 "$o")"
	check_eq "temporary directory removed after success" "" "$(ls -A "$t")"
	# On CI (CI=true) a skip fails the run, unless tests/ci-allowed-skips allows its reason.
	rc=0
	(unset HOST_PASSED; CI=true TEST_FILTER=test_c TMPDIR=$t "$ROOT/tests/run" "$f") >"$o" 2>&1 || rc=$?
	check_eq "status of a CI run with a skip" 1 "$rc"
	check_grep "why" '^# \| CI=true: skipped \(needs a unicorn\), and tests/ci-allowed-skips does not allow it: CI must have what the test needs \(scripts/setup\)$' "$o"
	check_grep "a failure, not a skip" '^not ok 1 sample:test_c_skips # time=[0-9.]+s skipped on CI: needs a unicorn$' "$o"
	check_eq "closing line" "0 passed, 1 failed, 0 skipped" "$(tail -n 1 "$o")"
	rm -rf "${t:?}"/*
	printf 'test_d_skips_allowed() { skip "TEST_NO_APT is set: no real apt-get run"; }\n' >>"$f"
	rc=0
	(unset HOST_PASSED; CI=true TEST_FILTER=test_d TMPDIR=$t "$ROOT/tests/run" "$f") >"$o" 2>&1 || rc=$?
	check_eq "status of a CI run with an allowed skip" 0 "$rc"
	check_grep "an allowed skip" '^ok 1 sample:test_d_skips_allowed # SKIP TEST_NO_APT is set: no real apt-get run$' "$o"
	check_eq "closing line" "0 passed, 0 failed, 1 skipped" "$(tail -n 1 "$o")"
	# The guest scripts' KTAP (tests/guest/common.sh), with the guest's busybox sh.
	rc=0
	# shellcheck disable=SC2016 # run by busybox sh
	(cd "$TEST_TMP" && TMPDIR=$TEST_TMP /bin/busybox sh -c '. '"$ROOT"'/tests/guest/common.sh; ok "one # two"; x=$(ok "in a subshell"); echo "$x"; fail "three"') >"$o" 2>&1 || rc=$?
	check_eq "guest script status" 1 "$rc"
	check_eq "guest KTAP" "TAP version 13|ok 1 one   two|ok 2 in a subshell|not ok 3 three|1..3|# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0" "$(tr '\n' '|' <"$o" | sed 's/|$//')"
}

# --- make module KDIR=..., make tool, make rust-analyzer ---

# _fake_kdir NAME: a kernel "tree" with what build-module checks, copied from the project kernel.
_fake_kdir() {
	local k f p fake=$TEST_TMP/kdir-$1
	k=$(readlink -f "$ROOT/build/kernel")
	rm -rf "$fake"
	mkdir -p "$fake/rust" "$fake/scripts"
	cp "$k/.config" "$k/Module.symvers" "$fake/"
	for f in libcore.rmeta libkernel.rmeta libbindings.rmeta libmacros.so libcompiler_builtins.rmeta; do cp "$k/rust/$f" "$fake/rust/"; done
	cp "$k/scripts/target.json" "$fake/scripts/"
	for p in "$ROOT"/kernel/patches/*.patch; do
		while IFS= read -r f; do
			mkdir -p "$fake/$(dirname "$f")"
			cp "$k/$f" "$fake/$f"
		done < <(sed -n 's|^+++ b/||p' "$p")
	done
	echo "$fake"
}

_kdir_refused() { # WHAT KDIR FIRST-LINE-REGEX
	local rc=0
	# (A build directory of its own: a bad KDIR must not touch build/module.)
	(cd "$ROOT" && FIB_STAT_BUILD=$TEST_TMP/kdir-build make --no-print-directory module KDIR="$2") >"$TEST_TMP/kdir.out" 2>"$TEST_TMP/kdir.err" || rc=$?
	[ $rc != 0 ] || _fail "$1: make module KDIR=$2 succeeded"
	[[ "$(head -n 1 "$TEST_TMP/kdir.err")" =~ $3 ]] || _fail "$1: first stderr line: expected /$3/, got: $(head -n 3 "$TEST_TMP/kdir.err")"
	check_no_grep "$1: refused before building" 'module fib_stat\.ko \(LOCK|RUSTC|make -C' "$TEST_TMP/kdir.err"
}

test_make_module_kdir_checks() {
	local f
	mkdir -p "$TEST_TMP/kdir-empty"
	_kdir_refused "not built" "$TEST_TMP/kdir-empty" "^build-module: error: KDIR $TEST_TMP/kdir-empty is not a built kernel tree .*: build it first"
	f=$(_fake_kdir norust)
	sed -i 's/^CONFIG_RUST=y$/# CONFIG_RUST is not set/' "$f/.config"
	_kdir_refused "no Rust" "$f" "^build-module: error: KDIR $f has no Rust support \(CONFIG_RUST is not set\): enable CONFIG_RUST"
	f=$(_fake_kdir normeta)
	rm "$f/rust/libkernel.rmeta" "$f/scripts/target.json"
	_kdir_refused "no Rust metadata" "$f" "^build-module: error: KDIR $f lacks the Rust metadata out-of-tree modules need \(rust/libkernel\.rmeta scripts/target\.json\): distro header packages often omit it"
	f=$(_fake_kdir rustc)
	sed -i 's/^CONFIG_RUSTC_VERSION_TEXT=.*/CONFIG_RUSTC_VERSION_TEXT="rustc 1.78.0 (9b00956e5 2024-04-29)"/' "$f/.config"
	_kdir_refused "another rustc" "$f" "^build-module: error: KDIR $f was built with 'rustc 1\.78\.0 \(9b00956e5 2024-04-29\)' but rustc here is 'rustc [0-9.]+ .*': .*rustup override set 1\.78\.0"
	f=$(_fake_kdir unpatched)
	local patches i
	patches=("$ROOT"/kernel/patches/*.patch)
	for ((i = ${#patches[@]} - 1; i >= 0; i--)); do patch -d "$f" -p1 -R -s <"${patches[i]}" || _fail "cannot unpatch the fake tree"; done
	_kdir_refused "no project patches" "$f" "^build-module: error: KDIR $f lacks the project's kernel patches \([0-9]{4}-.*\.patch\): apply kernel/patches/\*\.patch"
	f=$(_fake_kdir stale)
	sed -i '/\trust_helper_spin_lock_bh\t/d' "$f/Module.symvers"
	_kdir_refused "patched, not rebuilt" "$f" "^build-module: error: KDIR $f has the project's patches but was not rebuilt with them \(rust_helper_spin_lock_bh not in Module\.symvers\)"
	# The fake tree with nothing wrong passes the checks (and only then fails in kbuild).
	f=$(_fake_kdir good)
	(cd "$ROOT" && FIB_STAT_BUILD=$TEST_TMP/kdir-build make --no-print-directory module KDIR="$f") >"$TEST_TMP/kdir.out" 2>"$TEST_TMP/kdir.err" && _fail "a fake tree built a module?"
	check_grep "a good tree gets to kbuild" 'module fib_stat\.ko \(LOCK=bh' "$TEST_TMP/kdir.err"
}

test_make_tool_needs_no_setup() {
	local out
	out=$(cd "$ROOT" && make -n --no-print-directory tool)
	check_eq "make tool runs build-tool, then installs vm-run's man page and completion" \
		"scripts/build-tool|install -D -m 644 docs/vm-run.1 $ROOT/build/share/man/man1/vm-run.1|install -D -m 644 docs/vm-run.bash $ROOT/build/share/bash-completion/completions/vm-run" \
		"$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
	(cd "$ROOT" && make --no-print-directory tool) >"$TEST_TMP/tool.log" 2>&1 || _fail "make tool: $(cat "$TEST_TMP/tool.log")"
	cmp "$ROOT/docs/vm-run.1" "$ROOT/build/share/man/man1/vm-run.1" || _fail "make tool: no build/share/man/man1/vm-run.1"
	cmp "$ROOT/docs/vm-run.bash" "$ROOT/build/share/bash-completion/completions/vm-run" || _fail "make tool: no vm-run completion"
	check_grep "fibstat's man page next to it" . "$ROOT/build/share/man/man1/fibstat.1"
	# The documented 'cargo install --path tools/fibstat' (here into a scratch root,
	# sharing build-tool's target directory and flags so nothing is rebuilt).
	CARGO_TARGET_DIR=$ROOT/build/cargo RUSTFLAGS="-C target-feature=+crt-static" cargo install --locked --offline \
		--target x86_64-unknown-linux-gnu --path "$ROOT/tools/fibstat" --root "$TEST_TMP/cargo-root" >"$TEST_TMP/install.log" 2>&1 ||
		_fail "cargo install --path tools/fibstat: $(tail -n 20 "$TEST_TMP/install.log")"
	"$TEST_TMP/cargo-root/bin/fibstat" --help >"$TEST_TMP/fibstat-help" 2>&1 || _fail "installed fibstat --help failed"
	check_grep "installed fibstat runs" 'explain' "$TEST_TMP/fibstat-help"
}

test_rust_analyzer_project() {
	command -v python3 >/dev/null || skip "python3 not installed (scripts/setup installs it)"
	local j=$TEST_TMP/rust-project.json
	"$ROOT/scripts/rust-analyzer" --lock spin --out "$j" >"$TEST_TMP/ra.log" 2>&1 || _fail "rust-analyzer: $(cat "$TEST_TMP/ra.log")"
	python3 - "$j" "$ROOT" >"$TEST_TMP/ra.check" 2>&1 <<-'EOF' || _fail "rust-project.json: $(cat "$TEST_TMP/ra.check")"
	import json, sys, os
	p = json.load(open(sys.argv[1])); root = sys.argv[2]
	crates = p["crates"]
	mods = [c for c in crates if c["root_module"] == root + "/fib_stat.rs"]
	assert len(mods) == 1, "module crate: %r" % [c["root_module"] for c in crates]
	m = mods[0]
	assert "CONFIG_FIB_STAT_LOCK_SPIN" in m["cfg"], m["cfg"]
	assert "CONFIG_FIB_STAT_LOCK_BH" not in m["cfg"], m["cfg"]
	deps = {d["name"]: crates[d["crate"]] for d in m["deps"]}
	assert "kernel" in deps and os.path.exists(deps["kernel"]["root_module"]), deps
	assert not any("/build/" in c["root_module"] and c["root_module"].startswith(root) for c in crates), "crate in build/"
	assert os.path.isdir(p["sysroot"]), p["sysroot"]
	print("ok")
	EOF
	(cd "$ROOT" && git check-ignore -q rust-project.json) || _fail "rust-project.json is not git-ignored"
	check_eq "make rust-analyzer LOCK=spin" "scripts/rust-analyzer --lock spin" "$(cd "$ROOT" && make -n --no-print-directory rust-analyzer LOCK=spin KDIR= 2>&1 | grep rust-analyzer | sed 's/ *$//')"
}


# --- make module M=DIR: your own module, C or Rust ---

# _vermagic FILE.ko: the module's vermagic (modinfo's field, read from .modinfo).
_vermagic() {
	if command -v modinfo >/dev/null; then
		modinfo -F vermagic "$1"
	else
		tr '\0' '\n' <"$1" | sed -n 's/^vermagic=//p' | head -n 1
	fi | sed 's/ *$//'
}

# _kernel_vermagic: the vermagic the kernel under test accepts (VERMAGIC_STRING,
# in vmlinux's .rodata).
_kernel_vermagic() {
	local k=$ROOT/build/kernel release
	[ "$FIB_STAT_FLAVOR" = default ] || k=$ROOT/build/kernel-$FIB_STAT_FLAVOR
	release=$(cat "$k/include/config/kernel.release")
	grep -a -o -m 1 "${release//./\\.} SMP[ A-Za-z0-9_.-]*" "$k/vmlinux" | head -n 1 | sed 's/ *$//'
}

# _make_m DIR [make variables...]: make module M=DIR for the flavor under test,
# from the repository; stdout DIR.make.out, stderr DIR.make.err, status $make_rc.
_make_m() {
	local d=$1
	shift
	make_rc=0
	(cd "$ROOT" && make --no-print-directory module M="$d" FLAVOR="$FIB_STAT_FLAVOR" "$@") >"$d.make.out" 2>"$d.make.err" || make_rc=$?
}

test_make_module_m_builds_c_and_rust_modules() {
	local c=$TEST_TMP/m-c r=$TEST_TMP/m-rust kv o=$TEST_TMP/m.out
	rm -rf "$c" "$r"
	mkdir -p "$c" "$r"
	# C: a module and one that needs its export (as _my_modules).
	cat >"$c/mymod.c" <<-'EOF'
	#include <linux/init.h>
	#include <linux/module.h>
	int mymod_magic = 0x5eed1234;
	EXPORT_SYMBOL_GPL(mymod_magic);
	static int __init mymod_init(void)
	{
		pr_info("mymod: loaded, magic %#x\n", mymod_magic);
		return 0;
	}
	static void __exit mymod_exit(void)
	{
	}
	module_init(mymod_init);
	module_exit(mymod_exit);
	MODULE_LICENSE("GPL");
	MODULE_DESCRIPTION("make module M= test module");
	EOF
	cat >"$c/mydep.c" <<-'EOF'
	#include <linux/init.h>
	#include <linux/module.h>
	extern int mymod_magic;
	static int __init mydep_init(void)
	{
		pr_info("mydep: loaded, sees magic %#x\n", mymod_magic);
		return 0;
	}
	module_init(mydep_init);
	MODULE_LICENSE("GPL");
	MODULE_DESCRIPTION("make module M= test module that needs mymod");
	EOF
	echo 'obj-m := mymod.o mydep.o' >"$c/Kbuild"
	# Rust: the smallest module of the kernel crate.
	cat >"$r/rust_hello.rs" <<-'EOF'
	// SPDX-License-Identifier: GPL-2.0
	//! make module M= test module in Rust.
	use kernel::prelude::*;
	module! {
	    type: RustHello,
	    name: "rust_hello",
	    author: "fib-stat tests",
	    description: "make module M= test module in Rust",
	    license: "GPL",
	}
	struct RustHello;
	impl kernel::Module for RustHello {
	    fn init(_module: &'static ThisModule) -> Result<Self> {
	        pr_info!("loaded, {} + {} = {}\n", 20, 22, 20 + 22);
	        Ok(RustHello)
	    }
	}
	EOF
	echo 'obj-m := rust_hello.o' >"$r/Kbuild"
	kv=$(_kernel_vermagic)
	[[ "$kv" == *" SMP "* ]] || _fail "no vermagic found in the kernel's vmlinux: '$kv'"
	_make_m "$c"
	check_eq "make module M=C-DIR status" 0 "$make_rc"
	check_eq "the .ko files, listed" "$c/mymod.ko $c/mydep.ko" "$(tr '\n' ' ' <"$c.make.out" | sed 's/ $//')"
	check_grep "a stage line" "^  module $c \(C, $FIB_STAT_FLAVOR kernel\) +[0-9.]+s$" "$c.make.err"
	check_eq "mymod.ko vermagic is the kernel's" "$kv" "$(_vermagic "$c/mymod.ko")"
	check_eq "mydep.ko vermagic is the kernel's" "$kv" "$(_vermagic "$c/mydep.ko")"
	_make_m "$r"
	check_eq "make module M=RUST-DIR status" 0 "$make_rc"
	check_eq "the Rust .ko, listed" "$r/rust_hello.ko" "$(cat "$r.make.out")"
	check_grep "a stage line" "^  module $r \(Rust, $FIB_STAT_FLAVOR kernel\) +[0-9.]+s$" "$r.make.err"
	check_eq "rust_hello.ko vermagic is the kernel's" "$kv" "$(_vermagic "$r/rust_hello.ko")"
	# Built again, nothing changed: kbuild's own dependency tracking.
	local t
	t=$(stat -c %Y "$c/mymod.ko")
	sleep 1
	_make_m "$c"
	check_eq "rebuild status" 0 "$make_rc"
	check_eq "nothing rebuilt" "$t" "$(stat -c %Y "$c/mymod.ko")"
	# And they load, in that kernel, in order.
	vm "$o" --module "$c/mymod.ko" --module "$c/mydep.ko" --module "$r/rust_hello.ko" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "mymod loaded" '\] mymod: loaded, magic 0x5eed1234$' "$o"
	check_grep "mydep loaded" '\] mydep: loaded, sees magic 0x5eed1234$' "$o"
	check_grep "the Rust module loaded" '\] rust_hello: loaded, 20 \+ 22 = 42$' "$o"
	check_clean_log "make module M= modules" "$o"
}

test_make_module_m_refuses_another_toolchain() {
	local d=$TEST_TMP/m-refused stub=$TEST_TMP/m-stub want first
	rm -rf "$d"
	mkdir -p "$d" "$stub"
	printf '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n' >"$d/x.c"
	echo 'obj-m := x.o' >"$d/Kbuild"
	want="this kernel was built with clang-19 (kCFI); build with LLVM=-19"
	# gcc: the kernel's kCFI needs clang.
	_make_m "$d" CC=gcc
	[ "$make_rc" != 0 ] || _fail "make module M= CC=gcc succeeded"
	check_eq "CC=gcc: the cause, first" "build-external-module: error: CC=gcc is not clang: $want" "$(head -n 1 "$d.make.err")"
	# LLVM=1: plain 'clang', here an old one (a stub that only says its version).
	printf '#!/bin/sh\necho "Debian clang version 14.0.6"\n' >"$stub/clang"
	chmod +x "$stub/clang"
	PATH=$stub:$PATH _make_m "$d" LLVM=1
	[ "$make_rc" != 0 ] || _fail "make module M= LLVM=1 (clang 14) succeeded"
	check_eq "LLVM=1, clang 14" "build-external-module: error: LLVM=1 runs clang 14: $want" "$(head -n 1 "$d.make.err")"
	# LLVM=1 without any clang on PATH ('which clang' fails on this machine unless installed).
	if ! command -v clang >/dev/null; then
		_make_m "$d" LLVM=1
		check_eq "LLVM=1, no clang" "build-external-module: error: LLVM=1 finds no clang: $want" "$(head -n 1 "$d.make.err")"
	fi
	_make_m "$d" LLVM=-99
	check_eq "LLVM=-99" "build-external-module: error: LLVM=-99 finds no clang-99: $want" "$(head -n 1 "$d.make.err")"
	# Refused before kbuild ran: nothing built, no log.
	check_eq "nothing built in DIR" "Kbuild x.c" "$(cd "$d" && echo *)"
	# The directory itself.
	_make_m "$TEST_TMP/m-nonexistent"
	check_eq "M= not a directory" "build-external-module: error: M=$TEST_TMP/m-nonexistent is not a directory: give the directory of your module's Kbuild and sources" \
		"$(head -n 1 "$TEST_TMP/m-nonexistent.make.err")"
	mkdir -p "$TEST_TMP/m-empty"
	_make_m "$TEST_TMP/m-empty"
	check_eq "M= without Kbuild" "build-external-module: error: M=$TEST_TMP/m-empty has no Kbuild or Makefile: write one with 'obj-m := NAME.o' (NAME.c or NAME.rs)" \
		"$(head -n 1 "$TEST_TMP/m-empty.make.err")"
	# Without M (or M only in the environment, which kbuild ignores too): the project module.
	check_eq "make module without M" "scripts/build-module --flavor default bh" "$(cd "$ROOT" && M=$d make -n --no-print-directory module KDIR= | grep build-module | sed 's/ *$//')"
	first=$(cd "$ROOT" && make -n --no-print-directory modules M="$d" | grep -c build-external-module)
	check_eq "make modules M=DIR: that module, once" 1 "$first"
	local out rc=0
	out=$("$ROOT/scripts/build-external-module" --help) || rc=$?
	check_eq "--help status" 0 "$rc"
	[[ "$out" == *"make module M=DIR"* ]] || _fail "--help: $out"
}

# README "Test your own module", step by step: a lock taken with spin_lock() in
# process context and in a timer (softirq); lockdep's report decoded with the
# module's source lines; the fixed module (spin_lock_bh) runs clean.
test_make_module_m_readme_walkthrough() {
	local d=$TEST_TMP/m-walk o=$TEST_TMP/m-walk.log vmlinux=$ROOT/build/kernel/vmlinux rc
	[ "$FIB_STAT_FLAVOR" = default ] || vmlinux=$ROOT/build/kernel-$FIB_STAT_FLAVOR/vmlinux
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/mymod.c" <<-'EOF'
	#include <linux/completion.h>
	#include <linux/module.h>
	#include <linux/spinlock.h>
	#include <linux/timer.h>
	static DEFINE_SPINLOCK(mymod_lock);
	static unsigned long mymod_count;
	static struct timer_list mymod_timer;
	static DECLARE_COMPLETION(mymod_ticked);
	static void mymod_tick(struct timer_list *t)
	{
		spin_lock(&mymod_lock);
		mymod_count++;
		spin_unlock(&mymod_lock);
		complete(&mymod_ticked);
	}
	static int __init mymod_init(void)
	{
		timer_setup(&mymod_timer, mymod_tick, 0);
		mod_timer(&mymod_timer, jiffies + 1);
		wait_for_completion(&mymod_ticked);
		spin_lock(&mymod_lock);		/* in process context */
		mymod_count++;
		spin_unlock(&mymod_lock);	/* in process context */
		return 0;
	}
	static void __exit mymod_exit(void)
	{
		timer_delete_sync(&mymod_timer);
	}
	module_init(mymod_init);
	module_exit(mymod_exit);
	MODULE_LICENSE("GPL");
	MODULE_DESCRIPTION("README walkthrough module");
	EOF
	echo 'obj-m := mymod.o' >"$d/Kbuild"
	printf '#!/bin/sh\ngrep -c "^mymod " /proc/modules\n' >"$d/test.sh"
	chmod +x "$d/test.sh"
	_make_m "$d"
	check_eq "make module M=DIR" 0 "$make_rc"
	[ -f "$d/mymod.ko" ] || _fail "no $d/mymod.ko"
	# (A TMPDIR of its own: what vm-run keeps after a report lands there.)
	mkdir -p "$TEST_TMP/m-walk-tmp"
	TMPDIR=$TEST_TMP/m-walk-tmp vm "$o" --module "$d/mymod.ko" --share "$d" -- ./test.sh
	case "$vm_rc" in 124 | 125 | 126) _fail "vm-run status $vm_rc: the guest did not run the test" ;; esac
	check_grep "test.sh ran" '^1$' "$o"
	rc=0
	"$ROOT/build/bin/fibstat" explain --vmlinux "$vmlinux" --modules "$d" "$o" >"$o.explain" 2>"$o.explain.err" || rc=$?
	check_eq "explain status" 0 "$rc"
	check_eq "explain: no warning" "" "$(cat "$o.explain.err")"
	local line
	line=$(grep -n 'spin_lock(&mymod_lock);.*in process context' "$d/mymod.c" | cut -d: -f1)
	check_grep "lockdep's report, titled (module_init's function is init_module)" '^Report 1 \(line [0-9]+\): inconsistent lock state in init_module$' "$o.explain"
	check_grep "where init takes the lock: the module's source line" "^  at: +init_module\+0x[0-9a-f]+/0x[0-9a-f]+ \[mymod\] mymod\.c:$line$" "$o.explain"
	check_grep "the timer's side, with its source line" '^ +mymod_tick\+0x[0-9a-f]+/0x[0-9a-f]+ \[mymod\] mymod\.c:[0-9]+$' "$o.explain"
	check_grep "the fix" '^  fix: +spin_lock_bh\(\) / spin_unlock_bh\(\) in init_module$' "$o.explain"
	rc=0
	"$ROOT/build/bin/fibstat" explain --fail-on-report "$o" >/dev/null 2>&1 || rc=$?
	check_eq "explain --fail-on-report" 1 "$rc"
	# The fix: spin_lock_bh() in process context. Rebuilt, it runs clean.
	sed -i '/in process context/ s/spin_\(un\)\{0,1\}lock(/spin_\1lock_bh(/' "$d/mymod.c"
	check_eq "init's lock and unlock changed, the timer's kept" "2 2" \
		"$(grep -c 'spin_\(un\)\{0,1\}lock_bh(&mymod_lock);' "$d/mymod.c") $(grep -c 'spin_\(un\)\{0,1\}lock(&mymod_lock);' "$d/mymod.c")"
	_make_m "$d"
	check_eq "make module M=DIR (fixed)" 0 "$make_rc"
	vm "$o" --module "$d/mymod.ko" --share "$d" -- ./test.sh
	check_eq "vm-run status (fixed)" 0 "$vm_rc"
	check_clean_log "fixed module" "$o"
	rc=0
	"$ROOT/build/bin/fibstat" explain --fail-on-report --vmlinux "$vmlinux" --modules "$d" "$o" >"$o.explain" 2>&1 || rc=$?
	check_eq "explain --fail-on-report (fixed)" 0 "$rc"
	check_eq "explain (fixed)" "no kernel report found" "$(cat "$o.explain")"
}
