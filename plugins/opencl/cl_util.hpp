// plugins/opencl/cl_util.hpp - small helpers over the OpenCL C API: error names, typed info queries.
//
// Why this file exists: every OpenCL call returns a cl_int, and every device fact comes from a
// clGet*Info call with a two-step size/value protocol. Doing both once here keeps the plugin's error
// messages uniform ("clCreateBuffer failed: CL_INVALID_BUFFER_SIZE (-61)") and the queries short.
#ifndef CMETER_PLUGINS_OPENCL_CL_UTIL_HPP_
#define CMETER_PLUGINS_OPENCL_CL_UTIL_HPP_

#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <cmeter/plugin_sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cmeter::opencl {

// "CL_INVALID_VALUE (-30)"; unknown codes print their number.
std::string cl_error_name(cl_int code);

// The ABI error code that best describes an OpenCL failure (allocation failures are
// RESOURCE_EXHAUSTED, a lost device DEVICE_LOST, everything else INTERNAL).
CMTR_ErrorCode abi_code_for(cl_int code);

// An error object "<what>: <call> failed: CL_... (n)".
CMTR_Error* cl_failure(const std::string& what, const char* call, cl_int code);

std::string device_string(cl_device_id device, cl_device_info param);
std::string platform_string(cl_platform_id platform, cl_platform_info param);

// A fixed-size device query; nullopt when the driver rejects it (unknown vendor query, wrong size).
template <class T>
std::optional<T> device_value(cl_device_id device, cl_device_info param) {
  T value{};
  size_t got = 0;
  if (clGetDeviceInfo(device, param, sizeof value, &value, &got) != CL_SUCCESS || got != sizeof value)
    return std::nullopt;
  return value;
}

// Raw bytes of a device query (for structs whose size varies by driver); empty on failure.
std::vector<unsigned char> device_bytes(cl_device_id device, cl_device_info param);

// True when the space-separated extension list names `extension` exactly.
bool has_extension(const std::string& extensions, const std::string& extension);

}  // namespace cmeter::opencl

#endif  // CMETER_PLUGINS_OPENCL_CL_UTIL_HPP_
