// `cmeter plugin check LIB.so`: the conformance suite for one plugin file (core/conformance), run in
// worker processes so that a crashing or hanging plugin fails a check instead of ending the run.
// Prints progress on stderr, the report table on stdout, and writes JSON and Markdown reports on
// request. Exit codes: 0 conformant, 1 a check FAILed, 2 usage error, 3 incomplete (no FAIL, but
// functionality unimplemented or no device to check); see docs/adapting-a-device.md.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/conformance/plugin_checker.h"

#include "core/util/version.h"

namespace cmeter::cli {
namespace {

struct PluginCheckOptions {
  std::string library;
  int device = 0;
  std::string level = "quick";
  std::string json_path;
  std::string md_path;
  double timeout_s = 120;
  std::vector<std::string> only;
  int64_t memory_limit_mib = 4096;
  bool in_process = false;
  bool quiet = false;
  bool verbose = false;
};

int run_plugin_check(const PluginCheckOptions& command) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(command.library, ec)) {
    std::cerr << fmt::format("cmeter plugin check: {}: no such file\n", command.library);
    return kExitUsage;
  }
  if (command.device < 0 || command.timeout_s <= 0 || command.memory_limit_mib < 0) {
    std::cerr << "cmeter plugin check: --device and --memory-limit-mib must be >= 0, --timeout > 0\n";
    return kExitUsage;
  }
  conformance::CheckerOptions options;
  options.suite.plugin_path = std::filesystem::absolute(command.library).lexically_normal().string();
  options.suite.level = *conformance::parse_level(command.level);
  options.suite.device_index = command.device;
  options.in_process = command.in_process;
  options.check_timeout_s = command.timeout_s;
  options.suite.only = command.only;
  options.worker_memory_limit_bytes = static_cast<uint64_t>(command.memory_limit_mib) << 20;
  options.forward_worker_stderr = command.verbose;
  options.cmeter_version = cmeter::tool_version();
  const bool color = stdout_is_terminal();
  if (!command.quiet) {
    options.on_result = [](size_t index, size_t total, const conformance::CheckResult& r) {
      std::cerr << fmt::format("[{:>2}/{}] {:<4} {}\n", index + 1, total, conformance::to_string(r.status),
                               r.id);
    };
  }
  const conformance::ConformanceReport report = conformance::check_plugin(options);
  const bool json_to_stdout = command.json_path == "-", md_to_stdout = command.md_path == "-";
  if (!json_to_stdout && !md_to_stdout) std::cout << conformance::to_terminal(report, color);
  bool written = true;
  if (!command.json_path.empty())
    written &= write_output(conformance::to_json(report).dump(2) + "\n", command.json_path);
  if (!command.md_path.empty()) written &= write_output(conformance::to_markdown(report), command.md_path);
  if (!written) return kExitUsage;
  return conformance::exit_code(conformance::verdict(report));
}

}  // namespace

Subcommand register_plugin(CLI::App& app) {
  auto command = std::make_shared<PluginCheckOptions>();
  auto* plugin = app.add_subcommand("plugin", "Plugin tools for vendors: conformance check");
  plugin->require_subcommand(1);
  auto* check = plugin->add_subcommand(
      "check",
      "Run the conformance suite on a plugin library (ABI, error paths, memory, events, ops vs host "
      "reference, leaks, threads)");
  check->add_option("library", command->library, "Plugin shared library (libcmeter-<name>.so)")->required();
  check->add_option("--device,-d", command->device, "Device index within the plugin")->capture_default_str();
  check->add_option("--level", command->level, "quick, or full (adds larger shapes, leak and thread checks)")
      ->check(CLI::IsMember({"quick", "full"}))
      ->capture_default_str();
  check->add_option("--json", command->json_path, "Write the report JSON here ('-' for stdout)");
  check->add_option("--md", command->md_path, "Write the report as Markdown here ('-' for stdout)");
  check->add_option("--timeout", command->timeout_s, "Seconds one check may take before it is a FAIL")
      ->capture_default_str();
  check
      ->add_option("--only", command->only, "Run only these checks: ids or globs, comma-separated (op.gemm*)")
      ->delimiter(',');
  check
      ->add_option("--memory-limit-mib", command->memory_limit_mib,
                   "Stop a worker whose resident memory exceeds this (the check FAILs); 0: no limit")
      ->capture_default_str();
  check->add_flag("--in-process", command->in_process,
                  "Run the checks in this process (no crash or hang protection; for debuggers)");
  check->add_flag("--quiet,-q", command->quiet, "No progress on stderr");
  check->add_flag("--verbose,-v", command->verbose, "Show the plugin's stderr (prefixed)");
  return {plugin, [command](const std::vector<std::string>&) { return run_plugin_check(*command); }};
}

}  // namespace cmeter::cli
