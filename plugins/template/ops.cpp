// ops.cpp - op_query, op_create, op_attributes, op_enqueue, op_destroy.
//
// Why this file exists: ops are the measured work, named and versioned (docs/abi-keys.md has the
// catalogue, parameters and buffer orders). op_query is cheap and answers "supported or not, and
// why" (unsupported is an answer, not an error); op_create does the expensive part once (kernel
// compile, algorithm choice); op_enqueue only launches. Parameters are checked here exactly as the
// catalogue defines them: an unknown key (except `hint.*`) or a wrong type is INVALID_ARGUMENT. The
// template parses every v1 op and answers "not implemented yet" for all of them.
#include <cstring>

#include "template.hpp"

namespace tmpl {
namespace {

// The catalogue v1 ops and their parameter keys.
struct OpSpec {
  const char* name;
  std::initializer_list<const char*> keys;
  std::initializer_list<const char*> required;
};

const OpSpec kOps[] = {
    {"gemm.v1",
     {"m", "n", "k", "dtype_a", "dtype_b", "dtype_c", "compute", "trans_a", "trans_b", "lda", "ldb", "ldc",
      "alpha", "beta", "batch", "stride_a", "stride_b", "stride_c"},
     {"m", "n", "k", "dtype_a"}},
    {"fma_peak.v1", {"dtype", "items", "iters", "lanes", "a", "b", "x0", "dx"}, {"dtype", "items", "iters"}},
    {"stream.v1", {"kind", "dtype", "n", "scalar"}, {"kind", "n"}},
    {"copy.v1", {"bytes"}, {"bytes"}},
    {"noop.v1", {}, {}},
};

const OpSpec* find_op(CMTR_String name) {
  const auto view = cmeter::sdk::view(name);
  for (const OpSpec& op : kOps)
    if (view == op.name) return &op;
  return nullptr;
}

// Checks keys and types; an empty string when the params are well-formed.
std::string parse_params(const OpSpec& op, const CMTR_KeyValue* params, size_t count) {
  cmeter::sdk::Params p(params, count, op.keys);
  for (const char* key : op.required) {
    // Strings and ints are told apart by the catalogue: dtype/kind keys are strings, the rest ints.
    const bool is_string = std::strncmp(key, "dtype", 5) == 0 || std::strcmp(key, "kind") == 0;
    if (is_string)
      p.require_string(key);
    else
      p.require_int(key);
  }
  // TODO(vendor): read the rest (p.int_or("batch", 1), p.bool_or("trans_a", false), ...) and reject bad
  // values (negative sizes, ld below the rows) with INVALID_ARGUMENT.
  return p.ok() ? std::string() : std::string(op.name) + ": " + p.error();
}

}  // namespace

CMTR_Error* check_op(const CMTR_Op* op, const char* function) {
  if (op == nullptr || op->magic != kOpMagic)
    return invalid(std::string(function) + ": op is NULL or not a " + kPluginName + " op");
  return nullptr;
}

CMTR_Error* op_query(CMTR_Op_Query_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Query_Args, reason_size);
  if (CMTR_Error* e = check_device(args->device, "op_query")) return e;
  if (args->num_params > 0 && args->params == nullptr) return invalid("op_query: params is NULL");
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    args->supported = 0;
    const OpSpec* op = find_op(args->name);
    if (op == nullptr) {
      cmeter::sdk::write_reason(args, "unknown op '" + std::string(cmeter::sdk::view(args->name)) + "'");
      return nullptr;
    }
    if (std::string problem = parse_params(*op, args->params, args->num_params); !problem.empty())
      return invalid("op_query: " + problem);
    // TODO(vendor): decide from the params (dtypes, sizes) whether this device runs it; say why not.
    cmeter::sdk::write_reason(args, std::string(kPluginName) + ": " + op->name + " is not implemented yet");
    return nullptr;
  });
}

CMTR_Error* op_create(CMTR_Op_Create_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Create_Args, op);
  if (CMTR_Error* e = check_device(args->device, "op_create")) return e;
  if (args->num_params > 0 && args->params == nullptr) return invalid("op_create: params is NULL");
  return cmeter::sdk::guarded([&]() -> CMTR_Error* {
    const OpSpec* op = find_op(args->name);
    if (op == nullptr)
      return cmeter::sdk::make_error(
          CMTR_ERROR_NOT_FOUND,
          std::string(kPluginName) + ": unknown op '" + std::string(cmeter::sdk::view(args->name)) + "'");
    if (std::string problem = parse_params(*op, args->params, args->num_params); !problem.empty())
      return invalid("op_create: " + problem);
    // TODO(vendor): compile / select the kernel once; args->op = new CMTR_Op{kOpMagic, ...};
    return unimplemented("op_create");
  });
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Attributes_Args, num_attributes);
  if (CMTR_Error* e = check_op(args->op, "op_attributes")) return e;
  // TODO(vendor): facts about the op, at least `impl` (which kernel or library call runs).
  return unimplemented("op_attributes");
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Enqueue_Args, num_buffers);
  if (CMTR_Error* e = check_op(args->op, "op_enqueue")) return e;
  if (CMTR_Error* e = check_stream(args->stream, "op_enqueue")) return e;
  // TODO(vendor): check the buffer count and sizes for this op (INVALID_ARGUMENT), then launch only.
  return unimplemented("op_enqueue");
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_SDK_CHECK_ARGS(args, CMTR_Op_Destroy_Args, op);
  if (CMTR_Error* e = check_op(args->op, "op_destroy")) return e;
  // TODO(vendor): release what op_create made; args->op->magic = 0; delete args->op;
  return unimplemented("op_destroy");
}

}  // namespace tmpl
