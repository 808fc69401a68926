// Journal tests for resume: reopening to append cuts a torn last line first, events are kept apart
// from results, and a file that is not a journal is refused.
#include "core/report/journal.h"

#include <unistd.h>
#include <filesystem>

#include <fstream>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

CaseResult result_for(const std::string& id) {
  CaseResult r;
  r.case_id = id;
  r.workload = "gemm";
  r.device = "cpu:0";
  r.status = CaseStatus::kOk;
  return r;
}

std::string temp_journal(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cmeter-journal-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("journal: open_append cuts a torn last line, then appends cleanly") {
  std::string path = temp_journal("torn.jsonl");
  {
    auto j = Journal::create(path, {{"type", "run"}, {"run", {{"id", "r"}}}});
    REQUIRE(j.ok());
    REQUIRE(j->append(result_for("a")).ok());
  }
  std::ofstream(path, std::ios::app) << "{\"case_id\": \"b\", \"tru";  // killed mid-line
  size_t torn = 0;
  {
    auto j = Journal::open_append(path, &torn);
    REQUIRE(j.ok());
    CHECK(torn == std::string("{\"case_id\": \"b\", \"tru").size());
    REQUIRE(j->append_event({{"type", "resume"}, {"utc", "now"}}).ok());
    REQUIRE(j->append(result_for("b")).ok());
  }
  auto c = read_journal(path);
  REQUIRE(c.ok());
  CHECK(c->skipped_lines == 0);
  REQUIRE(c->results.size() == 2);
  CHECK(c->results[0].case_id == "a");
  CHECK(c->results[1].case_id == "b");
  REQUIRE(c->events.size() == 1);
  CHECK(c->events[0]["type"] == "resume");
  CHECK(read_all(path).find("tru") == std::string::npos);

  // Nothing torn: nothing cut.
  auto again = Journal::open_append(path, &torn);
  REQUIRE(again.ok());
  CHECK(torn == 0);
}

TEST_CASE("journal: what is not a journal is refused with the file named") {
  std::string path = temp_journal("not.jsonl");
  std::ofstream(path) << "{\"hello\": 1}\n";
  auto c = read_journal(path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find(path + ":1") != std::string::npos);
  std::ofstream(path) << "no newline at all";
  auto j = Journal::open_append(path);
  REQUIRE_FALSE(j.ok());
  CHECK(j.error().message.find("cannot resume") != std::string::npos);
  CHECK_FALSE(Journal::open_append(temp_journal("missing.jsonl")).ok());
}

}  // namespace cmeter
