#!/usr/bin/env bash
# gpu-check.sh - everything the CUDA plugin needs shown on a GPU machine, in one script: checks the
# machine (driver, toolkit, libraries), builds what it can, then runs `cmeter devices`, the CUDA plugin
# tests (GPU ones included), `cmeter run --profile standard --device cuda:0` (and gpu-extra), and
# cmeter_cuda_plugin_bench (plugin vs direct cuBLASLt / cudaMemcpyAsync). Everything it prints and produces
# goes under $OUT (default: build-gpu/gpu-check); $OUT/summary.txt lists each step, its command, exit
# code and time. Works offline; never installs anything: what is missing is reported.
#
# If the core's dependencies (fmt, yaml-cpp, TBB, CLI11, nlohmann-json, libsodium, hwloc, OpenBLAS,
# doctest) are missing, it falls back to building the plugin alone (plugins/cuda as its own CMake
# project): tests (if doctest is there) and the bench still run; `cmeter` steps are skipped, said so.
#
# Usage: scripts/gpu-check.sh [STEP...]   steps: env build devices check tests run extra llm llm8b bench
#                                         (default: all but llm8b)
#        scripts/gpu-check.sh pack          (on a machine WITHOUT a GPU but with the toolkit and the core's
#                                            dependencies: build, then copy the binaries, plugins and the
#                                            non-system shared libraries they need into $CMETER_GPU_PACK_DIR,
#                                            default build-gpu-pack, so a bare GPU machine needs no build;
#                                            there run: CMETER_GPU_BUILD_DIR=build-gpu-pack scripts/gpu-check.sh
#                                            env devices tests run extra bench)
# Each step fits a 10-minute command limit on an H100 (`run` is the longest, ~6 min), so a caller with
# such a limit runs them one or two per command; the build is kept in build-gpu/ between commands.
# Environment: OUT, CMETER_GPU_BUILD_DIR (default build-gpu), CMETER_GPU_DEVICE (default cuda:0),
# JOBS (default: nproc), CMETER_GPU_{RUN,EXTRA,LLM,LLM8B,CHECK,TESTS}_TIMEOUT_S (step limits), CMETER_GPU_DEADLINE_S (seconds from the start after which no step starts, and
# each step's timeout is clamped to what is left: a caller with a hard limit gets every output that fits).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${CMETER_GPU_BUILD_DIR:-build-gpu}
PLUGIN_BUILD="$BUILD-plugin"
OUT=${OUT:-$BUILD/gpu-check}
DEVICE=${CMETER_GPU_DEVICE:-cuda:0}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(env build devices check tests run extra llm bench)

say() { echo "gpu-check: $*" | tee -a "$SUMMARY"; }
DEADLINE_S=${CMETER_GPU_DEADLINE_S:-0}

# A packed build (see `pack`) carries the shared libraries a bare machine lacks in $BUILD/deps; cuBLASLt
# is too large to carry and comes from the machine's toolkit or its Python wheels.
if [ -d "$BUILD/deps" ]; then
  export LD_LIBRARY_PATH="$ROOT/$BUILD/deps${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The tests and the bench name the plugin by its build-tree path; a packed build is elsewhere.
  export CMETER_CUDA_PLUGIN_FILE="$ROOT/$BUILD/lib/cmeter/plugins/libcmeter-cuda.so"
fi
if ! ldconfig -p 2>/dev/null | grep -q libcublasLt.so.13; then
  cublas_dir=$(dirname "$( (ls /usr/local/cuda/lib64/libcublasLt.so.13* /usr/local/cuda-*/lib64/libcublasLt.so.13* \
    /usr/local/cuda*/targets/x86_64-linux/lib/libcublasLt.so.13* 2>/dev/null;
    find /opt /usr/local/lib /usr/lib -name 'libcublasLt.so.13*' 2>/dev/null) | head -n 1)" 2>/dev/null)
  [ -n "$cublas_dir" ] && [ "$cublas_dir" != . ] && export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# step_cmd NAME TIMEOUT_S COMMAND...: runs COMMAND with output in $OUT/NAME.log, records rc and time.
