#!/usr/bin/env python3
"""End-to-end tests of node and cluster metering with the real cmeter binary (one test per invocation).

Why this file exists: the unit tests check totals, the cluster report and the runner's concurrency
with fakes; these check what a user gets: `cmeter run --concurrent` over the CPU plugin and PoCL (one
physical CPU in the node total), three devices of one plugin at once (the stub with
CMETER_STUB_DEVICES=3: a worker each), `mpirun -n 4 cmeter run --mpi` on this machine (ranks as simulated
nodes named by CMETER_NODE_NAME), a rank killed mid-run (3 nodes, the missing one named), and
`cmeter report merge` of 1000 generated node reports (time, memory, schema, HTML size).
Usage: cluster_e2e.py CMETER LIB_DIR SOURCE_DIR MAKE_NODE_REPORTS TEST_NAME
  (LIB_DIR = build/lib/cmeter, holding plugins/; exit 77 = skipped: no PoCL, or no MPI in this build)
"""
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from report_schema import validate_schema

CMETER, LIB, SOURCE, MAKE_REPORTS, NAME = sys.argv[1:6]
CPU = os.path.join(LIB, "plugins", "libcmeter-cpu.so")
OPENCL = os.path.join(LIB, "plugins", "libcmeter-opencl.so")
TINY = os.path.join(SOURCE, "profiles", "cluster-tiny.yaml")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="cmeter-e2e-config-")


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(args, timeout=120, env=None):
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.monotonic() - start


def load(path):
    with open(path) as f:
        return json.load(f)


def mpi_or_skip():
    if shutil.which("mpirun") is None:
        print("SKIP: no mpirun")
        sys.exit(77)


def mpirun(out, ranks, wrapper, timeout_s, extra=()):
    """mpirun -n RANKS over a shell wrapper that names each rank's node (CMETER_NODE_NAME=nodeR)."""
    args = ["mpirun", "-n", str(ranks), "--oversubscribe", "--allow-run-as-root", "--enable-recovery",
            "sh", "-c", wrapper + ' CMETER_NODE_NAME=node$OMPI_COMM_WORLD_RANK exec "$0" "$@"',
            CMETER, "run", "--mpi", "--profile", TINY, "--device", "cpu:0", "--plugin", CPU, "-o", out, "-q",
            "--mpi-timeout", str(timeout_s), *extra]
    proc, took = run(args, timeout=120)
    if "built without MPI" in proc.stderr:
        print("SKIP: this cmeter has no MPI")
        sys.exit(77)
    reports = glob.glob(os.path.join(out, "cluster-*", "report.json"))
    if len(reports) != 1:
        sys.stdout.write(proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-4000:])
        fail(f"mpirun exit {proc.returncode}: expected one cluster report under {out}, found {reports}")
    print(f"mpirun -n {ranks}: {took:.1f} s, exit {proc.returncode}")
    return load(reports[0]), reports[0], proc


def check_totals(report, nodes):
    """Cluster totals: each node's one CPU once, the sum of the per-node totals."""
    summary = report["summary"]
    check(len(summary["nodes"]) == nodes, f"{nodes} node sections, got {len(summary['nodes'])}")
    total = summary["node_totals"]["fp32_flops_per_s"]
    per_node = [n["totals"]["fp32_flops_per_s"]["value"] for n in summary["nodes"]]
    check(total["devices"] == nodes, f"fp32 total over {nodes} CPUs, got {total['devices']}")
    check(abs(total["value"] - sum(per_node)) <= 1e-9 * total["value"], "cluster total = sum of node totals")
    check(all(n["totals"]["fp32_flops_per_s"]["devices"] == 1 for n in summary["nodes"]), "one CPU per node")
    spread = {s["metric"]: s for s in report["cluster"]["spread"]}["fp32_flops_per_s"]
    check(spread["slowest"]["value"] == min(per_node) and spread["fastest"]["value"] == max(per_node),
          "spread names the slowest and fastest node")
    check(spread["nodes"] == nodes, "spread over every node present")


