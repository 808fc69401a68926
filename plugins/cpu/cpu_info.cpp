// plugins/cpu/cpu_info.cpp - machine discovery and the peak-FLOP/s derivation of the CPU plugin.
//
// Why this file exists: see cpu_info.hpp. Peak = cores x FMA pipes x SIMD lanes x 2 FLOP x effective
// clock. Cores come from the affinity mask, lanes from the ISA the kernels use, pipes from the table
// below, and the clock from a timed chain of dependent integer adds (one cycle each on every x86 core
// of the last two decades), run on all cores at once. The same probe threads then time this plugin's
// own fma_peak kernel per core, which cross-checks the table: a table that under-counts is overruled
// by the measurement (a declared peak below what runs would flag honest results as implausible), and
// one far above the measurement is kept but flagged in peak.source.
#include "cpu_info.hpp"
#include "cpu_level.hpp"
#include "onednn_gemm.hpp"

#include <cpuid.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

namespace cmeter::cpu {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}
std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(trim(text));
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    try {
      const int lo = std::stoi(part.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
      for (int c = lo; c <= hi; ++c) out.push_back(c);
    } catch (...) {
      return {};
    }
  }
  return out;
}

// "32768K", "1M", "512" -> bytes
int64_t parse_size(std::string s) {
  s = trim(s);
  if (s.empty()) return 0;
  int64_t mult = 1;
  switch (s.back()) {
    case 'K':
      mult = 1024;
      break;
    case 'M':
      mult = 1024 * 1024;
      break;
    case 'G':
      mult = 1024LL * 1024 * 1024;
      break;
    default:
      break;
  }
  try {
    return std::stoll(s) * mult;
  } catch (...) {
    return 0;
  }
}

std::string format_ghz(double hz) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", hz / 1e9);
  return buf;
}

// ---- Identification ----

void read_cpuid(CpuInfo& info) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) != 0) {
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    const std::string v = vendor;
    info.vendor = v == "AuthenticAMD" ? "AMD" : v == "GenuineIntel" ? "Intel" : v;
  }
  if (__get_cpuid(1, &a, &b, &c, &d) != 0) {
    const int base_family = static_cast<int>((a >> 8) & 0xf);
    info.family = base_family == 0xf ? base_family + static_cast<int>((a >> 20) & 0xff) : base_family;
    info.model = static_cast<int>((a >> 4) & 0xf);
    if (base_family == 0x6 || base_family == 0xf) info.model |= static_cast<int>((a >> 12) & 0xf0);
    info.hypervisor = ((c >> 31) & 1u) != 0;
  }
  unsigned max_ext = __get_cpuid_max(0x80000000, nullptr);
  if (max_ext >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      __get_cpuid(0x80000002 + i, &a, &b, &c, &d);
      std::memcpy(brand + 16 * i, &a, 4);
      std::memcpy(brand + 16 * i + 4, &b, 4);
      std::memcpy(brand + 16 * i + 8, &c, 4);
      std::memcpy(brand + 16 * i + 12, &d, 4);
    }
    info.model_name = trim(brand);
  }
}

void read_proc_cpuinfo(CpuInfo& info) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, cpu_mhz;
  while (std::getline(in, line)) {
    if (line.empty()) break;  // first processor only
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "model name" && !value.empty()) info.model_name = value;
    if (key == "cpu MHz") cpu_mhz = value;
  }
  // Nominal clock: the "@ 2.45GHz" of Intel model names, else the kernel's "cpu MHz".
  const auto at = info.model_name.find('@');
  if (at != std::string::npos) {
    try {
      const double ghz = std::stod(info.model_name.substr(at + 1));
      if (ghz > 0) {
        info.nominal_mhz = ghz * 1000;
        info.nominal_source = "model name";
      }
    } catch (...) {
    }
  }
  if (info.nominal_mhz == 0 && !cpu_mhz.empty()) {
    try {
      info.nominal_mhz = std::stod(cpu_mhz);
      info.nominal_source = "/proc/cpuinfo cpu MHz";
    } catch (...) {
    }
  }
}

