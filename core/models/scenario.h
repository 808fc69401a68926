// The serving side of the inference workload, written once for every vendor: the scenarios
// (SingleStream, Offline, Server) driving an Engine (prefill one query into a KV slot; one decode step
// over all slots), the batching and KV-slot policy, the end rule (a minimum duration AND a minimum
// query count), the Poisson arrivals of Server and its rate search, and the statistics over queries
// (latency, TTFT, TPOT percentiles; tokens/s; the latency CDF). Pure host code over an abstract engine
// and clock, so the policy and the maths are tested against a synthetic engine with known costs.
//
// Policy (docs/measurement.md): Offline queues every query at time 0 and serves them in static
// batches of `slots` (prefill each query of the batch into its slot, then decode the batch together
// until all have output_len tokens). SingleStream issues the next query when the previous completes.
// Server issues queries at Poisson arrival times; between decode steps it prefills every query that
// has arrived into a free slot (first come, first served), then runs one decode step over the active
// slots; a query leaves its slot when it has its output_len tokens. Latency counts from the scheduled
// arrival; TTFT = arrival -> first output token on the host; TPOT = (latency - TTFT)/(tokens - 1).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/model/inference_result.h"
#include "core/util/result.h"

namespace cmeter::models {

enum class Scenario { kOffline, kSingleStream, kServer };
std::string to_string(Scenario s);
Result<Scenario> parse_scenario(const std::string& name);

class Engine {
 public:
  virtual ~Engine() = default;
  virtual int64_t slots() const = 0;
  // Prefills query `query` into `slot`; returns once its first output token is on the host.
  virtual Status prefill(int64_t slot, int64_t query) = 0;
  // One decode step for the slots with active[slot]; returns once their tokens are on the host.
  virtual Status decode(const std::vector<bool>& active) = 0;
  virtual double now_s() = 0;               // seconds on the engine's clock
  virtual void wait_until(double t_s) = 0;  // idle until that time
};

struct QueryTiming {
  int64_t query = 0;
  double arrival_s = 0;      // scheduled
  double first_token_s = 0;  // first output token on the host
  double done_s = 0;         // last output token on the host
  int64_t slot = -1;
};

struct ScenarioSettings {
  Scenario scenario = Scenario::kOffline;
  int64_t output_len = 1;  // tokens per query (>= 1): one from prefill, output_len - 1 decode steps
  int64_t prompt_len = 1;
  int64_t min_queries = 1;
  double min_duration_s = 0;
  double server_qps = 1;          // Server: mean arrival rate
  uint64_t seed = 0;              // Server: the arrivals
  int64_t max_queries = 1 << 20;  // a safety bound on the queries issued
  // Called after each query completes: (queries done, output tokens so far, seconds so far).
  std::function<void(int64_t, int64_t, double)> progress;
};

struct ScenarioRun {
  std::vector<QueryTiming> queries;  // in completion order
  double duration_s = 0;             // first arrival -> last token
  int64_t decode_steps = 0;
  double decode_s = 0;      // time inside decode steps
  double prefill_s = 0;     // time inside prefills
  int64_t decode_rows = 0;  // active slots summed over the decode steps
};

// Runs one scenario on the engine; query ids are 0, 1, 2, ... in issue order.
Result<ScenarioRun> run_scenario(Engine& engine, const ScenarioSettings& settings);

// Arrival times (s from 0) of `count` queries at mean rate `qps`: exponential gaps from the seed.
std::vector<double> poisson_arrivals(uint64_t seed, double qps, int64_t count);

// Percentile by linear interpolation between order statistics (type 7); 0 for no values.
double percentile(std::vector<double> values, double fraction);
Percentiles percentiles(const std::vector<double>& values);
// At most `points` (value, cumulative fraction) pairs of the empirical CDF, evenly spread by rank.
std::vector<std::pair<double, double>> empirical_cdf(std::vector<double> values, size_t points = 100);

struct ScenarioStats {
  std::vector<double> latency_s, ttft_s, tpot_s;
  double output_tokens_per_s = 0;
  double prompt_tokens_per_s = 0;
};
ScenarioStats scenario_stats(const ScenarioRun& run, int64_t prompt_len, int64_t output_len);

// How fast a Server run's queue grew: the least-squares slope of TTFT against arrival time, in seconds
// of TTFT per second of run (dimensionless). A device that keeps up with the offered rate has a slope
// near 0 (its queue is stationary); one offered more than it serves has slope ~ offered/served - 1,
// however short the run (a short run can keep its TTFT p99 under the bound while overloaded, so the
// latency bounds alone overstate the rate). 0 with fewer than 3 queries or no spread of arrivals.
double ttft_growth(const ScenarioRun& run);

// The time a Server search may spend. A probe at a low rate lasts min_queries / rate (on a CPU with
// llm-1b, ~15 minutes at 0.02 query/s), so a search that only counts its probes can outlast the case's
// watchdog, which then discards every probe. With a budget the search and the re-runs start a probe
// only when it is expected to end in time, and say where they stopped. `expected_s(qps)`: the expected
// length of one probe at that rate; `left_s()`: the seconds left for probes now. No functions: no
// limit.
struct SearchBudget {
  std::function<double(double)> expected_s;
  std::function<double()> left_s;
  std::string stopped;  // out: why the search or the re-runs stopped early; "" when they did not
  bool limited() const { return expected_s && left_s; }
};

// Server rate search: probes rates (each probe a full Server run through `probe`) starting at
// `start_qps`, doubling while they pass and halving while they fail until a bracket is found, then
// bisecting, `steps` probes in all. Returns the probes in order; the answer is the highest passed.
// With a limited `budget` a probe starts only if it and a re-run of the rate confirm_server_rate would
// re-run first (the probe's own if it passes, else the highest pass so far) are expected to fit.
std::vector<ServerSearchStep> search_server_rate(const std::function<Result<ServerSearchStep>(double)>& probe,
                                                 double start_qps, int64_t steps, Status* error = nullptr,
                                                 SearchBudget* budget = nullptr);

// The rate a Server search may report: a probe's pass is a sample too, and the highest of several
// passes is the one most favoured by its draw of arrivals (over few queries a p99 is about their
// maximum). So the passed rates are re-run with fresh arrivals through `probe`, highest first, at most
// `attempts` re-runs, each appended to `steps`; the answer is the first whose re-run passes, 0 when
// none does (or none passed). The caller reports that re-run's figures, not the selected probe's.
// With a limited `budget` a re-run starts only if it is expected to fit.
double confirm_server_rate(const std::function<Result<ServerSearchStep>(double)>& probe,
                           std::vector<ServerSearchStep>& steps, int64_t attempts, Status* error = nullptr,
                           SearchBudget* budget = nullptr);

// Whether some passed rate failed its re-run (a probe at a rate probed before that did not pass): what
// makes "no confirmed rate" a failed confirmation rather than no pass, or no time to re-run one.
bool rerun_failed(const std::vector<ServerSearchStep>& steps);

}  // namespace cmeter::models
