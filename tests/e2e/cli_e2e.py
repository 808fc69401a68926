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

from report_schema import validate_schema  # reports/schema/report-v1.schema.json

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
    validate_schema(report)
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


# The lines only `cmeter run` prints on stdout after the report view (progress goes to stderr).
RUN_ONLY_PREFIXES = ("Report: ", "Journal: ", "Run incomplete: ")


def check_run_prints_report_show(run_stdout):
    """`cmeter run` prints the report exactly as `cmeter report show` prints the file it wrote."""
    report_path = [line for line in run_stdout.splitlines() if line.startswith("Report: ")][0][len("Report: "):]
    show = run(["report", "show", report_path], expect_exit=0).stdout
    summary = "".join(line for line in run_stdout.splitlines(keepends=True)
                      if not line.startswith(RUN_ONLY_PREFIXES)).rstrip("\n")
    check(summary == show.rstrip("\n"), "cmeter run prints what cmeter report show prints for its report\n"
          f"--- run ---\n{summary}\n--- report show ---\n{show}")
    return show


def check_headline_order(text, labels):
    """Each label appears, in this order (the headline catalogue's, not JSON key order)."""
    at = [text.find(label) for label in labels]
    check(all(i >= 0 for i in at), f"headlines {labels} all shown")
    check(at == sorted(at), f"headlines in catalogue order: {labels}")


def test_cpu_quick():
    with tempfile.TemporaryDirectory() as out:
        proc = run(["run", "--profile", "quick", "--device", "cpu:0", "-o", out], expect_exit=0)
        check("Report:" in proc.stdout, "summary names the report path")
        show = check_run_prints_report_show(proc.stdout)
        check_headline_order(show, ["FP16 GEMM", "BF16 GEMM", "FP32 GEMM", "FMA peak f32", "Memory bandwidth (STREAM triad)",
                                    "Host to device (pinned)", "Launch latency"])
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
        # Decode MBU against the triad this run measured on the same device (core/run/decode_bandwidth.h).
        llm = next(r for r in report["results"] if r["workload"] == "inference")
        inf, triad = llm["inference"], result(report, "cpu:0", "stream[kind=triad]")
        if llm["status"] == "ok":
            triad_bps = next(m for m in triad["metrics"] if m["name"] == "bytes_per_s")["statistics"]["median"]
            check(inf["decode_bytes_per_s"] > 0 and "stream[kind=triad]" in inf["mbu_measured_source"],
                  f"decode related to the run's triad: {inf['mbu_measured_source']}")
            check(abs(inf["mbu_decode_measured"] - inf["decode_bytes_per_s"] / triad_bps) < 1e-6 * inf["mbu_decode_measured"],
                  "mbu_decode_measured = decode bytes/s over the triad's median")
        dev = report["devices"][0]["attributes"]
        check("pci.bus_id" not in dev and "numa.node" in dev, "CPU: no pci.bus_id, a numa.node")
        check(dev["peak.flops.f32"] > 0 and "measured" in dev["peak.source"], "CPU peak computed from a measured clock")


def test_cpu_lowp():
    """bf16 and i8 GEMM on cpu:0 validate; where the CPU declares the dot-product peaks, oneDNN runs them."""
    with tempfile.TemporaryDirectory() as out:
        profile = os.path.join(FIXTURES, "profiles", "cpu-lowp.yaml")
        run(["run", "--profile", profile, "--device", "cpu:0", "-o", out], expect_exit=0)
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        attrs = report["devices"][0]["attributes"]
        has_i8 = "peak.flops.i8" in attrs
        bf16_native = attrs["peak.flops.bf16"] > attrs["peak.flops.f32"] * 1.5
        for r in report["results"]:
            impl = r["method"].get("impl", "")
            print(r["case_id"], r["status"], impl)
            if r["case_id"].startswith("gemm-i8"):
                if not has_i8:
                    check(r["status"] == "unsupported", f"{r['case_id']}: no i8 peak declared, so no i8 GEMM")
                    continue
                check(impl.startswith("onednn.matmul s8xs8->s32"), f"{r['case_id']}: i8 on oneDNN ({impl})")
            elif bf16_native:
                check(impl.startswith("onednn.matmul bf16"), f"{r['case_id']}: bf16 on oneDNN ({impl})")
            check(r["status"] in ("ok", "noisy"), f"{r['case_id']}: status {r['status']} ({r['reason']})")
            check(r["validation"]["passed"], f"{r['case_id']}: validated")


