// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// One GEMM tile start to finish (RunTile: C directly, or through a buffer for the last columns
// and an f16 C), the half-width last column tile, strips of full tiles for short K blocks
// (RunTileStrip), and where a tile's operands are (PanelSource, MakeTile). Compiled once per
// target.

#if defined(EK_CPU_GEMM_TILES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_TILES_INL_H_
#undef EK_CPU_GEMM_TILES_INL_H_
#else
#define EK_CPU_GEMM_TILES_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/gemm/epilogue-inl.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "ek/cpu/tile/loads-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One GEMM tile of the loop nest: the micro-kernel's operands (A rows, B vectors) plus where
// its part of C is and what this K block must do with it. Rows and columns past the valid ones
// point at valid data (row 0 / vector 0), so the micro-kernel never branches; their results are
// not stored. (The prefetch plan is the loop nest's, passed beside it.)
struct GemmTile {
  TileDenseA a;            // row r of A at column k0, k_count values
  TileB b;                 // vector v of B at row k0 (of the weight type)
  uint8_t* c = nullptr;    // C at (row0, col0)
  size_t c_row_bytes = 0;
  size_t c_element_bytes = 4;
  const float* bias = nullptr;  // at col0, or null
  size_t valid_rows = 0;
  size_t valid_cols = 0;
  int64_t k_begin = 0;
  bool load_c = false;  // start from C (accumulate, or a later K block)
  bool finish = false;  // last K block: add bias, clamp, store in C's type; else store f32 partial sums
};

// Tiles whose columns are all valid, with an f32 C, keep C in the accumulators directly: loaded
// from C when continuing, bias and clamp in registers, stored to C. Other tiles (the last
// columns of C, an f16 C) pass their accumulators through a buffer on the stack (row r, vector v
// at (r * kMaxTileVectors + v) * Lanes), converted and stored by code that exists once per
// target (LoadTileStart, FinishTile) instead of once per tile shape.
constexpr size_t kTileBufferFloats = kMaxTileRows * kMaxTileVectors * static_cast<size_t>(detail::kPanelWidth);

// Prologue: the tile's starting values from C (f32 partial sums, or C_old when accumulating),
// for `rows` rows of the buffer (rows past the valid ones: zeros).
template <class DF>
HWY_NOINLINE void LoadTileStart(DF df, const detail::GemmTaskArgs& g, const GemmTile& t, size_t rows,
                                float* HWY_RESTRICT buffer) {
  const size_t lanes = hn::Lanes(df);
  const DType type = t.k_begin == 0 ? g.c_type : DType::kF32;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t v = 0; v < kMaxTileVectors; ++v) {
      const size_t col = v * lanes;
      const size_t count =
          col >= t.valid_cols || r >= t.valid_rows ? 0 : HWY_MIN(lanes, t.valid_cols - col);
      const auto start = count ? LoadOutput(df, t.c + r * t.c_row_bytes + col * t.c_element_bytes, type, count)
                               : hn::Zero(df);
      hn::Store(start, df, buffer + (r * kMaxTileVectors + v) * lanes);
    }
  }
}

// Epilogue of a buffered tile: on the last K block + bias, clamp, convert to C's type; before
// it, f32 partial sums.
template <class DF>
HWY_NOINLINE void FinishTile(DF df, const detail::GemmTaskArgs& g, const GemmTile& t,
                             const float* HWY_RESTRICT buffer) {
  const size_t lanes = hn::Lanes(df);
  const DType type = t.finish ? g.c_type : DType::kF32;
  const TileBiasClamp epilogue = GemmEpilogue(g, t.bias, t.finish);
  for (size_t r = 0; r < t.valid_rows; ++r) {
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, t.valid_cols - col);
      auto acc = hn::Load(df, buffer + (r * kMaxTileVectors + v) * lanes);
      if (epilogue.Active()) acc = epilogue.ApplyN(df, acc, col, count);
      StoreOutput(df, acc, t.c + r * t.c_row_bytes + col * t.c_element_bytes, type, count);
    }
  }
}

