// Decode MBU against the run's measured STREAM triad: the largest-array triad of the same device is
// the one used, named in the source; a declared peak keeps its own MBU; a device without a triad,
// or with only a failed one, gets none.
#include "core/run/decode_bandwidth.h"

#include <doctest/doctest.h>

namespace cmeter::run {
namespace {

CaseResult triad(const std::string& id, const std::string& device, int64_t bytes_per_array,
                 double bytes_per_s, CaseStatus status = CaseStatus::kOk, const std::string& kind = "triad") {
  CaseResult r;
  r.case_id = id;
  r.workload = "stream";
  r.device = device;
  r.status = status;
  r.params = {{"kind", kind}, {"bytes_per_array", bytes_per_array}};
  Metric m{"bytes_per_s", "B/s", true, {}};
  m.stats.median = bytes_per_s;
  r.metrics.push_back(m);
  return r;
}

CaseResult decode(const std::string& device, std::optional<double> bytes_per_s,
                  std::optional<double> declared_mbu) {
  CaseResult r;
  r.case_id = "llm";
  r.workload = "inference";
  r.device = device;
  r.status = CaseStatus::kOk;
  InferenceResult inf;
  inf.decode_bytes_per_s = bytes_per_s;
  inf.mbu_decode = declared_mbu;
  inf.mbu_bandwidth_source = declared_mbu ? "declared peak.mem.bytes_per_s" : "none (no peak)";
  r.inference = inf;
  return r;
}

TEST_CASE("decode bandwidth: MBU against the same device's largest-array STREAM triad of the run") {
  std::vector<CaseResult> results{
      triad("stream[small]", "cpu:0", 8 << 20, 90e9),  // cache-resident: not the one
      triad("stream[big]", "cpu:0", 128 << 20, 40e9),  // DRAM: the one
      triad("stream[copy]", "cpu:0", 512 << 20, 30e9, CaseStatus::kOk, "copy"),
      triad("stream[gpu]", "opencl:0", 128 << 20, 200e9),
      decode("cpu:0", 10e9, std::nullopt),
      decode("opencl:0", 50e9, 0.2),
  };
  relate_decode_to_stream(results);
  const InferenceResult& cpu = *results[4].inference;
  REQUIRE(cpu.mbu_decode_measured);
  CHECK(*cpu.mbu_decode_measured == doctest::Approx(0.25));
  CHECK(cpu.mbu_measured_source.find("stream[big]") != std::string::npos);
  CHECK(cpu.mbu_measured_source.find("40.0 GB/s") != std::string::npos);
  // No declared peak: the measured ratio is the MBU, said so.
  REQUIRE(cpu.mbu_decode);
  CHECK(*cpu.mbu_decode == doctest::Approx(0.25));
  CHECK(cpu.mbu_bandwidth_source == cpu.mbu_measured_source);
  // A declared peak keeps its MBU; the measured one is beside it.
  const InferenceResult& ocl = *results[5].inference;
  CHECK(*ocl.mbu_decode == doctest::Approx(0.2));
  CHECK(ocl.mbu_bandwidth_source == "declared peak.mem.bytes_per_s");
  CHECK(*ocl.mbu_decode_measured == doctest::Approx(0.25));
}

TEST_CASE("decode bandwidth: no triad, a failed triad or no decode figure relate nothing") {
  std::vector<CaseResult> results{
      triad("stream[bad]", "cpu:0", 128 << 20, 40e9, CaseStatus::kInvalid),
      decode("cpu:0", 10e9, std::nullopt),
      decode("cpu:1", 10e9, std::nullopt),
      decode("cpu:0", std::nullopt, std::nullopt),
  };
  relate_decode_to_stream(results);
  for (int i : {1, 2}) {
    const InferenceResult& inf = *results[static_cast<size_t>(i)].inference;
    CHECK_FALSE(inf.mbu_decode_measured);
    CHECK_FALSE(inf.mbu_decode);
    CHECK(inf.mbu_measured_source.find("no STREAM triad") != std::string::npos);
  }
  CHECK_FALSE(results[3].inference->mbu_decode_measured);
  CHECK(results[3].inference->mbu_measured_source.empty());
}

}  // namespace
}  // namespace cmeter::run
