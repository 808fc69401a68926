#!/usr/bin/env python3
"""End-to-end tests of the real cmeter binary (run by ctest, one test name per invocation).

Why this file exists: unit tests check the pieces; these check what a user sees: exit codes, the
report on disk, the journal, error messages naming the file and line, plugin failures as rows.
Usage: cli_e2e.py CMETER TEST_PLUGIN_DIR SOURCE_DIR TEST_NAME
"""
import json
import os
import subprocess
import sys
import tempfile

CMETER, TEST_PLUGINS, SOURCE, NAME = sys.argv[1:5]
FIXTURES = os.path.join(SOURCE, "tests", "fixtures")


def run(args, expect_exit):
    proc = subprocess.run([CMETER] + args, capture_output=True, text=True, timeout=900)
    if proc.returncode != expect_exit:
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        fail(f"cmeter {' '.join(args)}: exit {proc.returncode}, expected {expect_exit}")
    return proc


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def load_single_report(out_dir):
    runs = os.listdir(out_dir)
    check(len(runs) == 1, f"expected one run directory in {out_dir}, found {runs}")
    run_dir = os.path.join(out_dir, runs[0])
    with open(os.path.join(run_dir, "report.json")) as f:
        report = json.load(f)
    with open(os.path.join(run_dir, "journal.jsonl")) as f:
        journal = [json.loads(line) for line in f if line.strip()]
    return report, journal


def result(report, device, case_id):
    for r in report["results"]:
        if r["device"] == device and r["case_id"] == case_id:
            return r
    fail(f"no result for {case_id} on {device}")


def check_report_shape(report, journal):
    check(report["schema"] == "cmeter.report" and report["schema_version"].startswith("1."), "schema header")
    for key in ("tool", "run", "host", "topology", "plugins", "devices", "results", "summary", "integrity"):
        check(key in report, f"report has no '{key}'")
    check(len(report["integrity"]["digest"]) == 64, "integrity digest present")
    check(journal[0]["type"] == "run", "journal starts with the run line")
    check(len(journal) - 1 == len(report["results"]), "journal has one line per result")
    check(len(report["run"]["profile"]["sha256"]) == 64, "profile sha256 recorded")
    for r in report["results"]:
        if r["status"] in ("ok", "noisy"):
            check(r["validation"] is not None and r["validation"]["passed"], f"{r['case_id']}: counted result must be validated")
            check(len(r["samples_s"]) >= 1, f"{r['case_id']}: raw samples kept")
            check(r["method"]["timer"] in ("device", "host"), f"{r['case_id']}: timer recorded")


def test_cpu_quick():
    with tempfile.TemporaryDirectory() as out:
        proc = run(["run", "--profile", "quick", "--device", "cpu:0", "-o", out], expect_exit=0)
        check("Report:" in proc.stdout, "summary names the report path")
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        statuses = {r["case_id"]: r["status"] for r in report["results"]}
        print(json.dumps(statuses, indent=1))
        wanted = ["gemm[dtype=f32]", "gemm[dtype=f16]", "gemm[dtype=bf16]", "fma_peak[dtype=f32]", "fma_peak[dtype=f64]",
                  "stream[kind=copy]", "stream[kind=triad]", "transfer[direction=h2d,memory=pinned]",
                  "transfer[direction=d2h,memory=pageable]", "launch_latency[form=throughput]",
                  "launch_latency[form=round_trip]"]
        for case_id in wanted:
            r = result(report, "cpu:0", case_id)
            # ok is the goal; noisy (the time cap hit on a loaded machine) is still a validated measurement.
            check(r["status"] in ("ok", "noisy"), f"{case_id}: status {r['status']} ({r['reason']})")
        f16 = result(report, "cpu:0", "fma_peak[dtype=f16]")
        check(f16["status"] in ("unsupported", "ok", "noisy"), "f16 fma_peak is unsupported or measured")
        summary = report["summary"]["devices"][0]["metrics"]
        for key in ("fp32_flops_per_s", "fp16_flops_per_s", "mem_triad_bytes_per_s", "launch_latency_s"):
            check(key in summary, f"summary has {key}")
        dev = report["devices"][0]["attributes"]
        check("pci.bus_id" not in dev and "numa.node" in dev, "CPU: no pci.bus_id, a numa.node")
        check(dev["peak.flops.f32"] > 0 and "measured" in dev["peak.source"], "CPU peak computed from a measured clock")


