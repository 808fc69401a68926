#!/usr/bin/env python3
"""End-to-end tests of `cmeter plugin check` through the real CLI and its worker processes.

Why this file exists: the conformance checker is the contract vendors adapt against, so what it says
about known-good and known-bad plugins is pinned here: shipped plugins pass `--level full`, and each
fault plugin (plugins/testing) fails exactly the checks its fault should fail, including the process
faults (crash, abort, hang, leak) that only the worker isolation survives.

Usage: plugin_check_e2e.py CMETER BUILD_DIR TEST [PLUGIN [INFERENCE]]
  TEST: shipped PLUGIN [required|optional] | no_device PLUGIN | stub | load_faults | process_faults | leak | inference_proxies TARGET_PLUGIN
  INFERENCE (shipped): `required`: the ABI 1.1 inference ops must be offered and pass; `optional`
  (default): they must pass where offered, and their absence is reported as a skip message.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def run_check(cmeter, plugin, *extra, expect_exit=None, timeout=600):
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "report.json")
        md_path = os.path.join(tmp, "report.md")
        cmd = [cmeter, "plugin", "check", plugin, "--json", json_path, "--md", md_path, "-q", *extra]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        took = time.monotonic() - t0
        if expect_exit is not None and proc.returncode != expect_exit:
            fail(f"{' '.join(cmd)}: exit {proc.returncode}, expected {expect_exit}\n{proc.stdout}\n{proc.stderr}")
        with open(json_path) as f:
            report = json.load(f)
        with open(md_path) as f:
            markdown = f.read()
    check(report["schema"] == "cmeter.conformance/1", "report schema")
    check(report["summary"]["exit_code"] == proc.returncode, "summary exit code matches the process exit code")
    check("**Verdict:" in markdown, "markdown has the verdict")
    print(f"  {os.path.basename(plugin)} {' '.join(extra)}: exit {proc.returncode}, {took:.1f} s, "
          f"{report['summary']}")
    return proc, report


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def failed_ids(report):
    return {c["id"] for c in report["checks"] if c["status"] == "FAIL"}


def by_id(report, check_id):
    for c in report["checks"]:
        if c["id"] == check_id:
            return c
    fail(f"no check {check_id}")


def expect_fails(report, expected, name):
    got = failed_ids(report)
    if got != set(expected):
        details = {c["id"]: c["reason"] for c in report["checks"] if c["status"] == "FAIL"}
        fail(f"{name}: FAIL set {sorted(got)}, expected {sorted(expected)}\n{json.dumps(details, indent=1)}")


# The ABI 1.1 inference checks (core/conformance/checks_inference_ops.cpp; docs/conformance.md).
INFERENCE_OPS = ["rmsnorm", "rope", "softmax", "swiglu", "kv_append", "embedding", "argmax", "eltwise"]
DTYPES = ["f32", "f16", "bf16"]


def inference_ids(ops=INFERENCE_OPS):
    return [f"op.{op}.v1.{dt}" for op in ops for dt in DTYPES]


def test_shipped(cmeter, build, plugin, inference="optional"):
    """A plugin we ship passes --level full (exit 0, no FAIL, nothing unimplemented)."""
    proc, report = run_check(cmeter, plugin, "--level", "full", expect_exit=0)
    check(report["summary"]["fail"] == 0 and report["summary"]["unimplemented"] == 0, "no FAIL, no unimplemented")
    check(by_id(report, "concurrency.two_threads")["status"] == "PASS", "two threads ran")
    check(by_id(report, "lifecycle.no_growth")["status"] == "PASS", "lifecycle ran")
    check(report["run"]["executor"] == "worker", "ran in a worker")
    # The inference op set: where offered, every op in at least one dtype passed (no FAIL is checked above).
    inference_set = by_id(report, "op.inference_set")
    passed = [i for i in inference_ids() if by_id(report, i)["status"] == "PASS"]
    if inference_set["status"] != "PASS":
        check(inference == "optional", f"the inference op set is required: {inference_set['reason']}")
        print(f"  SKIP inference ops: {os.path.basename(plugin)} does not offer them yet ({inference_set['reason']})")
        return
    for op in INFERENCE_OPS:
        check(any(i.startswith(f"op.{op}.v1.") for i in passed), f"{op}.v1 passed in some dtype: {passed}")
    print(f"  inference checks passed: {len(passed)} of {len(inference_ids())} ({', '.join(passed)})")


def test_no_device(cmeter, build, plugin):
    """A GPU plugin on a machine without its GPU or driver (the HIP plugin in CI): it loads, reports zero
    devices with plugin.status saying why, and every device check is blocked, nothing FAILs (exit 3).
    Exits 77 (skipped) where the plugin does find a device."""
    proc, report = run_check(cmeter, plugin, "--level", "quick")
    devices = by_id(report, "plugin.devices")
    if report["plugin"]["device_count"] > 0:
        print(f"SKIP: the plugin finds a device here: {devices['reason']}")
        sys.exit(77)
    check(proc.returncode == 3, f"exit {proc.returncode}, expected 3 (incomplete)\n{proc.stderr}")
    check(report["summary"]["fail"] == 0, "no FAIL")
    check(report["run"]["workers_started"] == 1, "no crash (one worker)")
    for cid in ["load.dlopen", "load.get_api", "abi.version", "plugin.load"]:
        check(by_id(report, cid)["status"] == "PASS", f"{cid}: {by_id(report, cid)['reason']}")
    check(devices["status"] == "SKIP" and devices["skip_kind"] == "not_applicable", f"plugin.devices: {devices}")
    reason = devices["reason"]
    status = report["plugin"]["attributes"].get("plugin.status", "")
    check(len(status) > 10 and status in reason, f"plugin.status gives a reason, shown in plugin.devices: {reason}")
    print(f"  loads with zero devices: {reason}")


def test_inference_proxies(cmeter, build, target):
    """The proxies (plugins/testing/proxy_plugin.cpp) over TARGET (CMETER_PROXY_TARGET): rope off by one
    position fails exactly the rope checks the real plugin passes, naming rope; a withheld swiglu.v1 is
    reported missing."""
    os.environ["CMETER_PROXY_TARGET"] = target
    only = ("--only", "op.inference_set,op.rope.v1.*,op.swiglu.v1.*,op.rmsnorm.v1.*")
    _, real = run_check(cmeter, target, "--level", "full", *only)
    rope_pass = {i for i in inference_ids(["rope"]) if by_id(real, i)["status"] == "PASS"}
    if not rope_pass or by_id(real, "op.inference_set")["status"] != "PASS":
        print(f"SKIP: {os.path.basename(target)} does not offer the inference op set yet; the proxies have nothing "
              "to break")
        sys.exit(77)
    proxies = os.path.join(build, "lib/cmeter/proxy-plugins")
    _, report = run_check(cmeter, os.path.join(proxies, "libcmeter-rope_off_by_one.so"), "--level", "full", *only,
                          expect_exit=1)
    check(report["device"]["id"].startswith("rope_off_by_one:"), f"distinct device id: {report['device']['id']}")
    expect_fails(report, rope_pass, "rope_off_by_one")
    for i in rope_pass:
        reason = by_id(report, i)["reason"]
        check(reason.startswith("rope ") and "NMSE" in reason, f"{i} names rope and the NMSE: {reason}")
    check(by_id(report, "op.swiglu.v1.f32")["status"] == by_id(real, "op.swiglu.v1.f32")["status"], "others as real")
    _, report = run_check(cmeter, os.path.join(proxies, "libcmeter-no_swiglu.so"), "--level", "full", *only,
                          expect_exit=1)
    check(report["device"]["id"].startswith("no_swiglu:"), f"distinct device id: {report['device']['id']}")
    expect_fails(report, {"op.inference_set"}, "no_swiglu")
    reason = by_id(report, "op.inference_set")["reason"]
    check("missing mandatory" in reason and "swiglu.v1" in reason, f"names swiglu.v1 missing: {reason}")
    for i in inference_ids(["swiglu"]):
        check(by_id(report, i)["skip_kind"] == "not_applicable", f"{i} skipped as not offered")


def test_stub(cmeter, build):
    plugin = os.path.join(build, "lib/cmeter/test-plugins/libcmeter-stub.so")
    test_shipped(cmeter, build, plugin)
    # Terminal output names every check; the worker count is one when nothing crashed.
    proc, report = run_check(cmeter, plugin, "--only", "op.copy.v1", expect_exit=0)
    check(report["run"]["workers_started"] == 1, "one worker")
    check(by_id(report, "memory.round_trip")["skip_kind"] == "not_selected", "--only leaves others out")
    # Usage errors: exit 2.
    bad = subprocess.run([cmeter, "plugin", "check", "/nonexistent/libcmeter-x.so"], capture_output=True, text=True)
    check(bad.returncode == 2 and "no such file" in bad.stderr, f"missing file is a usage error: {bad.stderr}")
    bad = subprocess.run([cmeter, "plugin", "check", plugin, "--level", "slow"], capture_output=True, text=True)
    check(bad.returncode == 2, "bad level is a usage error")


LOAD_FAULTS = {
    "wronggemm": {"op.gemm.v1.f32", "op.gemm.v1.f64", "op.gemm.v1.offsets"},
    "toofast": {"events.host_agreement"},
    "badmajor": {"abi.version"},
    "smallapi": {"abi.table_size"},
    "nullinit": {"load.get_api"},
    "initfails": {"plugin.load"},
    "nosymbol": {"load.dlopen"},
    "needsmissing": {"load.dlopen"},
    "notaplugin": {"load.dlopen"},
}


def test_load_faults(cmeter, build):
    for name, expected in LOAD_FAULTS.items():
        _, report = run_check(cmeter, os.path.join(build, f"lib/cmeter/test-plugins/libcmeter-{name}.so"),
                              expect_exit=1)
        expect_fails(report, expected, name)


# Every check that launches an op (the crash/abort/hang variants fault in op_enqueue).
LAUNCHING = {"errors.op_handles", "events.host_agreement", "op.gemm.v1.f32", "op.gemm.v1.f64", "op.gemm.v1.offsets",
             "op.fma_peak.v1.f32", "op.fma_peak.v1.f64", "op.stream.v1.f32", "op.stream.v1.f64", "op.copy.v1",
             "op.noop.v1"}


def test_process_faults(cmeter, build):
    faults = os.path.join(build, "lib/cmeter/fault-plugins")
    lib = lambda name: os.path.join(faults, f"libcmeter-{name}.so")
    # A crash while loading fails plugin.load with the signal and blocks the rest.
    _, report = run_check(cmeter, lib("crashinit"), expect_exit=1)
    expect_fails(report, {"plugin.load"}, "crashinit")
    check("SIGSEGV" in by_id(report, "plugin.load")["reason"], "crashinit names the signal")
    check(by_id(report, "memory.round_trip")["skip_kind"] == "blocked", "crashinit blocks the rest")
    # A crash in every launch fails exactly the launching checks; each gets a fresh worker.
    _, report = run_check(cmeter, lib("crashenqueue"), expect_exit=1)
    expect_fails(report, LAUNCHING, "crashenqueue")
    copy = by_id(report, "op.copy.v1")
    check("SIGSEGV" in copy["reason"] and "op_enqueue" in copy["reason"], f"crash reason names signal and case: {copy}")
    check(any("about to write through a NULL pointer" in d for d in copy["details"]), "stderr tail kept")
    check(report["run"]["workers_started"] == len(LAUNCHING) + 1, "one fresh worker per crash")
    check(by_id(report, "memory.round_trip")["status"] == "PASS", "checks after a crash still run")
    _, report = run_check(cmeter, lib("abort"), expect_exit=1)
    expect_fails(report, LAUNCHING, "abort")
    check("SIGABRT" in by_id(report, "op.noop.v1")["reason"], "abort names SIGABRT")
    # Only stream.v1 crashes.
    _, report = run_check(cmeter, lib("crashlater"), expect_exit=1)
    expect_fails(report, {"op.stream.v1.f32", "op.stream.v1.f64"}, "crashlater")
    # Hangs: a busy loop in op_enqueue, and a stream_synchronize that ignores SIGTERM.
    _, report = run_check(cmeter, lib("hang"), "--timeout", "2", "--only", "op.noop.v1,op.copy.v1,memory.round_trip",
                          expect_exit=1)
    expect_fails(report, {"op.noop.v1", "op.copy.v1"}, "hang")
    check("timed out" in by_id(report, "op.noop.v1")["reason"], "hang is a timeout")
    check(by_id(report, "memory.round_trip")["status"] == "PASS", "a hang does not stop the run")
    _, report = run_check(cmeter, lib("hangsync"), "--timeout", "2", "--only", "memory.round_trip,op.noop.v1",
                          expect_exit=1)
    expect_fails(report, {"memory.round_trip", "op.noop.v1"}, "hangsync")
    check("SIGKILL" in by_id(report, "memory.round_trip")["reason"], "a worker ignoring SIGTERM is killed")
    # Strings that are not UTF-8, unknown value types.
    _, report = run_check(cmeter, lib("garbage"), expect_exit=1)
    expect_fails(report, {"plugin.device_attributes"}, "garbage")
    # op_create asking for 64 TiB: the ops fail cleanly (or the worker is stopped at the memory limit).
    _, report = run_check(cmeter, lib("hugealloc"), "--only", "op.copy.v1,memory.round_trip", expect_exit=1)
    expect_fails(report, {"op.copy.v1"}, "hugealloc")
    check(by_id(report, "memory.round_trip")["status"] == "PASS", "hugealloc: memory still fine")


def test_leak(cmeter, build):
    plugin = os.path.join(build, "lib/cmeter/fault-plugins/libcmeter-leak.so")
    _, report = run_check(cmeter, plugin, "--level", "full", "--only", "lifecycle.no_growth,op.copy.v1",
                          expect_exit=1)
    expect_fails(report, {"lifecycle.no_growth"}, "leak")
    check("leak" in by_id(report, "lifecycle.no_growth")["reason"], "the reason says leak")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    cmeter, build, test = sys.argv[1], sys.argv[2], sys.argv[3]
    print(f"plugin check e2e: {test}")
    if test == "shipped":
        test_shipped(cmeter, build, sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "optional")
    elif test == "inference_proxies":
        test_inference_proxies(cmeter, build, sys.argv[4])
    elif test == "no_device":
        test_no_device(cmeter, build, sys.argv[4])
    elif test == "stub":
        test_stub(cmeter, build)
    elif test == "load_faults":
        test_load_faults(cmeter, build)
    elif test == "process_faults":
        test_process_faults(cmeter, build)
    elif test == "leak":
        test_leak(cmeter, build)
    else:
        print(f"unknown test {test}")
        return 2
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
