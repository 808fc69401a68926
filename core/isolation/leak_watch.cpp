// Growth noted only when it repeats for the same kind of work within one worker process.
#include "core/isolation/leak_watch.h"

#include <fmt/format.h>

#include "core/util/resident_memory.h"

namespace cmeter {
std::optional<std::string> LeakWatch::observe(int worker_pid, const std::string& case_id,
                                              const std::string& case_kind, uint64_t rss_bytes_before,
                                              uint64_t rss_bytes_after) {
  if (worker_pid != worker_pid_) {
    worker_pid_ = worker_pid;
    first_growth_by_kind_.clear();
  }
  if (threshold_bytes_ == 0 || rss_bytes_before == 0 ||
      rss_bytes_after <= rss_bytes_before + threshold_bytes_)
    return std::nullopt;
  const uint64_t grown = rss_bytes_after - rss_bytes_before;
  auto [first, inserted] = first_growth_by_kind_.try_emplace(case_kind, Growth{case_id, grown});
  if (inserted) return std::nullopt;  // the first run of this kind may load code or fill caches once
  return fmt::format(
      "worker resident memory grew by {} during the case and was not given back (a leak?); it grew by {} "
      "during {} too, the same kind of work in the same worker",
      mib_text(grown), mib_text(first->second.bytes), first->second.case_id);
}

}  // namespace cmeter
