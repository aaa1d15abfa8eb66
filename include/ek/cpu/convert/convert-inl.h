// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Per-target row kernels for quantize, dequantize and f32 <-> f16 / bf16 conversion. Compiled
// once per Highway target through ek/cpu/kernels-inl.h. Numerics: ek/ref/convert.h is the
// specification; every vector path computes results equal to it bit for bit: the same IEEE
// operations (no FMA), or for quantize an order of operations proven equal (QuantizeVec). Rows
// that are not contiguous, and the tail of every row, call the reference functions themselves.
//
// These kernels stream memory: one vector per step, 4 to 6 vector registers in use (input,
// scale, zero point, bounds), far below any target's 16..32; they run at load/store bandwidth.

#if defined(EK_CPU_CONVERT_CONVERT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_CONVERT_CONVERT_INL_H_
#undef EK_CPU_CONVERT_CONVERT_INL_H_
#else
#define EK_CPU_CONVERT_CONVERT_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/convert/row_args.h"
#include "ek/ref/convert.h"
#include "hwy/highway.h"

// Targets where Highway emulates f16 conversion (no F16C / fcvt): their results for inf and NaN
// need re-encoding by ek's rule. Elsewhere the hardware conversion already follows it.
#undef EK_F16_EMULATED
#if (HWY_ARCH_X86 && HWY_TARGET >= HWY_SSE4) || HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
#define EK_F16_EMULATED 1
#else
#define EK_F16_EMULATED 0
#endif

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Streams a contiguous row: vector_op(i) for every full vector starting at element i, then
// scalar_op(i) (the reference) for the tail. One loop shape for every element-wise kernel. The
// vector op must be an EK_VECTOR_LAMBDA: gcc does not inline plain lambdas here, and a call per
// vector costs half the throughput.
template <class VectorOp, class ScalarOp>
HWY_INLINE void StreamRow(size_t count, size_t lanes, const VectorOp& vector_op, const ScalarOp& scalar_op) {
  size_t i = 0;
  for (; i + lanes <= count; i += lanes) vector_op(i);
  for (; i < count; ++i) scalar_op(i);
}


// q = clamp(round_half_even(x * inv_scale) + zero_point, qmin, qmax), NaN -> zero_point,
// computed as  NearestInt(clamp(x * inv_scale, lo, hi)) + zero_point  with the integer bounds
// lo = qmin - zero_point, hi = qmax - zero_point. Same result: rounding half to even is monotone
// and leaves integers unchanged, so clamping before rounding to integer bounds equals clamping
// after; NaN becomes 0 before the clamp, which lands on the zero point (0 lies in [lo, hi]).
// NearestInt rounds half to even in the default floating-point environment, which the multiply
// assumes as well (docs/numerics.md).
// Ops per vector: mul, NaN test + select, max, min, convert, add (+ Highway's overflow guard in
// NearestInt, never taken here): 5 of them on AVX-512's single FP port 0 instead of 8 with a
// separate Round.
template <class DF, class VF = hn::Vec<DF>, class VI = hn::Vec<hn::RebindToSigned<DF>>>
HWY_INLINE VI QuantizeVec(DF /*df*/, VF x, VF inv_scale, VI zero_point, VF lo, VF hi) {
  const VF scaled = hn::IfThenZeroElse(hn::IsNaN(x), hn::Mul(x, inv_scale));
  return hn::Add(hn::NearestInt(hn::Min(hn::Max(scaled, lo), hi)), zero_point);
}

// Stores in-range int32 lanes as 8-bit values (the low byte is the int8 / uint8 bit pattern).
template <class DF, typename TOut>
HWY_INLINE void StoreBytes(DF /*df*/, hn::Vec<hn::RebindToSigned<DF>> quantized, TOut* HWY_RESTRICT out) {
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<uint8_t, DF> du8;
  hn::StoreU(hn::TruncateTo(du8, hn::BitCast(du, quantized)), du8, reinterpret_cast<uint8_t*>(out));
}

