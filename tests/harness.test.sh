# shellcheck shell=bash
# Guest harness (scripts/vm-run): boot, project kernel, lockdep, exit status,
# timeout, panic, --share, --log, usage errors, both topologies. (Boot time is
# measured by scripts/bench-boot, not tested.) tests/runner.test.sh covers the
# runner's own-kernel, own-module, live, interactive and gdb features.
# shellcheck disable=SC2154 # vm_rc: set by vm() of tests/lib.sh, which tests/run sources first

test_boot_runs_project_kernel_with_lockdep() {
	local o=$TEST_TMP/boot.out
	vm "$o" -- sh -c 'uname -r; test -e /proc/lockdep && echo lockdep=yes; grep -E "^ *debug_locks:" /proc/lockdep_stats'
	check_eq "vm-run status" 0 "$vm_rc"
	command_output "$o" >"$o.cmd"
	# The release the project kernel was built as (6.12.N-fib-stat, N from Debian's package).
	local release
	release=$(cat "$ROOT/build/kernel/include/config/kernel.release")
	[[ "$release" =~ ^6\.12\.[0-9]+-fib-stat$ ]] || _fail "unexpected kernel release '$release'"
	check_eq "uname -r" "$release" "$(sed -n 1p "$o.cmd")"
	check_eq "/proc/lockdep" "lockdep=yes" "$(sed -n 2p "$o.cmd")"
	check_grep "debug_locks" '^ *debug_locks: +1$' "$o.cmd"
	check_grep "kernel log is delimited and complete" "^\\[ *[0-9.]+\\] Linux version ${release//./\\.} " "$o"
	check_grep "end of kernel log" '^----- end of guest kernel log -----$' "$o"
}

# Guests have the CPUs asked for (QEMU -smp N,sockets=N; -smp N alone gave one CPU).
test_guest_cpus_and_memory() {
	local o=$TEST_TMP/cpus.out
	# shellcheck disable=SC2016 # run by the guest's shell
	vm "$o" -- sh -c 'echo "nproc=$(nproc)"; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; sed -n "s/^MemTotal: *\([0-9]*\) kB/mem_kb=\1/p" /proc/meminfo'
	check_eq "vm-run status" 0 "$vm_rc"
	command_output "$o" >"$o.cmd"
	check_eq "default: nproc" "nproc=2" "$(sed -n 1p "$o.cmd")"
	check_eq "default: processors in /proc/cpuinfo" 2 "$(sed -n 2p "$o.cmd")"
	check_eq "default: CPUs online" 0-1 "$(sed -n 3p "$o.cmd")"
	check_grep "kernel brought up 2 CPUs" 'smp: Brought up 1 node, 2 CPUs' "$o"
	local kb
	kb=$(sed -n 's/^mem_kb=//p' "$o.cmd")
	# 1024 MiB minus what the kernel reserves for itself.
	if [ -z "$kb" ] || [ "$kb" -le 800000 ] || [ "$kb" -gt 1048576 ]; then _fail "default memory: MemTotal $kb kB, expected 800000..1048576"; fi
	# shellcheck disable=SC2016 # run by the guest's shell
	vm "$o" --cpus 1 --memory 512 -- sh -c 'echo "nproc=$(nproc)"; sed -n "s/^MemTotal: *\([0-9]*\) kB/mem_kb=\1/p" /proc/meminfo'
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "--cpus 1" '^nproc=1$' "$o"
	kb=$(command_output "$o" | sed -n 's/^mem_kb=//p')
	if [ -z "$kb" ] || [ "$kb" -le 350000 ] || [ "$kb" -gt 524288 ]; then _fail "--memory 512: MemTotal $kb kB, expected 350000..524288"; fi
	vm "$o" --cpus 4 -- nproc
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "--cpus 4" 4 "$(command_output "$o")"
}

