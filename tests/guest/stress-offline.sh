# percpu build: a CPU taken offline keeps what it counted. RECORDs on CPU 1,
# then CPU 1 offline: GET (on CPU 0) still sums CPU 1's copy, exactly; RECORDs
# on CPU 0 meanwhile; CPU 1 back online: the same sum. Then RESET with CPU 1
# offline: CPU 1's copy (older generation) counts as zero, and after CPU 1 is
# back and records again, only what it recorded since.
#   stress-offline.sh   (any topology)
. tests/guest/common.sh
[ "$(nproc)" = 2 ] || fail "the guest has $(nproc) CPUs, this test needs 2"
[ -w /sys/devices/system/cpu/cpu1/online ] || fail "CPU 1 cannot be taken offline (no CONFIG_HOTPLUG_CPU?)"
$IP netns add off || fail "ip netns add off"
rec() { taskset "$1" fibstat -n off record --gateway 192.0.2.7 --count "$2" >/dev/null || fail "record on mask $1"; }
for i in 1 2 3; do rec 2 100; done
echo 0 >/sys/devices/system/cpu/cpu1/online || fail "offline CPU 1"
[ "$(cat /sys/devices/system/cpu/online)" = 0 ] || fail "CPU 1 still online"
expect_stat off gateway_records 300
rec 1 5
expect_stat off gateway_records 305
echo 1 >/sys/devices/system/cpu/cpu1/online || fail "online CPU 1"
expect_stat off gateway_records 305
echo 0 >/sys/devices/system/cpu/cpu1/online || fail "offline CPU 1 again"
taskset 1 fibstat -n off reset || fail "reset"
expect_stat off gateway_records 0
echo 1 >/sys/devices/system/cpu/cpu1/online || fail "online CPU 1 again"
rec 2 9
expect_stat off gateway_records 9
ok "offline CPU: counts kept, RESET exact across it"
echo "PASS stress-offline"
