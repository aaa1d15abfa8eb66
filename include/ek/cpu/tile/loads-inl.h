// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Loads and stores of each storage type, for the float tiles and streams: f32 / f16 / bf16 read
// as f32 vectors, and C (f32 or f16) read and written in part. Compiled once per target.

#if defined(EK_CPU_TILE_LOADS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_LOADS_INL_H_
#undef EK_CPU_TILE_LOADS_INL_H_
#else
#define EK_CPU_TILE_LOADS_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/tensor.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const float* HWY_RESTRICT p) {
  return hn::LoadU(df, p);
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const hwy::float16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const hwy::bfloat16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::bfloat16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}

template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const int8_t* HWY_RESTRICT p) {
  const hn::Rebind<int8_t, DF> d8;
  const hn::Rebind<int32_t, DF> di;
  return hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, p)));
}

// The weight type as a number, for the loop marks (ek/cpu/tile/loop_mark.h): 0 f32, 1 f16,
// 2 bf16, 3 int8.
template <typename TW>
constexpr int WeightTypeCode() {
  return hwy::IsSame<TW, hwy::float16_t>() ? 1 : hwy::IsSame<TW, hwy::bfloat16_t>() ? 2 : hwy::IsSame<TW, int8_t>() ? 3 : 0;
}

// The first n (0..Lanes) elements at p as f32; lanes past n are zero (and not read).
template <class DF>
HWY_INLINE hn::Vec<DF> LoadNAsF32(DF df, const float* HWY_RESTRICT p, size_t n) {
  return hn::LoadN(df, p, n);
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadNAsF32(DF df, const hwy::float16_t* HWY_RESTRICT p, size_t n) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadN(dh, p, n));
}

template <class DF>
HWY_INLINE hn::Vec<DF> LoadNAsF32(DF df, const int8_t* HWY_RESTRICT p, size_t n) {
  const hn::Rebind<int8_t, DF> d8;
  const hn::Rebind<int32_t, DF> di;
  return hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadN(d8, p, n)));
}

// The first `count` (1..Lanes) lanes of C at p, as f32; lanes past count are zero.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadOutput(DF df, const void* p, DType type, size_t count) {
  if (type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadN(dh, static_cast<const hwy::float16_t*>(p), count));
  }
  return hn::LoadN(df, static_cast<const float*>(p), count);
}

template <class DF>
HWY_INLINE void StoreOutput(DF df, hn::Vec<DF> v, void* p, DType type, size_t count) {
  if (type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    hn::StoreN(hn::DemoteTo(dh, v), dh, static_cast<hwy::float16_t*>(p), count);
    return;
  }
  if (count == hn::Lanes(df)) {
    hn::StoreU(v, df, static_cast<float*>(p));
  } else {
    hn::StoreN(v, df, static_cast<float*>(p), count);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_LOADS_INL_H_
