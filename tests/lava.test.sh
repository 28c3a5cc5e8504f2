# shellcheck shell=bash
# The repro scenarios as LAVA jobs (make lava-jobs, scripts/lava), run by the
# real LAVA dispatcher (lava-run, Debian's lava-dispatcher 2023.01) with no
# server: the jobs pass LAVA's own validation, and every case's result agrees
# with make repro's verdict (report.json), case by case. Needs lava-dispatcher
# (scripts/setup-lava, make setup-lava: not part of scripts/setup).

lava_installed() {
	{ command -v lava-run >/dev/null && [ -d /usr/lib/python3/dist-packages/lava_common ]; } ||
		skip "lava-dispatcher is not installed (scripts/setup-lava installs it)"
}

# LAVA's validation of every job of this flavor: the job schema (strict, as the
# server checks a submission) and the dispatcher's own (lava-run --validate).
test_lava_jobs_validate() {
	lava_installed
	local out=$TEST_TMP/lava-validate j n=0
	"$ROOT/scripts/lava" jobs --flavors "$FIB_STAT_FLAVOR" >"$out.txt" 2>&1 || { cat "$out.txt" >&2; _fail "scripts/lava jobs failed"; }
	mkdir -p "$out"
	for j in "$ROOT/build/lava/jobs/$FIB_STAT_FLAVOR"-*.yaml; do
		n=$((n + 1))
		/usr/bin/python3 -c 'import sys, yaml; from lava_common.schemas import validate
validate(yaml.safe_load(open(sys.argv[1])), strict=True, extra_context_variables=[])' "$j" ||
			_fail "LAVA's job schema refuses $j"
		/usr/bin/python3 "$ROOT/lava/lavatool.py" device "$j" "$out/device.yaml"
		lava-run --validate --job-id validate --output-dir "$out/tmp" --device "$out/device.yaml" "$j" >"$out/validate.log" 2>&1 ||
			{ cat "$out/validate.log" >&2; _fail "lava-run --validate refuses $j"; }
		check_grep "lava-run --validate of $j" '"case": "validate", "definition": "lava", "result": "pass"' "$out/validate.log"
	done
	check_eq "jobs of flavor $FIB_STAT_FLAVOR (3 lock modes x 3 scenarios)" 9 "$n"
}

# make lava's cases against make repro's verdict: same runs, same results.
test_lava_agrees_with_repro() {
	lava_installed
	local repro=$TEST_TMP/repro lava=$TEST_TMP/lava rc=0
	"$ROOT/scripts/repro" --out "$repro" >"$repro.txt" 2>&1 || rc=$?
	check_eq "scripts/repro exit status" 0 "$rc"
	"$ROOT/scripts/lava" jobs --flavors "$FIB_STAT_FLAVOR" >"$lava.jobs.txt" 2>&1 || { cat "$lava.jobs.txt" >&2; _fail "scripts/lava jobs failed"; }
	rc=0
	"$ROOT/scripts/lava" run --flavor "$FIB_STAT_FLAVOR" --out "$lava" >"$lava.txt" 2>&1 || rc=$?
	grep -vE '^ {1,}[^ ]|^$' "$lava.txt" | head -n 40
	check_eq "scripts/lava run exit status" 0 "$rc"
	# make repro's verdict, one "MODE-SCENARIO pass|fail" line per run.
	local want got
	want=$(/usr/bin/python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["runs"]:
    print("%s-%s %s" % (r["mode"], r["scenario"], "pass" if r["passed"] else "fail"))' "$repro/report.json" | sort)
	# LAVA's: the case named MODE-SCENARIO of every job.
	got=$(awk '$2 !~ /-(load|script|ktap-[0-9]+)$/ && $2 != "lava-job" { print $2, $3 }' "$lava/results.txt" | sort)
	check_eq "runs in make repro's report.json" 9 "$(echo "$want" | wc -l)"
	check_eq "LAVA cases agree with make repro's verdict, case by case" "$want" "$got"
	check_eq "every LAVA job completed" 9 "$(grep -c ' lava-job pass$' "$lava/results.txt")"
	# make repro's judge on the logs the LAVA guests printed: the same verdict.
	check_grep "verdict on the LAVA logs" '^  "passed": true,' "$lava/report.json"
}
