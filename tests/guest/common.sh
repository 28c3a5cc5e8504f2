# shellcheck shell=sh
# Sourced by the guest test scripts (busybox sh, in /share = the repository).
# Real tools by full path: busybox sh prefers its own ip/arping applets.
IP=/usr/sbin/ip
ARPING=/usr/bin/arping

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# stat NS KEY: KEY of `fibstat show -j -p` (pretty: one key per line) in netns NS ("-": the initial netns)
stat() {
	if [ "$1" = - ]; then fibstat show -j -p; else fibstat show -n "$1" -j -p; fi |
		sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"
}

# expect_stat NS KEY VALUE
expect_stat() {
	_v=$(stat "$1" "$2")
	[ "$_v" = "$3" ] || fail "netns $1: $2 is '$_v', expected '$3'"
	ok "netns $1: $2 = $3"
}

# expect_stat_gt NS KEY N
expect_stat_gt() {
	_v=$(stat "$1" "$2")
	[ -n "$_v" ] && [ "$_v" -gt "$3" ] || fail "netns $1: $2 is '$_v', expected > $3"
	ok "netns $1: $2 = $_v (> $3)"
}

# snapshot NS: the statistics that requests must not change (all but nl_requests)
snapshot() { fibstat show ${1:+-n "$1"} -j -p | grep -v '"nl_requests"'; }

# expect_output WHAT EXPECTED_STATUS PATTERN -- COMMAND...: run COMMAND, check its
# exit status and that its output (stdout+stderr) matches the grep -E PATTERN.
expect_output() {
	_what=$1 _want=$2 _pat=$3
	shift 4
	_out=$("$@" 2>&1)
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "$_what: exit status $_rc, expected $_want; output: $_out"
	echo "$_out" | grep -qE -- "$_pat" || fail "$_what: output '$_out' does not match /$_pat/"
	ok "$_what: $_out"
}

# ifindex NS IFACE
ifindex() { $IP -n "$1" -o link show "$2" | sed -n 's/^\([0-9]*\):.*/\1/p'; }
