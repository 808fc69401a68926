// The training workload (docs/measurement.md, "Training"): a student trained on one device over ABI
// ops (gemm.v1, swiglu.v1 and its backward, eltwise.v1, reduce.v1, adamw.v1) to a quality target that
// a seeded teacher makes exact (core/models/training.h), time to quality measured over N runs with
// logged seeds. Form `mlp`: y = W2·swiglu(W1·x) regressing onto a teacher of the same form; quality =
// held-out MSE over the targets' mean square. Steps: read the params (a vendor cannot change them), op_query
// every op (a missing one is `unsupported`, naming it), generate the data and upload it and create the
// ops (untimed), then per run: upload the run's initial weights, start the clock, train with an
// evaluation every `eval_every` steps (counted), stop at the evaluation that reaches the target or at
// the step budget. Anti-cheat per run: the masters after `replay_steps` are compared with the FP32 host
// replay (clock paused while they are read), the final quality is recomputed on the host from the
// read-back weights, and a run converging in fewer steps than the documented reference band is
// implausible.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "core/measure/statistics.h"
#include "core/models/counter_rng.h"
#include "core/models/training.h"
#include "core/validate/half.h"
#include "core/workloads/device_graph.h"
#include "core/workloads/workload.h"
#include "core/workloads/workload_list.h"

namespace cmeter::workloads {
namespace {

using models::MlpWeights;
using models::TrainSettings;

std::string train_dtype_name(DType t) {
  return std::string(to_string(t));
}

// Row-major float values in `t`'s bytes.
std::vector<uint8_t> to_bytes(DType t, const float* v, size_t n) {
  std::vector<uint8_t> out(n * size_bytes(t));
  for (size_t i = 0; i < n; ++i) {
    if (t == DType::kF32) {
      std::memcpy(out.data() + 4 * i, v + i, 4);
    } else {
      const uint16_t bits = t == DType::kF16 ? f32_to_f16_bits(v[i]) : f32_to_bf16_bits(v[i]);
      std::memcpy(out.data() + 2 * i, &bits, 2);
    }
  }
  return out;
}
std::vector<float> from_bytes(DType t, const std::vector<uint8_t>& b) {
  const size_t n = b.size() / size_bytes(t);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (t == DType::kF32) {
      std::memcpy(&out[i], b.data() + 4 * i, 4);
    } else {
      uint16_t bits = 0;
      std::memcpy(&bits, b.data() + 2 * i, 2);
      out[i] = t == DType::kF16 ? f16_bits_to_f32(bits) : bf16_bits_to_f32(bits);
    }
  }
  return out;
}

// gemm.v1 in the core's column-major view: C (m×n) = alpha·op(A)·op(B).
KeyValues gemm_kv(int64_t m, int64_t n, int64_t k, DType in, DType out, bool trans_a, bool trans_b,
                  double alpha) {
  return {{"m", m},
          {"n", n},
          {"k", k},
          {"dtype_a", train_dtype_name(in)},
          {"dtype_b", train_dtype_name(in)},
          {"dtype_c", train_dtype_name(out)},
          {"compute", std::string("f32")},
          {"trans_a", trans_a},
          {"trans_b", trans_b},
          {"alpha", alpha},
          {"beta", 0.0}};
}

// The ops of the MLP graph by role, with their params. `alpha` is the loss gradient's factor (the MSE's
// 2/(B·O) times the loss scale) that the two GEMMs reading E carry.
struct MlpOps {
  static std::map<std::string, std::pair<std::string, KeyValues>> specs(const TrainSettings& s,
                                                                        double alpha) {
    const models::MlpConfig& c = s.mlp;
    const DType t = s.dtype;
    const int64_t B = s.batch, E = s.eval_samples, H = c.hidden, D = c.in, O = c.out;
    auto adamw = [&](int64_t n) {
      return KeyValues{{"n", n},
                       {"dtype_grad", std::string("f32")},
                       {"dtype_out", train_dtype_name(t)},
                       {"beta1", s.beta1},
                       {"beta2", s.beta2},
                       {"eps", s.eps},
                       {"weight_decay", s.weight_decay}};
    };
    auto sumsq = [&](int64_t n, DType dt, double scale, bool accumulate) {
      return KeyValues{{"kind", std::string("sum_squares")},
                       {"axis", std::string("cols")},
                       {"rows", int64_t{1}},
                       {"cols", n},
                       {"dtype", train_dtype_name(dt)},
                       {"scale", scale},
                       {"accumulate", accumulate}};
    };
    std::map<std::string, std::pair<std::string, KeyValues>> o;
    // Forward of a training batch and of the held-out set: GU = W1·x, A = swiglu(GU), Y = W2·A, E = Y − T.
    for (const auto& [tag, rows] : {std::pair<std::string, int64_t>{"", B}, {"eval ", E}}) {
      o[tag + "gate_up"] = {"gemm.v1", gemm_kv(2 * H, rows, D, t, t, true, false, 1.0)};
      o[tag + "swiglu"] = {"swiglu.v1", {{"rows", rows}, {"dim", H}, {"dtype", train_dtype_name(t)}}};
      o[tag + "out"] = {"gemm.v1", gemm_kv(O, rows, H, t, t, true, false, 1.0)};
      o[tag + "error"] = {"eltwise.v1",
                          {{"kind", std::string("add")}, {"n", rows * O}, {"dtype", train_dtype_name(t)}}};
    }
    const double ms_scale = 1.0;  // the mean square divides on the host (it is a per-run constant)
    o["eval quality"] = {"reduce.v1", sumsq(E * O, t, ms_scale / static_cast<double>(E * O), false)};
    o["train loss"] = {"reduce.v1", sumsq(B * O, t, ms_scale / static_cast<double>(B * O), false)};
    // Backward: dW2 = alpha·Eᵀ·A, dA = alpha·W2ᵀ·E, dGU = swiglu'(GU, dA), dW1 = dGUᵀ·X.
    o["grad w2"] = {"gemm.v1", gemm_kv(H, O, B, t, DType::kF32, false, true, alpha)};
    o["grad a"] = {"gemm.v1", gemm_kv(H, B, O, t, t, false, false, alpha)};
    o["swiglu backward"] = {"swiglu_backward.v1", {{"rows", B}, {"dim", H}, {"dtype", train_dtype_name(t)}}};
    o["grad w1"] = {"gemm.v1", gemm_kv(D, 2 * H, B, t, DType::kF32, false, true, 1.0)};
    o["adamw w1"] = {"adamw.v1", adamw(2 * H * D)};
    o["adamw w2"] = {"adamw.v1", adamw(O * H)};
    if (s.dtype == DType::kF16) {
      o["grad norm w1"] = {"reduce.v1", sumsq(2 * H * D, DType::kF32, 1.0, false)};
      o["grad norm w2"] = {"reduce.v1", sumsq(O * H, DType::kF32, 1.0, true)};
    }
    return o;
  }
};

double mse_alpha(const TrainSettings& s, double loss_scale) {
  return loss_scale * 2.0 / static_cast<double>(s.batch * s.mlp.out);
}

class DeviceMlp {
 public:
  DeviceMlp(const Device& dev, Stream& stream, const TrainSettings& s) : dev_(dev), stream_(stream), s_(s) {}

