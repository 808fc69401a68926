// Every profile shipped in profiles/ loads (a profile that only a GPU session or a lab runs is read by
// no other test, and a mistake in it would first show on the machine it was written for); llm-large,
// the llm-8b profile, carries the model and the three scenarios; and no model case larger than
// llm-tiny runs under the default watchdog (~70 s), which kills an llm-1b case on a CPU host before
// its accuracy pass ends (seen: cert-llm).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/profile/profile.h"

namespace cmeter::profile {

TEST_CASE("profile: every shipped profile loads") {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CMETER_SOURCE_DIR "/profiles")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    const Result<Profile> p = load_file(entry.path().string());
    INFO(entry.path().string());
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    CHECK(p->name == entry.path().stem().string());
    CHECK_FALSE(p->cases.empty());
    ++loaded;
  }
  CHECK(loaded >= 11);  // the 11 of this commit; a lost directory would load none
}

TEST_CASE("profile: llm-large runs llm-8b in the three scenarios after a triad") {
  const Result<Profile> p = load_file(CMETER_SOURCE_DIR "/profiles/llm-large.yaml");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  REQUIRE(p->cases.size() == 4);
  CHECK(p->cases.front().workload == "stream");
  for (const char* scenario : {"offline", "single_stream", "server"}) {
    const Case* c = find_case(*p, std::string("llm-8b[scenario=") + scenario + "]");
    REQUIRE_MESSAGE(c != nullptr, scenario);
    CHECK(std::get<std::string>(c->params.at("model")) == "llm-8b");
    CHECK(std::get<std::string>(c->params.at("dtype")) == "bf16");
  }
}

TEST_CASE("profile: every shipped inference case past llm-tiny has a watchdog of 10 minutes or more") {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CMETER_SOURCE_DIR "/profiles")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    const Result<Profile> p = load_file(entry.path().string());
    REQUIRE_MESSAGE(p.ok(), p.error().message);
    for (const Case& c : p->cases) {
      if (c.workload != "inference") continue;
      const auto model = c.params.find("model");
      if (model == c.params.end() || std::get<std::string>(model->second) == "llm-tiny") continue;
      INFO(entry.path().string() << ": " << c.id);
      CHECK(case_timeout_s(c.stats) >= 600);
      ++checked;
    }
  }
  CHECK(checked >= 8);  // llm.yaml's 3, llm-large's 3, standard's and cert-llm's
}

}  // namespace cmeter::profile
