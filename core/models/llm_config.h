// The decoder's configuration (a Llama-like model: RMSNorm, rotary positions in the half layout,
// grouped-query attention, SwiGLU MLP, tied or untied lm_head), its named presets, the reading of a
// case's params into one (preset + explicit overrides) and what follows from it: the weight tensors
// of the op graph, the parameter count and the model FLOPs. Pure host code, so the profile parser can
// check a model config (naming file:line:column) and the tests can count parameters without a device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/key_values.h"
#include "core/util/result.h"

namespace cmeter::models {

struct LlmConfig {
  std::string name;
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn = 0;  // SwiGLU inner width (gate and up each ffn wide)
  int64_t vocab = 0;
  bool tied_lm_head = false;
  double rope_theta = 10000;
  double norm_eps = 1e-5;

  int64_t q_dim() const { return heads * head_dim; }
  int64_t kv_dim() const { return kv_heads * head_dim; }
  int64_t group() const { return heads / kv_heads; }
};

// llm-tiny (CI and CPUs), llm-1b (~1.2 B, Llama-3.2-1B shapes), llm-8b (~8.0 B, Llama-3-8B shapes).
std::optional<LlmConfig> llm_preset(std::string_view name);
std::vector<std::string> llm_preset_names();
// Every dimension positive, heads a multiple of kv_heads, head_dim even, sizes that fit int32 ids.
Status check_config(const LlmConfig& config);

// One weight tensor of the graph: row-major [rows, cols] (a projection stores [out, in]).
enum class WeightKind { kEmbedding, kNorm, kProjection, kLmHead };
struct WeightTensor {
  uint32_t id = 0;     // stable index: the counter-based generator's stream
  std::string name;    // "layers.3.wq", "embedding", "final_norm", "lm_head"
  int64_t layer = -1;  // -1 for the global tensors
  WeightKind kind = WeightKind::kProjection;
  int64_t rows = 0, cols = 0;
  int64_t elements() const { return rows * cols; }
};
// The tensors in a fixed order. Per layer: attn_norm, wq, wk, wv, wo, mlp_norm, w_gate_up ([2·ffn,
// hidden]: the gate rows then the up rows, so one GEMM writes swiglu.v1's [G | U] rows), w_down.
// Global: embedding, final_norm and lm_head when untied (tied: the embedding is the lm_head).
std::vector<WeightTensor> weight_tensors(const LlmConfig& config);
int64_t parameter_count(const LlmConfig& config);

// Tensor FLOPs (the GEMMs and the two attention products, MLPerf's "model tensor FLOPs") of a forward
// over `new_tokens` tokens of one sequence that already holds `past` tokens; lm_head counted for
// `logit_rows` rows (prefill needs only the last).
double forward_flop(const LlmConfig& config, int64_t new_tokens, int64_t past, int64_t logit_rows);
// Bytes of weights a forward reads once (every tensor at `dtype_size` bytes, the embedding counted
// for the rows it gathers only).
double weight_bytes_per_step(const LlmConfig& config, int64_t dtype_size, int64_t rows);

// The model config of a case: `model` (a preset, default llm-tiny) overridden by `layers`, `hidden`,
// `heads`, `kv_heads`, `head_dim`, `ffn`, `vocab`, `tied_lm_head`, `rope_theta`, `norm_eps`. The keys
// read are added to `used`.
Result<LlmConfig> config_from_params(const KeyValues& params, std::vector<std::string>* used = nullptr);

// Checks one param of an `inference` case as the profile gives it (a known key, the right type and
// range, a known preset or scenario); an empty string when fine, else the message. The profile parser
// reports it at the param's file:line:column.
std::string check_inference_param(const std::string& key, const Value& value);
// All keys the inference workload reads.
const std::vector<std::string>& inference_param_keys();

}  // namespace cmeter::models
