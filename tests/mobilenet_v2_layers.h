// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The convolution layers of MobileNetV2 (Sandler et al. 2018, width 1.0, 224 x 224 x 3 input,
// TensorFlow's SAME padding): the first 3x3 stride-2 convolution, then 17 inverted residual
// blocks (1x1 expansion by t, 3x3 depthwise with the block's stride, 1x1 projection; the first
// block has no expansion), then the last 1x1 convolution to 1280 channels. Shared by
// tests/conv_test.cc and bench/conv_bench.cc.
#ifndef EK_TESTS_MOBILENET_V2_LAYERS_H_
#define EK_TESTS_MOBILENET_V2_LAYERS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ek_mobilenet {

struct ConvLayer {
  std::string name;
  int64_t in_h, in_w, in_c, out_c, kernel, stride;
  bool depthwise;
  bool residual;  // the block adds its input to the projection's output (same shape)
};

inline std::vector<ConvLayer> MobileNetV2Layers() {
  std::vector<ConvLayer> layers;
  layers.push_back({"conv0", 224, 224, 3, 32, 3, 2, false, false});
  int64_t size = 112, channels = 32;
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

}  // namespace ek_mobilenet

#endif  // EK_TESTS_MOBILENET_V2_LAYERS_H_
