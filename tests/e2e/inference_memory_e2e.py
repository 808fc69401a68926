#!/usr/bin/env python3
"""End-to-end test: a model too large for the worker is refused up front, saying why.

Why this file exists: on the CPU plugin the model's weights live in the worker's own memory, beside the
FP64 host reference. llm-8b on this 23.5 GiB machine used to pass the device-memory check (90% of the
host's RAM), grow the worker past its limit (half the RAM) while uploading, and end `failed` as "a leak
or an unbounded allocation". Now the worker knows its limit (CMETER_WORKER_MEMORY_LIMIT_BYTES, set by the
worker host) and the case ends `unsupported` before any weight is made. llm-1b on cpu:0 under two limits:
2000 MiB (the model alone does not fit the device budget, which names the worker's limit) and 4000 MiB
(the model fits, but not with the reference beside it).
Usage: inference_memory_e2e.py CMETER SOURCE_DIR
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

CMETER, SOURCE = sys.argv[1:3]
PROFILE = os.path.join(SOURCE, "tests", "fixtures", "profiles", "llm_1b_offline.yaml")


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)


def run(limit_mib):
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        proc = subprocess.run([CMETER, "run", "--profile", PROFILE, "--device", "cpu:0", "-o", out, "-q",
                               "--worker-memory-limit", str(limit_mib)],
                              capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - start
        reports = glob.glob(os.path.join(out, "*", "report.json"))
        check(reports, f"limit {limit_mib} MiB: a report (exit {proc.returncode}): {proc.stderr[-2000:]}")
        results = json.load(open(reports[0]))["results"]
        check(len(results) == 1, f"limit {limit_mib} MiB: one result, got {len(results)}")
        return results[0], elapsed


def main():
    small, t_small = run(2000)
    check(small["status"] == "unsupported", f"2000 MiB: unsupported, got {small['status']}: {small.get('reason')}")
    check("device memory" in small["reason"] and "worker's memory limit" in small["reason"],
          f"2000 MiB: the reason names the device budget and the worker's limit: {small['reason']}")
    medium, t_medium = run(4000)
    check(medium["status"] == "unsupported", f"4000 MiB: unsupported, got {medium['status']}: {medium.get('reason')}")
    check("in this worker" in medium["reason"] and "FP64 host reference" in medium["reason"],
          f"4000 MiB: the reason names the worker's share and the reference: {medium['reason']}")
    # Refused before the weights (1.2B values take ~15 s to make here): well under that.
    check(t_small < 12 and t_medium < 12, f"refused up front: {t_small:.1f} s and {t_medium:.1f} s")
    print(f"inference memory: 2000 MiB refused ({small['reason']}); 4000 MiB refused ({medium['reason']})")


main()
