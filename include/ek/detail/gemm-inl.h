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
template <class DF>
HWY_NOINLINE void FinishTile(DF df, const detail::GemmTaskArgs& g, const TileOperands& t,
                             const float* HWY_RESTRICT buffer) {
  const size_t lanes = hn::Lanes(df);
  const DType type = t.finish ? g.c_type : DType::kF32;
  for (size_t r = 0; r < t.valid_rows; ++r) {
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, t.valid_cols - col);
      auto acc = hn::Load(df, buffer + (r * kMaxTileVectors + v) * lanes);
      if (t.finish) {
        if (t.bias) acc = hn::Add(acc, hn::LoadN(df, t.bias + col, count));
        if (g.clamp) acc = hn::Min(hn::Max(acc, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
      }
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
template <typename TW>
HWY_INLINE void RunBlockedTask(const detail::GemmTaskArgs& g, size_t task) {
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
//   column tiles:   4 vectors wide for 1-2 rows (GEMV), else the GEMM tile's width.
//   row groups:     up to kGemmTileRows rows; the column tile's B (k x tile width) is read from
//                   memory by the first group and from L2 by the others.
//   k:              the whole of K in one pass (no blocking: B is not reused enough to pay).
// B is packed or, without packing, row-major; row-major columns that do not fill a vector run
// the same kernel one lane wide.
template <class DF, size_t kMaxRows, size_t kVectors, typename TW>
HWY_INLINE void RunDecodeTile(DF df, const detail::GemmTaskArgs& g, int64_t col, int64_t cols) {
  for (int64_t row = 0; row < g.m; row += static_cast<int64_t>(kMaxRows)) {
    const int64_t rows = HWY_MIN(static_cast<int64_t>(kMaxRows), g.m - row);
    const TileOperands t = MakeTile<TW>(df, g, row, rows, col, cols, kVectors, 0, g.k);
    RunTile<kMaxRows, kVectors, DF, TW>(df, g, t);
  }
}

template <typename TW>
HWY_INLINE void RunDecodeTask(const detail::GemmTaskArgs& g, size_t task) {
  const GemmTag df;
  const int64_t col_begin = static_cast<int64_t>(task) * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const size_t vectors = g.m <= 2 ? kDecodeTileVectors : kGemmTileVectors;
  const int64_t tile_cols = static_cast<int64_t>(vectors) * lanes;
  // Row-major B: whole vectors only; the rest of the columns one lane at a time.
  const int64_t vector_end = g.b_panel_stride != 0 ? col_end : col_begin + (col_end - col_begin) / lanes * lanes;
  for (int64_t col = col_begin; col < vector_end; col += tile_cols) {
    const int64_t cols = HWY_MIN(tile_cols, vector_end - col);
    if (g.m <= 2) {
      RunDecodeTile<GemmTag, 2, kDecodeTileVectors, TW>(df, g, col, cols);
    } else {
      RunDecodeTile<GemmTag, kGemmTileRows, kGemmTileVectors, TW>(df, g, col, cols);
    }
  }
  // Row-major B's last columns (fewer than a vector): one element per tile, one lane wide.
  const GemmTailTag d1;
  for (int64_t col = vector_end; col < col_end; ++col) {
    for (int64_t row = 0; row < g.m; ++row) RunTile<1, 1, GemmTailTag, TW>(d1, g, MakeTile<TW>(d1, g, row, 1, col, 1, 1, 0, g.k));
  }
}

// ---- Exported entry points (ek/gemm.h) ---------------------------------------------------------
inline void GemmTileShape(detail::TileShape* shape) {
  const GemmTag df;
  shape->rows = kGemmTileRows;
  shape->vectors = kGemmTileVectors;
  shape->decode_vectors = kDecodeTileVectors;
  shape->lanes = hn::Lanes(df);
}

template <typename TW>
HWY_INLINE void RunGemmTaskFor(const detail::GemmTaskArgs& g, size_t task) {
  if (g.decode) {
    RunDecodeTask<TW>(g, task);
  } else {
    RunBlockedTask<TW>(g, task);
  }
}

inline void RunGemmTask(const detail::GemmTaskArgs& g, size_t task) {
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

#endif  // EK_DETAIL_GEMM_INL_H_
