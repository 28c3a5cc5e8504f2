# nl_proto accepts only the netlink protocol numbers no kernel code registers
# (23-29, 31): anything else, in particular numbers registered by the kernel
# (NETLINK_ROUTE 0, NETLINK_USERSOCK 2, NETLINK_GENERIC 16, the staging
# driver's 30) or out of range, fails the load with EINVAL and one log line.
. tests/guest/common.sh
KO=/run/fib-stat/fib_stat.ko
rmmod fib_stat || fail "rmmod the module vm-run loaded"
for p in 2 0 16 22 30 32 -1; do
	before=$(dmesg | grep -c 'fib_stat: ')
	out=$(insmod $KO nl_proto=$p 2>&1) && fail "insmod nl_proto=$p succeeded"
	[ "$out" = "insmod: can't insert '$KO': Invalid argument" ] ||
		fail "insmod nl_proto=$p: '$out', expected EINVAL (Invalid argument)"
	[ ! -e /sys/module/fib_stat ] || fail "nl_proto=$p: /sys/module/fib_stat exists"
	# busybox insmod retries a failed finit_module() with init_module(): the
	# module's init may run twice, so every new line must be the refusal.
	new=$(dmesg | grep 'fib_stat: ' | tail -n +$((before + 1)) | sed 's/^\[[^]]*\] //')
	want="fib_stat: nl_proto=$p refused: use 23-29 or 31, the netlink protocol numbers no kernel code registers"
	[ -n "$new" ] && [ -z "$(echo "$new" | grep -vxF "$want")" ] ||
		fail "nl_proto=$p: kernel log '$new', expected exactly '$want'"
	ok "nl_proto=$p: EINVAL, log line ($(echo "$new" | wc -l)x)"
done
# The boundaries that are accepted.
for p in 23 29 31; do
	insmod $KO nl_proto=$p || fail "insmod nl_proto=$p"
	FIBSTAT_NETLINK_PROTO=$p fibstat show -j | grep -q '"lock_mode"' || fail "show on protocol $p"
	rmmod fib_stat || fail "rmmod (nl_proto=$p)"
	ok "nl_proto=$p: loaded, answers, unloaded"
done
echo "PASS nl-proto"
