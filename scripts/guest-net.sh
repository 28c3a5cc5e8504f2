# shellcheck shell=sh
# Guest-side network setup shared by the guest /init scripts (busybox sh; the
# caller sets IP=/usr/sbin/ip). scripts/image-init sources it from
# /fib-stat/lib/guest-net.sh; the topology is the one scripts/guest-init builds.

# into_netns IFACE NS ADDR: move IFACE into netns NS as fs0, address ADDR/24, up.
into_netns() {
	$IP netns add "$2" || return 1
	$IP link set "$1" netns "$2" || return 1
	$IP -n "$2" link set "$1" name fs0 || return 1
	# No IPv6 on the test links: their DAD/router traffic would add neighbour
	# updates the tests do not ask for.
	$IP netns exec "$2" sysctl -qw net.ipv6.conf.fs0.disable_ipv6=1 || return 1
	$IP -n "$2" addr add "$3/24" dev fs0 || return 1
	$IP -n "$2" link set lo up || return 1
	$IP -n "$2" link set fs0 up || return 1
}
