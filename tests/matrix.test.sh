# shellcheck shell=bash
# The lock matrix (scripts/matrix, README "The lock matrix"), a named subset of its
# cells: the seed's cell and its fix, the hard irq context against bh and irq, and
# the three-context cell with the softirq side on irqsave; exact transitions. And an
# expectation broken on purpose is a failure, not waved through.

# cell_field REPORT_JSON ID FIELD: the observed FIELD of cell ID ("transition": FROM -> TO).
cell_field() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
c = [c for c in json.load(open(sys.argv[1]))["cells"] if c["id"] == sys.argv[2]][0]
f = sys.argv[3]
if f == "match":
    print(c["match"])
elif f == "transition":
    t = c["observed"]["transition"]
    print(f"{t['from']} -> {t['to']}" if t else "none")
else:
    print(c["observed"][f])
PY
}

test_matrix_subset() {
	local out=$TEST_TMP/matrix rc=0
	"$ROOT/scripts/matrix" --cells spin-ps,bh-ps,bh-ph,irq-ph,bh+sirqsave-hsp,irqsave+sirqsave-psh \
		--out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/matrix exit status" 0 "$rc"
	local j=$out/report.json
	check_grep "report.json schema" '"schema_version": 1,' "$j"
	check_eq "spin-ps transition" "SOFTIRQ-ON-W -> IN-SOFTIRQ-W" "$(cell_field "$j" spin-ps transition)"
	check_eq "spin-ps caller" "net_event_callback" "$(cell_field "$j" spin-ps caller)"
	check_eq "bh-ps" "clean" "$(cell_field "$j" bh-ps verdict)"
	check_eq "bh-ph transition" "HARDIRQ-ON-W -> IN-HARDIRQ-W" "$(cell_field "$j" bh-ph transition)"
	check_eq "bh-ph caller" "fib_stat_hardirq_tick" "$(cell_field "$j" bh-ph caller)"
	check_eq "irq-ph" "clean" "$(cell_field "$j" irq-ph verdict)"
	check_eq "bh+sirqsave-hsp transition" "IN-HARDIRQ-W -> HARDIRQ-ON-W" "$(cell_field "$j" bh+sirqsave-hsp transition)"
	check_eq "bh+sirqsave-hsp caller" "fib_stat_rcv_proc" "$(cell_field "$j" bh+sirqsave-hsp caller)"
	check_eq "irqsave+sirqsave-psh" "clean" "$(cell_field "$j" irqsave+sirqsave-psh verdict)"
	check_grep "irq-ph ticked" '"hardirq_ticks": [1-9]' "$j"
	check_grep "text report" '^# 6 of 6 cells matched their expectation$' "$out/report.txt"
}

# percpu: no shared lock; clean in all three contexts, in either order, and each
# context's path ran (5 RECORDs of 7, a neighbour update, ticks); lockdep saw the
# per-CPU seqcount class written in softirq context (usage of fib_stat.percpu).
test_matrix_percpu() {
	local out=$TEST_TMP/matrix-percpu rc=0 id
	"$ROOT/scripts/matrix" --cells percpu-psh,percpu-hsp --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/matrix exit status" 0 "$rc"
	local j=$out/report.json
	for id in percpu-psh percpu-hsp; do
		check_eq "$id" "clean" "$(cell_field "$j" $id verdict)"
		check_eq "$id gateway_records" 35 "$(cell_field "$j" $id gateway_records)"
		check_eq "$id neigh_updates" 1 "$(cell_field "$j" $id neigh_updates)"
		[ "$(cell_field "$j" $id hardirq_ticks)" -gt 0 ] || _fail "$id: no hardirq tick counted"
		[[ "$(cell_field "$j" $id usage)" =~ ^[-.+?]{4}$ ]] || _fail "$id: no usage of fib_stat.percpu"
	done
	check_grep "text report" '^# 2 of 2 cells matched their expectation$' "$out/report.txt"
}

test_matrix_broken_expectation_is_a_failure() {
	local out=$TEST_TMP/matrix-broken rc=0
	"$ROOT/scripts/matrix" --cells bh-ph --expect bh-ph=clean --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/matrix exit status" 1 "$rc"
	check_eq "bh-ph match" "False" "$(cell_field "$out/report.json" bh-ph match)"
	check_grep "text report" '^bh-ph .* clean .*HARDIRQ-ON-W -> IN-HARDIRQ-W in fib_stat_hardirq_tick .* NO$' "$out/report.txt"
}
