// plugins/cpu/ops.hpp - the CPU plugin's op catalogue: gemm.v1, fma_peak.v1, stream.v1, copy.v1,
// noop.v1 (semantics in docs/abi-keys.md).
//
// Why this file exists: op_query and op_create must agree exactly on what is supported, so both go
// through one planning function; op_query stops after the checks, op_create goes on to build the op
// (scratch buffers, kernel choice) so that op_enqueue only runs.
#ifndef CMETER_PLUGINS_CPU_OPS_HPP_
#define CMETER_PLUGINS_CPU_OPS_HPP_

#include <memory>
#include <string>
#include <string_view>

#include "runtime.hpp"

namespace cmeter::cpu {

struct OpPlan {
  using Status = sdk::OpStatus;
  static constexpr Status kSupported = Status::kSupported, kUnsupported = Status::kUnsupported,
                          kInvalid = Status::kInvalid, kUnknownOp = Status::kUnknownOp;
  Status status = kInvalid;
  std::string reason;           // why not supported / what is invalid
  CMTR_Error* error = nullptr;  // kFailed only (the CPU plans never fail so)
  std::unique_ptr<Op> op;       // set when `create` and kSupported
};

OpPlan plan_op(const Runtime& rt, std::string_view name, const CMTR_KeyValue* params, size_t num_params,
               bool create);

// The op names this plugin implements, for messages.
const char* op_names();

}  // namespace cmeter::cpu

#endif  // CMETER_PLUGINS_CPU_OPS_HPP_
