// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek-info: what edgekernels sees on this machine: the CPU, the compiled / supported / selected
// Highway targets, the extra lanes, the caches, and the OpenCL devices (if a runtime loads).
//
//   ek-info            human-readable
//   ek-info --json     one JSON object: selected_target, compiled_targets, supported_targets,
//                      detected_targets, lanes, disabled_lanes, caches, opencl_devices, ...
// Exit status: 0, or 1 if EK_TARGETS / EK_DISABLE_LANES is invalid (the error is printed).

// Dispatch, lanes, system information and threading only: no kernels compiled (docs/building.md).
#define EK_ONLY_DISPATCH 1

#include <cstdio>
#include <cstring>

#include "ek/cpu_features.h"
#include "ek/dispatch.h"
#include "ek/system_info.h"
#include "ek/version.h"
#include "ek/opencl/loader.h"

namespace {

void PrintJsonString(const char* s) {
  std::putchar('"');
  for (; *s; ++s) {
    const unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      std::printf("\\%c", c);
    } else if (c < 0x20) {
      std::printf("\\u%04x", c);
    } else {
      std::putchar(c);
    }
  }
  std::putchar('"');
}

// Prints the names of the set bits of `mask` as a JSON array of strings.
template <typename NameFn>
void PrintJsonNames(uint64_t mask, int num_bits, const NameFn& name) {
  std::putchar('[');
  bool first = true;
  for (int bit = 0; bit < num_bits; ++bit) {
    if (!(mask & (uint64_t{1} << bit))) continue;
    if (!first) std::putchar(',');
    PrintJsonString(name(bit));
    first = false;
  }
  std::putchar(']');
}

void PrintTargetArray(int64_t mask) {
  PrintJsonNames(static_cast<uint64_t>(mask), ek::kMaxTargetBits, [](int bit) { return ek::TargetName(int64_t{1} << bit); });
}

void PrintLaneArray(uint32_t mask) {
  PrintJsonNames(mask, static_cast<int>(ek::kNumLanes), [](int bit) { return ek::LaneName(static_cast<ek::Lane>(bit)); });
}

// Lane names for the text output, "(none)" for an empty set.
void FormatLaneText(uint32_t mask, char* buffer, size_t size) {
  ek::FormatLanes(mask, buffer, size);
  if (buffer[0] == '\0') std::snprintf(buffer, size, "(none)");
}

// CPUs whose data caches (L1d, L2, L3 sizes) are alike, as "0-3" or "0,2,4-7".
struct CoreGroup {
  int64_t bytes[3];
  char cpus[128];
};

void AppendCpu(char* list, size_t size, int first, int last) {
  const size_t used = std::strlen(list);
  if (first == last) {
    std::snprintf(list + used, size - used, "%s%d", used ? "," : "", first);
  } else {
    std::snprintf(list + used, size - used, "%s%d-%d", used ? "," : "", first, last);
  }
}

