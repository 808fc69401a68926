#!/usr/bin/env python3
"""Certification end to end (the real cmeter binary). `cmeter certify` runs the cert-cpu fixture on
cpu:0: PASS (exit 0), a signed certificate (json, md, html) whose criterion carries the measured value,
CI and required value; `cmeter report verify CERT --evidence REPORT` passes, and fails (exit 1) after one
flipped byte of the certificate or of the evidence. The stub plugin held against the H100 SXM5 entry
(--declared) falls far short: certify FAILs (exit 1) naming the criterion, the measured value with its CI
and the threshold, and the certificate names the forced declared entry. Also: devices record which declared spec they were held against (declared.used),
CPU cases say where their energy came from or that there is none, and an unknown --declared SKU is a
usage error listing the known ones.
usage: cert_e2e.py CMETER TEST_PLUGIN_DIR SOURCE_DIR"""
import glob
import json
import os
import shutil
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


def cmeter(args, timeout=300):
    return subprocess.run([CMETER] + args, capture_output=True, text=True, timeout=timeout)


def certify(out, key, run_args):
    proc = cmeter(["certify", "-o", out, "--key", key, "--", "--profile", PROFILE] + run_args)
    reports = glob.glob(os.path.join(out, "evidence", "*", "report.json"))
    cert_path = os.path.join(out, "certificate.json")
    cert = json.load(open(cert_path)) if os.path.exists(cert_path) else None
    return proc, (reports[0] if reports else None), cert


def flipped_copy(path, dest, needle):
    data = bytearray(open(path, "rb").read())
    at = data.find(needle) + len(needle)  # the first digit of that value: still valid JSON, another number
    assert chr(data[at]).isdigit(), (path, needle)
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    open(dest, "wb").write(bytes(data))
    return dest


with tempfile.TemporaryDirectory() as tmp:
    key = os.path.join(tmp, "lab.key")
    check(cmeter(["keygen", "-o", key]).returncode == 0, "keygen")
    trust = ["--pubkey", key + ".pub", "--require-signature"]
    lib = os.path.dirname(TEST_PLUGINS)
    cpu = ["--plugin", os.path.join(lib, "plugins", "libcmeter-cpu.so"), "--device", "cpu:0"]
    out = os.path.join(tmp, "cpu")
    proc, report_path, cert = certify(out, key, cpu)
    check(proc.returncode == 0, f"certify on cpu:0 exits 0 (got {proc.returncode}: {proc.stdout[-300:]} {proc.stderr[-300:]})")
    for ext in ("json", "md", "html"):
        check(os.path.exists(os.path.join(out, "certificate." + ext)), f"certificate.{ext} written")
    if cert and report_path:
        c = cert["criteria"][0]
        check(cert["verdict"] == "PASS" and c["verdict"] == "PASS", f"cpu:0 PASS: {c['reason']}")
        check(c["measured_ci_low"] is not None and c["measured_ci_low"] >= c["required"],
              "PASS only with the CI's low end at or above the required value")
        dev = cert["devices"][0]
        check(dev["plugin"]["file_sha256"] and dev["declared"]["used"] == "plugin",
              f"device: plugin SHA-256 and the declared spec used ({dev['declared']['used']})")
        check("integrity" in cert and "signature" in cert["integrity"], "certificate signed")
        report = json.load(open(report_path))
        tel = report["results"][0]["telemetry"]
        check(tel is not None and (tel.get("energy_source", "").startswith("rapl") or
                                   "no energy source" in tel.get("reason", "")),
              f"cpu:0 energy source said: {json.dumps(tel)[:160]}")
        cert_path = os.path.join(out, "certificate.json")
        ok = cmeter(["report", "verify", cert_path, "--evidence", report_path] + trust)
        check(ok.returncode == 0, f"verify certificate + evidence: exit 0 ({ok.stdout.strip()} {ok.stderr.strip()})")
        bad_cert = flipped_copy(cert_path, os.path.join(tmp, "cert-flipped.json"), b'"measured": ')
        r = cmeter(["report", "verify", bad_cert, "--evidence", report_path] + trust)
        check(r.returncode == 1, f"a flipped byte in the certificate fails verify ({r.returncode}: {r.stderr.strip()[:160]})")
        bad_evidence = flipped_copy(report_path, os.path.join(tmp, "report-flipped.json"), b'"median": ')
        r = cmeter(["report", "verify", cert_path, "--evidence", bad_evidence] + trust)
        check(r.returncode == 1, f"a flipped byte in the evidence fails verify ({r.returncode}: {r.stderr.strip()[:160]})")

    stub = ["--plugin", os.path.join(TEST_PLUGINS, "libcmeter-stub.so"), "--device", "stub:0",
            "--declared", "NVIDIA H100 SXM5 80GB"]
    proc, report_path, cert = certify(os.path.join(tmp, "stub"), key, stub)
    check(proc.returncode == 1, f"certify on stub:0 exits 1 (got {proc.returncode}: {proc.stderr[-300:]})")
    check("FAIL fp32-gemm-vs-declared on stub:0" in proc.stdout, f"the FAIL names the criterion: {proc.stdout.strip()[:300]}")
    if cert:
        c = cert["criteria"][0]
        check(cert["verdict"] == "FAIL" and "95% CI" in c["reason"] and "peak.flops.f32" in c["reason"],
              f"the FAIL gives the measured value, its CI and the threshold: {c['reason']}")
        decl = cert["devices"][0]["declared"]
        check(decl["used"] == "forced" and decl["sku"] == "NVIDIA H100 SXM5 80GB" and "http" in decl["sources"],
              f"the certificate names the declared entry and its sources: {decl['used']} {decl['sku']}")
        check(abs(c["required"] - 0.001 * 67e12) < 1e3, f"required = 0.001 x the entry's f32 peak ({c['required']})")

    proc = cmeter(["run", "--profile", PROFILE, "-o", os.path.join(tmp, "x"), "-q", "--declared", "No Such Board"] + cpu,
                  timeout=120)
    check(proc.returncode == 2 and "NVIDIA H100 SXM5 80GB" in proc.stderr,
          f"--declared unknown SKU: exit 2 listing SKUs ({proc.returncode})")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
