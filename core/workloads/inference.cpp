// The inference workload: the seeded Llama-like decoder (core/models) served on one device over ABI
// ops (inference_graph.h) in an MLPerf-style scenario (core/models/scenario.h). Steps: read the params,
// op_query every op up front (a missing mandatory op is `unsupported`, listing them), upload the
// weights and create the ops (untimed), the accuracy pass (op-local checks of one prefill and one
// decode step, then the host reference teacher-forced on the device's own tokens: logit NMSE, top-1
// agreement where the reference margin is clear, KL), the timed scenario, the audit of a freshly drawn sample
// of its outputs, and the result (metrics, and the structured `inference` member).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/measure/statistics.h"
#include "core/models/counter_rng.h"
#include "core/models/llm_reference.h"
#include "core/models/llm_weights.h"
#include "core/models/scenario.h"
#include "core/util/resident_memory.h"
#include "core/validate/host_data.h"
#include "core/workloads/inference_check.h"
#include "core/workloads/inference_graph.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {
namespace {

using models::Scenario;

struct InferenceCase {
  models::LlmConfig config;
  DType dtype = DType::kBF16;
  Scenario scenario = Scenario::kOffline;
  int64_t min_queries = 8;
  double min_duration_s = 1.0;
  int64_t prompt_len = 32;
  int64_t output_len = 16;
  int64_t max_batch = 4;
  double ttft_bound_s = 2.0;
  double tpot_bound_s = 0.1;
  int64_t accuracy_queries = 2;
  int64_t audit_queries = 2;
  int64_t server_steps = 5;
};

// A Server probe passes only when the device kept up with the offered rate: its TTFT grew by at most
// 0.1 s per second of run (models::ttft_growth; a device offered 10% more than it serves shows ~0.1).
// Without it a short probe at several times the capacity keeps TTFT p99 under a 2 s bound while its
// queue grows, and the search reports a rate the device never sustained (seen: 145 query/s reported,
// 44 achieved, on lavapipe).
constexpr double kServerMaxTtftGrowth = 0.1;
// Re-runs a Server search may spend confirming its rate (models::confirm_server_rate): the highest
// passed rate, then the next one down if that re-run fails.
constexpr int64_t kServerConfirmations = 2;
// The Server search plans its probes within the case's watchdog (profile::case_timeout_s): it keeps
// kServerWatchdogSpare of the timeout unused, and time for the audit after it. A probe's expected
// length is its queries' mean arrival span (or their service at the estimated capacity, if longer)
// plus one batch's service, times kServerProbeMargin: the arrival span of 16 Poisson arrivals has a
// relative spread of 1/4.
constexpr double kServerWatchdogSpare = 0.1;
constexpr double kServerProbeMargin = 1.25;

// Logit limits of the teacher-forced comparison per storage dtype (a correct bf16 run of llm-tiny
// shows NMSE near 1e-4 and KL near 1e-4: see docs/measurement.md).
struct LogitLimits {
  double nmse, kl;
};
LogitLimits logit_limits(DType t) {
  switch (t) {
    case DType::kBF16:
      return {1e-2, 5e-2};
    case DType::kF16:
      return {1e-3, 1e-2};
    default:
      return {1e-5, 1e-4};
  }
}

std::optional<InferenceCase> read_case(const KeyValues& params, CaseResult& result) {
  std::vector<std::string> model_keys;
  auto config = models::config_from_params(params, &model_keys);
  if (!config) {
    fail(result, CaseStatus::kFailed, config.error().message);
    return std::nullopt;
  }
  ParamReader p(params);  // model keys were read by config_from_params; every key is checked below
  InferenceCase c;
  c.config = *config;
  const std::string dtype = p.get_string("dtype", "bf16");
  const std::string scenario = p.get_string("scenario", "offline");
  const int64_t queries = p.get_int("queries", 8);
  c.min_queries = p.get_int("min_queries", queries);
  c.min_duration_s = p.get_double("min_duration_s", 1.0);
  c.prompt_len = p.get_int("prompt_len", 32);
  c.output_len = p.get_int("output_len", 16);
  c.max_batch = p.get_int("max_batch", 4);
  c.ttft_bound_s = p.get_double("ttft_bound_s", 2.0);
  c.tpot_bound_s = p.get_double("tpot_bound_s", 0.1);
  c.accuracy_queries = p.get_int("accuracy_queries", 2);
  c.audit_queries = p.get_int("audit_queries", 2);
  c.server_steps = p.get_int("server_steps", 5);
  // Unknown keys and wrong types or ranges, with the messages the profile parser gives.
  for (const auto& [key, value] : params)
    if (std::string problem = models::check_inference_param(key, value); !problem.empty()) {
      fail(result, CaseStatus::kFailed, problem);
      return std::nullopt;
    }
  auto sc = models::parse_scenario(scenario);
  auto dt = parse_dtype(dtype);
  if (!sc || !dt || (*dt != DType::kBF16 && *dt != DType::kF16 && *dt != DType::kF32)) {
    fail(result, CaseStatus::kFailed, !sc ? sc.error().message : "inference dtype must be bf16, f16 or f32");
    return std::nullopt;
  }
  c.scenario = *sc;
  c.dtype = *dt;
  if (c.prompt_len < 1 || c.output_len < 1 || c.max_batch < 1 || c.min_queries < 1) {
    fail(result, CaseStatus::kFailed, "prompt_len, output_len, max_batch and queries must be positive");
    return std::nullopt;
  }
  if (c.scenario == Scenario::kSingleStream) c.max_batch = 1;  // one query at a time: one slot
  return c;
}

GraphShape shape_of(const InferenceCase& c) {
  return GraphShape{c.config, c.dtype, c.prompt_len, c.prompt_len + c.output_len, c.max_batch};
}

// The timed engine: prefill and decode on the device, tokens on the host after each call.
class DeviceEngine : public models::Engine {
 public:
  DeviceEngine(DeviceLlm& llm, Stream& stream, uint64_t seed) : llm_(llm), stream_(stream), seed_(seed) {
    const int64_t b = llm.shape().max_batch;
    slot_query_.assign(static_cast<size_t>(b), -1);
    pos_.assign(static_cast<size_t>(b), -1);
  }
  int64_t slots() const override { return llm_.shape().max_batch; }
  // Scenario query q is global query base_ + q (unique prompts across every run of the case).
  void start_run() {
    base_ += issued_;
    issued_ = 0;
  }
  int64_t global(int64_t q) const { return base_ + q; }
  Status prefill(int64_t slot, int64_t query) override {
    const GraphShape& s = llm_.shape();
    const int64_t g = global(query);
    issued_ = std::max(issued_, query + 1);
    const auto prompt = models::prompt_tokens(s.config, seed_, g, s.prompt_len);
    if (auto st = llm_.enqueue_prefill(slot, prompt); !st) return st;
    if (auto st = read(); !st) return st;
    slot_query_[static_cast<size_t>(slot)] = g;
    pos_[static_cast<size_t>(slot)] = static_cast<int32_t>(s.prompt_len);
    tokens_[g] = {ids_[static_cast<size_t>(slot)]};
    return {};
  }
  Status decode(const std::vector<bool>& active) override {
    std::vector<int32_t> pos(active.size(), -1);
    double kv_positions = 0;
    for (size_t b = 0; b < active.size(); ++b)
      if (active[b]) {
        pos[b] = pos_[b];
        kv_positions += pos_[b] + 1;
      }
    if (auto st = llm_.enqueue_decode(pos); !st) return st;
    if (auto st = read(); !st) return st;
    kv_positions_ += kv_positions;
    for (size_t b = 0; b < active.size(); ++b)
      if (active[b]) {
        tokens_[slot_query_[b]].push_back(ids_[b]);
        ++pos_[b];
      }
    return {};
  }
  double now_s() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void wait_until(double t_s) override {
    const double wait = t_s - now_s();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  const std::map<int64_t, std::vector<int32_t>>& tokens() const { return tokens_; }
  double kv_positions() const { return kv_positions_; }
  void clear_counters() { kv_positions_ = 0; }

 private:
  Status read() {
    if (auto st = llm_.enqueue_read_ids(ids_); !st) return st;
    return stream_.synchronize();
  }
  DeviceLlm& llm_;
  Stream& stream_;
  uint64_t seed_;
  int64_t base_ = 1 << 16, issued_ = 0;  // accuracy-pass queries use ids below base_
  std::vector<int64_t> slot_query_;
  std::vector<int32_t> pos_, ids_;
  std::map<int64_t, std::vector<int32_t>> tokens_;
  double kv_positions_ = 0;
};

std::vector<double> logits_row(DType t, const std::vector<uint8_t>& bytes, int64_t row, int64_t vocab) {
  std::vector<double> out(static_cast<size_t>(vocab));
  for (int64_t v = 0; v < vocab; ++v)
    out[static_cast<size_t>(v)] =
        validate::element_as_double(t, bytes.data(), static_cast<size_t>(row * vocab + v));
  return out;
}

// Host memory the case's references hold at their peak: the largest weight tensor as uploaded and
// widened (the op-local check's copy, or the teacher-forced reference's regenerated one; the check's
// is freed before the reference runs), plus the reference's FP64 activations over `rows` tokens and
// the logits it compares, plus 256 MiB of slack.
uint64_t reference_host_bytes(const models::LlmConfig& c, DType dtype, int64_t rows) {
  uint64_t largest = 0;
  for (const models::WeightTensor& t : models::weight_tensors(c))
    largest = std::max<uint64_t>(largest, static_cast<uint64_t>(t.elements()));
  const uint64_t per_row =
      8ull * static_cast<uint64_t>(4 * c.hidden + 2 * c.q_dim() + 4 * c.kv_dim() + 3 * c.ffn + 2 * c.vocab);
  return largest * (size_bytes(dtype) + 4) + static_cast<uint64_t>(rows) * per_row + (256ull << 20);
}

// Op-local checks of one prefill and one decode step; then `queries` queries generated on the device
// with their logits read back each step, compared with the host reference teacher-forced on the
// device's tokens. Fills `acc`; false when the device diverged (acc.first_divergence says where).
Result<bool> accuracy_pass(const InferenceCase& c, DeviceLlm& llm, Stream& stream,
                           const models::LlmReference& ref, uint64_t seed, InferenceAccuracy& acc) {
  const GraphShape& s = llm.shape();
  const int64_t V = c.config.vocab, P = c.prompt_len, L = c.output_len;
  {
    // Scoped: the checker's copies of the largest tensor are freed before the reference runs.
    StepChecker checker(stream, c.dtype);
    const StepObserver obs = checker.observer();
    if (auto st = llm.enqueue_prefill(0, models::prompt_tokens(c.config, seed, 0, P), &obs); !st)
      return st.error();
    std::vector<int32_t> pos(static_cast<size_t>(s.max_batch), -1);
    pos[0] = static_cast<int32_t>(P);
    if (L > 1 && !checker.first_divergence())
      if (auto st = llm.enqueue_decode(pos, &obs); !st) return st.error();
    // The largest decode bucket's ops too (the smallest ran above; a full batch runs the largest): slot
    // 0 repeats its step with the other slots idle.
    if (L > 1 && s.max_batch > 1 && !checker.first_divergence())
      if (auto st = llm.enqueue_decode(pos, &obs, s.max_batch); !st) return st.error();
    if (auto st = stream.synchronize(); !st) return st.error();
    if (checker.first_divergence()) {
      acc.first_divergence = *checker.first_divergence();
      return false;
    }
  }
  const LogitLimits limits = logit_limits(c.dtype);
  int64_t clear = 0, agree = 0;
  double kl_sum = 0;
  std::vector<uint8_t> logits;
  for (int64_t q0 = 0; q0 < c.accuracy_queries; q0 += s.max_batch) {
    const int64_t n = std::min(s.max_batch, c.accuracy_queries - q0);
    std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(n)), out(static_cast<size_t>(n));
    std::vector<std::vector<std::vector<double>>> dev_logits(static_cast<size_t>(n));
    std::vector<int32_t> ids;
    for (int64_t b = 0; b < n; ++b) {
      prompts[static_cast<size_t>(b)] = models::prompt_tokens(c.config, seed, 1 + q0 + b, P);
      if (auto st = llm.enqueue_prefill(b, prompts[static_cast<size_t>(b)]); !st) return st.error();
      if (auto st = llm.enqueue_read_logits(logits); !st) return st.error();
      if (auto st = llm.enqueue_read_ids(ids); !st) return st.error();
      if (auto st = stream.synchronize(); !st) return st.error();
      dev_logits[static_cast<size_t>(b)].push_back(logits_row(c.dtype, logits, b, V));
      out[static_cast<size_t>(b)].push_back(ids[static_cast<size_t>(b)]);
    }
    for (int64_t step = 1; step < L; ++step) {
      std::vector<int32_t> dpos(static_cast<size_t>(s.max_batch), -1);
      for (int64_t b = 0; b < n; ++b) dpos[static_cast<size_t>(b)] = static_cast<int32_t>(P + step - 1);
      if (auto st = llm.enqueue_decode(dpos); !st) return st.error();
      if (auto st = llm.enqueue_read_logits(logits); !st) return st.error();
      if (auto st = llm.enqueue_read_ids(ids); !st) return st.error();
      if (auto st = stream.synchronize(); !st) return st.error();
      for (int64_t b = 0; b < n; ++b) {
        dev_logits[static_cast<size_t>(b)].push_back(logits_row(c.dtype, logits, b, V));
        out[static_cast<size_t>(b)].push_back(ids[static_cast<size_t>(b)]);
      }
    }
    for (int64_t b = 0; b < n; ++b) {
      std::vector<int32_t> tokens = prompts[static_cast<size_t>(b)];
      tokens.insert(tokens.end(), out[static_cast<size_t>(b)].begin(), out[static_cast<size_t>(b)].end() - 1);
      std::vector<int64_t> positions;
      for (int64_t i = 0; i < L; ++i) positions.push_back(P - 1 + i);
      const auto want = ref.logits(tokens, positions);
      for (int64_t i = 0; i < L; ++i) {
        const auto& got = dev_logits[static_cast<size_t>(b)][static_cast<size_t>(i)];
        const models::LogitComparison cmp = models::compare_logits(got, want[static_cast<size_t>(i)]);
        ++acc.tokens_checked;
        acc.logit_nmse_max = std::max(acc.logit_nmse_max, std::isnan(cmp.nmse) ? INFINITY : cmp.nmse);
        kl_sum += cmp.kl;
        // Clear margin: the reference's lead exceeds 10x the RMS logit error this step shows (the
        // largest of V errors is several RMS, and the lead is a difference of two) plus two units of
        // the storage type at the top logit (the device's logits are stored rounded, ties go low).
        double rms = 0;
        for (double v : want[static_cast<size_t>(i)]) rms += v * v;
        rms = std::sqrt(rms / static_cast<double>(V));
        const double noise = std::sqrt(std::max(cmp.nmse, 0.0)) * rms;
        const double top = std::abs(want[static_cast<size_t>(i)][static_cast<size_t>(cmp.ref_top1)]);
        if (cmp.ref_margin > 10 * noise + 4 * epsilon(c.dtype) * top) {
          ++clear;
          // The device's emitted token (its own argmax) must be the reference's top-1.
          agree += out[static_cast<size_t>(b)][static_cast<size_t>(i)] == cmp.ref_top1;
        }
      }
    }
  }
  acc.top1_clear_margin_tokens = clear;
  acc.top1_agreement = clear > 0 ? static_cast<double>(agree) / static_cast<double>(clear) : 1.0;
  acc.kl_mean = acc.tokens_checked > 0 ? kl_sum / static_cast<double>(acc.tokens_checked) : 0.0;
  if (!(acc.logit_nmse_max <= limits.nmse))
    acc.first_divergence = fmt::format("logits: NMSE {:.3g} above {:.3g} (every op passed its own check)",
                                       acc.logit_nmse_max, limits.nmse);
  else if (!(acc.kl_mean <= limits.kl))
    acc.first_divergence = fmt::format("logits: mean KL {:.3g} above {:.3g}", acc.kl_mean, limits.kl);
  else if (acc.top1_agreement < 0.99)
    acc.first_divergence = fmt::format("greedy tokens: top-1 agreement {:.3f} on {} clear-margin tokens",
                                       acc.top1_agreement, clear);
  return acc.first_divergence.empty();
}

// Audit: a sample of the timed run's queries, drawn after the run from fresh entropy (not the run seed,
// which the journal holds and a plugin can read: it could otherwise answer only the queries to be
// audited), their outputs checked for length and, token by token, against the host reference
// teacher-forced on them (the device's token must score within the noise of the reference's best).
// Returns the mismatching queries.
int64_t audit(const InferenceCase& c, const DeviceEngine& engine, const models::LlmReference& ref,
              uint64_t seed, int64_t& audited, std::string& first_problem) {
  const auto& all = engine.tokens();
  std::vector<int64_t> ids;
  for (const auto& [q, toks] : all)
    if (q >= (1 << 16)) ids.push_back(q);
  audited = 0;
  int64_t mismatches = 0;
  const double tolerance_rel = 3 * std::sqrt(logit_limits(c.dtype).nmse);
  std::mt19937_64 fresh = fresh_entropy_rng();
  for (int64_t i = 0; i < c.audit_queries && !ids.empty(); ++i) {
    const size_t pick = static_cast<size_t>(fresh() % ids.size());
    const int64_t q = ids[pick];
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(pick));
    const std::vector<int32_t>& out = all.at(q);
    ++audited;
    if (static_cast<int64_t>(out.size()) != c.output_len) {
      ++mismatches;
      if (first_problem.empty())
        first_problem = fmt::format("query {}: {} output tokens, expected {}", q, out.size(), c.output_len);
      continue;
    }
    std::vector<int32_t> tokens = models::prompt_tokens(c.config, seed, q, c.prompt_len);
    tokens.insert(tokens.end(), out.begin(), out.end() - 1);
    std::vector<int64_t> positions;
    for (int64_t t = 0; t < c.output_len; ++t) positions.push_back(c.prompt_len - 1 + t);
    const auto want = ref.logits(tokens, positions);
    for (int64_t t = 0; t < c.output_len; ++t) {
      const auto& w = want[static_cast<size_t>(t)];
      const int32_t tok = out[static_cast<size_t>(t)];
      double rms = 0;
      for (double v : w) rms += v * v;
      rms = std::sqrt(rms / static_cast<double>(w.size()));
      const double best = *std::max_element(w.begin(), w.end());
      if (tok < 0 || tok >= c.config.vocab || w[static_cast<size_t>(tok)] < best - tolerance_rel * rms) {
        ++mismatches;
        if (first_problem.empty())
          first_problem = fmt::format(
              "query {} token {}: device emitted {} scoring {:.3g} below the reference's best", q, t, tok,
              tok >= 0 && tok < c.config.vocab ? best - w[static_cast<size_t>(tok)] : INFINITY);
        break;
      }
    }
  }
  return mismatches;
}