def test_opencl_quick():
    # Skips (exit 77, a CTest skip) only when no OpenCL device exists; CI installs PoCL, so it runs there.
    devices = json.loads(run(["devices", "--json"], expect_exit=0).stdout)
    if not any(d["id"] == "opencl:0" for d in devices["devices"]):
        print("SKIP: no opencl:0 device (no OpenCL plugin or no OpenCL platform)")
        sys.exit(77)
    # quick.yaml's case ids in small sizes (tests/fixtures/profiles/opencl-quick.yaml).
    profile = os.path.join(FIXTURES, "profiles", "opencl-quick.yaml")
    with tempfile.TemporaryDirectory() as out:
        run(["run", "--profile", profile, "--device", "opencl:0", "-o", out], expect_exit=0)
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        statuses = {r["case_id"]: (r["status"], r["reason"]) for r in report["results"]}
        print(json.dumps(statuses, indent=1))
        dev = report["devices"][0]["attributes"]
        for r in report["results"]:
            if r["case_id"] == "fma_peak[dtype=f16]" and not dev.get("opencl.ext.cl_khr_fp16", False):
                check(r["status"] == "unsupported" and "no cl_khr_fp16" in r["reason"],
                      f"f16 fma_peak without cl_khr_fp16: {r['status']} ({r['reason']})")
                continue
            if r["status"] == "unsupported":
                continue
            # Every supported op measured and validated (noisy: the time cap hit on a loaded machine).
            check(r["status"] in ("ok", "noisy"), f"{r['case_id']}: status {r['status']} ({r['reason']})")
            # Kernels are device-timed; a round trip and the inference scenarios (query latencies as
            # a user sees them) are host-timed.
            check(r["method"]["timer"] == "device" or r["case_id"] == "launch_latency[form=round_trip]"
                  or r["workload"] == "inference", f"{r['case_id']}: device-timed (OpenCL profiling events)")
        for case_id in ("gemm[dtype=f32]", "gemm[dtype=f16]", "gemm-f64", "fma_peak[dtype=f32]", "stream[kind=triad]",
                        "copy", "transfer[direction=h2d,memory=pinned]", "launch_latency[form=round_trip]"):
            check(result(report, "opencl:0", case_id)["status"] in ("ok", "noisy"), f"{case_id} measured")
        check("opencl" in result(report, "opencl:0", "gemm[dtype=f16]")["method"]["impl"], "f16 GEMM names its impl")
        check(dev["timer.kind"].startswith("opencl.profiling"), "device timer is OpenCL profiling")


def test_vulkan_quick():
    # The quick profile's workloads in small sizes (tests/fixtures/profiles/vulkan-quick.yaml) on vulkan:0
    # (lavapipe in CI). Skips (exit 77) only when no Vulkan device exists (no plugin or no driver).
    devices = json.loads(run(["devices", "--json"], expect_exit=0).stdout)
    if not any(d["id"] == "vulkan:0" for d in devices["devices"]):
        print("SKIP: no vulkan:0 device (no Vulkan plugin or no Vulkan driver)")
        sys.exit(77)
    profile = os.path.join(FIXTURES, "profiles", "vulkan-quick.yaml")
    with tempfile.TemporaryDirectory() as out:
        run(["run", "--profile", profile, "--device", "vulkan:0", "-o", out, "-q"], expect_exit=0)
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        validate_schema(report)
        statuses = {r["case_id"]: (r["status"], r["reason"]) for r in report["results"]}
        print(json.dumps(statuses, indent=1))
        dev = report["devices"][0]["attributes"]
        for r in report["results"]:
            if r["status"] == "unsupported":
                continue
            # Every supported op measured and validated (noisy: the time cap hit on a loaded machine).
            check(r["status"] in ("ok", "noisy"), f"{r['case_id']}: status {r['status']} ({r['reason']})")
            check(r["method"]["timer"] == "device" or r["case_id"] == "launch_latency[form=round_trip]",
                  f"{r['case_id']}: device-timed (timestamp queries)")
        for case_id in ("gemm[dtype=f32]", "fma_peak[dtype=f32]", "stream", "copy",
                        "transfer-h2d-pinned", "transfer-d2h-pageable", "launch_latency[form=throughput]",
                        "launch_latency[form=round_trip]"):
            check(result(report, "vulkan:0", case_id)["status"] in ("ok", "noisy"), f"{case_id} measured")
        # 16-bit GEMMs: measured where the device stores 16-bit buffers (bf16 is computed from f32 lanes;
        # f16 needs shaderFloat16 except on CPU-kind devices, which emulate it), else unsupported naming the dtype.
        for dtype in ("f16", "bf16"):
            r16 = result(report, "vulkan:0", f"gemm[dtype={dtype}]")
            capable = dev.get("vulkan.storage_buffer_16bit") and (
                dtype == "bf16" or dev.get("vulkan.device_type") == "cpu" or dev.get("vulkan.shader_float16"))
            if capable:
                check(r16["status"] in ("ok", "noisy"), f"{dtype} GEMM measured: {r16['status']} ({r16['reason']})")
            else:
                check(r16["status"] == "unsupported" and dtype in r16["reason"],
                      f"{dtype} GEMM unsupported, saying why: {r16['reason']}")
        impl = result(report, "vulkan:0", "gemm[dtype=f32]")["method"]["impl"]
        want = "register-blocked gemm" if dev.get("vulkan.device_type") == "cpu" else "tiled gemm"
        check(want in impl, f"GEMM names its impl ({want}): {impl}")
        fma16 = result(report, "vulkan:0", "fma_peak[dtype=f16]")
        check(fma16["status"] in ("ok", "noisy") or "not fused" in fma16["reason"] or "shaderFloat16" in fma16["reason"],
              f"f16 fma_peak measured or unsupported with the reason: {fma16['reason']}")
        check(dev["timer.kind"].startswith("vulkan.timestamp"), "device timer is Vulkan timestamps")


