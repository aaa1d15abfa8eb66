// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The i8mm micro-kernel (MatmulTile, NEON + FEAT_I8MM): the same int32 dot products as DotTile,
// with row pairs x column pairs of usmmla. Compiled once per target (a stub elsewhere).

#if defined(EK_CPU_TILE_Q8_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_Q8_MATMUL_INL_H_
#undef EK_CPU_TILE_Q8_MATMUL_INL_H_
#else
#define EK_CPU_TILE_Q8_MATMUL_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <type_traits>
#include <utility>

#include "ek/cpu/qgemm/args.h"
#include "ek/cpu/tile/q8_tile-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- The i8mm micro-kernel (NEON + FEAT_I8MM) ------------------------------------------------------
// usmmla multiplies a 2 x 8 u8 matrix (two rows of A, 8 k each) by the transpose of a 2 x 8 s8
// matrix (two columns of B, 8 k each) into a 2 x 2 int32 tile [r0 c0, r0 c1, r1 c0, r1 c1]: 32
// multiply-adds per instruction (sdot: 16), u8 x s8 directly (no -128 offset, no column sums).
// Packed B has 4 k per column in each 64-byte group; zip1 / zip2 of the 32-bit lanes of two
// consecutive groups (s8) or of the low and high nibbles x 16 of one row (int4) give
// [column j: k0..k7 | column j+1: k0..k7], one vector per column pair. The same integers as
// every other lane: the sums are exact.
#if EK_QGEMM_NEON_I8MM
template <class DI>
HWY_INLINE hn::Vec<DI> MatmulPairs(DI /*di*/, hn::Vec<hn::Repartition<uint8_t, DI>> a_rows,
                                   hn::Vec<hn::Repartition<int8_t, DI>> b_columns, hn::Vec<DI> acc) {
  auto sums = acc.raw;
  // As for sdot (DotQuad): the assembler is told about the extension here.
#if HWY_COMPILER_CLANG
#define EK_QGEMM_I8MM_ARCH ".arch_extension i8mm\n\t"
#else
#define EK_QGEMM_I8MM_ARCH ".arch armv8.2-a+dotprod+crypto+fp16+bf16+i8mm\n\t"
#endif
  asm(EK_QGEMM_I8MM_ARCH "usmmla %0.4s, %1.16b, %2.16b" : "+w"(sums) : "w"(a_rows.raw), "w"(b_columns.raw));
#undef EK_QGEMM_I8MM_ARCH
  return hn::Vec<DI>{sums};
}

// The lambdas ForEachIndex runs are always inlined: gcc 12 left the step loop's per-vector lambda
// out of line in some instances (a call per vector per 8 k; tools/cycle_model.py fails on any
// call in a micro-kernel loop).
#ifndef EK_INLINE_LAMBDA
#define EK_INLINE_LAMBDA __attribute__((always_inline))
#endif

template <size_t... kIndex, class Func>
HWY_INLINE void ForEachIndex(std::index_sequence<kIndex...>, const Func& func) {
  (func(std::integral_constant<size_t, kIndex>()), ...);
}

