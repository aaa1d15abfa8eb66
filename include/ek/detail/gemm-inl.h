// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Per-target floating-point GEMM: one micro-kernel template (MultiplyTile), instantiated per
// register tile and weight type, and the two loop nests that call it (blocked GEMM and decode).
// Compiled once per Highway target through ek/detail/kernels-inl.h; planning, validation,
// packing and threading live in ek/gemm.h. Numerics: docs/gemm.md.
//
// Every output element is one chain of fused multiply-adds in increasing k, starting from 0 (or
// from C's old value when accumulating); bias and activation are applied after the last k. K
// blocking keeps that chain intact: a tile that continues a K block reloads its f32 partial sums
// from C into the accumulators and goes on. So the result of an element depends only on the
// target (FMA or not), never on the blocking, the thread count, the path (decode or blocked) or
// whether B was packed by the caller or by ek.

#if defined(EK_DETAIL_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_DETAIL_GEMM_INL_H_
#undef EK_DETAIL_GEMM_INL_H_
#else
#define EK_DETAIL_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <cstring>

#include "ek/detail/gemm_types.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Register tile per target ----------------------------------------------------------------
// A tile is kGemmTileRows rows x kGemmTileVectors f32 vectors of C, held in accumulators for a
// whole K block. Per k step it loads kGemmTileVectors vectors of B, broadcasts one A value per row
// and issues rows x vectors FMAs.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// AVX-512, 32 zmm: 8 x 2 (8 x 32 floats). Accumulators 16 + B 2 + A broadcast 1 = 19 of 32;
// 16 independent FMA chains cover 2 ports x 4 cycles latency; 8 A row pointers + 2 B pointers
// fit the 16 general registers (more rows would spill pointers).
constexpr size_t kGemmTileRows = 8;
constexpr size_t kGemmTileVectors = 2;
#elif HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// AVX2, 16 ymm: 6 x 2 (6 x 16 floats). Accumulators 12 + B 2 + A broadcast 1 = 15 of 16.
constexpr size_t kGemmTileRows = 6;
constexpr size_t kGemmTileVectors = 2;
#elif HWY_ARCH_ARM_A64
// NEON and SVE (sized for 128-bit vectors, what phones implement), 32 registers: 6 x 4
// (6 x 16 floats). Accumulators 24 + B 4 + A broadcast 1 = 29 of 32.
constexpr size_t kGemmTileRows = 6;
constexpr size_t kGemmTileVectors = 4;
#else
// SSE2..SSE4 (no FMA: multiply, then add), 16 xmm: 4 x 2 (4 x 8 floats). Accumulators 8 + B 2 +
// A broadcast 1 + product 1 = 12 of 16.
constexpr size_t kGemmTileRows = 4;
constexpr size_t kGemmTileVectors = 2;
#endif
// Decode tiles have registers to spare. Two rows (M = 2): 4 vectors wide, 4 independent FMA
// chains per row (8 accumulators + 4 B + 2 A broadcasts). One row (GEMV, M = 1): as wide as 8
// vectors allow, up to 64 columns = 4 panels of packed B, so that DRAM streams 4 panels at once
// (measured on Zen2, GEMV over 11008 x 4096 packed f32: 1 / 2 / 4 / 6 panels at once 14 / 19 /
// 22 / 23 GB/s, row-major rows 8 at a time 24 GB/s). Registers: 8 accumulators + 1 A broadcast
// + 1-2 B (AVX2, NEON, SSE: 64, 32, 32 columns); AVX-512: 4 (64 columns).
constexpr size_t kDecodeTileVectors = 4;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr size_t kGemvTileVectors = 4;
#else
constexpr size_t kGemvTileVectors = 8;
#endif
constexpr size_t kMaxTileVectors = 8;  // the pointer arrays below hold this many
static_assert(kGemmTileRows <= 8 && kGemmTileVectors <= kMaxTileVectors && kGemvTileVectors <= kMaxTileVectors,
              "MultiplyTile names 8 x 8 accumulators");

// Vectors of at most one panel (16 floats): a vector never straddles panels of packed B.
using GemmTag = hn::CappedTag<float, static_cast<size_t>(detail::kPanelWidth)>;
// One lane: the same operations as GemmTag, for the columns of a row-major B that do not fill a
// vector (decode path only; packed panels are padded).
using GemmTailTag = hn::CappedTag<float, 1>;

// ---- Loads and stores of each storage type -------------------------------------------------------
template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const float* HWY_RESTRICT p) {
  return hn::LoadU(df, p);
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const hwy::float16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadAsF32(DF df, const hwy::bfloat16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::bfloat16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}

// The first `count` (1..Lanes) lanes of C at p, as f32; lanes past count are zero.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadOutput(DF df, const void* p, DType type, size_t count) {
  if (type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadN(dh, static_cast<const hwy::float16_t*>(p), count));
  }
  return hn::LoadN(df, static_cast<const float*>(p), count);
}

template <class DF>
HWY_INLINE void StoreOutput(DF df, hn::Vec<DF> v, void* p, DType type, size_t count) {
  if (type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    hn::StoreN(hn::DemoteTo(dh, v), dh, static_cast<hwy::float16_t*>(p), count);
    return;
  }
  if (count == hn::Lanes(df)) {
    hn::StoreU(v, df, static_cast<float*>(p));
  } else {
    hn::StoreN(v, df, static_cast<float*>(p), count);
  }
}

// The part of B the tiles will read next (the next column tile's sliver of pre-packed B, or the
// next column chunk of a view of B before it is packed), split into 4 streams read side by side
// (SplitIntoStreams): stream 0 is rows of cache lines, `row_stride` bytes apart, and streams 1, 2
// and 3 are the same lines at + 1, 2 and 3 x stream_stride bytes. Every tile over the current
// sliver or chunk prefetches its share of stream 0's lines (ShareOfRegion) and the matching lines
// of the other three, 4 lines every every_mask + 1 (>= 8) k steps of its micro-kernel. So memory
// streams B while the FMAs run instead of the first row tile waiting for it, and 4 runs are in
// flight at once, which DRAM streams faster than one (the hardware prefetchers, which stop at
// page boundaries, also need not follow the jumps between panels or rows). Measured on Zen2,
// pre-packed B, driver medians: 8 x 4096 x 4096 42 -> 64 GFLOP/s and 16 x 4096 x 4096 68 -> 82
// with 4 streams instead of one.
struct PrefetchRegion {
  const void* base = nullptr;  // stream 0: rows x row_bytes, row_stride apart
  int64_t rows = 0;
  int64_t row_bytes = 0;
  int64_t row_stride = 0;
  int64_t stream_stride = 0;   // bytes from stream i to stream i + 1
};

// A region of `rows` rows x `row_bytes` bytes, row_stride apart, as 4 streams: 4 groups of rows
// (rows past a multiple of 4 are left to the hardware prefetchers), or, with fewer than 4 rows
// (the panels of a sliver of pre-packed B), the 4 quarters of every row.
HWY_INLINE PrefetchRegion SplitIntoStreams(const void* base, int64_t rows, int64_t row_bytes, int64_t row_stride) {
  PrefetchRegion region;
  region.base = base;
  region.row_stride = row_stride;
  region.rows = rows >= 4 ? rows / 4 : rows;
  region.row_bytes = rows >= 4 ? row_bytes : (row_bytes + 3) / 4;
  region.stream_stride = rows >= 4 ? region.rows * row_stride : region.row_bytes;
  return region;
}

