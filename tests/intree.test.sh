# shellcheck shell=bash
# In-tree build: the same sources under drivers/net/fib_stat of the project
# kernel tree (an overlay, so the cached tree is not touched), chosen through
# our Kconfig with the kernel's own config tools and built by the kernel's
# make; the module it produces loads in the guest in the chosen lock mode.

test_intree_build_spin_and_load() {
	local k d m o ko
	k=$(readlink -f "$ROOT/build/kernel")
	d=$TEST_TMP/intree m=$TEST_TMP/intree/merged o=$TEST_TMP/intree.out
	mkdir -p "$d"/{upper,work,merged,share}
	mount -t overlay overlay -o "lowerdir=$k,upperdir=$d/upper,workdir=$d/work" "$m" ||
		_fail "cannot mount an overlay of $k (needs root and overlayfs)"
	# shellcheck disable=SC2064 # expand now: $m is local
	trap "umount '$m'" EXIT
	mkdir -p "$m/drivers/net/fib_stat"
	cp "$ROOT"/Kconfig "$ROOT"/*.rs "$m/drivers/net/fib_stat/"
	cp -r "$ROOT/rust" "$m/drivers/net/fib_stat/"
	cp "$ROOT/Kbuild" "$m/drivers/net/fib_stat/Makefile"
	echo 'source "drivers/net/fib_stat/Kconfig"' >>"$m/drivers/net/Kconfig"
	# shellcheck disable=SC2016 # $(CONFIG_FIB_STAT) is make syntax, for kbuild
	echo 'obj-$(CONFIG_FIB_STAT) += fib_stat/' >>"$m/drivers/net/Makefile"
	(
		cd "$m"
		./scripts/config --module FIB_STAT --enable FIB_STAT_LOCK_SPIN --disable FIB_STAT_LOCK_BH
		make LLVM=-19 olddefconfig
		make LLVM=-19 -j"$(nproc)" modules
	) >"$d/build.log" 2>&1 || _fail "in-tree build failed (log $d/build.log): $(tail -n 20 "$d/build.log")"
	check_grep "CONFIG_FIB_STAT" '^CONFIG_FIB_STAT=m$' "$m/.config"
	check_grep "lock mode choice" '^CONFIG_FIB_STAT_LOCK_SPIN=y$' "$m/.config"
	check_grep "the other choice off" '^# CONFIG_FIB_STAT_LOCK_BH is not set$' "$m/.config"
	check_grep "built by kbuild from drivers/net/fib_stat" 'RUSTC \[M\] drivers/net/fib_stat/fib_stat\.o' "$d/build.log"
	check_no_grep "build warnings" '^warning|warning:' "$d/build.log"
	ko=$m/drivers/net/fib_stat/fib_stat.ko
	[ -f "$ko" ] || _fail "no $ko"
	cp "$ko" "$d/share/"
	vm "$o" --share "$d/share" -- sh -c 'insmod ./fib_stat.ko && fibstat show -j -p && rmmod fib_stat'
	# shellcheck disable=SC2154 # vm_rc is set by vm() of tests/lib.sh
	check_eq "guest status" 0 "$vm_rc"
	check_grep "loaded in the configured mode" 'fib_stat: loaded, lock mode spin ' "$o"
	check_grep "GET reports it" '"lock_mode": "spin"' "$o"
	check_clean_log "in-tree module" "$o"
}
