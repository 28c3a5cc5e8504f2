# One cell of the lock matrix (scripts/matrix), in a fresh guest of either topology.
#   matrix-cell.sh KO STEPS ADDR1 ADDR2
# KO     the module to load (a path under /share), loaded here with its parameters
# STEPS  the contexts that take the lock, in order, comma-separated:
#        process  5 RECORDs in ns1 (netlink, fib_stat_rcv_proc, process context)
#        softirq  arping ns2 -> ns1: ns1's NIC receive path (NAPI, softirq) runs
#                 arp_rcv -> neigh update -> netevent -> net_event_callback
#        hardirq  the module's hard interrupt tick (hardirq_tick_ms=10):
#                 fib_stat_hardirq_tick, from an IRQ_WORK_INIT_HARD irq_work
# A hardirq step first: the tick starts 10 ms after the load. Later: the first tick
# is delayed by hardirq_tick_delay_ms=DELAY, and the steps before it must end
# before then (checked: "order held" / "order broken").
# Prints "step NAME at T" (ms since the load), the lock class's /proc/lockdep line
# after each step ("lockdep after NAME: LINE"; the percpu build has no fib_stat.lock:
# its per-CPU seqcount class fib_stat.percpu) and, at the end, ns1's statistics
# as JSON between "=== fibstat show" and "=== end".
. tests/guest/common.sh
ko=$1 steps=$2 addr1=$3 addr2=$4
DELAY=8000
echo "kernel release: $(uname -r)"
now_ms() { read -r _up _ </proc/uptime; echo "${_up%.*}${_up#*.}0"; }
params=
case ",$steps," in
,hardirq,*) params="hardirq_tick_ms=10" ;;
*,hardirq,*) params="hardirq_tick_ms=10 hardirq_tick_delay_ms=$DELAY" ;;
esac
# shellcheck disable=SC2086 # params are separate words
/usr/sbin/insmod "$ko" $params || fail "insmod $ko $params"
t0=$(now_ms)
ok "loaded $ko ${params:-(no tick)}"
phase() { echo "lockdep after $1: $(grep -E ' fib_stat\.(lock|percpu)$' /proc/lockdep)"; }
process() {
	i=0
	while [ $i -lt 5 ]; do
		fibstat record -n ns1 --gateway "$addr2" --count 7 || echo "cell: record $i failed"
		i=$((i + 1))
	done
}
softirq() { $IP netns exec ns2 $ARPING -c 1 -w 5 -I fs0 "$addr1" | grep -E '^(Sent|Received)'; }
hardirq() {
	if [ "${steps%%,*}" = hardirq ]; then
		sleep 1
	else
		_t=$(($(now_ms) - t0))
		if [ "$_t" -lt "$DELAY" ]; then echo "order held: steps before hardirq ended at $_t ms < $DELAY ms"; else echo "order broken: steps before hardirq ended at $_t ms >= $DELAY ms"; fi
		# until the first tick, plus some
		while [ $(($(now_ms) - t0)) -lt $((DELAY + 1000)) ]; do sleep 0.2; done
	fi
}
IFS=,
for s in $steps; do
	unset IFS
	echo "step $s at $(($(now_ms) - t0))"
	case "$s" in
	process | softirq | hardirq) "$s" ;;
	*) fail "unknown step $s" ;;
	esac
	phase "$s"
done
unset IFS
echo "=== fibstat show"
fibstat show -n ns1 -j
echo "=== end"
phase show