struct PrefetchShare {
  const uint8_t* line = nullptr;      // the first line of this tile's share of stream 0
  const uint8_t* row_end = nullptr;   // the end of that line's row
  int64_t row_stride = 0;             // bytes from one row to the next
  int64_t row_bytes = 0;              // bytes of lines per row
  int64_t lines = 0;                  // lines in this tile's share of stream 0
  int64_t every_mask = 0;             // prefetch when (k & every_mask) == 0
  int64_t stream_stride = 0;          // PrefetchRegion's
};

// Where one tile's operands are. A rows and B columns past the valid ones point at valid data
// (row 0 / vector 0), so the micro-kernel never branches; their results are not stored.
struct TileOperands {
  const float* a_rows[8];                  // row r of A at column k0
  const void* b_vectors[kMaxTileVectors];  // vector v of B at row k0 (of the weight type)
  size_t b_k_stride = 0;                   // elements from row k to row k + 1 of B
  int64_t k_count = 0;
  uint8_t* c = nullptr;                    // C at (row0, col0)
  size_t c_row_bytes = 0;
  size_t c_element_bytes = 4;
  const float* bias = nullptr;             // at col0, or null
  size_t valid_rows = 0;
  size_t valid_cols = 0;
  int64_t k_begin = 0;
  bool load_c = false;  // start from C (accumulate, or a later K block)
  bool finish = false;  // last K block: add bias, clamp, store in C's type; else store f32 partial sums
  PrefetchShare prefetch;  // this tile's share of the next B sliver or chunk (none: lines = 0)
};

// Tiles whose columns are all valid, with an f32 C, keep C in the accumulators directly: loaded
// from C when continuing, bias and clamp in registers, stored to C. Other tiles (the last
// columns of C, an f16 C) pass their accumulators through a buffer on the stack (row r, vector v
// at (r * kMaxTileVectors + v) * Lanes), converted and stored by code that exists once per
// target (LoadTileStart, FinishTile) instead of once per tile shape.
constexpr size_t kTileBufferFloats = 8 * kMaxTileVectors * static_cast<size_t>(detail::kPanelWidth);

// Prologue: the tile's starting values from C (f32 partial sums, or C_old when accumulating),
// for `rows` rows of the buffer (rows past the valid ones: zeros).
template <class DF>
HWY_NOINLINE void LoadTileStart(DF df, const detail::GemmTaskArgs& g, const TileOperands& t, size_t rows,
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

// The epilogue on one vector of f32 sums: + bias (bias points at the vector's columns, or is
// null), then the clamp. Shared by the tiles and the row streaming.
template <class DF>
HWY_INLINE hn::Vec<DF> AddBiasAndClamp(DF df, const detail::GemmTaskArgs& g, hn::Vec<DF> acc,
                                       const float* HWY_RESTRICT bias, size_t count) {
  if (bias) acc = hn::Add(acc, count == hn::Lanes(df) ? hn::LoadU(df, bias) : hn::LoadN(df, bias, count));
  if (g.clamp) acc = hn::Min(hn::Max(acc, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
  return acc;
}

// Epilogue of a buffered tile: on the last K block + bias, clamp, convert to C's type; before
// it, f32 partial sums.
template <class DF>
HWY_NOINLINE void FinishTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t,
                             const float* HWY_RESTRICT buffer) {
  const size_t lanes = hn::Lanes(df);
  const DType type = t.finish ? g.c_type : DType::kF32;
  for (size_t r = 0; r < t.valid_rows; ++r) {
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, t.valid_cols - col);
      auto acc = hn::Load(df, buffer + (r * kMaxTileVectors + v) * lanes);
      if (t.finish) acc = AddBiasAndClamp(df, g, acc, t.bias ? t.bias + col : nullptr, count);
      StoreOutput(df, acc, t.c + r * t.c_row_bytes + col * t.c_element_bytes, type, count);
    }
  }
}

// Accumulators are named variables, not arrays: SVE vectors are sizeless and cannot be array
// elements. acc_R_V is row R, vector V; those outside kRows x kVectors are never touched and the
// compiler drops them.
#define EK_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EK_TILE_DECLARE_ROW(R)                                                                               \
  VF acc_##R##_0 = hn::Zero(df), acc_##R##_1 = hn::Zero(df), acc_##R##_2 = hn::Zero(df), acc_##R##_3 = hn::Zero(df); \
  VF acc_##R##_4 = hn::Zero(df), acc_##R##_5 = hn::Zero(df), acc_##R##_6 = hn::Zero(df), acc_##R##_7 = hn::Zero(df);
#define EK_TILE_FOR_VECTORS(R, X)          \
  X(R, 0)                                  \
  if constexpr (kVectors > 1) { X(R, 1) }  \
  if constexpr (kVectors > 2) { X(R, 2) }  \
  if constexpr (kVectors > 3) { X(R, 3) }  \
  if constexpr (kVectors > 4) { X(R, 4) }  \
  if constexpr (kVectors > 5) { X(R, 5) }  \
  if constexpr (kVectors > 6) { X(R, 6) }  \
  if constexpr (kVectors > 7) { X(R, 7) }
#define EK_TILE_LOAD(R, V) acc_##R##_##V = hn::LoadU(df, io + R * io_stride + V * lanes);
#define EK_TILE_LOAD_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_LOAD) }
#define EK_TILE_FMA(R, V) acc_##R##_##V = hn::MulAdd(a_##R, b_##V, acc_##R##_##V);
#define EK_TILE_LOAD_FMA(R, V) acc_##R##_##V = hn::MulAdd(a_##R, LoadAsF32(df, b##V), acc_##R##_##V);
#define EK_TILE_STEP_ROW(R)                            \
  if constexpr (R < kRows) {                           \
    const VF a_##R = hn::Set(df, t.a_rows[R][k]);      \
    EK_TILE_FOR_VECTORS(R, EK_TILE_FMA)                \
  }
#define EK_TILE_EPILOGUE(R, V) \
  acc_##R##_##V = AddBiasAndClamp(df, g, acc_##R##_##V, t.bias ? t.bias + V * lanes : nullptr, lanes);
#define EK_TILE_EPILOGUE_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_EPILOGUE) }
#define EK_TILE_STORE(R, V) hn::StoreU(acc_##R##_##V, df, io + R * io_stride + V * lanes);
#define EK_TILE_STORE_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_STORE) }

