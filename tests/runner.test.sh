# shellcheck shell=bash
# The guest runner as a Rust-for-Linux developer uses it on their own work:
# their own kernel (a copy of the project kernel in another directory) and
# their own modules (tiny C modules built here), a kernel missing what the
# guest needs refused by name, --dry-run, live output, the quiet default,
# the interactive shell on a pseudo-terminal, gdb attached to the stub;
# --help everywhere; KTAP output; make module KDIR checks; rust-analyzer.

# --- fixtures ---

# _my_kernel: $TEST_TMP/mykernel, the project kernel's bzImage and .config in a
# tree of their own (what vm-run reads of a built kernel directory).
_my_kernel() {
	local k=$TEST_TMP/mykernel src
	src=$(readlink -f "$ROOT/build/kernel")
	if [ ! -f "$k/arch/x86/boot/bzImage" ]; then
		mkdir -p "$k/arch/x86/boot"
		cp "$src/arch/x86/boot/bzImage" "$k/arch/x86/boot/"
		cp "$src/.config" "$k/.config"
	fi
	echo "$k"
}

# _my_modules: $TEST_TMP/mymod/{mymod,mydep}.ko, built against the project
# kernel: mymod exports mymod_magic (0x5eed1234, in .data) and mymod_get_magic
# (in .text), mydep uses the variable (so mydep loads only after mymod).
_my_modules() {
	local d=$TEST_TMP/mymod
	if [ ! -f "$d/mydep.ko" ]; then
		mkdir -p "$d"
		cat >"$d/mymod.c" <<-'EOF'
		#include <linux/init.h>
		#include <linux/module.h>
		int mymod_magic = 0x5eed1234;
		EXPORT_SYMBOL_GPL(mymod_magic);
		noinline int mymod_get_magic(void)
		{
			return READ_ONCE(mymod_magic);
		}
		EXPORT_SYMBOL_GPL(mymod_get_magic);
		static int __init mymod_init(void)
		{
			pr_info("mymod: loaded, magic %#x\n", mymod_get_magic());
			return 0;
		}
		static void __exit mymod_exit(void)
		{
			pr_info("mymod: unloaded\n");
		}
		module_init(mymod_init);
		module_exit(mymod_exit);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module");
		EOF
		cat >"$d/mydep.c" <<-'EOF'
		#include <linux/init.h>
		#include <linux/module.h>
		extern int mymod_magic;
		static int __init mydep_init(void)
		{
			pr_info("mydep: loaded, sees magic %#x\n", mymod_magic);
			return 0;
		}
		static void __exit mydep_exit(void)
		{
		}
		module_init(mydep_init);
		module_exit(mydep_exit);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("vm-run test module that needs mymod");
		EOF
		echo 'obj-m := mymod.o mydep.o' >"$d/Kbuild"
		make -C "$ROOT/build/kernel" M="$d" LLVM=-19 modules >"$d/build.log" 2>&1 ||
			_fail "building the test modules failed: $(tail -n 20 "$d/build.log")"
	fi
	[ -f "$d/mymod.ko" ] && [ -f "$d/mydep.ko" ] || _fail "no $d/mymod.ko or mydep.ko"
	echo "$d"
}

# _stub_qemu: a PATH directory whose qemu-system-x86_64 only records that it ran.
_stub_qemu() {
	local d=$TEST_TMP/stub
	mkdir -p "$d"
	printf '#!/bin/sh\necho "$0 $*" >>%q/ran\nexit 1\n' "$d" >"$d/qemu-system-x86_64"
	chmod +x "$d/qemu-system-x86_64"
	rm -f "$d/ran"
	echo "$d"
}

# _wait_for PATTERN FILE SECONDS [PID]: until a line of FILE matches (and PID, if
# given, still runs); fails on the deadline or when PID ends first.
_wait_for() {
	local end=$((SECONDS + $3))
	while ! grep -qE -- "$1" "$2" 2>/dev/null; do
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || _fail "process $4 ended before /$1/ appeared in $2"
		[ $SECONDS -lt $end ] || _fail "no /$1/ in $2 within $3 s: $(tail -n 20 "$2" 2>/dev/null)"
		sleep 0.2
	done
}

# --- own kernel, own modules ---

