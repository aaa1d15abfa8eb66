// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Vector math of the float kernels (attention's softmax, the transformer family's softmax and
// activations): exp of a non-positive argument, the logistic sigmoid and erfc, built on exp
// alone so that each has one written error bound. Compiled once per target. The bounds are
// those of ek/ref/attention.h and ek/ref/transformer.h, tested on every target.

#if defined(EK_CPU_TILE_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_MATH_INL_H_
#undef EK_CPU_TILE_MATH_INL_H_
#else
#define EK_CPU_TILE_MATH_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// exp(x) for x <= 0 (finite, or -inf; small positive x up to ln2 / 2 too): Cody-Waite reduction
// x = n ln2 + r, |r| <= ln2 / 2, Cephes' degree-6 polynomial for exp(r), then 2^n through the
// exponent bits. Results below 2^-126 (x < -87.34) are 0. Within 3 ulp of exp (tested against
// std::exp on every target).
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF ExpNonPositive(DF df, VF x) {
  const hn::RebindToSigned<DF> di;
  const VF lower = hn::Set(df, -87.33654475f);  // ln(2^-126)
  const VF clamped = hn::Max(x, lower);
  const VF n = hn::Round(hn::Mul(clamped, hn::Set(df, 1.44269504088896341f)));
  VF r = hn::NegMulAdd(n, hn::Set(df, 0.693359375f), clamped);  // ln2 in two parts: exact n x C1
  r = hn::NegMulAdd(n, hn::Set(df, -2.12194440e-4f), r);
  const VF z = hn::Mul(r, r);
  VF p = hn::Set(df, 1.9875691500e-4f);
  p = hn::MulAdd(p, r, hn::Set(df, 1.3981999507e-3f));
  p = hn::MulAdd(p, r, hn::Set(df, 8.3334519073e-3f));
  p = hn::MulAdd(p, r, hn::Set(df, 4.1665795894e-2f));
  p = hn::MulAdd(p, r, hn::Set(df, 1.6666665459e-1f));
  p = hn::MulAdd(p, r, hn::Set(df, 5.0000001201e-1f));
  p = hn::MulAdd(p, z, hn::Add(r, hn::Set(df, 1.0f)));
  const auto exponent = hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127)));
  return hn::IfThenZeroElse(hn::Lt(x, lower), hn::Mul(p, hn::BitCast(df, exponent)));
}

// 1 / (1 + exp(-z)) for any finite z, without cancellation: e = exp(-|z|) <= 1, then 1 / (1 + e)
// for z >= 0 and e / (1 + e) below. Within 15 x 2^-24 relative (exp's 3 ulp, an add, a division
// and a product).
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF Sigmoid(DF df, VF z) {
  const VF e = ExpNonPositive(df, hn::Neg(hn::Abs(z)));
  const VF r = hn::Div(hn::Set(df, 1.0f), hn::Add(hn::Set(df, 1.0f), e));
  return hn::IfThenElse(hn::Lt(z, hn::Zero(df)), hn::Mul(e, r), r);
}

// erfc(z) for z >= 0: the Chebyshev fit of Numerical Recipes (2nd ed., 6.2, erfcc), fractional
// error below 1.2e-7 everywhere: t = 1 / (1 + z / 2), erfc = t exp(-z^2 + P(t)), P of degree 9.
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF ErfcNonNegative(DF df, VF z) {
  const VF t = hn::Div(hn::Set(df, 1.0f), hn::MulAdd(hn::Set(df, 0.5f), z, hn::Set(df, 1.0f)));
  VF p = hn::Set(df, 0.17087277f);
  p = hn::MulAdd(p, t, hn::Set(df, -0.82215223f));
  p = hn::MulAdd(p, t, hn::Set(df, 1.48851587f));
  p = hn::MulAdd(p, t, hn::Set(df, -1.13520398f));
  p = hn::MulAdd(p, t, hn::Set(df, 0.27886807f));
  p = hn::MulAdd(p, t, hn::Set(df, -0.18628806f));
  p = hn::MulAdd(p, t, hn::Set(df, 0.09678418f));
  p = hn::MulAdd(p, t, hn::Set(df, 0.37409196f));
  p = hn::MulAdd(p, t, hn::Set(df, 1.00002368f));
  p = hn::MulAdd(p, t, hn::Set(df, -1.26551223f));
  return hn::Mul(t, ExpNonPositive(df, hn::NegMulAdd(z, z, p)));
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_MATH_INL_H_
