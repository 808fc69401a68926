#!/usr/bin/env bash
# Installs what cmeter needs to build and test on Debian 12, with apt-get, only what is missing.
# Idempotent; needs root (or sudo) only when something must be installed. Says what it installs.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtbb-dev libhwloc-dev hwloc libcli11-dev libyaml-cpp-dev doctest-dev nlohmann-json3-dev libfmt-dev
  libopenblas-dev libsodium-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev
  python3 python3-jsonschema clang-format
  clang libclang-rt-14-dev chromium
)

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
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
