// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The operands of one MobileNetV2 convolution layer (tests/mobilenet_v2_layers.h) for the
// convolution benchmarks: ek's (bench/conv_bench.cc) and the peers' (bench/peers/conv_peers.cc)
// read the same deterministic input, OHWI filter and bias; SAME padding; ReLU6 after every
// layer but the projections (no activation), as in the network.
#ifndef EK_BENCH_CONV_PROBLEM_H_
#define EK_BENCH_CONV_PROBLEM_H_

#include <cstdint>
#include <string>
#include <vector>

#include <cmath>

#include "../tests/mobilenet_v2_layers.h"
#include "bench_util.h"
#include "ek/conv_options.h"
#include "ek/requantize.h"

namespace ek_bench {

// Transposed convolutions (ek::TransposeConv2D) of decoder and segmentation heads, batch 1,
// TensorFlow's SAME (output = input x stride), no activation: `conv/<type>/transposed/<name>`.
inline std::vector<ek_mobilenet::ConvLayer> TransposedConvLayers() {
  return {{"k4s2_14x14x256_128", 14, 14, 256, 128, 4, 2, false, false},  // FCN / DCGAN-style 4x4 upsampling
          {"k2s2_28x28x128_64", 28, 28, 128, 64, 2, 2, false, false},    // U-Net's 2x2 up-convolution
          {"k3s2_56x56x64_32", 56, 56, 64, 32, 3, 2, false, false}};     // 3x3 stride-2 decoder stage
}

struct ConvLayerData {
  ek_mobilenet::ConvLayer layer;
  bool transposed = false;  // a transposed convolution (TransposedConvLayers)
  int64_t out_h = 0, out_w = 0, groups = 1, group_in = 0;
  ek::ConvPadding padding;  // TensorFlow's SAME (conv2d or conv2d_transpose)
  bool relu6 = true;
  std::vector<float> input, filter, bias, output;

  explicit ConvLayerData(const ek_mobilenet::ConvLayer& l, bool transposed_conv = false)
      : layer(l), transposed(transposed_conv) {
    groups = l.depthwise ? l.in_c : 1;
    group_in = l.in_c / groups;
    if (transposed) {
      padding = ek::TransposeConvSamePadding(l.kernel, l.kernel, l.stride, l.stride);
      out_h = ek::TransposeConvOutputSize(l.in_h, l.kernel, l.stride, padding.top, padding.bottom);
      out_w = ek::TransposeConvOutputSize(l.in_w, l.kernel, l.stride, padding.left, padding.right);
    } else {
      padding = ek::SamePadding(l.in_h, l.in_w, l.kernel, l.kernel, l.stride, l.stride);
      out_h = ek::ConvOutputSize(l.in_h, l.kernel, l.stride, 1, padding.top, padding.bottom);
      out_w = ek::ConvOutputSize(l.in_w, l.kernel, l.stride, 1, padding.left, padding.right);
    }
    relu6 = !transposed && ek_mobilenet::HasRelu6(l);
    input.resize(static_cast<size_t>(l.in_h * l.in_w * l.in_c));
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * (1.0f / 97.0f);
    filter.resize(static_cast<size_t>(l.out_c * l.kernel * l.kernel * group_in));
    for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<float>(static_cast<int>(i % 89) - 44) * (1.0f / 890.0f);
    bias.resize(static_cast<size_t>(l.out_c));
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.01f;
    output.resize(static_cast<size_t>(out_h * out_w * l.out_c));
  }
  // The int8 operands of the same layer (TFLite's per-channel scheme): input int8 per tensor,
  // filter int8 symmetric with a scale per output channel, bias int32, output int8 per tensor
  // with a scale that spreads the sums over its range; ReLU6 as the quantized range
  // [q_lo, q_hi]. Filled by MakeInt8.
  std::vector<int8_t> input_q, filter_q, output_q;
  std::vector<float> filter_scales;
  std::vector<int32_t> bias_q;
  float in_scale = 0.05f, out_scale = 1.0f;
  int32_t in_zero = -2, out_zero = 3, q_lo = -128, q_hi = 127;
  void MakeInt8() {
    const ek_mobilenet::ConvLayer& l = layer;
    input_q.resize(input.size());
    for (size_t i = 0; i < input_q.size(); ++i) input_q[i] = static_cast<int8_t>(static_cast<int>(i % 251) - 125);
    filter_q.resize(filter.size());
    for (size_t i = 0; i < filter_q.size(); ++i) filter_q[i] = static_cast<int8_t>(static_cast<int>(i % 89) * 3 - 132);
    filter_scales.resize(static_cast<size_t>(l.out_c));
    for (size_t o = 0; o < filter_scales.size(); ++o) {
      // Transposed: one scale for all channels (XNNPACK's deconvolution takes a per-tensor scale).
      filter_scales[o] = transposed ? 0.002f : 0.002f * (1.0f + static_cast<float>(o % 7) / 7.0f);
    }
    bias_q.resize(static_cast<size_t>(l.out_c));
    for (size_t o = 0; o < bias_q.size(); ++o) bias_q[o] = (static_cast<int32_t>(o % 13) - 6) * 500;
    const double terms = static_cast<double>(l.kernel * l.kernel * group_in);
    out_scale = static_cast<float>(in_scale * 0.002 * 30.0 * std::sqrt(terms));
    output_q.resize(output.size());
    ek::QuantizedActivationRange(relu6 ? 0.0f : -INFINITY, relu6 ? 6.0f : INFINITY, out_scale, out_zero, -128, 127,
                                 &q_lo, &q_hi);
  }
  // Multiply-adds x 2 (transposed: the (input, tap) pairs that land inside the output).
  double Flops() const {
    if (transposed) {
      const auto pairs = [&](int64_t in, int64_t out, int64_t pad) {
        int64_t count = 0;
        for (int64_t i = 0; i < in; ++i) {
          for (int64_t k = 0; k < layer.kernel; ++k) {
            const int64_t y = i * layer.stride - pad + k;
            count += y >= 0 && y < out ? 1 : 0;
          }
        }
        return static_cast<double>(count);
      };
      return 2.0 * pairs(layer.in_h, out_h, padding.top) * pairs(layer.in_w, out_w, padding.left) *
             static_cast<double>(group_in * layer.out_c);
    }
    return 2.0 * static_cast<double>(out_h * out_w * layer.out_c * layer.kernel * layer.kernel * group_in);
  }
};

// The int8 MobileNetV2 the int8 network benchmarks run (ek's and the peers'): quantized once,
// after calibration on the float network's run of a fixed image (bench/net_bench.cc); empty if
// that failed.
const ek_mobilenet::QuantizedMobileNetV2& CalibratedMobileNetV2Int8();

// GFLOPS over `seconds` for state.iterations() runs of `flops`, and pct_peak of the FMA peak
// (f32) or of the int8 multiply-add peak (int8 = true: GOPS, 2 per int8 multiply-add).
inline void SetConvCounters(benchmark::State& state, double flops, double seconds, bool int8 = false) {
  const double gflops = flops * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters[int8 ? "GOPS" : "GFLOPS"] = gflops;
  state.counters["pct_peak"] = 100.0 * gflops / (int8 ? Int8DotPeakGops() : FmaPeakGflops());
}

}  // namespace ek_bench

#endif  // EK_BENCH_CONV_PROBLEM_H_
