# Malformed requests: the documented errno each, statistics unchanged.
. tests/guest/common.sh
$IP netns add t1 || fail "ip netns add t1"
fibstat record -n t1 --gateway 192.0.2.9 --count 2 || fail "record"
before=$(snapshot t1)
raw() { fibstat raw -n t1 "$@"; }
# case | expected answer (regex) | fibstat raw arguments
while IFS='|' read -r what want args; do
	[ -n "$what" ] || continue
	# shellcheck disable=SC2086
	expect_output "$what" 0 "$want" -- raw $args
done <<'CASES'
short header (8 bytes)|^no answer$|--type RECORD --len 8
nlmsg_len beyond the datagram|^no answer$|--type RECORD --attr COUNT:u32:1 --len 200
wrong attribute length (GATEWAY4, 3 bytes)|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:c00002 --attr COUNT:u32:1
wrong attribute length (COUNT, 2 bytes)|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u16:1
unknown attribute (99)|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1 --attr 99:00000000
reply-only attribute in a request|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1 --attr 7:u64:1
count 0|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:0
count over the maximum|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:1000001
missing COUNT|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1
missing gateway|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr COUNT:u32:1
both gateways|^errno=EINVAL \(22\) msg=".+"|--type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr GATEWAY6:ip:2001:db8::1 --attr COUNT:u32:1
truncated attribute header|^errno=EINVAL \(22\) msg=".*"|--type RECORD --payload-hex 0800
unknown message type (0x20)|^errno=EOPNOTSUPP \(95\)|--type 0x20
reply type sent as a request (STATS)|^errno=EOPNOTSUPP \(95\)|--type STATS
CASES
[ "$(snapshot t1)" = "$before" ] || fail "statistics changed by malformed requests"
ok "statistics unchanged"
expect_output "a good RECORD still works" 0 '^ack$' -- raw --type RECORD --attr GATEWAY4:ip:192.0.2.1 --attr COUNT:u32:5
expect_stat t1 gateway_records 7
echo "PASS malformed"
