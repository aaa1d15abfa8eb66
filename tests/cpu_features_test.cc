// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Lane detection: hwcap constants against the kernel's header, the hwcap -> lane mapping, the
// x86 lanes against /proc/cpuinfo (an independent source), and forcing lanes off.

// Dispatch, lanes, system information and threading only: no kernels compiled (docs/building.md).
#define EK_ONLY_DISPATCH 1

#include <cstdio>
#include <cstring>
#include <string>

#include "cpuinfo.h"
#include "ek/cpu_features.h"
#include "test_util.h"

#if defined(__aarch64__) && defined(__linux__) && __has_include(<asm/hwcap.h>)
#include <asm/hwcap.h>
#endif

TEST_CASE("hwcap bit constants match the kernel's <asm/hwcap.h>", "[lanes]") {
#if defined(HWCAP_ASIMDDP)
  CHECK(ek::hwcap::kAsimdDp == HWCAP_ASIMDDP);
  CHECK(ek::hwcap::kAsimdHp == HWCAP_ASIMDHP);
  CHECK(ek::hwcap::kSve == HWCAP_SVE);
#endif
#if defined(HWCAP2_I8MM)
  CHECK(ek::hwcap::kI8mm == HWCAP2_I8MM);
  CHECK(ek::hwcap::kBf16 == HWCAP2_BF16);
  CHECK(ek::hwcap::kSve2 == HWCAP2_SVE2);
#endif
#if defined(HWCAP2_SME)
  CHECK(ek::hwcap::kSme == HWCAP2_SME);
#endif
#if defined(HWCAP2_SME2)
  CHECK(ek::hwcap::kSme2 == HWCAP2_SME2);
#endif
  // The published values, for builds whose kernel headers predate them.
  CHECK(ek::hwcap::kAsimdDp == (1ull << 20));
  CHECK(ek::hwcap::kI8mm == (1ull << 13));
  CHECK(ek::hwcap::kSme == (1ull << 23));
}

TEST_CASE("hwcaps map to lanes", "[lanes]") {
  using ek::Lane;
  using ek::LaneBit;
  CHECK(ek::detail::LanesFromHwcaps(0, 0) == 0);
  CHECK(ek::detail::LanesFromHwcaps(ek::hwcap::kAsimdDp, 0) == LaneBit(Lane::kDotProd));
  CHECK(ek::detail::LanesFromHwcaps(0, ek::hwcap::kI8mm) == LaneBit(Lane::kI8mm));
  CHECK(ek::detail::LanesFromHwcaps(ek::hwcap::kAsimdHp, ek::hwcap::kBf16) ==
        (LaneBit(Lane::kFp16) | LaneBit(Lane::kBf16)));
  CHECK(ek::detail::LanesFromHwcaps(0, ek::hwcap::kSme | ek::hwcap::kSme2) ==
        (LaneBit(Lane::kSme) | LaneBit(Lane::kSme2)));
  // SVE is a Highway target, not a lane.
  CHECK(ek::detail::LanesFromHwcaps(ek::hwcap::kSve, ek::hwcap::kSve2) == 0);
}

TEST_CASE("x86 lanes agree with /proc/cpuinfo", "[lanes]") {
#if EK_ARCH_X86 && defined(__linux__)
  const ek_test::CpuInfo cpu = ek_test::ReadCpuInfo();
  REQUIRE(cpu.has_flags);
  const bool has_avx512vnni = cpu.Has("avx512_vnni");
  const bool has_avxvnni = cpu.Has("avx_vnni");
  CHECK(ek::LaneDetected(ek::Lane::kAvx512Vnni) == has_avx512vnni);
  CHECK(ek::LaneDetected(ek::Lane::kAvxVnni) == has_avxvnni);
  CHECK_FALSE(ek::LaneDetected(ek::Lane::kDotProd));
#else
  SUCCEED("not x86 Linux");
#endif
}

TEST_CASE("lanes can be forced off and back on; never on when not detected", "[lanes]") {
  const uint32_t saved = ek::DisabledLanes();
  for (uint32_t i = 0; i < ek::kNumLanes; ++i) {
    const ek::Lane lane = static_cast<ek::Lane>(i);
    ek::EnableLane(lane);
    CHECK(ek::LaneEnabled(lane) == ek::LaneDetected(lane));
    ek::DisableLane(lane);
    CHECK_FALSE(ek::LaneEnabled(lane));
  }
  ek::SetDisabledLanes(saved);
}

TEST_CASE("lane lists parse, and unknown names are errors", "[lanes]") {
  uint32_t mask = 0;
  CHECK(ek::detail::ParseLaneList("EK_DISABLE_LANES", "dotprod,i8mm", &mask).ok());
  CHECK(mask == (ek::LaneBit(ek::Lane::kDotProd) | ek::LaneBit(ek::Lane::kI8mm)));
  CHECK(ek::detail::ParseLaneList("EK_DISABLE_LANES", "all", &mask).ok());
  CHECK(mask == (1u << ek::kNumLanes) - 1);
  CHECK(ek::detail::ParseLaneList("EK_DISABLE_LANES", "", &mask).ok());
  CHECK(mask == 0);
  const ek::Status bad = ek::detail::ParseLaneList("EK_DISABLE_LANES", "vnni", &mask);
  CHECK_FALSE(bad.ok());
  CHECK(ek_test::Contains(bad.message(), "EK_DISABLE_LANES: unknown lane 'vnni'"));
}

TEST_CASE("lane masks format as names", "[lanes]") {
  char text[64];
  ek::FormatLanes(ek::LaneBit(ek::Lane::kDotProd) | ek::LaneBit(ek::Lane::kI8mm), text, sizeof(text), ",");
  CHECK(std::string(text) == "dotprod,i8mm");
  ek::FormatLanes(0, text, sizeof(text));
  CHECK(std::string(text).empty());
  char tiny[6];
  ek::FormatLanes(ek::LaneBit(ek::Lane::kAvx512Vnni) | ek::LaneBit(ek::Lane::kDotProd), tiny, sizeof(tiny));
  CHECK(std::strlen(tiny) < sizeof(tiny));  // truncated, still terminated
}
