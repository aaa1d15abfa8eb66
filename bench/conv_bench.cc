// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Benchmarks for ek/conv.h, one thread: `conv/<type>/mobilenet_v2/<layer>` for each convolution
// layer of MobileNetV2 (tests/mobilenet_v2_layers.h: 224 x 224 input, batch 1, SAME padding,
// weights packed once, workspace allocated once), type f32, f16 (storage: f16 activations and
// weights, f32 accumulation) or i8 (TFLite's per-channel int8
// scheme: bench/conv_problem.h, MakeInt8), and `net/mobilenet_v2_convs/<type>`: all of them in
// the network's order (its 52 convolution layers alone; the whole network, with its adds,
// pooling and classifier, is net/mobilenet_v2/f32 in bench/net_bench.cc). Counters: GFLOPS
// (f32) or GOPS (i8) and pct_peak (of the FMA or int8 dot-product peak measured at start-up).
// And `conv/<type>/transposed/<name>`: ek::TransposeConv2D on decoder-head shapes
// (TransposedConvLayers; i8 with a per-tensor weight scale, as XNNPACK's peer takes).
// Peers of the same layers: bench/peers/conv_peers.cc.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "conv_problem.h"
#include "ek/conv.h"
#include "hwy/base.h"

namespace ek_bench {
namespace {

// The activations' type of a benchmark: f32, int8 (ConvLayerData::MakeInt8), f16 storage (the
// f32 operands rounded to f16; f32 accumulation), or qd8: dynamic int8 (f32 input and output,
// the int8 layer's per-channel i8 weights, each row of taps quantized on the fly; XNNPACK's name
// for it). qd8 covers dense and grouped layers; depthwise layers run f32 (as TFLite's and
// XNNPACK's dynamic-range models do), and the per-layer qd8 benchmarks skip them.
enum class ConvType { kF32, kI8, kF16, kDynamic };
const char* TypeName(ConvType t) {
  return t == ConvType::kF32 ? "f32" : t == ConvType::kI8 ? "i8" : t == ConvType::kF16 ? "f16" : "qd8";
}

// One layer, ready to run: packed weights, views, options, workspace.
struct EkConvLayer {
  ConvLayerData data;
  ConvType type = ConvType::kF32;
  bool int8 = false;
  std::vector<hwy::float16_t> input16, filter16, output16;  // f16 storage
  std::vector<uint32_t> packed;
  size_t packed_bytes = 0;
  ek::TensorView input, output;
  ek::ConvOptions options;
  std::vector<uint8_t> workspace;

