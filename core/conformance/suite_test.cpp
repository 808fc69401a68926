// Tests of the conformance suite run in process against the test plugins: the correct stub passes,
// and each faulty variant fails exactly the checks its fault should fail (crash and hang faults are
// tested through the CLI and its worker processes, tests/sdk/plugin_check_e2e.py).
#include <doctest/doctest.h>

#include <set>

#include "core/conformance/plugin_checker.h"

using namespace cmeter;
using namespace cmeter::conformance;

namespace {

ConformanceReport check_in_process(const std::string& name, Level level = Level::kQuick) {
  CheckerOptions options;
  options.suite.plugin_path = std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-" + name + ".so";
  options.suite.level = level;
  options.in_process = true;
  return check_plugin(options);
}

std::set<std::string> failed(const ConformanceReport& report) {
  std::set<std::string> out;
  for (const auto& c : report.checks)
    if (c.status == CheckStatus::kFail) out.insert(c.id);
  return out;
}

const CheckResult& find(const ConformanceReport& report, const std::string& id) {
  for (const auto& c : report.checks)
    if (c.id == id) return c;
  FAIL("no check " << id);
  static CheckResult none;
  return none;
}

}  // namespace

TEST_CASE("conformance: the catalogue has unique ids, loading checks first") {
  const auto& catalogue = check_catalogue();
  std::set<std::string> ids;
  bool past_loading = false;
  for (const auto& c : catalogue) {
    CHECK(ids.insert(c.id).second);
    CHECK_FALSE(c.title.empty());
    if (!c.loads) past_loading = true;
    CHECK_FALSE((past_loading && c.loads));
  }
  CHECK(ids.count("load.dlopen"));
  CHECK(ids.count("events.host_agreement"));
  CHECK(ids.count("concurrency.two_threads"));
  CHECK(is_selected({}, "op.gemm.v1.f32"));
  CHECK(is_selected({"op.gemm*"}, "op.gemm.v1.f32"));
  CHECK_FALSE(is_selected({"op.gemm*", "events.*"}, "memory.round_trip"));
  CHECK(parse_level("full").ok());
  CHECK_FALSE(parse_level("fast").ok());
}

TEST_CASE("conformance: the stub plugin is conformant") {
  const auto report = check_in_process("stub");
  CHECK(failed(report).empty());
  CHECK(verdict(report) == Verdict::kConformant);
  CHECK(report.checks.size() == check_catalogue().size());
  CHECK(report.plugin_name == "stub");
  CHECK(report.device_id == "stub:0");
  CHECK(find(report, "op.gemm.v1.f32").status == CheckStatus::kPass);
  CHECK(find(report, "op.gemm.v1.f16").status == CheckStatus::kSkip);  // not claimed: a reason, not a failure
  CHECK(find(report, "op.gemm.v1.f16").skip_kind == SkipKind::kNotApplicable);
  CHECK(find(report, "lifecycle.no_growth").skip_kind == SkipKind::kLevel);
  for (const auto& c : report.checks)
    if (c.status == CheckStatus::kSkip) CHECK_MESSAGE(!c.reason.empty(), c.id);
}

TEST_CASE("conformance: --only runs the loading checks and the selected ones") {
  CheckerOptions options;
  options.suite.plugin_path = std::string(CMETER_TEST_PLUGIN_DIR) + "/libcmeter-stub.so";
  options.suite.only = {"op.copy.v1"};
  options.in_process = true;
  const auto report = check_plugin(options);
  CHECK(find(report, "plugin.load").status == CheckStatus::kPass);
  CHECK(find(report, "op.copy.v1").status == CheckStatus::kPass);
  CHECK(find(report, "memory.round_trip").skip_kind == SkipKind::kNotSelected);
  CHECK(verdict(report) == Verdict::kConformant);
}

TEST_CASE("conformance: each faulty plugin fails exactly its checks") {
  const std::vector<std::pair<std::string, std::set<std::string>>> expectations = {
      {"wronggemm", {"op.gemm.v1.f32", "op.gemm.v1.f64", "op.gemm.v1.offsets"}},
      {"toofast", {"events.host_agreement"}},
      {"badmajor", {"abi.version"}},
      {"smallapi", {"abi.table_size"}},
      {"nullinit", {"load.get_api"}},
      {"initfails", {"plugin.load"}},
      {"nosymbol", {"load.dlopen"}},
      {"needsmissing", {"load.dlopen"}},
      {"notaplugin", {"load.dlopen"}},
      {"no-such-file", {"load.dlopen"}},
  };
  for (const auto& [name, expected] : expectations) {
    const auto& name_value = name;  // clang 14 cannot capture a structured binding
    CAPTURE(name_value);
    const auto report = check_in_process(name);
    CHECK(failed(report) == expected);
    CHECK(exit_code(verdict(report)) == 1);
  }
}

TEST_CASE("conformance: failures say what went wrong") {
  const auto wrong = check_in_process("wronggemm");
  CHECK(find(wrong, "op.gemm.v1.f32").reason.find("outside tolerance") != std::string::npos);
  CHECK(find(wrong, "op.gemm.v1.f32").reason.find("m=17 n=19 k=23") != std::string::npos);
  const auto fast = check_in_process("toofast");
  CHECK(find(fast, "events.host_agreement").reason.find("disagrees with the host clock") !=
        std::string::npos);
  const auto major = check_in_process("badmajor");
  CHECK(find(major, "abi.version").reason.find("major 2") != std::string::npos);
  CHECK(find(major, "plugin.load").skip_kind == SkipKind::kBlocked);
  const auto init = check_in_process("initfails");
  CHECK(find(init, "plugin.load").reason.find("no device driver found") != std::string::npos);
}
