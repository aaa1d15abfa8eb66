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
// Tiles of 1 or 2 rows (decode) have registers to spare: 4 vectors wide, so GEMV runs 4
// independent chains per row (8 + 4 + 1 registers at most).
constexpr size_t kDecodeTileVectors = 4;
constexpr size_t kMaxTileVectors = 4;  // the pointer arrays below hold this many
constexpr size_t kPrefetchRows = 16;   // B rows ahead
static_assert(kGemmTileRows <= 8 && kGemmTileVectors <= kMaxTileVectors, "MultiplyTile names 8 x 4 accumulators");

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

// Where one tile's operands are. A rows and B columns past the valid ones point at valid data
// (row 0 / vector 0), so the micro-kernel never branches; their results are not stored.
struct TileOperands {
  const float* a_rows[8];                  // row r of A at column k0
  const void* b_vectors[kMaxTileVectors];  // vector v of B at row k0 (of the weight type)
  size_t b_k_stride = 0;                 // elements from row k to row k + 1 of B
  int64_t k_count = 0;
  uint8_t* c = nullptr;                  // C at (row0, col0)
  size_t c_row_bytes = 0;
  size_t c_element_bytes = 4;
  const float* bias = nullptr;           // at col0, or null
  size_t valid_rows = 0;
  size_t valid_cols = 0;
  int64_t k_begin = 0;
  bool load_c = false;  // start from C (accumulate, or a later K block)
  bool finish = false;  // last K block: add bias, clamp, store in C's type; else store f32 partial sums
};

// Accumulators pass through a buffer on the stack between the micro-kernel and the prologue /
// epilogue below (row r, vector v at (r * kMaxTileVectors + v) * Lanes): the micro-kernel stays a
// tight loop instantiated per tile shape, while the code that converts, adds bias, clamps and
// handles the edges exists once per target. Cost: one extra store and load per accumulator per
// K block, against kc FMAs each.
constexpr size_t kTileBufferFloats = 8 * kMaxTileVectors * static_cast<size_t>(detail::kPanelWidth);

// Prologue: the tile's starting values from C (f32 partial sums, or C_old when accumulating).
template <class DF>
HWY_NOINLINE void LoadTileStart(DF df, const detail::GemmTaskArgs& g, const TileOperands& t,
                                float* HWY_RESTRICT buffer) {
  const size_t lanes = hn::Lanes(df);
  const DType type = t.k_begin == 0 ? g.c_type : DType::kF32;
  for (size_t r = 0; r < t.valid_rows; ++r) {
    for (size_t v = 0; v < kMaxTileVectors; ++v) {
      const size_t col = v * lanes;
      const size_t count = col >= t.valid_cols ? 0 : HWY_MIN(lanes, t.valid_cols - col);
      const auto start = count ? LoadOutput(df, t.c + r * t.c_row_bytes + col * t.c_element_bytes, type, count)
                               : hn::Zero(df);
      hn::Store(start, df, buffer + (r * kMaxTileVectors + v) * lanes);
    }
  }
}

