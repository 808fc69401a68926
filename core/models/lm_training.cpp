// The `lm` training form's host side (lm_training.h): presets, the teacher's sampling, the student's
// op graph, and the host replay over it.
#include "core/models/lm_training.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/models/counter_rng.h"
#include "core/models/llm_weights.h"
#include "core/validate/half.h"
#include "core/validate/op_reference.h"

namespace cmeter::models {
namespace {

namespace ref = validate::ref;

constexpr uint64_t kStreamTrainTokens = 0x7500, kStreamEvalTokens = 0x7501;

// y[o] = sum_i w[o][i]·x[i] (w row-major [out, in]).
void matvec(const std::vector<float>& w, const double* x, int64_t out, int64_t in, double* y) {
  for (int64_t o = 0; o < out; ++o) {
    const float* row = w.data() + o * in;
    double acc = 0;
    for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(row[i]) * x[i];
    y[o] = acc;
  }
}

// The teacher decoder in FP64 with a KV cache: one sequence at a time.
class Teacher {
 public:
  Teacher(const LlmConfig& c, uint64_t seed) : c_(c) {
    for (const WeightTensor& t : weight_tensors(c)) w_[t.name] = weight_values(c, seed, t, DType::kF32);
  }
  // Logits after token `token` at position `pos` (the cache holds positions 0..pos-1).
  void next(int32_t token, int64_t pos, std::vector<std::vector<double>>& kcache,
            std::vector<std::vector<double>>& vcache, std::vector<double>& logits) const {
    const int64_t D = c_.hidden, hd = c_.head_dim, Hq = c_.heads, KV = c_.kv_heads, F = c_.ffn;
    std::vector<double> x(static_cast<size_t>(D)), h(static_cast<size_t>(D)), q(static_cast<size_t>(Hq * hd)),
        k(static_cast<size_t>(KV * hd)), v(static_cast<size_t>(KV * hd)), o(static_cast<size_t>(Hq * hd)),
        t(static_cast<size_t>(D)), gu(static_cast<size_t>(2 * F)), a(static_cast<size_t>(F));
    const std::vector<float>& emb = w_.at("embedding");
    for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(i)] = emb[static_cast<size_t>(token * D + i)];
    const int32_t p32 = static_cast<int32_t>(pos);
    for (int64_t l = 0; l < c_.layers; ++l) {
      const std::string pre = fmt::format("layers.{}.", l);
      auto wd = [&](const char* n) {
        const std::vector<float>& f = w_.at(pre + n);
        return std::vector<double>(f.begin(), f.end());
      };
      ref::rmsnorm(x.data(), wd("attn_norm").data(), h.data(), 1, D, c_.norm_eps);
      matvec(w_.at(pre + "wq"), h.data(), Hq * hd, D, q.data());
      matvec(w_.at(pre + "wk"), h.data(), KV * hd, D, k.data());
      matvec(w_.at(pre + "wv"), h.data(), KV * hd, D, v.data());
      ref::rope(q.data(), &p32, 1, Hq, hd, false, c_.rope_theta);
      ref::rope(k.data(), &p32, 1, KV, hd, false, c_.rope_theta);
      std::vector<double>& kc = kcache[static_cast<size_t>(l)];
      std::vector<double>& vc = vcache[static_cast<size_t>(l)];
      kc.insert(kc.end(), k.begin(), k.end());
      vc.insert(vc.end(), v.begin(), v.end());
      const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
      std::vector<double> s(static_cast<size_t>(pos + 1));
      for (int64_t hh = 0; hh < Hq; ++hh) {
        const int64_t j = hh / c_.group();
        double mx = -INFINITY;
        for (int64_t p = 0; p <= pos; ++p) {
          double dot = 0;
          for (int64_t e = 0; e < hd; ++e)
            dot += q[static_cast<size_t>(hh * hd + e)] * kc[static_cast<size_t>((p * KV + j) * hd + e)];
          s[static_cast<size_t>(p)] = dot * scale;
          mx = std::max(mx, dot * scale);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int64_t e = 0; e < hd; ++e) {
          double acc = 0;
          for (int64_t p = 0; p <= pos; ++p)
            acc += s[static_cast<size_t>(p)] * vc[static_cast<size_t>((p * KV + j) * hd + e)];
          o[static_cast<size_t>(hh * hd + e)] = acc / sum;
        }
      }
      matvec(w_.at(pre + "wo"), o.data(), D, Hq * hd, t.data());
      for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(i)] += t[static_cast<size_t>(i)];
      ref::rmsnorm(x.data(), wd("mlp_norm").data(), h.data(), 1, D, c_.norm_eps);
      matvec(w_.at(pre + "w_gate_up"), h.data(), 2 * F, D, gu.data());
      ref::swiglu(gu.data(), a.data(), 1, F);
      matvec(w_.at(pre + "w_down"), a.data(), D, F, t.data());
      for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(i)] += t[static_cast<size_t>(i)];
    }
    const std::vector<float>& fnf = w_.at("final_norm");
    const std::vector<double> fn(fnf.begin(), fnf.end());
    ref::rmsnorm(x.data(), fn.data(), h.data(), 1, D, c_.norm_eps);
    logits.resize(static_cast<size_t>(c_.vocab));
    matvec(w_.at(c_.tied_lm_head ? "embedding" : "lm_head"), h.data(), c_.vocab, D, logits.data());
  }

 private:
  LlmConfig c_;
  std::map<std::string, std::vector<float>> w_;
};

