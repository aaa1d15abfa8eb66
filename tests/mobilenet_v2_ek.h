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

#include <cstdint>
#include <vector>

#include "ek/conv.h"
#include "ek/elementwise.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "mobilenet_v2_layers.h"

namespace ek_mobilenet {

class EkMobileNetV2 {
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
    ek::ConvOptions o;
    o.stride_h = o.stride_w = l.stride;
    o.padding = ek::SamePadding(l.in_h, l.in_w, l.kernel, l.kernel, l.stride, l.stride);
    o.groups = l.depthwise ? l.in_c : 1;
    o.bias = ek::TensorView::Host(ek::DType::kF32, layers_[layer].bias.data(), {l.out_c});
    o.activation = HasRelu6(l) ? ek::Activation::kRelu6 : ek::Activation::kNone;
    return o;
  }

  // Packs every layer's weights and sizes the one workspace the steps share.
  ek::Status Prepare() {
    size_t workspace = 0;
    for (const NetStep& s : graph_.steps) {
      if (s.kind != StepKind::kConv) continue;
      Layer& layer = layers_[s.layer];
      const ConvLayer& l = graph_.layers[s.layer];
      const int64_t groups = l.depthwise ? l.in_c : 1;
      size_t bytes = 0;
      EK_RETURN_IF_ERROR(ek::PackedConvWeightsSize(FilterView(s.layer), groups, &bytes));
      layer.packed.assign((bytes + 3) / 4, 0u);
      layer.packed_bytes = bytes;
      EK_RETURN_IF_ERROR(ek::PackConvWeights(FilterView(s.layer), groups, layer.packed.data(), bytes));
      size_t need = 0;
      EK_RETURN_IF_ERROR(ek::ConvWorkspaceSize(View(s.in), Packed(s.layer), View(s.out), Options(s.layer), &need));
      workspace = need > workspace ? need : workspace;
    }
    workspace_.assign(workspace / 8 + 1, 0u);
    return ek::Status::Ok();
  }

  ek::PackedWeights Packed(size_t layer) const {
    return ek::PackedWeights{layers_[layer].packed.data(), layers_[layer].packed_bytes};
  }

  // Runs one step; Run runs them all, image (buffer 0) to logits (the last buffer).
  ek::Status RunStep(const NetStep& s, const ek::Context& ctx) {
    switch (s.kind) {
      case StepKind::kConv:
        return ek::Conv2D(View(s.in), Packed(s.layer), View(s.out), Options(s.layer), ctx, workspace_.data(),
                          workspace_.size() * 8);
      case StepKind::kAdd: return ek::Add(View(s.in), View(s.in2), View(s.out), ek::ElementwiseOptions(), ctx);
      case StepKind::kGlobalAvgPool: return ek::GlobalAvgPool2D(View(s.in), View(s.out), ctx);
    }
    return ek::Status::Error(ek::StatusCode::kInternal, "unknown step");
  }
  ek::Status Run(const ek::Context& ctx = ek::Context()) {
    for (const NetStep& s : graph_.steps) EK_RETURN_IF_ERROR(RunStep(s, ctx));
    return ek::Status::Ok();
  }

 private:
  struct Layer {
    std::vector<float> filter, bias;
    std::vector<uint32_t> packed;  // 4-byte aligned
    size_t packed_bytes = 0;
  };
  NetGraph graph_;
  std::vector<Layer> layers_;
  std::vector<std::vector<float>> buffers_;
  std::vector<uint64_t> workspace_;
};

}  // namespace ek_mobilenet

#endif  // EK_TESTS_MOBILENET_V2_EK_H_
