# CAP_NET_ADMIN is checked in the user namespace that owns the request's
# network namespace (netlink_net_capable), not in the initial one:
# - nobody, root of a new user namespace that owns a new netns: RECORD/RESET work there;
# - the same, but in the initial netns (owned by the initial user namespace): EPERM.
. tests/guest/common.sh
as_nobody() { su -s /bin/sh nobody -c "$*"; }
[ "$(as_nobody unshare -r id -u)" = 0 ] || fail "nobody cannot create a user namespace"
ok "nobody is uid 0 in a new user namespace"

out=$(as_nobody unshare -r -n sh -c "'fibstat record --gateway 192.0.2.77 --count 3 && fibstat record --gateway 192.0.2.78 --count 4 && fibstat show -j -p && fibstat reset && fibstat show -j -p'" 2>&1) ||
	fail "RECORD/RESET as root of the user namespace owning the netns: $out"
echo "$out" | grep -q '"gateway_records": 7,' || fail "two RECORDs in the owned netns did not add up to 7: $out"
echo "$out" | grep -q '"gateway_records": 0,' || fail "RESET in the owned netns: $out"
ok "RECORD and RESET allowed in a netns owned by nobody's user namespace"

expect_output "RECORD in the initial netns from a user namespace" 1 \
	'^fibstat: operation not permitted: RECORD needs CAP_NET_ADMIN$' -- as_nobody unshare -r fibstat record --gateway 192.0.2.79
expect_output "RESET in the initial netns from a user namespace" 1 \
	'^fibstat: operation not permitted: RESET needs CAP_NET_ADMIN$' -- as_nobody unshare -r fibstat reset
expect_stat - gateway_records 0
echo "PASS userns"