def test_fault_plugins():
    with tempfile.TemporaryDirectory() as out:
        profile = os.path.join(FIXTURES, "profiles", "stub.yaml")
        proc = run(["run", "--plugin-dir", TEST_PLUGINS, "--profile", profile, "-o", out, "-q"], expect_exit=3)
        check("warning: plugin badmajor" in proc.stderr, "load failures are warnings")
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        check(result(report, "wronggemm:0", "gemm")["status"] == "invalid", "wrong GEMM is invalid")
        check(result(report, "toofast:0", "stream")["status"] == "implausible", "too-fast stream is implausible")
        check(result(report, "toofast:0", "gemm")["status"] == "implausible", "too-fast gemm is implausible")
        check(result(report, "stub:0", "gemm")["status"] in ("ok", "noisy"), "the correct stub is measured")
        rows = {p["name"]: p for p in report["plugins"]}
        for name in ("badmajor", "smallapi", "nullinit", "initfails", "nosymbol", "needsmissing", "notaplugin"):
            check(rows[name]["status"] == "failed" and rows[name]["error"], f"plugin row {name} failed with a reason")
        check(report["verdict"] == "INCOMPLETE", "criteria on invalid results are INCOMPLETE")
        summary = {d["device"]: d["metrics"] for d in report["summary"]["devices"]}
        check("fp32_flops_per_s" not in summary["wronggemm:0"], "invalid results never feed the summary")


def test_strict_plugins():
    proc = run(["devices", "--plugin-dir", TEST_PLUGINS, "--strict-plugins"], expect_exit=2)
    check("error: plugin badmajor" in proc.stderr, "strict mode names the failing plugin")
    proc = run(["devices", "--plugin-dir", TEST_PLUGINS], expect_exit=0)
    check("NOT LOADED" in proc.stdout and "stub:0" in proc.stdout, "devices lists failures and devices")


def test_input_errors():
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("schema: 1\nname: bad\nversion: 1.0.0\ncases:\n  - id: g\n    workload: gemm\n    sampels: 3\n")
        proc = run(["run", "--profile", bad, "-o", tmp, "-q"], expect_exit=2)
        check(f"{bad}:7:5" in proc.stderr and "sampels" in proc.stderr, f"profile error names file:line:column: {proc.stderr}")
        proc = run(["run", "--profile", "quick", "--device", "tpu:9", "-o", tmp, "-q"], expect_exit=2)
        check("no device matches" in proc.stderr and "cpu:0" in proc.stderr, "unknown device lists the devices found")
        proc = run(["run", "--profile", "no-such-profile", "-o", tmp, "-q"], expect_exit=2)
        check("no-such-profile" in proc.stderr, "unknown profile named")
        run(["run", "--no-such-flag"], expect_exit=2)
    proc = run(["--version"], expect_exit=0)
    check("plugin ABI 1." in proc.stdout, "version shows the ABI")


def test_topo():
    proc = run(["topo"], expect_exit=0)
    check("Packages" in proc.stdout or "packages" in proc.stdout, "topo prints packages")
    proc = run(["topo", "--json"], expect_exit=0)
    check(json.loads(proc.stdout)["pus"] >= 1, "topo --json")
    xml = os.path.join(FIXTURES, "topologies", "dual-socket-4gpu.xml")
    proc = run(["topo", "--xml", xml, "--json"], expect_exit=0)
    data = json.loads(proc.stdout)
    check(data["packages"] == 2 and len(data["numa_nodes"]) == 2, "2-socket fixture")
    run(["topo", "--xml", "/nonexistent.xml"], expect_exit=2)


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}
if NAME not in TESTS:
    fail(f"unknown test {NAME}; known: {sorted(TESTS)}")
TESTS[NAME]()
print(f"PASS: {NAME}")