step_cmd() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS rc
  if [ "$DEADLINE_S" -gt 0 ]; then
    local left=$((DEADLINE_S - SECONDS - 5))
    if [ "$left" -lt 20 ]; then say "$name: skipped (deadline ${DEADLINE_S}s reached): $*"; return 124; fi
    [ "$left" -lt "$limit" ] && limit=$left
  fi
  echo "\$ $*" >"$OUT/$name.log"
  timeout --signal=TERM --kill-after=20 "$limit" "$@" >>"$OUT/$name.log" 2>&1
  rc=$?
  printf '%-22s rc=%-4s %4ss  %s\n' "$name" "$rc" "$((SECONDS - start))" "$*" | tee -a "$SUMMARY"
  [ "$rc" -eq 124 ] && say "  $name: stopped after ${limit}s (timeout)"
  tail -n 25 "$OUT/$name.log" | sed "s/^/  [$name] /"
  return "$rc"
}

find_nvcc() {
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc
  elif [ -x /usr/local/cuda/bin/nvcc ]; then echo /usr/local/cuda/bin/nvcc
  else ls -d /usr/local/cuda-*/bin/nvcc 2>/dev/null | sort -V | tail -n 1
  fi
}

step_env() {
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(hostname) $(uname -srm)"
    grep -m1 'model name' /proc/cpuinfo 2>/dev/null
    echo "cores: $(nproc)  memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "git: $(git rev-parse --short=12 HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | wc -l) changed files"
    echo "--- nvidia-smi"
    if command -v nvidia-smi >/dev/null; then
      nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,memory.total,power.limit,clocks.max.sm,clocks.max.mem,mig.mode.current --format=csv
      nvidia-smi | head -n 5
    else echo "nvidia-smi: not found"; fi
    echo "--- driver libraries (ldconfig)"
    for lib in libcuda.so.1 libnvidia-ml.so.1; do
      if ldconfig -p 2>/dev/null | grep -q "$lib"; then echo "$lib: $(ldconfig -p | grep -m1 "$lib" | awk '{print $NF}')"
      else echo "$lib: MISSING"; fi
    done
    echo "--- toolkit"
    local nvcc; nvcc=$(find_nvcc)
    if [ -n "$nvcc" ]; then
      "$nvcc" --version | tail -n 2
      local libdir; libdir=$(dirname "$(dirname "$nvcc")")
      for f in lib64/libcudart_static.a lib64/libcublasLt.so lib/libcudart_static.a lib/libcublasLt.so; do
        [ -e "$libdir/$f" ] && echo "$libdir/$f: present"
      done
    else echo "nvcc: MISSING (install the CUDA toolkit, or set PATH / CUDAToolkit_ROOT); the plugin cannot be built"; fi
    echo "--- build tools"
    for t in cmake ninja make g++ pkg-config python3 ccache; do
      printf '%-11s %s\n' "$t" "$(command -v $t >/dev/null && ($t --version 2>&1 | head -n 1) || echo MISSING)"
    done
    echo "--- core dependencies (pkg-config / headers)"
    for p in fmt yaml-cpp tbb libsodium hwloc openblas; do
      printf '%-11s %s\n' "$p" "$(pkg-config --modversion $p 2>/dev/null || echo MISSING)"
    done
    for h in CLI/CLI.hpp nlohmann/json.hpp doctest/doctest.h; do
      printf '%-19s %s\n' "$h" "$( [ -e /usr/include/$h ] || [ -e /usr/local/include/$h ] && echo present || echo MISSING)"
    done
  } >"$OUT/env.txt" 2>&1
  say "environment written to $OUT/env.txt:"
  grep -E "MISSING|driver_version|^[0-9]+, |release|CUDA Version" "$OUT/env.txt" | sed 's/^/  /' | tee -a "$SUMMARY"
}

have_full_build() { [ -x "$BUILD/bin/cmeter" ] && [ -e "$BUILD/lib/cmeter/plugins/libcmeter-cuda.so" ]; }
plugin_dir() { if have_full_build; then echo "$BUILD"; else echo "$PLUGIN_BUILD"; fi; }

