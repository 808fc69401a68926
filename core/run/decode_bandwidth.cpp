// Decode bytes/s against the same run's measured STREAM triad (see decode_bandwidth.h).
#include "core/run/decode_bandwidth.h"

#include <map>

#include <fmt/format.h>

namespace cmeter::run {
namespace {

struct Triad {
  const CaseResult* result = nullptr;
  int64_t bytes_per_array = 0;
  double bytes_per_s = 0;
};

// A device's results within one pass: a `both` run relates the concurrent pass's decode to the STREAM
// triad measured in that pass (with the other devices busy), and the alone pass's to its own.
std::string pass_key(const CaseResult& r) {
  return in_concurrent_pass(r.case_id) ? r.device + std::string(kConcurrentPassSuffix) : r.device;
}

}  // namespace

void relate_decode_to_stream(std::vector<CaseResult>& results) {
  std::map<std::string, Triad> triad_by_device;
  for (const CaseResult& r : results) {
    if (r.workload != "stream" || !counts_in_summary(r.status)) continue;
    if (get_string(r.params, "kind").value_or("") != "triad") continue;
    const Metric* m = r.metric("bytes_per_s");
    if (!m || !(m->stats.median > 0)) continue;
    const int64_t bytes = get_int(r.params, "bytes_per_array").value_or(0);
    Triad& best = triad_by_device[pass_key(r)];
    if (!best.result || bytes > best.bytes_per_array) best = Triad{&r, bytes, m->stats.median};
  }
  for (CaseResult& r : results) {
    if (!r.inference || !r.inference->decode_bytes_per_s) continue;
    InferenceResult& inf = *r.inference;
    auto it = triad_by_device.find(pass_key(r));
    if (it == triad_by_device.end()) {
      inf.mbu_decode_measured.reset();
      inf.mbu_measured_source = "none (this run measured no STREAM triad on " + r.device + ")";
      continue;
    }
    const Triad& t = it->second;
    inf.mbu_decode_measured = *inf.decode_bytes_per_s / t.bytes_per_s;
    inf.mbu_measured_source =
        fmt::format("measured STREAM triad of this run, case {} ({:.1f} GB/s, {} MiB arrays{})",
                    t.result->case_id, t.bytes_per_s / 1e9, t.bytes_per_array >> 20,
                    t.result->status == CaseStatus::kNoisy ? ", noisy" : "");
    if (!inf.mbu_decode) {
      inf.mbu_decode = inf.mbu_decode_measured;
      inf.mbu_bandwidth_source = inf.mbu_measured_source;
    }
  }
}

}  // namespace cmeter::run