// The micro-kernel: C tile [kRows x kVectors * Lanes(df)] for k in [k0, k0 + k_count).
//   before:    accumulators start at zero, or (t.load_c) from io: C itself (row stride io_stride
//              floats) or the tile's buffer.
//   k loop:    kVectors loads of B (one row of the tile's B sliver, from L1 / L2), then per row
//              one broadcast of A and kVectors FMAs. Nothing else runs in the loop.
//   after:     on C's last K block, when writing C directly (epilogue), + bias and the clamp in
//              registers; the accumulators are stored to io.
template <size_t kRows, size_t kVectors, class DF, typename TW>
HWY_INLINE void MultiplyTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t, float* HWY_RESTRICT io,
                             size_t io_stride, bool epilogue) {
  using VF = hn::Vec<DF>;
  const size_t lanes = hn::Lanes(df);
  EK_TILE_ROWS(EK_TILE_DECLARE_ROW)
  if (t.load_c) {
    EK_TILE_ROWS(EK_TILE_LOAD_ROW)
  }
  // Vectors past kVectors point at vector 0 (valid memory): their loads are dead and dropped.
  const TW* HWY_RESTRICT b0 = static_cast<const TW*>(t.b_vectors[0]);
  const TW* HWY_RESTRICT b1 = static_cast<const TW*>(t.b_vectors[1]);
  const TW* HWY_RESTRICT b2 = static_cast<const TW*>(t.b_vectors[2]);
  const TW* HWY_RESTRICT b3 = static_cast<const TW*>(t.b_vectors[3]);
  const TW* HWY_RESTRICT b4 = static_cast<const TW*>(t.b_vectors[4]);
  const TW* HWY_RESTRICT b5 = static_cast<const TW*>(t.b_vectors[5]);
  const TW* HWY_RESTRICT b6 = static_cast<const TW*>(t.b_vectors[6]);
  const TW* HWY_RESTRICT b7 = static_cast<const TW*>(t.b_vectors[7]);
  const size_t stride = t.b_k_stride;
  // Runs of k steps with nothing but loads and FMAs, each after the prefetch of one line of this
  // tile's share in each of the 4 streams (PrefetchShare: every 2^n steps); once the share is
  // done, one run to the end.
  const uint8_t* prefetch = t.prefetch.line;
  const uint8_t* prefetch_row_end = t.prefetch.row_end;
  int64_t prefetch_left = t.prefetch.lines;
  const int64_t every = t.prefetch.every_mask + 1;
  for (int64_t k = 0; k < t.k_count;) {
    int64_t run_end = t.k_count;
    if (prefetch_left > 0) {
      hwy::Prefetch(prefetch);
      hwy::Prefetch(prefetch + t.prefetch.stream_stride);
      hwy::Prefetch(prefetch + 2 * t.prefetch.stream_stride);
      hwy::Prefetch(prefetch + 3 * t.prefetch.stream_stride);
      prefetch += 64;
      --prefetch_left;
      if (prefetch == prefetch_row_end) {
        prefetch += t.prefetch.row_stride - t.prefetch.row_bytes;
        prefetch_row_end += t.prefetch.row_stride;
      }
      run_end = HWY_MIN(t.k_count, k + every);
    }
    for (; k < run_end; ++k) {
      if constexpr (kRows == 1) {
        // One row (GEMV): per vector a load and an FMA, in that order in the source: loading
        // all vectors first would need 8 more registers for converted 16-bit weights and spill
        // an accumulator on AVX2 (bf16 GEMV at 72-80% of the DRAM probe with the spill, 96-100%
        // without, Zen2).
        const VF a_0 = hn::Set(df, t.a_rows[0][k]);
        EK_TILE_FOR_VECTORS(0, EK_TILE_LOAD_FMA)
      } else {
        const VF b_0 = LoadAsF32(df, b0);
        const VF b_1 = LoadAsF32(df, b1);
        const VF b_2 = LoadAsF32(df, b2);
        const VF b_3 = LoadAsF32(df, b3);
        const VF b_4 = LoadAsF32(df, b4);
        const VF b_5 = LoadAsF32(df, b5);
        const VF b_6 = LoadAsF32(df, b6);
        const VF b_7 = LoadAsF32(df, b7);
        (void)b_1;
        (void)b_2;
        (void)b_3;
        (void)b_4;
        (void)b_5;
        (void)b_6;
        (void)b_7;
        EK_TILE_ROWS(EK_TILE_STEP_ROW)
      }
      b0 += stride;
      b1 += stride;
      b2 += stride;
      b3 += stride;
      b4 += stride;
      b5 += stride;
      b6 += stride;
      b7 += stride;
    }
  }
  if (epilogue) {
    EK_TILE_ROWS(EK_TILE_EPILOGUE_ROW)
  }
  EK_TILE_ROWS(EK_TILE_STORE_ROW)
}

#undef EK_TILE_ROWS
#undef EK_TILE_DECLARE_ROW
#undef EK_TILE_FOR_VECTORS
#undef EK_TILE_LOAD
#undef EK_TILE_LOAD_ROW
#undef EK_TILE_FMA
#undef EK_TILE_LOAD_FMA
#undef EK_TILE_STEP_ROW
#undef EK_TILE_EPILOGUE
#undef EK_TILE_EPILOGUE_ROW
#undef EK_TILE_STORE
#undef EK_TILE_STORE_ROW

// Runs MultiplyTile with kRows = t.valid_rows (1..kMaxRows): an exact row count, so edge tiles
// do no wasted work. kAllRows: always kMaxRows rows (one instantiation; the rows past the valid
// ones repeat row 0 and are not stored).
template <size_t kMaxRows, size_t kVectors, class DF, typename TW, bool kAllRows = false>
HWY_INLINE void MultiplyTileRows(DF df, const detail::GemmTaskArgs& g, const TileOperands& t, float* HWY_RESTRICT io,
                                 size_t io_stride, bool epilogue) {
  if constexpr (kMaxRows > 1 && !kAllRows) {
    if (t.valid_rows < kMaxRows) {
      return MultiplyTileRows<kMaxRows - 1, kVectors, DF, TW>(df, g, t, io, io_stride, epilogue);
    }
  }
  MultiplyTile<kMaxRows, kVectors, DF, TW>(df, g, t, io, io_stride, epilogue);
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
HWY_INLINE void RunTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t);

// The half-width tile, out of line: it runs once per row tile of the last column only.
template <size_t kRows, size_t kVectors, class DF, typename TW>
HWY_NOINLINE void RunHalfWidthTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t) {
  RunTile<kRows, kVectors, DF, TW, /*kAllRows=*/true>(df, g, t);
}

