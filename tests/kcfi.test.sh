# shellcheck shell=bash
# kCFI checks indirect calls in both kernel flavors: an indirect call through a
# pointer of another type (tests/oracles/oracle.ko bug=cfi) is reported exactly,
# and check_clean_log rejects the log. The module's own callbacks (netlink
# input, netevent notifier, pernet operations) run in every other test under
# the same checks.
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS="default debug"
. "$ROOT/tests/oracles/lib.sh"

test_kcfi_mismatched_indirect_call() {
	# The oops kills insmod inside the module loader, which keeps its locks, so
	# the guest could not shut down cleanly: oops=panic ends it at once.
	oracle_run cfi cfi oops=panic
	local k=$TEST_TMP/oracle-cfi.klog
	# shellcheck disable=SC2154 # vm_rc is set by vm() of tests/lib.sh
	check_eq "vm-run status: the guest panicked" 125 "$vm_rc"
	check_grep "CFI report" '\] CFI failure at oracle_cfi\+0x[0-9a-f]+/0x[0-9a-f]+ \[oracle\] \(target: oracle_cfi_target\+0x0/0x[0-9a-f]+ \[oracle\]; expected type: 0x[0-9a-f]{8}\)$' "$k"
	check_grep "an oops in insmod" '\] Oops: invalid opcode: 0000 \[#1\] SMP' "$k"
	check_grep "in the module's init" '\]  init_module\+0x[0-9a-f]+/0x[0-9a-f]+ \[oracle\]$' "$k"
	check_grep "the panic" 'Kernel panic - not syncing: Fatal exception' "$k"
	oracle_is_noticed cfi cfi_failure
}
