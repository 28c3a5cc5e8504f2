# The make-repro workload, run in ns1 (the receiving namespace) of either topology.
#   repro-scenario.sh ORDER ADDR1 ADDR2
# ORDER netlink-first: 5 RECORDs (count 7) in ns1 from process context, then
#   arping ns2 -> ns1, so ns1's NIC receive path (NAPI poll, softirq) runs
#   arp_rcv -> neigh update -> netevent -> net_event_callback.
# ORDER arp-first: the same two steps the other way round.
# Then the statistics of ns1 as JSON between "=== fibstat show" and "=== end".
. tests/guest/common.sh
order=$1 addr1=$2 addr2=$3
netlink() {
	i=0
	while [ $i -lt 5 ]; do
		fibstat record -n ns1 --gateway "$addr2" --count 7 || echo "scenario: record $i failed"
		i=$((i + 1))
	done
}
arp() { $IP netns exec ns2 $ARPING -c 1 -w 5 -I fs0 "$addr1" | grep -E '^(Sent|Received)'; }
case "$order" in
netlink-first) netlink && arp ;;
arp-first) arp && netlink ;;
*) fail "unknown order $order" ;;
esac
echo "=== fibstat show"
fibstat show -n ns1 -j
echo "=== end"
# What lockdep recorded for the lock class over the whole run.
echo "lockdep class: $(grep ' fib_stat\.lock$' /proc/lockdep)"
