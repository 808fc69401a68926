// LeakWatch: decides when a worker's kept memory deserves the "a leak?" note. A worker's resident
// memory is read before and after each case (after malloc_trim); growth that is not given back is
// either a leak or a one-time load: a lazily loaded library (cuBLASLt's kernels: +185 MiB on an H200's
// first tf32 GEMM), a JIT-compiled kernel (PoCL's first f16 GEMM: +121 MiB), a cache filled once. A
// leak grows with repetition; a one-time load does not. So growth beyond the threshold is noted only
// when an earlier case in the same worker process also kept that much: the first such growth may be a
// one-time load, the second is repetition. (A leaking plugin keeps memory in every case; PoCL and
// cuBLASLt keep it once per process.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cmeter {

class LeakWatch {
 public:
  explicit LeakWatch(uint64_t threshold_bytes) : threshold_bytes_(threshold_bytes) {}
  // One finished case in worker process `worker_pid` (a new pid forgets the old worker's history).
  // Returns the note to add to the case's reason, or nothing.
  std::optional<std::string> observe(int worker_pid, const std::string& case_id, uint64_t rss_bytes_before,
                                     uint64_t rss_bytes_after);

 private:
  struct Growth {
    std::string case_id;
    uint64_t bytes = 0;
  };
  uint64_t threshold_bytes_;
  int worker_pid_ = -1;
  std::optional<Growth> first_growth_;  // the worker's first case that kept memory
};

}  // namespace cmeter
