// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// MobileNetV2 (tests/mobilenet_v2_layers.h: MobileNetV2Graph) run as a chain of ek ops: Conv2D
// (the first 3x3 convolution, the 1x1 expansions and projections through the GEMM path, the
// depthwise 3x3 convolutions, the fully connected classifier as a 1x1 convolution on the
// pooled 1 x 1 x 1280 image), Add for the residual connections, GlobalAvgPool2D for the head.
// Weights are packed and every buffer and the shared workspace allocated once, in Prepare; Run
// then allocates nothing. Shared by tests/conv_test.cc and bench/net_bench.cc.
//
// Include it before any other ek header of the TU: it asks for the families it uses.
#ifndef EK_TESTS_MOBILENET_V2_EK_H_
#define EK_TESTS_MOBILENET_V2_EK_H_

#ifndef EK_KERNELS_CONV
#define EK_KERNELS_CONV 1
#endif
#ifndef EK_KERNELS_GEMM
#define EK_KERNELS_GEMM 1
#endif
#ifndef EK_KERNELS_ELEMENTWISE
#define EK_KERNELS_ELEMENTWISE 1
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "ek/conv.h"
#include "ek/elementwise.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "mobilenet_v2_layers.h"

namespace ek_mobilenet {

// What both networks share: every layer's weights packed once, the one workspace the steps
// share, and running the steps. Net (CRTP): EkMobileNetV2 or EkMobileNetV2Int8, which provide
// graph(), View(buffer), FilterView(layer) and Options(layer).
template <class Net>
class NetRunner {
 public:
  ek::PackedWeights Packed(size_t layer) const {
    return layer < packed_.size() ? ek::PackedWeights{packed_[layer].data(), packed_bytes_[layer]}
                                  : ek::PackedWeights{nullptr, 0};
  }

  // Packs every layer's weights and sizes the one workspace the steps share.
  ek::Status Prepare() {
    Net& net = static_cast<Net&>(*this);
    const NetGraph& graph = net.graph();
    packed_.assign(graph.layers.size(), {});
    packed_bytes_.assign(graph.layers.size(), 0);
    size_t workspace = 0;
    for (const NetStep& s : graph.steps) {
      if (s.kind != StepKind::kConv) continue;
      const ConvLayer& l = graph.layers[s.layer];
      const int64_t groups = l.depthwise ? l.in_c : 1;
      size_t bytes = 0;
      EK_RETURN_IF_ERROR(ek::PackedConvWeightsSize(net.FilterView(s.layer), groups, &bytes));
      packed_[s.layer].assign((bytes + 3) / 4, 0u);
      packed_bytes_[s.layer] = bytes;
      EK_RETURN_IF_ERROR(ek::PackConvWeights(net.FilterView(s.layer), groups, packed_[s.layer].data(), bytes));
      size_t need = 0;
      EK_RETURN_IF_ERROR(
          ek::ConvWorkspaceSize(net.View(s.in), Packed(s.layer), net.View(s.out), net.Options(s.layer), &need));
      workspace = need > workspace ? need : workspace;
    }
    workspace_.assign(workspace / 8 + 1, 0u);
    return ek::Status::Ok();
  }

  // Runs one step; Run runs them all, image (buffer 0) to logits (the last buffer).
  ek::Status RunStep(const NetStep& s, const ek::Context& ctx) {
    Net& net = static_cast<Net&>(*this);
    switch (s.kind) {
      case StepKind::kConv:
        return ek::Conv2D(net.View(s.in), Packed(s.layer), net.View(s.out), net.Options(s.layer), ctx,
                          workspace_.data(), workspace_.size() * 8);
      case StepKind::kAdd:
        return ek::Add(net.View(s.in), net.View(s.in2), net.View(s.out), ek::ElementwiseOptions(), ctx);
      case StepKind::kGlobalAvgPool: return ek::GlobalAvgPool2D(net.View(s.in), net.View(s.out), ctx);
    }
    return ek::Status::Error(ek::StatusCode::kInternal, "unknown step");
  }
  ek::Status Run(const ek::Context& ctx = ek::Context()) {
    for (const NetStep& s : static_cast<Net&>(*this).graph().steps) EK_RETURN_IF_ERROR(RunStep(s, ctx));
    return ek::Status::Ok();
  }

 private:
  std::vector<std::vector<uint32_t>> packed_;  // 4-byte aligned
  std::vector<size_t> packed_bytes_;
  std::vector<uint64_t> workspace_;
};

class EkMobileNetV2 : public NetRunner<EkMobileNetV2> {
 public:
  explicit EkMobileNetV2(int64_t image = 224, uint64_t seed = 1) : graph_(MobileNetV2Graph(image)) {
    for (size_t i = 0; i < graph_.layers.size(); ++i) {
      Layer layer;
      LayerWeights(graph_.layers[i], seed + i, &layer.filter, &layer.bias);
      layers_.push_back(std::move(layer));
    }
    for (const NetBuffer& b : graph_.buffers) buffers_.emplace_back(static_cast<size_t>(b.h * b.w * b.c), 0.0f);
  }

