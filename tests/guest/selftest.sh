# The lock self-test (module parameter selftest=1): the statistics lock type
# taken and released with interrupts enabled, disabled, and enabled then
# disabled, try_lock while held and free; every check must pass, and the
# interrupt state and preemption count must come out balanced (the initcall
# check and lockdep would warn otherwise: the host checks the log is clean).
. tests/guest/common.sh
mode=$1
KO=/run/fib-stat/fib_stat.ko
rmmod fib_stat || fail "rmmod the module vm-run loaded"
insmod $KO selftest=1 || fail "insmod selftest=1: $(dmesg | grep 'fib_stat: ' | tail -n 3)"
line=$(dmesg | grep 'fib_stat: selftest' | sed 's/^\[[^]]*\] //')
[ "$line" = "fib_stat: selftest: 14 lock checks passed (lock mode $mode)" ] || fail "selftest: '$line'"
ok "$line"
expect_stat - lock_mode "$mode"
rmmod fib_stat || fail "rmmod"
echo "PASS selftest $mode"
