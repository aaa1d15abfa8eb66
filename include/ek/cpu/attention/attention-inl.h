// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The attention family, per target: RunAttentionTask (one query x split of the keys: the online
// softmax of docs/attention.md for every head, into partials),
// MergeAttentionRow (a row's splits merged in order, the sink, the division) and ExpRow (the
// vector exp, exported for its own test). Compiled once per target through
// ek/cpu/kernels-inl.h. Numerics: ek/ref/attention.h; within ref::AttentionErrorBound.
//
// A task's loops (the cache in its memory order):
//   token-major cache: blocks of kAttentionBlockKeys keys (the mask kind narrows the range
//   first), then the KV heads; head-major: the KV heads, then the blocks. Per (block, KV head g):
//     logits: per key its K row (d elements, read from memory once), per query head of the
//             group a dot product: d / lanes FMAs into 4 accumulators, one reduction
//     per head: softcap and additive mask on the block's logits, the block max, the running
//             state rescaled by exp(m_old - m_new), the weights exp(l - m_new) (vector exp) and
//             their sum, all as vectors of the block's 16 keys (dead keys: logit -FLT_MAX,
//             weight 0); a scalar chain of 16 adds per head had cost GQA decode 10-16%
//     values: per chunk of 4 vectors of dv and per head, the 4 accumulators kept in registers
//             across the block's keys: one V row chunk load and 4 FMAs per key (V rows read
//             from memory once, then from L1 for the group's other heads)
// f16 caches are promoted to f32 as they are loaded (one conversion per vector); int8 and GGUF
// block caches: integer dots on the dot lane (quantized_kv-inl.h), V's integers promoted to f32
// as they are loaded with the row's (block's) scale in the weight.
// Registers: the value loop holds 4 accumulators, 4 V vectors and the weight broadcast (9 of
// 16..32); the dot product 4 accumulators and 2 operands.

#if defined(EK_CPU_ATTENTION_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_ATTENTION_ATTENTION_INL_H_
#undef EK_CPU_ATTENTION_ATTENTION_INL_H_
#else
#define EK_CPU_ATTENTION_ATTENTION_INL_H_
#endif

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/attention/plan.h"
#include "ek/cpu/attention/quantized_kv-inl.h"
#include "ek/cpu/tile/loads-inl.h"
#include "ek/cpu/tile/loop_mark.h"
#include "ek/cpu/tile/math-inl.h"
#include "ek/cpu/tile/prefetch-inl.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = exp(in[i]) for in[i] <= 0 (ExpNonPositive; the test's entry point).
inline void ExpRow(const float* HWY_RESTRICT in, float* HWY_RESTRICT out, size_t count) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  for (size_t i = 0; i < count; i += lanes) {
    const size_t n = HWY_MIN(lanes, count - i);
    hn::StoreN(ExpNonPositive(df, hn::LoadN(df, in + i, n)), df, out + i, n);
  }
}

// softcap x tanh(l / softcap), tanh(y) = sign(y) (1 - t) / (1 + t), t = exp(-2 |y|): the
// logits' cap, on both paths.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Softcap(D d, V logit, float softcap) {
  const V y = hn::Mul(logit, hn::Set(d, 1.0f / softcap));
  const V t = ExpNonPositive(d, hn::Mul(hn::Set(d, -2.0f), hn::Abs(y)));
  const V one = hn::Set(d, 1.0f);
  return hn::Mul(hn::Set(d, softcap), hn::CopySign(hn::Div(hn::Sub(one, t), hn::Add(one, t)), y));
}

// Query head h's sink folded into a finished row's max m and *sum (the split path's merge and
// the tiled path's end): returns the factor the row's accumulators take (exp(m - sink) when the
// sink is the larger, else 1).
HWY_INLINE float FoldSink(const detail::AttentionTaskArgs& a, int64_t h, float m, float* sum) {
  if (a.sinks == nullptr) return 1.0f;
  const float sink = a.sinks[h * a.sinks_stride];
  float factor = 1.0f;
  if (sink > m) {
    factor = expf(m - sink);
    *sum *= factor;
    m = sink;
  }
  *sum += expf(sink - m);
  return factor;
}