Metric latency_metric(const std::string& name, const std::vector<double>& values) {
  Metric m{name, "s", false, measure::compute_statistics(values)};
  return m;
}

// The missing ops (with the plugin's reasons), or an empty list; `fused` says whether attention.v1 runs.
Result<std::vector<std::string>> query_ops(const Device& dev, const GraphShape& shape, bool& fused) {
  fused = true;
  std::vector<int64_t> passes = decode_buckets(shape.max_batch);
  passes.push_back(shape.prompt_len);
  for (int64_t rows : passes) {
    auto q = dev.query_op("attention.v1", DeviceLlm::attention_params(shape, rows));
    fused = fused && q && q->supported;
  }
  std::vector<std::string> missing;
  std::set<std::string> seen;
  for (const auto& [name, params] : DeviceLlm::required_ops(shape, fused, true)) {
    const std::string key = name + to_json(params).dump();
    if (!seen.insert(key).second) continue;
    // A 1.0 plugin rejects gemm.v1's offsets (unknown keys) as invalid: that op is missing too.
    auto q = dev.query_op(name, params);
    if (!q) q = OpQuery{false, q.error().message};
    if (!q->supported) {
      const std::string& op_name = name;  // clang 14: a lambda cannot capture a structured binding
      const bool named = std::any_of(missing.begin(), missing.end(),
                                     [&op_name](const std::string& m) { return m.starts_with(op_name); });
      if (!named) missing.push_back(q->reason.empty() ? name : fmt::format("{} ({})", name, q->reason));
    }
  }
  return missing;
}

