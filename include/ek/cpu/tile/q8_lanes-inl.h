// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The int8 lanes of this target (the dot-product instruction: AVX-512 VNNI, SVE sdot, NEON sdot,
// or the widening 16-bit form; NEON i8mm) and the register tiles of the int8 micro-kernels, with
// DotQuad, the one multiply-accumulate step of a group of 4 k. Compiled once per target.

#if defined(EK_CPU_TILE_Q8_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_Q8_LANES_INL_H_
#undef EK_CPU_TILE_Q8_LANES_INL_H_
#else
#define EK_CPU_TILE_Q8_LANES_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/qgemm/args.h"
#include "ek/cpu/tile/operands.h"
#include "ek/cpu/tile/shapes-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- The dot-product lane of this target ----------------------------------------------------------
// kQDotInstruction: a dot-product instruction does the step: AVX-512 VNNI vpdpbusd (u8 x s8, on
// AVX3_DL / AVX3_ZEN4 / AVX3_SPR), SVE sdot (s8 x s8: a - 128 times b, corrected by the column
// sums; one instruction where Highway's u8 x s8 form takes two udot and a correction), NEON sdot
// (the same, on FEAT_DotProd). Elsewhere, and when the lane is forced off, DotQuad widens to 16
// bits and uses pmaddwd-style pairwise multiply-adds (no intermediate saturation, unlike
// pmaddubsw).
#undef EK_QGEMM_NEON_SDOT  // set per target below (this file is compiled once per target)
#undef EK_QGEMM_SVE_SDOT
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3_DL
constexpr const char kQDotLaneName[] = "avx512vnni";
constexpr bool kQDotInstruction = true;
#elif HWY_TARGET & HWY_ALL_SVE
#define EK_QGEMM_SVE_SDOT 1
constexpr const char kQDotLaneName[] = "sve-sdot";
constexpr bool kQDotInstruction = true;
#elif HWY_ARCH_ARM_A64 && (HWY_TARGET & HWY_ALL_NEON)
// Arm NEON with FEAT_DotProd (Cortex-A55 / A76 class): `sdot`, which Highway's NEON targets do
// not emit; gated at run time by the dotprod hwcap (ek::Lane::kDotProd).
#define EK_QGEMM_NEON_SDOT 1
constexpr const char kQDotLaneName[] = "dotprod";
constexpr bool kQDotInstruction = true;
#else
constexpr const char kQDotLaneName[] = "widen";
constexpr bool kQDotInstruction = false;
#endif
#ifndef EK_QGEMM_NEON_SDOT
#define EK_QGEMM_NEON_SDOT 0
#endif
#ifndef EK_QGEMM_SVE_SDOT
#define EK_QGEMM_SVE_SDOT 0
#endif
// kQMatmulInstruction: Arm NEON with FEAT_I8MM (Cortex-A510 / A710 / X2 and later; also the cores
// whose SVE the OS leaves off): `usmmla`, gated at run time by the i8mm hwcap (ek::Lane::kI8mm)
// and preferred to sdot. SVE targets keep sve-sdot.
#undef EK_QGEMM_NEON_I8MM
#if HWY_ARCH_ARM_A64 && (HWY_TARGET & HWY_ALL_NEON)
#define EK_QGEMM_NEON_I8MM 1
constexpr const char* kQMatmulLaneName = "i8mm";
#else
#define EK_QGEMM_NEON_I8MM 0
constexpr const char* kQMatmulLaneName = nullptr;
#endif
constexpr bool kQMatmulInstruction = EK_QGEMM_NEON_I8MM != 0;
// The sdot lanes (NEON and SVE) multiply a - 128 (s8) by b: their sums lack 128 * (column sum of
// B), which the tile adds from the packed column sums after its last k. Per-block sums are not
// stored: int4 per-block weights run the NEON target's widen lane, and on SVE the u8 x s8 form
// (kQDotMixedSign: two udot and a correction per step, DotQuad<kDot, true>).
constexpr bool kQDotNeedsColumnCorrection = EK_QGEMM_NEON_SDOT != 0 || EK_QGEMM_SVE_SDOT != 0;
constexpr bool kQDotMixedSign = EK_QGEMM_SVE_SDOT != 0;

