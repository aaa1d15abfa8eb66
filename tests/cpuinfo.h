// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The first CPU's "flags" and "vendor_id" from Linux's /proc/cpuinfo: an independent source that
// tests compare ek's and Highway's cpuid-based detection against (x86).
#ifndef EK_TESTS_CPUINFO_H_
#define EK_TESTS_CPUINFO_H_

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>

namespace ek_test {

struct CpuInfo {
  bool has_flags = false;
  std::string flags;   // " flag1 flag2 ... " (space-padded, so Has() matches whole words)
  std::string vendor;  // e.g. "GenuineIntel", "AuthenticAMD"

  bool Has(const char* flag) const { return flags.find(std::string(" ") + flag + " ") != std::string::npos; }
  bool HasAll(std::initializer_list<const char*> names) const {
    for (const char* n : names) {
      if (!Has(n)) return false;
    }
    return true;
  }
};

inline std::string FieldValue(const char* line) {
  const char* colon = std::strchr(line, ':');
  std::string value = colon ? colon + 1 : "";
  for (char& c : value) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return value;
}

inline CpuInfo ReadCpuInfo() {
  CpuInfo info;
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return info;
  char line[8192];
  while (std::fgets(line, sizeof(line), f) && !(info.has_flags && !info.vendor.empty())) {
    if (std::strncmp(line, "flags", 5) == 0 && !info.has_flags) {
      info.flags = FieldValue(line) + " ";
      info.has_flags = true;
    } else if (std::strncmp(line, "vendor_id", 9) == 0 && info.vendor.empty()) {
      const std::string v = FieldValue(line);
      const size_t begin = v.find_first_not_of(' '), end = v.find_last_not_of(' ');
      info.vendor = begin == std::string::npos ? "" : v.substr(begin, end - begin + 1);
    }
  }
  std::fclose(f);
  return info;
}

}  // namespace ek_test

#endif  // EK_TESTS_CPUINFO_H_
