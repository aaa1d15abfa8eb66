// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// GEMV (M <= 2) on a view of B read in place: a row-major B's rows streamed (RunRowStreamTask),
// a transposed B's columns streamed 8 at a time (RunColumnStreamTask); each output the tiles'
// FMA chain, so the results are the packed path's bits. Compiled once per target.

#if defined(EK_CPU_GEMM_GEMV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_GEMV_INL_H_
#undef EK_CPU_GEMM_GEMV_INL_H_
#else
#define EK_CPU_GEMM_GEMV_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/gemm/epilogue-inl.h"
#include "ek/cpu/gemm/pack_view-inl.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "ek/cpu/tile/loads-inl.h"
#include "ek/cpu/tile/loop_mark.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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
  EK_LOOP_MARK("f32_rowstream", kTwoRows ? 2 : 1, 1, WeightTypeCode<TW>());
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
      hn::StoreN(GemmEpilogue(g, g.bias, true).ApplyN(df, acc, static_cast<size_t>(col), count), df, c + col, count);
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
  EK_LOOP_MARK("f32_colstream", kRows, 2, WeightTypeCode<TW>());
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
    StoreOutput(d, GemmEpilogue(g, bias, true).ApplyN(d, acc, 0, valid[half]), c_at(row, half), g.c_type, valid[half]);
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

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_GEMV_INL_H_