int GroupCoresByCaches(int cpus, CoreGroup* groups, int max_groups) {
  int count = 0, run_group = -1, run_first = 0, run_last = -2;
  for (int cpu = 0; cpu < cpus; ++cpu) {
    int64_t bytes[3];
    for (int level = 1; level <= 3; ++level) bytes[level - 1] = ek::CoreDataCacheBytes(cpu, level);
    int g = 0;
    while (g < count && std::memcmp(groups[g].bytes, bytes, sizeof(bytes)) != 0) ++g;
    if (g == count) {
      if (count == max_groups) continue;
      std::memcpy(groups[g].bytes, bytes, sizeof(bytes));
      groups[g].cpus[0] = '\0';
      ++count;
    }
    if (g == run_group && cpu == run_last + 1) {
      run_last = cpu;
      continue;
    }
    if (run_group >= 0) AppendCpu(groups[run_group].cpus, sizeof(groups[run_group].cpus), run_first, run_last);
    run_group = g;
    run_first = run_last = cpu;
  }
  if (run_group >= 0) AppendCpu(groups[run_group].cpus, sizeof(groups[run_group].cpus), run_first, run_last);
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else {
      std::fprintf(stderr, "usage: %s [--json]\n", argv[0]);
      return 2;
    }
  }
  const ek::Status ready = ek::EnsureDispatchReady();
  const ek::SystemInfo& sys = ek::GetSystemInfo();
  const int64_t selected = ek::SelectedTarget();
  CoreGroup groups[8];
  const int num_groups = GroupCoresByCaches(sys.logical_cpus, groups, 8);

  ek::opencl::Api api;
  const ek::Status cl_loaded = ek::opencl::LoadApi(&api);
  ek::opencl::DeviceSummary devices[16];
  int num_devices = 0;
  ek::Status cl_listed;
  if (cl_loaded.ok()) cl_listed = ek::opencl::ListDevices(api, devices, 16, &num_devices);
  const char* cl_error = !cl_loaded.ok() ? cl_loaded.message() : (!cl_listed.ok() ? cl_listed.message() : "");

  if (json) {
    std::printf("{\"ek_version\":");
    PrintJsonString(EK_VERSION_STRING);
    std::printf(",\"status\":");
    PrintJsonString(ready.ok() ? "ok" : ready.message());
    std::printf(",\"cpu\":");
    PrintJsonString(sys.cpu_name);
    std::printf(",\"logical_cpus\":%d,\"selected_target\":", sys.logical_cpus);
    PrintJsonString(ek::TargetName(selected));
    std::printf(",\"vector_bytes\":%zu,\"compiled_targets\":", ek::SelectedVectorBytes());
    PrintTargetArray(ek::CompiledTargets());
    std::printf(",\"supported_targets\":");
    PrintTargetArray(ek::SupportedTargets());
    std::printf(",\"detected_targets\":");
    PrintTargetArray(ek::DetectedTargets() & ~(HWY_SCALAR | HWY_EMU128));
    std::printf(",\"lanes\":");
    PrintLaneArray(ek::EnabledLanes());
    std::printf(",\"detected_lanes\":");
    PrintLaneArray(ek::DetectedLanes());
    std::printf(",\"disabled_lanes\":");
    PrintLaneArray(ek::DisabledLanes() & ek::DetectedLanes());
    std::printf(",\"caches\":[");
    for (int i = 0; i < sys.num_caches; ++i) {
      const ek::CacheInfo& c = sys.caches[i];
      std::printf("%s{\"level\":%d,\"type\":\"%s\",\"size_bytes\":%lld,\"line_bytes\":%lld,\"shared_by_cpus\":%d}",
                  i ? "," : "", c.level, c.type, static_cast<long long>(c.size_bytes),
                  static_cast<long long>(c.line_bytes), c.shared_by_cpus);
    }
    std::printf("],\"core_caches\":[");
    for (int i = 0; i < num_groups; ++i) {
      const CoreGroup& g = groups[i];
      std::printf("%s{\"cpus\":\"%s\",\"l1d_bytes\":%lld,\"l2_bytes\":%lld,\"l3_bytes\":%lld}", i ? "," : "", g.cpus,
                  static_cast<long long>(g.bytes[0]), static_cast<long long>(g.bytes[1]), static_cast<long long>(g.bytes[2]));
    }
    std::printf("],\"opencl_library\":");
    PrintJsonString(api.library ? api.library_path : "");
    std::printf(",\"opencl_error\":");
    PrintJsonString(cl_error);
    std::printf(",\"opencl_devices\":[");
    for (int i = 0; i < num_devices; ++i) {
      const ek::opencl::DeviceSummary& d = devices[i];
      std::printf("%s{\"platform\":", i ? "," : "");
      PrintJsonString(d.platform);
      std::printf(",\"name\":");
      PrintJsonString(d.name);
      std::printf(",\"type\":\"%s\",\"version\":", d.type);
      PrintJsonString(d.version);
      std::printf(",\"opencl_c_version\":");
      PrintJsonString(d.c_version);
      std::printf(",\"compute_units\":%u,\"global_memory_bytes\":%llu,\"max_alloc_bytes\":%llu}", d.compute_units,
                  static_cast<unsigned long long>(d.global_memory_bytes),
                  static_cast<unsigned long long>(d.max_alloc_bytes));
    }
    std::printf("]}\n");
  } else {
    char text[512];
    std::printf("edgekernels %s\n", EK_VERSION_STRING);
    if (!ready.ok()) std::printf("ERROR             %s\n", ready.message());
    std::printf("cpu               %s (%d logical CPUs)\n", sys.cpu_name, sys.logical_cpus);
    std::printf("selected target   %s (%zu-byte vectors)\n", ek::TargetName(selected), ek::SelectedVectorBytes());
    ek::FormatTargets(ek::CompiledTargets(), text, sizeof(text));
    std::printf("compiled targets  %s\n", text);
    ek::FormatTargets(ek::SupportedTargets(), text, sizeof(text));
    std::printf("supported targets %s\n", text);
    FormatLaneText(ek::EnabledLanes(), text, sizeof(text));
    std::printf("lanes             %s\n", text);
    if (ek::DisabledLanes() & ek::DetectedLanes()) {
      FormatLaneText(ek::DisabledLanes() & ek::DetectedLanes(), text, sizeof(text));
      std::printf("lanes forced off  %s\n", text);
    }
    for (int i = 0; i < sys.num_caches; ++i) {
      const ek::CacheInfo& c = sys.caches[i];
      std::printf("cache L%d %-11s %lld KiB, %lld-byte lines, shared by %d CPUs\n", c.level, c.type,
                  static_cast<long long>(c.size_bytes >> 10), static_cast<long long>(c.line_bytes), c.shared_by_cpus);
    }
    if (num_groups > 1) {  // cores with different caches (big / little): blocking follows the running one
      for (int i = 0; i < num_groups; ++i) {
        std::printf("core caches       CPUs %s: L1d %lld KiB, L2 %lld KiB, L3 %lld KiB\n", groups[i].cpus,
                    static_cast<long long>(groups[i].bytes[0] >> 10), static_cast<long long>(groups[i].bytes[1] >> 10),
                    static_cast<long long>(groups[i].bytes[2] >> 10));
      }
    }
    if (*cl_error) {
      std::printf("opencl            unavailable: %s\n", cl_error);
    } else {
      std::printf("opencl            %s, %d device(s)\n", api.library_path, num_devices);
      for (int i = 0; i < num_devices; ++i) {
        std::printf("  [%d] %s / %s (%s), %s, %u compute units, %llu MiB\n", i, devices[i].platform, devices[i].name,
                    devices[i].type, devices[i].version, devices[i].compute_units,
                    static_cast<unsigned long long>(devices[i].global_memory_bytes >> 20));
      }
    }
  }
  ek::opencl::UnloadApi(&api);
  return ready.ok() ? 0 : 1;
}
