// RAPL package energy through perf events (the `power` PMU), for where powercap is root-only.
#include "core/measure/rapl_perf.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cmeter::measure {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<int64_t> parse_int(std::string_view text, int base = 10) {
  if (base == 16 && (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0)) text.remove_prefix(2);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

int perf_paranoid() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int v = 2;
  in >> v;
  return v;
}

}  // namespace

Result<std::vector<int>> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t dash = item.find('-');
    const auto first = parse_int(item.substr(0, dash));
    const auto last = dash == std::string::npos ? first : parse_int(item.substr(dash + 1));
    if (!first || !last || *first < 0 || *last < *first || *last - *first > 4096)
      return make_error(ErrorCode::kInvalidArgument, "'{}' is not a CPU list (item '{}')", text, item);
    for (int64_t c = *first; c <= *last; ++c) cpus.push_back(static_cast<int>(c));
  }
  if (cpus.empty()) return make_error(ErrorCode::kInvalidArgument, "'{}' lists no CPU", text);
  return cpus;
}

Result<PerfEnergyEvent> read_perf_energy_event(const std::string& event_source_root) {
  const fs::path pmu = fs::path(event_source_root) / "power";
  PerfEnergyEvent e;
  const auto type = read_text(pmu / "type");
  if (!type) return make_error(ErrorCode::kNotFound, "no power PMU ({} is absent)", (pmu / "type").string());
  const auto type_value = parse_int(*type);
  if (!type_value || *type_value < 0)
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a PMU type", (pmu / "type").string(),
                      *type);
  e.type = static_cast<uint32_t>(*type_value);
  const fs::path event = pmu / "events" / "energy-pkg";
  const auto encoding = read_text(event);
  if (!encoding)
    return make_error(ErrorCode::kNotFound, "the power PMU has no package energy event ({} is absent)",
                      event.string());
  // "event=0x02": the power PMU's events are its config's low bits; any other term is not understood.
  std::stringstream terms(*encoding);
  std::string term;
  bool found = false;
  while (std::getline(terms, term, ',')) {
    const size_t eq = term.find('=');
    int64_t value = -1;
    if (eq != std::string::npos && term.substr(0, eq) == "event")
      if (const auto parsed = parse_int(term.substr(eq + 1), 16)) value = *parsed;
    if (value < 0)
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: '{}' is not an 'event=0x..' encoding this reader knows", event.string(),
                        *encoding);
    e.config = static_cast<uint64_t>(value);
    found = true;
  }
  if (!found) return make_error(ErrorCode::kInvalidArgument, "{} is empty", event.string());
  const auto scale = read_text(fs::path(event.string() + ".scale"));
  const auto unit = read_text(fs::path(event.string() + ".unit"));
  if (!scale || !unit)
    return make_error(ErrorCode::kNotFound, "{}.scale or .unit is absent: the count's unit is unknown",
                      event.string());
  char* end = nullptr;
  e.joules_per_count = std::strtod(scale->c_str(), &end);
  if (end == scale->c_str() || *end != '\0' || !(e.joules_per_count > 0) || e.joules_per_count > 1)
    return make_error(ErrorCode::kInvalidArgument, "{}.scale: '{}' is not a plausible J per count",
                      event.string(), *scale);
  if (*unit != "Joules")
    return make_error(ErrorCode::kInvalidArgument, "{}.unit is '{}', not Joules", event.string(), *unit);
  const auto mask = read_text(pmu / "cpumask");
  if (!mask) return make_error(ErrorCode::kNotFound, "{} is absent", (pmu / "cpumask").string());
  auto cpus = parse_cpu_list(*mask);
  if (!cpus)
    return make_error(ErrorCode::kInvalidArgument, "{}: {}", (pmu / "cpumask").string(),
                      cpus.error().message);
  e.cpus = std::move(cpus).value();
  return e;
}

PerfCounterAccess real_perf_counter_access() {
  PerfCounterAccess a;
  a.open = [](const PerfEnergyEvent& event, int cpu) -> Result<int> {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = event.type;
    attr.config = event.config;
    // A system-wide counter on one CPU of the package (pid -1): what the power PMU allows.
    const long fd = ::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
    if (fd < 0) {
      const int err = errno;
      return make_error(
          ErrorCode::kUnavailable, "perf_event_open(power/energy-pkg, cpu {}): {}{}", cpu, std::strerror(err),
          err == EACCES || err == EPERM
              ? fmt::format(" (needs CAP_PERFMON or perf_event_paranoid <= 0; it is {})", perf_paranoid())
              : "");
    }
    return static_cast<int>(fd);
  };
  a.read = [](int fd) -> std::optional<uint64_t> {
    uint64_t count = 0;
    if (::read(fd, &count, sizeof(count)) != static_cast<ssize_t>(sizeof(count))) return std::nullopt;
    return count;
  };
  a.close = [](int fd) { ::close(fd); };
  return a;
}

std::string RaplPerfReader::default_root() {
  const char* env = std::getenv("CMETER_PERF_EVENTS_ROOT");
  return env != nullptr && *env != '\0' ? env : "/sys/bus/event_source/devices";
}

RaplPerfReader::RaplPerfReader(std::string event_source_root, PerfCounterAccess access)
    : root_(std::move(event_source_root)), access_(std::move(access)) {
  auto event = read_perf_energy_event(root_);
  if (!event) {
    reason_ = "no energy source: " + event.error().message;
    return;
  }
  event_ = std::move(event).value();
  for (int cpu : event_.cpus) {
    auto handle = access_.open(event_, cpu);
    if (!handle) {
      reason_ = "no energy source: " + handle.error().message;
      for (int h : handles_) access_.close(h);
      handles_.clear();
      return;
    }
    handles_.push_back(*handle);
  }
}

RaplPerfReader::~RaplPerfReader() {
  for (int h : handles_) access_.close(h);
}

RaplPerfReader::RaplPerfReader(RaplPerfReader&& other) noexcept
    : root_(std::move(other.root_)),
      access_(std::move(other.access_)),
      event_(std::move(other.event_)),
      reason_(std::move(other.reason_)),
      handles_(std::exchange(other.handles_, {})),
      first_(std::move(other.first_)) {}

std::string RaplPerfReader::source() const {
  return fmt::format(
      "rapl perf events {}/power/energy-pkg (type {}, config {:#x}, {:.4g} J per count) on cpus {} "
      "(package-level: the whole socket, not this device's share)",
      root_, event_.type, event_.config, event_.joules_per_count, fmt::join(event_.cpus, ", "));
}

std::optional<double> RaplPerfReader::energy_j() {
  if (handles_.empty()) return std::nullopt;
  std::vector<uint64_t> now;
  for (int h : handles_) {
    const auto count = access_.read(h);
    if (!count) return std::nullopt;
    now.push_back(*count);
  }
  if (first_.empty()) first_ = now;
  double joules = 0;
  // 64-bit counts the kernel keeps from the 32-bit hardware counter: they only grow, so one that went
  // back is no reading (never a made-up one).
  for (size_t i = 0; i < now.size(); ++i) {
    if (now[i] < first_[i]) return std::nullopt;
    joules += static_cast<double>(now[i] - first_[i]) * event_.joules_per_count;
  }
  return joules;
}

}  // namespace cmeter::measure
