// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The float GEMM's one epilogue, bias + clamp (the tile layer's TileBiasClamp), from a call's
// arguments: used by the tiles, the GEMV streams and the fp16 lane alike. Compiled once per
// target.

#if defined(EK_CPU_GEMM_EPILOGUE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_EPILOGUE_INL_H_
#undef EK_CPU_GEMM_EPILOGUE_INL_H_
#else
#define EK_CPU_GEMM_EPILOGUE_INL_H_
#endif

#include <stddef.h>

#include "ek/cpu/gemm/args.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The GEMM's epilogue (bias from `bias`, the call's clamp), active on C's last K block.
HWY_INLINE TileBiasClamp GemmEpilogue(const detail::GemmTaskArgs& g, const float* bias, bool active) {
  TileBiasClamp e;
  e.bias = bias;
  e.clamp = g.clamp;
  e.lo = g.clamp_min;
  e.hi = g.clamp_max;
  e.active = active;
  return e;
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_EPILOGUE_INL_H_
