// The decoder's device graph (see inference_graph.h).
#include "core/workloads/inference_graph.h"

#include <cmath>
#include <deque>
#include <set>

#include "core/models/llm_weights.h"

namespace cmeter::workloads {

std::vector<int64_t> decode_buckets(int64_t max_batch) {
  std::vector<int64_t> out;
  for (int64_t rows = 1; rows < max_batch; rows *= 2) out.push_back(rows);
  out.push_back(std::max<int64_t>(max_batch, 1));
  return out;
}

int64_t decode_rows(const std::vector<int32_t>& pos, int64_t capacity, int64_t min_rows) {
  int64_t highest = min_rows - 1;
  for (size_t b = 0; b < pos.size(); ++b)
    if (pos[b] >= 0 && pos[b] < capacity) highest = std::max(highest, static_cast<int64_t>(b));
  const std::vector<int64_t> buckets = decode_buckets(static_cast<int64_t>(pos.size()));
  for (int64_t rows : buckets)
    if (rows > highest) return rows;
  return buckets.back();
}

namespace {

std::string dname(DType t) {
  return std::string(to_string(t));
}

struct GemmSpec {
  int64_t m, n, k;
  bool trans_a;
  int64_t lda = 0, ldb = 0, ldc = 0;
  double beta = 0;
  int64_t batch = 1;
  int64_t offset_a = 0, offset_b = 0, offset_c = 0;
};

KeyValues gemm_kv(const GraphShape& s, const GemmSpec& g) {
  KeyValues p{{"m", g.m},
              {"n", g.n},
              {"k", g.k},
              {"dtype_a", dname(s.dtype)},
              {"dtype_b", dname(s.dtype)},
              {"dtype_c", dname(s.dtype)},
              {"compute", std::string("f32")},
              {"trans_a", g.trans_a},
              {"trans_b", false},
              {"alpha", 1.0},
              {"beta", g.beta},
              {"batch", g.batch}};
  if (g.lda) p["lda"] = g.lda;
  if (g.ldb) p["ldb"] = g.ldb;
  if (g.ldc) p["ldc"] = g.ldc;
  // Offsets go only to 1.1 plugins and only when nonzero (docs/abi-keys.md).
  if (g.offset_a) p["offset_a"] = g.offset_a;
  if (g.offset_b) p["offset_b"] = g.offset_b;
  if (g.offset_c) p["offset_c"] = g.offset_c;
  return p;
}

// y = W x for `rows` rows: W [out, in] row-major.
KeyValues proj(const GraphShape& s, int64_t out, int64_t in, int64_t rows, double beta = 0) {
  return gemm_kv(s, {out, rows, in, true, 0, 0, 0, beta});
}

// "d4": the ops of the decode bucket over the first 4 slots.
std::string decode_tag(int64_t rows) {
  return "d" + std::to_string(rows);
}

struct OpEntry {
  std::string name;
  KeyValues params;
  Op op;
};

// Every op of the graph by role, with its params (created in this order).
struct OpPlan {
  std::vector<std::pair<std::string, std::pair<std::string, KeyValues>>> ops;  // role -> (op name, params)
  void add(std::string role, std::string name, KeyValues params) {
    ops.emplace_back(std::move(role), std::pair{std::move(name), std::move(params)});
  }
};

OpPlan plan_ops(const GraphShape& s, bool fused) {
  const models::LlmConfig& c = s.config;
  const int64_t P = s.prompt_len, B = s.max_batch, H = c.hidden, V = c.vocab, cap = s.capacity;
  const int64_t hd = c.head_dim, g = c.group();
  const std::string dt = dname(s.dtype);
  OpPlan plan;
  std::vector<std::pair<std::string, int64_t>> passes{{"p", P}};
  for (int64_t rows : decode_buckets(B)) passes.emplace_back(decode_tag(rows), rows);
  for (const auto& [tag, rows] : passes) {
    plan.add("emb_" + tag, "embedding.v1", {{"rows", rows}, {"vocab", V}, {"dim", H}, {"dtype", dt}});
    plan.add("norm_" + tag, "rmsnorm.v1", {{"rows", rows}, {"dim", H}, {"dtype", dt}, {"eps", c.norm_eps}});
    plan.add("wq_" + tag, "gemm.v1", proj(s, c.q_dim(), H, rows));
    plan.add("wkv_" + tag, "gemm.v1", proj(s, c.kv_dim(), H, rows));
    plan.add("wo_" + tag, "gemm.v1", proj(s, H, c.q_dim(), rows, 1.0));
    plan.add("wgu_" + tag, "gemm.v1", proj(s, 2 * c.ffn, H, rows));
    plan.add("wdown_" + tag, "gemm.v1", proj(s, H, c.ffn, rows, 1.0));
    plan.add("swiglu_" + tag, "swiglu.v1", {{"rows", rows}, {"dim", c.ffn}, {"dtype", dt}});
    plan.add("rope_q_" + tag, "rope.v1",
             {{"rows", rows},
              {"heads", c.heads},
              {"head_dim", hd},
              {"dtype", dt},
              {"layout", std::string("half")},
              {"theta", c.rope_theta}});
    plan.add("rope_k_" + tag, "rope.v1",
             {{"rows", rows},
              {"heads", c.kv_heads},
              {"head_dim", hd},
              {"dtype", dt},
              {"layout", std::string("half")},
              {"theta", c.rope_theta}});
    plan.add("kv_" + tag, "kv_append.v1",
             {{"rows", rows},
              {"kv_heads", c.kv_heads},
              {"head_dim", hd},
              {"slots", B},
              {"capacity", cap},
              {"dtype", dt}});
    if (fused) plan.add("att_" + tag, "attention.v1", DeviceLlm::attention_params(s, rows));
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  if (!fused) {
    // Prefill: per query head h (KV head h / g), scores S_h = K_j^T Q_h (P x P, column-major: row t of
    // the row-major [heads·P, P] scores is query t), softmax with LEN = t + 1, O_h = V_j P_h.
    for (int64_t h = 0; h < c.heads; ++h) {
      const int64_t j = h / g;
      plan.add("qk_p." + std::to_string(h), "gemm.v1",
               gemm_kv(s, {P, P, hd, true, c.kv_dim(), c.q_dim(), P, 0, 1, j * hd, h * hd, h * P * P}));
      plan.add("pv_p." + std::to_string(h), "gemm.v1",
               gemm_kv(s, {hd, P, P, false, c.kv_dim(), P, c.q_dim(), 0, 1, j * hd, h * P * P, h * hd}));
    }
    plan.add("softmax_p", "softmax.v1",
             {{"rows", c.heads * P},
              {"cols", P},
              {"dtype", dt},
              {"scale", scale},
              {"mask", std::string("lengths")}});
    // Decode over the first `rows` slots: one batched product per (slot, KV head): the K block
    // (capacity x head_dim) against the group's g query heads (head_dim x g), softmax over capacity
    // with LEN = pos + 1, then V.
    for (int64_t rows : decode_buckets(B)) {
      const std::string tag = decode_tag(rows);
      plan.add("qk_" + tag, "gemm.v1", gemm_kv(s, {cap, g, hd, true, 0, 0, 0, 0, rows * c.kv_heads}));
      plan.add("softmax_" + tag, "softmax.v1",
               {{"rows", rows * c.heads},
                {"cols", cap},
                {"dtype", dt},
                {"scale", scale},
                {"mask", std::string("lengths")}});
      plan.add("pv_" + tag, "gemm.v1", gemm_kv(s, {hd, g, cap, false, 0, 0, 0, 0, rows * c.kv_heads}));
    }
  }
  for (int64_t slot = 0; slot < B; ++slot)
    plan.add("lm_p." + std::to_string(slot), "gemm.v1",
             gemm_kv(s, {V, 1, H, true, 0, 0, 0, 0, 1, 0, (P - 1) * H, slot * V}));
  // A prefill refreshes every slot's next id (argmax over all rows; the other rows' logits are those
  // their own last step wrote, so their ids do not change); a decode step only its bucket's rows.
  plan.add("argmax_p", "argmax.v1", {{"rows", B}, {"cols", V}, {"dtype", dt}});
  for (int64_t rows : decode_buckets(B)) {
    plan.add("lm_" + decode_tag(rows), "gemm.v1", proj(s, V, H, rows));
    plan.add("argmax_" + decode_tag(rows), "argmax.v1", {{"rows", rows}, {"cols", V}, {"dtype", dt}});
  }
  return plan;
}

}  // namespace

struct DeviceLlm::Impl {
  Stream* stream = nullptr;
  bool fused = false;
  std::vector<Buffer> weights;
  std::vector<Buffer> kc, vc;
  // Activations: [0] prefill, [1] decode.
  struct Acts {
    Buffer x, hn, q, k, v, o, gu, act, s, ids, pos, slot, len;
  } a[2];
  Buffer logits, ids_d;
  std::map<std::string, std::unique_ptr<OpEntry>> ops;
  // Host staging that must outlive the enqueued writes (until the next synchronize).
  std::vector<int32_t> h_ids, h_pos, h_slot, h_len, h_pos_d, h_slot_d, h_len_d;

