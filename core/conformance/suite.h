// The conformance suite: the ordered catalogue of checks `cmeter plugin check` runs, and the
// function that runs a range of them in this process. The order matters: the first checks load the
// plugin (file, ABI version, table size, initialise, devices) and every later check uses what they
// built, so a worker process started after a crash runs the loading checks again silently and goes on
// from the next check. Which process runs them is the caller's business (worker.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/conformance/check_result.h"
#include "core/util/result.h"

namespace cmeter::conformance {

enum class Level { kQuick, kFull };
const char* to_string(Level level);
Result<Level> parse_level(std::string_view text);

struct SuiteOptions {
  std::string plugin_path;
  Level level = Level::kQuick;
  int device_index = 0;
  // Check ids or globs (fnmatch) to run; empty: all. Loading checks always run.
  std::vector<std::string> only;
};

// True when check `id` is selected by `only` (empty selects everything).
bool is_selected(const std::vector<std::string>& only, const std::string& id);

struct CheckInfo {
  std::string id;
  std::string title;
  bool full_only = false;  // SKIP (level) at --level quick
  bool loads = false;      // part of loading the plugin: rerun silently by a fresh worker
};

// Every check, in run order.
const std::vector<CheckInfo>& check_catalogue();

// What a run reports as it goes; a worker forwards each call over its channel.
class SuiteListener {
 public:
  virtual ~SuiteListener() = default;
  // Facts about the plugin and the checked device, once loaded: plugin_name, abi_major, abi_minor,
  // plugin_attributes, device_count, device_id, device_attributes.
  virtual void on_facts(const nlohmann::json& facts) { (void)facts; }
  virtual void on_begin(size_t index) { (void)index; }
  // A label for what the current check is about to do, so a crash can be attributed to a case.
  virtual void on_step(const std::string& label) { (void)label; }
  virtual void on_result(size_t index, const CheckResult& result) = 0;
};

// Runs catalogue checks [first_index, end) in this process, reporting each to `listener`. When
// first_index > 0 the loading checks before it run silently first (their results are not reported);
// if loading fails then, every remaining check is reported as FAIL with the reason.
void run_checks(const SuiteOptions& options, size_t first_index, SuiteListener& listener);

}  // namespace cmeter::conformance
