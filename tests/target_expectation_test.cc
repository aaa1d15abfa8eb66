// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Asserts which Highway target and which extra lanes were selected, so that a silent fall back
// to a lower target fails the lane. Expectations:
//   EK_EXPECT_TARGET=NAME   the target dispatch must select (e.g. SVE2_128 under qemu max,sve128=on)
//   EK_EXPECT_LANES=a,b     the exact set of enabled lanes: detected and not forced off ("" = none)
//   EK_EXPECT_COMPILED=A,B  the exact list of compiled targets, best first (restricted builds)
// Without them, on x86 Linux, both are derived from /proc/cpuinfo's flags (an independent
// source); elsewhere the test is skipped (exit 77). It also runs a kernel under the selected
// target and checks it against the reference.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "cpuinfo.h"
#include "ek/ek.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what, const std::string& detail) {
  std::printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what, detail.c_str());
  if (!ok) ++failures;
}

#if EK_ARCH_X86 && defined(__linux__)
// Highway 1.2's x86 targets from /proc/cpuinfo flags (best first), among the compiled ones: the
// same feature groups as hwy/targets.cc, read from the kernel's flag names instead of cpuid.
std::string ExpectedX86Target(const ek_test::CpuInfo& f) {
  const bool sse4 = f.HasAll({"sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "pclmulqdq", "aes"});
  const bool avx2 = sse4 && f.HasAll({"avx", "avx2", "abm", "bmi1", "bmi2", "fma", "f16c"});
  const bool avx3 = avx2 && f.HasAll({"avx512f", "avx512vl", "avx512dq", "avx512bw", "avx512cd"});
  const bool avx3_dl = avx3 && f.HasAll({"avx512_vnni", "vpclmulqdq", "avx512vbmi", "avx512_vbmi2", "vaes",
                                          "avx512_vpopcntdq", "avx512_bitalg", "gfni"});
  // Highway selects AVX3_ZEN4 on AMD CPUs only (an Intel CPU with the same features gets
  // AVX3_DL or AVX3_SPR).
  const bool zen4 = avx3_dl && f.Has("avx512_bf16") && f.vendor == "AuthenticAMD";
  const bool spr = avx3_dl && f.HasAll({"avx512_bf16", "avx512_fp16"});
  const int64_t compiled = ek::CompiledTargets();
  if (spr && (compiled & HWY_AVX3_SPR)) return "AVX3_SPR";
  if (zen4 && (compiled & HWY_AVX3_ZEN4)) return "AVX3_ZEN4";
  if (avx3_dl && (compiled & HWY_AVX3_DL)) return "AVX3_DL";
  if (avx3 && (compiled & HWY_AVX3)) return "AVX3";
  if (avx2 && (compiled & HWY_AVX2)) return "AVX2";
  if (sse4 && (compiled & HWY_SSE4)) return "SSE4";
  if (f.HasAll({"pni", "ssse3"}) && (compiled & HWY_SSSE3)) return "SSSE3";
  return "SSE2";
}
#endif  // EK_ARCH_X86 && __linux__

}  // namespace

int main() {
  const char* env_target = std::getenv("EK_EXPECT_TARGET");
  const char* env_lanes = std::getenv("EK_EXPECT_LANES");
  std::string want_target, want_lanes;
  if (env_target) {
    want_target = env_target;
    want_lanes = env_lanes ? env_lanes : "";
  } else {
#if EK_ARCH_X86 && defined(__linux__)
    const ek_test::CpuInfo cpu = ek_test::ReadCpuInfo();
    if (!cpu.has_flags) {
      std::printf("skipped: no /proc/cpuinfo flags and no EK_EXPECT_TARGET\n");
      return 77;
    }
    want_target = ExpectedX86Target(cpu);
    want_lanes = cpu.Has("avx512_vnni") ? "avx512vnni" : "";
    if (cpu.Has("avx_vnni")) want_lanes += want_lanes.empty() ? "avxvnni" : ",avxvnni";
    if (std::getenv("EK_DISABLE_LANES")) {
      std::printf("skipped: EK_DISABLE_LANES is set; set EK_EXPECT_LANES to assert lanes\n");
      return 77;
    }
#else
    std::printf("skipped: set EK_EXPECT_TARGET (and EK_EXPECT_LANES) to assert the selection here\n");
    return 77;
#endif
  }
  const ek::Status ready = ek::EnsureDispatchReady();
  // A forced target this CPU does not have cannot be asserted: skip (reported as skipped).
  if (const char* forced = std::getenv("EK_TARGETS")) {
    if (ready.code() == ek::StatusCode::kUnsupported && std::strstr(ready.message(), "not supported by this CPU")) {
      std::printf("skipped: %s (%s)\n", ready.message(), forced);
      return 77;
    }
  }
  Check(ready.ok(), "dispatch ready", ready.ok() ? "ok" : ready.message());
  const std::string selected = ek::TargetName(ek::SelectedTarget());
  Check(selected == want_target, "selected target", "got " + selected + ", expected " + want_target);
  char lane_names[256];
  ek::FormatLanes(ek::EnabledLanes(), lane_names, sizeof(lane_names), ",");
  const std::string lanes = lane_names;
  Check(lanes == want_lanes, "enabled lanes", "got [" + lanes + "], expected [" + want_lanes + "]");

  if (const char* want_compiled = std::getenv("EK_EXPECT_COMPILED")) {
    char compiled[512];
    ek::FormatTargets(ek::CompiledTargets(), compiled, sizeof(compiled), ",");
    Check(std::string(compiled) == want_compiled, "compiled targets",
          std::string("got ") + compiled + ", expected " + want_compiled);
  }
  // Run a kernel on the selected target and check it.
  std::vector<float> in(1000);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * 0.37f;
  std::vector<int8_t> out(in.size());
  const ek::Status s = ek::Quantize(ek::TensorView::Host(ek::DType::kF32, in.data(), {1000}),
                                    ek::TensorView::Host(ek::DType::kI8, out.data(), {1000})
                                        .WithQuant(ek::QuantParams::PerTensor(0.1f, 5)));
  int mismatches = 0;
  for (size_t i = 0; i < in.size(); ++i) mismatches += out[i] != ek::ref::QuantizeValue(in[i], ek::ref::InverseScale(0.1f), 5, -128, 127);
  Check(s.ok() && mismatches == 0, "quantize on selected target", s.ok() ? std::to_string(mismatches) + " mismatches" : s.message());
  const int checks = std::getenv("EK_EXPECT_COMPILED") ? 5 : 4;
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
