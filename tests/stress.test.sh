# shellcheck shell=bash
# Stress and fuzz on the bh build (issue 8, section 4): bounded, seeded,
# reproducible. The short form runs in `make test` on both kernel flavors;
# `make soak` (scripts/soak) runs the long form: STRESS_FORM=long.
# The fuzzer and the writers run on the bh build and on the percpu build
# (per-CPU statistics, no shared lock), and a percpu test takes a CPU offline.
#
#   netlink fuzzer      random and mutated-valid messages, every answer checked
#                       against a model; statistics = sum of the acked RECORDs
#   concurrent writers  RECORD writers on CPU 0 and CPU 1 with ARP/ping floods
#                       from both CPUs: no lost update of any counter
#   insmod/rmmod cycles under traffic, namespaces created and deleted, rmmod
#                       refused while a client holds its socket mid-request
#
# Every guest must leave a clean kernel log (no WARNING/BUG/lockdep/KASAN/
# UBSAN/kCFI/DEBUG_OBJECTS report), debug_locks 1 and, on the debug flavor, no
# kmemleak report. The seed is printed; STRESS_SEED=N repeats a run.
# STRESS_SUMMARY=FILE collects the figures (scripts/soak prints them).
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS="default debug"

STRESS_FORM=${STRESS_FORM:-short}
case "$STRESS_FORM" in
short)
	FUZZ_MESSAGES=4000 WRITE_SECONDS=4 CYCLES=3 CYCLE_SECONDS=1 STRESS_TIMEOUT=900 ;;
long)
	FUZZ_MESSAGES=100000 WRITE_SECONDS=60 CYCLES=50 CYCLE_SECONDS=1 STRESS_TIMEOUT=5400 ;;
*) echo "STRESS_FORM must be short or long, not '$STRESS_FORM'" >&2; return 1 ;;
esac
STRESS_SEED=${STRESS_SEED:-$(( $(date +%s) % 1000000 ))}

# stress_guest NAME LOCK TOPOLOGY SCRIPT ARGS...: tests/guest/SCRIPT in a guest of
# the LOCK build
stress_guest() {
	local name=$1 lock=$2 topo=$3 start end
	shift 3
	echo "seed $STRESS_SEED ($STRESS_FORM form, lock mode $lock; repeat with STRESS_SEED=$STRESS_SEED)"
	start=$(date +%s.%N)
	guest_script "$name" "$lock" "$topo" "$STRESS_TIMEOUT" '^(ok|FAIL|PASS|fuzz: PASS|figure:|write |flood )' "$@"
	end=$(date +%s.%N)
	guest_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
}

# figure LINE: record a figure for the README / scripts/soak
figure() {
	echo "figure: $*"
	[ -z "${STRESS_SUMMARY:-}" ] || echo "$FIB_STAT_FLAVOR $STRESS_FORM: $*" >>"$STRESS_SUMMARY"
}

# fuzz LOCK
fuzz() {
	local name=fuzz-$1
	stress_guest "$name" "$1" none stress-fuzz.sh "$FUZZ_MESSAGES" "$STRESS_SEED"
	local o=$TEST_TMP/$name.out pass
	pass=$(grep -m1 '^fuzz: PASS ' "$o") || _fail "no fuzz: PASS line"
	check_grep "the fuzzer sent what was asked" "^fuzz: PASS seed=0x[0-9a-f]+ messages=$FUZZ_MESSAGES " "$o"
	# The mix reached every kind of answer.
	local counts
	counts=$(grep -m1 '^fuzz: datagrams=' "$o") || _fail "no fuzz counts line"
	for k in skipped gets records_acked einval eopnotsupp dropped_datagrams; do
		if ! { [[ "$counts" =~ \ $k=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; }; then
			_fail "fuzzer: no $k in: $counts"
		fi
	done
	check_grep "rmmod after fuzzing" '^ok [0-9]+ rmmod after fuzzing' "$o"
	figure "fuzz ($1): ${pass#fuzz: PASS } wall_seconds=$guest_seconds"
	figure "fuzz ($1): ${counts#fuzz: }"
}
test_netlink_fuzzer() { fuzz bh; }
test_netlink_fuzzer_percpu() { fuzz percpu; }

# writers LOCK
writers() {
	local name=writers-$1
	stress_guest "$name" "$1" veth stress-writers.sh "$WRITE_SECONDS" "$STRESS_SEED"
	local o=$TEST_TMP/$name.out
	check_grep "exact gateway_records" '^ok [0-9]+ netns ns1: gateway_records = [0-9]+$' "$o"
	check_grep "exact nl_requests" '^ok [0-9]+ netns ns1: nl_requests = [0-9]+$' "$o"
	check_grep "neigh_updates accounted" '^ok [0-9]+ neigh_updates grew by' "$o"
	figure "$(grep -m1 '^figure: ' "$o" | sed 's/^figure: //') wall_seconds=$guest_seconds"
}
test_concurrent_writers_and_floods_on_two_cpus() { writers bh; }
test_concurrent_writers_and_floods_on_two_cpus_percpu() { writers percpu; }

test_insmod_traffic_rmmod_cycles() {
	stress_guest cycles bh vmxnet3 stress-cycles.sh "$CYCLES" "$CYCLE_SECONDS" 192.0.2.1 192.0.2.2 192.0.2.3
	local o=$TEST_TMP/cycles.out n
	n=$(grep -cE '^ok [0-9]+ cycle [0-9]*: rmmod refused \(EWOULDBLOCK\) while held, unloaded' "$o" || true)
	check_eq "cycles completed" "$CYCLES" "$n"
	figure "$(grep -m1 '^figure: ' "$o" | sed 's/^figure: //') wall_seconds=$guest_seconds"
}

# percpu only: GET sums every possible CPU's copy, not the online ones: a CPU
# taken offline keeps its counts, and RESET is exact across it.
test_percpu_offline_cpu_keeps_counts() {
	guest_script offline percpu none 300 '^(ok|FAIL|PASS)' stress-offline.sh
	local o=$TEST_TMP/offline.out
	check_grep "counted on CPU 1, read with it offline" '^ok [0-9]+ netns off: gateway_records = 300$' "$o"
	check_grep "reset with CPU 1 offline" '^ok [0-9]+ netns off: gateway_records = 0$' "$o"
	check_grep "after reset, CPU 1 back" '^ok [0-9]+ netns off: gateway_records = 9$' "$o"
}