test_my_kernel_and_my_modules_in_order() {
	local k d o=$TEST_TMP/mine.out
	k=$(_my_kernel)
	d=$(_my_modules)
	vm "$o" --kernel "$k" --module "$d/mymod.ko" --module="$d/mydep.ko" --topology veth -- \
		sh -c 'cut -d" " -f1 /proc/modules; dmesg | grep -E "^\[ *[0-9.]+\] (mymod|mydep):"; /usr/sbin/ip -n ns1 -br addr show fs0'
	check_eq "vm-run status" 0 "$vm_rc"
	command_output "$o" >"$o.cmd"
	# /proc/modules lists the newest first.
	check_eq "modules loaded" "mydep mymod" "$(sed -n '1,2p' "$o.cmd" | tr '\n' ' ' | sed 's/ $//')"
	check_grep "mymod loaded first" '\] mymod: loaded, magic 0x5eed1234$' "$o.cmd"
	check_grep "then mydep, which needs it" '\] mydep: loaded, sees magic 0x5eed1234$' "$o.cmd"
	[ "$(grep -n 'mymod: loaded' "$o.cmd" | cut -d: -f1)" -lt "$(grep -n 'mydep: loaded' "$o.cmd" | cut -d: -f1)" ] ||
		_fail "mydep loaded before mymod"
	check_grep "topology up too" '^fs0@[a-z0-9]+ +UP +198\.51\.100\.1/24' "$o.cmd"
	check_clean_log "own kernel and modules" "$o"
	# The image that booted is the copy: the QEMU command line says so.
	local line
	line=$("$VM_RUN" --dry-run --kernel "$k" -- true)
	[[ "$line" == *" -kernel $k/arch/x86/boot/bzImage "* ]] || _fail "--kernel DIR not used as the image: $line"
}

test_module_that_does_not_load_is_126() {
	local k d o=$TEST_TMP/order.out
	k=$(_my_kernel)
	d=$(_my_modules)
	# Wrong order: mydep cannot resolve mymod_magic.
	vm "$o" --kernel "$k" --module "$d/mydep.ko" --module "$d/mymod.ko" -- echo must-not-run
	check_eq "vm-run status" 126 "$vm_rc"
	check_grep "insmod's error, with the module named" "^vm-run: guest setup failed: insmod $d/mydep\.ko: insmod: can't insert '[^']*mydep\.ko': unknown symbol in module" "$o"
	check_no_grep "COMMAND did not run" 'must-not-run' "$o"
	check_grep "the kernel says which symbol" 'mydep: Unknown symbol mymod_magic' "$o"
	# Not a module at all.
	printf 'not an ELF file' >"$TEST_TMP/junk.ko"
	vm "$o" --kernel "$k" --module "$TEST_TMP/junk.ko" -- true
	check_eq "vm-run status for junk.ko" 126 "$vm_rc"
	check_grep "insmod's error" "^vm-run: guest setup failed: insmod $TEST_TMP/junk\.ko: insmod: can't insert '[^']*junk\.ko': invalid module format" "$o"
}

test_bare_image_boots_unchecked() {
	local k o=$TEST_TMP/bare.out
	k=$(_my_kernel)
	mkdir -p "$TEST_TMP/bare"
	cp "$k/arch/x86/boot/bzImage" "$TEST_TMP/bare/vmlinuz-test"
	vm "$o" --kernel "$TEST_TMP/bare/vmlinuz-test" -- uname -r
	check_eq "vm-run status" 0 "$vm_rc"
	check_grep "says what it could not check" "^vm-run: cannot check $TEST_TMP/bare/vmlinuz-test: no \.config next to it and no CONFIG_IKCONFIG in it" "$o.tty"
	check_eq "uname -r" "$(cat "$ROOT/build/kernel/include/config/kernel.release")" "$(command_output "$o")"
	# config-VERSION next to vmlinuz-VERSION (as in /boot) is read.
	cp "$k/.config" "$TEST_TMP/bare/config-test"
	vm "$o" --kernel "$TEST_TMP/bare/vmlinuz-test" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_no_grep "checked this time" 'cannot check' "$o.tty"
}