def test_fault_plugins():
    with tempfile.TemporaryDirectory() as out:
        profile = os.path.join(FIXTURES, "profiles", "stub.yaml")
        proc = run(["run", "--plugin-dir", TEST_PLUGINS, "--profile", profile, "-o", out, "-q"], expect_exit=3)
        check("warning: plugin badmajor" in proc.stderr, "load failures are warnings")
        check("Run incomplete:" in proc.stdout, "the run says it is incomplete")
        show = check_run_prints_report_show(proc.stdout)
        check("Plugins not loaded" in show and "implausible" in show and "Verdict: INCOMPLETE" in show,
              "the run's summary shows failed plugins, statuses and the verdict")
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


def test_cheats():
    # Plugins that compute correctly but scale their timer (0.1, 1e-9) and declare no peaks, so no
    # declared-peak gate can fire: the device timer held to the host clock makes every measured case
    # implausible, naming the ratio; the honest stub in the same run stays measured.
    with tempfile.TemporaryDirectory() as out:
        profile = os.path.join(FIXTURES, "profiles", "cheats.yaml")
        cheats = os.path.join(os.path.dirname(TEST_PLUGINS), "cheat-plugins")
        run(["run", "--plugin", os.path.join(TEST_PLUGINS, "libcmeter-stub.so"), "--plugin-dir", cheats,
             "--profile", profile, "-o", out, "-q"], expect_exit=3)
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        validate_schema(report)
        for dev in ("slowtimer:0", "frozentimer:0"):
            for case_id in ("gemm", "stream", "launch"):
                r = result(report, dev, case_id)
                check(r["status"] == "implausible" and "far below 1" in r["reason"],
                      f"{dev} {case_id}: implausible by the timer check ({r['status']}: {r['reason']})")
        for case_id in ("gemm", "stream"):
            r = result(report, "hugepeaks:0", case_id)
            check(r["status"] in ("ok", "noisy") and "untrusted peak" in r["reason"] and "exceeds the ceiling" in r["reason"]
                  and not r["plausibility"], f"hugepeaks {case_id}: measured, its declared peak untrusted ({r['reason']})")
        # Real work on the first 3 calls, none after: the outputs are poisoned before every sample, so
        # the last sample's (skipped) work leaves NaNs where the validation looks.
        for case_id in ("gemm", "stream"):
            r = result(report, "skipper:0", case_id)
            check(r["status"] == "invalid" and "poisoned" in r["validation"]["method"],
                  f"skipper {case_id}: invalid by the poisoned outputs ({r['status']}: {r['reason']})")
        # A GEMM computed only where a lazy validator would look (corners, first and last batch): the
        # points checked are drawn after timing, everywhere, and every other place was poisoned.
        r = result(report, "edges:0", "gemm")
        check(r["status"] == "invalid" and "outside tolerance" in r["reason"],
              f"edges gemm: invalid by points drawn everywhere ({r['status']}: {r['reason']})")
        r = result(report, "partialstream:0", "stream")
        check(r["status"] == "invalid" and "elements wrong" in r["reason"],
              f"partialstream stream: invalid by the poisoned half ({r['status']}: {r['reason']})")
        # The work done at read-back, not in the timed calls: the first read of the outputs takes the
        # deferred calls' time (every set the last sample wrote), a re-read does not. (STREAM records
        # its read times without a verdict: one deferred call costs about an honest first read's
        # penalty, docs/measurement.md.)
        r = result(report, "deferrer:0", "gemm")
        check(r["status"] == "implausible" and "deferred from the timed calls into the read-back" in r["reason"],
              f"deferrer gemm: implausible by the timed read-back ({r['status']}: {r['reason']})")
        # fma_peak: every call of a sample writes its own OUT, so the deferred work is every call's.
        r = result(report, "deferrer:0", "fma")
        check(r["status"] == "implausible" and "deferred from the timed calls into the read-back" in r["reason"],
              f"deferrer fma: implausible by the timed read-back ({r['status']}: {r['reason']})")
        r = result(report, "skipper:0", "fma")
        check(r["status"] == "invalid", f"skipper fma: invalid by the poisoned output sets ({r['status']}: {r['reason']})")
        r = result(report, "deferrer:0", "stream")
        check("re-read in" in r["validation"]["method"], f"deferrer stream: read-back times recorded ({r['validation']})")
        # fma_peak answered by the closed form of its chains (no round run), or every 16th item computed
        # and copied to the next 15 (where a fixed-stride validator looks): items start apart and the
        # chain multiplies, and the items checked are drawn after the timed calls.
        for dev in ("closedform:0", "someitems:0"):
            r = result(report, dev, "fma")
            check(r["status"] == "invalid" and "sampled items wrong" in r["reason"],
                  f"{dev} fma: invalid by the host simulation ({r['status']}: {r['reason']})")
            check(result(report, dev, "gemm")["status"] in ("ok", "noisy"), f"{dev} gemm (no cheat there) measured")
        for dev in ("edges:0", "partialstream:0", "deferrer:0"):
            check(result(report, dev, "launch")["status"] in ("ok", "noisy"), f"{dev} launch (no cheat there) measured")
        huge = next(d for d in report["summary"]["devices"] if d["device"] == "hugepeaks:0")
        check(all(m.get("efficiency") is None for m in huge["metrics"].values()), f"no efficiency from untrusted peaks: {huge}")
        for case_id in ("gemm", "stream", "fma", "launch"):
            r = result(report, "stub:0", case_id)
            check(r["status"] in ("ok", "noisy") and "device/host time per sample" in r["method"]["timer_detail"],
                  f"stub {case_id}: measured, the timer check recorded ({r['status']}: {r['method']['timer_detail']})")
            if case_id != "launch":
                check("re-read in" in r["validation"]["method"], f"stub {case_id}: read-back times recorded")