step_build() {
  local nvcc gen=() launcher=()
  nvcc=$(find_nvcc)
  if [ -z "$nvcc" ]; then say "build: no nvcc found: the CUDA plugin cannot be built here (see env.txt)"; return 1; fi
  export PATH="$(dirname "$nvcc"):$PATH"
  command -v ninja >/dev/null && gen=(-G Ninja)
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Build files made by another generator cannot be reused.
  [ -f "$BUILD/CMakeCache.txt" ] && [ ${#gen[@]} -eq 0 ] && grep -q Ninja "$BUILD/CMakeCache.txt" && rm -rf "$BUILD"
  if step_cmd configure 300 cmake -S . -B "$BUILD" "${gen[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMETER_WITH_CUDA=ON -DCMETER_WITH_OPENCL=OFF -DCMETER_WERROR=OFF; then
    if step_cmd build 540 cmake --build "$BUILD" -j "$JOBS" --target cmeter cmeter_cuda_plugin cmeter_cuda_plugin_bench \
        cmeter_cuda_plugin_tests cmeter_cpu_plugin; then
      say "build: full build in $BUILD (cmeter + CUDA plugin + tests + bench)"
      return 0
    fi
    say "build: the full build failed (see $OUT/build.log); trying the plugin alone"
  else
    say "build: the full configure failed (missing core dependencies? see $OUT/configure.log); trying the plugin alone"
    grep -E -A2 "CMake Error|Could NOT find|not found|No package" "$OUT/configure.log" | head -n 10 | sed 's/^/  /' | tee -a "$SUMMARY"
  fi
  step_cmd configure-plugin 300 cmake -S plugins/cuda -B "$PLUGIN_BUILD" "${gen[@]}" "${launcher[@]}" \
      -DCMAKE_BUILD_TYPE=Release || { say "build: the plugin alone does not configure either"; return 1; }
  step_cmd build-plugin 540 cmake --build "$PLUGIN_BUILD" -j "$JOBS" || return 1
  say "build: plugin-only build in $PLUGIN_BUILD (no cmeter binary: devices/run/extra steps are skipped)"
}

step_devices() {
  if ! have_full_build; then say "devices: skipped (no cmeter binary)"; return 0; fi
  step_cmd devices 120 "$BUILD/bin/cmeter" devices
  "$BUILD/bin/cmeter" devices --json >"$OUT/devices.json" 2>/dev/null
}

# The conformance checks of every op the CUDA plugin offers (`plugin check --level full`): the shapes a
# CPU cannot show wrong on this card (the decode GEMMs' op(A) = Aᵀ shapes among them).
step_check() {
  if ! have_full_build; then say "check: skipped (no cmeter binary)"; return 0; fi
  step_cmd plugin-check "${CMETER_GPU_CHECK_TIMEOUT_S:-300}" "$BUILD/bin/cmeter" plugin check --level full \
    --json "$OUT/plugin-check.json" --md "$OUT/plugin-check.md" "$BUILD/lib/cmeter/plugins/libcmeter-cuda.so"
  return 0
}

step_tests() {
  local dir; dir=$(plugin_dir)
  if [ ! -x "$dir/bin/cmeter_cuda_plugin_tests" ]; then say "tests: skipped (not built: doctest missing?)"; return 0; fi
  step_cmd plugin-tests 120 "$dir/bin/cmeter_cuda_plugin_tests" --no-gpu
  step_cmd plugin-gpu-tests "${CMETER_GPU_TESTS_TIMEOUT_S:-500}" "$dir/bin/cmeter_cuda_plugin_tests" --gpu-only -s
  [ $? -eq 77 ] && say "tests: the GPU tests were SKIPPED: the plugin found no device (see plugin-gpu-tests.log)"
  return 0
}

run_profile() {
  local name=$1 profile=$2 limit=$3
  if ! have_full_build; then say "$name: skipped (no cmeter binary)"; return 0; fi
  mkdir -p "$OUT/$name"
  # --show-worker-stderr: the log keeps the inference cases' progress and each untimed phase's duration.
  step_cmd "$name" "$limit" "$BUILD/bin/cmeter" run --profile "$profile" --device "$DEVICE" -o "$OUT/$name" \
    --show-worker-stderr
  local report; report=$(ls -t "$OUT/$name"/*/report.json 2>/dev/null | head -n 1)
  [ -n "$report" ] && cp "$report" "$OUT/report-$name.json"
  [ -n "$report" ] && python3 - "$report" <<'PY' | tee -a "$SUMMARY"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  report {sys.argv[1]}: verdict {r.get('verdict') or 'none (the profile has no criteria)'}")
for c in r.get("results", []):
    metrics = c.get("metrics") or []
    m = next((x for x in metrics if x.get("name") != "time_s"), metrics[0] if metrics else None)
    med = (m or {}).get("statistics", {}).get("median")
    if not isinstance(med, (int, float)):
        print(f"  {c['case_id']:<44} {c['status']:<12} {c.get('reason', '')}")
        continue
    peak = (c.get("plausibility") or {}).get("peak")
    eff = f"  {100 * med / peak:5.1f}% of peak" if peak else ""
    t = c.get("telemetry") or {}
    pw = f"  {t['avg_power_w']:.0f} W, {t.get('energy_per_call_j', 0):.4g} J/call" if "avg_power_w" in t else ""
    print(f"  {c['case_id']:<44} {c['status']:<12} {med:12.4g} {m.get('unit', '')}{eff}{pw}")
PY
  return 0
}

# Runs on a build machine (no GPU needed): build, then pack what a bare GPU machine needs to run it.
step_pack() {
  local pack=${CMETER_GPU_PACK_DIR:-build-gpu-pack}
  step_build || return 1
  have_full_build || { say "pack: no full build in $BUILD"; return 1; }
  rm -rf "$pack" && mkdir -p "$pack/bin" "$pack/lib/cmeter/plugins" "$pack/deps"
  cp "$BUILD"/bin/{cmeter,cmeter_cuda_plugin_bench,cmeter_cuda_plugin_tests} "$pack/bin/"
  cp "$BUILD"/lib/cmeter/plugins/libcmeter-{cuda,cpu}.so "$pack/lib/cmeter/plugins/"
  # Every resolved non-system library (not glibc, the C++ runtime or the driver / cuBLAS).
  ldd "$pack"/bin/* "$pack"/lib/cmeter/plugins/*.so | awk '/=> \// {print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux[^/]*|libcuda|libcublas[^/]*|libnvidia[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$pack/deps/"; done
  strip --strip-unneeded "$pack"/bin/* "$pack"/lib/cmeter/plugins/*.so 2>/dev/null
  say "pack: $pack ($(du -sh "$pack" | cut -f1)): $(ls "$pack/deps" | tr '\n' ' ')"
}

step_run() { run_profile run-standard standard "${CMETER_GPU_RUN_TIMEOUT_S:-590}"; }
step_extra() { run_profile run-gpu-extra profiles/gpu-extra.yaml "${CMETER_GPU_EXTRA_TIMEOUT_S:-400}"; }
# The inference workload (profiles/llm.yaml: llm-tiny and llm-1b, three scenarios) on the CUDA plugin's
# ABI 1.1 ops; its report carries MFU/MBU, TTFT/TPOT and the accuracy pass (issue 12's GPU figures).
step_llm() { run_profile run-llm profiles/llm.yaml "${CMETER_GPU_LLM_TIMEOUT_S:-500}"; }
# llm-8b (profiles/llm-large.yaml): 16 GB of bf16 weights; most of a case's time is the host's FP64
# reference (on a 16-core host roughly a minute a case), so it is not in the default steps.
step_llm8b() { run_profile run-llm8b profiles/llm-large.yaml "${CMETER_GPU_LLM8B_TIMEOUT_S:-560}"; }

step_bench() {
  local dir; dir=$(plugin_dir)
  if [ ! -x "$dir/bin/cmeter_cuda_plugin_bench" ]; then say "bench: skipped (not built)"; return 0; fi
  step_cmd bench 400 "$dir/bin/cmeter_cuda_plugin_bench" --samples 20 --json "$OUT/bench.json"
  step_cmd bench-no-hold 300 env CMETER_CUDA_NO_HOLD=1 "$dir/bin/cmeter_cuda_plugin_bench" --samples 10 --no-gemm \
    --json "$OUT/bench-no-hold.json"
  return 0
}

say "=== $(date -u +%FT%TZ) steps: ${steps[*]} (output in $OUT)"
for s in "${steps[@]}"; do
  case "$s" in
    env | build | devices | check | tests | run | extra | llm | llm8b | bench | pack) "step_$s" ;;
    all) for t in env build devices check tests run extra bench; do "step_$t"; done ;;
    *) say "unknown step '$s' (env build devices check tests run extra llm llm8b bench pack)"; exit 2 ;;
  esac
done
say "=== done; summary in $SUMMARY"
