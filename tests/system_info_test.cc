// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// CPU name and caches, read from cpuid / /proc/cpuinfo and /sys (also under qemu-user, where
// /sys is the host's).

// Dispatch, lanes, system information and threading only: no kernels compiled (docs/building.md).
#define EK_ONLY_DISPATCH 1

#include <sched.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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

namespace {

void WriteFile(const std::string& path, const char* text) {
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs(text, f);
  std::fclose(f);
}

}  // namespace

TEST_CASE("a core's data cache sizes are read from its /sys directory", "[system_info]") {
  char root[] = "/tmp/ek_core_cachesXXXXXX";
  REQUIRE(mkdtemp(root) != nullptr);
  const std::string cpu = std::string(root) + "/cpu5";
  // An Arm big core as /sys lists it: L1 data + instruction, a private L2, a shared L3.
  const char* entries[][3] = {{"1", "Data", "64K"}, {"1", "Instruction", "64K"}, {"2", "Unified", "512K"},
                              {"3", "Unified", "4096K"}};
  mkdir(cpu.c_str(), 0700);
  mkdir((cpu + "/cache").c_str(), 0700);
  for (int i = 0; i < 4; ++i) {
    const std::string dir = cpu + "/cache/index" + std::to_string(i);
    mkdir(dir.c_str(), 0700);
    WriteFile(dir + "/level", entries[i][0]);
    WriteFile(dir + "/type", entries[i][1]);
    WriteFile(dir + "/size", entries[i][2]);
  }
  int32_t kib[3];
  ek::detail::ReadCoreCacheKib(cpu.c_str(), kib);
  CHECK(kib[0] == 64);
  CHECK(kib[1] == 512);
  CHECK(kib[2] == 4096);
  // A little core without an L3 entry, and a CPU /sys does not list.
  WriteFile(cpu + "/cache/index2/size", "128K");
  WriteFile(cpu + "/cache/index3/level", "4");
  ek::detail::ReadCoreCacheKib(cpu.c_str(), kib);
  CHECK(kib[0] == 64);
  CHECK(kib[1] == 128);
  CHECK(kib[2] == -1);
  ek::detail::ReadCoreCacheKib((std::string(root) + "/cpu6").c_str(), kib);
  CHECK(kib[0] == -1);
  CHECK(kib[1] == -1);
  CHECK(kib[2] == -1);
  std::string cleanup = std::string("rm -rf ") + root;
  CHECK(std::system(cleanup.c_str()) == 0);
}

TEST_CASE("blocking reads the caches of the core the thread runs on", "[system_info]") {
  const ek::SystemInfo& info = ek::GetSystemInfo();
  CHECK(ek::CoreDataCacheBytes(0, 0) == 0);
  CHECK(ek::CoreDataCacheBytes(0, 4) == 0);
  // A CPU beyond the table or unknown to /sys: the first CPU's figures.
  CHECK(ek::CoreDataCacheBytes(-1, 2) == info.DataCacheBytes(2));
  CHECK(ek::CoreDataCacheBytes(1 << 20, 2) == info.DataCacheBytes(2));
  struct stat st;
  if (stat("/sys/devices/system/cpu/cpu0/cache/index0/size", &st) != 0) {
    WARN("no /sys cache information on this system: per-core sizes are the fallback's");
    return;
  }
  for (int level = 1; level <= 2; ++level) CHECK(ek::CoreDataCacheBytes(0, level) == info.DataCacheBytes(level));
#if defined(__linux__)
  // Pinned to each CPU it may run on, the thread sees that CPU's caches, read from its own /sys.
  cpu_set_t original;
  REQUIRE(sched_getaffinity(0, sizeof(original), &original) == 0);
  int pinned = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && pinned < 16; ++cpu) {
    if (!CPU_ISSET(cpu, &original)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0) continue;
    ++pinned;
    CHECK(ek::RunningCpu() == cpu);
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
    int32_t kib[3];
    ek::detail::ReadCoreCacheKib(dir.c_str(), kib);
    for (int level = 1; level <= 3; ++level) {
      const int64_t expected = kib[level - 1] > 0 ? int64_t{kib[level - 1]} << 10 : info.DataCacheBytes(level);
      CHECK(ek::RunningCoreDataCacheBytes(level) == expected);
    }
  }
  REQUIRE(sched_setaffinity(0, sizeof(original), &original) == 0);
  CHECK(pinned >= 1);
#endif
}
