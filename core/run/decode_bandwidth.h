// Relates each inference result's decode traffic to the memory bandwidth its own device showed in the
// same run. The inference workload runs alone in its case and knows only the declared
// peak.mem.bytes_per_s; a buyer asks how close decode comes to what the card really moves, which is
// the STREAM triad measured beside it (issue 12: decode MBU against the measured triad). The run
// calls this once all cases are done, before the report is built.
#pragma once

#include <vector>

#include "core/model/case_result.h"

namespace cmeter::run {

// For every inference result with a measured decode_bytes_per_s: finds the same device's STREAM
// triad results of the run that count in summaries (ok or noisy), takes the one with the largest
// arrays (the one furthest out of the caches, as STREAM's rule wants), and sets mbu_decode_measured
// = decode_bytes_per_s / its median bytes_per_s, naming the case in mbu_measured_source. Where the
// device declares no peak.mem.bytes_per_s, mbu_decode takes the measured ratio and its source too.
// Results without a triad on their device keep mbu_decode_measured null and a source saying why.
void relate_decode_to_stream(std::vector<CaseResult>& results);

}  // namespace cmeter::run
