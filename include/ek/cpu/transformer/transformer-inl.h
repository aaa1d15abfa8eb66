// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The transformer family, per target: TransformerRow (RMSNorm, LayerNorm, softmax and the gated
// activation of one row) and RopeToken (the rotation of one token's heads), which
// ek/transformer.h dispatches to. Compiled once per target through ek/cpu/kernels-inl.h.
// Numerics: ek/ref/transformer.h; every target within its documented bounds.
//
// All are streams over a row in L1 / L2 (a row is at most a few hundred KB), bound by loads and
// stores, not arithmetic:
//   norms and softmax: a reduction pass (the norms' sums in 4 vector accumulators, so the adds'
//     latency is hidden; softmax's max in one, its exp pass the bottleneck), then the pass that
//     writes out (LayerNorm: two reductions, the mean and then the variance
//     around it, which keeps the variance's error relative to itself);
//   gated activation: one pass, 2 loads, the activation (exp is 14 vector ops), a store;
//   RoPE: per head, pairs rotated with the token's cos / sin table (computed once per token,
//     outside the target code): 2 loads of x, 2 table loads, 4 multiply(-add)s, 2 stores per
//     pair of vectors. Registers: at most 8 of 16..32.

#if defined(EK_CPU_TRANSFORMER_TRANSFORMER_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TRANSFORMER_TRANSFORMER_INL_H_
#undef EK_CPU_TRANSFORMER_TRANSFORMER_INL_H_
#else
#define EK_CPU_TRANSFORMER_TRANSFORMER_INL_H_
#endif

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ek/cpu/tile/math-inl.h"
#include "ek/cpu/transformer/plan.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Sum over the row of f(vector of x) (lanes past the end contribute f(0), which must be 0): 4
// accumulators, one reduction.
template <class DF, class F>
HWY_INLINE float SumOverRow(DF df, const float* HWY_RESTRICT x, size_t count, const F& f) {
  const size_t lanes = hn::Lanes(df);
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  size_t i = 0;
  for (; i + 4 * lanes <= count; i += 4 * lanes) {
    s0 = hn::Add(s0, f(hn::LoadU(df, x + i)));
    s1 = hn::Add(s1, f(hn::LoadU(df, x + i + lanes)));
    s2 = hn::Add(s2, f(hn::LoadU(df, x + i + 2 * lanes)));
    s3 = hn::Add(s3, f(hn::LoadU(df, x + i + 3 * lanes)));
  }
  for (; i < count; i += lanes) s0 = hn::Add(s0, f(hn::LoadN(df, x + i, HWY_MIN(lanes, count - i))));
  return hn::ReduceSum(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)));
}

// out[i] = f(i, vector at i) over the row, the last vector partial.
template <class DF, class F>
HWY_INLINE void MapRow(DF df, float* HWY_RESTRICT out, size_t count, const F& f) {
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= count; i += lanes) hn::StoreU(f(i, lanes), df, out + i);
  if (i < count) hn::StoreN(f(i, count - i), df, out + i, count - i);
}

// The first n elements at p (n <= Lanes), or a vector of `fill` when p is null.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadOr(DF df, const float* HWY_RESTRICT p, size_t i, size_t n, float fill) {
  return p == nullptr ? hn::Set(df, fill) : hn::LoadN(df, p + i, n);
}

// RMSNorm: out = x * (1 / sqrt(sum(x^2) / n + eps)) * (w + offset).
HWY_INLINE void RmsNormRow(const detail::TransformerRowArgs& r) {
  const hn::ScalableTag<float> df;
  const size_t count = static_cast<size_t>(r.n);
  const float sum_squares = SumOverRow(df, r.x, count, [](hn::Vec<decltype(df)> v) HWY_ATTR { return hn::Mul(v, v); });
  const auto inv = hn::Set(df, 1.0f / sqrtf(sum_squares / static_cast<float>(r.n) + r.epsilon));
  const auto offset = hn::Set(df, r.weight_offset);
  MapRow(df, r.out, count, [&](size_t i, size_t n) HWY_ATTR {
    const auto y = hn::Mul(hn::LoadN(df, r.x + i, n), inv);
    return r.weight == nullptr ? y : hn::Mul(y, hn::Add(hn::LoadN(df, r.weight + i, n), offset));
  });
}