  OpEntry& op(const std::string& role) { return *ops.at(role); }
};

std::vector<std::pair<std::string, KeyValues>> DeviceLlm::required_ops(const GraphShape& shape, bool fused,
                                                                       bool) {
  std::vector<std::pair<std::string, KeyValues>> out;
  for (auto& [role, op] : plan_ops(shape, fused).ops) out.push_back(op);
  return out;
}

KeyValues DeviceLlm::attention_params(const GraphShape& s, int64_t rows) {
  const models::LlmConfig& c = s.config;
  return {{"rows", rows},
          {"heads", c.heads},
          {"kv_heads", c.kv_heads},
          {"head_dim", c.head_dim},
          {"slots", s.max_batch},
          {"capacity", s.capacity},
          {"dtype", dname(s.dtype)},
          {"scale", 1.0 / std::sqrt(static_cast<double>(c.head_dim))}};
}

uint64_t DeviceLlm::device_bytes(const GraphShape& s, bool fused) {
  const models::LlmConfig& c = s.config;
  const uint64_t size = size_bytes(s.dtype);
  uint64_t elements = static_cast<uint64_t>(models::parameter_count(c));
  elements += 2ull * c.layers * s.max_batch * c.kv_dim() * s.capacity;
  for (int64_t rows : {s.prompt_len, s.max_batch})
    elements += static_cast<uint64_t>(rows) * (2 * c.hidden + 2 * c.q_dim() + 2 * c.kv_dim() + 3 * c.ffn);
  if (!fused)
    elements += static_cast<uint64_t>(c.heads) * (s.prompt_len * s.prompt_len + s.max_batch * s.capacity);
  elements += static_cast<uint64_t>(s.max_batch) * c.vocab;
  return elements * size;
}

DeviceLlm::DeviceLlm(std::unique_ptr<Impl> impl, GraphShape shape)
    : impl_(std::move(impl)), shape_(std::move(shape)) {}
DeviceLlm::~DeviceLlm() = default;

Result<std::unique_ptr<DeviceLlm>> DeviceLlm::create(const Device& dev, Stream& stream, const GraphShape& s,
                                                     uint64_t seed, bool fused) {
  const models::LlmConfig& c = s.config;
  auto impl = std::make_unique<Impl>();
  impl->stream = &stream;
  impl->fused = fused;
  const uint64_t size = size_bytes(s.dtype);
  auto make = [&](Buffer& b, uint64_t bytes) -> Status {
    auto created = dev.create_buffer(std::max<uint64_t>(bytes, 4));
    if (!created) return created.error();
    b = std::move(created).value();
    return {};
  };
  auto zero = [&](Buffer& b, uint64_t bytes) -> Status {
    if (auto st = make(b, bytes); !st) return st;
    const std::vector<uint8_t> zeros(bytes, 0);
    if (auto st = stream.write(b, 0, zeros.data(), bytes); !st) return st;
    return stream.synchronize();
  };
  // Weights, one tensor at a time (the host copy lives until the write is synchronised).
  for (const models::WeightTensor& t : models::weight_tensors(c)) {
    const std::vector<uint8_t> bytes = models::weight_bytes(c, seed, t, s.dtype);
    Buffer b;
    if (auto st = make(b, bytes.size()); !st) return st.error();
    if (auto st = stream.write(b, 0, bytes.data(), bytes.size()); !st) return st.error();
    if (auto st = stream.synchronize(); !st) return st.error();
    impl->weights.push_back(std::move(b));
  }
  const uint64_t cache_bytes = static_cast<uint64_t>(s.max_batch * c.kv_dim() * s.capacity) * size;
  impl->kc.resize(static_cast<size_t>(c.layers));
  impl->vc.resize(static_cast<size_t>(c.layers));
  for (int64_t l = 0; l < c.layers; ++l) {
    if (auto st = zero(impl->kc[static_cast<size_t>(l)], cache_bytes); !st) return st.error();
    if (auto st = zero(impl->vc[static_cast<size_t>(l)], cache_bytes); !st) return st.error();
  }
  for (int which = 0; which < 2; ++which) {
    const int64_t rows = which == 0 ? s.prompt_len : s.max_batch;
    Impl::Acts& a = impl->a[which];
    const uint64_t r = static_cast<uint64_t>(rows);
    for (auto [buf, width] : {std::pair{&a.x, c.hidden},
                              {&a.hn, c.hidden},
                              {&a.q, c.q_dim()},
                              {&a.k, c.kv_dim()},
                              {&a.v, c.kv_dim()},
                              {&a.o, c.q_dim()},
                              {&a.gu, 2 * c.ffn},
                              {&a.act, c.ffn}})
      if (auto st = zero(*buf, r * static_cast<uint64_t>(width) * size); !st) return st.error();
    const uint64_t scores = which == 0 ? static_cast<uint64_t>(c.heads * s.prompt_len * s.prompt_len)
                                       : static_cast<uint64_t>(c.heads * s.max_batch * s.capacity);
    if (auto st = zero(a.s, fused ? 4 : scores * size); !st) return st.error();
    if (auto st = zero(a.ids, r * 4); !st) return st.error();
    if (auto st = zero(a.pos, r * 4); !st) return st.error();
    if (auto st = zero(a.slot, r * 4); !st) return st.error();
    if (auto st = zero(a.len, static_cast<uint64_t>(c.heads) * r * 4); !st) return st.error();
  }
  if (auto st = zero(impl->logits, static_cast<uint64_t>(s.max_batch * c.vocab) * size); !st)
    return st.error();
  // Prefill's constant positions and causal lengths.
  impl->h_pos.resize(static_cast<size_t>(s.prompt_len));
  impl->h_len.resize(static_cast<size_t>(c.heads * s.prompt_len));
  for (int64_t t = 0; t < s.prompt_len; ++t) {
    impl->h_pos[static_cast<size_t>(t)] = static_cast<int32_t>(t);
    for (int64_t h = 0; h < c.heads; ++h)
      impl->h_len[static_cast<size_t>(h * s.prompt_len + t)] = static_cast<int32_t>(t + 1);
  }
  if (auto st = stream.write(impl->a[0].pos, 0, impl->h_pos.data(), impl->h_pos.size() * 4); !st)
    return st.error();
  if (auto st = stream.write(impl->a[0].len, 0, impl->h_len.data(), impl->h_len.size() * 4); !st)
    return st.error();
  if (auto st = stream.synchronize(); !st) return st.error();
  for (auto& [role, op] : plan_ops(s, fused).ops) {
    auto entry = std::make_unique<OpEntry>();
    entry->name = op.first;
    entry->params = op.second;
    auto created = dev.create_op(op.first, op.second);
    if (!created)
      return make_error(created.error().code, "{} ({}): {}", op.first, role, created.error().message);
    entry->op = std::move(created).value();
    impl->ops[role] = std::move(entry);
  }
  return std::unique_ptr<DeviceLlm>(new DeviceLlm(std::move(impl), s));
}

namespace {

Status run_step(Stream& stream, OpEntry& e, std::string label, int64_t layer, std::vector<Buffer*> bufs,
                const StepObserver* observer) {
  GraphStep step{std::move(label), layer, e.name, &e.params, std::move(bufs)};
  if (observer && observer->before)
    if (auto st = observer->before(step); !st) return st;
  if (auto st = e.op.enqueue(stream, step.buffers); !st)
    return make_error(st.error().code, "{} ({}): {}", step.label, e.name, st.error().message);
  if (observer && observer->after)
    if (auto st = observer->after(step); !st) return st;
  return {};
}

}  // namespace

// One pass of the decoder over the rows of `which` (0 prefill, 1 decode) with the ops of `tag` ("p",
// or the decode bucket's "d<rows>").
static Status enqueue_layers(DeviceLlm::Impl& m, const GraphShape& s, int which, const std::string& tag,
                             const StepObserver* obs) {
  const models::LlmConfig& c = s.config;
  auto& a = m.a[which];
  Stream& st = *m.stream;
  auto W = [&](size_t i) { return &m.weights[i]; };
  if (auto r = run_step(st, m.op("emb_" + tag), "embedding", -1, {W(0), &a.ids, &a.x}, obs); !r) return r;
  for (int64_t l = 0; l < c.layers; ++l) {
    const size_t ti = 1 + static_cast<size_t>(l) * 8;
    Buffer& kc = m.kc[static_cast<size_t>(l)];
    Buffer& vc = m.vc[static_cast<size_t>(l)];
    Status r;
    auto step = [&](const std::string& role, const std::string& label, std::vector<Buffer*> bufs) {
      if (r) r = run_step(st, m.op(role), label, l, std::move(bufs), obs);
    };
    step("norm_" + tag, "attn_norm", {&a.x, W(ti), &a.hn});
    step("wq_" + tag, "wq", {W(ti + 1), &a.hn, &a.q});
    step("wkv_" + tag, "wk", {W(ti + 2), &a.hn, &a.k});
    step("wkv_" + tag, "wv", {W(ti + 3), &a.hn, &a.v});
    step("rope_q_" + tag, "rope (q)", {&a.q, &a.pos});
    step("rope_k_" + tag, "rope (k)", {&a.k, &a.pos});
    step("kv_" + tag, "kv_append (k)", {&a.k, &kc, &a.slot, &a.pos});
    step("kv_" + tag, "kv_append (v)", {&a.v, &vc, &a.slot, &a.pos});
    if (m.fused) {
      step("att_" + tag, "attention", {&a.q, &kc, &vc, &a.slot, &a.pos, &a.o});
    } else if (which == 0) {
      for (int64_t h = 0; h < c.heads; ++h)
        step("qk_p." + std::to_string(h), "attention QK (head " + std::to_string(h) + ")",
             {&a.k, &a.q, &a.s});
      step("softmax_p", "attention softmax", {&a.s, &a.s, &a.len});
      for (int64_t h = 0; h < c.heads; ++h)
        step("pv_p." + std::to_string(h), "attention PV (head " + std::to_string(h) + ")",
             {&a.v, &a.s, &a.o});
    } else {
      step("qk_" + tag, "attention QK", {&kc, &a.q, &a.s});
      step("softmax_" + tag, "attention softmax", {&a.s, &a.s, &a.len});
      step("pv_" + tag, "attention PV", {&vc, &a.s, &a.o});
    }
    step("wo_" + tag, "wo (+ residual)", {W(ti + 4), &a.o, &a.x});
    step("norm_" + tag, "mlp_norm", {&a.x, W(ti + 5), &a.hn});
    step("wgu_" + tag, "w_gate_up", {W(ti + 6), &a.hn, &a.gu});
    step("swiglu_" + tag, "swiglu", {&a.gu, &a.act});
    step("wdown_" + tag, "w_down (+ residual)", {W(ti + 7), &a.act, &a.x});
    if (!r) return r;
  }
  const size_t final_norm = 1 + static_cast<size_t>(c.layers) * 8;
  return run_step(st, m.op("norm_" + tag), "final_norm", -1, {&a.x, W(final_norm), &a.hn}, obs);
}

Status DeviceLlm::enqueue_prefill(int64_t slot, const std::vector<int32_t>& prompt, const StepObserver* obs) {
  Impl& m = *impl_;
  const GraphShape& s = shape_;
  if (static_cast<int64_t>(prompt.size()) != s.prompt_len || slot < 0 || slot >= s.max_batch)
    return make_error(ErrorCode::kInvalidArgument, "prefill needs {} prompt tokens and a slot below {}",
                      s.prompt_len, s.max_batch);
  m.h_ids = prompt;
  m.h_slot.assign(static_cast<size_t>(s.prompt_len), static_cast<int32_t>(slot));
  auto& a = m.a[0];
  if (auto st = m.stream->write(a.ids, 0, m.h_ids.data(), m.h_ids.size() * 4); !st) return st;
  if (auto st = m.stream->write(a.slot, 0, m.h_slot.data(), m.h_slot.size() * 4); !st) return st;
  if (auto st = enqueue_layers(m, s, 0, "p", obs); !st) return st;
  const size_t lm = s.config.tied_lm_head ? 0 : m.weights.size() - 1;
  if (auto st = run_step(*m.stream, m.op("lm_p." + std::to_string(slot)), "lm_head", -1,
                         {&m.weights[lm], &a.hn, &m.logits}, obs);
      !st)
    return st;
  return run_step(*m.stream, m.op("argmax_p"), "argmax", -1, {&m.logits, &m.a[1].ids}, obs);
}

Status DeviceLlm::enqueue_decode(const std::vector<int32_t>& pos, const StepObserver* obs, int64_t min_rows) {
  Impl& m = *impl_;
  const GraphShape& s = shape_;
  const models::LlmConfig& c = s.config;
  if (static_cast<int64_t>(pos.size()) != s.max_batch)
    return make_error(ErrorCode::kInvalidArgument, "decode needs one position per slot ({})", s.max_batch);
  const int64_t rows = decode_rows(pos, s.capacity, min_rows);
  const std::string tag = decode_tag(rows);
  m.h_pos_d = pos;
  m.h_slot_d.resize(pos.size());
  m.h_len_d.resize(pos.size() * static_cast<size_t>(c.heads));
  for (size_t b = 0; b < pos.size(); ++b) {
    const bool active = pos[b] >= 0 && pos[b] < s.capacity;
    m.h_slot_d[b] = active ? static_cast<int32_t>(b) : -1;
    if (!active) m.h_pos_d[b] = -1;
    for (int64_t h = 0; h < c.heads; ++h)
      m.h_len_d[b * static_cast<size_t>(c.heads) + static_cast<size_t>(h)] = active ? pos[b] + 1 : 0;
  }
  auto& a = m.a[1];
  if (auto st = m.stream->write(a.pos, 0, m.h_pos_d.data(), m.h_pos_d.size() * 4); !st) return st;
  if (auto st = m.stream->write(a.slot, 0, m.h_slot_d.data(), m.h_slot_d.size() * 4); !st) return st;
  if (auto st = m.stream->write(a.len, 0, m.h_len_d.data(), m.h_len_d.size() * 4); !st) return st;
  if (auto st = enqueue_layers(m, s, 1, tag, obs); !st) return st;
  const size_t lm = c.tied_lm_head ? 0 : m.weights.size() - 1;
  if (auto st =
          run_step(*m.stream, m.op("lm_" + tag), "lm_head", -1, {&m.weights[lm], &a.hn, &m.logits}, obs);
      !st)
    return st;
  return run_step(*m.stream, m.op("argmax_" + tag), "argmax", -1, {&m.logits, &a.ids}, obs);
}

Status DeviceLlm::enqueue_read_ids(std::vector<int32_t>& ids) {
  ids.resize(static_cast<size_t>(shape_.max_batch));
  return impl_->stream->read(impl_->a[1].ids, 0, ids.data(), ids.size() * 4);
}

Status DeviceLlm::enqueue_read_logits(std::vector<uint8_t>& bytes) {
  bytes.resize(impl_->logits.size_bytes());
  return impl_->stream->read(impl_->logits, 0, bytes.data(), bytes.size());
}

std::map<std::string, std::string> DeviceLlm::op_paths() const {
  std::map<std::string, std::set<std::string>> impls;
  for (const auto& [role, e] : impl_->ops) {
    std::string impl = "(no impl attribute)";
    if (auto attrs = e->op.attributes()) impl = get_string(*attrs, "impl").value_or(impl);
    impls[e->name].insert(impl);
  }
  std::map<std::string, std::string> out;
  out["attention"] = impl_->fused ? "fused" : "composed";
  for (const auto& [name, set] : impls) out[name] = fmt::format("{}", fmt::join(set, " | "));
  return out;
}

}  // namespace cmeter::workloads
