// The lm form's host side: the student graph's backward agrees with finite differences of its own
// forward (FP64 host execution, so any wrong transpose, offset, head mapping or missing residual term
// shows), the row-major GEMM mapping, the teacher's data, and host training lowering the KL.
#include "core/models/lm_training.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/models/counter_rng.h"

using namespace cmeter;
using namespace cmeter::models;

namespace {

LmConfig small_config() {
  LmConfig c;
  c.name = "lm-test";
  c.student = LlmConfig{"s", 2, 16, 4, 2, 4, 8, 11, false, 10000, 1e-5};
  c.teacher = LlmConfig{"t", 1, 16, 4, 2, 4, 8, 11, false, 10000, 1e-5};
  c.seq_len = 5;
  c.teacher_temperature = 1.5;
  return c;
}

double mean_ce(const std::vector<double>& logits, const std::vector<double>& targets, int64_t vocab) {
  const int64_t rows = static_cast<int64_t>(targets.size());
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY;
    for (int64_t v = 0; v < vocab; ++v) mx = std::max(mx, logits[static_cast<size_t>(r * vocab + v)]);
    double s = 0;
    for (int64_t v = 0; v < vocab; ++v) s += std::exp(logits[static_cast<size_t>(r * vocab + v)] - mx);
    sum += mx + std::log(s) -
           logits[static_cast<size_t>(r * vocab + static_cast<int64_t>(targets[static_cast<size_t>(r)]))];
  }
  return sum / static_cast<double>(rows);
}

}  // namespace

TEST_CASE("rowmajor_gemm maps a row-major product with offsets, strides and transposes onto gemm.v1") {
  // C (2 batches of 3×2 at offset 1) = A (3×4, transposed storage 4×3) · B (4×2) with B stored in rows of 5.
  const int64_t M = 3, N = 2, K = 4;
  std::vector<double> a(2 * 12), b(2 * 4 * 5 + 2), c(1 + 2 * 6, 0.0);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(i % 7) - 3;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>(i % 5) * 0.5 - 1;
  const KeyValues kv = rowmajor_gemm(M, N, K, DType::kF32, DType::kF32, {0, 0, 12, true}, {5, 2, 20, false},
                                     {0, 1, 6, false}, 2.0, 0.0, 2);
  const std::vector<int> order = rowmajor_gemm_buffers(0, 1, 2);
  CHECK(order == std::vector<int>{1, 0, 2});
  REQUIRE(host_gemm(kv, b, a, c));
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double want = 0;
        for (int64_t l = 0; l < K; ++l)
          want += a[static_cast<size_t>(p * 12 + l * M + i)] * b[static_cast<size_t>(2 + p * 20 + l * 5 + j)];
        CHECK(c[static_cast<size_t>(1 + p * 6 + i * N + j)] == doctest::Approx(2 * want));
      }
  CHECK(c[0] == 0.0);
}

