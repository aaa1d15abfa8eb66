// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The GEMM loop nest of one task (RunTaskTiles: K blocks, column chunks, row blocks, column
// tiles, row tiles, with the prefetch plan) and the two task kinds: blocked (M > 16) and small-M
// (M <= 16). Compiled once per target.

#if defined(EK_CPU_GEMM_LOOPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_LOOPS_INL_H_
#undef EK_CPU_GEMM_LOOPS_INL_H_
#else
#define EK_CPU_GEMM_LOOPS_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/gemm/pack_view-inl.h"
#include "ek/cpu/gemm/tiles-inl.h"
#include "ek/cpu/tile/prefetch-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A task covers rows [row_begin, row_end) x columns [col_begin, col_end) of C. Loops, outer to
// inner:
//   K blocks of kc:   partial sums go through C between blocks (f32 C only; one block
//                     otherwise), so every output stays one FMA chain in k order.
//   column chunks:    pack_columns wide; a view of B is packed here into the task's slot.
//   row blocks:       mc rows: their A (mc x kc) stays in L2 (a task over a view of B covers all
//                     rows, so each part of B is packed once).
//   column tiles:     kVectors vectors; the tile's B sliver (kc x tile width) is reused by every
//                     row tile below, from L1 / L2.
//   row tiles:        at most kMaxRows rows, the block split evenly (each runs its exact row count).
// While they run, the tiles prefetch what comes next (PrefetchShare): on pre-packed B the next
// column tile's sliver, shared by the row tiles of the current one; on a view of B the next
// chunk's rows of B, shared by all the tiles of the current chunk.
// Not inlined: the GEMM tile's nest is one function per weight type, shared by the blocked and
// small-M tasks (inlined into both, it was compiled twice: a TU calling Gemm took 48 s at -O2
// for 7 x86 targets).
template <typename TW, size_t kMaxRows, size_t kVectors>
HWY_NOINLINE void RunTaskTiles(const detail::GemmTaskArgs& g, size_t task, int64_t row_begin, int64_t row_end,
                             int64_t col_begin, int64_t col_end) {
  const GemmTag df;
  constexpr int64_t kW = detail::kPanelWidth;
  const int64_t tile_cols = static_cast<int64_t>(kVectors * hn::Lanes(df));
  const int64_t tile_rows = static_cast<int64_t>(kMaxRows);
  const int64_t element_bytes = static_cast<int64_t>(sizeof(TW));
  const bool pack = g.b_panel_stride == 0;
  TW* slot = pack ? reinterpret_cast<TW*>(g.pack_slots + task * g.pack_slot_bytes) : nullptr;
  const int64_t chunk_cols = pack ? g.pack_columns : col_end - col_begin;
  int64_t row_tiles = 0;  // per column tile, over all row blocks
  for (int64_t block = row_begin; block < row_end; block += g.mc) {
    row_tiles += (HWY_MIN(row_end, block + g.mc) - block + tile_rows - 1) / tile_rows;
  }
  for (int64_t k0 = 0; k0 < g.k || k0 == 0; k0 += g.kc) {
    const int64_t k_count = HWY_MIN(g.kc, g.k - k0);
    const int64_t next_k0 = k0 + g.kc, next_k_count = HWY_MIN(g.kc, g.k - next_k0);
    for (int64_t chunk = col_begin; chunk < col_end; chunk += chunk_cols) {
      const int64_t chunk_end = HWY_MIN(col_end, chunk + chunk_cols);
      PanelSource b;
      // What the tiles of this chunk prefetch (a view of B: the next chunk's rows, before packing).
      PrefetchRegion next_region;
      if (pack) {
        PackBChunk<TW>(g, k0, k_count, chunk, chunk_end - chunk, slot);
        b = PanelSource{slot, k_count * kW, chunk, k0};
        const bool last_chunk = chunk + chunk_cols >= col_end;
        const int64_t nk0 = last_chunk ? next_k0 : k0, nk = last_chunk ? next_k_count : k_count;
        const int64_t nc0 = last_chunk ? col_begin : chunk + chunk_cols;
        const int64_t ncols = HWY_MIN(col_end, nc0 + chunk_cols) - nc0;
        if (nk > 0 && (g.b_n_stride == 1 || g.b_k_stride == 1) && g.prefetch_next_chunk) {
          const bool row_major = g.b_n_stride == 1;
          next_region = SplitIntoStreams(static_cast<const TW*>(g.b) + nk0 * g.b_k_stride + nc0 * g.b_n_stride,
                                         row_major ? nk : ncols, (row_major ? ncols : nk) * element_bytes,
                                         (row_major ? g.b_k_stride : g.b_n_stride) * element_bytes);
        }
      } else {
        b = PanelSource{g.b, g.b_panel_stride, 0, 0};
      }
      const int64_t chunk_tiles = (chunk_end - chunk + tile_cols - 1) / tile_cols * row_tiles;
      int64_t chunk_tile = 0;
      for (int64_t col = chunk; col < chunk_end; col += tile_cols) {
        const int64_t cols = HWY_MIN(tile_cols, chunk_end - col);
        // Pre-packed B: the next column tile's sliver (or the first one of the next K block).
        PrefetchRegion next_sliver;
        // Not for GEMV tiles: they stream 4 panels at once, which the hardware prefetchers
        // follow; prefetching the next sliver too was slower (Zen2, 1x11008x4096 packed, driver
        // medians 9.7 -> 11.1 GFLOP/s without it).
        if (!pack && kMaxRows > 1) {
          const bool last_tile = col + tile_cols >= chunk_end;
          const int64_t nk0 = last_tile ? next_k0 : k0, nk = last_tile ? next_k_count : k_count;
          const int64_t ncol = last_tile ? col_begin : col + tile_cols;
          if (nk > 0) {
            next_sliver = SplitIntoStreams(static_cast<const TW*>(g.b) + (ncol / kW) * g.b_panel_stride + nk0 * kW,
                                           (HWY_MIN(tile_cols, col_end - ncol) + kW - 1) / kW, nk * kW * element_bytes,
                                           g.b_panel_stride * element_bytes);
          }
        }
        // Strips (RunTileStrip) for this column tile's full tiles: short K blocks, enough row
        // tiles, all columns valid, f32 C, and not on a view of B whose next chunk the tiles
        // prefetch (few rows of A, large B).
        // A last column tile of exactly half the width runs half-width strips (RunTileStrip).
        const bool half_width = kHasHalfWidthTile<kMaxRows, kVectors> && cols == tile_cols / 2;
        const bool strips = k_count <= kStripMaxK && row_tiles >= kStripMinRowTiles && next_region.base == nullptr &&
                            (cols == tile_cols || half_width) && g.c_type == DType::kF32;
        int64_t row_tile = 0;
        for (int64_t block = row_begin; block < row_end; block += g.mc) {
          const int64_t block_end = HWY_MIN(row_end, block + g.mc);
          // The block's rows split as evenly as the tile count allows (16 rows on a 6-row tile:
          // 6, 5, 5, not 6, 6, 4): a short tile has fewer independent FMA chains than the FMA
          // latency needs, so the shortest tile is kept as tall as possible.
          const int64_t block_tiles = (block_end - block + tile_rows - 1) / tile_rows;
          const int64_t short_rows = (block_end - block) / block_tiles;
          const int64_t tall_tiles = (block_end - block) % block_tiles;  // of short_rows + 1
          // Full-height tiles: all when short_rows == tile_rows, the tall ones when they are
          // tile_rows high, none otherwise.
          const int64_t full_tiles =
              short_rows == tile_rows ? block_tiles : short_rows + 1 == tile_rows ? tall_tiles : 0;
          int64_t row = block, i = 0;
          if (strips && full_tiles > 0) {
            const GemmTile first =
                MakeTile<TW, kMaxRows, kVectors>(df, g, b, row, tile_rows, col, cols, k0, k_count);
            RunTileStrip<kMaxRows, kVectors, GemmTag, TW>(df, g, first, full_tiles);
            row += full_tiles * tile_rows;
            i = full_tiles;
            row_tile += full_tiles;
            chunk_tile += full_tiles;
          }
          for (; row < block_end; ++i, ++row_tile, ++chunk_tile) {
            const int64_t rows = short_rows + (i < tall_tiles ? 1 : 0);
            const GemmTile t = MakeTile<TW, kMaxRows, kVectors>(df, g, b, row, rows, col, cols, k0, k_count);
            const PrefetchShare prefetch = pack ? ShareOfRegion(next_region, chunk_tile, chunk_tiles, k_count)
                                                : ShareOfRegion(next_sliver, row_tile, row_tiles, k_count);
            RunTile<kMaxRows, kVectors, GemmTag, TW>(df, g, t, prefetch);
            row += rows;
          }
        }
      }
    }
    if (g.k == 0) break;
  }
}

