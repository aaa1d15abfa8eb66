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
#include "ek/requantize.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// The window of output pixel (y, x): calls tap(ky, kx, iy, ix) for each of its kernel_h x
// kernel_w taps that falls inside the in_h x in_w input, row-major (the padding's are skipped).
struct Window {
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  template <class Tap>
  void ForEachTapInside(int64_t in_h, int64_t in_w, int64_t y, int64_t x, const Tap& tap) const {
    for (int64_t ky = 0; ky < kernel_h; ++ky) {
      const int64_t iy = y * stride_h - pad_top + ky * dilation_h;
      if (iy < 0 || iy >= in_h) continue;
      for (int64_t kx = 0; kx < kernel_w; ++kx) {
        const int64_t ix = x * stride_w - pad_left + kx * dilation_w;
        if (ix >= 0 && ix < in_w) tap(ky, kx, iy, ix);
      }
    }
  }
};
inline Window ConvWindow(const ConvOptions& o, const TensorView& filter) {
  return Window{filter.shape[1], filter.shape[2], o.stride_h, o.stride_w, o.dilation_h, o.dilation_w,
                o.padding.top, o.padding.left};
}
inline Window PoolWindow(const PoolOptions& o) {
  return Window{o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, 1, 1, o.padding.top, o.padding.left};
}

// Calls out(n, y, x, c, e) for every element of an NHWC output view, e its element offset; a
// rank-2 view [N, C] (a global pool's) is [N, 1, 1, C].
template <class Out>
inline void ForEachOutput(const TensorView& output, const Out& out) {
  const bool nhwc = output.rank == 4;
  const int64_t oh = nhwc ? output.shape[1] : 1, ow = nhwc ? output.shape[2] : 1;
  const int channel_axis = output.rank - 1;
  for (int64_t n = 0; n < output.shape[0]; ++n) {
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        for (int64_t c = 0; c < output.shape[channel_axis]; ++c) {
          out(n, y, x, c,
              output.offset + n * output.strides[0] + (nhwc ? y * output.strides[1] + x * output.strides[2] : 0) +
                  c * output.strides[channel_axis]);
        }
      }
    }
  }
}

inline double ConvErrorBound(int64_t terms, double magnitude) {
  return GemmErrorBound(terms, magnitude, 0.0, DType::kF32);
}

// One output element over the taps `for_each_tap(tap)` visits (tap(ky, kx, iy, ix)): value
// (before rounding to f32) and magnitude, as above. Views assumed valid.
template <class ForEachTap>
inline void ConvElementOver(const TensorView& input, const TensorView& filter, const ConvOptions& o, int64_t n,
                            int64_t oc, const ForEachTap& for_each_tap, double* value, double* magnitude) {
  const float* in = static_cast<const float*>(input.memory.host);
  const float* w = static_cast<const float*>(filter.memory.host);
  const int64_t group_in = filter.shape[3];
  const int64_t g = oc / (filter.shape[0] / o.groups);
  double sum = 0.0, mag = 0.0;
  for_each_tap([&](int64_t ky, int64_t kx, int64_t iy, int64_t ix) {
    for (int64_t c = 0; c < group_in; ++c) {
      const double a = in[input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] +
                          (g * group_in + c) * input.strides[3]];
      const double b = w[filter.offset + oc * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2] +
                         c * filter.strides[3]];
      sum += a * b;
      mag += std::fabs(a * b);
    }
  });
  if (o.bias.rank != 0) {
    const double b = static_cast<const float*>(o.bias.memory.host)[o.bias.offset + oc * o.bias.strides[0]];
    sum += b;
    mag += std::fabs(b);
  }
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o, &lo, &hi);
  *value = std::fmin(std::fmax(sum, static_cast<double>(lo)), static_cast<double>(hi));
  *magnitude = mag;
}

// One output element of ref::Conv2D (f32 host views of rank 4; the filter unpacked, OHWI).
inline void Conv2DElement(const TensorView& input, const TensorView& filter, const ConvOptions& o, int64_t n,
                          int64_t y, int64_t x, int64_t oc, double* value, double* magnitude) {
  ConvElementOver(
      input, filter, o, n, oc,
      [&](const auto& tap) { ConvWindow(o, filter).ForEachTapInside(input.shape[1], input.shape[2], y, x, tap); },
      value, magnitude);
}

