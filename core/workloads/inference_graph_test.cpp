// The decoder graph's batching: which decode bucket a step runs, and that running a step in a smaller
// bucket gives the active slots the same logits as the full batch and leaves the other slots alone
// (on the CPU plugin, f32 so that the comparison is tight).
#include "core/workloads/inference_graph.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/models/llm_weights.h"
#include "core/plugin/plugin_host.h"
#include "core/validate/host_data.h"

namespace cmeter::workloads {
namespace {

TEST_CASE("inference graph: decode buckets and the bucket a step runs") {
  CHECK(decode_buckets(1) == std::vector<int64_t>{1});
  CHECK(decode_buckets(2) == std::vector<int64_t>{1, 2});
  CHECK(decode_buckets(8) == std::vector<int64_t>{1, 2, 4, 8});
  CHECK(decode_buckets(6) == std::vector<int64_t>{1, 2, 4, 6});
  const int64_t cap = 40;
  CHECK(decode_rows({39, -1, -1, -1, -1, -1}, cap) == 1);
  CHECK(decode_rows({-1, 7, -1, -1, -1, -1}, cap) == 2);
  CHECK(decode_rows({3, -1, 5, -1, -1, -1}, cap) == 4);
  CHECK(decode_rows({3, -1, -1, -1, 9, -1}, cap) == 6);
  CHECK(decode_rows({3, -1, -1, -1, -1, 9}, cap) == 6);
  // A position at or past the capacity is idle, as is -1; no active slot runs the smallest bucket.
  CHECK(decode_rows({3, -1, -1, -1, -1, 40}, cap) == 1);
  CHECK(decode_rows({-1, -1, -1, -1, -1, -1}, cap) == 1);
  // min_rows raises the bucket (the accuracy pass checks the largest one's ops).
  CHECK(decode_rows({3, -1, -1, -1, -1, -1}, cap, 6) == 6);
  CHECK(decode_rows({3, -1, -1, -1, -1, -1}, cap, 3) == 4);
}

std::vector<double> row_of(const std::vector<uint8_t>& bytes, DType t, int64_t row, int64_t vocab) {
  std::vector<double> out;
  for (int64_t v = 0; v < vocab; ++v)
    out.push_back(validate::element_as_double(t, bytes.data(), static_cast<size_t>(row * vocab + v)));
  return out;
}

TEST_CASE("inference graph: a step in a small bucket matches the full batch and leaves other slots alone") {
  DiscoveryOptions options;
  options.use_environment = false;
  options.plugin_files = {std::string(CMETER_PLUGIN_DIR) + "/libcmeter-cpu.so"};
  auto host = PluginHost::load(discover_plugins(options));
  REQUIRE(!host->devices().empty());
  const Device& dev = host->devices()[0];
  GraphShape shape;
  shape.config = *models::llm_preset("llm-tiny");
  shape.config.layers = 1;
  shape.dtype = DType::kF32;
  shape.prompt_len = 6;
  shape.capacity = 10;
  shape.max_batch = 4;
  bool fused = true;
  for (int64_t rows : {int64_t{1}, int64_t{4}, shape.prompt_len}) {
    auto q = dev.query_op("attention.v1", DeviceLlm::attention_params(shape, rows));
    fused = fused && q && q->supported;
  }
  for (const auto& [name, params] : DeviceLlm::required_ops(shape, fused, true)) {
    auto q = dev.query_op(name, params);
    if (!q || !q->supported) {
      MESSAGE("the CPU plugin lacks " << name << "; skipped");
      return;
    }
  }
  auto stream = dev.create_stream();
  REQUIRE(stream);
  auto created = DeviceLlm::create(dev, *stream, shape, 42, fused);
  REQUIRE(created);
  DeviceLlm& llm = **created;
  const int64_t P = shape.prompt_len, V = shape.config.vocab;
  const auto prompt0 = models::prompt_tokens(shape.config, 42, 0, P);
  const auto prompt2 = models::prompt_tokens(shape.config, 42, 1, P);
  std::vector<int32_t> ids0, ids1, ids4;
  std::vector<uint8_t> logits1, logits4;
  REQUIRE(llm.enqueue_prefill(0, prompt0));
  REQUIRE(llm.enqueue_prefill(2, prompt2));
  REQUIRE(llm.enqueue_read_ids(ids0));
  REQUIRE(stream->synchronize());
  // Slot 0 alone: bucket 1; slot 2's next id is untouched.
  const std::vector<int32_t> pos{static_cast<int32_t>(P), -1, -1, -1};
  REQUIRE(llm.enqueue_decode(pos));
  REQUIRE(llm.enqueue_read_logits(logits1));
  REQUIRE(llm.enqueue_read_ids(ids1));
  REQUIRE(stream->synchronize());
  CHECK(ids1[2] == ids0[2]);
  // The same step again over the full batch (the prefill restores slot 0's cache and next id).
  REQUIRE(llm.enqueue_prefill(0, prompt0));
  REQUIRE(llm.enqueue_decode(pos, nullptr, shape.max_batch));
  REQUIRE(llm.enqueue_read_logits(logits4));
  REQUIRE(llm.enqueue_read_ids(ids4));
  REQUIRE(stream->synchronize());
  // (Slot 2 was masked in that step: its next id is now undefined, as for any slot a step runs idle;
  // the engine prefills a slot before a step runs it active.)
  CHECK(ids4[0] == ids1[0]);
  const std::vector<double> a = row_of(logits1, shape.dtype, 0, V), b = row_of(logits4, shape.dtype, 0, V);
  double err = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  REQUIRE(norm > 0);
  CHECK(err / norm < 1e-10);
}

}  // namespace
}  // namespace cmeter::workloads
