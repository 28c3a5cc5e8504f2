# shellcheck shell=bash
# The lock matrix on the PREEMPT_RT kernel (scripts/matrix --flavor rt; README,
# "The lock matrix", PREEMPT_RT): a named subset of its cells, exact. make matrix
# FLAVOR=rt runs them all. What RT changes, observed in /proc/lockdep's usage of
# fib_stat.lock: softirqs run in task context, so no acquisition is ever "in
# softirq" (no '-' or '?' in the softirq column) and spin is clean; spin_lock_irq()
# leaves hard interrupts on ('+' in the hardirq column, as spin); spin_lock_bh()
# still disables softirqs ('.' in the softirq column). The hard irq tick is refused
# at build time, with its reason.
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS=rt

# rt_cell REPORT_JSON ID FIELD: the observed FIELD of cell ID.
rt_cell() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
c = [c for c in json.load(open(sys.argv[1]))["cells"] if c["id"] == sys.argv[2]][0]
print(c["match"] if sys.argv[3] == "match" else c["observed"][sys.argv[3]])
PY
}

test_matrix_rt_subset() {
	local out=$TEST_TMP/matrix-rt rc=0 j
	"$ROOT/scripts/matrix" --flavor rt --cells spin-ps,bh-ps,irq-ps,spin-ph --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/matrix exit status" 0 "$rc"
	j=$out/report.json
	check_grep "report.json flavor" '"flavor": "rt",' "$j"
	check_eq "spin-ps verdict" clean "$(rt_cell "$j" spin-ps verdict)"
	check_eq "spin-ps usage (never in softirq on RT)" "+.+." "$(rt_cell "$j" spin-ps usage)"
	check_eq "spin-ps neighbour updates (the softirq path ran)" 1 "$(rt_cell "$j" spin-ps neigh_updates)"
	check_eq "bh-ps usage (bh still disables softirqs)" "+..." "$(rt_cell "$j" bh-ps usage)"
	check_eq "irq-ps usage (spin_lock_irq leaves interrupts on)" "+.+." "$(rt_cell "$j" irq-ps usage)"
	check_eq "spin-ph verdict" "refused: build" "$(rt_cell "$j" spin-ph verdict)"
	check_grep "spin-ph: the refusal says why" '^FIB_STAT_HARDIRQ=y refused on this PREEMPT_RT kernel: the tick takes the spinlock_t in hard interrupt context' "$out/spin-ph.log"
	check_grep "text report" '^# 4 of 4 cells matched their expectation$' "$out/report.txt"
}
