// The shipped gpu-extra profile (tf32 / i8 / bf16->f32 GEMM, copy by kernel and by copy engine) loads,
// and its cases carry the parameters the CUDA plugin needs (compute, dtype_c, trans_a, engine).
#include <doctest/doctest.h>

#include "core/profile/profile.h"

namespace cmeter::profile {

TEST_CASE("profile: the shipped gpu-extra profile loads") {
  const Result<Profile> p = load_file(CMETER_SOURCE_DIR "/profiles/gpu-extra.yaml");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->name == "gpu-extra");
  CHECK(p->stats.min_samples == 20);
  CHECK(p->cases.size() == 5);
  const Case* tf32 = find_case(*p, "gemm-tf32-8192");
  REQUIRE(tf32 != nullptr);
  CHECK(std::get<std::string>(tf32->params.at("compute")) == "tf32");
  const Case* i8 = find_case(*p, "gemm-i8-8192");
  REQUIRE(i8 != nullptr);
  CHECK(std::get<std::string>(i8->params.at("dtype_c")) == "i32");
  CHECK(std::get<bool>(i8->params.at("trans_a")));
  REQUIRE(find_case(*p, "copy[engine=copy_engine]") != nullptr);
  CHECK(std::get<std::string>(find_case(*p, "copy[engine=kernel]")->params.at("engine")) == "kernel");
}

}  // namespace cmeter::profile