// log softmax(logits / temperature) into `logp`.
void log_softmax(const std::vector<double>& logits, double temperature, std::vector<double>& logp) {
  logp.resize(logits.size());
  double mx = -INFINITY;
  for (double v : logits) mx = std::max(mx, v / temperature);
  double sum = 0;
  for (double v : logits) sum += std::exp(v / temperature - mx);
  const double lse = mx + std::log(sum);
  for (size_t i = 0; i < logits.size(); ++i) logp[i] = logits[i] / temperature - lse;
}

}  // namespace

std::optional<LmConfig> lm_preset(std::string_view name) {
  LmConfig c;
  if (name == "lm-tiny") {
    c.name = "lm-tiny";
    // name, layers, hidden, heads, kv_heads, head_dim, ffn, vocab, tied, theta, eps
    c.student = LlmConfig{"lm-tiny", 2, 64, 4, 2, 16, 128, 64, false, 10000, 1e-5};
    c.teacher = LlmConfig{"lm-tiny-teacher", 1, 32, 4, 2, 8, 32, 64, false, 10000, 1e-5};
    c.seq_len = 32;
    c.teacher_temperature = 2.0;
    return c;
  }
  if (name == "lm-small") {
    c.name = "lm-small";
    c.student = LlmConfig{"lm-small", 2, 512, 8, 4, 64, 1536, 64, false, 10000, 1e-5};
    c.teacher = LlmConfig{"lm-small-teacher", 1, 32, 4, 2, 8, 32, 64, false, 10000, 1e-5};
    c.seq_len = 128;
    c.teacher_temperature = 2.0;
    c.batch = 16;
    c.train_sequences = 4096;
    c.eval_sequences = 64;
    c.lr = 3e-3;
    c.target = 0.85;
    c.max_steps = 600;
    c.eval_every = 10;
    return c;
  }
  return std::nullopt;
}
std::vector<std::string> lm_preset_names() {
  return {"lm-tiny", "lm-small"};
}

LmData make_lm_data(const LmConfig& c, int64_t train_sequences, int64_t eval_sequences, uint64_t seed) {
  const Teacher teacher(c.teacher, seed);
  const int64_t T = c.seq_len, V = c.teacher.vocab;
  LmData d;
  d.seq_len = T;
  d.vocab = V;
  auto sample = [&](bool eval, int64_t sequences, std::vector<int32_t>& ids, std::vector<int32_t>& targets) {
    ids.assign(static_cast<size_t>(sequences * T), 0);
    targets.assign(static_cast<size_t>(sequences * T), 0);
    if (eval) {
      d.eval_teacher_logp.assign(static_cast<size_t>(sequences * T), 0);
      d.eval_teacher_probs.assign(static_cast<size_t>(sequences * T * V), 0);
    }
    const uint64_t stream = eval ? kStreamEvalTokens : kStreamTrainTokens;
    tbb::parallel_for(int64_t{0}, sequences, [&](int64_t s) {
      std::vector<std::vector<double>> kc(static_cast<size_t>(c.teacher.layers)),
          vc(static_cast<size_t>(c.teacher.layers));
      std::vector<double> logits, logp;
      const uint64_t base = static_cast<uint64_t>(s) * static_cast<uint64_t>(T + 1);
      int32_t token = static_cast<int32_t>(counter_bits(seed, stream, base) % static_cast<uint64_t>(V));
      for (int64_t t = 0; t < T; ++t) {
        const size_t row = static_cast<size_t>(s * T + t);
        ids[row] = token;
        teacher.next(token, t, kc, vc, logits);
        log_softmax(logits, c.teacher_temperature, logp);
        // Inverse-CDF sampling with one counter-based uniform per position.
        const double u = 0.5 * (1.0 + counter_uniform(seed, stream, base + static_cast<uint64_t>(t) + 1));
        double acc = 0;
        int32_t next = static_cast<int32_t>(V - 1);
        for (int64_t v = 0; v < V; ++v) {
          acc += std::exp(logp[static_cast<size_t>(v)]);
          if (u < acc) {
            next = static_cast<int32_t>(v);
            break;
          }
        }
        targets[row] = next;
        if (eval) {
          d.eval_teacher_logp[row] = logp[static_cast<size_t>(next)];
          for (int64_t v = 0; v < V; ++v)
            d.eval_teacher_probs[row * static_cast<size_t>(V) + static_cast<size_t>(v)] =
                static_cast<float>(std::exp(logp[static_cast<size_t>(v)]));
        }
        token = next;
      }
    });
  };
  sample(false, train_sequences, d.train_ids, d.train_targets);
  sample(true, eval_sequences, d.eval_ids, d.eval_targets);
  d.eval_soft = d.eval_teacher_probs;
  for (size_t r = 0; r < d.eval_targets.size(); ++r)
    d.eval_soft[r * static_cast<size_t>(V) + static_cast<size_t>(d.eval_targets[r])] -= 1.0f;
  double nll = 0, entropy = 0;
  for (double lp : d.eval_teacher_logp) nll -= lp;
  for (float p : d.eval_teacher_probs)
    if (p > 0) entropy -= static_cast<double>(p) * std::log(static_cast<double>(p));
  const double n = static_cast<double>(d.eval_teacher_logp.size());
  d.eval_teacher_nll = n > 0 ? nll / n : 0;
  d.eval_teacher_entropy = n > 0 ? entropy / n : 0;
  return d;
}

