// Dispatch by workload name and the helpers shared by all workloads.
#include "core/workloads/workload.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <utility>

#include "core/model/ceilings.h"
#include "core/util/subprocess.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {

int64_t ParamReader::get_int(const std::string& key, int64_t fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
  if (auto* d = std::get_if<double>(&it->second); d && *d == std::floor(*d)) return static_cast<int64_t>(*d);
  if (error_.empty())
    error_ = fmt::format("parameter '{}' must be an integer, got '{}'", key, to_display(it->second));
  return fallback;
}

double ParamReader::get_double(const std::string& key, double fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  if (error_.empty())
    error_ = fmt::format("parameter '{}' must be a number, got '{}'", key, to_display(it->second));
  return fallback;
}

bool ParamReader::get_bool(const std::string& key, bool fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  if (auto* b = std::get_if<bool>(&it->second)) return *b;
  if (error_.empty())
    error_ = fmt::format("parameter '{}' must be true or false, got '{}'", key, to_display(it->second));
  return fallback;
}

std::string ParamReader::get_string(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  if (error_.empty())
    error_ = fmt::format("parameter '{}' must be a string, got '{}'", key, to_display(it->second));
  return fallback;
}

Status ParamReader::finish() {
  if (!error_.empty()) return Error{ErrorCode::kInvalidArgument, error_};
  for (const auto& [key, value] : params_)
    if (!used_.count(key)) return make_error(ErrorCode::kInvalidArgument, "unknown parameter '{}'", key);
  return {};
}

// The telemetry summary of a measurement, with energy per call (average power x median time per
// call) and the metric per watt (e.g. FLOP/J); null when the device offers no telemetry.
static void record_telemetry(CaseResult& result, const measure::Measurement& m, double work_per_call,
                             const std::string& metric_name, const std::string& unit) {
  measure::TelemetrySummary t = m.telemetry;
  if (!t.available && t.unavailable_reason.empty()) {
    result.telemetry = nullptr;
    return;
  }
  if (t.power_avg_w && *t.power_avg_w > 0 && m.time_stats.n > 0)
    t.energy_per_call_j = *t.power_avg_w * m.time_stats.median;
  nlohmann::json j = t.to_json();
  if (t.power_avg_w && *t.power_avg_w > 0 && !metric_name.empty() && work_per_call > 0 &&
      m.time_stats.median > 0) {
    std::string per_joule = unit;
    if (per_joule.size() > 2 && per_joule.compare(per_joule.size() - 2, 2, "/s") == 0)
      per_joule.replace(per_joule.size() - 2, 2, "/J");
    else
      per_joule += "/W";
    j["per_watt"] = {{"metric", metric_name},
                     {"value", work_per_call / m.time_stats.median / *t.power_avg_w},
                     {"unit", per_joule}};
  }
  result.telemetry = std::move(j);
}

void record_measurement(CaseResult& result, const measure::Measurement& m, double work_per_call,
                        const std::string& metric_name, const std::string& unit) {
  result.samples_s = m.per_call_s;
  Metric time{"time_s", "s", false, m.time_stats};
  result.metrics.clear();
  if (!metric_name.empty() && work_per_call > 0) {
    std::vector<double> rates;
    rates.reserve(m.per_call_s.size());
    for (double t : m.per_call_s) rates.push_back(t > 0 ? work_per_call / t : INFINITY);
    result.metrics.push_back(Metric{metric_name, unit, true, measure::compute_statistics(rates)});
  }
  result.metrics.push_back(time);
  Method& method = result.method;
  method.timer = m.timer;
  method.batch = m.batch;
  method.warmup_runs = m.warmup_runs;
  method.warmup_s = m.warmup_s;
  method.sampling_s = m.sampling_s;
  method.capped = m.capped;
  record_telemetry(result, m, work_per_call, metric_name, unit);
}

void set_status_from_measurement(CaseResult& result, const measure::Measurement& m) {
  if (m.capped) {
    result.status = CaseStatus::kNoisy;
    result.reason = fmt::format(
        "stopped by the {} s cap before the median's 95% CI reached ±{:.1f}% (reached ±{:.1f}%, n={})",
        result.method.settings.value("max_s", 0.0), 100 * result.method.settings.value("noise", 0.0),
        100 * measure::relative_ci_half_width(m.time_stats), m.time_stats.n);
  } else {
    result.status = CaseStatus::kOk;
    result.reason.clear();
  }
  // The device timer held to the host clock (core/measure/timer_check.h), in every run.
  if (const std::string summary = m.timer_check.summary(); !summary.empty())
    result.method.timer_detail = summary;
  if (m.timer_check.fault) {
    result.status = CaseStatus::kImplausible;
    result.reason = *m.timer_check.fault;
  }
}

