// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The options of the 2-D convolution and pooling (ek/conv.h): strides, dilations, explicit
// padding, groups, and the shared epilogue (bias, activation). No kernels: the OpenCL backend and
// the NPU trait read the same options. Output sizes and TensorFlow's SAME / VALID padding rules
// are here too.
#ifndef EK_CONV_OPTIONS_H_
#define EK_CONV_OPTIONS_H_

#include <cstdint>

#include "ek/epilogue_options.h"

namespace ek {

// Zeros added around the input image (in pixels, >= 0).
struct ConvPadding {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

struct ConvOptions : EpilogueOptions {  // bias: [output channels] f32, or none
  int64_t stride_h = 1, stride_w = 1;      // >= 1
  int64_t dilation_h = 1, dilation_w = 1;  // >= 1
  ConvPadding padding;                     // explicit; see SamePadding / ValidPadding
  int64_t groups = 1;                      // input and output channels split into this many groups
};

// Average and max pooling (ek::AvgPool2D / ek::MaxPool2D): a kernel_h x kernel_w window of
// input pixels per output pixel and channel. Taps in the padding are left out: max pooling
// ignores them, average pooling divides by the number of taps inside the input (TFLite's and
// XNNPACK's rule). Each side's padding must be smaller than the kernel along its axis, so every
// window holds at least one input pixel. Then the activation; pooling takes no bias.
struct PoolOptions {
  int64_t kernel_h = 1, kernel_w = 1;  // >= 1
  int64_t stride_h = 1, stride_w = 1;  // >= 1
  ConvPadding padding;                 // explicit; SamePadding / ValidPadding as for convolution
  Activation activation = Activation::kNone;
  float clamp_min = 0.0f;  // Activation::kClamp only
  float clamp_max = 0.0f;
};

// Output size along one axis: floor((in + pads - dilated kernel) / stride) + 1, or 0 when the
// dilated kernel is larger than the padded input (an error for ek::Conv2D).
inline int64_t ConvOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_before,
                              int64_t pad_after) {
  const int64_t span = (kernel - 1) * dilation + 1;
  const int64_t padded = in + pad_before + pad_after;
  if (stride < 1 || dilation < 1 || kernel < 1 || padded < span) return 0;
  return (padded - span) / stride + 1;
}

// TensorFlow's VALID: no padding.
inline ConvPadding ValidPadding() { return ConvPadding(); }

// TensorFlow's SAME: the output is ceil(in / stride) along each axis; the padding it needs is
// split with the smaller half before (top / left) and the larger after, as TensorFlow and TFLite do.
inline ConvPadding SamePadding(int64_t in_h, int64_t in_w, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
                               int64_t stride_w, int64_t dilation_h = 1, int64_t dilation_w = 1) {
  const auto total = [](int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
    if (stride < 1) return int64_t{0};
    const int64_t out = (in + stride - 1) / stride;
    const int64_t need = (out - 1) * stride + (kernel - 1) * dilation + 1 - in;
    return need > 0 ? need : int64_t{0};
  };
  const int64_t pad_h = total(in_h, kernel_h, stride_h, dilation_h);
  const int64_t pad_w = total(in_w, kernel_w, stride_w, dilation_w);
  ConvPadding p;
  p.top = pad_h / 2;
  p.bottom = pad_h - p.top;
  p.left = pad_w / 2;
  p.right = pad_w - p.left;
  return p;
}


// Transposed convolution (ek::TransposeConv2D; ConvOptions with dilation 1): output size along
// one axis, (in - 1) * stride + kernel - pad_before - pad_after, or 0 if that is below 1. The
// padding crops the full output; pad_after may be negative, down to -(stride - 1): the output
// then extends past the last tap by that many rows / columns, which get the bias only
// (XNNPACK's "adjustment", and TensorFlow's SAME when the kernel is smaller than the stride).
inline int64_t TransposeConvOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                                       int64_t pad_after) {
  if (in < 1 || kernel < 1 || stride < 1) return 0;
  const int64_t out = (in - 1) * stride + kernel - pad_before - pad_after;
  return out >= 1 ? out : 0;
}

// TensorFlow's SAME for conv2d_transpose (and TFLite's TRANSPOSE_CONV with output in x stride):
// the output is in x stride along each axis; the padding is what the forward convolution of that
// output would need (kernel - stride), split with the smaller half before; negative after when
// the kernel is smaller than the stride.
inline ConvPadding TransposeConvSamePadding(int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w) {
  const auto split = [](int64_t kernel, int64_t stride, int64_t* before, int64_t* after) {
    const int64_t total = kernel - stride;
    *before = total > 0 ? total / 2 : 0;
    *after = total - *before;
  };
  ConvPadding p;
  split(kernel_h, stride_h, &p.top, &p.bottom);
  split(kernel_w, stride_w, &p.left, &p.right);
  return p;
}

namespace detail {

// The geometry every backend's convolution checks first: strides and dilations >= 1, padding
// >= 0, each at most 2^20 (so no product of them with an extent overflows). Names the option.
inline Status ValidateConvGeometry(const ConvOptions& o) {
  if (o.stride_h < 1 || o.stride_w < 1) return InvalidArg("options.stride_h", "strides must be >= 1");
  if (o.dilation_h < 1 || o.dilation_w < 1) return InvalidArg("options.dilation_h", "dilations must be >= 1");
  if (o.padding.top < 0 || o.padding.bottom < 0 || o.padding.left < 0 || o.padding.right < 0) {
    return InvalidArg("options.padding", "must be >= 0");
  }
  constexpr int64_t kMax = int64_t{1} << 20;
  if (o.stride_h > kMax || o.stride_w > kMax || o.dilation_h > kMax || o.dilation_w > kMax || o.padding.top > kMax ||
      o.padding.bottom > kMax || o.padding.left > kMax || o.padding.right > kMax) {
    return InvalidArg("options", "strides, dilations and padding must be at most 2^20");
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CONV_OPTIONS_H_
