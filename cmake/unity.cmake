# Unity (jumbo) builds (CMETER_UNITY=ON): the core, the reports, the CLI and their unit-test binaries
# compiled a batch of sources at a time, so the heavy headers (JSON, fmt, doctest, CLI11) are parsed and
# their templates instantiated once per batch instead of once per file. CI builds both its trees this
# way (scripts/test.sh, scripts/test-sanitizers.sh; docs/results/ci-time.md), and so does scripts/run.sh;
# a plain scripts/build.sh builds one file at a time, which still catches a file that leans on
# another's includes or clashes with another's file-local names.
# 32 sources a batch: run.sh's build on 2 cores took 157 s at 16, 126-131 s at 32, 138 s at 48 (fewer,
# longer batches leave a core idle at the end).
# The plugins stay out (their ISA-specific sources carry their own flags, and they are small).
# -Wno-subobject-linkage: GCC takes each batched .cpp for a header and warns that a class of it has a
# member whose type is in an anonymous namespace; that is the intended pattern in a source file.
set(CMETER_UNITY_BATCH_SIZE 32 CACHE STRING "Sources per unity batch (CMETER_UNITY=ON)")
foreach(target cmeter_core cmeter_core_data_path cmeter_reports cmeter cmeter_unit_tests cmeter_reports_tests)
  if(TARGET ${target})
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${CMETER_UNITY_BATCH_SIZE})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
    endif()
  endif()
endforeach()
