#!/usr/bin/env python3
"""End-to-end test: the training workload reaches its target, and its anti-cheat checks bite.

Why this file exists: issue 13 asks that `cmeter run --profile train` on a device trains mlp-tiny to
its quality target with a schema-valid report (runs with logged seeds, olympic mean, trajectory check,
host-recomputed quality), that a plugin whose adamw.v1 skips the weight decay fails the trajectory
check (`invalid`), and that one whose gradients are scaled wrong never reaches the target (`failed`,
its loss curve kept). The faulty plugins are the test proxies over the real CPU plugin
(build/lib/cmeter/train-proxy-plugins, plugins/testing/proxy_plugin.cpp). `cmeter compare` aligns the
training result of two reports.
Usage: training_e2e.py CMETER SOURCE_DIR DEVICE [TRAIN_PROXY_DIR CPU_PLUGIN]
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from report_schema import schema_errors  # noqa: E402

CMETER, SOURCE, DEVICE = sys.argv[1:4]
PROXIES, CPU_PLUGIN = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (None, None)
PROFILE = os.path.join(SOURCE, "profiles", "train.yaml")
FAULTS = os.path.join(SOURCE, "tests", "fixtures", "profiles", "train_faults.yaml")


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)


def run_report(args, out, env=None):
    proc = subprocess.run([CMETER, "run", *args, "-o", out, "-q"], capture_output=True, text=True, timeout=600,
                          env=env)
    paths = glob.glob(os.path.join(out, "*", "report.json"))
    check(len(paths) == 1, f"one report expected; exit {proc.returncode}, stderr: {proc.stderr[-2000:]}")
    with open(paths[0]) as f:
        return proc, json.load(f), paths[0]


def check_healthy(report):
    errors = schema_errors(report)
    check(not errors, "report does not validate: " + "; ".join(errors[:5]))
    r = report["results"][0]
    tr = r.get("training")
    if r["status"] == "unsupported":
        check("missing ops" in r["reason"], f"unsupported must name the missing ops: {r['reason']}")
        print(f"SKIP: {DEVICE} lacks the training op set: {r['reason']}")
        sys.exit(77)
    check(r["status"] == "ok", f"status {r['status']}: {r['reason']}")
    check(isinstance(tr, dict), "no training member")
    runs = tr["runs"]
    check(len(runs) == tr["hyperparameters"]["runs"] == 3, f"three runs: {len(runs)}")
    check(len({run["seed"] for run in runs}) == 3, "each run has its own logged seed")
    for run in runs:
        check(run["converged"] and run["time_to_quality_s"] > 0, f"run {run['index']} converged: {run}")
        check(run["device_quality"] <= tr["target"], f"run {run['index']}: device quality at the target")
        check(run["host_quality"] <= tr["target"] * (1 + tr["quality_tolerance"]),
              f"run {run['index']}: host-recomputed quality {run['host_quality']}")
        check(run["trajectory"]["passed"] and run["trajectory"]["steps"] > 0, f"trajectory: {run['trajectory']}")
        check(len(run["curve"]) >= 2 and run["curve"][-1]["quality"] < run["curve"][0]["quality"],
              f"run {run['index']}: the quality curve falls")
        band = tr["reference_band"]
        check(band is not None and band["min_steps"] <= run["steps"], f"run {run['index']}: {run['steps']} steps")
    times = sorted(run["time_to_quality_s"] for run in runs)
    check(abs(tr["olympic_mean_s"] - times[1]) < 1e-9, f"olympic mean of 3 is the middle run: {tr['olympic_mean_s']}")
    check({"gemm.v1", "adamw.v1", "swiglu_backward.v1", "reduce.v1"} <= set(tr["op_paths"]), "op paths")
    return r


def main():
    devices = json.loads(subprocess.run([CMETER, "devices", "--json"], capture_output=True, text=True,
                                        timeout=120).stdout)
    if not any(d["id"] == DEVICE for d in devices["devices"]):
        print(f"SKIP: no {DEVICE}")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as out:
        proc, report, path = run_report(["--profile", PROFILE, "--device", DEVICE], out)
        check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}")
        r = check_healthy(report)
        tr = r["training"]
        print(f"{DEVICE}: time to quality {tr['olympic_mean_s']:.3f} s (olympic mean of 3), "
              f"spread {tr['spread']:.2f}, steps {[run['steps'] for run in tr['runs']]}")
        md = subprocess.run([CMETER, "report", "md", path], capture_output=True, text=True, timeout=60)
        check(md.returncode == 0 and "Training" in md.stdout, f"the Markdown report shows training: {md.stderr}")
        cmp = subprocess.run([CMETER, "compare", path, path], capture_output=True, text=True, timeout=60)
        row = [line for line in cmp.stdout.splitlines() if line.strip().startswith("train-mlp-tiny")]
        check(cmp.returncode == 0 and row and "x1.000" in row[0],
              f"compare aligns the training result: {cmp.stdout[-1500:]} {cmp.stderr[-500:]}")
    if PROXIES is None:
        print("PASS")
        return
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, CMETER_PROXY_TARGET=CPU_PLUGIN)
        proc, report, _ = run_report(["--plugin-dir", PROXIES, "--profile", FAULTS], out, env)
        check(proc.returncode == 3, f"the run is incomplete (exit 3), got {proc.returncode}: {proc.stderr[-2000:]}")
        errors = schema_errors(report)
        check(not errors, "fault report does not validate: " + "; ".join(errors[:5]))
        results = {r["device"]: r for r in report["results"]}
        nodecay = results.get("adamw_no_decay:0")
        check(nodecay is not None and nodecay["status"] == "invalid" and "trajectory" in nodecay["reason"],
              f"adamw_no_decay: invalid by the trajectory check: {nodecay and (nodecay['status'], nodecay['reason'])}")
        traj = nodecay["training"]["runs"][0]["trajectory"]
        check(not traj["passed"] and traj["p90_error"] > nodecay["training"]["trajectory_tolerance"], f"{traj}")
        wrong = results.get("wrong_grad_scale:0")
        check(wrong is not None and wrong["status"] == "failed" and "did not reach" in wrong["reason"],
              f"wrong_grad_scale: failed: {wrong and (wrong['status'], wrong['reason'])}")
        run = wrong["training"]["runs"][0]
        check(not run["converged"] and len(run["curve"]) >= 1, f"wrong_grad_scale keeps its curve: {run['curve'][:3]}")
        print(f"faults: adamw_no_decay invalid (trajectory p90 {traj['p90_error']:.3g}), wrong_grad_scale failed "
              f"after {run['steps']} steps (last quality {run['device_quality']})")
    print("PASS")


main()
