#!/usr/bin/env python3
"""End-to-end test: the inference workload names a subtly wrong op and a missing one.

Why this file exists: issue 12 asks that a plugin with one subtly wrong op (rope rotated one position
too far) ends `invalid` naming that op and the first layer that diverged, and one without `swiglu.v1`
ends `unsupported` naming it. The test proxies of plugins/testing/proxy_plugin.cpp do exactly that over
the real CPU plugin (build/lib/cmeter/proxy-plugins), run with llm-tiny in the three scenarios.
Usage: inference_faults_e2e.py CMETER PROXY_PLUGIN_DIR CPU_PLUGIN SOURCE_DIR
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

CMETER, PROXIES, CPU_PLUGIN, SOURCE = sys.argv[1:5]
PROFILE = os.path.join(SOURCE, "tests", "fixtures", "profiles", "llm_tiny.yaml")


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)


def main():
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, CMETER_PROXY_TARGET=CPU_PLUGIN)
        proc = subprocess.run([CMETER, "run", "--plugin-dir", PROXIES, "--profile", PROFILE, "-o", out, "-q"],
                              capture_output=True, text=True, timeout=600, env=env)
        check(proc.returncode == 3, f"the run is incomplete (exit 3), got {proc.returncode}: {proc.stderr[-2000:]}")
        report = json.load(open(glob.glob(os.path.join(out, "*", "report.json"))[0]))
        results = {(r["device"], r["case_id"]): r for r in report["results"]}
        for scenario in ("offline", "single_stream", "server"):
            case_id = f"llm-tiny[scenario={scenario}]"
            wrong = results.get(("rope_off_by_one:0", case_id))
            check(wrong is not None, f"rope_off_by_one: a result for {case_id}")
            check(wrong["status"] == "invalid" and "layer 0 rope" in wrong["reason"] and "rope.v1" in wrong["reason"],
                  f"rope_off_by_one {case_id}: invalid naming the layer and op: {wrong['status']}: {wrong['reason']}")
            missing = results.get(("no_swiglu:0", case_id))
            check(missing is not None, f"no_swiglu: a result for {case_id}")
            check(missing["status"] == "unsupported" and "swiglu.v1" in missing["reason"],
                  f"no_swiglu {case_id}: unsupported naming swiglu.v1: {missing['status']}: {missing['reason']}")
    print("inference faults: rope_off_by_one invalid at layer 0 rope.v1, no_swiglu unsupported naming swiglu.v1")


main()
