// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Helpers shared by the tests.
#ifndef EK_TESTS_TEST_UTIL_H_
#define EK_TESTS_TEST_UTIL_H_

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/dispatch.h"
#include "ek/status.h"
#include "ek/tensor.h"

namespace ek_test {

// A pattern the kernels never write (a NaN): outputs' gaps are filled with it and must keep it.
constexpr uint32_t kGuardBits = 0x7FC0BEEFu;

// An NHWC view (f32 unless `dtype` says otherwise) of dense pixels `pixel_stride` elements
// apart (>= c: a channel slice).
inline ek::TensorView NhwcView(void* data, int64_t n, int64_t h, int64_t w, int64_t c, int64_t pixel_stride,
                               ek::DType dtype = ek::DType::kF32) {
  ek::TensorView v = ek::TensorView::Host(dtype, data, {n, h, w, c});
  v.strides[2] = pixel_stride;
  v.strides[1] = w * pixel_stride;
  v.strides[0] = h * w * pixel_stride;
  return v;
}

// True under qemu-user with SVE vectors wider than 128 bits (the arm lanes' "max" and
// "max,sve256=on" models), where every vector instruction is emulated lane by lane: there the
// costliest sweeps leave out their largest shapes, which the 128-bit models (cortex-a76,
// "max,sve128=on": the same code at 128 bits, every lane) and the host run in full.
inline bool EmulatedWideVectors() {
  const char* cpu = std::getenv("QEMU_CPU");
  return cpu != nullptr && std::strncmp(cpu, "max", 3) == 0 && std::strstr(cpu, "sve128=on") == nullptr;
}

// Targets left out on those models, where the others run them: the NEON family (its code runs
// at 128 bits whatever the model, and "max,sve128=on" runs the same binary's NEON targets with
// the same lanes: dotprod, i8mm, fp16, bf16); and on "max,sve256=on" the scalable SVE / SVE2
// targets, which there run at the width SVE_256 specializes (the 128-bit and 512-bit models run
// them).
inline bool SkippedOnThisModel(int64_t target) {
  if (!EmulatedWideVectors()) return false;
  const char* name = ek::TargetName(target);
  if (std::strncmp(name, "NEON", 4) == 0) return true;
  const char* cpu = std::getenv("QEMU_CPU");
  return std::strstr(cpu, "sve256=on") != nullptr && std::strcmp(name, "SVE_256") != 0;
}

// Runs body(target) once for every target that is compiled in and supported by this CPU (but
// SkippedOnThisModel), with dispatch forced to that target, and checks that dispatch really
// selected it. Restores the previous restriction afterwards. Returns the number of targets run.
template <typename Body>
int ForEachTarget(const Body& body) {
  const int64_t previous = ek::detail::Dispatch().restriction.load();
  const int64_t targets = ek::DetectedTargets() & ek::CompiledTargets();
  int count = 0;
  for (int bit = 0; bit < ek::kMaxTargetBits; ++bit) {
    const int64_t target = int64_t{1} << bit;
    if (!(targets & target) || SkippedOnThisModel(target)) continue;
    const ek::Status forced = ek::ForceTarget(target);
    INFO("target " << ek::TargetName(target) << ": " << forced.message());
    REQUIRE(forced.ok());
    REQUIRE(ek::SelectedTarget() == target);  // no silent fall back
    body(target);
    ++count;
  }
  char spec[512];
  ek::FormatTargets(previous, spec, sizeof(spec), ",");
  REQUIRE(ek::RestrictTargets(previous ? spec : nullptr).ok());
  REQUIRE(count >= 1);
  return count;
}

inline uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline bool SameBits(const void* a, const void* b, size_t bytes) { return std::memcmp(a, b, bytes) == 0; }

// Deterministic generator (xorshift), identical on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  uint32_t Next32() { return static_cast<uint32_t>(Next() >> 32); }
  float Uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(Next32() >> 8) * (1.0f / 16777216.0f); }
  int Int(int lo, int hi) { return lo + static_cast<int>(Next32() % static_cast<uint32_t>(hi - lo + 1)); }

 private:
  uint64_t state_;
};

inline bool Contains(const char* haystack, const char* needle) { return std::strstr(haystack, needle) != nullptr; }

// The randomized differential tests ([random]): the seed comes from EK_RANDOM_SEED (the CI lane
// sets a new one per run), 1 otherwise, and is printed so that a failure reproduces; the number
// of cases per target from EK_RANDOM_CASES (fewer under qemu).
inline uint64_t RandomSeed(const char* test) {
  const char* env = std::getenv("EK_RANDOM_SEED");
  const uint64_t seed = env && *env ? std::strtoull(env, nullptr, 10) : 1;
  std::printf("%s: random seed %llu (EK_RANDOM_SEED=%llu reproduces it)\n", test, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  return seed;
}
inline int RandomCases(int default_cases) {
  const char* env = std::getenv("EK_RANDOM_CASES");
  const int cases = env && *env ? std::atoi(env) : default_cases;
  return cases > 0 ? cases : default_cases;
}

// Checks that `s` failed with `code` and that its message contains `fragment` (which, by the
// library's convention, starts with the bad argument's name).
inline void ExpectError(const ek::Status& s, ek::StatusCode code, const char* fragment) {
  INFO("message: " << s.message());
  CHECK_FALSE(s.ok());
  CHECK(s.code() == code);
  CHECK(Contains(s.message(), fragment));
}

}  // namespace ek_test

#endif  // EK_TESTS_TEST_UTIL_H_