// ---- Register tiles: kQTileRows / kQBlockTileRows x kQTileVectors per target (ek/cpu/tile/shapes-inl.h)
// i8mm lane (NEON): 8 x 2 (8 rows = 4 row pairs x 8 columns = 4 column pairs): accumulators 16
// (2 x 2 int32 each) + B column pairs 4 + the two groups they are zipped from 2 + A row pairs 4 =
// 26. Blocks 4 x 2: 8 + f32 sums 8 + 6 + 2 + block scales 4 = 28.
constexpr size_t kQMatmulTileRows = 8;
constexpr size_t kQMatmulBlockTileRows = 4;
constexpr size_t kQTileVectors = 2;
constexpr size_t kQWideTileVectors = 4;  // tiles of 1 or 2 rows: 4 vectors wide (GEMV)
constexpr size_t kQMaxRows = detail::kTileMaxRows;
constexpr size_t kQMaxVectors = 4;

// int32 lanes per vector, at most one panel (16 columns x 4 k = 64 bytes).
using QTag = hn::CappedTag<int32_t, static_cast<size_t>(detail::kQPanelWidth)>;

// acc += sum over each group of 4 bytes of a_u8 * b_s8; on the sdot lanes (kQDotNeedsColumnCorrection)
// of (a_u8 - 128) * b_s8 unless kMixedSign (SVE only: the u8 x s8 form, no correction needed).
template <bool kDot, bool kMixedSign = false, class DI>
HWY_INLINE hn::Vec<DI> DotQuad(DI di, hn::Vec<hn::Repartition<uint8_t, DI>> a, hn::Vec<hn::Repartition<int8_t, DI>> b,
                               hn::Vec<DI> acc) {
  if constexpr (kDot && kQDotInstruction) {
#if EK_QGEMM_NEON_SDOT
    // acc += (a - 128) . b per group of 4: one sdot. The assembler is told about the extension
    // here because Highway's NEON target does not enable it (the lane is checked at run time).
    // GNU as accepts sdot only after an .arch that has it; the one given is a superset of every
    // NEON target's (so the rest of the function still assembles), and gcc states the .arch of
    // each function that differs from the previous one (SVE targets) itself.
    const hn::Repartition<uint8_t, DI> du8;
    const auto a_signed = hn::Xor(a, hn::Set(du8, uint8_t{0x80}));
    auto sums = acc.raw;
#if HWY_COMPILER_CLANG
#define EK_QGEMM_DOTPROD_ARCH ".arch_extension dotprod\n\t"
#else
#define EK_QGEMM_DOTPROD_ARCH ".arch armv8.2-a+dotprod+crypto+fp16+bf16\n\t"
#endif
    asm(EK_QGEMM_DOTPROD_ARCH "sdot %0.4s, %1.16b, %2.16b" : "+w"(sums) : "w"(a_signed.raw), "w"(b.raw));
#undef EK_QGEMM_DOTPROD_ARCH
    (void)di;
    return hn::Vec<DI>{sums};
#elif EK_QGEMM_SVE_SDOT
    if constexpr (kMixedSign) return hn::SumOfMulQuadAccumulate(di, a, b, acc);
    const hn::Repartition<uint8_t, DI> du8;
    const hn::Repartition<int8_t, DI> ds8;
    return hn::SumOfMulQuadAccumulate(di, hn::BitCast(ds8, hn::Xor(a, hn::Set(du8, uint8_t{0x80}))), b, acc);
#else
    return hn::SumOfMulQuadAccumulate(di, a, b, acc);
#endif
  } else {
    const hn::Repartition<int16_t, DI> di16;
    const hn::Repartition<uint16_t, DI> du16;
    const auto a_even = hn::And(hn::BitCast(di16, a), hn::Set(di16, int16_t{0x00FF}));
    const auto a_odd = hn::BitCast(di16, hn::ShiftRight<8>(hn::BitCast(du16, a)));
    const auto b_even = hn::ShiftRight<8>(hn::ShiftLeft<8>(hn::BitCast(di16, b)));
    const auto b_odd = hn::ShiftRight<8>(hn::BitCast(di16, b));
    return hn::Add(acc, hn::Add(hn::WidenMulPairwiseAdd(di, a_even, b_even), hn::WidenMulPairwiseAdd(di, a_odd, b_odd)));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_Q8_LANES_INL_H_
