// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for ek::Add, the specification. f32: out = a + b (one f32 IEEE addition),
// then the activation's clamp to [lo, hi] when there is one (ek::ActivationBounds). int8 /
// uint8 (per-tensor scales and zero points): TFLite's quantized ADD (ek/requantize.h,
// MakeQuantizedAddParams and QuantizedAdd), the activation as the quantized range of the
// output. ek's kernels equal it exactly on every target (the f32 clamp may return either zero
// for -0).
#ifndef EK_REF_ELEMENTWISE_H_
#define EK_REF_ELEMENTWISE_H_

#include <cstdint>

#include "ek/elementwise_options.h"
#include "ek/epilogue_options.h"
#include "ek/requantize.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// x clamped to the activation's range [lo, hi] (unchanged without an activation), in f32.
inline float ApplyActivation(float x, Activation activation, float clamp_min, float clamp_max) {
  if (activation == Activation::kNone) return x;
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(activation, clamp_min, clamp_max, &lo, &hi);
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

inline float AddElement(float a, float b, const ElementwiseOptions& o) {
  return ApplyActivation(a + b, o.activation, o.clamp_min, o.clamp_max);
}

// a, b, out: f32 host views of the same shape (assumed valid).
inline void Add(const TensorView& a, const TensorView& b, const TensorView& out, const ElementwiseOptions& o) {
  int64_t index[kMaxRank] = {};
  int64_t total = 1;
  for (int i = 0; i < a.rank; ++i) total *= a.shape[i];
  for (int64_t e = 0; e < total; ++e) {
    int64_t rest = e, ia = a.offset, ib = b.offset, io = out.offset;
    for (int d = a.rank - 1; d >= 0; --d) {
      index[d] = rest % a.shape[d];
      rest /= a.shape[d];
      ia += index[d] * a.strides[d];
      ib += index[d] * b.strides[d];
      io += index[d] * out.strides[d];
    }
    static_cast<float*>(out.memory.host)[io] = AddElement(static_cast<const float*>(a.memory.host)[ia],
                                                          static_cast<const float*>(b.memory.host)[ib], o);
  }
}

// a, b, out: int8 or uint8 host views of the same shape, quantized per tensor (assumed valid,
// and the scales accepted by MakeQuantizedAddParams).
inline void QAdd(const TensorView& a, const TensorView& b, const TensorView& out, const ElementwiseOptions& o) {
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &lo, &hi);
  int32_t qmin = 0, qmax = 0;
  QuantizedActivationRange(lo, hi, out.quant.scale, out.quant.zero_point, DTypeMin(out.dtype), DTypeMax(out.dtype),
                           &qmin, &qmax);
  QuantizedAddParams p;
  (void)MakeQuantizedAddParams(a.quant.scale, a.quant.zero_point, b.quant.scale, b.quant.zero_point, out.quant.scale,
                               out.quant.zero_point, qmin, qmax, &p);
  const bool u8 = a.dtype == DType::kU8;
  const auto value = [u8](const TensorView& v, int64_t e) {
    const uint8_t byte = static_cast<const uint8_t*>(v.memory.host)[e];
    return u8 ? static_cast<int32_t>(byte) : static_cast<int32_t>(static_cast<int8_t>(byte));
  };
  int64_t total = 1;
  for (int i = 0; i < a.rank; ++i) total *= a.shape[i];
  for (int64_t e = 0; e < total; ++e) {
    int64_t rest = e, ia = a.offset, ib = b.offset, io = out.offset;
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t index = rest % a.shape[d];
      rest /= a.shape[d];
      ia += index * a.strides[d];
      ib += index * b.strides[d];
      io += index * out.strides[d];
    }
    static_cast<uint8_t*>(out.memory.host)[io] = static_cast<uint8_t>(QuantizedAdd(value(a, ia), value(b, ib), p));
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_ELEMENTWISE_H_
