// Scenario scheduling, arrivals, statistics and the Server rate search (see scenario.h for the policy).
#include "core/models/scenario.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>

#include <fmt/format.h>

#include "core/models/counter_rng.h"

namespace cmeter::models {
namespace {

constexpr uint64_t kArrivalStream = 3ull << 40;

struct Active {
  int64_t query = -1;
  int64_t tokens = 0;  // output tokens so far
  size_t timing = 0;   // index into the pending timings
};

class Runner {
 public:
  Runner(Engine& engine, const ScenarioSettings& s)
      : e_(engine), s_(s), slots_(static_cast<size_t>(engine.slots())) {}

  Result<ScenarioRun> run() {
    t0_ = e_.now_s();
    Status st;
    switch (s_.scenario) {
      case Scenario::kSingleStream:
        st = single_stream();
        break;
      case Scenario::kOffline:
        st = offline();
        break;
      case Scenario::kServer:
        st = server();
        break;
    }
    if (!st) return st.error();
    run_.duration_s = e_.now_s() - t0_;
    return std::move(run_);
  }

 private:
  double now() { return e_.now_s() - t0_; }
  bool enough(int64_t issued) const {
    return (issued >= s_.min_queries && now_cached_ >= s_.min_duration_s) || issued >= s_.max_queries;
  }

  Status prefill(size_t slot, int64_t query, double arrival) {
    const double start = now();
    if (auto st = e_.prefill(static_cast<int64_t>(slot), query); !st) return st;
    const double t = now();
    run_.prefill_s += t - start;
    pending_.push_back({query, arrival, t, t, static_cast<int64_t>(slot)});
    slots_[slot] = {query, 1, pending_.size() - 1};
    if (s_.output_len == 1) finish(slot, t);
    return {};
  }

  void finish(size_t slot, double t) {
    QueryTiming timing = pending_[slots_[slot].timing];
    timing.done_s = t;
    run_.queries.push_back(timing);
    output_tokens_ += s_.output_len;
    slots_[slot] = Active{};
    if (s_.progress) s_.progress(static_cast<int64_t>(run_.queries.size()), output_tokens_, t);
  }

  Status decode_step() {
    std::vector<bool> active(slots_.size());
    int64_t rows = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
      active[i] = slots_[i].query >= 0;
      rows += active[i];
    }
    if (rows == 0) return {};
    const double start = now();
    if (auto st = e_.decode(active); !st) return st;
    const double t = now();
    run_.decode_s += t - start;
    run_.decode_steps += 1;
    run_.decode_rows += rows;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (active[i] && ++slots_[i].tokens >= s_.output_len) finish(i, t);
    return {};
  }

  bool any_active() const {
    return std::any_of(slots_.begin(), slots_.end(), [](const Active& a) { return a.query >= 0; });
  }

  Status single_stream() {
    int64_t issued = 0;
    while (!enough(issued)) {
      if (auto st = prefill(0, issued, now()); !st) return st;
      ++issued;
      while (any_active())
        if (auto st = decode_step(); !st) return st;
      now_cached_ = now();
    }
    return {};
  }

  Status offline() {
    int64_t issued = 0;
    while (!enough(issued)) {
      for (size_t slot = 0; slot < slots_.size() && issued < s_.max_queries; ++slot) {
        if (auto st = prefill(slot, issued, 0.0); !st) return st;
        ++issued;
      }
      while (any_active())
        if (auto st = decode_step(); !st) return st;
      now_cached_ = now();
    }
    return {};
  }

