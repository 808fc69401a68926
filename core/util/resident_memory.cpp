// /proc/<pid>/statm: the second field is the resident set in pages.
#include "core/util/resident_memory.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace cmeter {

uint64_t process_rss_bytes(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/statm";
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  unsigned long long size_pages = 0, resident_pages = 0;
  const int got = std::fscanf(f, "%llu %llu", &size_pages, &resident_pages);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<uint64_t>(resident_pages) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

uint64_t self_rss_bytes() {
  return process_rss_bytes(static_cast<int>(::getpid()));
}

std::string mib_text(uint64_t bytes) {
  return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace cmeter
