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

# oracle_is_noticed NAME: check_clean_log must reject the guest's log.
oracle_is_noticed() {
	if (check_clean_log "oracle $1" "$TEST_TMP/oracle-$1.out") >/dev/null 2>&1; then
		_fail "check_clean_log accepted the log of the $1 bug ($TEST_TMP/oracle-$1.out)"
	fi
}
