// Journal: the crash-safe record of a run. Every finished case is appended to
// results/<run id>/journal.jsonl as one JSON line and fsync'd before the next case starts, so a run
// killed at any point loses at most the case in flight. The first line describes the run; the final
// report is built from the journal's results, and `cmeter run --resume` reopens it to append the
// cases still to do.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/case_result.h"
#include "core/util/result.h"

namespace cmeter {

class Journal {
 public:
  // Creates (or truncates) `path` and writes the header line.
  static Result<Journal> create(const std::string& path, const nlohmann::json& header);
  // Opens an existing journal to append (resume). A torn last line (the writer was killed mid-line)
  // is cut off first, so the next line starts clean; `torn_bytes_removed` says how much was cut.
  static Result<Journal> open_append(const std::string& path, size_t* torn_bytes_removed = nullptr);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();
  // Appends one result line and fsyncs it.
  Status append(const CaseResult& result);
  // Appends a line that is not a result (e.g. {"type":"resume",...}); read_journal keeps it in events.
  Status append_event(const nlohmann::json& event);
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
  std::vector<nlohmann::json> events;  // lines whose type is not "result", in order
  int skipped_lines = 0;               // a torn last line (killed mid-write) is skipped, not fatal
};
Result<JournalContents> read_journal(const std::string& path);

}  // namespace cmeter