def test_strict_plugins():
    proc = run(["devices", "--plugin-dir", TEST_PLUGINS, "--strict-plugins"], expect_exit=2)
    check("error: plugin badmajor" in proc.stderr, "strict mode names the failing plugin")
    proc = run(["devices", "--plugin-dir", TEST_PLUGINS], expect_exit=0)
    check("NOT LOADED" in proc.stdout and "stub:0" in proc.stdout, "devices lists failures and devices")
    # The shipped CPU plugin: attributes in human units; --json keeps the raw values.
    cpu_plugin = ["--plugin", os.path.join(os.path.dirname(TEST_PLUGINS), "plugins", "libcmeter-cpu.so")]
    text = run(["devices"] + cpu_plugin, expect_exit=0).stdout
    raw = json.loads(run(["devices", "--json"] + cpu_plugin, expect_exit=0).stdout)
    cpu = next(d for d in raw["devices"] if d["id"] == "cpu:0")["attributes"]
    check(isinstance(cpu["mem.bytes"], int) and cpu["mem.bytes"] > 2**20, "--json: raw mem.bytes")
    check(isinstance(cpu["clock.core.mhz"], float), "--json: raw clock.core.mhz")
    lines = {line.split()[0]: line.split(None, 1)[1] for line in text.splitlines()
             if line.startswith("    ") and len(line.split()) > 1}
    check(lines["mem.bytes"].endswith(" GiB"), f"memory in GiB: {lines['mem.bytes']}")
    check(lines["clock.core.mhz"].endswith(" GHz"), f"clock in GHz: {lines['clock.core.mhz']}")
    check(lines["peak.flops.f32"].endswith("FLOP/s") and lines["peak.flops.f32"][-7] in "GT",
          f"peak in GFLOP/s or TFLOP/s: {lines['peak.flops.f32']}")
    width = max(len(line) for line in text.splitlines() if "peak.source" in line or line.startswith(" " * 20))
    check(width <= 110, f"peak.source wrapped (longest line {width} columns)")


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


