// Starting plugin workers, collecting their rows and devices, and running cases under the watchdog.
#include "core/isolation/worker_host.h"
#include "core/util/resident_memory.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>

#include "core/isolation/worker_protocol.h"
#include "core/model/json_fields.h"
#include "core/util/resident_memory.h"
#include "core/util/sha256.h"
#include "core/workloads/workload.h"

namespace cmeter {
namespace {

// The kind of work a case is, for LeakWatch: its workload and text parameters (data types, forms,
// directions), without sizes: work of one kind loads its code once.
std::string case_kind(const profile::Case& spec) {
  std::string kind = spec.workload;
  for (const auto& [name, value] : spec.params)
    if (std::holds_alternative<std::string>(value)) kind += "|" + name + "=" + std::get<std::string>(value);
  return kind;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string with_stderr(std::string text, const std::string& tail) {
  std::string s = stderr_summary(tail);
  if (!s.empty()) text += fmt::format("; worker stderr: {}", s);
  return text;
}

}  // namespace

uint64_t default_worker_memory_limit_bytes() {
  return physical_memory_bytes() / 2;
}

std::string stderr_summary(const std::string& tail, size_t max_lines, size_t max_bytes) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < tail.size()) {
    size_t nl = tail.find('\n', start);
    std::string line = tail.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    const std::string marker = subprocess::kProgressLineMarker;  // a progress line reads as the user saw it
    if (line.compare(0, marker.size(), marker) == 0) line.erase(0, marker.size());
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (lines.size() > max_lines) lines.erase(lines.begin(), lines.end() - static_cast<long>(max_lines));
  std::string joined = fmt::format("{}", fmt::join(lines, " | "));
  if (joined.size() > max_bytes) joined = "..." + joined.substr(joined.size() - max_bytes);
  return sanitize_utf8(joined);
}

Result<std::unique_ptr<subprocess::Child>> WorkerHost::spawn(const std::string& path) {
  subprocess::SpawnOptions o;
  o.executable = options_.executable;
  o.args = {worker::kWorkerCommand, "--plugin", path};
  o.forward_stderr = options_.forward_stderr;
  if (options_.forward_progress) o.forward_marker = subprocess::kProgressLineMarker;
  o.forward_prefix = fmt::format("[worker {}] ", plugin_name_from_path(path));
  o.kill_with_parent = true;
  // The worker sizes host-memory work against the limit it is stopped at (workloads::memory_budget_bytes).
  if (options_.memory_limit_bytes > 0)
    o.env.push_back(fmt::format("{}={}", workloads::kWorkerMemoryLimitEnv, options_.memory_limit_bytes));
  // Forked on the host's spawner thread: a worker dies with the *thread* that forked it
  // (PR_SET_PDEATHSIG), and a concurrent run's case threads end after each case.
  std::promise<Result<std::unique_ptr<subprocess::Child>>> done;
  auto spawned = done.get_future();
  {
    std::lock_guard lock(spawn_mutex_);
    spawn_jobs_.push_back([&] { done.set_value(subprocess::Child::spawn(o)); });
  }
  spawn_wake_.notify_one();
  auto child = spawned.get();
  if (child) ++workers_started_;
  return child;
}

void WorkerHost::start_spawner() {
  spawner_ = std::thread([this] {
    std::unique_lock lock(spawn_mutex_);
    for (;;) {
      spawn_wake_.wait(lock, [this] { return spawn_stop_ || !spawn_jobs_.empty(); });
      if (spawn_jobs_.empty()) return;  // stopping, nothing left
      std::function<void()> job = std::move(spawn_jobs_.front());
      spawn_jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  });
}

Result<WorkerHost::Ready> WorkerHost::await_ready(subprocess::Child& child, const std::string& path) {
  auto got = child.receive(options_.load_timeout_s);
  if (!got) {
    auto st = child.terminate(options_.grace_s);
    return make_error(ErrorCode::kInternal, "{}",
                      with_stderr(fmt::format("worker protocol error while loading "
                                              "the plugin: {} (worker stopped: {})",
                                              got.error().message, st.describe()),
                                  child.stderr_tail()));
  }
  if (got->outcome == subprocess::ReceiveOutcome::kTimeout) {
    auto st = child.terminate(options_.grace_s);
    return make_error(ErrorCode::kUnavailable, "{}",
                      with_stderr(fmt::format("worker did not report within {:g} s while loading the plugin "
                                              "(hung in plugin_initialize?); worker stopped: {}",
                                              options_.load_timeout_s, st.describe()),
                                  child.stderr_tail()));
  }
  if (got->outcome == subprocess::ReceiveOutcome::kClosed) {
    auto st = child.wait_for(options_.grace_s);
    subprocess::ExitStatus status = st ? *st : child.terminate(options_.grace_s);
    return make_error(ErrorCode::kInternal, "{}",
                      with_stderr(fmt::format("worker {} while loading the plugin",
                                              status.exited ? "exited (" + status.describe() + ")"
                                                            : "crashed (" + status.describe() + ")"),
                                  child.stderr_tail()));
  }
  const auto& m = got->message;
  if (!m.is_object() || m.value("type", "") != "ready") {
    child.terminate(options_.grace_s);
    return make_error(ErrorCode::kInternal, "worker for {} sent '{}' instead of 'ready'", path,
                      m.is_object() ? m.value("type", "?") : std::string("a non-object"));
  }
  if (json_fields::read_int(m, "version") != worker::kMessageVersion) {
    child.terminate(options_.grace_s);
    return make_error(ErrorCode::kInternal, "worker speaks message version {}, this cmeter {}",
                      json_fields::read_int(m, "version"), worker::kMessageVersion);
  }
  Ready ready;
  auto row = plugin_row_from_json(m.value("plugin", nlohmann::json()));
  if (!row) {
    child.terminate(options_.grace_s);
    return row.error();
  }
  ready.row = std::move(row).value();
  for (const auto& d : m.value("devices", nlohmann::json::array())) {
    auto dev = device_from_json(d);
    if (!dev) {
      child.terminate(options_.grace_s);
      return dev.error();
    }
    ready.devices.push_back(std::move(dev).value());
  }
  return ready;
}

std::unique_ptr<WorkerHost> WorkerHost::start(const Discovery& discovery, const WorkerOptions& options) {
  auto host = std::unique_ptr<WorkerHost>(new WorkerHost());
  host->options_ = options;
  host->start_spawner();
  // Start them all first, so plugins load in parallel.
  std::vector<Result<std::unique_ptr<subprocess::Child>>> children;
  for (const auto& path : discovery.files) children.push_back(host->spawn(path));
  std::set<std::string> names;
  for (size_t i = 0; i < discovery.files.size(); ++i) {
    const std::string& path = discovery.files[i];
    PluginRow failed_row;
    failed_row.path = path;
    failed_row.name = plugin_name_from_path(path);
    if (auto digest = sha256_file_hex(path)) failed_row.sha256 = *digest;
    if (!children[i]) {
      failed_row.error = fmt::format("cannot start a worker: {}", children[i].error().message);
      host->rows_.push_back(std::move(failed_row));
      continue;
    }
    std::unique_ptr<subprocess::Child> child = std::move(children[i]).value();
    auto ready = host->await_ready(*child, path);
    if (!ready) {
      failed_row.error = ready.error().message;
      host->rows_.push_back(std::move(failed_row));
      continue;
    }
    PluginRow row = std::move(ready->row);
    if (row.loaded && !names.insert(row.name).second) {
      row.loaded = false;
      row.error = fmt::format("another plugin named '{}' is already loaded; this one is skipped", row.name);
      ready->devices.clear();
    }
    Plugin plugin;
    plugin.path = path;
    plugin.row_index = host->rows_.size();
    for (const auto& d : ready->devices) plugin.device_ids.push_back(d.id);
    auto first = std::make_unique<Worker>();
    first->leaks = LeakWatch(options.leak_note_bytes);
    first->started = true;
    if (row.loaded && !ready->devices.empty()) {
      first->child = std::move(child);
      plugin.workers.push_back(std::move(first));
    } else {
      // Nothing to run there: let it go.
      (void)child->send({{"type", "shutdown"}});
      if (!child->wait_for(options.grace_s)) child->terminate(options.grace_s);
    }
    host->rows_.push_back(std::move(row));
    for (auto& d : ready->devices) host->devices_.push_back(std::move(d));
    host->plugins_.push_back(std::move(plugin));
  }
  return host;
}

WorkerHost::~WorkerHost() {
  for (auto& p : plugins_)
    for (auto& w : p.workers)
      if (w->child) (void)w->child->send({{"type", "shutdown"}});
  for (auto& p : plugins_)
    for (auto& w : p.workers) {
      if (!w->child) continue;
      if (!w->child->wait_for(options_.grace_s)) w->child->terminate(options_.grace_s);
    }
  {
    std::lock_guard lock(spawn_mutex_);
    spawn_stop_ = true;
  }
  spawn_wake_.notify_one();
  if (spawner_.joinable()) spawner_.join();
}

bool WorkerHost::any_failed() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const PluginRow& r) { return !r.loaded; });
}

