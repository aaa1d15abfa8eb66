// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Direct 2-D convolution on NHWC tensors (host: ek/opencl/conv.h; the CPU's ek::Conv2D and its
// specification ek::ref::Conv2D / QConv2D), one source for every type (OpenCL C 1.2, no
// extensions):
//   -D EK_CONV_F32   f32 input, filter, output; f32 fused multiply-adds
//   -D EK_CONV_F16   f16 storage of input and output (vload_half / vstore_half_rte), the filter
//                    f16, or f32 with -D EK_FILTER_F32; f32 sums, rounded once to f16
//   -D EK_CONV_S8    i8 input (zero point) x i8 filter (symmetric, per channel or per tensor)
//                    -> i8: exact int32 sums requantized with the CPU's rule (requantize.cl)
//   -D EK_CONV_U8    u8 input, filter and output, each per tensor with a zero point (TFLite's
//                    older asymmetric scheme)
//   -D EK_CONV_PIXELS=P  output pixels along x per work-item (1..8)
// Every output is one chain in ek::ref::Conv2D's order: taps row-major, the group's input
// channels increasing within a tap, taps in the padding left out; then the bias, then the
// activation (or the requantization, whose clamp is the activation's range). Float results are
// within ek::ref::ConvErrorBound of the reference; integer results equal it bit for bit.
//
// Work-item: one output channel (dimension 0, so neighbouring work-items read neighbouring
// input channels of a depthwise layer and the same input pixel otherwise) x P consecutive
// output pixels of one row (dimension 1) x one image row n * OH + y (dimension 2). Register
// budget: P accumulators, P input offsets and a flag word, one weight.
// Loop levels: filter rows (rows outside the input skipped), filter columns (the P pixels'
// input columns computed once per tap), the group's input channels (one weight load, P
// multiply-adds); then the epilogue per pixel.
// Indices are in elements; the host checks that every index fits an int.

#ifndef EK_CONV_PIXELS
#define EK_CONV_PIXELS 4
#endif

#if defined(EK_CONV_F32)
typedef float ek_in;
typedef float ek_filter;
typedef float ek_out;
typedef float ek_acc;
#define EK_LOAD_IN(i) (input[i])
#define EK_LOAD_FILTER(i) (filter[i])
#define EK_MAD(acc, a, b) fma((a), (b), (acc))
#elif defined(EK_CONV_F16)
typedef half ek_in;
typedef half ek_out;
typedef float ek_acc;
#define EK_LOAD_IN(i) vload_half((i), input)
#if defined(EK_FILTER_F32)
typedef float ek_filter;
#define EK_LOAD_FILTER(i) (filter[i])
#else
typedef half ek_filter;
#define EK_LOAD_FILTER(i) vload_half((i), filter)
#endif
#define EK_MAD(acc, a, b) fma((a), (b), (acc))
#elif defined(EK_CONV_S8) || defined(EK_CONV_U8)
#if defined(EK_CONV_S8)
typedef char ek_in;
#else
typedef uchar ek_in;
#endif
typedef ek_in ek_filter;
typedef ek_in ek_out;
typedef int ek_acc;
#define EK_INTEGER 1
#define EK_LOAD_IN(i) ((int)input[i] - in_zero_point)
#define EK_LOAD_FILTER(i) ((int)filter[i] - filter_zero_point)
#define EK_MAD(acc, a, b) ((acc) + (a) * (b))
#include "requantize.cl"
#else
#error "define EK_CONV_F32, EK_CONV_F16, EK_CONV_S8 or EK_CONV_U8"
#endif

