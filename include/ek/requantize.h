// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The requantization rule of ek's integer kernels, written once (docs/quantization.md):
//
//   q = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + zero_point, qmin, qmax)
//   MultiplyByQuantizedMultiplier(x, m, s) =
//       RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(SaturatingShiftLeft(x, max(s, 0)), m),
//                           max(-s, 0))
//
// These are gemmlowp's fixed-point primitives (fixedpoint.h) and its output stage
// OutputStageScaleInt32ByFixedPointAndExponent(PC), as TFLite's int8 kernels use them, with one
// documented difference: the left shift for multipliers >= 1 saturates where gemmlowp's
// multiplies and overflows. Every SIMD lane (ek/cpu/qgemm/qgemm-inl.h) mirrors these functions
// operation by operation, and tests/requantize_test.cc proves both equal, and equal to gemmlowp.
//
// This header is target-independent, free of floating-point arithmetic except in
// QuantizeMultiplier (double, done once per scale, not per output).
#ifndef EK_REQUANTIZE_H_
#define EK_REQUANTIZE_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ek/ref/convert.h"
#include "ek/status.h"

namespace ek {

// A real multiplier M in (0, 2^30) represented as multiplier * 2^(shift - 31), with multiplier in
// [2^30, 2^31) (or 0 for M = 0 and for M < 2^-32, whose products round to 0 anyway).
// shift > 0 means a left shift (M >= 1), shift <= 0 a rounding right shift of -shift (<= 31).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};

// Rounds the product a * b * 2 / 2^32 to nearest, halves up; the one overflow case
// (INT32_MIN * INT32_MIN) saturates to INT32_MAX. Same as Arm's SQRDMULH and gemmlowp.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  // gemmlowp writes (ab + nudge) / 2^31 with a sign-dependent nudge and truncating division;
  // both cases equal floor((ab + 2^30) / 2^31), which is what the SIMD lanes compute.
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  return static_cast<int32_t>((ab + (int64_t{1} << 30)) >> 31);
}

// x / 2^exponent rounded to nearest, halves away from zero; exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^shift, saturated to int32; shift in [0, 31].
inline int32_t SaturatingShiftLeft(int32_t x, int shift) {
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << shift);
  if (shifted > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (shifted < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(shifted);
}

inline int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  const int left_shift = m.shift > 0 ? m.shift : 0;
  const int right_shift = m.shift > 0 ? 0 : -m.shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(SaturatingShiftLeft(x, left_shift), m.multiplier),
                             right_shift);
}

// The whole rule: an int32 accumulator (bias included) to an output in [qmin, qmax].
inline int32_t Requantize(int32_t acc, QuantizedMultiplier m, int32_t zero_point, int32_t qmin, int32_t qmax) {
  // The sum cannot overflow: |MultiplyByQuantizedMultiplier| <= 2^31 - 1 and |zero_point| <= 255
  // would, so it is done in 64 bits.
  const int64_t q = static_cast<int64_t>(MultiplyByQuantizedMultiplier(acc, m)) + zero_point;
  return static_cast<int32_t>(q < qmin ? qmin : (q > qmax ? qmax : q));
}

// The domains the vector kernels specialize the rule for (ek/cpu/qgemm/qgemm-inl.h, RequantizeVec):
// the same results as Requantize on every input of the domain.
enum class RequantizeForm : uint8_t {
  kGeneral,               // any multiplier and shift in [-31, 31]
  kQuantizedMultipliers,  // multipliers in [0, 2^31) (QuantizeMultiplier's), any shift
  kRightShiftsOnly,       // multipliers in [0, 2^31) and shifts <= 0 (real multipliers < 1)
};

// Largest real multiplier QuantizeMultiplier accepts (a left shift of at most 30 bits).
constexpr double kMaxRealMultiplier = 1073741824.0;  // 2^30

