# RESET and RECORD without CAP_NET_ADMIN (as nobody) fail with EPERM and change
# nothing; GET needs no privilege.
. tests/guest/common.sh
$IP netns add t1 || fail "ip netns add t1"
fibstat record -n t1 --gateway 192.0.2.9 --count 4 || fail "record as root"
before=$(snapshot t1)
as_nobody() { $IP netns exec t1 su -s /bin/sh nobody -c "$*"; }
[ "$(as_nobody id -u)" = 65534 ] || fail "cannot run as nobody"
expect_output "RESET as nobody" 1 '^fibstat: operation not permitted: RESET needs CAP_NET_ADMIN$' -- as_nobody fibstat reset
expect_output "RECORD as nobody" 1 '^fibstat: operation not permitted: RECORD needs CAP_NET_ADMIN$' -- as_nobody fibstat record --gateway 192.0.2.10 --count 5
expect_output "GET as nobody" 0 '"gateway_records": 4' -- as_nobody fibstat show -j -p
[ "$(snapshot t1)" = "$before" ] || fail "statistics changed by refused requests"
ok "statistics unchanged"
expect_stat t1 gateway_records 4
echo "PASS privilege"
