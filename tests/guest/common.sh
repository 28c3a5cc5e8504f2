# shellcheck shell=sh
# Sourced by the guest test scripts (busybox sh, in /share = the repository).
# Results in KTAP, as kselftest's ktap_helpers.sh prints them: "TAP version 13"
# now, "ok N what" per check, "not ok N what" for the failure that ends the
# script, and at exit the plan "1..N" and "# Totals: pass:N fail:N ...".
# Real tools by full path: busybox sh prefers its own ip/arping applets.
IP=/usr/sbin/ip
# shellcheck disable=SC2034 # for the scripts that source this file
ARPING=/usr/bin/arping

# Counts live in a file: ok/fail may run in subshells ($(...), pipelines).
_KTAP=${TMPDIR:-/tmp}/.ktap.$$
echo "0 0" >"$_KTAP"
echo "TAP version 13"
# _ktap_result ok|not_ok WHAT
_ktap_result() {
	read -r _p _f <"$_KTAP"
	if [ "$1" = ok ]; then _p=$((_p + 1)); else _f=$((_f + 1)); fi
	echo "$_p $_f" >"$_KTAP"
	if [ "$1" = ok ]; then echo "ok $((_p + _f)) $2"; else echo "not ok $((_p + _f)) $2"; fi
}
_ktap_end() {
	read -r _p _f <"$_KTAP"
	echo "1..$((_p + _f))"
	echo "# Totals: pass:$_p fail:$_f xfail:0 xpass:0 skip:0 error:0"
}
trap _ktap_end EXIT

# A KTAP description is one line without '#'.
_nl='
'
# (busybox ash, which runs these scripts, has ${var//pattern/string}.)
# shellcheck disable=SC3060
_ktap_desc() { _d=$*; _d=${_d//\#/ }; _d=${_d//$_nl/ }; }
fail() { _ktap_desc "$*"; _ktap_result not_ok "$_d"; exit 1; }
ok() { _ktap_desc "$*"; _ktap_result ok "$_d"; }

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
	if [ -z "$_v" ] || ! [ "$_v" -gt "$3" ]; then fail "netns $1: $2 is '$_v', expected > $3"; fi
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