std::optional<double> energy_j(const Device& dev) {
  if (!dev.has_telemetry()) return std::nullopt;
  auto t = dev.telemetry();
  if (!t) return std::nullopt;
  return get_number(*t, "energy.j");
}

struct TimedOutcome {
  models::ScenarioRun run;
  std::optional<ServerResult> server;
  bool server_met = true;
  std::string search_stopped;  // why the Server search or its re-runs stopped early ("" if they did not)
};

// One scenario run with progress on stderr (at most one line a second).
Result<models::ScenarioRun> timed_run(const InferenceCase& c, DeviceEngine& engine, Scenario scenario,
                                      double qps, uint64_t seed, const std::string& label) {
  models::ScenarioSettings s;
  s.scenario = scenario;
  s.output_len = c.output_len;
  s.prompt_len = c.prompt_len;
  s.min_queries = c.min_queries;
  s.min_duration_s = c.min_duration_s;
  s.server_qps = qps;
  s.seed = seed;
  auto last = std::chrono::steady_clock::now();
  s.progress = [&](int64_t done, int64_t tokens, double elapsed_s) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    const double rate = elapsed_s > 0 ? static_cast<double>(tokens) / elapsed_s : 0.0;
    const double by_count =
        done > 0 ? elapsed_s * static_cast<double>(c.min_queries - done) / static_cast<double>(done) : 0;
    const double eta = std::max({0.0, c.min_duration_s - elapsed_s, by_count});
    print_progress(
        fmt::format("inference {}: {} queries done, {:.0f} tokens/s, ETA {:.0f} s", label, done, rate, eta));
  };
  engine.start_run();
  return models::run_scenario(engine, s);
}

