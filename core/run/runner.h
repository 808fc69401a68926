// The runner: plans cases × devices from a profile, runs each case on its device (host threads bound
// near the device), journals every result as it finishes, then builds the report, evaluates the
// criteria and decides the exit code. How a case is executed is a seam (`CaseExecutor`): in process
// today; a worker process with a watchdog (ARCHITECTURE.md section 4) plugs in without changing this.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/plugin/plugin_host.h"
#include "core/profile/profile.h"
#include "core/report/case_result.h"
#include "core/topology/topology.h"
#include "core/util/result.h"

namespace cmeter::run {

// Exit codes of `cmeter run` (docs/cli.md).
inline constexpr int kExitOk = 0;  // all valid, criteria PASS (or none)
inline constexpr int kExitCriteriaFail = 1;
inline constexpr int kExitUsage = 2;       // usage or input error
inline constexpr int kExitIncomplete = 3;  // some case failed, crashed, timed out or was invalid/implausible

struct Progress {
  int index = 0;  // 1-based
  int total = 0;
  std::string device;
  std::string case_id;
  double elapsed_s = 0;
  double eta_s = -1;                     // -1 unknown
  const CaseResult* finished = nullptr;  // set when the case has finished
};

using CaseExecutor =
    std::function<CaseResult(const Device& device, const profile::Case& spec, uint64_t seed)>;
CaseResult run_in_process(const Device& device, const profile::Case& spec, uint64_t seed);

struct RunOptions {
  std::string profile = "quick";          // name or path
  std::vector<std::string> profile_dirs;  // where names are looked up
  std::string device_selector = "*";
  std::string output_dir = "results";
  std::optional<uint64_t> seed;
  std::vector<std::string> argv;
  CaseExecutor executor = run_in_process;
  std::function<void(const Progress&)> progress;
};

struct RunOutcome {
  nlohmann::json report;
  std::string run_dir;
  std::string report_path;
  std::string journal_path;
  int exit_code = kExitOk;
  std::vector<std::string> warnings;
};

// Input errors (profile, selector, output directory) come back as Errors (exit code 2).
Result<RunOutcome> execute_run(const RunOptions& options, PluginHost& host,
                               const topology::Topology* topology);

}  // namespace cmeter::run
