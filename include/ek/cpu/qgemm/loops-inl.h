// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The integer GEMM's epilogues (requantize to int8 / uint8, dequantize to f32, per block) from
// the tile buffer to C, and its loop nest: tiles of one task, the tile and lane choice.
// Compiled once per target.

#if defined(EK_CPU_QGEMM_LOOPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_QGEMM_LOOPS_INL_H_
#undef EK_CPU_QGEMM_LOOPS_INL_H_
#else
#define EK_CPU_QGEMM_LOOPS_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/qgemm/args.h"
#include "ek/cpu/tile/q8_matmul-inl.h"
#include "ek/cpu/tile/q8_tile-inl.h"
#include "ek/cpu/tile/requantize-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Epilogue policies: from the tile buffer to C -------------------------------------------------
// The int8 tiles leave their sums in a buffer (row r, vector v at buffer + (r * kQMaxVectors + v)
// * Lanes: int32, or f32 per block); an epilogue takes them to C. Each is a type with
// Finish(tile, buffer); the loop nest picks one per call:
//   QRequantizeToC    int8 / uint8 C: + column / row terms, ek/requantize.h's rule, clamp
//   QDequantizeToC    f32 C: dynamic activations x per-tensor / per-channel / per-block weights
//   QStoreSums        the int32 sums themselves (tests; a caller that finishes them itself)
constexpr size_t kQTileBufferLanes = kQMaxRows * kQMaxVectors * static_cast<size_t>(detail::kQPanelWidth);

struct QRequantizeToC {
  const detail::QGemmTaskArgs& g;
  // kLeftShifts: some column's real multiplier is >= 1 (g.any_left_shift).
  template <bool kLeftShifts>
  HWY_INLINE void Finish(const QTile& t, const int32_t* HWY_RESTRICT buffer) const;
};

struct QDequantizeToC {
  const detail::QGemmTaskArgs& g;
  template <bool kBlocks, bool kInt4>
  HWY_INLINE void Finish(const QTile& t, const int32_t* HWY_RESTRICT buffer) const;
};

struct QStoreSums {
  int32_t* c = nullptr;  // C at (0, 0), int32
  int64_t ldc = 0;
  HWY_INLINE void Finish(const QTile& t, const int32_t* HWY_RESTRICT buffer) const {
    const QTag di;
    const size_t lanes = hn::Lanes(di);
    for (size_t r = 0; r < t.valid_rows; ++r) {
      for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
        hn::StoreN(hn::Load(di, buffer + (r * kQMaxVectors + v) * lanes), di,
                   c + (t.row0 + static_cast<int64_t>(r)) * ldc + t.col0 + static_cast<int64_t>(col),
                   HWY_MIN(lanes, t.valid_cols - col));
      }
    }
  }
};

template <bool kLeftShifts>
HWY_INLINE void QRequantizeToC::Finish(const QTile& t, const int32_t* HWY_RESTRICT buffer) const {
  const QTag di;
  const hn::Rebind<uint8_t, QTag> du8;
  const size_t lanes = hn::Lanes(di);
  const auto zp = hn::Set(di, g.c_zero_point);
  const auto lo = hn::Set(di, g.qmin - g.c_zero_point), hi = hn::Set(di, g.qmax - g.c_zero_point);
  // Column vectors outer: the column's terms (multiplier, shift, correction) once per tile column.
  for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
    const size_t count = HWY_MIN(lanes, t.valid_cols - col);
    const int64_t n = t.col0 + static_cast<int64_t>(col);
    const auto multiplier = hn::LoadU(di, g.multiplier + n), col_term = hn::LoadU(di, g.col_term + n);
    hn::Vec<QTag> multiplier_odd, left, right, mask, half_mask;
    RequantizeColumnTerms<kLeftShifts>(di, multiplier, hn::LoadU(di, g.shift + n), multiplier_odd, left, right, mask,
                                       half_mask);
    for (size_t r = 0; r < t.valid_rows; ++r) {
      const int64_t row = t.row0 + static_cast<int64_t>(r);
      auto acc = hn::Add(hn::Load(di, buffer + (r * kQMaxVectors + v) * lanes), col_term);
      if (g.row_term) acc = hn::Add(acc, hn::Set(di, g.row_term[row]));
      // Multipliers from QuantizeMultiplier: never INT32_MIN.
      const auto q = RequantizeWith<kLeftShifts, false>(di, acc, multiplier, multiplier_odd, left, right, mask,
                                                        half_mask, zp, lo, hi);
      uint8_t* c_row = static_cast<uint8_t*>(g.c) + row * g.ldc;
      const auto bytes = hn::TruncateTo(du8, hn::BitCast(hn::RebindToUnsigned<QTag>(), q));
      // Whole vectors with a plain store (a masked byte store costs several times more on Zen 4).
      if (count == lanes) {
        hn::StoreU(bytes, du8, c_row + n);
      } else {
        hn::StoreN(bytes, du8, c_row + n, count);
      }
    }
  }
}

