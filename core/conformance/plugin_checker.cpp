// The conformance run: in-process or in worker processes, with crash and hang recovery, and the
// assembly of the report (plugin facts, device facts, one result per catalogue check).
#include "core/conformance/plugin_checker.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>

#include <cmeter/plugin_abi.h>
#include <fmt/format.h>

#include "core/model/json_fields.h"
#include "core/util/clock.h"
#include "core/util/sha256.h"
#include "core/util/subprocess.h"

namespace cmeter::conformance {
namespace {

using Clock = std::chrono::steady_clock;

void apply_facts(ConformanceReport& report, const nlohmann::json& facts) {
  auto get = [&](const char* key) -> const nlohmann::json* {
    auto it = facts.find(key);
    return it == facts.end() ? nullptr : &*it;
  };
  if (auto* v = get("plugin_name"); v && v->is_string()) report.plugin_name = v->get<std::string>();
  if (auto* v = get("abi_major"); v && v->is_number_integer()) report.abi_major = v->get<int>();
  if (auto* v = get("abi_minor"); v && v->is_number_integer()) report.abi_minor = v->get<int>();
  if (auto* v = get("device_count"); v && v->is_number_integer()) report.device_count = v->get<int>();
  if (auto* v = get("device_id"); v && v->is_string()) report.device_id = v->get<std::string>();
  if (auto* v = get("plugin_attributes")) report.plugin_attributes = key_values_from_json(*v);
  if (auto* v = get("device_attributes")) report.device_attributes = key_values_from_json(*v);
}

// Collects results in catalogue order.
class Collector : public SuiteListener {
 public:
  Collector(ConformanceReport& report, const CheckerOptions& options) : report_(report), options_(options) {
    results_.resize(check_catalogue().size());
  }
  void on_facts(const nlohmann::json& facts) override { apply_facts(report_, facts); }
  void on_begin(size_t index) override {
    current_ = index;
    step_.clear();
  }
  void on_step(const std::string& label) override { step_ = label; }
  void on_result(size_t index, const CheckResult& result) override {
    if (index >= results_.size()) return;
    results_[index] = result;
    current_.reset();
    next_ = index + 1;
    if (options_.on_result) options_.on_result(index, results_.size(), result);
  }
  std::optional<size_t> current() const { return current_; }
  const std::string& step() const { return step_; }
  size_t next() const { return next_; }
  void set_next(size_t n) { next_ = n; }
  void finish_into(ConformanceReport& report) {
    const auto& catalogue = check_catalogue();
    for (size_t i = 0; i < results_.size(); ++i) {
      if (results_[i]) {
        report.checks.push_back(*results_[i]);
        continue;
      }
      CheckResult missing;
      missing.id = catalogue[i].id;
      missing.title = catalogue[i].title;
      missing.status = CheckStatus::kFail;
      missing.reason = "no result: the checker stopped before this check";
      report.checks.push_back(missing);
    }
  }
  // Records a result the worker could not send (crash, hang), and reports it.
  void record(size_t index, CheckResult r) {
    const auto& catalogue = check_catalogue();
    r.id = catalogue[index].id;
    r.title = catalogue[index].title;
    on_result(index, r);
  }

