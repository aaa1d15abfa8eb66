// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Shared benchmark plumbing: this machine's measured peaks, per-target registration, counters.
#ifndef EK_BENCH_BENCH_UTIL_H_
#define EK_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ek_bench {

// Copy bandwidth (bytes read + bytes written per second, in GB/s) of std::memcpy over a
// working set of `bytes`, measured once per size: the peak a streaming kernel with the same
// footprint can reach on this machine.
double PeakStreamGBps(size_t bytes);

// Debian's oneDNN runs on OpenMP (libgomp), which read OMP_NUM_THREADS when it was loaded: the
// oneDNN peers set `threads` through the runtime itself (found at run time; a no-op without it).
void SetOpenMpThreads(int threads);

// Registers `body` under `name` for the selected target and, with the suffix "/target:NAME", for
// every other compiled target this CPU supports (A/B comparisons; ek-tour runs the first only).
void RegisterForTargets(const std::string& name, const std::function<void(benchmark::State&)>& body);

// Sets GBps (bytes moved per second over `seconds` of wall time for state.iterations()) and
// pct_peak (of PeakStreamGBps for that footprint).
void SetStreamCounters(benchmark::State& state, size_t bytes_per_iteration, double seconds);

// f32 FMA peak of the selected target on one thread, GFLOP/s (machine_peaks.cc).
double FmaPeakGflops();

// int8 dot-product peak of the selected target on one thread, GOP/s (2 per multiply-add; Highway's
// SumOfMulQuadAccumulate: vpdpbusd with AVX-512 VNNI, 16-bit multiply-adds without it).
double Int8DotPeakGops();

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

// `ops_counter` (2 operations per multiply-add, in G/s), pct_peak (of `peak`) and, for M <= 16,
// GBps of weight bytes and pct_dram (of DramReadGBps).
void SetThroughputCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds,
                           const char* ops_counter, double peak);

// GFLOPS and pct_peak of FmaPeakGflops (SetThroughputCounters).
void SetGemmCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds);

// The timed loop of every GEMM benchmark: call(i) (returning false after SkipWithError) with i
// cycling through [0, copies), one weight copy per iteration. Returns the wall seconds of the
// loop, or a negative value if a call failed.
template <typename Call>
double TimeRotating(benchmark::State& state, size_t copies, const Call& call) {
  size_t next = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const size_t i = next;
    next = next + 1 == copies ? 0 : next + 1;
    if (!call(i)) return -1.0;
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Peers linked into this binary (bench/peers/), registered as peer/<peer>/gemm/f32/<shape>.
void RegisterGemmPeers(const std::vector<GemmShape>& shapes);

// GOPS and pct_peak of Int8DotPeakGops (SetThroughputCounters).
void SetQGemmCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds);

// Quantized peers (bench/peers/qgemm_peers.cc), registered as peer/<peer>/qgemm/<type>/<shape>.
void RegisterQGemmPeers(const std::vector<GemmShape>& shapes);

}  // namespace ek_bench

#endif  // EK_BENCH_BENCH_UTIL_H_
