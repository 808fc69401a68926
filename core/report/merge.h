// Merging reports (`cmeter report merge A.json B.json ... -o OUT`): several runs on several devices or
// nodes become one report with per-node totals and node totals over everything, the base for
// multi-node runs. Each input's digest must verify (a merge never launders a changed report); each
// input is recorded under `merge.inputs` (source, node, run id, digest, tool, host, topology, the
// device ids it had). Device ids that would collide (cpu:0 on two nodes) are qualified with the node
// name ("node1/cpu:0"); otherwise they are kept. The merged report gets a fresh digest and no
// signature (sign it again).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/report_reader.h"
#include "core/util/result.h"

namespace cmeter {

struct MergeOptions {
  std::vector<std::string> argv;  // the merge command line, recorded as run.argv
  std::string run_id;             // empty: derived from the inputs' run ids
  std::string now_utc;            // recorded as the merge time in run.settings
  size_t min_inputs = 2;          // a cluster report may have one node left
  std::string execution = "merged from separate runs (see merge.inputs)";  // run.settings.execution
};

struct MergeOutcome {
  nlohmann::json report;
  std::vector<std::string> warnings;  // e.g. different tool versions or profiles
};

Result<MergeOutcome> merge_reports(const std::vector<LoadedReport>& inputs, const MergeOptions& options);

}  // namespace cmeter