// Epilogue: on the last K block + bias, clamp, convert to C's type; before it, f32 partial sums.
// The epilogue on one vector of f32 sums: + bias (bias points at the vector's columns, or is
// null), then the clamp. Shared by the tiles and the row streaming.
template <class DF>
HWY_INLINE hn::Vec<DF> AddBiasAndClamp(DF df, const detail::GemmTaskArgs& g, hn::Vec<DF> acc,
                                       const float* HWY_RESTRICT bias, size_t count) {
  if (bias) acc = hn::Add(acc, hn::LoadN(df, bias, count));
  if (g.clamp) acc = hn::Min(hn::Max(acc, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
  return acc;
}

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
#define EK_TILE_DECLARE_ROW(R) \
  VF acc_##R##_0 = hn::Zero(df), acc_##R##_1 = hn::Zero(df), acc_##R##_2 = hn::Zero(df), acc_##R##_3 = hn::Zero(df);
#define EK_TILE_FOR_VECTORS(R, X)          \
  X(R, 0)                                  \
  if constexpr (kVectors > 1) { X(R, 1) }  \
  if constexpr (kVectors > 2) { X(R, 2) }  \
  if constexpr (kVectors > 3) { X(R, 3) }
#define EK_TILE_LOAD_C(R, V) acc_##R##_##V = hn::Load(df, buffer + (R * kMaxTileVectors + V) * lanes);
#define EK_TILE_LOAD_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_LOAD_C) }
#define EK_TILE_FMA(R, V) acc_##R##_##V = hn::MulAdd(a_##R, b_##V, acc_##R##_##V);
#define EK_TILE_STEP_ROW(R)                            \
  if constexpr (R < kRows) {                           \
    const VF a_##R = hn::Set(df, t.a_rows[R][k]);      \
    EK_TILE_FOR_VECTORS(R, EK_TILE_FMA)                \
  }
#define EK_TILE_STORE(R, V) hn::Store(acc_##R##_##V, df, buffer + (R * kMaxTileVectors + V) * lanes);
#define EK_TILE_STORE_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_STORE) }

// The micro-kernel: C tile [kRows x kVectors * Lanes(df)] for k in [k0, k0 + k_count).
//   before:    accumulators start at zero, or from the buffer (LoadTileStart).
//   k loop:    kVectors loads of B (one row of the tile's B sliver, from L1), then per row one
//              broadcast of A and kVectors FMAs. Nothing else runs in the loop.
//   after:     accumulators go to the buffer (FinishTile takes them from there).
template <size_t kRows, size_t kVectors, class DF, typename TW>
HWY_INLINE void MultiplyTile(DF df, const TileOperands& t, float* HWY_RESTRICT buffer) {
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
  const size_t stride = t.b_k_stride;
  for (int64_t k = 0; k < t.k_count; ++k) {
    const VF b_0 = LoadAsF32(df, b0);
    const VF b_1 = LoadAsF32(df, b1);
    const VF b_2 = LoadAsF32(df, b2);
    const VF b_3 = LoadAsF32(df, b3);
    (void)b_1;
    (void)b_2;
    (void)b_3;
    hwy::Prefetch(b0 + kPrefetchRows * stride);
    if (kVectors > 1) hwy::Prefetch(b1 + kPrefetchRows * stride);
    if (kVectors > 2) hwy::Prefetch(b2 + kPrefetchRows * stride);
    if (kVectors > 3) hwy::Prefetch(b3 + kPrefetchRows * stride);
    b0 += stride;
    b1 += stride;
    b2 += stride;
    b3 += stride;
    EK_TILE_ROWS(EK_TILE_STEP_ROW)
  }
  EK_TILE_ROWS(EK_TILE_STORE_ROW)
}

#undef EK_TILE_ROWS
#undef EK_TILE_DECLARE_ROW
#undef EK_TILE_FOR_VECTORS
#undef EK_TILE_LOAD_C
#undef EK_TILE_LOAD_ROW
#undef EK_TILE_FMA
#undef EK_TILE_STEP_ROW
#undef EK_TILE_STORE
#undef EK_TILE_STORE_ROW

// Runs MultiplyTile with kRows = t.valid_rows (1..kMaxRows): an exact row count, so edge tiles
// do no wasted work.
template <size_t kMaxRows, size_t kVectors, class DF, typename TW>
HWY_INLINE void MultiplyTileRows(DF df, const TileOperands& t, float* HWY_RESTRICT buffer) {
  if constexpr (kMaxRows > 1) {
    if (t.valid_rows < kMaxRows) return MultiplyTileRows<kMaxRows - 1, kVectors, DF, TW>(df, t, buffer);
  }
  MultiplyTile<kMaxRows, kVectors, DF, TW>(df, t, buffer);
}

// One tile, start to finish: prologue, micro-kernel for the exact row count, epilogue.
template <size_t kMaxRows, size_t kVectors, class DF, typename TW>
HWY_INLINE void RunTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t) {
  HWY_ALIGN float buffer[kTileBufferFloats];
  if (t.load_c) LoadTileStart(df, g, t, buffer);
  MultiplyTileRows<kMaxRows, kVectors, DF, TW>(df, t, buffer);
  FinishTile(df, g, t, buffer);
}

// Address of B at (row k, column col).
template <typename TW>
HWY_INLINE const TW* BAt(const detail::GemmTaskArgs& g, int64_t k, int64_t col) {
  const TW* b = static_cast<const TW*>(g.b);
  if (g.b_panel_stride == 0) return b + k * g.ldb + col;
  return b + (col / detail::kPanelWidth) * g.b_panel_stride + k * detail::kPanelWidth + col % detail::kPanelWidth;
}

// Fills the operands of the tile at (row0, col0) covering k in [k0, k0 + k_count).
template <typename TW, class DF>
HWY_INLINE TileOperands MakeTile(DF df, const detail::GemmTaskArgs& g, int64_t row0, int64_t rows, int64_t col0,
                                 int64_t cols, size_t vectors, int64_t k0, int64_t k_count) {
  TileOperands t;
  for (size_t r = 0; r < 8; ++r) {
    const int64_t row = row0 + (static_cast<int64_t>(r) < rows ? static_cast<int64_t>(r) : 0);
    t.a_rows[r] = g.a + row * g.lda + k0;
  }
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  for (size_t v = 0; v < kMaxTileVectors; ++v) {
    const int64_t col = col0 + static_cast<int64_t>(v) * lanes;
    t.b_vectors[v] = BAt<TW>(g, k0, v < vectors && col < col0 + cols ? col : col0);
  }
  t.b_k_stride = static_cast<size_t>(g.b_panel_stride == 0 ? g.ldb : detail::kPanelWidth);
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

// ---- Blocked GEMM (m > 16) ------------------------------------------------------------------------
// Task = row block [mc rows] x column block [nc columns] of C. Loops, outer to inner:
//   K blocks of kc:    B's kc x tile-width sliver stays in L1 across the row tiles below.
//   column tiles:      kGemmTileVectors vectors wide; one sliver of packed B each.
//   row tiles:         kGemmTileRows rows; the row block's A (mc x kc) stays in L2.
// Not inlined (nor is RunDecodeTask): one function per weight type keeps compile times linear.
template <typename TW>
HWY_NOINLINE void RunBlockedTask(const detail::GemmTaskArgs& g, size_t task) {
  const GemmTag df;
  const int64_t row_block = static_cast<int64_t>(task) / g.column_blocks;
  const int64_t col_block = static_cast<int64_t>(task) % g.column_blocks;
  const int64_t row_begin = row_block * g.mc, row_end = HWY_MIN(g.m, row_begin + g.mc);
  const int64_t col_begin = col_block * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t tile_cols = static_cast<int64_t>(kGemmTileVectors * hn::Lanes(df));
  const int64_t tile_rows = static_cast<int64_t>(kGemmTileRows);
  for (int64_t k0 = 0; k0 < g.k || k0 == 0; k0 += g.kc) {
    const int64_t k_count = HWY_MIN(g.kc, g.k - k0);
    for (int64_t col = col_begin; col < col_end; col += tile_cols) {
      const int64_t cols = HWY_MIN(tile_cols, col_end - col);
      for (int64_t row = row_begin; row < row_end; row += tile_rows) {
        const int64_t rows = HWY_MIN(tile_rows, row_end - row);
        const TileOperands t = MakeTile<TW>(df, g, row, rows, col, cols, kGemmTileVectors, k0, k_count);
        RunTile<kGemmTileRows, kGemmTileVectors, GemmTag, TW>(df, g, t);
      }
    }
    if (g.k == 0) break;
  }
}

// ---- Decode (m <= 16) ---------------------------------------------------------------------------
// Task = column block [nc columns] of C, all rows. Loops, outer to inner:
//   K blocks:       packed B: one block (all of K: B is not reused enough to pay). Row-major B
//                   (not packed, f32 C; only when the caller set nc, otherwise the row
//                   streaming below runs): blocks of g.kc rows (ek/gemm.h: 512), so that the
//                   pages of a block's rows (one or more pages apart) stay in the second-level
//                   data TLB while every column tile of the task visits them (16 x 4096 x 4096:
//                   41 -> 17 ms); partial sums go through C as in the blocked GEMM.
//   column tiles:   4 vectors wide for 1-2 rows (GEMV), else the GEMM tile's width.
//   row groups:     up to kGemmTileRows rows; the column tile's B (k x tile width) is read from
//                   memory by the first group and from L2 by the others.
// Row-major columns that do not fill a vector run the same kernel one lane wide.
template <class DF, size_t kMaxRows, size_t kVectors, typename TW>
HWY_INLINE void RunDecodeTile(DF df, const detail::GemmTaskArgs& g, int64_t col, int64_t cols, int64_t k0,
                              int64_t k_count) {
  for (int64_t row = 0; row < g.m; row += static_cast<int64_t>(kMaxRows)) {
    const int64_t rows = HWY_MIN(static_cast<int64_t>(kMaxRows), g.m - row);
    const TileOperands t = MakeTile<TW>(df, g, row, rows, col, cols, kVectors, k0, k_count);
    RunTile<kMaxRows, kVectors, DF, TW>(df, g, t);
  }
}

template <typename TW>
HWY_NOINLINE void RunDecodeTask(const detail::GemmTaskArgs& g, size_t task) {
  const GemmTag df;
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const size_t vectors = g.m <= 2 ? kDecodeTileVectors : kGemmTileVectors;
  const int64_t tile_cols = static_cast<int64_t>(vectors) * lanes;
  // Row-major B: whole vectors only; the rest of the columns one lane at a time.
  const int64_t vector_end = g.b_panel_stride != 0 ? col_end : col_begin + (col_end - col_begin) / lanes * lanes;
  const GemmTailTag d1;
  for (int64_t k0 = 0; k0 < g.k || k0 == 0; k0 += g.kc) {
    const int64_t k_count = HWY_MIN(g.kc, g.k - k0);
    for (int64_t col = col_begin; col < vector_end; col += tile_cols) {
      const int64_t cols = HWY_MIN(tile_cols, vector_end - col);
      if (g.m <= 2) {
        RunDecodeTile<GemmTag, 2, kDecodeTileVectors, TW>(df, g, col, cols, k0, k_count);
      } else {
        RunDecodeTile<GemmTag, kGemmTileRows, kGemmTileVectors, TW>(df, g, col, cols, k0, k_count);
      }
    }
    // Row-major B's last columns (fewer than a vector): one element per tile, one lane wide.
    for (int64_t col = vector_end; col < col_end; ++col) {
      for (int64_t row = 0; row < g.m; ++row) {
        RunTile<1, 1, GemmTailTag, TW>(d1, g, MakeTile<TW>(d1, g, row, 1, col, 1, 1, k0, k_count));
      }
    }
    if (g.k == 0) break;
  }
}

// ---- Row streaming (decode on a row-major B not packed, f32 C) ----------------------------------
// A row-major B's rows are read front to back, kRowStreamRows rows at a time (what DRAM and the
// prefetchers stream best: the column tiles above visit each row for only a tile's width, and one
// row at a time restarts the prefetchers at every page). C's rows of the task's column block are
// the accumulators (L1 / L2): per group of B's rows, per vector of the task's columns, per row of
// A: a load of C, one FMA per row of the group (k increasing), a store. Each output is the same
// FMA chain as in the tiles (k increasing, from 0 or from C_old), so the results are the same
// bits; bias and clamp follow in place. kGroupRows = 8 is a whole group, 0 a shorter last group
// (`rows` at run time). No arrays of vectors: SVE vectors are sizeless.
// Task = column block [nc columns] (ek/gemm.h keeps nc wide: long runs of each row of B).
constexpr int64_t kRowStreamRows = 8;

// m = 1 or 2 (kTwoRows), a whole group of 8 rows: registers 2 C sums + 1 B vector + 16 A
// broadcasts, hoisted out of the column loop.
template <typename TW, bool kTwoRows, class DF>
HWY_INLINE void RowStreamColumnsFewRows(DF df, const detail::GemmTaskArgs& g, int64_t col_begin, int64_t col_end,
                                        int64_t k) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const TW* HWY_RESTRICT b_rows[kRowStreamRows];
  float a_row0[kRowStreamRows], a_row1[kRowStreamRows];
  for (int64_t i = 0; i < kRowStreamRows; ++i) {
    b_rows[i] = static_cast<const TW*>(g.b) + (k + i) * g.ldb;
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

// Any m (3..16 for whole groups): per column vector the group's 8 B vectors are loaded (and
// widened) once and stay in registers while every row of A runs its 8 FMAs on its C vector: 8 B +
// 1 C sum + A broadcasts (from memory, per row). kGroupRows = 0 (a shorter last group, the
// columns one lane wide, and m <= 2 outside whole groups) reloads B per row of A. (Rows of A
// outer, B reloaded from L2 per row, measured slower: 16 x 4096 x 4096 40 -> 33 GFLOP/s.)
#define EK_ROW_STREAM_GROUP(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EK_ROW_STREAM_LOAD_B(I) const auto b_##I = LoadAsF32(df, b_rows[I] + col);
#define EK_ROW_STREAM_FMA(I) sum = hn::MulAdd(hn::Set(df, a[I]), b_##I, sum);
template <typename TW, int64_t kGroupRows, class DF>
HWY_INLINE void RowStreamColumnsManyRows(DF df, const detail::GemmTaskArgs& g, int64_t col_begin, int64_t col_end,
                                         int64_t k, int64_t rows) {
  static_assert(kGroupRows == 0 || kGroupRows == kRowStreamRows, "whole groups of 8 rows, or a tail");
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const TW* HWY_RESTRICT b_rows[kRowStreamRows];
  for (int64_t i = 0; i < kRowStreamRows; ++i) {
    b_rows[i] = static_cast<const TW*>(g.b) + (k + (i < rows ? i : 0)) * g.ldb;  // past the group: never used
  }
  const bool start = k == 0 && !g.accumulate;
  // The next group's rows, prefetched a vector at a time as this group's are read: runs of B's
  // rows are a page or a few long, and the hardware prefetchers stop at page boundaries.
  const bool prefetch_next = k + 2 * kRowStreamRows <= g.k;
  const TW* HWY_RESTRICT next_rows = prefetch_next ? b_rows[0] + kRowStreamRows * g.ldb : b_rows[0];
  for (int64_t col = col_begin; col + lanes <= col_end; col += lanes) {
    if constexpr (kGroupRows == kRowStreamRows) {
      if (prefetch_next) {
        for (int64_t i = 0; i < kRowStreamRows; ++i) hwy::Prefetch(next_rows + i * g.ldb + col);
      }
      EK_ROW_STREAM_GROUP(EK_ROW_STREAM_LOAD_B)
      for (int64_t row = 0; row < g.m; ++row) {
        const float* HWY_RESTRICT a = g.a + row * g.lda + k;
        float* HWY_RESTRICT c = static_cast<float*>(g.c) + row * g.ldc + col;
        auto sum = start ? hn::Zero(df) : hn::LoadU(df, c);
        EK_ROW_STREAM_GROUP(EK_ROW_STREAM_FMA)
        hn::StoreU(sum, df, c);
      }
    } else {
      for (int64_t row = 0; row < g.m; ++row) {
        const float* HWY_RESTRICT a = g.a + row * g.lda + k;
        float* HWY_RESTRICT c = static_cast<float*>(g.c) + row * g.ldc + col;
        auto sum = start ? hn::Zero(df) : hn::LoadU(df, c);
        for (int64_t i = 0; i < rows; ++i) sum = hn::MulAdd(hn::Set(df, a[i]), LoadAsF32(df, b_rows[i] + col), sum);
        hn::StoreU(sum, df, c);
      }
    }
  }
}
#undef EK_ROW_STREAM_GROUP
#undef EK_ROW_STREAM_LOAD_B
#undef EK_ROW_STREAM_FMA

// One group of B's rows over the task's columns: whole vectors, then the last columns one lane
// wide (every path runs each output's FMAs in k order, so they give the same bits).
template <typename TW>
HWY_INLINE void RowStreamGroup(const detail::GemmTaskArgs& g, int64_t col_begin, int64_t vector_end, int64_t col_end,
                               int64_t k, int64_t rows) {
  const GemmTag df;
  const GemmTailTag d1;
  if (rows != kRowStreamRows) {
    RowStreamColumnsManyRows<TW, 0>(df, g, col_begin, vector_end, k, rows);
  } else if (g.m == 1) {
    RowStreamColumnsFewRows<TW, false>(df, g, col_begin, vector_end, k);
  } else if (g.m == 2) {
    RowStreamColumnsFewRows<TW, true>(df, g, col_begin, vector_end, k);
  } else {
    RowStreamColumnsManyRows<TW, kRowStreamRows>(df, g, col_begin, vector_end, k, rows);
  }
  RowStreamColumnsManyRows<TW, 0>(d1, g, vector_end, col_end, k, rows);
}

template <typename TW>
HWY_NOINLINE void RunRowStreamTask(const detail::GemmTaskArgs& g, size_t task) {
  const GemmTag df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t vector_end = col_begin + (col_end - col_begin) / lanes * lanes;
  for (int64_t k = 0; k < g.k; k += kRowStreamRows) {
    RowStreamGroup<TW>(g, col_begin, vector_end, col_end, k, HWY_MIN(kRowStreamRows, g.k - k));
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
  shape->lanes = hn::Lanes(df);
}

template <typename TW>
HWY_INLINE void RunGemmTaskFor(const detail::GemmTaskArgs& g, size_t task) {
  if (g.row_stream) {
    RunRowStreamTask<TW>(g, task);
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
