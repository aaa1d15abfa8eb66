// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// `net/mobilenet_v2/f32`: the whole MobileNetV2 (224 x 224 x 3, batch 1) as a chain of ek ops
// (tests/mobilenet_v2_ek.h: 52 convolutions, 10 residual adds, global average pooling, the
// fully connected classifier), weights packed and buffers allocated once, one thread; and
// `.../threads_2` with two. Counters: GFLOPS of the convolutions and the classifier (the adds
// and the pooling are timed, not counted) and pct_peak of the one-thread FMA peak. The peer:
// peer/xnnpack/net/mobilenet_v2/f32 (bench/peers/conv_peers.cc), the same graph and weights
// through XNNPACK's operators.
#include "../tests/mobilenet_v2_ek.h"  // first: it asks for the kernel families it uses

#include "bench_util.h"
#include "conv_problem.h"

namespace ek_bench {
namespace {

// threads: 1, or a pool of that many through ctx.threads (results are bitwise the same).
void MobileNetV2Benchmark(benchmark::State& state, int threads) {
  ek::ThreadPool pool(static_cast<size_t>(threads));
  ek::Context ctx;
  if (threads > 1) ctx.threads = pool.Hook();
  ek_mobilenet::EkMobileNetV2 net(224, 1);
  const ek::Status ready = net.Prepare();
  if (!ready.ok()) return state.SkipWithError(ready.message());
  for (float& x : net.buffer(0)) x = 0.25f;
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const ek::Status s = net.Run(ctx);
    if (!s.ok()) state.SkipWithError(s.message());
    return s.ok();
  });
  if (seconds >= 0) SetConvCounters(state, ek_mobilenet::ConvFlops(net.graph()), seconds);
}

}  // namespace

void RegisterNetBenchmarks() {
  RegisterForTargets("net/mobilenet_v2/f32", [](benchmark::State& state) { MobileNetV2Benchmark(state, 1); });
  benchmark::RegisterBenchmark("net/mobilenet_v2/f32/threads_2",
                               [](benchmark::State& state) { MobileNetV2Benchmark(state, 2); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

}  // namespace ek_bench
