// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The float GEMM family, per target: the entry points ek/gemm.h dispatches to (the tile shape,
// RunGemmTask: one per GemmPath: blocked, small-M, row / column stream, fp16 lane) over the pieces included
// below. Compiled once per target through ek/cpu/kernels-inl.h. Numerics: docs/gemm.md.
//
// Every output element is one chain of fused multiply-adds in increasing k, starting from 0 (or
// from C's old value when accumulating); bias and activation are applied after the last k. K
// blocking keeps that chain intact: a tile that continues a K block reloads its f32 partial sums
// from C into the accumulators and goes on. So the result of an element depends only on the
// target (FMA or not), never on the blocking, the thread count, the path (GemmPath) or
// whether B was packed by the caller or by ek.

#if defined(EK_CPU_GEMM_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_GEMM_INL_H_
#undef EK_CPU_GEMM_GEMM_INL_H_
#else
#define EK_CPU_GEMM_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/gemm/f16_lane-inl.h"
#include "ek/cpu/gemm/gemv-inl.h"
#include "ek/cpu/gemm/loops-inl.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Exported entry points (ek/gemm.h) ---------------------------------------------------------
// A (f32 or f16, any strides) as dense f32 rows: `rows` x `cols` at out (row stride cols). f16
// converts exactly (finite values; docs/gemm.md).
inline void StageGemmA(const void* a, DType type, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                       float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t i = 0; i < rows; ++i) {
    float* HWY_RESTRICT dst = out + i * cols;
    if (type == DType::kF32) {
      const float* src = static_cast<const float*>(a) + i * row_stride;
      for (int64_t j = 0; j < cols; ++j) dst[j] = src[j * col_stride];
      continue;
    }
    const hwy::float16_t* src = static_cast<const hwy::float16_t*>(a) + i * row_stride;
    int64_t j = 0;
    if (col_stride == 1) {
      for (; j + lanes <= cols; j += lanes) hn::StoreU(LoadAsF32(df, src + j), df, dst + j);
    }
    for (; j < cols; ++j) dst[j] = hwy::F32FromF16(src[j * col_stride]);
  }
}


inline void GemmTileShape(detail::TileShape* shape) {
  const GemmTag df;
  shape->rows = kGemmTileRows;
  shape->vectors = kGemmTileVectors;
  shape->wide_vectors = kWideTileVectors;
  shape->gemv_vectors = kGemvTileVectors;
  shape->lanes = hn::Lanes(df);
  shape->k_step = 1;
  shape->panel_width = static_cast<size_t>(detail::kPanelWidth);
}

template <typename TW>
HWY_INLINE void RunGemmTaskFor(const detail::GemmTaskArgs& g, size_t task) {
  switch (g.path) {
    case detail::GemmPath::kRowStream:
      return RunRowStreamTask<TW>(g, task);
    case detail::GemmPath::kColumnStream:
      return RunColumnStreamTask<TW>(g, task);
    case detail::GemmPath::kSmallM:
      return RunSmallMTask<TW>(g, task);
    default:
      return RunBlockedTask<TW>(g, task);
  }
}

inline void RunGemmTask(const detail::GemmTaskArgs& g, size_t task) {
#if EK_GEMM_F16_ARITHMETIC
  if (g.path == detail::GemmPath::kF16Arithmetic) return RunF16ArithmeticTask(g, task);
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
#endif  // EK_CPU_GEMM_GEMM_INL_H_
