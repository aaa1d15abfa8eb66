// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Global average pooling over NHWC images (host: ek/opencl/conv.h, GlobalAvgPool2D; the CPU's
// ek::GlobalAvgPool2D and its specification ek::ref::GlobalAvgPool2D / QGlobalAvgPool2D):
//   -D EK_POOL_F32   acc = the first pixel, then + each further pixel in row-major order (f32
//                    additions), then one division by H x W: exact with the CPU when the
//                    program is built with -cl-fp32-correctly-rounded-divide-sqrt (the host
//                    asks for it where the device has it), else within the device's division
//                    error (2.5 ulp at most, OpenCL's minimum)
//   -D EK_POOL_S8 / EK_POOL_U8   TFLite's integer average: the int32 sum of the raw values, divided
//                    by the count rounding half away from zero (C division), clamped to the
//                    activation's range; input and output share scale and zero point
// One work-item per (image, channel): dimension 0 the channel (neighbouring work-items read
// neighbouring bytes of each pixel), dimension 1 the image.

#if defined(EK_POOL_F32)
typedef float ek_t;
#elif defined(EK_POOL_S8)
typedef char ek_t;
#define EK_INTEGER 1
#elif defined(EK_POOL_U8)
typedef uchar ek_t;
#define EK_INTEGER 1
#else
#error "define EK_POOL_F32, EK_POOL_S8 or EK_POOL_U8"
#endif

__kernel void ek_global_avg_pool(__global const ek_t* restrict input, const int in_offset, const int in_h,
                                 const int in_w, const int in_stride_n, const int in_stride_h, const int in_stride_w,
                                 const int channels, __global ek_t* restrict output, const int out_offset,
                                 const int out_stride_n, const float lo, const float hi, const int qmin,
                                 const int qmax) {
  const int c = get_global_id(0);
  const int n = get_global_id(1);
  if (c >= channels) return;
  const int base = in_offset + n * in_stride_n + c;
#if defined(EK_INTEGER)
  int acc = 0;
  for (int y = 0; y < in_h; ++y) {
    for (int x = 0; x < in_w; ++x) acc += (int)input[base + y * in_stride_h + x * in_stride_w];
  }
  const int count = in_h * in_w;
  acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  output[out_offset + n * out_stride_n + c] = (ek_t)clamp(acc, qmin, qmax);
#else
  float acc = input[base];
  for (int y = 0; y < in_h; ++y) {
    for (int x = (y == 0 ? 1 : 0); x < in_w; ++x) acc += input[base + y * in_stride_h + x * in_stride_w];
  }
  acc = acc / (float)(in_h * in_w);
  output[out_offset + n * out_stride_n + c] = acc < lo ? lo : (acc > hi ? hi : acc);  // NaN stays NaN
#endif
}
