// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Shared benchmark plumbing: this machine's measured peaks, per-target registration, counters.
#ifndef EK_BENCH_BENCH_UTIL_H_
#define EK_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ek_bench {

// Copy bandwidth (bytes read + bytes written per second, in GB/s) of std::memcpy over a
// working set of `bytes`, measured once per size: the peak a streaming kernel with the same
// footprint can reach on this machine.
double PeakStreamGBps(size_t bytes);

// Registers `body` under `name` for the selected target and, with the suffix "/target:NAME", for
// every other compiled target this CPU supports (A/B comparisons; ek-tour runs the first only).
void RegisterForTargets(const std::string& name, const std::function<void(benchmark::State&)>& body);

// Sets GBps (bytes moved per second over `seconds` of wall time for state.iterations()) and
// pct_peak (of PeakStreamGBps for that footprint).
void SetStreamCounters(benchmark::State& state, size_t bytes_per_iteration, double seconds);

// f32 FMA peak of the selected target on one thread, GFLOP/s (machine_peaks.cc).
double FmaPeakGflops();

// Read bandwidth of one thread over 1 GiB, GB/s (machine_peaks.cc).
double DramReadGBps();

// A GEMM shape from bench/gemm_shapes.txt.
struct GemmShape {
  std::string group;
  int64_t m = 0, n = 0, k = 0;
  std::string Name() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
};
std::vector<GemmShape> LoadGemmShapes();

// How many copies of `bytes` of weights a decode benchmark rotates through so that each call
// reads them from DRAM (together 1.5 x the last-level cache); 1 for shapes with M > 16.
size_t ColdCopies(const GemmShape& shape, size_t bytes);

// GFLOPS, pct_peak (of FmaPeakGflops) and, for M <= 16, GBps of weight bytes and pct_dram (of
// DramReadGBps).
void SetGemmCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds);

// Peers linked into this binary (bench/peers/), registered as peer/<peer>/gemm/f32/<shape>.
void RegisterGemmPeers(const std::vector<GemmShape>& shapes);

}  // namespace ek_bench

#endif  // EK_BENCH_BENCH_UTIL_H_
