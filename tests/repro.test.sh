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
	check_grep "report.json schema" '^  "schema_version": 2,' "$j"
	check_eq "runs judged" 6 "$(grep -c '"scenario":' "$j")"
	check_eq "spin runs with the seed's transition" 2 "$(grep -c '"transition": "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}"' "$j")"
	check_eq "spin run with the reverse transition" 1 "$(grep -c '"transition": "{IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W}"' "$j")"
	check_eq "lock class in the spin reports" 3 "$(grep -c '"lock_class": "fib_stat.lock"' "$j")"
	check_eq "process-side callers" 3 "$(grep -c '"process_side_caller": "fib_stat_rcv_proc"' "$j")"
	check_eq "softirq-side callers" 3 "$(grep -c '"irq_side_caller": "net_event_callback"' "$j")"
	check_eq "bh runs without a report" 3 "$(grep -c '"lockdep_report": false' "$j")"
	# Source lines from DWARF, derived from the sources: the line of
	# `state.stats.lock()` in each side's function of fib_stat.rs, and the
	# kernel crate's `B::lock(...)` call in Lock::lock.
	local proc_line irq_line lock_line
	proc_line=$(awk '/^fn handle_request/ { f = 1 } f && /state\.stats\.lock\(\)/ { print NR; exit }' "$ROOT/fib_stat.rs")
	irq_line=$(awk '/NetEvent::NeighUpdate/ { f = 1 } f && /state\.stats\.lock\(\)/ { print NR; exit }' "$ROOT/fib_stat.rs")
	lock_line=$(grep -n 'B::lock(self\.state\.get())' "$ROOT/build/kernel/rust/kernel/sync/lock.rs" | cut -d: -f1)
	check_grep "fib_stat.rs has the process-side lock" '^[0-9]+$' <(echo "$proc_line")
	check_grep "fib_stat.rs has the softirq-side lock" '^[0-9]+$' <(echo "$irq_line")
	check_grep "lock.rs has the lock call" '^[0-9]+$' <(echo "$lock_line")
	check_eq "process-side source lines" 3 "$(grep -c "\"process_side_source\": \"fib_stat.rs:$proc_line\"" "$j")"
	check_eq "softirq-side source lines" 3 "$(grep -c "\"irq_side_source\": \"fib_stat.rs:$irq_line\"" "$j")"
	check_eq "process-side lock calls" 3 "$(grep -c "\"process_side_lock_call\": \"rust/kernel/sync/lock.rs:$lock_line\"" "$j")"
	check_eq "softirq-side lock calls" 3 "$(grep -c "\"irq_side_lock_call\": \"rust/kernel/sync/lock.rs:$lock_line\"" "$j")"
	check_grep "source lines in the text report" "process side fib_stat_rcv_proc at fib_stat\.rs:$proc_line \(lock call rust/kernel/sync/lock\.rs:$lock_line\)" "$out/report.txt"
	check_grep "inline frames in the decoded report" "fib_stat::handle_request fib_stat\.rs:$proc_line \[inline\]" "$out/report.txt"
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
	check_grep "names the failed check" 'check failed: no kernel report' "$out.swapped"
}
