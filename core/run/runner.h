// The runner: plans cases × devices from a profile, runs each case on its device through an executor
// (a worker process per plugin with a watchdog, or in process for debugging: core/run/executor.h),
// journals every result as it finishes, then builds the report, evaluates the criteria and decides
// the exit code. A run whose parent was killed continues with `resume_dir`: the journal says which
// cases finished; only the others run, and the report has the same shape as an uninterrupted run's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/profile/profile.h"
#include "core/report/case_result.h"
#include "core/run/executor.h"
#include "core/topology/topology.h"
#include "core/util/result.h"

namespace cmeter::run {

// Exit codes of `cmeter run` (docs/cli.md).
inline constexpr int kExitOk = 0;  // all valid, criteria PASS (or none)
inline constexpr int kExitCriteriaFail = 1;
inline constexpr int kExitUsage = 2;       // usage or input error
inline constexpr int kExitIncomplete = 3;  // some case failed, crashed, timed out or was invalid/implausible

struct Progress {
  int index = 0;  // 1-based, in the whole plan
  int total = 0;
  std::string device;
  std::string case_id;
  double elapsed_s = 0;
  double eta_s = -1;                     // -1 unknown
  const CaseResult* finished = nullptr;  // set when the case has finished
};

struct RunOptions {
  std::string profile = "quick";          // name or path
  std::vector<std::string> profile_dirs;  // where names are looked up
  std::string device_selector = "*";
  std::string output_dir = "results";
  std::optional<uint64_t> seed;
  std::vector<std::string> argv;
  // Non-empty: continue the run in this directory (results/<run id>); profile, device selector and
  // seed then come from its journal and the fields above are ignored.
  std::string resume_dir;
  std::function<void(const Progress&)> progress;
};

struct RunOutcome {
  nlohmann::json report;
  std::string run_dir;
  std::string report_path;
  std::string journal_path;
  int exit_code = kExitOk;
  int cases_resumed = 0;  // finished cases taken from the journal (resume)
  int cases_run = 0;      // cases run by this invocation
  std::vector<std::string> warnings;
};

// Input errors (profile, selector, output directory, a journal that cannot be resumed) come back as
// Errors (exit code 2).
Result<RunOutcome> execute_run(const RunOptions& options, CaseExecutor& executor,
                               const topology::Topology* topology);

}  // namespace cmeter::run
