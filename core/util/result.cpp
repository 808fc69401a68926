// String names of error codes, for messages and reports.
#include "core/util/result.h"

namespace cmeter {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnimplemented:
      return "unimplemented";
    case ErrorCode::kResourceExhausted:
      return "resource exhausted";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeviceLost:
      return "device lost";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kIo:
      return "i/o";
  }
  return "unknown";
}

}  // namespace cmeter
