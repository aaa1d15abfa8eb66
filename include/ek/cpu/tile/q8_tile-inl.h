// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The int8 micro-kernel layer: DotTile, a register tile of int32 dot products of u8 activations
// and packed s8 or int4 weights over all of K (per block of K: f32 sums of scaled block sums), on
// the target's dot-product lane or the widening form; what it reads besides A and B
// (QTileParams: nothing of a loop nest), its A sources (dense rows; k-chunks of row pointers for
// an indirect GEMM) and B (QTile). The register budgets: ek/cpu/tile/q8_lanes-inl.h; the
// epilogues that take its buffer to C: ek/cpu/qgemm/loops-inl.h. Compiled once per target.

#if defined(EK_CPU_TILE_Q8_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_Q8_TILE_INL_H_
#undef EK_CPU_TILE_Q8_TILE_INL_H_
#else
#define EK_CPU_TILE_Q8_TILE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ek/cpu/qgemm/args.h"
#include "ek/cpu/tile/loop_mark.h"
#include "ek/cpu/tile/operands.h"
#include "ek/cpu/tile/prefetch-inl.h"
#include "ek/cpu/tile/q8_lanes-inl.h"
#include "ek/ref/convert.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- What a tile reads besides A and B: fixed for a call -----------------------------------------
struct QTileParams {
  int64_t kp = 0;        // k of a dense A row (K padded to kQKAlign)
  int64_t block_k = 0;   // per block: k per block (a multiple of kQKAlign)
  int64_t blocks = 1;
  const void* block_scales = nullptr;  // per block: [panel][block][16] of block_scale_type
  DType block_scale_type = DType::kF32;
  const int32_t* colsum = nullptr;     // the sdot lane's correction: packed column sums
  int64_t b_panel_bytes = 0;  // wide tiles prefetch the next column tile's panels ...
  int64_t n = 0;              // ... up to N
};

// ---- B: where the tile is, and its vectors -----------------------------------------------------------
struct QTile {
  const uint8_t* b_vectors[kQMaxVectors];  // vector v's first group in packed B
  size_t valid_rows = 0;
  size_t valid_cols = 0;
  int64_t row0 = 0, col0 = 0;
};

// ---- A sources: u8 rows (ek/cpu/tile/operands.h) -----------------------------------------------------
// Dense rows of kp (a GEMM's staged A), or k-chunks of row pointers (an indirect GEMM, e.g. an
// int8 convolution's taps) with a zero row of chunk_k bytes of the input's zero point in the u8
// domain (int8 weights, no blocks). Chunks are a multiple of the tile's k step.
using QTileDenseA = detail::DenseRowsA<uint8_t>;
using QTileIndirectA = detail::IndirectRowsA<uint8_t>;

// Accumulators are named variables (SVE vectors are sizeless and cannot be array elements):
// acc_R_V is row R, vector V; facc_R_V its f32 sum over finished int4 blocks; sacc_R_V its int16
// partial sums in the int4 widen form (see NibbleValues), moved into acc_R_V every kInt16RunK k.
#define EK_QTILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EK_QTILE_DECLARE_ROW(R)                                                                         \
  VI acc_##R##_0 = hn::Zero(di), acc_##R##_1 = hn::Zero(di), acc_##R##_2 = hn::Zero(di),                \
     acc_##R##_3 = hn::Zero(di);                                                                        \
  VF facc_##R##_0 = hn::Zero(df), facc_##R##_1 = hn::Zero(df), facc_##R##_2 = hn::Zero(df),             \
     facc_##R##_3 = hn::Zero(df);                                                                       \
  VI16 sacc_##R##_0 = hn::Zero(di16), sacc_##R##_1 = hn::Zero(di16), sacc_##R##_2 = hn::Zero(di16),     \
       sacc_##R##_3 = hn::Zero(di16);                                                                   \
  (void)facc_##R##_0;                                                                                   \
  (void)facc_##R##_1;                                                                                   \
  (void)facc_##R##_2;                                                                                   \
  (void)facc_##R##_3;                                                                                   \
  (void)sacc_##R##_0;                                                                                   \
  (void)sacc_##R##_1;                                                                                   \
  (void)sacc_##R##_2;                                                                                   \
  (void)sacc_##R##_3;
