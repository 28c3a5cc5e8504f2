# shellcheck shell=bash
# Helpers of tests/oracles.test.sh and tests/kcfi.test.sh (sourced after tests/lib.sh).

# oracle_run NAME BUG [KERNEL_ARGS]: build oracle.ko for the flavor under test
# (once per flavor), load it with bug=BUG in a guest booted with KERNEL_ARGS
# added; output in $TEST_TMP/oracle-NAME.out, kernel log in oracle-NAME.klog
oracle_run() {
	local name=$1 bug=$2 append=${3:-} d=$TEST_TMP/oracle-build k
	if [ ! -f "$d/oracle.ko" ]; then
		mkdir -p "$d"
		cp "$ROOT/tests/oracles/oracle.c" "$ROOT/tests/oracles/Kbuild" "$d/"
		k=$(readlink -f "$ROOT/build/kernel$([ "$FIB_STAT_FLAVOR" = default ] || echo "-$FIB_STAT_FLAVOR")")
		make -C "$k" M="$d" LLVM=-19 modules >"$d/build.log" 2>&1 ||
			_fail "building oracle.ko against $k failed: $(tail -n 20 "$d/build.log")"
	fi
	# The report the bug is expected to cause, as fibstat explain names its kind.
	local allow
	case "$bug" in
	kasan | ubsan | odebug) allow=$bug ;;
	kmemleak) allow=memory_leak ;;
	debug_net) allow=warning ;;
	cfi) allow=cfi_failure ;;
	*) allow='' ;;
	esac
	vm "$TEST_TMP/oracle-$name.out" ${append:+--append "$append"} ${allow:+--allow-reports="$allow"} --share "$d" --timeout 120 -- \
		sh -c "insmod ./oracle.ko bug=$bug; echo \"insmod status \$?\""
	kernel_log "$TEST_TMP/oracle-$name.out" >"$TEST_TMP/oracle-$name.klog"
}

# oracle_is_noticed NAME KIND: each detector the other tests rely on notices the
# bug on its own (not merely "some part of check_clean_log failed": a KASAN
# report also turns lockdep off, which alone would fail check_clean_log):
# - the parser: fibstat explain --fail-on-report exits 1 naming KIND (its summary
#   line ends "[KIND] (line N)"); on the kmemleak report, which vm-run appends
#   after the kernel log, read from the whole record;
# - vm-run: its one-line summary names KIND as an allowed report;
# - the banner net (CLEAN_LOG_BANNERS) matches the kernel log, or for KIND
#   memory_leak the kmemleak count is not 0;
# and check_clean_log as a whole rejects the log.
oracle_is_noticed() {
	local name=$1 kind=$2 o=$TEST_TMP/oracle-$1.out rc=0 src
	src=$TEST_TMP/oracle-$name.klog
	[ "$kind" = memory_leak ] && src=$o
	"$ROOT/build/bin/fibstat" explain --fail-on-report "$src" >"$o.detect" 2>&1 || rc=$?
	check_eq "oracle $name: fibstat explain --fail-on-report status" 1 "$rc"
	check_grep "oracle $name: fibstat explain names the kind" "^ +[0-9]+x  .*  \[$kind\] \(lines? [^)]*\)\$" "$o.detect"
	check_grep "oracle $name: vm-run's summary" "^vm-run: guest kernel report, allowed: $kind: " "$o.tty"
	if [ "$kind" = memory_leak ]; then
		check_grep "oracle $name: the kmemleak count" '^guest kmemleak: [1-9][0-9]*$' "$o"
	else
		check_grep "oracle $name: the banner net" "$CLEAN_LOG_BANNERS" "$TEST_TMP/oracle-$name.klog"
	fi
	if (check_clean_log "oracle $name" "$o") >/dev/null 2>&1; then
		_fail "check_clean_log accepted the log of the $name bug ($o)"
	fi
}
