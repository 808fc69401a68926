// UTC timestamps (gmtime_r + strftime) and steady-clock durations.
#include "core/util/clock.h"

namespace cmeter {
namespace {

std::string format_utc(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string utc_iso8601(std::time_t t) {
  return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string utc_now_iso8601() {
  return utc_iso8601(std::time(nullptr));
}

std::string utc_compact(std::time_t t) {
  return format_utc(t, "%Y%m%dT%H%M%SZ");
}

std::string utc_now_compact() {
  return utc_compact(std::time(nullptr));
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace cmeter