  Status server() {
    // Arrivals are drawn in chunks; issuing stops once both minima hold (see below).
    std::vector<double> arrivals;
    int64_t next = 0;
    std::deque<std::pair<int64_t, double>> waiting;  // (query, arrival)
    bool closed = false;
    while (true) {
      if (!closed) {
        while (true) {
          if (next >= static_cast<int64_t>(arrivals.size()))
            arrivals = poisson_arrivals(s_.seed, s_.server_qps, std::max<int64_t>(2 * next, 1024));
          const double a = arrivals[static_cast<size_t>(next)];
          // Closed once the last issued query arrived at or after min_duration_s (so the run ends
          // after it) and min_queries were issued.
          now_cached_ = next > 0 ? arrivals[static_cast<size_t>(next - 1)] : 0.0;
          if (enough(next)) {
            closed = true;
            break;
          }
          if (a > now() + 1e-9) break;  // (a clock at t0 + a may read a hair below a)
          waiting.emplace_back(next, a);
          ++next;
        }
      }
      for (size_t slot = 0; slot < slots_.size() && !waiting.empty(); ++slot) {
        if (slots_[slot].query >= 0) continue;
        auto [query, arrival] = waiting.front();
        waiting.pop_front();
        if (auto st = prefill(slot, query, arrival); !st) return st;
      }
      if (any_active()) {
        if (auto st = decode_step(); !st) return st;
      } else if (waiting.empty()) {
        if (closed) break;
        e_.wait_until(t0_ + arrivals[static_cast<size_t>(next)]);
      }
    }
    return {};
  }

  Engine& e_;
  const ScenarioSettings& s_;
  std::vector<Active> slots_;
  std::vector<QueryTiming> pending_;
  ScenarioRun run_;
  double t0_ = 0;
  double now_cached_ = 0;
  int64_t output_tokens_ = 0;
};

}  // namespace

std::string to_string(Scenario s) {
  switch (s) {
    case Scenario::kOffline:
      return "offline";
    case Scenario::kSingleStream:
      return "single_stream";
    case Scenario::kServer:
      return "server";
  }
  return "offline";
}

Result<Scenario> parse_scenario(const std::string& name) {
  for (Scenario s : {Scenario::kOffline, Scenario::kSingleStream, Scenario::kServer})
    if (to_string(s) == name) return s;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown scenario '{}' (known: offline, single_stream, server)", name);
}

Result<ScenarioRun> run_scenario(Engine& engine, const ScenarioSettings& settings) {
  if (settings.output_len < 1 || engine.slots() < 1 || settings.min_queries < 1)
    return make_error(ErrorCode::kInvalidArgument, "scenario needs output_len, slots and min_queries >= 1");
  if (settings.scenario == Scenario::kServer && !(settings.server_qps > 0))
    return make_error(ErrorCode::kInvalidArgument, "server scenario needs a positive rate");
  Runner runner(engine, settings);
  return runner.run();
}

std::vector<double> poisson_arrivals(uint64_t seed, double qps, int64_t count) {
  std::vector<double> out(static_cast<size_t>(count));
  double t = 0;
  for (int64_t i = 0; i < count; ++i) {
    // u in (0, 1]: -ln(u)/qps is an exponential gap of mean 1/qps.
    const double u =
        1.0 - static_cast<double>(counter_bits(seed, kArrivalStream, static_cast<uint64_t>(i)) >> 11) *
                  (1.0 / 9007199254740992.0);
    t += -std::log(u) / qps;
    out[static_cast<size_t>(i)] = t;
  }
  return out;
}

double percentile(std::vector<double> v, double fraction) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1) * std::clamp(fraction, 0.0, 1.0);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

Percentiles percentiles(const std::vector<double>& v) {
  return {percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99)};
}

std::vector<std::pair<double, double>> empirical_cdf(std::vector<double> v, size_t points) {
  std::vector<std::pair<double, double>> out;
  if (v.empty() || points == 0) return out;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const size_t k = std::min(points, n);
  for (size_t i = 1; i <= k; ++i) {
    const size_t rank = (i * n + k - 1) / k;  // 1-based, the last is n
    out.emplace_back(v[rank - 1], static_cast<double>(rank) / static_cast<double>(n));
  }
  return out;
}

double ttft_growth(const ScenarioRun& run) {
  const size_t n = run.queries.size();
  if (n < 3) return 0.0;
  double mean_a = 0, mean_t = 0;
  for (const QueryTiming& q : run.queries) {
    mean_a += q.arrival_s;
    mean_t += q.first_token_s - q.arrival_s;
  }
  mean_a /= static_cast<double>(n);
  mean_t /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (const QueryTiming& q : run.queries) {
    const double da = q.arrival_s - mean_a;
    sxy += da * (q.first_token_s - q.arrival_s - mean_t);
    sxx += da * da;
  }
  return sxx > 0 ? sxy / sxx : 0.0;
}