// `probes_deadline`: when the Server search's probes must have ended (the case's watchdog less the
// spare and the audit's time).
Result<TimedOutcome> run_timed(const InferenceCase& c, DeviceEngine& engine, uint64_t seed,
                               std::chrono::steady_clock::time_point probes_deadline) {
  TimedOutcome out;
  if (c.scenario != Scenario::kServer) {
    auto run = timed_run(c, engine, c.scenario, 0, seed, models::to_string(c.scenario));
    if (!run) return run.error();
    out.run = std::move(run).value();
    return out;
  }
  // Server: a short Offline run estimates the capacity; the search starts at half of it.
  InferenceCase probe_case = c;
  probe_case.min_queries = c.max_batch;
  probe_case.min_duration_s = 0;
  auto offline = timed_run(probe_case, engine, Scenario::kOffline, 0, seed, "server capacity estimate");
  if (!offline) return offline.error();
  const double capacity_qps =
      offline->duration_s > 0 ? static_cast<double>(offline->queries.size()) / offline->duration_s : 1.0;
  std::map<double, models::ScenarioRun> runs;
  int64_t probe_index = 0;
  auto probe = [&](double qps) -> Result<ServerSearchStep> {
    auto run = timed_run(c, engine, Scenario::kServer, qps, seed + static_cast<uint64_t>(++probe_index),
                         fmt::format("server {:.3g} qps", qps));
    if (!run) return run.error();
    const models::ScenarioStats st = models::scenario_stats(*run, c.prompt_len, c.output_len);
    ServerSearchStep step{qps, models::percentile(st.ttft_s, 0.99), models::percentile(st.tpot_s, 0.99),
                          false, models::ttft_growth(*run)};
    step.passed = step.ttft_p99_s <= c.ttft_bound_s && step.tpot_p99_s <= c.tpot_bound_s &&
                  *step.ttft_growth <= kServerMaxTtftGrowth;
    runs[qps] = std::move(run).value();
    return step;
  };
  const double batch_s = offline->duration_s;
  models::SearchBudget budget;
  budget.expected_s = [&](double qps) {
    const double queries = std::max(static_cast<double>(c.min_queries), std::ceil(qps * c.min_duration_s));
    return kServerProbeMargin * (std::max(queries / qps, queries / capacity_qps) + batch_s);
  };
  budget.left_s = [&] {
    return std::chrono::duration<double>(probes_deadline - std::chrono::steady_clock::now()).count();
  };
  Status error;
  ServerResult server;
  server.ttft_bound_s = c.ttft_bound_s;
  server.tpot_bound_s = c.tpot_bound_s;
  server.search = models::search_server_rate(probe, 0.5 * capacity_qps, c.server_steps, &error, &budget);
  if (!error) return error.error();
  if (server.search.empty())
    return make_error(ErrorCode::kResourceExhausted,
                      "no time for a Server probe: {}; raise the case's timeout_s", budget.stopped);
  // The reported rate must pass twice (its re-run's arrivals fresh), and its figures are the re-run's:
  // the search picks the best-looking pass, which over few queries is partly the luck of its arrivals.
  const double confirmed =
      models::confirm_server_rate(probe, server.search, kServerConfirmations, &error, &budget);
  if (!error) return error.error();
  out.search_stopped = budget.stopped;
  if (confirmed <= 0) {
    // No rate met the bounds, or none met them again on its re-run: report the lowest probe's run,
    // target 0.
    const ServerSearchStep* lowest = &server.search.front();
    for (const ServerSearchStep& step : server.search)
      if (step.qps < lowest->qps) lowest = &step;
    out.run = runs[lowest->qps];
    out.server_met = false;
  } else {
    server.target_qps = confirmed;
    out.run = runs[confirmed];  // the re-run's (it replaced the search probe's at the same rate)
  }
  server.achieved_qps =
      out.run.duration_s > 0 ? static_cast<double>(out.run.queries.size()) / out.run.duration_s : 0;
  out.server = server;
  return out;
}

}  // namespace

