// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The register tiles of every micro-kernel, per target: one table, so that each target's register
// file is accounted for in one place. A tile is rows x vectors of C held in accumulators for a
// whole K block (or quantization block): the float tiles (MultiplyTile, f32 vectors) and the int8
// tiles (DotTile, int32 vectors of Lanes columns x 4 k per step). The planners read them through
// the descriptors (GemmTileShape, QGemmTileShape); the wide and GEMV tiles of 1-2 rows and the
// i8mm tiles are next to their micro-kernels. Compiled once per target.

#if defined(EK_CPU_TILE_SHAPES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_SHAPES_INL_H_
#undef EK_CPU_TILE_SHAPES_INL_H_
#else
#define EK_CPU_TILE_SHAPES_INL_H_
#endif

#include <stddef.h>

#include "hwy/highway.h"

// Constants only: no HWY_BEFORE_NAMESPACE (clang rejects a target region with no function).
namespace ek {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// AVX-512, 32 zmm.
// f32 8 x 2 (8 x 32 floats): accumulators 16 + B 2 + A broadcast 1 = 19 of 32; 16 independent
//   FMA chains cover 2 ports x 4 cycles latency; 8 A row pointers + 2 B pointers fit the 16
//   general registers (more rows would spill pointers).
// int8 8 x 2 (8 x 32 columns): accumulators 16 + B 2 + A broadcast 1 (often folded into
//   vpdpbusd's {1to16} operand) = 19. int4 blocks 4 x 2: int32 16 -> 8 + f32 8 + B raw / low /
//   high 6 + nibble mask 1 + block scales 2 = 25.
constexpr size_t kGemmTileRows = 8, kGemmTileVectors = 2;
constexpr size_t kQTileRows = 8, kQBlockTileRows = 4;
#elif HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// AVX2, 16 ymm.
// f32 6 x 2 (6 x 16 floats): accumulators 12 + B 2 + A broadcast 1 = 15 of 16.
// int8 4 x 2, widening dot (two 16-bit halves of A and B per step): accumulators 8 + B halves 4 +
//   A halves 2 + product 1 = 15. Blocks 2 x 2: 4 + 4 + 6 + 1 = 15, + 4 int16 partial sums in the
//   int4 form (the f32 sums, touched once per block, may spill).
constexpr size_t kGemmTileRows = 6, kGemmTileVectors = 2;
constexpr size_t kQTileRows = 4, kQBlockTileRows = 2;
#elif HWY_ARCH_ARM_A64
// NEON and SVE, 32 registers (sized for 128-bit vectors, what phones implement).
// f32 6 x 4 (6 x 16 floats): accumulators 24 + B 4 + A broadcast 1 = 29 of 32.
// int8 6 x 2: accumulators 12 + B 2 + A 1 + the widening temporaries 4 = 19; blocks 4 x 2:
//   8 + 8 + 6 + 1 + 2 = 25.
constexpr size_t kGemmTileRows = 6, kGemmTileVectors = 4;
constexpr size_t kQTileRows = 6, kQBlockTileRows = 4;
#else
// SSE2..SSE4, 16 xmm.
// f32 4 x 2 (4 x 8 floats; no FMA: multiply, then add): accumulators 8 + B 2 + A broadcast 1 +
//   product 1 = 12 of 16.
// int8: as AVX2 (4 x 2, blocks 2 x 2).
constexpr size_t kGemmTileRows = 4, kGemmTileVectors = 2;
constexpr size_t kQTileRows = 4, kQBlockTileRows = 2;
#endif

}  // namespace HWY_NAMESPACE
}  // namespace ek

#endif  // EK_CPU_TILE_SHAPES_INL_H_
