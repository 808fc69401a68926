// Clocks: wall-clock UTC timestamps for what the reports and journals record (when a run or case
// started), and a steady clock for what is measured or waited for (durations, deadlines). One place,
// so every file stamps time the same way.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace cmeter {

using SteadyClock = std::chrono::steady_clock;

// "2026-12-04T14:44:19Z"
std::string utc_iso8601(std::time_t t);
std::string utc_now_iso8601();
// "20261204T144419Z": sortable and safe in file names (run ids).
std::string utc_compact(std::time_t t);
std::string utc_now_compact();

// Seconds from `start` to now on the steady clock.
double seconds_since(SteadyClock::time_point start);

}  // namespace cmeter
