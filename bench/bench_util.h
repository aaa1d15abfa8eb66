// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Shared benchmark plumbing: this machine's measured peaks, per-target registration, counters.
#ifndef EK_BENCH_BENCH_UTIL_H_
#define EK_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>

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

}  // namespace ek_bench

#endif  // EK_BENCH_BENCH_UTIL_H_
