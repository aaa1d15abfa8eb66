// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// CPU name and cache sizes, for tools and for cache blocking. Read once; never fails (unknown
// values are 0 or "unknown"). Cache sizes per core too: the big and little cores of a phone
// differ, and a call's blocking follows the core it is planned on (RunningCoreDataCacheBytes).
#ifndef EK_SYSTEM_INFO_H_
#define EK_SYSTEM_INFO_H_

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/cpu_features.h"

namespace ek {

struct CacheInfo {
  int level = 0;            // 1, 2, 3
  char type[16] = {0};      // "data", "instruction", "unified"
  int64_t size_bytes = 0;
  int64_t line_bytes = 0;
  int shared_by_cpus = 0;   // logical CPUs sharing this cache (0 if unknown)
};

struct SystemInfo {
  char cpu_name[96] = "unknown";
  int logical_cpus = 0;
  int num_caches = 0;
  CacheInfo caches[8];

  // Size of the data (or unified) cache at `level`, 0 if unknown.
  int64_t DataCacheBytes(int level) const {
    for (int i = 0; i < num_caches; ++i) {
      if (caches[i].level == level && std::strcmp(caches[i].type, "instruction") != 0) return caches[i].size_bytes;
    }
    return 0;
  }
};

namespace detail {

inline bool ReadSmallFile(const char* path, char* buffer, size_t size) {
  FILE* f = std::fopen(path, "r");
  if (!f) return false;
  size_t n = std::fread(buffer, 1, size - 1, f);
  std::fclose(f);
  while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == ' ')) --n;  // trailing whitespace
  buffer[n] = '\0';
  return true;
}

inline int64_t ParseSize(const char* text) {  // "48K", "2048K", "32M"
  char* end = nullptr;
  int64_t v = std::strtoll(text, &end, 10);
  if (end && (*end == 'K' || *end == 'k')) v <<= 10;
  if (end && (*end == 'M' || *end == 'm')) v <<= 20;
  return v;
}

inline void ReadCpuName(SystemInfo* info) {
#if EK_ARCH_X86
  uint32_t regs[12];
  if (static_cast<uint32_t>(__get_cpuid_max(0x80000000u, nullptr)) >= 0x80000004u) {
    for (uint32_t i = 0; i < 3; ++i) __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char name[49];
    std::memcpy(name, regs, 48);
    name[48] = '\0';
    const char* p = name;
    while (*p == ' ') ++p;
    std::snprintf(info->cpu_name, sizeof(info->cpu_name), "%s", p);
    return;
  }
#endif
  // Arm (and fallback): /proc/cpuinfo implementer and part, or a "model name" line.
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[256];
  unsigned implementer = 0, part = 0;
  bool have_part = false;
  while (std::fgets(line, sizeof(line), f)) {
    const char* colon = std::strchr(line, ':');
    if (!colon) continue;
    if (std::strncmp(line, "model name", 10) == 0) {
      const char* v = colon + 1;
      while (*v == ' ') ++v;
      std::snprintf(info->cpu_name, sizeof(info->cpu_name), "%.*s", static_cast<int>(std::strcspn(v, "\n")), v);
      std::fclose(f);
      return;
    }
    if (std::strncmp(line, "CPU implementer", 15) == 0) implementer = static_cast<unsigned>(std::strtoul(colon + 1, nullptr, 0));
    if (std::strncmp(line, "CPU part", 8) == 0) {
      part = static_cast<unsigned>(std::strtoul(colon + 1, nullptr, 0));
      have_part = true;
    }
  }
  std::fclose(f);
  if (have_part) std::snprintf(info->cpu_name, sizeof(info->cpu_name), "Arm implementer 0x%02x part 0x%03x", implementer, part);
}

// Reads <cpu_dir>/cache/index<index>/<field>; cpu_dir is e.g. /sys/devices/system/cpu/cpu0.
inline bool ReadCacheField(const char* cpu_dir, int index, const char* field, char* text, size_t size) {
  char path[256];
  std::snprintf(path, sizeof(path), "%s/cache/index%d/%s", cpu_dir, index, field);
  return ReadSmallFile(path, text, size);
}

