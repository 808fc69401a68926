// A workload is written once, in the core, over ABI ops, and runs on every device whose plugin
// supports those ops. This header is the common face (run one case on one device) and the shared
// pieces every workload needs: parameter reading with unknown-key errors, turning a Measurement into
// metrics and method, and the plausibility gate. Seeded host data and the host references are
// core/validate's.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/measure/measurer.h"
#include "core/model/case_result.h"
#include "core/plugin/device.h"
#include "core/profile/profile.h"
#include "core/util/clock.h"
#include "core/validate/dtype.h"

namespace cmeter::workloads {

struct Context {
  const Device& device;
  const profile::Case& spec;
  uint64_t seed;  // per run; mixed with the case id so cases get independent inputs
};

// Runs the case; never throws; every failure becomes a status with a reason.
CaseResult run_case(const Context& context);
// A result for `spec` on `device_id` before anything ran: identity, params, start time and the stats
// settings in force (status failed until a workload says otherwise). Used here and by the worker host.
CaseResult begin_case_result(const profile::Case& spec, const std::string& device_id);

// ---- shared pieces ----

// Reads case params, remembering which were used so leftovers can be reported as unknown.
class ParamReader {
 public:
  explicit ParamReader(const KeyValues& params) : params_(params) {}
  int64_t get_int(const std::string& key, int64_t fallback);
  double get_double(const std::string& key, double fallback);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  // First problem seen: a wrong type, or (after all reads) a key nobody read.
  Status finish();

 private:
  const KeyValues& params_;
  std::set<std::string> used_;
  std::string error_;
};

// Fills result.metrics (time per call and the throughput metric) and result.method from a loop.
void record_measurement(CaseResult& result, const measure::Measurement& m, double work_per_call,
                        const std::string& metric_name, const std::string& unit);
// Status from the loop (noisy if capped) unless a later check changes it.
void set_status_from_measurement(CaseResult& result, const measure::Measurement& m);
// Marks the result implausible when the median throughput of `metric_name` exceeds the device
// attribute `peak_key` by more than `margin`; records the peak used. No attribute: no gate (said).
// How far above its declared peak a measured figure may be before it is implausible (clock boost and
// rounding of declared peaks); the resume re-check uses the same.
inline constexpr double kPlausibilityMargin = 0.05;
void apply_plausibility(CaseResult& result, const Device& device, const std::string& peak_key,
                        const std::string& metric_name, double margin = kPlausibilityMargin);
// A failure with a reason, keeping whatever was measured.
CaseResult& fail(CaseResult& result, CaseStatus status, std::string reason);

// One clock for the whole tool (core/util/clock.h).
using ::cmeter::utc_now_iso8601;

// Overwrites `bytes` of `buffer` with 0xFF bytes (a NaN in every float type) through the stream, and
// waits: what a LoopOptions::before_sample hook calls, so each sample must write its outputs anew.
Status poison_buffer(Stream& stream, Buffer& buffer, uint64_t bytes);

// Bytes of device memory a case may use (90% of mem.bytes when known, else 8 GiB).
uint64_t memory_budget_bytes(const Device& device);

}  // namespace cmeter::workloads
