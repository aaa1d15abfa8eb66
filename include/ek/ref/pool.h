// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for ek::MaxPool2D, ek::AvgPool2D and ek::GlobalAvgPool2D (f32, NHWC), the
// specification. For output (n, y, x, c), over the window's taps (ky, kx) that fall inside the
// input, in row-major order (ky, then kx):
//
//   max:     acc = the first tap's value; then acc = max(acc, tap) for each further tap
//   average: acc = the first tap's value; then acc = acc + tap (f32 adds, in this order);
//            then acc = acc / count (one IEEE division by the number of taps inside the input)
//   then the activation: clamp to [lo, hi] (ek::ActivationBounds), when there is one.
//
// Every operation is one f32 IEEE operation in a fixed order, so ek's kernels equal this
// reference exactly on every target (the tests compare values, not bits: max() and the clamp may
// return either zero when a window holds both +0 and -0; a NaN tap makes max pooling's result
// unspecified, NaN or a number, as it is in TFLite and XNNPACK). Global average pooling is the
// average over the whole H x W image.
#ifndef EK_REF_POOL_H_
#define EK_REF_POOL_H_

#include <cstdint>

#include "ek/conv_options.h"
#include "ek/epilogue_options.h"
#include "ek/ref/conv.h"
#include "ek/ref/elementwise.h"
#include "ek/requantize.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// One output element of max (average = false) or average pooling. Views assumed valid: f32
// host views of rank 4, options validated by ek's entry point.
inline float Pool2DElement(const TensorView& input, const PoolOptions& o, bool average, int64_t n, int64_t y,
                           int64_t x, int64_t c) {
  const float* in = static_cast<const float*>(input.memory.host);
  float acc = 0.0f;
  int64_t count = 0;
  PoolWindow(o).ForEachTapInside(input.shape[1], input.shape[2], y, x, [&](int64_t, int64_t, int64_t iy, int64_t ix) {
    const float v =
        in[input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] + c * input.strides[3]];
    if (count == 0) {
      acc = v;
    } else if (average) {
      acc = acc + v;
    } else {
      acc = v > acc ? v : acc;
    }
    ++count;
  });
  if (average) acc = acc / static_cast<float>(count);
  return ApplyActivation(acc, o.activation, o.clamp_min, o.clamp_max);
}

inline void Pool2D(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average) {
  float* out = static_cast<float*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t c, int64_t e) {
    out[e] = Pool2DElement(input, o, average, n, y, x, c);
  });
}

inline void MaxPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o) {
  Pool2D(input, output, o, false);
}
inline void AvgPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o) {
  Pool2D(input, output, o, true);
}

// input [N, H, W, C] -> output [N, 1, 1, C] (or [N, C]): the average of each image's pixels.
inline void GlobalAvgPool2D(const TensorView& input, const TensorView& output) {
  PoolOptions o;
  o.kernel_h = input.shape[1];
  o.kernel_w = input.shape[2];
  Pool2D(input, output, o, true);
}

// ---- int8 / uint8: TFLite's reference integer pooling (reference_integer_ops::AveragePool and
// MaxPool; input and output share scale and zero point) ------------------------------------------
//   average: acc = the int32 sum of the taps inside the input, count their number;
//            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count   (C division)
//   max:     acc = the largest tap inside the input
//   then clamp to the activation's quantized range (ek::QuantizedActivationRange of the output).
// Global average pooling is average pooling with the whole image as the window (TFLite's
// AVERAGE_POOL_2D with filter H x W).
inline int32_t QPool2DElement(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average,
                              int64_t n, int64_t y, int64_t x, int64_t c) {
  const auto* in = static_cast<const uint8_t*>(input.memory.host);
  const bool u8 = input.dtype == DType::kU8;
  int32_t acc = average ? 0 : -1000;
  int32_t count = 0;
  PoolWindow(o).ForEachTapInside(input.shape[1], input.shape[2], y, x, [&](int64_t, int64_t, int64_t iy, int64_t ix) {
    const uint8_t byte =
        in[input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] + c * input.strides[3]];
    const int32_t v = u8 ? byte : static_cast<int8_t>(byte);
    acc = average ? acc + v : (v > acc ? v : acc);
    ++count;
  });
  if (average) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &lo, &hi);
  int32_t qmin = 0, qmax = 0;
  QuantizedActivationRange(lo, hi, output.quant.scale, output.quant.zero_point, DTypeMin(output.dtype),
                           DTypeMax(output.dtype), &qmin, &qmax);
  return acc < qmin ? qmin : (acc > qmax ? qmax : acc);
}

// output [N, OH, OW, C] (or [N, C] for a global pool: o's kernel = the image).
inline void QPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average) {
  auto* out = static_cast<uint8_t*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t c, int64_t e) {
    out[e] = static_cast<uint8_t>(QPool2DElement(input, output, o, average, n, y, x, c));
  });
}

inline void QGlobalAvgPool2D(const TensorView& input, const TensorView& output) {
  PoolOptions o;
  o.kernel_h = input.shape[1];
  o.kernel_w = input.shape[2];
  QPool2D(input, output, o, true);
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_POOL_H_
