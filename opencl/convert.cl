// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantization on the device, with the CPU's rules operation for operation (ek/ref/convert.h,
// ek/requantize.h; docs/numerics.md), so the integers are the CPU's bit for bit:
//
//   ek_quantize           q = clamp(rint(x * inv_scale) + zero_point, qmin, qmax); NaN -> zero point
//                         (inv_scale = 1 / scale computed on the host, as the CPU does)
//   ek_dequantize         x = (float)(q - zero_point) * scale
//   ek_quantize_rows      dynamic per-row quantization of f32 rows to u8 (ek::DynamicRowParams):
//                         the row's range widened to include 0, scale = (hi - lo) / 255 (at least
//                         2^-149), zero point = clamp(rint(-lo / scale), 0, 255) (0 for a zero
//                         row), x * 2^64 first when scale < 2^-100; rows padded with 0 to kp
//
// Types by -D: EK_Q_I8 (char) or EK_Q_U8 (uchar) for ek_quantize / ek_dequantize.
// Per-channel scales: `channel_stride` > 0 makes element e use scale / zero point
// [(e / channel_stride) % channels]; 0 means one scale for the tensor.
// The f32 divisions of ek_quantize_rows must be correctly rounded: the host builds it with
// -cl-fp32-correctly-rounded-divide-sqrt when the device supports it (docs/opencl.md says what
// happens when it does not). Contractions into fma would change bits: off.
// -D EK_SUBGROUPS (cl_khr_subgroups): the row min / max use sub_group_reduce_min / max and local
// memory only across sub-groups; without it, a tree in local memory.
#pragma OPENCL FP_CONTRACT OFF

#if defined(EK_Q_I8)
typedef char ek_q;
#define EK_QMIN -128
#define EK_QMAX 127
#elif defined(EK_Q_U8)
typedef uchar ek_q;
#define EK_QMIN 0
#define EK_QMAX 255
#endif

#ifndef EK_ROW_GROUP
#define EK_ROW_GROUP 64
#endif

// The CPU's ref::QuantizeValue after the multiply: round half to even, add, clamp.
int ek_quantize_value(float x, float inv_scale, int zero_point, int qmin, int qmax) {
  if (isnan(x)) return clamp(zero_point, qmin, qmax);
  float r = rint(x * inv_scale) + (float)zero_point;
  r = r < (float)qmin ? (float)qmin : r;
  r = r > (float)qmax ? (float)qmax : r;
  return (int)r;
}

#if defined(EK_Q_I8) || defined(EK_Q_U8)
// One work-item per element; count elements from x + x_offset to q + q_offset.
__kernel void ek_quantize(const int count, __global const float* restrict x, const int x_offset,
                          __global ek_q* restrict q, const int q_offset, __global const float* restrict inv_scales,
                          __global const int* restrict zero_points, const int channel_stride, const int channels) {
  const int e = get_global_id(0);
  if (e >= count) return;
  const int ch = channel_stride > 0 ? (e / channel_stride) % channels : 0;
  q[q_offset + e] = (ek_q)ek_quantize_value(x[x_offset + e], inv_scales[ch], zero_points[ch], EK_QMIN, EK_QMAX);
}

__kernel void ek_dequantize(const int count, __global const ek_q* restrict q, const int q_offset,
                            __global float* restrict x, const int x_offset, __global const float* restrict scales,
                            __global const int* restrict zero_points, const int channel_stride, const int channels) {
  const int e = get_global_id(0);
  if (e >= count) return;
  const int ch = channel_stride > 0 ? (e / channel_stride) % channels : 0;
  x[x_offset + e] = (float)((int)q[q_offset + e] - zero_points[ch]) * scales[ch];
}
#endif

// One work-group of EK_ROW_GROUP work-items per row of A [m x k] (row stride lda). Writes
// q [m x kp] (u8, row stride ldq, zeros from k to kp), scales[m] and zero_points[m]; offsets are
// in elements.
//   pass 1: each work-item's min / max over its strided k, then the group's (sub-groups or tree);
//   params: ek::DynamicRowParams on the group's range;
//   pass 2: each work-item quantizes its strided k (consecutive work-items, consecutive k).
__kernel __attribute__((reqd_work_group_size(EK_ROW_GROUP, 1, 1)))
void ek_quantize_rows(const int k, const int kp, __global const float* restrict a, const int a_offset,
                      const int lda, __global uchar* restrict q, const int q_offset, const int ldq,
                      __global float* restrict scales, const int scales_offset, __global int* restrict zero_points,
                      const int zero_points_offset) {
  const int row = get_group_id(0), lid = get_local_id(0);
  __global const float* in = a + a_offset + row * lda;
  float lo = 0.0f, hi = 0.0f;  // the range always includes 0
  for (int i = lid; i < k; i += EK_ROW_GROUP) {
    const float x = in[i];
    lo = x < lo ? x : lo;  // a NaN never wins a comparison: it is skipped, as on the CPU
    hi = x > hi ? x : hi;
  }
#ifdef EK_SUBGROUPS
  __local float group_lo[EK_ROW_GROUP], group_hi[EK_ROW_GROUP];
  lo = sub_group_reduce_min(lo);
  hi = sub_group_reduce_max(hi);
  if (get_sub_group_local_id() == 0) {
    group_lo[get_sub_group_id()] = lo;
    group_hi[get_sub_group_id()] = hi;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  lo = 0.0f;
  hi = 0.0f;
  for (uint s = 0; s < get_num_sub_groups(); ++s) {
    lo = fmin(lo, group_lo[s]);
    hi = fmax(hi, group_hi[s]);
  }
#else
  __local float tree_lo[EK_ROW_GROUP], tree_hi[EK_ROW_GROUP];
  tree_lo[lid] = lo;
  tree_hi[lid] = hi;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int half_size = EK_ROW_GROUP / 2; half_size > 0; half_size /= 2) {
    if (lid < half_size) {
      tree_lo[lid] = fmin(tree_lo[lid], tree_lo[lid + half_size]);
      tree_hi[lid] = fmax(tree_hi[lid], tree_hi[lid + half_size]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  lo = tree_lo[0];
  hi = tree_hi[0];
#endif
  // ek::DynamicRowParams (min and max are exact whatever the order, so every work-item agrees).
  float scale = 1.0f, prescale = 1.0f;
  int zero_point = 0;
  if (hi > lo) {
    const float range = hi - lo;
    scale = range <= MAXFLOAT ? range / 255.0f : hi / 255.0f - lo / 255.0f;
    if (scale < 0x1p-149f) scale = 0x1p-149f;
    const float zp = rint(-lo / scale);
    zero_point = zp < 0.0f ? 0 : (zp > 255.0f ? 255 : (int)zp);
    if (scale < 0x1p-100f) prescale = 0x1p64f;  // a tiny row: 1 / scale would overflow
  }
  const float inv_scale = 1.0f / (scale * prescale);
  __global uchar* out = q + q_offset + row * ldq;
  for (int i = lid; i < kp; i += EK_ROW_GROUP) {
    out[i] = i < k ? (uchar)ek_quantize_value(in[i] * prescale, inv_scale, zero_point, 0, 255) : (uchar)0;
  }
  if (lid == 0) {
    scales[scales_offset + row] = scale;
    zero_points[zero_points_offset + row] = zero_point;
  }
}