// Counts the CPUs in a list such as "0-1" or "0,2,5-7".
inline int CountCpuList(const char* text) {
  int count = 0;
  const char* p = text;
  while (*p) {
    char* end;
    const long first = std::strtol(p, &end, 10);
    if (end == p) break;
    long last = first;
    if (*end == '-') last = std::strtol(end + 1, &end, 10);
    count += static_cast<int>(last - first + 1);
    p = (*end == ',') ? end + 1 : end;
  }
  return count;
}

// Reads the caches /sys lists for one CPU (cpu_dir: /sys/devices/system/cpu/cpu<N>) into the
// info's cache list.
inline void ReadCaches(const char* cpu_dir, SystemInfo* info) {
  for (int index = 0; index < 8 && info->num_caches < 8; ++index) {
    char text[64];
    if (!ReadCacheField(cpu_dir, index, "level", text, sizeof(text))) break;
    CacheInfo& c = info->caches[info->num_caches];
    c = CacheInfo();  // the slot may hold a skipped entry's fields
    c.level = std::atoi(text);
    if (ReadCacheField(cpu_dir, index, "type", text, sizeof(text))) {
      std::snprintf(c.type, sizeof(c.type), "%s",
                    std::strcmp(text, "Data") == 0 ? "data" : std::strcmp(text, "Instruction") == 0 ? "instruction" : "unified");
    }
    if (ReadCacheField(cpu_dir, index, "size", text, sizeof(text))) c.size_bytes = ParseSize(text);
    if (ReadCacheField(cpu_dir, index, "coherency_line_size", text, sizeof(text))) c.line_bytes = std::atoll(text);
    if (ReadCacheField(cpu_dir, index, "shared_cpu_list", text, sizeof(text))) c.shared_by_cpus = CountCpuList(text);
    if (c.size_bytes > 0) ++info->num_caches;
  }
}

// The data (or unified) cache sizes of one CPU at levels 1, 2, 3 in KiB (-1: not listed), by
// the rule SystemInfo::DataCacheBytes applies to the first CPU.
inline void ReadCoreCacheKib(const char* cpu_dir, int32_t kib[3]) {
  SystemInfo core;  // only its cache list is filled
  ReadCaches(cpu_dir, &core);
  for (int level = 1; level <= 3; ++level) {
    const int64_t bytes = core.DataCacheBytes(level);
    kib[level - 1] = bytes >= 1024 ? static_cast<int32_t>(bytes >> 10) : -1;
  }
}

}  // namespace detail

inline const SystemInfo& GetSystemInfo() {
  static const SystemInfo info = [] {
    SystemInfo s;
    detail::ReadCpuName(&s);
    s.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    detail::ReadCaches("/sys/devices/system/cpu/cpu0", &s);
    return s;
  }();
  return info;
}

// The data (or unified) cache at `level` (1..3) of logical CPU `cpu`, read from /sys on first
// use for that CPU; the first CPU's (GetSystemInfo) where /sys does not list it. 0 if unknown.
inline int64_t CoreDataCacheBytes(int cpu, int level) {
  constexpr int kMaxCpus = 1024;
  // Per CPU and level: 0 not read yet, -1 unknown, else KiB. Racing readers store the same value.
  static std::atomic<int32_t> kib[kMaxCpus][3];
  if (level < 1 || level > 3) return 0;
  if (cpu >= 0 && cpu < kMaxCpus) {
    int32_t value = kib[cpu][level - 1].load(std::memory_order_relaxed);
    if (value == 0) {
      char dir[64];
      std::snprintf(dir, sizeof(dir), "/sys/devices/system/cpu/cpu%d", cpu);
      int32_t read[3];
      detail::ReadCoreCacheKib(dir, read);
      for (int i = 0; i < 3; ++i) kib[cpu][i].store(read[i], std::memory_order_relaxed);
      value = read[level - 1];
    }
    if (value > 0) return int64_t{value} << 10;
  }
  return GetSystemInfo().DataCacheBytes(level);
}

// The logical CPU the calling thread runs on now (-1 if the system cannot say).
inline int RunningCpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

// The data cache at `level` of the core the calling thread runs on: what a call's cache blocking
// is planned for (GEMM's K block from L2, convolution's loop order from L1). On a phone the
// big and little cores differ; on a machine whose cores are alike this is the first CPU's.
inline int64_t RunningCoreDataCacheBytes(int level) { return CoreDataCacheBytes(RunningCpu(), level); }

}  // namespace ek

#endif  // EK_SYSTEM_INFO_H_