test_kernel_missing_options_is_refused() {
	local k bad=$TEST_TMP/badkernel stub rc=0
	k=$(_my_kernel)
	stub=$(_stub_qemu)
	mkdir -p "$bad/arch/x86/boot"
	cp "$k/arch/x86/boot/bzImage" "$bad/arch/x86/boot/"
	sed -e 's/^CONFIG_VMXNET3=y$/# CONFIG_VMXNET3 is not set/' -e 's/^CONFIG_9P_FS=y$/CONFIG_9P_FS=m/' "$k/.config" >"$bad/.config"
	PATH=$stub:$PATH "$VM_RUN" --kernel "$bad" --topology vmxnet3 -- true >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status" 2 "$rc"
	check_eq "first line names every missing option" \
		"vm-run: error: $bad/arch/x86/boot/bzImage lacks what the guest needs: CONFIG_9P_FS=m CONFIG_VMXNET3" \
		"$(head -n 1 "$TEST_TMP/bad.err")"
	check_grep "why 9P_FS" '^  missing: CONFIG_9P_FS=m must be =y \(9p over virtio' "$TEST_TMP/bad.err"
	check_grep "why VMXNET3" '^  missing: CONFIG_VMXNET3 \(--topology vmxnet3\)$' "$TEST_TMP/bad.err"
	check_grep "the fix" 'Merge kernel/fib-stat\.config into the kernel config' "$TEST_TMP/bad.err"
	[ ! -e "$stub/ran" ] || _fail "QEMU was started for a refused kernel: $(cat "$stub/ran")"
	# Without the vmxnet3 topology, VMXNET3 is not needed; 9P_FS always is.
	rc=0
	PATH=$stub:$PATH "$VM_RUN" --kernel "$bad" --topology veth -- true >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status (veth)" 2 "$rc"
	check_eq "first line (veth)" "vm-run: error: $bad/arch/x86/boot/bzImage lacks what the guest needs: CONFIG_9P_FS=m" "$(head -n 1 "$TEST_TMP/bad.err")"
	# A bare image with the config built in (CONFIG_IKCONFIG): the config is
	# found inside (an LZ4 payload, as in the project's bzImage) and checked.
	local ik=$TEST_TMP/ikconfig-image
	{
		head -c 4096 /dev/zero
		{ head -c 1000 /dev/urandom; printf 'IKCFG_ST'; gzip -9c "$bad/.config"; printf 'IKCFG_ED'; head -c 1000 /dev/urandom; } | lz4 -l -c
	} >"$ik"
	rc=0
	PATH=$stub:$PATH "$VM_RUN" --kernel "$ik" --topology vmxnet3 --dry-run -- true >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
	check_eq "status (IKCONFIG)" 2 "$rc"
	check_eq "first line (IKCONFIG)" "vm-run: error: $ik lacks what the guest needs: CONFIG_9P_FS=m CONFIG_VMXNET3" "$(head -n 1 "$TEST_TMP/bad.err")"
	check_grep "where the config came from" "config read from the config built into $ik \(CONFIG_IKCONFIG\)" "$TEST_TMP/bad.err"
	[ ! -e "$stub/ran" ] || _fail "QEMU was started: $(cat "$stub/ran")"
}

# --- --dry-run, --append, --opt=value ---

test_dry_run_prints_the_qemu_command_line() {
	local stub out rc=0
	stub=$(_stub_qemu)
	out=$(PATH=$stub:$PATH "$VM_RUN" --dry-run --cpus=3 --memory 512 --topology=vmxnet3 --lock bh \
		--append 'foo=bar' --append=baz -- sh -c 'echo hi') || rc=$?
	check_eq "status" 0 "$rc"
	check_eq "one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	[ ! -e "$stub/ran" ] || _fail "--dry-run started QEMU: $(cat "$stub/ran")"
	# It is a valid shell command line: parse it back into words.
	local -a w
	eval "w=($out)"
	check_eq "program" qemu-system-x86_64 "${w[0]}"
	local joined=" ${w[*]} "
	[[ "$joined" == *" -smp 3,sockets=3 "* ]] || _fail "no -smp 3,sockets=3 in: $out"
	[[ "$joined" == *" -m 512 "* ]] || _fail "no -m 512 in: $out"
	[[ "$joined" == *" -kernel $(readlink -f "$ROOT/build/kernel")/arch/x86/boot/bzImage "* ]] ||
		[[ "$joined" == *" -kernel $ROOT/build/kernel/arch/x86/boot/bzImage "* ]] || _fail "not the project kernel: $out"
	[[ "$joined" == *" -device vmxnet3,netdev=n1,mac=52:54:00:f5:00:01 "* ]] || _fail "no vmxnet3 NIC in: $out"
	local i append=
	for i in "${!w[@]}"; do [ "${w[$i]}" = -append ] && append=${w[$((i + 1))]}; done
	[[ "$append" == *" fibstat.topology=vmxnet3 foo=bar baz" ]] || _fail "-append '$append' does not end with the topology and both --append values"
	# FIB_STAT_VM_APPEND still works, as a deprecated alias.
	out=$(FIB_STAT_VM_APPEND=old=1 PATH=$stub:$PATH "$VM_RUN" --dry-run -- true 2>"$TEST_TMP/dry.err")
	eval "w=($out)"
	append=
	for i in "${!w[@]}"; do [ "${w[$i]}" = -append ] && append=${w[$((i + 1))]}; done
	[[ "$append" == *" fibstat.topology=none old=1" ]] || _fail "FIB_STAT_VM_APPEND ignored: -append '$append'"
	check_grep "deprecation note" '^vm-run: FIB_STAT_VM_APPEND is deprecated: use --append$' "$TEST_TMP/dry.err"
	[ ! -e "$stub/ran" ] || _fail "--dry-run started QEMU: $(cat "$stub/ran")"
}

