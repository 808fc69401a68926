# Precompiled headers (CMETER_PCH=ON): the heavy third-party and standard headers that most of the
# core, the reports, the CLI and their unit tests include, parsed once per target instead of once per
# file. Measured (docs/results/ci-time.md): generating the header costs ~10 s of CPU per target, a
# file using JSON/fmt compiles ~30% faster, a light file ~0.8 s slower. With unity batches of 32 a
# target has one or two batches, so the header costs more than it saves: scripts/run.sh builds without
# (120-129 s against 142-155 s), nor does the sanitizer tree (323 s against 399 s). It still pays in a
# developer's non-unity tree (-DCMETER_PCH=ON).
set(CMETER_PCH_HEADERS
  <algorithm> <chrono> <cstdint> <map> <memory> <optional> <string> <string_view> <vector>
  <fmt/format.h> <nlohmann/json.hpp>)
foreach(target cmeter_core cmeter_core_data_path cmeter_reports cmeter cmeter_unit_tests cmeter_reports_tests)
  if(TARGET ${target})
    target_precompile_headers(${target} PRIVATE ${CMETER_PCH_HEADERS})  # C++-only targets
  endif()
endforeach()
