// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for scaled dot-product attention: the specification (docs/attention.md).
//
//   Q [q_len, q_heads, d]   K [kv_len, kv_heads, d]   V [kv_len, kv_heads, dv]   O [q_len, q_heads, dv]
//   host views with any strides, f32 (K and V also f16: the cache's element type, converted
//   exactly to f32 as read); q_heads a multiple of kv_heads (GQA; MQA: kv_heads = 1);
//   query head h reads KV head h / (q_heads / kv_heads).
//
// For query i (position p = start_position + i) and head h, over the keys j the mask kind lets
// it see (AttentionOptions):
//   l_j = scale x sum_c q[i, h, c] k[j, g, c]            scale = options.scale, or 1 / sqrt(d)
//   l_j = softcap x tanh(l_j / softcap)                  when softcap > 0
//   l_j = l_j + mask[i, j]                               with an additive mask (-inf: masked)
//   m   = max(max_j l_j, sink[h])                        the sink when there are sinks
//   O[i, h, :] = sum_j exp(l_j - m) v[j, g, :] / (sum_j exp(l_j - m) + exp(sink[h] - m))
// A row with no visible key is all zeros (never NaN), sinks or not.
//
// Two forms:
//   ref::Attention        the value above in double, two passes: what results are compared to.
//   ref::OnlineAttention  the algorithm ek's kernels implement, in f32: keys in blocks, a running
//                         max initialised to the lowest finite float (no inf arithmetic: masked
//                         keys are skipped, so fast-math builds cannot make NaN), a running sum and
//                         accumulator rescaled by exp(m_old - m_new) per block, the sink joined
//                         at the end, one division. Within AttentionErrorBound of ref::Attention.
#ifndef EK_REF_ATTENTION_H_
#define EK_REF_ATTENTION_H_

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ek/attention_options.h"
#include "ek/ref/convert.h"
#include "ek/tensor.h"