// f32 C (docs/quantization.md): per block (sum over blocks - za * weighted column sum) * a_scale;
// per tensor / channel (float(acc - za * column sum) * a_scale) * b_scale, the row's scale first:
// a tiny row's scale is subnormal, and its product with b_scale alone would lose the bits that
// multiplying the (large) integer sum first keeps. int4 sums are x16 (exact: shifted down).
template <bool kBlocks, bool kInt4>
HWY_INLINE void QDequantizeToC::Finish(const QTile& t, const int32_t* HWY_RESTRICT buffer) const {
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const size_t lanes = hn::Lanes(di);
  for (size_t r = 0; r < t.valid_rows; ++r) {
    const int64_t row = t.row0 + static_cast<int64_t>(r);
    const int32_t za = g.a_zero_point[row];
    const auto a_scale = hn::Set(df, g.a_scale[row]);
    float* c_row = static_cast<float*>(g.c) + row * g.ldc;
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, t.valid_cols - col);
      const int64_t n = t.col0 + static_cast<int64_t>(col);
      hn::Vec<decltype(df)> out;
      if constexpr (kBlocks) {
        // (sum over blocks - za * weighted column sum) * a_scale
        const auto sums = hn::Load(df, reinterpret_cast<const float*>(buffer) + (r * kQMaxVectors + v) * lanes);
        const auto correction = hn::Mul(hn::Set(df, static_cast<float>(za)), hn::LoadU(df, g.weighted_colsum + n));
        out = hn::Mul(hn::Sub(sums, correction), a_scale);
      } else {
        const auto acc = hn::Load(di, buffer + (r * kQMaxVectors + v) * lanes);
        auto exact = hn::Sub(acc, hn::Mul(hn::Set(di, za), hn::LoadU(di, g.colsum + n)));
        if constexpr (kInt4) exact = hn::ShiftRight<4>(exact);
        out = hn::Mul(hn::Mul(hn::ConvertTo(df, exact), a_scale), hn::LoadU(df, g.b_scale + n));
      }
      if (g.bias) out = hn::Add(out, hn::LoadN(df, g.bias + n, count));
      if (g.clamp) out = hn::Min(hn::Max(out, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
      hn::StoreN(out, df, c_row + n, count);
    }
  }
}

// ---- Tiles and tasks -------------------------------------------------------------------------------
// The tile of the lane kLane (i8mm MatmulTile, or DotTile on the dot-product lane / widening
// form) into the buffer; the QTile's rows and columns say what the epilogue stores.
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane, class ASource>
HWY_INLINE void MultiplyQTile(const QTileParams& p, const ASource& a, const QTile& t, int32_t* HWY_RESTRICT buffer) {
  if constexpr (kLane == detail::QLane::kMatmul) {
    MatmulTile<kRows, kVectors, kInt4, kBlocks>(p, a, t, buffer);
  } else {
    DotTile<kRows, kVectors, kInt4, kBlocks, kLane == detail::QLane::kDot>(p, a, t, buffer);
  }
}

template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTileExact(const detail::QGemmTaskArgs& g, const QTileParams& p, const QTileDenseA& a,
                              const QTile& t) {
  HWY_ALIGN int32_t buffer[kQTileBufferLanes];
  MultiplyQTile<kRows, kVectors, kInt4, kBlocks, kLane>(p, a, t, buffer);
  if constexpr (kBlocks) {
    QDequantizeToC{g}.Finish<true, kInt4>(t, buffer);
  } else if (g.output == detail::QOutput::kRequantize) {
    if (g.any_left_shift) {
      QRequantizeToC{g}.Finish<true>(t, buffer);
    } else {
      QRequantizeToC{g}.Finish<false>(t, buffer);
    }
  } else {
    QDequantizeToC{g}.Finish<false, kInt4>(t, buffer);
  }
}

// Runs the micro-kernel with kRows = t.valid_rows (1..kMaxRows): edge tiles do no wasted work.
template <size_t kMaxRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTile(const detail::QGemmTaskArgs& g, const QTileParams& p, const QTileDenseA& a, const QTile& t) {
  if constexpr (kMaxRows > 1) {  // recursion, as MultiplyTileRows (ek/cpu/tile/f32_tile-inl.h)
    if (t.valid_rows < kMaxRows) return RunQTile<kMaxRows - 1, kVectors, kInt4, kBlocks, kLane>(g, p, a, t);
  }
  RunQTileExact<kMaxRows, kVectors, kInt4, kBlocks, kLane>(g, p, a, t);
}