// Quantizes a contiguous row of f32 into TOut (int8_t or uint8_t). Registers: x, 1/scale,
// zero point, lo, hi and two temporaries (7 of 16..32). Per element along the row, 1/scale and
// the bounds are loaded (precomputed per task) instead of broadcast.
template <typename TOut>
HWY_INLINE void QuantizeContiguous(const float* HWY_RESTRICT in, TOut* HWY_RESTRICT out, size_t count,
                                   const detail::RowQuant& q) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const size_t N = hn::Lanes(df);
  const int32_t qmin = hwy::LimitsMin<TOut>(), qmax = hwy::LimitsMax<TOut>();
  if (!q.per_element) {
    const auto inv_scale = hn::Set(df, q.inverse_scale);
    const auto zero_point = hn::Set(di, q.zero_point);
    const auto lo = hn::Set(df, static_cast<float>(qmin - q.zero_point));
    const auto hi = hn::Set(df, static_cast<float>(qmax - q.zero_point));
    if (q.prescale != 1.0f) {  // a tiny row of dynamic quantization (rare): x * 2^64 first
      const auto prescale = hn::Set(df, q.prescale);
      StreamRow(
          count, N,
          [&](size_t i) EK_VECTOR_LAMBDA {
            const auto x = hn::Mul(hn::LoadU(df, in + i), prescale);
            StoreBytes(df, QuantizeVec(df, x, inv_scale, zero_point, lo, hi), out + i);
          },
          [&](size_t i) {
            out[i] = static_cast<TOut>(ref::QuantizeValue(in[i] * q.prescale, q.inverse_scale, q.zero_point, qmin, qmax));
          });
      return;
    }
    StreamRow(
        count, N,
        [&](size_t i) EK_VECTOR_LAMBDA {
          StoreBytes(df, QuantizeVec(df, hn::LoadU(df, in + i), inv_scale, zero_point, lo, hi), out + i);
        },
        [&](size_t i) { out[i] = static_cast<TOut>(ref::QuantizeValue(in[i], q.inverse_scale, q.zero_point, qmin, qmax)); });
    return;
  }
  // Locals, so the loop does not reload them after every store (out may alias q for all the
  // compiler knows). The per-element bounds were computed once per task (ek/convert.h).
  const float* HWY_RESTRICT inverse_scales = q.inverse_scales;
  const float* HWY_RESTRICT lower_bounds = q.lower_bounds;
  const float* HWY_RESTRICT upper_bounds = q.upper_bounds;
  const int32_t* HWY_RESTRICT zero_points = q.zero_points;
  StreamRow(
      count, N,
      [&](size_t j) EK_VECTOR_LAMBDA {
        const auto zero_point = zero_points ? hn::LoadU(di, zero_points + j) : hn::Zero(di);
        const auto quantized = QuantizeVec(df, hn::LoadU(df, in + j), hn::LoadU(df, inverse_scales + j), zero_point,
                                           hn::LoadU(df, lower_bounds + j), hn::LoadU(df, upper_bounds + j));
        StoreBytes(df, quantized, out + j);
      },
      [&](size_t j) {
        out[j] = static_cast<TOut>(
            ref::QuantizeValue(in[j], inverse_scales[j], zero_points ? zero_points[j] : 0, qmin, qmax));
      });
}

// x = float(q - zero_point) * scale. Per vector: widen, subtract, convert, multiply (4 ops).
template <typename TIn>
HWY_INLINE void DequantizeContiguous(const TIn* HWY_RESTRICT in, float* HWY_RESTRICT out, size_t count,
                                     const detail::RowQuant& q) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<TIn, decltype(df)> d_in;
  const size_t N = hn::Lanes(df);
  if (!q.per_element) {
    const auto scale = hn::Set(df, q.scale);
    const auto zero_point = hn::Set(di, q.zero_point);
    StreamRow(
        count, N,
        [&](size_t i) EK_VECTOR_LAMBDA {
          const auto centered = hn::Sub(hn::PromoteTo(di, hn::LoadU(d_in, in + i)), zero_point);
          hn::StoreU(hn::Mul(hn::ConvertTo(df, centered), scale), df, out + i);
        },
        [&](size_t i) { out[i] = ref::DequantizeValue(in[i], q.scale, q.zero_point); });
    return;
  }
  const float* HWY_RESTRICT scales = q.scales;
  const int32_t* HWY_RESTRICT zero_points = q.zero_points;
  StreamRow(
      count, N,
      [&](size_t i) EK_VECTOR_LAMBDA {
        const auto zero_point = zero_points ? hn::LoadU(di, zero_points + i) : hn::Zero(di);
        const auto centered = hn::Sub(hn::PromoteTo(di, hn::LoadU(d_in, in + i)), zero_point);
        hn::StoreU(hn::Mul(hn::ConvertTo(df, centered), hn::LoadU(df, scales + i)), df, out + i);
      },
      [&](size_t i) { out[i] = ref::DequantizeValue(in[i], scales[i], zero_points ? zero_points[i] : 0); });
}

