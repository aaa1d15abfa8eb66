// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The tiled attention path (prefill), per target: RunAttentionPrefillTask, a task's units, each
// unit the rows (query i, head h) of one KV head g, kPrefillRows of them (the queries times the
// heads of g's group, query-major), against the keys they see, in blocks of kPrefillKeys keys:
//
//   S^T = K Q^T     the float micro-kernel (MultiplyTile): A = the block's K rows (in place, or
//                   an f16 block converted once), B = the unit's queries (times the scale)
//                   packed once per unit in panels of 16 rows; keys are the tile's rows, query
//                   rows its columns, so the softmax below runs down the columns in vectors
//   softmax         per query row (a column of S^T, lanes of rows at once): softcap, the mask
//                   (causal / window limits per row, the additive mask), the block max, the
//                   running max and sum rescaled, the weights exp(l - m) (vector exp) in place:
//                   P^T; the rows' accumulators rescaled where their max moved
//   acc += P V      the same micro-kernel: A = P read down P^T's columns (a strided A source,
//                   no transpose), B = the block's V rows staged in f32 (k stride dv_padded);
//                   the tile accumulates into acc across blocks (start from io)
//
// then each row divided by its sum (the sink first, as MergeAttentionRow does). No N x N
// matrix: a unit's working set is its scratch (ek/cpu/attention/plan.h, PrefillScratch), ~150
// KB at d = dv = 128. Key blocks no row of the unit sees (causal: past the unit's last query;
// a window: before its first key) are skipped. Every row's keys in increasing blocks, the
// same for any thread count, storage form or layout: results bitwise identical across them.
// Registers: the micro-kernel's tile table (ek/cpu/tile/shapes-inl.h); the softmax holds a
// handful of vectors.

#if defined(EK_CPU_ATTENTION_PREFILL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_ATTENTION_PREFILL_INL_H_
#undef EK_CPU_ATTENTION_PREFILL_INL_H_
#else
#define EK_CPU_ATTENTION_PREFILL_INL_H_
#endif

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/attention/attention-inl.h"
#include "ek/cpu/attention/plan.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "ek/cpu/tile/loads-inl.h"
#include "ek/cpu/tile/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Copies `count` elements of a cache row to f32 (f16 converted), then zeros up to `padded`.
template <typename KvT>
HWY_INLINE void StageRow(const KvT* HWY_RESTRICT row, int64_t count, int64_t padded, float* HWY_RESTRICT to) {
  const GemmTag df;
  const size_t lanes = hn::Lanes(df);
  for (size_t c = 0; c < static_cast<size_t>(count); c += lanes) {
    const size_t n = HWY_MIN(lanes, static_cast<size_t>(count) - c);
    hn::StoreN(LoadNAsF32(df, row + c, n), df, to + c, n);
  }
  for (int64_t c = count; c < padded; ++c) to[c] = 0.0f;
}

