// Journal: the crash-safe record of a run. Every finished case is appended to
// results/<run id>/journal.jsonl as one JSON line and fsync'd before the next case starts, so a run
// killed at any point loses at most the case in flight. The first line describes the run; the final
// report is built from the journal's results.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/case_result.h"
#include "core/util/result.h"

namespace cmeter {

class Journal {
 public:
  // Creates (or truncates) `path` and writes the header line.
  static Result<Journal> create(const std::string& path, const nlohmann::json& header);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();
  // Appends one result line and fsyncs it.
  Status append(const CaseResult& result);
  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status write_line(const nlohmann::json& j);
  std::string path_;
  int fd_ = -1;
};

struct JournalContents {
  nlohmann::json header;
  std::vector<CaseResult> results;
  int skipped_lines = 0;  // a torn last line (killed mid-write) is skipped, not fatal
};
Result<JournalContents> read_journal(const std::string& path);

// Writes `text` to `path` atomically (temporary file, fsync, rename).
Status write_file_atomically(const std::string& path, const std::string& text);

}  // namespace cmeter
