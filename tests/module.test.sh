# shellcheck shell=bash
# The fib_stat module in the guest: load/unload, round trips, isolation,
# privilege, malformed requests, netns lifecycle, unload under traffic.
# Every guest script prints "PASS <name>" last; every run must leave a clean
# kernel log (no WARNING/BUG/lockdep report, debug_locks 1), and on the debug
# flavor also no KASAN/UBSAN/kCFI/DEBUG_OBJECTS report and no kmemleak leak.
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS="default debug"

# guest NAME LOCK TOPOLOGY SCRIPT [ARGS...]: run tests/guest/SCRIPT in a guest
guest() { guest_script "$1" "$2" "$3" 180 '^(ok|FAIL|PASS)' "${@:4}"; }

test_load_unload_spin() {
	guest load-spin spin none load-unload.sh spin
	check_grep "load message" 'fib_stat: .*lock mode spin' "$TEST_TMP/load-spin.out"
}
test_load_unload_bh() {
	guest load-bh bh none load-unload.sh bh
	check_grep "load message" 'fib_stat: .*lock mode bh' "$TEST_TMP/load-bh.out"
}
test_roundtrip_exact_values() { guest roundtrip bh none roundtrip.sh; }
test_nl_proto_only_unregistered_numbers() { guest nl-proto bh none nl-proto.sh; }
test_netns_isolation_vmxnet3() { guest isolation-vmxnet3 bh vmxnet3 isolation.sh 192.0.2.1 192.0.2.2; }
test_netns_isolation_veth() { guest isolation-veth bh veth isolation.sh 198.51.100.1 198.51.100.2; }
test_unprivileged_gets_eperm() { guest privilege bh none privilege.sh; }
test_cap_net_admin_of_the_netns_owner() { guest userns bh none userns.sh; }
test_malformed_requests() { guest malformed bh none malformed.sh; }
test_netns_created_and_destroyed_while_loaded() { guest netns-lifecycle bh none netns-lifecycle.sh; }
test_rmmod_under_traffic() { guest rmmod-traffic bh vmxnet3 rmmod-traffic.sh 192.0.2.1 192.0.2.2; }
test_netevent_redirect() { guest redirect bh vmxnet3 redirect.sh; }
