// SHA-256 (libsodium) for file and text digests: profile hashes, plugin file hashes, report integrity.
#pragma once

#include <string>
#include <string_view>

#include "core/util/result.h"

namespace cmeter {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Lower-case hex SHA-256 of a file's bytes; an Error naming the file if it cannot be read.
Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace cmeter