// The reference convolution: writes every output element, rounded to f32.
inline void Conv2D(const TensorView& input, const TensorView& filter, const TensorView& output, const ConvOptions& o) {
  float* out = static_cast<float*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    double value, magnitude;
    Conv2DElement(input, filter, o, n, y, x, oc, &value, &magnitude);
    out[e] = static_cast<float>(value);
  });
}

// ---- Quantized (i8 / u8) -------------------------------------------------------------------------
// TFLite's reference integer kernels, written out for one output element
// (reference_integer_ops::ConvPerChannel and DepthwiseConvPerChannel for int8; reference_ops::
// Conv for uint8, per tensor):
//   acc = bias[o] + sum over the taps inside the input (padding taps skipped) and the group's
//         channels c of (in + input_offset) * (w + filter_offset)     input_offset = -in zero
//         point, filter_offset = -filter zero point (u8) or 0 (i8); int32 (here modulo 2^32)
//   M   = double(input scale) * double(filter scale[o]) / double(output scale), QuantizeMultiplier
//   out = clamp(MultiplyByQuantizedMultiplier(acc, M) + out zero point, act_min, act_max), the
//         range from CalculateActivationRangeQuantized (ek::QuantizedActivationRange)
// ek::Conv2D must equal this exactly, on every path, target and lane. Views assumed valid (the
// filter unpacked, OHWI, with its quant parameters).
template <class ForEachTap>
inline int32_t QConvElementOver(const TensorView& input, const TensorView& filter, const TensorView& output,
                                const ConvOptions& o, int64_t n, int64_t oc, const ForEachTap& for_each_tap) {
  const auto* in = static_cast<const uint8_t*>(input.memory.host);
  const auto* w = static_cast<const uint8_t*>(filter.memory.host);
  const bool u8 = input.dtype == DType::kU8;
  const auto value = [u8](const uint8_t* base, int64_t e) {
    return u8 ? static_cast<int32_t>(base[e]) : static_cast<int32_t>(static_cast<int8_t>(base[e]));
  };
  const int32_t input_offset = -input.quant.zero_point;
  const int32_t filter_offset = u8 ? -filter.quant.zero_point : 0;
  const int64_t group_in = filter.shape[3];
  const int64_t g = oc / (filter.shape[0] / o.groups);
  int64_t acc = 0;
  for_each_tap([&](int64_t ky, int64_t kx, int64_t iy, int64_t ix) {
    for (int64_t c = 0; c < group_in; ++c) {
      const int32_t a = value(in, input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] +
                                      (g * group_in + c) * input.strides[3]);
      const int32_t b = value(w, filter.offset + oc * filter.strides[0] + ky * filter.strides[1] +
                                     kx * filter.strides[2] + c * filter.strides[3]);
      acc += int64_t{a + input_offset} * (b + filter_offset);
    }
  });
  if (o.bias.rank != 0) acc += static_cast<const int32_t*>(o.bias.memory.host)[o.bias.offset + oc * o.bias.strides[0]];
  const float filter_scale = filter.quant.scheme == QuantScheme::kPerAxis
                                 ? static_cast<const float*>(filter.quant.scales)[oc]
                                 : filter.quant.scale;
  QuantizedMultiplier m;
  (void)QuantizeMultiplier(static_cast<double>(input.quant.scale) * static_cast<double>(filter_scale) /
                               static_cast<double>(output.quant.scale),
                           &m);
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o, &lo, &hi);
  int32_t act_min = 0, act_max = 0;
  QuantizedActivationRange(lo, hi, output.quant.scale, output.quant.zero_point, DTypeMin(output.dtype),
                           DTypeMax(output.dtype), &act_min, &act_max);
  return Requantize(static_cast<int32_t>(static_cast<uint32_t>(acc)), m, output.quant.zero_point, act_min, act_max);
}

inline int32_t QConv2DElement(const TensorView& input, const TensorView& filter, const TensorView& output,
                              const ConvOptions& o, int64_t n, int64_t y, int64_t x, int64_t oc) {
  return QConvElementOver(input, filter, output, o, n, oc, [&](const auto& tap) {
    ConvWindow(o, filter).ForEachTapInside(input.shape[1], input.shape[2], y, x, tap);
  });
}

