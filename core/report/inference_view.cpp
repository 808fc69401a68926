// Labels for inference results (the figures are read by core/model/inference_result.cpp).
#include "core/report/inference_view.h"

namespace cmeter {
std::optional<InferenceView> inference_view_from_json(const nlohmann::json& j) {
  auto result = inference_result_from_json(j);
  if (!result) return std::nullopt;
  InferenceView view;
  static_cast<InferenceResult&>(view) = std::move(result).value();
  return view;
}

std::string scenario_label(std::string_view scenario) {
  if (scenario == "offline") return "Offline";
  if (scenario == "single_stream") return "SingleStream";
  if (scenario == "server") return "Server";
  return std::string(scenario);
}

}  // namespace cmeter
