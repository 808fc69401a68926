// Journal tests for resume: reopening to append cuts a torn last line first, events are kept apart
// from results, and a file that is not a journal is refused.
#include "core/report/journal.h"

#include <unistd.h>
#include <filesystem>

#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

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
    auto before = read_journal(path);  // a torn last line is skipped; its chain head continues
    REQUIRE(before.ok());
    CHECK(before->skipped_lines == 1);
    auto j = Journal::open_append(path, before->chain_head, &torn);
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
  auto again = Journal::open_append(path, c->chain_head, &torn);
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
  auto j = Journal::open_append(path, "");
  REQUIRE_FALSE(j.ok());
  CHECK(j.error().message.find("cannot resume") != std::string::npos);
  CHECK_FALSE(Journal::open_append(temp_journal("missing.jsonl"), "").ok());
}

TEST_CASE("journal: the hash chain refuses edited, removed, reordered and inserted lines, naming the line") {
  std::string path = temp_journal("chain.jsonl");
  std::string head;
  {
    auto j = Journal::create(path, {{"type", "run"}, {"run", {{"id", "r"}}}});
    REQUIRE(j.ok());
    for (const char* id : {"a", "b", "c"}) REQUIRE(j->append(result_for(id)).ok());
    head = j->chain_head();
  }
  auto good = read_journal(path);
  REQUIRE(good.ok());
  CHECK(good->chain_head == head);
  CHECK(good->result_lines == std::vector<int>{2, 3, 4});
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  auto write = [&](const std::vector<std::string>& ls) {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& l : ls) out << l << "\n";
  };
  auto refused_at = [&](const std::vector<std::string>& ls, int line) {
    write(ls);
    auto c = read_journal(path);
    INFO(line);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find(fmt::format("{}:{}:", path, line)) != std::string::npos);
  };
  auto edited = lines;
  edited[2].replace(edited[2].find("\"ok\""), 4, "\"ok\" ");  // whitespace: the same JSON, still fine
  write(edited);
  CHECK(read_journal(path).ok());
  edited = lines;
  const size_t at = edited[2].find("\"status\":\"ok\"");
  REQUIRE(at != std::string::npos);
  edited[2].replace(at, 13, "\"status\":\"noisy\"");
  refused_at(edited, 3);
  refused_at({lines[0], lines[1], lines[3]}, 3);             // removed
  refused_at({lines[0], lines[2], lines[1], lines[3]}, 2);   // reordered
  refused_at({lines[0], lines[1], lines[1], lines[2]}, 3);   // a duplicated line
  refused_at({lines[0], lines[1], "garbage", lines[2]}, 3);  // only the last line may be torn
  auto no_chain = nlohmann::json::parse(lines[1]);
  no_chain.erase("chain");
  refused_at({lines[0], no_chain.dump()}, 2);
}

}  // namespace cmeter