test_exit_status_comes_back() {
	vm "$TEST_TMP/exit3.out" -- sh -c 'echo about to exit; exit 3'
	check_eq "vm-run status for 'exit 3'" 3 "$vm_rc"
	check_grep "COMMAND output printed" '^about to exit$' "$TEST_TMP/exit3.out"
	vm "$TEST_TMP/false.out" -- false
	check_eq "vm-run status for false" 1 "$vm_rc"
}

test_hung_guest_is_killed_at_timeout() {
	local o=$TEST_TMP/timeout.out start secs
	start=$(date +%s)
	vm "$o" --timeout 8 -- sleep 600
	secs=$(($(date +%s) - start))
	check_eq "vm-run status for a hung guest" 124 "$vm_rc"
	check_grep "reported" 'guest timed out after 8s' "$o"
	check_le "seconds until killed" 30 "$secs"
}

test_guest_panic_is_reported() {
	# No init: the guest kernel panics at boot ("No working init found").
	local o=$TEST_TMP/panic.out start secs
	start=$(date +%s)
	vm "$o" --timeout 60 --append "rdinit=/nonexistent init=/nonexistent" --allow-reports=kernel_panic -- true
	secs=$(($(date +%s) - start))
	check_eq "vm-run status for a panicked guest" 125 "$vm_rc"
	check_grep "reported" 'guest kernel panicked' "$o"
	check_grep "kernel log shows the panic" 'Kernel panic - not syncing' "$o"
	check_le "seconds until reported" 30 "$secs"
}

# COMMAND's output on stdout, nothing else on a success (quiet); --log gets everything.
test_share_and_log() {
	local d=$TEST_TMP/share o=$TEST_TMP/share.out
	mkdir -p "$d"
	# shellcheck disable=SC2016 # run by the guest's shell
	printf '#!/bin/sh\necho "hello from $(pwd) as $(id -u)"\n' >"$d/hello.sh"
	vm "$o" --share "$d" -- sh ./hello.sh
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "terminal output of a clean run: COMMAND's output only" "hello from /share as 0" "$(cat "$o.tty")"
	check_eq "--log: COMMAND's output first" "hello from /share as 0" "$(sed -n 1p "$o")"
	check_eq "--log: then the kernel log" "----- guest kernel log -----" "$(sed -n 2p "$o")"
	check_grep "--log: the whole kernel log" '^\[ *0\.0+\] Linux version ' "$o"
	check_grep "--log: its end" '^----- end of guest kernel log -----$' "$o"
	check_grep "--log: debug_locks" '^guest debug_locks: +1$' "$o"
}

# A usage error prints its one-line cause first, on stderr, and starts nothing.
_usage_error() { # EXPECTED-FIRST-LINE-REGEX vm-run ARGS...
	local want=$1 rc=0
	shift
	"$VM_RUN" "$@" >"$TEST_TMP/usage.stdout" 2>"$TEST_TMP/usage.stderr" || rc=$?
	check_eq "status for vm-run $*" 2 "$rc"
	check_eq "stdout for vm-run $*" "" "$(cat "$TEST_TMP/usage.stdout")"
	[[ "$(head -n 1 "$TEST_TMP/usage.stderr")" =~ $want ]] ||
		_fail "first stderr line for vm-run $*: expected /$want/, got '$(head -n 1 "$TEST_TMP/usage.stderr")'"
}
test_usage_errors() {
	_usage_error "^vm-run: error: --lock must be spin, bh, irq, irqsave, percpu or none, not 'bogus'$" --lock bogus -- true
	_usage_error "^vm-run: error: --topology needs a value$" --topology
	_usage_error "^vm-run: error: --cpus must be 1\.\.64$" --cpus 0 -- true
	_usage_error "^vm-run: error: --cpus must be 1\.\.64$" --cpus=0 -- true
	_usage_error "^vm-run: error: --flavor must be default, debug or rt, not 'fancy'$" --flavor fancy -- true
	_usage_error "^vm-run: error: unknown option '--bogus'$" --bogus -- true
	_usage_error "^vm-run: error: unknown option '--bogus'$" --timeout 5 --bogus
	_usage_error "^vm-run: error: unknown option '-v'$" -v -- true
	_usage_error "^vm-run: error: --qemu-arg needs a value$" --qemu-arg
	_usage_error "^vm-run: error: --allow-reports: unknown report kind 'lockdep' \(the kinds are in tools/fibstat/EXPLAIN\.md, \"Recognised reports\": inconsistent_lock_state, warning, kasan, \.\.\.\)$" --allow-reports=warning,lockdep -- true
	_usage_error "^vm-run: error: --allow-reports=KIND\[,KIND\.\.\.\]: 'Warning' is not a comma-separated list of report kinds$" --allow-reports=Warning -- true
	_usage_error "^vm-run: error: unexpected argument 'true' \(COMMAND goes after --\)$" true
	_usage_error "^vm-run: error: --module /nonexistent/x\.ko: no such readable file$" --module /nonexistent/x.ko -- true
	_usage_error "^vm-run: error: --verbose takes no value$" --verbose=1 -- true
	_usage_error "^vm-run: error: --rootfs must be initramfs or host, not 'nfs'$" --rootfs nfs -- true
	_usage_error "^vm-run: error: COMMAND /nonexistent/tool: no such file on the host, whose root filesystem the guest has \(--rootfs host\)$" --rootfs host -- /nonexistent/tool
	_usage_error "^vm-run: error: no COMMAND given \(an interactive shell needs a terminal on stdin and stdout\)$" --timeout 5 </dev/null
}

