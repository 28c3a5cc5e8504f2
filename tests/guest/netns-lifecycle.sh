# A netns created after load gets its own state; destroying it while loaded,
# then unloading, leaves a clean log.
. tests/guest/common.sh
n=0
while [ $n -lt 3 ]; do
	$IP netns add late || fail "ip netns add late ($n)"
	expect_stat late gateway_records 0
	fibstat record -n late --gateway 198.51.100.7 --count 9 || fail "record in late"
	expect_stat late gateway_records 9
	$IP netns del late || fail "ip netns del late"
	n=$((n + 1))
done
# netns teardown is asynchronous (cleanup_net); give it a moment, then unload.
sleep 1
rmmod fib_stat || fail "rmmod after netns churn"
ok "rmmod after 3 netns create/destroy cycles"
echo "PASS netns-lifecycle"
