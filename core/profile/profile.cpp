// The profile model's small helpers and file access: reading a profile file (its bytes are hashed
// as read, so the report's SHA-256 is the file's), resolving `--profile quick` to a file in the
// search directories, formatting locations and parameter values, and the watchdog's deadline per case. YAML
// parsing and validation live in parse.cpp.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/ranges.h>

#include "core/profile/profile.h"
#include "core/util/files.h"

namespace cmeter::profile {

double case_timeout_s(const StatsSettings& stats) {
  if (stats.timeout_s > 0) return stats.timeout_s;
  return std::max(kTimeoutMinS, kTimeoutBaseS + kTimeoutBudgetFactor * (stats.warmup_min_s + stats.max_s));
}

std::string to_string(const SourceLocation& where) {
  return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

std::string to_string(const ParamValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&value)) return fmt::format("{}", *i);
  if (const double* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return std::get<std::string>(value);
}

const std::vector<std::string>& known_workloads() {
  static const std::vector<std::string> kWorkloads = {"gemm",      "fma_peak",       "stream",
                                                      "transfer",  "launch_latency", "copy",
                                                      "inference", "training",       "collective"};
  return kWorkloads;
}

Result<Profile> load_file(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return make_error(ErrorCode::kNotFound, "profile file '{}' not found", path);
  }
  if (std::filesystem::is_directory(status)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is a directory, not a profile file", path);
  }
  auto bytes = read_file(path);
  if (!bytes)
    return make_error(ErrorCode::kIo, "cannot {} profile file '{}': {}",
                      bytes.error().code == ErrorCode::kNotFound ? "open" : "read", path,
                      bytes.error().message);
  return load_string(*bytes, path);
}

namespace {

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

bool has_yaml_extension(const std::string& name) {
  const std::string ext = std::filesystem::path(name).extension().string();
  return ext == ".yaml" || ext == ".yml";
}

}  // namespace

Result<std::string> resolve_profile_path(const std::string& name_or_path,
                                         const std::vector<std::string>& search_dirs) {
  if (name_or_path.empty()) return make_error(ErrorCode::kInvalidArgument, "empty profile name");
  if (is_file(name_or_path)) return name_or_path;
  const bool bare = name_or_path.find('/') == std::string::npos;
  if (!bare) return make_error(ErrorCode::kNotFound, "profile file '{}' not found", name_or_path);

  const std::string file_name = has_yaml_extension(name_or_path) ? name_or_path : name_or_path + ".yaml";
  for (const std::string& dir : search_dirs) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / file_name;
    if (is_file(candidate)) return candidate.string();
  }
  return make_error(ErrorCode::kNotFound, "profile '{}' not found: no file '{}' here and no {} in {}",
                    name_or_path, name_or_path, file_name,
                    search_dirs.empty() ? std::string("(no search directories)")
                                        : fmt::format("{}", fmt::join(search_dirs, ", ")));
}

const Case* find_case(const Profile& profile, std::string_view id) {
  for (const Case& c : profile.cases) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace cmeter::profile