std::vector<float> lm_student_init(const LmConfig& c, const WeightTensor& t, uint64_t seed) {
  if (t.kind == WeightKind::kNorm) return std::vector<float>(static_cast<size_t>(t.elements()), 1.0f);
  return weight_values(c.student, seed, t, DType::kF32);
}

std::vector<int32_t> LmGraph::pos_values() const {
  std::vector<int32_t> v(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) v[static_cast<size_t>(r)] = static_cast<int32_t>(r % seq_len);
  return v;
}
std::vector<int32_t> LmGraph::len_values() const {
  const auto n = graph.buffers()[static_cast<size_t>(len)].elements;
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) v[static_cast<size_t>(r)] = static_cast<int32_t>(r % seq_len + 1);
  return v;
}

Result<LmGraph> build_lm_graph(const LmConfig& c, int64_t batch, DType dtype, const LmOptimizer& opt,
                               int64_t eval_batches) {
  const LlmConfig& m = c.student;
  CMETER_TRY(check_config(m));
  if (m.tied_lm_head) return make_error(ErrorCode::kInvalidArgument, "the lm form trains an untied lm_head");
  if (batch < 1 || c.seq_len < 1) return make_error(ErrorCode::kInvalidArgument, "lm graph: empty batch");
  LmGraph lg;
  lg.batch = batch;
  lg.seq_len = c.seq_len;
  lg.model = m;
  lg.dtype = dtype;
  OpGraph& g = lg.graph;
  const int64_t B = batch, T = c.seq_len, R = B * T, D = m.hidden, Hq = m.heads, KV = m.kv_heads,
                hd = m.head_dim, F = m.ffn, V = m.vocab, L = m.layers, QD = Hq * hd, KD = KV * hd;
  lg.rows = R;
  const std::string dt(to_string(dtype));
  const DType f32 = DType::kF32;

  lg.ids = g.buffer("ids", DType::kI32, R);
  lg.targets = g.buffer("targets", DType::kI32, R);
  lg.pos = g.buffer("pos", DType::kI32, R);
  lg.len = g.buffer("len", DType::kI32, Hq * R);
  lg.gscale = g.buffer("gscale", f32, 1);
  lg.hyper = g.buffer("hyper", f32, 3);
  lg.train_loss = g.buffer("train_loss", f32, 1);
  lg.eval_sum = g.buffer("eval_sum", f32, 1);
  lg.grad_norm = g.buffer("grad_norm", f32, 1);
  lg.logits = g.buffer("logits", dtype, R * V);
  const int loss_rows = g.buffer("loss_rows", f32, R);

  std::map<std::string, size_t> param_of;
  for (const WeightTensor& t : weight_tensors(m)) {
    LmGraph::Param p;
    p.tensor = t;
    p.stored = g.buffer(t.name, dtype, t.elements());
    p.master = g.buffer(t.name + ".master", f32, t.elements());
    p.grad = g.buffer(t.name + ".grad", f32, t.elements());
    p.m = g.buffer(t.name + ".m", f32, t.elements());
    p.v = g.buffer(t.name + ".v", f32, t.elements());
    param_of[t.name] = lg.params.size();
    lg.params.push_back(p);
  }
  auto W = [&](const std::string& name) { return lg.params[param_of.at(name)].stored; };
  auto G = [&](const std::string& name) { return lg.params[param_of.at(name)].grad; };
  auto act = [&](const std::string& name, int64_t n) { return g.buffer(name, dtype, n); };

  // Ops.
  auto rmsnorm = g.op("rmsnorm.v1", {{"rows", R}, {"dim", D}, {"dtype", dt}, {"eps", m.norm_eps}});
  auto rmsnorm_bw =
      g.op("rmsnorm_backward.v1",
           {{"rows", R}, {"dim", D}, {"dtype", dt}, {"eps", m.norm_eps}, {"accumulate", false}});
  auto rope = [&](const char* name, int64_t heads) {
    return g.op(name, {{"rows", R},
                       {"heads", heads},
                       {"head_dim", hd},
                       {"dtype", dt},
                       {"layout", std::string("half")},
                       {"theta", m.rope_theta}});
  };
  const int rope_q = rope("rope.v1", Hq), rope_k = rope("rope.v1", KV),
            rope_q_bw = rope("rope_backward.v1", Hq), rope_k_bw = rope("rope_backward.v1", KV);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const KeyValues sm = {
      {"rows", Hq * R}, {"cols", T}, {"dtype", dt}, {"scale", scale}, {"mask", std::string("lengths")}};
  const int softmax = g.op("softmax.v1", sm), softmax_bw = g.op("softmax_backward.v1", sm);
  const int swiglu = g.op("swiglu.v1", {{"rows", R}, {"dim", F}, {"dtype", dt}});
  const int swiglu_bw = g.op("swiglu_backward.v1", {{"rows", R}, {"dim", F}, {"dtype", dt}});
  const int add = g.op("eltwise.v1", {{"kind", std::string("add")}, {"n", R * D}, {"dtype", dt}});
  const int embed = g.op("embedding.v1", {{"rows", R}, {"vocab", V}, {"dim", D}, {"dtype", dt}});
  const int embed_bw = g.op("embedding_backward.v1",
                            {{"rows", R}, {"vocab", V}, {"dim", D}, {"dtype", dt}, {"accumulate", false}});
  // Row-major linear layer Y (R×out) = X (R×in) · Wᵀ, its input gradient dX = dY · W and weight
  // gradient dW (out×in, f32) = dYᵀ · X.
  auto linear = [&](int64_t out, int64_t in, double beta = 0) {
    return g.op("gemm.v1", rowmajor_gemm(R, out, in, dtype, dtype, {}, {0, 0, 0, true}, {}, 1.0, beta));
  };
  auto linear_dx = [&](int64_t out, int64_t in, double beta) {
    return g.op("gemm.v1", rowmajor_gemm(R, in, out, dtype, dtype, {}, {}, {}, 1.0, beta));
  };
  auto linear_dw = [&](int64_t out, int64_t in) {
    return g.op("gemm.v1", rowmajor_gemm(out, in, R, dtype, f32, {0, 0, 0, true}, {}, {}, 1.0, 0.0));
  };
  auto fwd = [&](const std::string& list, int op, std::vector<int> bufs, const std::string& role) {
    g.call(list, op, std::move(bufs), role);
  };
  // y = x·Wᵀ: buffers [A = x, B = W] → gemm [B, A, C].
  auto call_linear = [&](const std::string& list, int op, int x, int w, int y, const std::string& role) {
    fwd(list, op, rowmajor_gemm_buffers(x, w, y), role);
  };

  // ---- forward ----
  const std::string F_ = "forward", B_ = "backward";
  std::vector<int> x(static_cast<size_t>(L + 1)), h(static_cast<size_t>(L)), q(static_cast<size_t>(L)),
      k(static_cast<size_t>(L)), v(static_cast<size_t>(L)), p(static_cast<size_t>(L)),
      o(static_cast<size_t>(L)), xm(static_cast<size_t>(L)), h2(static_cast<size_t>(L)),
      gu(static_cast<size_t>(L)), a(static_cast<size_t>(L));
  for (int64_t l = 0; l <= L; ++l) x[static_cast<size_t>(l)] = act(fmt::format("x.{}", l), R * D);
  const int attn_out = act("attn_out", R * D), mlp_out = act("mlp_out", R * D), hf = act("hf", R * D);
  fwd(F_, embed, {W("embedding"), lg.ids, x[0]}, "embedding");
  // Per-head attention products: head hh reads KV head hh / group; scores/probabilities live in
  // P [Hq, B, T, T] (head hh's B matrices contiguous from hh·B·T·T).
  auto qop = [&](int64_t hh) { return RowMajorOperand{QD, hh * hd, T * QD, false}; };
  auto kvop = [&](int64_t hh, bool trans) { return RowMajorOperand{KD, hh / m.group() * hd, T * KD, trans}; };
  auto pop = [&](int64_t hh, bool trans) { return RowMajorOperand{T, hh * B * T * T, T * T, trans}; };
  for (int64_t l = 0; l < L; ++l) {
    const auto i = static_cast<size_t>(l);
    const std::string pre = fmt::format("layers.{}.", l);
    h[i] = act(pre + "h", R * D);
    q[i] = act(pre + "q", R * QD);
    k[i] = act(pre + "k", R * KD);
    v[i] = act(pre + "v", R * KD);
    p[i] = act(pre + "p", Hq * B * T * T);
    o[i] = act(pre + "o", R * QD);
    xm[i] = act(pre + "xm", R * D);
    h2[i] = act(pre + "h2", R * D);
    gu[i] = act(pre + "gu", R * 2 * F);
    a[i] = act(pre + "a", R * F);
    fwd(F_, rmsnorm, {x[i], W(pre + "attn_norm"), h[i]}, pre + "attn_norm");
    call_linear(F_, linear(QD, D), h[i], W(pre + "wq"), q[i], pre + "wq");
    call_linear(F_, linear(KD, D), h[i], W(pre + "wk"), k[i], pre + "wk");
    call_linear(F_, linear(KD, D), h[i], W(pre + "wv"), v[i], pre + "wv");
    fwd(F_, rope_q, {q[i], lg.pos}, pre + "rope q");
    fwd(F_, rope_k, {k[i], lg.pos}, pre + "rope k");
    for (int64_t hh = 0; hh < Hq; ++hh) {
      const int s_op = g.op(
          "gemm.v1", rowmajor_gemm(T, T, hd, dtype, dtype, qop(hh), kvop(hh, true), pop(hh, false), 1, 0, B));
      fwd(F_, s_op, rowmajor_gemm_buffers(q[i], k[i], p[i]), fmt::format("{}scores head {}", pre, hh));
    }
    fwd(F_, softmax, {p[i], p[i], lg.len}, pre + "softmax");
    for (int64_t hh = 0; hh < Hq; ++hh) {
      const int o_op = g.op("gemm.v1", rowmajor_gemm(T, hd, T, dtype, dtype, pop(hh, false), kvop(hh, false),
                                                     qop(hh), 1, 0, B));
      fwd(F_, o_op, rowmajor_gemm_buffers(p[i], v[i], o[i]), fmt::format("{}context head {}", pre, hh));
    }
    call_linear(F_, linear(D, QD), o[i], W(pre + "wo"), attn_out, pre + "wo");
    fwd(F_, add, {x[i], attn_out, xm[i]}, pre + "attention residual");
    fwd(F_, rmsnorm, {xm[i], W(pre + "mlp_norm"), h2[i]}, pre + "mlp_norm");
    call_linear(F_, linear(2 * F, D), h2[i], W(pre + "w_gate_up"), gu[i], pre + "w_gate_up");
    fwd(F_, swiglu, {gu[i], a[i]}, pre + "swiglu");
    call_linear(F_, linear(D, F), a[i], W(pre + "w_down"), mlp_out, pre + "w_down");
    fwd(F_, add, {xm[i], mlp_out, x[i + 1]}, pre + "mlp residual");
  }
  fwd(F_, rmsnorm, {x[static_cast<size_t>(L)], W("final_norm"), hf}, "final_norm");
  call_linear(F_, linear(V, D), hf, W("lm_head"), lg.logits, "lm_head");

  // ---- eval and train loss ----
  const int ce_eval =
      g.op("cross_entropy.v1", {{"rows", R}, {"vocab", V}, {"dtype", dt}, {"backward", false}});
  auto sum_rows = [&](double s, bool accumulate) {
    return g.op("reduce.v1", {{"kind", std::string("sum")},
                              {"axis", std::string("cols")},
                              {"rows", int64_t{1}},
                              {"cols", R},
                              {"dtype", std::string("f32")},
                              {"scale", s},
                              {"accumulate", accumulate}});
  };
  // Soft cross-entropy per held-out batch: LOSS (logsumexp − logit[target]) summed, then
  // −Σ (p_teacher − onehot)·logit over the batch's logits in f32.
  const int logits_f32 = g.buffer("logits_f32", f32, R * V);
  const int cast =
      g.op("eltwise.v1",
           {{"kind", std::string("cast")}, {"n", R * V}, {"dtype", dt}, {"dtype_out", std::string("f32")}});
  const int mul =
      g.op("eltwise.v1", {{"kind", std::string("mul")}, {"n", R * V}, {"dtype", std::string("f32")}});
  const int soft_sum = g.op("reduce.v1", {{"kind", std::string("sum")},
                                          {"axis", std::string("cols")},
                                          {"rows", int64_t{1}},
                                          {"cols", R * V},
                                          {"dtype", std::string("f32")},
                                          {"scale", -1.0},
                                          {"accumulate", true}});
  for (int64_t e = 0; e < eval_batches; ++e) {
    const std::string list = fmt::format("eval {}", e);
    lg.eval_soft.push_back(g.buffer(fmt::format("eval_soft.{}", e), f32, R * V));
    fwd(list, ce_eval, {lg.logits, lg.targets, loss_rows}, "eval cross_entropy");
    fwd(list, sum_rows(1.0, true), {loss_rows, lg.eval_sum}, "eval loss sum");
    fwd(list, cast, {lg.logits, logits_f32}, "eval logits to f32");
    fwd(list, mul, {logits_f32, lg.eval_soft.back(), logits_f32}, "eval (p_teacher - onehot) x logits");
    fwd(list, soft_sum, {logits_f32, lg.eval_sum}, "eval soft term sum");
  }
  fwd("train loss", sum_rows(1.0 / static_cast<double>(R), false), {loss_rows, lg.train_loss}, "train loss");

  // ---- backward ----
  const int ce = g.op("cross_entropy.v1", {{"rows", R}, {"vocab", V}, {"dtype", dt}, {"backward", true}});
  const int dx = act("dx", R * D), dtmp = act("dtmp", R * D), dh = act("dh", R * D), dq = act("dq", R * QD),
            dk = act("dk", R * KD), dv = act("dv", R * KD), dout = act("do", R * QD),
            dp = act("dp", Hq * B * T * T), da = act("da", R * F), dgu = act("dgu", R * 2 * F);
  // dlogits in place of the logits.
  fwd(B_, ce, {lg.logits, lg.targets, loss_rows, lg.logits, lg.gscale}, "cross_entropy");
  // dW = dYᵀ·X: row-major A = dY (transposed), B = X.
  auto call_dw = [&](int64_t out, int64_t in, int dy, int xin, int dw, const std::string& role) {
    fwd(B_, linear_dw(out, in), rowmajor_gemm_buffers(dy, xin, dw), role + " weight gradient");
  };
  auto call_dx = [&](int64_t out, int64_t in, int dy, int w, int dxo, double beta, const std::string& role) {
    fwd(B_, linear_dx(out, in, beta), rowmajor_gemm_buffers(dy, w, dxo), role + " input gradient");
  };
  call_dw(V, D, lg.logits, hf, G("lm_head"), "lm_head");
  call_dx(V, D, lg.logits, W("lm_head"), dh, 0, "lm_head");
  fwd(B_, rmsnorm_bw, {x[static_cast<size_t>(L)], W("final_norm"), dh, dx, G("final_norm")},
      "final_norm backward");
  for (int64_t l = L - 1; l >= 0; --l) {
    const auto i = static_cast<size_t>(l);
    const std::string pre = fmt::format("layers.{}.", l);
    // MLP block: x[l+1] = xm + w_down(swiglu(w_gate_up(rmsnorm(xm)))).
    call_dx(D, F, dx, W(pre + "w_down"), da, 0, pre + "w_down");
    call_dw(D, F, dx, a[i], G(pre + "w_down"), pre + "w_down");
    fwd(B_, swiglu_bw, {gu[i], da, dgu}, pre + "swiglu backward");
    call_dw(2 * F, D, dgu, h2[i], G(pre + "w_gate_up"), pre + "w_gate_up");
    call_dx(2 * F, D, dgu, W(pre + "w_gate_up"), dh, 0, pre + "w_gate_up");
    fwd(B_, rmsnorm_bw, {xm[i], W(pre + "mlp_norm"), dh, dtmp, G(pre + "mlp_norm")},
        pre + "mlp_norm backward");
    fwd(B_, add, {dx, dtmp, dx}, pre + "mlp residual backward");
    // Attention block: xm = x + wo(attention(rope(wq·h), rope(wk·h), wv·h)), h = rmsnorm(x).
    call_dx(D, QD, dx, W(pre + "wo"), dout, 0, pre + "wo");
    call_dw(D, QD, dx, o[i], G(pre + "wo"), pre + "wo");
    for (int64_t hh = 0; hh < Hq; ++hh) {  // dP = dO·Vᵀ
      const int op = g.op(
          "gemm.v1", rowmajor_gemm(T, T, hd, dtype, dtype, qop(hh), kvop(hh, true), pop(hh, false), 1, 0, B));
      fwd(B_, op, rowmajor_gemm_buffers(dout, v[i], dp), fmt::format("{}dP head {}", pre, hh));
    }
    fwd(B_, softmax_bw, {p[i], dp, dp, lg.len}, pre + "softmax backward");
    for (int64_t hh = 0; hh < Hq; ++hh) {
      const double beta = hh % m.group() ? 1.0 : 0.0;  // the group's later heads add to dK, dV
      const int dq_op = g.op("gemm.v1", rowmajor_gemm(T, hd, T, dtype, dtype, pop(hh, false), kvop(hh, false),
                                                      qop(hh), 1, 0, B));
      fwd(B_, dq_op, rowmajor_gemm_buffers(dp, k[i], dq), fmt::format("{}dQ head {}", pre, hh));
      const int dk_op = g.op("gemm.v1", rowmajor_gemm(T, hd, T, dtype, dtype, pop(hh, true), qop(hh),
                                                      kvop(hh, false), 1, beta, B));
      fwd(B_, dk_op, rowmajor_gemm_buffers(dp, q[i], dk), fmt::format("{}dK head {}", pre, hh));
      // dV = Pᵀ·dO has dK's shapes and operand layouts: the same op.
      fwd(B_, dk_op, rowmajor_gemm_buffers(p[i], dout, dv), fmt::format("{}dV head {}", pre, hh));
    }
    fwd(B_, rope_q_bw, {dq, lg.pos}, pre + "rope q backward");
    fwd(B_, rope_k_bw, {dk, lg.pos}, pre + "rope k backward");
    call_dw(QD, D, dq, h[i], G(pre + "wq"), pre + "wq");
    call_dw(KD, D, dk, h[i], G(pre + "wk"), pre + "wk");
    call_dw(KD, D, dv, h[i], G(pre + "wv"), pre + "wv");
    call_dx(QD, D, dq, W(pre + "wq"), dh, 0, pre + "wq");
    call_dx(KD, D, dk, W(pre + "wk"), dh, 1, pre + "wk");
    call_dx(KD, D, dv, W(pre + "wv"), dh, 1, pre + "wv");
    fwd(B_, rmsnorm_bw, {x[i], W(pre + "attn_norm"), dh, dtmp, G(pre + "attn_norm")},
        pre + "attn_norm backward");
    fwd(B_, add, {dx, dtmp, dx}, pre + "attention residual backward");
  }
  fwd(B_, embed_bw, {dx, lg.ids, G("embedding")}, "embedding backward");

  // ---- gradient norm (f16 loss scaling) and update ----
  bool first = true;
  for (const LmGraph::Param& pr : lg.params) {
    const int op = g.op("reduce.v1", {{"kind", std::string("sum_squares")},
                                      {"axis", std::string("cols")},
                                      {"rows", int64_t{1}},
                                      {"cols", pr.tensor.elements()},
                                      {"dtype", std::string("f32")},
                                      {"scale", 1.0},
                                      {"accumulate", !first}});
    fwd("grad norm", op, {pr.grad, lg.grad_norm}, pr.tensor.name + " gradient norm");
    first = false;
    const int adamw = g.op("adamw.v1", {{"n", pr.tensor.elements()},
                                        {"dtype_grad", std::string("f32")},
                                        {"dtype_out", dt},
                                        {"beta1", opt.beta1},
                                        {"beta2", opt.beta2},
                                        {"eps", opt.eps},
                                        {"weight_decay", opt.weight_decay}});
    fwd("update", adamw, {pr.master, pr.grad, pr.m, pr.v, pr.stored, lg.hyper}, pr.tensor.name + " adamw");
  }
  return lg;
}