def plugin_dirs():
    """The CPU plugin, the load-time fault plugins and the process-fault plugins (build/lib/cmeter/*)."""
    lib = os.path.dirname(TEST_PLUGINS)
    # Only the CPU plugin of the shipped ones: the OpenCL plugin has its own test (opencl_quick).
    return ["--plugin", os.path.join(lib, "plugins", "libcmeter-cpu.so"), "--plugin-dir", TEST_PLUGINS,
            "--plugin-dir", os.path.join(lib, "fault-plugins")]


def test_isolation():
    # CPU, the stub and every fault plugin in one run: each fault is its own exact status, the healthy
    # devices are complete, the run says incomplete (3), and the report is whole and schema-valid.
    with tempfile.TemporaryDirectory() as out:
        profile = os.path.join(FIXTURES, "profiles", "faults.yaml")
        proc = run(["run"] + plugin_dirs() + ["--profile", profile, "-o", out, "-q", "--worker-memory-limit", "2048"],
                   expect_exit=3)
        report, journal = load_single_report(out)
        check_report_shape(report, journal)
        validate_schema(report)
        statuses = {(r["device"], r["case_id"]): (r["status"], r["reason"][:160]) for r in report["results"]}
        for key, value in sorted(statuses.items()):
            print(key, value)
        planned = {"gemm", "stream", "launch"}
        hanging = {"hang:0", "hangsync:0"}
        devices = [d["id"] for d in report["devices"]]
        for dev in devices:
            want = planned - {"stream"} if dev in hanging else planned
            want = want | {"gemm-again"} if dev == "leak:0" else want
            got = {c for (d, c) in statuses if d == dev}
            check(got == want, f"{dev}: every planned case has a result ({sorted(got)})")

        def expect(dev, cases, status, *texts):
            for case_id in cases:
                r = result(report, dev, case_id)
                ok = r["status"] in status if isinstance(status, tuple) else r["status"] == status
                check(ok, f"{dev} {case_id}: status {r['status']}, expected {status} ({r['reason']})")
                for text in texts:
                    check(text in r["reason"], f"{dev} {case_id}: reason lacks '{text}': {r['reason']}")

        measured = ("ok", "noisy")
        expect("cpu:0", planned, measured)
        expect("stub:0", planned, measured)
        expect("wronggemm:0", ["gemm"], "invalid", "outside tolerance")
        # toofast's timer reports 1/1000 of the time that passed: the host clock catches it first.
        expect("toofast:0", ["stream"], "implausible", "far below 1, a slow or scaled timer")
        expect("crashenqueue:0", planned, "crashed", "signal 11 (SIGSEGV)", "NULL pointer in op_enqueue")
        expect("crashlater:0", ["gemm", "launch"], measured)
        expect("crashlater:0", ["stream"], "crashed", "signal 11 (SIGSEGV)", "op_enqueue of stream.v1")
        expect("abort:0", planned, "crashed", "signal 6 (SIGABRT)", "calling abort()")
        expect("hang:0", ["gemm", "launch"], "timeout", "case timeout of 4 s", "SIGTERM", "infinite loop")
        expect("hangsync:0", ["gemm", "launch"], "timeout", "case timeout of 4 s", "SIGKILL", "never answers")
        # The leak keeps 256 MiB in every case: the first case of a kind could be a one-time load (not
        # noted), a second case of the same kind (gemm-again) is a leak (noted).
        expect("leak:0", planned, measured)
        for case_id in planned:
            check("a leak?" not in result(report, "leak:0", case_id)["reason"], f"leak:0 {case_id}: first growth not noted")
        expect("leak:0", ["gemm-again"], measured, "not given back (a leak?)", "during gemm too")
        expect("garbage:0", planned, measured)
        for case_id in planned:
            r = result(report, "hugealloc:0", case_id)
            check(r["status"] == "failed" and ("64 TiB" in r["reason"] or "above the limit" in r["reason"]),
                  f"hugealloc {case_id}: failed, refused or stopped ({r['status']}: {r['reason']})")
        garbage = next(d for d in report["devices"] if d["id"] == "garbage:0")["attributes"]
        check("\ufffd" in garbage["name"] and garbage["vendor"] == "cmeter", f"garbage strings sanitised: {garbage}")
        rows = {p["name"]: p for p in report["plugins"]}
        check(rows["crashinit"]["status"] == "failed" and "SIGSEGV" in rows["crashinit"]["error"]
              and "while loading" in rows["crashinit"]["error"], f"crash in init is a row: {rows['crashinit']}")
        for name in ("badmajor", "smallapi", "nullinit", "initfails", "nosymbol", "needsmissing", "notaplugin"):
            check(rows[name]["status"] == "failed" and rows[name]["error"], f"plugin row {name} failed with a reason")
        check("warning: plugin crashinit" in proc.stderr, "a plugin crashing while loading is a warning")
        check(report["run"]["settings"]["execution"].startswith("worker process per plugin"), "execution recorded")


