# shellcheck shell=bash
# make repro's scenarios and verdict: the spin build reproduces the seed's
# report on every scenario, the bh build runs clean; and a broken expectation
# is reported as a failure, not waved through.

test_repro_spin_splat_bh_clean() {
	local out=$TEST_TMP/repro rc=0
	"$ROOT/scripts/repro" --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/repro exit status" 0 "$rc"
	local j=$out/report.json
	check_grep "verdict" '^  "passed": true,' "$j"
	check_eq "runs judged" 6 "$(grep -c '"scenario":' "$j")"
	check_eq "spin runs with the seed's transition" 2 "$(grep -c '"transition": "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}"' "$j")"
	check_eq "spin run with the reverse transition" 1 "$(grep -c '"transition": "{IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W}"' "$j")"
	check_eq "lock class in the spin reports" 3 "$(grep -c '"lock_class": "fib_stat.lock"' "$j")"
	check_eq "process-side callers" 3 "$(grep -c '"process_side_caller": "fib_stat_rcv_proc"' "$j")"
	check_eq "softirq-side callers" 3 "$(grep -c '"irq_side_caller": "net_event_callback"' "$j")"
	check_eq "bh runs without a report" 3 "$(grep -c '"lockdep_report": false' "$j")"
	check_grep "raw excerpt in the text report" 'inconsistent \{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\} usage\.' "$out/report.txt"
}

test_repro_broken_expectation_is_a_failure() {
	local out=$TEST_TMP/repro-broken rc=0
	"$ROOT/scripts/repro" --only spin --expect-class no_such.lock --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "status with a wrong lock class expected" 1 "$rc"
	check_grep "names the failed check" 'check failed: lock class: fib_stat\.lock \(expected no_such\.lock\)' "$out.txt"
	check_grep "verdict" '^  "passed": false,' "$out/report.json"
	# The same spin log judged as a bh run must fail too: a splat is not clean.
	rc=0
	"$ROOT/build/bin/repro-verdict" --out "$out" "bh:swapped:vmxnet3:netlink-first:0:$out/spin-netlink-then-arp.log" >"$out.swapped" 2>&1 || rc=$?
	check_eq "status for a spin log judged as bh" 1 "$rc"
	check_grep "names the failed check" 'check failed: no lockdep report' "$out.swapped"
}
