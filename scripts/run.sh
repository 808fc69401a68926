#!/usr/bin/env bash
# The main job: install what the tool needs (scripts/setup.sh --run), build only the `cmeter` binary and
# the shipped plugins (Release; no tests, no benches: those are scripts/test.sh's), and run the `quick`
# profile on every device found. Prints the summary table and the report path. Extra arguments go to
# `cmeter run`. The build's own output goes to build/configure.log and build/build.log
# (CMETER_BUILD_DIR, default build).
set -euo pipefail
cd "$(dirname "$0")/.."
start_s=$SECONDS
scripts/setup.sh --run
export CMETER_BUILD_DIR=${CMETER_BUILD_DIR:-build}
# Unity builds of the core, reports and CLI (32 sources a batch, so their heavy headers are parsed and
# their templates instantiated a few times, not once per file), without precompiled headers (with
# batches that large, generating four of them cost more than they save: 120-129 s against 142-155 s,
# same minute; docs/results/ci-time.md). CI's trees build unity too; a plain scripts/build.sh (a
# developer's tree) builds one file at a time, which is what catches a file that leans on another's
# #includes.
# Plugins only for the drivers this machine has: a plugin whose runtime finds no driver finds no device,
# and on 2 cores each one costs 20-50 s of a first report's build. CMETER_ALL_PLUGINS=1 builds every
# plugin whose SDK is found (what scripts/build.sh does); rerunning after installing a driver adds it.
plugin_args=()
skipped=()
want_plugin() {  # want_plugin NAME CMAKE_SWITCH REASON_IF_ABSENT PRESENT(0/1)
  if [ "$4" = 1 ] || [ "${CMETER_ALL_PLUGINS:-0}" = 1 ]; then
    plugin_args+=("-D$2=AUTO")
  else
    plugin_args+=("-D$2=OFF")
    skipped+=("$1 ($3)")
  fi
}
has_files() { compgen -G "$1" >/dev/null; }
opencl=0
{ [ -n "${OCL_ICD_VENDORS:-}" ] || has_files '/etc/OpenCL/vendors/*.icd'; } && opencl=1
want_plugin OpenCL CMETER_WITH_OPENCL "no OpenCL driver: no /etc/OpenCL/vendors/*.icd" $opencl
vulkan=0
{ [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] || has_files '/usr/share/vulkan/icd.d/*.json' ||
  has_files '/etc/vulkan/icd.d/*.json'; } && vulkan=1
want_plugin Vulkan CMETER_WITH_VULKAN "no Vulkan driver: no ICD file in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d" $vulkan
cuda=0
{ ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' || [ -e /dev/nvidiactl ]; } && cuda=1
want_plugin CUDA CMETER_WITH_CUDA "no NVIDIA driver: no libcuda.so.1" $cuda
hip=0
[ -e /dev/kfd ] && hip=1
want_plugin HIP CMETER_WITH_HIP "no ROCm driver: no /dev/kfd" $hip
if [ ${#skipped[@]} -gt 0 ]; then
  printf -v skipped_text '%s; ' "${skipped[@]}"
  echo "run.sh: not building the plugins for drivers this machine lacks: ${skipped_text%; } (CMETER_ALL_PLUGINS=1 builds them)"
fi
scripts/build.sh Release -DCMETER_BUILD_TESTS=OFF -DCMETER_BUILD_BENCHES=OFF -DCMETER_PCH=OFF -DCMETER_UNITY=ON \
  "${plugin_args[@]}"
run_start_ns=$(date +%s%N)
status=0
"$CMETER_BUILD_DIR/bin/cmeter" run --profile quick "$@" || status=$?
elapsed_ms=$((($(date +%s%N) - run_start_ns) / 1000000))
printf 'run.sh: cmeter run took %d.%03d s, run.sh %d s in all (exit %d)\n' $((elapsed_ms / 1000)) \
  $((elapsed_ms % 1000)) $((SECONDS - start_s)) "$status"
exit $status