TEST_CASE("the lm graph's gradients match finite differences of its forward (FP64 host)") {
  const LmConfig c = small_config();
  auto built = build_lm_graph(c, 2, DType::kF64, LmOptimizer{});
  REQUIRE(built);
  const LmGraph& lg = *built;
  HostGraph host(lg.graph);
  for (const LmGraph::Param& p : lg.params) {
    std::vector<float> w = lm_student_init(c, p.tensor, 7);
    // Norm gains away from 1 so their gradients are generic.
    if (p.tensor.kind == WeightKind::kNorm)
      for (size_t i = 0; i < w.size(); ++i) w[i] = 1.0f + 0.2f * counter_uniform(3, 1, i);
    host.set(p.stored, w);
  }
  std::vector<double> ids, targets;
  for (int64_t r = 0; r < lg.rows; ++r) {
    ids.push_back(static_cast<double>(counter_bits(5, 1, static_cast<uint64_t>(r)) % 11));
    targets.push_back(static_cast<double>(counter_bits(5, 2, static_cast<uint64_t>(r)) % 11));
  }
  host.set(lg.ids, ids);
  host.set(lg.targets, targets);
  std::vector<double> pos, len;
  for (int32_t v : lg.pos_values()) pos.push_back(v);
  for (int32_t v : lg.len_values()) len.push_back(v);
  host.set(lg.pos, pos);
  host.set(lg.len, len);
  host.set(lg.gscale, std::vector<double>{1.0 / static_cast<double>(lg.rows)});
  REQUIRE(host.run("forward"));
  REQUIRE(host.run("backward"));
  auto loss = [&]() {
    REQUIRE(host.run("forward"));
    return mean_ce(host.get(lg.logits), targets, 11);
  };
  int checked = 0;
  for (const LmGraph::Param& p : lg.params) {
    const std::vector<double> grad = host.get(p.grad);
    const int64_t n = p.tensor.elements();
    for (uint64_t s = 0; s < 6; ++s) {
      const auto i = static_cast<size_t>(counter_bits(11, static_cast<uint64_t>(p.stored), s) %
                                         static_cast<uint64_t>(n));
      std::vector<double> w = host.get(p.stored);
      const double w0 = w[i], eps = 1e-5;
      w[i] = w0 + eps;
      host.set(p.stored, w);
      const double up = loss();
      w[i] = w0 - eps;
      host.set(p.stored, w);
      const double down = loss();
      w[i] = w0;
      host.set(p.stored, w);
      const double fd = (up - down) / (2 * eps);
      INFO(p.tensor.name << "[" << i << "]: backward " << grad[i] << ", finite difference " << fd);
      CHECK(std::abs(grad[i] - fd) <= 1e-4 * std::max(1.0, std::abs(fd)) + 1e-6);
      ++checked;
    }
  }
  CHECK(checked == 6 * static_cast<int>(lg.params.size()));
}

