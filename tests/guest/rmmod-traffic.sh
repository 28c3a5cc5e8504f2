# Unload and reload while ARP floods ns1 and netlink requests keep coming.
. tests/guest/common.sh
addr1=$1 addr2=$2
$IP netns exec ns2 $ARPING -q -c 100000 -i 0.002 -w 60 -I fs0 "$addr1" &
arp=$!
(while :; do fibstat record -n ns1 --gateway "$addr2" --count 1 >/dev/null 2>&1; fibstat show -n ns1 >/dev/null 2>&1; done) &
nl=$!
sleep 1
cycle=0
while [ $cycle -lt 5 ]; do
	before=$(stat ns1 neigh_updates)
	sleep 0.5
	after=$(stat ns1 neigh_updates)
	[ -n "$after" ] && [ "$after" -gt "$before" ] || fail "no neighbour updates during the flood ($before -> $after)"
	rmmod fib_stat || fail "rmmod under traffic (cycle $cycle)"
	sleep 0.2
	insmod /run/fib-stat/fib_stat.ko || fail "insmod under traffic (cycle $cycle)"
	ok "cycle $cycle: neigh_updates $before -> $after, unloaded and reloaded"
	cycle=$((cycle + 1))
done
rmmod fib_stat || fail "final rmmod"
kill $arp $nl 2>/dev/null
wait 2>/dev/null
echo "PASS rmmod-traffic"
