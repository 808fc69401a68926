# Unity (jumbo) builds (CMETER_UNITY=ON): the core, the reports, the CLI and their unit-test binaries
# compiled a batch of sources at a time, so the heavy headers (JSON, fmt, doctest) are parsed and their
# templates instantiated once per batch instead of once per file. CI's sanitizer tree uses it
# (scripts/test-sanitizers.sh, docs/results/ci-time.md); the main build stays one file at a time, so it
# still catches a file that leans on another's includes or clashes with another's file-local names.
# The plugins stay out: their ISA-specific sources carry their own flags, and they are small.
foreach(target cmeter_core cmeter_reports cmeter cmeter_unit_tests cmeter_reports_tests)
  if(TARGET ${target})
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
  endif()
endforeach()
