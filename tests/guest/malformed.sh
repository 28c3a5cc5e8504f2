# Malformed requests: the documented errno each, statistics unchanged.
. tests/guest/common.sh
$IP netns add t1 || fail "ip netns add t1"
fibstat record -n t1 --gateway 192.0.2.9 --count 2 || fail "record"
before=$(snapshot t1)
raw() { fibstat raw -n t1 "$@"; }
# case | fibstat raw exit status (0: answered, 3: no answer) | expected answer (regex) | arguments
cases=0
while IFS='|' read -r what status want args; do
	[ -n "$what" ] || continue
	cases=$((cases + 1))
	# shellcheck disable=SC2086
	expect_output "$what" "$status" "$want" -- raw $args
done <<'CASES'
short header (8 bytes)|3|^no answer$|--type RECORD --len 8
nlmsg_len beyond the datagram|3|^no answer$|--type RECORD --attr COUNT:u32:1 --len 200
wrong attribute length (GATEWAY4, 3 bytes)|0|^errno=EINVAL \(22\) msg="invalid attribute length"|--type RECORD --attr GATEWAY4:c00002 --attr COUNT:u32:1
wrong attribute length (COUNT, 2 bytes)|0|^errno=EINVAL \(22\) msg="invalid attribute length"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u16:1
unknown attribute (99)|0|^errno=EINVAL \(22\) msg="Unknown attribute type"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1 --attr 99:00000000
reply-only attribute in a request|0|^errno=EINVAL \(22\) msg="Unknown attribute type"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1 --attr 7:u64:1
attribute not allowed for the type (COUNT on GET)|0|^errno=EINVAL \(22\) msg="Attribute not allowed for this message type"|--type GET --attr COUNT:u32:1
duplicate attribute|0|^errno=EINVAL \(22\) msg="duplicate attribute"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1 --attr COUNT:u32:1
count 0|0|^errno=EINVAL \(22\) msg="COUNT must be 1..=1000000"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:0
count over the maximum|0|^errno=EINVAL \(22\) msg="COUNT must be 1..=1000000"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1000001
missing COUNT|0|^errno=EINVAL \(22\) msg="RECORD needs COUNT"|--type RECORD --attr GATEWAY4:ip:192.0.2.1
missing gateway|0|^errno=EINVAL \(22\) msg="RECORD needs GATEWAY4 or GATEWAY6"|--type RECORD --attr COUNT:u32:1
both gateways|0|^errno=EINVAL \(22\) msg="GATEWAY4 and GATEWAY6 are mutually exclusive"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr GATEWAY6:ip:2001:db8::1 --attr COUNT:u32:1
truncated attribute header|0|^errno=EINVAL \(22\) msg="bytes leftover after parsing attributes"|--type RECORD --payload-hex 0800
unknown message type (0x20)|0|^errno=EOPNOTSUPP \(95\) msg="unknown message type"|--type 0x20
reply type sent as a request (STATS)|0|^errno=EOPNOTSUPP \(95\) msg="unknown message type"|--type STATS
CASES
[ "$cases" = 16 ] || fail "ran $cases malformed cases, expected 16"
[ "$(snapshot t1)" = "$before" ] || fail "statistics changed by malformed requests"
ok "statistics unchanged"
expect_output "a good RECORD still works" 0 '^ack$' -- raw --type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:5
expect_stat t1 gateway_records 7
echo "PASS malformed"
