# shellcheck shell=sh
# Guest-side network setup shared by the guest /init scripts (busybox sh; the
# caller sets IP=/usr/sbin/ip): scripts/guest-init (packed into the initramfs
# as /lib/fib-stat/guest-net.sh by scripts/mkinitramfs) and the VMware image's
# scripts/image-init. The real iproute2 ip (dynamically linked, ~50 ms per exec
# under TCG) runs once per topology, for what busybox ip cannot do (netns,
# moving links); the rest are busybox applets.

# in_netns NS ADDR: in netns NS, fs0 gets ADDR/24, then lo and fs0 go up. No IPv6
# on the test links (set before they go up): its DAD and router traffic would
# add neighbour updates the tests do not ask for.
in_netns() {
	nsenter --net=/run/netns/"$1" /bin/busybox sh -c "
		f=/proc/sys/net/ipv6/conf/fs0/disable_ipv6
		if [ -e \$f ]; then echo 1 >\$f || exit 1; fi
		ip addr add $2/24 dev fs0 && ip link set lo up && ip link set fs0 up"
}

# nics_into_netns IFACE1 IFACE2 ADDR1 ADDR2: IFACE1 into netns ns1 as fs0 with
# ADDR1, IFACE2 into ns2 as fs0 with ADDR2.
nics_into_netns() {
	printf 'netns add ns1\nnetns add ns2\nlink set %s netns ns1 name fs0\nlink set %s netns ns2 name fs0\n' "$1" "$2" |
		$IP -batch - || return 1
	in_netns ns1 "$3" && in_netns ns2 "$4"
}

# veth_into_netns ADDR1 ADDR2: a veth pair between netns ns1 (fs0, ADDR1) and ns2 (fs0, ADDR2).
veth_into_netns() {
	printf 'netns add ns1\nnetns add ns2\nlink add fs0 netns ns1 type veth peer name fs0 netns ns2\n' |
		$IP -batch - || return 1
	in_netns ns1 "$1" && in_netns ns2 "$2"
}
