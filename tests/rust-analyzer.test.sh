# shellcheck shell=bash
# rust-analyzer on the project 'make rust-analyzer' writes (scripts/rust-analyzer):
# 'rust-analyzer diagnostics' reports no error-level diagnostic, in the module's
# files (fib_stat.rs, parse.rs, protocol.rs, rust/kernel/**) for both lock modes
# nor in the kernel's crates, and reports exactly the type errors injected into
# a copy of the module (so the check can go red). One rust-analyzer run: the
# standard library and the kernel crates are loaded once for the three module
# crates (the spin and the broken one on copies of the sources, since
# rust-analyzer checks each file in one crate only).
# shellcheck disable=SC2034 # read by tests/run
TEST_FLAVORS=default

# The type error injected at the end of a file of the copy, and what
# rust-analyzer must say about it.
RA_PROBE='fn ra_probe() -> u32 {
    "not a u32"
}'
RA_PROBE_MESSAGE='Error RustcHardError("E0308") from LineCol { line: %d, col: 4 } to LineCol { line: %d, col: 15 }: expected u32, found &'"'"'static str'

# _module_copy DIR: the module's sources (the files Kbuild builds) copied into DIR.
_module_copy() {
	local files
	mkdir -p "$1"
	mapfile -t files < <(cd "$ROOT" && printf '%s\n' ./*.rs && find rust -name '*.rs')
	(cd "$ROOT" && cp --parents "${files[@]}" "$1/") || _fail "copying the module sources into $1"
}

test_rust_analyzer_diagnostics() {
	command -v python3 >/dev/null || skip "python3 not installed (scripts/setup installs it)"
	rust-analyzer --version >/dev/null 2>&1 || skip "rust-analyzer not installed (scripts/setup: rustup component add rust-analyzer)"
	local d=$TEST_TMP/ra f start secs rc=0
	mkdir -p "$d"
	"$ROOT/scripts/rust-analyzer" --lock bh --out "$d/bh.json" >"$d/gen.log" 2>&1 || _fail "scripts/rust-analyzer --lock bh: $(cat "$d/gen.log")"
	"$ROOT/scripts/rust-analyzer" --lock spin --out "$d/spin.json" >"$d/gen.log" 2>&1 || _fail "scripts/rust-analyzer --lock spin: $(cat "$d/gen.log")"
	_module_copy "$d/spin"
	_module_copy "$d/broken"
	# One error in the crate root, one in a module of rust/kernel/.
	for f in fib_stat.rs rust/kernel/mod.rs; do
		printf '\n%s\n' "$RA_PROBE" >>"$d/broken/$f"
	done
	python3 - "$d" "$ROOT" >"$d/merge.log" 2>&1 <<-'EOF' || _fail "merging the projects: $(cat "$d/merge.log")"
	import json, sys
	d, root = sys.argv[1:]
	bh, spin = (json.load(open("%s/%s.json" % (d, n))) for n in ("bh", "spin"))
	def module(p):
	    [i] = [i for i, c in enumerate(p["crates"]) if c["root_module"] == root + "/fib_stat.rs"]
	    return i
	i = module(bh)
	assert module(spin) == i, "the module crate is not at the same index in both projects"
	# The two projects differ in the module crate's lock cfg only.
	assert [c for c in bh["crates"] if c["display_name"] != "fib_stat"] == [c for c in spin["crates"] if c["display_name"] != "fib_stat"]
	assert set(bh["crates"][i]["cfg"]) ^ set(spin["crates"][i]["cfg"]) == {"CONFIG_FIB_STAT_LOCK_BH", "CONFIG_FIB_STAT_LOCK_SPIN"}
	bh["crates"].append(dict(spin["crates"][i], display_name="fib_stat_spin", root_module=d + "/spin/fib_stat.rs"))
	bh["crates"].append(dict(bh["crates"][i], display_name="fib_stat_broken", root_module=d + "/broken/fib_stat.rs"))
	json.dump(bh, open(d + "/rust-project.json", "w"), indent=1)
	EOF
	echo "    rust-analyzer diagnostics (loads the standard library and the kernel crates; a minute on a busy host)"
	start=$(date +%s)
	# Exit status 1 when it reports an error: the broken copy has two.
	rust-analyzer diagnostics "$d" >"$d/diagnostics.raw" 2>"$d/diagnostics.err" || rc=$?
	secs=$(($(date +%s) - start))
	echo "    $secs s, exit $rc"
	# One line per diagnostic, without the progress bar (backspaces) before it.
	tr -d '\b' <"$d/diagnostics.raw" | sed -n 's/^.*\(at crate \)/\1/p' >"$d/diagnostics"
	check_grep "rust-analyzer finished its scan" '^diagnostic scan complete$' <(tr -d '\b' <"$d/diagnostics.raw" | sed 's/^.*processing [^ ]* *//')
	check_eq "rust-analyzer exit status (1: errors, those of the broken copy)" 1 "$rc"
	echo "    diagnostics: $(wc -l <"$d/diagnostics"), of which errors: $(grep -c ': Error ' "$d/diagnostics"); broken copy: $(grep -c '^at crate fib_stat_broken,' "$d/diagnostics")"
	# No error anywhere but in the broken copy (the spin copy's paths shown as ours).
	grep ': Error ' "$d/diagnostics" | grep -v '^at crate fib_stat_broken,' | sed "s|$d/spin/\([^:]*\):|$ROOT/\1 (LOCK=spin):|" >"$d/errors" || true
	if [ -s "$d/errors" ]; then
		sed 's/^/    /' "$d/errors" >&2
		_fail "rust-analyzer reports $(wc -l <"$d/errors") errors (above)"
	fi
	# The files of every module crate were checked: each has its inactive-code hints.
	for f in fib_stat fib_stat_spin; do
		check_grep "$f checked" "^at crate $f, file [^:]*/fib_stat.rs: WeakWarning" "$d/diagnostics"
	done
	# The broken copy: exactly the two injected errors, nothing else at error level.
	# (0-based line of the string: the probe's second line of three, after a blank line)
	local n1 n2
	n1=$(($(wc -l <"$d/broken/fib_stat.rs") - 2)) n2=$(($(wc -l <"$d/broken/rust/kernel/mod.rs") - 2))
	{
		# shellcheck disable=SC2059 # the format is RA_PROBE_MESSAGE's
		printf "at crate fib_stat_broken, file %s: $RA_PROBE_MESSAGE\n" "$d/broken/fib_stat.rs" "$n1" "$n1" "$d/broken/rust/kernel/mod.rs" "$n2" "$n2"
	} | sort >"$d/expected"
	grep '^at crate fib_stat_broken,.*: Error ' "$d/diagnostics" | sort >"$d/got"
	diff -u "$d/expected" "$d/got" >&2 || _fail "the broken copy: not exactly the two injected type errors (diff above)"
}
