// Append-only JSONL journal with fsync per line.
#include "core/report/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "core/util/files.h"

namespace cmeter {

Result<Journal> Journal::create(const std::string& path, const nlohmann::json& header) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorCode::kIo, "{}: cannot create journal: {}", path, std::strerror(errno));
  Journal j(path, fd);
  CMETER_TRY(j.write_line(header));
  return j;
}

Result<Journal> Journal::open_append(const std::string& path, size_t* torn_bytes_removed) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kIo, "{}: cannot open journal: {}", path, std::strerror(errno));
  Journal j(path, fd);
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return make_error(ErrorCode::kIo, "{}: seek failed: {}", path, std::strerror(errno));
  // Find the end of the last complete line, reading backwards in blocks.
  off_t keep = 0;
  char buf[4096];
  for (off_t end = size; end > 0 && keep == 0;) {
    off_t begin = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - begin), begin);
    if (n < 0) return make_error(ErrorCode::kIo, "{}: read failed: {}", path, std::strerror(errno));
    for (ssize_t i = n - 1; i >= 0; --i)
      if (buf[i] == '\n') {
        keep = begin + i + 1;
        break;
      }
    end = begin;
  }
  if (keep == 0)
    return make_error(ErrorCode::kInvalidArgument, "{}: no complete header line; cannot resume", path);
  if (keep < size) {
    if (::ftruncate(fd, keep) != 0 || ::fsync(fd) != 0)
      return make_error(ErrorCode::kIo, "{}: cannot cut the torn last line: {}", path, std::strerror(errno));
  }
  if (torn_bytes_removed != nullptr) *torn_bytes_removed = static_cast<size_t>(size - keep);
  if (::lseek(fd, 0, SEEK_END) < 0)
    return make_error(ErrorCode::kIo, "{}: seek failed: {}", path, std::strerror(errno));
  return j;
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::write_line(const nlohmann::json& j) {
  return write_all_and_sync(fd_, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                            path_);
}

Status Journal::append(const CaseResult& result) {
  nlohmann::json line = to_json(result);
  line["type"] = "result";
  return write_line(line);
}

Status Journal::append_event(const nlohmann::json& event) {
  return write_line(event);
}

Result<JournalContents> read_journal(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kIo, "{}: cannot open journal: {}", path, std::strerror(errno));
  JournalContents out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      ++out.skipped_lines;
      continue;
    }
    if (line_no == 1) {
      if (!j.is_object() || j.value("type", "") != "run")
        return make_error(ErrorCode::kInvalidArgument,
                          "{}:1: not a cmeter journal (the first line is not a run "
                          "header)",
                          path);
      out.header = j;
      continue;
    }
    if (j.is_object() && j.contains("type") && j["type"] != "result") {
      out.events.push_back(std::move(j));
      continue;
    }
    auto r = case_result_from_json(j);
    if (!r) return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path, line_no, r.error().message);
    out.results.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace cmeter
