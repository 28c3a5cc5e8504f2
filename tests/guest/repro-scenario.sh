# The make-repro workload, run in ns1 (the receiving namespace) of either topology.
#   repro-scenario.sh ORDER ADDR1 ADDR2
# ORDER netlink-first: 5 RECORDs (count 7) in ns1 from process context, then
#   arping ns2 -> ns1, so ns1's NIC receive path (NAPI poll, softirq) runs
#   arp_rcv -> neigh update -> netevent -> net_event_callback.
# ORDER arp-first: the same two steps the other way round.
# Then the statistics of ns1 as JSON between "=== fibstat show" and "=== end".
# Before the first phase and after each one (loaded, netlink, arp, show), the
# lock class's line of /proc/lockdep (fib_stat.lock; the percpu build's per-CPU
# seqcount fib_stat.percpu) as "lockdep after PHASE: LINE" (LINE
# empty: no lock of the class taken yet), and how many lock chains of
# /proc/lockdep_chains hold the class, by the chain's irq_context, as
# "lockdep chains after PHASE: 0=N softirq=N" (0: process context); first the
# guest's "kernel release:".
. tests/guest/common.sh
order=$1 addr1=$2 addr2=$3
echo "kernel release: $(uname -r)"
phase() {
	echo "lockdep after $1: $(grep -E ' fib_stat\.(lock|percpu)$' /proc/lockdep)"
	echo "lockdep chains after $1: $(awk '/^irq_context:/ { c = $2 } / fib_stat\.(lock|percpu)$/ { n[c]++ }
		END { for (c in n) printf "%s=%d ", c, n[c] }' /proc/lockdep_chains)"
}
netlink() {
	i=0
	while [ $i -lt 5 ]; do
		fibstat record -n ns1 --gateway "$addr2" --count 7 || echo "scenario: record $i failed"
		i=$((i + 1))
	done
	phase netlink
}
arp() {
	$IP netns exec ns2 $ARPING -c 1 -w 5 -I fs0 "$addr1" | grep -E '^(Sent|Received)'
	_rc=$?
	phase arp
	return $_rc
}
phase loaded
case "$order" in
netlink-first) netlink && arp ;;
arp-first) arp && netlink ;;
*) fail "unknown order $order" ;;
esac
echo "=== fibstat show"
fibstat show -n ns1 -j
echo "=== end"
phase show
