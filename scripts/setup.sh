#!/usr/bin/env bash
# Installs what cmeter needs on Debian 12, with apt-get, only what is missing. Two sets:
#   scripts/setup.sh --run   what scripts/run.sh needs: the compiler, CMake, the core's libraries (and oneDNN,
#                            which the CPU plugin links for bf16 and i8 GEMM) and the
#                            OpenCL headers + ICD loader (+ CLBlast), the Vulkan headers + loader + glslc
#                            (SPIR-V at build time) and Open MPI (cmeter run --mpi, cluster metering;
#                            optional at build time), so the tool and its plugins build;
#   scripts/setup.sh         everything (scripts/test.sh): the above plus the test tools (doctest, Python's
#                            jsonschema, clang-format, clang + its sanitizer runtimes for the fuzz build,
#                            Chromium for the HTML test, PoCL as the OpenCL device and Mesa's lavapipe
#                            (mesa-vulkan-drivers) as the Vulkan device the tests run on, hipcc and the HIP
#                            runtime so the HIP plugin builds and is checked without a GPU).
# Idempotent; needs root (or sudo) only when something must be installed. Says what it installs.
set -euo pipefail

run_packages=(
  build-essential cmake ninja-build pkg-config git
  libtbb-dev libhwloc-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev
  libopenblas-dev libsodium-dev libdnnl-dev
  ocl-icd-opencl-dev opencl-headers libclblast-dev
  libvulkan-dev glslc
  libopenmpi-dev openmpi-bin
)
test_packages=(
  hwloc doctest-dev pocl-opencl-icd clinfo python3 python3-jsonschema clang-format
  clang libclang-rt-14-dev chromium mesa-vulkan-drivers
  hipcc libamdhip64-dev  # the HIP plugin (plugins/hip) builds and loads with zero devices in CI
  python3-yaml           # tests/check_device_specs.py (ctest device_specs) reads profiles/devices
)

case "${1:-}" in
  --run) packages=("${run_packages[@]}") ;;
  "") packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: scripts/setup.sh [--run]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
start_s=$SECONDS
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done in $((SECONDS - start_s)) s"