// One tile, start to finish: C directly (all columns valid, f32 C, and with kAllRows all rows
// valid), or through the buffer.
template <size_t kMaxRows, size_t kVectors, class DF, typename TW, bool kAllRows>
HWY_INLINE void RunTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t) {
  const size_t lanes = hn::Lanes(df);
  if constexpr (kHasHalfWidthTile<kMaxRows, kVectors>) {
    if (t.valid_cols <= kVectors / 2 * lanes) return RunHalfWidthTile<kMaxRows, kVectors / 2, DF, TW>(df, g, t);
  }
  if (g.c_type == DType::kF32 && t.valid_cols == kVectors * lanes && (!kAllRows || t.valid_rows == kMaxRows)) {
    MultiplyTileRows<kMaxRows, kVectors, DF, TW, kAllRows>(df, g, t, reinterpret_cast<float*>(t.c),
                                                           t.c_row_bytes / 4, t.finish);
    return;
  }
  HWY_ALIGN float buffer[kTileBufferFloats];
  if (t.load_c) LoadTileStart(df, g, t, kAllRows ? kMaxRows : t.valid_rows, buffer);
  MultiplyTileRows<kMaxRows, kVectors, DF, TW, kAllRows>(df, g, t, buffer, kMaxTileVectors * lanes, false);
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
HWY_INLINE void RunTileStrip(DF df, const detail::GemmTaskArgs& g, TileOperands t, int64_t tiles) {
  if constexpr (kHasHalfWidthTile<kRows, kVectors>) {
    if (t.valid_cols <= kVectors / 2 * hn::Lanes(df)) return RunTileStrip<kRows, kVectors / 2, DF, TW>(df, g, t, tiles);
  }
  const int64_t a_step = static_cast<int64_t>(kRows) * g.lda;
  for (int64_t i = 0; i < tiles; ++i) {
    MultiplyTile<kRows, kVectors, DF, TW>(df, g, t, reinterpret_cast<float*>(t.c), t.c_row_bytes / 4, t.finish);
    if (i + 1 == tiles) break;  // no pointers past the strip's last tile
    for (size_t r = 0; r < kRows; ++r) t.a_rows[r] += a_step;
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

// Fills the operands of the tile at (row0, col0) covering k in [k0, k0 + k_count), for a tile of
// at most kMaxRows x kVectors (the pointers past them, never read, repeat the first).
template <typename TW, size_t kMaxRows, size_t kVectors, class DF>
HWY_INLINE TileOperands MakeTile(DF df, const detail::GemmTaskArgs& g, const PanelSource& b, int64_t row0,
                                 int64_t rows, int64_t col0, int64_t cols, int64_t k0, int64_t k_count) {
  TileOperands t;
  for (size_t r = 0; r < 8; ++r) {
    const int64_t row = row0 + (r < kMaxRows && static_cast<int64_t>(r) < rows ? static_cast<int64_t>(r) : 0);
    t.a_rows[r] = g.a + row * g.lda + k0;
  }
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const TW* base = static_cast<const TW*>(b.base) + (k0 - b.k0) * detail::kPanelWidth;
  for (size_t v = 0; v < kMaxTileVectors; ++v) {
    const int64_t col = col0 + static_cast<int64_t>(v) * lanes;
    if (v >= kVectors) {
      t.b_vectors[v] = t.b_vectors[0];
      continue;
    }
    const int64_t j = (col < col0 + cols ? col : col0) - b.col0;
    t.b_vectors[v] = base + (j / detail::kPanelWidth) * b.panel_stride + j % detail::kPanelWidth;
  }
  t.b_k_stride = static_cast<size_t>(detail::kPanelWidth);
  t.k_count = k_count;
  // Partial sums of a K block are stored as f32, which needs an f32 C: ek/gemm.h plans a single
  // K block when C is f16.
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

// ---- Packing a view of B on the fly ---------------------------------------------------------------
// 4 x 4 transpose of 32-bit lanes in 128-bit vectors (which exist on every target): r_i holds
// row i on entry and column i on exit.
template <class D4>
HWY_INLINE void Transpose4x4(D4 d, hn::Vec<D4>& r0, hn::Vec<D4>& r1, hn::Vec<D4>& r2, hn::Vec<D4>& r3) {
  const hn::Repartition<uint64_t, D4> d64;
  const auto t0 = hn::BitCast(d64, hn::InterleaveLower(d, r0, r1));  // r0[0] r1[0] r0[1] r1[1]
  const auto t1 = hn::BitCast(d64, hn::InterleaveUpper(d, r0, r1));  // r0[2] r1[2] r0[3] r1[3]
  const auto t2 = hn::BitCast(d64, hn::InterleaveLower(d, r2, r3));
  const auto t3 = hn::BitCast(d64, hn::InterleaveUpper(d, r2, r3));
  r0 = hn::BitCast(d, hn::InterleaveLower(d64, t0, t2));
  r1 = hn::BitCast(d, hn::InterleaveUpper(d64, t0, t2));
  r2 = hn::BitCast(d, hn::InterleaveLower(d64, t1, t3));
  r3 = hn::BitCast(d, hn::InterleaveUpper(d64, t1, t3));
}

// Four columns of a transposed f32 B (column c at src + c * column_stride, contiguous along k)
// written as k_count rows of 4 at dst + k * dst_stride: 4 x 4 transposes (bits copied).
template <typename TW>
HWY_INLINE void TransposeColumns4(const TW* HWY_RESTRICT src, int64_t column_stride, int64_t k_count,
                                  TW* HWY_RESTRICT dst, int64_t dst_stride) {
  static_assert(sizeof(TW) == 4, "32-bit lanes");
  const hn::FixedTag<uint32_t, 4> d;
  const uint32_t* HWY_RESTRICT c0 = reinterpret_cast<const uint32_t*>(src);
  const uint32_t* HWY_RESTRICT c1 = c0 + column_stride;
  const uint32_t* HWY_RESTRICT c2 = c1 + column_stride;
  const uint32_t* HWY_RESTRICT c3 = c2 + column_stride;
  uint32_t* HWY_RESTRICT out = reinterpret_cast<uint32_t*>(dst);
  int64_t k = 0;
  for (; k + 4 <= k_count; k += 4) {
    auto r0 = hn::LoadU(d, c0 + k), r1 = hn::LoadU(d, c1 + k), r2 = hn::LoadU(d, c2 + k), r3 = hn::LoadU(d, c3 + k);
    Transpose4x4(d, r0, r1, r2, r3);
    hn::StoreU(r0, d, out + (k + 0) * dst_stride);
    hn::StoreU(r1, d, out + (k + 1) * dst_stride);
    hn::StoreU(r2, d, out + (k + 2) * dst_stride);
    hn::StoreU(r3, d, out + (k + 3) * dst_stride);
  }
  for (; k < k_count; ++k) {
    out[k * dst_stride + 0] = c0[k];
    out[k * dst_stride + 1] = c1[k];
    out[k * dst_stride + 2] = c2[k];
    out[k * dst_stride + 3] = c3[k];
  }
}

// B given as a view (not pre-packed) is packed by each task, one K block x one column chunk at a
// time, into the task's slot of the workspace, in the packed format's panel layout (PanelSource)
// with a panel stride of k_count rows; columns past `cols` in the last panel are zero. Bits are
// copied, so the tiles compute the same FMA chains as on pre-packed B. The slot (at most
// ek/gemm.h's kPackSlotMaxBytes) is written, then read back from L2 by the column tiles: no
// B-sized workspace, and B is read from memory once per task (tasks over a large view of B are
// column blocks covering every row).
constexpr int64_t kPackRowGroup = 8;  // rows of a row-major B read side by side
template <typename TW>
HWY_NOINLINE void PackBChunk(const detail::GemmTaskArgs& g, int64_t k0, int64_t k_count, int64_t col0, int64_t cols,
                             TW* HWY_RESTRICT dst) {
  constexpr int64_t kW = detail::kPanelWidth;
  const TW* HWY_RESTRICT src = static_cast<const TW*>(g.b) + k0 * g.b_k_stride + col0 * g.b_n_stride;
  const int64_t full_panels = cols / kW;
  const int64_t panel_elements = k_count * kW;
  int64_t done_panels = 0;  // by the fast paths below; the rest by the general loop at the end
  if (g.b_n_stride == 1) {
    // Row-major: groups of kPackRowGroup rows, their runs of `cols` elements read side by side, a
    // panel row (64 bytes of f32) of each row in turn: several runs in flight at once is what
    // DRAM and the prefetchers stream best (measured on Zen2, 4096 x 4096 f32 packed in chunks
    // of 256 x 256: 5.8 GB/s one row after another, 8.4 with each row prefetched 16 rows
    // ahead, 10.2 with 8 rows side by side).
    for (int64_t k_group = 0; k_group < k_count; k_group += kPackRowGroup) {
      const int64_t group_end = HWY_MIN(k_count, k_group + kPackRowGroup);
      for (int64_t p = 0; p < full_panels; ++p) {
        for (int64_t kk = k_group; kk < group_end; ++kk) {
          std::memcpy(dst + p * panel_elements + kk * kW, src + kk * g.b_k_stride + p * kW, kW * sizeof(TW));
        }
      }
    }
    done_panels = full_panels;
  } else if (sizeof(TW) == 4 && g.b_k_stride == 1) {
    // Transposed f32 ([N x K]: a column of B is contiguous along k): 4 x 4 blocks transposed in
    // 128-bit vectors (4 columns x 4 k in, 4 k x 4 columns out), the last k % 4 one at a time.
    if constexpr (sizeof(TW) == 4) {
      for (int64_t p = 0; p < full_panels; ++p) {
        for (int64_t j = 0; j < kW; j += 4) {
          TransposeColumns4(src + (p * kW + j) * g.b_n_stride, g.b_n_stride, k_count, dst + p * panel_elements + j, kW);
        }
      }
    }
    done_panels = full_panels;
  }
  // Any strides (transposed 16-bit weights among them), and the last, partial panel of every
  // layout: per panel, its columns read together, k by k; zeros past `cols`.
  for (int64_t p = done_panels; p * kW < cols; ++p) {
    const int64_t valid = HWY_MIN(kW, cols - p * kW);
    const TW* HWY_RESTRICT column0 = src + p * kW * g.b_n_stride;
    TW* HWY_RESTRICT panel = dst + p * panel_elements;
    for (int64_t kk = 0; kk < k_count; ++kk) {
      for (int64_t j = 0; j < kW; ++j) {
        panel[kk * kW + j] = j < valid ? column0[j * g.b_n_stride + kk * g.b_k_stride] : TW();
      }
    }
  }
}

// ---- Tiles of one task (blocked GEMM and decode) ----------------------------------------------------
constexpr int64_t kMinPrefetchK = 64;
constexpr int64_t kMinPrefetchEvery = 8;
// The share of tile `index` of `tiles` (the tiles over the current sliver or chunk) of a region's
// stream 0, spread over its k_count k steps.
HWY_INLINE PrefetchShare ShareOfRegion(const PrefetchRegion& r, int64_t index, int64_t tiles, int64_t k_count) {
  PrefetchShare share;
  const void* region = r.base;
  const int64_t rows = r.rows, row_bytes = r.row_bytes, row_stride = r.row_stride;
  // Short K blocks: the next sliver is small and the divisions below would cost more than it.
  if (region == nullptr || rows <= 0 || row_bytes <= 0 || tiles <= 0 || k_count < kMinPrefetchK) return share;
  share.stream_stride = r.stream_stride;
  // Whole lines from each row's first line (rows need not start on a line).
  const uintptr_t base = reinterpret_cast<uintptr_t>(region);
  const int64_t misaligned = (base % 64 != 0 || row_stride % 64 != 0) ? 1 : 0;
  const int64_t per_row = (row_bytes + 63) / 64 + misaligned;
  const int64_t total = rows * per_row;
  const int64_t first = index * total / tiles, last = (index + 1) * total / tiles;
  if (last <= first) return share;
  const int64_t row = first / per_row, line = first % per_row;
  const uint8_t* row_start = static_cast<const uint8_t*>(region) + row * row_stride;
  share.line = row_start + line * 64;
  share.row_end = row_start + per_row * 64;
  share.row_stride = row_stride;
  share.row_bytes = per_row * 64;
  share.lines = last - first;
  // At most one prefetch point every kMinPrefetchEvery k steps: each one ends a run of the k loop
  // (about 30 instructions of bookkeeping), which cost more than the prefetch gained when it came
  // every 2 steps (16 x 256 x 4096 pre-packed, B in L3, Zen2: 78 -> 97 GFLOP/s with the cap). A
  // larger share is cut there, the rest left to the hardware prefetchers.
  share.lines = HWY_MIN(share.lines, k_count / kMinPrefetchEvery);
  int64_t every = kMinPrefetchEvery;
  while (every * 2 * share.lines <= k_count) every *= 2;
  share.every_mask = every - 1;
  return share;
}

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
template <typename TW, size_t kMaxRows, size_t kVectors>
HWY_INLINE void RunTaskTiles(const detail::GemmTaskArgs& g, size_t task, int64_t row_begin, int64_t row_end,
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
            const TileOperands first =
                MakeTile<TW, kMaxRows, kVectors>(df, g, b, row, tile_rows, col, cols, k0, k_count);
            RunTileStrip<kMaxRows, kVectors, GemmTag, TW>(df, g, first, full_tiles);
            row += full_tiles * tile_rows;
            i = full_tiles;
            row_tile += full_tiles;
            chunk_tile += full_tiles;
          }
          for (; row < block_end; ++i, ++row_tile, ++chunk_tile) {
            const int64_t rows = short_rows + (i < tall_tiles ? 1 : 0);
            TileOperands t = MakeTile<TW, kMaxRows, kVectors>(df, g, b, row, rows, col, cols, k0, k_count);
            t.prefetch = pack ? ShareOfRegion(next_region, chunk_tile, chunk_tiles, k_count)
                              : ShareOfRegion(next_sliver, row_tile, row_tiles, k_count);
            RunTile<kMaxRows, kVectors, GemmTag, TW>(df, g, t);
            row += rows;
          }
        }
      }
    }
    if (g.k == 0) break;
  }
}

