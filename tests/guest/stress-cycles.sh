# insmod / traffic / rmmod cycles while namespaces are created and deleted
# all the time and ARP + ICMP echo floods (100 of each per second, paced so that
# the test itself still gets CPU time) hit ns1. Each cycle:
#   1. insmod (a RECORD writer may already be knocking: it retries while the
#      module is absent or not ready);
#   2. SECONDS of netlink traffic (writer into ns1, new socket per request),
#      then a RECORD and a GET in a namespace made just now;
#   3. the writer stops; a client opens a socket, sends a GET and holds its
#      answer unread: the module's refcnt is exactly 1, rmmod fails with
#      EWOULDBLOCK ("Resource temporarily unavailable": delete_module() on a
#      module in use) and the module stays; the client then reads its STATS,
#      sends a RECORD, gets its ack and closes: refcnt 0;
#   4. even cycles: rmmod, which must succeed at once; odd cycles: a writer
#      starts again, and after SECONDS rmmod is retried under its traffic
#      until it succeeds (every open socket pins the module); the writer
#      carries on into the next cycle's insmod.
#   stress-cycles.sh CYCLES SECONDS ADDR1 ADDR2 SENDER
. tests/guest/common.sh
# From tmpfs: executed from the 9p share, every page fault is a 9p read.
cp build/bin/fibstat-stress /tmp/fibstat-stress || fail "cannot copy build/bin/fibstat-stress"
STRESS=/tmp/fibstat-stress
cycles=$1 secs=$2 addr1=$3 addr2=$4 sender=$5
KO=/run/fib-stat/fib_stat.ko
[ -e /sys/module/fib_stat ] || fail "fib_stat is not loaded at the start"
rm -f /tmp/stop
(
	i=0
	while [ ! -e /tmp/stop ]; do
		$IP netns add churn$i && $IP -n churn$i link set lo up && $IP netns del churn$i || echo "churn $i failed"
		i=$((i + 1))
		sleep 0.1
		echo $i >/tmp/churned
	done
) >/tmp/churn.log 2>&1 &
churn=$!
(
	while [ ! -e /tmp/stop ]; do
		$IP netns exec ns2 $STRESS flood --dev fs0 --target "$addr1" --sender "$sender" --arp --ping --rate 100 --seconds 2 || echo "flood failed"
	done
) >/tmp/flood.log 2>&1 &
flood=$!

writer=
start_writer() {
	rm -f /tmp/stop-writer
	$STRESS write -n ns1 --reopen --stop-file /tmp/stop-writer --seconds 100000 --seed "$1" --label "cycle$1" >/tmp/writer.log 2>&1 &
	writer=$!
}
# stop_writer: the writer stops at its stop file and prints what was acked;
# it must have succeeded and have had RECORDs acknowledged.
stop_writer() {
	touch /tmp/stop-writer
	wait "$writer" || fail "the writer failed: $(cat /tmp/writer.log)"
	writer=
	grep -qE '^write cycle[0-9]+: records=[1-9][0-9]* ' /tmp/writer.log || fail "no RECORD acknowledged: $(cat /tmp/writer.log)"
	echo "$(cat /tmp/writer.log)"
}
refcnt() { cat /sys/module/fib_stat/refcnt; }

c=0
while [ $c -lt "$cycles" ]; do
	[ -n "$writer" ] || start_writer $c
	if [ $c -gt 0 ]; then
		insmod $KO || fail "cycle $c: insmod"
	fi
	sleep "$secs"
	$IP netns add fresh$c || fail "cycle $c: ip netns add"
	fibstat record -n fresh$c --gateway 192.0.2.7 --count 3 || fail "cycle $c: RECORD in a new namespace"
	expect_stat fresh$c gateway_records 3
	$IP netns del fresh$c
	stop_writer
	echo "cycle $c: loaded, traffic ran, writer stopped"

	rm -f /tmp/ready /tmp/release
	$STRESS hold -n ns1 --ready /tmp/ready --release /tmp/release >/tmp/hold.log 2>&1 &
	holder=$!
	i=0
	while [ ! -e /tmp/ready ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "cycle $c: the holding client did not get ready: $(cat /tmp/hold.log)"
		sleep 0.02
	done
	[ "$(refcnt)" = 1 ] || fail "cycle $c: refcnt $(refcnt) with one client socket open, expected 1"
	echo "cycle $c: client holds its socket, trying rmmod"
	out=$(rmmod fib_stat 2>&1) && fail "cycle $c: rmmod succeeded while a client held its socket mid-request"
	echo "$out" | grep -q 'Resource temporarily unavailable' || fail "cycle $c: rmmod failed, but not with EWOULDBLOCK: $out"
	[ -e /sys/module/fib_stat ] || fail "cycle $c: module gone after a failed rmmod"
	touch /tmp/release
	wait $holder || fail "cycle $c: the holding client failed: $(cat /tmp/hold.log)"
	[ "$(refcnt)" = 0 ] || fail "cycle $c: refcnt $(refcnt) after the client closed, expected 0"

	if [ $((c % 2)) = 0 ]; then
		rmmod fib_stat || fail "cycle $c: rmmod with no client left"
		how="at once"
	else
		start_writer $c
		sleep "$secs"
		i=0
		until rmmod fib_stat 2>/dev/null; do
			i=$((i + 1))
			[ $i -lt 400 ] || fail "cycle $c: rmmod under netlink traffic never succeeded"
			sleep 0.05
		done
		how="after $i retries under netlink traffic"
	fi
	[ ! -e /sys/module/fib_stat ] || fail "cycle $c: still loaded after rmmod"
	expect_output "cycle $c: module gone" 1 'fib_stat module not loaded' -- fibstat show -n ns1
	ok "cycle $c: rmmod refused (EWOULDBLOCK) while held, unloaded $how; namespaces churned: $(cat /tmp/churned)"
	c=$((c + 1))
done
[ -n "$writer" ] && stop_writer
touch /tmp/stop
wait
grep -q failed /tmp/churn.log /tmp/flood.log && fail "background load failed: $(cat /tmp/churn.log /tmp/flood.log | grep failed | head -3)"
echo "figure: cycles=$cycles namespaces_churned=$(cat /tmp/churned)"
echo "PASS stress-cycles"