double lm_step_flop(const LmGraph& g) {
  return 3 * lm_eval_flop(g);
}
double lm_eval_flop(const LmGraph& g) {
  return static_cast<double>(g.batch) * forward_flop(g.model, g.seq_len, 0, g.seq_len);
}

const int32_t* lm_batch_ids(const LmData& d, bool eval, int64_t index, int64_t batch) {
  const int64_t batches = (eval ? d.eval_sequences() : d.train_sequences()) / batch;
  const int64_t k = batches > 0 ? index % batches : 0;
  return (eval ? d.eval_ids : d.train_ids).data() + k * batch * d.seq_len;
}
const int32_t* lm_batch_targets(const LmData& d, bool eval, int64_t index, int64_t batch) {
  const int64_t batches = (eval ? d.eval_sequences() : d.train_sequences()) / batch;
  const int64_t k = batches > 0 ? index % batches : 0;
  return (eval ? d.eval_targets : d.train_targets).data() + k * batch * d.seq_len;
}

namespace {
std::vector<double> ints(const int32_t* v, int64_t n) {
  return std::vector<double>(v, v + n);
}
}  // namespace

void HostLm::reset(const std::vector<std::vector<float>>& masters) {
  for (size_t i = 0; i < g_.params.size(); ++i) {
    const LmGraph::Param& p = g_.params[i];
    host_.set(p.master, masters[i]);
    host_.set(p.stored, masters[i]);
    const std::vector<double> zeros(masters[i].size(), 0.0);
    host_.set(p.m, zeros);
    host_.set(p.v, zeros);
  }
  std::vector<int32_t> pos = g_.pos_values(), len = g_.len_values();
  host_.set(g_.pos, ints(pos.data(), static_cast<int64_t>(pos.size())));
  host_.set(g_.len, ints(len.data(), static_cast<int64_t>(len.size())));
}