# --- live output, quiet by default ---

test_live_output_before_the_timeout() {
	local out=$TEST_TMP/live.stdout err=$TEST_TMP/live.stderr pid rc=0
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --timeout 40 --log "$TEST_TMP/live.log" -- \
		sh -c 'echo early-line; echo "<4>fibtest: a kernel warning, live" >/dev/kmsg; sleep 600' >"$out" 2>"$err" &
	pid=$!
	# Both arrive while the guest still runs (it only ends when the timeout kills it).
	_wait_for '^early-line$' "$out" 35 "$pid"
	_wait_for 'fibtest: a kernel warning, live$' "$err" 35 "$pid"
	kill -0 "$pid" 2>/dev/null || _fail "vm-run ended before the timeout"
	wait "$pid" || rc=$?
	check_eq "status of the hung guest" 124 "$rc"
	check_eq "stdout: COMMAND's output, nothing else" "early-line" "$(cat "$out")"
	check_grep "a failure prints the kernel log" '^----- guest kernel log -----$' "$err"
	check_grep "and says why it ended" '^vm-run: guest timed out after 40s and was killed$' "$err"
	check_grep "--log has COMMAND's output" '^early-line$' "$TEST_TMP/live.log"
}

test_quiet_unless_failed_or_reported() {
	local o=$TEST_TMP/quiet.out
	vm "$o" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "nothing printed for a clean 'true'" "" "$(cat "$o.tty")"
	check_grep "--log still has the kernel log" '^----- guest kernel log -----$' "$o"
	check_grep "--log still has debug_locks" '^guest debug_locks: +1$' "$o"
	# A failed COMMAND: the kernel log and the summary, on stderr.
	vm_rc=0
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" -- sh -c 'echo out; exit 3' >"$o.stdout" 2>"$o.stderr" || vm_rc=$?
	check_eq "status" 3 "$vm_rc"
	check_eq "stdout" out "$(cat "$o.stdout")"
	check_grep "kernel log printed" '^\[ *0\.0+\] Linux version ' "$o.stderr"
	check_grep "summary printed" '^guest debug_locks: +1$' "$o.stderr"
	# A kernel report in the log, COMMAND fine: printed too.
	vm "$o" -- sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at fake.c:1 fake_report+0x0/0x10" >/dev/kmsg'
	check_eq "status" 0 "$vm_rc"
	check_grep "report in the log: kernel log printed" '^----- guest kernel log -----$' "$o.tty"
	# --verbose: the console as it happens (every level) and the summary.
	vm "$o" --verbose -- true
	check_eq "status" 0 "$vm_rc"
	check_grep "--verbose: the boot console" '^\[ *0\.0+\] Linux version ' "$o.tty"
	check_grep "--verbose: info-level messages too" 'Run /init as init process' "$o.tty"
	check_grep "--verbose: summary" '^guest debug_locks: +1$' "$o.tty"
}

test_temp_dirs_removed() {
	local t=$TEST_TMP/tmpdir
	mkdir -p "$t"
	TMPDIR=$t vm "$TEST_TMP/tmp.out" -- true
	check_eq "vm-run status" 0 "$vm_rc"
	check_eq "vm-run left nothing in TMPDIR" "" "$(ls -A "$t")"
	TMPDIR=$t vm "$TEST_TMP/tmp.out" -- false
	check_eq "vm-run status" 1 "$vm_rc"
	check_eq "nor after a failure (the record is in --log)" "" "$(ls -A "$t")"
}

# --- interactive shell on a pseudo-terminal ---

