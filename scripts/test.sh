#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs every test (ctest); then the sanitizer build with
# the same tests and a short fuzz run (scripts/test-sanitizers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CMETER_BUILD_DIR=${CMETER_BUILD_DIR:-build}
CMETER_WERROR=ON scripts/build.sh RelWithDebInfo
(cd "$CMETER_BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" --timeout 600)
# The same tests in a clang ASan + UBSan build (build-asan), then each fuzz target for
# $CMETER_FUZZ_SECONDS (default 15) s; CMETER_SKIP_SANITIZERS=1 skips it (docs/reliability.md).
[ "${CMETER_SKIP_SANITIZERS:-0}" = 1 ] || scripts/test-sanitizers.sh
