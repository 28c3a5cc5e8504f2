# shellcheck shell=sh
# Guest side of tests/bench/neigh-rate: neighbour updates per second driven by
# ARP, with the fib_stat module loaded vs not loaded, in ABBA pairs.
#
#   sh tests/bench/neigh-rate.sh TOPOLOGY PAIRS SECONDS
#
# Runs in a vm-run guest with --lock bh (or spin) --topology TOPOLOGY
# (vmxnet3 or veth): the module is loaded at the start. One measurement:
# build/bin/arp-flood in ns2 sends ARP requests to ns1 for SECONDS, closed
# loop (the next request when ns1's reply to the previous one is back), the
# sender MAC alternating, so that every request ns1 receives updates its
# neighbour entry for ns2's address and raises NETEVENT_NEIGH_UPDATE in ns1's
# receive softirq (net_event_callback when the module is loaded). The rate is
# the number of ARP frames ns1's fs0 received (rx_packets) per second of
# sending. With the module loaded, the module's neigh_updates of ns1 must
# have grown by exactly that number: each frame was one real update.
#
# Pair i is (loaded, unloaded) for even i, (unloaded, loaded) for odd i. Prints
# one "pair" line per pair, then:
#   neigh-updates-TOPOLOGY: loaded=R/s unloaded=R/s ratio=R pairs=N spread=P%
# loaded/unloaded: mean rates; ratio: median of the per-pair ratios
# loaded/unloaded; spread: (largest - smallest per-pair ratio) / ratio, in %.
# Exit status 1 (with a FAIL line) if a measurement went wrong.
. tests/guest/common.sh
topo=$1 pairs=$2 seconds=$3
case "$topo" in
vmxnet3) addr1=192.0.2.1 addr2=192.0.2.2 ;;
veth) addr1=198.51.100.1 addr2=198.51.100.2 ;;
*) fail "unknown topology '$topo'" ;;
esac
FLOOD=build/bin/arp-flood
[ -x $FLOOD ] || fail "$FLOOD not found: run 'make tool'"
KO=/run/fib-stat/fib_stat.ko
[ -e /sys/module/fib_stat ] || fail "the module is not loaded at the start (vm-run --lock bh)"

rx() { $IP netns exec ns1 cat /sys/class/net/fs0/statistics/rx_packets; }
loaded() { [ -e /sys/module/fib_stat ]; }
load() { loaded || insmod $KO || fail "insmod"; }
unload() { ! loaded || rmmod fib_stat || fail "rmmod"; }

# measure: one flood; sets rate (frames/s received by ns1)
measure() {
	# No entry for ns2's address: the first request creates it, every later one
	# changes its link-layer address, so every request is an update.
	$IP -n ns1 neigh flush dev fs0
	_u0=
	loaded && _u0=$(stat ns1 neigh_updates)
	_r0=$(rx)
	_out=$($IP netns exec ns2 $FLOOD --dev fs0 --src-ip $addr2 --dst-ip $addr1 --seconds "$seconds") ||
		fail "arp-flood: $_out"
	# Frames still in flight (vmxnet3 rings, backlog) land in a moment.
	sleep 0.2
	_r1=$(rx)
	echo "  $(loaded && echo loaded || echo unloaded): $_out" >&2
	_t=$(echo "$_out" | sed -n 's/^sent [0-9]* frames, [0-9]* replies in \([0-9.]*\) s .*/\1/p')
	[ -n "$_t" ] || fail "arp-flood output: $_out"
	_n=$((_r1 - _r0))
	[ "$_n" -gt 0 ] || fail "ns1 received no ARP frame ($_out)"
	if [ -n "$_u0" ]; then
		_u=$(($(stat ns1 neigh_updates) - _u0))
		[ "$_u" = "$_n" ] || fail "ns1 received $_n ARP frames but counted $_u neighbour updates"
	fi
	rate=$(awk -v n="$_n" -v t="$_t" 'BEGIN { printf "%.1f", n / t }')
}

# Warm-up (neighbour entry created, caches hot), not measured.
load
measure
i=0
results=
while [ $i -lt "$pairs" ]; do
	if [ $((i % 2)) = 0 ]; then
		load; measure; l=$rate
		unload; measure; u=$rate
	else
		unload; measure; u=$rate
		load; measure; l=$rate
	fi
	echo "pair $i: loaded=$l/s unloaded=$u/s"
	results="$results $l:$u"
	i=$((i + 1))
done
load
echo "$results" | tr ' ' '\n' | awk -F: -v topo="$topo" -v pairs="$pairs" '
	NF == 2 { l += $1; u += $2; r[++n] = $1 / $2 }
	END {
		# insertion sort of the per-pair ratios
		for (i = 2; i <= n; i++) { v = r[i]; for (j = i - 1; j > 0 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v }
		med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "neigh-updates-%s: loaded=%.0f/s unloaded=%.0f/s ratio=%.3f pairs=%d spread=%.1f%%\n",
			topo, l / n, u / n, med, n, (r[n] - r[1]) / med * 100
	}'
