// Tests for the physical ceilings and the trust rule for declared peaks.
#include "core/model/ceilings.h"

#include <doctest/doctest.h>

namespace cmeter::validate {
namespace {

TEST_CASE("ceilings: every catalogue peak key has one, above today's best devices") {
  for (const char* key :
       {"peak.flops.f64", "peak.flops.f32", "peak.flops.tf32", "peak.flops.f16", "peak.flops.bf16",
        "peak.flops.i8", "peak.flops.f16.vector", "peak.mem.bytes_per_s", "peak.link.bytes_per_s"}) {
    INFO(key);
    auto c = ceiling_for(key);
    REQUIRE(c);
    CHECK_FALSE(c->source.empty());
    CHECK(c->revisit == "2027-06");
  }
  CHECK_FALSE(ceiling_for("peak.flops.f16x"));
  CHECK_FALSE(ceiling_for("peak.source"));
  // The H200 figures measured in docs/results/h200.md stand well under them.
  CHECK(ceiling_for("peak.flops.f16")->value > 989.5e12);
  CHECK(ceiling_for("peak.mem.bytes_per_s")->value > 4.8e12);
  CHECK(ceiling_for("peak.link.bytes_per_s")->value > 64e9);
}

TEST_CASE("ceilings: declared peaks above a ceiling, or from an impossible clock, are untrusted") {
  KeyValues honest = {
      {"peak.flops.f32", 67e12}, {"clock.core.mhz", 1980.0}, {"peak.mem.bytes_per_s", 4.8e12}};
  CHECK_FALSE(untrusted_peak_reason(honest, "peak.flops.f32"));
  CHECK_FALSE(untrusted_peak_reason(honest, "peak.mem.bytes_per_s"));
  CHECK_FALSE(untrusted_peak_reason(honest, "peak.flops.f16"));  // not declared: nothing to distrust
  KeyValues absurd = {{"peak.flops.f32", 1e30}, {"peak.mem.bytes_per_s", 1e15}};
  auto why = untrusted_peak_reason(absurd, "peak.flops.f32");
  REQUIRE(why);
  CHECK(why->find("exceeds the ceiling 4e+14") != std::string::npos);
  CHECK(untrusted_peak_reason(absurd, "peak.mem.bytes_per_s"));
  // The CPU plugin on a VM whose timer ran fast measured a 10 GHz clock (docs/results/h200.md).
  KeyValues vm = {{"peak.flops.f32", 5.1e12}, {"clock.core.mhz", 10040.0}};
  auto clock = untrusted_peak_reason(vm, "peak.flops.f32");
  REQUIRE(clock);
  CHECK(clock->find("10040 MHz") != std::string::npos);
}

}  // namespace
}  // namespace cmeter::validate
