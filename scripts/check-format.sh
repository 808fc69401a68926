#!/usr/bin/env bash
# Fails when any C/C++/CUDA source in the repository is not formatted as the repo's .clang-format says.
# Run by ctest (test `format`); `scripts/check-format.sh --fix` rewrites the files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed (scripts/setup.sh)"; exit 1; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.cpp' '*.h' '*.hpp' '*.cu' '*.inc' | grep -v '^build')
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${existing[@]}"
  exit 0
fi
clang-format --dry-run -Werror "${existing[@]}"
echo "check-format: ${#existing[@]} files clean"