TEST_CASE("the teacher's data is seeded, in range and held out from the training set") {
  const LmConfig c = small_config();
  const LmData a = make_lm_data(c, 8, 4, 21), b = make_lm_data(c, 8, 4, 21),
               other = make_lm_data(c, 8, 4, 22);
  CHECK(a.train_ids == b.train_ids);
  CHECK(a.eval_targets == b.eval_targets);
  CHECK(a.train_ids != other.train_ids);
  CHECK(a.train_sequences() == 8);
  CHECK(a.eval_sequences() == 4);
  for (size_t i = 0; i < a.train_ids.size(); ++i) {
    CHECK((a.train_ids[i] >= 0 && a.train_ids[i] < 11));
    // Each sequence's targets are its inputs shifted by one.
    if ((i + 1) % static_cast<size_t>(c.seq_len) != 0) CHECK(a.train_targets[i] == a.train_ids[i + 1]);
  }
  CHECK(a.eval_ids != std::vector<int32_t>(a.train_ids.begin(), a.train_ids.begin() + 20));
  // The teacher's distributions sum to 1; its entropy is positive and below log(vocab).
  for (size_t r = 0; r < a.eval_teacher_logp.size(); ++r) {
    double s = 0;
    for (int64_t v = 0; v < 11; ++v) s += a.eval_teacher_probs[r * 11 + static_cast<size_t>(v)];
    CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(a.eval_teacher_entropy > 0.1);
  CHECK(a.eval_teacher_entropy < std::log(11.0));
}

TEST_CASE("host training of the lm graph lowers the held-out KL") {
  const LmConfig c = small_config();
  const LmData d = make_lm_data(c, 64, 64, 5);
  auto built = build_lm_graph(c, 8, DType::kBF16, LmOptimizer{}, 8);
  REQUIRE(built);
  HostLm host(*built);
  std::vector<std::vector<float>> init;
  for (const LmGraph::Param& p : built->params) init.push_back(lm_student_init(c, p.tensor, 9));
  host.reset(init);
  auto q0 = host.quality(d);
  REQUIRE(q0);
  for (int64_t s = 0; s < 60; ++s)
    REQUIRE(host.step(d, s, 1e-2, static_cast<double>(s + 1), 1.0, 1.0 / static_cast<double>(built->rows)));
  auto q1 = host.quality(d);
  REQUIRE(q1);
  INFO("KL before " << q0->exact_kl << ", after " << q1->exact_kl);
  CHECK(q1->exact_kl < 0.7 * q0->exact_kl);
  CHECK(q0->exact_kl > 0);
  // The Monte Carlo estimate tracks the exact KL.
  CHECK(std::abs(q1->mc_kl - q1->exact_kl) < 0.25);
  // The graph's eval lists (what the device runs: cross-entropy plus the soft term) give the exact KL.
  auto graph_kl = host.graph_quality(d);
  REQUIRE(graph_kl);
  CHECK(*graph_kl == doctest::Approx(q1->exact_kl).epsilon(1e-3));
}

TEST_CASE("lm-tiny's teacher is neither near-deterministic nor near-uniform (measured)") {
  const LmConfig c = *lm_preset("lm-tiny");
  const LmData d = make_lm_data(c, 4, 64, 1);
  MESSAGE("lm-tiny teacher: held-out entropy " << d.eval_teacher_entropy << " nats/token (log vocab "
                                               << std::log(static_cast<double>(c.student.vocab)) << "), NLL "
                                               << d.eval_teacher_nll);
  CHECK(d.eval_teacher_entropy > 0.5);
  CHECK(d.eval_teacher_entropy < std::log(static_cast<double>(c.student.vocab)) - 0.5);
}

TEST_CASE("the lm graph's GEMMs are the model's products, and the backward does twice the forward's") {
  for (const std::string& name : lm_preset_names()) {
    CAPTURE(name);
    const LmConfig c = *lm_preset(name);
    auto built = build_lm_graph(c, 16, DType::kBF16, LmOptimizer{}, 8);
    REQUIRE(built);
    const LlmConfig& m = c.student;
    const double B = 16, T = static_cast<double>(c.seq_len);
    // The graph computes the full score square; the model count takes the causal half.
    const double square_extra = B * static_cast<double>(m.layers) * 4.0 *
                                static_cast<double>(m.heads * m.head_dim) * (T * T - T * (T + 1) / 2);
    CHECK(built->graph.gemm_flop("forward") == doctest::Approx(lm_eval_flop(*built) + square_extra));
    CHECK(built->graph.gemm_flop("backward") == doctest::Approx(2 * built->graph.gemm_flop("forward")));
    CHECK(lm_step_flop(*built) == doctest::Approx(3 * lm_eval_flop(*built)));
    size_t calls = 0;
    for (const char* list : {"forward", "backward", "update"}) calls += built->graph.list(list).size();
    MESSAGE(name << " step: " << calls << " op calls (" << built->graph.list("forward").size() << " forward, "
                 << built->graph.list("backward").size() << " backward, "
                 << built->graph.list("update").size() << " adamw), " << built->graph.ops().size()
                 << " distinct ops, " << lm_step_flop(*built) / 1e6 << " MFLOP");
    CHECK(built->graph.list("update").size() == weight_tensors(m).size());
    CHECK(built->graph.list("eval 7").size() == 5);
  }
}

TEST_CASE("the host executor refuses a call whose buffer is smaller than its op needs, naming it") {
  OpGraph g;
  const int x = g.buffer("x", DType::kF32, 8), y = g.buffer("y", DType::kF32, 4);
  const int op =
      g.op("swiglu.v1", {{"rows", int64_t{2}}, {"dim", int64_t{2}}, {"dtype", std::string("f32")}});
  g.call("l", op, {x, y}, "ok");
  g.call("bad", op, {y, x}, "too small");
  HostGraph host(g);
  CHECK(host.run("l"));
  auto bad = host.run("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("too small") != std::string::npos);
  CHECK(bad.error().message.find("'y' holds 4 elements, the op needs 8") != std::string::npos);
}
