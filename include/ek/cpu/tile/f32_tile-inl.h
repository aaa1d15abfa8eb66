// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The float micro-kernel layer: MultiplyTile, a register tile of C (rows x vectors of f32) over
// panels of B (f32, f16 or bf16 weights), with its descriptor (the tile table per target, read by
// every planner through GemmTileShape), its A sources (dense rows; k-chunks of row pointers for
// an indirect GEMM; strided rows, a buffer's columns) and its epilogue policies (sums as they
// are; bias + clamp). Called by GEMM, convolution (indirect A) and attention's tiled prefill
// (S^T = K Q^T, then P V with P read down P^T's columns). Compiled once per
// target. Numerics: docs/gemm.md; the contract: below, at MultiplyTile.

#if defined(EK_CPU_TILE_F32_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_F32_TILE_INL_H_
#undef EK_CPU_TILE_F32_TILE_INL_H_
#else
#define EK_CPU_TILE_F32_TILE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/detail/packed_format.h"
#include "ek/cpu/tile/loads-inl.h"
#include "ek/cpu/tile/loop_mark.h"
#include "ek/cpu/tile/operands.h"
#include "ek/cpu/tile/prefetch-inl.h"
#include "ek/cpu/tile/shapes-inl.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Register tiles: kGemmTileRows x kGemmTileVectors per target (ek/cpu/tile/shapes-inl.h) ----------
// Tiles of 1 or 2 rows (the small-M path) have registers to spare: the wide tile, and the GEMV
// tile. Two rows (M = 2): 4 vectors wide, 4 independent FMA chains per row (8 accumulators + 4 B + 2 A broadcasts). One row (GEMV, M = 1): as wide as 8
// vectors allow, up to 64 columns = 4 panels of packed B, so that DRAM streams 4 panels at once
// (measured on Zen2, GEMV over 11008 x 4096 packed f32: 1 / 2 / 4 / 6 panels at once 14 / 19 /
// 22 / 23 GB/s, row-major rows 8 at a time 24 GB/s). Registers: 8 accumulators + 1 A broadcast
// + 1-2 B (AVX2, NEON, SSE: 64, 32, 32 columns); AVX-512: 4 (64 columns).
constexpr size_t kWideTileVectors = 4;
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
// vector (small-M path only; packed panels are padded).
using GemmTailTag = hn::CappedTag<float, 1>;

constexpr size_t kMaxTileRows = detail::kTileMaxRows;  // the row pointers and accumulators below hold this many

// ---- B: kVectors vectors of a K x (kVectors * Lanes) sliver --------------------------------------
// Vector v of the tile at k is the Lanes values of the weight type at vectors[v] + k * k_stride
// (packed panels: k_stride = the panel width). Vectors past the tile's point at vector 0.
struct TileB {
  const void* vectors[kMaxTileVectors];
  size_t k_stride = 0;
};

// ---- A sources (ek/cpu/tile/operands.h) ------------------------------------------------------------
// Dense rows (a GEMM's A), k-chunks of row pointers with a zero row of at least chunk_k zeros
// (an indirect GEMM), or strided rows (the columns of a row-major buffer: attention's P).
using TileDenseA = detail::DenseRowsA<float>;
using TileIndirectA = detail::IndirectRowsA<float>;
using TileStridedA = detail::StridedRowsA<float>;

// ---- Epilogue policies -----------------------------------------------------------------------------
// What happens to the accumulators between the last k and the store. Active() is read once per
// tile; Apply(df, acc, column) per vector, column = the vector's first column in the tile.
//
// The sums as they are (partial sums of a K block; a caller that finishes them itself).
struct TileStoreSums {
  HWY_INLINE bool Active() const { return false; }
  template <class DF>
  HWY_INLINE hn::Vec<DF> Apply(DF /*df*/, hn::Vec<DF> acc, size_t /*column*/) const {
    return acc;
  }
};
// + bias (bias points at the tile's first column, or is null), then the clamp to [lo, hi] when
// `clamp`; only when `active` (a GEMM tile on C's last K block, writing C directly). Also the
// epilogue of the buffered tiles, the GEMV streams and the fp16 lane (ApplyN: count columns).
struct TileBiasClamp {
  const float* bias = nullptr;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  bool active = true;
  HWY_INLINE bool Active() const { return active; }
  template <class DF>
  HWY_INLINE hn::Vec<DF> ApplyN(DF df, hn::Vec<DF> acc, size_t column, size_t count) const {
    if (bias) {
      acc = hn::Add(acc, count == hn::Lanes(df) ? hn::LoadU(df, bias + column) : hn::LoadN(df, bias + column, count));
    }
    if (clamp) acc = hn::Min(hn::Max(acc, hn::Set(df, lo)), hn::Set(df, hi));
    return acc;
  }
  template <class DF>
  HWY_INLINE hn::Vec<DF> Apply(DF df, hn::Vec<DF> acc, size_t column) const {
    return ApplyN(df, acc, column, hn::Lanes(df));
  }
};

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
#define EK_TILE_A_ROW(R)                                                        \
  const float* HWY_RESTRICT a_row_##R = a.Row(chunk, R < kRows ? R : 0); \
  (void)a_row_##R;
