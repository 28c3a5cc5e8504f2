# Load and unload one build: lock mode in the log and in GET, clean unload, reload.
. tests/guest/common.sh
mode=$1
dmesg | grep -qE "fib_stat: .*lock mode $mode\b" || fail "no 'lock mode $mode' line at load"
ok "load message names lock mode $mode"
expect_stat - lock_mode "$mode"
expect_stat - gateway_records 0
rmmod fib_stat || fail "rmmod fib_stat"
[ ! -e /sys/module/fib_stat ] || fail "/sys/module/fib_stat still there after rmmod"
expect_output "show without the module" 1 'fib_stat module not loaded \(netlink protocol 25 unsupported\)' -- fibstat show
insmod /run/fib-stat/fib_stat.ko || fail "second insmod"
expect_stat - lock_mode "$mode"
rmmod fib_stat || fail "second rmmod"
# A non-default protocol number through the module parameter.
insmod /run/fib-stat/fib_stat.ko nl_proto=27 || fail "insmod nl_proto=27"
expect_output "show on protocol 25 with nl_proto=27" 1 'module not loaded \(netlink protocol 25' -- fibstat show
FIBSTAT_NETLINK_PROTO=27 fibstat show -j -p | grep -q "\"lock_mode\": \"$mode\"" || fail "show on protocol 27"
ok "nl_proto=27 serves protocol 27"
rmmod fib_stat || fail "third rmmod"
echo "PASS load-unload $mode"
