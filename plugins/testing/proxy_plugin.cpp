// proxy_plugin.cpp - a test plugin that loads a real plugin (the CPU plugin by default) and forwards every
// call to it, except for one deliberate fault, so that the conformance checks and the model workload can
// be shown to catch a subtly wrong or a missing inference op on a plugin that is otherwise real.
//
// Modes (build-time PROXY_MODE, or the environment variable CMETER_PROXY_MODE, which wins):
//   rope_off_by_one  rope.v1 rotates every row one position further than POS says: each enqueue runs the
//                    real rope.v1 with the caller's POS, then once more, in the same stream, with a device
//                    buffer of ones made at op_create (R(p) then R(1) is R(p + 1)); asynchronous, no host
//                    round trip, every other op exact.
//   no_swiglu        swiglu.v1 is withheld: op_query answers unsupported, op_create UNIMPLEMENTED (after the
//                    real plugin has validated the parameters, so malformed requests stay INVALID_ARGUMENT).
//   adamw_no_decay   adamw.v1 is created with weight_decay = 0 whatever the caller asked: every update skips
//                    the decay term (the training workload's trajectory check must catch it).
//   wrong_grad_scale gemm.v1 with an f32 output (the training graph's weight gradients) runs with alpha
//                    scaled by -1 from the caller's 9th training step on (a step: a run of adamw.v1
//                    enqueues), faithful before: the gradients point the wrong way after the training
//                    workload's trajectory check (steps 1-4), which it passes, and training never reaches
//                    its target. A plugin that behaves only while it is checked, caught by the outcome.
//                    Steps count from the case's first adamw.v1 op_create, so a case's second run (same
//                    ops) is wrong from its first step.
// The underlying plugin is PROXY_TARGET (the CPU plugin's build path), or CMETER_PROXY_TARGET. The
// plugin's name (and so its device id prefix) is the mode's: `rope_off_by_one:0`, `no_swiglu:0`.
// Devices, buffers, streams and events are the underlying plugin's handles, passed through untouched.
#include <cmeter/plugin_abi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#ifndef PROXY_MODE
#define PROXY_MODE "rope_off_by_one"
#endif
#ifndef PROXY_TARGET
#define PROXY_TARGET "libcmeter-cpu.so"
#endif

struct CMTR_Error {
  int32_t code;
  std::string message;
};