def journal_results(path):
    """Whole result lines of a journal (a torn last line is ignored)."""
    rows = []
    with open(path) as f:
        for line in f:
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("type") == "result":
                rows.append(j)
    return rows


def test_resume():
    # Kill the parent with SIGKILL mid-run, then --resume: finished cases are kept (not re-run), the
    # rest run, and the report has every case once, like an uninterrupted run's.
    import signal
    import time
    stub = os.path.join(TEST_PLUGINS, "libcmeter-stub.so")
    profile = os.path.join(FIXTURES, "profiles", "resume.yaml")
    with tempfile.TemporaryDirectory() as out:
        parent = subprocess.Popen([CMETER, "run", "--plugin", stub, "--profile", profile, "-o", out, "-q"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        journal_path = None
        deadline = time.time() + 120
        while time.time() < deadline:
            runs = os.listdir(out)
            if runs:
                journal_path = os.path.join(out, runs[0], "journal.jsonl")
                if os.path.exists(journal_path) and len(journal_results(journal_path)) >= 2:
                    break
            check(parent.poll() is None, "the run ended before it could be interrupted")
            time.sleep(0.02)
        check(journal_path is not None, "the run started a journal")
        workers = _children(parent.pid)
        check(workers, "the run has a worker process")
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        check(parent.returncode == -signal.SIGKILL, "parent killed")
        before = journal_results(journal_path)
        check(2 <= len(before) < 6, f"killed mid-run ({len(before)} of 6 finished)")
        run_dir = os.path.dirname(journal_path)
        check(not os.path.exists(os.path.join(run_dir, "report.json")), "no report yet")
        # The worker dies with its parent (PR_SET_PDEATHSIG), so no plugin is left running.
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.05)
        check(not any(_alive(pid) for pid in workers), f"workers {workers} outlived their parent")

        proc = run(["run", "--plugin", stub, "--resume", run_dir, "-q"], expect_exit=0)
        check(f"{len(before)} finished case(s) kept" in proc.stderr, f"resume says what it kept: {proc.stderr}")
        with open(os.path.join(run_dir, "report.json")) as f:
            report = json.load(f)
        validate_schema(report)
        after = journal_results(journal_path)
        keys = [(r["device"], r["case_id"]) for r in after]
        check(len(keys) == len(set(keys)) == 6, f"every case once in the journal: {keys}")
        wanted = [f"gemm[m={m}]" for m in (32, 48, 64, 80, 96, 112)]
        check([r["case_id"] for r in report["results"]] == wanted, "report: every case once, in plan order")
        by_case = {r["case_id"]: r for r in report["results"]}
        for r in before:
            check(by_case[r["case_id"]]["started_utc"] == r["started_utc"]
                  and by_case[r["case_id"]]["samples_s"] == r["samples_s"], f"{r['case_id']} kept, not re-run")
        for r in report["results"]:
            check(r["status"] in ("ok", "noisy"), f"{r['case_id']}: {r['status']} ({r['reason']})")
        check(report["run"]["seed"] == json.loads(open(journal_path).readline())["run"]["seed"], "the run's seed")
        check(len(report["run"]["settings"]["resumed"]) == 1, "the resume is recorded")
        # Resuming with other inputs is refused.
        run(["run", "--plugin", stub, "--resume", run_dir, "--seed", "5", "-q"], expect_exit=2)
        run(["run", "--plugin", stub, "--resume", out, "-q"], expect_exit=2)


def _children(pid):
    """Pids of the cmeter worker processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"__worker" in cmdline:
            found.append(int(entry))
    return found


def _alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}
if NAME not in TESTS:
    fail(f"unknown test {NAME}; known: {sorted(TESTS)}")
TESTS[NAME]()
print(f"PASS: {NAME}")
