# Concurrent RECORD writers on both CPUs (taskset: CPU 0 and CPU 1) into ns1
# while ARP floods from ns2 (one flooder per CPU) hit ns1 over the veth pair,
# so that the softirq side takes the same lock on both CPUs. No lost updates,
# exactly: gateway_records grows by the sum of the counts the writers saw
# acked, nl_requests by the requests sent, and neigh_updates by the ARP
# requests ns1 received (each changes the sender's MAC: one
# NETEVENT_NEIGH_UPDATE each), less the packets the softirq backlog dropped:
# the floods are ARP only, so every drop is an ARP request.
#   stress-writers.sh SECONDS SEED   (veth topology)
. tests/guest/common.sh
# From tmpfs: executed from the 9p share, every page fault is a 9p read.
cp build/bin/fibstat-stress /tmp/fibstat-stress || fail "cannot copy build/bin/fibstat-stress"
STRESS=/tmp/fibstat-stress
secs=$1 seed=$2
[ "$(nproc)" = 2 ] || fail "the guest has $(nproc) CPUs, this test needs 2"
mac() { $IP -n "$1" -o link show fs0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'; }
$IP -n ns1 neigh replace 198.51.100.2 lladdr "$(mac ns2)" dev fs0 nud permanent || fail "permanent neighbour in ns1"
$IP -n ns2 neigh replace 198.51.100.1 lladdr "$(mac ns1)" dev fs0 nud permanent || fail "permanent neighbour in ns2"
# softnet_stat column 2: packets dropped from a CPU's backlog (hex), summed over CPUs.
drops() {
	_n=0
	while read -r _p _d _rest; do _n=$((_n + 0x$_d)); done </proc/net/softnet_stat
	echo $_n
}
gw0=$(stat ns1 gateway_records)
nu0=$(stat ns1 neigh_updates)
nl0=$(stat ns1 nl_requests)
d0=$(drops)
taskset 1 $IP netns exec ns2 $STRESS flood --dev fs0 --target 198.51.100.1 --sender 198.51.100.3 --id 1 --arp --seconds "$secs" >/tmp/f0 2>&1 &
taskset 2 $IP netns exec ns2 $STRESS flood --dev fs0 --target 198.51.100.1 --sender 198.51.100.4 --id 2 --arp --seconds "$secs" >/tmp/f1 2>&1 &
taskset 1 $STRESS write -n ns1 --seconds "$secs" --seed "$seed" --label cpu0 >/tmp/w0 2>&1 &
taskset 2 $STRESS write -n ns1 --seconds "$secs" --seed "$((seed + 1))" --label cpu1 >/tmp/w1 2>&1 &
wait
cat /tmp/f0 /tmp/f1 /tmp/w0 /tmp/w1
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1"; }
for f in /tmp/f0 /tmp/f1 /tmp/w0 /tmp/w1; do grep -qE '^(flood|write) ' $f || fail "$f: no result line"; done
grep -q ' cpu=0$' /tmp/w0 && grep -q ' cpu=1$' /tmp/w1 || fail "writers did not run on CPU 0 and CPU 1"
grep -q ' cpu=0$' /tmp/f0 && grep -q ' cpu=1$' /tmp/f1 || fail "flooders did not run on CPU 0 and CPU 1"
sum=$(($(field /tmp/w0 acked_sum) + $(field /tmp/w1 acked_sum)))
recs=$(($(field /tmp/w0 records) + $(field /tmp/w1 records)))
arp=$(($(field /tmp/f0 arp) + $(field /tmp/f1 arp)))
ping=$(($(field /tmp/f0 ping) + $(field /tmp/f1 ping)))
[ "$recs" -gt 0 ] && [ "$arp" -gt 0 ] || fail "no load: records=$recs arp=$arp"
[ "$ping" = 0 ] || fail "the floods sent $ping pings: ARP only, for an exact count"
dropped=$(($(drops) - d0))
expect_stat ns1 gateway_records $((gw0 + sum))
nu1=$(stat ns1 neigh_updates)
# Requests: the writers' RECORDs, the two GETs above after nl0, and this GET itself.
expect_stat ns1 nl_requests $((nl0 + recs + 3))
delta=$((nu1 - nu0))
[ "$delta" = $((arp - dropped)) ] || fail "neigh_updates grew by $delta: $arp ARP requests sent, $dropped dropped by the backlog"
ok "neigh_updates grew by exactly the $arp ARP requests less the $dropped the backlog dropped"
echo "figure: writers=2 seconds=$secs records=$recs acked_sum=$sum arp=$arp ping=$ping neigh_updates=$delta dropped=$dropped"
echo "PASS stress-writers"