// Blocked GEMM (m > 16): task = row block [mc rows] x column block [nc columns] of C.
template <typename TW>
HWY_INLINE void RunBlockedTask(const detail::GemmTaskArgs& g, size_t task) {
  const int64_t row_block = static_cast<int64_t>(task) / g.column_blocks;
  const int64_t col_block = static_cast<int64_t>(task) % g.column_blocks;
  const int64_t row_begin = row_block * g.row_block_rows, row_end = HWY_MIN(g.m, row_begin + g.row_block_rows);
  const int64_t col_begin = col_block * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  RunTaskTiles<TW, kGemmTileRows, kGemmTileVectors>(g, task, row_begin, row_end, col_begin, col_end);
}

// Small-M (m <= 16): task = column block [nc columns] of C, all rows. 1 row (GEMV): tiles of 1 row
// x kGemvTileVectors; 2 rows: 2 rows x 4 vectors; one K block for both (B is read once). 3..16
// rows: the GEMM tile, K blocks of kc so that the column tile's B sliver is read from memory by
// the first row group and from L1 / L2 by the others.
template <typename TW>
HWY_INLINE void RunSmallMTask(const detail::GemmTaskArgs& g, size_t task) {
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  if (g.m == 1) {
    RunTaskTiles<TW, 1, kGemvTileVectors>(g, task, 0, g.m, col_begin, col_end);
  } else if (g.m == 2) {
    RunTaskTiles<TW, 2, kWideTileVectors>(g, task, 0, g.m, col_begin, col_end);
  } else {
    RunTaskTiles<TW, kGemmTileRows, kGemmTileVectors>(g, task, 0, g.m, col_begin, col_end);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_LOOPS_INL_H_