#define EK_TILE_FMA(R, V) acc_##R##_##V = hn::MulAdd(a_##R, b_##V, acc_##R##_##V);
#define EK_TILE_LOAD_FMA(R, V) acc_##R##_##V = hn::MulAdd(a_##R, LoadAsF32(df, b##V), acc_##R##_##V);
#define EK_TILE_STEP_ROW(R)                          \
  if constexpr (R < kRows) {                         \
    const VF a_##R = hn::Set(df, a_row_##R[k * a_k_stride]); \
    EK_TILE_FOR_VECTORS(R, EK_TILE_FMA)              \
  }
#define EK_TILE_EPILOGUE(R, V) acc_##R##_##V = epilogue.Apply(df, acc_##R##_##V, V * lanes);
#define EK_TILE_EPILOGUE_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_EPILOGUE) }
#define EK_TILE_STORE(R, V) hn::StoreU(acc_##R##_##V, df, io + R * io_stride + V * lanes);
#define EK_TILE_STORE_ROW(R) \
  if constexpr (R < kRows) { EK_TILE_FOR_VECTORS(R, EK_TILE_STORE) }

// ---- The micro-kernel ----------------------------------------------------------------------------
// MultiplyTile<kRows, kVectors, DF, TW>(df, a, b, start_from_io, io, io_stride, epilogue,
// prefetch): the tile of C with kRows rows and kVectors * Lanes(df) columns, for every output
// (r, j), in this order (the FMA chain order every path keeps, so results are bitwise identical
// across paths, blockings and thread counts):
//   acc = start_from_io ? io[r][j] : 0
//   for each chunk of A (in order), for each k of the chunk (increasing):
//     acc = MulAdd(A(r, chunk, k), B(kk, j), acc)         (a multiply, then an add, without FMA)
//   io[r][j] = epilogue(acc)
// where kk counts k over all chunks (B's rows follow A's chunks back to back) and B's values
// are converted to f32 exactly. io is C itself (row stride io_stride floats) or a buffer.
//   registers: kRows x kVectors accumulators, kVectors B vectors, one A broadcast (the tile
//              table above gives each target's budget).
//   chunk loop: the A source's row pointers for the chunk (dense A: one chunk).
//   k loop:     kVectors loads of B (one row of the tile's sliver, from L1 / L2), then per row
//               one broadcast of A and kVectors FMAs; runs of k between prefetch points, each
//               issuing one line of the loop nest's prefetch plan (PrefetchShare) in 4 streams.
//   after:      the epilogue in registers, if active; the accumulators stored to io.
template <size_t kRows, size_t kVectors, class DF, typename TW, class ASource, class Epilogue>
HWY_INLINE void MultiplyTile(DF df, const ASource& a, const TileB& b, bool start_from_io, float* HWY_RESTRICT io,
                             size_t io_stride, const Epilogue& epilogue, const PrefetchShare& plan) {
  using VF = hn::Vec<DF>;
  const size_t lanes = hn::Lanes(df);
  EK_TILE_ROWS(EK_TILE_DECLARE_ROW)
  if (start_from_io) {
    EK_TILE_ROWS(EK_TILE_LOAD_ROW)
  }
  // Vectors past kVectors point at vector 0 (valid memory): their loads are dead and dropped.
  const TW* HWY_RESTRICT b0 = static_cast<const TW*>(b.vectors[0]);
  const TW* HWY_RESTRICT b1 = static_cast<const TW*>(b.vectors[1]);
  const TW* HWY_RESTRICT b2 = static_cast<const TW*>(b.vectors[2]);
  const TW* HWY_RESTRICT b3 = static_cast<const TW*>(b.vectors[3]);
  const TW* HWY_RESTRICT b4 = static_cast<const TW*>(b.vectors[4]);
  const TW* HWY_RESTRICT b5 = static_cast<const TW*>(b.vectors[5]);
  const TW* HWY_RESTRICT b6 = static_cast<const TW*>(b.vectors[6]);
  const TW* HWY_RESTRICT b7 = static_cast<const TW*>(b.vectors[7]);
  const size_t stride = b.k_stride;
  // Runs of k steps with nothing but loads and FMAs, each after the prefetch of one line of this
  // tile's share in each of the 4 streams (PrefetchShare: every 2^n steps); once the share is
  // done, one run to the end of the chunk.
  const uint8_t* prefetch = plan.line;
  const uint8_t* prefetch_row_end = plan.row_end;
  int64_t prefetch_left = plan.lines;
  const int64_t every = plan.every_mask + 1;
  const int64_t chunks = a.Chunks(), chunk_k = a.ChunkK();
  const int64_t a_k_stride = a.KStride();  // 1 (a constant) but for strided A
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    EK_TILE_ROWS(EK_TILE_A_ROW)
    for (int64_t k = 0; k < chunk_k;) {
      int64_t run_end = chunk_k;
      if (prefetch_left > 0) {
        PrefetchLine(prefetch);
        PrefetchLine(prefetch + plan.stream_stride);
        PrefetchLine(prefetch + 2 * plan.stream_stride);
        PrefetchLine(prefetch + 3 * plan.stream_stride);
        prefetch += 64;
        --prefetch_left;
        if (prefetch == prefetch_row_end) {
          prefetch += plan.row_stride - plan.row_bytes;
          prefetch_row_end += plan.row_stride;
        }
        run_end = HWY_MIN(chunk_k, k + every);
      }
      EK_LOOP_MARK("f32_tile", kRows, kVectors, WeightTypeCode<TW>() + 10 * ASource::kLoopMarkCode);
      for (; k < run_end; ++k) {
        if constexpr (kRows == 1) {
          // One row (GEMV): per vector a load and an FMA, in that order in the source: loading
          // all vectors first would need 8 more registers for converted 16-bit weights and
          // spill an accumulator on AVX2 (bf16 GEMV at 72-80% of the DRAM probe with the
          // spill, 96-100% without, Zen2).
          const VF a_0 = hn::Set(df, a_row_0[k * a_k_stride]);
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
  }
  if (epilogue.Active()) {
    EK_TILE_ROWS(EK_TILE_EPILOGUE_ROW)
  }
  EK_TILE_ROWS(EK_TILE_STORE_ROW)
}

#undef EK_TILE_ROWS
#undef EK_TILE_DECLARE_ROW
#undef EK_TILE_FOR_VECTORS
#undef EK_TILE_LOAD
#undef EK_TILE_LOAD_ROW
#undef EK_TILE_A_ROW
#undef EK_TILE_FMA
#undef EK_TILE_LOAD_FMA
#undef EK_TILE_STEP_ROW
#undef EK_TILE_EPILOGUE
#undef EK_TILE_EPILOGUE_ROW
#undef EK_TILE_STORE
#undef EK_TILE_STORE_ROW

// Runs MultiplyTile with kRows = rows (1..kMaxRows): an exact row count, so edge tiles do no
// wasted work. kAllRows: always kMaxRows rows (one instantiation; the rows past the valid ones
// repeat row 0 and are not stored).
template <size_t kMaxRows, size_t kVectors, class DF, typename TW, bool kAllRows = false, class ASource, class Epilogue>
HWY_INLINE void MultiplyTileRows(DF df, size_t rows, const ASource& a, const TileB& b, bool start_from_io,
                                 float* HWY_RESTRICT io, size_t io_stride, const Epilogue& epilogue,
                                 const PrefetchShare& plan) {
  // Recursion, not a generic lambda: a lambda called from target-independent code is not
  // inlined into this target's code (measured: the tiles became out-of-line calls, -8% on a
  // 64 x 4096 x 4096 GEMM over a view of B).
  if constexpr (kMaxRows > 1 && !kAllRows) {
    if (rows < kMaxRows) {
      return MultiplyTileRows<kMaxRows - 1, kVectors, DF, TW>(df, rows, a, b, start_from_io, io, io_stride, epilogue,
                                                             plan);
    }
  }
  MultiplyTile<kMaxRows, kVectors, DF, TW>(df, a, b, start_from_io, io, io_stride, epilogue, plan);
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_F32_TILE_INL_H_