// Blocked GEMM (m > 16): task = row block [mc rows] x column block [nc columns] of C.
// Not inlined (nor is RunDecodeTask): one function per weight type keeps compile times linear.
template <typename TW>
HWY_NOINLINE void RunBlockedTask(const detail::GemmTaskArgs& g, size_t task) {
  const int64_t row_block = static_cast<int64_t>(task) / g.column_blocks;
  const int64_t col_block = static_cast<int64_t>(task) % g.column_blocks;
  const int64_t row_begin = row_block * g.row_block_rows, row_end = HWY_MIN(g.m, row_begin + g.row_block_rows);
  const int64_t col_begin = col_block * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  RunTaskTiles<TW, kGemmTileRows, kGemmTileVectors>(g, task, row_begin, row_end, col_begin, col_end);
}

// Decode (m <= 16): task = column block [nc columns] of C, all rows. 1 row (GEMV): tiles of 1 row
// x kGemvTileVectors; 2 rows: 2 rows x 4 vectors; one K block for both (B is read once). 3..16
// rows: the GEMM tile, K blocks of kc so that the column tile's B sliver is read from memory by
// the first row group and from L1 / L2 by the others.
template <typename TW>
HWY_NOINLINE void RunDecodeTask(const detail::GemmTaskArgs& g, size_t task) {
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  if (g.m == 1) {
    RunTaskTiles<TW, 1, kGemvTileVectors>(g, task, 0, g.m, col_begin, col_end);
  } else if (g.m == 2) {
    RunTaskTiles<TW, 2, kDecodeTileVectors>(g, task, 0, g.m, col_begin, col_end);
  } else {
    RunTaskTiles<TW, kGemmTileRows, kGemmTileVectors>(g, task, 0, g.m, col_begin, col_end);
  }
}