// sum_c q[c] k[c] over d elements (k: a cache row of KvT): 4 vector accumulators, one reduction.
template <typename KvT>
HWY_INLINE float Dot(const float* HWY_RESTRICT q, const KvT* HWY_RESTRICT k, int64_t d) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df), count = static_cast<size_t>(d);
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  size_t c = 0;
  EK_LOOP_MARK("attn_kdot", 1, 4, WeightTypeCode<KvT>());
  for (; c + 4 * lanes <= count; c += 4 * lanes) {
    s0 = hn::MulAdd(hn::LoadU(df, q + c), LoadAsF32(df, k + c), s0);
    s1 = hn::MulAdd(hn::LoadU(df, q + c + lanes), LoadAsF32(df, k + c + lanes), s1);
    s2 = hn::MulAdd(hn::LoadU(df, q + c + 2 * lanes), LoadAsF32(df, k + c + 2 * lanes), s2);
    s3 = hn::MulAdd(hn::LoadU(df, q + c + 3 * lanes), LoadAsF32(df, k + c + 3 * lanes), s3);
  }
  for (; c < count; c += lanes) {
    const size_t n = HWY_MIN(lanes, count - c);
    s0 = hn::MulAdd(hn::LoadN(df, q + c, n), LoadNAsF32(df, k + c, n), s0);
  }
  return hn::ReduceSum(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)));
}

// Element offsets of the rows (head 0) of keys j0 .. j0 + count - 1 in K and in V: strided
// views, a ring's slots (one division per block, then the slot advanced key by key), or a
// paged cache's pages (a shift and a table load per key). Once per block, for every KV head.
// int8 caches: also the offsets of their scales (head 0) in k_scales / v_scales.
HWY_INLINE void TokenOffsets(const detail::AttentionTaskArgs& a, int64_t j0, int64_t count, int64_t* HWY_RESTRICT k_off,
                             int64_t* HWY_RESTRICT v_off, int64_t* HWY_RESTRICT s_off) {
  if (a.page_table != nullptr) {
    const int64_t slot_mask = (int64_t{1} << a.page_shift) - 1;
    for (int64_t b = 0; b < count; ++b) {
      const int64_t j = j0 + b, page = a.page_table[j >> a.page_shift], slot = j & slot_mask;
      k_off[b] = page * a.page_elements + slot * a.k_stride[0];
      v_off[b] = page * a.page_elements + slot * a.v_stride[0];
      s_off[b] = page * a.scale_page_floats + slot * a.kv_heads;
    }
  } else if (a.ring_capacity > 0) {
    int64_t slot = j0 % a.ring_capacity;
    for (int64_t b = 0; b < count; ++b) {
      k_off[b] = slot * a.k_stride[0];
      v_off[b] = slot * a.v_stride[0];
      s_off[b] = slot * a.kv_heads;
      if (++slot == a.ring_capacity) slot = 0;
    }
  } else {
    for (int64_t b = 0; b < count; ++b) {
      k_off[b] = (j0 + b) * a.k_stride[0];
      v_off[b] = (j0 + b) * a.v_stride[0];
      s_off[b] = (j0 + b) * a.kv_heads;
    }
  }
}

// This target's dot-product lane (kQDotLaneName: "avx512vnni", "sve-sdot", "dotprod", "widen"),
// for ek::AttentionDotLane, which also asks whether it is enabled.
inline void AttentionTargetLane(const char** dot) { *dot = kQDotLaneName; }

// Prefetches the `bytes` of a row, a cache line at a time.
HWY_INLINE void PrefetchRow(const void* row, size_t bytes) {
  const char* p = static_cast<const char*>(row);
  for (size_t b = 0; b < bytes; b += 64) PrefetchLine(p + b);
}