namespace {

struct ProxyOp {
  CMTR_Op* inner = nullptr;
  CMTR_Buffer* ones = nullptr;  // rope_off_by_one: rows i32 ones
  CMTR_Op* wrong = nullptr;     // wrong_grad_scale: the same gemm with alpha x -1
};

// wrong_grad_scale: the steps run faithfully before the gradients turn (past every trajectory check's
// replayed steps: mlp 4, lm 2).
constexpr int64_t kFaithfulSteps = 8;

struct State {
  std::once_flag once;
  const CMTR_Api* inner = nullptr;
  std::string load_error;
  std::string mode;
  CMTR_Api api{};
  std::mutex mutex;
  std::set<const CMTR_Error*> errors;
  std::map<CMTR_Op*, ProxyOp*> ops;
  std::vector<CMTR_KeyValue> attributes;
  std::set<CMTR_Op*> adamw_ops;  // wrong_grad_scale: the underlying plugin's adamw.v1 handles
  int64_t steps = 0;             // wrong_grad_scale: runs of adamw.v1 enqueues seen
  bool last_was_adamw = false;
};

State& state() {
  static State s;
  return s;
}

CMTR_Error* make_error(int32_t code, std::string message) {
  auto* e = new (std::nothrow) CMTR_Error{code, "proxy " + state().mode + ": " + std::move(message)};
  if (e) {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().errors.insert(e);
  }
  return e;
}

bool own_error(const CMTR_Error* e) {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().errors.count(e) != 0;
}

ProxyOp* own_op(CMTR_Op* op) {
  std::lock_guard<std::mutex> lock(state().mutex);
  auto it = state().ops.find(op);
  return it == state().ops.end() ? nullptr : it->second;
}

bool name_is(CMTR_String name, const char* want) {
  return name.data != nullptr && name.size == std::strlen(want) &&
         std::memcmp(name.data, want, name.size) == 0;
}

void error_info(CMTR_Error_Info_Args* a) {
  if (a != nullptr && own_error(a->error)) {
    a->code = a->error->code;
    a->message = {a->error->message.data(), a->error->message.size()};
    return;
  }
  state().inner->error_info(a);
}

void error_destroy(CMTR_Error_Destroy_Args* a) {
  if (a != nullptr && own_error(a->error)) {
    {
      std::lock_guard<std::mutex> lock(state().mutex);
      state().errors.erase(a->error);
    }
    delete a->error;
    return;
  }
  state().inner->error_destroy(a);
}

CMTR_Error* plugin_initialize(CMTR_Plugin_Initialize_Args* a) {
  if (CMTR_Error* e = state().inner->plugin_initialize(a)) return e;
  // The same facts, under this proxy's name (its devices' id prefix).
  State& s = state();
  s.attributes.assign(a->attributes, a->attributes + a->num_attributes);
  bool named = false;
  for (CMTR_KeyValue& kv : s.attributes) {
    if (name_is(kv.key, "plugin.name")) {
      kv.string_value = {s.mode.data(), s.mode.size()};
      named = true;
    }
  }
  if (!named) {
    CMTR_KeyValue kv{};
    kv.key = {"plugin.name", 11};
    kv.type = CMTR_VALUE_STRING;
    kv.string_value = {s.mode.data(), s.mode.size()};
    s.attributes.push_back(kv);
  }
  a->attributes = s.attributes.data();
  a->num_attributes = s.attributes.size();
  return nullptr;
}

CMTR_Error* op_query(CMTR_Op_Query_Args* a) {
  if (CMTR_Error* e = state().inner->op_query(a)) return e;
  if (state().mode == "no_swiglu" && name_is(a->name, "swiglu.v1")) {
    static const char reason[] = "withheld by the no_swiglu test proxy";
    a->supported = 0;
    const size_t n = std::min(a->reason_buffer_size, sizeof(reason) - 1);
    if (a->reason_buffer != nullptr && n > 0) std::memcpy(a->reason_buffer, reason, n);
    a->reason_size = a->reason_buffer != nullptr ? n : 0;
  }
  return nullptr;
}

int64_t int_param(const CMTR_Op_Create_Args* a, const char* key) {
  for (size_t i = 0; i < a->num_params; ++i)
    if (name_is(a->params[i].key, key) && a->params[i].type == CMTR_VALUE_INT64)
      return a->params[i].int_value;
  return 0;
}

CMTR_Error* destroy_inner_op(CMTR_Op* op) {
  CMTR_Op_Destroy_Args d{};
  d.struct_size = CMTR_STRUCT_SIZE(CMTR_Op_Destroy_Args, op);
  d.op = op;
  return state().inner->op_destroy(&d);
}

bool string_param_is(const CMTR_Op_Create_Args* a, const char* key, const char* want) {
  for (size_t i = 0; i < a->num_params; ++i)
    if (name_is(a->params[i].key, key) && a->params[i].type == CMTR_VALUE_STRING)
      return name_is(a->params[i].string_value, want);
  return false;
}

// adamw_no_decay and wrong_grad_scale: the real op with one parameter changed.
CMTR_Error* create_altered(const CMTR_Op_Create_Args* a, CMTR_Op** out, const char* key,
                           double (*alter)(double)) {
  std::vector<CMTR_KeyValue> params(a->params, a->params + a->num_params);
  for (CMTR_KeyValue& kv : params)
    if (name_is(kv.key, key) && kv.type == CMTR_VALUE_DOUBLE) kv.double_value = alter(kv.double_value);
  CMTR_Op_Create_Args altered = *a;
  altered.params = params.data();
  CMTR_Error* e = state().inner->op_create(&altered);
  *out = altered.op;
  return e;
}

// wrong_grad_scale's gemm: the real op and its negated twin behind one proxy handle.
CMTR_Error* create_two_faced_gemm(CMTR_Op_Create_Args* a) {
  const CMTR_Api& in = *state().inner;
  if (CMTR_Error* e = in.op_create(a)) return e;
  CMTR_Op* faithful = a->op;
  a->op = nullptr;
  CMTR_Op* wrong = nullptr;
  if (CMTR_Error* e = create_altered(a, &wrong, "alpha", [](double alpha) { return -alpha; })) {
    destroy_inner_op(faithful);
    return e;
  }
  auto* p = new (std::nothrow) ProxyOp;
  if (p == nullptr) {
    destroy_inner_op(faithful);
    destroy_inner_op(wrong);
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "out of memory");
  }
  p->inner = faithful;
  p->wrong = wrong;
  auto* handle = reinterpret_cast<CMTR_Op*>(p);
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().ops[handle] = p;
  }
  a->op = handle;
  return nullptr;
}