 private:
  ConformanceReport& report_;
  const CheckerOptions& options_;
  std::vector<std::optional<CheckResult>> results_;
  std::optional<size_t> current_;
  std::string step_;
  size_t next_ = 0;
};

std::string tail_lines(const std::string& text, size_t max_lines) {
  size_t pos = text.size();
  size_t lines = 0;
  while (pos > 0 && lines < max_lines) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
    ++lines;
  }
  std::string out = text.substr(pos == 0 ? 0 : pos + 1);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// One worker: runs from collector.next() until it finishes, crashes or hangs; whatever happens, the
// collector has advanced past at least one check when it returns.
void run_one_worker(const CheckerOptions& options, Collector& collector, ConformanceReport& report) {
  const size_t total = check_catalogue().size();
  subprocess::SpawnOptions spawn;
  spawn.executable = options.worker_executable;
  spawn.args = options.worker_args;
  spawn.forward_stderr = options.forward_worker_stderr;
  spawn.forward_prefix = "[plugin check worker] ";
  const size_t first = collector.next();
  auto child = subprocess::Child::spawn(spawn);
  ++report.workers_started;
  auto fail_from = [&](size_t index, const std::string& reason, const std::vector<std::string>& details) {
    CheckResult r;
    r.status = CheckStatus::kFail;
    r.reason = reason;
    r.details = details;
    collector.record(index, r);
    // A loading check that crashed or hung blocks the rest: rerunning would only repeat it.
    if (check_catalogue()[index].loads) {
      for (size_t j = index + 1; j < total; ++j) {
        CheckResult b;
        b.status = CheckStatus::kSkip;
        b.skip_kind = SkipKind::kBlocked;
        b.reason = "blocked by " + check_catalogue()[index].id;
        collector.record(j, b);
      }
    }
  };
  if (!child) {
    fail_from(first, "cannot start a worker process: " + child.error().message, {});
    return;
  }
  nlohmann::json job = {{"type", "job"},
                        {"plugin_path", options.suite.plugin_path},
                        {"level", to_string(options.suite.level)},
                        {"device_index", options.suite.device_index},
                        {"only", options.suite.only},
                        {"first_index", first}};
  if (auto st = (*child)->send(job); !st) {
    auto ended = (*child)->terminate();
    fail_from(first,
              fmt::format("the worker did not take its job ({}; {})", st.error().message, ended.describe()),
              {});
    return;
  }
  auto started = Clock::now();
  bool began = false;  // a check started in this worker (else it died reloading the plugin)
  subprocess::WatchLimits limits;
  limits.poll_s = 0.25;  // how often the worker's memory is looked at
  limits.memory_limit_bytes = options.worker_memory_limit_bytes;
  limits.exit_wait_s = 5.0;
  for (;;) {
    const auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options.check_timeout_s));
    subprocess::Watched got = subprocess::watch_for_message(**child, deadline, limits);
    const size_t blamed = collector.current().value_or(collector.next());
    const std::string during =
        collector.step().empty() ? std::string() : " during '" + collector.step() + "'";
    if (got.outcome != subprocess::WatchOutcome::kMessage) {
      std::string what;
      const subprocess::ExitStatus& ended = got.ended;
      switch (got.outcome) {
        case subprocess::WatchOutcome::kMessage:
          break;
        case subprocess::WatchOutcome::kOverMemory:
          what = fmt::format(
              "the worker's resident memory reached {} MiB{}, above the limit of {} MiB (an unbounded "
              "allocation or "
              "a leak); worker ended by {}",
              got.rss_bytes >> 20, during, limits.memory_limit_bytes >> 20, ended.describe());
          break;
        case subprocess::WatchOutcome::kProtocolError:
          what = fmt::format("protocol error from the worker: {} ({})", got.error, ended.describe());
          break;
        case subprocess::WatchOutcome::kTimeout:
          what = fmt::format("timed out after {:.0f} s{} (worker ended by {})", options.check_timeout_s,
                             during, ended.describe());
          break;
        case subprocess::WatchOutcome::kClosed:
          if (collector.next() >= total && !collector.current()) return;  // finished, then exited
          what = fmt::format("the worker crashed: {}{}", ended.describe(), during);
          break;
      }
      std::vector<std::string> details;
      if (std::string tail = tail_lines(got.stderr_tail, 8); !tail.empty())
        details.push_back("worker stderr (last lines): " + tail);
      if (!began && first > 0) {
        // The plugin loaded in the first worker but not again: every remaining check would repeat this.
        for (size_t j = first; j < total; ++j) {
          CheckResult r;
          r.status = CheckStatus::kFail;
          r.reason = "a fresh worker could not reload the plugin: " + what;
          r.details = details;
          collector.record(j, r);
        }
        return;
      }
      if (blamed < total) fail_from(blamed, what, details);
      return;
    }
    const nlohmann::json& m = got.message;
    const std::string type = m.value("type", "");
    if (type == "facts" && m.contains("facts")) {
      collector.on_facts(m["facts"]);
    } else if (type == "begin") {
      collector.on_begin(m.value("index", size_t{0}));
      started = Clock::now();
      began = true;
    } else if (type == "step") {
      collector.on_step(m.value("label", ""));
    } else if (type == "result") {
      auto r = check_result_from_json(m.value("result", nlohmann::json()));
      const size_t index = m.value("index", total);
      if (!r || index >= total) {
        (*child)->terminate();
        fail_from(blamed,
                  "malformed result from the worker: " +
                      (r ? std::string("index out of range") : r.error().message),
                  {});
        return;
      }
      collector.on_result(index, *r);
    } else if (type == "done") {
      (*child)->close_channel();
      if (auto st = (*child)->wait_for(10.0); !st) (*child)->terminate();
      collector.set_next(total);
      return;
    }
  }
}

}  // namespace