// What every tile of a call reads besides A and B.
inline QTileParams QTileParamsOf(const detail::QGemmTaskArgs& g) {
  QTileParams p;
  p.kp = g.kp;
  p.block_k = g.block_k;
  p.blocks = g.blocks;
  p.block_scales = g.block_scales;
  p.block_scale_type = g.block_scale_type;
  p.colsum = g.colsum;
  p.b_panel_bytes = g.b_panel_bytes;
  p.n = g.n;
  return p;
}

// The dense rows of staged A of the tile at row0 (rows past `rows` repeat row0).
inline QTileDenseA DenseRowsOf(const detail::QGemmTaskArgs& g, int64_t row0, int64_t rows) {
  QTileDenseA a;
  for (size_t r = 0; r < kQMaxRows; ++r) {
    a.rows[r] = g.a + (row0 + (static_cast<int64_t>(r) < rows ? static_cast<int64_t>(r) : 0)) * g.lda;
  }
  a.k_count = g.kp;
  return a;
}

inline QTile MakeQTile(const detail::QGemmTaskArgs& g, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
                       size_t vectors) {
  const QTag di;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(di));
  QTile t;
  for (size_t v = 0; v < kQMaxVectors; ++v) {
    int64_t col = col0 + static_cast<int64_t>(v) * lanes;
    if (v >= vectors || col >= col0 + cols) col = col0;  // dead vectors read valid memory
    t.b_vectors[v] = g.b + (col / detail::kQPanelWidth) * g.b_panel_bytes + (col % detail::kQPanelWidth) * 4;
  }
  t.valid_rows = static_cast<size_t>(rows);
  t.valid_cols = static_cast<size_t>(cols);
  t.row0 = row0;
  t.col0 = col0;
  return t;
}

// Task = row block [mc rows] x column block [nc columns] of C. Loops, outer to inner:
//   column tiles:  kVectors vectors wide; B's K x tile-width sliver stays in L1/L2 across rows.
//   row tiles:     kRows rows; each streams its rows of packed A (the row block stays in L2).
// Not inlined: one function per instantiation keeps compile times linear (inlining every
// instantiation into RunQGemmTask made one huge function per target).
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_NOINLINE void RunQTaskTiles(const detail::QGemmTaskArgs& g, size_t task) {
  const QTag di;
  const int64_t row_block = static_cast<int64_t>(task) / g.column_blocks;
  const int64_t col_block = static_cast<int64_t>(task) % g.column_blocks;
  const int64_t row_begin = row_block * g.mc, row_end = HWY_MIN(g.m, row_begin + g.mc);
  const int64_t col_begin = col_block * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t tile_cols = static_cast<int64_t>(kVectors * hn::Lanes(di));
  const QTileParams params = QTileParamsOf(g);
  for (int64_t col = col_begin; col < col_end; col += tile_cols) {
    const int64_t cols = HWY_MIN(tile_cols, col_end - col);
    for (int64_t row = row_begin; row < row_end; row += static_cast<int64_t>(kRows)) {
      const int64_t rows = HWY_MIN(static_cast<int64_t>(kRows), row_end - row);
      RunQTile<kRows, kVectors, kInt4, kBlocks, kLane>(g, params, DenseRowsOf(g, row, rows),
                                                       MakeQTile(g, row, rows, col, cols, kVectors));
    }
  }
}

// Chooses the tile (the wide tile: 1..2 rows, kQWideTileVectors wide) and the instantiation.
template <bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTaskFor(const detail::QGemmTaskArgs& g, size_t task) {
  constexpr bool kMatmul = kLane == detail::QLane::kMatmul;
  constexpr size_t kRows = kBlocks ? (kMatmul ? kQMatmulBlockTileRows : kQBlockTileRows)
                                   : (kMatmul ? kQMatmulTileRows : kQTileRows);
  if (g.mc <= 2) return RunQTaskTiles<2, kQWideTileVectors, kInt4, kBlocks, kLane>(g, task);
  RunQTaskTiles<kRows, kQTileVectors, kInt4, kBlocks, kLane>(g, task);
}

template <detail::QLane kLane>
HWY_INLINE void RunQTaskLane(const detail::QGemmTaskArgs& g, size_t task) {
  if (!g.b_int4) {
    if (g.output == detail::QOutput::kBlocks) return RunQTaskFor<false, true, kLane>(g, task);
    return RunQTaskFor<false, false, kLane>(g, task);
  }
  if (g.output == detail::QOutput::kBlocks) return RunQTaskFor<true, true, kLane>(g, task);
  RunQTaskFor<true, false, kLane>(g, task);
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_QGEMM_LOOPS_INL_H_