// LayerNorm: mean, then the variance around it, then out = (x - mean) * inv * gamma + beta.
HWY_INLINE void LayerNormRow(const detail::TransformerRowArgs& r) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t count = static_cast<size_t>(r.n), lanes = hn::Lanes(df);
  const float mean = SumOverRow(df, r.x, count, [](VF v) HWY_ATTR { return v; }) / static_cast<float>(r.n);
  const VF vmean = hn::Set(df, mean);
  // The partial vector's padding lanes are 0, and (0 - mean)^2 is not: they are masked out.
  const size_t full = count - count % lanes;
  float centered = SumOverRow(df, r.x, full, [&](VF v) HWY_ATTR {
    const VF c = hn::Sub(v, vmean);
    return hn::Mul(c, c);
  });
  for (size_t i = full; i < count; ++i) centered += (r.x[i] - mean) * (r.x[i] - mean);
  const VF inv = hn::Set(df, 1.0f / sqrtf(centered / static_cast<float>(r.n) + r.epsilon));
  MapRow(df, r.out, count, [&](size_t i, size_t n) HWY_ATTR {
    const VF y = hn::Mul(hn::Sub(hn::LoadN(df, r.x + i, n), vmean), inv);
    return hn::MulAdd(y, LoadOr(df, r.weight, i, n, 1.0f), LoadOr(df, r.bias, i, n, 0.0f));
  });
}

// Softmax: the max of x, then exp(scale * (x - max)) written out with their sum, then the row
// scaled by 1 / sum (scale > 0, so max(scale x) = scale max(x); the exp's argument is <= 0 even
// where scale * x would overflow). A row whose entries are all -inf is zeros.
HWY_INLINE void SoftmaxRow(const detail::TransformerRowArgs& r) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t count = static_cast<size_t>(r.n), lanes = hn::Lanes(df);
  const VF scale = hn::Set(df, r.scale), lowest = hn::Set(df, -HUGE_VALF);
  VF vmax = lowest;
  for (size_t i = 0; i < count; i += lanes) {
    const size_t n = HWY_MIN(lanes, count - i);
    vmax = hn::Max(vmax, hn::IfThenElse(hn::FirstN(df, n), hn::LoadN(df, r.x + i, n), lowest));
  }
  const float max = hn::ReduceMax(df, vmax);
  if (max == -HUGE_VALF) {
    memset(r.out, 0, count * sizeof(float));
    return;
  }
  const VF vm = hn::Set(df, max);
  VF sum = hn::Zero(df);
  MapRow(df, r.out, count, [&](size_t i, size_t n) HWY_ATTR {
    const VF e = ExpNonPositive(df, hn::Mul(hn::Sub(hn::LoadN(df, r.x + i, n), vm), scale));
    const VF live = hn::IfThenElseZero(hn::FirstN(df, n), e);
    sum = hn::Add(sum, live);
    return live;
  });
  const VF inv = hn::Set(df, 1.0f / hn::ReduceSum(df, sum));
  MapRow(df, r.out, count, [&](size_t i, size_t n) HWY_ATTR { return hn::Mul(hn::LoadN(df, r.out + i, n), inv); });
}

// act(gate) * up: SiLU g sigmoid(g); GELU-tanh g sigmoid(2 sqrt(2/pi) (g + 0.044715 g^3)) (the
// same function as 0.5 g (1 + tanh(.)), without its cancellation for g < 0); GELU-erf
// 0.5 g erfc(-g / sqrt(2)), erfc evaluated at |g| / sqrt(2) (2 - erfc for g >= 0).
template <GateActivation kActivation>
HWY_INLINE void GateRow(const detail::TransformerRowArgs& r) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  MapRow(df, r.out, static_cast<size_t>(r.n), [&](size_t i, size_t n) HWY_ATTR {
    const VF g = hn::LoadN(df, r.x + i, n);
    VF y;
    if (kActivation == GateActivation::kSilu) {
      y = hn::Mul(g, Sigmoid(df, g));
    } else if (kActivation == GateActivation::kGeluTanh) {
      const VF inner = hn::MulAdd(hn::Mul(g, g), hn::Set(df, 2.0f * 0.7978845608f * 0.044715f),
                                  hn::Set(df, 2.0f * 0.7978845608f));
      y = hn::Mul(g, Sigmoid(df, hn::Mul(g, inner)));
    } else {
      const VF erfc = ErfcNonNegative(df, hn::Mul(hn::Abs(g), hn::Set(df, 0.70710678118654752f)));
      const VF twice = hn::IfThenElse(hn::Lt(g, hn::Zero(df)), erfc, hn::Sub(hn::Set(df, 2.0f), erfc));
      y = hn::Mul(hn::Mul(g, hn::Set(df, 0.5f)), twice);
    }
    return r.up == nullptr ? y : hn::Mul(y, hn::LoadN(df, r.up + i, n));
  });
}

