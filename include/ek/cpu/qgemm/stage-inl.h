// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Staging A for the integer GEMM: int8 / uint8 rows as u8 with their sums (StageRowsU8), f32 rows
// quantized per row on the fly (QuantizeRowsDynamic, ek::DynamicRowParams). Compiled once per
// target.

#if defined(EK_CPU_QGEMM_STAGE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_QGEMM_STAGE_INL_H_
#undef EK_CPU_QGEMM_STAGE_INL_H_
#else
#define EK_CPU_QGEMM_STAGE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/convert/convert-inl.h"
#include "ek/cpu/convert/row_args.h"
#include "ek/requantize.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Stages rows of int8 / uint8 A as u8 (each byte XOR `flip`: 0x80 turns i8 into i8 + 128),
// K padded with zeros to kp, and the sum of each staged row. Rows [0, rows), contiguous bytes.
inline void StageRowsU8(const uint8_t* HWY_RESTRICT a, int64_t lda, int64_t k, int64_t kp, int64_t rows, uint8_t flip,
                        uint8_t* HWY_RESTRICT out, int64_t ldo, uint32_t* HWY_RESTRICT row_sums) {
  const hn::ScalableTag<uint8_t> du8;
  const hn::Repartition<uint64_t, decltype(du8)> du64;
  const size_t lanes = hn::Lanes(du8);
  const auto flip_bits = hn::Set(du8, flip);
  for (int64_t row = 0; row < rows; ++row) {
    const uint8_t* HWY_RESTRICT in = a + row * lda;
    uint8_t* HWY_RESTRICT dst = out + row * ldo;
    auto sums = hn::Zero(du64);
    for (size_t i = 0; i < static_cast<size_t>(kp); i += lanes) {
      const size_t valid = i < static_cast<size_t>(k) ? HWY_MIN(lanes, static_cast<size_t>(k) - i) : 0;
      // Lanes past K stay zero (LoadN zeroes them, and are not flipped).
      const auto staged = hn::IfThenElseZero(hn::FirstN(du8, valid), hn::Xor(hn::LoadN(du8, in + i, valid), flip_bits));
      sums = hn::Add(sums, hn::SumsOf8(staged));
      hn::StoreN(staged, du8, dst + i, HWY_MIN(lanes, static_cast<size_t>(kp) - i));
    }
    row_sums[row] = static_cast<uint32_t>(hn::ReduceSum(du64, sums));
  }
}

// Quantizes rows of f32 A to u8 (dynamic, per row; ek::DynamicRowParams), K padded with zeros
// to kp. Rows [row_begin, row_end). Each row in vectors, its tail one partial vector (short rows
// are the rule in convolutions: K = 27 for MobileNet's first layer, where a scalar tail took
// most of the time). Lanes a partial load leaves at 0 are inside the range (it always includes
// 0) and are not stored.
inline void QuantizeRowsDynamic(const float* HWY_RESTRICT a, int64_t lda, int64_t k, int64_t kp, int64_t row_begin,
                                int64_t row_end, uint8_t* HWY_RESTRICT out, int64_t ldo, float* HWY_RESTRICT scales,
                                int32_t* HWY_RESTRICT zero_points) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint8_t, decltype(df)> du8;
  const size_t lanes = hn::Lanes(df), count = static_cast<size_t>(k);
  const auto load = [&](const float* HWY_RESTRICT p, size_t i) EK_VECTOR_LAMBDA {
    return i + lanes <= count ? hn::LoadU(df, p + i) : hn::LoadN(df, p + i, count - i);
  };
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* HWY_RESTRICT in = a + row * lda;
    auto lo = hn::Zero(df), hi = hn::Zero(df);  // the range always includes 0
    for (size_t i = 0; i < count; i += lanes) {
      const auto x = load(in, i);
      lo = hn::Min(lo, x);
      hi = hn::Max(hi, x);
    }
    const DynamicQuant q = DynamicRowParams(hn::ReduceMin(df, lo), hn::ReduceMax(df, hi));
    // QuantizeVec (ek/cpu/convert): ref::QuantizeValue(x * prescale, ...) per lane, into [0, 255].
    const auto prescale = hn::Set(df, q.prescale), inverse_scale = hn::Set(df, q.inverse_scale);
    const auto zero_point = hn::Set(di, q.zero_point);
    const auto q_lo = hn::Set(df, static_cast<float>(-q.zero_point));
    const auto q_hi = hn::Set(df, static_cast<float>(255 - q.zero_point));
    uint8_t* HWY_RESTRICT dst = out + row * ldo;
    for (size_t i = 0; i < count; i += lanes) {
      const auto quantized =
          QuantizeVec(df, hn::Mul(load(in, i), prescale), inverse_scale, zero_point, q_lo, q_hi);
      hn::StoreN(hn::TruncateTo(du8, hn::BitCast(du, quantized)), du8, dst + i, HWY_MIN(lanes, count - i));
    }
    for (int64_t j = k; j < kp; ++j) dst[j] = 0;
    scales[row] = q.scale;
    zero_points[row] = q.zero_point;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_QGEMM_STAGE_INL_H_
