# shellcheck shell=bash
# Guest harness (scripts/vm-run): boot, project kernel, lockdep, exit status,
# timeout, --share, --log, both topologies.

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
	[ -n "$kb" ] && [ "$kb" -gt 800000 ] && [ "$kb" -le 1048576 ] || _fail "default memory: MemTotal $kb kB, expected 800000..1048576"
	vm "$o" --cpus 1 --memory 512 -- sh -c 'echo "nproc=$(nproc)"; sed -n "s/^MemTotal: *\([0-9]*\) kB/mem_kb=\1/p" /proc/meminfo'
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "--cpus 1" '^nproc=1$' "$o"
	kb=$(command_output "$o" | sed -n 's/^mem_kb=//p')
	[ -n "$kb" ] && [ "$kb" -gt 350000 ] && [ "$kb" -le 524288 ] || _fail "--memory 512: MemTotal $kb kB, expected 350000..524288"
	vm "$o" --cpus 4 -- nproc
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "--cpus 4" 4 "$(command_output "$o")"
}

test_boot_is_fast() {
	local o=$TEST_TMP/fast.out start end
	# Untimed first boot: on a new kernel it includes the one-time KVM probe.
	vm "$o" -- true
	start=$(date +%s.%N)
	vm "$o" -- true
	end=$(date +%s.%N)
	check_eq "vm-run status" 0 "$vm_rc"
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
	echo "boot + true + shutdown: ${secs}s"
	# The target is 3 s; allow headroom for a loaded CI machine.
	check_le "boot + true + shutdown seconds" 6 "$secs"
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
	FIB_STAT_VM_APPEND="rdinit=/nonexistent init=/nonexistent" vm "$o" --timeout 60 -- true
	secs=$(($(date +%s) - start))
	check_eq "vm-run status for a panicked guest" 125 "$vm_rc"
	check_grep "reported" 'guest kernel panicked' "$o"
	check_grep "kernel log shows the panic" 'Kernel panic - not syncing' "$o"
	check_le "seconds until reported" 30 "$secs"
}

test_share_and_log() {
	local d=$TEST_TMP/share o=$TEST_TMP/share.out
	mkdir -p "$d"
	printf '#!/bin/sh\necho "hello from $(pwd) as $(id -u)"\n' >"$d/hello.sh"
	vm "$o" --share "$d" --log "$TEST_TMP/share.log" -- sh ./hello.sh
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "script from --share ran in /share" '^hello from /share as 0$' "$o"
	cmp -s "$o" "$TEST_TMP/share.log" || _fail "--log FILE differs from what was printed"
}

test_usage_errors() {
	vm "$TEST_TMP/usage.out" --lock bogus -- true
	check_eq "status for --lock bogus" 2 "$vm_rc"
	vm "$TEST_TMP/usage2.out" --topology
	check_eq "status for a missing value" 2 "$vm_rc"
	vm "$TEST_TMP/usage3.out" --cpus 0 -- true
	check_eq "status for --cpus 0" 2 "$vm_rc"
	check_grep "names the problem" 'error: --cpus must be 1\.\.64' "$TEST_TMP/usage3.out"
	vm "$TEST_TMP/usage4.out" --flavor fancy -- true
	check_eq "status for --flavor fancy" 2 "$vm_rc"
	check_grep "names the problem" "flavor must be default or debug, not 'fancy'" "$TEST_TMP/usage4.out"
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
	vm "$o" --topology vmxnet3 -- sh -c 'for n in ns1 ns2; do echo "$n $($IP netns exec $n readlink /sys/class/net/fs0/device/driver)"; done'
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "ns1's fs0 is a vmxnet3 NIC" '^ns1 .*/drivers/vmxnet3$' "$o"
	check_grep "ns2's fs0 is a vmxnet3 NIC" '^ns2 .*/drivers/vmxnet3$' "$o"
}

test_topology_veth_arping() { _arping_across veth 198.51.100.1; }
