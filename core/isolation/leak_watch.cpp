// Growth noted only when it repeats within one worker process.
#include "core/isolation/leak_watch.h"

#include <fmt/format.h>

namespace cmeter {
namespace {

std::string mib(uint64_t bytes) {
  return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace

std::optional<std::string> LeakWatch::observe(int worker_pid, const std::string& case_id,
                                              uint64_t rss_bytes_before, uint64_t rss_bytes_after) {
  if (worker_pid != worker_pid_) {
    worker_pid_ = worker_pid;
    first_growth_.reset();
  }
  if (threshold_bytes_ == 0 || rss_bytes_before == 0 ||
      rss_bytes_after <= rss_bytes_before + threshold_bytes_)
    return std::nullopt;
  const uint64_t grown = rss_bytes_after - rss_bytes_before;
  if (!first_growth_) {
    first_growth_ = Growth{case_id, grown};
    return std::nullopt;  // a first use may load code or fill caches once
  }
  return fmt::format(
      "worker resident memory grew by {} during the case and was not given back (a leak?); it grew by {} "
      "during {} too, in the same worker",
      mib(grown), mib(first_growth_->bytes), first_growth_->case_id);
}

}  // namespace cmeter
