// The worker's serve loop: load, report, run cases until told to stop.
#include "core/isolation/worker_main.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "core/isolation/worker_protocol.h"
#include "core/plugin/plugin_host.h"
#include "core/topology/topology.h"
#include "core/util/resident_memory.h"
#include "core/util/subprocess.h"
#include "core/workloads/workload.h"

namespace cmeter::run {

int worker_main(const std::string& plugin_path) {
  auto channel = subprocess::Channel::from_stdio();
  if (!channel) {
    std::cerr << "cmeter worker: " << channel.error().message << "\n";
    return 2;
  }
  Discovery discovery;
  discovery.files = {plugin_path};
  auto host = PluginHost::load(discovery);
  PluginRow row = host->plugins().empty() ? PluginRow{} : host->plugins().front();
  if (host->plugins().empty()) {
    row.path = plugin_path;
    row.name = plugin_name_from_path(plugin_path);
    row.error = "not loaded";
  }
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : host->devices())
    devices.push_back(device_to_json(DeviceFacts{d.id(), d.attributes()}));
  nlohmann::json ready = {{"type", "ready"},
                          {"version", worker::kMessageVersion},
                          {"pid", static_cast<int64_t>(::getpid())},
                          {"plugin", plugin_row_to_json(row)},
                          {"devices", devices}};
  if (auto st = channel->send(ready); !st) {
    std::cerr << "cmeter worker: " << st.error().message << "\n";
    return 2;
  }

  std::optional<Result<topology::Topology>> topology;  // loaded on the first request to bind
  // CMETER_WORKER_TRACE=1: a line per case on stderr (see with `cmeter run --show-worker-stderr`).
  const char* trace_env = std::getenv("CMETER_WORKER_TRACE");
  const bool trace = trace_env != nullptr && std::string_view(trace_env) == "1";
  for (;;) {
    auto got = channel->receive(-1);
    if (!got) {
      std::cerr << "cmeter worker: " << got.error().message << "\n";
      return 2;
    }
    if (got->outcome != subprocess::ReceiveOutcome::kMessage) return 0;  // parent gone
    const auto& m = got->message;
    const std::string type = m.is_object() ? m.value("type", "") : "";
    if (type == "shutdown") return 0;
    if (type != "run_case") {
      (void)channel->send({{"type", "error"}, {"message", fmt::format("unknown request '{}'", type)}});
      continue;
    }
    auto spec = worker::case_from_json(m.value("case", nlohmann::json()));
    const std::string device_id = m.value("device", "");
    const Device* device = nullptr;
    for (const auto& d : host->devices())
      if (d.id() == device_id) device = &d;
    if (!spec || device == nullptr) {
      (void)channel->send(
          {{"type", "error"},
           {"message", !spec ? spec.error().message : fmt::format("no device '{}' here", device_id)}});
      continue;
    }
    nlohmann::json warnings = nlohmann::json::array();
    if (m.contains("bind") && m["bind"].is_object()) {
      if (!topology) topology = topology::Topology::load_system();
      if (!*topology) {
        warnings.push_back(fmt::format("could not bind the worker thread: {}", topology->error().message));
      } else {
        try {
          auto where = m["bind"].get<topology::Locality>();
          if (auto st = (*topology)->bind_current_thread(where); !st)
            warnings.push_back(fmt::format("could not bind the worker thread: {}", st.error().message));
        } catch (const nlohmann::json::exception& e) {
          warnings.push_back(fmt::format("malformed locality: {}", e.what()));
        }
      }
    }
    uint64_t seed = m.value("seed", uint64_t{0});
    // Freed heap memory goes back to the system first, so "kept after the case" means still allocated.
    ::malloc_trim(0);
    uint64_t rss_before = self_rss_bytes();
    CaseResult result = workloads::run_case(workloads::Context{*device, *spec, seed});
    ::malloc_trim(0);
    uint64_t rss_after = self_rss_bytes();
    if (trace)
      std::cerr << fmt::format("cmeter worker {}: case {} on {}: {}, resident memory {} -> {} KiB\n",
                               ::getpid(), result.case_id, result.device, to_string(result.status),
                               rss_before / 1024, rss_after / 1024);
    nlohmann::json answer = {{"type", "case_result"},
                             {"result", to_json(result)},
                             {"warnings", warnings},
                             {"rss_bytes_before", rss_before},
                             {"rss_bytes_after", rss_after}};
    if (auto st = channel->send(answer); !st) {
      std::cerr << "cmeter worker: " << st.error().message << "\n";
      return 2;
    }
  }
}

}  // namespace cmeter::run
