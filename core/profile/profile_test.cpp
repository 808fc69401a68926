// Tests for profile loading: the shipped profiles load, sweeps expand with predictable ids, stats
// override field by field, and every validation error points at the right file:line:column.
#include "core/profile/profile.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include "core/util/sha256.h"

namespace cmeter::profile {
namespace {

Result<Profile> load(std::string_view text) {
  return load_string(text, "t.yaml");
}

// The error message of loading `text`, or "" when it loads.
std::string error_of(std::string_view text) {
  const Result<Profile> p = load(text);
  if (p.ok()) return "";
  CHECK(p.error().code == ErrorCode::kInvalidArgument);
  return p.error().message;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.starts_with(prefix);
}

constexpr std::string_view kMinimal = R"(schema: 1
name: tiny
version: 0.1.0
cases:
  - id: c
    workload: copy
    params: {bytes: 1024}
)";

TEST_CASE("profile: a minimal profile loads with the default settings") {
  const Result<Profile> p = load(kMinimal);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->schema == 1);
  CHECK(p->name == "tiny");
  CHECK(p->version == "0.1.0");
  CHECK(p->description.empty());
  CHECK(p->path == "t.yaml");
  REQUIRE(p->cases.size() == 1);
  const Case& c = p->cases[0];
  CHECK(c.id == "c");
  CHECK(c.workload == "copy");
  CHECK(c.devices == "*");
  CHECK(std::get<int64_t>(c.params.at("bytes")) == 1024);
  CHECK(c.stats.min_samples == 5);
  CHECK(c.stats.noise == doctest::Approx(0.03));
  CHECK(c.stats.max_s == doctest::Approx(2.0));
  CHECK(to_string(c.where) == "t.yaml:5:5");
  CHECK(p->criteria.empty());
  CHECK(find_case(*p, "c") == &p->cases[0]);
  CHECK(find_case(*p, "d") == nullptr);
}

TEST_CASE("profile: param scalars resolve to bool, integer, float or string") {
  const Result<Profile> p = load(R"(schema: 1
name: t
version: 1
cases:
  - id: g
    workload: gemm
    params: {trans_a: true, m: 512, alpha: 1.5, beta: -2e-1, dtype: f16, quoted: "512", big: +7}
)");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  const auto& params = p->cases[0].params;
  CHECK(std::get<bool>(params.at("trans_a")) == true);
  CHECK(std::get<int64_t>(params.at("m")) == 512);
  CHECK(std::get<double>(params.at("alpha")) == 1.5);
  CHECK(std::get<double>(params.at("beta")) == -0.2);
  CHECK(std::get<std::string>(params.at("dtype")) == "f16");
  CHECK(std::get<std::string>(params.at("quoted")) == "512");
  CHECK(std::get<int64_t>(params.at("big")) == 7);
  CHECK(p->version == "1");
  CHECK(to_string(params.at("alpha")) == "1.5");
  CHECK(to_string(params.at("trans_a")) == "true");
}

TEST_CASE("profile: a sweep expands to the cartesian product, ids in the sweep's key order") {
  const Result<Profile> p = load(R"(schema: 1
name: t
version: 1
cases:
  - id: gemm
    workload: gemm
    params: {m: 64, n: 64, k: 64, dtype: f64}
    sweep: {n: [1024, 2048], dtype: [f32, f16, bf16]}
    devices: "opencl:*"
  - id: after
    workload: launch_latency
)");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  REQUIRE(p->cases.size() == 7);
  std::vector<std::string> ids;
  for (const Case& c : p->cases) ids.push_back(c.id);
  CHECK(ids == std::vector<std::string>{"gemm[n=1024,dtype=f32]", "gemm[n=1024,dtype=f16]",
                                        "gemm[n=1024,dtype=bf16]", "gemm[n=2048,dtype=f32]",
                                        "gemm[n=2048,dtype=f16]", "gemm[n=2048,dtype=bf16]", "after"});
  const Case& c = p->cases[4];
  CHECK(std::get<int64_t>(c.params.at("n")) == 2048);           // swept
  CHECK(std::get<std::string>(c.params.at("dtype")) == "f16");  // sweep overrides params
  CHECK(std::get<int64_t>(c.params.at("m")) == 64);             // kept
  CHECK(c.devices == "opencl:*");
  CHECK(c.workload == "gemm");
  CHECK(to_string(c.where) == "t.yaml:5:5");
  CHECK(p->cases[6].params.empty());
}

