#!/usr/bin/env bash
# Sets up (every package), builds everything (tool, plugins, tests, benches) with warnings as errors,
# and runs every test (ctest); then the sanitizer build with the same tests and a short fuzz run
# (scripts/test-sanitizers.sh). Ends with the time each phase took (docs/results/ci-time.md).
set -euo pipefail
cd "$(dirname "$0")/.."
phases=()
phase_start_s=$SECONDS
phase_done() {
  phases+=("$(printf '%-12s %5d s' "$1" $((SECONDS - phase_start_s)))")
  phase_start_s=$SECONDS
}
scripts/setup.sh
phase_done setup
export CMETER_BUILD_DIR=${CMETER_BUILD_DIR:-build}
# No debug info (-g0): a fifth less compile time per heavy file than -g1 (line tables); a crash here
# still prints function names, and the sanitizer tree (scripts/test-sanitizers.sh) keeps -g1 for its
# stack traces. Unity builds of the core, reports, CLI and unit tests (CMETER_UNITY, cmake/unity.cmake):
# about half the compile time (docs/results/ci-time.md).
CMETER_WERROR=ON scripts/build.sh RelWithDebInfo -DCMETER_BUILD_TESTS=ON -DCMETER_BUILD_BENCHES=ON -DCMETER_UNITY=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g0 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g0 -DNDEBUG"
phase_done build
(cd "$CMETER_BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" --timeout 600)
phase_done ctest
# The same tests in a gcc ASan + UBSan build (build-asan), then each fuzz target (clang, build-fuzz) for
# $CMETER_FUZZ_SECONDS (default 10) s; CMETER_SKIP_SANITIZERS=1 skips it (docs/reliability.md).
if [ "${CMETER_SKIP_SANITIZERS:-0}" != 1 ]; then
  scripts/test-sanitizers.sh
  phase_done sanitizers
fi
echo "test.sh: all passed; time per phase:"
printf '  %s\n' "${phases[@]}"