// ---- Row streaming (GEMV, m <= 2, on a row-major B not packed, f32 C) ------------------------------
// A row-major B's rows are read front to back, kRowStreamRows rows at a time (what DRAM and the
// prefetchers stream best: a column tile visits each row for only a tile's width, and one row at
// a time restarts the prefetchers at every page). C's rows of the task's column block are the
// accumulators (L1 / L2): per group of B's rows, per vector of the task's columns: a load of C,
// one FMA per row of the group (k increasing), a store. Each output is the same FMA chain as in
// the tiles (k increasing, from 0 or from C_old), so the results are the same bits; bias and
// clamp follow in place. No arrays of vectors: SVE vectors are sizeless.
// Task = column block [nc columns] (ek/gemm.h keeps nc wide: long runs of each row of B).
constexpr int64_t kRowStreamRows = 8;

// A whole group of 8 rows of B, m = 1 or 2 (kTwoRows): registers 2 C sums + 1 B vector + 16 A
// broadcasts, hoisted out of the column loop.
template <typename TW, bool kTwoRows, class DF>
HWY_INLINE void RowStreamGroup(DF df, const detail::GemmTaskArgs& g, int64_t col_begin, int64_t col_end, int64_t k) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const TW* HWY_RESTRICT b_rows[kRowStreamRows];
  float a_row0[kRowStreamRows], a_row1[kRowStreamRows];
  for (int64_t i = 0; i < kRowStreamRows; ++i) {
    b_rows[i] = static_cast<const TW*>(g.b) + (k + i) * g.b_k_stride;
    a_row0[i] = g.a[k + i];
    a_row1[i] = kTwoRows ? g.a[g.lda + k + i] : 0.0f;
  }
  float* HWY_RESTRICT c0 = static_cast<float*>(g.c);
  float* HWY_RESTRICT c1 = c0 + g.ldc;
  const bool start = k == 0 && !g.accumulate;
  for (int64_t col = col_begin; col + lanes <= col_end; col += lanes) {
    auto s0 = start ? hn::Zero(df) : hn::LoadU(df, c0 + col);
    auto s1 = (start || !kTwoRows) ? hn::Zero(df) : hn::LoadU(df, c1 + col);
    for (int64_t i = 0; i < kRowStreamRows; ++i) {
      const auto b = LoadAsF32(df, b_rows[i] + col);
      s0 = hn::MulAdd(hn::Set(df, a_row0[i]), b, s0);
      if constexpr (kTwoRows) s1 = hn::MulAdd(hn::Set(df, a_row1[i]), b, s1);
    }
    hn::StoreU(s0, df, c0 + col);
    if constexpr (kTwoRows) hn::StoreU(s1, df, c1 + col);
  }
}

// Any group (the last one, shorter than 8 rows; and the columns that do not fill a vector, one
// lane wide): per column vector and row of A, B reloaded per row.
template <typename TW, class DF>
HWY_INLINE void RowStreamRows(DF df, const detail::GemmTaskArgs& g, int64_t col_begin, int64_t col_end, int64_t k,
                              int64_t rows) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const bool start = k == 0 && !g.accumulate;
  for (int64_t col = col_begin; col + lanes <= col_end; col += lanes) {
    for (int64_t row = 0; row < g.m; ++row) {
      const float* HWY_RESTRICT a = g.a + row * g.lda + k;
      float* HWY_RESTRICT c = static_cast<float*>(g.c) + row * g.ldc + col;
      auto sum = start ? hn::Zero(df) : hn::LoadU(df, c);
      for (int64_t i = 0; i < rows; ++i) {
        sum = hn::MulAdd(hn::Set(df, a[i]), LoadAsF32(df, static_cast<const TW*>(g.b) + (k + i) * g.b_k_stride + col), sum);
      }
      hn::StoreU(sum, df, c);
    }
  }
}

template <typename TW>
HWY_NOINLINE void RunRowStreamTask(const detail::GemmTaskArgs& g, size_t task) {
  const GemmTag df;
  const GemmTailTag d1;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t vector_end = col_begin + (col_end - col_begin) / lanes * lanes;
  for (int64_t k = 0; k < g.k; k += kRowStreamRows) {
    const int64_t rows = HWY_MIN(kRowStreamRows, g.k - k);
    if (rows != kRowStreamRows) {
      RowStreamRows<TW>(df, g, col_begin, vector_end, k, rows);
    } else if (g.m == 1) {
      RowStreamGroup<TW, false>(df, g, col_begin, vector_end, k);
    } else {
      RowStreamGroup<TW, true>(df, g, col_begin, vector_end, k);
    }
    RowStreamRows<TW>(d1, g, vector_end, col_end, k, rows);
  }
  // Epilogue, as FinishTile: + bias, clamp.
  for (int64_t row = 0; row < g.m; ++row) {
    float* HWY_RESTRICT c = static_cast<float*>(g.c) + row * g.ldc;
    for (int64_t col = col_begin; col < col_end; col += lanes) {
      const size_t count = static_cast<size_t>(HWY_MIN(lanes, col_end - col));
      auto acc = hn::LoadN(df, c + col, count);
      if (g.k == 0 && !g.accumulate) acc = hn::Zero(df);
      hn::StoreN(AddBiasAndClamp(df, g, acc, g.bias ? g.bias + col : nullptr, count), df, c + col, count);
    }
  }
}

// ---- Column streaming (GEMV, m <= 2, on a transposed B not packed) ----------------------------
// B given as its transpose [N x K] with unit stride along k (a Linear layer's weight): column j
// of B is a contiguous row of that view. Eight such rows are read side by side, 4 k at a time
// (8 streams, what DRAM streams best), and each 4 x 4 block is transposed in 128-bit vectors, so
// that a vector holds 4 outputs at one k. Every output is then the same FMA chain as in the
// tiles (k increasing, from 0 or from C_old; bias and clamp after), so the results are the
// packed path's bits. Per group of 8 columns: 2 x m accumulators of 4 outputs (two independent
// chains per row of A hide part of the FMA latency), 4 loaded / transposed rows, 1 A broadcast.
// Measured on Zen2, 1 x 4096 x 4096 f32: 4.4 GFLOP/s packed on the fly, 7.4 streamed by columns.
// Task = column block [nc columns] of C, all of K (no partial sums in C: any C type).
constexpr int64_t kColumnStreamColumns = 8;

