// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Element-wise add (host: ek/opencl/elementwise.h; the CPU's ek::Add and its specification
// ek::ref::Add / QAdd), one source for every type (OpenCL C 1.2, no extensions):
//   -D EK_ADD_F32   out = clamp(a + b, lo, hi): one f32 addition, exact as on the CPU
//   -D EK_ADD_S8 / EK_ADD_U8   TFLite's quantized ADD (ek/requantize.h, QuantizedAdd): each input
//                  shifted left by 20, scaled by its multiplier, summed, requantized to the
//                  output (requantize.cl): bit for bit the CPU's
// One work-item per element; the views are up to rank 4 (padded with leading extents of 1),
// each with its own element strides, so channel slices and other strided views work.

#if defined(EK_ADD_F32)
typedef float ek_t;
#elif defined(EK_ADD_S8)
typedef char ek_t;
#define EK_INTEGER 1
#elif defined(EK_ADD_U8)
typedef uchar ek_t;
#define EK_INTEGER 1
#else
#error "define EK_ADD_F32, EK_ADD_S8 or EK_ADD_U8"
#endif
#if defined(EK_INTEGER)
#include "requantize.cl"
#endif

// Global size: the element count. shape1..3: the extents of the last three axes (axis 0's is
// implied); strides: 4 per view (elements, scalar arguments: PoCL 3.1 crashed now and then on
// int4 kernel arguments), offsets in elements.
// Integer: a_offset / b_offset = -zero points, the three multipliers (multiplier, shift), the
// output zero point and the activation's range; float: the clamp [lo, hi].
__kernel void ek_add(__global const ek_t* restrict a, const int a_offset_elements, const int a_stride0,
                     const int a_stride1, const int a_stride2, const int a_stride3, __global const ek_t* restrict b,
                     const int b_offset_elements, const int b_stride0, const int b_stride1, const int b_stride2,
                     const int b_stride3, __global ek_t* restrict out, const int out_offset_elements,
                     const int out_stride0, const int out_stride1, const int out_stride2, const int out_stride3,
                     const int shape1, const int shape2, const int shape3, const float lo, const float hi,
                     const int a_zero_offset, const int b_zero_offset, const int a_multiplier, const int a_shift,
                     const int b_multiplier, const int b_shift, const int out_multiplier, const int out_shift,
                     const int out_zero_point, const int qmin, const int qmax) {
  int rest = get_global_id(0);
  const int i3 = rest % shape3;
  rest /= shape3;
  const int i2 = rest % shape2;
  rest /= shape2;
  const int i1 = rest % shape1;
  const int i0 = rest / shape1;
  const int ea = a_offset_elements + i0 * a_stride0 + i1 * a_stride1 + i2 * a_stride2 + i3 * a_stride3;
  const int eb = b_offset_elements + i0 * b_stride0 + i1 * b_stride1 + i2 * b_stride2 + i3 * b_stride3;
  const int eo = out_offset_elements + i0 * out_stride0 + i1 * out_stride1 + i2 * out_stride2 + i3 * out_stride3;
#if defined(EK_INTEGER)
  const int left_shift = 20;
  const int scaled_a = ek_multiply_by_quantized_multiplier(((int)a[ea] + a_zero_offset) * (1 << left_shift),
                                                           a_multiplier, a_shift);
  const int scaled_b = ek_multiply_by_quantized_multiplier(((int)b[eb] + b_zero_offset) * (1 << left_shift),
                                                           b_multiplier, b_shift);
  out[eo] = (ek_t)ek_requantize(scaled_a + scaled_b, out_multiplier, out_shift, out_zero_point, qmin, qmax);
#else
  const float sum = a[ea] + b[eb];
  out[eo] = sum < lo ? lo : (sum > hi ? hi : sum);  // the reference's clamp: a NaN stays NaN
#endif
}