void read_memory(CpuInfo& info) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      info.mem_bytes = kb * 1024;
      return;
    }
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) info.mem_bytes = static_cast<int64_t>(pages) * page;
}

void read_llc(CpuInfo& info) {
  namespace fs = std::filesystem;
  const int cpu = info.cpus.empty() ? 0 : info.cpus.front();
  const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cache";
  std::error_code ec;
  int best_level = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("index", 0) != 0) continue;
    const std::string type = trim(read_file(entry.path() / "type"));
    if (type != "Unified" && type != "Data") continue;
    int level = 0;
    try {
      level = std::stoi(read_file(entry.path() / "level"));
    } catch (...) {
      continue;
    }
    const int64_t size = parse_size(read_file(entry.path() / "size"));
    if (level > best_level && size > 0) {
      best_level = level;
      info.llc_bytes = size;
      info.llc_source = dir + " (L" + std::to_string(level) + ")";
    }
  }
  if (info.llc_bytes > 0) return;
  // No sysfs cache directory (common in VMs): glibc reads CPUID, which a hypervisor may report for
  // the whole socket; a larger LLC only makes input rotation more conservative.
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long v = sysconf(name);
    if (v > 0) {
      info.llc_bytes = v;
      info.llc_source = name == _SC_LEVEL3_CACHE_SIZE ? "CPUID via sysconf (L3)" : "CPUID via sysconf (L2)";
      return;
    }
  }
}

void read_topology(CpuInfo& info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) info.cpus.push_back(c);
  }
  if (info.cpus.empty()) {
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (int c = 0; c < std::max(1L, n); ++c) info.cpus.push_back(c);
  }
  info.compute_units = static_cast<int>(info.cpus.size());

  // NUMA node: the one node holding all our CPUs; none when they span nodes.
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<int> nodes;
  bool saw_node_dir = false;
  for (const auto& entry : fs::directory_iterator("/sys/devices/system/node", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("node", 0) != 0 || name.size() <= 4 || !std::isdigit(static_cast<unsigned char>(name[4])))
      continue;
    saw_node_dir = true;
    const auto list = parse_cpu_list(read_file(entry.path() / "cpulist"));
    const bool hit = std::any_of(info.cpus.begin(), info.cpus.end(),
                                 [&](int c) { return std::find(list.begin(), list.end(), c) != list.end(); });
    if (hit) nodes.push_back(std::atoi(name.c_str() + 4));
  }
  if (nodes.size() == 1) info.numa_node = nodes.front();
  if (!saw_node_dir) info.numa_node = 0;  // no NUMA support in the kernel: one node
}

// ---- Measurement ----

// `n` (a multiple of 8) dependent adds; each depends on the previous, so it takes n core cycles.
void add_chain(uint64_t n) {
  uint64_t x = 0;
  asm volatile(
      "1:\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "add $1, %0\n\t"
      "sub $8, %1\n\t"
      "jnz 1b\n\t"
      : "+r"(x), "+r"(n)
      :
      : "cc");
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Sustained rate of `run` (which does `work` units): the best of `reps` repetitions a few ms long,
// each timed by this thread's CPU time. A few ms, because that includes the periodic interrupts and
// hypervisor exits a long workload also pays for (0.1 ms bursts read ~5% higher in a VM than any
// sustained rate); CPU time, because other processes preempting us (another build on a shared
// machine) must not lower it: wall time would, CPU time does not.
template <class F>
double sustained_rate(double work, int reps, F&& run) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_s();
    run();
    const double t = thread_cpu_s() - t0;
    if (t > 0) best = std::max(best, work / t);
  }
  return best;
}

// Add-chain clock: ~5 ms per repetition at 3.5 GHz.
double sustained_clock_hz() {
  constexpr uint64_t kAdds = uint64_t{35} << 19;
  return sustained_rate(static_cast<double>(kAdds), 6, [] { add_chain(kAdds); });
}