def test_concurrent_node():
    """cpu:0 and PoCL at once: one physical CPU in the node total, PoCL listed as left out."""
    if not os.path.exists(OPENCL):
        print("SKIP: no OpenCL plugin built")
        sys.exit(77)
    out = tempfile.mkdtemp(prefix="cmeter-e2e-node-")
    proc, took = run([CMETER, "run", "--concurrent", "--profile", TINY, "--device", "cpu:0,opencl:0", "--plugin", CPU,
                      "--plugin", OPENCL, "-o", out, "-q", "--json"], timeout=120)
    if proc.returncode not in (0, 3) or "opencl:0" not in proc.stdout:
        if "no device matches" in proc.stderr:
            print("SKIP: no OpenCL device (PoCL)")
            sys.exit(77)
        sys.stderr.write(proc.stderr[-3000:])
        fail(f"concurrent run exit {proc.returncode}")
    report = json.loads(proc.stdout)
    validate_schema(report, "concurrent node report")
    settings = report["run"]["settings"]
    check(settings.get("concurrent") is True, "the run says it was concurrent")
    cases = settings["concurrency"]["cases"]
    check(len(cases) == 2 and all(set(c["devices"]) == {"cpu:0", "opencl:0"} for c in cases),
          "both devices in every case's concurrent window")
    ids = {d["id"]: d["attributes"].get("physical.id") for d in report["devices"]}
    check(ids["cpu:0"] == ids["opencl:0"] and ids["cpu:0"].startswith("host-cpu:package="),
          f"cpu:0 and PoCL name the same silicon: {ids}")
    totals = report["summary"]["node_totals"]
    check("fp32_flops_per_s" in totals, "an fp32 node total")
    check(totals["fp32_flops_per_s"]["devices"] == 1, "one physical CPU in the fp32 total, not two")
    check("at the same time" in totals["fp32_flops_per_s"]["note"], "the total says it is concurrent")
    # Both devices with a validated FP32 figure: the one not counted is listed with why. (Under heavy load
    # PoCL's timer check can make its case implausible; then only cpu:0 has a figure to count.)
    headlines = {s["device"]: s["metrics"] for s in report["summary"]["devices"]}
    excluded = report["summary"]["excluded_from_totals"]
    if all("fp32_flops_per_s" in headlines[d] for d in ("cpu:0", "opencl:0")):
        check(any(e["total"] == "fp32_flops_per_s" and e["physical_id"] == ids["cpu:0"] for e in excluded),
              "the device left out is listed with why")
        best = max(headlines[d]["fp32_flops_per_s"]["value"] for d in ("cpu:0", "opencl:0"))
        check(totals["fp32_flops_per_s"]["value"] == best, "the total is the better of the two, not their sum")
    else:
        print("note: only one device had a validated FP32 figure; the exclusion is checked by the unit tests")
    print(f"concurrent cpu:0 + opencl:0: {took:.1f} s; overlap {[round(c['overlap_fraction'], 2) for c in cases]}")


def stub_gemm_profile(work, name, execution, min_s, max_s):
    """A one-case profile (a small f32 GEMM, loose statistics) for the stub plugin's devices, in `work`."""
    profile = os.path.join(work, "p.yaml")
    with open(profile, "w") as f:
        f.write(f"schema: 1\nname: {name}\nversion: 1.0.0\n" + (f"execution: {execution}\n" if execution else "") +
                f"stats: {{min_samples: 5, min_s: {min_s}, max_s: {max_s}, noise: 0.5, warmup_min_runs: 1, "
                "warmup_min_s: 0.01}\n"
                "cases:\n  - id: gemm\n    workload: gemm\n    params: {m: 32, n: 24, k: 40, dtype: f32}\n")
    return profile


