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

#include "../tests/mobilenet_v2_layers.h"

namespace ek_bench {

struct ConvLayerData {
  ek_mobilenet::ConvLayer layer;
  int64_t out_h = 0, out_w = 0, groups = 1, group_in = 0;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool relu6 = true;
  std::vector<float> input, filter, bias, output;

  explicit ConvLayerData(const ek_mobilenet::ConvLayer& l) : layer(l) {
    groups = l.depthwise ? l.in_c : 1;
    group_in = l.in_c / groups;
    // TensorFlow's SAME (ek::SamePadding): out = ceil(in / stride), the extra row / column after.
    out_h = (l.in_h + l.stride - 1) / l.stride;
    out_w = (l.in_w + l.stride - 1) / l.stride;
    const int64_t pad_h = (out_h - 1) * l.stride + l.kernel - l.in_h, pad_w = (out_w - 1) * l.stride + l.kernel - l.in_w;
    pad_top = pad_h > 0 ? pad_h / 2 : 0;
    pad_bottom = pad_h > 0 ? pad_h - pad_top : 0;
    pad_left = pad_w > 0 ? pad_w / 2 : 0;
    pad_right = pad_w > 0 ? pad_w - pad_left : 0;
    relu6 = l.name.find("project") == std::string::npos;
    input.resize(static_cast<size_t>(l.in_h * l.in_w * l.in_c));
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * (1.0f / 97.0f);
    filter.resize(static_cast<size_t>(l.out_c * l.kernel * l.kernel * group_in));
    for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<float>(static_cast<int>(i % 89) - 44) * (1.0f / 890.0f);
    bias.resize(static_cast<size_t>(l.out_c));
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.01f;
    output.resize(static_cast<size_t>(out_h * out_w * l.out_c));
  }
  // Multiply-adds x 2.
  double Flops() const {
    return 2.0 * static_cast<double>(out_h * out_w * layer.out_c * layer.kernel * layer.kernel * group_in);
  }
};

}  // namespace ek_bench

#endif  // EK_BENCH_CONV_PROBLEM_H_