// ---- Exported entry points (ek/transformer.h) -------------------------------------------------------
inline void TransformerRow(const detail::TransformerRowArgs& r) {
  switch (r.op) {
    case detail::TransformerRowOp::kRmsNorm: return RmsNormRow(r);
    case detail::TransformerRowOp::kLayerNorm: return LayerNormRow(r);
    case detail::TransformerRowOp::kSoftmax: return SoftmaxRow(r);
    case detail::TransformerRowOp::kGate:
      if (r.activation == GateActivation::kSilu) return GateRow<GateActivation::kSilu>(r);
      if (r.activation == GateActivation::kGeluTanh) return GateRow<GateActivation::kGeluTanh>(r);
      return GateRow<GateActivation::kGeluErf>(r);
  }
}

// One token: per head, the rotated part through the table, then the rest copied.
//   kNeox: pairs (i, half + i): y0 = x0 c - x1 s, y1 = x1 c + x0 s, a vector of i at a time
//   kGptj: pairs (2i, 2i + 1) inside a vector: y = x c' + swap_pairs(x) s', with the table's
//          c' = (c, c) and s' = (-s, +s) per pair (Reverse2 swaps each pair's lanes; vectors
//          have an even number of lanes and start at even j, so pairs never straddle two; the
//          one-lane HWY_SCALAR target takes the pairs in scalar code)
inline void RopeToken(const detail::RopeTokenArgs& a) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t lanes = hn::Lanes(df), rot = static_cast<size_t>(a.rotary_dims);
  const size_t rest = static_cast<size_t>(a.head_dim) - rot;
  for (int64_t h = 0; h < a.heads; ++h) {
    const float* HWY_RESTRICT x = a.x + h * a.x_head_stride;
    float* HWY_RESTRICT out = a.out + h * a.out_head_stride;
    if (a.style == RopeStyle::kNeox) {
      const size_t half = rot / 2;
      for (size_t i = 0; i < half; i += lanes) {
        const size_t n = HWY_MIN(lanes, half - i);
        const VF x0 = hn::LoadN(df, x + i, n), x1 = hn::LoadN(df, x + half + i, n);
        const VF c = hn::LoadN(df, a.cos_sin + i, n), s = hn::LoadN(df, a.cos_sin + half + i, n);
        hn::StoreN(hn::NegMulAdd(x1, s, hn::Mul(x0, c)), df, out + i, n);
        hn::StoreN(hn::MulAdd(x0, s, hn::Mul(x1, c)), df, out + half + i, n);
      }
    } else if (lanes < 2) {  // HWY_SCALAR: one lane, no pairs inside a vector
      for (size_t j = 0; j < rot; j += 2) {
        out[j] = x[j] * a.cos_sin[j] + x[j + 1] * a.cos_sin[rot + j];
        out[j + 1] = x[j + 1] * a.cos_sin[j + 1] + x[j] * a.cos_sin[rot + j + 1];
      }
    } else {
      for (size_t j = 0; j < rot; j += lanes) {
        const size_t n = HWY_MIN(lanes, rot - j);
        const VF v = hn::LoadN(df, x + j, n);
        const VF c = hn::LoadN(df, a.cos_sin + j, n), s = hn::LoadN(df, a.cos_sin + rot + j, n);
        hn::StoreN(hn::MulAdd(hn::Reverse2(df, v), s, hn::Mul(v, c)), df, out + j, n);
      }
    }
    if (rest != 0) memcpy(out + rot, x + rot, rest * sizeof(float));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TRANSFORMER_TRANSFORMER_INL_H_
