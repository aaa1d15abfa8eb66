// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// This machine's compute and memory limits, measured by the bench itself at start-up on the
// target dispatch selects (the same one the kernels run on):
//   FmaPeakGflops:  f32 FMAs on 12 independent accumulators (more than latency x ports on
//                   every target), registers only.
//   DramReadGBps:   a vector sum over 1 GiB (far beyond any last-level cache), the best of one
//                   stream and of 4 or 8 concurrent 64 KiB runs per block, each with or without
//                   software prefetch 4 KiB ahead.
// Its own Highway foreach_target pass; no ek code in this TU.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "machine_peaks.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek_bench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 12 chains x `iterations` FMAs of Lanes(d) floats each; returns the lanes per FMA.
size_t FmaChains(size_t iterations, float* sink) {
  const hn::ScalableTag<float> d;
  const auto m = hn::Set(d, 0.999999f), a = hn::Set(d, 1e-7f);
  auto v0 = hn::Set(d, 1.0f), v1 = hn::Set(d, 1.1f), v2 = hn::Set(d, 1.2f), v3 = hn::Set(d, 1.3f);
  auto v4 = hn::Set(d, 1.4f), v5 = hn::Set(d, 1.5f), v6 = hn::Set(d, 1.6f), v7 = hn::Set(d, 1.7f);
  auto v8 = hn::Set(d, 1.8f), v9 = hn::Set(d, 1.9f), v10 = hn::Set(d, 2.0f), v11 = hn::Set(d, 2.1f);
  for (size_t i = 0; i < iterations; ++i) {
    v0 = hn::MulAdd(v0, m, a);
    v1 = hn::MulAdd(v1, m, a);
    v2 = hn::MulAdd(v2, m, a);
    v3 = hn::MulAdd(v3, m, a);
    v4 = hn::MulAdd(v4, m, a);
    v5 = hn::MulAdd(v5, m, a);
    v6 = hn::MulAdd(v6, m, a);
    v7 = hn::MulAdd(v7, m, a);
    v8 = hn::MulAdd(v8, m, a);
    v9 = hn::MulAdd(v9, m, a);
    v10 = hn::MulAdd(v10, m, a);
    v11 = hn::MulAdd(v11, m, a);
  }
  const auto sum = hn::Add(hn::Add(hn::Add(hn::Add(v0, v1), hn::Add(v2, v3)), hn::Add(hn::Add(v4, v5), hn::Add(v6, v7))),
                           hn::Add(hn::Add(v8, v9), hn::Add(v10, v11)));
  *sink = hn::ReduceSum(d, sum);
  return hn::Lanes(d);
}

// 12 chains x `iterations` u8 x s8 quad dot products of Lanes(d) int32 lanes each; returns the
// multiply-adds per instruction step (4 per int32 lane).
size_t DotChains(size_t iterations, int32_t* sink) {
  const hn::ScalableTag<int32_t> d;
  const hn::Repartition<uint8_t, decltype(d)> du8;
  const hn::Repartition<int8_t, decltype(d)> di8;
  const auto a = hn::Set(du8, uint8_t{3});
  const auto b = hn::Set(di8, int8_t{-2});
  auto v0 = hn::Set(d, 0), v1 = hn::Set(d, 1), v2 = hn::Set(d, 2), v3 = hn::Set(d, 3);
  auto v4 = hn::Set(d, 4), v5 = hn::Set(d, 5), v6 = hn::Set(d, 6), v7 = hn::Set(d, 7);
  auto v8 = hn::Set(d, 8), v9 = hn::Set(d, 9), v10 = hn::Set(d, 10), v11 = hn::Set(d, 11);
  for (size_t i = 0; i < iterations; ++i) {
    v0 = hn::SumOfMulQuadAccumulate(d, a, b, v0);
    v1 = hn::SumOfMulQuadAccumulate(d, a, b, v1);
    v2 = hn::SumOfMulQuadAccumulate(d, a, b, v2);
    v3 = hn::SumOfMulQuadAccumulate(d, a, b, v3);
    v4 = hn::SumOfMulQuadAccumulate(d, a, b, v4);
    v5 = hn::SumOfMulQuadAccumulate(d, a, b, v5);
    v6 = hn::SumOfMulQuadAccumulate(d, a, b, v6);
    v7 = hn::SumOfMulQuadAccumulate(d, a, b, v7);
    v8 = hn::SumOfMulQuadAccumulate(d, a, b, v8);
    v9 = hn::SumOfMulQuadAccumulate(d, a, b, v9);
    v10 = hn::SumOfMulQuadAccumulate(d, a, b, v10);
    v11 = hn::SumOfMulQuadAccumulate(d, a, b, v11);
  }
  const auto sum = hn::Add(hn::Add(hn::Add(hn::Add(v0, v1), hn::Add(v2, v3)), hn::Add(hn::Add(v4, v5), hn::Add(v6, v7))),
                           hn::Add(hn::Add(v8, v9), hn::Add(v10, v11)));
  *sink = hn::ReduceSum(d, sum);
  return 4 * hn::Lanes(d);
}