  const NetGraph& graph() const { return graph_; }
  std::vector<float>& buffer(size_t i) { return buffers_[i]; }
  const std::vector<float>& filter(size_t layer) const { return layers_[layer].filter; }
  const std::vector<float>& bias(size_t layer) const { return layers_[layer].bias; }

  ek::TensorView View(size_t i) {
    const NetBuffer& b = graph_.buffers[i];
    return ek::TensorView::Host(ek::DType::kF32, buffers_[i].data(), {1, b.h, b.w, b.c});
  }
  ek::TensorView FilterView(size_t layer) const {
    const ConvLayer& l = graph_.layers[layer];
    return ek::TensorView::Host(ek::DType::kF32, layers_[layer].filter.data(),
                                {l.out_c, l.kernel, l.kernel, l.depthwise ? 1 : l.in_c});
  }
  ek::ConvOptions Options(size_t layer) const {
    const ConvLayer& l = graph_.layers[layer];
    ek::ConvOptions o = LayerConvOptions(l);
    o.bias = ek::TensorView::Host(ek::DType::kF32, layers_[layer].bias.data(), {l.out_c});
    return o;
  }

 private:
  struct Layer {
    std::vector<float> filter, bias;
  };
  NetGraph graph_;
  std::vector<Layer> layers_;
  std::vector<std::vector<float>> buffers_;
};

// The [lo, hi] range of every buffer after a run of the float network (the calibration).
inline std::vector<std::pair<float, float>> BufferRanges(EkMobileNetV2& net) {
  std::vector<std::pair<float, float>> ranges;
  for (size_t i = 0; i < net.graph().buffers.size(); ++i) {
    const std::vector<float>& b = net.buffer(i);
    const auto mm = std::minmax_element(b.begin(), b.end());
    ranges.emplace_back(*mm.first, *mm.second);
  }
  return ranges;
}

// The int8 network (QuantizedMobileNetV2) as a chain of ek ops: int8 Conv2D (per-channel
// weights; the classifier a 1x1 convolution), int8 Add, int8 GlobalAvgPool2D; TFLite's integer
// rules throughout, so every step is bit-exact with TFLite's reference kernels.
class EkMobileNetV2Int8 : public NetRunner<EkMobileNetV2Int8> {
 public:
  explicit EkMobileNetV2Int8(QuantizedMobileNetV2 q) : q_(std::move(q)) {
    for (const NetBuffer& b : q_.graph.buffers) buffers_.emplace_back(static_cast<size_t>(b.h * b.w * b.c), int8_t{0});
  }

  const NetGraph& graph() const { return q_.graph; }
  const QuantizedMobileNetV2& quantized() const { return q_; }
  std::vector<int8_t>& buffer(size_t i) { return buffers_[i]; }

  ek::TensorView View(size_t i) {
    const NetBuffer& b = q_.graph.buffers[i];
    ek::TensorView v = ek::TensorView::Host(ek::DType::kI8, buffers_[i].data(), {1, b.h, b.w, b.c});
    v.quant = ek::QuantParams::PerTensor(q_.buffers[i].scale, q_.buffers[i].zero_point);
    return v;
  }
  ek::TensorView FilterView(size_t layer) const {
    const ConvLayer& l = q_.graph.layers[layer];
    ek::TensorView v = ek::TensorView::Host(ek::DType::kI8, q_.layers[layer].filter.data(),
                                            {l.out_c, l.kernel, l.kernel, l.depthwise ? 1 : l.in_c});
    v.quant = ek::QuantParams::PerAxis(0, q_.layers[layer].scales.data());
    return v;
  }
  ek::ConvOptions Options(size_t layer) const {
    const ConvLayer& l = q_.graph.layers[layer];
    ek::ConvOptions o = LayerConvOptions(l);
    o.bias = ek::TensorView::Host(ek::DType::kI32, q_.layers[layer].bias.data(), {l.out_c});
    return o;
  }
  // Quantizes a float image into buffer 0 (its scale and zero point; round half away from zero).
  void SetImage(const std::vector<float>& image) {
    const BufferQuant& q = q_.buffers[0];
    for (size_t i = 0; i < image.size(); ++i) {
      const long v = std::lround(image[i] / q.scale) + q.zero_point;
      buffers_[0][i] = static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
  }

 private:
  QuantizedMobileNetV2 q_;
  std::vector<std::vector<int8_t>> buffers_;
};

}  // namespace ek_mobilenet

#endif  // EK_TESTS_MOBILENET_V2_EK_H_
