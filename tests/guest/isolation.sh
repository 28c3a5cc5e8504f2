# Per-netns isolation: RECORD and ARP traffic towards ns1 (topology given as $1:
# the address of ns1) touch ns1 only; ns2 (the ARP sender) and the initial
# netns keep zero statistics.
. tests/guest/common.sh
addr1=$1 addr2=$2
fibstat record -n ns1 --gateway "$addr2" --count 3 || fail "record in ns1"
$IP netns exec ns2 $ARPING -c 3 -w 6 -I fs0 "$addr1" | grep -q '^Received 3 response' || fail "arping ns2 -> ns1"
ok "3 ARP replies from ns1"
expect_stat ns1 gateway_records 3
expect_stat_gt ns1 neigh_updates 0
expect_stat ns1 last_neigh "$addr2"
expect_stat ns1 last_neigh_ifindex "$(ifindex ns1 fs0)"
for ns in ns2 -; do
	expect_stat $ns gateway_records 0
	expect_stat $ns neigh_updates 0
	expect_stat $ns redirects 0
	expect_stat $ns last_gateway null
	expect_stat $ns last_neigh null
	expect_stat $ns last_update_ns 0
done
echo "PASS isolation"