test_interactive_shell_on_a_pty() {
	local d ts=$TEST_TMP/typescript fifo=$TEST_TMP/pty.in pid rc=0
	d=$(_my_modules)
	rm -f "$ts" "$fifo"
	mkfifo "$fifo"
	# script(1) gives vm-run a pseudo-terminal; we type into it through the FIFO.
	script -qfec "$(printf '%q ' "$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --topology veth --module "$d/mymod.ko" --log "$TEST_TMP/pty.log"); echo \"vm-run exit \$?\"" \
		"$ts" <"$fifo" >/dev/null 2>&1 &
	pid=$!
	exec 3>"$fifo"
	_wait_for 'fib-stat-guest:/share# ' "$ts" 90 "$pid"
	printf 'echo MARK-$((6*7)); /usr/sbin/ip -n ns1 -br addr show fs0; grep -c "^mymod " /proc/modules; tty\n' >&3
	_wait_for '^MARK-42' "$ts" 30 "$pid"
	_wait_for '^/dev/ttyS0' "$ts" 30 "$pid"
	printf 'exit 7\n' >&3
	_wait_for '^vm-run exit 7' "$ts" 60
	exec 3>&-
	wait "$pid" || rc=$?
	tr -d '\r' <"$ts" >"$ts.txt"
	check_grep "the shell ran the typed command" '^MARK-42$' "$ts.txt"
	check_grep "topology up" '^fs0@[a-z0-9]+ +UP +198\.51\.100\.1/24' "$ts.txt"
	check_grep "module loaded" '^1$' "$ts.txt"
	check_grep "a real terminal: the console" '^/dev/ttyS0$' "$ts.txt"
	check_grep "leaving the shell shut the guest down: its status came back" '^vm-run exit 7$' "$ts.txt"
	check_no_grep "no timeout, no crash" 'timed out|panicked|died before' "$ts.txt"
	check_grep "--log has the session" '^MARK-42$' "$TEST_TMP/pty.log"
	check_grep "--log has the kernel log" '^----- guest kernel log -----$' "$TEST_TMP/pty.log"
}

# --- gdb ---