void HostLm::set_stored(const std::vector<std::vector<float>>& stored) {
  for (size_t i = 0; i < g_.params.size(); ++i) host_.set(g_.params[i].stored, stored[i]);
  std::vector<int32_t> pos = g_.pos_values(), len = g_.len_values();
  host_.set(g_.pos, ints(pos.data(), static_cast<int64_t>(pos.size())));
  host_.set(g_.len, ints(len.data(), static_cast<int64_t>(len.size())));
}

Status HostLm::step(const LmData& d, int64_t index, double lr, double step, double grad_scale,
                    double gscale) {
  host_.set(g_.ids, ints(lm_batch_ids(d, false, index, g_.batch), g_.rows));
  host_.set(g_.targets, ints(lm_batch_targets(d, false, index, g_.batch), g_.rows));
  host_.set(g_.gscale, std::vector<double>{gscale});
  host_.set(g_.hyper, std::vector<double>{lr, step, grad_scale});
  CMETER_TRY(host_.run("forward"));
  CMETER_TRY(host_.run("backward"));
  return host_.run("update");
}

std::vector<std::vector<float>> HostLm::masters() const {
  std::vector<std::vector<float>> out;
  for (const LmGraph::Param& p : g_.params) {
    const std::vector<double>& v = host_.get(p.master);
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

Result<double> HostLm::graph_quality(const LmData& d) {
  const int64_t chunks = static_cast<int64_t>(g_.eval_soft.size());
  if (chunks < 1 || d.eval_sequences() < chunks * g_.batch)
    return make_error(ErrorCode::kInvalidArgument,
                      "lm graph quality: the graph's held-out batches exceed the data");
  host_.set(g_.eval_sum, std::vector<double>{0.0});
  const size_t chunk = static_cast<size_t>(g_.rows * d.vocab);
  for (int64_t c = 0; c < chunks; ++c) {
    host_.set(g_.ids, ints(lm_batch_ids(d, true, c, g_.batch), g_.rows));
    host_.set(g_.targets, ints(lm_batch_targets(d, true, c, g_.batch), g_.rows));
    host_.set(g_.eval_soft[static_cast<size_t>(c)],
              std::vector<float>(
                  d.eval_soft.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(c) * chunk),
                  d.eval_soft.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(c + 1) * chunk)));
    CMETER_TRY(host_.run("forward"));
    CMETER_TRY(host_.run(fmt::format("eval {}", c)));
  }
  return host_.get(g_.eval_sum)[0] / static_cast<double>(chunks * g_.rows) - d.eval_teacher_entropy;
}

