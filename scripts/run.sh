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
# Precompiled headers and unity builds of the core, reports and CLI (their heavy headers parsed once
# per batch of files): the cheapest build of the tool (docs/results/ci-time.md). CI's two trees build
# the same way; a plain scripts/build.sh (a developer's tree) builds one file at a time, which is what
# catches a file that leans on another's #includes.
scripts/build.sh Release -DCMETER_BUILD_TESTS=OFF -DCMETER_BUILD_BENCHES=OFF -DCMETER_PCH=ON -DCMETER_UNITY=ON
run_start_ns=$(date +%s%N)
status=0
"$CMETER_BUILD_DIR/bin/cmeter" run --profile quick "$@" || status=$?
elapsed_ms=$((($(date +%s%N) - run_start_ns) / 1000000))
printf 'run.sh: cmeter run took %d.%03d s, run.sh %d s in all (exit %d)\n' $((elapsed_ms / 1000)) \
  $((elapsed_ms % 1000)) $((SECONDS - start_s)) "$status"
exit $status
