# Unload and reload while ARP keeps updating ns1's neighbour table (the
# table is flushed between probes, so every probe is a real update and a
# netevent) and netlink requests keep coming.
. tests/guest/common.sh
addr1=$1 addr2=$2
(while :; do $IP -n ns1 neigh flush dev fs0; $IP netns exec ns2 $ARPING -q -c 1 -w 1 -I fs0 "$addr1"; done) >/dev/null 2>&1 &
arp=$!
# From tmpfs: executed from the 9p share, every page fault is a 9p read.
cp build/bin/fibstat-stress /tmp/fibstat-stress || fail "cannot copy build/bin/fibstat-stress"
# RECORDs all along, retried only while the module is away; stops at its stop
# file and prints what was acknowledged.
rm -f /tmp/stop-nl
/tmp/fibstat-stress write -n ns1 --reopen --stop-file /tmp/stop-nl --seconds 100000 --gateway "$addr2" \
	--label rmmod-traffic >/tmp/nl.log 2>&1 &
nl=$!
sleep 1

# unload: rmmod, retried while a fibstat socket still pins the module
# (every open socket of the protocol holds a module reference).
unload() {
	_i=0
	until rmmod fib_stat 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || return 1
		sleep 0.05
	done
	[ ! -e /sys/module/fib_stat ]
}

cycle=0
while [ $cycle -lt 5 ]; do
	before=$(stat ns1 neigh_updates)
	gw_before=$(stat ns1 gateway_records)
	sleep 1
	after=$(stat ns1 neigh_updates)
	gw_after=$(stat ns1 gateway_records)
	[ -n "$after" ] && [ "$after" -gt "$before" ] || fail "no neighbour updates during the flood ($before -> $after)"
	[ -n "$gw_after" ] && [ "$gw_after" -gt "$gw_before" ] || fail "no RECORD acknowledged during cycle $cycle ($gw_before -> $gw_after)"
	unload || fail "rmmod under traffic (cycle $cycle)"
	sleep 0.2
	insmod /run/fib-stat/fib_stat.ko || fail "insmod under traffic (cycle $cycle)"
	ok "cycle $cycle: neigh_updates $before -> $after, unloaded and reloaded"
	cycle=$((cycle + 1))
done
touch /tmp/stop-nl
wait $nl || fail "the RECORD writer failed: $(cat /tmp/nl.log)"
cat /tmp/nl.log
grep -qE '^write rmmod-traffic: records=[1-9][0-9]* ' /tmp/nl.log || fail "no RECORD acknowledged: $(cat /tmp/nl.log)"
unload || fail "final rmmod"
kill $arp 2>/dev/null
wait 2>/dev/null
echo "PASS rmmod-traffic"
