// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for ek::Gemm, accumulating in double, and the error bound every target's
// result must meet (docs/gemm.md). Operands are read exactly (f16 / bf16 -> f32 is exact), so
// the only differences from ek::Gemm are its f32 rounding and, for an f16 C, the final rounding.
//
//   value      = act(c_old (if accumulating) + sum_k a[i,k] * b[k,j] + bias[j])   in double
//   magnitude  = |c_old| + sum_k |a[i,k] * b[k,j]| + |bias[j]|
//   |ek - value| <= GemmErrorBound(k, magnitude, value, c_type)
//
// The fp16 lane (Arm) has its own, looser bound: GemmF16ArithmeticErrorBound.
//
// The bound: an f32 chain of k FMAs (or, without FMA, k multiplies and k adds) plus the bias add
// errs by at most (2k + 4) * 2^-24 * magnitude (the gamma_n bound of Higham, Accuracy and
// Stability of Numerical Algorithms, 3.1, with n = 2k + 2 and room for the 1 / (1 - n u)
// factor); an f16 C adds its rounding, 2^-11 relative plus 2^-25 absolute (subnormals); the
// activation is 1-Lipschitz and adds nothing.
#ifndef EK_REF_GEMM_H_
#define EK_REF_GEMM_H_

#include <cmath>
#include <cstdint>

#include "ek/gemm_options.h"
#include "ek/ref/convert.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// Element (i, j) of a 2-D f32 / f16 / bf16 host view.
inline double MatrixValue(const TensorView& v, int64_t i, int64_t j) {
  const int64_t e = v.offset + i * v.strides[0] + j * v.strides[1];
  switch (v.dtype) {
    case DType::kF16:
      return F16ToF32(static_cast<const uint16_t*>(v.memory.host)[e]);
    case DType::kBF16:
      return BF16ToF32(static_cast<const uint16_t*>(v.memory.host)[e]);
    default:
      return static_cast<const float*>(v.memory.host)[e];
  }
}

inline void ActivationRange(const EpilogueOptions& o, double* lo, double* hi) {
  *lo = -HUGE_VAL;
  *hi = HUGE_VAL;
  if (o.activation == Activation::kRelu || o.activation == Activation::kRelu6) *lo = 0.0;
  if (o.activation == Activation::kRelu6) *hi = 6.0;
  if (o.activation == Activation::kClamp) {
    *lo = o.clamp_min;
    *hi = o.clamp_max;
  }
}

// value and magnitude (see above) of C[i, j]; c is read only when accumulating.
inline void GemmElement(const TensorView& a, const TensorView& b, const TensorView& c, const GemmOptions& o, int64_t i,
                        int64_t j, double* value, double* magnitude) {
  const int64_t k_total = a.shape[1];
  double sum = 0.0, mag = 0.0;
  if (o.accumulate) {
    sum = MatrixValue(c, i, j);
    mag = std::fabs(sum);
  }
  for (int64_t k = 0; k < k_total; ++k) {
    const double product = MatrixValue(a, i, k) * (o.transpose_b ? MatrixValue(b, j, k) : MatrixValue(b, k, j));
    sum += product;
    mag += std::fabs(product);
  }
  if (o.bias.rank != 0) {
    const double bias = static_cast<const float*>(o.bias.memory.host)[o.bias.offset + j * o.bias.strides[0]];
    sum += bias;
    mag += std::fabs(bias);
  }
  double lo, hi;
  ActivationRange(o, &lo, &hi);
  *value = std::fmin(std::fmax(sum, lo), hi);
  *magnitude = mag;
}

inline double GemmErrorBound(int64_t k, double magnitude, double value, DType c_type) {
  const double u32 = std::ldexp(1.0, -24);
  double bound = static_cast<double>(2 * k + 4) * u32 * magnitude;
  if (c_type == DType::kF16) bound += std::ldexp(1.0, -11) * (std::fabs(value) + bound) + std::ldexp(1.0, -25);
  return bound;
}

// Bound for the fp16 lane (options.allow_f16_arithmetic, f16 C): each block of kF16Block products
// is summed in f16 (unit roundoff 2^-11: (kF16Block + 1) * 2^-11 of the block's magnitude, with
// room for the 1 / (1 - n u) factor), the block sums are added in f32, and the result is
// rounded to f16. Assumes no block sum overflows f16 (|sum| < 65504).
inline double GemmF16ArithmeticErrorBound(int64_t k, double magnitude, double value) {
  const double u16 = std::ldexp(1.0, -11);
  const double blocks = static_cast<double>((k + kGemmF16BlockK - 1) / kGemmF16BlockK);
  const double f16_sums = 1.1 * static_cast<double>(kGemmF16BlockK + 1) * u16 * magnitude;
  const double f32_sums = (blocks + 4) * std::ldexp(1.0, -24) * magnitude;
  return f16_sums + f32_sums + u16 * (std::fabs(value) + f16_sums + f32_sums) + std::ldexp(1.0, -25);
}

// The reference GEMM: writes C = value rounded to C's type (same operands and options as
// ek::Gemm, views assumed valid; B unpacked).
inline void Gemm(const TensorView& a, const TensorView& b, const TensorView& c, const GemmOptions& o) {
  for (int64_t i = 0; i < c.shape[0]; ++i) {
    for (int64_t j = 0; j < c.shape[1]; ++j) {
      double value, magnitude;
      GemmElement(a, b, c, o, i, j, &value, &magnitude);
      const int64_t e = c.offset + i * c.strides[0] + j * c.strides[1];
      if (c.dtype == DType::kF16) {
        static_cast<uint16_t*>(c.memory.host)[e] = F32ToF16(static_cast<float>(value));
      } else {
        static_cast<float*>(c.memory.host)[e] = static_cast<float>(value);
      }
    }
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_GEMM_H_
