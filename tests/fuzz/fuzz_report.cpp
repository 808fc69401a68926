// libFuzzer target: everything cmeter reads back as JSON - a report (core/report/report_reader.h, used
// by report/compare/merge/verify), the CaseResult form of journal lines and worker answers, and the
// worker's ready/case payloads (plugin rows, devices, cases). Any input must be a value or an Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/isolation/worker_protocol.h"
#include "core/model/case_result.h"
#include "core/report/report_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = cmeter::parse_report(text, "fuzz.json");
  if (!report.ok() && report.error().message.empty()) __builtin_trap();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  (void)cmeter::case_result_from_json(j);
  if (j.is_object()) {
    auto results = j.find("results");
    if (results != j.end() && results->is_array())
      for (const auto& r : *results) (void)cmeter::case_result_from_json(r);
    (void)cmeter::worker::case_from_json(j);
    (void)cmeter::plugin_row_from_json(j);
    (void)cmeter::device_from_json(j);
  }
  return 0;
}