namespace ek {
namespace ref {

// Element (i0, i1, i2) of a rank-3 f32 or f16 host view, as f32 (f16 converts exactly).
inline float At3(const TensorView& t, int64_t i0, int64_t i1, int64_t i2) {
  const int64_t e = t.offset + i0 * t.strides[0] + i1 * t.strides[1] + i2 * t.strides[2];
  if (t.dtype == DType::kF16) return F16ToF32(static_cast<const uint16_t*>(t.memory.host)[e]);
  return static_cast<const float*>(t.memory.host)[e];
}

// Whether query i sees key j by the mask kind alone.
inline bool KeyVisible(const AttentionOptions& o, int64_t i, int64_t j) {
  const int64_t position = o.start_position + i;
  switch (o.mask_kind) {
    case AttentionMask::kNone: return true;
    case AttentionMask::kCausal: return j <= position;
    case AttentionMask::kSlidingWindow: return j <= position && position - j < o.window;
  }
  return true;
}

inline double AttentionScale(const AttentionOptions& o, int64_t d) {
  return o.scale > 0.0f ? static_cast<double>(o.scale) : 1.0 / std::sqrt(static_cast<double>(d));
}

// What AttentionErrorBound needs of one output row (query i, head h), from ref::Attention.
struct AttentionRowStats {
  int64_t visible = 0;       // keys with a finite logit (+ 1 with a sink)
  double logit_size = 0.0;   // max over those keys of scale x sum |q k| + |mask| (+ softcap)
  double value_size = 0.0;   // max |v| over those keys (every channel)
};

// The bound on |ek - ref::Attention| for every element of a row, with d the head dim and
// `blocks` the key blocks of the online algorithm (u = 2^-24):
//   value_size x (3 (d + 8) u logit_size + (3 n + 2 blocks + 8 ln(n + 1) + 40) u) + 2^-140
// The logits' f32 dot products (and softcap, mask) err by at most (d + 8) u logit_size; a
// weight exp(l - m) then by that twice plus exp's own few ulp and u |l - m|; the output, a
// ratio of weighted sums, by twice the weights' relative error plus the f32 sums' n u each and
// the blocks' rescalings (docs/attention.md derives it; tests/attention_test.cc checks it).
inline double AttentionErrorBound(const AttentionRowStats& s, int64_t d, int64_t blocks) {
  const double u = std::ldexp(1.0, -24);
  const double n = static_cast<double>(s.visible);
  return s.value_size * (3.0 * static_cast<double>(d + 8) * u * s.logit_size +
                         (3.0 * n + 2.0 * static_cast<double>(blocks) + 8.0 * std::log(n + 1.0) + 40.0) * u) +
         std::ldexp(1.0, -140);
}

// The int8 cache's rule (ek/kv_cache.h, docs/attention.md), the specification of what
// KvCacheAppend stores and of the queries an int8 cache is read with, per row of n values (a
// token's head): scale = (max |x|) / 127 in f32; q[c] = x[c] x (1 / scale) in f32, rounded half
// away from zero, within [-127, 127]; a row whose scale would be below FLT_MIN (zeros, tiny
// values) has scale 0 and q = 0. Attention over an
// int8 cache is this specification over q' = scale_q q8, K' = scale_k k8, V' = scale_v v8.
inline float Int8RowScale(const float* x, int64_t n) {
  float largest = 0.0f;
  for (int64_t c = 0; c < n; ++c) largest = std::fabs(x[c]) > largest ? std::fabs(x[c]) : largest;
  const float scale = largest / 127.0f;
  return scale >= FLT_MIN ? scale : 0.0f;
}
inline int8_t Int8Quantize(float x, float scale) {
  if (scale == 0.0f) return 0;
  const float r = std::round(x * (1.0f / scale));
  return static_cast<int8_t>(std::fmin(127.0f, std::fmax(-127.0f, r)));
}

// The block-quantized caches' rule (ek/kv_cache.h: GGUF's Q8_0 and Q4_0 blocks, ggml's
// quantize_row_q8_0 / q4_0), per block of 32 values x, into the block's 34 or 18 bytes: an f16
// scale d (nearest even), then the integers, computed with the f32 d:
//   Q8_0  d = max |x| / 127, q[c] = Int8Quantize(x[c], d) (within [-127, 127])
//   Q4_0  d = the x of largest magnitude (the first of equals) / -8; q[c] = x[c] x (1 / d)
//         rounded to f32, plus 8.5, rounded down, within [0, 15]; byte j holds q[j] (low
//         nibble) and q[j + 16] (high)
// with |d| below FLT_MIN taken as 0 (then every q is 0, or 8 for Q4_0) and |d| above 65504
// (f16's largest finite value) taken as 65504 with its sign. Value c of a block is
// f16 d x q[c] (Q4_0: d x (q[c] - 8)). The queries an attention call reads such a cache with
// are quantized per block of 32 by Int8RowScale / Int8Quantize (an f32 scale, not rounded).
inline void QuantizeKvBlock(bool q4, const float* x, uint8_t* block) {
  int largest = -1;  // (NaN is never the largest)
  for (int c = 0; c < 32; ++c) {
    if (std::fabs(x[c]) > (largest < 0 ? 0.0f : std::fabs(x[largest]))) largest = c;
  }
  float d = largest < 0 ? 0.0f : q4 ? x[largest] / -8.0f : std::fabs(x[largest]) / 127.0f;
  if (std::fabs(d) < FLT_MIN) d = 0.0f;
  if (std::fabs(d) > 65504.0f) d = std::copysign(65504.0f, d);
  const uint16_t bits = F32ToF16(d);
  block[0] = static_cast<uint8_t>(bits & 0xFF);
  block[1] = static_cast<uint8_t>(bits >> 8);
  for (int c = 0; c < 32; ++c) {
    if (!q4) {
      block[2 + c] = static_cast<uint8_t>(Int8Quantize(x[c], d == 0.0f ? 0.0f : std::fabs(d)));
      continue;
    }
    volatile float scaled = x[c] * (1.0f / d);  // rounded before the add (no FMA contraction)
    float q = d == 0.0f ? 8.0f : std::floor(scaled + 8.5f);
    q = std::isnan(q) || q < 0.0f ? 0.0f : (q > 15.0f ? 15.0f : q);
    const uint8_t nibble = static_cast<uint8_t>(q);
    if (c < 16) {
      block[2 + c] = nibble;
    } else {
      block[2 + c - 16] = static_cast<uint8_t>(block[2 + c - 16] | (nibble << 4));
    }
  }
}
// Value c (0 .. 31) of a block as f32.
inline float KvBlockValue(bool q4, const uint8_t* block, int c) {
  const float d = F16ToF32(static_cast<uint16_t>(block[0] | (block[1] << 8)));
  if (!q4) return d * static_cast<float>(static_cast<int8_t>(block[2 + c]));
  const int nibble = c < 16 ? block[2 + c] & 15 : block[2 + c - 16] >> 4;
  return d * static_cast<float>(nibble - 8);
}

// O = the specification's value, in double, rounded to f32; `stats` (q_len x q_heads rows, or
// null) receives each row's AttentionRowStats. Views assumed valid (shapes as above).
inline void Attention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                      const AttentionOptions& o, std::vector<AttentionRowStats>* stats = nullptr) {
  const int64_t q_len = q.shape[0], q_heads = q.shape[1], d = q.shape[2];
  const int64_t kv_len = k.shape[0], kv_heads = k.shape[1], dv = v.shape[2];
  const int64_t group = q_heads / kv_heads;
  const double scale = AttentionScale(o, d);
  if (stats != nullptr) stats->assign(static_cast<size_t>(q_len * q_heads), AttentionRowStats());
  std::vector<double> logits(static_cast<size_t>(kv_len)), acc(static_cast<size_t>(dv));
  std::vector<bool> visible(static_cast<size_t>(kv_len));
  for (int64_t i = 0; i < q_len; ++i) {
    for (int64_t h = 0; h < q_heads; ++h) {
      const int64_t g = h / group;
      AttentionRowStats row;
      double m = -HUGE_VAL;
      for (int64_t j = 0; j < kv_len; ++j) {
        visible[static_cast<size_t>(j)] = false;
        if (!KeyVisible(o, i, j)) continue;
        double dot = 0.0, size = 0.0;
        for (int64_t c = 0; c < d; ++c) {
          const double t = static_cast<double>(At3(q, i, h, c)) * static_cast<double>(At3(k, j, g, c));
          dot += t;
          size += std::fabs(t);
        }
        double l = scale * dot;
        size *= scale;
        if (o.softcap > 0.0f) {
          l = o.softcap * std::tanh(l / o.softcap);
          size += o.softcap;  // tanh evaluated in f32 errs by a few ulp of 1: a few u x softcap
        }
        if (o.mask.rank != 0) {
          const double add = static_cast<const float*>(o.mask.memory.host)[o.mask.offset + i * o.mask.strides[0] +
                                                                          j * o.mask.strides[1]];
          if (add == -HUGE_VAL) continue;
          l += add;
          size += std::fabs(add);
        }
        visible[static_cast<size_t>(j)] = true;
        logits[static_cast<size_t>(j)] = l;
        m = l > m ? l : m;
        ++row.visible;
        row.logit_size = size > row.logit_size ? size : row.logit_size;
        for (int64_t c = 0; c < dv; ++c) {
          const double a = std::fabs(static_cast<double>(At3(v, j, g, c)));
          row.value_size = a > row.value_size ? a : row.value_size;
        }
      }
      for (double& a : acc) a = 0.0;
      if (row.visible > 0) {
        double sink = -HUGE_VAL;
        if (o.sinks.rank != 0) {
          sink = static_cast<const float*>(o.sinks.memory.host)[o.sinks.offset + h * o.sinks.strides[0]];
          m = sink > m ? sink : m;
        }
        double sum = sink == -HUGE_VAL ? 0.0 : std::exp(sink - m);
        for (int64_t j = 0; j < kv_len; ++j) {
          if (!visible[static_cast<size_t>(j)]) continue;
          const double w = std::exp(logits[static_cast<size_t>(j)] - m);
          sum += w;
          for (int64_t c = 0; c < dv; ++c) acc[static_cast<size_t>(c)] += w * static_cast<double>(At3(v, j, g, c));
        }
        for (double& a : acc) a /= sum;
        if (o.sinks.rank != 0) ++row.visible;
      }
      for (int64_t c = 0; c < dv; ++c) {
        static_cast<float*>(out.memory.host)[out.offset + i * out.strides[0] + h * out.strides[1] + c * out.strides[2]] =
            static_cast<float>(acc[static_cast<size_t>(c)]);
      }
      if (stats != nullptr) (*stats)[static_cast<size_t>(i * q_heads + h)] = row;
    }
  }
}

// The online algorithm in f32, keys in blocks of `block` (>= 1), the spec's order within a
// block (keys increasing; each logit one f32 chain over c increasing).
inline void OnlineAttention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                            const AttentionOptions& o, int64_t block) {
  const int64_t q_len = q.shape[0], q_heads = q.shape[1], d = q.shape[2];
  const int64_t kv_len = k.shape[0], kv_heads = k.shape[1], dv = v.shape[2];
  const int64_t group = q_heads / kv_heads;
  const auto scale = static_cast<float>(AttentionScale(o, d));
  std::vector<float> acc(static_cast<size_t>(dv)), logits(static_cast<size_t>(block));
  std::vector<bool> live(static_cast<size_t>(block));
  for (int64_t i = 0; i < q_len; ++i) {
    for (int64_t h = 0; h < q_heads; ++h) {
      const int64_t g = h / group;
      float m = -FLT_MAX, sum = 0.0f;
      for (float& a : acc) a = 0.0f;
      for (int64_t j0 = 0; j0 < kv_len; j0 += block) {
        const int64_t count = kv_len - j0 < block ? kv_len - j0 : block;
        float block_max = -FLT_MAX;
        bool any = false;
        for (int64_t b = 0; b < count; ++b) {  // the block's logits and its max
          const int64_t j = j0 + b;
          live[static_cast<size_t>(b)] = false;
          if (!KeyVisible(o, i, j)) continue;
          float dot = 0.0f;
          for (int64_t c = 0; c < d; ++c) dot = std::fma(At3(q, i, h, c), At3(k, j, g, c), dot);
          float l = dot * scale;
          if (o.softcap > 0.0f) l = o.softcap * std::tanh(l / o.softcap);
          if (o.mask.rank != 0) {
            const float add =
                static_cast<const float*>(o.mask.memory.host)[o.mask.offset + i * o.mask.strides[0] + j * o.mask.strides[1]];
            if (add == -HUGE_VALF) continue;
            l += add;
          }
          live[static_cast<size_t>(b)] = true;
          logits[static_cast<size_t>(b)] = l;
          block_max = l > block_max ? l : block_max;
          any = true;
        }
        if (!any) continue;  // a fully masked block changes nothing
        const float m_new = block_max > m ? block_max : m;
        const float rescale = std::exp(m - m_new);  // 0 when m is still the initial lowest float
        sum *= rescale;
        for (float& a : acc) a *= rescale;
        m = m_new;
        for (int64_t b = 0; b < count; ++b) {
          if (!live[static_cast<size_t>(b)]) continue;
          const float w = std::exp(logits[static_cast<size_t>(b)] - m);
          sum += w;
          for (int64_t c = 0; c < dv; ++c) acc[static_cast<size_t>(c)] = std::fma(w, At3(v, j0 + b, g, c), acc[static_cast<size_t>(c)]);
        }
      }
      if (sum > 0.0f && o.sinks.rank != 0) {  // the sink joins the denominator
        const float sink = static_cast<const float*>(o.sinks.memory.host)[o.sinks.offset + h * o.sinks.strides[0]];
        if (sink > m) {
          const float rescale = std::exp(m - sink);
          sum *= rescale;
          for (float& a : acc) a *= rescale;
          m = sink;
        }
        sum += std::exp(sink - m);
      }
      for (int64_t c = 0; c < dv; ++c) {
        static_cast<float*>(out.memory.host)[out.offset + i * out.strides[0] + h * out.strides[1] + c * out.strides[2]] =
            sum > 0.0f ? acc[static_cast<size_t>(c)] / sum : 0.0f;
      }
    }
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_ATTENTION_H_
