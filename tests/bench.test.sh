# shellcheck shell=bash
# make bench in smoke mode (scripts/bench --smoke): every row runs and prints
# a well-formed line. A benchmark, not a timed test: no thresholds here.
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS=default

BENCH_ROWS="neigh-updates-veth neigh-updates-vmxnet3 get-vs-getlink get-vs-getfamily record-2w-vs-1w
record-2w-samens-vs-2ns vm-boot-none vm-boot-vmxnet3 repro-warm-module-changed explain-vs-grep
record-2w-vs-1w-percpu record-percpu-vs-bh-1w record-percpu-vs-bh-2w neigh-updates-percpu-veth"

test_bench_smoke_every_row_well_formed() {
	local o=$TEST_TMP/bench.out rc=0 row line
	"$ROOT/scripts/bench" --smoke >"$o" 2>"$TEST_TMP/bench.err" || rc=$?
	cat "$o"
	[ $rc = 0 ] || { tail -n 20 "$TEST_TMP/bench.err" >&2; _fail "scripts/bench --smoke exited $rc"; }
	for row in $BENCH_ROWS; do
		line=$(grep -E "^$row: " "$o") || _fail "row $row: no line"
		[ "$(grep -cE "^$row: " "$o")" = 1 ] || _fail "row $row: more than one line"
		[[ "$line" =~ (runs|pairs)=[1-9][0-9]*\ spread= ]] || _fail "row $row: no repetitions: $line"
	done
	check_grep "load average printed" '^# fib-stat bench \(smoke\): .* load average at start: [0-9.]+ [0-9.]+ [0-9.]+$' "$o"
	"$ROOT/scripts/bench" --check "$o" || _fail "malformed lines"
	check_grep "contention verdict" '^record-2w-samens-vs-2ns: .* contention=(visible|not-visible)$' "$o"
	# The rows with a goal say whether it was met.
	for row in record-2w-vs-1w record-2w-vs-1w-percpu; do
		check_grep "$row: goal" "^$row: .* ratio=[0-9.]+ .* goal_min=1\.95 goal=(met|missed)\$" "$o"
	done
	for row in neigh-updates-veth neigh-updates-vmxnet3 neigh-updates-percpu-veth; do
		check_grep "$row: goal" "^$row: .* ratio=[0-9.]+ .* goal_min=0\.99 goal=(met|missed)\$" "$o"
	done
}

# The format check itself can fail: a line without repetitions and spread, or
# with a figure that is not a number, is rejected.
test_bench_format_check_rejects_malformed_lines() {
	local f=$TEST_TMP/bad.txt
	printf 'get-vs-getlink: get=100/s getlink=50/s ratio=2.00 runs=3 spread=1.0%%\n' >"$f"
	"$ROOT/scripts/bench" --check "$f" || _fail "a well-formed line was rejected"
	printf 'get-vs-getlink: get=100/s getlink=50/s ratio=2.00\n' >"$f"
	if "$ROOT/scripts/bench" --check "$f" 2>/dev/null; then _fail "a line without runs/spread passed"; fi
	printf 'get-vs-getlink: get=fast getlink=50/s ratio=2.00 runs=3 spread=1%%\n' >"$f"
	if "$ROOT/scripts/bench" --check "$f" 2>/dev/null; then _fail "a non-numeric figure passed"; fi
	printf 'get-vs-getlink: FAILED (guest exit 1)\n' >"$f"
	if "$ROOT/scripts/bench" --check "$f" 2>/dev/null; then _fail "a FAILED row passed"; fi
}