// f32 -> bf16, round to nearest even, NaN made quiet: integer arithmetic on the bits, because
// Highway leaves DemoteTo(bf16) rounding unspecified and native instructions differ in
// subnormal handling. Per vector: 7 integer ops + NaN test/select + narrow.
HWY_INLINE void F32ToBF16Contiguous(const float* HWY_RESTRICT in, uint16_t* HWY_RESTRICT out, size_t count) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const auto round_base = hn::Set(du, 0x7FFFu);
  const auto one = hn::Set(du, 1u);
  const auto quiet_bit = hn::Set(du, 0x00400000u);
  StreamRow(
      count, hn::Lanes(df),
      [&](size_t i) EK_VECTOR_LAMBDA {
        const auto x = hn::LoadU(df, in + i);
        const auto bits = hn::BitCast(du, x);
        const auto lsb = hn::And(hn::ShiftRight<16>(bits), one);
        const auto rounded = hn::Add(bits, hn::Add(round_base, lsb));
        const auto result = hn::IfThenElse(hn::RebindMask(du, hn::IsNaN(x)), hn::Or(bits, quiet_bit), rounded);
        hn::StoreU(hn::TruncateTo(du16, hn::ShiftRight<16>(result)), du16, out + i);
      },
      [&](size_t i) { out[i] = ref::F32ToBF16(in[i]); });
}

// bf16 -> f32: the exact bit extension (widen, shift left 16).
HWY_INLINE void BF16ToF32Contiguous(const uint16_t* HWY_RESTRICT in, float* HWY_RESTRICT out, size_t count) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  StreamRow(
      count, hn::Lanes(df),
      [&](size_t i) EK_VECTOR_LAMBDA {
        const auto wide = hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(du16, in + i)));
        hn::StoreU(hn::BitCast(df, wide), df, out + i);
      },
      [&](size_t i) { out[i] = ref::BF16ToF32(in[i]); });
}

// f32 -> f16 with Highway's DemoteTo: F16C vcvtps2ph / Arm fcvtn where the target has them (one
// or two ops per vector). Highway's emulation on the other targets (SSE2..SSE4, EMU128) drops NaN
// payloads, so there NaN lanes are re-encoded by the rule.
HWY_INLINE void F32ToF16Contiguous(const float* HWY_RESTRICT in, uint16_t* HWY_RESTRICT out, size_t count) {
  const hn::ScalableTag<float> df;
  if (!EK_F16_EMULATED) {
    const hn::Rebind<hwy::float16_t, decltype(df)> df16;
    hwy::float16_t* out16 = reinterpret_cast<hwy::float16_t*>(out);
    StreamRow(
        count, hn::Lanes(df),
        [&](size_t i) EK_VECTOR_LAMBDA { hn::StoreU(hn::DemoteTo(df16, hn::LoadU(df, in + i)), df16, out16 + i); },
        [&](size_t i) { out[i] = ref::F32ToF16(in[i]); });
    return;
  }
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<hwy::float16_t, decltype(df)> df16;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const auto nan_base = hn::Set(du, 0x7E00u);
  const auto payload_mask = hn::Set(du, 0x3FFu);
  const auto sign_mask = hn::Set(du, 0x8000u);
  StreamRow(
      count, hn::Lanes(df),
      [&](size_t i) EK_VECTOR_LAMBDA {
        const auto x = hn::LoadU(df, in + i);
        const auto converted = hn::PromoteTo(du, hn::BitCast(du16, hn::DemoteTo(df16, x)));
        const auto bits = hn::BitCast(du, x);
        const auto nan_bits = hn::Or(hn::Or(hn::And(hn::ShiftRight<16>(bits), sign_mask), nan_base),
                                     hn::And(hn::ShiftRight<13>(bits), payload_mask));
        const auto result = hn::IfThenElse(hn::RebindMask(du, hn::IsNaN(x)), nan_bits, converted);
        hn::StoreU(hn::TruncateTo(du16, result), du16, out + i);
      },
      [&](size_t i) { out[i] = ref::F32ToF16(in[i]); });
}

