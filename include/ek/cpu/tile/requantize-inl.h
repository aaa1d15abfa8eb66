// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The vector form of ek/requantize.h, operation by operation (RequantizeColumnTerms,
// RequantizeWith, RequantizeVec), and RequantizeArray for the tests. Compiled once per target.

#if defined(EK_CPU_TILE_REQUANTIZE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_REQUANTIZE_INL_H_
#undef EK_CPU_TILE_REQUANTIZE_INL_H_
#else
#define EK_CPU_TILE_REQUANTIZE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/tile/q8_lanes-inl.h"
#include "ek/requantize.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Requantization, the vector form of ek/requantize.h ----------------------------------------
// Same operations in the same order: saturating left shift (clamp, then shift), doubling high
// multiply with rounding (64-bit products of even and odd lanes, + 2^30, >> 31; the one overflow
// case INT32_MIN * INT32_MIN selected to INT32_MAX), rounding divide by a power of two (x >> e,
// + 1 where the remainder exceeds half of 2^e, or half minus one for negative x), clamp (done as
// clamp(x, qmin - zp, qmax - zp) + zp, which equals the rule's 64-bit clamp(x + zp)).
// The form drops the steps that cannot change the result in its domain (RequantizeForm):
//   kLeftShifts false: every shift <= 0, so the saturating left shift is the identity;
//   kMinMultiplier false: no multiplier is INT32_MIN (QuantizeMultiplier's are in [0, 2^31)),
//   so the overflow case cannot occur.
// The rule is split in two: RequantizeColumnTerms computes what depends only on the column's
// multiplier and shift (once per column vector of a tile), RequantizeWith the rest (per output).
template <bool kLeftShifts, class DI, class VI = hn::Vec<DI>>
HWY_INLINE void RequantizeColumnTerms(DI di, VI multiplier, VI shift, VI& multiplier_odd, VI& left, VI& right,
                                      VI& mask, VI& half_mask) {
  const hn::Repartition<uint64_t, DI> du64;
  const VI zero = hn::Zero(di), one = hn::Set(di, 1);
  // The odd lanes' multipliers moved to the even lanes (what MulOdd does to both operands).
  multiplier_odd = hn::BitCast(di, hn::ShiftRight<32>(hn::BitCast(du64, multiplier)));
  if constexpr (kLeftShifts) {
    left = hn::Max(shift, zero);
    right = hn::Max(hn::Neg(shift), zero);
  } else {
    left = zero;
    right = hn::Neg(shift);
  }
  mask = hn::Sub(hn::Shl(one, right), one);
  half_mask = hn::ShiftRight<1>(mask);
}

template <bool kLeftShifts, bool kMinMultiplier, class DI, class VI = hn::Vec<DI>>
HWY_INLINE VI RequantizeWith(DI di, VI acc, VI multiplier, VI multiplier_odd, VI left, VI right, VI mask,
                             VI half_mask, VI zero_point, VI lo, VI hi) {
  const hn::RepartitionToWide<DI> di64;
  const hn::Repartition<uint64_t, DI> du64;
  const VI one = hn::Set(di, 1);
  const VI int_min = hn::Set(di, INT32_MIN), int_max = hn::Set(di, INT32_MAX);
  VI x = acc;
  if constexpr (kLeftShifts) {
    x = hn::Shl(hn::Min(hn::Max(acc, hn::Shr(int_min, left)), hn::Shr(int_max, left)), left);
  }
  (void)left;

  const auto nudge = hn::Set(di64, int64_t{1} << 30);
  const VI x_odd = hn::BitCast(di, hn::ShiftRight<32>(hn::BitCast(du64, x)));
  const auto even = hn::ShiftRight<31>(hn::Add(hn::MulEven(x, multiplier), nudge));
  const auto odd = hn::ShiftRight<31>(hn::Add(hn::MulEven(x_odd, multiplier_odd), nudge));
  VI high = hn::OddEven(hn::BitCast(di, hn::ShiftLeft<32>(odd)), hn::BitCast(di, even));
  if constexpr (kMinMultiplier) {
    high = hn::IfThenElse(hn::And(hn::Eq(x, int_min), hn::Eq(multiplier, int_min)), int_max, high);
  }
  (void)int_min;
  (void)int_max;

  const VI remainder = hn::And(high, mask);
  const VI threshold = hn::Sub(half_mask, hn::ShiftRight<31>(high));  // + 1 for negative high
  const VI shifted = hn::Shr(high, right);
  const VI divided = hn::MaskedAddOr(shifted, hn::Gt(remainder, threshold), shifted, one);
  return hn::Add(hn::Min(hn::Max(divided, lo), hi), zero_point);
}

template <bool kLeftShifts, bool kMinMultiplier, class DI, class VI = hn::Vec<DI>>
HWY_INLINE VI RequantizeVec(DI di, VI acc, VI multiplier, VI shift, VI zero_point, VI lo, VI hi) {
  VI multiplier_odd, left, right, mask, half_mask;
  RequantizeColumnTerms<kLeftShifts>(di, multiplier, shift, multiplier_odd, left, right, mask, half_mask);
  return RequantizeWith<kLeftShifts, kMinMultiplier>(di, acc, multiplier, multiplier_odd, left, right, mask,
                                                     half_mask, zero_point, lo, hi);
}

// Requantizes `count` int32 values in the given form (tests compare every form with
// ek::Requantize lane by lane, over that form's domain).
inline void RequantizeArray(const int32_t* HWY_RESTRICT acc, const int32_t* HWY_RESTRICT multiplier,
                            const int32_t* HWY_RESTRICT shift, int32_t zero_point, int32_t qmin, int32_t qmax,
                            size_t count, RequantizeForm form, int32_t* HWY_RESTRICT out) {
  const QTag di;
  const size_t lanes = hn::Lanes(di);
  const auto zp = hn::Set(di, zero_point);
  const auto lo = hn::Set(di, qmin - zero_point), hi = hn::Set(di, qmax - zero_point);
  for (size_t i = 0; i < count; i += lanes) {
    const size_t n = HWY_MIN(lanes, count - i);
    const auto a = hn::LoadN(di, acc + i, n), m = hn::LoadN(di, multiplier + i, n), s = hn::LoadN(di, shift + i, n);
    const auto q = form == RequantizeForm::kGeneral            ? RequantizeVec<true, true>(di, a, m, s, zp, lo, hi)
                   : form == RequantizeForm::kQuantizedMultipliers ? RequantizeVec<true, false>(di, a, m, s, zp, lo, hi)
                                                                   : RequantizeVec<false, false>(di, a, m, s, zp, lo, hi);
    hn::StoreN(q, di, out + i, n);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_REQUANTIZE_INL_H_
