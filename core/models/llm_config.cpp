// Presets, checks, the weight tensors of the graph and the FLOP/byte counts that MFU and MBU use.
#include "core/models/llm_config.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cmeter::models {
namespace {

struct Preset {
  const char* name;
  int64_t layers, hidden, heads, kv_heads, head_dim, ffn, vocab;
  bool tied;
  double theta;
};

// llm-tiny is sized so a quick Offline case runs in a second or two on 2 CPU cores; llm-1b has the
// shapes of Llama 3.2 1B and llm-8b those of Llama 3 8B (the weights are ours: seeded, not theirs).
constexpr std::array kPresets = {
    Preset{"llm-tiny", 2, 256, 4, 2, 64, 512, 2048, false, 10000},
    Preset{"llm-1b", 16, 2048, 32, 8, 64, 8192, 128256, true, 500000},
    Preset{"llm-8b", 32, 4096, 32, 8, 128, 14336, 128256, false, 500000},
};

const std::vector<std::string> kModelKeys = {"layers", "hidden", "heads",        "kv_heads",   "head_dim",
                                             "ffn",    "vocab",  "tied_lm_head", "rope_theta", "norm_eps"};
const std::vector<std::string> kScenarios = {"offline", "single_stream", "server"};

std::optional<int64_t> as_int(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  return std::nullopt;
}
std::optional<double> as_double(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

}  // namespace

std::optional<LlmConfig> llm_preset(std::string_view name) {
  for (const Preset& p : kPresets)
    if (name == p.name) {
      LlmConfig c;
      c.name = p.name;
      c.layers = p.layers;
      c.hidden = p.hidden;
      c.heads = p.heads;
      c.kv_heads = p.kv_heads;
      c.head_dim = p.head_dim;
      c.ffn = p.ffn;
      c.vocab = p.vocab;
      c.tied_lm_head = p.tied;
      c.rope_theta = p.theta;
      return c;
    }
  return std::nullopt;
}

std::vector<std::string> llm_preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.emplace_back(p.name);
  return names;
}

Status check_config(const LlmConfig& c) {
  const std::pair<const char*, int64_t> dims[] = {
      {"layers", c.layers},     {"hidden", c.hidden}, {"heads", c.heads}, {"kv_heads", c.kv_heads},
      {"head_dim", c.head_dim}, {"ffn", c.ffn},       {"vocab", c.vocab}};
  for (const auto& [key, v] : dims)
    if (v <= 0 || v > (int64_t{1} << 24))
      return make_error(ErrorCode::kInvalidArgument, "model {} must be in 1..16777216, got {}", key, v);
  if (c.heads % c.kv_heads != 0)
    return make_error(ErrorCode::kInvalidArgument, "model heads ({}) must be a multiple of kv_heads ({})",
                      c.heads, c.kv_heads);
  if (c.head_dim % 2 != 0)
    return make_error(ErrorCode::kInvalidArgument, "model head_dim must be even (rotary pairs), got {}",
                      c.head_dim);
  if (c.vocab < 2) return make_error(ErrorCode::kInvalidArgument, "model vocab must be at least 2");
  if (!(c.rope_theta > 1) || !std::isfinite(c.rope_theta))
    return make_error(ErrorCode::kInvalidArgument, "model rope_theta must be finite and > 1, got {}",
                      c.rope_theta);
  if (!(c.norm_eps >= 0) || !std::isfinite(c.norm_eps))
    return make_error(ErrorCode::kInvalidArgument, "model norm_eps must be finite and >= 0, got {}",
                      c.norm_eps);
  return {};
}

std::vector<WeightTensor> weight_tensors(const LlmConfig& c) {
  std::vector<WeightTensor> t;
  auto add = [&](std::string name, int64_t layer, WeightKind kind, int64_t rows, int64_t cols) {
    t.push_back({static_cast<uint32_t>(t.size()), std::move(name), layer, kind, rows, cols});
  };
  add("embedding", -1, WeightKind::kEmbedding, c.vocab, c.hidden);
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    add(p + "attn_norm", l, WeightKind::kNorm, 1, c.hidden);
    add(p + "wq", l, WeightKind::kProjection, c.q_dim(), c.hidden);
    add(p + "wk", l, WeightKind::kProjection, c.kv_dim(), c.hidden);
    add(p + "wv", l, WeightKind::kProjection, c.kv_dim(), c.hidden);
    add(p + "wo", l, WeightKind::kProjection, c.hidden, c.q_dim());
    add(p + "mlp_norm", l, WeightKind::kNorm, 1, c.hidden);
    add(p + "w_gate_up", l, WeightKind::kProjection, 2 * c.ffn, c.hidden);
    add(p + "w_down", l, WeightKind::kProjection, c.hidden, c.ffn);
  }
  add("final_norm", -1, WeightKind::kNorm, 1, c.hidden);
  if (!c.tied_lm_head) add("lm_head", -1, WeightKind::kLmHead, c.vocab, c.hidden);
  return t;
}

int64_t parameter_count(const LlmConfig& c) {
  int64_t n = 0;
  for (const WeightTensor& w : weight_tensors(c)) n += w.elements();
  return n;
}

double forward_flop(const LlmConfig& c, int64_t new_tokens, int64_t past, int64_t logit_rows) {
  const double t = static_cast<double>(new_tokens);
  const double per_layer_proj =
      static_cast<double>(c.hidden) * (2.0 * c.q_dim() + 2.0 * c.kv_dim()) + 3.0 * c.hidden * c.ffn;
  // Attention: token i (0-based among the new) sees past + i + 1 positions; QK and PV are
  // 2·head_dim FLOP per head per position each.
  const double positions = t * static_cast<double>(past) + t * (t + 1) / 2;
  const double attention = 4.0 * c.heads * c.head_dim * positions;
  const double lm_head = 2.0 * c.hidden * c.vocab * static_cast<double>(logit_rows);
  return c.layers * (2.0 * per_layer_proj * t + attention) + lm_head;
}

