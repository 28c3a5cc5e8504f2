#!/usr/bin/env python3
# The lock matrix's verdict (scripts/matrix): reads the cells (ID|MODULE|STEPS|EXPECTED
# lines) on stdin, each cell's guest log DIR/ID.log through `fibstat explain --json`,
# writes DIR/report.txt and DIR/report.json (schema: README, "The lock matrix").
# Exit status 0 iff every cell matched its expectation.
import json, re, subprocess, sys

flavor, out, fibstat = sys.argv[1], sys.argv[2], sys.argv[3]
cells = [l.rstrip("\n").split("|") for l in sys.stdin if l.strip()]


def observe(cid, steps, want):
    log = f"{out}/{cid}.log"
    try:
        status = open(log + ".status").read().strip()
    except OSError:
        status = "missing"
    o = {"guest_exit": None, "verdict": None, "kind": None, "title": None,
         "transition": None, "caller": None, "usage": None, "order_held": None,
         "hardirq_ticks": None, "neigh_updates": None, "gateway_records": None, "build": None}
    if want == "refused: build":
        o["build"] = status
        o["verdict"] = "refused: build" if status == "refused" else "built"
        try:
            o["title"] = open(log).read().strip() or None
        except OSError:
            pass
        return o
    o["guest_exit"] = int(status) if status.lstrip("-").isdigit() else status
    try:
        text = open(log, errors="replace").read()
    except OSError:
        o["verdict"] = "no log"
        return o
    usage = re.findall(r"^lockdep after (\w+): .*?(\S+): fib_stat\.(?:lock|percpu)$", text, re.M)
    o["usage"] = usage[-1][1] if usage else None
    if "order broken" in text:
        o["order_held"] = False
    elif "order held" in text:
        o["order_held"] = True
    m = re.search(r"^=== fibstat show\n(\{.*\})$", text, re.M)
    if m:
        try:
            st = json.loads(m.group(1))
            o["hardirq_ticks"], o["neigh_updates"] = st.get("hardirq_ticks"), st.get("neigh_updates")
            o["gateway_records"] = st.get("gateway_records")
        except ValueError:
            pass
    r = subprocess.run([fibstat, "explain", "--json", log], capture_output=True, text=True)
    try:
        reports = json.loads(r.stdout)["reports"]
    except (ValueError, KeyError):
        o["verdict"] = f"explain failed: {r.stderr.strip()[:200]}"
        return o
    if not reports:
        o["verdict"] = "clean"
        return o
    rep = reports[0]
    o["kind"], o["title"] = rep.get("kind"), rep.get("title")
    t = rep.get("transition")
    m = re.search(r" in (\S+)$", o["title"] or "")
    o["caller"] = m.group(1) if m else rep.get("current_caller")
    if t:
        o["transition"] = {"from": t["from"], "to": t["to"]}
        o["verdict"] = f"{t['from']} -> {t['to']} in {o['caller']}"
    else:
        o["verdict"] = f"{o['kind']}: {o['title']}"
    if len(reports) > 1:
        o["verdict"] += f" (+{len(reports) - 1} more report(s))"
    return o


rows, js, failed = [], [], 0
for cid, mod, steps, want in cells:
    o = observe(cid, steps, want)
    ok = o["verdict"] == want and o["order_held"] is not False
    if want != "refused: build" and "hardirq" in steps.split(",") and not o["hardirq_ticks"]:
        ok = False  # the hard interrupt context did not run
    failed += not ok
    mode, _, sirq = mod.partition("-")
    js.append({"id": cid, "flavor": flavor, "mode": mode,
               "softirq_lock": "irqsave" if sirq else mode,
               "contexts": sorted(steps.split(","), key=["process", "softirq", "hardirq"].index),
               "order": steps.split(","), "expected": want, "observed": o, "match": ok})
    rows.append((cid, flavor, mod, steps, want, o["verdict"] or "?", o["usage"] or "-",
                 "yes" if ok else "NO"))
hdr = ("cell", "flavor", "module", "order", "expected", "observed", "usage", "match")
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
with open(f"{out}/report.txt", "w") as f:
    for r in [hdr] + rows:
        f.write("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip() + "\n")
    f.write(f"# {len(rows) - failed} of {len(rows)} cells matched their expectation\n")
with open(f"{out}/report.json", "w") as f:
    json.dump({"schema_version": 1, "flavor": flavor, "cells": js,
               "matched": len(rows) - failed, "total": len(rows)}, f, indent=2)
    f.write("\n")
sys.stdout.write(open(f"{out}/report.txt").read())
sys.exit(1 if failed else 0)
