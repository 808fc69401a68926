#!/usr/bin/env python3
"""Certification verdicts end to end (the real cmeter binary): the cert-cpu fixture on cpu:0 PASSes
(exit 0) with the criterion's measured value, CI and required value in the report; on the stub plugin,
whose plain loops fall far short of its declared 1e12 FLOP/s, it FAILs (exit 1) naming the criterion,
the measured value and its CI. Also: every device records which declared spec it was held against
(declared.used), and CPU cases say where their energy came from or that there is no energy source.
usage: cert_e2e.py CMETER TEST_PLUGIN_DIR SOURCE_DIR"""
import glob
import json
import os
import subprocess
import sys
import tempfile

CMETER, TEST_PLUGINS, SOURCE = sys.argv[1:4]
PROFILE = os.path.join(SOURCE, "tests", "fixtures", "cert-cpu.yaml")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(args, out):
    proc = subprocess.run([CMETER, "run", "--profile", PROFILE, "-o", out, "-q"] + args, capture_output=True,
                          text=True, timeout=300)
    reports = glob.glob(os.path.join(out, "*", "report.json"))
    report = json.load(open(reports[0])) if reports else None
    return proc, report


with tempfile.TemporaryDirectory() as tmp:
    lib = os.path.dirname(TEST_PLUGINS)
    cpu = ["--plugin", os.path.join(lib, "plugins", "libcmeter-cpu.so"), "--device", "cpu:0"]
    proc, report = run(cpu, os.path.join(tmp, "cpu"))
    check(proc.returncode == 0, f"cpu:0 cert-cpu exits 0 (got {proc.returncode}: {proc.stderr[-300:]})")
    if report:
        c = report["criteria"][0]
        check(report["verdict"] == "PASS" and c["verdict"] == "PASS", f"cpu:0 PASS: {c['reason']}")
        check(c["measured_ci_low"] is not None and c["measured_ci_low"] >= c["required"],
              "PASS only with the CI's low end above the required value")
        dev = report["devices"][0]["attributes"]
        check(dev.get("declared.used") in ("none", "plugin"), f"cpu:0 declared.used recorded: {dev.get('declared.used')}")
        tel = report["results"][0]["telemetry"]
        check(tel is not None and (tel.get("energy_source", "").startswith("rapl") or
                                   "no energy source" in tel.get("reason", "")),
              f"cpu:0 energy source said: {json.dumps(tel)[:200]}")

    stub = ["--plugin", os.path.join(TEST_PLUGINS, "libcmeter-stub.so"), "--device", "stub:0"]
    proc, report = run(stub, os.path.join(tmp, "stub"))
    check(proc.returncode == 1, f"stub cert-cpu exits 1 (got {proc.returncode}: {proc.stderr[-300:]})")
    if report:
        c = report["criteria"][0]
        check(report["verdict"] == "FAIL" and c["verdict"] == "FAIL" and c["id"] == "fp32-gemm-vs-declared",
              f"stub FAIL names the criterion: {c['id']}: {c['reason']}")
        check("measured" in c["reason"] and "95% CI" in c["reason"] and "peak.flops.f32" in c["reason"],
              "the FAIL reason gives the measured value, its CI and the threshold")

    # --declared: an unknown SKU is a usage error naming the known ones.
    proc = subprocess.run([CMETER, "run", "--profile", PROFILE, "-o", os.path.join(tmp, "x"), "-q", "--declared",
                           "No Such Board"] + cpu, capture_output=True, text=True, timeout=120)
    check(proc.returncode == 2 and "NVIDIA H100 SXM5 80GB" in proc.stderr,
          f"--declared unknown SKU: exit 2 listing SKUs ({proc.returncode})")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