// FMA instructions per second of `k`'s fma_peak kernel on this core (~2 ms per repetition): one
// tile of W items with the kernel's full register budget of chains, x = 0.5 x + 1 (converges to 2).
double sustained_fma_rate(const KernelTable& k, double clock_hz) {
  const int64_t iters =
      std::max<int64_t>(1000, static_cast<int64_t>(0.002 * clock_hz * 2 / k.max_accumulators));
  const FmaPeakArgs args{iters, k.max_accumulators, 0.5, 1.0, 1.0, 1.0 / 64};
  const int64_t items = k.fma_tile_items(args.lanes, false);
  std::vector<float> out(static_cast<size_t>(items));
  const double instructions =
      static_cast<double>(iters) * args.lanes * static_cast<double>(items) / k.f32_lanes;
  const double rate = sustained_rate(instructions, 5, [&] { k.fma_peak_f32(&args, items, out.data()); });
  volatile float sink = out[0];
  (void)sink;
  return rate;
}

struct CoreProbe {
  double clock_hz = 0;
  double fma_per_s = 0;       // chosen ISA, instructions per second
  double avx2_fma_per_s = 0;  // AVX2 comparison when the chosen ISA is AVX-512
};

// All cores at once, each thread pinned to one CPU: the all-core clock is the one the peak needs.
std::vector<CoreProbe> probe_cores(const CpuInfo& info) {
  const size_t n = info.cpus.size();
  std::vector<CoreProbe> results(n);
  std::atomic<size_t> ready{0};
  const KernelTable& k = *info.kernels;
  const bool compare_avx2 = k.has_fma && std::strcmp(k.isa, "avx512") == 0;
  auto body = [&](size_t i) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(info.cpus[i], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    ready.fetch_add(1);
    while (ready.load() < n) std::this_thread::yield();
    // Ramp the clock up (~3 ms), then measure (~45 ms on a quiet machine).
    const auto ramp = Clock::now();
    while (seconds_since(ramp) < 0.003) add_chain(1 << 16);
    CoreProbe& r = results[i];
    r.clock_hz = sustained_clock_hz();
    const double hz = r.clock_hz > 0 ? r.clock_hz : 3e9;
    if (k.has_fma) {
      r.fma_per_s = sustained_fma_rate(k, hz);
      if (compare_avx2) r.avx2_fma_per_s = sustained_fma_rate(kKernelsAvx2, hz);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 1; i < n; ++i) threads.emplace_back(body, i);
  // The calling thread probes the first CPU; restore its affinity afterwards.
  cpu_set_t saved;
  CPU_ZERO(&saved);
  const bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
  body(0);
  if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  for (auto& t : threads) t.join();
  return results;
}

// ---- The FMA pipe table ----
//
// Pipes are counted at the width the kernels use (lanes = 16 f32 for AVX-512, 8 for AVX2):
//  AMD family 0x17 models < 0x30 (Zen 1, Zen+): 256-bit ops run as 2 x 128 bit -> 1 pipe of 256.
//  AMD family 0x17 models >= 0x30 (Zen 2), 0x19 without AVX-512 (Zen 3): 2 pipes of 256.
//  AMD family 0x19 with AVX-512 (Zen 4): 512-bit ops double-pumped on 2 x 256 -> 1 pipe of 512.
//  AMD family 0x1A (Zen 5): 2 pipes of 512 on desktop/server; mobile parts (models 0x20-0x2F,
//    0x60-0x7F) have a 256-bit datapath -> 1 pipe of 512. With AVX2 kernels: 2 pipes of 256.
//  Intel family 6 with AVX2 (Haswell and later cores): 2 pipes of 256.
//  Intel with AVX-512: 2 pipes of 512 on most server parts, 1 on some (Xeon Bronze/Silver, client
//    Ice/Tiger Lake): not decidable from CPUID, so the measurement picks 1 or 2.
// Anything else: the measured rate, rounded.
struct PipeEntry {
  int pipes = 0;  // 0 = unknown: use the measurement
  std::string why;
};

PipeEntry pipe_table(const CpuInfo& info, const std::string& isa) {
  char fam[16];
  std::snprintf(fam, sizeof fam, "0x%x", info.family);
  const std::string tag = info.vendor + " family " + fam;
  const bool avx512 = isa == "avx512";
  if (info.vendor == "AMD") {
    if (info.family == 0x17) {
      if (info.model < 0x30) return {1, tag + " Zen 1/Zen+, 2x128-bit FMA = 1 pipe of 256"};
      return {2, tag + " Zen 2, 2 pipes of 256"};
    }
    if (info.family == 0x19) {
      if (avx512) return {1, tag + " Zen 4, 512-bit FMA double-pumped on 2x256 = 1 pipe of 512"};
      return {2, tag + " Zen 3/4, 2 pipes of 256"};
    }
    if (info.family == 0x1a) {
      if (!avx512) return {2, tag + " Zen 5, 2 pipes of 256 (AVX2 kernels)"};
      const bool mobile =
          (info.model >= 0x20 && info.model <= 0x2f) || (info.model >= 0x60 && info.model <= 0x7f);
      if (mobile) return {1, tag + " Zen 5 mobile, 256-bit datapath = 1 pipe of 512"};
      return {2, tag + " Zen 5, 2 pipes of 512"};
    }
  }
  if (info.vendor == "Intel" && info.family == 6) {
    if (avx512) return {0, tag + " with AVX-512: 1 or 2 pipes of 512 by SKU"};
    if (isa == "avx2") return {2, tag + " with AVX2, 2 pipes of 256"};
  }
  return {0, tag + " not in the table"};
}

// bf16 and i8 peaks from what oneDNN runs (info.low): a 512-bit vdpbf16ps does 16 lanes x 2 bf16
// products = 64 FLOP where an FMA does 32, a vpdpbusd 16 x 4 byte products = 128 ops, at the FMA's
// throughput on the CPUs that have them (Intel Cooper Lake and later, AMD Zen 4 and Zen 5), so 2x
// and 4x the f32 peak. AMX tiles run per core 1024 bf16 FLOP and 2048 i8 ops per cycle (Intel's
// figures for Sapphire Rapids' TMUL). Returns the sentence for peak.source.
std::string low_precision_peaks(CpuInfo& info) {
  const LowPrecisionIsa& low = info.low;
  std::string s;
  char buf[160];
  if (low.amx) {
    info.peak_bf16 = static_cast<double>(info.compute_units) * 1024 * info.clock_hz;
    info.peak_i8 = static_cast<double>(info.compute_units) * 2048 * info.clock_hz;
    std::snprintf(buf, sizeof buf,
                  "bf16 and i8 on AMX (%s): %d cores x 1024 bf16 FLOP / 2048 i8 ops per cycle x %s GHz",
                  low.isa.c_str(), info.compute_units, format_ghz(info.clock_hz).c_str());
    return s + buf + " (Intel's TMUL figures, not measured)";
  }
  if (low.bf16_dot) {
    info.peak_bf16 = 2 * info.peak_f32;
    s = "bf16 = 2x f32 (AVX512-BF16 vdpbf16ps: 2 products per f32 lane per instruction, oneDNN " + low.isa +
        ")";
  } else {
    info.peak_bf16 = info.peak_f32;
    s = "bf16 = f32 (converted and computed in f32)";
  }
  if (low.i8_dot) {
    info.peak_i8 = 4 * info.peak_f32;
    s += "; i8 = 4x f32 in ops/s (AVX512-VNNI vpdpbusd: 4 byte products per f32 lane per instruction)";
  } else {
    info.peak_i8 = 0;
    s += "; no i8 peak (no i8 GEMM)";
  }
  if (!low.note.empty()) s += " [" + low.note + "]";
  return s;
}

void derive_peak(CpuInfo& info, const std::vector<CoreProbe>& probes) {
  std::vector<double> clocks, fma_per_cycle, avx2_per_cycle;
  for (const auto& p : probes) {
    if (p.clock_hz <= 0) continue;
    clocks.push_back(p.clock_hz);
    if (p.fma_per_s > 0) fma_per_cycle.push_back(p.fma_per_s / p.clock_hz);
    if (p.avx2_fma_per_s > 0) avx2_per_cycle.push_back(p.avx2_fma_per_s / p.clock_hz);
    info.measured_allcore_f32_flops += p.fma_per_s * info.kernels->f32_lanes * 2;
  }
  // The fastest core: a declared peak must bound what runs (one core disturbed by the host during
  // the probe must not lower it); the spread is reported when the cores differ.
  info.clock_hz = clocks.empty() ? 0 : *std::max_element(clocks.begin(), clocks.end());
  if (!clocks.empty()) {
    info.clock_min_hz = *std::min_element(clocks.begin(), clocks.end());
    info.clock_max_hz = *std::max_element(clocks.begin(), clocks.end());
  }
  std::string clock_note =
      "measured (dependent-add chain on all cores at once, best of 6 runs of 5 ms CPU time, fastest core)";
  if (info.clock_hz <= 0) {  // cannot happen on x86; keep the peak defined anyway
    info.clock_hz = info.nominal_mhz * 1e6;
    clock_note = "nominal (the add-chain measurement failed)";
  }
  info.measured_fma_per_cycle = median(fma_per_cycle);
  info.measured_avx2_fma_per_cycle = median(avx2_per_cycle);

  const KernelTable& k = *info.kernels;
  const std::string isa = k.isa;
  info.simd_lanes_f32 = k.f32_lanes;
  std::string cross;
  char buf[512];
  if (!k.has_fma) {
    info.fma_pipes = 0;
    info.pipes_source = "no FMA instructions: assumed one multiply and one add pipe";
    const double per_core = 2.0 * k.f32_lanes;  // mul + add per cycle, one FLOP each per lane
    info.peak_f32 = info.compute_units * per_core * info.clock_hz;
    std::snprintf(buf, sizeof buf,
                  "computed: %d cores x %d f32 lanes (%s) x 2 (separate mul and add pipes, no FMA) x %s GHz",
                  info.compute_units, k.f32_lanes, isa.c_str(), format_ghz(info.clock_hz).c_str());
  } else {
    const PipeEntry entry = pipe_table(info, isa);
    const double measured = info.measured_fma_per_cycle;
    const int measured_pipes = std::max(1, static_cast<int>(std::lround(measured)));
    if (entry.pipes == 0) {
      info.fma_pipes = measured > 0 ? measured_pipes : 2;
      info.pipes_source = entry.why + "; pipes from the measurement";
    } else if (measured > entry.pipes * 1.15) {
      info.fma_pipes = measured_pipes;
      info.pipes_source = entry.why + "; the table under-counts: measured wins";
    } else {
      info.fma_pipes = entry.pipes;
      info.pipes_source = entry.why;
    }
    std::snprintf(buf, sizeof buf, "%.2f", measured);
    cross = std::string("cross-check: each core ran ") + buf + " " + isa +
            " FMA/cycle, all cores probing at once";
    if (info.measured_avx2_fma_per_cycle > 0) {
      std::snprintf(buf, sizeof buf, " (AVX2: %.2f/cycle, i.e. %.2fx the AVX-512 FLOP/cycle)",
                    info.measured_avx2_fma_per_cycle,
                    measured > 0 ? info.measured_avx2_fma_per_cycle * 8 / (measured * 16) : 0.0);
      cross += buf;
    }
    if (measured > 0 && measured < 0.75 * info.fma_pipes)
      cross += "; far below the table: SMT siblings sharing a core, a busy host, or a lower vector clock";
    else if (measured > 0)
      cross += "; agrees with " + std::to_string(info.fma_pipes) + " pipes";
    info.peak_f32 =
        static_cast<double>(info.compute_units) * info.fma_pipes * k.f32_lanes * 2 * info.clock_hz;
    std::snprintf(buf, sizeof buf, "computed: %d cores x %d FMA pipes x %d f32 lanes (%s) x 2 FLOP x %s GHz",
                  info.compute_units, info.fma_pipes, k.f32_lanes, isa.c_str(),
                  format_ghz(info.clock_hz).c_str());
  }
  info.peak_f64 = info.peak_f32 / 2;
  std::string src = buf;
  src += " " + clock_note;
  if (info.clock_max_hz > info.clock_min_hz * 1.03) {
    std::snprintf(buf, sizeof buf, " (cores %s..%s GHz)", format_ghz(info.clock_min_hz).c_str(),
                  format_ghz(info.clock_max_hz).c_str());
    src += buf;
  }
  if (info.nominal_mhz > 0) {
    std::snprintf(buf, sizeof buf, ", nominal %s GHz (%s)", format_ghz(info.nominal_mhz * 1e6).c_str(),
                  info.nominal_source.c_str());
    src += buf;
  }
  src += "; FMA pipes: " + info.pipes_source;
  if (!cross.empty()) {
    src += "; " + cross;
    std::snprintf(buf, sizeof buf, " (sum of the cores' best runs: %.1f GFLOP/s f32 = %.0f%% of this peak)",
                  info.measured_allcore_f32_flops / 1e9,
                  info.peak_f32 > 0 ? 100 * info.measured_allcore_f32_flops / info.peak_f32 : 0.0);
    src += buf;
  }
  src += "; f64 = half the f32 lanes; f16 is converted and computed in f32, so its peak equals the f32 peak";
  src += "; " + low_precision_peaks(info);
  if (!info.isa_note.empty()) src += "; " + info.isa_note;
  info.peak_source = src;
}

}  // namespace