// One task: query i, the keys of split s, every KV head; writes (m, sum, acc[dv]) of every
// query head to its partial, walking the cache in its memory order (token- or head-major: the
// loops at the end). Each head's blocks are taken in key order either way, so both orders give
// bitwise the same results. KvT: the cache's element type (float or hwy::float16_t, promoted
// to f32 as it is loaded; int8_t: quantized per row; uint8_t with kBits 8 / 4: rows of GGUF
// Q8_0 / Q4_0 blocks, vectors of at most 16 floats so that none crosses a block).
template <typename KvT, bool kDot = false, int kBits = 0>
HWY_NOINLINE void RunAttentionTaskT(const detail::AttentionTaskArgs& a, size_t task) {
  constexpr bool kInt8 = hwy::IsSame<KvT, int8_t>();
  constexpr bool kBlocked = kBits != 0;
  constexpr int64_t kBlock = detail::kAttentionBlockKeys;
  constexpr int64_t kMaxScales = detail::kAttentionMaxDim / 32;
  const hwy::If<kBlocked, hn::CappedTag<float, 16>, hn::ScalableTag<float>> df;
  const hn::CappedTag<float, kBlock> db;  // the block's logits
  const size_t lanes = hn::Lanes(df), block_lanes = hn::Lanes(db);
  const int64_t s = static_cast<int64_t>(task) % a.splits;
  const int64_t i = static_cast<int64_t>(task) / a.splits;
  const int64_t group = a.group, position = a.start_position + i;
  int64_t begin = a.split_base + s * detail::kAttentionSplitKeys;
  int64_t end = HWY_MIN(a.kv_len, begin + detail::kAttentionSplitKeys);
  if (a.mask_kind != AttentionMask::kNone) end = HWY_MIN(end, position + 1);
  if (a.mask_kind == AttentionMask::kSlidingWindow) begin = HWY_MAX(begin, position - a.window + 1);
  begin = HWY_MAX(begin, a.first_key);
  const auto partial_of = [&](int64_t head) { return a.partials + ((i * a.q_heads + head) * a.splits + s) * a.partial_stride; };
  for (int64_t head = 0; head < a.q_heads; ++head) {
    float* p = partial_of(head);
    p[0] = -FLT_MAX;  // running max (finite: no inf arithmetic)
    p[1] = 0.0f;      // running sum
    for (int64_t c = 0; c < a.dv; ++c) p[2 + c] = 0.0f;
  }
  const KvT* const k_base = static_cast<const KvT*>(a.k);
  const KvT* const v_base = static_cast<const KvT*>(a.v);
  const float* const q_base = a.q + i * a.q_stride[0];
  const float* const mask_row = a.mask != nullptr ? a.mask + i * a.mask_stride[0] : nullptr;
  HWY_ALIGN float logits[detail::kAttentionMaxGroup][kBlock];
  bool live[kBlock];
  HWY_ALIGN float bias[kBlock];  // per key: the additive mask's value (0 without one); -FLT_MAX when dead
  HWY_ALIGN float keep[kBlock];  // per key: 1 when live, 0 when dead
  // Per key of the block and of the next one (prefetched): its rows' element offsets (head 0).
  int64_t k_token[kBlock], v_token[kBlock], k_next[kBlock], v_next[kBlock];
  int64_t scale_token[kBlock], scale_next[kBlock];  // int8: the rows' scales
  float v_block_scales[kBlocked ? kBlock : 1][kBlocked ? kMaxScales : 1];  // blocks: the V rows' scales
  // The block's live keys (the additive mask's -inf drops a key), the same for every head;
  // false when none is. Then where their rows are.
  const auto find_live = [&](int64_t j0, int64_t count) {
    bool any = false;
    for (int64_t b = 0; b < kBlock; ++b) {
      const float mask = b < count && mask_row != nullptr ? mask_row[(j0 + b) * a.mask_stride[1]] : 0.0f;
      live[b] = b < count && mask != -HUGE_VALF;
      bias[b] = live[b] ? mask : -FLT_MAX;
      keep[b] = live[b] ? 1.0f : 0.0f;
      any = any || live[b];
    }
    if (any) {
      TokenOffsets(a, j0, count, k_token, v_token, scale_token);
      TokenOffsets(a, j0 + kBlock, HWY_MIN(count, end - j0 - kBlock), k_next, v_next, scale_next);
    }
    return any;
  };
  // The block's logits for the group of KV head g: per live key, its K row (`rows[b]`) dotted
  // with each query row of the group (0 for dead keys).
  const auto block_logits = [&](int64_t g, const KvT* const* rows) HWY_ATTR {
    for (int64_t b = 0; b < kBlock; ++b) {
      if (!live[b]) {
        for (int64_t h = 0; h < group; ++h) logits[h][b] = 0.0f;
        continue;
      }
      if constexpr (kInt8) {  // exact integer dot, then the query's and the key's scales
        const int64_t first_row = i * a.q_heads + g * group;
        const float k_scale = a.k_scales[scale_token[b] + g] * a.scale;
        for (int64_t h = 0; h < group; ++h) {
          const int64_t r = first_row + h;
          const int32_t dot = DotInt8<kDot>(a.q8 + r * a.q8_stride, rows[b], a.d, a.q_sums[r]);
          logits[h][b] = static_cast<float>(dot) * (a.q_scales[r] * k_scale);
        }
      } else if constexpr (kBlocked) {  // per block an exact integer dot times the two scales
        const int64_t first_row = i * a.q_heads + g * group, blocks = a.d / 32;
        HWY_ALIGN float k_scales[kMaxScales];
        ReadKvBlockScales<kBits>(rows[b], blocks, k_scales);
        for (int64_t h = 0; h < group; ++h) {
          const int64_t r = first_row + h;
          const float dot = DotKvBlocks<kDot, kBits>(a.q8 + r * a.q8_stride, a.q_scales + r * blocks,
                                                     a.q_sums + r * (a.d / 4), rows[b], k_scales, blocks);
          logits[h][b] = dot * a.scale;
        }
      } else {
        const float* q_row = q_base + g * group * a.q_stride[1];
        for (int64_t h = 0; h < group; ++h, q_row += a.q_stride[1]) {
          logits[h][b] = Dot(q_row, rows[b], a.d) * a.scale;
        }
      }
    }
  };
  // Values: acc_h += w_hb x v_b (`rows[b]`), per chunk of 4 vectors of dv, the chunk's
  // accumulators in registers across the block's keys.
  const auto block_values = [&](int64_t count, int64_t g, const KvT* const* rows) HWY_ATTR {
    const size_t dv = static_cast<size_t>(a.dv);
    if constexpr (kBlocked) {
      for (int64_t b = 0; b < count; ++b) {
        if (live[b]) ReadKvBlockScales<kBits>(rows[b], a.dv / 32, v_block_scales[b]);
      }
    }
    for (size_t c = 0; c < dv; c += 4 * lanes) {
      const size_t n0 = HWY_MIN(lanes, dv - c);
      const size_t n1 = c + lanes < dv ? HWY_MIN(lanes, dv - c - lanes) : 0;
      const size_t n2 = c + 2 * lanes < dv ? HWY_MIN(lanes, dv - c - 2 * lanes) : 0;
      const size_t n3 = c + 3 * lanes < dv ? HWY_MIN(lanes, dv - c - 3 * lanes) : 0;
      // Offsets of the chunk's vectors, 0 for those past dv (count 0: not read, and no
      // pointer past the row is formed).
      const size_t o1 = n1 ? lanes : 0, o2 = n2 ? 2 * lanes : 0, o3 = n3 ? 3 * lanes : 0;
      for (int64_t h = 0; h < group; ++h) {
        float* acc = partial_of(g * group + h) + 2 + c;
        auto a0 = hn::LoadN(df, acc, n0), a1 = hn::LoadN(df, acc + o1, n1);
        auto a2 = hn::LoadN(df, acc + o2, n2), a3 = hn::LoadN(df, acc + o3, n3);
        EK_LOOP_MARK("attn_v", 1, kBits, WeightTypeCode<KvT>());
        for (int64_t b = 0; b < count; ++b) {
          if (!live[b]) continue;
          if constexpr (kBlocked) {  // each vector's weight takes its block's scale
            const float w = logits[h][b];
            const float* scales = v_block_scales[b];
            const uint8_t* v = rows[b];
            a0 = hn::MulAdd(hn::Set(df, w * scales[c / 32]), LoadKvBlockValues<kBits>(df, v, c), a0);
            if (n1) a1 = hn::MulAdd(hn::Set(df, w * scales[(c + o1) / 32]), LoadKvBlockValues<kBits>(df, v, c + o1), a1);
            if (n2) a2 = hn::MulAdd(hn::Set(df, w * scales[(c + o2) / 32]), LoadKvBlockValues<kBits>(df, v, c + o2), a2);
            if (n3) a3 = hn::MulAdd(hn::Set(df, w * scales[(c + o3) / 32]), LoadKvBlockValues<kBits>(df, v, c + o3), a3);
          } else {  // (int8: the weight takes the V row's scale)
            const auto w = hn::Set(df, kInt8 ? logits[h][b] * a.v_scales[scale_token[b] + g] : logits[h][b]);
            const KvT* v = rows[b] + c;
            a0 = hn::MulAdd(w, LoadNAsF32(df, v, n0), a0);
            a1 = hn::MulAdd(w, LoadNAsF32(df, v + o1, n1), a1);
            a2 = hn::MulAdd(w, LoadNAsF32(df, v + o2, n2), a2);
            a3 = hn::MulAdd(w, LoadNAsF32(df, v + o3, n3), a3);
          }
        }
        hn::StoreN(a0, df, acc, n0);
        hn::StoreN(a1, df, acc + o1, n1);
        hn::StoreN(a2, df, acc + o2, n2);
        hn::StoreN(a3, df, acc + o3, n3);
      }
    }
  };
  // The block of keys j0 .. j0 + count - 1 for KV head g and its group's query heads.
  // (Row bytes: GGUF blocks' strides are in bytes.)
  const size_t k_row_bytes = static_cast<size_t>(kBlocked ? a.k_stride[1] : a.d) * sizeof(KvT);
  const size_t v_row_bytes = static_cast<size_t>(kBlocked ? a.v_stride[1] : a.dv) * sizeof(KvT);
  const auto run_block = [&](int64_t j0, int64_t count, int64_t g) HWY_ATTR {
    const KvT* k_rows[kBlock];
    const KvT* v_rows[kBlock];
    for (int64_t b = 0; b < count; ++b) {
      if (!live[b]) continue;
      k_rows[b] = k_base + k_token[b] + g * a.k_stride[1];
      v_rows[b] = v_base + v_token[b] + g * a.v_stride[1];
      if (j0 + b + kBlock < end) {  // the next block's rows of this head
        PrefetchRow(k_base + k_next[b] + g * a.k_stride[1], k_row_bytes);
        PrefetchRow(v_base + v_next[b] + g * a.v_stride[1], v_row_bytes);
      }
    }
    block_logits(g, k_rows);
    for (int64_t h = 0; h < group; ++h) {
      float* l = logits[h];
      if (a.softcap > 0.0f) {
        for (size_t b = 0; b < static_cast<size_t>(kBlock); b += block_lanes) {
          hn::Store(Softcap(db, hn::Load(db, l + b), a.softcap), db, l + b);
        }
      }
      // The mask added (dead keys pushed to -FLT_MAX: finite, below every live logit), the max.
      auto block_max_v = hn::Set(db, -FLT_MAX);
      for (size_t b = 0; b < static_cast<size_t>(kBlock); b += block_lanes) {
        const auto biased = hn::Add(hn::Load(db, l + b), hn::Load(db, bias + b));
        hn::Store(biased, db, l + b);
        block_max_v = hn::Max(block_max_v, biased);
      }
      const float block_max = hn::ReduceMax(db, block_max_v);
      float* p = partial_of(g * group + h);
      const float m_new = block_max > p[0] ? block_max : p[0];
      if (m_new > p[0]) {  // rescale the running state (to 0 while it is still empty)
        const float rescale = expf(p[0] - m_new);
        p[1] *= rescale;
        const auto r = hn::Set(df, rescale);
        for (size_t c = 0; c < static_cast<size_t>(a.dv); c += lanes) {
          const size_t n = HWY_MIN(lanes, static_cast<size_t>(a.dv) - c);
          hn::StoreN(hn::Mul(hn::LoadN(df, p + 2 + c, n), r), df, p + 2 + c, n);
        }
        p[0] = m_new;
      }
      // Weights exp(l - m) (0 for dead keys), and their sum (lanes, then one reduction).
      const auto m = hn::Set(db, m_new);
      auto sum_v = hn::Zero(db);
      for (size_t b = 0; b < static_cast<size_t>(kBlock); b += block_lanes) {
        const auto w = hn::Mul(ExpNonPositive(db, hn::Min(hn::Sub(hn::Load(db, l + b), m), hn::Zero(db))),
                               hn::Load(db, keep + b));
        hn::Store(w, db, l + b);
        sum_v = hn::Add(sum_v, w);
      }
      p[1] += hn::ReduceSum(db, sum_v);
    }
    block_values(count, g, v_rows);
  };
  // The cache in its memory order: token-major ([tokens, heads, d], heads adjacent): per block
  // of keys the KV heads in turn, a block's rows of all heads one region of the cache (taking
  // one head's keys alone, rows a token apart, ran the 32-head decode at 46% of the DRAM read,
  // this order at 69-73%); head-major ([heads, tokens, d]): per KV head its keys in order, one
  // contiguous stream per head.
  if (a.head_major) {
    for (int64_t g = 0; g < a.kv_heads; ++g) {
      for (int64_t j0 = begin; j0 < end; j0 += kBlock) {
        const int64_t count = HWY_MIN(kBlock, end - j0);
        if (find_live(j0, count)) run_block(j0, count, g);
      }
    }
  } else {
    for (int64_t j0 = begin; j0 < end; j0 += kBlock) {
      const int64_t count = HWY_MIN(kBlock, end - j0);
      if (!find_live(j0, count)) continue;
      for (int64_t g = 0; g < a.kv_heads; ++g) run_block(j0, count, g);
    }
  }
}