// Converts a real multiplier to (multiplier, shift): M = multiplier * 2^(shift - 31), with the
// mantissa rounded to nearest (halves away from zero) in double. `what` names the argument in
// errors. M must be finite and in [0, 2^30); M < 2^-32 gives {0, 0} (every product rounds to 0).
inline Status QuantizeMultiplier(double real, QuantizedMultiplier* out, const char* what = "multiplier") {
  *out = QuantizedMultiplier();
  if (!(real >= 0.0) || !(real < kMaxRealMultiplier)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: real multiplier %g is not in [0, 2^30)", what, real);
  }
  if (real < 2.2250738585072014e-308) return Status::Ok();  // zero or subnormal (< 2^-1022): {0, 0}
  // real = mantissa * 2^exponent with mantissa in [0.5, 1), read from the double's bits (what
  // std::frexp returns; real is normal here): mantissa * 2^31 = m53 / 2^22 for the 53-bit
  // significand m53, rounded half up (the value is positive: half away from zero).
  uint64_t bits;
  std::memcpy(&bits, &real, sizeof(bits));
  int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1022;
  const uint64_t m53 = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  int64_t fixed = static_cast<int64_t>((m53 + (uint64_t{1} << 21)) >> 22);
  if (fixed == (int64_t{1} << 31)) {  // mantissa rounded up to 1.0
    fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) return Status::Ok();  // below 2^-32 after rounding: {0, 0}
  out->multiplier = static_cast<int32_t>(fixed);
  out->shift = exponent;
  return Status::Ok();
}

// The multiplier of an integer GEMM or convolution's output channel: input scale x the channel's
// weight scale / output scale, in double (TFLite's PopulateConvolutionQuantizationParams), then
// QuantizeMultiplier; `what` names the product in errors.
inline Status ChannelMultiplier(float input_scale, float weight_scale, float output_scale, QuantizedMultiplier* out,
                                const char* what) {
  return QuantizeMultiplier(
      static_cast<double>(input_scale) * static_cast<double>(weight_scale) / static_cast<double>(output_scale), out,
      what);
}

// ---- Dynamic per-row quantization of f32 activations (the "qd8" inputs of the LLM kernels) ----
// The row's range is widened to include 0, mapped onto 0..255:
//   lo = min(row_min, 0), hi = max(row_max, 0)
//   scale = (hi - lo) / 255                      (f32; 1 when hi == lo, an all-zero row)
//           (computed as hi / 255 - lo / 255 when hi - lo overflows; at least 2^-149)
//   zero_point = clamp(round_half_even(-lo / scale), 0, 255)            (0 for an all-zero row)
//   q = clamp(round_half_even(x * (1 / scale)) + zero_point, 0, 255)   (ek::Quantize's rule)
// Rows whose scale is below 2^-100 (|values| below about 2e-28) are quantized as
//   q = clamp(round_half_even((x * 2^64) * (1 / (scale * 2^64))) + zero_point, 0, 255)
// which is the same value wherever 1 / scale is a finite f32, and stays finite below (1 / scale
// overflows for scales under 2^-128: such rows once quantized to 255 everywhere).
// Stored as uint8 with that zero point; the int8 form used by other libraries is q - 128 with
// zero point - 128 (same real values). A must be finite.
struct DynamicQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;  // uint8 domain
  float prescale = 1.0f;   // 2^64 for a scale below 2^-100, else 1
  float inverse_scale = 1.0f;  // 1 / (scale * prescale)
};

constexpr float kDynamicPrescaleBelow = 7.88860905e-31f;  // 2^-100
constexpr float kDynamicPrescale = 18446744073709551616.0f;  // 2^64
constexpr float kDynamicMinScale = 1.40129846e-45f;  // 2^-149, the smallest subnormal

inline DynamicQuant DynamicRowParams(float row_min, float row_max) {
  const float lo = row_min < 0.0f ? row_min : 0.0f;
  const float hi = row_max > 0.0f ? row_max : 0.0f;
  DynamicQuant q;
  if (!(hi > lo)) return q;  // all zeros (or NaN): every value quantizes to the zero point 0
  const float range = hi - lo;
  q.scale = range <= 3.40282347e38f ? range / 255.0f : hi / 255.0f - lo / 255.0f;
  if (q.scale < kDynamicMinScale) q.scale = kDynamicMinScale;
  const float zp = ref::RoundHalfEven(-lo / q.scale);
  q.zero_point = zp < 0.0f ? 0 : (zp > 255.0f ? 255 : static_cast<int32_t>(zp));
  if (q.scale < kDynamicPrescaleBelow) q.prescale = kDynamicPrescale;
  q.inverse_scale = ref::InverseScale(q.scale * q.prescale);
  return q;
}

// The rule above for one value.
inline int32_t DynamicQuantizeValue(float x, const DynamicQuant& q) {
  return ref::QuantizeValue(x * q.prescale, q.inverse_scale, q.zero_point, 0, 255);
}

