# shellcheck shell=bash
# Minimal test framework for fib-stat's end-to-end tests.
#
# A test file defines functions named test_*; tests/run sources it and runs
# each in a subshell. A test fails when any check fails (checks print what
# they expected and what they got) or when it exits non-zero.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VM_RUN=$ROOT/scripts/vm-run
TEST_TMP=${TEST_TMP:-$(mktemp -d /tmp/fib-stat-test.XXXXXX)}

_fail() { printf '    check failed: %s\n' "$*" >&2; exit 1; }

# check_eq WHAT EXPECTED ACTUAL
check_eq() { [ "$2" = "$3" ] || _fail "$1: expected '$2', got '$3'"; }

# check_grep WHAT PATTERN FILE: extended regex PATTERN matches a line of FILE
check_grep() { grep -qE -- "$2" "$3" || _fail "$1: no line matches /$2/ in $3"; }

# check_no_grep WHAT PATTERN FILE
check_no_grep() {
	if grep -nE -- "$2" "$3" >&2; then _fail "$1: unexpected /$2/ in $3 (lines above)"; fi
}

# check_le WHAT LIMIT VALUE (numbers, decimals allowed)
check_le() { awk -v a="$3" -v b="$2" 'BEGIN { exit !(a <= b) }' || _fail "$1: $3 exceeds $2"; }

# The kernel flavor under test (tests/run --flavors); guests boot it.
FIB_STAT_FLAVOR=${FIB_STAT_FLAVOR:-default}

# skip REASON: end the test as skipped (KTAP "# SKIP REASON"), not passed.
# Only for what the machine lacks, never for a result the test did not like.
skip() {
	printf '%s\n' "$*" >"$TEST_TMP/.skip.${FIB_STAT_TEST:-test}"
	echo "SKIP: $*"
	exit 4
}

# vm OUT -- vm-run arguments...: run a guest of the flavor under test; OUT gets
# vm-run's whole record (its --log: COMMAND's output, the kernel log, setup log,
# debug_locks, kmemleak, vm-run's messages), OUT.tty what it printed on the
# terminal (stdout and stderr); status in $vm_rc.
# The debug flavor (KASAN, kmemleak, ...) runs several times slower under TCG:
# its guests get TIMEOUT_SCALE times the --timeout a test asks for.
TIMEOUT_SCALE=1
[ "$FIB_STAT_FLAVOR" = debug ] && TIMEOUT_SCALE=4
vm() {
	local out=$1 a args=(--timeout $((120 * TIMEOUT_SCALE))) # vm-run's default, scaled
	shift
	while [ $# -gt 0 ]; do
		a=$1
		shift
		if [ "$a" = --timeout ] && [ $# -gt 0 ]; then
			args+=(--timeout "$(($1 * TIMEOUT_SCALE))")
			shift
		elif [ "${a#--timeout=}" != "$a" ]; then
			args+=(--timeout "$((${a#--timeout=} * TIMEOUT_SCALE))")
		else
			args+=("$a")
		fi
	done
	vm_rc=0
	rm -f "$out"
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --log "$out" "${args[@]}" >"$out.tty" 2>&1 || vm_rc=$?
	# Usage errors stop vm-run before it writes its log: keep what it printed.
	[ -s "$out" ] || cp "$out.tty" "$out"
}

# guest_script NAME LOCK TOPOLOGY TIMEOUT SHOWN SCRIPT ARGS...: tests/guest/SCRIPT
# in a guest with the module of LOCK loaded; output $TEST_TMP/NAME.out. Prints
# COMMAND's lines matching the regex SHOWN, the log's tail if the guest failed;
# checks status 0, the script's closing "PASS" line and a clean kernel log.
guest_script() {
	local name=$1 lock=$2 topo=$3 timeout=$4 shown=$5 script=$6
	shift 6
	local o=$TEST_TMP/$name.out
	vm "$o" --lock "$lock" --topology "$topo" --timeout "$timeout" -- sh "tests/guest/$script" "$@"
	command_output "$o" | grep -E "$shown" | sed 's/^/    /' || true
	if [ "$vm_rc" != 0 ]; then
		echo "    --- end of $o:" >&2
		tail -n 40 "$o" >&2
	fi
	check_eq "$name: guest status" 0 "$vm_rc"
	check_grep "$name: guest script finished" "^PASS " "$o"
	check_clean_log "$name" "$o" "\] fib_stat: loaded, lock mode $lock "
}

# kernel_log FILE: the guest kernel log section of a vm-run output
kernel_log() { sed -n '/^----- guest kernel log -----$/,/^----- end of guest kernel log -----$/p' "$1"; }
# command_output FILE: what COMMAND printed (before the kernel log)
command_output() { sed '/^----- guest kernel log -----$/,$d' "$1"; }

# The banners of lockdep, WARN(), BUG() (KASAN: BUG: KASAN:), oops, UBSAN, kCFI,
# debug objects, list and refcount reports, any stack dump: check_clean_log's
# second net under the parser (an independent grep, so that a parser that stops
# recognising a kind cannot make a dirty log pass on its own).
CLEAN_LOG_BANNERS='WARNING:|BUG:|Oops|cut here|INFO: |inconsistent lock state|circular locking|possible recursive|lock inversion|Call Trace|UBSAN:|KASAN|CFI failure|ODEBUG:|list_(add|del) corruption|refcount_t:'

# The taints a clean test run may leave (/proc/sys/kernel/tainted at the end, as
# vm-run prints it: "guest tainted: N (LETTERS)"): O, an out-of-tree module was
# loaded; E, an unsigned one. A test that runs KUnit adds N (TAINT_TEST).
CLEAN_LOG_TAINTS=OE

# check_clean_log WHAT FILE [LOADED]: a complete log (its first line the boot
# banner: nothing scrolled out of the ring buffer; LOADED, an extended regex, the
# module's load line, matched), no kernel report in it (fibstat explain, and the
# banner net above; vm-run also reads the serial console), debug_locks 1, no
# taint but CLEAN_LOG_TAINTS, and on the debug flavor no kmemleak report.
check_clean_log() {
	kernel_log "$2" >"$2.klog"
	local first banner='^\[ *0\.000000\] Linux version [0-9]'
	first=$(sed -n 2p "$2.klog")
	[[ "$first" =~ $banner ]] || _fail "$1: the kernel log does not start with the boot banner (first line: '$first'): an empty, truncated or overrun dump"
	[ -z "${3:-}" ] || check_grep "$1: the module's load line" "$3" "$2.klog"
	check_grep "$1: taints (only $CLEAN_LOG_TAINTS allowed)" "^guest tainted: [0-9]+ \([$CLEAN_LOG_TAINTS]*\)\$" "$2"
	# The project's one report parser (the repro verdict's): every kind of
	# kernel report syzkaller titles.
	local rc=0
	"$ROOT/build/bin/fibstat" explain --fail-on-report "$2.klog" >"$2.explain" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$2.explain" >&2; _fail "$1: fibstat explain found kernel reports (exit $rc, above)"; }
	check_no_grep "$1: kernel log" "$CLEAN_LOG_BANNERS" "$2.klog"
	check_grep "$1: debug_locks" '^guest debug_locks: +1$' "$2"
	if [ "$FIB_STAT_FLAVOR" = debug ]; then
		check_grep "$1: kmemleak ran" '^guest kmemleak: [0-9]+$' "$2"
		check_grep "$1: kmemleak" '^guest kmemleak: 0$' "$2"
	fi
}
