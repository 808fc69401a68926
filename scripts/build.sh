#!/usr/bin/env bash
# Configures and builds cmeter into ./build (or $CMETER_BUILD_DIR). Usage: scripts/build.sh [Release|Debug|RelWithDebInfo] [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
build_type=${1:-Release}
shift || true
build_dir=${CMETER_BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && [ ! -f "$build_dir/Makefile" ] && generator=(-G Ninja)
# ccache, when installed, makes rebuilds in several build directories cheap (not needed otherwise).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build_dir" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DCMETER_WERROR="${CMETER_WERROR:-OFF}" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