def test_both_one_plugin():
    """--both: each case on each device alone, then on all at once; the report sets the two side by side
    (summary.node_scaling), the node total is the concurrent one, and every renderer shows the scaling."""
    stub = os.path.join(LIB, "test-plugins", "libcmeter-stub.so")
    work = tempfile.mkdtemp(prefix="cmeter-e2e-both-")
    profile = stub_gemm_profile(work, "alone-and-at-once", "", 0.2, 0.5)
    env = dict(os.environ, CMETER_STUB_DEVICES="2")
    out = os.path.join(work, "out")
    proc, took = run([CMETER, "run", "--both", "--plugin", stub, "--profile", profile, "-o", out, "-q", "--json"],
                     timeout=120, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        fail(f"--both run exit {proc.returncode}")
    report = json.loads(proc.stdout)
    validate_schema(report, "--both report")
    settings = report["run"]["settings"]
    check(settings.get("execution_mode") == "both" and "alone" in settings["execution"],
          f"the run says how it ran: {settings.get('execution')}")
    ids = sorted((r["device"], r["case_id"]) for r in report["results"])
    check(ids == [("stub:0", "gemm"), ("stub:0", "gemm@concurrent"), ("stub:1", "gemm"), ("stub:1", "gemm@concurrent")],
          f"each device's case alone and at once: {ids}")
    case = settings["concurrency"]["cases"][0]
    check(case["case"] == "gemm@concurrent" and set(case["devices"]) == {"stub:0", "stub:1"},
          f"the concurrent pass ran both devices together: {case}")
    summary = report["summary"]
    scaling = summary["node_scaling"]
    counted = [r for r in report["results"] if r["status"] in ("ok", "noisy")]
    if len(counted) == 4 and "fp32_flops_per_s" in summary["node_totals"]:
        alone = {r["device"]: r for r in counted if not r["case_id"].endswith("@concurrent")}
        at_once = {r["device"]: r for r in counted if r["case_id"].endswith("@concurrent")}
        median = lambda r: next(m["statistics"]["median"] for m in r["metrics"] if m["name"] == "flops_per_s")
        total = summary["node_totals"]["fp32_flops_per_s"]
        check(abs(total["value"] - sum(median(r) for r in at_once.values())) <= 1e-6 * total["value"],
              "the node total sums the concurrent pass")
        row = next(t for t in scaling["totals"] if t["key"] == "fp32_flops_per_s")
        check(abs(row["alone"] - sum(median(r) for r in alone.values())) <= 1e-6 * row["alone"],
              "node scaling's alone total sums the alone pass")
        check(abs(row["ratio"] - row["at_once"] / row["alone"]) < 1e-9, "ratio = at once / alone")
        per_device = {(d["device"], d["key"]): d for d in scaling["devices"]}
        check(per_device[("stub:1", "fp32_flops_per_s")]["at_once_case_id"] == "gemm@concurrent",
              "each device's row names the case it came from")
        for fmt_name, marker in (("show", "Node scaling"), ("md", "## Node scaling"), ("html", "node-scaling")):
            shown = run([CMETER, "report", fmt_name, os.path.join(out, report["run"]["id"], "report.json")])[0]
            check(shown.returncode == 0 and marker in shown.stdout, f"`report {fmt_name}` shows node scaling")
        print(f"--both on stub:0..1: {took:.1f} s; fp32 alone {row['alone'] / 1e9:.2f} GFLOP/s, at once "
              f"{row['at_once'] / 1e9:.2f} GFLOP/s, ratio {row['ratio']:.3f}")
    else:
        print(f"note: not every result counted under load: {[(r['case_id'], r['status']) for r in report['results']]}")
    shutil.rmtree(work)


def test_concurrent_one_plugin():
    """Three devices of one plugin at once: a worker each, their windows overlapping, all results back
    (`noisy` allowed: three at once on two cores)."""
    stub = os.path.join(LIB, "test-plugins", "libcmeter-stub.so")
    work = tempfile.mkdtemp(prefix="cmeter-e2e-plugin-devices-")
    profile = stub_gemm_profile(work, "three-at-once", "concurrent", 0.5, 1.0)
    env = dict(os.environ, CMETER_STUB_DEVICES="3")
    proc, took = run([CMETER, "run", "--plugin", stub, "--profile", profile, "-o", os.path.join(work, "out"), "-q",
                      "--json"], timeout=120, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        fail(f"concurrent run exit {proc.returncode}")
    report = json.loads(proc.stdout)
    validate_schema(report, "one plugin's devices at once")
    settings = report["run"]["settings"]
    check(settings.get("concurrent") is True and "one thread per device" in settings["execution"],
          f"the run says its devices ran at once: {settings.get('execution')}")
    results = {r["device"]: r for r in report["results"]}
    # ok, or a verdict on the figure under three-on-two-cores load (noisy, or invalid by a read-back
    # check); never a failed run.
    check(set(results) == {"stub:0", "stub:1", "stub:2"} and
          all(r["status"] in ("ok", "noisy", "invalid") and r.get("samples_s") for r in results.values()),
          f"every device's result: {[(d, r['status'], r['reason']) for d, r in results.items()]}")
    case = settings["concurrency"]["cases"][0]
    windows = case["devices"]
    check(set(windows) == set(results), "every device in the case's window")
    latest_start = max(w["start_s"] for w in windows.values())
    earliest_end = min(w["end_s"] for w in windows.values())
    # In turn (one worker), their windows would not overlap at all.
    check(earliest_end - latest_start > 0.3 and case["overlap_fraction"] > 0.3,
          f"the three ran at the same time (each >= 0.5 s): {case}")
    print(f"stub:0..2 at once: {took:.1f} s, all three running together for {earliest_end - latest_start:.2f} s, "
          f"starts within {latest_start - min(w['start_s'] for w in windows.values()):.3f} s, "
          f"overlap {case['overlap_fraction']:.2f}")
    shutil.rmtree(work)


def test_mpi4():
    """Four ranks as four nodes: one schema-valid cluster report, totals over four CPUs, collectives."""
    mpi_or_skip()
    out = tempfile.mkdtemp(prefix="cmeter-e2e-mpi4-")
    report, path, proc = mpirun(out, 4, "", 30)
    validate_schema(report, path)
    check(proc.returncode in (0, 3), f"mpirun exit {proc.returncode}: {proc.stderr[-2000:]}")
    check(report["cluster"]["missing"] == [], f"no node missing: {report['cluster']['missing']}")
    check([n["node"] for n in report["summary"]["nodes"]] == [f"node{r}" for r in range(4)], "nodes by name")
    check_totals(report, 4)
    launch = report["cluster"]["launch"]
    check(launch["ranks"] == 4 and "Open MPI" in launch.get("library", ""), f"launch facts: {launch}")
    check(report["cluster"]["synchronisation"]["broken"] is None, "every case started behind a barrier")
    rows = report["cluster"]["collective"]
    check(len(rows) == 4, f"4 collective cases, got {len(rows)}")
    for r in rows:
        check(r["validated"], f"collective {r['case_id']} validated: {r.get('reason')}")
        factor = 2 * 3 / 4 if r["op"] == "allreduce" else 3 / 4
        check(abs(r["busbw_bytes_per_s"] - r["algbw_bytes_per_s"] * factor) <= 1e-9 * r["algbw_bytes_per_s"],
              "busbw by the nccl-tests factor")
        check(abs(r["algbw_bytes_per_s"] - r["bytes"] / r["time_s"]) <= 1e-6 * r["algbw_bytes_per_s"],
              "algbw = bytes / time")
    show, _ = run([CMETER, "report", "show", path])
    check(show.returncode == 0 and "node3" in show.stdout, "cmeter report show reads the cluster report")


def test_mpi_killed():
    """Rank 2 killed once its node run has started: 3 nodes reported, node2 named missing."""
    mpi_or_skip()
    out = tempfile.mkdtemp(prefix="cmeter-e2e-mpikill-")
    killer = ('if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then (while ! ls ' + out +
              '/cluster-*/nodes/node2/*/journal.jsonl >/dev/null 2>&1; do sleep 0.05; done; kill -9 $$) & fi;')
    report, path, proc = mpirun(out, 4, killer, 3)
    validate_schema(report, path)
    check([n["node"] for n in report["summary"]["nodes"]] == ["node0", "node1", "node3"],
          f"the three living nodes: {[n['node'] for n in report['summary']['nodes']]}")
    missing = report["cluster"]["missing"]
    check(len(missing) == 1 and missing[0]["node"] == "node2", f"node2 named missing: {missing}")
    check_totals(report, 3)


def test_merge1000():
    """1000 node reports merged in seconds, memory in proportion to the output, schema-valid, HTML short."""
    work = tempfile.mkdtemp(prefix="cmeter-e2e-merge-")
    proc, took = run([MAKE_REPORTS, work, "1000"])
    check(proc.returncode == 0, f"make_node_reports: {proc.stderr}")
    inputs = sorted(glob.glob(os.path.join(work, "node-*.json")))
    check(len(inputs) == 1000, "1000 node reports")
    merged = os.path.join(work, "merged.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc, took = run([CMETER, "report", "merge", *inputs, "-o", merged], timeout=300)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    check(proc.returncode == 0, f"merge exit {proc.returncode}: {proc.stderr[-2000:]}")
    size = os.path.getsize(merged)
    print(f"merge of 1000 reports: {took:.2f} s, peak RSS {rss_kib / 1024:.0f} MiB, output {size / 2**20:.1f} MiB")
    check(took < 60, f"merge of 1000 reports took {took:.1f} s")
    check(rss_kib * 1024 < 64 * 2**20 + 12 * size, f"peak RSS {rss_kib} KiB not in proportion to {size} B output")
    report = load(merged)
    validate_schema(report, merged)
    nodes = report["summary"]["nodes"]
    check(len(nodes) == 1000, "1000 node sections")
    total = report["summary"]["node_totals"]["fp32_flops_per_s"]
    check(total["devices"] == 1000, f"1000 CPUs counted once each (PoCL on every tenth left out): {total['devices']}")
    check(len(report["summary"]["excluded_from_totals"]) == 100, "the 100 PoCL devices listed as left out")
    html = os.path.join(work, "merged.html")
    proc, took_html = run([CMETER, "report", "html", merged, "-o", html], timeout=120)
    check(proc.returncode == 0, f"html exit {proc.returncode}: {proc.stderr[-1000:]}")
    text = open(html).read()
    check("node-table" in text and "node-distribution" in text, "a per-node table and a distribution chart")
    check(text.count('class="card"') == 0, "no per-device cards for a 1000-node report")
    first = text.index("node-table")
    check(text.index("node-0", first) > 0, "the per-node table lists nodes")
    print(f"html of the merged report: {took_html:.2f} s, {len(text) / 2**20:.1f} MiB")
    shutil.rmtree(work)


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}

if __name__ == "__main__":
    TESTS[NAME]()
    print(f"PASS: {NAME}")