test_gdb_attaches_reads_symbols_and_continues() {
	command -v gdb >/dev/null || skip "gdb not installed (scripts/setup installs it)"
	local d port share=$TEST_TMP/gdbshare out=$TEST_TMP/gdb.stdout err=$TEST_TMP/gdb.stderr pid rc=0
	local vmlinux=$ROOT/build/kernel/vmlinux
	[ "$FIB_STAT_FLAVOR" = default ] || vmlinux=$ROOT/build/kernel-$FIB_STAT_FLAVOR/vmlinux
	d=$(_my_modules)
	mkdir -p "$share"
	rm -f "$share/go"
	port=$((20000 + RANDOM % 20000))
	"$VM_RUN" --flavor "$FIB_STAT_FLAVOR" --gdb="$port" --module "$d/mymod.ko" --share "$share" -- \
		sh -c 'echo waiting; while [ ! -e /share/go ]; do sleep 0.2; done; echo done' >"$out" 2>"$err" &
	pid=$!
	_wait_for "target remote :$port" "$err" 30 "$pid"
	# 1: the guest is paused at its first instruction; stop at start_kernel, read
	# a kernel variable through vmlinux's symbols and types, let it run on.
	timeout 120 gdb -batch -nx "$vmlinux" -ex "target remote :$port" -ex 'hbreak start_kernel' -ex continue \
		-ex 'print linux_banner' -ex delete -ex detach >"$TEST_TMP/gdb1.log" 2>&1 || _fail "gdb 1 failed: $(cat "$TEST_TMP/gdb1.log")"
	check_grep "stopped at start_kernel" 'Breakpoint 1, start_kernel \(\)' "$TEST_TMP/gdb1.log"
	check_grep "read linux_banner" '^\$1 = "Linux version 6\.12\.[0-9]+-fib-stat ' "$TEST_TMP/gdb1.log"
	# 2: the module's sections, as vm-run printed them, then one of its variables.
	_wait_for '^waiting$' "$out" 90 "$pid"
	local sym
	sym=$(grep -m1 "^add-symbol-file $d/mymod.ko 0x" "$err") || _fail "no add-symbol-file line for mymod.ko in: $(cat "$err")"
	[[ "$sym" == *" -s .data 0x"* ]] || _fail "no .data address in: $sym"
	timeout 60 gdb -batch -nx "$vmlinux" -ex "target remote :$port" -ex "$sym" -ex 'print/x mymod_magic' \
		-ex 'info line mymod_get_magic' -ex 'print mymod_get_magic' -ex detach >"$TEST_TMP/gdb2.log" 2>&1 ||
		_fail "gdb 2 failed: $(cat "$TEST_TMP/gdb2.log")"
	check_grep "the module's variable read at its section address" '^\$1 = 0x5eed1234$' "$TEST_TMP/gdb2.log"
	check_grep "the module's source lines" '^Line [0-9]+ of ".*mymod\.c" starts at address 0x[0-9a-f]+ <mymod_get_magic' "$TEST_TMP/gdb2.log"
	# mymod_get_magic is the first function of .text (after its kCFI preamble).
	local text fn
	text=${sym#add-symbol-file $d/mymod.ko }
	text=${text%% *}
	fn=$(sed -n 's/^\$2 = {int (void)} \(0x[0-9a-f]*\) <mymod_get_magic>$/\1/p' "$TEST_TMP/gdb2.log")
	[ -n "$fn" ] && [ $((fn - text)) -ge 0 ] && [ $((fn - text)) -lt 64 ] ||
		_fail "mymod_get_magic at '$fn', expected just after .text at $text: $(cat "$TEST_TMP/gdb2.log")"
	touch "$share/go"
	wait "$pid" || rc=$?
	check_eq "vm-run status after gdb detached" 0 "$rc"
	check_eq "COMMAND ran to its end" "waiting done" "$(tr '\n' ' ' <"$out" | sed 's/ $//')"
}

# --- --help everywhere, harmless ---

test_help_everywhere_starts_nothing() {
	local stub=$TEST_TMP/helpstub cmd out rc
	mkdir -p "$stub"
	for t in qemu-system-x86_64 make cargo tar rustc apt-get; do
		printf '#!/bin/sh\necho "%s $*" >>%q/ran\nexit 1\n' "$t" "$stub" >"$stub/$t"
		chmod +x "$stub/$t"
	done
	rm -f "$stub/ran"
	for cmd in scripts/vm-run scripts/repro scripts/test scripts/build-kernel scripts/build-module \
		scripts/build-tool scripts/setup scripts/rust-analyzer scripts/bench-boot tests/run; do
		for h in -h --help; do
			rc=0
			out=$(cd "$ROOT" && PATH=$stub:$PATH "$cmd" "$h" 2>&1) || rc=$?
			check_eq "$cmd $h status" 0 "$rc"
			[[ "$out" == *"${cmd#*/}"* ]] || [[ "$out" == *"usage"* ]] || _fail "$cmd $h printed no help: $out"
			[ "$(printf '%s\n' "$out" | wc -l)" -ge 3 ] || _fail "$cmd $h: help too short: $out"
		done
	done
	[ ! -e "$stub/ran" ] || _fail "--help started something: $(cat "$stub/ran")"
	out=$(cd "$ROOT" && make --no-print-directory help)
	[[ "$out" == *"rust-analyzer"* ]] && [[ "$out" == *"repro"* ]] || _fail "make help: $out"
	# Usage errors: the cause first, on stderr, exit 2.
	for cmd in "scripts/repro --bogus" "tests/run --bogus" "scripts/build-module bogus" "scripts/build-kernel --bogus" \
		"scripts/rust-analyzer --bogus" "scripts/bench-boot --bogus" "scripts/test --flavors"; do
		rc=0
		# shellcheck disable=SC2086 # split the command line on purpose
		(cd "$ROOT" && PATH=$stub:$PATH $cmd) >"$TEST_TMP/ue.out" 2>"$TEST_TMP/ue.err" || rc=$?
		check_eq "$cmd status" 2 "$rc"
		[[ "$(head -n 1 "$TEST_TMP/ue.err")" =~ ^[a-z/-]+:\ error:\  ]] || _fail "$cmd: first stderr line is not the cause: $(head -n 3 "$TEST_TMP/ue.err")"
	done
	[ ! -e "$stub/ran" ] || _fail "a usage error started something: $(cat "$stub/ran")"
}

# --- KTAP ---

test_ktap_from_tests_run() {
	local f=$TEST_TMP/ktap/sample.test.sh t=$TEST_TMP/ktap/tmp rc=0
	mkdir -p "$t"
	cat >"$f" <<-'EOF'
	test_a_passes() { true; }
	test_b_fails() { echo "detail of the failure"; check_eq "answer" 42 41; }
	test_c_skips() { skip "needs a unicorn"; }
	EOF
	(unset HOST_PASSED TEST_FILTER; TMPDIR=$t "$ROOT/tests/run" "$f") >"$TEST_TMP/ktap.out" 2>&1 || rc=$?
	check_eq "status with a failure" 1 "$rc"
	local o=$TEST_TMP/ktap.out
	check_eq "version line" "TAP version 13" "$(sed -n 1p "$o")"
	check_eq "plan" "1..3" "$(sed -n 2p "$o")"
	check_grep "pass" '^ok 1 sample:test_a_passes # time=[0-9.]+s$' "$o"
	check_grep "failure detail before its result" '^# \| +check failed: answer: expected .42., got .41.$' "$o"
	check_grep "fail" '^not ok 2 sample:test_b_fails # time=[0-9.]+s exit=1 log=' "$o"
	check_grep "skip" '^ok 3 sample:test_c_skips # SKIP needs a unicorn$' "$o"
	check_grep "totals" '^# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0$' "$o"
	check_eq "closing line" "1 passed, 1 failed" "$(tail -n 1 "$o")"
	check_eq "logs kept after a failure" 1 "$(find "$t" -mindepth 1 -maxdepth 1 -name 'fib-stat-test.*' | wc -l)"
	check_grep "and named" "^# logs: $t/fib-stat-test\." "$o"
	rm -rf "${t:?}"/*
	(unset HOST_PASSED; TEST_FILTER=test_a TMPDIR=$t "$ROOT/tests/run" "$f") >"$o" 2>&1 || _fail "a passing run failed: $(cat "$o")"
	check_eq "closing line" "1 passed, 0 failed" "$(tail -n 1 "$o")"
	check_eq "temporary directory removed after success" "" "$(ls -A "$t")"
	# The guest scripts' KTAP (tests/guest/common.sh), with the guest's busybox sh.
	rc=0
	(cd "$TEST_TMP" && TMPDIR=$TEST_TMP /bin/busybox sh -c '. '"$ROOT"'/tests/guest/common.sh; ok "one # two"; x=$(ok "in a subshell"); echo "$x"; fail "three"') >"$o" 2>&1 || rc=$?
	check_eq "guest script status" 1 "$rc"
	check_eq "guest KTAP" "TAP version 13|ok 1 one   two|ok 2 in a subshell|not ok 3 three|1..3|# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0" "$(tr '\n' '|' <"$o" | sed 's/|$//')"
}

# --- make module KDIR=..., make tool, make rust-analyzer ---

# _fake_kdir NAME: a kernel "tree" with what build-module checks, copied from the project kernel.
_fake_kdir() {
	local k f p fake=$TEST_TMP/kdir-$1
	k=$(readlink -f "$ROOT/build/kernel")
	rm -rf "$fake"
	mkdir -p "$fake/rust" "$fake/scripts"
	cp "$k/.config" "$k/Module.symvers" "$fake/"
	for f in libcore.rmeta libkernel.rmeta libbindings.rmeta libmacros.so libcompiler_builtins.rmeta; do cp "$k/rust/$f" "$fake/rust/"; done
	cp "$k/scripts/target.json" "$fake/scripts/"
	for p in "$ROOT"/kernel/patches/*.patch; do
		for f in $(sed -n 's|^+++ b/||p' "$p"); do
			mkdir -p "$fake/$(dirname "$f")"
			cp "$k/$f" "$fake/$f"
		done
	done
	echo "$fake"
}

_kdir_refused() { # WHAT KDIR FIRST-LINE-REGEX
	local rc=0
	# (A build directory of its own: a bad KDIR must not touch build/module.)
	(cd "$ROOT" && FIB_STAT_BUILD=$TEST_TMP/kdir-build make --no-print-directory module KDIR="$2") >"$TEST_TMP/kdir.out" 2>"$TEST_TMP/kdir.err" || rc=$?
	[ $rc != 0 ] || _fail "$1: make module KDIR=$2 succeeded"
	[[ "$(head -n 1 "$TEST_TMP/kdir.err")" =~ $3 ]] || _fail "$1: first stderr line: expected /$3/, got: $(head -n 3 "$TEST_TMP/kdir.err")"
	check_no_grep "$1: refused before building" 'module fib_stat\.ko \(LOCK|RUSTC|make -C' "$TEST_TMP/kdir.err"
}

test_make_module_kdir_checks() {
	local f
	mkdir -p "$TEST_TMP/kdir-empty"
	_kdir_refused "not built" "$TEST_TMP/kdir-empty" "^build-module: error: KDIR $TEST_TMP/kdir-empty is not a built kernel tree .*: build it first"
	f=$(_fake_kdir norust)
	sed -i 's/^CONFIG_RUST=y$/# CONFIG_RUST is not set/' "$f/.config"
	_kdir_refused "no Rust" "$f" "^build-module: error: KDIR $f has no Rust support \(CONFIG_RUST is not set\): enable CONFIG_RUST"
	f=$(_fake_kdir normeta)
	rm "$f/rust/libkernel.rmeta" "$f/scripts/target.json"
	_kdir_refused "no Rust metadata" "$f" "^build-module: error: KDIR $f lacks the Rust metadata out-of-tree modules need \(rust/libkernel\.rmeta scripts/target\.json\): distro header packages often omit it"
	f=$(_fake_kdir rustc)
	sed -i 's/^CONFIG_RUSTC_VERSION_TEXT=.*/CONFIG_RUSTC_VERSION_TEXT="rustc 1.78.0 (9b00956e5 2024-04-29)"/' "$f/.config"
	_kdir_refused "another rustc" "$f" "^build-module: error: KDIR $f was built with 'rustc 1\.78\.0 \(9b00956e5 2024-04-29\)' but rustc here is 'rustc [0-9.]+ .*': .*rustup override set 1\.78\.0"
	f=$(_fake_kdir unpatched)
	local p
	for p in $(ls -r "$ROOT"/kernel/patches/*.patch); do patch -d "$f" -p1 -R -s <"$p" || _fail "cannot unpatch the fake tree"; done
	_kdir_refused "no project patches" "$f" "^build-module: error: KDIR $f lacks the project's kernel patches \(0001-.*\): apply kernel/patches/\*\.patch"
	f=$(_fake_kdir stale)
	sed -i '/\trust_helper_spin_lock_bh\t/d' "$f/Module.symvers"
	_kdir_refused "patched, not rebuilt" "$f" "^build-module: error: KDIR $f has the project's patches but was not rebuilt with them \(rust_helper_spin_lock_bh not in Module\.symvers\)"
	# The fake tree with nothing wrong passes the checks (and only then fails in kbuild).
	f=$(_fake_kdir good)
	(cd "$ROOT" && FIB_STAT_BUILD=$TEST_TMP/kdir-build make --no-print-directory module KDIR="$f") >"$TEST_TMP/kdir.out" 2>"$TEST_TMP/kdir.err" && _fail "a fake tree built a module?"
	check_grep "a good tree gets to kbuild" 'module fib_stat\.ko \(LOCK=bh' "$TEST_TMP/kdir.err"
}

test_make_tool_needs_no_setup() {
	local out
	out=$(cd "$ROOT" && make -n --no-print-directory tool)
	check_eq "make tool runs build-tool only" "scripts/build-tool" "$out"
	(cd "$ROOT" && make --no-print-directory tool) >"$TEST_TMP/tool.log" 2>&1 || _fail "make tool: $(cat "$TEST_TMP/tool.log")"
	# The documented 'cargo install --path tools/fibstat' (here into a scratch root,
	# sharing build-tool's target directory and flags so nothing is rebuilt).
	CARGO_TARGET_DIR=$ROOT/build/cargo RUSTFLAGS="-C target-feature=+crt-static" cargo install --locked --offline \
		--target x86_64-unknown-linux-gnu --path "$ROOT/tools/fibstat" --root "$TEST_TMP/cargo-root" >"$TEST_TMP/install.log" 2>&1 ||
		_fail "cargo install --path tools/fibstat: $(tail -n 20 "$TEST_TMP/install.log")"
	"$TEST_TMP/cargo-root/bin/fibstat" --help >"$TEST_TMP/fibstat-help" 2>&1 || _fail "installed fibstat --help failed"
	check_grep "installed fibstat runs" 'explain' "$TEST_TMP/fibstat-help"
}

test_rust_analyzer_project() {
	command -v python3 >/dev/null || skip "python3 not installed (scripts/setup installs it)"
	local j=$TEST_TMP/rust-project.json
	"$ROOT/scripts/rust-analyzer" --lock spin --out "$j" >"$TEST_TMP/ra.log" 2>&1 || _fail "rust-analyzer: $(cat "$TEST_TMP/ra.log")"
	python3 - "$j" "$ROOT" >"$TEST_TMP/ra.check" 2>&1 <<-'EOF' || _fail "rust-project.json: $(cat "$TEST_TMP/ra.check")"
	import json, sys, os
	p = json.load(open(sys.argv[1])); root = sys.argv[2]
	crates = p["crates"]
	mods = [c for c in crates if c["root_module"] == root + "/fib_stat.rs"]
	assert len(mods) == 1, "module crate: %r" % [c["root_module"] for c in crates]
	m = mods[0]
	assert "CONFIG_FIB_STAT_LOCK_SPIN" in m["cfg"], m["cfg"]
	assert "CONFIG_FIB_STAT_LOCK_BH" not in m["cfg"], m["cfg"]
	deps = {d["name"]: crates[d["crate"]] for d in m["deps"]}
	assert "kernel" in deps and os.path.exists(deps["kernel"]["root_module"]), deps
	assert not any("/build/" in c["root_module"] and c["root_module"].startswith(root) for c in crates), "crate in build/"
	assert os.path.isdir(p["sysroot"]), p["sysroot"]
	print("ok")
	EOF
	(cd "$ROOT" && git check-ignore -q rust-project.json) || _fail "rust-project.json is not git-ignored"
	check_eq "make rust-analyzer LOCK=spin" "scripts/rust-analyzer --lock spin" "$(cd "$ROOT" && make -n --no-print-directory rust-analyzer LOCK=spin KDIR= 2>&1 | grep rust-analyzer | sed 's/ *$//')"
}