#define EK_QTILE_FOR_VECTORS(R, X)         \
  X(R, 0)                                  \
  if constexpr (kVectors > 1) { X(R, 1) }  \
  if constexpr (kVectors > 2) { X(R, 2) }  \
  if constexpr (kVectors > 3) { X(R, 3) }
// One group of 4 k: broadcast the row's 4 bytes of A, one dot step per vector of B.
#define EK_QTILE_DOT(R, V)                                                             \
  if constexpr (kInt16Sums) {                                                              \
    sacc_##R##_##V = hn::Add(sacc_##R##_##V, hn::SatWidenMulPairwiseAdd(di16, a_##R, b_##V)); \
  } else {                                                                             \
    acc_##R##_##V = DotQuad<kDot, kBlocks && kQDotMixedSign>(di, a_##R, b_##V, acc_##R##_##V);                    \
  }
#define EK_QTILE_STEP_ROW(R)                                                  \
  if constexpr (R < kRows) {                                                  \
    const VU8 a_##R = BroadcastGroup(du8, a_row_##R + a_offset);              \
    EK_QTILE_FOR_VECTORS(R, EK_QTILE_DOT)                                     \
  }
// One group of 4 k from the nibbles of one 64-byte row of int4 B (raw_V): values (int16 sums)
// or values x 16 (dot lanes), one dot step per row and vector.
#define EK_QTILE_NIBBLE_STEP(VALUES, TIMES16)                                           \
  {                                                                                    \
    const VS8 b_0 = kInt16Sums ? VALUES(ds8, raw_0) : TIMES16(ds8, raw_0);            \
    const VS8 b_1 = kInt16Sums ? VALUES(ds8, raw_1) : TIMES16(ds8, raw_1);            \
    const VS8 b_2 = kInt16Sums ? VALUES(ds8, raw_2) : TIMES16(ds8, raw_2);            \
    const VS8 b_3 = kInt16Sums ? VALUES(ds8, raw_3) : TIMES16(ds8, raw_3);            \
    (void)b_1;                                                                         \
    (void)b_2;                                                                         \
    (void)b_3;                                                                         \
    EK_QTILE_ROWS(EK_QTILE_STEP_ROW)                                                   \
    a_offset += 4;                                                                     \
  }
#define EK_QTILE_A_ROW(R)                                                        \
  const uint8_t* HWY_RESTRICT a_row_##R = a.Row(a_chunk, R < kRows ? R : 0); \
  (void)a_row_##R;
#define EK_QTILE_FLUSH(R, V)                                                                            \
  acc_##R##_##V = hn::Add(acc_##R##_##V, hn::WidenMulPairwiseAdd(di, sacc_##R##_##V, ones16));          \
  sacc_##R##_##V = hn::Zero(di16);
#define EK_QTILE_FLUSH_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_FLUSH) }
// Block sums of int4 are x16 on the dot lanes (values x 16: shifted down exactly), true values in
// the widen form; block scales are stored unscaled.
#define EK_QTILE_FOLD(R, V)                                                                             \
  if constexpr (kInt4 && !kInt16Sums) acc_##R##_##V = hn::ShiftRight<4>(acc_##R##_##V);                    \
  facc_##R##_##V = hn::Add(hn::Mul(hn::ConvertTo(df, acc_##R##_##V), scale_##V), facc_##R##_##V);       \
  acc_##R##_##V = hn::Zero(di);