// One task of the cache's type.
inline void RunAttentionTask(const detail::AttentionTaskArgs& a, size_t task) {
  if (a.kv_block_bits == 4) {
    a.dot_lane ? RunAttentionTaskT<uint8_t, true, 4>(a, task) : RunAttentionTaskT<uint8_t, false, 4>(a, task);
  } else if (a.kv_block_bits == 8) {
    a.dot_lane ? RunAttentionTaskT<uint8_t, true, 8>(a, task) : RunAttentionTaskT<uint8_t, false, 8>(a, task);
  } else if (a.kv_type == DType::kI8) {
    if (a.dot_lane) {
      RunAttentionTaskT<int8_t, true>(a, task);
    } else {
      RunAttentionTaskT<int8_t, false>(a, task);
    }
  } else if (a.kv_type == DType::kF16) {
    RunAttentionTaskT<hwy::float16_t>(a, task);
  } else {
    RunAttentionTaskT<float>(a, task);
  }
}

// Row r = (query i, head h): its splits' partials merged in split order (each rescaled to the
// common max), then the sink, then one division (a row with nothing visible: zeros).
inline void MergeAttentionRow(const detail::AttentionTaskArgs& a, size_t row) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df), dv = static_cast<size_t>(a.dv);
  const int64_t i = static_cast<int64_t>(row) / a.q_heads, h = static_cast<int64_t>(row) % a.q_heads;
  const float* first = a.partials + static_cast<int64_t>(row) * a.splits * a.partial_stride;
  float m = -FLT_MAX;
  for (int64_t s = 0; s < a.splits; ++s) {
    const float* p = first + s * a.partial_stride;
    if (p[1] > 0.0f && p[0] > m) m = p[0];
  }
  float* out = a.out + i * a.out_stride[0] + h * a.out_stride[1];
  float sum = 0.0f;
  for (size_t c = 0; c < dv; ++c) out[c] = 0.0f;
  for (int64_t s = 0; s < a.splits; ++s) {
    const float* p = first + s * a.partial_stride;
    if (!(p[1] > 0.0f)) continue;
    const float rescale = expf(p[0] - m);
    sum += p[1] * rescale;
    const auto r = hn::Set(df, rescale);
    for (size_t c = 0; c < dv; c += lanes) {
      const size_t n = HWY_MIN(lanes, dv - c);
      hn::StoreN(hn::MulAdd(hn::LoadN(df, p + 2 + c, n), r, hn::LoadN(df, out + c, n)), df, out + c, n);
    }
  }
  if (!(sum > 0.0f)) return;  // nothing visible: zeros, sink or not
  const float rescale = FoldSink(a, h, m, &sum);
  if (rescale != 1.0f) {
    for (size_t c = 0; c < dv; ++c) out[c] *= rescale;
  }
  const auto inverse_sum = hn::Set(df, 1.0f / sum);
  for (size_t c = 0; c < dv; c += lanes) {
    const size_t n = HWY_MIN(lanes, dv - c);
    hn::StoreN(hn::Mul(hn::LoadN(df, out + c, n), inverse_sum), df, out + c, n);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_ATTENTION_ATTENTION_INL_H_
