// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The requantization rule of ek/requantize.h (TFLite's MultiplyByQuantizedMultiplier, then the
// output zero point and the activation's clamp), operation for operation, so the integer
// kernels' outputs are the CPU's bit for bit. Included by gemm.cl, conv.cl and elementwise.cl (#include,
// expanded when cmake/EmbedOpenCL.cmake embeds the sources).
#ifndef EK_REQUANTIZE_CL_
#define EK_REQUANTIZE_CL_

int ek_saturating_rounding_doubling_high_mul(int a, int b) {
  if (a == INT_MIN && b == INT_MIN) return INT_MAX;
  const long ab = (long)a * (long)b;
  return (int)((ab + (1L << 30)) >> 31);
}
int ek_rounding_divide_by_pot(int x, int exponent) {
  const int mask = (int)((1L << exponent) - 1);
  const int remainder = x & mask;
  const int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}
int ek_saturating_shift_left(int x, int shift) {
  const long shifted = (long)x * (1L << shift);
  return (int)clamp(shifted, (long)INT_MIN, (long)INT_MAX);
}
// MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, rounded as TFLite does.
int ek_multiply_by_quantized_multiplier(int x, int multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return ek_rounding_divide_by_pot(ek_saturating_rounding_doubling_high_mul(ek_saturating_shift_left(x, left), multiplier),
                                   right);
}
// The int32 sum acc to the output's integers: scaled, + zero point, clamped to [qmin, qmax].
int ek_requantize(int acc, int multiplier, int shift, int zero_point, int qmin, int qmax) {
  const long q = (long)ek_multiply_by_quantized_multiplier(acc, multiplier, shift) + zero_point;
  return (int)clamp(q, (long)qmin, (long)qmax);
}

#endif  // EK_REQUANTIZE_CL_