CMTR_Error* op_create(CMTR_Op_Create_Args* a) {
  const CMTR_Api& in = *state().inner;
  if (state().mode == "adamw_no_decay" && name_is(a->name, "adamw.v1"))
    return create_altered(a, &a->op, "weight_decay", [](double) { return 0.0; });
  if (state().mode == "wrong_grad_scale" && name_is(a->name, "gemm.v1") &&
      string_param_is(a, "dtype_c", "f32"))
    return create_two_faced_gemm(a);
  if (CMTR_Error* e = in.op_create(a)) return e;
  if (state().mode == "wrong_grad_scale" && name_is(a->name, "adamw.v1")) {
    // A new adamw op: a new training case (its ops are made before its first step); its steps count
    // from zero.
    std::lock_guard<std::mutex> lock(state().mutex);
    state().adamw_ops.insert(a->op);
    state().steps = 0;
    state().last_was_adamw = false;
    return nullptr;
  }
  if (state().mode == "no_swiglu" && name_is(a->name, "swiglu.v1")) {
    if (CMTR_Error* e = destroy_inner_op(a->op)) {
      CMTR_Error_Destroy_Args d{CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error), nullptr, e};
      in.error_destroy(&d);
    }
    a->op = nullptr;
    return make_error(CMTR_ERROR_UNIMPLEMENTED, "swiglu.v1 is withheld");
  }
  if (state().mode != "rope_off_by_one" || !name_is(a->name, "rope.v1")) return nullptr;
  // A device buffer of `rows` i32 ones, for the second rotation.
  const int64_t rows = int_param(a, "rows");
  auto* p = new (std::nothrow) ProxyOp;
  if (p == nullptr) {
    destroy_inner_op(a->op);
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "out of memory");
  }
  p->inner = a->op;
  std::vector<int32_t> ones(static_cast<size_t>(rows > 0 ? rows : 1), 1);
  CMTR_Buffer_Create_Args bc{};
  bc.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Create_Args, buffer);
  bc.device = a->device;
  bc.size_bytes = ones.size() * 4;
  bc.memory_kind = CMTR_MEMORY_DEVICE;
  CMTR_Error* e = in.buffer_create(&bc);
  CMTR_Stream_Create_Args sc{};
  sc.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Create_Args, stream);
  sc.device = a->device;
  if (e == nullptr) e = in.stream_create(&sc);
  if (e == nullptr) {
    p->ones = bc.buffer;
    CMTR_Buffer_Write_Args w{};
    w.struct_size = CMTR_STRUCT_SIZE(CMTR_Buffer_Write_Args, size_bytes);
    w.stream = sc.stream;
    w.buffer = bc.buffer;
    w.host_pointer = ones.data();
    w.size_bytes = bc.size_bytes;
    e = in.buffer_write(&w);
    CMTR_Stream_Synchronize_Args sy{};
    sy.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Synchronize_Args, stream);
    sy.stream = sc.stream;
    if (e == nullptr) e = in.stream_synchronize(&sy);
    CMTR_Stream_Destroy_Args sd{};
    sd.struct_size = CMTR_STRUCT_SIZE(CMTR_Stream_Destroy_Args, stream);
    sd.stream = sc.stream;
    if (CMTR_Error* e2 = in.stream_destroy(&sd)) {
      if (e == nullptr) e = e2;
    }
  }
  if (e != nullptr) {
    if (p->ones != nullptr) {
      CMTR_Buffer_Destroy_Args bd{CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer), nullptr, p->ones};
      in.buffer_destroy(&bd);
    }
    destroy_inner_op(p->inner);
    delete p;
    a->op = nullptr;
    return e;
  }
  auto* handle = reinterpret_cast<CMTR_Op*>(p);
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().ops[handle] = p;
  }
  a->op = handle;
  return nullptr;
}

CMTR_Error* op_attributes(CMTR_Op_Attributes_Args* a) {
  ProxyOp* p = a != nullptr ? own_op(a->op) : nullptr;
  if (p == nullptr) return state().inner->op_attributes(a);
  CMTR_Op* mine = a->op;
  a->op = p->inner;
  CMTR_Error* e = state().inner->op_attributes(a);
  a->op = mine;
  return e;
}

// wrong_grad_scale: counts training steps (each run of adamw.v1 enqueues is one step's update).
void count_steps(const CMTR_Op* op) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  const bool adamw = s.adamw_ops.count(const_cast<CMTR_Op*>(op)) != 0;
  if (adamw && !s.last_was_adamw) ++s.steps;
  s.last_was_adamw = adamw;
}

bool past_faithful_steps() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().steps >= kFaithfulSteps;
}

CMTR_Error* op_enqueue(CMTR_Op_Enqueue_Args* a) {
  if (a != nullptr && state().mode == "wrong_grad_scale") count_steps(a->op);
  ProxyOp* p = a != nullptr ? own_op(a->op) : nullptr;
  if (p == nullptr) return state().inner->op_enqueue(a);
  CMTR_Op_Enqueue_Args fwd = *a;
  fwd.op = p->inner;
  if (p->wrong != nullptr) {
    if (past_faithful_steps()) fwd.op = p->wrong;
    return state().inner->op_enqueue(&fwd);
  }
  if (CMTR_Error* e = state().inner->op_enqueue(&fwd)) return e;
  // The fault: rotate X once more, by one position.
  CMTR_Buffer* second[2] = {a->buffers[0], p->ones};
  fwd.buffers = second;
  fwd.num_buffers = 2;
  return state().inner->op_enqueue(&fwd);
}