void run_inference(const Context& ctx, CaseResult& result) {
  const auto case_start = std::chrono::steady_clock::now();
  const Device& dev = ctx.device;
  std::optional<InferenceCase> c = read_case(ctx.spec.params, result);
  if (!c) return;
  const models::LlmConfig& cfg = c->config;
  const GraphShape shape = shape_of(*c);
  result.params = ctx.spec.params;
  result.params["model"] = cfg.name;
  result.params["dtype"] = std::string(to_string(c->dtype));
  result.params["scenario"] = models::to_string(c->scenario);
  bool fused = false;
  auto missing = query_ops(dev, shape, fused);
  if (!missing) return (void)fail(result, CaseStatus::kFailed, missing.error().message);
  if (!missing->empty())
    return (void)fail(result, CaseStatus::kUnsupported,
                      fmt::format("missing mandatory ops: {}", fmt::join(*missing, ", ")));
  const uint64_t need = DeviceLlm::device_bytes(shape, fused);
  if (need > memory_budget_bytes(dev))
    return (void)fail(
        result, CaseStatus::kUnsupported,
        fmt::format("{} needs {:.2f} GiB of device memory; the budget is {:.2f} GiB ({})", cfg.name,
                    need / 1073741824.0, memory_budget_bytes(dev) / 1073741824.0, memory_budget_source(dev)));
  // The worker's own memory: the host reference's and, where the device's memory is the host's, the
  // model itself. Past the worker's limit the case would be stopped as a leak halfway through.
  if (const auto limit = worker_memory_limit_bytes()) {
    const bool shared = get_bool(dev.attributes(), "mem.host_shared").value_or(false);
    const uint64_t host = reference_host_bytes(cfg, c->dtype, c->prompt_len + c->output_len);
    const uint64_t total = self_rss_bytes() + host + (shared ? need : 0);
    const uint64_t allowed = worker_memory_allowance_bytes(*limit);
    if (total > allowed)
      return (void)fail(
          result, CaseStatus::kUnsupported,
          fmt::format(
              "{} needs ~{:.2f} GiB in this worker ({}the FP64 host reference's {:.2f} GiB and what is "
              "loaded); the worker may use {:.2f} GiB (90% of its limit; cmeter run "
              "--worker-memory-limit (MiB))",
              cfg.name, total / 1073741824.0,
              shared
                  ? fmt::format("the model's {:.2f} GiB in host-shared device memory, ", need / 1073741824.0)
                  : std::string(),
              host / 1073741824.0, allowed / 1073741824.0));
  }
  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  const uint64_t seed = ctx.seed;
  // The untimed phases' durations as progress lines (print_progress): on a CPU host the FP64 reference
  // of a 1B model takes minutes, and a user should see where a case's time went.
  auto phase_start = std::chrono::steady_clock::now();
  auto phase_done = [&](const char* what) {
    const auto now = std::chrono::steady_clock::now();
    const double took_s = std::chrono::duration<double>(now - phase_start).count();
    print_progress(fmt::format("inference {} {}: {} in {:.1f} s", cfg.name, models::to_string(c->scenario),
                               what, took_s));
    phase_start = now;
    return took_s;
  };
  auto llm = DeviceLlm::create(dev, *stream, shape, seed, fused);
  if (!llm) return (void)fail(result, CaseStatus::kFailed, llm.error().message);

  InferenceResult inf;
  inf.model = {cfg.name,
               cfg.layers,
               cfg.hidden,
               cfg.heads,
               cfg.kv_heads,
               cfg.head_dim,
               cfg.ffn,
               cfg.vocab,
               cfg.tied_lm_head,
               std::string(to_string(c->dtype)),
               models::parameter_count(cfg)};
  inf.scenario = models::to_string(c->scenario);
  inf.max_batch = c->max_batch;
  inf.op_paths = (*llm)->op_paths();
  result.method.impl = fmt::format("attention {}", inf.op_paths["attention"]);
  result.method.timer = "host";
  result.method.timer_detail = "steady clock around each prefill and decode step, tokens read back each step";

  // Accuracy pass (untimed).
  const models::LlmReference ref(cfg, seed, c->dtype);
  phase_done("weights generated and uploaded");
  auto accurate = accuracy_pass(*c, **llm, *stream, ref, seed, inf.accuracy);
  const double accuracy_s = phase_done("accuracy pass (op-local checks, teacher-forced logits)");
  if (!accurate) return (void)fail(result, CaseStatus::kFailed, accurate.error().message);
  if (!*accurate) {
    inf.accuracy.passed = false;
    result.inference = inf;
    return (void)fail(result, CaseStatus::kInvalid,
                      fmt::format("accuracy pass: first divergence at {}", inf.accuracy.first_divergence));
  }

  // The timed scenario.
  DeviceEngine engine(**llm, *stream, seed);
  const std::optional<double> energy_before = energy_j(dev);
  // The audit runs the host reference over audit_queries as the accuracy pass did over
  // accuracy_queries (and the pass adds the op-local checks): its time scaled is a safe estimate.
  const double audit_s = accuracy_s * static_cast<double>(c->audit_queries) /
                         static_cast<double>(std::max<int64_t>(1, c->accuracy_queries));
  const double probes_s = (1 - kServerWatchdogSpare) * profile::case_timeout_s(ctx.spec.stats) - audit_s;
  auto timed = run_timed(*c, engine, seed,
                         case_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(probes_s)));
  phase_done("timed scenario");
  if (!timed) return (void)fail(result, CaseStatus::kFailed, timed.error().message);
  const std::optional<double> energy_after = energy_j(dev);
  const models::ScenarioRun& run = timed->run;
  const models::ScenarioStats st = models::scenario_stats(run, c->prompt_len, c->output_len);

  // Audit of a sample of the timed outputs drawn from fresh entropy.
  std::string audit_problem;
  inf.accuracy.audit_mismatches = audit(*c, engine, ref, seed, inf.accuracy.audit_queries, audit_problem);
  phase_done("audit");
  inf.accuracy.passed = inf.accuracy.audit_mismatches == 0;
  if (!audit_problem.empty()) inf.accuracy.first_divergence = "audit: " + audit_problem;

  inf.queries = static_cast<int64_t>(run.queries.size());
  inf.prompt_tokens = inf.queries * c->prompt_len;
  inf.output_tokens = inf.queries * c->output_len;
  inf.duration_s = run.duration_s;
  inf.latency_s = models::percentiles(st.latency_s);
  inf.ttft_s = models::percentiles(st.ttft_s);
  inf.tpot_s = models::percentiles(st.tpot_s);
  inf.output_tokens_per_s = st.output_tokens_per_s;
  inf.prompt_tokens_per_s = st.prompt_tokens_per_s;
  inf.server = timed->server;
  inf.latency_cdf = models::empirical_cdf(st.latency_s, 100);
  // MFU of prefill: the model's tensor FLOPs of a prompt over the time inside prefills.
  const std::string dname(to_string(c->dtype));
  inf.mfu_peak_key = "peak.flops." + dname;
  const auto peak_flops = get_number(dev.attributes(), inf.mfu_peak_key);
  const double prefills = static_cast<double>(run.queries.size());
  if (peak_flops && *peak_flops > 0 && run.prefill_s > 0)
    inf.mfu_prefill = models::forward_flop(cfg, c->prompt_len, 0, 1) * prefills / run.prefill_s / *peak_flops;
  // MBU of decode: weights + KV rows read per step over the time inside decode steps.
  const auto peak_bw = get_number(dev.attributes(), "peak.mem.bytes_per_s");
  const double size = static_cast<double>(size_bytes(c->dtype));
  const double decode_bytes =
      models::weight_bytes_per_step(cfg, static_cast<int64_t>(size), c->max_batch) *
          static_cast<double>(run.decode_steps) +
      engine.kv_positions() * 2.0 * static_cast<double>(cfg.layers * cfg.kv_dim()) * size;
  if (run.decode_s > 0) inf.decode_bytes_per_s = decode_bytes / run.decode_s;
  if (peak_bw && *peak_bw > 0 && inf.decode_bytes_per_s) {
    inf.mbu_decode = *inf.decode_bytes_per_s / *peak_bw;
    inf.mbu_bandwidth_source = "declared peak.mem.bytes_per_s";
  } else {
    // The run may still relate decode to a measured STREAM triad (core/run/decode_bandwidth.h).
    inf.mbu_bandwidth_source = "none (the device declares no peak.mem.bytes_per_s)";
  }
  if (energy_before && energy_after && *energy_after >= *energy_before && inf.output_tokens > 0) {
    // Energy over the whole timed part (a Server search's probes included) per output token of it.
    int64_t all_tokens = 0;
    for (const auto& [q, toks] : engine.tokens())
      if (q >= (1 << 16)) all_tokens += static_cast<int64_t>(toks.size());
    if (all_tokens > 0)
      inf.joules_per_token = (*energy_after - *energy_before) / static_cast<double>(all_tokens);
  }

  auto single = [](double v) { return measure::compute_statistics(std::vector<double>{v}); };
  result.metrics.push_back(Metric{"output_tokens_per_s", "token/s", true, single(inf.output_tokens_per_s)});
  result.metrics.push_back(Metric{"prompt_tokens_per_s", "token/s", true, single(inf.prompt_tokens_per_s)});
  result.metrics.push_back(latency_metric("latency_s", st.latency_s));
  result.metrics.push_back(latency_metric("ttft_s", st.ttft_s));
  if (!st.tpot_s.empty()) result.metrics.push_back(latency_metric("tpot_s", st.tpot_s));
  if (inf.server)
    result.metrics.push_back(Metric{"server_qps", "query/s", true, single(inf.server->target_qps)});
  result.samples_s = st.latency_s;
  result.method.sampling_s = run.duration_s;
  result.method.flop_per_call = models::forward_flop(cfg, c->prompt_len, 0, 1);

  Validation v;
  v.method =
      "op-local FP64 checks of one prefill and one decode step; host reference teacher-forced on the "
      "device's tokens (logit NMSE, top-1 where the margin is clear, KL); audit of sampled timed outputs";
  v.points = inf.accuracy.tokens_checked;
  v.failures = inf.accuracy.audit_mismatches;
  v.max_abs_error = 0;
  v.max_rel_error = inf.accuracy.logit_nmse_max;
  v.tolerance = logit_limits(c->dtype).nmse;
  v.first_failure = inf.accuracy.first_divergence;
  v.passed = inf.accuracy.passed;
  result.validation = v;
  result.inference = inf;
  result.status = CaseStatus::kOk;
  if (!inf.accuracy.passed)
    return (void)fail(result, CaseStatus::kInvalid,
                      fmt::format("audit: {} of {} sampled queries mismatch; {}",
                                  inf.accuracy.audit_mismatches, inf.accuracy.audit_queries, audit_problem));
  if (inf.mfu_prefill && *inf.mfu_prefill > 1.05) {
    result.peak = peak_flops;
    result.peak_key = inf.mfu_peak_key;
    return (void)fail(result, CaseStatus::kImplausible,
                      fmt::format("prefill at {:.2f}x the declared {}", *inf.mfu_prefill, inf.mfu_peak_key));
  }
  if (inf.mbu_decode && *inf.mbu_decode > 1.05)
    return (void)fail(result, CaseStatus::kImplausible,
                      fmt::format("decode moves {:.2f}x the declared peak.mem.bytes_per_s", *inf.mbu_decode));
  if (inf.server && !timed->server_met)
    result.reason = fmt::format(
        "no probed rate met TTFT p99 <= {} s and TPOT p99 <= {} s with the device keeping up (TTFT growth <= "
        "{} s/s){}",
        c->ttft_bound_s, c->tpot_bound_s, kServerMaxTtftGrowth,
        models::rerun_failed(inf.server->search)
            ? " twice (a rate that passed failed its re-run with fresh arrivals)"
            : "");
  if (inf.server && !timed->search_stopped.empty())
    result.reason = fmt::format("{}{}the rate search stopped after {} probe{}: {}", result.reason,
                                result.reason.empty() ? "" : "; ", inf.server->search.size(),
                                inf.server->search.size() == 1 ? "" : "s", timed->search_stopped);
}

}  // namespace cmeter::workloads
