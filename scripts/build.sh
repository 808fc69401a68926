#!/usr/bin/env bash
# Configures and builds cmeter into ./build (or $CMETER_BUILD_DIR), quietly: CMake's and the compiler's
# output go to <build dir>/configure.log and <build dir>/build.log; the terminal gets one progress line
# and, on failure, the failing step's output. CMETER_VERBOSE=1 prints everything instead.
# Usage: scripts/build.sh [Release|Debug|RelWithDebInfo] [extra cmake args]
# Environment: CMETER_BUILD_DIR, CMETER_WERROR (OFF), CMETER_BUILD_TARGETS (default: all),
#              CMETER_JOBS (default: nproc + 1).
set -euo pipefail
cd "$(dirname "$0")/.."
build_type=${1:-Release}
shift || true
build_dir=${CMETER_BUILD_DIR:-build}
# One job more than cores: a link or a short step overlaps the compiles (the heavy steps are CPU-bound).
jobs=${CMETER_JOBS:-$(($(nproc) + 1))}
read -r -a targets <<<"${CMETER_BUILD_TARGETS:-}"
generator=()
command -v ninja >/dev/null && [ ! -f "$build_dir/Makefile" ] && generator=(-G Ninja)
# ccache, when installed, makes rebuilds in several build directories cheap (not needed otherwise).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Tests and benches on unless the arguments say otherwise (scripts/run.sh does), so a build directory
# that run.sh configured builds everything again when this script is called plainly.
configure=(cmake -S . -B "$build_dir" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE="$build_type"
  -DCMETER_WERROR="${CMETER_WERROR:-OFF}" -DCMETER_BUILD_TESTS=ON -DCMETER_BUILD_BENCHES=ON "$@")
build=(cmake --build "$build_dir" -j "$jobs" ${targets[@]+--target "${targets[@]}"})

if [ "${CMETER_VERBOSE:-0}" = 1 ]; then
  "${configure[@]}"
  exec "${build[@]}"
fi

mkdir -p "$build_dir"
start_s=$SECONDS
if ! "${configure[@]}" >"$build_dir/configure.log" 2>&1; then
  echo "build: cmake configure failed ($build_dir/configure.log):" >&2
  grep -A8 -E "CMake Error|Could NOT find" "$build_dir/configure.log" | head -n 40 >&2 ||
    tail -n 30 "$build_dir/configure.log" >&2
  exit 1
fi

# Progress: ninja writes "[done/total] ..." per step; show the latest on one line (a new line every
# 30 s when the output is not a terminal, e.g. a CI log).
log="$build_dir/build.log"
"${build[@]}" >"$log" 2>&1 &
build_pid=$!
last_print_s=$SECONDS
while kill -0 "$build_pid" 2>/dev/null; do
  sleep 1
  progress=$(grep -o '^\[[0-9]*/[0-9]*\]' "$log" | tail -n 1 || true)
  if [ -t 1 ]; then
    printf '\rbuild: %s %s s ' "${progress:-[configured]}" "$((SECONDS - start_s))"
  elif [ $((SECONDS - last_print_s)) -ge 30 ]; then
    echo "build: ${progress:-[configured]} $((SECONDS - start_s)) s"
    last_print_s=$SECONDS
  fi
done
rc=0
wait "$build_pid" || rc=$?
[ -t 1 ] && printf '\r\033[K'
if [ "$rc" -ne 0 ]; then
  echo "build: FAILED after $((SECONDS - start_s)) s; the failing steps ($log):" >&2
  if grep -q '^FAILED:' "$log"; then sed -n '/^FAILED:/,$p' "$log" | head -n 80 >&2; else tail -n 40 "$log" >&2; fi
  exit "$rc"
fi
warnings=$(grep -c 'warning:' "$log" || true)
note=""
[ "$warnings" -gt 0 ] && note=", $warnings compiler warnings (see $log)"
# CPU seconds (user + sys) of everything this script ran: the figure that the machine's load moves least.
# (`times` must run in this shell, not in a pipeline's subshell, which has no children of its own.)
times_file=$(mktemp)
times >"$times_file"
cpu_s=$(tail -n 1 "$times_file" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
rm -f "$times_file"
echo "build: $build_type in $build_dir, $((SECONDS - start_s)) s ($cpu_s CPU s)$note"