  Status create(const models::MlpData& d) {
    const models::MlpConfig& c = s_.mlp;
    const DType t = s_.dtype;
    const uint64_t z = size_bytes(t);
    const int64_t B = s_.batch, E = s_.eval_samples, H = c.hidden, D = c.in, O = c.out;
    auto buf = [&](Buffer& b, uint64_t bytes) -> Status {
      auto r = dev_.create_buffer(bytes);
      if (!r) return r.error();
      b = std::move(r).value();
      return {};
    };
    const uint64_t n1 = static_cast<uint64_t>(2 * H * D), n2 = static_cast<uint64_t>(O * H);
    for (Buffer* b : {&w1m_, &m1_, &v1_, &g1_}) CMETER_TRY(buf(*b, 4 * n1));
    for (Buffer* b : {&w2m_, &m2_, &v2_, &g2_}) CMETER_TRY(buf(*b, 4 * n2));
    CMETER_TRY(buf(w1s_, z * n1));
    CMETER_TRY(buf(w2s_, z * n2));
    for (auto [b, rows] : {std::pair<Act*, int64_t>{&train_, B}, {&eval_, E}}) {
      CMETER_TRY(buf(b->gu, z * static_cast<uint64_t>(rows * 2 * H)));
      CMETER_TRY(buf(b->a, z * static_cast<uint64_t>(rows * H)));
      CMETER_TRY(buf(b->y, z * static_cast<uint64_t>(rows * O)));
      CMETER_TRY(buf(b->e, z * static_cast<uint64_t>(rows * O)));
    }
    CMETER_TRY(buf(da_, z * static_cast<uint64_t>(B * H)));
    CMETER_TRY(buf(dgu_, z * static_cast<uint64_t>(B * 2 * H)));
    for (Buffer* b : {&quality_, &loss_, &norm_}) CMETER_TRY(buf(*b, 4));
    CMETER_TRY(buf(hyper_, 12));
    // The data: one buffer pair per training batch (inputs, negated targets), and the held-out set.
    const int64_t batches = s_.batches();
    x_.resize(static_cast<size_t>(batches));
    nt_.resize(static_cast<size_t>(batches));
    std::vector<float> neg;
    auto upload_neg = [&](Buffer& b, const float* tgt, size_t n) -> Status {
      neg.assign(tgt, tgt + n);
      for (float& v : neg) v = -v;
      return upload(b, to_bytes(t, neg.data(), n));
    };
    for (int64_t k = 0; k < batches; ++k) {
      CMETER_TRY(buf(x_[static_cast<size_t>(k)], z * static_cast<uint64_t>(B * D)));
      CMETER_TRY(buf(nt_[static_cast<size_t>(k)], z * static_cast<uint64_t>(B * O)));
      CMETER_TRY(upload(x_[static_cast<size_t>(k)],
                        to_bytes(t, d.x_train.data() + k * B * D, static_cast<size_t>(B * D))));
      CMETER_TRY(
          upload_neg(nt_[static_cast<size_t>(k)], d.t_train.data() + k * B * O, static_cast<size_t>(B * O)));
    }
    CMETER_TRY(buf(xe_, z * static_cast<uint64_t>(E * D)));
    CMETER_TRY(buf(nte_, z * static_cast<uint64_t>(E * O)));
    CMETER_TRY(upload(xe_, to_bytes(t, d.x_eval.data(), d.x_eval.size())));
    CMETER_TRY(upload_neg(nte_, d.t_eval.data(), d.t_eval.size()));
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    staged_.clear();
    return ops_for_scale(models::make_loss_scaler(s_).scale);
  }

  // A run's start: masters, zero moments, and the stored copies the forward reads.
  Status reset(const MlpWeights& init) {
    auto put = [&](Buffer& m, Buffer& mo, Buffer& v, Buffer& st, const std::vector<float>& w) -> Status {
      const std::vector<float> zeros(w.size(), 0.0f);
      CMETER_TRY(upload(m, to_bytes(DType::kF32, w.data(), w.size())));
      CMETER_TRY(upload(mo, to_bytes(DType::kF32, zeros.data(), zeros.size())));
      CMETER_TRY(upload(v, to_bytes(DType::kF32, zeros.data(), zeros.size())));
      return upload(st, to_bytes(s_.dtype, w.data(), w.size()));
    };
    CMETER_TRY(put(w1m_, m1_, v1_, w1s_, init.w1));
    CMETER_TRY(put(w2m_, m2_, v2_, w2s_, init.w2));
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    staged_.clear();
    return {};
  }

