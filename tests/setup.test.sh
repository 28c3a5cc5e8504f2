# shellcheck shell=bash
# scripts/setup decides what is missing from the commands and files the
# project uses (its NEEDS table), not from dpkg's status alone, and installs
# again in the same run what apt removed while installing something else.
# Host only, no guest: the failures are played by stub dpkg-query and apt-get
# on a PATH of their own; one test runs setup for real (root, apt-get; it
# downloads qemu-utils again; TEST_NO_APT=1 skips it).

# _fake_machine NAME: $TEST_TMP/setup-NAME, a machine on which every package of
# NEEDS is installed and usable (PATH=stub:bin shows it, see _setup):
#   bin/        the few real tools scripts/setup itself runs (none of NEEDS')
#   stub/       dpkg-query and apt-get stubs, and a fake of every NEEDS command
#   root/       where NEEDS' absolute paths are (SETUP_ROOT)
#   db/PKG      dpkg's status of PKG
#   needs       "PKG CHECK" per line, read from scripts/setup
#   apt.log     every apt-get call, one line each
#   conflicts   "A B" lines: installing A (B not asked for) removes B
#   stuck       packages apt says it installed whose command never comes back
#   broken      packages apt fails on (exit 100)
# Prints the directory.
_fake_machine() {
	local m=$TEST_TMP/setup-$1 t pkg
	rm -rf "$m"
	mkdir -p "$m/bin" "$m/stub" "$m/root" "$m/db" "$m/home"
	for t in bash dirname grep mktemp id tail rm awk sed cat; do
		ln -s "$(command -v "$t")" "$m/bin/$t"
	done
	bash -c 'eval "$(sed -n "/^NEEDS=(/,/^)/p" "$1")"; for e in "${NEEDS[@]}"; do echo "${e%%:*} ${e#*:}"; done' _ \
		"$ROOT/scripts/setup" >"$m/needs"
	[ "$(wc -l <"$m/needs")" -ge 20 ] || _fail "NEEDS not read from scripts/setup: $(cat "$m/needs")"
	: >"$m/apt.log"
	: >"$m/conflicts"
	: >"$m/stuck"
	: >"$m/broken"
	# The package manager's two halves share these helpers.
	cat >"$m/pm.sh" <<-EOF
	M=$m
	EOF
	cat >>"$m/pm.sh" <<-'EOF'
	PATH=/usr/bin:/bin
	# install PKG: dpkg's status, then the commands and files of PKG.
	install() {
		echo 'install ok installed' >"$M/db/$1"
		grep -qx "$1" "$M/stuck" && return
		local pkg check
		while read -r pkg check; do
			[ "$pkg" = "$1" ] || continue
			case "$check" in
			-) ;;
			/*) mkdir -p "$M/root${check%/*}"; printf '#!/bin/sh\nexit 0\n' >"$M/root$check"; chmod +x "$M/root$check" ;;
			*) printf '#!/bin/sh\nexit 0\n' >"$M/stub/$check"; chmod +x "$M/stub/$check" ;;
			esac
		done <"$M/needs"
	}
	# remove PKG: gone, its configuration files kept (dpkg's "rc").
	remove() {
		echo 'deinstall ok config-files' >"$M/db/$1"
		local pkg check
		while read -r pkg check; do
			[ "$pkg" = "$1" ] || continue
			case "$check" in
			-) ;;
			/*) rm -f "$M/root$check" ;;
			*) rm -f "$M/stub/$check" ;;
			esac
		done <"$M/needs"
	}
	EOF
	cat >"$m/stub/dpkg-query" <<-EOF
	#!/bin/bash
	. $m/pm.sh
	EOF
	cat >>"$m/stub/dpkg-query" <<-'EOF'
	# dpkg-query -W -f='${Status}' PKG
	[ "$1" = -W ] && [ "$2" = '-f=${Status}' ] && [ $# = 3 ] || { echo "dpkg-query stub: unexpected: $*" >&2; exit 2; }
	[ -f "$M/db/$3" ] || { echo "dpkg-query: no packages found matching $3" >&2; exit 1; }
	printf '%s' "$(cat "$M/db/$3")"
	EOF
	cat >"$m/stub/apt-get" <<-EOF
	#!/bin/bash
	. $m/pm.sh
	EOF
	cat >>"$m/stub/apt-get" <<-'EOF'
	echo "apt-get $*" >>"$M/apt.log"
	[ "$1" = -o ] && shift 2
	case "$1" in
	update) exit 0 ;;
	install) shift ;;
	*) echo "E: Invalid operation $1" >&2; exit 100 ;;
	esac
	pkgs=()
	for a; do case "$a" in -*) ;; *) pkgs+=("$a") ;; esac; done
	for p in "${pkgs[@]}"; do
		if grep -qx "$p" "$M/broken"; then echo "E: Unable to locate package $p" >&2; exit 100; fi
	done
	for p in "${pkgs[@]}"; do
		while read -r a b; do
			[ "$a" = "$p" ] && [[ " ${pkgs[*]} " != *" $b "* ]] || continue
			echo "Removing $b ..."
			remove "$b"
		done <"$M/conflicts"
	done
	for p in "${pkgs[@]}"; do
		echo "Setting up $p ..."
		install "$p"
	done
	EOF
	chmod +x "$m/stub/dpkg-query" "$m/stub/apt-get"
	# shellcheck disable=SC1091
	(. "$m/pm.sh" && while read -r pkg _; do install "$pkg"; done <"$m/needs")
	echo "$m"
}

# _setup M: scripts/setup (apt step only) on the fake machine M, the stubs
# found on its PATH (as root; as another user apt-get is named by its path,
# which setup accepts without root); stdout M/out, stderr M/err, status $setup_rc.
_setup() {
	local m=$1 hook=()
	[ "$(id -u)" = 0 ] || hook=(SETUP_APT_GET="$m/stub/apt-get")
	setup_rc=0
	env "${hook[@]}" PATH="$m/stub:$m/bin" HOME="$m/home" SETUP_ROOT="$m/root" SETUP_PACKAGES_ONLY=1 \
		"$ROOT/scripts/setup" >"$m/out" 2>"$m/err" || setup_rc=$?
	sed 's/^/    setup: /' "$m/err"
}

# _apt_calls M: the apt-get calls made, joined by " | ".
_apt_calls() {
	sed 's/ -o DPkg::Lock::Timeout=600 / /; s/ -y -qq --no-install-recommends --reinstall / ... /' "$1/apt.log" | paste -sd'|' | sed 's/|/ | /g'
}

# _stages M: the stage lines setup printed, times replaced by T.
_stages() { sed -E 's/ +[0-9]+\.[0-9]s$/ T/; s/^  //' "$1/err" | paste -sd'|' | sed 's/|/ | /g'; }

test_ready_machine_no_apt_call() {
	local m
	m=$(_fake_machine ready)
	_setup "$m"
	check_eq "status" 0 "$setup_rc"
	check_eq "apt-get calls" "" "$(_apt_calls "$m")"
	check_eq "nothing printed" "" "$(cat "$m/out" "$m/err")"
}

# The failure setup was rewritten for: the image ships qemu-utils 10.0 from
# backports, dpkg calls it installed; installing qemu-system-x86 7.2 makes apt
# remove it (and qemu-img with it); only a second install brings it back.
test_package_removed_by_apt_installed_again() {
	local m
	m=$(_fake_machine removed)
	# shellcheck disable=SC1091
	(. "$m/pm.sh" && remove qemu-system-x86 && rm -f "$m/db/qemu-system-x86")
	echo "qemu-system-x86 qemu-utils" >"$m/conflicts"
	# shellcheck disable=SC2016 # ${Status} is dpkg-query's format field
	check_eq "dpkg calls qemu-utils installed before" "install ok installed" "$("$m/stub/dpkg-query" -W -f='${Status}' qemu-utils)"
	_setup "$m"
	check_eq "status" 0 "$setup_rc"
	check_eq "apt-get calls" "apt-get update -qq | apt-get install ... qemu-system-x86 | apt-get update -qq | apt-get install ... qemu-utils" "$(_apt_calls "$m")"
	check_eq "stage lines" "apt-get install 1 packages T | apt-get install qemu-utils again (removed by apt) T" "$(_stages "$m")"
	check_grep "apt waits for another apt's lock" '^apt-get -o DPkg::Lock::Timeout=600 install ' "$m/apt.log"
	[ -x "$m/stub/qemu-system-x86_64" ] || _fail "qemu-system-x86_64 missing after setup"
	[ -x "$m/stub/qemu-img" ] || _fail "qemu-img missing after setup"
	# shellcheck disable=SC2016 # ${Status} is dpkg-query's format field
	check_eq "dpkg calls qemu-utils installed after" "install ok installed" "$("$m/stub/dpkg-query" -W -f='${Status}' qemu-utils)"
	# And now the machine is ready: a second run changes nothing.
	: >"$m/apt.log"
	_setup "$m"
	check_eq "status of the second run" 0 "$setup_rc"
	check_eq "apt-get calls of the second run" "" "$(_apt_calls "$m")"
	check_eq "second run prints nothing" "" "$(cat "$m/out" "$m/err")"
}

test_command_gone_package_reinstalled() {
	local m
	m=$(_fake_machine gone)
	# dpkg still calls bison installed; its command is gone.
	rm "$m/stub/bison"
	_setup "$m"
	check_eq "status" 0 "$setup_rc"
	check_eq "apt-get calls: exactly that package, reinstalled" "apt-get update -qq | apt-get install ... bison" "$(_apt_calls "$m")"
	check_eq "stage lines" "apt-get install 1 packages T" "$(_stages "$m")"
	[ -x "$m/stub/bison" ] || _fail "bison missing after setup"
	# A file checked by its absolute path (SETUP_ROOT), and a package of
	# headers that dpkg no longer calls installed: both, in one apt run.
	: >"$m/apt.log"
	rm "$m/root/usr/bin/arping"
	echo 'deinstall ok config-files' >"$m/db/libelf-dev"
	_setup "$m"
	check_eq "status" 0 "$setup_rc"
	check_eq "apt-get calls (file, headers)" "apt-get update -qq | apt-get install ... libelf-dev iputils-arping" "$(_apt_calls "$m")"
	check_eq "stage lines" "apt-get install 2 packages T" "$(_stages "$m")"
	[ -x "$m/root/usr/bin/arping" ] || _fail "arping missing after setup"
}

test_package_apt_cannot_bring_back_fails_naming_it() {
	local m
	m=$(_fake_machine stuck)
	rm "$m/stub/qemu-img"
	echo qemu-utils >"$m/stuck"
	_setup "$m"
	check_eq "status" 1 "$setup_rc"
	check_eq "apt-get calls: two tries" "apt-get update -qq | apt-get install ... qemu-utils | apt-get update -qq | apt-get install ... qemu-utils" "$(_apt_calls "$m")"
	check_eq "the message, one line, last" \
		"setup: error: still missing after two apt-get runs: qemu-utils: run 'apt-get install qemu-utils' and read apt's reason" \
		"$(tail -n 1 "$m/err")"
	check_eq "stderr: the two stages, then the message" 3 "$(wc -l <"$m/err")"
	# apt-get itself failing: the cause and the log, once.
	m=$(_fake_machine broken)
	rm "$m/stub/xmllint"
	echo libxml2-utils >"$m/broken"
	_setup "$m"
	check_eq "status (apt-get failed)" 1 "$setup_rc"
	local last log
	last=$(tail -n 1 "$m/err")
	[[ "$last" =~ ^setup:\ error:\ apt-get\ install\ failed\ for:\ libxml2-utils\ \(full\ log:\ (/tmp/fib-stat-apt\.[A-Za-z0-9]+)\)$ ]] ||
		_fail "last line: $last"
	log=${BASH_REMATCH[1]}
	check_grep "apt's reason shown" '^E: Unable to locate package libxml2-utils$' "$m/err"
	check_grep "the stage line ends before apt's output" '^  apt-get install 1 packages +[0-9]+\.[0-9]s$' "$m/err"
	check_grep "the log kept" '^E: Unable to locate package libxml2-utils$' "$log"
	rm -f "$log"
	check_eq "apt-get calls (apt failed)" "apt-get update -qq | apt-get install ... libxml2-utils" "$(_apt_calls "$m")"
}

# For real: qemu-img gone while dpkg still calls qemu-utils installed; setup
# must reinstall it. The file is put back by hand if anything goes wrong.
test_real_machine_qemu_img_reinstalled() {
	[ "$(id -u)" = 0 ] || skip "not root: the real apt-get run needs root"
	if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
		skip "no apt-get or dpkg-query (not Debian)"
	fi
	[ -z "${TEST_NO_APT:-}" ] || skip "TEST_NO_APT is set: no real apt-get run"
	[ "$(dpkg-query -W -f='${Status}' qemu-utils 2>/dev/null)" = "install ok installed" ] || skip "qemu-utils not installed (run scripts/setup)"
	[ -x /usr/bin/qemu-img ] || _fail "/usr/bin/qemu-img missing though qemu-utils is installed: run scripts/setup"
	local aside=$TEST_TMP/qemu-img.aside rc=0
	# shellcheck disable=SC2064 # the paths now
	trap "[ -e /usr/bin/qemu-img ] || mv '$aside' /usr/bin/qemu-img" EXIT
	mv /usr/bin/qemu-img "$aside"
	check_eq "dpkg still calls qemu-utils installed" "install ok installed" "$(dpkg-query -W -f='${Status}' qemu-utils)"
	(cd "$ROOT" && unset SETUP_DPKG_QUERY SETUP_APT_GET SETUP_ROOT && SETUP_PACKAGES_ONLY=1 scripts/setup) >"$TEST_TMP/real.out" 2>"$TEST_TMP/real.err" || rc=$?
	sed 's/^/    setup: /' "$TEST_TMP/real.err"
	check_eq "status" 0 "$rc"
	[ -x /usr/bin/qemu-img ] || _fail "setup did not bring /usr/bin/qemu-img back"
	check_grep "apt ran" '^  apt-get install [0-9]+ packages +[0-9.]+s$' "$TEST_TMP/real.err"
	/usr/bin/qemu-img --version >"$TEST_TMP/qemu-img.version" || _fail "qemu-img does not run"
	check_grep "the real qemu-img" '^qemu-img version ' "$TEST_TMP/qemu-img.version"
	rm -f "$aside"
}