// The reference quantized convolution: writes every output element.
inline void QConv2D(const TensorView& input, const TensorView& filter, const TensorView& output, const ConvOptions& o) {
  auto* out = static_cast<uint8_t*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    out[e] = static_cast<uint8_t>(QConv2DElement(input, filter, output, o, n, y, x, oc));
  });
}


// ---- Dynamic quantization (f32 input x i8 weights -> f32) ----------------------------------------
// ek::QGemm's dynamic rule (ek/ref/qgemm.h) on the rows of taps. For output pixel (n, y, x) and
// group g the row is the KH x KW taps, row-major, each the group's C_in / groups input values,
// 0.0f for a tap in the padding. The row is quantized with ek::DynamicRowParams over its values
// (0 is always in the range, so a padding value quantizes to the zero point zp and adds nothing):
// q = DynamicQuantizeValue(v). Then per output channel o of the group (filter i8, symmetric, per
// tensor or per output channel):
//   out = act((float(sum over the row of (q - zp) * w[o]) * row scale) * filter scale[o] + bias[o])
// The sum is exact (int64 here; int32 in ek, never wrapping: K <= kQMaxK). ek::Conv2D may differ
// by the rounding of these few f32 operations: |ek - ref| <= QGemmF32ErrorBound(magnitude, 1),
// magnitude = (sum |(q - zp) * w|) * row scale * |filter scale| + |bias|.
inline float DynamicConv2DElement(const TensorView& input, const TensorView& filter, const ConvOptions& o, int64_t n,
                                  int64_t y, int64_t x, int64_t oc, double* magnitude) {
  const float* in = static_cast<const float*>(input.memory.host);
  const auto* w = static_cast<const int8_t*>(filter.memory.host);
  const int64_t group_in = filter.shape[3];
  const int64_t g = oc / (filter.shape[0] / o.groups);
  const auto value = [&](int64_t iy, int64_t ix, int64_t c) {
    return in[input.offset + n * input.strides[0] + iy * input.strides[1] + ix * input.strides[2] +
              (g * group_in + c) * input.strides[3]];
  };
  const auto for_each_tap = [&](const auto& tap) {
    ConvWindow(o, filter).ForEachTapInside(input.shape[1], input.shape[2], y, x, tap);
  };
  float lo = 0.0f, hi = 0.0f;  // the padding's zeros are in every row
  for_each_tap([&](int64_t, int64_t, int64_t iy, int64_t ix) {
    for (int64_t c = 0; c < group_in; ++c) {
      const float v = value(iy, ix, c);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
  });
  const DynamicQuant dq = DynamicRowParams(lo, hi);
  int64_t sum = 0, abs_sum = 0;
  for_each_tap([&](int64_t ky, int64_t kx, int64_t iy, int64_t ix) {
    for (int64_t c = 0; c < group_in; ++c) {
      const int64_t term = int64_t{DynamicQuantizeValue(value(iy, ix, c), dq) - dq.zero_point} *
                           w[filter.offset + oc * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2] +
                             c * filter.strides[3]];
      sum += term;
      abs_sum += term < 0 ? -term : term;
    }
  });
  const float w_scale = filter.quant.scheme == QuantScheme::kPerAxis ? static_cast<const float*>(filter.quant.scales)[oc]
                                                                      : filter.quant.scale;
  const float bias =
      o.bias.rank != 0 ? static_cast<const float*>(o.bias.memory.host)[o.bias.offset + oc * o.bias.strides[0]] : 0.0f;
  float out = (static_cast<float>(sum) * dq.scale) * w_scale + bias;
  float act_lo = 0.0f, act_hi = 0.0f;
  (void)ActivationBounds(o, &act_lo, &act_hi);
  out = out < act_lo ? act_lo : (out > act_hi ? act_hi : out);
  *magnitude = static_cast<double>(abs_sum) * static_cast<double>(dq.scale) * std::fabs(static_cast<double>(w_scale)) +
               std::fabs(static_cast<double>(bias));
  return out;
}

