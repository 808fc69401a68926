// TrainingResult's JSON form round-trips (the journal is read back on resume), non-finite numbers
// become null, and a result without runs is refused.
#include "core/model/training_result.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cmeter {
namespace {

TEST_CASE("training result: JSON round trip, null for unknown, runs required") {
  TrainingResult r;
  r.form = "mlp";
  r.model = "mlp-tiny";
  r.dtype = "bf16";
  r.parameters = 18432;
  r.target = 0.05;
  r.olympic_mean_s = 1.25;
  r.band_min_steps = 200;
  r.band_max_steps = 500;
  r.band_source = "host";
  r.op_paths["gemm.v1"] = "openblas";
  TrainingRun run;
  run.index = 1;
  run.seed = 0xfedcba9876543210ull;
  run.converged = true;
  run.time_to_quality_s = 1.5;
  run.steps = 300;
  run.host_quality = 0.049;
  run.trajectory_passed = true;
  run.curve.push_back({20, 0.1, 0.9, NAN, 0});
  r.runs.push_back(run);
  const nlohmann::json j = to_json(r);
  CHECK(j["runs"][0]["curve"][0]["quality"].is_null());
  CHECK(j["mfu"].is_null());
  CHECK(j["runs"][0]["seed"].get<uint64_t>() == run.seed);
  auto back = training_result_from_json(j);
  REQUIRE(back.ok());
  CHECK(to_json(*back) == j);
  CHECK(back->runs[0].seed == run.seed);
  CHECK(*back->band_min_steps == 200);
  nlohmann::json broken = j;
  broken.erase("runs");
  CHECK_FALSE(training_result_from_json(broken).ok());
}

}  // namespace
}  // namespace cmeter