// Columns [col, col + 8) of C (those before col_end are stored), rows 0..kRows-1.
template <typename TW, size_t kRows>
HWY_INLINE void ColumnStreamGroup(const detail::GemmTaskArgs& g, int64_t col, int64_t col_end) {
  using D4 = hn::FixedTag<float, 4>;
  const D4 d;
  using V = hn::Vec<D4>;
  const TW* HWY_RESTRICT rows[kColumnStreamColumns];  // column col + i of B; past col_end: column col
  for (int64_t i = 0; i < kColumnStreamColumns; ++i) {
    rows[i] = static_cast<const TW*>(g.b) + (col + i < col_end ? col + i : col) * g.b_n_stride;
  }
  // Outputs per half (columns col + 4h ..): 4 or fewer before col_end (0: the half is past it).
  const size_t valid[2] = {static_cast<size_t>(HWY_MIN(4, col_end - col)),
                           col + 4 < col_end ? static_cast<size_t>(HWY_MIN(4, col_end - col - 4)) : 0};
  const size_t c_bytes = g.c_type == DType::kF32 ? 4 : 2;
  const size_t c_row_bytes = static_cast<size_t>(g.ldc) * c_bytes;
  auto c_at = [&](size_t row, size_t half) {
    return static_cast<uint8_t*>(g.c) + row * c_row_bytes + (static_cast<size_t>(col) + 4 * half) * c_bytes;
  };
  // acc_r_h: row r of A, outputs col + 4h .. col + 4h + 3; from C_old when accumulating.
  V acc_0_0 = hn::Zero(d), acc_0_1 = hn::Zero(d), acc_1_0 = hn::Zero(d), acc_1_1 = hn::Zero(d);
  auto start = [&](V& acc, size_t row, size_t half) {
    if (g.accumulate && valid[half]) acc = LoadOutput(d, c_at(row, half), g.c_type, valid[half]);
  };
  start(acc_0_0, 0, 0);
  start(acc_0_1, 0, 1);
  if constexpr (kRows == 2) {
    start(acc_1_0, 1, 0);
    start(acc_1_1, 1, 1);
  }
  const float* HWY_RESTRICT a0 = g.a;
  const float* HWY_RESTRICT a1 = g.a + (kRows == 2 ? g.lda : 0);
  // Four FMAs in k order: sum += a[k + i] * b_i (vectors are parameters, not captures: SVE
  // vectors are sizeless).
  auto chain4 = [d](const float* HWY_RESTRICT a, V b0, V b1, V b2, V b3, V& sum) {
    sum = hn::MulAdd(hn::Set(d, a[0]), b0, sum);
    sum = hn::MulAdd(hn::Set(d, a[1]), b1, sum);
    sum = hn::MulAdd(hn::Set(d, a[2]), b2, sum);
    sum = hn::MulAdd(hn::Set(d, a[3]), b3, sum);
  };
  int64_t k = 0;
  for (; k + 4 <= g.k; k += 4) {
    // Each half: 4 columns x 4 k in, 4 k x 4 columns out, then 4 FMAs per row of A in k order.
    for (int64_t half = 0; half < 2; ++half) {
      V t0 = LoadAsF32(d, rows[4 * half + 0] + k), t1 = LoadAsF32(d, rows[4 * half + 1] + k);
      V t2 = LoadAsF32(d, rows[4 * half + 2] + k), t3 = LoadAsF32(d, rows[4 * half + 3] + k);
      Transpose4x4(d, t0, t1, t2, t3);
      chain4(a0 + k, t0, t1, t2, t3, half == 0 ? acc_0_0 : acc_0_1);
      if constexpr (kRows == 2) chain4(a1 + k, t0, t1, t2, t3, half == 0 ? acc_1_0 : acc_1_1);
    }
  }
  // The last k % 4 steps, one k at a time: the same FMAs, B's values gathered from the 8 rows
  // and converted as above (LoadAsF32).
  for (; k < g.k; ++k) {
    TW lo[4], hi[4];
    for (size_t i = 0; i < 4; ++i) {
      lo[i] = rows[i][k];
      hi[i] = rows[4 + i][k];
    }
    const V b_lo = LoadAsF32(d, lo), b_hi = LoadAsF32(d, hi);
    acc_0_0 = hn::MulAdd(hn::Set(d, a0[k]), b_lo, acc_0_0);
    acc_0_1 = hn::MulAdd(hn::Set(d, a0[k]), b_hi, acc_0_1);
    if constexpr (kRows == 2) {
      acc_1_0 = hn::MulAdd(hn::Set(d, a1[k]), b_lo, acc_1_0);
      acc_1_1 = hn::MulAdd(hn::Set(d, a1[k]), b_hi, acc_1_1);
    }
  }
  // Epilogue: + bias, clamp, stored in C's type.
  auto finish = [&](V acc, size_t row, size_t half) {
    if (valid[half] == 0) return;
    const float* bias = g.bias ? g.bias + col + static_cast<int64_t>(4 * half) : nullptr;
    StoreOutput(d, AddBiasAndClamp(d, g, acc, bias, valid[half]), c_at(row, half), g.c_type, valid[half]);
  };
  finish(acc_0_0, 0, 0);
  finish(acc_0_1, 0, 1);
  if constexpr (kRows == 2) {
    finish(acc_1_0, 1, 0);
    finish(acc_1_1, 1, 1);
  }
}

template <typename TW>
HWY_NOINLINE void RunColumnStreamTask(const detail::GemmTaskArgs& g, size_t task) {
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  for (int64_t col = col_begin; col < col_end; col += kColumnStreamColumns) {
    if (g.m == 1) {
      ColumnStreamGroup<TW, 1>(g, col, col_end);
    } else {
      ColumnStreamGroup<TW, 2>(g, col, col_end);
    }
  }
}

// ---- fp16 lane (Arm with FEAT_FP16) -------------------------------------------------------------
// Targets with f16 vector arithmetic (SVE, SVE2, NEON_BF16; Highway's HWY_HAVE_FLOAT16), used
// only when the caller allows it and the CPU reports FEAT_FP16 (ek/gemm.h). Per output vector:
// f16 FMAs over a block of kF16Block k (one f16 chain, products exact before each rounding),
// then the block's sum is widened and added to two f32 accumulators; bias, clamp and the f16
// store as on the f32 path. Tile: 1 row x 4 f16 vectors (4 f16 chains + 8 f32 accumulators +
// 4 B + 1 A = 17 registers). Task = column block, all rows (B panel column tiles from L2).
#if HWY_HAVE_FLOAT16 && HWY_ARCH_ARM_A64
#define EK_GEMM_F16_ARITHMETIC 1
using F16Tag = hn::CappedTag<hwy::float16_t, static_cast<size_t>(detail::kPanelWidth)>;

using F16HalfTag = hn::Repartition<float, F16Tag>;  // f32 vectors of half as many lanes