std::vector<std::string> WorkerHost::take_warnings() {
  std::lock_guard lock(warnings_mutex_);
  return std::exchange(warnings_, {});
}

void WorkerHost::warn(std::string warning) {
  std::lock_guard lock(warnings_mutex_);
  warnings_.push_back(std::move(warning));
}

void WorkerHost::stop(Worker& worker) {
  if (worker.child) worker.child->terminate(options_.grace_s);
  worker.child.reset();
}

WorkerHost::Worker& WorkerHost::acquire_worker(Plugin& plugin) {
  std::lock_guard lock(pool_mutex_);
  for (auto& w : plugin.workers)
    if (!w->busy) {
      w->busy = true;
      return *w;
    }
  auto w = std::make_unique<Worker>();
  w->leaks = LeakWatch(options_.leak_note_bytes);
  w->busy = true;
  plugin.workers.push_back(std::move(w));
  return *plugin.workers.back();
}

void WorkerHost::release_worker(Worker& worker) {
  std::lock_guard lock(pool_mutex_);
  worker.busy = false;
}

void WorkerHost::start_device_workers() {
  std::vector<std::pair<Plugin*, Worker*>> added;
  {
    std::lock_guard lock(pool_mutex_);
    for (auto& p : plugins_) {
      if (!p.broken.empty() || p.workers.empty()) continue;
      while (p.workers.size() < p.device_ids.size()) {
        auto w = std::make_unique<Worker>();
        w->leaks = LeakWatch(options_.leak_note_bytes);
        w->busy = true;
        added.emplace_back(&p, w.get());
        p.workers.push_back(std::move(w));
      }
    }
  }
  // In parallel: each loads its plugin (seconds for a GPU runtime).
  std::vector<Status> started(added.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < added.size(); ++i)
    threads.emplace_back([&, i] { started[i] = ensure_worker(*added[i].first, *added[i].second); });
  for (auto& t : threads) t.join();
  std::lock_guard lock(pool_mutex_);
  for (size_t i = 0; i < added.size(); ++i) {
    Plugin& p = *added[i].first;
    if (started[i]) {
      added[i].second->busy = false;
      continue;
    }
    // Not in the pool: a case that finds every worker busy starts one then (and fails only if that fails).
    warn(fmt::format("plugin {}: {}; a case that finds every worker busy tries again",
                     rows_[p.row_index].name, started[i].error().message));
    auto it = std::find_if(p.workers.begin(), p.workers.end(),
                           [&](const std::unique_ptr<Worker>& w) { return w.get() == added[i].second; });
    if (it != p.workers.end()) p.workers.erase(it);
  }
}

