// Whole-file reading and writing, one way for the whole tool: reports, profiles, journals, keys and
// rendered formats are read with read_file and written with write_file_atomically, so a reader never
// sees half a file and a crash never leaves a truncated report where a good one was.
#pragma once

#include <string>
#include <string_view>

#include "core/util/result.h"

namespace cmeter {

// The whole file. On failure the error's code is kNotFound (cannot open: missing, unreadable, a
// directory) or kIo (a read failed), and its message is the reason only (e.g. "No such file or
// directory"), so the caller says which file it was and what it was for.
Result<std::string> read_file(const std::string& path);

// Writes `text` to `path` atomically: a temporary file beside it, fsync, rename.
Status write_file_atomically(const std::string& path, std::string_view text);

// Writes all of `data` to `fd` (retrying short writes and EINTR), then fsyncs it; `path` names the
// file in the error.
Status write_all_and_sync(int fd, std::string_view data, const std::string& path);

}  // namespace cmeter
