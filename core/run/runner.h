// The runner: plans cases × devices from a profile, runs each case on its device through an executor
// (a worker process per plugin with a watchdog, or in process for debugging: core/run/executor.h),
// journals every result as it finishes, then builds the report, evaluates the criteria and decides
// the exit code (core/util/exit_codes.h). A run whose parent was killed continues with `resume_dir`: the
// journal says which cases finished; only the others run, and the report has the same shape as an
// uninterrupted run's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/model/device_facts.h"
#include "core/profile/profile.h"
#include "core/run/executor.h"
#include "core/topology/topology.h"
#include "core/util/exit_codes.h"
#include "core/util/result.h"

namespace cmeter::run {

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
  // A device whose last `max_consecutive_timeouts` cases all timed out has its remaining cases
  // recorded as `timeout` without running them ("skipped after N hangs"), so a hung device costs two
  // watchdogs, not one per case. 0: run every case whatever happened.
  int max_consecutive_timeouts = 2;
  // More planned cases (profile cases x devices) than this is refused before anything runs: a
  // sweep's cross product can reach millions. 0: no cap.
  int64_t max_planned_cases = 10000;
  // Declared specs (profiles/devices/*.yaml, core/profile/declared_specs.h) matched to each selected
  // device; with declared_sku set, that entry is used for every selected device whatever its plugin says.
  std::vector<std::string> declared_spec_files;
  std::string declared_sku;
  // Facility PUE (power usage effectiveness), a declared factor, not a measurement: recorded in
  // run.settings.pue and applied to every case's telemetry as `facility` (energy and power x PUE,
  // per-watt / PUE). Not taken from a resumed journal: give it again with --resume.
  std::optional<double> pue;
  // "sequential": devices one after another. "concurrent" (node metering): each case runs on all
  // selected devices at once (one thread per device where the executor runs a plugin's devices at once,
  // else per plugin, released together by a barrier), and the report's node totals are the concurrent
  // ones. "both": the sequential pass, then the concurrent pass (its case ids end in
  // kConcurrentPassSuffix); the report's node totals are the concurrent ones, with each device's alone
  // and at-once figures side by side (summary.node_scaling). Unset: the profile's `execution` decides.
  std::optional<std::string> execution;
  // Cluster runs (`cmeter run --mpi`): the profile's cases in turn (each on this node's devices, at
  // once when concurrent), before_case called first for every case of the profile, including those
  // with no device here, so the ranks can start each case together (a barrier).
  std::function<void(const std::string& case_id)> before_case;
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

// Attaches declared specs to the selected devices (none when resuming: the journal holds the attributes
// the run started with). Errors: a spec file that does not load, an unknown --declared SKU.
// Adds telemetry.facility (PUE-scaled energy, power and per-watt) to every result with energy or power.
void apply_pue(double pue, std::vector<CaseResult>& results);

Result<std::vector<std::string>> attach_declared_specs(const RunOptions& options,
                                                       std::vector<DeviceFacts>& devices);

// Input errors (profile, selector, output directory, a journal that cannot be resumed) come back as
// Errors (exit code 2). The steps below, in order; the pure ones are unit-tested on their own.
Result<RunOutcome> execute_run(const RunOptions& options, CaseExecutor& executor,
                               const topology::Topology* topology);

// Results a journal holds, by (device id, case id).
using ResumedResults = std::map<std::pair<std::string, std::string>, CaseResult>;

// Resume: what a resumed run takes from its journal.
struct Resumed {
  nlohmann::json run;                // the header's run object
  std::vector<DeviceFacts> devices;  // as selected when the run started
  ResumedResults done;
  std::map<std::pair<std::string, std::string>, int> done_lines;  // journal line of each result
  std::vector<nlohmann::json> events;
  int skipped_lines = 0;
  std::string journal_path;
  std::string chain_head;  // the journal's hash chain head (journal.h)
};
// Refuses a journal whose chain breaks, or that holds two results for one case on one device.
Result<Resumed> read_for_resume(const std::string& journal_path);

// Devices: those the selector matches among `found`; on resume (resumed != nullptr) those selected
// when the run started, as recorded, with a warning for each not found now. None: an Error naming the
// devices found.
struct DeviceChoice {
  std::vector<DeviceFacts> selected;
  std::vector<std::string> warnings;
};
Result<DeviceChoice> select_devices(const std::string& selector, const std::vector<DeviceFacts>& found,
                                    const Resumed* resumed);

// Plan: for each device (in order), the profile's cases whose device selector matches it (in order).
// The pointers point into `devices` and `profile`.
struct PlannedCase {
  const DeviceFacts* device;
  const profile::Case* spec;
};
// Re-checks every result a resumed journal holds, as if it had just been measured, before anything
// runs: each must be a planned case; a result counted as measured (ok, noisy) must carry a passed
// validation; its recorded peak must be what the live plugin's device declares now, and its figure
// must stand under that peak (the workloads' plausibility margin). The first problem is an error
// naming the journal line.
Status recheck_resumed(const Resumed& resumed, const std::vector<PlannedCase>& plan,
                       const std::vector<DeviceFacts>& live_devices);

std::vector<PlannedCase> plan_cases(const std::vector<DeviceFacts>& devices, const profile::Profile& profile);
// The profile's cases again with kConcurrentPassSuffix on every id: the concurrent pass of a `both` run.
profile::Profile concurrent_pass_profile(const profile::Profile& profile);

// Resume matching: how many planned cases the journal already holds, and taking one's result out
// (nullopt: it still has to run).
int count_done(const std::vector<PlannedCase>& plan, const ResumedResults& done);
std::optional<CaseResult> take_done(const PlannedCase& planned, ResumedResults& done);

// Report: the exit code of a run with these results and criteria verdict ("PASS", "FAIL",
// "INCOMPLETE", or "" without criteria): FAIL wins, then any result that makes the run incomplete.
int exit_code_for(const std::vector<CaseResult>& results, const std::string& verdict);

}  // namespace cmeter::run