TEST_CASE("profile: case stats override the profile's, field by field") {
  const Result<Profile> p = load(R"(schema: 1
name: t
version: 1
stats: {min_samples: 20, min_s: 2, noise: 0.01, max_s: 60}
cases:
  - id: sustained
    workload: gemm
    stats: {min_s: 30, rotation_sets: 3}
  - id: plain
    workload: gemm
)");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->stats.min_samples == 20);
  CHECK(p->stats.min_s == 2);
  CHECK(p->stats.warmup_min_runs == 2);  // untouched default
  const StatsSettings& s = p->cases[0].stats;
  CHECK(s.min_s == 30);
  CHECK(s.rotation_sets == 3);
  CHECK(s.min_samples == 20);
  CHECK(s.noise == doctest::Approx(0.01));
  CHECK(s.max_s == 60);
  CHECK(p->cases[1].stats.min_s == 2);
  CHECK(p->cases[1].stats.rotation_sets == 2);
}

TEST_CASE("profile: criteria load, absolute and relative") {
  const Result<Profile> p = load(R"(schema: 1
name: t
version: 1
cases:
  - id: gemm
    workload: gemm
    sweep: {dtype: [f32]}
criteria:
  - id: eff
    metric: "gemm[dtype=f32].flops_per_s"
    devices: "cpu:*"
    comparison: ">="
    threshold: 0.5
    relative_to: peak.flops.f32
  - id: total
    metric: summary.fp32_flops_per_s
    comparison: ">"
    threshold: 1e9
)");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  REQUIRE(p->criteria.size() == 2);
  const Criterion& c = p->criteria[0];
  CHECK(c.id == "eff");
  CHECK(c.metric == "gemm[dtype=f32].flops_per_s");
  CHECK(c.devices == "cpu:*");
  CHECK(c.comparison == ">=");
  CHECK(c.threshold == 0.5);
  CHECK(c.relative_to == "peak.flops.f32");
  CHECK(to_string(c.where) == "t.yaml:9:5");
  CHECK(p->criteria[1].relative_to.empty());
  CHECK(p->criteria[1].devices == "*");
  CHECK(p->criteria[1].threshold == 1e9);
}

TEST_CASE("profile: sha256 is the text's digest and stable") {
  const Result<Profile> a = load(kMinimal);
  const Result<Profile> b = load(kMinimal);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->sha256 == sha256_hex(kMinimal));
  CHECK(a->sha256 == b->sha256);
  CHECK(a->sha256.size() == 64);
  const Result<Profile> c = load(std::string(kMinimal) + "# a comment changes the bytes\n");
  REQUIRE(c.ok());
  CHECK(c->sha256 != a->sha256);
}

TEST_CASE("profile: YAML syntax errors carry the parser's location") {
  const std::string e = error_of("schema: 1\nname: [a, b\nversion: 1\n");
  CHECK_MESSAGE(starts_with(e, "t.yaml:3:8: YAML syntax error: "), e);
  CHECK_MESSAGE(starts_with(error_of("schema: 1\nname: x\n  version: 1\n"), "t.yaml:3:10: YAML syntax error"),
                error_of("schema: 1\nname: x\n  version: 1\n"));
}