ScenarioStats scenario_stats(const ScenarioRun& run, int64_t prompt_len, int64_t output_len) {
  ScenarioStats s;
  for (const QueryTiming& q : run.queries) {
    const double latency = q.done_s - q.arrival_s;
    const double ttft = q.first_token_s - q.arrival_s;
    s.latency_s.push_back(latency);
    s.ttft_s.push_back(ttft);
    if (output_len > 1) s.tpot_s.push_back((latency - ttft) / static_cast<double>(output_len - 1));
  }
  if (run.duration_s > 0) {
    const double n = static_cast<double>(run.queries.size());
    s.output_tokens_per_s = n * static_cast<double>(output_len) / run.duration_s;
    s.prompt_tokens_per_s = n * static_cast<double>(prompt_len) / run.duration_s;
  }
  return s;
}

namespace {

// Whether a probe at `qps`, and then one at `reserve_qps`, are expected to end within the budget; if
// not, says so in budget->stopped.
bool fits(SearchBudget* budget, double qps, double reserve_qps, const char* what) {
  if (budget == nullptr || !budget->limited()) return true;
  const double probe_s = budget->expected_s(qps);
  const double reserve_s = reserve_qps > 0 ? budget->expected_s(reserve_qps) : 0.0;
  const double left_s = budget->left_s();
  if (probe_s + reserve_s <= left_s) return true;
  budget->stopped = fmt::format(
      "{} at {:.3g} query/s (expected ~{:.0f} s{}) would not end within the case's time budget ({:.0f} s "
      "left; the stats' timeout_s sets it)",
      what, qps, probe_s,
      reserve_s > 0 ? fmt::format(", then ~{:.0f} s to re-run {:.3g} query/s", reserve_s, reserve_qps)
                    : std::string(),
      std::max(0.0, left_s));
  return false;
}

}  // namespace

std::vector<ServerSearchStep> search_server_rate(const std::function<Result<ServerSearchStep>(double)>& probe,
                                                 double start_qps, int64_t steps, Status* error,
                                                 SearchBudget* budget) {
  std::vector<ServerSearchStep> out;
  double lo = 0, hi = 0;  // highest passed, lowest failed (0: none yet)
  double q = start_qps > 0 ? start_qps : 1.0;
  for (int64_t i = 0; i < steps; ++i) {
    // The re-run to keep time for: this rate's if it passes, else the highest pass so far (the slower
    // of the two, as a probe at a lower rate lasts longer).
    if (!fits(budget, q, lo > 0 ? std::min(lo, q) : q, "the next search probe")) break;
    auto r = probe(q);
    if (!r) {
      if (error) *error = r.error();
      break;
    }
    out.push_back(*r);
    if (r->passed)
      lo = std::max(lo, q);
    else
      hi = hi > 0 ? std::min(hi, q) : q;
    if (hi == 0)
      q = 2 * lo;
    else if (lo == 0)
      q = hi / 2;
    else
      q = (lo + hi) / 2;
  }
  return out;
}

double confirm_server_rate(const std::function<Result<ServerSearchStep>(double)>& probe,
                           std::vector<ServerSearchStep>& steps, int64_t attempts, Status* error,
                           SearchBudget* budget) {
  std::vector<double> passed;
  for (const ServerSearchStep& s : steps)
    if (s.passed) passed.push_back(s.qps);
  std::sort(passed.begin(), passed.end(), std::greater<>());
  passed.erase(std::unique(passed.begin(), passed.end()), passed.end());
  for (size_t i = 0; i < passed.size() && static_cast<int64_t>(i) < attempts; ++i) {
    if (!fits(budget, passed[i], 0, "the re-run")) return 0;
    auto r = probe(passed[i]);
    if (!r) {
      if (error) *error = r.error();
      return 0;
    }
    steps.push_back(*r);
    if (r->passed) return passed[i];
  }
  return 0;
}

bool rerun_failed(const std::vector<ServerSearchStep>& steps) {
  for (size_t j = 0; j < steps.size(); ++j)
    for (size_t i = 0; i < j && !steps[j].passed; ++i)
      if (steps[i].qps == steps[j].qps) return true;
  return false;
}

}  // namespace cmeter::models
