// Journal: the crash-safe record of a run. Every finished case is appended to
// results/<run id>/journal.jsonl as one JSON line and fsync'd before the next case starts, so a run
// killed at any point loses at most the case in flight. The first line describes the run; the final
// report is built from the journal's results, and `cmeter run --resume` reopens it to append the
// cases still to do.
//
// Every line after the header carries "chain": SHA-256 (hex) of the previous line's chain value (the
// header's: SHA-256 of its text) and this line's text without its chain member. Editing, inserting,
// removing or reordering a line breaks the chain from that line on, and read_journal refuses it
// naming the line; the head (the last line's chain) goes into the report (run.settings.journal_chain),
// so a signed report also pins down the journal it was built from.
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
  // `chain_head` is the chain value of the journal's last whole line (JournalContents::chain_head).
  static Result<Journal> open_append(const std::string& path, const std::string& chain_head,
                                     size_t* torn_bytes_removed = nullptr);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();
  // Appends one result line and fsyncs it.
  Status append(const CaseResult& result);
  // Appends a line that is not a result (e.g. {"type":"resume",...}); read_journal keeps it in events.
  Status append_event(const nlohmann::json& event);
  const std::string& path() const { return path_; }
  // The chain value of the last line written (the header's digest before any result).
  const std::string& chain_head() const { return chain_; }

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status write_line(const nlohmann::json& j);
  Status write_chained_line(nlohmann::json j);
  std::string path_;
  int fd_ = -1;
  std::string chain_;
};

// The chain value of a line (journal.h, above): from the previous value and the line without "chain".
std::string journal_chain_next(const std::string& previous, const nlohmann::json& line_without_chain);
// The one text form of a journal line.
std::string journal_line_text(const nlohmann::json& line);

struct JournalContents {
  nlohmann::json header;
  std::vector<CaseResult> results;
  std::vector<int> result_lines;       // the line number of each result (1-based, the header is 1)
  std::vector<nlohmann::json> events;  // lines whose type is not "result", in order
  int skipped_lines = 0;               // a torn last line (killed mid-write) is skipped, not fatal
  std::string chain_head;              // the chain value of the last whole line
};
// Refuses (naming the file and line) a journal whose chain breaks or whose middle holds a line that is
// not JSON; only the last line may be torn.
Result<JournalContents> read_journal(const std::string& path);

}  // namespace cmeter
