# shellcheck shell=bash
# The debug kernel's oracles fire: tests/oracles/oracle.ko commits one
# deliberate bug per guest (KASAN use-after-free, UBSAN out-of-bounds index, a
# kmemleak leak, an ODEBUG free of an active timer, a DEBUG_NET warning), and
# each test asserts the exact report, and that check_clean_log (what every other
# test relies on) rejects the log. (kCFI, in both flavors: tests/kcfi.test.sh.)
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS="debug"
. "$ROOT/tests/oracles/lib.sh"

test_kasan_use_after_free() {
	oracle_run kasan kasan
	local k=$TEST_TMP/oracle-kasan.klog
	check_grep "KASAN title" '\] BUG: KASAN: slab-use-after-free in oracle_kasan\+0x[0-9a-f]+/0x[0-9a-f]+ \[oracle\]$' "$k"
	check_grep "access" '\] Read of size 4 at addr [0-9a-f]{16} by task insmod/[0-9]+$' "$k"
	check_grep "allocation stack" '\] Allocated by task [0-9]+:$' "$k"
	check_grep "free stack" '\] Freed by task [0-9]+:$' "$k"
	check_grep "the object" '\] The buggy address belongs to the object at [0-9a-f]{16}$' "$k"
	check_grep "the module loaded" '^insmod status 0$' "$TEST_TMP/oracle-kasan.out"
	oracle_is_noticed kasan kasan
}

test_ubsan_array_index_out_of_bounds() {
	oracle_run ubsan ubsan
	local k=$TEST_TMP/oracle-ubsan.klog line
	line=$(grep -n 'int v = pair.a\[i\];' "$ROOT/tests/oracles/oracle.c" | cut -d: -f1)
	check_grep "UBSAN title and source line" "\\] UBSAN: array-index-out-of-bounds in .*/oracle\\.c:$line:[0-9]+\$" "$k"
	check_grep "what was wrong" "\\] index 4 is out of range for type 'int\\[4\\]'\$" "$k"
	oracle_is_noticed ubsan ubsan
}

test_kmemleak_unreferenced_object() {
	oracle_run kmemleak kmemleak
	local o=$TEST_TMP/oracle-kmemleak.out
	check_grep "exactly one leak" '^guest kmemleak: 1$' "$o"
	# kmalloc(4321) is served by kmalloc-8k.
	check_grep "its size" '^unreferenced object 0x[0-9a-f]{16} \(size 8192\):$' "$o"
	check_grep "who allocated it" '^  comm "insmod", pid [0-9]+, jiffies [0-9]+$' "$o"
	check_grep "where it was allocated" '^ +oracle_kmemleak\+0x[0-9a-f]+/0x[0-9a-f]+ \[oracle\]$' "$o"
	oracle_is_noticed kmemleak memory_leak
}

test_debug_objects_free_of_active_timer() {
	oracle_run odebug odebug
	check_grep "ODEBUG report" '\] ODEBUG: free active \(active state 0\) object: [^ ]+ object type: timer_list hint: oracle_timer_fn\+0x0/0x[0-9a-f]+ \[oracle\]$' "$TEST_TMP/oracle-odebug.klog"
	oracle_is_noticed odebug odebug
}

test_debug_net_warning() {
	oracle_run debug_net debug_net
	check_grep "DEBUG_NET_WARN_ON_ONCE fired" '\] WARNING: CPU: [0-9]+ PID: [0-9]+ at .*/oracle\.c:[0-9]+ oracle_debug_net\+0x[0-9a-f]+/0x[0-9a-f]+ \[oracle\]$' "$TEST_TMP/oracle-debug_net.klog"
	oracle_is_noticed debug_net warning
}