  // Forward and backward of training step `step` (gradients in G1, G2); with `loss`, the batch loss too.
  Status enqueue_gradients(int64_t step, double loss_scale, bool loss) {
    CMETER_TRY(ops_for_scale(loss_scale));
    const auto k = static_cast<size_t>(step % s_.batches());
    CMETER_TRY(forward("", train_, x_[k], nt_[k]));
    if (loss) CMETER_TRY(run("train loss", {&train_.e, &loss_}));
    Ops& g = by_scale_[loss_scale];
    CMETER_TRY(enqueue(g.grad_w2, {&train_.a, &train_.e, &g2_}));
    CMETER_TRY(enqueue(g.grad_a, {&w2s_, &train_.e, &da_}));
    CMETER_TRY(run("swiglu backward", {&train_.gu, &da_, &dgu_}));
    CMETER_TRY(run("grad w1", {&x_[k], &dgu_, &g1_}));
    if (s_.dtype == DType::kF16) {
      CMETER_TRY(run("grad norm w1", {&g1_, &norm_}));
      CMETER_TRY(run("grad norm w2", {&g2_, &norm_}));
    }
    return {};
  }
  // f16: the gradients' squared norm (synchronises).
  Result<float> read_grad_norm() { return read_scalar(norm_); }
  // The AdamW update with HYPER = {lr, t, grad_scale} (the host values stay alive until the next sync).
  Status enqueue_update(float lr, float t, float grad_scale) {
    pending_.push_back({lr, t, grad_scale});
    CMETER_TRY(stream_.write(hyper_, 0, pending_.back().data(), 12));
    CMETER_TRY(run("adamw w1", {&w1m_, &g1_, &m1_, &v1_, &w1s_, &hyper_}));
    return run("adamw w2", {&w2m_, &g2_, &m2_, &v2_, &w2s_, &hyper_});
  }
  // The held-out evaluation: quality (the mean square of E, divided by the targets' on the host) and the
  // last batch loss; synchronises.
  Status enqueue_eval() {
    CMETER_TRY(forward("eval ", eval_, xe_, nte_));
    return run("eval quality", {&eval_.e, &quality_});
  }
  Result<std::pair<float, float>> read_eval() {
    float q = 0, l = 0;
    CMETER_TRY(stream_.read(quality_, 0, &q, 4));
    CMETER_TRY(stream_.read(loss_, 0, &l, 4));
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    return std::pair<float, float>{q, l};
  }
  Status synchronize() {
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    return {};
  }
  Result<MlpWeights> read_masters() { return read_weights(w1m_, w2m_, DType::kF32); }
  Result<MlpWeights> read_stored() { return read_weights(w1s_, w2s_, s_.dtype); }

  std::map<std::string, std::string> op_paths() const {
    std::map<std::string, std::set<std::string>> impls;
    for (const auto& [role, e] : ops_) {
      std::string impl = "(no impl attribute)";
      if (auto attrs = e.second.attributes()) impl = get_string(*attrs, "impl").value_or(impl);
      impls[e.first].insert(impl);
    }
    std::map<std::string, std::string> out;
    for (const auto& [name, set] : impls) out[name] = fmt::format("{}", fmt::join(set, " | "));
    return out;
  }

 private:
  struct Act {
    Buffer gu, a, y, e;
  };
  struct Ops {
    Op grad_w2, grad_a;
  };

  Status upload(Buffer& b, const std::vector<uint8_t>& bytes) {
    staged_.push_back(bytes);
    return stream_.write(b, 0, staged_.back().data(), bytes.size());
  }
  Status enqueue(Op& op, std::initializer_list<Buffer*> buffers) {
    const std::vector<Buffer*> v(buffers);
    return op.enqueue(stream_, v);
  }
  Status run(const std::string& role, std::initializer_list<Buffer*> buffers) {
    auto it = ops_.find(role);
    if (it == ops_.end()) return make_error(ErrorCode::kInternal, "training graph: no op '{}'", role);
    return enqueue(it->second.second, buffers);
  }
  Status forward(const std::string& tag, Act& act, Buffer& x, Buffer& nt) {
    CMETER_TRY(run(tag + "gate_up", {&w1s_, &x, &act.gu}));
    CMETER_TRY(run(tag + "swiglu", {&act.gu, &act.a}));
    CMETER_TRY(run(tag + "out", {&w2s_, &act.a, &act.y}));
    return run(tag + "error", {&act.y, &nt, &act.e});
  }
  // Creates the graph's ops once, and the two loss-scaled GEMMs once per loss scale in use.
  Status ops_for_scale(double loss_scale) {
    if (by_scale_.count(loss_scale)) return {};
    auto specs = MlpOps::specs(s_, mse_alpha(s_, loss_scale));
    for (auto& [role, spec] : specs) {
      if (role == "grad w2" || role == "grad a" || ops_.count(role)) continue;
      auto op = dev_.create_op(spec.first, spec.second);
      if (!op)
        return Error{op.error().code, fmt::format("{} ({}): {}", spec.first, role, op.error().message)};
      ops_[role] = {spec.first, std::move(op).value()};
    }
    Ops o;
    for (auto [role, slot] : {std::pair<const char*, Op*>{"grad w2", &o.grad_w2}, {"grad a", &o.grad_a}}) {
      auto op = dev_.create_op("gemm.v1", specs[role].second);
      if (!op) return Error{op.error().code, fmt::format("gemm.v1 ({}): {}", role, op.error().message)};
      *slot = std::move(op).value();
    }
    by_scale_[loss_scale] = std::move(o);
    return {};
  }
  Result<float> read_scalar(Buffer& b) {
    float v = 0;
    CMETER_TRY(stream_.read(b, 0, &v, 4));
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    return v;
  }
  Result<MlpWeights> read_weights(Buffer& w1, Buffer& w2, DType t) {
    std::vector<uint8_t> b1(w1.size_bytes()), b2(w2.size_bytes());
    CMETER_TRY(stream_.read(w1, 0, b1.data(), b1.size()));
    CMETER_TRY(stream_.read(w2, 0, b2.data(), b2.size()));
    CMETER_TRY(stream_.synchronize());
    pending_.clear();
    staged_.clear();
    return MlpWeights{from_bytes(t, b1), from_bytes(t, b2)};
  }

