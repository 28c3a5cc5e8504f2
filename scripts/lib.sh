# shellcheck shell=bash
# Shared helpers for fib-stat scripts: paths, stage lines, errors.

FIB_STAT_ROOT=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
FIB_STAT_CACHE=${FIB_STAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fib-stat}
FIB_STAT_BUILD=${FIB_STAT_BUILD:-$FIB_STAT_ROOT/build}
LLVM_SUFFIX=${LLVM_SUFFIX:--19}
export PATH="$HOME/.cargo/bin:$PATH"

# (bash's EPOCHREALTIME: no date process per call; every guest boot sources this.)
_now() { echo "${EPOCHREALTIME/,/.}"; }
_t0=${EPOCHREALTIME/,/.}
_stage_t=$_t0
_stage_name=
_elapsed() { awk -v a="$1" -v b="$(_now)" 'BEGIN { printf "%.1fs", b - a }'; }

# stage NAME: end the previous stage line (with its time) and start a new one.
stage() {
	stage_done
	_stage_name=$1
	_stage_t=${EPOCHREALTIME/,/.}
	printf '  %-44s' "$1" >&2
}

stage_done() {
	if [ -n "$_stage_name" ]; then
		printf ' %s\n' "$(_elapsed "$_stage_t")" >&2
		_stage_name=
	fi
}

# die MESSAGE...: end the current stage line, print what failed and exit 1.
die() {
	if [ -n "$_stage_name" ]; then printf ' FAILED\n' >&2; _stage_name=; fi
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit "${DIE_STATUS:-1}"
}

note() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# usage [STATUS]: the script's help (its header comment, line 2 up to the
# "set -euo" line) on stdout; exit STATUS (default 0).
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit "${1:-0}"; }
# usage_error MESSAGE...: what is wrong, then "usage: $USAGE" (the script's
# synopsis, set before it parses its arguments), on stderr; exit 2.
usage_error() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	echo "usage: ${USAGE:-${0##*/} --help}" >&2
	exit 2
}

total_elapsed() { _elapsed "$_t0"; }

# Kernel flavors: default (lockdep, debug info, kCFI) and debug (+ KASAN,
# kmemleak, UBSAN, DEBUG_OBJECTS, DEBUG_NET); see scripts/build-kernel.
# shellcheck disable=SC2034 # for the scripts that source this
FLAVORS="default debug rt"
# check_flavor FLAVOR [WHAT [FAIL]]: unless FLAVOR is one of FLAVORS, FAIL (die,
# the default, or usage_error) with "WHAT (default: flavor) must be default, debug or rt, not 'FLAVOR'".
check_flavor() {
	case "$1" in default | debug | rt) ;; *) "${3:-die}" "${2:-flavor} must be default, debug or rt, not '$1'" ;; esac
}
# kernel_report_in FILE: true if FILE (a kernel log, or a vm-run --log) holds a
# kernel report, as fibstat explain --fail-on-report finds them: the project's
# one definition of a report (vm-run's exit 123, make repro, the tests' clean
# log). A parser that cannot read FILE counts as a report: no false clean.
kernel_report_in() {
	local fibstat=$FIB_STAT_BUILD/bin/fibstat rc=0
	[ -x "$fibstat" ] || fibstat=fibstat
	"$fibstat" explain --fail-on-report "$1" >/dev/null 2>&1 || rc=$?
	[ $rc != 0 ]
}
# kernel_link FLAVOR: the link to the flavor's cached kernel tree.
kernel_link() {
	if [ "$1" = default ]; then echo "$FIB_STAT_BUILD/kernel"; else echo "$FIB_STAT_BUILD/kernel-$1"; fi
}
# module_dir FLAVOR MODE: where build-module puts fib_stat.ko of that flavor and lock mode.
module_dir() {
	if [ "$1" = default ]; then echo "$FIB_STAT_BUILD/module/$2"; else echo "$FIB_STAT_BUILD/module-$1/$2"; fi
}

# initramfs_key: what the guest initramfs depends on (scripts/mkinitramfs): the
# guest tools' names, sizes, times and inodes (no hashing of megabytes: every
# guest boot asks) and the content of guest-init, guest-net.sh, guest-insmod.c and mkinitramfs. (The archive
# is self-contained: a library upgraded on the host does not break it.)
GUEST_BUSYBOX=/bin/busybox GUEST_ARPING=/usr/bin/arping
for GUEST_IP in /usr/sbin/ip /sbin/ip /bin/ip; do [ -x "$GUEST_IP" ] && break; done
initramfs_key() {
	{
		stat -L -c '%n %s %Y %i' "$GUEST_BUSYBOX" "$GUEST_IP" "$GUEST_ARPING" 2>&1
		cat "$FIB_STAT_ROOT/scripts/guest-init" "$FIB_STAT_ROOT/scripts/guest-net.sh" "$FIB_STAT_ROOT/scripts/guest-insmod.c" \
			"$FIB_STAT_ROOT/scripts/mkinitramfs"
	} | sha256sum | cut -c1-16
}

# module_sources: the module's source files, relative to the root: Kbuild,
# Kconfig, the .rs files at the root and the abstractions under rust/.
module_sources() {
	(cd "$FIB_STAT_ROOT" && printf '%s\n' Kbuild Kconfig ./*.rs && find rust -name '*.rs' | sort) | sed 's|^\./||'
}
# sync_module_sources DIR: copy them into DIR keeping the tree; only changed
# files are rewritten (Kbuild's dependency tracking keeps unchanged builds
# instant) and .rs files the root no longer has are removed.
sync_module_sources() {
	local d=$1 f
	mkdir -p "$d"
	while IFS= read -r f; do
		case "$f" in */*) mkdir -p "$d/${f%/*}" ;; esac
		cmp -s "$FIB_STAT_ROOT/$f" "$d/$f" || cp "$FIB_STAT_ROOT/$f" "$d/$f"
	done < <(module_sources)
	(cd "$d" && find . -name '*.rs' | sed 's|^\./||') | while IFS= read -r f; do
		[ -f "$FIB_STAT_ROOT/$f" ] || rm -f "$d/$f"
	done
}
