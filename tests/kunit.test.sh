# shellcheck shell=bash
# The module's KUnit suite (fib_stat_kunit.rs) in a guest of each flavor, as
# make kunit runs it: the kernel's kunit.py parses the guest's KTAP. Exact:
# every case the source declares ran and passed, in a clean kernel log.
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS="default debug rt"

# The case names fib_stat_kunit.rs hands kunit_suite!, in order.
kunit_cases() { sed -n '/^kunit_suite!(/,/^);/p' "$ROOT/fib_stat_kunit.rs" | sed -n 's/^        \([a-z0-9_]*\),$/\1/p'; }

test_kunit_suite_passes() {
	local out=$TEST_TMP/kunit n
	"$ROOT/scripts/kunit" --flavor "$FIB_STAT_FLAVOR" --out "$out" >"$out.txt" 2>&1 || { cat "$out.txt" >&2; _fail "scripts/kunit failed"; }
	n=$(kunit_cases | wc -l)
	[ "$n" -ge 25 ] || _fail "only $n KUnit cases"
	check_grep "kunit.py summary" "^kunit \($FIB_STAT_FLAVOR kernel\): Testing complete\. Ran $n tests: passed: $n$" "$out.txt"
	# Every case by name, in order, as KTAP from the guest.
	check_eq "cases in the guest's KTAP" "$(kunit_cases | awk '{ printf "ok %d %s\n", NR, $0 }')" \
		"$(sed -n 's/^\[[^]]*\]     \(ok [0-9]* [a-z0-9_]*\)$/\1/p' "$out/$FIB_STAT_FLAVOR.ktap")"
	check_grep "the suite as a whole" '\] ok 1 fib_stat$' "$out/$FIB_STAT_FLAVOR.ktap"
	# KUnit taints the kernel with N (TAINT_TEST).
	CLEAN_LOG_TAINTS=OEN check_clean_log kunit "$out/$FIB_STAT_FLAVOR.log"
}