void apply_plausibility(CaseResult& result, const Device& device, const std::string& peak_key,
                        const std::string& metric_name, double margin) {
  const Metric* metric = result.metric(metric_name);
  if (metric == nullptr) return;
  // The physical ceiling holds whatever the plugin declares (core/model/ceilings.h).
  if (const auto ceiling = ceiling_for(peak_key);
      ceiling && counts_in_summary(result.status) && metric->stats.median > ceiling->value) {
    result.status = CaseStatus::kImplausible;
    result.reason = fmt::format(
        "median {:.4g} {} exceeds {:.4g}, the ceiling for {} that no device reaches today ({}; revisit {})",
        metric->stats.median, metric->unit, ceiling->value, peak_key, ceiling->source, ceiling->revisit);
    return;
  }
  auto peak = get_number(device.attributes(), peak_key);
  if (!peak || *peak <= 0) return;
  // A declared peak above its ceiling, or from an impossible clock, is no gate and no efficiency base.
  if (auto why = untrusted_peak_reason(device.attributes(), peak_key)) {
    result.reason =
        result.reason.empty() ? "untrusted peak: " + *why : result.reason + "; untrusted peak: " + *why;
    return;
  }
  result.peak = *peak;
  result.peak_key = peak_key;
  if (!counts_in_summary(result.status)) return;
  if (metric->stats.median > *peak * (1 + margin)) {
    result.status = CaseStatus::kImplausible;
    result.reason = fmt::format(
        "median {:.4g} {} exceeds the declared {} = {:.4g} by {:.1f}% (margin {:.0f}%): a timer bug or a "
        "cheat",
        metric->stats.median, metric->unit, peak_key, *peak, 100 * (metric->stats.median / *peak - 1),
        100 * margin);
  }
}

CaseResult& fail(CaseResult& result, CaseStatus status, std::string reason) {
  result.status = status;
  result.reason = std::move(reason);
  return result;
}

int64_t OutputRotation::set_of_call(int64_t i) {
  next_call_ = i + 1;
  return i % sets_;
}

Status OutputRotation::before_sample(const std::function<Status(int64_t set)>& poison) {
  for (int64_t s = 0; s < sets_; ++s) CMETER_TRY(poison(s));
  sample_first_call_ = next_call_;
  return {};
}

std::vector<int64_t> OutputRotation::last_sample_sets() const {
  const int64_t calls = std::clamp<int64_t>(next_call_ - sample_first_call_, 1, sets());
  std::vector<int64_t> out;
  for (int64_t k = 0; k < calls; ++k) out.push_back((sample_first_call_ + k) % sets());
  return out;
}

int64_t output_sets_for(uint64_t set_bytes, uint64_t extra_budget_bytes, int64_t max_sets) {
  const uint64_t extra = set_bytes > 0 ? extra_budget_bytes / set_bytes : 0;
  return std::clamp<int64_t>(1 + static_cast<int64_t>(std::min<uint64_t>(extra, 1u << 20)), 1,
                             std::max<int64_t>(1, max_sets));
}

Status poison_buffer(Stream& stream, Buffer& buffer, uint64_t bytes) {
  static const std::vector<uint8_t> kPoison(4 << 20, 0xFF);
  for (uint64_t offset = 0; offset < bytes; offset += kPoison.size()) {
    const uint64_t n = std::min<uint64_t>(kPoison.size(), bytes - offset);
    CMETER_TRY(stream.write(buffer, offset, kPoison.data(), n));
  }
  return stream.synchronize();
}

Result<OutputRead> read_outputs(Stream& stream, const std::vector<ReadRegion>& regions) {
  CMETER_TRY(stream.synchronize());
  uint64_t largest = 0;
  for (const ReadRegion& r : regions) largest = std::max(largest, r.bytes);
  std::vector<uint8_t> scratch(largest);  // zero-filled: its pages are touched before any clock starts
  auto timed_reads = [&](bool into_host) -> Result<double> {
    const auto start = std::chrono::steady_clock::now();
    for (const ReadRegion& r : regions)
      CMETER_TRY(stream.read(*r.buffer, r.offset, into_host ? r.host : scratch.data(), r.bytes));
    CMETER_TRY(stream.synchronize());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  OutputRead read;
  auto first = timed_reads(true);
  if (!first) return first.error();
  read.read_s = *first;
  read.reread_s = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 2; ++i) {
    auto again = timed_reads(false);
    if (!again) return again.error();
    read.reread_s = std::min(read.reread_s, *again);
  }
  return read;
}

