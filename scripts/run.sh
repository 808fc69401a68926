#!/usr/bin/env bash
# The main job: set up, build (Release), and run the `quick` profile on every device found.
# Prints the summary table and the report path. Extra arguments go to `cmeter run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh Release
start_ns=$(date +%s%N)
status=0
./build/bin/cmeter run --profile quick "$@" || status=$?
end_ns=$(date +%s%N)
elapsed_ms=$(( (end_ns - start_ns) / 1000000 ))
printf 'run.sh: cmeter run took %d.%03d s (exit %d)\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000)) "$status"
exit $status
