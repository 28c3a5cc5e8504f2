# shellcheck shell=bash
# The repository's Kconfig, read by the kernel's own kconfig tool (scripts/kconfig/conf
# of the project kernel), as an in-tree build would read it.

# kconf NAME RUST_DEFAULT SEED_LINES: run conf --olddefconfig on a wrapper
# Kconfig that sources ours; the result is in $TEST_TMP/kconfig-NAME/.config
kconf() {
	local d=$TEST_TMP/kconfig-$1 conf=$ROOT/build/kernel/scripts/kconfig/conf
	[ -x "$conf" ] || _fail "no $conf: run 'make kernel'"
	mkdir -p "$d"
	cat >"$d/Kconfig.wrapper" <<-EOF
	mainmenu "fib_stat Kconfig test"
	config MODULES
		bool
		default y
		modules
	config RUST
		def_bool $2
	config NET
		def_bool y
	source "Kconfig"
	EOF
	printf '%b' "$3" >"$d/.config"
	(cd "$d" && srctree=$ROOT KCONFIG_CONFIG=$d/.config "$conf" --olddefconfig "$d/Kconfig.wrapper") >"$d/conf.log" 2>&1 ||
		_fail "conf rejected the Kconfig: $(cat "$d/conf.log")"
	[ -s "$d/conf.log" ] && grep -iE 'warning|error' "$d/conf.log" && _fail "conf warned: $(cat "$d/conf.log")"
	return 0
}

test_kconfig_default_is_bh() {
	kconf default y 'CONFIG_FIB_STAT=m\n'
	local c=$TEST_TMP/kconfig-default/.config
	check_grep "FIB_STAT" '^CONFIG_FIB_STAT=m$' "$c"
	check_grep "default lock" '^CONFIG_FIB_STAT_LOCK_BH=y$' "$c"
	check_grep "spin off" '^# CONFIG_FIB_STAT_LOCK_SPIN is not set$' "$c"
}

test_kconfig_spin_choice() {
	kconf spin y 'CONFIG_FIB_STAT=y\nCONFIG_FIB_STAT_LOCK_SPIN=y\n'
	local c=$TEST_TMP/kconfig-spin/.config
	check_grep "FIB_STAT built in" '^CONFIG_FIB_STAT=y$' "$c"
	check_grep "spin chosen" '^CONFIG_FIB_STAT_LOCK_SPIN=y$' "$c"
	check_grep "bh off" '^# CONFIG_FIB_STAT_LOCK_BH is not set$' "$c"
}

test_kconfig_percpu_choice() {
	kconf percpu y 'CONFIG_FIB_STAT=m\nCONFIG_FIB_STAT_LOCK_PERCPU=y\n'
	local c=$TEST_TMP/kconfig-percpu/.config
	check_grep "percpu chosen" '^CONFIG_FIB_STAT_LOCK_PERCPU=y$' "$c"
	check_grep "bh off" '^# CONFIG_FIB_STAT_LOCK_BH is not set$' "$c"
	check_grep "spin off" '^# CONFIG_FIB_STAT_LOCK_SPIN is not set$' "$c"
}

test_kconfig_needs_rust() {
	kconf norust n 'CONFIG_FIB_STAT=m\n'
	check_no_grep "FIB_STAT without RUST" '^CONFIG_FIB_STAT=' "$TEST_TMP/kconfig-norust/.config"
}
