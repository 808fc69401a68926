// WorkerHost: the parent's side of plugin isolation (ARCHITECTURE.md section 4). One worker process
// per plugin file (cmeter re-executed as `cmeter __worker --plugin FILE`) loads the plugin and reports
// its row and devices; the parent never loads plugin code. Each case is sent to the worker that owns
// the device, under a watchdog: no answer before the case's deadline and the worker is stopped
// (SIGTERM, SIGKILL after a grace period) and the case is `timeout`; a worker that dies makes the case
// `crashed` with its signal and the tail of its stderr; a worker whose resident memory passes the limit
// is stopped and the case `failed`. A new worker is started for the next case, so one bad case costs
// only itself, and other plugins' workers are never touched.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/isolation/leak_watch.h"
#include "core/model/case_result.h"
#include "core/model/device_facts.h"
#include "core/plugin/plugin_host.h"
#include "core/profile/profile.h"
#include "core/util/subprocess.h"

namespace cmeter {

struct WorkerOptions {
  std::string executable;           // the program to run as worker; empty: this executable
  double load_timeout_s = 60;       // for the worker to load its plugin and list its devices
  double grace_s = 2;               // SIGTERM to SIGKILL
  uint64_t memory_limit_bytes = 0;  // worker resident memory above this: stopped, case failed; 0: none
  double memory_poll_s = 0.05;      // how often the watchdog looks at the worker's memory
  // Resident memory a case may keep after it ends before its reason notes a possible leak, when an
  // earlier case in the same worker kept as much too (leak_watch.h); 0: never.
  uint64_t leak_note_bytes = 64ull << 20;
  bool forward_stderr = false;  // copy workers' stderr lines to ours, prefixed "[worker <plugin>] "
};

// Half of this machine's physical memory: the default worker memory limit.
uint64_t default_worker_memory_limit_bytes();

struct CaseRequest {
  const DeviceFacts& device;
  const profile::Case& spec;
  uint64_t seed = 0;
  nlohmann::json bind;   // topology::Locality JSON for the worker's thread, or null
  double timeout_s = 0;  // watchdog deadline for this case
};

class WorkerHost {
 public:
  // Starts a worker per discovered file (in parallel) and collects rows and devices; never fails as a
  // whole: a plugin whose worker cannot start, crashes or hangs while loading is a row with the reason.
  static std::unique_ptr<WorkerHost> start(const Discovery& discovery, const WorkerOptions& options);
  ~WorkerHost();  // asks every worker to shut down, stopping those that do not within the grace period
  WorkerHost(const WorkerHost&) = delete;
  WorkerHost& operator=(const WorkerHost&) = delete;

  const std::vector<PluginRow>& plugins() const { return rows_; }
  const std::vector<DeviceFacts>& devices() const { return devices_; }
  bool any_failed() const;

  // Runs one case in the worker of the device's plugin, under the watchdog. Never throws; every
  // failure is the result's status and reason. Calls for devices of different plugins may run at once
  // from different threads (`cmeter run --concurrent`); calls for one plugin must not overlap.
  CaseResult run_case(const CaseRequest& request);
  // Notes for the run's warnings (restarts, binding problems reported by workers); cleared.
  std::vector<std::string> take_warnings();
  // Workers started so far, including restarts (for tests and the report's settings).
  int workers_started() const { return workers_started_; }

 private:
  struct Plugin {
    std::string path;
    size_t row_index = 0;
    std::vector<std::string> device_ids;
    std::unique_ptr<subprocess::Child> child;
    std::string broken;  // why no worker can be started any more ("" while fine)
    LeakWatch leaks{0};  // kept memory in the current worker process
  };
  WorkerHost() = default;
  Result<std::unique_ptr<subprocess::Child>> spawn(const std::string& path);
  // Waits for the `ready` message: the row and devices, or an Error saying how the worker failed.
  struct Ready {
    PluginRow row;
    std::vector<DeviceFacts> devices;
  };
  Result<Ready> await_ready(subprocess::Child& child, const std::string& path);
  Status ensure_worker(Plugin& plugin);
  void stop(Plugin& plugin);
  void warn(std::string warning);

  WorkerOptions options_;
  std::vector<PluginRow> rows_;
  std::vector<DeviceFacts> devices_;
  std::vector<Plugin> plugins_;
  std::mutex warnings_mutex_;  // warnings_ is shared by the threads of a concurrent run
  std::vector<std::string> warnings_;
  std::atomic<int> workers_started_{0};
};

// The last lines of a worker's stderr, on one line for a reason text ("a | b | c"), at most
// `max_bytes`, valid UTF-8.
std::string stderr_summary(const std::string& tail, size_t max_lines = 6, size_t max_bytes = 600);

}  // namespace cmeter