// The last column tile of C, when its valid columns fit in half the GEMM tile's vectors (N = 24
// on AVX2's 16-wide tile, N = 40 on NEON's), runs a half-width tile (RunTile, RunTileStrip): no
// FMAs on the zero columns of the padded panels (3136x24x96 pre-packed, Zen2, driver, best of 6
// alternating medians: 56 -> 66 GFLOP/s). Only the GEMM tile halves, and the half-width tile
// always computes all kRows rows (kAllRows): 2 instantiations of the micro-kernel instead of
// 2 x kRows, as compile time is mostly micro-kernels.
template <size_t kMaxRows, size_t kVectors>
constexpr bool kHasHalfWidthTile = kMaxRows == kGemmTileRows && kVectors == kGemmTileVectors && kVectors % 2 == 0;

template <size_t kMaxRows, size_t kVectors, class DF, typename TW, bool kAllRows = false>
HWY_INLINE void RunTile(DF df, const detail::GemmTaskArgs& g, const GemmTile& t, const PrefetchShare& prefetch);

// The half-width tile, out of line: it runs once per row tile of the last column only.
template <size_t kRows, size_t kVectors, class DF, typename TW>
HWY_NOINLINE void RunHalfWidthTile(DF df, const detail::GemmTaskArgs& g, const GemmTile& t,
                                   const PrefetchShare& prefetch) {
  RunTile<kRows, kVectors, DF, TW, /*kAllRows=*/true>(df, g, t, prefetch);
}

// One tile, start to finish: C directly (all columns valid, f32 C, and with kAllRows all rows
// valid), or through the buffer.
template <size_t kMaxRows, size_t kVectors, class DF, typename TW, bool kAllRows>
HWY_INLINE void RunTile(DF df, const detail::GemmTaskArgs& g, const GemmTile& t, const PrefetchShare& prefetch) {
  const size_t lanes = hn::Lanes(df);
  if constexpr (kHasHalfWidthTile<kMaxRows, kVectors>) {
    if (t.valid_cols <= kVectors / 2 * lanes) return RunHalfWidthTile<kMaxRows, kVectors / 2, DF, TW>(df, g, t, prefetch);
  }
  if (g.c_type == DType::kF32 && t.valid_cols == kVectors * lanes && (!kAllRows || t.valid_rows == kMaxRows)) {
    MultiplyTileRows<kMaxRows, kVectors, DF, TW, kAllRows>(df, t.valid_rows, t.a, t.b, t.load_c,
                                                           reinterpret_cast<float*>(t.c), t.c_row_bytes / 4,
                                                           GemmEpilogue(g, t.bias, t.finish), prefetch);
    return;
  }
  HWY_ALIGN float buffer[kTileBufferFloats];
  if (t.load_c) LoadTileStart(df, g, t, kAllRows ? kMaxRows : t.valid_rows, buffer);
  MultiplyTileRows<kMaxRows, kVectors, DF, TW, kAllRows>(df, t.valid_rows, t.a, t.b, t.load_c, buffer,
                                                         kMaxTileVectors * lanes, GemmEpilogue(g, t.bias, false),
                                                         prefetch);
  FinishTile(df, g, t, buffer);
}

