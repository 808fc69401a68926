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
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  bool forward_stderr = false;    // copy workers' stderr lines to ours, prefixed "[worker <plugin>] "
  bool forward_progress = false;  // copy at least their progress lines (subprocess kProgressLineMarker)
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

  // Runs one case in a worker of the device's plugin, under the watchdog. Never throws; every failure
  // is the result's status and reason. Calls may run at once from different threads (`cmeter run
  // --concurrent`), for devices of one plugin too: a plugin has a pool of worker processes, one to start
  // with and one more for each of its devices running a case at the same time (each worker loads the
  // whole plugin; a device's case runs in whichever worker is idle). Sequential runs use one worker.
  CaseResult run_case(const CaseRequest& request);
  // Before a case on several devices of one plugin at once: starts the workers the pool will need (one
  // per device, loading in parallel), so no device starts its first case late, loading its plugin. A
  // worker that cannot start is a warning (its device's case starts one then, or fails saying why).
  void start_device_workers();
  // Notes for the run's warnings (restarts, binding problems reported by workers); cleared.
  std::vector<std::string> take_warnings();
  // Workers started so far, including restarts (for tests and the report's settings).
  int workers_started() const { return workers_started_; }

 private:
  // One worker process of a plugin.
  struct Worker {
    std::unique_ptr<subprocess::Child> child;
    LeakWatch leaks{0};    // kept memory in the current process
    bool busy = false;     // running a case (guarded by pool_mutex_)
    bool started = false;  // had a process before: a new one is a restart
  };
  struct Plugin {
    std::string path;
    size_t row_index = 0;
    std::vector<std::string> device_ids;
    // [0] from start(); one more for each device running at the same time (never shrinks; pointers stay
    // valid while the pool grows).
    std::vector<std::unique_ptr<Worker>> workers;
    std::string broken;  // why no worker can be started any more ("" while fine; pool_mutex_)
  };
  WorkerHost() = default;
  // Starts a worker process, on the spawner thread (start_spawner).
  Result<std::unique_ptr<subprocess::Child>> spawn(const std::string& path);
  void start_spawner();
  // Waits for the `ready` message: the row and devices, or an Error saying how the worker failed.
  struct Ready {
    PluginRow row;
    std::vector<DeviceFacts> devices;
  };
  Result<Ready> await_ready(subprocess::Child& child, const std::string& path);
  // An idle worker of the plugin, marked busy (a new, not yet started one when all are busy).
  Worker& acquire_worker(Plugin& plugin);
  void release_worker(Worker& worker);
  Status ensure_worker(Plugin& plugin, Worker& worker);
  void stop(Worker& worker);
  void warn(std::string warning);

  WorkerOptions options_;
  std::vector<PluginRow> rows_;
  std::vector<DeviceFacts> devices_;
  std::vector<Plugin> plugins_;
  std::mutex pool_mutex_;  // the plugins' worker pools and `broken` (threads of a concurrent run)
  // The thread every worker is forked on, for the host's lifetime (a worker dies with the thread that
  // forked it), and its queue.
  std::thread spawner_;
  std::mutex spawn_mutex_;
  std::condition_variable spawn_wake_;
  std::deque<std::function<void()>> spawn_jobs_;
  bool spawn_stop_ = false;
  std::mutex warnings_mutex_;  // warnings_ is shared by the threads of a concurrent run
  std::vector<std::string> warnings_;
  std::atomic<int> workers_started_{0};
};

// The last lines of a worker's stderr, on one line for a reason text ("a | b | c"), at most
// `max_bytes`, valid UTF-8.
std::string stderr_summary(const std::string& tail, size_t max_lines = 6, size_t max_bytes = 600);

}  // namespace cmeter
