// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The element-wise family, per target: AddRow, which ek/elementwise.h dispatches to. Compiled
// once per target through ek/cpu/kernels-inl.h. Numerics: ek/ref/elementwise.h; every target
// equals it exactly (one f32 add, then the clamp).
//
// A stream: two loads, an add, (a max and a min), a store per vector; 5 vector registers; it
// runs at load / store bandwidth, unrolled by 2 vectors so the loop overhead stays hidden.

#if defined(EK_CPU_ELEMENTWISE_ELEMENTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_ELEMENTWISE_ELEMENTWISE_INL_H_
#undef EK_CPU_ELEMENTWISE_ELEMENTWISE_INL_H_
#else
#define EK_CPU_ELEMENTWISE_ELEMENTWISE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/elementwise/walk.h"
#include "ek/cpu/tile/requantize-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <bool kClamp>
HWY_INLINE void AddContiguous(const detail::AddRowArgs& r) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t lanes = hn::Lanes(df);
  const size_t count = static_cast<size_t>(r.count);
  const VF lo = hn::Set(df, r.lo), hi = hn::Set(df, r.hi);
  const auto add = [&](size_t i) HWY_ATTR {
    const VF sum = hn::Add(hn::LoadU(df, r.a + i), hn::LoadU(df, r.b + i));
    return kClamp ? hn::Min(hn::Max(sum, lo), hi) : sum;
  };
  size_t i = 0;
  for (; i + 2 * lanes <= count; i += 2 * lanes) {
    const VF s0 = add(i), s1 = add(i + lanes);
    hn::StoreU(s0, df, r.out + i);
    hn::StoreU(s1, df, r.out + i + lanes);
  }
  for (; i < count; i += lanes) {  // at most two more vectors, the last one partial
    const size_t n = HWY_MIN(lanes, count - i);
    VF sum = hn::Add(hn::LoadN(df, r.a + i, n), hn::LoadN(df, r.b + i, n));
    if (kClamp) sum = hn::Min(hn::Max(sum, lo), hi);
    hn::StoreN(sum, df, r.out + i, n);
  }
}

// int8 / uint8 (T): TFLite's add rule (ek/requantize.h, QuantizedAdd) in int32 lanes: each
// input widened, offset, shifted left by 20, scaled by its multiplier (doubling high multiply,
// rounding right shift: RequantizeWith with no clamp and no zero point), the two added, then
// requantized to the output with its zero point and the activation's range, narrowed, stored.
// 12 vector registers of terms + 4 in flight.
template <class T>
HWY_INLINE void QuantizedAddContiguous(const detail::AddRowArgs& r) {
  const hn::ScalableTag<int32_t> d32;
  const hn::Rebind<T, decltype(d32)> dq;
  using V = hn::Vec<decltype(d32)>;
  const size_t lanes = hn::Lanes(d32);
  const QuantizedAddParams& p = r.q;
  const auto terms = [&](QuantizedMultiplier m, V& multiplier, V& multiplier_odd, V& left, V& right, V& mask,
                         V& half_mask) HWY_ATTR {
    multiplier = hn::Set(d32, m.multiplier);
    RequantizeColumnTerms<false>(d32, multiplier, hn::Set(d32, m.shift), multiplier_odd, left, right, mask, half_mask);
  };
  V ma, ma_odd, la, ra, mask_a, half_a, mb, mb_odd, lb, rb, mask_b, half_b, mo, mo_odd, lo_, ro, mask_o, half_o;
  terms(p.a, ma, ma_odd, la, ra, mask_a, half_a);
  terms(p.b, mb, mb_odd, lb, rb, mask_b, half_b);
  terms(p.out, mo, mo_odd, lo_, ro, mask_o, half_o);
  const V a_offset = hn::Set(d32, p.a_offset), b_offset = hn::Set(d32, p.b_offset);
  const V zero = hn::Zero(d32), none_lo = hn::Set(d32, INT32_MIN), none_hi = hn::Set(d32, INT32_MAX);
  const V zp = hn::Set(d32, p.out_zero_point);
  const V qlo = hn::Set(d32, p.qmin - p.out_zero_point), qhi = hn::Set(d32, p.qmax - p.out_zero_point);
  const T* HWY_RESTRICT a = reinterpret_cast<const T*>(r.qa);
  const T* HWY_RESTRICT b = reinterpret_cast<const T*>(r.qb);
  T* HWY_RESTRICT out = reinterpret_cast<T*>(r.qout);
  const size_t count = static_cast<size_t>(r.count);
  for (size_t i = 0; i < count; i += lanes) {
    const size_t n = HWY_MIN(lanes, count - i);
    const V va = hn::PromoteTo(d32, hn::LoadN(dq, a + i, n)), vb = hn::PromoteTo(d32, hn::LoadN(dq, b + i, n));
    const V sa = RequantizeWith<false, false>(d32, hn::ShiftLeft<20>(hn::Add(va, a_offset)), ma, ma_odd, la, ra,
                                              mask_a, half_a, zero, none_lo, none_hi);
    const V sb = RequantizeWith<false, false>(d32, hn::ShiftLeft<20>(hn::Add(vb, b_offset)), mb, mb_odd, lb, rb,
                                              mask_b, half_b, zero, none_lo, none_hi);
    const V q = RequantizeWith<false, false>(d32, hn::Add(sa, sb), mo, mo_odd, lo_, ro, mask_o, half_o, zp, qlo, qhi);
    hn::StoreN(hn::DemoteTo(dq, q), dq, out + i, n);
  }
}

// ---- Exported entry point (ek/elementwise.h) -------------------------------------------------------
inline void AddRow(const detail::AddRowArgs& r) {
  if (r.dtype != DType::kF32) {
    if (r.a_stride == 1 && r.b_stride == 1 && r.out_stride == 1) {
      if (r.dtype == DType::kI8) return QuantizedAddContiguous<int8_t>(r);
      return QuantizedAddContiguous<uint8_t>(r);
    }
    const bool u8 = r.dtype == DType::kU8;  // strided rows: scalar, the rule itself
    for (int64_t i = 0; i < r.count; ++i) {
      const uint8_t a = r.qa[i * r.a_stride], b = r.qb[i * r.b_stride];
      r.qout[i * r.out_stride] = static_cast<uint8_t>(
          QuantizedAdd(u8 ? a : static_cast<int8_t>(a), u8 ? b : static_cast<int8_t>(b), r.q));
    }
    return;
  }
  if (r.a_stride == 1 && r.b_stride == 1 && r.out_stride == 1) {
    if (r.clamp) return AddContiguous<true>(r);
    return AddContiguous<false>(r);
  }
  for (int64_t i = 0; i < r.count; ++i) {  // strided rows: scalar, the reference's operations
    float sum = r.a[i * r.a_stride] + r.b[i * r.b_stride];
    if (r.clamp) {
      sum = sum < r.lo ? r.lo : sum;
      sum = sum > r.hi ? r.hi : sum;
    }
    r.out[i * r.out_stride] = sum;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_ELEMENTWISE_ELEMENTWISE_INL_H_