const KernelTable* select_kernels(std::string* note) {
  const bool v4 = cpu_is_x86_64_v4();
  const bool v3 = cpu_is_x86_64_v3();
  const KernelTable* best = v4 ? &kKernelsAvx512 : v3 ? &kKernelsAvx2 : &kKernelsSse2;
  const char* want = std::getenv("CMETER_CPU_ISA");
  if (want == nullptr || *want == '\0') return best;
  const std::string w = want;
  const KernelTable* pick = w == "avx512" ? &kKernelsAvx512
                            : w == "avx2" ? &kKernelsAvx2
                            : w == "sse2" ? &kKernelsSse2
                                          : nullptr;
  const bool ok = pick == &kKernelsSse2 || (pick == &kKernelsAvx2 && v3) || (pick == &kKernelsAvx512 && v4);
  if (note != nullptr)
    *note = ok ? "kernels lowered to " + w + " by CMETER_CPU_ISA"
               : "CMETER_CPU_ISA=" + w + " ignored (unknown or not supported by this CPU)";
  return ok ? pick : best;
}

DotBf16PairsFn select_dot_bf16_pairs(const KernelTable* kernels, std::string* note) {
  if (kernels != &kKernelsAvx512 || !cpu_has_avx512bf16()) return nullptr;
  const char* want = std::getenv("CMETER_CPU_DOT_BF16");
  if (want != nullptr && std::string(want) == "widen") {
    if (note != nullptr)
      *note = "bf16 dot-product gemm widens to f32 (CMETER_CPU_DOT_BF16=widen), no vdpbf16ps";
    return nullptr;
  }
  return kDotBf16PairsAvx512Bf16;
}

CpuInfo probe_cpu() {
  const auto t0 = Clock::now();
  CpuInfo info;
  read_cpuid(info);
  read_proc_cpuinfo(info);
  read_topology(info);
  read_memory(info);
  read_llc(info);
  info.kernels = select_kernels(&info.isa_note);
  std::string dot_note;
  info.dot_bf16_pairs = select_dot_bf16_pairs(info.kernels, &dot_note);
  if (!dot_note.empty()) info.isa_note += (info.isa_note.empty() ? "" : "; ") + dot_note;
  info.low = probe_low_precision_isa(info.kernels->isa);
  derive_peak(info, probe_cores(info));
  info.probe_s = seconds_since(t0);
  return info;
}

}  // namespace cmeter::cpu
