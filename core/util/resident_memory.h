// Resident set size of a process, read from /proc/<pid>/statm: the worker reports its own before and
// after each case, the parent polls a worker's against its memory limit, and the conformance stress
// checks watch their own for leaks. One reader for all of them.
#pragma once

#include <cstdint>
#include <string>

namespace cmeter {

// Resident set size of process `pid` in bytes, 0 if unknown (gone, or /proc unreadable).
uint64_t process_rss_bytes(int pid);
// Resident set size of this process in bytes, 0 if unknown.
uint64_t self_rss_bytes();
// Physical memory of this machine in bytes (sysconf), 0 if unknown. Workers are limited to half of it
// by default (core/isolation/worker_host.h), so workloads size their optional growth against that.
uint64_t physical_memory_bytes();
// "123 MiB": how memory figures read in notes and errors.
std::string mib_text(uint64_t bytes);

}  // namespace cmeter
