// Presets, parameter counts (checked against the published shapes' counts), FLOP formula, params
// reading with overrides, and the profile-side param checks.
#include "core/models/llm_config.h"

#include <doctest/doctest.h>

namespace cmeter::models {
namespace {

TEST_CASE("llm config: presets and parameter counts from the graph's tensors") {
  const LlmConfig tiny = llm_preset("llm-tiny").value();
  CHECK(check_config(tiny));
  // embedding + lm_head 2·2048·256, per layer 2·256 + 256·256 + 2·128·256 + 256·256 + 1024·256 + 256·512,
  // final norm 256.
  CHECK(parameter_count(tiny) ==
        2 * 2048 * 256 + 2 * (512 + 65536 + 2 * 32768 + 65536 + 262144 + 131072) + 256);
  const LlmConfig b1 = llm_preset("llm-1b").value();
  CHECK(b1.tied_lm_head);
  CHECK(parameter_count(b1) == 1235814400);  // Llama 3.2 1B's count
  const LlmConfig b8 = llm_preset("llm-8b").value();
  CHECK(parameter_count(b8) == 8030261248);  // Llama 3 8B's count
  CHECK(!llm_preset("llm-2b"));
  CHECK(llm_preset_names().size() == 3);
}

TEST_CASE("llm config: forward FLOPs = 2 x GEMM parameters per token + attention") {
  const LlmConfig c = llm_preset("llm-tiny").value();
  const double gemm_params = static_cast<double>(parameter_count(c) - c.vocab * c.hidden /* embedding */ -
                                                 c.hidden * (2 * c.layers + 1) /* norms */);
  // One token with no past, logits for it: 2·params + attention over 1 position.
  CHECK(forward_flop(c, 1, 0, 1) == doctest::Approx(2 * gemm_params + 4.0 * c.layers * c.heads * c.head_dim));
  // Decode at position 9 (past 9) attends 10 positions.
  CHECK(forward_flop(c, 1, 9, 1) - forward_flop(c, 1, 0, 1) ==
        doctest::Approx(4.0 * c.layers * c.heads * c.head_dim * 9));
  // Prefill of 4: 1+2+3+4 = 10 positions.
  CHECK(forward_flop(c, 4, 0, 0) == doctest::Approx(4 * (2 * gemm_params - 2.0 * c.vocab * c.hidden) +
                                                    4.0 * c.layers * c.heads * c.head_dim * 10));
}

TEST_CASE("llm config: params with overrides; bad values are errors that name the key") {
  auto c = config_from_params({{"model", std::string("llm-1b")}, {"layers", int64_t{2}}});
  REQUIRE(c);
  CHECK(c->layers == 2);
  CHECK(c->hidden == 2048);
  CHECK(c->name == "llm-1b+overrides");
  CHECK(config_from_params({}).value().name == "llm-tiny");
  auto bad = config_from_params({{"heads", int64_t{3}}});  // kv_heads 2 does not divide 3
  REQUIRE(!bad);
  CHECK(bad.error().message.find("kv_heads") != std::string::npos);
  CHECK(!config_from_params({{"model", std::string("gpt-5")}}));
  CHECK(!config_from_params({{"head_dim", int64_t{63}}}));
  CHECK(check_inference_param("scenario", std::string("offline")).empty());
  CHECK(check_inference_param("scenario", std::string("batch")).find("unknown scenario") !=
        std::string::npos);
  CHECK(check_inference_param("model", std::string("llm-3b")).find("llm-tiny") != std::string::npos);
  CHECK(check_inference_param("max_batch", int64_t{0}).find("max_batch") != std::string::npos);
  CHECK(check_inference_param("tpot_bound_s", -1.0).find("positive") != std::string::npos);
  CHECK(check_inference_param("dtype", std::string("i8")).find("bf16") != std::string::npos);
  CHECK(check_inference_param("colour", std::string("red")).find("unknown inference param") !=
        std::string::npos);
  CHECK(check_inference_param("audit_queries", int64_t{0}).empty());
}

}  // namespace
}  // namespace cmeter::models