ConformanceReport check_plugin(const CheckerOptions& options) {
  ConformanceReport report;
  const auto t0 = Clock::now();
  report.plugin_path = options.suite.plugin_path;
  if (auto digest = sha256_file_hex(options.suite.plugin_path)) report.plugin_sha256 = *digest;
  report.device_index = options.suite.device_index;
  report.level = to_string(options.suite.level);
  report.executor = options.in_process ? "in-process" : "worker";
  report.cmeter_version = options.cmeter_version;
  report.host_abi = fmt::format("{}.{}", CMTR_ABI_MAJOR, CMTR_ABI_MINOR);
  report.started_utc = utc_now_iso8601();
  Collector collector(report, options);
  if (options.in_process) {
    run_checks(options.suite, 0, collector);
  } else {
    const size_t total = check_catalogue().size();
    // Each worker advances next() by at least one check (a result, or a FAIL for the one it died in).
    while (collector.next() < total) {
      const size_t before = collector.next();
      run_one_worker(options, collector, report);
      if (collector.next() <= before) collector.set_next(before + 1);  // never loop on one check
    }
  }
  collector.finish_into(report);
  report.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

namespace {

class ChannelListener : public SuiteListener {
 public:
  explicit ChannelListener(subprocess::Channel& channel) : channel_(channel) {}
  void on_facts(const nlohmann::json& facts) override { send({{"type", "facts"}, {"facts", facts}}); }
  void on_begin(size_t index) override { send({{"type", "begin"}, {"index", index}}); }
  void on_step(const std::string& label) override { send({{"type", "step"}, {"label", label}}); }
  void on_result(size_t index, const CheckResult& result) override {
    send({{"type", "result"}, {"index", index}, {"result", to_json(result)}});
  }

 private:
  void send(const nlohmann::json& message) {
    if (auto st = channel_.send(message); !st) std::_Exit(3);  // the parent is gone: nothing to report to
  }
  subprocess::Channel& channel_;
};

}  // namespace

int run_check_worker() {
  auto channel = subprocess::Channel::from_stdio();
  if (!channel) {
    fmt::print(stderr, "plugin check worker: {}\n", channel.error().message);
    return 2;
  }
  auto job = channel->receive(30.0);
  if (!job || job->outcome != subprocess::ReceiveOutcome::kMessage ||
      job->message.value("type", "") != "job") {
    fmt::print(stderr, "plugin check worker: no job received\n");
    return 2;
  }
  const nlohmann::json& j = job->message;
  SuiteOptions suite;
  suite.plugin_path = j.value("plugin_path", "");
  auto level = parse_level(j.value("level", "quick"));
  if (!level) {
    fmt::print(stderr, "plugin check worker: {}\n", level.error().message);
    return 2;
  }
  suite.level = *level;
  suite.device_index = json_fields::read_int32(j, "device_index");
  suite.only = j.value("only", std::vector<std::string>{});
  ChannelListener listener(*channel);
  run_checks(suite, json_fields::read_uint(j, "first_index"), listener);
  if (auto st = channel->send({{"type", "done"}}); !st) return 3;
  // Plugins may hold threads and driver state; leave without running their static destructors.
  std::fflush(stderr);
  std::_Exit(0);
}

}  // namespace cmeter::conformance
