// Append-only JSONL journal with fsync per line.
#include "core/report/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "core/util/files.h"
#include "core/util/sha256.h"

namespace cmeter {

Result<Journal> Journal::create(const std::string& path, const nlohmann::json& header) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorCode::kIo, "{}: cannot create journal: {}", path, std::strerror(errno));
  Journal j(path, fd);
  CMETER_TRY(j.write_line(header));
  j.chain_ = sha256_hex(journal_line_text(header));
  return j;
}

std::string journal_line_text(const nlohmann::json& line) {
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string journal_chain_next(const std::string& previous, const nlohmann::json& line_without_chain) {
  return sha256_hex(previous + "\n" + journal_line_text(line_without_chain));
}

Result<Journal> Journal::open_append(const std::string& path, const std::string& chain_head,
                                     size_t* torn_bytes_removed) {
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
  j.chain_ = chain_head;
  return j;
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), chain_(std::move(other.chain_)) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::write_line(const nlohmann::json& j) {
  return write_all_and_sync(fd_, journal_line_text(j) + "\n", path_);
}

Status Journal::write_chained_line(nlohmann::json j) {
  j.erase("chain");
  // The chain is computed over the text as it will be read back (invalid UTF-8 already replaced).
  nlohmann::json canonical = nlohmann::json::parse(journal_line_text(j), nullptr, false);
  if (canonical.is_discarded()) canonical = j;
  std::string next = journal_chain_next(chain_, canonical);
  canonical["chain"] = next;
  CMETER_TRY(write_line(canonical));
  chain_ = std::move(next);
  return {};
}

Status Journal::append(const CaseResult& result) {
  nlohmann::json line = to_json(result);
  line["type"] = "result";
  return write_chained_line(std::move(line));
}

Status Journal::append_event(const nlohmann::json& event) {
  return write_chained_line(event);
}

Result<JournalContents> read_journal(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kIo, "{}: cannot open journal: {}", path, std::strerror(errno));
  JournalContents out;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  for (size_t i = 0; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i) + 1;
    if (lines[i].empty()) continue;
    auto j = nlohmann::json::parse(lines[i], nullptr, false);
    if (j.is_discarded()) {
      if (i + 1 == lines.size() && line_no > 1) {  // the line in flight when the writer was killed
        ++out.skipped_lines;
        continue;
      }
      return make_error(ErrorCode::kInvalidArgument,
                        "{}:{}: not a JSON line (only the last line may be torn)", path, line_no);
    }
    if (line_no == 1) {
      if (!j.is_object() || j.value("type", "") != "run")
        return make_error(ErrorCode::kInvalidArgument,
                          "{}:1: not a cmeter journal (the first line is not a run "
                          "header)",
                          path);
      out.header = j;
      out.chain_head = sha256_hex(journal_line_text(j));
      continue;
    }
    if (!j.is_object() || !j.contains("chain") || !j["chain"].is_string())
      return make_error(ErrorCode::kInvalidArgument,
                        "{}:{}: the line has no hash chain member (edited, or written by an older cmeter)",
                        path, line_no);
    const std::string recorded = j["chain"].get<std::string>();
    j.erase("chain");
    const std::string expected = journal_chain_next(out.chain_head, j);
    if (recorded != expected)
      return make_error(
          ErrorCode::kInvalidArgument,
          "{}:{}: the journal's hash chain breaks here (a line was edited, inserted, removed or "
          "reordered)",
          path, line_no);
    out.chain_head = expected;
    if (j.contains("type") && j["type"] != "result") {
      out.events.push_back(std::move(j));
      continue;
    }
    auto r = case_result_from_json(j);
    if (!r) return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path, line_no, r.error().message);
    out.results.push_back(std::move(r).value());
    out.result_lines.push_back(line_no);
  }
  return out;
}

}  // namespace cmeter
