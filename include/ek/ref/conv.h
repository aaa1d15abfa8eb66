// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for ek::Conv2D (f32), the specification: NHWC input [N, H, W, C_in], filter
// OHWI [C_out, KH, KW, C_in / groups] (TFLite's conv layout; depthwise: groups = C_in, C_out =
// C_in x multiplier, output channel o reads input channel o / (C_out / groups)), output
// [N, OH, OW, C_out]. For output (n, y, x, o) of group g = o / (C_out / groups):
//
//   value     = act(bias[o] + sum over taps (ky, kx) inside the input, c in the group:
//                              in[n, y * sh - top + ky * dh, x * sw - left + kx * dw, g * cg + c]
//                              * w[o, ky, kx, c])                            in double
//   magnitude = |bias[o]| + sum |in * w| over the same terms
//
// Taps that fall in the padding are skipped (TFLite's reference kernels). ek's kernels compute
// the same sum in f32, one chain per output in this order (taps row-major, channels increasing
// within a tap), padding taps as exact zeros, then the bias, then the activation; their error
// is within ConvErrorBound (the GEMM bound of a chain of KH x KW x C_in / groups terms).
#ifndef EK_REF_CONV_H_
#define EK_REF_CONV_H_

#include <cmath>
#include <cstdint>

#include "ek/conv_options.h"
#include "ek/ref/gemm.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

inline double ConvErrorBound(int64_t terms, double magnitude) {
  return GemmErrorBound(terms, magnitude, 0.0, DType::kF32);
}

// One output element: value (before rounding to f32) and magnitude, as above. Views assumed
// valid (f32 host views of rank 4; the filter unpacked, OHWI).
inline void Conv2DElement(const TensorView& input, const TensorView& filter, const ConvOptions& o, int64_t n,
                          int64_t y, int64_t x, int64_t oc, double* value, double* magnitude) {
  const float* in = static_cast<const float*>(input.memory.host);
  const float* w = static_cast<const float*>(filter.memory.host);
  const int64_t in_h = input.shape[1], in_w = input.shape[2];
  const int64_t kernel_h = filter.shape[1], kernel_w = filter.shape[2], group_in = filter.shape[3];
  const int64_t group_out = filter.shape[0] / o.groups;
  const int64_t g = oc / group_out;
  double sum = 0.0, mag = 0.0;
  for (int64_t ky = 0; ky < kernel_h; ++ky) {
    const int64_t iy = y * o.stride_h - o.padding.top + ky * o.dilation_h;
    if (iy < 0 || iy >= in_h) continue;
    for (int64_t kx = 0; kx < kernel_w; ++kx) {
      const int64_t ix = x * o.stride_w - o.padding.left + kx * o.dilation_w;
      if (ix < 0 || ix >= in_w) continue;
      for (int64_t c = 0; c < group_in; ++c) {
        const double a = in[input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] +
                            (g * group_in + c) * input.strides[3]];
        const double b = w[filter.offset + oc * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2] +
                           c * filter.strides[3]];
        sum += a * b;
        mag += std::fabs(a * b);
      }
    }
  }
  if (o.bias.rank != 0) {
    const double b = static_cast<const float*>(o.bias.memory.host)[o.bias.offset + oc * o.bias.strides[0]];
    sum += b;
    mag += std::fabs(b);
  }
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o, &lo, &hi);
  sum = std::fmin(std::fmax(sum, static_cast<double>(lo)), static_cast<double>(hi));
  *value = sum;
  *magnitude = mag;
}

// The reference convolution: writes every output element, rounded to f32.
inline void Conv2D(const TensorView& input, const TensorView& filter, const TensorView& output, const ConvOptions& o) {
  float* out = static_cast<float*>(output.memory.host);
  for (int64_t n = 0; n < output.shape[0]; ++n) {
    for (int64_t y = 0; y < output.shape[1]; ++y) {
      for (int64_t x = 0; x < output.shape[2]; ++x) {
        for (int64_t oc = 0; oc < output.shape[3]; ++oc) {
          double value, magnitude;
          Conv2DElement(input, filter, o, n, y, x, oc, &value, &magnitude);
          out[output.offset + n * output.strides[0] + y * output.strides[1] + x * output.strides[2] +
              oc * output.strides[3]] = static_cast<float>(value);
        }
      }
    }
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_CONV_H_