TEST_CASE("profile: the document must be one mapping") {
  CHECK(starts_with(error_of(""), "t.yaml:1:1: empty profile"));
  CHECK(starts_with(error_of("# nothing\n"), "t.yaml:1:1: empty profile"));
  CHECK(starts_with(error_of("- a\n- b\n"), "t.yaml:1:1: a profile must be a mapping"));
  CHECK(starts_with(error_of(std::string(kMinimal) + "---\nschema: 1\n"),
                    "t.yaml:8:1: a profile file holds one YAML document"));
  // yaml-cpp 0.7's LoadAll never returns on this (jbeder/yaml-cpp#1040); we must.
  CHECK(starts_with(error_of("# comment\n, b\nschema: 1\n"), "t.yaml:2:1: YAML syntax error"));
}

TEST_CASE("profile: schema missing or other than 1") {
  CHECK(error_of("name: t\nversion: 1\ncases: []\n") ==
        "t.yaml:1:1: missing required key 'schema' at the top level (this cmeter reads schema 1)");
  CHECK(error_of("name: t\nschema: 2\nversion: 1\nbogus: 1\n") ==
        "t.yaml:2:9: unsupported profile schema 2; this cmeter reads schema 1");
  CHECK(starts_with(error_of("schema: one\n"),
                    "t.yaml:1:9: 'schema' at the top level must be an integer, got 'one'"));
}

