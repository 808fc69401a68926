// Tests of check results (JSON both ways), the verdict and exit code, and the report renderings.
#include <doctest/doctest.h>

#include "core/conformance/conformance_report.h"

using namespace cmeter;
using namespace cmeter::conformance;

namespace {

CheckResult make(std::string id, CheckStatus status, SkipKind kind = SkipKind::kNone) {
  CheckResult r;
  r.id = std::move(id);
  r.title = "title of " + r.id;
  r.status = status;
  r.skip_kind = kind;
  r.reason = "because | of this";
  r.details = {"detail one", "detail two"};
  r.duration_s = 0.25;
  return r;
}

}  // namespace

TEST_CASE("conformance: a check result survives its JSON form") {
  CheckResult r = make("errors.buffer_create", CheckStatus::kSkip, SkipKind::kUnimplemented);
  auto back = check_result_from_json(to_json(r));
  REQUIRE(back.ok());
  CHECK(back->id == r.id);
  CHECK(back->title == r.title);
  CHECK(back->status == CheckStatus::kSkip);
  CHECK(back->skip_kind == SkipKind::kUnimplemented);
  CHECK(back->reason == r.reason);
  CHECK(back->details == r.details);
  CHECK(back->duration_s == doctest::Approx(0.25));
}

TEST_CASE("conformance: malformed check results are errors naming the field") {
  auto j = to_json(make("abi.version", CheckStatus::kPass));
  j.erase("status");
  auto missing = check_result_from_json(j);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("status") != std::string::npos);
  j["status"] = "MAYBE";
  CHECK_FALSE(check_result_from_json(j).ok());
  j["status"] = "SKIP";  // a SKIP needs its kind
  CHECK_FALSE(check_result_from_json(j).ok());
  j["skip_kind"] = "level";
  CHECK(check_result_from_json(j).ok());
  j["details"] = {1, 2};
  CHECK_FALSE(check_result_from_json(j).ok());
  CHECK_FALSE(check_result_from_json(nlohmann::json::array()).ok());
}

TEST_CASE("conformance: verdict and exit code") {
  ConformanceReport report;
  SUBCASE("nothing ran: incomplete") {
    CHECK(verdict(report) == Verdict::kIncomplete);
    CHECK(exit_code(verdict(report)) == 3);
  }
  SUBCASE("passes and not-applicable skips: conformant") {
    report.checks = {make("a", CheckStatus::kPass), make("b", CheckStatus::kSkip, SkipKind::kNotApplicable),
                     make("c", CheckStatus::kSkip, SkipKind::kLevel),
                     make("d", CheckStatus::kSkip, SkipKind::kNotSelected)};
    CHECK(verdict(report) == Verdict::kConformant);
    CHECK(exit_code(verdict(report)) == 0);
  }
  SUBCASE("an unimplemented skip: incomplete") {
    report.checks = {make("a", CheckStatus::kPass), make("b", CheckStatus::kSkip, SkipKind::kUnimplemented)};
    CHECK(verdict(report) == Verdict::kIncomplete);
    CHECK(exit_code(verdict(report)) == 3);
  }
  SUBCASE("a blocked skip without a failure (no device): incomplete") {
    report.checks = {make("a", CheckStatus::kPass), make("b", CheckStatus::kSkip, SkipKind::kBlocked)};
    CHECK(verdict(report) == Verdict::kIncomplete);
  }
  SUBCASE("any FAIL wins") {
    report.checks = {make("a", CheckStatus::kPass), make("b", CheckStatus::kSkip, SkipKind::kUnimplemented),
                     make("c", CheckStatus::kFail)};
    CHECK(verdict(report) == Verdict::kNonConformant);
    CHECK(exit_code(verdict(report)) == 1);
    const Tally t = tally(report);
    CHECK(t.pass == 1);
    CHECK(t.fail == 1);
    CHECK(t.skip == 1);
    CHECK(t.unimplemented == 1);
  }
}

TEST_CASE("conformance: JSON, Markdown and terminal renderings") {
  ConformanceReport report;
  report.plugin_path = "/x/libcmeter-demo.so";
  report.plugin_name = "demo";
  report.abi_major = 1;
  report.level = "full";
  report.plugin_attributes = {{"plugin.version", std::string("2.1")}};
  report.checks = {make("load.dlopen", CheckStatus::kPass), make("op.gemm.v1.f32", CheckStatus::kFail)};
  const auto j = to_json(report);
  CHECK(j["schema"] == kReportSchema);
  CHECK(j["summary"]["verdict"] == "non-conformant");
  CHECK(j["summary"]["exit_code"] == 1);
  CHECK(j["checks"].size() == 2);
  CHECK(j["checks"][1]["status"] == "FAIL");
  CHECK(j["plugin"]["attributes"]["plugin.version"] == "2.1");
  const std::string md = to_markdown(report);
  CHECK(md.find("**Verdict: non-conformant**") != std::string::npos);
  CHECK(md.find("| `op.gemm.v1.f32` | FAIL | because \\| of this |") != std::string::npos);  // pipes escaped
  CHECK(md.find("- detail two") != std::string::npos);
  const std::string term = to_terminal(report, false);
  CHECK(term.find("op.gemm.v1.f32") != std::string::npos);
  CHECK(term.find("detail one") != std::string::npos);  // details shown for failures
  CHECK(term.find("1 PASS, 1 FAIL, 0 SKIP") != std::string::npos);
  CHECK(term.find("\033[") == std::string::npos);
  CHECK(to_terminal(report, true).find("\033[31m") != std::string::npos);
}
