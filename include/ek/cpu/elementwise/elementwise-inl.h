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

// ---- Exported entry point (ek/elementwise.h) -------------------------------------------------------
inline void AddRow(const detail::AddRowArgs& r) {
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