// The reference dynamic convolution: writes every output element (f32); `magnitude` (one per
// output element, in ForEachOutput's order) or null.
inline void DynamicConv2D(const TensorView& input, const TensorView& filter, const TensorView& output,
                          const ConvOptions& o, double* magnitude = nullptr) {
  float* out = static_cast<float*>(output.memory.host);
  int64_t i = 0;
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    double mag = 0.0;
    out[e] = DynamicConv2DElement(input, filter, o, n, y, x, oc, &mag);
    if (magnitude != nullptr) magnitude[i] = mag;
    ++i;
  });
}

// ---- Transposed convolution ----------------------------------------------------------------------
// ek::TransposeConv2D's specification (TFLite's TRANSPOSE_CONV, TensorFlow's conv2d_transpose):
// each input pixel (iy, ix) scatters its taps to output (iy * sh - top + ky, ix * sw - left + kx).
// Written as a gather: output (y, x) takes the taps (ky, kx) with (y + top - ky) a multiple of
// sh whose input row iy = (y + top - ky) / sh is in [0, H), and the same along x; the same filter
// layout OHWI [C_out, KH, KW, C_in / groups], groups as for Conv2D, stride, top / left padding
// (ConvOptions; dilation 1). Calls tap(ky, kx, iy, ix) row-major over (ky, kx).
template <class Tap>
inline void ForEachTransposedTap(const ConvOptions& o, const TensorView& filter, int64_t in_h, int64_t in_w, int64_t y,
                                 int64_t x, const Tap& tap) {
  for (int64_t ky = 0; ky < filter.shape[1]; ++ky) {
    const int64_t ty = y + o.padding.top - ky;
    if (ty < 0 || ty % o.stride_h != 0 || ty / o.stride_h >= in_h) continue;
    for (int64_t kx = 0; kx < filter.shape[2]; ++kx) {
      const int64_t tx = x + o.padding.left - kx;
      if (tx < 0 || tx % o.stride_w != 0 || tx / o.stride_w >= in_w) continue;
      tap(ky, kx, ty / o.stride_h, tx / o.stride_w);
    }
  }
}

// One output element of the f32 transposed convolution: value (in double, before rounding to f32)
// and magnitude, as for Conv2DElement. ek's kernels compute each output phase as an ordinary
// convolution (docs/conv.md), so their error is within ConvErrorBound of KH x KW x C_in / groups
// terms.
inline void TransposeConv2DElement(const TensorView& input, const TensorView& filter, const ConvOptions& o, int64_t n,
                                   int64_t y, int64_t x, int64_t oc, double* value, double* magnitude) {
  ConvElementOver(
      input, filter, o, n, oc,
      [&](const auto& tap) { ForEachTransposedTap(o, filter, input.shape[1], input.shape[2], y, x, tap); }, value,
      magnitude);
}

inline void TransposeConv2D(const TensorView& input, const TensorView& filter, const TensorView& output,
                            const ConvOptions& o) {
  float* out = static_cast<float*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    double value, magnitude;
    TransposeConv2DElement(input, filter, o, n, y, x, oc, &value, &magnitude);
    out[e] = static_cast<float>(value);
  });
}

// The quantized transposed convolution: TFLite's reference_integer_ops::TransposeConv (int8,
// per-channel weights) and reference_ops::TransposeConv's uint8 form: the int32 sum of
// (in + input_offset) * (w + filter_offset) over the same taps as above, plus the bias, then
// requantized exactly as QConv2DElement. ek::TransposeConv2D must equal it on every path.
inline int32_t QTransposeConv2DElement(const TensorView& input, const TensorView& filter, const TensorView& output,
                                       const ConvOptions& o, int64_t n, int64_t y, int64_t x, int64_t oc) {
  return QConvElementOver(input, filter, output, o, n, oc, [&](const auto& tap) {
    ForEachTransposedTap(o, filter, input.shape[1], input.shape[2], y, x, tap);
  });
}

inline void QTransposeConv2D(const TensorView& input, const TensorView& filter, const TensorView& output,
                             const ConvOptions& o) {
  auto* out = static_cast<uint8_t*>(output.memory.host);
  ForEachOutput(output, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    out[e] = static_cast<uint8_t>(QTransposeConv2DElement(input, filter, output, o, n, y, x, oc));
  });
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_CONV_H_