  const Device& dev_;
  Stream& stream_;
  const TrainSettings& s_;
  Buffer w1m_, w2m_, m1_, v1_, m2_, v2_, g1_, g2_, w1s_, w2s_, da_, dgu_, quality_, loss_, norm_, hyper_, xe_,
      nte_;
  Act train_, eval_;
  std::vector<Buffer> x_, nt_;
  std::map<std::string, std::pair<std::string, Op>> ops_;
  std::map<double, Ops> by_scale_;
  // HYPER values enqueued since the last sync: a deque, so push_back never moves an element a pending
  // (asynchronous) write still reads from.
  std::deque<std::array<float, 3>> pending_;
  std::vector<std::vector<uint8_t>> staged_;  // uploads enqueued since the last read-back
};

// Trajectory tolerance per storage dtype: the 90th percentile of |device − host| / Σ lr over sampled
// masters after the replay steps. A host replay without the storage rounding sits near 4e-3 from the
// mirrored one for bf16 (training_test.cpp), a skipped weight decay near 2e-2.
double trajectory_tolerance(DType t) {
  return t == DType::kF32 ? 1e-3 : 2e-3;
}
// Device-computed vs host-recomputed final quality, relative (the device's forward stores bf16/f16
// activations; the host's is FP64 on the same weights).
double quality_tolerance(DType t) {
  return t == DType::kF32 ? 1e-3 : t == DType::kF16 ? 0.02 : 0.1;
}

std::optional<double> train_energy_j(const Device& dev) {
  if (!dev.has_telemetry()) return std::nullopt;
  auto t = dev.telemetry();
  if (!t) return std::nullopt;
  return get_number(*t, "energy.j");
}

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A run whose trajectory check failed is invalid whatever follows: it stops at its next evaluation (so
// its curve holds one point of what the device computed) instead of spending the rest of its budget.
bool trajectory_failed(const TrainingRun& run) {
  return run.trajectory_steps > 0 && !run.trajectory_passed;
}

// After an evaluation (both forms): the curve point and the run's state; true when the run stops there
// (target reached, diverged: the budget cannot help, or invalid already: see trajectory_failed).
bool record_evaluation(TrainingRun& run, const TrainSettings& s, int64_t step, double t_s, double loss,
                       double quality, const models::LossScaler& scaler) {
  run.curve.push_back({step, t_s, loss, quality, scaler.enabled ? scaler.scale : 0.0});
  run.device_quality = quality;
  run.steps = step;
  if (quality <= s.target) {
    run.converged = true;
    run.time_to_quality_s = t_s;
    return true;
  }
  return !std::isfinite(quality) || trajectory_failed(run);
}

// After the last step (both forms): energy over the run, skips, samples/s. Returns the clocked seconds.
double close_run_clock(TrainingRun& run, const TrainSettings& s, double elapsed_s, std::optional<double> e0,
                       const Device& dev, const models::LossScaler& scaler) {
  const std::optional<double> e1 = train_energy_j(dev);
  if (e0 && e1 && *e1 >= *e0) run.energy_j = *e1 - *e0;
  run.loss_scale_skips = scaler.skips;
  run.samples_per_s = elapsed_s > 0 ? static_cast<double>(run.steps * s.batch) / elapsed_s : 0;
  return elapsed_s;
}

// One run: train from the run's initial weights to the target or the step budget.
Status train_run(DeviceMlp& mlp, const TrainSettings& s, const models::MlpData& data, uint64_t run_seed,
                 const Device& dev, TrainingRun& run) {
  const MlpWeights init = models::student_init(s.mlp, run_seed);
  // The host replay of the first steps, before the clock.
  models::HostMlpTrainer host(s, data, run_seed);
  for (int64_t i = 0; i < s.replay_steps; ++i) host.step();
  CMETER_TRY(mlp.reset(init));
  models::LossScaler scaler = models::make_loss_scaler(s);
  const std::optional<double> e0 = train_energy_j(dev);
  const double ms = data.eval_target_mean_square;
  int64_t applied = 0;
  double paused_s = 0;
  const Clock::time_point t0 = Clock::now();
  int64_t step = 0;
  while (step < s.max_steps) {
    const bool eval = (step + 1) % s.eval_every == 0 || step + 1 == s.max_steps;
    const double scale = scaler.scale;
    CMETER_TRY(mlp.enqueue_gradients(step, scale, eval));
    bool apply = true;
    if (scaler.enabled) {
      auto norm = mlp.read_grad_norm();
      if (!norm) return norm.error();
      apply = scaler.update(std::isfinite(*norm));
    }
    const float lr = static_cast<float>(models::learning_rate(s, step));
    if (apply)
      CMETER_TRY(mlp.enqueue_update(lr, static_cast<float>(++applied), static_cast<float>(1.0 / scale)));
    ++step;
    if (step == s.replay_steps) {
      // The trajectory check: the masters after the replayed steps (clock paused while read).
      CMETER_TRY(mlp.synchronize());  // the steps' own time counts; the read-back below does not
      const Clock::time_point p0 = Clock::now();
      auto masters = mlp.read_masters();
      if (!masters) return masters.error();
      const models::TrajectoryCheck tc =
          models::compare_trajectory(*masters, host.master(), models::learning_rate_sum(s, s.replay_steps),
                                     s.replay_steps, trajectory_tolerance(s.dtype), run_seed);
      run.trajectory_steps = tc.steps;
      run.trajectory_p90 = tc.p90_error;
      run.trajectory_max = tc.max_error;
      run.trajectory_passed = tc.passed;
      run.trajectory_worst = tc.worst;
      paused_s += since(p0);
    }
    if (!eval) continue;
    CMETER_TRY(mlp.enqueue_eval());
    auto q = mlp.read_eval();
    if (!q) return q.error();
    const double t = since(t0) - paused_s;
    if (record_evaluation(run, s, step, t, q->second / ms, q->first / ms, scaler)) break;
  }
  const double elapsed = close_run_clock(run, s, since(t0) - paused_s, e0, dev, scaler);
  const double flop = models::mlp_step_flop(s.mlp, s.batch) * static_cast<double>(run.steps) +
                      models::mlp_eval_flop(s.mlp, s.eval_samples) * static_cast<double>(run.curve.size());
  if (auto peak = get_number(dev.attributes(), "peak.flops." + train_dtype_name(s.dtype));
      peak && *peak > 0 && elapsed > 0)
    run.mfu = flop / elapsed / *peak;
  // The host recomputes the final quality from the weights the device holds.
  auto stored = mlp.read_stored();
  if (!stored) return stored.error();
  run.host_quality = models::mlp_eval_nmse(s.mlp, *stored, data);
  if (trajectory_failed(run))
    run.problem = fmt::format(
        "trajectory check after {} steps: p90 error {:.3g} above {:.3g} (worst {}); the run stopped at step "
        "{}",
        run.trajectory_steps, run.trajectory_p90, trajectory_tolerance(s.dtype), run.trajectory_worst,
        run.steps);
  else if (run.converged && !(std::abs(*run.host_quality - run.device_quality) <=
                              quality_tolerance(s.dtype) * std::max(run.device_quality, s.target)))
    run.problem =
        fmt::format("the device reported quality {:.4g}; the host recomputed {:.4g} from its weights",
                    run.device_quality, *run.host_quality);
  return {};
}

// ---- form lm ----

// The lm form's tolerances (quality: the device's and the host's exact KL on the same read-back
// weights, the device's from bf16 logits). Trajectory: on the median of |device − host| / Σ lr over the
// sampled masters (the mlp's rule takes the 90th percentile). The host replays the device's own graph with
// each output rounded to its storage dtype, but a bf16 activation one rounding step apart flips the sign of
// many small gradients through attention, and Adam's first updates are ±lr whatever the gradient's size:
// measured on cpu:0 (docs/results/training-cpu.md) a faithful bf16 run gives a median of 0.0008–0.0014
// and a p90 of 0.005–0.009, and adamw without weight decay a median of 0.009 and a p90 of 0.02, so only
// the median separates them with margin. Quality: the device's Monte Carlo KL and the host's, on the
// same read-back weights, in nats per token (absolute: the KL is a small difference of two
// cross-entropies of a few nats each).
double lm_trajectory_tolerance(DType t) {
  return t == DType::kF32 ? 1e-3 : 4e-3;
}
double lm_quality_tolerance_nats(DType t) {
  return t == DType::kF32 ? 2e-4 : 1e-3;  // measured agreement on cpu:0 bf16: 1e-5 (training-cpu.md)
}

struct LmState {
  const models::LmGraph& g;
  const models::LmData& data;
  DeviceGraph& dev_graph;
  std::vector<int32_t> pos, len;
  std::deque<std::array<float, 3>> hyper;  // HYPER values enqueued since the last synchronise
  std::deque<float> scalars;               // GSCALE and zeroed sums, likewise
  Status write_scalar(int buffer, float v) {
    scalars.push_back(v);
    return dev_graph.write(buffer, &scalars.back(), 4);
  }
  Status synchronize() {
    CMETER_TRY(dev_graph.synchronize());
    hyper.clear();
    scalars.clear();
    return {};
  }
  Status write_batch(bool eval, int64_t index) {
    const uint64_t bytes = static_cast<uint64_t>(g.rows) * 4;
    CMETER_TRY(dev_graph.write(g.ids, models::lm_batch_ids(data, eval, index, g.batch), bytes));
    return dev_graph.write(g.targets, models::lm_batch_targets(data, eval, index, g.batch), bytes);
  }
};

Status train_run_lm(LmState& st, const TrainSettings& s, uint64_t run_seed, const Device& dev,
                    TrainingRun& run) {
  const models::LmGraph& g = st.g;
  std::vector<std::vector<float>> init;
  for (const models::LmGraph::Param& p : g.params)
    init.push_back(models::lm_student_init(s.lm, p.tensor, run_seed));
  models::LossScaler scaler = models::make_loss_scaler(s);
  const double rows = static_cast<double>(g.rows);
  // The host replay of the first steps, before the clock (no f16 overflow is expected in them: the
  // device's skips, if any, show as a trajectory mismatch).
  models::HostLm host(g);
  host.reset(init);
  for (int64_t i = 0; i < s.replay_steps; ++i)
    CMETER_TRY(host.step(st.data, i, models::learning_rate(s, i), static_cast<double>(i + 1),
                         1.0 / scaler.scale, scaler.scale / rows));
  // The run's start: masters, zero moments, stored copies, constants.
  for (size_t i = 0; i < g.params.size(); ++i) {
    const models::LmGraph::Param& p = g.params[i];
    const std::vector<float> zeros(init[i].size(), 0.0f);
    CMETER_TRY(st.dev_graph.write_values(p.master, init[i]));
    CMETER_TRY(st.dev_graph.write_values(p.stored, init[i]));
    CMETER_TRY(st.dev_graph.write_values(p.m, zeros));
    CMETER_TRY(st.dev_graph.write_values(p.v, zeros));
  }
  CMETER_TRY(st.dev_graph.write(g.pos, st.pos.data(), st.pos.size() * 4));
  CMETER_TRY(st.dev_graph.write(g.len, st.len.data(), st.len.size() * 4));
  CMETER_TRY(st.synchronize());

  const int64_t eval_chunks = st.data.eval_sequences() / g.batch;
  const std::optional<double> e0 = train_energy_j(dev);
  int64_t applied = 0;
  double paused_s = 0;
  double gscale_written = 0;
  const Clock::time_point t0 = Clock::now();
  int64_t step = 0;
  while (step < s.max_steps) {
    const bool eval = (step + 1) % s.eval_every == 0 || step + 1 == s.max_steps;
    const double scale = scaler.scale;
    if (scale / rows != gscale_written) {
      CMETER_TRY(st.write_scalar(g.gscale, static_cast<float>(scale / rows)));
      gscale_written = scale / rows;
    }
    CMETER_TRY(st.write_batch(false, step));
    CMETER_TRY(st.dev_graph.run("forward"));
    CMETER_TRY(st.dev_graph.run("backward"));
    if (eval) CMETER_TRY(st.dev_graph.run("train loss"));
    bool apply = true;
    if (scaler.enabled) {
      CMETER_TRY(st.dev_graph.run("grad norm"));
      auto norm = st.dev_graph.read_values(g.grad_norm);
      if (!norm) return norm.error();
      st.hyper.clear();  // read_values synchronised: the enqueued host values are consumed
      st.scalars.clear();
      apply = scaler.update(std::isfinite((*norm)[0]));
    }
    if (apply) {
      st.hyper.push_back({static_cast<float>(models::learning_rate(s, step)), static_cast<float>(++applied),
                          static_cast<float>(1.0 / scale)});
      CMETER_TRY(st.dev_graph.write(g.hyper, st.hyper.back().data(), 12));
      CMETER_TRY(st.dev_graph.run("update"));
    }
    ++step;
    if (step == s.replay_steps) {
      CMETER_TRY(st.synchronize());  // the steps' own time counts; the read-back below does not
      const Clock::time_point p0 = Clock::now();
      const std::vector<std::vector<float>> host_masters = host.masters();
      std::vector<std::vector<float>> device_masters;
      std::vector<models::TrajectoryTensor> tensors;
      for (size_t i = 0; i < g.params.size(); ++i) {
        auto m = st.dev_graph.read_values(g.params[i].master);
        if (!m) return m.error();
        device_masters.push_back(std::move(m).value());
      }
      for (size_t i = 0; i < g.params.size(); ++i)
        tensors.push_back({g.params[i].tensor.name, &device_masters[i], &host_masters[i]});
      const models::TrajectoryCheck tc =
          models::compare_trajectory(tensors, models::learning_rate_sum(s, s.replay_steps), s.replay_steps,
                                     lm_trajectory_tolerance(s.dtype), run_seed);
      run.trajectory_steps = tc.steps;
      run.trajectory_p90 = tc.p90_error;
      run.trajectory_max = tc.max_error;
      run.trajectory_median = tc.median_error;
      run.trajectory_passed = tc.median_error <= lm_trajectory_tolerance(s.dtype);
      run.trajectory_worst = tc.worst;
      paused_s += since(p0);
    }
    if (!eval) continue;
    // The held-out evaluation (counted): every held-out batch's summed cross-entropy.
    CMETER_TRY(st.write_scalar(g.eval_sum, 0.0f));
    for (int64_t c = 0; c < eval_chunks; ++c) {
      CMETER_TRY(st.write_batch(true, c));
      CMETER_TRY(st.dev_graph.run("forward"));
      CMETER_TRY(st.dev_graph.run(fmt::format("eval {}", c)));
    }
    auto sum = st.dev_graph.read_values(g.eval_sum);
    if (!sum) return sum.error();
    auto loss = st.dev_graph.read_values(g.train_loss);
    if (!loss) return loss.error();
    st.hyper.clear();
    st.scalars.clear();
    const double t = since(t0) - paused_s;
    const double quality = static_cast<double>((*sum)[0]) / (static_cast<double>(eval_chunks) * rows) -
                           st.data.eval_teacher_entropy;
    if (record_evaluation(run, s, step, t, static_cast<double>((*loss)[0]), quality, scaler)) break;
  }
  const double elapsed = close_run_clock(run, s, since(t0) - paused_s, e0, dev, scaler);
  run.tokens_per_s = run.samples_per_s * static_cast<double>(s.lm.seq_len);
  const double flop =
      models::lm_step_flop(g) * static_cast<double>(run.steps) +
      models::lm_eval_flop(g) * static_cast<double>(eval_chunks) * static_cast<double>(run.curve.size());
  if (auto peak = get_number(dev.attributes(), "peak.flops." + train_dtype_name(s.dtype));
      peak && *peak > 0 && elapsed > 0)
    run.mfu = flop / elapsed / *peak;
  // The host recomputes the final quality from the weights the device holds.
  std::vector<std::vector<float>> stored;
  for (const models::LmGraph::Param& p : g.params) {
    auto v = st.dev_graph.read_values(p.stored);
    if (!v) return v.error();
    stored.push_back(std::move(v).value());
  }
  host.set_stored(stored);
  auto q = host.quality(st.data);
  if (!q) return q.error();
  run.host_quality = q->exact_kl;
  const double tol = lm_quality_tolerance_nats(s.dtype);
  if (trajectory_failed(run))
    run.problem = fmt::format(
        "trajectory check after {} steps: median error {:.3g} above {:.3g} (worst {}); the run stopped at "
        "step "
        "{}",
        run.trajectory_steps, *run.trajectory_median, lm_trajectory_tolerance(s.dtype), run.trajectory_worst,
        run.steps);
  else if (run.converged && !(std::abs(*run.host_quality - run.device_quality) <= tol))
    run.problem = fmt::format(
        "the device reported KL {:.4g} nats/token; the host recomputed {:.4g} from its weights (tolerance "
        "{:.3g})",
        run.device_quality, *run.host_quality, tol);
  return {};
}

}  // namespace

void run_training(const Context& ctx, CaseResult& result) {
  const Device& dev = ctx.device;
  auto settings = models::train_settings_from_params(ctx.spec.params);
  if (!settings) return (void)fail(result, CaseStatus::kFailed, settings.error().message);
  const TrainSettings& s = *settings;
  const bool lm = s.form == "lm";
  result.params = ctx.spec.params;
  result.params["form"] = s.form;
  result.params["model"] = s.model_name();
  result.params["dtype"] = train_dtype_name(s.dtype);

  // The lm form's graph (pure data, built before anything touches the device).
  std::optional<models::LmGraph> lm_graph;
  if (lm) {
    auto built = models::build_lm_graph(s.lm, s.batch, s.dtype,
                                        models::LmOptimizer{s.beta1, s.beta2, s.eps, s.weight_decay},
                                        s.eval_samples / s.batch);
    if (!built) return (void)fail(result, CaseStatus::kFailed, built.error().message);
    lm_graph = std::move(built).value();
  }

  // Every op up front (a plugin without the 1.2 training ops answers unsupported, naming them).
  std::vector<std::string> missing;
  if (lm) {
    missing = missing_graph_ops(dev, lm_graph->graph);
  } else {
    auto specs = MlpOps::specs(s, mse_alpha(s, models::make_loss_scaler(s).scale));
    for (const auto& [role, spec] : specs) {
      auto q = dev.query_op(spec.first, spec.second);
      if (!q) q = OpQuery{false, q.error().message};
      const std::string& name = spec.first;
      if (!q->supported && std::none_of(missing.begin(), missing.end(),
                                        [&name](const std::string& m) { return m.starts_with(name); }))
        missing.push_back(q->reason.empty() ? name : fmt::format("{} ({})", name, q->reason));
    }
  }
  if (!missing.empty())
    return (void)fail(result, CaseStatus::kUnsupported,
                      fmt::format("missing ops: {}", fmt::join(missing, ", ")));

  TrainingResult tr;
  tr.form = s.form;
  tr.model = s.model_name();
  tr.dtype = train_dtype_name(s.dtype);
  tr.parameters = lm ? models::parameter_count(s.lm.student) : s.mlp.parameters();
  tr.hyperparameters = to_json(ctx.spec.params);
  const nlohmann::json fixed = {{"batch", s.batch},
                                {"train_samples", s.train_samples},
                                {"eval_samples", s.eval_samples},
                                {"lr", s.lr},
                                {"warmup_steps", s.warmup_steps},
                                {"beta1", s.beta1},
                                {"beta2", s.beta2},
                                {"eps", s.eps},
                                {"weight_decay", s.weight_decay},
                                {"max_steps", s.max_steps},
                                {"eval_every", s.eval_every},
                                {"target", s.target},
                                {"runs", s.runs},
                                {"replay_steps", s.replay_steps},
                                {"loss_scale", s.dtype == DType::kF16 ? s.loss_scale : 1.0}};
  tr.hyperparameters.update(fixed);
  if (lm) {
    tr.hyperparameters["seq_len"] = s.lm.seq_len;
    tr.hyperparameters["teacher_temperature"] = s.lm.teacher_temperature;
    tr.hyperparameters["teacher_layers"] = s.lm.teacher.layers;
  }
  tr.quality_metric = lm ? "held-out KL(teacher || student), nats/token: exact over the vocabulary at every "
                           "held-out position "
                           "(soft cross-entropy against the teacher's distribution minus its entropy)"
                         : "eval NMSE (held-out MSE / mean square of the teacher's targets)";
  tr.target = s.target;
  tr.step_flop = lm ? models::lm_step_flop(*lm_graph) : models::mlp_step_flop(s.mlp, s.batch);
  tr.samples_per_step = s.batch;
  tr.mfu_peak_key = "peak.flops." + train_dtype_name(s.dtype);
  tr.trajectory_tolerance = lm ? lm_trajectory_tolerance(s.dtype) : trajectory_tolerance(s.dtype);
  tr.quality_tolerance = lm ? lm_quality_tolerance_nats(s.dtype) : quality_tolerance(s.dtype);
  const std::optional<models::ReferenceBand> band = models::reference_band(s);
  if (band) {
    tr.band_min_steps = band->min_steps;
    tr.band_max_steps = band->max_steps;
    tr.band_source = band->source;
  }

  // Untimed: the data (from the case seed: every run trains on the same task), buffers, ops.
  auto stream = dev.create_stream();
  if (!stream) return (void)fail(result, CaseStatus::kFailed, stream.error().message);
  std::optional<models::MlpData> mlp_data;
  std::optional<DeviceMlp> mlp;
  std::optional<models::LmData> lm_data;
  std::optional<DeviceGraph> lm_device;
  std::optional<LmState> lm_state;
  if (lm) {
    lm_data = models::make_lm_data(s.lm, s.train_samples, s.eval_samples, ctx.seed);
    lm_device.emplace(dev, *stream, lm_graph->graph);
    if (auto st = lm_device->create(); !st)
      return (void)fail(result, CaseStatus::kFailed, st.error().message);
    // The teacher's held-out distributions (minus the targets' one-hot), once per case.
    const size_t chunk = static_cast<size_t>(lm_graph->rows * s.lm.student.vocab);
    for (size_t k = 0; k < lm_graph->eval_soft.size(); ++k) {
      const std::vector<float> part(
          lm_data->eval_soft.begin() + static_cast<std::ptrdiff_t>(k * chunk),
          lm_data->eval_soft.begin() + static_cast<std::ptrdiff_t>((k + 1) * chunk));
      if (auto st = lm_device->write_values(lm_graph->eval_soft[k], part); !st)
        return (void)fail(result, CaseStatus::kFailed, st.error().message);
    }
    if (auto st = lm_device->synchronize(); !st)
      return (void)fail(result, CaseStatus::kFailed, st.error().message);
    lm_state.emplace(
        LmState{*lm_graph, *lm_data, *lm_device, lm_graph->pos_values(), lm_graph->len_values(), {}, {}});
    tr.op_paths = lm_device->op_paths();
  } else {
    mlp_data = models::make_mlp_data(s, ctx.seed);
    mlp.emplace(dev, *stream, s);
    if (auto st = mlp->create(*mlp_data); !st)
      return (void)fail(result, CaseStatus::kFailed, st.error().message);
    tr.op_paths = mlp->op_paths();
  }
  result.method.timer = "host";
  result.method.timer_detail =
      "steady clock from the first step's enqueue to the read-back of the evaluation at the target "
      "(evaluations counted; the trajectory check's read-back excluded)";
  result.method.flop_per_call = tr.step_flop;

  std::vector<double> times, rates;
  for (int64_t r = 0; r < s.runs; ++r) {
    TrainingRun run;
    run.index = r;
    run.seed = models::mix64(ctx.seed ^ (0x7261696eull + static_cast<uint64_t>(r)));
    print_progress(
        fmt::format("training {} run {}/{} (seed {:#x})", s.model_name(), r + 1, s.runs, run.seed));
    if (auto st = lm ? train_run_lm(*lm_state, s, run.seed, dev, run)
                     : train_run(*mlp, s, *mlp_data, run.seed, dev, run);
        !st) {
      tr.runs.push_back(std::move(run));
      result.training = tr;
      return (void)fail(result, CaseStatus::kFailed, fmt::format("run {}: {}", r, st.error().message));
    }
    if (run.converged) {
      times.push_back(run.time_to_quality_s);
      rates.push_back(run.samples_per_s);
    }
    const bool invalid = !run.problem.empty();
    tr.runs.push_back(std::move(run));
    // An invalid run makes the case invalid whatever the others do: the remaining runs are not started.
    if (invalid) break;
  }
  tr.converged_runs = static_cast<int64_t>(times.size());
  if (!times.empty()) {
    tr.olympic_mean_s = models::olympic_mean(times);
    const auto [lo, hi] = std::minmax_element(times.begin(), times.end());
    tr.spread = (*hi - *lo) / *tr.olympic_mean_s;
    // MFU of the run closest to the olympic mean.
    const TrainingRun* mid = nullptr;
    for (const TrainingRun& run : tr.runs)
      if (run.converged && (!mid || std::abs(run.time_to_quality_s - *tr.olympic_mean_s) <
                                        std::abs(mid->time_to_quality_s - *tr.olympic_mean_s)))
        mid = &run;
    if (mid) tr.mfu = mid->mfu;
    result.metrics.push_back(Metric{"time_to_quality_s", "s", false, measure::compute_statistics(times)});
    result.metrics.push_back(Metric{"samples_per_s", "sample/s", true, measure::compute_statistics(rates)});
    result.samples_s = times;
  }
  result.training = tr;

  // Validation summary: the anti-cheat checks over every run.
  Validation v;
  v.method =
      "FP32 host replay of the first steps (sampled masters), final quality recomputed on the host from the "
      "read-back weights, reference band of steps to target";
  std::string first_problem;
  for (const TrainingRun& run : tr.runs) {
    ++v.points;
    v.max_rel_error = std::max(v.max_rel_error, run.trajectory_median.value_or(run.trajectory_p90));
    if (!run.problem.empty()) {
      ++v.failures;
      if (first_problem.empty()) first_problem = fmt::format("run {}: {}", run.index, run.problem);
    }
  }
  v.tolerance = tr.trajectory_tolerance;
  v.first_failure = first_problem;
  v.passed = first_problem.empty();
  result.validation = v;

  // Invalid ahead of failed: a run that computed the wrong thing names that cause, not its consequence
  // (a wrong gradient never reaches the target).
  if (!first_problem.empty())
    return (void)fail(result, CaseStatus::kInvalid,
                      static_cast<int64_t>(tr.runs.size()) < s.runs
                          ? fmt::format("{} (runs after it were not started)", first_problem)
                          : first_problem);
  const int64_t not_converged = s.runs - tr.converged_runs;
  if (tr.converged_runs == 0 || not_converged > 1) {
    const TrainingRun& last = tr.runs.back();
    return (void)fail(
        result, CaseStatus::kFailed,
        fmt::format("{} of {} runs did not reach {} <= {} within {} steps (last run ended at {:.4g} "
                    "after {} steps; loss curve in the report)",
                    not_converged, s.runs, lm ? "held-out KL" : "eval NMSE", s.target, s.max_steps,
                    last.device_quality, last.steps));
  }
  if (band)
    for (const TrainingRun& run : tr.runs)
      if (run.converged && run.steps < band->min_steps)
        return (void)fail(result, CaseStatus::kImplausible,
                          fmt::format("run {} reached the target in {} steps, faster than the reference band "
                                      "({}..{} steps, {})",
                                      run.index, run.steps, band->min_steps, band->max_steps, band->source));
  result.status = CaseStatus::kOk;
  result.reason = not_converged == 1 ? "one run did not converge (at most one is allowed)" : "";
  if (tr.mfu && *tr.mfu > 1.05)
    fail(result, CaseStatus::kImplausible,
         fmt::format("training at {:.2f}x the declared {}", *tr.mfu, tr.mfu_peak_key));
}

}  // namespace cmeter::workloads
