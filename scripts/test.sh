#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs every test (ctest). Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CMETER_BUILD_DIR=${CMETER_BUILD_DIR:-build}
CMETER_WERROR=ON scripts/build.sh RelWithDebInfo
cd "$CMETER_BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600