void record_read_back(const OutputRead& read, CaseResult& result) {
  if (result.validation)
    result.validation->method +=
        fmt::format("; read back in {:.3g} ms, re-read in {:.3g} ms", read.read_s * 1e3, read.reread_s * 1e3);
}

bool check_read_back(const OutputRead& read, double per_call_s, CaseResult& result) {
  record_read_back(read, result);
  const double bound_s =
      std::max({kDeferredReadFloor_s, 0.5 * per_call_s, kFirstReadAllowance * read.reread_s});
  const double extra_s = read.read_s - read.reread_s;
  if (extra_s <= bound_s) return true;
  fail(
      result, CaseStatus::kImplausible,
      fmt::format("reading the outputs back took {:.3g} ms, re-reading the same bytes {:.3g} ms: {:.3g} ms "
                  "more, above the {:.3g} ms a first read may take over a re-read (the largest of {:.3g} ms, "
                  "half a timed call and {:.3g} re-reads): work deferred from the timed calls into the "
                  "read-back",
                  read.read_s * 1e3, read.reread_s * 1e3, extra_s * 1e3, bound_s * 1e3,
                  kDeferredReadFloor_s * 1e3, kFirstReadAllowance));
  return false;
}

std::mt19937_64 fresh_entropy_rng() {
  std::random_device device_entropy;
  return std::mt19937_64((static_cast<uint64_t>(device_entropy()) << 32) ^ device_entropy());
}

void print_progress(const std::string& line) {
  fmt::print(stderr, "{}{}\n", subprocess::kProgressLineMarker, line);
  std::fflush(stderr);
}

std::optional<uint64_t> worker_memory_limit_bytes() {
  const char* text = std::getenv(kWorkerMemoryLimitEnv);
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) return std::nullopt;
  return static_cast<uint64_t>(v);
}

namespace {

// The budget and where it comes from, computed in one place for both accessors below.
std::pair<uint64_t, const char*> memory_budget(const Device& device) {
  auto mem = get_int(device.attributes(), "mem.bytes");
  std::pair<uint64_t, const char*> out =
      (!mem || *mem <= 0)
          ? std::pair<uint64_t, const char*>{8ull << 30, "8 GiB: the device declares no mem.bytes"}
          : std::pair<uint64_t, const char*>{static_cast<uint64_t>(*mem) / 10 * 9,
                                             "90% of the device's mem.bytes"};
  if (get_bool(device.attributes(), "mem.host_shared").value_or(false))
    if (const auto limit = worker_memory_limit_bytes();
        limit && worker_memory_allowance_bytes(*limit) < out.first)
      out = {
          worker_memory_allowance_bytes(*limit),
          "90% of the worker's memory limit, which this host-shared device memory counts against; cmeter run "
          "--worker-memory-limit (MiB)"};
  return out;
}

}  // namespace

uint64_t memory_budget_bytes(const Device& device) {
  return memory_budget(device).first;
}

std::string memory_budget_source(const Device& device) {
  return memory_budget(device).second;
}

CaseResult begin_case_result(const profile::Case& spec, const std::string& device_id) {
  CaseResult result;
  result.case_id = spec.id;
  result.workload = spec.workload;
  result.device = device_id;
  result.params = spec.params;
  result.started_utc = utc_now_iso8601();
  result.status = CaseStatus::kFailed;
  const auto& s = spec.stats;
  result.method.settings = {{"warmup_min_runs", s.warmup_min_runs},
                            {"warmup_min_s", s.warmup_min_s},
                            {"sample_min_s", s.sample_min_s},
                            {"min_samples", s.min_samples},
                            {"min_s", s.min_s},
                            {"noise", s.noise},
                            {"max_s", s.max_s},
                            {"rotation_sets", s.rotation_sets}};
  return result;
}

CaseResult run_case(const Context& context) {
  CaseResult result = begin_case_result(context.spec, context.device.id());
  auto start = std::chrono::steady_clock::now();
  WorkloadFn fn = find_workload(context.spec.workload);
  if (fn == nullptr) {
    fail(result, CaseStatus::kFailed, fmt::format("unknown workload '{}'", context.spec.workload));
  } else {
    try {
      fn(context, result);
    } catch (const std::bad_alloc&) {
      fail(result, CaseStatus::kFailed, "out of host memory");
    } catch (const std::exception& e) {
      fail(result, CaseStatus::kFailed, fmt::format("internal error: {}", e.what()));
    }
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cmeter::workloads