// ---- Fused activations on a quantized output ----------------------------------------------------
// A real range [lo, hi] (ReLU: [0, inf), ReLU6: [0, 6], clamp) becomes the integer range
// [max(qmin, Q(lo)), min(qmax, Q(hi))] with  Q(f) = zero_point + round_half_away_from_zero(f / scale)
// (one f32 division, then std::round): TFLite's CalculateActivationRangeQuantized bit for bit,
// ties included (scale 12, zero point 80, ReLU6: 6 / 12 = 0.5 rounds to 1, range [80, 81]).
// A quotient beyond int32 saturates (TFLite's cast would be undefined).
inline int32_t ActivationBoundToQuantized(float f, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float r = std::round(f / scale);
  if (!(r > static_cast<float>(qmin) - static_cast<float>(zero_point))) return qmin;  // also -inf (NaN: never, validated)
  if (!(r < static_cast<float>(qmax) - static_cast<float>(zero_point))) return qmax;
  return zero_point + static_cast<int32_t>(r);
}

inline void QuantizedActivationRange(float lo, float hi, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                                     int32_t* out_lo, int32_t* out_hi) {
  *out_lo = std::isinf(lo) ? qmin : ActivationBoundToQuantized(lo, scale, zero_point, qmin, qmax);
  *out_hi = std::isinf(hi) ? qmax : ActivationBoundToQuantized(hi, scale, zero_point, qmin, qmax);
}

// ---- Quantized addition (TFLite's int8 / uint8 ADD) ----------------------------------------------
// out = clamp(M_out(M_a((a - za) << 20) + M_b((b - zb) << 20)) + zo, act range), each M a
// MultiplyByQuantizedMultiplier with a real multiplier below 1 (a right shift only):
//   twice_max = 2 * max(sa, sb)    (f32, then double)
//   M_a = sa / twice_max,  M_b = sb / twice_max,  M_out = twice_max / (2^20 * so)   (double)
// TFLite's reference_integer_ops::AddElementwise and its Prepare (add.cc), bit for bit.
struct QuantizedAddParams {
  int32_t a_offset = 0, b_offset = 0;  // -za, -zb
  int32_t left_shift = 20;
  QuantizedMultiplier a, b, out;
  int32_t out_zero_point = 0, qmin = 0, qmax = 0;  // qmin / qmax: the activation's range
};

inline Status MakeQuantizedAddParams(float a_scale, int32_t a_zero, float b_scale, int32_t b_zero, float out_scale,
                                     int32_t out_zero, int32_t act_qmin, int32_t act_qmax, QuantizedAddParams* p) {
  p->a_offset = -a_zero;
  p->b_offset = -b_zero;
  p->left_shift = 20;
  const double twice_max = static_cast<double>(2 * (a_scale > b_scale ? a_scale : b_scale));
  const double real_a = static_cast<double>(a_scale) / twice_max;
  const double real_b = static_cast<double>(b_scale) / twice_max;
  const double real_out = twice_max / static_cast<double>(static_cast<float>(1 << p->left_shift) * out_scale);
  if (!(real_out < 1.0)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "output: scale %g is too small for inputs of scales %g and %g (TFLite's add needs "
                         "2 * max input scale / (2^20 * output scale) < 1)",
                         static_cast<double>(out_scale), static_cast<double>(a_scale), static_cast<double>(b_scale));
  }
  EK_RETURN_IF_ERROR(QuantizeMultiplier(real_a, &p->a, "a.quant.scale"));
  EK_RETURN_IF_ERROR(QuantizeMultiplier(real_b, &p->b, "b.quant.scale"));
  EK_RETURN_IF_ERROR(QuantizeMultiplier(real_out, &p->out, "output.quant.scale"));
  p->out_zero_point = out_zero;
  p->qmin = act_qmin;
  p->qmax = act_qmax;
  return Status::Ok();
}

// The rule for one element (a, b: the stored int8 / uint8 values).
inline int32_t QuantizedAdd(int32_t a, int32_t b, const QuantizedAddParams& p) {
  const int32_t scaled_a = MultiplyByQuantizedMultiplier((a + p.a_offset) * (1 << p.left_shift), p.a);
  const int32_t scaled_b = MultiplyByQuantizedMultiplier((b + p.b_offset) * (1 << p.left_shift), p.b);
  return Requantize(scaled_a + scaled_b, p.out, p.out_zero_point, p.qmin, p.qmax);
}

}  // namespace ek

#endif  // EK_REQUANTIZE_H_
