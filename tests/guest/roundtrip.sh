# GET/RECORD/RESET round trips with exact values, in a fresh netns t1.
. tests/guest/common.sh
$IP netns add t1 || fail "ip netns add t1"
expect_stat t1 gateway_records 0
expect_stat t1 last_gateway null
expect_stat t1 last_update_ns 0
i=0
while [ $i -lt 5 ]; do
	fibstat record -n t1 --gateway 192.0.2.254 --ifindex 7 --count 7 || fail "record $i"
	i=$((i + 1))
done
expect_stat t1 gateway_records 35
expect_stat t1 last_gateway 192.0.2.254
expect_stat t1 last_gateway_ifindex 7
expect_stat_gt t1 last_update_ns 1600000000000000000
# Every request counts: a RECORD and a GET between two GETs add exactly 2.
n1=$(stat t1 nl_requests)
fibstat record -n t1 --gateway 192.0.2.254 --ifindex 7 --count 1 || fail "record"
expect_stat t1 nl_requests $((n1 + 2))
expect_stat t1 gateway_records 36
fibstat record -n t1 --gateway 2001:db8::1 --count 1000000 || fail "record IPv6, count at the maximum"
expect_stat t1 gateway_records 1000036
expect_stat t1 last_gateway 2001:db8::1
expect_stat t1 last_gateway_ifindex 0
fibstat reset -n t1 || fail "reset"
expect_stat t1 gateway_records 0
expect_stat t1 last_gateway null
expect_stat t1 neigh_updates 0
expect_stat t1 last_update_ns 0
# The initial netns saw none of it.
expect_stat - gateway_records 0
echo "PASS roundtrip"
