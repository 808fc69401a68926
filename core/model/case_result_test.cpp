// CaseResult's JSON form: a result survives the round trip, and integer members that are floats or
// out of range (a forged or damaged journal or report: the report fuzzer's `"batch": 2.2e75`) read
// through json_fields (0 for a float or a negative count, past-int64 clamped) instead of reaching an
// undefined conversion.
#include "core/model/case_result.h"

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("case result: JSON round trip, and integers out of range or not integral never convert undefined") {
  CaseResult r;
  r.case_id = "gemm";
  r.workload = "gemm";
  r.device = "cpu:0";
  r.status = CaseStatus::kOk;
  r.method.batch = 12;
  r.method.warmup_runs = 3;
  r.method.rotation_sets = 2;
  r.method.rotation_bytes = 1ull << 40;
  Validation v;
  v.points = 64;
  v.failures = 1;
  r.validation = v;
  Metric m{"flops_per_s", "FLOP/s", true, {}};
  m.stats.n = 7;
  m.stats.median = 1e9;
  r.metrics.push_back(m);
  nlohmann::json j = to_json(r);
  auto back = case_result_from_json(j);
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
  CHECK(back->method.batch == 12);
  CHECK(back->method.warmup_runs == 3);
  CHECK(back->method.rotation_bytes == (1ull << 40));
  CHECK(back->validation->points == 64);
  CHECK(back->validation->failures == 1);
  CHECK(back->metrics[0].stats.n == 7);

  j["method"]["batch"] = 2.22222e75;                     // a float far past int64
  j["method"]["warmup_runs"] = 18446744073709551615ull;  // past int64
  j["method"]["rotation_bytes"] = -5;                    // negative into an unsigned
  j["validation"]["points"] = 1.5;
  j["metrics"][0]["statistics"]["n"] = -1e300;
  auto forged = case_result_from_json(j);
  REQUIRE_MESSAGE(forged.ok(), (forged.ok() ? "" : forged.error().message));
  CHECK(forged->method.batch == 0);
  CHECK(forged->method.warmup_runs == INT64_MAX);
  CHECK(forged->method.rotation_bytes == 0);
  CHECK(forged->validation->points == 0);
  CHECK(forged->metrics[0].stats.n == 0);
}

}  // namespace
}  // namespace cmeter
