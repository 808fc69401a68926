// plugins/opencl/runtime.cpp - per-device context, queues and the program cache (see runtime.hpp).
#include "runtime.hpp"

namespace cmeter::opencl {

DeviceState::~DeviceState() {
  for (auto& [key, program] : programs_) clReleaseProgram(program);
  if (setup_queue_ != nullptr) clReleaseCommandQueue(setup_queue_);
  if (context_ != nullptr) clReleaseContext(context_);
}

CMTR_Error* DeviceState::create_queue(const char* call, cl_command_queue* out) {
  const cl_queue_properties props[] = {CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0};
  cl_int err = CL_SUCCESS;
  cl_command_queue q = clCreateCommandQueueWithProperties(context_, device, props, &err);
  if (err != CL_SUCCESS || q == nullptr)
    return cl_failure(std::string(call) + " on " + label, "clCreateCommandQueueWithProperties", err);
  *out = q;
  return nullptr;
}

CMTR_Error* DeviceState::ensure_context(const char* call) {
  std::lock_guard<std::mutex> lock(mutex);
  if (context_ != nullptr) return nullptr;
  const cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                         reinterpret_cast<cl_context_properties>(platform), 0};
  cl_int err = CL_SUCCESS;
  cl_context ctx = clCreateContext(props, 1, &device, nullptr, nullptr, &err);
  if (err != CL_SUCCESS || ctx == nullptr)
    return cl_failure(std::string(call) + " on " + label, "clCreateContext", err);
  context_ = ctx;
  if (CMTR_Error* e = create_queue(call, &setup_queue_)) {
    clReleaseContext(context_);
    context_ = nullptr;
    return e;
  }
  return nullptr;
}

CMTR_Error* DeviceState::program(const std::string& what, const std::string& source,
                                 const std::string& options, cl_program* out, bool* from_cache) {
  if (from_cache != nullptr) *from_cache = false;
  if (CMTR_Error* e = ensure_context(what.c_str())) return e;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = options + '\n' + source;
  if (auto it = programs_.find(key); it != programs_.end()) {
    *out = it->second;
    if (from_cache != nullptr) *from_cache = true;
    return nullptr;
  }
  const char* text = source.c_str();
  const size_t length = source.size();
  cl_int err = CL_SUCCESS;
  cl_program program = clCreateProgramWithSource(context_, 1, &text, &length, &err);
  if (err != CL_SUCCESS || program == nullptr)
    return cl_failure(what + " on " + label, "clCreateProgramWithSource", err);
  err = clBuildProgram(program, 1, &device, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    std::string log;
    size_t size = 0;
    if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) == CL_SUCCESS &&
        size > 0) {
      log.resize(size);
      if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr) !=
          CL_SUCCESS)
        log.clear();
      while (!log.empty() && (log.back() == '\0' || log.back() == '\n' || log.back() == ' ')) log.pop_back();
    }
    constexpr size_t kMaxLog = 4000;
    if (log.size() > kMaxLog) log = log.substr(0, kMaxLog) + "\n[build log truncated]";
    clReleaseProgram(program);
    return sdk::make_error(CMTR_ERROR_INTERNAL, what + " on " + label + ": clBuildProgram failed: " +
                                                    cl_error_name(err) + " (options '" + options +
                                                    "'); build log:\n" + (log.empty() ? "(empty)" : log));
  }
  programs_.emplace(key, program);
  ++programs_built_;
  *out = program;
  return nullptr;
}

}  // namespace cmeter::opencl
