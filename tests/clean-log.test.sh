# shellcheck shell=bash
# check_clean_log, what every guest test's verdict rests on, on records made here
# (no guest): a complete clean record passes, and each way a record can be
# incomplete or dirty fails with its own reason: an empty or truncated kernel log
# (no boot banner first), a missing module load line, a taint other than O/E, a
# report, lockdep off.

# record FILE [KERNEL-LOG-LINES...]: a vm-run --log record around the lines given
# (default: a clean boot that loaded fib_stat), debug_locks 1 and taint O.
record() {
	local f=$1
	shift
	[ $# -gt 0 ] || set -- '[    0.000000] Linux version 6.12.118-fib-stat (root@vm) (clang 19) #1 SMP' \
		'[    2.100000] fib_stat: loaded, lock mode bh (spin_lock_bh: correct), netlink protocol 25'
	{
		echo "PASS roundtrip"
		echo "----- guest kernel log -----"
		printf '%s\n' "$@"
		echo "----- end of guest kernel log -----"
		echo "guest debug_locks:                             1"
		echo "guest tainted: 4096 (O)"
	} >"$f"
}

# rejected WHY FILE [LOADED]: check_clean_log fails on FILE, saying WHY.
rejected() {
	local out=$2.why
	if (check_clean_log test "$2" ${3:+"$3"}) >"$out" 2>&1; then
		_fail "check_clean_log accepted $2 ($1)"
	fi
	check_grep "the reason for $2" "check failed: test: $1" "$out"
}

LOADED='\] fib_stat: loaded, lock mode bh '

test_clean_record_passes() {
	record "$TEST_TMP/clean"
	check_clean_log clean "$TEST_TMP/clean" "$LOADED"
}

test_incomplete_or_dirty_records_fail() {
	local t=$TEST_TMP banner='[    0.000000] Linux version 6.12.118-fib-stat (root@vm) (clang 19) #1 SMP'
	record "$t/empty" ''
	rejected "the kernel log does not start with the boot banner" "$t/empty"
	record "$t/truncated" '[   12.500000] fib_stat: loaded, lock mode bh (spin_lock_bh: correct), netlink protocol 25'
	rejected "the kernel log does not start with the boot banner" "$t/truncated"
	record "$t/not-loaded" "$banner"
	rejected "the module's load line" "$t/not-loaded" "$LOADED"
	record "$t/warned"
	sed -i 's/^guest tainted: .*/guest tainted: 4608 (WO)/' "$t/warned"
	rejected "taints \\(only OE allowed\\)" "$t/warned"
	record "$t/no-taint-line"
	sed -i '/^guest tainted:/d' "$t/no-taint-line"
	rejected "taints \\(only OE allowed\\)" "$t/no-taint-line"
	record "$t/report" "$banner" '[    3.000000] ------------[ cut here ]------------' \
		'[    3.000000] WARNING: CPU: 1 PID: 77 at net/core/dev.c:1234 dev_foo+0x10/0x20' \
		'[    3.000000] Modules linked in: fib_stat(O)' '[    3.000000] ---[ end trace 0000000000000000 ]---'
	rejected "fibstat explain found kernel reports" "$t/report"
	record "$t/lockdep-off"
	sed -i 's/^guest debug_locks: .*/guest debug_locks:                             0/' "$t/lockdep-off"
	rejected "debug_locks" "$t/lockdep-off"
}