// Global size: (C_out rounded up to the work-group's first dimension, ceil(OW / P), N * OH).
// Strides of the input and output: image, row, pixel (channels are contiguous). Filter:
// strides of its four axes (OHWI, or any permutation given by strides, e.g. HWIO).
// Integer types: multiplier[oc * multiplier_step], shift[...] (step 0: per tensor), the
// zero points and the activation's range [qmin, qmax]; float types: the clamp [lo, hi].
__kernel void ek_conv2d(__global const ek_in* restrict input, const int in_offset, const int in_h, const int in_w,
                        const int in_stride_n, const int in_stride_h, const int in_stride_w,
                        __global const ek_filter* restrict filter, const int filter_offset, const int filter_stride_o,
                        const int filter_stride_h, const int filter_stride_w, const int filter_stride_c,
                        __global ek_out* restrict output, const int out_offset, const int out_h, const int out_w,
                        const int out_c, const int out_stride_n, const int out_stride_h, const int out_stride_w,
                        const int kernel_h, const int kernel_w, const int stride_h, const int stride_w,
                        const int dilation_h, const int dilation_w, const int pad_top, const int pad_left,
                        const int group_in, const int group_out, __global const void* restrict bias,
                        const int bias_offset, const int has_bias, const float lo, const float hi,
                        const int in_zero_point, const int filter_zero_point,
                        __global const int* restrict multiplier, __global const int* restrict shift,
                        const int multiplier_step, const int out_zero_point, const int qmin, const int qmax) {
  const int oc = get_global_id(0);
  const int x0 = get_global_id(1) * EK_CONV_PIXELS;
  const int row = get_global_id(2);
  if (oc >= out_c || x0 >= out_w) return;
  const int n = row / out_h;
  const int y = row - n * out_h;
  const int pixels = min(EK_CONV_PIXELS, out_w - x0);
  const int in_channel0 = in_offset + n * in_stride_n + (oc / group_out) * group_in;
  const int filter_o = filter_offset + oc * filter_stride_o;

  ek_acc acc[EK_CONV_PIXELS];
  for (int p = 0; p < EK_CONV_PIXELS; ++p) acc[p] = 0;
  for (int ky = 0; ky < kernel_h; ++ky) {
    const int iy = y * stride_h - pad_top + ky * dilation_h;
    if (iy < 0 || iy >= in_h) continue;
    for (int kx = 0; kx < kernel_w; ++kx) {
      // The P pixels' input offsets for this tap; bit p of `inside`: pixel p reads the input.
      int in_pixel[EK_CONV_PIXELS];
      int inside = 0;
      for (int p = 0; p < EK_CONV_PIXELS; ++p) {
        const int ix = (x0 + p) * stride_w - pad_left + kx * dilation_w;
        const bool reads = p < pixels && ix >= 0 && ix < in_w;
        in_pixel[p] = reads ? in_channel0 + iy * in_stride_h + ix * in_stride_w : 0;  // no int overflow outside
        if (reads) inside |= 1 << p;
      }
      if (inside == 0) continue;
      const int filter_tap = filter_o + ky * filter_stride_h + kx * filter_stride_w;
      for (int c = 0; c < group_in; ++c) {
        const ek_acc w = EK_LOAD_FILTER(filter_tap + c * filter_stride_c);
        for (int p = 0; p < EK_CONV_PIXELS; ++p) {
          if (inside & (1 << p)) acc[p] = EK_MAD(acc[p], (ek_acc)EK_LOAD_IN(in_pixel[p] + c), w);
        }
      }
    }
  }

  const int out_index = out_offset + n * out_stride_n + y * out_stride_h + x0 * out_stride_w + oc;
  for (int p = 0; p < pixels; ++p) {
#if defined(EK_INTEGER)
    int total = acc[p];
    if (has_bias) total = as_int((uint)total + (uint)((__global const int*)bias)[bias_offset + oc]);
    const int q = ek_requantize(total, multiplier[oc * multiplier_step], shift[oc * multiplier_step], out_zero_point,
                                qmin, qmax);
    output[out_index + p * out_stride_w] = (ek_out)q;
#else
    float v = acc[p];
    if (has_bias) v += ((__global const float*)bias)[bias_offset + oc];
    v = fmin(fmax(v, lo), hi);
#if defined(EK_CONV_F16)
    vstore_half_rte(v, out_index + p * out_stride_w, output);
#else
    output[out_index + p * out_stride_w] = v;
#endif
#endif
  }
}
