// LeakWatch: decides when a worker's kept memory deserves the "a leak?" note. A worker's resident
// memory is read before and after each case (after malloc_trim); growth that is not given back is
// either a leak or a one-time load: a lazily loaded library or kernel set (cuBLASLt loads kernels per
// data type: +217 MiB on an H200's first f16 GEMM, +101 MiB on the first f32 one, +94 MiB on the first
// bf16 one, nothing on later GEMMs of those types), a JIT-compiled kernel (PoCL's first f16 GEMM:
// +121 MiB), a cache filled once. Such loads happen once per kind of work; a leak grows each time the
// same work runs again. So a case's kind is its workload and its text parameters (data types, forms,
// directions; sizes left out), and growth beyond the threshold is noted only when an earlier case of
// the same kind in the same worker process also kept that much.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cmeter {

class LeakWatch {
 public:
  explicit LeakWatch(uint64_t threshold_bytes) : threshold_bytes_(threshold_bytes) {}
  // One finished case `case_id` of kind `case_kind` in worker process `worker_pid` (a new pid forgets
  // the old worker's history). Returns the note to add to the case's reason, or nothing.
  std::optional<std::string> observe(int worker_pid, const std::string& case_id, const std::string& case_kind,
                                     uint64_t rss_bytes_before, uint64_t rss_bytes_after);

 private:
  struct Growth {
    std::string case_id;
    uint64_t bytes = 0;
  };
  uint64_t threshold_bytes_;
  int worker_pid_ = -1;
  std::map<std::string, Growth> first_growth_by_kind_;  // per kind: the first case that kept memory
};

}  // namespace cmeter
