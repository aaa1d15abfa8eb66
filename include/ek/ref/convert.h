// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for conversion and (de)quantization: this file is the specification. Every
// SIMD target must produce the same bits (tests/convert_test.cc). The rules are written down in
// docs/numerics.md; summary:
//
//   f32 -> f16 / bf16: round to nearest, ties to even; overflow gives +-inf; NaN stays NaN (quiet,
//                      sign kept); f16 subnormals are produced (no flush to zero).
//   f16 -> f32:        exact; a NaN comes out quiet (payload and sign kept), like F16C and fcvt.
//   bf16 -> f32:       exact bit extension (bf16 is the top half of an f32), NaNs included.
//   quantize:   q = clamp(round_half_even(x * inv_scale) + zero_point, qmin, qmax)
//               with inv_scale = 1.0f / scale (one IEEE f32 division, once per scale) and one f32
//               multiply per value (PyTorch's and XNNPACK's convention; ONNX writes x / scale,
//               which can differ in the last bit before rounding); NaN quantizes to zero_point;
//               +-inf and out-of-range values saturate.
//   dequantize: x = float(q - zero_point) * scale   (one f32 multiply, no FMA)
#ifndef EK_REF_CONVERT_H_
#define EK_REF_CONVERT_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ek {
namespace ref {

inline uint32_t BitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float FloatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t F32ToBF16(float f) {
  const uint32_t u = BitsOf(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  const uint32_t rounding_bias = 0x7FFFu + ((u >> 16) & 1u);  // ties to even
  return static_cast<uint16_t>((u + rounding_bias) >> 16);
}

inline float BF16ToF32(uint16_t h) { return FloatOf(static_cast<uint32_t>(h) << 16); }

inline uint16_t F32ToF16(float f) {
  const uint32_t u = BitsOf(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // NaN, quiet
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {
    // Result is an f16 subnormal (or zero): value = abs_float * 2^24 rounded to an integer.
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero
    const uint32_t exponent = abs >> 23;                       // 102..112
    const uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;    // 24 significant bits
    const uint32_t shift = 126u - exponent;                    // 14..24
    const uint32_t halfway = 1u << (shift - 1);
    uint32_t q = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1u);
    if (rest > halfway || (rest == halfway && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias exponent (127 -> 15), round the 13 dropped mantissa bits to nearest even.
  const uint32_t rebased = abs - 0x38000000u;  // exponent - 112
  const uint32_t rounded = rebased + 0x0FFFu + ((rebased >> 13) & 1u);
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

inline float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) {
    // zero or subnormal: mantissa * 2^-24, exact in f32
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) {  // inf, or NaN made quiet (as hardware conversions do), payload kept
    return FloatOf(sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0u));
  }
  return FloatOf(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Round half to even, as the default IEEE rounding mode does (std::nearbyint under FE_TONEAREST),
// written out so that it does not depend on the floating-point environment.
inline float RoundHalfEven(float x) {
  if (!(std::fabs(x) < 8388608.0f)) return x;  // |x| >= 2^23 (already integral), inf, NaN
  const float truncated = static_cast<float>(static_cast<int32_t>(x));
  const float diff = x - truncated;  // exact
  if (diff > 0.5f || (diff == 0.5f && (static_cast<int32_t>(truncated) & 1))) return truncated + 1.0f;
  if (diff < -0.5f || (diff == -0.5f && (static_cast<int32_t>(truncated) & 1))) return truncated - 1.0f;
  return truncated;
}

// The reciprocal every quantizer multiplies by: computed once per scale, in f32.
inline float InverseScale(float scale) { return 1.0f / scale; }

// The quantization rule, given the reciprocal of the scale (InverseScale).
inline int32_t QuantizeValue(float x, float inv_scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  if (std::isnan(x)) return zero_point < qmin ? qmin : (zero_point > qmax ? qmax : zero_point);
  const float scaled = x * inv_scale;
  float r = RoundHalfEven(scaled) + static_cast<float>(zero_point);
  if (r < static_cast<float>(qmin)) r = static_cast<float>(qmin);
  if (r > static_cast<float>(qmax)) r = static_cast<float>(qmax);
  return static_cast<int32_t>(r);
}

inline float DequantizeValue(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_CONVERT_H_
