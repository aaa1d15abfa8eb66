// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for ek::QGemm, computed from the unpacked operands (no packing, no column
// sums, no u8 shift): docs/quantization.md.
//
//   int8 / uint8 C:  acc = sum_k (a - za) * (w - zw) + bias   (int64, then modulo 2^32)
//                    c = ek::Requantize(acc, QuantizeMultiplier(sa * sb[n] / sc), zc, activation range)
//                    ek::QGemm must equal this exactly.
//   f32 C:           A quantized per row (ek::DynamicRowParams, uint8 q with zero point zp)
//                    per tensor / channel: (float(sum_k (q - zp) * w) * sa) * sb[n] + bias
//                    per block: s = sum over blocks of float(sum_k q * w) * block scale, in order;
//                    (s - zp * float(sum over blocks of scale * sum_k w)) * sa + bias
//                    ek::QGemm may differ by the rounding of these few f32 operations
//                    (contraction into FMA): |ek - ref| <= QGemmF32ErrorBound(magnitude).
#ifndef EK_REF_QGEMM_H_
#define EK_REF_QGEMM_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "ek/ref/weights.h"
#include "ek/gemm_options.h"
#include "ek/ref/convert.h"
#include "ek/requantize.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// The bound on |ek - ref| for an f32 C, given the magnitude the reference reports (the sum of
// the absolute values of the terms it adds): a few f32 roundings per block.
inline double QGemmF32ErrorBound(double magnitude, int64_t blocks) {
  // + a few units of the smallest subnormal: results of tiny rows may be subnormal.
  return static_cast<double>(blocks + 4) * std::ldexp(1.0, -23) * magnitude + std::ldexp(1.0, -146);
}

// C = the reference result; `magnitude` (f32 C only, M x N, or null) receives the magnitude for
// QGemmF32ErrorBound. Operands must be valid for ek::QGemm (not re-checked here).
inline void QGemm(const TensorView& a, const TensorView& b, bool transpose_b, const TensorView& c,
                  const QGemmOptions& o, double* magnitude = nullptr) {
  const int64_t m = a.shape[0], k = a.shape[1], n = transpose_b ? b.shape[0] : b.shape[1];
  float act_lo = -HUGE_VALF, act_hi = HUGE_VALF;
  if (o.activation == Activation::kRelu) act_lo = 0.0f;
  if (o.activation == Activation::kRelu6) act_lo = 0.0f, act_hi = 6.0f;
  if (o.activation == Activation::kClamp) act_lo = o.clamp_min, act_hi = o.clamp_max;
  const int32_t zw = b.dtype == DType::kU8 ? b.quant.zero_point : 0;

  if (a.dtype != DType::kF32) {
    const int32_t za = a.quant.zero_point;
    const int32_t qmin = DTypeMin(c.dtype), qmax = DTypeMax(c.dtype);
    int32_t lo = 0, hi = 0;
    QuantizedActivationRange(act_lo, act_hi, c.quant.scale, c.quant.zero_point, qmin, qmax, &lo, &hi);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t sum = o.bias.rank ? o.bias.HostData<const int32_t>()[j] : 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const int64_t e = a.offset + i * a.strides[0] + kk * a.strides[1];
          const int32_t av = a.dtype == DType::kI8 ? static_cast<const int8_t*>(a.memory.host)[e]
                                                   : static_cast<const uint8_t*>(a.memory.host)[e];
          sum += int64_t{av - za} * (WeightAt(b, transpose_b, kk, j) - zw);
        }
        const auto acc = static_cast<int32_t>(static_cast<uint32_t>(sum));
        QuantizedMultiplier qm;
        const double real = static_cast<double>(a.quant.scale) *
                            static_cast<double>(WeightScaleAt(b, transpose_b, 0, j)) /
                            static_cast<double>(c.quant.scale);
        (void)QuantizeMultiplier(real, &qm);
        const int32_t q = Requantize(acc, qm, c.quant.zero_point, lo, hi);
        const int64_t e = c.offset + i * c.strides[0] + j * c.strides[1];
        if (c.dtype == DType::kI8) {
          static_cast<int8_t*>(c.memory.host)[e] = static_cast<int8_t>(q);
        } else {
          static_cast<uint8_t*>(c.memory.host)[e] = static_cast<uint8_t>(q);
        }
      }
    }
    return;
  }

  const bool blocks = b.quant.scheme == QuantScheme::kPerBlock;
  const int64_t block_size = blocks ? b.quant.block_size : k;
  std::vector<int32_t> q(static_cast<size_t>(k));
  for (int64_t i = 0; i < m; ++i) {
    const auto at = [&](int64_t kk) { return static_cast<const float*>(a.memory.host)[a.offset + i * a.strides[0] + kk * a.strides[1]]; };
    float lo = 0.0f, hi = 0.0f;
    for (int64_t kk = 0; kk < k; ++kk) {
      lo = at(kk) < lo ? at(kk) : lo;
      hi = at(kk) > hi ? at(kk) : hi;
    }
    const DynamicQuant dq = DynamicRowParams(lo, hi);
    for (int64_t kk = 0; kk < k; ++kk) q[static_cast<size_t>(kk)] = DynamicQuantizeValue(at(kk), dq);
    for (int64_t j = 0; j < n; ++j) {
      const float bias = o.bias.rank ? o.bias.HostData<const float>()[j] : 0.0f;
      float out = 0.0f;
      double mag = 0.0;
      if (!blocks) {
        int64_t sum = 0, abs_sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const int64_t term = int64_t{q[static_cast<size_t>(kk)] - dq.zero_point} * WeightAt(b, transpose_b, kk, j);
          sum += term;
          abs_sum += term < 0 ? -term : term;
        }
        const float w_scale = WeightScaleAt(b, transpose_b, 0, j);
        out = (static_cast<float>(sum) * dq.scale) * w_scale + bias;
        mag = static_cast<double>(abs_sum) * static_cast<double>(dq.scale) * std::fabs(static_cast<double>(w_scale)) +
              std::fabs(bias);
      } else {
        float sums = 0.0f;
        double weighted = 0.0, abs_terms = 0.0;
        for (int64_t k0 = 0; k0 < k; k0 += block_size) {
          int64_t dot = 0, wsum = 0;
          for (int64_t kk = k0; kk < k && kk < k0 + block_size; ++kk) {
            const int32_t w = WeightAt(b, transpose_b, kk, j);
            dot += int64_t{q[static_cast<size_t>(kk)]} * w;
            wsum += w;
          }
          const float s = WeightScaleAt(b, transpose_b, k0, j);
          sums = static_cast<float>(dot) * s + sums;
          weighted += static_cast<double>(s) * static_cast<double>(wsum);
          abs_terms += std::fabs(static_cast<double>(dot) * s);
        }
        const float correction = static_cast<float>(dq.zero_point) * static_cast<float>(weighted);
        out = (sums - correction) * dq.scale + bias;
        mag = (abs_terms + std::fabs(static_cast<double>(correction))) * dq.scale + std::fabs(bias);
      }
      out = out < act_lo ? act_lo : (out > act_hi ? act_hi : out);
      static_cast<float*>(c.memory.host)[c.offset + i * c.strides[0] + j * c.strides[1]] = out;
      if (magnitude) magnitude[i * n + j] = mag;
    }
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_QGEMM_H_
