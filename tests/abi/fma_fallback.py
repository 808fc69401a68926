#!/usr/bin/env python3
"""fma_peak on a plugin older than ABI 1.3 (the stub built against the frozen 1.0 header, which knows
no item_dx/item_period): the core must still measure and validate it, with identical items, and say
so in the validation method, so a reader knows the per-item check was not possible
(core/workloads/fma_peak.cpp; docs/measurement.md, "Timed work proven done").
Usage: fma_fallback.py <cmeter> <libcmeter-abi10.so>"""
import json
import os
import subprocess
import sys
import tempfile

CMETER, PLUGIN = sys.argv[1], sys.argv[2]

PROFILE = """schema: 1
name: fma-fallback
version: 1.0.0
stats: {min_s: 0.05, max_s: 0.3, timeout_s: 60}
cases:
  - id: fma_peak
    workload: fma_peak
    params: {items: 4096, iters: 256, lanes: 8, dtype: f32}
"""


def main():
    with tempfile.TemporaryDirectory() as tmp:
        profile = os.path.join(tmp, "fma.yaml")
        with open(profile, "w") as f:
            f.write(PROFILE)
        out = os.path.join(tmp, "out")
        proc = subprocess.run([CMETER, "run", "--plugin", PLUGIN, "--device", "abi10:0", "--profile", profile,
                               "-o", out], capture_output=True, text=True, timeout=300)
        runs = os.listdir(out) if os.path.isdir(out) else []
        if len(runs) != 1:
            sys.exit(f"FAIL: no run directory (exit {proc.returncode}): {proc.stderr[-2000:]}")
        with open(os.path.join(out, runs[0], "report.json")) as f:
            report = json.load(f)
    r = report["results"][0]
    method = (r.get("validation") or {}).get("method", "")
    print(r["case_id"], r["status"], r["reason"], "|", method)
    problems = []
    if r["status"] not in ("ok", "noisy"):
        problems.append(f"status {r['status']} ({r['reason']}): an older plugin must still be measured")
    if not (r.get("validation") or {}).get("passed"):
        problems.append("not validated")
    if "items identical: the plugin refused item_dx/item_period (ABI 1.3)" not in method:
        problems.append("the validation method does not say the items were identical")
    if "item_dx" in r["params"] or "item_period" in r["params"]:
        problems.append(f"the recorded params carry keys the plugin refused: {r['params']}")
    if problems:
        sys.exit("FAIL: " + "; ".join(problems))
    print("PASS")


main()
