// The two executors.
#include "core/run/executor.h"

#include <algorithm>
#include <thread>

#include "core/workloads/workload.h"

namespace cmeter::run {

InProcessExecutor::InProcessExecutor(PluginHost& host, const topology::Topology* topology)
    : host_(host), topology_(topology) {
  for (const auto& d : host_.devices()) devices_.push_back({d.id(), d.attributes()});
}

CaseResult InProcessExecutor::run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                                       const std::optional<topology::Locality>& bind) {
  const Device* target = nullptr;
  for (const auto& d : host_.devices())
    if (d.id() == device.id) target = &d;
  if (target == nullptr) {
    CaseResult r;
    r.case_id = spec.id;
    r.workload = spec.workload;
    r.device = device.id;
    r.params = spec.params;
    r.status = CaseStatus::kFailed;
    r.reason = fmt::format("no device {} in this process", device.id);
    return r;
  }
  // A thread per case, bound near the device, so binding never sticks to the caller's thread.
  CaseResult result;
  std::thread worker([&] {
    if (topology_ != nullptr && bind)
      if (auto st = topology_->bind_current_thread(*bind); !st)
        warnings_.push_back(fmt::format("{}: could not bind host thread: {}", device.id, st.error().message));
    result = workloads::run_case(workloads::Context{*target, spec, seed});
  });
  worker.join();
  return result;
}

CaseResult WorkerExecutor::run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                                    const std::optional<topology::Locality>& bind) {
  CaseRequest request{device, spec, seed, bind ? nlohmann::json(*bind) : nlohmann::json(nullptr),
                      case_timeout_s(spec.stats)};
  return host_.run_case(request);
}

}  // namespace cmeter::run