# --rootfs host: the host's bash and python3 in the guest, COMMAND's exit status
# passed through, the root read-only, /tmp writable, COMMAND in --share DIR at
# its host path, the topology up (arping across it), a clean kernel log.
test_rootfs_host_runs_the_hosts_tools() {
	local o=$TEST_TMP/rootfs.out
	# shellcheck disable=SC2016 # run by the guest's bash
	vm "$o" --rootfs host --topology veth -- /bin/bash -c 'echo "bash ${BASH_VERSINFO[0]}"; python3 -c "print(6 * 7)"
		touch /usr/fib-stat-rootfs 2>/dev/null || echo "/usr read-only"; echo x >/tmp/x && echo "/tmp writable"; pwd
		/usr/sbin/ip netns exec ns2 /usr/bin/arping -c 1 -w 5 -I fs0 198.51.100.1 >/dev/null && echo "arping ok"; exit 7'
	check_eq "vm-run status: COMMAND's" 7 "$vm_rc"
	check_eq "COMMAND's output" "bash ${BASH_VERSINFO[0]}|42|/usr read-only|/tmp writable|$ROOT|arping ok" "$(command_output "$o" | paste -sd'|')"
	check_clean_log "--rootfs host" "$o"
}

# arping from ns2 to ns1: a reply proves a working neighbour across the namespaces.
_arping_across() {
	local topo=$1 addr=$2 o=$TEST_TMP/arping-$1.out
	vm "$o" --topology "$topo" -- sh -c "\$IP netns exec ns2 \$ARPING -c 1 -w 5 -I fs0 $addr; echo rc=\$?; \$IP -n ns1 -br addr show fs0"
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "$topo: arping reply" '^Received 1 response' "$o"
	check_grep "$topo: arping status" '^rc=0$' "$o"
	check_grep "$topo: ns1 address" "^fs0(@[a-z0-9]+)? +UP +$addr/24" "$o"
}

test_topology_vmxnet3_arping() {
	_arping_across vmxnet3 192.0.2.1
	local o=$TEST_TMP/vmxnet3-driver.out
	# shellcheck disable=SC2016 # run by the guest's shell
	vm "$o" --topology vmxnet3 -- sh -c 'for n in ns1 ns2; do echo "$n $($IP netns exec $n readlink /sys/class/net/fs0/device/driver)"; done'
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "ns1's fs0 is a vmxnet3 NIC" '^ns1 .*/drivers/vmxnet3$' "$o"
	check_grep "ns2's fs0 is a vmxnet3 NIC" '^ns2 .*/drivers/vmxnet3$' "$o"
}

test_topology_veth_arping() { _arping_across veth 198.51.100.1; }