#define EK_QTILE_FOLD_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_FOLD) }
#define EK_QTILE_STORE(R, V)                                                                  \
  if constexpr (kBlocks) {                                                                    \
    hn::Store(facc_##R##_##V, df, reinterpret_cast<float*>(buffer) + (R * kQMaxVectors + V) * lanes); \
  } else if constexpr (kInt16Sums) {                                                             \
    hn::Store(hn::ShiftLeft<4>(acc_##R##_##V), di, buffer + (R * kQMaxVectors + V) * lanes);  \
  } else if constexpr (kDot && kQDotNeedsColumnCorrection) {                                 \
    hn::Store(hn::Add(acc_##R##_##V, correction_##V), di, buffer + (R * kQMaxVectors + V) * lanes); \
  } else {                                                                                    \
    hn::Store(acc_##R##_##V, di, buffer + (R * kQMaxVectors + V) * lanes);                    \
  }
#define EK_QTILE_STORE_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_STORE) }

// 4 bytes of A (one k group of one row) in every 32-bit lane.
template <class DU8>
HWY_INLINE hn::Vec<DU8> BroadcastGroup(DU8 du8, const uint8_t* HWY_RESTRICT p) {
  const hn::Repartition<uint32_t, DU8> du32;
  uint32_t group;
  memcpy(&group, p, sizeof(group));
  return hn::BitCast(du8, hn::Set(du32, group));
}

// int4: one 64-byte row of nibbles is two groups of s8 weights, each value times 16 (the sums are
// shifted down by 4 in the epilogues: exact): low nibbles shifted up (shift + mask: 2 ops), high
// nibbles masked in place (1 op).
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> LowNibblesTimes16(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  const hn::Repartition<uint16_t, DS8> du16;
  const auto shifted = hn::BitCast(du8, hn::ShiftLeft<4>(hn::BitCast(du16, raw)));
  return hn::BitCast(ds8, hn::And(shifted, hn::Set(du8, uint8_t{0xF0})));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> HighNibblesTimes16(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  return hn::BitCast(ds8, hn::And(raw, hn::Set(du8, uint8_t{0xF0})));
}

// int4 on targets without a dot-product instruction: nibbles become their values -8..7 by one
// table lookup (pshufb / tbl), and u8 x s4 pairs are multiplied and added by the saturating
// pmaddubsw-style SatWidenMulPairwiseAdd, which cannot saturate here: a pair is within
// [-2 * 255 * 8, 2 * 255 * 7] = [-4080, 3570]. Those int16 pairs are summed in int16 over
// kInt16RunK k (8 steps of 4 k: within [-32640, 28560], no overflow) and only then widened to
// int32 by WidenMulPairwiseAdd with ones: per 4 k one multiply-add and one add, instead of the
// widening form's 2 multiply-adds + 4 shifts and masks. The sums are 1/16 of the other lanes'
// (which use values x 16); the caller shifts them left by 4, so every lane has the same integers.
constexpr int64_t kInt16RunK = 32;
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> NibbleValues(DS8 ds8, VU8 nibbles) {
  const auto table = hn::Dup128VecFromValues(ds8, 0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  return hn::TableLookupBytes(table, hn::BitCast(ds8, nibbles));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> LowNibbleValues(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  return NibbleValues(ds8, hn::And(raw, hn::Set(du8, uint8_t{0x0F})));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> HighNibbleValues(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  const hn::Repartition<uint16_t, DS8> du16;
  const auto shifted = hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(du16, raw)));
  return NibbleValues(ds8, hn::And(shifted, hn::Set(du8, uint8_t{0x0F})));
}

// Block scale `index` of p.block_scales as f32 (exact for every type), and Lanes(df) of them.
HWY_INLINE float BlockScaleAt(const QTileParams& g, int64_t index) {
  const auto* bits16 = static_cast<const uint16_t*>(g.block_scales);
  if (g.block_scale_type == DType::kF16) return ref::F16ToF32(bits16[index]);
  if (g.block_scale_type == DType::kBF16) return ref::BF16ToF32(bits16[index]);
  return static_cast<const float*>(g.block_scales)[index];
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadBlockScales(DF df, const QTileParams& g, int64_t index) {
  if (g.block_scale_type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::float16_t*>(g.block_scales) + index));
  }
  if (g.block_scale_type == DType::kBF16) {
    const hn::Rebind<hwy::bfloat16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::bfloat16_t*>(g.block_scales) + index));
  }
  return hn::LoadU(df, static_cast<const float*>(g.block_scales) + index);
}

// The micro-kernel: the tile's int32 dot products over all of K (kBlocks: f32 sums over int4
// blocks of block_k, each block's int32 sums scaled by its block scale and added). The sums are
// exact integers, so their order does not matter; per block the f32 sums are added in block
// order (docs/quantization.md).
//   A chunk loop: the A source's row pointers for the chunk (dense A: one chunk).
//   block loop (kBlocks only): the int32 accumulators restart at zero per block.
//   run loop:   int4 in the widen form only: runs of kInt16RunK k summed in int16, then added
//               to the int32 accumulators (elsewhere one run = the block).
//   group loop: per 64-byte step of B (one group of 4 k for s8, two for int4), kVectors loads of
//               B, then per row one 4-byte broadcast of A and kVectors dot steps.
//   after:      accumulators go to `buffer` (int32, or f32 for kBlocks) for the epilogue, which
//               reads them with the same type (f32 sums read as int32 let type-based alias
//               analysis drop these stores: clang 19 on SVE2_128 did).
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, bool kDot, class ASource>
HWY_INLINE void DotTile(const QTileParams& g, const ASource& a, const QTile& t, int32_t* HWY_RESTRICT buffer) {
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const hn::Repartition<uint8_t, QTag> du8;
  const hn::Repartition<int8_t, QTag> ds8;
  using VI = hn::Vec<QTag>;
  using VF = hn::Vec<decltype(df)>;
  using VU8 = hn::Vec<decltype(du8)>;
  using VS8 = hn::Vec<decltype(ds8)>;
  const hn::Repartition<int16_t, QTag> di16;
  using VI16 = hn::Vec<decltype(di16)>;
  const VI16 ones16 = hn::Set(di16, int16_t{1});
  (void)ones16;
  const size_t lanes = hn::Lanes(di);
  EK_QTILE_ROWS(EK_QTILE_DECLARE_ROW)
  const int64_t a_chunks = a.Chunks(), a_chunk_k = a.ChunkK();
  const int64_t block_k = kBlocks ? g.block_k : a_chunk_k;
  const int64_t blocks = kBlocks ? g.blocks : 1;
  const size_t step_k = kInt4 ? 8 : 4;  // k per 64-byte step of B
  // int4 without a dot-product instruction: nibble values, int16 sums over runs of
  // kInt16RunK k; sums x 1/16.
  constexpr bool kInt16Sums = kInt4 && !(kDot && kQDotInstruction);
  const int64_t run_k = kInt16Sums ? kInt16RunK : block_k;
  const uint8_t* HWY_RESTRICT b0 = t.b_vectors[0];
  const uint8_t* HWY_RESTRICT b1 = t.b_vectors[1];
  const uint8_t* HWY_RESTRICT b2 = t.b_vectors[2];
  const uint8_t* HWY_RESTRICT b3 = t.b_vectors[3];
  // Wide tiles (1 or 2 rows, kQWideTileVectors) read their panels once, from memory. Each step also prefetches
  // the same step of the next column tile's panels (one line per panel: vectors that start a
  // panel), so that DRAM streams twice the tile's panels at once (Zen2, AVX2 tiles of 2 panels,
  // M = 1 over 4096 x 4096 and 11008 x 4096: int4 12.7-15.0 -> 15.8-17.4 GB/s, q8_0 14.8-17.2 ->
  // 17.8-19.5, qd8xs8 17.1-18.4 -> 17.9-18.7; two tiles ahead as well was no faster). The last column tile
  // prefetches its own lines (ahead = 0): no pointer past the end of B.
  constexpr bool kPrefetchNextTile = kRows <= 2 && kVectors == kQWideTileVectors;
  const size_t tile_panels = HWY_MAX(size_t{1}, kVectors * lanes / static_cast<size_t>(detail::kQPanelWidth));
  const bool last_column_tile = t.col0 + static_cast<int64_t>(kVectors * lanes) >= g.n;
  const size_t ahead =
      kPrefetchNextTile && !last_column_tile ? tile_panels * static_cast<size_t>(g.b_panel_bytes) : 0;
  const size_t panel = static_cast<size_t>(detail::kQPanelWidth);
  const bool starts_panel[4] = {true, lanes % panel == 0, 2 * lanes % panel == 0, 3 * lanes % panel == 0};
  for (int64_t a_chunk = 0; a_chunk < a_chunks; ++a_chunk) {
    EK_QTILE_ROWS(EK_QTILE_A_ROW)
    size_t a_offset = 0;
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t k_end = HWY_MIN(a_chunk_k, (block + 1) * block_k);
      for (int64_t run = block * block_k; run < k_end; run += run_k) {
        const int64_t run_end = HWY_MIN(k_end, run + run_k);
        EK_LOOP_MARK("q8_dot", kRows, kVectors, (kInt4 ? 4 : 0) + (kBlocks ? 2 : 0) + (kDot ? 1 : 0) + 10 * ASource::kLoopMarkCode);
        for (int64_t k = run; k < run_end; k += static_cast<int64_t>(step_k)) {
          if constexpr (kPrefetchNextTile) {
            PrefetchLine(b0 + ahead);
            if (kVectors > 1 && starts_panel[1]) PrefetchLine(b1 + ahead);
            if (kVectors > 2 && starts_panel[2]) PrefetchLine(b2 + ahead);
            if (kVectors > 3 && starts_panel[3]) PrefetchLine(b3 + ahead);
          }
          if constexpr (kInt4) {
            const VU8 raw_0 = hn::LoadU(du8, b0);
            const VU8 raw_1 = kVectors > 1 ? hn::LoadU(du8, b1) : raw_0;
            const VU8 raw_2 = kVectors > 2 ? hn::LoadU(du8, b2) : raw_0;
            const VU8 raw_3 = kVectors > 3 ? hn::LoadU(du8, b3) : raw_0;
            EK_QTILE_NIBBLE_STEP(LowNibbleValues, LowNibblesTimes16)    // low nibbles: k .. k + 3
            EK_QTILE_NIBBLE_STEP(HighNibbleValues, HighNibblesTimes16)  // high nibbles: k + 4 .. k + 7
          } else {
            const VS8 b_0 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b0));
            const VS8 b_1 = kVectors > 1 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b1)) : b_0;
            const VS8 b_2 = kVectors > 2 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b2)) : b_0;
            const VS8 b_3 = kVectors > 3 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b3)) : b_0;
            (void)b_1;
            (void)b_2;
            (void)b_3;
            EK_QTILE_ROWS(EK_QTILE_STEP_ROW)
            a_offset += 4;
          }
          b0 += 64;
          b1 += 64;
          b2 += 64;
          b3 += 64;
        }
        if constexpr (kInt16Sums) {
          EK_QTILE_ROWS(EK_QTILE_FLUSH_ROW)
        }
      }
      if constexpr (kBlocks) {
        // Block scales of this block for each vector's columns. Vectors past the tile's valid
        // columns read column col0's (their sums are never stored).
        const auto scales_at = [&](size_t v) HWY_ATTR {
          const int64_t col = t.col0 + (v * lanes < t.valid_cols ? static_cast<int64_t>(v * lanes) : 0);
          const int64_t panel = col / detail::kQPanelWidth;
          return LoadBlockScales(df, g, (panel * g.blocks + block) * detail::kQPanelWidth + col % detail::kQPanelWidth);
        };
        const VF scale_0 = scales_at(0);
        const VF scale_1 = kVectors > 1 ? scales_at(1) : scale_0;
        const VF scale_2 = kVectors > 2 ? scales_at(2) : scale_0;
        const VF scale_3 = kVectors > 3 ? scales_at(3) : scale_0;
        (void)scale_1;
        (void)scale_2;
        (void)scale_3;
        EK_QTILE_ROWS(EK_QTILE_FOLD_ROW)
      }
    }
  }  // a_chunk
  // sdot lane: + 128 * column sum (padded to whole panels; vectors past the valid columns read
  // column col0's, like their B loads).
  const auto correction_at = [&](size_t v) HWY_ATTR {
    const int64_t col = t.col0 + (v * lanes < t.valid_cols ? static_cast<int64_t>(v * lanes) : 0);
    return hn::ShiftLeft<7>(hn::LoadU(di, g.colsum + col));
  };
  const VI correction_0 = kDot && kQDotNeedsColumnCorrection ? correction_at(0) : hn::Zero(di);
  const VI correction_1 = kDot && kQDotNeedsColumnCorrection && kVectors > 1 ? correction_at(1) : correction_0;
  const VI correction_2 = kDot && kQDotNeedsColumnCorrection && kVectors > 2 ? correction_at(2) : correction_0;
  const VI correction_3 = kDot && kQDotNeedsColumnCorrection && kVectors > 3 ? correction_at(3) : correction_0;
  (void)correction_1;
  (void)correction_2;
  (void)correction_3;
  EK_QTILE_ROWS(EK_QTILE_STORE_ROW)
}

#undef EK_QTILE_ROWS
#undef EK_QTILE_DECLARE_ROW
#undef EK_QTILE_FOR_VECTORS
#undef EK_QTILE_DOT
#undef EK_QTILE_STEP_ROW
#undef EK_QTILE_A_ROW
#undef EK_QTILE_NIBBLE_STEP
#undef EK_QTILE_FLUSH
#undef EK_QTILE_FLUSH_ROW
#undef EK_QTILE_FOLD
#undef EK_QTILE_FOLD_ROW
#undef EK_QTILE_STORE
#undef EK_QTILE_STORE_ROW

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_Q8_TILE_INL_H_
