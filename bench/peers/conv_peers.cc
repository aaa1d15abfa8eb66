// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Peer convolutions in the same binary, one thread, the same layers and operands as
// bench/conv_bench.cc: XNNPACK's convolution2d_nhwc_f32 operator (Debian's libxnnpack; weights
// packed at operator creation, like ek's packed weights; its depthwise kernels are chosen by the
// operator for groups with one input and one output channel), as
// `peer/xnnpack/conv/f32/mobilenet_v2/<layer>` and `peer/xnnpack/net/mobilenet_v2_convs/f32`.
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "conv_problem.h"

#if EK_PEER_XNNPACK
#include <xnnpack.h>
#endif

namespace ek_bench {
namespace {

#if EK_PEER_XNNPACK
struct XnnConvLayer {
  ConvLayerData data;
  xnn_operator_t op = nullptr;
  explicit XnnConvLayer(const ek_mobilenet::ConvLayer& l) : data(l) {}
  ~XnnConvLayer() {
    if (op) xnn_delete_operator(op);
  }
  bool Prepare() {
    const ek_mobilenet::ConvLayer& l = data.layer;
    const float lo = data.relu6 ? 0.0f : -INFINITY, hi = data.relu6 ? 6.0f : INFINITY;
    if (xnn_create_convolution2d_nhwc_f32(
            static_cast<uint32_t>(data.padding.top), static_cast<uint32_t>(data.padding.right),
            static_cast<uint32_t>(data.padding.bottom), static_cast<uint32_t>(data.padding.left),
            static_cast<uint32_t>(l.kernel), static_cast<uint32_t>(l.kernel), static_cast<uint32_t>(l.stride),
            static_cast<uint32_t>(l.stride), 1, 1, static_cast<uint32_t>(data.groups),
            static_cast<size_t>(data.group_in), static_cast<size_t>(l.out_c / data.groups),
            static_cast<size_t>(l.in_c), static_cast<size_t>(l.out_c), data.filter.data(), data.bias.data(), lo, hi,
            0, &op) != xnn_status_success) {
      return false;
    }
    return xnn_setup_convolution2d_nhwc_f32(op, 1, static_cast<size_t>(l.in_h), static_cast<size_t>(l.in_w),
                                            data.input.data(), data.output.data(), nullptr) == xnn_status_success;
  }
  bool Run() { return xnn_run_operator(op, nullptr) == xnn_status_success; }
};

bool XnnReady() {
  static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
  return initialized;
}


void XnnLayer(benchmark::State& state, const ek_mobilenet::ConvLayer& l) {
  if (!XnnReady()) return state.SkipWithError("xnn_initialize failed");
  XnnConvLayer layer(l);
  if (!layer.Prepare()) return state.SkipWithError("XNNPACK convolution setup failed");
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const bool ok = layer.Run();
    if (!ok) state.SkipWithError("xnn_run_operator failed");
    benchmark::DoNotOptimize(layer.data.output.data());
    return ok;
  });
  if (seconds >= 0) SetConvCounters(state, layer.data.Flops(), seconds);
}

void XnnNet(benchmark::State& state) {
  if (!XnnReady()) return state.SkipWithError("xnn_initialize failed");
  std::vector<std::unique_ptr<XnnConvLayer>> layers;
  double flops = 0.0;
  for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
    layers.push_back(std::make_unique<XnnConvLayer>(l));
    if (!layers.back()->Prepare()) return state.SkipWithError("XNNPACK convolution setup failed");
    flops += layers.back()->data.Flops();
  }
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    for (auto& layer : layers) {
      if (!layer->Run()) {
        state.SkipWithError("xnn_run_operator failed");
        return false;
      }
    }
    return true;
  });
  if (seconds >= 0) SetConvCounters(state, flops, seconds);
}
#endif

}  // namespace

void RegisterConvPeers() {
#if EK_PEER_XNNPACK
  for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
    const std::string name = "peer/xnnpack/conv/f32/mobilenet_v2/" + l.name;
    benchmark::RegisterBenchmark(name.c_str(), [l](benchmark::State& state) { XnnLayer(state, l); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("peer/xnnpack/net/mobilenet_v2_convs/f32", XnnNet)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
#endif
}

}  // namespace ek_bench
