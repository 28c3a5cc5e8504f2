# shellcheck shell=bash
# make repro's scenarios and verdict: the spin build reproduces the seed's
# report on every scenario, the bh and percpu builds run clean (percpu: lockdep
# watches its per-CPU seqcount class, fib_stat.percpu); and a broken expectation
# is reported as a failure, not waved through.

test_repro_spin_splat_bh_clean() {
	local out=$TEST_TMP/repro rc=0
	"$ROOT/scripts/repro" --out "$out" >"$out.txt" 2>&1 || rc=$?
	cat "$out.txt"
	check_eq "scripts/repro exit status" 0 "$rc"
	local j=$out/report.json
	check_grep "verdict" '^  "passed": true,' "$j"
	check_grep "report.json schema" '^  "schema_version": 3,' "$j"
	check_eq "runs judged" 9 "$(grep -c '"scenario":' "$j")"
	# The kernel that produced the verdict: the release built (every guest's
	# uname -r) and the Debian source package it was built from.
	local release src_version
	release=$(cat "$ROOT/build/kernel/include/config/kernel.release")
	src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	check_eq "kernel release in report.json" "    \"release\": \"$release\"," "$(grep -F '"release":' "$j")"
	check_eq "linux-source version in report.json" "    \"linux_source_version\": \"$src_version\"" "$(grep -F '"linux_source_version":' "$j")"
	check_eq "every run's uname -r" 9 "$(grep -cF "\"kernel_release\": \"$release\"," "$j")"
	check_eq "kernel in the text report" "kernel: $release (uname -r in every guest), Debian linux-source $src_version" "$(sed -n 2p "$out/report.txt")"
	# The class's usage in /proc/lockdep after each phase, in run order (spin:
	# netlink-then-arp, arp-then-netlink, netlink-then-arp-veth; then bh, then percpu). After
	# the spin splat lockdep is off and the class keeps the usage of the splat.
	local usage
	usage=$(tr -d ' \n' <"$j" | grep -o '"usage_by_phase":\[[^]]*\]' | sed 's/"usage_by_phase"://; s/{"phase":"\([a-z]*\)","usage":"\{0,1\}\([^"}]*\)"\{0,1\}}/\1 \2/g')
	check_eq "lockdep usage by phase" "[loaded null,netlink +.+.,arp +.?.,show +.?.]
[loaded null,arp +.-.,netlink +.?.,show +.?.]
[loaded null,netlink +.+.,arp +.?.,show +.?.]
[loaded null,netlink +...,arp +.-.,show +.-.]
[loaded null,arp +.-.,netlink +.-.,show +.-.]
[loaded null,netlink +...,arp +.-.,show +.-.]
[loaded null,netlink +...,arp +.-.,show +.-.]
[loaded null,arp +.-.,netlink +.-.,show +.-.]
[loaded null,netlink +...,arp +.-.,show +.-.]" "$usage"
	check_eq "spin runs with the seed's transition" 2 "$(grep -c '"transition": "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}"' "$j")"
	check_eq "spin run with the reverse transition" 1 "$(grep -c '"transition": "{IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W}"' "$j")"
	check_eq "lock class in the spin reports" 3 "$(grep -c '"lock_class": "fib_stat.lock"' "$j")"
	check_eq "process-side callers" 3 "$(grep -c '"process_side_caller": "fib_stat_rcv_proc"' "$j")"
	check_eq "softirq-side callers" 3 "$(grep -c '"irq_side_caller": "net_event_callback"' "$j")"
	check_eq "bh and percpu runs without a report" 6 "$(grep -c '"lockdep_report": false' "$j")"
	# Source lines from DWARF, derived from the sources: the line of
	# `state.stats.lock()` / `.lock_with::<SoftirqLock>()` in each side's function of
	# fib_stat.rs, and the `P::lock(...)` call in ContextLock::lock_with.
	local proc_line irq_line lock_line
	proc_line=$(awk '/^fn handle_request/ { f = 1 } f && /state\.stats\.lock\(\)/ { print NR; exit }' "$ROOT/fib_stat.rs")
	irq_line=$(awk '/NetEvent::NeighUpdate/ { f = 1 } f && /state\.stats\.lock(_with::<SoftirqLock>)?\(\)/ { print NR; exit }' "$ROOT/fib_stat.rs")
	lock_line=$(grep -n 'P::lock(self\.state\.get())' "$ROOT/rust/kernel/sync/lock/context.rs" | cut -d: -f1)
	check_grep "fib_stat.rs has the process-side lock" '^[0-9]+$' <(echo "$proc_line")
	check_grep "fib_stat.rs has the softirq-side lock" '^[0-9]+$' <(echo "$irq_line")
	check_grep "context.rs has the lock call" '^[0-9]+$' <(echo "$lock_line")
	check_eq "process-side source lines" 3 "$(grep -c "\"process_side_source\": \"fib_stat.rs:$proc_line\"" "$j")"
	check_eq "softirq-side source lines" 3 "$(grep -c "\"irq_side_source\": \"fib_stat.rs:$irq_line\"" "$j")"
	check_eq "process-side lock calls" 3 "$(grep -c "\"process_side_lock_call\": \"rust/kernel/sync/lock/context.rs:$lock_line\"" "$j")"
	check_eq "softirq-side lock calls" 3 "$(grep -c "\"irq_side_lock_call\": \"rust/kernel/sync/lock/context.rs:$lock_line\"" "$j")"
	check_grep "source lines in the text report" "process side fib_stat_rcv_proc at fib_stat\.rs:$proc_line \(lock call rust/kernel/sync/lock/context\.rs:$lock_line\)" "$out/report.txt"
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
	check_grep "names the wrong usage" '^     check failed: lockdep usage by phase: loaded none, netlink \+\.\+\., arp \+\.\?\., show \+\.\?\. \(expected loaded none, netlink \+\.\.\., arp \+\.-\., show \+\.-\.\)$' "$out.swapped"
	# A kernel that is not the linux-source version given fails every run.
	local release
	release=$(cat "$ROOT/build/kernel/include/config/kernel.release")
	rc=0
	"$ROOT/build/bin/repro-verdict" --out "$out" --linux-source-version 6.1.1-1 \
		"spin:netlink-then-arp:vmxnet3:netlink-first:0:$out/spin-netlink-then-arp.log" >"$out.source" 2>&1 || rc=$?
	check_eq "status for another linux-source version" 1 "$rc"
	check_grep "names the kernel check" "^     check failed: kernel release: ${release//./\\.} is not linux-source 6\\.1\\.1-1's version 6\\.1\\.1\$" "$out.source"
}
