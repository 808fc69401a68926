// The machinery of the op conformance checks (checks_inference_ops.cpp, checks_training_ops.cpp):
// seeded host data in every storage type, one case run through the ABI with every buffer guarded
// (validate/guard_bytes.h) and outputs NaN-poisoned before the call, inputs that must come back
// unchanged, and the comparisons (NMSE against a limit, exact).
//
// Why this file exists: the 1.1 inference ops and the 1.2 training ops are checked the same way; the
// helpers are written once here (header-only: both files are the only users).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/conformance/session.h"
#include "core/validate/guard_bytes.h"
#include "core/validate/half.h"
#include "core/validate/host_data.h"
#include "core/validate/op_reference.h"
#include "core/validate/op_tolerance.h"

namespace cmeter::conformance::op_check {

namespace lim = validate::limits;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kOpCheckSeed = kConformanceSeed;  // fixed (session.h): a failure must reproduce
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
inline constexpr DType kDTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

inline std::string dt(DType t) {
  return std::string(to_string(t));
}

// ---------------------------------------------------------------- host data helpers

inline Bytes random_of(DType t, int64_t count, const std::string& salt, double lo, double hi) {
  auto rng = validate::make_rng(kOpCheckSeed, salt);
  return validate::random_elements(t, static_cast<size_t>(count), rng, lo, hi);
}

inline std::vector<double> doubles_of(DType t, const Bytes& bytes) {
  std::vector<double> out(bytes.size() / size_bytes(t));
  for (size_t i = 0; i < out.size(); ++i) out[i] = validate::element_as_double(t, bytes.data(), i);
  return out;
}

inline void set_element(DType t, Bytes& bytes, size_t i, double value) {
  switch (t) {
    case DType::kF16: {
      const uint16_t v = f32_to_f16_bits(static_cast<float>(value));
      std::memcpy(bytes.data() + 2 * i, &v, 2);
      break;
    }
    case DType::kBF16: {
      const uint16_t v = f32_to_bf16_bits(static_cast<float>(value));
      std::memcpy(bytes.data() + 2 * i, &v, 2);
      break;
    }
    default: {
      const auto v = static_cast<float>(value);
      std::memcpy(bytes.data() + 4 * i, &v, 4);
    }
  }
}

inline Bytes i32_bytes(const std::vector<int32_t>& v) {
  Bytes out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

inline std::vector<int32_t> i32_of(const Bytes& bytes) {
  std::vector<int32_t> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

// A NaN-poisoned output payload (0xff bytes: NaN in every float type, -1 as i32).
inline Bytes poison(int64_t elements, size_t elem_bytes) {
  return Bytes(static_cast<size_t>(elements) * elem_bytes, 0xff);
}

// ---------------------------------------------------------------- running one case

struct Buf {
  std::string name;
  Bytes init;              // the payload written before the call
  bool written = false;    // the op may change it (else it must come back unchanged)
  uint64_t row_bytes = 0;  // sizes the guard
  int alias_of = -1;       // in place: the same device buffer as buffer alias_of
};

enum class Outcome { kRan, kUnsupported, kFailed };

struct CaseRun {
  Outcome outcome = Outcome::kFailed;
  std::string reason;           // unsupported: op_query's reason
  std::vector<Bytes> payloads;  // per Buf, read back after the call
};

struct OpCheck {
  Session& s;
  CheckContext& ctx;
  std::string op;
  DType t;
  bool impl_noted = false;
  int ran = 0, unsupported_variants = 0;
  const Device& d() const { return *s.device(); }

  CaseRun run(const std::string& label, const KeyValues& params, std::vector<Buf>& bufs) {
    CaseRun out;
    auto failed = [&](const std::string& what, const std::string& message) {
      ctx.fail(fmt::format("{}: {}: {}", label, what, message));
      out.outcome = Outcome::kFailed;
      return out;
    };
    ctx.step(label + ": op_query");
    auto q = d().query_op(op, params);
    if (!q) return failed("op_query", q.error().message);
    if (!q->supported) {
      out.outcome = Outcome::kUnsupported;
      out.reason = q->reason.empty() ? "(no reason given)" : q->reason;
      return out;
    }
    auto stream = d().create_stream();
    if (!stream) return failed("stream_create", stream.error().message);
    std::vector<validate::GuardedImage> images(bufs.size());
    std::vector<Buffer> device(bufs.size());
    for (size_t i = 0; i < bufs.size(); ++i) {
      if (bufs[i].alias_of >= 0) continue;
      images[i] = validate::make_guarded(bufs[i].init, 0,
                                         validate::guard_size_bytes(bufs[i].init.size(), bufs[i].row_bytes),
                                         kOpCheckSeed + i);
      auto created = d().create_buffer(images[i].bytes.size());
      if (!created) return failed("buffer_create " + bufs[i].name, created.error().message);
      device[i] = std::move(created).value();
      if (auto st = stream->write(device[i], 0, images[i].bytes.data(), images[i].bytes.size()); !st)
        return failed("buffer_write " + bufs[i].name, st.error().message);
    }
    ctx.step(label + ": op_create");
    auto created_op = d().create_op(op, params);
    if (!created_op) return failed("op_create (op_query said supported)", created_op.error().message);
    if (!impl_noted) {
      if (auto attrs = created_op->attributes(); attrs) {
        impl_noted = true;
        if (auto impl = get_string(*attrs, "impl")) ctx.note(fmt::format("impl: {}", *impl));
      }
    }
    std::vector<Buffer*> list(bufs.size());
    for (size_t i = 0; i < bufs.size(); ++i)
      list[i] = &device[static_cast<size_t>(bufs[i].alias_of >= 0 ? bufs[i].alias_of : static_cast<int>(i))];
    ctx.step(label + ": op_enqueue");
    Status st = created_op->enqueue(*stream, list);
    std::vector<Bytes> after(bufs.size());
    for (size_t i = 0; i < bufs.size() && st; ++i) {
      if (bufs[i].alias_of >= 0) continue;
      after[i].resize(images[i].bytes.size());
      st = stream->read(device[i], 0, after[i].data(), after[i].size());
    }
    if (st) st = stream->synchronize();
    if (!st) return failed("run", st.error().message);
    out.payloads.resize(bufs.size());
    bool bad = false;
    for (size_t i = 0; i < bufs.size(); ++i) {
      if (bufs[i].alias_of >= 0) continue;
      const validate::GuardDamage damage = validate::check_guards(images[i], after[i]);
      if (!damage.ok()) {
        ctx.fail(fmt::format("{}: out-of-bounds write in {}: {}", label, bufs[i].name, damage.describe()));
        bad = true;
      }
      out.payloads[i] = validate::payload_of(images[i], after[i]);
      bool written = bufs[i].written;
      for (const Buf& b : bufs)
        if (b.alias_of == static_cast<int>(i) && b.written) written = true;
      if (!written && out.payloads[i] != bufs[i].init) {
        ctx.fail(fmt::format("{}: input {} changed", label, bufs[i].name));
        bad = true;
      }
    }
    for (size_t i = 0; i < bufs.size(); ++i)
      if (bufs[i].alias_of >= 0) out.payloads[i] = out.payloads[static_cast<size_t>(bufs[i].alias_of)];
    out.outcome = bad ? Outcome::kFailed : Outcome::kRan;
    return out;
  }

  // Float output against its FP64 reference: every element finite, NMSE within `limit`.
  void compare(const std::string& label, const std::string& name, DType out_type, const Bytes& got,
               const std::vector<double>& want, double limit) {
    const std::vector<double> g = doubles_of(out_type, got);
    for (size_t i = 0; i < g.size(); ++i) {
      if (!std::isfinite(g[i])) {
        ctx.fail(fmt::format("{}: {}[{}] is {} (reference {:.6g}); {} of {} elements checked", label, name, i,
                             g[i], want[i], i, g.size()));
        return;
      }
    }
    const double e = validate::ref::nmse(g.data(), want.data(), g.size());
    if (!(e <= limit))
      ctx.fail(fmt::format("{}: {} NMSE {:.3g} above the limit {:.3g} ({} elements)", label, name, e, limit,
                           g.size()));
    else
      ctx.note(fmt::format("{}: {} NMSE {:.3g} (limit {:.3g})", label, name, e, limit));
  }

  // Exact comparison (copies, zeros the op must write, indices).
  void exact(const std::string& label, const std::string& name, const std::vector<double>& got,
             const std::vector<double>& want) {
    for (size_t i = 0; i < want.size(); ++i) {
      if (!(got[i] == want[i]) && !(std::isnan(got[i]) && std::isnan(want[i]))) {
        ctx.fail(fmt::format("{}: {}[{}] = {}, expected exactly {}", label, name, i, got[i], want[i]));
        return;
      }
    }
    ctx.note(fmt::format("{}: {} exact ({} elements)", label, name, want.size()));
  }

  // Handles op_query's unsupported answer: the first (base) case skips the check, later variants are
  // noted. Returns true when the case ran and should be compared.
  bool handle(const CaseRun& r, const std::string& label, bool base) {
    if (r.outcome == Outcome::kRan) {
      ++ran;
      return true;
    }
    if (r.outcome == Outcome::kUnsupported) {
      if (base) {
        ctx.skip(SkipKind::kNotApplicable,
                 fmt::format("{} {} not claimed by op_query: {}", op, dt(t), r.reason));
      } else {
        ++unsupported_variants;
        ctx.note(label + ": unsupported: " + r.reason);
      }
    }
    return false;
  }

  void finish() {
    if (ctx.done()) return;
    ctx.pass(fmt::format("{} case(s) within their limits, guards intact{}", ran,
                         unsupported_variants
                             ? fmt::format("; {} variant(s) unsupported (listed)", unsupported_variants)
                             : std::string()));
  }
};

inline KeyValues base_params(DType t) {
  return KeyValues{{"dtype", dt(t)}};
}

}  // namespace cmeter::conformance::op_check
