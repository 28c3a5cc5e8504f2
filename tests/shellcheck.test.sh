# shellcheck shell=bash
# Every shell script of the project is shellcheck clean: the bash and sh
# scripts under scripts/ and tests/ (by their #! line or a "# shellcheck
# shell=" directive) and docs/vm-run.bash, at shellcheck's default severity
# (style and up), sourced files followed (-x, paths relative to each script).
# A finding is silenced only in the script, by a "# shellcheck disable=SCxxxx"
# with its one-line reason.
#
# SHELLCHECK_PENDING: scripts not yet clean, each with the exact sorted list
# of the codes it still has (their owners are to fix them and drop the line):
# any other code, or a script that became clean, fails the test.

SHELLCHECK_PENDING=()

# _shell_scripts: the scripts checked, one per line, relative to the root.
_shell_scripts() {
	local f first
	(cd "$ROOT" && find scripts tests -type f | sort) | while IFS= read -r f; do
		IFS= read -r first <"$ROOT/$f" || first=''
		case "$first" in
		'#!'*/sh | '#!'*/bash | '#!'*' sh' | '#!'*' bash' | '# shellcheck shell='*) echo "$f" ;;
		esac
	done
	echo docs/vm-run.bash
}

test_every_shell_script_is_shellcheck_clean() {
	command -v shellcheck >/dev/null || skip "no shellcheck (scripts/setup installs it)"
	local files out=$TEST_TMP/shellcheck.out rc=0 f entry codes
	mapfile -t files < <(_shell_scripts)
	# The list is complete: the scripts of every kind are in it.
	for f in scripts/vm-run scripts/lib.sh scripts/guest-init scripts/guest-net.sh scripts/setup \
		tests/run tests/lib.sh tests/runner.test.sh tests/shellcheck.test.sh tests/guest/common.sh docs/vm-run.bash; do
		[[ " ${files[*]} " == *" $f "* ]] || _fail "$f is not among the scripts checked: ${files[*]}"
	done
	[ ${#files[@]} -ge 40 ] || _fail "only ${#files[@]} scripts found: ${files[*]}"
	echo "    ${#files[@]} scripts"
	(cd "$ROOT" && shellcheck -x -P SCRIPTDIR -f gcc "${files[@]}") >"$out" 2>&1 || rc=$?
	# Each script's codes, as one sorted line: "FILE SCxxxx SCyyyy".
	sed -nE 's/^([^:]+):[0-9]+:[0-9]+: [a-z]+: .*\[(SC[0-9]+)\]$/\1 \2/p' "$out" | sort -u |
		awk '$1 != f { if (f != "") print line; f = $1; line = $1 } { if ($1 == f && line != $1 " " $2) line = line " " $2 } END { if (f != "") print line }' >"$out.codes"
	local wrong=()
	for entry in "${SHELLCHECK_PENDING[@]}"; do
		f=${entry%% *}
		codes=$(grep -E "^$f " "$out.codes" || true)
		[ "$codes" = "$entry" ] || wrong+=("SHELLCHECK_PENDING has '$entry', shellcheck finds '${codes:-$f (clean)}'")
	done
	[ ${#wrong[@]} = 0 ] || _fail "$(printf '%s; ' "${wrong[@]}")"
	grep -vE "^($(printf '%s|' "${SHELLCHECK_PENDING[@]%% *}" | sed 's/|$//')) " "$out.codes" >"$out.new" || true
	if [ -s "$out.new" ]; then
		grep -E "^($(cut -d' ' -f1 "$out.new" | paste -sd'|')):" "$out" >&2 || true
		_fail "shellcheck findings (above): $(tr '\n' ';' <"$out.new")"
	fi
	# Nothing but findings (no file it could not read or parse), and exit 0 or 1.
	grep -vE '^[^:]+:[0-9]+:[0-9]+: [a-z]+: .*\[SC[0-9]+\]$' "$out" >"$out.other" || true
	check_eq "shellcheck output that is not a finding" "" "$(cat "$out.other")"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || _fail "shellcheck exit $rc: $(head -n 5 "$out")"
}
