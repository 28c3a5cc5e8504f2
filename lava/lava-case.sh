# shellcheck shell=sh
# The guest side of the LAVA test definition (lava/fib-stat.yaml): one make-repro
# scenario, as scripts/repro runs it under vm-run, reported to LAVA.
#   sh lava/lava-case.sh MODE SCENARIO ORDER ADDR1 ADDR2
# Runs in /share (the repository's files in the LAVA root filesystem) with
# lava-test-case on PATH. Loads fib_stat.ko (LAVA's modules tarball, in
# /lib/modules/$(uname -r)/extra), runs tests/guest/repro-scenario.sh ORDER ADDR1
# ADDR2 (the very script make repro runs), then reports:
#   MODE-SCENARIO-load          the module loaded
#   MODE-SCENARIO-ktap-N        each "ok N" / "not ok N" of the script's KTAP
#   MODE-SCENARIO-script        the script's exit status is 0
#   MODE-SCENARIO               the case: spin, exactly one kernel report, an
#                               inconsistent lock state; bh and percpu, no kernel report
#                               and debug_locks 1 (reports as fibstat explain,
#                               the project's parser, finds them); both,
#                               gateway_records 35 and neighbour updates > 0
# The script's output and the kernel log are printed between marker lines, so
# the host (scripts/lava) rebuilds the vm-run log make repro's verdict reads.
mode=$1 scenario=$2 order=$3 addr1=$4 addr2=$5
case=$mode-$scenario
result() { lava-test-case "$1" --result "$2"; }

ko=/lib/modules/$(uname -r)/extra/fib_stat.ko
if out=$(/usr/sbin/insmod "$ko" 2>&1); then
	result "$case-load" pass
else
	echo "insmod $ko: $out"
	result "$case-load" fail
	result "$case" fail
	exit 0
fi

rc=0
sh tests/guest/repro-scenario.sh "$order" "$addr1" "$addr2" >/tmp/scenario.out 2>&1 || rc=$?
dmesg >/tmp/kernel.log
debug_locks=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats)
echo "=== fib-stat-lava output begin $case"
cat /tmp/scenario.out
echo "=== fib-stat-lava output end $case"
echo "=== fib-stat-lava kernel log begin $case"
cat /tmp/kernel.log
echo "=== fib-stat-lava kernel log end $case"
echo "=== fib-stat-lava debug_locks $debug_locks"
echo "=== fib-stat-lava script status $rc"

# The script's own KTAP results, one case each.
sed -n 's/^ok \([0-9][0-9]*\) .*/pass \1/p; s/^not ok \([0-9][0-9]*\) .*/fail \1/p' /tmp/scenario.out |
	while read -r res n; do result "$case-ktap-$n" "$res"; done
if [ "$rc" = 0 ]; then result "$case-script" pass; else result "$case-script" fail; fi

# The case's verdict.
fibstat explain --summary /tmp/kernel.log >/tmp/explain.txt 2>&1
cat /tmp/explain.txt
kinds=$(sed -n 's/^ *\([0-9][0-9]*\)x  .*  \[\([a-z0-9_]*\)\] (lines\{0,1\} .*/\1 \2/p' /tmp/explain.txt | tr '\n' ' ')
records=$(sed -n '/^=== fibstat show/,/^=== end/p' /tmp/scenario.out | sed -n 's/.*"gateway_records": *\([0-9]*\).*/\1/p')
neigh=$(sed -n '/^=== fibstat show/,/^=== end/p' /tmp/scenario.out | sed -n 's/.*"neigh_updates": *\([0-9]*\).*/\1/p')
ok=1 why=''
[ "$rc" = 0 ] || { ok=0 why="$why script-status-$rc"; }
[ "$records" = 35 ] || { ok=0 why="$why gateway_records-${records:-none}"; }
[ "${neigh:-0}" -gt 0 ] 2>/dev/null || { ok=0 why="$why neigh_updates-${neigh:-none}"; }
case "$mode" in
spin)
	[ "$kinds" = "1 inconsistent_lock_state " ] || { ok=0 why="$why reports-[${kinds}]"; }
	;;
bh | percpu)
	[ "$(head -n 1 /tmp/explain.txt)" = "no kernel report found" ] || { ok=0 why="$why reports-[${kinds}]"; }
	[ "$debug_locks" = 1 ] || { ok=0 why="$why debug_locks-$debug_locks"; }
	;;
*) ok=0 why="unknown-mode-$mode" ;;
esac
echo "=== fib-stat-lava case $case: $([ $ok = 1 ] && echo pass || echo "fail:$why")"
if [ $ok = 1 ]; then result "$case" pass; else result "$case" fail; fi
