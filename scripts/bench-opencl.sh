#!/usr/bin/env bash
# Re-measures the OpenCL plugin's figures of docs/results/opencl-pocl.md: runs
# cmeter_opencl_plugin_bench (fma_peak f32/f64, STREAM, copy, GEMM f32/f16/f64 at n=1024, noop
# latency, and direct CLBlast SGEMM on the same device) RUNS times and prints each figure's median
# over the runs (each run's figure is itself the median of 7 samples), then clpeak's figures the same
# way when clpeak is installed (comparison only; `apt-get install clpeak`).
# Usage: scripts/bench-opencl.sh [BUILD_DIR (default build)] [RUNS (default 5)] [DEVICE (default 0)]
# Run it on a quiet machine: every figure is shared-core sensitive.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
runs=${2:-5}
device=${3:-0}
bench="$build_dir/bin/cmeter_opencl_plugin_bench"
[ -x "$bench" ] || { echo "no $bench: build first (scripts/build.sh Release)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
"$bench" --device "$device" --reps 1 latency >/dev/null  # cold run: PoCL compiles and caches kernels
for i in $(seq "$runs"); do
  "$bench" --device "$device" all > "$out/run$i.txt"
  echo "# run $i done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
if command -v clpeak >/dev/null; then
  clpeak -p 0 -d "$device" >/dev/null 2>&1 || true  # cold run
  for i in $(seq "$runs"); do clpeak -p 0 -d "$device" > "$out/clpeak$i.txt" 2>&1 || true; done
fi
python3 - "$out" "$runs" <<'PY'
import glob, os, re, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
figures = {}
for path in sorted(glob.glob(os.path.join(out, "run*.txt"))):
    for line in open(path):
        m = re.match(r"^(\S.*?)\s+median\s+([\d.]+) (\S+)", line)
        if m:
            figures.setdefault((m.group(1), m.group(3)), []).append(float(m.group(2)))
print(f"\n## cmeter_opencl_plugin_bench: median over {runs} runs (min..max of the run medians)")
for (name, unit), values in figures.items():
    print(f"{name:36s} {statistics.median(values):9.2f} {unit:8s} ({min(values):.2f}..{max(values):.2f}, n={len(values)})")
clpeak = {}
for path in sorted(glob.glob(os.path.join(out, "clpeak*.txt"))):
    section = ""
    for line in open(path):
        s = line.strip()
        if s.endswith(")") and "(" in s and ":" not in s:
            section = s.split("(")[0].strip()
        m = re.match(r"^([\w ]+?)\s*:\s*([\d.]+)\s*(?:us)?\s*$", s)
        if m and (section or m.group(1).startswith("Kernel launch")):
            clpeak.setdefault(f"{section} / {m.group(1)}", []).append(float(m.group(2)))
if clpeak:
    print(f"\n## clpeak: median over {runs} runs")
    for key, values in clpeak.items():
        print(f"{key:60s} {statistics.median(values):10.2f} (n={len(values)})")
PY
