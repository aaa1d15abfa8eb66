// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The fp16 lane (Arm FEAT_FP16): f16 products summed in f16 over blocks of kF16Block k, then in
// f32, on targets with f16 vector arithmetic. Defines EK_GEMM_F16_ARITHMETIC (1 where it exists)
// for ek/cpu/gemm/gemm-inl.h. Compiled once per target.

#if defined(EK_CPU_GEMM_F16_LANE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_F16_LANE_INL_H_
#undef EK_CPU_GEMM_F16_LANE_INL_H_
#else
#define EK_CPU_GEMM_F16_LANE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/gemm/epilogue-inl.h"
#include "ek/cpu/tile/loop_mark.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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
  v = GemmEpilogue(g, g.bias, true).ApplyN(df, v, static_cast<size_t>(col), count);
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
        EK_LOOP_MARK("f16_arith", 1, 4, 1);
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

// Whether this target has the fp16 lane's kernel (also keeps the target region non-empty).
inline bool GemmHasF16Arithmetic() { return EK_GEMM_F16_ARITHMETIC != 0; }

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_F16_LANE_INL_H_