TEST_CASE("profile: unknown keys at every level, with the expected keys") {
  CHECK(error_of(std::string(kMinimal) + "extra: 1\n") ==
        "t.yaml:8:1: unknown key 'extra' at the top level (expected one of: schema, name, version, "
        "description, stats, cases, criteria, execution)");
  CHECK(error_of(R"(schema: 1
name: t
version: 1
cases:
  - id: gemm
    workload: gemm
    sampels: 5
)") == "t.yaml:7:5: unknown key 'sampels' in case 'gemm' (expected one of: id, workload, params, sweep, "
       "devices, stats)");
  CHECK(error_of(R"(schema: 1
name: t
version: 1
stats: {min_sample: 5}
cases: [{id: c, workload: copy}]
)") == "t.yaml:4:9: unknown key 'min_sample' in the profile's stats (expected one of: warmup_min_runs, "
       "warmup_min_s, sample_min_s, min_samples, min_s, noise, max_s, rotation_sets, timeout_s); did you "
       "mean 'min_samples'?");
  CHECK(starts_with(error_of(R"(schema: 1
name: t
version: 1
cases:
  - id: c
    workload: copy
    stats:
      maxs: 3
)"),
                    "t.yaml:8:7: unknown key 'maxs' in the stats of case 'c' (expected one of: "));
  CHECK(starts_with(error_of(R"(schema: 1
name: t
version: 1
cases: [{id: c, workload: copy}]
criteria:
  - id: k
    metric: c.bytes_per_s
    comparison: ">"
    threshold: 1
    relative: peak.mem.bytes_per_s
)"),
                    "t.yaml:10:5: unknown key 'relative' in criterion 'k' (expected one of: id, metric, "
                    "devices, comparison, threshold, relative_to); did you mean 'relative_to'?"));
}

TEST_CASE("profile: duplicate keys and missing required keys") {
  CHECK(error_of("schema: 1\nname: a\nname: b\nversion: 1\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:3:1: duplicate key 'name' at the top level (first at line 2, column 1)");
  CHECK(error_of("schema: 1\nversion: 1\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:1:1: missing required key 'name' at the top level");
  CHECK(error_of("schema: 1\nname: t\nversion: 1\ncases:\n  - id: c\n    params: {}\n") ==
        "t.yaml:5:5: missing required key 'workload' in case 'c'");
  CHECK(error_of("schema: 1\nname: t\nversion: 1\ncases:\n  - workload: copy\n") ==
        "t.yaml:5:5: missing required key 'id' in case #1");
}

TEST_CASE("profile: wrong types are named with their key") {
  const std::string head = "schema: 1\nname: t\nversion: 1\n";
  CHECK(error_of(head + "cases: {id: c}\n") ==
        "t.yaml:4:8: 'cases' at the top level must be a list, got a mapping");
  CHECK(error_of(head + "cases: []\n") == "t.yaml:4:8: 'cases' is empty: a profile needs at least one case");
  CHECK(error_of(head + "stats: {min_samples: five}\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:4:22: 'min_samples' in the profile's stats must be an integer, got 'five'");
  CHECK(error_of(head + "stats: {min_samples: 2.5}\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:4:22: 'min_samples' in the profile's stats must be an integer, got '2.5'");
  CHECK(error_of(head + "stats: {max_s: \"3\"}\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:4:16: 'max_s' in the profile's stats must be a number, got the string '3'");
  CHECK(error_of(head + "stats: [1]\ncases: [{id: c, workload: copy}]\n") ==
        "t.yaml:4:8: 'stats' at the top level must be a mapping, got a list");
  CHECK(error_of(head + "cases:\n  - id: c\n    workload: [copy]\n") ==
        "t.yaml:6:15: 'workload' in case 'c' must be a string, got a list");
  CHECK(error_of(head + "cases:\n  - id: c\n    workload: copy\n    params: {bytes: [1, 2]}\n") ==
        "t.yaml:7:21: param 'bytes' in case 'c' must be a scalar (bool, number or string), got a list");
  CHECK(error_of(head + "cases:\n  - id: c\n    workload: copy\n    params:\n      bytes:\n") ==
        "t.yaml:8:7: param 'bytes' in case 'c' must be a scalar (bool, number or string), got nothing");
  CHECK(error_of(head + "cases:\n  - id: c\n    workload: copy\n    params: {bytes: {a: 1}}\n") ==
        "t.yaml:7:21: param 'bytes' in case 'c' must be a scalar (bool, number or string), got a mapping");
  CHECK(
      error_of(head + "cases:\n  - id: c\n    workload: copy\n    params: {bytes: 99999999999999999999}\n") ==
      "t.yaml:7:21: param 'bytes' in case 'c' is out of range: 99999999999999999999");
  CHECK(error_of(head + "cases:\n  - copy\n") ==
        "t.yaml:5:5: case #1 must be a mapping with id, workload, params..., got a scalar");
}

TEST_CASE("profile: case ids are unique, also after sweep expansion") {
  const std::string head = "schema: 1\nname: t\nversion: 1\ncases:\n";
  CHECK(error_of(head + "  - {id: c, workload: copy}\n  - {id: c, workload: copy}\n") ==
        "t.yaml:6:5: duplicate case id 'c' (first defined at t.yaml:5:5)");
  CHECK(error_of(head + "  - {id: g, workload: gemm, sweep: {dtype: [f32, f16]}, params: {n: 512}}\n"
                        "  - {id: g, workload: gemm, sweep: {dtype: [f32]}, params: {n: 256}}\n") ==
        "t.yaml:6:5: duplicate case id 'g[dtype=f32]' (first defined at t.yaml:5:5)");
  CHECK(error_of(head + "  - {id: g, workload: gemm, sweep: {dtype: [f32, f16, f32]}}\n") ==
        "t.yaml:5:55: sweep 'dtype' in case 'g' lists 'f32' twice");
  CHECK(error_of(head + "  - {id: \"g[1]\", workload: gemm}\n") ==
        "t.yaml:5:10: case id 'g[1]' may hold only letters, digits and '-', '_', '.', '+'");
  CHECK(error_of(head + "  - {id: summary, workload: gemm}\n") ==
        "t.yaml:5:10: case id 'summary' is reserved (criteria use 'summary.<key>')");
}

TEST_CASE("profile: unknown workloads list the known ones") {
  CHECK(error_of("schema: 1\nname: t\nversion: 1\ncases:\n  - id: g\n    workload: gemmm\n") ==
        "t.yaml:6:15: unknown workload 'gemmm' in case 'g' (known: gemm, fma_peak, stream, transfer, "
        "launch_latency, copy, inference, training, collective); did you mean 'gemm'?");
}

TEST_CASE("profile: statistics out of range") {
  auto with_stats = [](std::string_view stats) {
    return error_of(fmt::format(
        "schema: 1\nname: t\nversion: 1\nstats: {}\ncases: [{{id: c, workload: copy}}]\n", stats));
  };
  CHECK(with_stats("{noise: 0}") ==
        "t.yaml:4:16: 'noise' in the profile's stats must be between 0 and 1 (exclusive), got 0");
  CHECK(with_stats("{noise: 1.5}") ==
        "t.yaml:4:16: 'noise' in the profile's stats must be between 0 and 1 (exclusive), got 1.5");
  CHECK(with_stats("{min_samples: 0}") ==
        "t.yaml:4:22: 'min_samples' in the profile's stats must be at least 1, got 0");
  CHECK(with_stats("{rotation_sets: 1}") ==
        "t.yaml:4:24: 'rotation_sets' in the profile's stats must be at least 2, got 1");
  CHECK(with_stats("{max_s: 0}") == "t.yaml:4:16: 'max_s' in the profile's stats must be positive, got 0");
  CHECK(with_stats("{min_s: 5, max_s: 3}") ==
        "t.yaml:4:26: 'max_s' (3) in the profile's stats must be at least 'min_s' (5)");
  CHECK(with_stats("{min_s: 5}") ==
        "t.yaml:4:16: 'max_s' (2) in the profile's stats must be at least 'min_s' (5)");
  CHECK(with_stats("{warmup_min_s: -1}") ==
        "t.yaml:4:23: 'warmup_min_s' in the profile's stats must not be negative, got -1");
  CHECK(with_stats("{warmup_min_runs: -1}") ==
        "t.yaml:4:26: 'warmup_min_runs' in the profile's stats must not be negative, got -1");
  CHECK(with_stats("{timeout_s: 1e300}") ==
        "t.yaml:4:20: 'timeout_s' in the profile's stats must be at most 86400 s (a day), got 1e+300");
  CHECK(with_stats("{max_s: 100000}") ==
        "t.yaml:4:16: 'max_s' in the profile's stats must be at most 86400 s (a day), got 100000");
  CHECK(with_stats("{timeout_s: .nan}") ==
        "t.yaml:4:20: 'timeout_s' in the profile's stats must be a number, got '.nan'");
  CHECK(with_stats("{min_samples: 9999999999}") ==
        "t.yaml:4:22: 'min_samples' in the profile's stats is out of range: 9999999999");

  // A case is checked with its effective settings, at its own keys.
  CHECK(error_of("schema: 1\nname: t\nversion: 1\nstats: {max_s: 10}\ncases:\n"
                 "  - {id: c, workload: copy, stats: {min_s: 30}}\n") ==
        "t.yaml:6:44: 'max_s' (10) in the stats of case 'c' must be at least 'min_s' (30)");
}

TEST_CASE("profile: sweeps must be non-empty lists of scalars") {
  const std::string head = "schema: 1\nname: t\nversion: 1\ncases:\n  - id: g\n    workload: gemm\n";
  CHECK(error_of(head + "    sweep: {dtype: []}\n") ==
        "t.yaml:7:20: sweep 'dtype' in case 'g' has no values");
  CHECK(error_of(head + "    sweep: {}\n") == "t.yaml:7:12: 'sweep' in case 'g' is empty");
  CHECK(error_of(head + "    sweep: {dtype: f32}\n") ==
        "t.yaml:7:20: sweep 'dtype' in case 'g' must be a list of values, got a scalar");
  CHECK(error_of(head + "    sweep: {dtype: [f32, [f16]]}\n") ==
        "t.yaml:7:26: sweep 'dtype' in case 'g': every value must be a scalar (bool, number or string), got "
        "a list");
}

TEST_CASE("profile: criteria comparisons and case references are checked") {
  const std::string head = R"(schema: 1
name: t
version: 1
cases:
  - id: gemm
    workload: gemm
    sweep: {dtype: [f32, f16]}
  - id: copy
    workload: copy
criteria:
)";
  CHECK(error_of(head + "  - {id: k, metric: copy.bytes_per_s, comparison: \"=>\", threshold: 1}\n") ==
        "t.yaml:11:51: unknown comparison '=>' in criterion 'k' (expected one of: >=, >, <=, <)");
  CHECK(error_of(head + "  - {id: k, metric: cpy.bytes_per_s, comparison: \">\", threshold: 1}\n") ==
        "t.yaml:11:21: metric 'cpy.bytes_per_s' in criterion 'k' names case 'cpy', which this profile does "
        "not define; did you mean 'copy'?");
  CHECK(error_of(head + "  - {id: k, metric: gemm.flops_per_s, comparison: \">\", threshold: 1}\n") ==
        "t.yaml:11:21: metric 'gemm.flops_per_s' in criterion 'k' names case 'gemm', which this profile does "
        "not define; 'gemm' is a sweep: name one of its cases, e.g. 'gemm[dtype=f32]'");
  CHECK(error_of(head +
                 "  - {id: k, metric: \"gemm[dtype=f64].flops_per_s\", comparison: \">\", threshold: 1}\n") ==
        "t.yaml:11:21: metric 'gemm[dtype=f64].flops_per_s' in criterion 'k' names case 'gemm[dtype=f64]', "
        "which this profile does not define; did you mean 'gemm[dtype=f16]'?");
  CHECK(error_of(head + "  - {id: k, metric: flops, comparison: \">\", threshold: 1}\n") ==
        "t.yaml:11:21: metric 'flops' in criterion 'k' must be '<case id>.<metric>' or 'summary.<key>'");
  CHECK(error_of(head + "  - {id: k, metric: copy.x, comparison: \">\", threshold: high}\n") ==
        "t.yaml:11:57: 'threshold' in criterion 'k' must be a number, got 'high'");
  CHECK(error_of(head +
                 "  - {id: k, metric: copy.x, comparison: \">\", threshold: 0, relative_to: peak.x}\n") ==
        "t.yaml:11:57: 'threshold' in criterion 'k' is a fraction of 'peak.x' and must be positive, got 0");
  CHECK(error_of(head + "  - {id: k, metric: copy.x, comparison: \">\"}\n") ==
        "t.yaml:11:5: missing required key 'threshold' in criterion 'k'");
  CHECK(error_of(head + "  - {id: k, metric: copy.x, comparison: \">\", threshold: 1}\n"
                        "  - {id: k, metric: copy.y, comparison: \">\", threshold: 1}\n") ==
        "t.yaml:12:10: duplicate criterion id 'k' (first defined at t.yaml:11:10)");
  // A metric of a case that failed to load is not reported twice.
  CHECK(error_of("schema: 1\nname: t\nversion: 1\ncases:\n  - {id: c, workload: cpy}\ncriteria:\n"
                 "  - {id: k, metric: c.x, comparison: \">\", threshold: 1}\n") ==
        "t.yaml:5:23: unknown workload 'cpy' in case 'c' (known: gemm, fma_peak, stream, transfer, "
        "launch_latency, copy, inference, training, collective); did you mean 'copy'?");
}

TEST_CASE("profile: every problem is reported, one line each, in file order") {
  const std::string e = error_of(R"(schema: 1
name: t
version: 1
stats: {noise: 2}
cases:
  - id: a
    workload: nope
  - id: b
    workload: copy
    colour: red
)");
  CHECK(
      e ==
      "t.yaml:4:16: 'noise' in the profile's stats must be between 0 and 1 (exclusive), got 2\n"
      "t.yaml:7:15: unknown workload 'nope' in case 'a' (known: gemm, fma_peak, stream, transfer, "
      "launch_latency, copy, inference, training, collective)\n"
      "t.yaml:10:5: unknown key 'colour' in case 'b' (expected one of: id, workload, params, sweep, devices, "
      "stats)");
}

TEST_CASE("profile: the shipped quick and standard profiles load") {
  const Result<Profile> quick = load_file(CMETER_SOURCE_DIR "/profiles/quick.yaml");
  REQUIRE_MESSAGE(quick.ok(), quick.error().message);
  CHECK(quick->name == "quick");
  CHECK(quick->path == CMETER_SOURCE_DIR "/profiles/quick.yaml");
  CHECK(quick->sha256 == sha256_file_hex(CMETER_SOURCE_DIR "/profiles/quick.yaml").value());
  CHECK(quick->stats.min_samples == 5);
  CHECK(quick->stats.min_s == doctest::Approx(0.2));
  CHECK(quick->stats.noise == doctest::Approx(0.03));
  CHECK(quick->stats.max_s == doctest::Approx(2.0));
  std::set<std::string> workloads;
  for (const Case& c : quick->cases) workloads.insert(c.workload);
  // Every device workload (training's mlp form since quick runs STREAM copy and triad only: CPU + PoCL
  // in ~52 s); `collective` (MPI, cluster runs only) is in profiles/cluster-tiny.yaml.
  CHECK(workloads.size() == known_workloads().size() - 1);
  CHECK(workloads.count("training") == 1);
  CHECK(workloads.count("collective") == 0);
  CHECK(quick->cases.size() == 18);
  CHECK(quick->execution == "sequential");
  CHECK(find_case(*quick, "llm-tiny-offline") != nullptr);
  REQUIRE(find_case(*quick, "gemm[dtype=bf16]") != nullptr);
  CHECK(std::get<int64_t>(find_case(*quick, "gemm[dtype=bf16]")->params.at("k")) == 512);
  CHECK(find_case(*quick, "transfer[direction=d2h,memory=pageable]") != nullptr);
  CHECK(find_case(*quick, "launch_latency[form=round_trip]") != nullptr);
  CHECK(quick->criteria.empty());

  const Result<Profile> standard = load_file(CMETER_SOURCE_DIR "/profiles/standard.yaml");
  REQUIRE_MESSAGE(standard.ok(), standard.error().message);
  CHECK(standard->name == "standard");
  CHECK(standard->stats.min_samples == 20);
  CHECK(standard->stats.noise == doctest::Approx(0.01));
  CHECK(standard->stats.max_s == 60);
  workloads.clear();
  for (const Case& c : standard->cases) workloads.insert(c.workload);
  CHECK(workloads.size() == known_workloads().size() - 1);
  const Case* headline = find_case(*standard, "gemm-f16-8192");
  const Result<Profile> node = load_file(CMETER_SOURCE_DIR "/profiles/node.yaml");
  REQUIRE_MESSAGE(node.ok(), node.error().message);
  CHECK(node->execution == "concurrent");
  const Result<Profile> cluster = load_file(CMETER_SOURCE_DIR "/profiles/cluster-tiny.yaml");
  REQUIRE_MESSAGE(cluster.ok(), cluster.error().message);
  CHECK(find_case(*cluster, "collective[op=alltoall,bytes=65536]") != nullptr);
  auto bad = load_string(
      "schema: 1\nname: x\nversion: 1\nexecution: parallel\ncases:\n  - id: a\n    workload: stream\n",
      "x.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("x.yaml:4:12: 'execution' is 'parallel'") != std::string::npos);
  CHECK(bad.error().message.find("'both'") != std::string::npos);
  auto both = load_string(
      "schema: 1\nname: x\nversion: 1\nexecution: both\ncases:\n  - id: a\n    workload: stream\n", "x.yaml");
  REQUIRE_MESSAGE(both.ok(), both.error().message);
  CHECK(both->execution == "both");
  REQUIRE(headline != nullptr);
  CHECK(headline->stats.min_s == 30);
  CHECK(headline->stats.min_samples == 20);
  CHECK(std::get<std::string>(headline->params.at("dtype")) == "f16");
  CHECK(find_case(*standard, "gemm-4096[dtype=f32]")->stats.min_s == 2);
  CHECK(std::get<int64_t>(
            find_case(*standard, "transfer[direction=h2d,memory=pinned]")->params.at("bytes")) == 268435456);
}

TEST_CASE("profile: load_file errors name the file") {
  const Result<Profile> missing = load_file("/nonexistent/p.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "profile file '/nonexistent/p.yaml' not found");
  const Result<Profile> dir = load_file(CMETER_SOURCE_DIR "/profiles");
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("profile: resolve_profile_path") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / fmt::format("cmeter-profile-test-{}", ::getpid());
  fs::remove_all(root);
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  std::ofstream(root / "b" / "mine.yaml") << kMinimal;
  std::ofstream(root / "a" / "other.yml") << kMinimal;
  const std::vector<std::string> dirs = {(root / "a").string(), (root / "b").string()};

  // An existing path is used as is.
  const std::string file = (root / "b" / "mine.yaml").string();
  CHECK(resolve_profile_path(file, dirs).value() == file);
  // A bare name resolves in the first directory that has <name>.yaml.
  CHECK(resolve_profile_path("mine", dirs).value() == file);
  CHECK(resolve_profile_path("mine.yaml", dirs).value() == file);
  CHECK(resolve_profile_path("other.yml", dirs).value() == (root / "a" / "other.yml").string());
  std::ofstream(root / "a" / "mine.yaml") << kMinimal;
  CHECK(resolve_profile_path("mine", dirs).value() == (root / "a" / "mine.yaml").string());
  CHECK(resolve_profile_path("quick", {CMETER_SOURCE_DIR "/profiles"}).value() == CMETER_SOURCE_DIR
        "/profiles/quick.yaml");

  const Result<std::string> missing = resolve_profile_path("nope", dirs);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message ==
        fmt::format("profile 'nope' not found: no file 'nope' here and no nope.yaml in {}, {}", dirs[0],
                    dirs[1]));
  CHECK(resolve_profile_path("nope", {}).error().message ==
        "profile 'nope' not found: no file 'nope' here and no nope.yaml in (no search directories)");
  const Result<std::string> bad_path = resolve_profile_path((root / "nope.yaml").string(), dirs);
  REQUIRE_FALSE(bad_path.ok());
  CHECK(bad_path.error().message ==
        fmt::format("profile file '{}' not found", (root / "nope.yaml").string()));
  CHECK(resolve_profile_path("", dirs).error().code == ErrorCode::kInvalidArgument);
  fs::remove_all(root);
}

TEST_CASE("profile: a bad inference model config or scenario names file:line:column") {
  const std::string head = "schema: 1\nname: t\nversion: 1\ncases:\n  - id: llm\n    workload: inference\n";
  CHECK(starts_with(error_of(head + "    params: {model: llm-3b}\n"), "t.yaml:7:21: unknown model 'llm-3b'"));
  CHECK(starts_with(error_of(head + "    params: {scenario: batch}\n"),
                    "t.yaml:7:24: unknown scenario 'batch' (known: offline, single_stream, server)"));
  CHECK(starts_with(error_of(head + "    sweep: {scenario: [offline, burst]}\n"),
                    "t.yaml:7:33: unknown scenario 'burst'"));
  CHECK(
      starts_with(error_of(head + "    params: {max_batch: 0}\n"), "t.yaml:7:25: param 'max_batch' must be"));
  // A combination no single key shows: heads 3 against llm-tiny's kv_heads 2, at the params mapping.
  CHECK(starts_with(error_of(head + "    params: {heads: 3}\n"),
                    "t.yaml:7:13: model heads (3) must be a multiple"));
  CHECK(error_of(head + "    params: {model: llm-1b, scenario: server, ttft_bound_s: 0.5}\n").empty());
}

}  // namespace
}  // namespace cmeter::profile
