// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The convolution layers of MobileNetV2 (Sandler et al. 2018, width 1.0, 224 x 224 x 3 input,
// TensorFlow's SAME padding): the first 3x3 stride-2 convolution, then 17 inverted residual
// blocks (1x1 expansion by t, 3x3 depthwise with the block's stride, 1x1 projection; the first
// block has no expansion), then the last 1x1 convolution to 1280 channels. Shared by
// tests/conv_test.cc and bench/conv_bench.cc. MobileNetV2Graph adds what makes the whole
// network: the residual adds, global average pooling and the fully connected classifier, as
// steps over activation buffers, with deterministic random weights (tests/mobilenet_v2_ek.h runs
// it with ek's ops, bench/peers/conv_peers.cc with XNNPACK's).
#ifndef EK_TESTS_MOBILENET_V2_LAYERS_H_
#define EK_TESTS_MOBILENET_V2_LAYERS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ek/conv_options.h"

namespace ek_mobilenet {

struct ConvLayer {
  std::string name;
  int64_t in_h, in_w, in_c, out_c, kernel, stride;
  bool depthwise;
  bool residual;  // the block adds its input to the projection's output (same shape)
};

// The layers for a square image of `image` pixels (224 in the paper; tests use smaller ones).
inline std::vector<ConvLayer> MobileNetV2Layers(int64_t image = 224) {
  std::vector<ConvLayer> layers;
  layers.push_back({"conv0", image, image, 3, 32, 3, 2, false, false});
  int64_t size = (image + 1) / 2, channels = 32;
  // (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
  const int64_t blocks[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int index = 0;
  for (const auto& b : blocks) {
    for (int64_t i = 0; i < b[2]; ++i, ++index) {
      const int64_t stride = i == 0 ? b[3] : 1;
      const int64_t expanded = channels * b[0];
      const std::string prefix = "b" + std::to_string(index) + "_";
      if (b[0] != 1) layers.push_back({prefix + "expand", size, size, channels, expanded, 1, 1, false, false});
      layers.push_back({prefix + "dw", size, size, expanded, expanded, 3, stride, true, false});
      size = (size + stride - 1) / stride;
      layers.push_back({prefix + "project", size, size, expanded, b[1], 1, 1, false, stride == 1 && channels == b[1]});
      channels = b[1];
    }
  }
  layers.push_back({"conv_last", size, size, channels, 1280, 1, 1, false, false});
  return layers;
}

// ---- The whole network ------------------------------------------------------------------------------
enum class StepKind : uint8_t { kConv, kAdd, kGlobalAvgPool };

// One op: buffers[out] = conv(buffers[in]) with layers[layer], or buffers[in] + buffers[in2], or
// the global average of buffers[in].
struct NetStep {
  StepKind kind;
  size_t layer;
  size_t in, in2, out;
};

struct NetBuffer {
  int64_t h, w, c;  // NHWC, batch 1, dense
};

struct NetGraph {
  std::vector<ConvLayer> layers;  // the convolutions, then "fc" (1x1 on the pooled 1x1 x 1280)
  std::vector<NetBuffer> buffers;  // buffers[0]: the image; the last: the 1000 logits
  std::vector<NetStep> steps;
};

inline NetGraph MobileNetV2Graph(int64_t image = 224) {
  NetGraph g;
  g.layers = MobileNetV2Layers(image);
  g.layers.push_back({"fc", 1, 1, 1280, 1000, 1, 1, false, false});
  g.buffers.push_back({image, image, 3});
  size_t current = 0, block_input = 0;
  std::string block;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const ConvLayer& l = g.layers[i];
    if (l.name == "fc") {  // global average pooling first
      g.buffers.push_back({1, 1, l.in_c});
      g.steps.push_back({StepKind::kGlobalAvgPool, 0, current, 0, g.buffers.size() - 1});
      current = g.buffers.size() - 1;
    }
    const std::string prefix = l.name.substr(0, l.name.find('_'));
    if (prefix != block) {
      block = prefix;
      block_input = current;
    }
    const int64_t out = (l.in_h + l.stride - 1) / l.stride;  // SAME
    g.buffers.push_back({out, out, l.out_c});
    g.steps.push_back({StepKind::kConv, i, current, 0, g.buffers.size() - 1});
    current = g.buffers.size() - 1;
    if (l.residual) {
      g.buffers.push_back(g.buffers[current]);
      g.steps.push_back({StepKind::kAdd, 0, block_input, current, g.buffers.size() - 1});
      current = g.buffers.size() - 1;
    }
  }
  return g;
}

// Multiply-adds x 2 of the graph's convolutions and classifier (adds and pooling not counted).
inline double ConvFlops(const NetGraph& g) {
  double flops = 0.0;
  for (const NetStep& s : g.steps) {
    if (s.kind != StepKind::kConv) continue;
    const ConvLayer& l = g.layers[s.layer];
    const NetBuffer& out = g.buffers[s.out];
    flops += 2.0 * static_cast<double>(out.h * out.w * l.out_c * l.kernel * l.kernel * (l.depthwise ? 1 : l.in_c));
  }
  return flops;
}

// Whether the layer ends with ReLU6 (every convolution but the projections and the classifier).
inline bool HasRelu6(const ConvLayer& l) {
  return l.name.find("project") == std::string::npos && l.name != "fc";
}

// The options of layer l but its bias: stride, TensorFlow's SAME padding, the depthwise groups,
// ReLU6 where the layer has one.
inline ek::ConvOptions LayerConvOptions(const ConvLayer& l) {
  ek::ConvOptions o;
  o.stride_h = o.stride_w = l.stride;
  o.padding = ek::SamePadding(l.in_h, l.in_w, l.kernel, l.kernel, l.stride, l.stride);
  o.groups = l.depthwise ? l.in_c : 1;
  o.activation = HasRelu6(l) ? ek::Activation::kRelu6 : ek::Activation::kNone;
  return o;
}

// Deterministic weights for layer l: OHWI filter uniform in +-sqrt(6 / fan in) (He's uniform
// rule, so activations keep their scale through the network) and a small bias.
inline void LayerWeights(const ConvLayer& l, uint64_t seed, std::vector<float>* filter, std::vector<float>* bias) {
  const int64_t group_in = l.depthwise ? 1 : l.in_c;
  const int64_t fan_in = l.kernel * l.kernel * group_in;
  filter->resize(static_cast<size_t>(l.out_c * fan_in));
  bias->resize(static_cast<size_t>(l.out_c));
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  const auto uniform = [&state]() {  // xorshift64*, in [-1, 1)
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<float>((state * 0x2545F4914F6CDD1Dull) >> 40) * (2.0f / 16777216.0f) - 1.0f;
  };
  const float range = std::sqrt(6.0f / static_cast<float>(fan_in));
  for (float& w : *filter) w = uniform() * range;
  for (float& b : *bias) b = uniform() * 0.05f;
}

// ---- The int8 network (TFLite's full-integer scheme) ------------------------------------------------
// Post-training quantization of MobileNetV2Graph from its float weights and the ranges its
// buffers take on a calibration image (the float network run once):
//   activations: int8 per tensor, asymmetric: [lo, hi] widened to include 0, scale (hi - lo) /
//                255, zero point -128 - round(lo / scale); the global pool's output keeps its
//                input's parameters (TFLite's integer pooling requires it)
//   weights:     int8 symmetric per output channel, scale max |w| / 127 (1 for an all-zero channel)
//   bias:        int32 round(bias / (input scale x weight scale))
struct BufferQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

struct QuantizedLayer {
  std::vector<int8_t> filter;  // OHWI, as the float layer's
  std::vector<float> scales;   // per output channel
  std::vector<int32_t> bias;
};

struct QuantizedMobileNetV2 {
  NetGraph graph;
  std::vector<BufferQuant> buffers;
  std::vector<QuantizedLayer> layers;
};

inline BufferQuant AsymmetricInt8(float lo, float hi) {
  lo = lo < 0.0f ? lo : 0.0f;
  hi = hi > 0.0f ? hi : 0.0f;
  BufferQuant q;
  if (!(hi > lo)) return q;
  q.scale = (hi - lo) / 255.0f;
  const long zero = -128 - std::lround(lo / q.scale);
  q.zero_point = static_cast<int32_t>(zero < -128 ? -128 : (zero > 127 ? 127 : zero));
  return q;
}

// ranges: [lo, hi] of each buffer of `graph` on the calibration image; weights from
// LayerWeights(layer, seed + index), as the float network's.
inline QuantizedMobileNetV2 QuantizeMobileNetV2(const NetGraph& graph, uint64_t seed,
                                                const std::vector<std::pair<float, float>>& ranges) {
  QuantizedMobileNetV2 q;
  q.graph = graph;
  for (const auto& r : ranges) q.buffers.push_back(AsymmetricInt8(r.first, r.second));
  std::vector<size_t> input_of(graph.layers.size(), 0);
  for (const NetStep& s : graph.steps) {
    if (s.kind == StepKind::kGlobalAvgPool) q.buffers[s.out] = q.buffers[s.in];
    if (s.kind == StepKind::kConv) input_of[s.layer] = s.in;
  }
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const ConvLayer& l = graph.layers[i];
    std::vector<float> filter, bias;
    LayerWeights(l, seed + i, &filter, &bias);
    QuantizedLayer ql;
    const size_t per_channel = filter.size() / static_cast<size_t>(l.out_c);
    ql.filter.resize(filter.size());
    ql.scales.resize(static_cast<size_t>(l.out_c));
    ql.bias.resize(static_cast<size_t>(l.out_c));
    const float in_scale = q.buffers[input_of[i]].scale;
    for (size_t o = 0; o < ql.scales.size(); ++o) {
      float max_abs = 0.0f;
      for (size_t k = 0; k < per_channel; ++k) max_abs = std::max(max_abs, std::fabs(filter[o * per_channel + k]));
      const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
      ql.scales[o] = scale;
      for (size_t k = 0; k < per_channel; ++k) {
        const long v = std::lround(filter[o * per_channel + k] / scale);
        ql.filter[o * per_channel + k] = static_cast<int8_t>(v < -127 ? -127 : (v > 127 ? 127 : v));
      }
      ql.bias[o] = static_cast<int32_t>(std::lround(static_cast<double>(bias[o]) / (static_cast<double>(in_scale) * scale)));
    }
    q.layers.push_back(std::move(ql));
  }
  return q;
}

}  // namespace ek_mobilenet

#endif  // EK_TESTS_MOBILENET_V2_LAYERS_H_