Result<HostLm::Quality> HostLm::quality(const LmData& d) {
  const int64_t chunks = d.eval_sequences() / g_.batch;
  if (chunks < 1)
    return make_error(ErrorCode::kInvalidArgument, "lm quality: fewer held-out sequences than a batch");
  const int64_t V = d.vocab;
  double mc = 0, exact = 0;
  std::vector<double> logp;
  for (int64_t c = 0; c < chunks; ++c) {
    host_.set(g_.ids, ints(lm_batch_ids(d, true, c, g_.batch), g_.rows));
    host_.set(g_.targets, ints(lm_batch_targets(d, true, c, g_.batch), g_.rows));
    CMETER_TRY(host_.run("forward"));
    const std::vector<double>& logits = host_.get(g_.logits);
    for (int64_t r = 0; r < g_.rows; ++r) {
      const size_t row = static_cast<size_t>(c * g_.rows + r);
      std::vector<double> lr(logits.begin() + r * V, logits.begin() + (r + 1) * V);
      log_softmax(lr, 1.0, logp);
      mc += d.eval_teacher_logp[row] - logp[static_cast<size_t>(d.eval_targets[row])];
      for (int64_t v = 0; v < V; ++v) {
        const double pt = d.eval_teacher_probs[row * static_cast<size_t>(V) + static_cast<size_t>(v)];
        if (pt > 0) exact += pt * (std::log(pt) - logp[static_cast<size_t>(v)]);
      }
    }
  }
  const double n = static_cast<double>(chunks * g_.rows);
  return Quality{mc / n, exact / n};
}

}  // namespace cmeter::models
