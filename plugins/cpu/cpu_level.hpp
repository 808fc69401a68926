// plugins/cpu/cpu_level.hpp - x86-64 micro-architecture levels and the one single feature the plugin asks
// about, answered the same way by GCC and clang. Why: GCC's __builtin_cpu_supports("x86-64-v3") has no
// clang 14 equivalent, and CI's sanitizer + fuzz build is one clang tree (scripts/test-sanitizers.sh),
// which must build and run this plugin too. Under GCC the builtins answer; elsewhere CPUID + XGETBV.
#ifndef CMETER_CPU_LEVEL_HPP_
#define CMETER_CPU_LEVEL_HPP_

#if !(defined(__GNUC__) && !defined(__clang__))
#include <cpuid.h>
#endif

namespace cmeter::cpu {

#if defined(__GNUC__) && !defined(__clang__)
inline bool cpu_is_x86_64_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3");
}
inline bool cpu_is_x86_64_v4() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4");
}
inline bool cpu_has_avx512fp16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512fp16");
}
inline bool cpu_has_avx512bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4") && __builtin_cpu_supports("avx512bf16");
}
#else
namespace detail {
struct CpuidBits {
  unsigned leaf1_ecx = 0, leaf7_ebx = 0, leaf7_edx = 0, leaf7_1_eax = 0, ext1_ecx = 0;
  unsigned long long xcr0 = 0;
};
inline CpuidBits read_cpuid_bits() {
  CpuidBits b;
  unsigned a = 0, bx = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &bx, &c, &d)) b.leaf1_ecx = c;
  if (__get_cpuid_count(7, 0, &a, &bx, &c, &d)) {
    b.leaf7_ebx = bx;
    b.leaf7_edx = d;
  }
  if (__get_cpuid_count(7, 1, &a, &bx, &c, &d)) b.leaf7_1_eax = a;
  if (__get_cpuid(0x80000001u, &a, &bx, &c, &d)) b.ext1_ecx = c;
  if (b.leaf1_ecx & (1u << 27)) {  // OSXSAVE: the OS saves the vector state XCR0 names
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    b.xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  return b;
}
inline bool all(unsigned word, unsigned mask) {
  return (word & mask) == mask;
}
}  // namespace detail

// x86-64-v3: AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE (+ OS support of the YMM state).
inline bool cpu_is_x86_64_v3() {
  const auto b = detail::read_cpuid_bits();
  const unsigned leaf1 =
      (1u << 12) | (1u << 22) | (1u << 27) | (1u << 28) | (1u << 29);  // FMA MOVBE OSXSAVE AVX F16C
  const unsigned leaf7 = (1u << 3) | (1u << 5) | (1u << 8);            // BMI1 AVX2 BMI2
  return detail::all(b.leaf1_ecx, leaf1) && detail::all(b.leaf7_ebx, leaf7) && (b.ext1_ecx & (1u << 5)) &&
         (b.xcr0 & 0x6) == 0x6;
}
// x86-64-v4: v3 + AVX512F, AVX512DQ, AVX512CD, AVX512BW, AVX512VL (+ OS support of the ZMM state).
inline bool cpu_is_x86_64_v4() {
  const auto b = detail::read_cpuid_bits();
  const unsigned leaf7 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
  return cpu_is_x86_64_v3() && detail::all(b.leaf7_ebx, leaf7) && (b.xcr0 & 0xe6) == 0xe6;
}
inline bool cpu_has_avx512fp16() {
  const auto b = detail::read_cpuid_bits();
  return cpu_is_x86_64_v4() && (b.leaf7_edx & (1u << 23));
}
// AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16): CPUID.(EAX=7,ECX=1):EAX bit 5.
inline bool cpu_has_avx512bf16() {
  const auto b = detail::read_cpuid_bits();
  return cpu_is_x86_64_v4() && (b.leaf7_1_eax & (1u << 5));
}
#endif

}  // namespace cmeter::cpu

#endif  // CMETER_CPU_LEVEL_HPP_
