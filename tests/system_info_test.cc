// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// CPU name and caches, read from cpuid / /proc/cpuinfo and /sys (also under qemu-user, where
// /sys is the host's).

// Dispatch, lanes, system information and threading only: no kernels compiled (docs/building.md).
#define EK_ONLY_DISPATCH 1

#include <sys/stat.h>

#include "ek/system_info.h"
#include "test_util.h"

TEST_CASE("sizes in /sys notation parse", "[system_info]") {
  CHECK(ek::detail::ParseSize("48K") == 48 * 1024);
  CHECK(ek::detail::ParseSize("2048K") == 2048 * 1024);
  CHECK(ek::detail::ParseSize("32M") == 32 * 1024 * 1024);
  CHECK(ek::detail::ParseSize("512") == 512);
}

TEST_CASE("CPU lists in /sys notation count", "[system_info]") {
  CHECK(ek::detail::CountCpuList("0") == 1);
  CHECK(ek::detail::CountCpuList("0-1") == 2);
  CHECK(ek::detail::CountCpuList("0,2,5-7") == 5);
  CHECK(ek::detail::CountCpuList("") == 0);
}

TEST_CASE("system info reports CPUs and, where /sys has them, caches", "[system_info]") {
  const ek::SystemInfo& info = ek::GetSystemInfo();
  CHECK(info.logical_cpus >= 1);
  CHECK(std::strlen(info.cpu_name) > 0);
#if EK_ARCH_X86
  CHECK(std::strcmp(info.cpu_name, "unknown") != 0);  // cpuid brand string
#endif
  struct stat st;
  if (stat("/sys/devices/system/cpu/cpu0/cache/index0/size", &st) == 0) {
    REQUIRE(info.num_caches >= 1);
    CHECK(info.DataCacheBytes(1) > 0);
    for (int i = 0; i < info.num_caches; ++i) {
      CHECK(info.caches[i].level >= 1);
      CHECK(info.caches[i].size_bytes > 0);
      CHECK(std::strlen(info.caches[i].type) > 0);
    }
  } else {
    WARN("no /sys cache information on this system");
  }
}