// The sum of `count` floats read in blocks of `runs` x `run_floats`, the runs of a block read
// concurrently (one 64-byte line of each per step); runs = 1: one stream over the whole buffer.
// With prefetch_bytes > 0, each line is also prefetched that many bytes ahead. A few concurrent
// runs keep more lines in flight than one stream (the hardware prefetchers track each), as GEMV
// does with its panels or rows of B (measured on Zen2: 1 stream 13 GB/s, 4 or 8 runs of 64 KiB
// 20-21, 16 runs 12-13).
float SumFloats(const float* HWY_RESTRICT p, size_t count, size_t runs, size_t run_floats, size_t prefetch_bytes) {
  const hn::CappedTag<float, 16> d;
  const size_t n = hn::Lanes(d);
  constexpr size_t kLineFloats = 16;
  if (runs == 1) run_floats = count / kLineFloats * kLineFloats;
  const size_t block = runs * run_floats;
  const size_t ahead = prefetch_bytes / sizeof(float);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d);
  for (size_t b = 0; b + block <= count; b += block) {
    for (size_t i = 0; i < run_floats; i += kLineFloats) {
      for (size_t r = 0; r < runs; ++r) {
        const float* HWY_RESTRICT line = p + b + r * run_floats + i;
        if (prefetch_bytes) hwy::Prefetch(line + ahead);
        for (size_t j = 0; j < kLineFloats; j += 2 * n) {
          s0 = hn::Add(s0, hn::LoadU(d, line + j));
          if (j + n < kLineFloats) s1 = hn::Add(s1, hn::LoadU(d, line + j + n));
        }
      }
    }
  }
  return hn::ReduceSum(d, hn::Add(s0, s1));
}

}  // namespace HWY_NAMESPACE
}  // namespace ek_bench
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <chrono>
#include <vector>

#include "bench_util.h"

namespace ek_bench {
HWY_EXPORT(FmaChains);
HWY_EXPORT(SumFloats);
HWY_EXPORT(DotChains);

double Int8DotPeakGops() {
  static double cached = 0;
  if (cached > 0) return cached;
  int32_t sink = 0;
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    const size_t iterations = size_t{1} << 21;
    const auto start = std::chrono::steady_clock::now();
    const size_t macs = HWY_DYNAMIC_DISPATCH(DotChains)(iterations, &sink);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * 12.0 * static_cast<double>(macs) * static_cast<double>(iterations) / seconds * 1e-9);
  }
  benchmark::DoNotOptimize(sink);
  cached = best;
  return best;
}

double FmaPeakGflops() {
  static double cached = 0;
  if (cached > 0) return cached;
  float sink = 0;
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    const size_t iterations = size_t{1} << 22;
    const auto start = std::chrono::steady_clock::now();
    const size_t lanes = HWY_DYNAMIC_DISPATCH(FmaChains)(iterations, &sink);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * 12.0 * static_cast<double>(lanes) * static_cast<double>(iterations) / seconds * 1e-9);
  }
  benchmark::DoNotOptimize(sink);
  cached = best;
  return best;
}

double DramReadGBps() {
  static double cached = 0;
  if (cached > 0) return cached;
  const size_t count = size_t{1} << 28;  // 1 GiB of floats
  std::vector<float> data(count, 1.0f);
  double best = 0;
  // The best of one stream and of 4 or 8 concurrent runs of 64 KiB, plain or with software
  // prefetch 4 KiB ahead: the kernels read B that way, so the fraction of this figure they reach
  // compares like with like.
  constexpr size_t kRunFloats = (64 << 10) / sizeof(float);
  for (const size_t runs : {size_t{1}, size_t{4}, size_t{8}}) {
    for (const size_t prefetch_bytes : {size_t{0}, size_t{4096}}) {
      for (int trial = 0; trial < 2; ++trial) {
        const auto start = std::chrono::steady_clock::now();
        float s = HWY_DYNAMIC_DISPATCH(SumFloats)(data.data(), count, runs, kRunFloats, prefetch_bytes);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        benchmark::DoNotOptimize(s);
        best = std::max(best, static_cast<double>(count) * 4.0 / seconds * 1e-9);
      }
    }
  }
  cached = best;
  return best;
}

}  // namespace ek_bench
#endif  // HWY_ONCE
