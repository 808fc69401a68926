// check_plugin: runs the conformance suite on one plugin file and assembles the report. By default the
// checks run in a worker process (this executable re-run as `cmeter __plugin-check-worker`, talking
// framed JSON over core/util/subprocess): a crash (signal) or a hang (per-check timeout) inside one
// check is recorded as that check's FAIL, with the signal or timeout, the case it was running and the
// worker's stderr tail, and a fresh worker goes on with the next check. In-process mode (tests, and
// debugging a plugin under gdb) runs the same checks in this process, with no such protection.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/conformance/conformance_report.h"
#include "core/conformance/suite.h"

namespace cmeter::conformance {

// The argv[1] that makes the cmeter executable a conformance worker.
inline constexpr const char* kWorkerCommand = "__plugin-check-worker";

struct CheckerOptions {
  SuiteOptions suite;
  bool in_process = false;
  double check_timeout_s = 120;  // per check, from its start; the loading checks share one
  // A worker whose resident memory exceeds this is stopped and the running check FAILs (an unbounded
  // allocation or a leak must not take the machine down); 0: no limit.
  uint64_t worker_memory_limit_bytes = uint64_t{4} << 30;
  std::string worker_executable;  // empty: this executable
  std::vector<std::string> worker_args = {kWorkerCommand};
  bool forward_worker_stderr = false;  // copy the plugin's stderr lines to ours (prefixed)
  std::string cmeter_version;
  // Called after each check finishes (progress); may be empty.
  std::function<void(size_t index, size_t total, const CheckResult&)> on_result;
};

ConformanceReport check_plugin(const CheckerOptions& options);

// The worker side: reads the job from the channel on stdin/stdout, runs the checks it names, sends
// each event back, and returns the process exit code (0 when the job ran, 2 on a protocol error).
int run_check_worker();

}  // namespace cmeter::conformance