// Unit (KV head g, row block `block`) of the tiled path, in the scratch s.
template <typename KvT>
HWY_NOINLINE void RunPrefillUnit(const detail::AttentionTaskArgs& a, const detail::PrefillScratch& s, int64_t g,
                                 int64_t block) {
  constexpr int64_t kRows = detail::kPrefillRows, kKeys = detail::kPrefillKeys;
  constexpr bool kF32 = hwy::IsSame<KvT, float>();
  const GemmTag df;
  using VF = hn::Vec<GemmTag>;
  const size_t lanes = hn::Lanes(df);
  const int64_t tile_columns = static_cast<int64_t>(kGemmTileVectors * lanes);
  const int64_t group = a.group, row0 = block * kRows;
  const int64_t rows = HWY_MIN(kRows, a.q_len * group - row0);
  const int64_t columns = detail::RoundUp(rows, tile_columns);  // S^T's, padded
  const int64_t dv_columns = detail::RoundUp(a.dv, tile_columns);
  const int64_t dp = s.d_padded, dvp = s.dv_padded;
  const auto query_of = [&](int64_t r) { return (row0 + r) / group; };
  const auto head_of = [&](int64_t r) { return g * group + (row0 + r) % group; };

  // Per row: the first and last key it sees (the mask kind, a ring's lost keys); the unit's
  // span of keys; the queries, times the scale, in panels of 16 rows (zeros past `rows`).
  int64_t first_key[kRows], last_key[kRows];
  const float* mask_rows[kRows];
  int64_t unit_first = a.kv_len, unit_last = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t position = a.start_position + query_of(r);
    last_key[r] = a.mask_kind == AttentionMask::kNone ? a.kv_len - 1 : HWY_MIN(a.kv_len - 1, position);
    first_key[r] = a.first_key;
    if (a.mask_kind == AttentionMask::kSlidingWindow) first_key[r] = HWY_MAX(first_key[r], position - a.window + 1);
    if (first_key[r] <= last_key[r]) {
      unit_first = HWY_MIN(unit_first, first_key[r]);
      unit_last = HWY_MAX(unit_last, last_key[r]);
    }
    mask_rows[r] = a.mask != nullptr ? a.mask + query_of(r) * a.mask_stride[0] : nullptr;
  }
  for (int64_t r0 = 0; r0 < columns; r0 += 16) {  // a panel: its rows read side by side, written in order
    const float* q[16];
    for (int64_t t = 0; t < 16; ++t) {
      const int64_t r = r0 + t;
      q[t] = r < rows ? a.q + query_of(r) * a.q_stride[0] + head_of(r) * a.q_stride[1] : nullptr;
      s.max[r] = -FLT_MAX;  // finite: no inf arithmetic
      s.sum[r] = 0.0f;
    }
    float* panel = s.q_panels + (r0 / 16) * 16 * dp;
    for (int64_t c = 0; c < a.d; ++c, panel += 16) {
      for (int64_t t = 0; t < 16; ++t) panel[t] = q[t] != nullptr ? q[t][c] * a.scale : 0.0f;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < dv_columns; ++c) s.acc[r * dvp + c] = 0.0f;
  }

  const KvT* const k_base = static_cast<const KvT*>(a.k);
  const KvT* const v_base = static_cast<const KvT*>(a.v);
  int64_t k_off[kKeys], v_off[kKeys], scale_off[kKeys];
  const float* k_rows[kKeys];
  for (int64_t j0 = unit_first / kKeys * kKeys; j0 <= unit_last; j0 += kKeys) {
    const int64_t count = HWY_MIN(kKeys, unit_last + 1 - j0);
    // Each row's visible keys relative to the block (as small floats: exact), padded rows none;
    // a block no row sees is skipped.
    bool any = false;
    for (int64_t r = 0; r < columns; ++r) {
      const bool real = r < rows && first_key[r] <= last_key[r];
      const int64_t first = real ? HWY_MAX(first_key[r] - j0, int64_t{-1}) : 1;
      const int64_t last = real ? HWY_MIN(last_key[r] - j0, kKeys) : 0;
      s.first[r] = static_cast<float>(HWY_MIN(first, kKeys + 1));
      s.last[r] = static_cast<float>(last);
      any = any || (first <= last && last >= 0 && first < count);
    }
    if (!any) continue;
    // The block's keys some row of rows [r_begin, r_end) sees: [*lo, *hi) (empty: lo >= hi).
    // Tiles of the products outside it are skipped (the causal diagonal's dead half).
    const auto seen_keys = [&](int64_t r_begin, int64_t r_end, int64_t* lo, int64_t* hi) {
      *lo = count;
      *hi = 0;
      for (int64_t r = r_begin; r < r_end; ++r) {
        const int64_t first = HWY_MAX(static_cast<int64_t>(s.first[r]), int64_t{0});
        const int64_t last = HWY_MIN(static_cast<int64_t>(s.last[r]), count - 1);
        if (first > last) continue;
        *lo = HWY_MIN(*lo, first);
        *hi = HWY_MAX(*hi, last + 1);
      }
    };
    // Per column tile of S^T (tile_columns rows) and per row tile of P V (kGemmTileRows rows).
    int64_t column_lo[kRows], column_hi[kRows], row_lo[kRows], row_hi[kRows];
    for (int64_t ct = 0; ct < columns; ct += tile_columns) seen_keys(ct, ct + tile_columns, &column_lo[ct], &column_hi[ct]);
    for (int64_t rt = 0; rt < rows; rt += static_cast<int64_t>(kGemmTileRows)) {
      seen_keys(rt, HWY_MIN(rows, rt + static_cast<int64_t>(kGemmTileRows)), &row_lo[rt], &row_hi[rt]);
    }
    TokenOffsets(a, j0, count, k_off, v_off, scale_off);
    for (int64_t b = 0; b < count; ++b) {  // (this block's V rows: on their way during S^T)
      PrefetchRow(v_base + v_off[b] + g * a.v_stride[1], static_cast<size_t>(a.dv) * sizeof(KvT));
    }
    for (int64_t b = 0; b < count; ++b) {
      const KvT* row = k_base + k_off[b] + g * a.k_stride[1];
      if constexpr (kF32) {
        k_rows[b] = row;
      } else {
        StageRow(row, a.d, a.d, s.k_stage + b * dp);
        k_rows[b] = s.k_stage + b * dp;
      }
    }

    // S^T = K Q^T: tiles of kGemmTileRows keys x tile_columns rows, over d.
    for (int64_t kt = 0; kt < count; kt += static_cast<int64_t>(kGemmTileRows)) {
      const int64_t n = HWY_MIN(static_cast<int64_t>(kGemmTileRows), count - kt);
      TileDenseA keys;
      for (size_t r = 0; r < kMaxTileRows; ++r) keys.rows[r] = k_rows[kt + (static_cast<int64_t>(r) < n ? r : 0)];
      keys.k_count = a.d;
      for (int64_t ct = 0; ct < columns; ct += tile_columns) {
        // (skipped tiles leave stale logits: the softmax's select replaces them)
        if (column_lo[ct] >= column_hi[ct] || column_lo[ct] >= kt + n || column_hi[ct] <= kt) continue;
        TileB queries;
        for (size_t v = 0; v < kMaxTileVectors; ++v) {
          const int64_t column = ct + static_cast<int64_t>((v < kGemmTileVectors ? v : 0) * lanes);
          queries.vectors[v] = s.q_panels + (column / 16) * 16 * dp + column % 16;
        }
        queries.k_stride = 16;
        MultiplyTileRows<kGemmTileRows, kGemmTileVectors, GemmTag, float>(
            df, static_cast<size_t>(n), keys, queries, false, s.logits + kt * kRows + ct, kRows, TileStoreSums(),
            PrefetchShare());
      }
    }

    // The softmax down each column: logits (softcap, mask), block max, running state, weights.
    for (int64_t c = 0; c < columns; c += static_cast<int64_t>(lanes)) {
      const VF first = hn::Load(df, s.first + c), last = hn::Load(df, s.last + c);
      const VF m_old = hn::Load(df, s.max + c);
      VF block_max = hn::Set(df, -FLT_MAX);
      for (int64_t b = 0; b < count; ++b) {
        float* l = s.logits + b * kRows + c;
        VF logit = hn::Load(df, l);
        if (a.softcap > 0.0f) logit = Softcap(df, logit, a.softcap);
        const VF key = hn::Set(df, static_cast<float>(b));
        auto live = hn::And(hn::Ge(key, first), hn::Le(key, last));
        if (a.mask != nullptr) {  // the additive mask, gathered per row (-inf: the key is dead)
          HWY_ALIGN float bias[16];
          for (size_t t = 0; t < lanes; ++t) {
            const int64_t r = c + static_cast<int64_t>(t);
            bias[t] = r < rows ? mask_rows[r][(j0 + b) * a.mask_stride[1]] : 0.0f;
          }
          const VF bias_v = hn::Load(df, bias);
          live = hn::And(live, hn::Ne(bias_v, hn::Set(df, -HUGE_VALF)));
          logit = hn::Add(logit, hn::IfThenElseZero(live, bias_v));
        }
        logit = hn::IfThenElse(live, logit, hn::Set(df, -FLT_MAX));
        hn::Store(logit, df, l);
        hn::Store(hn::IfThenElseZero(live, hn::Set(df, 1.0f)), df, s.keep + b * kRows + c);
        block_max = hn::Max(block_max, logit);
      }
      const VF m_new = hn::Max(m_old, block_max);
      const VF rescale = hn::IfThenElse(hn::Eq(m_old, m_new), hn::Set(df, 1.0f), ExpNonPositive(df, hn::Sub(m_old, m_new)));
      VF block_sum = hn::Zero(df);
      for (int64_t b = 0; b < count; ++b) {
        float* l = s.logits + b * kRows + c;
        const VF w = hn::Mul(ExpNonPositive(df, hn::Min(hn::Sub(hn::Load(df, l), m_new), hn::Zero(df))),
                             hn::Load(df, s.keep + b * kRows + c));
        hn::Store(w, df, l);
        block_sum = hn::Add(block_sum, w);
      }
      hn::Store(m_new, df, s.max + c);
      hn::Store(hn::MulAdd(hn::Load(df, s.sum + c), rescale, block_sum), df, s.sum + c);
      hn::Store(rescale, df, s.rescale + c);
    }
    for (int64_t r = 0; r < rows; ++r) {  // the accumulators of rows whose max moved
      if (s.rescale[r] == 1.0f) continue;
      const VF factor = hn::Set(df, s.rescale[r]);
      float* acc = s.acc + r * dvp;
      for (int64_t c = 0; c < dv_columns; c += static_cast<int64_t>(lanes)) {
        hn::Store(hn::Mul(hn::Load(df, acc + c), factor), df, acc + c);
      }
    }

    // acc += P V: tiles of kGemmTileRows rows x tile_columns of dv, over the block's keys. A
    // key no row of the unit sees (a ring's lost slot, a padding key masked with -inf) is
    // staged as zeros, never read: whatever its V row holds cannot reach a row.
    for (int64_t b = 0; b < count; ++b) {
      auto seen = hn::Zero(df);
      for (int64_t c = 0; c < columns; c += static_cast<int64_t>(lanes)) seen = hn::Max(seen, hn::Load(df, s.keep + b * kRows + c));
      if (hn::ReduceMax(df, seen) > 0.0f) {
        StageRow(v_base + v_off[b] + g * a.v_stride[1], a.dv, dv_columns, s.v_stage + b * dvp);
      } else {
        for (int64_t c = 0; c < dv_columns; ++c) s.v_stage[b * dvp + c] = 0.0f;
      }
    }
    for (int64_t rt = 0; rt < rows; rt += static_cast<int64_t>(kGemmTileRows)) {
      const int64_t n = HWY_MIN(static_cast<int64_t>(kGemmTileRows), rows - rt);
      const int64_t lo = row_lo[rt], hi = row_hi[rt];  // the keys these rows see (weights elsewhere 0)
      if (lo >= hi) continue;
      TileStridedA weights;
      for (size_t r = 0; r < kMaxTileRows; ++r) {
        weights.rows[r] = s.logits + lo * kRows + rt + (static_cast<int64_t>(r) < n ? r : 0);
      }
      weights.k_count = hi - lo;
      weights.k_stride = kRows;
      for (int64_t ct = 0; ct < dv_columns; ct += tile_columns) {
        TileB values;
        for (size_t v = 0; v < kMaxTileVectors; ++v) {
          values.vectors[v] = s.v_stage + lo * dvp + ct + static_cast<int64_t>((v < kGemmTileVectors ? v : 0) * lanes);
        }
        values.k_stride = static_cast<size_t>(dvp);
        MultiplyTileRows<kGemmTileRows, kGemmTileVectors, GemmTag, float>(
            df, static_cast<size_t>(n), weights, values, true, s.acc + rt * dvp + ct, static_cast<size_t>(dvp),
            TileStoreSums(), PrefetchShare());
      }
    }
  }

  // Each row: the sink, then one multiplication by the reciprocal of the sum (nothing visible:
  // zeros, sink or not).
  for (int64_t r = 0; r < rows; ++r) {
    float* out = a.out + query_of(r) * a.out_stride[0] + head_of(r) * a.out_stride[1];
    float sum = s.sum[r];
    if (!(sum > 0.0f)) {
      for (int64_t c = 0; c < a.dv; ++c) out[c] = 0.0f;
      continue;
    }
    const float factor = FoldSink(a, head_of(r), s.max[r], &sum);
    const VF scale = hn::Set(df, factor), inverse_sum = hn::Set(df, 1.0f / sum);
    const float* acc = s.acc + r * dvp;
    for (size_t c = 0; c < static_cast<size_t>(a.dv); c += lanes) {
      const size_t n = HWY_MIN(lanes, static_cast<size_t>(a.dv) - c);
      hn::StoreN(hn::Mul(hn::Mul(hn::Load(df, acc + c), scale), inverse_sum), df, out + c, n);
    }
  }
}

// Task t of the tiled path: units t, t + tiled_tasks, ... (u = row block x kv_heads + KV head:
// a causal prefill's heavy last blocks spread over the tasks), in task t's scratch.
inline void RunAttentionPrefillTask(const detail::AttentionTaskArgs& a, size_t task) {
  const detail::PrefillScratch s = detail::PrefillScratchOf(a, task);
  for (int64_t u = static_cast<int64_t>(task); u < a.tiled_units; u += a.tiled_tasks) {
    const int64_t g = u % a.kv_heads, block = u / a.kv_heads;
    if (a.kv_type == DType::kF16) {
      RunPrefillUnit<hwy::float16_t>(a, s, g, block);
    } else {
      RunPrefillUnit<float>(a, s, g, block);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_ATTENTION_PREFILL_INL_H_
