// A workload is written once, in the core, over ABI ops, and runs on every device whose plugin
// supports those ops. This header is the common face (run one case on one device) and the shared
// pieces every workload needs: parameter reading with unknown-key errors, turning a Measurement into
// metrics and method, and the plausibility gate. Seeded host data and the host references are
// core/validate's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
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

// ---- Read-back held against deferred work (docs/measurement.md, "Timed work proven done") ----
// A plugin could skip the work of the timed calls and do it when the host reads the output back
// (buffer_read, or the synchronize after it): the outputs would validate and the timed calls would
// look fast. So validation reads are timed: the outputs are read once (what validation checks), then
// the same bytes twice more. A re-read is the same transfer without any deferred work, so no link rate
// is needed. An honest first read is slower than a re-read too (measured here: up to 3.3x on the CPU
// plugin's 128 MiB arrays, 2x on PoCL), so the first read may exceed the faster re-read by the largest
// of kDeferredReadFloor_s, half a timed call and kFirstReadAllowance re-reads. That separates deferred
// compute (GEMM, fma_peak: a call costs many reads) from honest reads; a deferred STREAM or copy call
// costs about as much as the honest first-read penalty, so those record the times without a verdict.
inline constexpr double kDeferredReadFloor_s = 2e-3;
inline constexpr double kFirstReadAllowance = 4.0;
struct OutputRead {
  double read_s = 0;    // the first read(s) with their synchronize, host clock
  double reread_s = 0;  // the faster of two re-reads of the same bytes
};
// One region to read: `bytes` at `offset` of `buffer` into `host`.
struct ReadRegion {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;
  void* host = nullptr;
  uint64_t bytes = 0;
};
// Synchronizes (so earlier work is not the read's), reads every region (timed as one), then re-reads
// them twice into a scratch copy. `host` holds what the first read returned.
Result<OutputRead> read_outputs(Stream& stream, const std::vector<ReadRegion>& regions);
// The rule above: true when the read is consistent with no deferred work; otherwise marks `result`
// implausible with both times and the bound in the reason. Either way the times go into the
// validation's method (record_read_back; result.validation must be set).
bool check_read_back(const OutputRead& read, double per_call_s, CaseResult& result);
void record_read_back(const OutputRead& read, CaseResult& result);

// A generator seeded from the operating system's entropy, never from the run seed: what validation
// draws after the timed calls (which output set, which fma items, which queries it checks) is then
// unknown to a plugin in advance, so computing only what will be checked cannot pass.
std::mt19937_64 fresh_entropy_rng();

// The environment variable through which the worker host (core/isolation) tells a worker the
// resident-memory limit it is stopped at, and that limit in this process (none outside a worker).
inline constexpr const char* kWorkerMemoryLimitEnv = "CMETER_WORKER_MEMORY_LIMIT_BYTES";
std::optional<uint64_t> worker_memory_limit_bytes();
// What a case may plan to use of that limit: 90% (the rest for what the estimates do not count).
inline uint64_t worker_memory_allowance_bytes(uint64_t limit_bytes) {
  return limit_bytes / 10 * 9;
}

// One line of a long case's progress on stderr, marked so that the worker host shows it to the user
// (unless `cmeter run -q`) while it keeps the rest of a worker's stderr for diagnostics.
void print_progress(const std::string& line);

// Bytes of device memory a case may use: 90% of mem.bytes when known, else 8 GiB; for a device whose
// memory is the host's (mem.host_shared) at most 90% of the worker's memory limit, which its buffers
// count against (a case past it was stopped as a leak instead of being refused up front).
uint64_t memory_budget_bytes(const Device& device);
// Where that budget comes from, for messages ("90% of mem.bytes", ...).
std::string memory_budget_source(const Device& device);

// ---- Per-call output rotation (docs/measurement.md, "Timed work proven done") ----
// An op whose output depends only on inputs that do not change (fma_peak, stream, copy) can skip a
// call whose output an earlier call already wrote. So every call of a sample writes an output set of
// its own (call i: set i mod sets; the loop's max_batch = sets), and before each sample every set is
// poisoned: a skipped call leaves its set poisoned, a deferred one pays at the read-back for every call
// of the sample. (Every set, not only those the last sample's calls wrote: a plugin could copy one
// right answer into every output buffer it has seen.)
class OutputRotation {
 public:
  explicit OutputRotation(int64_t sets) : sets_(sets) {}
  int64_t sets() const { return sets_; }
  // The set call `i` writes.
  int64_t set_of_call(int64_t i);
  // The LoopOptions::before_sample step: `poison(set)` for every set; notes the sample's first call.
  Status before_sample(const std::function<Status(int64_t set)>& poison);
  // The sets the last sample's calls wrote, in call order (at least one).
  std::vector<int64_t> last_sample_sets() const;

 private:
  int64_t sets_ = 1;
  int64_t next_call_ = 0, sample_first_call_ = 0;
};
// Output sets for a case: the first plus as many more of `set_bytes` as fit `extra_budget_bytes`, at
// most `max_sets`. Chosen from memory, not from a timed call (a plugin could slow that call to get
// fewer sets, so shorter samples, below the timer check's long-sample threshold).
int64_t output_sets_for(uint64_t set_bytes, uint64_t extra_budget_bytes, int64_t max_sets);

}  // namespace cmeter::workloads
