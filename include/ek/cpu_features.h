// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Extra instruction lanes that Highway does not expose as targets, detected by the library itself
// at run time (cpuid + xgetbv on x86; getauxval(AT_HWCAP/AT_HWCAP2) on Linux and Android
// aarch64). A kernel uses a lane only if LaneEnabled(lane): detected and not forced off.
//
// Forcing lanes off: the environment variable EK_DISABLE_LANES (comma-separated lane names, or
// "all"), read once at first use, or DisableLane()/EnableLane() at run time (tests, A/B
// benchmarks). Enabling a lane the CPU lacks is impossible: LaneEnabled() stays false.
#ifndef EK_CPU_FEATURES_H_
#define EK_CPU_FEATURES_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/detail/name_list.h"
#include "ek/status.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define EK_ARCH_X86 1
#include <cpuid.h>
#else
#define EK_ARCH_X86 0
#endif

#if defined(__aarch64__)
#define EK_ARCH_ARM64 1
#else
#define EK_ARCH_ARM64 0
#endif

#if EK_ARCH_ARM64 && (defined(__linux__) || defined(__ANDROID__))
#include <sys/auxv.h>
#define EK_HAVE_GETAUXVAL 1
#else
#define EK_HAVE_GETAUXVAL 0
#endif

namespace ek {

enum class Lane : uint32_t {
  kAvx512Vnni = 0,  // x86: EVEX vpdpbusd (u8 x s8 -> s32 dot product of 4), 512-bit
  kAvxVnni,         // x86: VEX vpdpbusd, 256-bit (Alder Lake and later, Zen5)
  kDotProd,         // Arm: sdot/udot (FEAT_DotProd)
  kI8mm,            // Arm: smmla/ummla/usmmla (FEAT_I8MM)
  kFp16,            // Arm: half-precision arithmetic (FEAT_FP16, ASIMDHP)
  kBf16,            // Arm: bfdot/bfmmla (FEAT_BF16)
  kSme,             // Arm: Scalable Matrix Extension
  kSme2,            // Arm: SME2
  kCount
};

constexpr uint32_t kNumLanes = static_cast<uint32_t>(Lane::kCount);

inline const char* LaneName(Lane lane) {
  static const char* const kNames[kNumLanes] = {"avx512vnni", "avxvnni", "dotprod", "i8mm",
                                                "fp16",       "bf16",    "sme",     "sme2"};
  const uint32_t i = static_cast<uint32_t>(lane);
  return i < kNumLanes ? kNames[i] : "?";
}

constexpr uint32_t LaneBit(Lane lane) { return 1u << static_cast<uint32_t>(lane); }

// Linux aarch64 hwcap bits (arch/arm64/include/uapi/asm/hwcap.h). Named here so that the library
// does not depend on the kernel headers' age; tests/cpu_features_test.cc checks them against
// <asm/hwcap.h> where that header defines them.
namespace hwcap {
constexpr uint64_t kAsimdHp = 1ull << 10;   // HWCAP_ASIMDHP
constexpr uint64_t kAsimdDp = 1ull << 20;   // HWCAP_ASIMDDP
constexpr uint64_t kSve = 1ull << 22;       // HWCAP_SVE
constexpr uint64_t kSve2 = 1ull << 1;       // HWCAP2_SVE2
constexpr uint64_t kI8mm = 1ull << 13;      // HWCAP2_I8MM
constexpr uint64_t kBf16 = 1ull << 14;      // HWCAP2_BF16
constexpr uint64_t kSme = 1ull << 23;       // HWCAP2_SME
constexpr uint64_t kSme2 = 1ull << 37;      // HWCAP2_SME2
}  // namespace hwcap

namespace detail {

#if EK_ARCH_X86
inline uint64_t ReadXcr0() {
  uint32_t lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline uint32_t DetectLanesX86() {
  uint32_t a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const bool osxsave = (c >> 27) & 1;
  if (!osxsave) return 0;
  const uint64_t xcr0 = ReadXcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;              // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return 0;
  uint32_t lanes = 0;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx512f = (b >> 16) & 1;
  const bool avx512vnni = (c >> 11) & 1;
  if (os_avx512 && avx512f && avx512vnni) lanes |= LaneBit(Lane::kAvx512Vnni);
  __cpuid_count(7, 1, a, b, c, d);
  const bool avxvnni = (a >> 4) & 1;
  if (os_avx && avxvnni) lanes |= LaneBit(Lane::kAvxVnni);
  return lanes;
}
#endif

// Maps Linux aarch64 hwcaps to lanes. Separate from getauxval so tests can feed it values.
inline uint32_t LanesFromHwcaps(uint64_t hwcap, uint64_t hwcap2) {
  uint32_t lanes = 0;
  if (hwcap & hwcap::kAsimdDp) lanes |= LaneBit(Lane::kDotProd);
  if (hwcap2 & hwcap::kI8mm) lanes |= LaneBit(Lane::kI8mm);
  if (hwcap & hwcap::kAsimdHp) lanes |= LaneBit(Lane::kFp16);
  if (hwcap2 & hwcap::kBf16) lanes |= LaneBit(Lane::kBf16);
  if (hwcap2 & hwcap::kSme) lanes |= LaneBit(Lane::kSme);
  if (hwcap2 & hwcap::kSme2) lanes |= LaneBit(Lane::kSme2);
  return lanes;
}

inline uint32_t DetectLanesUncached() {
#if EK_ARCH_X86
  return DetectLanesX86();
#elif EK_HAVE_GETAUXVAL
  return LanesFromHwcaps(getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
#else
  return 0;
#endif
}

// Parses a comma-separated list of lane names ("all" = every lane) into a mask.
inline Status ParseLaneList(const char* what, const char* list, uint32_t* mask) {
  *mask = 0;
  return ForEachListItem(list, [&](const char* name, size_t len) {
    if (len == 3 && std::strncmp(name, "all", 3) == 0) {
      *mask = (1u << kNumLanes) - 1;
      return Status::Ok();
    }
    for (uint32_t i = 0; i < kNumLanes; ++i) {
      const char* lane = LaneName(static_cast<Lane>(i));
      if (std::strlen(lane) == len && std::strncmp(name, lane, len) == 0) {
        *mask |= 1u << i;
        return Status::Ok();
      }
    }
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: unknown lane '%.*s' (known: avx512vnni avxvnni dotprod i8mm fp16 bf16 sme sme2 all)",
                         what, static_cast<int>(len), name);
  });
}

struct LaneState {
  uint32_t detected = 0;
  std::atomic<uint32_t> disabled{0};
  Status env_status;  // error from parsing EK_DISABLE_LANES, if any
};

inline LaneState& Lanes() {
  static LaneState* state = [] {
    static LaneState s;
    s.detected = DetectLanesUncached();
    if (const char* env = std::getenv("EK_DISABLE_LANES")) {
      uint32_t mask = 0;
      s.env_status = ParseLaneList("EK_DISABLE_LANES", env, &mask);
      s.disabled.store(mask);
    }
    return &s;
  }();
  return *state;
}

}  // namespace detail

// Lanes the CPU (and OS) support, whether or not forced off.
inline uint32_t DetectedLanes() { return detail::Lanes().detected; }
// Lanes kernels may use: detected and not forced off.
inline uint32_t EnabledLanes() { return detail::Lanes().detected & ~detail::Lanes().disabled.load(); }
inline bool LaneDetected(Lane lane) { return (DetectedLanes() & LaneBit(lane)) != 0; }
inline bool LaneEnabled(Lane lane) { return (EnabledLanes() & LaneBit(lane)) != 0; }
inline void DisableLane(Lane lane) { detail::Lanes().disabled.fetch_or(LaneBit(lane)); }
inline void EnableLane(Lane lane) { detail::Lanes().disabled.fetch_and(~LaneBit(lane)); }
// The feature lane behind a named multiply lane of the int8 kernels: "avx512vnni" (kAvx512Vnni),
// "sve-sdot" and "dotprod" (kDotProd), "i8mm" (kI8mm); false for "widen" (no lane) and others.
inline bool MultiplyLaneFeature(const char* name, Lane* lane) {
  const struct { const char* name; Lane lane; } kLanes[] = {
      {"avx512vnni", Lane::kAvx512Vnni}, {"sve-sdot", Lane::kDotProd}, {"dotprod", Lane::kDotProd}, {"i8mm", Lane::kI8mm}};
  for (const auto& entry : kLanes) {
    if (std::strcmp(name, entry.name) == 0) {
      *lane = entry.lane;
      return true;
    }
  }
  return false;
}
// A target's multiply lane `name` if its feature lane is enabled, else "widen" (the 16-bit form
// every target has).
inline const char* EnabledMultiplyLane(const char* name) {
  Lane lane;
  return MultiplyLaneFeature(name, &lane) && !LaneEnabled(lane) ? "widen" : name;
}
// Replaces the forced-off set (mask of LaneBit); 0 re-enables every detected lane.
inline void SetDisabledLanes(uint32_t mask) { detail::Lanes().disabled.store(mask); }
inline uint32_t DisabledLanes() { return detail::Lanes().disabled.load(); }

// Writes the names of the lanes in `mask` (LaneBit values), separated by `sep`.
inline void FormatLanes(uint32_t mask, char* buffer, size_t size, const char* sep = " ") {
  detail::FormatMaskNames(mask, static_cast<int>(kNumLanes),
                          [](int bit) { return LaneName(static_cast<Lane>(bit)); }, buffer, size, sep);
}

}  // namespace ek

#endif  // EK_CPU_FEATURES_H_
