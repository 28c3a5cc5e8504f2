# shellcheck shell=bash
# kernel/patches is a series a maintainer could review: the kernel tree's own
# scripts/checkpatch.pl --strict finds nothing in any patch but what its sender
# adds or what only upstream's history can answer, exactly:
#   MISSING_SIGN_OFF     every patch: whoever sends the series signs it;
#   FILE_PATH_CHANGES    patches that add a file under rust/, which the RUST
#                        entry of MAINTAINERS covers (F: rust/);
#   UNKNOWN_COMMIT_ID    backports, which name their upstream commit: a
#                        distro source tree has no upstream history to look it up.
# And no patch leaves a run-time context check or a kernel-internal API behind.

# checkpatch PATCH: "TYPE" lines, one per message, sorted.
checkpatch() {
	# (checkpatch exits 1 when it reports an error: the report is what counts.)
	{ (cd "$ROOT/build/kernel" && GIT_DIR=/nonexistent perl scripts/checkpatch.pl --strict --no-tree --terse --show-types "$1") || true; } |
		sed -n 's/^[^:]*:[0-9]*: \(ERROR\|WARNING\|CHECK\):\([A-Z_]*\):.*/\1:\2/p' | sort
}

test_checkpatch_strict_series() {
	[ -f "$ROOT/build/kernel/scripts/checkpatch.pl" ] || _fail "no kernel tree at build/kernel (make kernel)"
	local p name want got n=0
	for p in "$ROOT"/kernel/patches/*.patch; do
		name=${p##*/}
		want="ERROR:MISSING_SIGN_OFF"
		grep -q '^new file mode' "$p" && want=$(printf '%s\n%s' "$want" "WARNING:FILE_PATH_CHANGES")
		grep -qE '^commit [0-9a-f]{40}$' "$p" && want=$(printf '%s\n%s' "$want" "WARNING:UNKNOWN_COMMIT_ID")
		got=$(checkpatch "$p")
		check_eq "checkpatch --strict on $name" "$(sort <<<"$want")" "$got"
		n=$((n + 1))
	done
	check_eq "patches checked" 9 "$n"
}

test_backports_name_upstream_and_keep_authorship() {
	local p
	for p in "$ROOT"/kernel/patches/*.patch; do
		grep -qE '^commit [0-9a-f]{40}$' "$p" || continue
		# "commit <sha>" then ("<subject>") upstream., and the upstream author in From:.
		check_grep "${p##*/}: upstream subject" '^\("[^"]+"\) upstream\.$' "$p"
		check_no_grep "${p##*/}: authorship" '^From: fib-stat' "$p"
		check_grep "${p##*/}: backport note" '^\[ Backport to 6\.12: ' "$p"
	done
	check_eq "backports" 3 "$(grep -lE '^commit [0-9a-f]{40}$' "$ROOT"/kernel/patches/*.patch | wc -l)"
}

test_no_runtime_context_choice_or_internal_api() {
	check_no_grep "patches' code" '^\+.*(\b_local_bh_enable\(|in_softirq\(|net_generic_rcu)' <(cat "$ROOT"/kernel/patches/*.patch)
	check_no_grep "module sources" '\b(_local_bh_enable|in_softirq|net_generic_rcu)\(' <(cd "$ROOT" && { cat ./*.rs; find rust -name '*.rs' -exec cat {} +; })
	# Helpers are thin: each rust_helper_* body is one statement (or a declaration
	# and a return for local_irq_save-style macros).
	local bodies
	bodies=$(awk '/^\+[a-z].*rust_helper_[a-z_0-9]*\(/ { f = 1; n = 0; name = $0; next } f && /^\+\{/ { next } f && /^\+\}/ { if (n > 1) print name; f = 0; next } f && /^\+\t[^\t]/ { n++ }' "$ROOT"/kernel/patches/*.patch)
	check_eq "helpers with more than one statement" "" "$bodies"
}