  EkConvLayer(const ek_mobilenet::ConvLayer& l, ConvType t, bool transposed = false)
      : data(l, transposed), type(t == ConvType::kDynamic && l.depthwise ? ConvType::kF32 : t),
        int8(type == ConvType::kI8) {
    if (int8 || type == ConvType::kDynamic) data.MakeInt8();
    if (type == ConvType::kF16) {
      for (float x : data.input) input16.push_back(hwy::F16FromF32(x));
      for (float x : data.filter) filter16.push_back(hwy::F16FromF32(x));
      output16.resize(data.output.size());
    }
  }
  ek::Status Prepare() {
    const ek_mobilenet::ConvLayer& l = data.layer;
    ek::TensorView filter;
    if (int8) {
      filter = ek::TensorView::Host(ek::DType::kI8, data.filter_q.data(), {l.out_c, l.kernel, l.kernel, data.group_in});
      filter.quant = data.transposed ? ek::QuantParams::PerTensor(data.filter_scales[0], 0)
                                     : ek::QuantParams::PerAxis(0, data.filter_scales.data());
      input = ek::TensorView::Host(ek::DType::kI8, data.input_q.data(), {1, l.in_h, l.in_w, l.in_c});
      input.quant = ek::QuantParams::PerTensor(data.in_scale, data.in_zero);
      output = ek::TensorView::Host(ek::DType::kI8, data.output_q.data(), {1, data.out_h, data.out_w, l.out_c});
      output.quant = ek::QuantParams::PerTensor(data.out_scale, data.out_zero);
      options.bias = ek::TensorView::Host(ek::DType::kI32, data.bias_q.data(), {l.out_c});
    } else if (type == ConvType::kDynamic) {
      filter = ek::TensorView::Host(ek::DType::kI8, data.filter_q.data(), {l.out_c, l.kernel, l.kernel, data.group_in});
      filter.quant = ek::QuantParams::PerAxis(0, data.filter_scales.data());
      input = ek::TensorView::Host(ek::DType::kF32, data.input.data(), {1, l.in_h, l.in_w, l.in_c});
      output = ek::TensorView::Host(ek::DType::kF32, data.output.data(), {1, data.out_h, data.out_w, l.out_c});
      options.bias = ek::TensorView::Host(ek::DType::kF32, data.bias.data(), {l.out_c});
    } else if (type == ConvType::kF16) {
      filter = ek::TensorView::Host(ek::DType::kF16, filter16.data(), {l.out_c, l.kernel, l.kernel, data.group_in});
      input = ek::TensorView::Host(ek::DType::kF16, input16.data(), {1, l.in_h, l.in_w, l.in_c});
      output = ek::TensorView::Host(ek::DType::kF16, output16.data(), {1, data.out_h, data.out_w, l.out_c});
      options.bias = ek::TensorView::Host(ek::DType::kF32, data.bias.data(), {l.out_c});
    } else {
      filter = ek::TensorView::Host(ek::DType::kF32, data.filter.data(), {l.out_c, l.kernel, l.kernel, data.group_in});
      input = ek::TensorView::Host(ek::DType::kF32, data.input.data(), {1, l.in_h, l.in_w, l.in_c});
      output = ek::TensorView::Host(ek::DType::kF32, data.output.data(), {1, data.out_h, data.out_w, l.out_c});
      options.bias = ek::TensorView::Host(ek::DType::kF32, data.bias.data(), {l.out_c});
    }
    if (data.transposed) {
      EK_RETURN_IF_ERROR(ek::PackedTransposeConvWeightsSize(filter, data.groups, l.stride, l.stride, &packed_bytes));
      packed.resize((packed_bytes + 3) / 4);
      EK_RETURN_IF_ERROR(
          ek::PackTransposeConvWeights(filter, data.groups, l.stride, l.stride, packed.data(), packed_bytes));
    } else {
      EK_RETURN_IF_ERROR(ek::PackedConvWeightsSize(filter, data.groups, &packed_bytes));
      packed.resize((packed_bytes + 3) / 4);
      EK_RETURN_IF_ERROR(ek::PackConvWeights(filter, data.groups, packed.data(), packed_bytes));
    }
    options.stride_h = options.stride_w = l.stride;
    options.padding = data.padding;
    options.groups = data.groups;
    options.activation = data.relu6 ? ek::Activation::kRelu6 : ek::Activation::kNone;
    size_t bytes = 0;
    EK_RETURN_IF_ERROR(data.transposed ? ek::TransposeConvWorkspaceSize(input, Packed(), output, options, &bytes)
                                       : ek::ConvWorkspaceSize(input, Packed(), output, options, &bytes));
    workspace.resize(bytes);
    return ek::Status::Ok();
  }
  ek::PackedWeights Packed() const { return ek::PackedWeights{packed.data(), packed_bytes}; }
  ek::Status Run() {
    if (data.transposed) {
      return ek::TransposeConv2D(input, Packed(), output, options, ek::Context(), workspace.data(), workspace.size());
    }
    return ek::Conv2D(input, Packed(), output, options, ek::Context(), workspace.data(), workspace.size());
  }
};

void ConvLayerBenchmark(benchmark::State& state, const ek_mobilenet::ConvLayer& l, ConvType type, bool transposed) {
  EkConvLayer layer(l, type, transposed);
  const ek::Status ready = layer.Prepare();
  if (!ready.ok()) return state.SkipWithError(ready.message());
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const ek::Status s = layer.Run();
    if (!s.ok()) state.SkipWithError(s.message());
    benchmark::DoNotOptimize(layer.data.output.data());
    return s.ok();
  });
  if (seconds < 0) return;
  SetConvCounters(state, layer.data.Flops(), seconds, type != ConvType::kF32 && type != ConvType::kF16);
}

void NetBenchmark(benchmark::State& state, ConvType type) {
  std::vector<std::unique_ptr<EkConvLayer>> layers;
  double flops = 0.0;
  for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
    layers.push_back(std::make_unique<EkConvLayer>(l, type));
    const ek::Status ready = layers.back()->Prepare();
    if (!ready.ok()) return state.SkipWithError(ready.message());
    flops += layers.back()->data.Flops();
  }
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    for (auto& layer : layers) {
      const ek::Status s = layer->Run();
      if (!s.ok()) {
        state.SkipWithError(s.message());
        return false;
      }
    }
    return true;
  });
  if (seconds < 0) return;
  SetConvCounters(state, flops, seconds, type != ConvType::kF32 && type != ConvType::kF16);
}

}  // namespace

void RegisterConvPeers();
void RegisterNetBenchmarks();

void RegisterConvBenchmarks() {
  for (const ConvType t : {ConvType::kF32, ConvType::kI8, ConvType::kF16, ConvType::kDynamic}) {
    const std::string type = TypeName(t);
    for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
      if (t == ConvType::kDynamic && l.depthwise) continue;  // (f32: conv/f32/...)
      RegisterForTargets("conv/" + type + "/mobilenet_v2/" + l.name,
                         [l, t](benchmark::State& state) { ConvLayerBenchmark(state, l, t, false); });
    }
    for (const ek_mobilenet::ConvLayer& l : TransposedConvLayers()) {
      if (t == ConvType::kDynamic) break;  // (no dynamic transposed convolution)
      RegisterForTargets("conv/" + type + "/transposed/" + l.name,
                         [l, t](benchmark::State& state) { ConvLayerBenchmark(state, l, t, true); });
    }
    RegisterForTargets("net/mobilenet_v2_convs/" + type, [t](benchmark::State& state) { NetBenchmark(state, t); });
  }
  RegisterNetBenchmarks();
  RegisterConvPeers();
}

}  // namespace ek_bench
