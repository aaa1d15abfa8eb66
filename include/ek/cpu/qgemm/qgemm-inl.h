// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The integer GEMM family, per target: the entry points ek/qgemm.h dispatches to (RunQGemmTask,
// the lanes of this target, staging, the vector requantization) over the pieces included below.
// Compiled once per target through ek/cpu/kernels-inl.h; validation, packing and planning
// live in ek/cpu/qgemm/*.h. Numerics: docs/quantization.md.
//
// Integer sums are exact (int32, K bounded by the planner), so the int8 / uint8 outputs are
// bit-exact on every target and lane. The f32 outputs of the dynamic kernels use separate
// multiplies and adds in a fixed order, the same as the reference.

#if defined(EK_CPU_QGEMM_QGEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_QGEMM_QGEMM_INL_H_
#undef EK_CPU_QGEMM_QGEMM_INL_H_
#else
#define EK_CPU_QGEMM_QGEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/qgemm/args.h"
#include "ek/cpu/qgemm/loops-inl.h"
#include "ek/cpu/qgemm/stage-inl.h"
#include "ek/cpu/tile/q8_lanes-inl.h"
#include "ek/cpu/tile/requantize-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

inline void RunQGemmTask(const detail::QGemmTaskArgs& g, size_t task) {
  if constexpr (kQMatmulInstruction) {
    if (g.lane == detail::QLane::kMatmul) return RunQTaskLane<detail::QLane::kMatmul>(g, task);
  }
  const bool dot = kQDotInstruction && g.lane != detail::QLane::kWiden &&
                   !(kQDotNeedsColumnCorrection && !kQDotMixedSign && g.output == detail::QOutput::kBlocks);
  if (dot) return RunQTaskLane<detail::QLane::kDot>(g, task);
  RunQTaskLane<detail::QLane::kWiden>(g, task);
}

// The lanes this target has: its dot-product lane ("widen" when it has no dot instruction) and
// its matrix-multiply lane (null when none). ek::QGemmDotLane() picks by the enabled CPU lanes.
// The register tiles of `lane` on this target (the planner's descriptor).
inline void QGemmTileShape(detail::QLane lane, detail::QTileShape* shape) {
  const QTag di;
  const bool matmul = lane == detail::QLane::kMatmul && kQMatmulInstruction;
  shape->rows = matmul ? kQMatmulTileRows : kQTileRows;
  shape->block_rows = matmul ? kQMatmulBlockTileRows : kQBlockTileRows;
  shape->vectors = kQTileVectors;
  shape->wide_rows = 2;
  shape->wide_vectors = kQWideTileVectors;
  shape->lanes = hn::Lanes(di);
  shape->k_step = matmul ? 8 : 4;
  shape->panel_width = static_cast<size_t>(detail::kQPanelWidth);
}

inline void QGemmTargetLanes(const char** dot, const char** matmul) {
  *dot = kQDotLaneName;
  *matmul = kQMatmulLaneName;
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_QGEMM_QGEMM_INL_H_
