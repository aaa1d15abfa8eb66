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
#include "bench_util.h"
#include "ek/conv_options.h"

namespace ek_bench {

struct ConvLayerData {
  ek_mobilenet::ConvLayer layer;
  int64_t out_h = 0, out_w = 0, groups = 1, group_in = 0;
  ek::ConvPadding padding;  // TensorFlow's SAME
  bool relu6 = true;
  std::vector<float> input, filter, bias, output;

  explicit ConvLayerData(const ek_mobilenet::ConvLayer& l) : layer(l) {
    groups = l.depthwise ? l.in_c : 1;
    group_in = l.in_c / groups;
    padding = ek::SamePadding(l.in_h, l.in_w, l.kernel, l.kernel, l.stride, l.stride);
    out_h = ek::ConvOutputSize(l.in_h, l.kernel, l.stride, 1, padding.top, padding.bottom);
    out_w = ek::ConvOutputSize(l.in_w, l.kernel, l.stride, 1, padding.left, padding.right);
    relu6 = ek_mobilenet::HasRelu6(l);
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

// GFLOPS over `seconds` for state.iterations() runs of `flops`, and pct_peak of the FMA peak.
inline void SetConvCounters(benchmark::State& state, double flops, double seconds) {
  const double gflops = flops * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GFLOPS"] = gflops;
  state.counters["pct_peak"] = 100.0 * gflops / FmaPeakGflops();
}

}  // namespace ek_bench

#endif  // EK_BENCH_CONV_PROBLEM_H_
