// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// One loop for every peer GEMM: f32, row-major C[M x N] = A[M x K] * B[K x N], one thread, the
// same inputs, weight rotation and counters as ek's gemm benchmarks (bench/gemm_bench.cc).
#ifndef EK_BENCH_PEERS_PEER_RUNNER_H_
#define EK_BENCH_PEERS_PEER_RUNNER_H_

#include <string>
#include <vector>

#include "bench_util.h"

namespace ek_bench {

// prepare(b) -> Handle (whatever the peer keeps per weight copy, e.g. its packed operator);
// run(handle, a, b, c) computes one GEMM.
template <typename Handle, typename Prepare, typename Run>
void RunPeerGemm(benchmark::State& state, const GemmShape& shape, const Prepare& prepare, const Run& run) {
  const size_t weight_bytes = static_cast<size_t>(shape.k * shape.n) * 4;
  const size_t copies = ColdCopies(shape, weight_bytes);
  std::vector<float> a(static_cast<size_t>(shape.m * shape.k)), c(static_cast<size_t>(shape.m * shape.n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * (1.0f / 97.0f);
  std::vector<std::vector<float>> weights(copies);
  std::vector<Handle> handles;
  for (size_t i = 0; i < copies; ++i) {
    weights[i].resize(static_cast<size_t>(shape.k * shape.n));
    for (size_t j = 0; j < weights[i].size(); ++j) {
      weights[i][j] = static_cast<float>(static_cast<int>((j + i) % 89) - 44) * (1.0f / 89.0f);
    }
    handles.push_back(prepare(weights[i].data()));
  }
  const double seconds = TimeRotating(state, copies, [&](size_t i) {
    const bool ok = run(handles[i], a.data(), weights[i].data(), c.data());
    if (!ok) state.SkipWithError("peer GEMM failed");
    benchmark::DoNotOptimize(c.data());
    return ok;
  });
  if (seconds < 0) return;
  SetGemmCounters(state, shape, weight_bytes, seconds);
}

inline void RegisterPeer(const char* peer, const GemmShape& shape, void (*body)(benchmark::State&, const GemmShape&)) {
  const std::string name = std::string("peer/") + peer + "/gemm/f32/" + shape.Name();
  benchmark::RegisterBenchmark(name.c_str(), [shape, body](benchmark::State& state) { body(state, shape); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

}  // namespace ek_bench

#endif  // EK_BENCH_PEERS_PEER_RUNNER_H_