// f16 -> f32 with Highway's PromoteTo: F16C vcvtph2ps / Arm fcvtl where the target has them
// (they quiet signalling NaNs, as the rule does). Highway 1.2's emulation on SSE2..SSE4 turns
// f16 inf into 65536.0f and keeps NaNs signalling, so there inf / NaN lanes (exponent 31) are
// encoded by the rule.
HWY_INLINE void F16ToF32Contiguous(const uint16_t* HWY_RESTRICT in, float* HWY_RESTRICT out, size_t count) {
  const hn::ScalableTag<float> df;
  if (!EK_F16_EMULATED) {
    const hn::Rebind<hwy::float16_t, decltype(df)> df16;
    const hwy::float16_t* in16 = reinterpret_cast<const hwy::float16_t*>(in);
    StreamRow(
        count, hn::Lanes(df),
        [&](size_t i) EK_VECTOR_LAMBDA { hn::StoreU(hn::PromoteTo(df, hn::LoadU(df16, in16 + i)), df, out + i); },
        [&](size_t i) { out[i] = ref::F16ToF32(in[i]); });
    return;
  }
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<hwy::float16_t, decltype(df)> df16;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const hwy::float16_t* in16 = reinterpret_cast<const hwy::float16_t*>(in);
  const auto exponent_mask = hn::Set(du, 0x7C00u);
  const auto mantissa_mask = hn::Set(du, 0x3FFu);
  const auto sign_mask = hn::Set(du, 0x8000u);
  const auto f32_inf = hn::Set(du, 0x7F800000u);
  const auto quiet_bit = hn::Set(du, 0x00400000u);
  const auto zero = hn::Zero(du);
  StreamRow(
      count, hn::Lanes(df),
      [&](size_t i) EK_VECTOR_LAMBDA {
        const auto converted = hn::BitCast(du, hn::PromoteTo(df, hn::LoadU(df16, in16 + i)));
        const auto h = hn::PromoteTo(du, hn::LoadU(du16, in + i));
        const auto mantissa = hn::And(h, mantissa_mask);
        const auto is_special = hn::Eq(hn::And(h, exponent_mask), exponent_mask);
        const auto quiet = hn::IfThenElseZero(hn::Ne(mantissa, zero), quiet_bit);
        const auto special = hn::Or(hn::Or(hn::ShiftLeft<16>(hn::And(h, sign_mask)), f32_inf),
                                    hn::Or(hn::ShiftLeft<13>(mantissa), quiet));
        hn::StoreU(hn::BitCast(df, hn::IfThenElse(is_special, special, converted)), df, out + i);
      },
      [&](size_t i) { out[i] = ref::F16ToF32(in[i]); });
}

// Per-element quantize parameters for `count` channels: 1 / scale (IEEE division, as
// ref::InverseScale) and the clamp bounds qmin - zp, qmax - zp as floats. Computed once per task
// and reused for every row of it.
inline void PrepareQuantParams(const float* HWY_RESTRICT scales, const int32_t* HWY_RESTRICT zero_points, size_t count,
                               int32_t qmin, int32_t qmax, float* HWY_RESTRICT inverse_scales,
                               float* HWY_RESTRICT lower_bounds, float* HWY_RESTRICT upper_bounds) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const auto one = hn::Set(df, 1.0f);
  const auto vqmin = hn::Set(di, qmin), vqmax = hn::Set(di, qmax);
  StreamRow(
      count, hn::Lanes(df),
      [&](size_t j) EK_VECTOR_LAMBDA {
        const auto zero_point = zero_points ? hn::LoadU(di, zero_points + j) : hn::Zero(di);
        hn::StoreU(hn::Div(one, hn::LoadU(df, scales + j)), df, inverse_scales + j);
        hn::StoreU(hn::ConvertTo(df, hn::Sub(vqmin, zero_point)), df, lower_bounds + j);
        hn::StoreU(hn::ConvertTo(df, hn::Sub(vqmax, zero_point)), df, upper_bounds + j);
      },
      [&](size_t j) {
        const int32_t zp = zero_points ? zero_points[j] : 0;
        inverse_scales[j] = ref::InverseScale(scales[j]);
        lower_bounds[j] = static_cast<float>(qmin - zp);
        upper_bounds[j] = static_cast<float>(qmax - zp);
      });
}

// ---- Exported row-block kernels (one entry per operation; see ek/convert.h) ----------------
// Each runs `rows` rows in one call, so the per-row cost is a pointer bump, not a dispatch.

template <class OneRow>
HWY_INLINE void ForEachRowOfBlock(const detail::RowArgs& block, const OneRow& one_row) {
  detail::RowArgs row = block;
  const int64_t in_row_bytes = block.in_row_stride * (DTypeBits(block.in_type) / 8);
  const int64_t out_row_bytes = block.out_row_stride * (DTypeBits(block.out_type) / 8);
  for (int64_t r = 0; r < block.rows; ++r) {
    row.in = static_cast<const uint8_t*>(block.in) + r * in_row_bytes;
    row.out = static_cast<uint8_t*>(block.out) + r * out_row_bytes;
    one_row(row);
  }
}