Status WorkerHost::ensure_worker(Plugin& plugin, Worker& worker) {
  if (worker.child && !worker.child->poll_exit()) return {};
  // A restart that fails leaves the plugin without workers for good; a new pool worker that fails costs
  // only the case that needed it (the next such case tries again).
  auto broken = [&](std::string why) {
    if (!worker.started) return make_error(ErrorCode::kUnavailable, "{}", why);
    std::lock_guard lock(pool_mutex_);
    if (plugin.broken.empty()) plugin.broken = std::move(why);
    return make_error(ErrorCode::kUnavailable, "{}", plugin.broken);
  };
  {
    std::lock_guard lock(pool_mutex_);
    if (!plugin.broken.empty()) return make_error(ErrorCode::kUnavailable, "{}", plugin.broken);
  }
  worker.child.reset();
  const std::string& name = rows_[plugin.row_index].name;
  const char* verb = worker.started ? "restart" : "start another";
  auto child = spawn(plugin.path);
  if (!child)
    return broken(fmt::format("cannot {} worker for plugin {}: {}", verb, name, child.error().message));
  auto ready = await_ready(**child, plugin.path);
  std::vector<std::string> ids;
  if (ready)
    for (const auto& d : ready->devices) ids.push_back(d.id);
  if (!ready || !ready->row.loaded || ids != plugin.device_ids) {
    if (ready) (*child)->terminate(options_.grace_s);
    return broken(fmt::format(
        "the {} worker for plugin {} {}", worker.started ? "restarted" : "additional", name,
        !ready               ? "failed: " + ready.error().message
        : !ready->row.loaded ? "could not load it: " + ready->row.error
                             : fmt::format("lists other devices ({}) than before ({})", fmt::join(ids, ", "),
                                           fmt::join(plugin.device_ids, ", "))));
  }
  // A new worker of the pool (devices of this plugin at once) is no event; a restart is.
  if (worker.started) warn(fmt::format("plugin {}: worker restarted (pid {})", name, (*child)->pid()));
  worker.started = true;
  worker.child = std::move(child).value();
  return {};
}

