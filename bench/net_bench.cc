// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// `net/mobilenet_v2/f32`: the whole MobileNetV2 (224 x 224 x 3, batch 1) as a chain of ek ops
// (tests/mobilenet_v2_ek.h: 52 convolutions, 10 residual adds, global average pooling, the
// fully connected classifier), weights packed and buffers allocated once, one thread; and
// `.../threads_2` with two. Counters: GFLOPS of the convolutions and the classifier (the adds
// and the pooling are timed, not counted) and pct_peak of the one-thread FMA peak. The peer:
// peer/xnnpack/net/mobilenet_v2/f32 (bench/peers/conv_peers.cc), the same graph and weights
// through XNNPACK's operators. And `net/mobilenet_v2/i8` (+ threads_2): the int8 network
// (TFLite's full-integer scheme, calibrated on the float network's run of a fixed image:
// CalibratedMobileNetV2Int8), counters GOPS and pct_peak of the int8 dot-product peak; its peer
// peer/xnnpack/net/mobilenet_v2/i8 runs the same quantized graph.
#include "../tests/mobilenet_v2_ek.h"  // first: it asks for the kernel families it uses

#include "bench_util.h"
#include "conv_problem.h"

namespace ek_bench {
namespace {

// A fixed image in [-1, 1).
void FillBenchImage(std::vector<float>* image) {
  uint32_t state = 12345;
  for (float& x : *image) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
}

// threads: 1, or a pool of that many through ctx.threads (results are bitwise the same).
void MobileNetV2Int8Benchmark(benchmark::State& state, int threads) {
  ek::ThreadPool pool(static_cast<size_t>(threads));
  ek::Context ctx;
  if (threads > 1) ctx.threads = pool.Hook();
  const ek_mobilenet::QuantizedMobileNetV2& q = CalibratedMobileNetV2Int8();
  if (q.layers.empty()) return state.SkipWithError("calibration failed");
  ek_mobilenet::EkMobileNetV2Int8 net(q);
  const ek::Status ready = net.Prepare();
  if (!ready.ok()) return state.SkipWithError(ready.message());
  std::vector<float> image(224 * 224 * 3);
  FillBenchImage(&image);
  net.SetImage(image);
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const ek::Status s = net.Run(ctx);
    if (!s.ok()) state.SkipWithError(s.message());
    return s.ok();
  });
  if (seconds >= 0) SetConvCounters(state, ek_mobilenet::ConvFlops(net.graph()), seconds, /*int8=*/true);
}

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

const ek_mobilenet::QuantizedMobileNetV2& CalibratedMobileNetV2Int8() {
  static const ek_mobilenet::QuantizedMobileNetV2 quantized = [] {
    ek_mobilenet::EkMobileNetV2 float_net(224, 1);
    FillBenchImage(&float_net.buffer(0));
    if (!float_net.Prepare().ok() || !float_net.Run().ok()) return ek_mobilenet::QuantizedMobileNetV2();
    return ek_mobilenet::QuantizeMobileNetV2(float_net.graph(), 1, ek_mobilenet::BufferRanges(float_net));
  }();
  return quantized;
}

void RegisterNetBenchmarks() {
  RegisterForTargets("net/mobilenet_v2/f32", [](benchmark::State& state) { MobileNetV2Benchmark(state, 1); });
  benchmark::RegisterBenchmark("net/mobilenet_v2/f32/threads_2",
                               [](benchmark::State& state) { MobileNetV2Benchmark(state, 2); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  RegisterForTargets("net/mobilenet_v2/i8", [](benchmark::State& state) { MobileNetV2Int8Benchmark(state, 1); });
  benchmark::RegisterBenchmark("net/mobilenet_v2/i8/threads_2",
                               [](benchmark::State& state) { MobileNetV2Int8Benchmark(state, 2); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

}  // namespace ek_bench
