// The `inference` member of a report's results (schema 1.1) as the renderers and `cmeter compare` see
// it: the parsed InferenceResult plus the result's position, device, case and status.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/model/inference_result.h"

namespace cmeter {

// A report's inference result with where it stands in the report. The figures are the journal's own
// InferenceResult (one reader, core/model/inference_result.cpp): nulls read as NaN or nullopt.
struct InferenceView : InferenceResult {
  size_t result_index = 0;  // position of the result in LoadedReport::results (and in the JSON)
  std::string device, case_id;
  CaseStatus status = CaseStatus::kFailed;
};

// The member as a view (no position yet); nullopt where inference_result_from_json refuses it.
std::optional<InferenceView> inference_view_from_json(const nlohmann::json& j);

// "Offline", "SingleStream", "Server" (MLPerf's names) for offline, single_stream, server; else as given.
std::string scenario_label(std::string_view scenario);

}  // namespace cmeter
