# Netlink fuzzer (tools/fibstat/src/bin/fibstat-stress): MESSAGES random and
# mutated-valid messages from SEED into a fresh netns, every answer checked
# against the model (exact errno, echoed header, STATS of every GET); then
# MESSAGES/4 more without privilege (RECORD and RESET: EPERM). Afterwards an
# independent client (fibstat show) reads exactly the gateway_records the
# fuzzer's acked RECORDs add up to, and rmmod succeeds.
#   stress-fuzz.sh MESSAGES SEED
. tests/guest/common.sh
# From tmpfs: executed from the 9p share, every page fault is a 9p read.
cp build/bin/fibstat-stress /tmp/fibstat-stress || fail "cannot copy build/bin/fibstat-stress"
STRESS=/tmp/fibstat-stress
messages=$1 seed=$2
[ -x $STRESS ] || fail "$STRESS missing: run make tool"
$IP netns add fz || fail "ip netns add fz"
$STRESS fuzz -n fz --seed "$seed" --messages "$messages" --progress 5000 >/tmp/fuzz.out 2>&1
rc=$?
cat /tmp/fuzz.out
[ $rc = 0 ] || fail "fuzzer (seed $seed) failed"
gw=$(sed -n 's/^fuzz: PASS .* gateway_records=\([0-9]*\) .*/\1/p' /tmp/fuzz.out)
[ -n "$gw" ] || fail "no PASS line from the fuzzer"
expect_stat fz gateway_records "$gw"
$STRESS fuzz -n fz --seed "$((seed + 1))" --messages "$((messages / 4))" --unprivileged >/tmp/fuzz2.out 2>&1
rc=$?
cat /tmp/fuzz2.out
[ $rc = 0 ] || fail "unprivileged fuzzer (seed $((seed + 1))) failed"
grep -q '^fuzz: .* records_acked=0 resets_acked=0 .* eperm=[1-9]' /tmp/fuzz2.out || fail "unprivileged run: RECORD or RESET got through, or no EPERM"
expect_stat fz gateway_records "$gw"
rmmod fib_stat || fail "rmmod after fuzzing"
[ ! -e /sys/module/fib_stat ] || fail "fib_stat still loaded after rmmod"
ok "rmmod after fuzzing"
echo "PASS stress-fuzz"