// The tile's int32 dot products (kBlocks: f32 sums over int4 blocks), like DotTile, with row
// pairs x column pairs of usmmla. An odd last row pairs with row 0 again (never stored).
//   block loop (kBlocks only): the int32 accumulators restart at zero per block.
//   step loop:  per 8 k, per vector of B (4 columns) its two column pairs, then per row pair
//               two 8-byte loads of A and one usmmla per column pair.
//   after:      uzp1 / uzp2 of the 64-bit halves turn column pairs back into rows of `buffer`.
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, class ASource>
HWY_INLINE void MatmulTile(const QTileParams& g, const ASource& a, const QTile& t, int32_t* HWY_RESTRICT buffer) {
  constexpr size_t kPairs = (kRows + 1) / 2;
  constexpr size_t kColumnPairs = 2 * kVectors;
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const hn::Repartition<uint8_t, QTag> du8;
  const hn::Repartition<int8_t, QTag> ds8;
  const hn::Repartition<uint32_t, QTag> du32;
  const hn::Repartition<uint64_t, QTag> du64;
  using VI = hn::Vec<QTag>;
  using VF = hn::Vec<decltype(df)>;
  using VS8 = hn::Vec<decltype(ds8)>;
  static_assert(detail::kQPanelWidth % 4 == 0, "a vector of B is 4 columns of one panel");
  const auto pairs = std::make_index_sequence<kPairs>();
  const auto column_pairs = std::make_index_sequence<kColumnPairs>();
  const auto vectors = std::make_index_sequence<kVectors>();

  VI acc[kPairs][kColumnPairs];
  VF facc[kPairs][kColumnPairs];
  ForEachIndex(pairs, [&](auto p) HWY_ATTR EK_INLINE_LAMBDA {
    ForEachIndex(column_pairs, [&](auto q) HWY_ATTR EK_INLINE_LAMBDA {
      acc[p][q] = hn::Zero(di);
      facc[p][q] = hn::Zero(df);
    });
  });
  const uint8_t* HWY_RESTRICT b_at[kVectors];
  ForEachIndex(vectors, [&](auto v) HWY_ATTR EK_INLINE_LAMBDA { b_at[v] = t.b_vectors[v]; });
  const int64_t a_chunk_k = a.ChunkK();
  const int64_t block_k = kBlocks ? g.block_k : a_chunk_k;
  const int64_t blocks = kBlocks ? g.blocks : 1;
  for (int64_t a_chunk = 0; a_chunk < a.Chunks(); ++a_chunk) {
    const uint8_t* a_rows[kQMaxRows];
    for (size_t r = 0; r < kQMaxRows; ++r) a_rows[r] = a.Row(a_chunk, r < kRows ? r : 0);
    size_t a_offset = 0;
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t k_end = HWY_MIN(a_chunk_k, (block + 1) * block_k);
      EK_LOOP_MARK("q8_mmla", kRows, kVectors, (kInt4 ? 4 : 0) + (kBlocks ? 2 : 0) + 10 * ASource::kLoopMarkCode);
      for (int64_t k = block * block_k; k < k_end; k += 8) {
        VS8 b[kColumnPairs];
        ForEachIndex(vectors, [&](auto v) HWY_ATTR EK_INLINE_LAMBDA {
          VS8 k0_3, k4_7;
          if constexpr (kInt4) {
            const auto raw = hn::LoadU(du8, b_at[v]);
            k0_3 = LowNibblesTimes16(ds8, raw);
            k4_7 = HighNibblesTimes16(ds8, raw);
            b_at[v] += 64;
          } else {
            k0_3 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b_at[v]));
            k4_7 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b_at[v] + 64));
            b_at[v] += 128;
          }
          b[2 * v] = hn::BitCast(ds8, hn::InterleaveLower(du32, hn::BitCast(du32, k0_3), hn::BitCast(du32, k4_7)));
          b[2 * v + 1] = hn::BitCast(ds8, hn::InterleaveUpper(du32, hn::BitCast(du32, k0_3), hn::BitCast(du32, k4_7)));
        });
        ForEachIndex(pairs, [&](auto p) HWY_ATTR EK_INLINE_LAMBDA {
          uint64_t row0, row1;
          memcpy(&row0, a_rows[2 * p] + a_offset, 8);
          memcpy(&row1, a_rows[2 * p + 1 < kRows ? 2 * p + 1 : 0] + a_offset, 8);
          const auto a = hn::BitCast(du8, hn::Dup128VecFromValues(du64, row0, row1));
          ForEachIndex(column_pairs, [&](auto q) HWY_ATTR EK_INLINE_LAMBDA { acc[p][q] = MatmulPairs(di, a, b[q], acc[p][q]); });
        });
        a_offset += 8;
      }
      if constexpr (kBlocks) {
        // Block scales of column pair q: [s_j, s_j+1, s_j, s_j+1] (as stored). Vectors past the
        // tile's valid columns read column col0's, as their B loads do.
        ForEachIndex(column_pairs, [&](auto q) HWY_ATTR EK_INLINE_LAMBDA {
          const size_t first = q * 2;
          const int64_t col = t.col0 + (first - first % 4 < t.valid_cols ? static_cast<int64_t>(first) : 0);
          const int64_t at = ((col / detail::kQPanelWidth) * g.blocks + block) * detail::kQPanelWidth + col % detail::kQPanelWidth;
          const float s0 = BlockScaleAt(g, at), s1 = BlockScaleAt(g, at + 1);
          const VF scale = hn::Dup128VecFromValues(df, s0, s1, s0, s1);
          ForEachIndex(pairs, [&](auto p) HWY_ATTR EK_INLINE_LAMBDA {
            // int4 sums are x16 (values x 16): shifted down exactly.
            const VI sums = kInt4 ? hn::ShiftRight<4>(acc[p][q]) : acc[p][q];
            facc[p][q] = hn::Add(hn::Mul(hn::ConvertTo(df, sums), scale), facc[p][q]);
            acc[p][q] = hn::Zero(di);
          });
        });
      }
    }
  }  // a_chunk
  const size_t lanes = hn::Lanes(di);
  ForEachIndex(pairs, [&](auto p) HWY_ATTR EK_INLINE_LAMBDA {
    ForEachIndex(vectors, [&](auto v) HWY_ATTR EK_INLINE_LAMBDA {
      const size_t row = 2 * p;
      const auto store_rows = [&](auto d, auto left, auto right, auto* out) HWY_ATTR EK_INLINE_LAMBDA {
        const auto l64 = hn::BitCast(du64, left), r64 = hn::BitCast(du64, right);
        hn::Store(hn::BitCast(d, hn::InterleaveLower(du64, l64, r64)), d, out + (row * kQMaxVectors + v) * lanes);
        if (row + 1 < kRows) {
          hn::Store(hn::BitCast(d, hn::InterleaveUpper(du64, l64, r64)), d, out + ((row + 1) * kQMaxVectors + v) * lanes);
        }
      };
      if constexpr (kBlocks) {
        store_rows(df, facc[p][2 * v], facc[p][2 * v + 1], reinterpret_cast<float*>(buffer));
      } else {
        store_rows(di, acc[p][2 * v], acc[p][2 * v + 1], buffer);
      }
    });
  });
}
#else
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, class ASource>
void MatmulTile(const QTileParams&, const ASource&, const QTile&, int32_t*) {
  static_assert(kRows == 0, "the matmul lane exists on NEON targets only (kQMatmulInstruction)");
}
#endif

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_Q8_MATMUL_INL_H_