// Epilogue of `count` f32 results at C[row, col..]: + bias, clamp, store as f16.
HWY_INLINE void F16FinishHalf(const detail::GemmTaskArgs& g, hn::Vec<F16HalfTag> v, int64_t row, int64_t col,
                              size_t count) {
  const F16HalfTag df;
  const hn::Rebind<hwy::float16_t, F16HalfTag> dh_half;
  if (g.bias) v = hn::Add(v, hn::LoadN(df, g.bias + col, count));
  if (g.clamp) v = hn::Min(hn::Max(v, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
  hn::StoreN(hn::DemoteTo(dh_half, v), dh_half, static_cast<hwy::float16_t*>(g.c) + row * g.ldc + col, count);
}

// One f16 vector of results (two f32 halves) at C[row, col..], the part before col_end.
HWY_INLINE void F16FinishVector(const detail::GemmTaskArgs& g, hn::Vec<F16HalfTag> lo, hn::Vec<F16HalfTag> hi,
                                int64_t row, int64_t col, int64_t col_end) {
  const int64_t half = static_cast<int64_t>(hn::Lanes(F16HalfTag()));
  if (col >= col_end) return;
  F16FinishHalf(g, lo, row, col, static_cast<size_t>(HWY_MIN(half, col_end - col)));
  if (col + half < col_end) F16FinishHalf(g, hi, row, col + half, static_cast<size_t>(HWY_MIN(half, col_end - col - half)));
}

// C_old widened to f32, for accumulating (zero past col_end).
HWY_INLINE void F16StartVector(const detail::GemmTaskArgs& g, int64_t row, int64_t col, int64_t col_end,
                               hn::Vec<F16HalfTag>& lo, hn::Vec<F16HalfTag>& hi) {
  const F16HalfTag df;
  const hn::Rebind<hwy::float16_t, F16HalfTag> dh_half;
  const int64_t half = static_cast<int64_t>(hn::Lanes(df));
  const hwy::float16_t* c = static_cast<const hwy::float16_t*>(g.c) + row * g.ldc;
  if (col >= col_end) return;
  lo = hn::PromoteTo(df, hn::LoadN(dh_half, c + col, static_cast<size_t>(HWY_MIN(half, col_end - col))));
  if (col + half < col_end) {
    hi = hn::PromoteTo(df, hn::LoadN(dh_half, c + col + half, static_cast<size_t>(HWY_MIN(half, col_end - col - half))));
  }
}

HWY_INLINE void RunF16ArithmeticTask(const detail::GemmTaskArgs& g, size_t task) {
  const F16Tag dh;
  const F16HalfTag df;
  using VH = hn::Vec<F16Tag>;
  using VF = hn::Vec<F16HalfTag>;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(dh));
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const hwy::float16_t* b = static_cast<const hwy::float16_t*>(g.b);
  for (int64_t col = col_begin; col < col_end; col += 4 * lanes) {
    // Vectors past N point at vector 0 (packed B is padded to whole panels).
    const hwy::float16_t* bv[4];
    for (int64_t v = 0; v < 4; ++v) {
      const int64_t c = col + v * lanes < col_end ? col + v * lanes : col;
      bv[v] = b + (c / detail::kPanelWidth) * g.b_panel_stride + c % detail::kPanelWidth;
    }
    for (int64_t row = 0; row < g.m; ++row) {
      const hwy::float16_t* a = static_cast<const hwy::float16_t*>(g.a_f16) + row * g.lda;
      VF lo0 = hn::Zero(df), hi0 = hn::Zero(df), lo1 = hn::Zero(df), hi1 = hn::Zero(df);
      VF lo2 = hn::Zero(df), hi2 = hn::Zero(df), lo3 = hn::Zero(df), hi3 = hn::Zero(df);
      if (g.accumulate) {
        F16StartVector(g, row, col, col_end, lo0, hi0);
        F16StartVector(g, row, col + lanes, col_end, lo1, hi1);
        F16StartVector(g, row, col + 2 * lanes, col_end, lo2, hi2);
        F16StartVector(g, row, col + 3 * lanes, col_end, lo3, hi3);
      }
      for (int64_t k0 = 0; k0 < g.k; k0 += detail::kF16Block) {
        const int64_t k_end = HWY_MIN(g.k, k0 + detail::kF16Block);
        VH s0 = hn::Zero(dh), s1 = hn::Zero(dh), s2 = hn::Zero(dh), s3 = hn::Zero(dh);
        for (int64_t k = k0; k < k_end; ++k) {
          const VH av = hn::Set(dh, a[k]);
          const int64_t off = k * detail::kPanelWidth;
          s0 = hn::MulAdd(av, hn::LoadU(dh, bv[0] + off), s0);
          s1 = hn::MulAdd(av, hn::LoadU(dh, bv[1] + off), s1);
          s2 = hn::MulAdd(av, hn::LoadU(dh, bv[2] + off), s2);
          s3 = hn::MulAdd(av, hn::LoadU(dh, bv[3] + off), s3);
        }
        lo0 = hn::Add(lo0, hn::PromoteLowerTo(df, s0));
        hi0 = hn::Add(hi0, hn::PromoteUpperTo(df, s0));
        lo1 = hn::Add(lo1, hn::PromoteLowerTo(df, s1));
        hi1 = hn::Add(hi1, hn::PromoteUpperTo(df, s1));
        lo2 = hn::Add(lo2, hn::PromoteLowerTo(df, s2));
        hi2 = hn::Add(hi2, hn::PromoteUpperTo(df, s2));
        lo3 = hn::Add(lo3, hn::PromoteLowerTo(df, s3));
        hi3 = hn::Add(hi3, hn::PromoteUpperTo(df, s3));
      }
      F16FinishVector(g, lo0, hi0, row, col, col_end);
      F16FinishVector(g, lo1, hi1, row, col + lanes, col_end);
      F16FinishVector(g, lo2, hi2, row, col + 2 * lanes, col_end);
      F16FinishVector(g, lo3, hi3, row, col + 3 * lanes, col_end);
    }
  }
}
#else
#define EK_GEMM_F16_ARITHMETIC 0
#endif

// ---- Exported entry points (ek/gemm.h) ---------------------------------------------------------
inline bool GemmHasF16Arithmetic() { return EK_GEMM_F16_ARITHMETIC != 0; }

inline void GemmTileShape(detail::TileShape* shape) {
  const GemmTag df;
  shape->rows = kGemmTileRows;
  shape->vectors = kGemmTileVectors;
  shape->decode_vectors = kDecodeTileVectors;
  shape->gemv_vectors = kGemvTileVectors;
  shape->lanes = hn::Lanes(df);
}

template <typename TW>
HWY_INLINE void RunGemmTaskFor(const detail::GemmTaskArgs& g, size_t task) {
  if (g.row_stream) {
    RunRowStreamTask<TW>(g, task);
  } else if (g.column_stream) {
    RunColumnStreamTask<TW>(g, task);
  } else if (g.decode) {
    RunDecodeTask<TW>(g, task);
  } else {
    RunBlockedTask<TW>(g, task);
  }
}

inline void RunGemmTask(const detail::GemmTaskArgs& g, size_t task) {
#if EK_GEMM_F16_ARITHMETIC
  if (g.f16_arithmetic) return RunF16ArithmeticTask(g, task);
#endif
  switch (g.b_type) {
    case DType::kF16:
      return RunGemmTaskFor<hwy::float16_t>(g, task);
    case DType::kBF16:
      return RunGemmTaskFor<hwy::bfloat16_t>(g, task);
    default:
      return RunGemmTaskFor<float>(g, task);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#undef EK_GEMM_F16_ARITHMETIC
#endif  // EK_DETAIL_GEMM_INL_H_
