// plugins/opencl/cl_util.cpp - OpenCL error names and info queries (see cl_util.hpp).
#include "cl_util.hpp"

#include <sstream>

namespace cmeter::opencl {

std::string cl_error_name(cl_int code) {
  const char* name = nullptr;
  switch (code) {
#define CMETER_CL_CASE(x) \
  case x:                 \
    name = #x;            \
    break;
    CMETER_CL_CASE(CL_SUCCESS)
    CMETER_CL_CASE(CL_DEVICE_NOT_FOUND)
    CMETER_CL_CASE(CL_DEVICE_NOT_AVAILABLE)
    CMETER_CL_CASE(CL_COMPILER_NOT_AVAILABLE)
    CMETER_CL_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    CMETER_CL_CASE(CL_OUT_OF_RESOURCES)
    CMETER_CL_CASE(CL_OUT_OF_HOST_MEMORY)
    CMETER_CL_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
    CMETER_CL_CASE(CL_MEM_COPY_OVERLAP)
    CMETER_CL_CASE(CL_IMAGE_FORMAT_MISMATCH)
    CMETER_CL_CASE(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    CMETER_CL_CASE(CL_BUILD_PROGRAM_FAILURE)
    CMETER_CL_CASE(CL_MAP_FAILURE)
    CMETER_CL_CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    CMETER_CL_CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    CMETER_CL_CASE(CL_COMPILE_PROGRAM_FAILURE)
    CMETER_CL_CASE(CL_LINKER_NOT_AVAILABLE)
    CMETER_CL_CASE(CL_LINK_PROGRAM_FAILURE)
    CMETER_CL_CASE(CL_DEVICE_PARTITION_FAILED)
    CMETER_CL_CASE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    CMETER_CL_CASE(CL_INVALID_VALUE)
    CMETER_CL_CASE(CL_INVALID_DEVICE_TYPE)
    CMETER_CL_CASE(CL_INVALID_PLATFORM)
    CMETER_CL_CASE(CL_INVALID_DEVICE)
    CMETER_CL_CASE(CL_INVALID_CONTEXT)
    CMETER_CL_CASE(CL_INVALID_QUEUE_PROPERTIES)
    CMETER_CL_CASE(CL_INVALID_COMMAND_QUEUE)
    CMETER_CL_CASE(CL_INVALID_HOST_PTR)
    CMETER_CL_CASE(CL_INVALID_MEM_OBJECT)
    CMETER_CL_CASE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    CMETER_CL_CASE(CL_INVALID_IMAGE_SIZE)
    CMETER_CL_CASE(CL_INVALID_SAMPLER)
    CMETER_CL_CASE(CL_INVALID_BINARY)
    CMETER_CL_CASE(CL_INVALID_BUILD_OPTIONS)
    CMETER_CL_CASE(CL_INVALID_PROGRAM)
    CMETER_CL_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
    CMETER_CL_CASE(CL_INVALID_KERNEL_NAME)
    CMETER_CL_CASE(CL_INVALID_KERNEL_DEFINITION)
    CMETER_CL_CASE(CL_INVALID_KERNEL)
    CMETER_CL_CASE(CL_INVALID_ARG_INDEX)
    CMETER_CL_CASE(CL_INVALID_ARG_VALUE)
    CMETER_CL_CASE(CL_INVALID_ARG_SIZE)
    CMETER_CL_CASE(CL_INVALID_KERNEL_ARGS)
    CMETER_CL_CASE(CL_INVALID_WORK_DIMENSION)
    CMETER_CL_CASE(CL_INVALID_WORK_GROUP_SIZE)
    CMETER_CL_CASE(CL_INVALID_WORK_ITEM_SIZE)
    CMETER_CL_CASE(CL_INVALID_GLOBAL_OFFSET)
    CMETER_CL_CASE(CL_INVALID_EVENT_WAIT_LIST)
    CMETER_CL_CASE(CL_INVALID_EVENT)
    CMETER_CL_CASE(CL_INVALID_OPERATION)
    CMETER_CL_CASE(CL_INVALID_GL_OBJECT)
    CMETER_CL_CASE(CL_INVALID_BUFFER_SIZE)
    CMETER_CL_CASE(CL_INVALID_MIP_LEVEL)
    CMETER_CL_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
    CMETER_CL_CASE(CL_INVALID_PROPERTY)
    CMETER_CL_CASE(CL_INVALID_IMAGE_DESCRIPTOR)
    CMETER_CL_CASE(CL_INVALID_COMPILER_OPTIONS)
    CMETER_CL_CASE(CL_INVALID_LINKER_OPTIONS)
    CMETER_CL_CASE(CL_INVALID_DEVICE_PARTITION_COUNT)
    CMETER_CL_CASE(CL_PLATFORM_NOT_FOUND_KHR)
#undef CMETER_CL_CASE
    default:
      break;
  }
  return std::string(name != nullptr ? name : "unknown OpenCL error") + " (" + std::to_string(code) + ")";
}

CMTR_ErrorCode abi_code_for(cl_int code) {
  switch (code) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_INVALID_BUFFER_SIZE:
      return CMTR_ERROR_RESOURCE_EXHAUSTED;
    case CL_DEVICE_NOT_AVAILABLE:
      return CMTR_ERROR_UNAVAILABLE;
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
      return CMTR_ERROR_DEVICE_LOST;
    default:
      return CMTR_ERROR_INTERNAL;
  }
}

CMTR_Error* cl_failure(const std::string& what, const char* call, cl_int code) {
  return sdk::make_error(abi_code_for(code), what + ": " + call + " failed: " + cl_error_name(code));
}

namespace {
std::string trim_nul(std::string s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

std::string device_string(cl_device_id device, cl_device_info param) {
  size_t size = 0;
  if (clGetDeviceInfo(device, param, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetDeviceInfo(device, param, size, s.data(), nullptr) != CL_SUCCESS) return {};
  return trim_nul(std::move(s));
}

std::string platform_string(cl_platform_id platform, cl_platform_info param) {
  size_t size = 0;
  if (clGetPlatformInfo(platform, param, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (clGetPlatformInfo(platform, param, size, s.data(), nullptr) != CL_SUCCESS) return {};
  return trim_nul(std::move(s));
}

std::vector<unsigned char> device_bytes(cl_device_id device, cl_device_info param) {
  size_t size = 0;
  if (clGetDeviceInfo(device, param, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::vector<unsigned char> bytes(size);
  if (clGetDeviceInfo(device, param, size, bytes.data(), nullptr) != CL_SUCCESS) return {};
  return bytes;
}

bool has_extension(const std::string& extensions, const std::string& extension) {
  std::istringstream in(extensions);
  std::string word;
  while (in >> word)
    if (word == extension) return true;
  return false;
}

}  // namespace cmeter::opencl
