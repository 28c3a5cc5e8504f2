# ICMPv6 Redirect from ns2 to ns1 (either topology): the only NETEVENT_REDIRECT
# source in 6.12 (ndisc_redirect_rcv() -> ip6_redirect_no_header() ->
# rt6_do_redirect() -> call_netevent_notifiers()). ns2 is ns1's first hop
# fe80::2 for 2001:db8:99::/64 and redirects it to fe80::3: ns1 counts exactly
# one redirect, accepts it (its route to 2001:db8:99::1 goes via fe80::3), and
# ns2 and the initial netns count none.
#
# IPv6 is off on fs0 (scripts/guest-init); it is switched on here with only
# the traffic the test sends: no DAD, no automatic link-local address, no
# router solicitations, and permanent neighbour entries both ways (no NS/NA,
# no timer-driven neighbour state changes), so the neighbour counts are exact.
. tests/guest/common.sh
dest=2001:db8:99::1
# an address nobody owns: the redirect only has to name it
target=fe80::3 target_mac=52:54:00:f5:00:03

# mac NS: the MAC address of fs0 in NS
mac() { $IP -n "$1" -o link show fs0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'; }
# sysctl_ns NS KEY [VALUE]: read (or write) net.ipv6.conf.fs0.KEY in NS
sysctl_ns() {
	if [ $# = 3 ]; then
		$IP netns exec "$1" sysctl -qw "net.ipv6.conf.fs0.$2=$3" || fail "$1: set $2=$3"
	else
		$IP netns exec "$1" sysctl -n "net.ipv6.conf.fs0.$2"
	fi
}
# route_get: ns1's route to $dest
route_get() { $IP -n ns1 -6 route get "$dest" 2>&1; }

for ns in ns1 ns2 -; do expect_stat $ns redirects 0; done
mac1=$(mac ns1) mac2=$(mac ns2)
[ -n "$mac1" ] && [ -n "$mac2" ] || fail "MAC addresses of fs0: '$mac1' '$mac2'"

for ns in ns1 ns2; do
	sysctl_ns $ns accept_dad 0
	sysctl_ns $ns addr_gen_mode 1
	sysctl_ns $ns router_solicitations 0
	sysctl_ns $ns disable_ipv6 0
done
$IP -n ns1 -6 addr add fe80::1/64 dev fs0 nodad || fail "ns1: add fe80::1"
$IP -n ns2 -6 addr add fe80::2/64 dev fs0 nodad || fail "ns2: add fe80::2"
$IP -n ns1 -6 neigh replace fe80::2 lladdr "$mac2" dev fs0 nud permanent || fail "ns1: neighbour fe80::2"
$IP -n ns2 -6 neigh replace fe80::1 lladdr "$mac1" dev fs0 nud permanent || fail "ns2: neighbour fe80::1"
$IP -n ns1 -6 route add 2001:db8:99::/64 via fe80::2 dev fs0 || fail "ns1: route via fe80::2"
ok "IPv6 on fs0: ns1 fe80::1 ($mac1), ns2 fe80::2 ($mac2)"

# rt6_do_redirect() ignores redirects on forwarding or accept_redirects=0 links.
[ "$(sysctl_ns ns1 forwarding)" = 0 ] || fail "ns1: forwarding is $(sysctl_ns ns1 forwarding), expected 0"
[ "$(sysctl_ns ns1 accept_redirects)" = 1 ] ||
	fail "ns1: accept_redirects is $(sysctl_ns ns1 accept_redirects), expected 1"
ok "ns1 fs0: forwarding 0, accept_redirects 1"
r=$(route_get)
echo "$r" | grep -q "via fe80::2 dev fs0" || fail "ns1: route to $dest before the redirect: $r"
ok "ns1 before: $r"

# Before: the permanent entries were the only neighbour updates (process context).
expect_stat ns1 redirects 0
expect_stat ns1 neigh_updates 1
expect_stat ns1 last_neigh fe80::2
expect_stat ns2 neigh_updates 1
expect_stat ns2 last_neigh fe80::1

out=$($IP netns exec ns2 build/bin/icmp6-redirect --dev fs0 --src fe80::2 --dst fe80::1 \
	--target $target --dest $dest --target-lladdr $target_mac 2>&1) || fail "send: $out"
ok "$out"

# ns1 handles the redirect in its receive softirq, after the sender returned.
i=0
while [ "$(stat ns1 redirects)" = 0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
r=$(route_get)
echo "$r" | grep -q "via $target dev fs0" || fail "ns1: route to $dest after the redirect: $r"
ok "ns1 after: $r"
sleep 1 # anything late would show now
expect_stat ns1 redirects 1
# rt6_do_redirect() also set the target's neighbour entry (with the option's
# link-layer address) to STALE: exactly one more neighbour update.
expect_stat ns1 neigh_updates 2
expect_stat ns1 last_neigh $target
expect_stat ns1 last_neigh_ifindex "$(ifindex ns1 fs0)"
n=$($IP -n ns1 -6 neigh show $target dev fs0)
echo "$n" | grep -q "lladdr $target_mac .*STALE" || fail "ns1: neighbour $target: '$n'"
ok "ns1 neighbour: $n"
expect_stat_gt ns1 last_update_ns 1600000000000000000
for ns in ns2 -; do expect_stat $ns redirects 0; done
expect_stat ns2 neigh_updates 1
expect_stat - neigh_updates 0
echo "PASS redirect"