CaseResult WorkerHost::run_case(const CaseRequest& req) {
  CaseResult r = workloads::begin_case_result(req.spec, req.device.id);
  const double start = now_s();
  const auto start_tp = std::chrono::steady_clock::now();
  auto finish = [&](CaseStatus status, std::string reason) {
    r.status = status;
    r.reason = std::move(reason);
    r.wall_s = now_s() - start;
    return r;
  };

  Plugin* plugin = nullptr;
  for (auto& p : plugins_)
    if (std::find(p.device_ids.begin(), p.device_ids.end(), req.device.id) != p.device_ids.end()) plugin = &p;
  if (plugin == nullptr)
    return finish(CaseStatus::kFailed, fmt::format("no worker serves device {}", req.device.id));
  Worker& worker = acquire_worker(*plugin);
  struct Release {
    WorkerHost& host;
    Worker& worker;
    ~Release() { host.release_worker(worker); }
  } release{*this, worker};
  if (auto st = ensure_worker(*plugin, worker); !st)
    return finish(CaseStatus::kFailed, "not run: " + st.error().message);

  nlohmann::json request = {{"type", "run_case"},
                            {"device", req.device.id},
                            {"case", worker::case_to_json(req.spec)},
                            {"seed", req.seed},
                            {"bind", req.bind}};
  worker.child->clear_stderr_tail();
  if (auto st = worker.child->send(request); !st) {
    // It died while idle (killed from outside, or a plugin thread crashed it): one fresh worker.
    stop(worker);
    warn(
        fmt::format("plugin {}: worker was gone before case {}", rows_[plugin->row_index].name, req.spec.id));
    if (auto st2 = ensure_worker(*plugin, worker); !st2)
      return finish(CaseStatus::kFailed, "not run: " + st2.error().message);
    if (auto st3 = worker.child->send(request); !st3)
      return finish(CaseStatus::kFailed,
                    "not run: cannot send the case to the worker: " + st3.error().message);
  }

  subprocess::Child& child = *worker.child;
  subprocess::WatchLimits limits;
  limits.poll_s = options_.memory_poll_s;
  limits.memory_limit_bytes = options_.memory_limit_bytes;
  limits.grace_s = options_.grace_s;
  limits.exit_wait_s = options_.grace_s;
  const auto deadline = start_tp + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(req.timeout_s));
  {
    subprocess::Watched got = subprocess::watch_for_message(child, deadline, limits);
    if (got.outcome != subprocess::WatchOutcome::kMessage) worker.child.reset();
    const subprocess::ExitStatus& ended = got.ended;
    switch (got.outcome) {
      case subprocess::WatchOutcome::kMessage:
        break;
      case subprocess::WatchOutcome::kTimeout:
        return finish(
            CaseStatus::kTimeout,
            with_stderr(fmt::format("no result within the case timeout of {:g} s; worker stopped ({}) "
                                    "and restarted for the next case",
                                    req.timeout_s, ended.describe()),
                        got.stderr_tail));
      case subprocess::WatchOutcome::kProtocolError:
        return finish(CaseStatus::kCrashed,
                      with_stderr(fmt::format("worker broke the protocol: {}; worker stopped ({})", got.error,
                                              ended.describe()),
                                  got.stderr_tail));
      case subprocess::WatchOutcome::kOverMemory:
        return finish(CaseStatus::kFailed,
                      with_stderr(fmt::format("worker resident memory reached {} during the case, above the "
                                              "limit of {} (a leak or an unbounded allocation); worker "
                                              "stopped ({}) and restarted for the next case",
                                              mib_text(got.rss_bytes), mib_text(options_.memory_limit_bytes),
                                              ended.describe()),
                                  got.stderr_tail));
      case subprocess::WatchOutcome::kClosed: {
        std::string how = ended.exited ? fmt::format("worker exited ({}) during the case", ended.describe())
                                       : fmt::format("worker crashed: {} during the case", ended.describe());
        return finish(CaseStatus::kCrashed,
                      with_stderr(how + "; restarted for the next case", got.stderr_tail));
      }
    }
    const auto& m = got.message;
    const std::string type = m.is_object() ? m.value("type", "") : "";
    if (type == "error") {
      return finish(CaseStatus::kFailed, fmt::format("worker refused the case: {}",
                                                     m.value("message", std::string("(no message)"))));
    }
    if (type != "case_result") {
      auto st = child.terminate(options_.grace_s);
      worker.child.reset();
      return finish(
          CaseStatus::kCrashed,
          fmt::format("worker sent '{}' instead of a case result; worker stopped ({})", type, st.describe()));
    }
    auto parsed = case_result_from_json(m.value("result", nlohmann::json()));
    if (!parsed)
      return finish(CaseStatus::kFailed, "worker sent a malformed result: " + parsed.error().message);
    CaseResult out = std::move(parsed).value();
    if (out.case_id != req.spec.id || out.device != req.device.id)
      return finish(CaseStatus::kFailed, fmt::format("worker answered for {} on {} instead of {} on {}",
                                                     out.case_id, out.device, req.spec.id, req.device.id));
    for (const auto& w : m.value("warnings", nlohmann::json::array()))
      if (w.is_string()) warn(fmt::format("{}: {}", req.device.id, w.get<std::string>()));
    // A leak shows as memory kept after the case, again and again; said, without changing what was
    // measured (a one-time load is not noted: core/isolation/leak_watch.h).
    if (auto note = worker.leaks.observe(static_cast<int>(child.pid()), req.spec.id, case_kind(req.spec),
                                         m.value("rss_bytes_before", uint64_t{0}),
                                         m.value("rss_bytes_after", uint64_t{0})))
      out.reason = out.reason.empty() ? *note : out.reason + "; " + *note;
    return out;
  }
}

}  // namespace cmeter
