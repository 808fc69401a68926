#!/usr/bin/env bash
# The sanitizer half of CI (called by scripts/test.sh): builds everything with clang 14, AddressSanitizer
# and UndefinedBehaviorSanitizer into build-asan (core, CLI, CPU and test plugins, unit and end-to-end
# tests, the libFuzzer targets), runs the whole test suite there, then each fuzz target for a bounded
# time. The vendor plugins (OpenCL, CUDA) are left out: their drivers are not built with the
# sanitizers and report leaks and errors of their own (docs/reliability.md).
# Builds go through scripts/build.sh (output in each build directory's build.log).
# Usage: scripts/test-sanitizers.sh [fuzz seconds per target, default $CMETER_FUZZ_SECONDS or 10]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CMETER_ASAN_BUILD_DIR:-build-asan}
fuzz_s=${1:-${CMETER_FUZZ_SECONDS:-10}}
jobs=${CMETER_JOBS:-$(nproc)}

# Cheaper builds, same checks: -O1 (what the ASan and libFuzzer docs recommend; a third less compile
# time than -O2) with -g1 (line tables: what the sanitizers' stack traces print); unity builds of the
# core, reports, CLI and unit tests (CMETER_UNITY, cmake/unity.cmake; CMETER_ASAN_UNITY=OFF for one file
# at a time), without precompiled headers (with 32 sources a batch they cost more than they save: 323 s,
# 627 CPU s, against 399 s, 765 CPU s); no benches (only what the tests and the fuzzer run is built).
# docs/results/ci-time.md has the figures.
build_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  -DCMETER_PCH=OFF "-DCMETER_UNITY=${CMETER_ASAN_UNITY:-ON}" -DCMETER_BUILD_BENCHES=OFF)
start_s=$SECONDS
# One clang tree for both halves: the whole suite under ASan + UBSan, and the libFuzzer targets (clang
# only) from the same objects. (It used to be a gcc tree for the tests plus a clang tree for the fuzz
# targets: two builds of the core; the CPU plugin's ISA checks now work under clang, plugins/cpu/cpu_level.hpp.)
fuzz_dir=$build_dir
CMETER_BUILD_DIR=$build_dir CMETER_WERROR=OFF scripts/build.sh RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMETER_SANITIZE=ON -DCMETER_WITH_OPENCL=OFF -DCMETER_WITH_CUDA=OFF "${build_flags[@]}"
echo "sanitizers: builds $((SECONDS - start_s)) s"

# Tests: any ASan or UBSan report fails the test that triggers it. handle_segv=0: a SIGSEGV is left to
# the kernel, so the fault plugins' deliberate crashes still end their worker with the signal the
# tests expect (a real memory error is still caught by ASan's checks before any SIGSEGV);
# allocator_may_return_null=1: a huge malloc returns NULL, as without ASan (the hugealloc plugin).
# Leaks: hwloc's components (dlopen'ed inside hwloc_topology_load, unloaded before exit) leak in ways
# LeakSanitizer can only attribute with slow unwinding (5x slower), so the suite runs without leak
# detection and the unit tests that never load a topology run again with it.
# quarantine_size_mb=16 (default 256): freed memory ASan holds back counts as resident, and `plugin
# check`'s lifecycle.no_growth allows 32 MiB of growth over 8 x 4 MiB buffer cycles; a use after free
# of anything freed within the last 16 MiB is still caught.
export ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:detect_leaks=0:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}
# The machine's topology from an export instead of discovery in every process: hwloc's PCI discovery
# asks libpciaccess for device names, which grows its table from pci.ids one realloc at a time, and
# ASan's realloc always copies: ~5 s per `cmeter run` (and per test that loads the topology) against
# 0.05 s uninstrumented. The export is this machine's (the same objects: `cmeter topo` prints the
# same); core/topology's CMETER_TOPOLOGY_XML keeps it "this system", so binding is still tested.
topology_xml="$PWD/$build_dir/this-machine-topology.xml"
if lstopo-no-graphics --of xml -f "$topology_xml" 2>/dev/null; then
  export CMETER_TOPOLOGY_XML="$topology_xml"
else
  echo "sanitizers: no lstopo-no-graphics (package hwloc): every process discovers the topology (slow)"
fi
# Tests that run no instrumented code (formatting, Chromium, packaging, the out-of-tree template build)
# ran in the main build already. e2e_cpu_quick is left to the main build too: under ASan it is the
# slowest test (47 s, run alone: RUN_SERIAL) and measures the instrumented CPU plugin; the code it
# drives (runner, worker, journal, report) runs instrumented in e2e_isolation, e2e_resume and the
# conformance tests, which cover more paths in less time.
# Tests labelled no_asan (long device runs whose core code other tests already drive here) likewise.
# Two unit tests are pure computation over code that faster tests here already run instrumented: every
# byte of a signed report flipped and re-verified (28 s under ASan; the report reader is also fuzzed
# below) and the llm reference's top-1 margins under weight noise (15 s; the reference's forward runs
# instrumented in the other llm reference tests).
heavy_unit_tests=('integrity: flipping any byte' 'llm reference: top-1 margins')
(cd "$build_dir" && ctest --output-on-failure -j "$jobs" --timeout 900 -LE no_asan \
  -E "^(format|e2e_html_chromium|sdk_packaging_deb|sdk_template_out_of_tree|e2e_cpu_quick)\$|^${heavy_unit_tests[0]}|^${heavy_unit_tests[1]}")
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=1" "$build_dir/bin/cmeter_unit_tests" \
  -tce="topology*,worker host*,*leaks its buffers*,${heavy_unit_tests[0]}*,${heavy_unit_tests[1]}*" --no-intro=true --minimal=true

# Fuzzing: each target for fuzz_s seconds from its seed corpus (tests/fuzz/corpus/<target> plus the
# repository's profiles and reports); new inputs go to a scratch corpus, crashes to $fuzz_dir/fuzz/.
unset ASAN_OPTIONS UBSAN_OPTIONS
if [ "$fuzz_s" -gt 0 ]; then
  out="$fuzz_dir/fuzz"
  mkdir -p "$out"
  for target in profile report frames; do
    seeds=(tests/fuzz/corpus/$target)
    case $target in
      profile) seeds+=(profiles tests/fixtures/profiles) ;;
      report) [ -d reports/examples ] && seeds+=(reports/examples) ;;
    esac
    scratch="$out/corpus-$target"
    mkdir -p "$scratch"
    echo "fuzz $target: ${fuzz_s} s"
    "$fuzz_dir/bin/cmeter_fuzz_$target" -max_total_time="$fuzz_s" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -artifact_prefix="$out/$target-" -print_final_stats=1 "$scratch" "${seeds[@]}" \
      2>"$out/$target.log" || { tail -n 60 "$out/$target.log"; echo "fuzz $target: FAILED"; exit 1; }
    grep -E "stat::number_of_executed_units|Done" "$out/$target.log" | tr '\n' ' '; echo
  done
fi
echo "sanitizers: PASS ($((SECONDS - start_s)) s)"