double weight_bytes_per_step(const LlmConfig& c, int64_t dtype_size, int64_t rows) {
  double elements = 0;
  for (const WeightTensor& w : weight_tensors(c))
    elements += w.kind == WeightKind::kEmbedding ? static_cast<double>(std::min(rows, w.rows) * w.cols)
                                                 : static_cast<double>(w.elements());
  if (c.tied_lm_head) elements += static_cast<double>(c.vocab * c.hidden);  // the embedding read as lm_head
  return elements * static_cast<double>(dtype_size);
}

Result<LlmConfig> config_from_params(const KeyValues& params, std::vector<std::string>* used) {
  auto mark = [&](const std::string& key) {
    if (used) used->push_back(key);
  };
  std::string preset_name = "llm-tiny";
  if (auto it = params.find("model"); it != params.end()) {
    mark("model");
    const auto* s = std::get_if<std::string>(&it->second);
    if (!s) return make_error(ErrorCode::kInvalidArgument, "param 'model' must be a preset name");
    preset_name = *s;
  }
  std::optional<LlmConfig> c = llm_preset(preset_name);
  if (!c)
    return make_error(ErrorCode::kInvalidArgument, "unknown model '{}' (known: llm-tiny, llm-1b, llm-8b)",
                      preset_name);
  bool overridden = false;
  for (const std::string& key : kModelKeys) {
    auto it = params.find(key);
    if (it == params.end()) continue;
    mark(key);
    overridden = true;
    if (std::string problem = check_inference_param(key, it->second); !problem.empty())
      return make_error(ErrorCode::kInvalidArgument, "{}", problem);
    if (key == "tied_lm_head") {
      c->tied_lm_head = std::get<bool>(it->second);
    } else if (key == "rope_theta") {
      c->rope_theta = *as_double(it->second);
    } else if (key == "norm_eps") {
      c->norm_eps = *as_double(it->second);
    } else {
      const int64_t v = *as_int(it->second);
      if (key == "layers") c->layers = v;
      if (key == "hidden") c->hidden = v;
      if (key == "heads") c->heads = v;
      if (key == "kv_heads") c->kv_heads = v;
      if (key == "head_dim") c->head_dim = v;
      if (key == "ffn") c->ffn = v;
      if (key == "vocab") c->vocab = v;
    }
  }
  if (overridden) c->name += "+overrides";
  if (auto st = check_config(*c); !st) return st.error();
  return *c;
}

const std::vector<std::string>& inference_param_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"model",         "dtype",          "scenario",     "queries",
                                  "min_queries",   "min_duration_s", "prompt_len",   "output_len",
                                  "max_batch",     "ttft_bound_s",   "tpot_bound_s", "accuracy_queries",
                                  "audit_queries", "server_steps"};
    k.insert(k.end(), kModelKeys.begin(), kModelKeys.end());
    return k;
  }();
  return keys;
}

std::string check_inference_param(const std::string& key, const Value& value) {
  const auto& keys = inference_param_keys();
  if (std::find(keys.begin(), keys.end(), key) == keys.end())
    return fmt::format("unknown inference param '{}' (known: {})", key, fmt::join(keys, ", "));
  const auto* text = std::get_if<std::string>(&value);
  if (key == "model") {
    if (!text || !llm_preset(*text))
      return fmt::format("unknown model '{}' (known: {})", text ? *text : to_display(value),
                         fmt::join(llm_preset_names(), ", "));
    return "";
  }
  if (key == "scenario") {
    if (!text || std::find(kScenarios.begin(), kScenarios.end(), *text) == kScenarios.end())
      return fmt::format("unknown scenario '{}' (known: {})", text ? *text : to_display(value),
                         fmt::join(kScenarios, ", "));
    return "";
  }
  if (key == "dtype") {
    if (!text || (*text != "bf16" && *text != "f16" && *text != "f32"))
      return fmt::format("inference dtype must be bf16, f16 or f32, got '{}'", to_display(value));
    return "";
  }
  if (key == "tied_lm_head") {
    if (!std::holds_alternative<bool>(value)) return "param 'tied_lm_head' must be true or false";
    return "";
  }
  if (key == "rope_theta" || key == "norm_eps" || key == "min_duration_s" || key == "ttft_bound_s" ||
      key == "tpot_bound_s") {
    const std::optional<double> d = as_double(value);
    const bool ok = d && std::isfinite(*d) &&
                    (key == "rope_theta" ? *d > 1
                     : key == "norm_eps" ? *d >= 0
                                         : *d > 0);
    if (!ok)
      return fmt::format("param '{}' must be a {} number, got {}", key,
                         key == "rope_theta" ? "finite > 1"
                         : key == "norm_eps" ? "finite >= 0"
                                             : "positive",
                         to_display(value));
    return "";
  }
  // The remaining keys are counts.
  const std::optional<int64_t> i = as_int(value);
  const int64_t low = key == "accuracy_queries" || key == "audit_queries" ? 0 : 1;
  const int64_t high = key == "max_batch" ? 4096 : int64_t{1} << 24;
  if (!i || *i < low || *i > high)
    return fmt::format("param '{}' must be an integer in {}..{}, got {}", key, low, high, to_display(value));
  if (key == "vocab" && *i < 2) return "param 'vocab' must be at least 2";
  if (key == "head_dim" && *i % 2 != 0) return fmt::format("param 'head_dim' must be even, got {}", *i);
  return "";
}

}  // namespace cmeter::models