CMTR_Error* op_destroy(CMTR_Op_Destroy_Args* a) {
  ProxyOp* p = a != nullptr ? own_op(a->op) : nullptr;
  if (p == nullptr) {
    if (a != nullptr) {
      std::lock_guard<std::mutex> lock(state().mutex);
      state().adamw_ops.erase(a->op);
    }
    return state().inner->op_destroy(a);
  }
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().ops.erase(a->op);
  }
  CMTR_Error* e = destroy_inner_op(p->inner);
  if (p->wrong != nullptr)
    if (CMTR_Error* e2 = destroy_inner_op(p->wrong)) {
      if (e == nullptr) e = e2;
    }
  if (p->ones != nullptr) {
    CMTR_Buffer_Destroy_Args bd{CMTR_STRUCT_SIZE(CMTR_Buffer_Destroy_Args, buffer), nullptr, p->ones};
    if (CMTR_Error* e2 = state().inner->buffer_destroy(&bd)) {
      if (e == nullptr) e = e2;
    }
  }
  delete p;
  return e;
}

// The table when the underlying plugin cannot be loaded: initialise says why.
CMTR_Error* failed_initialize(CMTR_Plugin_Initialize_Args*) {
  return make_error(CMTR_ERROR_UNAVAILABLE, state().load_error);
}
void own_error_info(CMTR_Error_Info_Args* a) {
  if (a == nullptr || a->error == nullptr) return;
  a->code = a->error->code;
  a->message = {a->error->message.data(), a->error->message.size()};
}
void own_error_destroy(CMTR_Error_Destroy_Args* a) {
  if (a == nullptr || !own_error(a->error)) return;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    state().errors.erase(a->error);
  }
  delete a->error;
}
CMTR_Error* unavailable_devices(CMTR_Plugin_Devices_Args*) {
  return make_error(CMTR_ERROR_UNAVAILABLE, state().load_error);
}
CMTR_Error* unavailable_attributes(CMTR_Device_Attributes_Args*) {
  return make_error(CMTR_ERROR_UNAVAILABLE, state().load_error);
}

void build() {
  State& s = state();
  const char* mode = std::getenv("CMETER_PROXY_MODE");
  s.mode = mode != nullptr && *mode != '\0' ? mode : PROXY_MODE;
  const char* target = std::getenv("CMETER_PROXY_TARGET");
  const std::string path = target != nullptr && *target != '\0' ? target : PROXY_TARGET;
  if (s.mode != "rope_off_by_one" && s.mode != "no_swiglu" && s.mode != "adamw_no_decay" &&
      s.mode != "wrong_grad_scale")
    s.load_error = "unknown mode '" + s.mode + "'";
  void* lib = s.load_error.empty() ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  auto* get = lib != nullptr ? reinterpret_cast<CMTR_GetApiFn*>(dlsym(lib, CMTR_GET_API_SYMBOL)) : nullptr;
  s.inner = get != nullptr ? get() : nullptr;
  if (s.inner == nullptr || s.inner->struct_size < CMTR_API_STRUCT_SIZE_1_0) {
    if (s.load_error.empty()) {
      const char* why = dlerror();
      s.load_error =
          "cannot load the underlying plugin " + path + ": " + (why != nullptr ? why : "no usable table");
    }
    s.inner = nullptr;
    s.api.struct_size = CMTR_API_STRUCT_SIZE_1_0;
    s.api.abi_major = CMTR_ABI_MAJOR;
    s.api.abi_minor = 0;
    s.api.error_info = own_error_info;
    s.api.error_destroy = own_error_destroy;
    s.api.plugin_initialize = failed_initialize;
    s.api.plugin_devices = unavailable_devices;
    s.api.device_attributes = unavailable_attributes;
    return;
  }
  std::memcpy(&s.api, s.inner, std::min(sizeof(CMTR_Api), s.inner->struct_size));
  s.api.struct_size = std::min(sizeof(CMTR_Api), s.inner->struct_size);
  s.api.error_info = error_info;
  s.api.error_destroy = error_destroy;
  s.api.plugin_initialize = plugin_initialize;
  s.api.op_query = op_query;
  s.api.op_create = op_create;
  s.api.op_attributes = op_attributes;
  s.api.op_enqueue = op_enqueue;
  s.api.op_destroy = op_destroy;
}

}  // namespace

extern "C" CMTR_EXPORT const CMTR_Api* cmeter_plugin_get_api(void) {
  std::call_once(state().once, build);
  return &state().api;
}