// Short K blocks (at most kStripMaxK; MobileNet's pointwise layers have K 16..160): per-tile
// bookkeeping (MakeTile, the dispatch on rows and columns, the prefetch share) costs about as
// much as the FMAs (perf: 30% of 12544x96x16 outside the k loop), so a column
// tile's consecutive full tiles (kRows rows, all columns valid, f32 C) run as one strip: the same
// B sliver, A's row pointers and C moved down kRows rows per tile. Strips do not prefetch, so
// only columns with at least kStripMinRowTiles row tiles run them: the first tile's wait for the
// sliver is then spread over many (64 x 11008 x 256 pre-packed, 11 row tiles: 92 GFLOP/s with
// the tiles' prefetch, 80 as strips). Measured on Zen2, pre-packed, driver medians: 12544x96x16
// 51 -> 80 GFLOP/s, 3136x144x24 63 -> 90, 12544x16x32 73 -> 100, 784x32x144 92 -> 101,
// 196x384x64 84 -> 99, 512x4096x256 84 -> 94; 512x4096x4096 unchanged (K blocks of 1024).
constexpr int64_t kStripMaxK = 256;
constexpr int64_t kStripMinRowTiles = 16;
template <size_t kRows, size_t kVectors, class DF, typename TW>
HWY_INLINE void RunTileStrip(DF df, const detail::GemmTaskArgs& g, GemmTile t, int64_t tiles) {
  if constexpr (kHasHalfWidthTile<kRows, kVectors>) {
    if (t.valid_cols <= kVectors / 2 * hn::Lanes(df)) return RunTileStrip<kRows, kVectors / 2, DF, TW>(df, g, t, tiles);
  }
  const int64_t a_step = static_cast<int64_t>(kRows) * g.lda;
  const TileBiasClamp epilogue = GemmEpilogue(g, t.bias, t.finish);
  const PrefetchShare no_prefetch;
  for (int64_t i = 0; i < tiles; ++i) {
    MultiplyTile<kRows, kVectors, DF, TW>(df, t.a, t.b, t.load_c, reinterpret_cast<float*>(t.c), t.c_row_bytes / 4,
                                          epilogue, no_prefetch);
    if (i + 1 == tiles) break;  // no pointers past the strip's last tile
    for (size_t r = 0; r < kRows; ++r) t.a.rows[r] += a_step;
    t.c += kRows * t.c_row_bytes;
  }
}

// Panels of B for one K block: element (k, j) at base + ((j - col0) / kPanelWidth) * panel_stride
// + (k - k0) * kPanelWidth + (j - col0) % kPanelWidth, for k in the block and j in the panels.
// Pre-packed B (the whole of it: col0 = k0 = 0), or a task's slot (one column chunk of one K
// block, packed by PackBChunk).
struct PanelSource {
  const void* base = nullptr;
  int64_t panel_stride = 0;  // elements
  int64_t col0 = 0;          // a multiple of kPanelWidth
  int64_t k0 = 0;
};

// Fills the tile at (row0, col0) covering k in [k0, k0 + k_count), for a tile of at most
// kMaxRows x kVectors (the pointers past them, never read, repeat the first).
template <typename TW, size_t kMaxRows, size_t kVectors, class DF>
HWY_INLINE GemmTile MakeTile(DF df, const detail::GemmTaskArgs& g, const PanelSource& b, int64_t row0, int64_t rows,
                             int64_t col0, int64_t cols, int64_t k0, int64_t k_count) {
  GemmTile t;
  for (size_t r = 0; r < kMaxTileRows; ++r) {
    const int64_t row = row0 + (r < kMaxRows && static_cast<int64_t>(r) < rows ? static_cast<int64_t>(r) : 0);
    t.a.rows[r] = g.a + row * g.lda + k0;
  }
  t.a.k_count = k_count;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const TW* base = static_cast<const TW*>(b.base) + (k0 - b.k0) * detail::kPanelWidth;
  for (size_t v = 0; v < kMaxTileVectors; ++v) {
    const int64_t col = col0 + static_cast<int64_t>(v) * lanes;
    if (v >= kVectors) {
      t.b.vectors[v] = t.b.vectors[0];
      continue;
    }
    const int64_t j = (col < col0 + cols ? col : col0) - b.col0;
    t.b.vectors[v] = base + (j / detail::kPanelWidth) * b.panel_stride + j % detail::kPanelWidth;
  }
  t.b.k_stride = static_cast<size_t>(detail::kPanelWidth);
  // Partial sums of a K block are stored as f32, which needs an f32 C: the planner plans a
  // single K block when C is f16.
  t.c_element_bytes = g.c_type == DType::kF32 ? 4 : 2;
  t.c_row_bytes = static_cast<size_t>(g.ldc) * t.c_element_bytes;
  t.c = static_cast<uint8_t*>(g.c) + (row0 * g.ldc + col0) * static_cast<int64_t>(t.c_element_bytes);
  t.bias = g.bias ? g.bias + col0 : nullptr;
  t.valid_rows = static_cast<size_t>(rows);
  t.valid_cols = static_cast<size_t>(cols);
  t.k_begin = k0;
  t.load_c = g.accumulate || k0 > 0;
  t.finish = k0 + k_count == g.k;
  return t;
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_TILES_INL_H_