HWY_INLINE void QuantizeOneRow(const detail::RowArgs& row) {
  const float* in = static_cast<const float*>(row.in);
  const size_t n = static_cast<size_t>(row.count);
  if (row.in_stride == 1 && row.out_stride == 1) {
    if (row.out_type == DType::kI8) return QuantizeContiguous(in, static_cast<int8_t*>(row.out), n, row.quant);
    return QuantizeContiguous(in, static_cast<uint8_t*>(row.out), n, row.quant);
  }
  const int32_t qmin = DTypeMin(row.out_type), qmax = DTypeMax(row.out_type);
  const detail::RowQuant& rq = row.quant;
  for (int64_t j = 0; j < row.count; ++j) {
    const float inv_scale = rq.per_element ? rq.inverse_scales[j] : rq.inverse_scale;
    const int32_t zp = rq.per_element ? (rq.zero_points ? rq.zero_points[j] : 0) : rq.zero_point;
    const int32_t q = ref::QuantizeValue(in[j * row.in_stride], inv_scale, zp, qmin, qmax);
    if (row.out_type == DType::kI8) {
      static_cast<int8_t*>(row.out)[j * row.out_stride] = static_cast<int8_t>(q);
    } else {
      static_cast<uint8_t*>(row.out)[j * row.out_stride] = static_cast<uint8_t>(q);
    }
  }
}

HWY_INLINE void DequantizeOneRow(const detail::RowArgs& row) {
  float* out = static_cast<float*>(row.out);
  const size_t n = static_cast<size_t>(row.count);
  if (row.in_stride == 1 && row.out_stride == 1) {
    if (row.in_type == DType::kI8) return DequantizeContiguous(static_cast<const int8_t*>(row.in), out, n, row.quant);
    return DequantizeContiguous(static_cast<const uint8_t*>(row.in), out, n, row.quant);
  }
  const detail::RowQuant& rq = row.quant;
  for (int64_t j = 0; j < row.count; ++j) {
    const float scale = rq.per_element ? rq.scales[j] : rq.scale;
    const int32_t zp = rq.per_element ? (rq.zero_points ? rq.zero_points[j] : 0) : rq.zero_point;
    const int32_t q = row.in_type == DType::kI8 ? static_cast<const int8_t*>(row.in)[j * row.in_stride]
                                                : static_cast<const uint8_t*>(row.in)[j * row.in_stride];
    out[j * row.out_stride] = ref::DequantizeValue(q, scale, zp);
  }
}

// f32 <-> f16 / bf16 (exactly one side is f32).
HWY_INLINE void ConvertOneRow(const detail::RowArgs& row) {
  const size_t n = static_cast<size_t>(row.count);
  const bool contiguous = row.in_stride == 1 && row.out_stride == 1;
  if (row.in_type == DType::kF32) {
    const float* in = static_cast<const float*>(row.in);
    uint16_t* out = static_cast<uint16_t*>(row.out);
    const bool to_bf16 = row.out_type == DType::kBF16;
    if (contiguous) return to_bf16 ? F32ToBF16Contiguous(in, out, n) : F32ToF16Contiguous(in, out, n);
    for (int64_t j = 0; j < row.count; ++j) {
      const float x = in[j * row.in_stride];
      out[j * row.out_stride] = to_bf16 ? ref::F32ToBF16(x) : ref::F32ToF16(x);
    }
    return;
  }
  const uint16_t* in = static_cast<const uint16_t*>(row.in);
  float* out = static_cast<float*>(row.out);
  const bool from_bf16 = row.in_type == DType::kBF16;
  if (contiguous) return from_bf16 ? BF16ToF32Contiguous(in, out, n) : F16ToF32Contiguous(in, out, n);
  for (int64_t j = 0; j < row.count; ++j) {
    const uint16_t h = in[j * row.in_stride];
    out[j * row.out_stride] = from_bf16 ? ref::BF16ToF32(h) : ref::F16ToF32(h);
  }
}

inline void QuantizeRow(const detail::RowArgs& block) { ForEachRowOfBlock(block, QuantizeOneRow); }
inline void DequantizeRow(const detail::RowArgs& block) { ForEachRowOfBlock(block, DequantizeOneRow); }
inline void ConvertRow(const detail::RowArgs& block) { ForEachRowOfBlock(block, ConvertOneRow); }

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_CONVERT_CONVERT_INL_H_
