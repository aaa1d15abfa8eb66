// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Per-target integer GEMM: one micro-kernel template (DotTile) over u8 activations and packed s8
// or int4 weights, the vector form of the requantization rule (mirroring ek/requantize.h op by
// op), the epilogues, dynamic per-row quantization of f32 activations, and the task loop.
// Compiled once per Highway target through ek/detail/kernels-inl.h; validation, packing and
// planning live in ek/qgemm.h. Numerics: docs/quantization.md.
//
// Integer sums are exact (int32, K bounded by ek/qgemm.h), so the int8 / uint8 outputs are
// bit-exact on every target and lane. The f32 outputs of the dynamic kernels use separate
// multiplies and adds in a fixed order, the same as the reference.

#if defined(EK_DETAIL_QGEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_DETAIL_QGEMM_INL_H_
#undef EK_DETAIL_QGEMM_INL_H_
#else
#define EK_DETAIL_QGEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <type_traits>
#include <utility>

#include "ek/detail/qgemm_types.h"
#include "ek/ref/convert.h"
#include "ek/requantize.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- The dot-product lane of this target ----------------------------------------------------------
// kQDotInstruction: Highway's SumOfMulQuadAccumulate(u8, s8) is one instruction here (AVX-512
// VNNI vpdpbusd on AVX3_DL / AVX3_ZEN4 / AVX3_SPR) or a pair of SVE udot. Elsewhere, and when the
// lane is forced off, DotQuad widens to 16 bits and uses pmaddwd-style pairwise multiply-adds
// (no intermediate saturation, unlike pmaddubsw).
#undef EK_QGEMM_NEON_SDOT  // set per target below (this file is compiled once per target)
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3_DL
constexpr const char kQDotLaneName[] = "avx512vnni";
constexpr bool kQDotInstruction = true;
#elif HWY_TARGET & HWY_ALL_SVE
constexpr const char kQDotLaneName[] = "sve-udot";
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
// kQMatmulInstruction: Arm NEON with FEAT_I8MM (Cortex-A510 / A710 / X2 and later; also the cores
// whose SVE the OS leaves off): `usmmla`, gated at run time by the i8mm hwcap (ek::Lane::kI8mm)
// and preferred to sdot. SVE targets keep sve-udot.
#undef EK_QGEMM_NEON_I8MM
#if HWY_ARCH_ARM_A64 && (HWY_TARGET & HWY_ALL_NEON)
#define EK_QGEMM_NEON_I8MM 1
constexpr const char* kQMatmulLaneName = "i8mm";
#else
#define EK_QGEMM_NEON_I8MM 0
constexpr const char* kQMatmulLaneName = nullptr;
#endif
constexpr bool kQMatmulInstruction = EK_QGEMM_NEON_I8MM != 0;
// The sdot lane multiplies a - 128 (s8) by b: its sums lack 128 * (column sum of B), which the
// tile adds from the packed column sums after its last k. Per-block sums are not stored, so
// int4 per-block weights do not use this lane.
constexpr bool kQDotNeedsColumnCorrection = EK_QGEMM_NEON_SDOT != 0;

// ---- Register tile per target ---------------------------------------------------------------------
// A tile is kRows rows x kVectors int32 vectors of C (each vector: Lanes columns x 4 k per step).
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// AVX-512, 32 zmm. int8: 8 x 2 (8 x 32 columns): accumulators 16 + B 2 + A broadcast 1 (often
// folded into vpdpbusd's {1to16} operand) = 19. int4 blocks: 4 x 2: int32 16 -> 8 + f32 8 + B
// raw/low/high 6 + nibble mask 1 + block scales 2 = 25.
constexpr size_t kQTileRows = 8;
constexpr size_t kQBlockTileRows = 4;
#elif HWY_ARCH_ARM_A64
// NEON / SVE, 32 registers (sized for 128-bit vectors): 6 x 2 int8: accumulators 12 + B 2 +
// A 1 + the widening temporaries 4 = 19; blocks 4 x 2: 8 + 8 + 6 + 1 + 2 = 25.
constexpr size_t kQTileRows = 6;
constexpr size_t kQBlockTileRows = 4;
#else
// AVX2 / SSE, 16 registers, widening dot (two 16-bit halves of A and B per step): 4 x 2:
// accumulators 8 + B halves 4 + A halves 2 + product 1 = 15. Blocks 2 x 2: 4 + 4 + 6 + 1 = 15,
// + 4 int16 partial sums in the int4 form (the f32 sums, touched once per block, may spill).
constexpr size_t kQTileRows = 4;
constexpr size_t kQBlockTileRows = 2;
#endif
// i8mm lane (NEON): 8 x 2 (8 rows = 4 row pairs x 8 columns = 4 column pairs): accumulators 16
// (2 x 2 int32 each) + B column pairs 4 + the two groups they are zipped from 2 + A row pairs 4 =
// 26. Blocks 4 x 2: 8 + f32 sums 8 + 6 + 2 + block scales 4 = 28.
constexpr size_t kQMatmulTileRows = 8;
constexpr size_t kQMatmulBlockTileRows = 4;
constexpr size_t kQTileVectors = 2;
constexpr size_t kQDecodeVectors = 4;  // tiles of 1 or 2 rows: 4 vectors wide (GEMV)
constexpr size_t kQMaxRows = 8;
constexpr size_t kQMaxVectors = 4;

// int32 lanes per vector, at most one panel (16 columns x 4 k = 64 bytes).
using QTag = hn::CappedTag<int32_t, static_cast<size_t>(detail::kQPanelWidth)>;

// acc += sum over each group of 4 bytes of a_u8 * b_s8.
template <bool kDot, class DI>
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

// ---- Requantization, the vector form of ek/requantize.h ----------------------------------------
// Same operations in the same order: saturating left shift (clamp, then shift), doubling high
// multiply with rounding (64-bit products of even and odd lanes, + 2^30, >> 31; the one overflow
// case INT32_MIN * INT32_MIN selected to INT32_MAX), rounding divide by a power of two (x >> e,
// + 1 where the remainder exceeds half of 2^e, or half minus one for negative x), clamp (done as
// clamp(x, qmin - zp, qmax - zp) + zp, which equals the rule's 64-bit clamp(x + zp)).
// The form drops the steps that cannot change the result in its domain (RequantizeForm):
//   kLeftShifts false: every shift <= 0, so the saturating left shift is the identity;
//   kMinMultiplier false: no multiplier is INT32_MIN (QuantizeMultiplier's are in [0, 2^31)),
//   so the overflow case cannot occur.
// The rule is split in two: RequantizeColumnTerms computes what depends only on the column's
// multiplier and shift (once per column vector of a tile), RequantizeWith the rest (per output).
template <bool kLeftShifts, class DI, class VI = hn::Vec<DI>>
HWY_INLINE void RequantizeColumnTerms(DI di, VI multiplier, VI shift, VI& multiplier_odd, VI& left, VI& right,
                                      VI& mask, VI& half_mask) {
  const hn::Repartition<uint64_t, DI> du64;
  const VI zero = hn::Zero(di), one = hn::Set(di, 1);
  // The odd lanes' multipliers moved to the even lanes (what MulOdd does to both operands).
  multiplier_odd = hn::BitCast(di, hn::ShiftRight<32>(hn::BitCast(du64, multiplier)));
  if constexpr (kLeftShifts) {
    left = hn::Max(shift, zero);
    right = hn::Max(hn::Neg(shift), zero);
  } else {
    left = zero;
    right = hn::Neg(shift);
  }
  mask = hn::Sub(hn::Shl(one, right), one);
  half_mask = hn::ShiftRight<1>(mask);
}

template <bool kLeftShifts, bool kMinMultiplier, class DI, class VI = hn::Vec<DI>>
HWY_INLINE VI RequantizeWith(DI di, VI acc, VI multiplier, VI multiplier_odd, VI left, VI right, VI mask,
                             VI half_mask, VI zero_point, VI lo, VI hi) {
  const hn::RepartitionToWide<DI> di64;
  const hn::Repartition<uint64_t, DI> du64;
  const VI one = hn::Set(di, 1);
  const VI int_min = hn::Set(di, INT32_MIN), int_max = hn::Set(di, INT32_MAX);
  VI x = acc;
  if constexpr (kLeftShifts) {
    x = hn::Shl(hn::Min(hn::Max(acc, hn::Shr(int_min, left)), hn::Shr(int_max, left)), left);
  }
  (void)left;

  const auto nudge = hn::Set(di64, int64_t{1} << 30);
  const VI x_odd = hn::BitCast(di, hn::ShiftRight<32>(hn::BitCast(du64, x)));
  const auto even = hn::ShiftRight<31>(hn::Add(hn::MulEven(x, multiplier), nudge));
  const auto odd = hn::ShiftRight<31>(hn::Add(hn::MulEven(x_odd, multiplier_odd), nudge));
  VI high = hn::OddEven(hn::BitCast(di, hn::ShiftLeft<32>(odd)), hn::BitCast(di, even));
  if constexpr (kMinMultiplier) {
    high = hn::IfThenElse(hn::And(hn::Eq(x, int_min), hn::Eq(multiplier, int_min)), int_max, high);
  }
  (void)int_min;
  (void)int_max;

  const VI remainder = hn::And(high, mask);
  const VI threshold = hn::Sub(half_mask, hn::ShiftRight<31>(high));  // + 1 for negative high
  const VI shifted = hn::Shr(high, right);
  const VI divided = hn::MaskedAddOr(shifted, hn::Gt(remainder, threshold), shifted, one);
  return hn::Add(hn::Min(hn::Max(divided, lo), hi), zero_point);
}

template <bool kLeftShifts, bool kMinMultiplier, class DI, class VI = hn::Vec<DI>>
HWY_INLINE VI RequantizeVec(DI di, VI acc, VI multiplier, VI shift, VI zero_point, VI lo, VI hi) {
  VI multiplier_odd, left, right, mask, half_mask;
  RequantizeColumnTerms<kLeftShifts>(di, multiplier, shift, multiplier_odd, left, right, mask, half_mask);
  return RequantizeWith<kLeftShifts, kMinMultiplier>(di, acc, multiplier, multiplier_odd, left, right, mask,
                                                     half_mask, zero_point, lo, hi);
}

// Requantizes `count` int32 values in the given form (tests compare every form with
// ek::Requantize lane by lane, over that form's domain).
inline void RequantizeArray(const int32_t* HWY_RESTRICT acc, const int32_t* HWY_RESTRICT multiplier,
                            const int32_t* HWY_RESTRICT shift, int32_t zero_point, int32_t qmin, int32_t qmax,
                            size_t count, RequantizeForm form, int32_t* HWY_RESTRICT out) {
  const QTag di;
  const size_t lanes = hn::Lanes(di);
  const auto zp = hn::Set(di, zero_point);
  const auto lo = hn::Set(di, qmin - zero_point), hi = hn::Set(di, qmax - zero_point);
  for (size_t i = 0; i < count; i += lanes) {
    const size_t n = HWY_MIN(lanes, count - i);
    const auto a = hn::LoadN(di, acc + i, n), m = hn::LoadN(di, multiplier + i, n), s = hn::LoadN(di, shift + i, n);
    const auto q = form == RequantizeForm::kGeneral            ? RequantizeVec<true, true>(di, a, m, s, zp, lo, hi)
                   : form == RequantizeForm::kQuantizedMultipliers ? RequantizeVec<true, false>(di, a, m, s, zp, lo, hi)
                                                                   : RequantizeVec<false, false>(di, a, m, s, zp, lo, hi);
    hn::StoreN(q, di, out + i, n);
  }
}

// ---- Where one tile's operands are --------------------------------------------------------------
struct QTile {
  const uint8_t* a_rows[kQMaxRows];  // row r of packed A (rows past valid_rows repeat row 0)
  const uint8_t* b_vectors[kQMaxVectors];  // vector v's first group in packed B
  size_t valid_rows = 0;
  size_t valid_cols = 0;
  int64_t row0 = 0, col0 = 0;
};

// Accumulators are named variables (SVE vectors are sizeless and cannot be array elements):
// acc_R_V is row R, vector V; facc_R_V its f32 sum over finished int4 blocks; sacc_R_V its int16
// partial sums in the int4 widen form (see NibbleValues), moved into acc_R_V every kSmallChunkK k.
#define EK_QTILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define EK_QTILE_DECLARE_ROW(R)                                                                         \
  VI acc_##R##_0 = hn::Zero(di), acc_##R##_1 = hn::Zero(di), acc_##R##_2 = hn::Zero(di),                \
     acc_##R##_3 = hn::Zero(di);                                                                        \
  VF facc_##R##_0 = hn::Zero(df), facc_##R##_1 = hn::Zero(df), facc_##R##_2 = hn::Zero(df),             \
     facc_##R##_3 = hn::Zero(df);                                                                       \
  VI16 sacc_##R##_0 = hn::Zero(di16), sacc_##R##_1 = hn::Zero(di16), sacc_##R##_2 = hn::Zero(di16),     \
       sacc_##R##_3 = hn::Zero(di16);                                                                   \
  (void)facc_##R##_0;                                                                                   \
  (void)facc_##R##_1;                                                                                   \
  (void)facc_##R##_2;                                                                                   \
  (void)facc_##R##_3;                                                                                   \
  (void)sacc_##R##_0;                                                                                   \
  (void)sacc_##R##_1;                                                                                   \
  (void)sacc_##R##_2;                                                                                   \
  (void)sacc_##R##_3;
#define EK_QTILE_FOR_VECTORS(R, X)         \
  X(R, 0)                                  \
  if constexpr (kVectors > 1) { X(R, 1) }  \
  if constexpr (kVectors > 2) { X(R, 2) }  \
  if constexpr (kVectors > 3) { X(R, 3) }
// One group of 4 k: broadcast the row's 4 bytes of A, one dot step per vector of B.
#define EK_QTILE_DOT(R, V)                                                             \
  if constexpr (kSmall) {                                                              \
    sacc_##R##_##V = hn::Add(sacc_##R##_##V, hn::SatWidenMulPairwiseAdd(di16, a_##R, b_##V)); \
  } else {                                                                             \
    acc_##R##_##V = DotQuad<kDot>(di, a_##R, b_##V, acc_##R##_##V);                    \
  }
#define EK_QTILE_STEP_ROW(R)                                                  \
  if constexpr (R < kRows) {                                                  \
    const VU8 a_##R = BroadcastGroup(du8, t.a_rows[R] + a_offset);            \
    EK_QTILE_FOR_VECTORS(R, EK_QTILE_DOT)                                     \
  }
#define EK_QTILE_FLUSH(R, V)                                                                            \
  acc_##R##_##V = hn::Add(acc_##R##_##V, hn::WidenMulPairwiseAdd(di, sacc_##R##_##V, ones16));          \
  sacc_##R##_##V = hn::Zero(di16);
#define EK_QTILE_FLUSH_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_FLUSH) }
// Block sums of int4 are x16 on the dot lanes (values x 16: shifted down exactly), true values in
// the widen form; block scales are stored unscaled.
#define EK_QTILE_FOLD(R, V)                                                                             \
  if constexpr (kInt4 && !kSmall) acc_##R##_##V = hn::ShiftRight<4>(acc_##R##_##V);                    \
  facc_##R##_##V = hn::Add(hn::Mul(hn::ConvertTo(df, acc_##R##_##V), scale_##V), facc_##R##_##V);       \
  acc_##R##_##V = hn::Zero(di);
#define EK_QTILE_FOLD_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_FOLD) }
#define EK_QTILE_STORE(R, V)                                                                  \
  if constexpr (kBlocks) {                                                                    \
    hn::Store(facc_##R##_##V, df, reinterpret_cast<float*>(buffer) + (R * kQMaxVectors + V) * lanes); \
  } else if constexpr (kSmall) {                                                             \
    hn::Store(hn::ShiftLeft<4>(acc_##R##_##V), di, buffer + (R * kQMaxVectors + V) * lanes);  \
  } else if constexpr (kDot && kQDotNeedsColumnCorrection) {                                 \
    hn::Store(hn::Add(acc_##R##_##V, correction_##V), di, buffer + (R * kQMaxVectors + V) * lanes); \
  } else {                                                                                    \
    hn::Store(acc_##R##_##V, di, buffer + (R * kQMaxVectors + V) * lanes);                    \
  }
#define EK_QTILE_STORE_ROW(R) \
  if constexpr (R < kRows) { EK_QTILE_FOR_VECTORS(R, EK_QTILE_STORE) }

// 4 bytes of A (one k group of one row) in every 32-bit lane.
template <class DU8>
HWY_INLINE hn::Vec<DU8> BroadcastGroup(DU8 du8, const uint8_t* HWY_RESTRICT p) {
  const hn::Repartition<uint32_t, DU8> du32;
  uint32_t group;
  memcpy(&group, p, sizeof(group));
  return hn::BitCast(du8, hn::Set(du32, group));
}

// int4: one 64-byte row of nibbles is two groups of s8 weights, each value times 16 (the sums are
// shifted down by 4 in the epilogues: exact): low nibbles shifted up (shift + mask: 2 ops), high
// nibbles masked in place (1 op).
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> LowNibblesTimes16(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  const hn::Repartition<uint16_t, DS8> du16;
  const auto shifted = hn::BitCast(du8, hn::ShiftLeft<4>(hn::BitCast(du16, raw)));
  return hn::BitCast(ds8, hn::And(shifted, hn::Set(du8, uint8_t{0xF0})));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> HighNibblesTimes16(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  return hn::BitCast(ds8, hn::And(raw, hn::Set(du8, uint8_t{0xF0})));
}

// int4 on targets without a dot-product instruction: nibbles become their values -8..7 by one
// table lookup (pshufb / tbl), and u8 x s4 pairs are multiplied and added by the saturating
// pmaddubsw-style SatWidenMulPairwiseAdd, which cannot saturate here: a pair is within
// [-2 * 255 * 8, 2 * 255 * 7] = [-4080, 3570]. Those int16 pairs are summed in int16 over
// kSmallChunkK k (8 steps of 4 k: within [-32640, 28560], no overflow) and only then widened to
// int32 by WidenMulPairwiseAdd with ones: per 4 k one multiply-add and one add, instead of the
// widening form's 2 multiply-adds + 4 shifts and masks. The sums are 1/16 of the other lanes'
// (which use values x 16); the caller shifts them left by 4, so every lane has the same integers.
constexpr int64_t kSmallChunkK = 32;
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> NibbleValues(DS8 ds8, VU8 nibbles) {
  const auto table = hn::Dup128VecFromValues(ds8, 0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  return hn::TableLookupBytes(table, hn::BitCast(ds8, nibbles));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> LowNibbleValues(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  return NibbleValues(ds8, hn::And(raw, hn::Set(du8, uint8_t{0x0F})));
}
template <class DS8, class VU8>
HWY_INLINE hn::Vec<DS8> HighNibbleValues(DS8 ds8, VU8 raw) {
  const hn::RebindToUnsigned<DS8> du8;
  const hn::Repartition<uint16_t, DS8> du16;
  const auto shifted = hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(du16, raw)));
  return NibbleValues(ds8, hn::And(shifted, hn::Set(du8, uint8_t{0x0F})));
}

// Block scale `index` of g.block_scales as f32 (exact for every type), and Lanes(df) of them.
HWY_INLINE float BlockScaleAt(const detail::QGemmTaskArgs& g, int64_t index) {
  const auto* bits16 = static_cast<const uint16_t*>(g.block_scales);
  if (g.block_scale_type == DType::kF16) return ref::F16ToF32(bits16[index]);
  if (g.block_scale_type == DType::kBF16) return ref::BF16ToF32(bits16[index]);
  return static_cast<const float*>(g.block_scales)[index];
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadBlockScales(DF df, const detail::QGemmTaskArgs& g, int64_t index) {
  if (g.block_scale_type == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::float16_t*>(g.block_scales) + index));
  }
  if (g.block_scale_type == DType::kBF16) {
    const hn::Rebind<hwy::bfloat16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::bfloat16_t*>(g.block_scales) + index));
  }
  return hn::LoadU(df, static_cast<const float*>(g.block_scales) + index);
}

// The micro-kernel: the tile's int32 dot products over all of K (kBlocks: f32 sums over int4
// blocks of block_k, each block's int32 sums scaled by its block scale and added).
//   block loop (kBlocks only): the int32 accumulators restart at zero per block.
//   chunk loop: int4 in the widen form only: kSmallChunkK k summed in int16, then added to the
//               int32 accumulators (elsewhere one chunk = the block).
//   group loop: per 64-byte step of B (one group of 4 k for s8, two for int4), kVectors loads of
//               B, then per row one 4-byte broadcast of A and kVectors dot steps.
//   after:      accumulators go to `buffer` (int32, or f32 for kBlocks) for the epilogue.
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, bool kDot>
HWY_INLINE void DotTile(const detail::QGemmTaskArgs& g, const QTile& t, int32_t* HWY_RESTRICT buffer) {
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const hn::Repartition<uint8_t, QTag> du8;
  const hn::Repartition<int8_t, QTag> ds8;
  using VI = hn::Vec<QTag>;
  using VF = hn::Vec<decltype(df)>;
  using VU8 = hn::Vec<decltype(du8)>;
  using VS8 = hn::Vec<decltype(ds8)>;
  const hn::Repartition<int16_t, QTag> di16;
  using VI16 = hn::Vec<decltype(di16)>;
  const VI16 ones16 = hn::Set(di16, int16_t{1});
  (void)ones16;
  const size_t lanes = hn::Lanes(di);
  EK_QTILE_ROWS(EK_QTILE_DECLARE_ROW)
  const int64_t block_k = kBlocks ? g.block_k : g.kp;
  const int64_t blocks = kBlocks ? g.blocks : 1;
  const size_t step_k = kInt4 ? 8 : 4;  // k per 64-byte step of B
  // int4 without a dot-product instruction: nibble values, int16 sums over chunks of
  // kSmallChunkK k; sums x 1/16.
  constexpr bool kSmall = kInt4 && !(kDot && kQDotInstruction);
  const int64_t chunk_k = kSmall ? kSmallChunkK : block_k;
  const uint8_t* HWY_RESTRICT b0 = t.b_vectors[0];
  const uint8_t* HWY_RESTRICT b1 = t.b_vectors[1];
  const uint8_t* HWY_RESTRICT b2 = t.b_vectors[2];
  const uint8_t* HWY_RESTRICT b3 = t.b_vectors[3];
  // Decode tiles (1 or 2 rows) read their panels once, from memory. Each step also prefetches
  // the same step of the next column tile's panels (one line per panel: vectors that start a
  // panel), so that DRAM streams twice the tile's panels at once (Zen2, AVX2 tiles of 2 panels,
  // M = 1 over 4096 x 4096 and 11008 x 4096: int4 12.7-15.0 -> 15.8-17.4 GB/s, q8_0 14.8-17.2 ->
  // 17.8-19.5, qd8xs8 17.1-18.4 -> 17.9-18.7; two tiles ahead as well was no faster). The last column tile
  // prefetches its own lines (ahead = 0): no pointer past the end of B.
  constexpr bool kPrefetchNextTile = kRows <= 2 && kVectors == kQDecodeVectors;
  const size_t tile_panels = HWY_MAX(size_t{1}, kVectors * lanes / static_cast<size_t>(detail::kQPanelWidth));
  const bool last_column_tile = t.col0 + static_cast<int64_t>(kVectors * lanes) >= g.n;
  const size_t ahead =
      kPrefetchNextTile && !last_column_tile ? tile_panels * static_cast<size_t>(g.b_panel_bytes) : 0;
  const size_t panel = static_cast<size_t>(detail::kQPanelWidth);
  const bool starts_panel[4] = {true, lanes % panel == 0, 2 * lanes % panel == 0, 3 * lanes % panel == 0};
  size_t a_offset = 0;
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t k_end = HWY_MIN(g.kp, (block + 1) * block_k);
    for (int64_t chunk = block * block_k; chunk < k_end; chunk += chunk_k) {
      const int64_t chunk_end = HWY_MIN(k_end, chunk + chunk_k);
      for (int64_t k = chunk; k < chunk_end; k += static_cast<int64_t>(step_k)) {
        if constexpr (kPrefetchNextTile) {
          hwy::Prefetch(b0 + ahead);
          if (kVectors > 1 && starts_panel[1]) hwy::Prefetch(b1 + ahead);
          if (kVectors > 2 && starts_panel[2]) hwy::Prefetch(b2 + ahead);
          if (kVectors > 3 && starts_panel[3]) hwy::Prefetch(b3 + ahead);
        }
        if constexpr (kInt4) {
          const VU8 raw_0 = hn::LoadU(du8, b0);
          const VU8 raw_1 = kVectors > 1 ? hn::LoadU(du8, b1) : raw_0;
          const VU8 raw_2 = kVectors > 2 ? hn::LoadU(du8, b2) : raw_0;
          const VU8 raw_3 = kVectors > 3 ? hn::LoadU(du8, b3) : raw_0;
          {  // low nibbles: k .. k + 3
            const VS8 b_0 = kSmall ? LowNibbleValues(ds8, raw_0) : LowNibblesTimes16(ds8, raw_0);
            const VS8 b_1 = kSmall ? LowNibbleValues(ds8, raw_1) : LowNibblesTimes16(ds8, raw_1);
            const VS8 b_2 = kSmall ? LowNibbleValues(ds8, raw_2) : LowNibblesTimes16(ds8, raw_2);
            const VS8 b_3 = kSmall ? LowNibbleValues(ds8, raw_3) : LowNibblesTimes16(ds8, raw_3);
            (void)b_1;
            (void)b_2;
            (void)b_3;
            EK_QTILE_ROWS(EK_QTILE_STEP_ROW)
          }
          a_offset += 4;
          {  // high nibbles: k + 4 .. k + 7
            const VS8 b_0 = kSmall ? HighNibbleValues(ds8, raw_0) : HighNibblesTimes16(ds8, raw_0);
            const VS8 b_1 = kSmall ? HighNibbleValues(ds8, raw_1) : HighNibblesTimes16(ds8, raw_1);
            const VS8 b_2 = kSmall ? HighNibbleValues(ds8, raw_2) : HighNibblesTimes16(ds8, raw_2);
            const VS8 b_3 = kSmall ? HighNibbleValues(ds8, raw_3) : HighNibblesTimes16(ds8, raw_3);
            (void)b_1;
            (void)b_2;
            (void)b_3;
            EK_QTILE_ROWS(EK_QTILE_STEP_ROW)
          }
          a_offset += 4;
        } else {
          const VS8 b_0 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b0));
          const VS8 b_1 = kVectors > 1 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b1)) : b_0;
          const VS8 b_2 = kVectors > 2 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b2)) : b_0;
          const VS8 b_3 = kVectors > 3 ? hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b3)) : b_0;
          (void)b_1;
          (void)b_2;
          (void)b_3;
          EK_QTILE_ROWS(EK_QTILE_STEP_ROW)
          a_offset += 4;
        }
        b0 += 64;
        b1 += 64;
        b2 += 64;
        b3 += 64;
      }
      if constexpr (kSmall) {
        EK_QTILE_ROWS(EK_QTILE_FLUSH_ROW)
      }
    }
    if constexpr (kBlocks) {
      // Block scales of this block for each vector's columns. Vectors past the tile's valid
      // columns read column col0's (their sums are never stored).
      const auto scales_at = [&](size_t v) HWY_ATTR {
        const int64_t col = t.col0 + (v * lanes < t.valid_cols ? static_cast<int64_t>(v * lanes) : 0);
        const int64_t panel = col / detail::kQPanelWidth;
        return LoadBlockScales(df, g, (panel * g.blocks + block) * detail::kQPanelWidth + col % detail::kQPanelWidth);
      };
      const VF scale_0 = scales_at(0);
      const VF scale_1 = kVectors > 1 ? scales_at(1) : scale_0;
      const VF scale_2 = kVectors > 2 ? scales_at(2) : scale_0;
      const VF scale_3 = kVectors > 3 ? scales_at(3) : scale_0;
      (void)scale_1;
      (void)scale_2;
      (void)scale_3;
      EK_QTILE_ROWS(EK_QTILE_FOLD_ROW)
    }
  }
  // sdot lane: + 128 * column sum (padded to whole panels; vectors past the valid columns read
  // column col0's, like their B loads).
  const auto correction_at = [&](size_t v) HWY_ATTR {
    const int64_t col = t.col0 + (v * lanes < t.valid_cols ? static_cast<int64_t>(v * lanes) : 0);
    return hn::ShiftLeft<7>(hn::LoadU(di, g.colsum + col));
  };
  const VI correction_0 = kDot && kQDotNeedsColumnCorrection ? correction_at(0) : hn::Zero(di);
  const VI correction_1 = kDot && kQDotNeedsColumnCorrection && kVectors > 1 ? correction_at(1) : correction_0;
  const VI correction_2 = kDot && kQDotNeedsColumnCorrection && kVectors > 2 ? correction_at(2) : correction_0;
  const VI correction_3 = kDot && kQDotNeedsColumnCorrection && kVectors > 3 ? correction_at(3) : correction_0;
  (void)correction_1;
  (void)correction_2;
  (void)correction_3;
  EK_QTILE_ROWS(EK_QTILE_STORE_ROW)
}

#undef EK_QTILE_ROWS
#undef EK_QTILE_DECLARE_ROW
#undef EK_QTILE_FOR_VECTORS
#undef EK_QTILE_DOT
#undef EK_QTILE_STEP_ROW
#undef EK_QTILE_FLUSH
#undef EK_QTILE_FLUSH_ROW
#undef EK_QTILE_FOLD
#undef EK_QTILE_FOLD_ROW
#undef EK_QTILE_STORE
#undef EK_QTILE_STORE_ROW

// ---- The i8mm micro-kernel (NEON + FEAT_I8MM) ------------------------------------------------------
// usmmla multiplies a 2 x 8 u8 matrix (two rows of A, 8 k each) by the transpose of a 2 x 8 s8
// matrix (two columns of B, 8 k each) into a 2 x 2 int32 tile [r0 c0, r0 c1, r1 c0, r1 c1]: 32
// multiply-adds per instruction (sdot: 16), u8 x s8 directly (no -128 offset, no column sums).
// Packed B has 4 k per column in each 64-byte group; zip1 / zip2 of the 32-bit lanes of two
// consecutive groups (s8) or of the low and high nibbles x 16 of one row (int4) give
// [column j: k0..k7 | column j+1: k0..k7], one vector per column pair. The same integers as
// every other lane: the sums are exact.
#if EK_QGEMM_NEON_I8MM
template <class DI>
HWY_INLINE hn::Vec<DI> MatmulPairs(DI /*di*/, hn::Vec<hn::Repartition<uint8_t, DI>> a_rows,
                                   hn::Vec<hn::Repartition<int8_t, DI>> b_columns, hn::Vec<DI> acc) {
  auto sums = acc.raw;
  // As for sdot (DotQuad): the assembler is told about the extension here.
#if HWY_COMPILER_CLANG
#define EK_QGEMM_I8MM_ARCH ".arch_extension i8mm\n\t"
#else
#define EK_QGEMM_I8MM_ARCH ".arch armv8.2-a+dotprod+crypto+fp16+bf16+i8mm\n\t"
#endif
  asm(EK_QGEMM_I8MM_ARCH "usmmla %0.4s, %1.16b, %2.16b" : "+w"(sums) : "w"(a_rows.raw), "w"(b_columns.raw));
#undef EK_QGEMM_I8MM_ARCH
  return hn::Vec<DI>{sums};
}

template <size_t... kIndex, class Func>
HWY_INLINE void ForEachIndex(std::index_sequence<kIndex...>, const Func& func) {
  (func(std::integral_constant<size_t, kIndex>()), ...);
}

// The tile's int32 dot products (kBlocks: f32 sums over int4 blocks), like DotTile, with row
// pairs x column pairs of usmmla. An odd last row pairs with row 0 again (never stored).
//   block loop (kBlocks only): the int32 accumulators restart at zero per block.
//   step loop:  per 8 k, per vector of B (4 columns) its two column pairs, then per row pair
//               two 8-byte loads of A and one usmmla per column pair.
//   after:      uzp1 / uzp2 of the 64-bit halves turn column pairs back into rows of `buffer`.
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks>
HWY_INLINE void MatmulTile(const detail::QGemmTaskArgs& g, const QTile& t, int32_t* HWY_RESTRICT buffer) {
  constexpr size_t kPairs = (kRows + 1) / 2;
  constexpr size_t kColumnPairs = 2 * kVectors;
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const hn::Repartition<uint8_t, QTag> du8;
  const hn::Repartition<int8_t, QTag> ds8;
  const hn::Repartition<uint32_t, QTag> du32;
  const hn::Repartition<uint64_t, QTag> du64;
  using VI = hn::Vec<QTag>;
  using VF = hn::Vec<decltype(df)>;
  using VS8 = hn::Vec<decltype(ds8)>;
  static_assert(detail::kQPanelWidth % 4 == 0, "a vector of B is 4 columns of one panel");
  const auto pairs = std::make_index_sequence<kPairs>();
  const auto column_pairs = std::make_index_sequence<kColumnPairs>();
  const auto vectors = std::make_index_sequence<kVectors>();

  VI acc[kPairs][kColumnPairs];
  VF facc[kPairs][kColumnPairs];
  ForEachIndex(pairs, [&](auto p) HWY_ATTR {
    ForEachIndex(column_pairs, [&](auto q) HWY_ATTR {
      acc[p][q] = hn::Zero(di);
      facc[p][q] = hn::Zero(df);
    });
  });
  const uint8_t* HWY_RESTRICT b_at[kVectors];
  ForEachIndex(vectors, [&](auto v) HWY_ATTR { b_at[v] = t.b_vectors[v]; });
  const int64_t block_k = kBlocks ? g.block_k : g.kp;
  const int64_t blocks = kBlocks ? g.blocks : 1;
  size_t a_offset = 0;
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t k_end = HWY_MIN(g.kp, (block + 1) * block_k);
    for (int64_t k = block * block_k; k < k_end; k += 8) {
      VS8 b[kColumnPairs];
      ForEachIndex(vectors, [&](auto v) HWY_ATTR {
        VS8 k0_3, k4_7;
        if constexpr (kInt4) {
          const auto raw = hn::LoadU(du8, b_at[v]);
          k0_3 = LowNibblesTimes16(ds8, raw);
          k4_7 = HighNibblesTimes16(ds8, raw);
          b_at[v] += 64;
        } else {
          k0_3 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b_at[v]));
          k4_7 = hn::LoadU(ds8, reinterpret_cast<const int8_t*>(b_at[v] + 64));
          b_at[v] += 128;
        }
        b[2 * v] = hn::BitCast(ds8, hn::InterleaveLower(du32, hn::BitCast(du32, k0_3), hn::BitCast(du32, k4_7)));
        b[2 * v + 1] = hn::BitCast(ds8, hn::InterleaveUpper(du32, hn::BitCast(du32, k0_3), hn::BitCast(du32, k4_7)));
      });
      ForEachIndex(pairs, [&](auto p) HWY_ATTR {
        uint64_t row0, row1;
        memcpy(&row0, t.a_rows[2 * p] + a_offset, 8);
        memcpy(&row1, t.a_rows[2 * p + 1 < kRows ? 2 * p + 1 : 0] + a_offset, 8);
        const auto a = hn::BitCast(du8, hn::Dup128VecFromValues(du64, row0, row1));
        ForEachIndex(column_pairs, [&](auto q) HWY_ATTR { acc[p][q] = MatmulPairs(di, a, b[q], acc[p][q]); });
      });
      a_offset += 8;
    }
    if constexpr (kBlocks) {
      // Block scales of column pair q: [s_j, s_j+1, s_j, s_j+1] (as stored). Vectors past the
      // tile's valid columns read column col0's, as their B loads do.
      ForEachIndex(column_pairs, [&](auto q) HWY_ATTR {
        const size_t first = q * 2;
        const int64_t col = t.col0 + (first - first % 4 < t.valid_cols ? static_cast<int64_t>(first) : 0);
        const int64_t at = ((col / detail::kQPanelWidth) * g.blocks + block) * detail::kQPanelWidth + col % detail::kQPanelWidth;
        const float s0 = BlockScaleAt(g, at), s1 = BlockScaleAt(g, at + 1);
        const VF scale = hn::Dup128VecFromValues(df, s0, s1, s0, s1);
        ForEachIndex(pairs, [&](auto p) HWY_ATTR {
          // int4 sums are x16 (values x 16): shifted down exactly.
          const VI sums = kInt4 ? hn::ShiftRight<4>(acc[p][q]) : acc[p][q];
          facc[p][q] = hn::Add(hn::Mul(hn::ConvertTo(df, sums), scale), facc[p][q]);
          acc[p][q] = hn::Zero(di);
        });
      });
    }
  }
  const size_t lanes = hn::Lanes(di);
  ForEachIndex(pairs, [&](auto p) HWY_ATTR {
    ForEachIndex(vectors, [&](auto v) HWY_ATTR {
      const size_t row = 2 * p;
      const auto store_rows = [&](auto d, auto left, auto right, auto* out) HWY_ATTR {
        const auto l64 = hn::BitCast(du64, left), r64 = hn::BitCast(du64, right);
        hn::Store(hn::BitCast(d, hn::InterleaveLower(du64, l64, r64)), d, out + (row * kQMaxVectors + v) * lanes);
        if (row + 1 < kRows) {
          hn::Store(hn::BitCast(d, hn::InterleaveUpper(du64, l64, r64)), d, out + ((row + 1) * kQMaxVectors + v) * lanes);
        }
      };
      if constexpr (kBlocks) {
        store_rows(df, facc[p][2 * v], facc[p][2 * v + 1], reinterpret_cast<float*>(buffer));
      } else {
        store_rows(di, acc[p][2 * v], acc[p][2 * v + 1], buffer);
      }
    });
  });
}
#else
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks>
void MatmulTile(const detail::QGemmTaskArgs&, const QTile&, int32_t*) {
  static_assert(kRows == 0, "the matmul lane exists on NEON targets only (kQMatmulInstruction)");
}
#endif

// ---- Epilogues: from the tile buffer to C ---------------------------------------------------------
// Row r, vector v of the tile is at buffer + (r * kQMaxVectors + v) * Lanes.
constexpr size_t kQTileBufferLanes = kQMaxRows * kQMaxVectors * static_cast<size_t>(detail::kQPanelWidth);

// kLeftShifts: some column's real multiplier is >= 1 (g.any_left_shift).
template <bool kLeftShifts>
HWY_INLINE void FinishRequantize(const detail::QGemmTaskArgs& g, const QTile& t, const int32_t* HWY_RESTRICT buffer) {
  const QTag di;
  const hn::Rebind<uint8_t, QTag> du8;
  const size_t lanes = hn::Lanes(di);
  const auto zp = hn::Set(di, g.c_zero_point);
  const auto lo = hn::Set(di, g.qmin - g.c_zero_point), hi = hn::Set(di, g.qmax - g.c_zero_point);
  // Column vectors outer: the column's terms (multiplier, shift, correction) once per tile column.
  for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
    const size_t count = HWY_MIN(lanes, t.valid_cols - col);
    const int64_t n = t.col0 + static_cast<int64_t>(col);
    const auto multiplier = hn::LoadU(di, g.multiplier + n), col_term = hn::LoadU(di, g.col_term + n);
    hn::Vec<QTag> multiplier_odd, left, right, mask, half_mask;
    RequantizeColumnTerms<kLeftShifts>(di, multiplier, hn::LoadU(di, g.shift + n), multiplier_odd, left, right, mask,
                                       half_mask);
    for (size_t r = 0; r < t.valid_rows; ++r) {
      const int64_t row = t.row0 + static_cast<int64_t>(r);
      auto acc = hn::Add(hn::Load(di, buffer + (r * kQMaxVectors + v) * lanes), col_term);
      if (g.row_term) acc = hn::Add(acc, hn::Set(di, g.row_term[row]));
      // Multipliers from QuantizeMultiplier: never INT32_MIN.
      const auto q = RequantizeWith<kLeftShifts, false>(di, acc, multiplier, multiplier_odd, left, right, mask,
                                                        half_mask, zp, lo, hi);
      uint8_t* c_row = static_cast<uint8_t*>(g.c) + row * g.ldc;
      const auto bytes = hn::TruncateTo(du8, hn::BitCast(hn::RebindToUnsigned<QTag>(), q));
      // Whole vectors with a plain store (a masked byte store costs several times more on Zen 4).
      if (count == lanes) {
        hn::StoreU(bytes, du8, c_row + n);
      } else {
        hn::StoreN(bytes, du8, c_row + n, count);
      }
    }
  }
}

// f32 C (docs/quantization.md): per block (sum over blocks - za * weighted column sum) * a_scale;
// per tensor / channel (float(acc - za * column sum) * a_scale) * b_scale, the row's scale first:
// a tiny row's scale is subnormal, and its product with b_scale alone would lose the bits that
// multiplying the (large) integer sum first keeps. int4 sums are x16 (exact: shifted down).
template <bool kBlocks, bool kInt4>
HWY_INLINE void FinishDequantize(const detail::QGemmTaskArgs& g, const QTile& t, const int32_t* HWY_RESTRICT buffer) {
  const QTag di;
  const hn::Rebind<float, QTag> df;
  const size_t lanes = hn::Lanes(di);
  for (size_t r = 0; r < t.valid_rows; ++r) {
    const int64_t row = t.row0 + static_cast<int64_t>(r);
    const int32_t za = g.a_zero_point[row];
    const auto a_scale = hn::Set(df, g.a_scale[row]);
    float* c_row = static_cast<float*>(g.c) + row * g.ldc;
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, t.valid_cols - col);
      const int64_t n = t.col0 + static_cast<int64_t>(col);
      hn::Vec<decltype(df)> out;
      if constexpr (kBlocks) {
        // (sum over blocks - za * weighted column sum) * a_scale
        const auto sums = hn::Load(df, reinterpret_cast<const float*>(buffer) + (r * kQMaxVectors + v) * lanes);
        const auto correction = hn::Mul(hn::Set(df, static_cast<float>(za)), hn::LoadU(df, g.weighted_colsum + n));
        out = hn::Mul(hn::Sub(sums, correction), a_scale);
      } else {
        const auto acc = hn::Load(di, buffer + (r * kQMaxVectors + v) * lanes);
        auto exact = hn::Sub(acc, hn::Mul(hn::Set(di, za), hn::LoadU(di, g.colsum + n)));
        if constexpr (kInt4) exact = hn::ShiftRight<4>(exact);
        out = hn::Mul(hn::Mul(hn::ConvertTo(df, exact), a_scale), hn::LoadU(df, g.b_scale + n));
      }
      if (g.bias) out = hn::Add(out, hn::LoadN(df, g.bias + n, count));
      if (g.clamp) out = hn::Min(hn::Max(out, hn::Set(df, g.clamp_min)), hn::Set(df, g.clamp_max));
      hn::StoreN(out, df, c_row + n, count);
    }
  }
}

// ---- Tiles and tasks -------------------------------------------------------------------------------
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTileExact(const detail::QGemmTaskArgs& g, const QTile& t) {
  HWY_ALIGN int32_t buffer[kQTileBufferLanes];
  if constexpr (kLane == detail::QLane::kMatmul) {
    MatmulTile<kRows, kVectors, kInt4, kBlocks>(g, t, buffer);
  } else {
    DotTile<kRows, kVectors, kInt4, kBlocks, kLane == detail::QLane::kDot>(g, t, buffer);
  }
  if constexpr (kBlocks) {
    FinishDequantize<true, kInt4>(g, t, buffer);
  } else if (g.output == detail::QOutput::kRequantize) {
    if (g.any_left_shift) {
      FinishRequantize<true>(g, t, buffer);
    } else {
      FinishRequantize<false>(g, t, buffer);
    }
  } else {
    FinishDequantize<false, kInt4>(g, t, buffer);
  }
}

// Runs the micro-kernel with kRows = t.valid_rows (1..kMaxRows): edge tiles do no wasted work.
template <size_t kMaxRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTile(const detail::QGemmTaskArgs& g, const QTile& t) {
  if constexpr (kMaxRows > 1) {
    if (t.valid_rows < kMaxRows) return RunQTile<kMaxRows - 1, kVectors, kInt4, kBlocks, kLane>(g, t);
  }
  RunQTileExact<kMaxRows, kVectors, kInt4, kBlocks, kLane>(g, t);
}

inline QTile MakeQTile(const detail::QGemmTaskArgs& g, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
                       size_t vectors) {
  const QTag di;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(di));
  QTile t;
  for (size_t r = 0; r < kQMaxRows; ++r) {
    t.a_rows[r] = g.a + (row0 + (static_cast<int64_t>(r) < rows ? static_cast<int64_t>(r) : 0)) * g.lda;
  }
  for (size_t v = 0; v < kQMaxVectors; ++v) {
    int64_t col = col0 + static_cast<int64_t>(v) * lanes;
    if (v >= vectors || col >= col0 + cols) col = col0;  // dead vectors read valid memory
    t.b_vectors[v] = g.b + (col / detail::kQPanelWidth) * g.b_panel_bytes + (col % detail::kQPanelWidth) * 4;
  }
  t.valid_rows = static_cast<size_t>(rows);
  t.valid_cols = static_cast<size_t>(cols);
  t.row0 = row0;
  t.col0 = col0;
  return t;
}

// Task = row block [mc rows] x column block [nc columns] of C. Loops, outer to inner:
//   column tiles:  kVectors vectors wide; B's K x tile-width sliver stays in L1/L2 across rows.
//   row tiles:     kRows rows; each streams its rows of packed A (the row block stays in L2).
// Not inlined: one function per instantiation keeps compile times linear (inlining every
// instantiation into RunQGemmTask made one huge function per target).
template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_NOINLINE void RunQTaskTiles(const detail::QGemmTaskArgs& g, size_t task) {
  const QTag di;
  const int64_t row_block = static_cast<int64_t>(task) / g.column_blocks;
  const int64_t col_block = static_cast<int64_t>(task) % g.column_blocks;
  const int64_t row_begin = row_block * g.mc, row_end = HWY_MIN(g.m, row_begin + g.mc);
  const int64_t col_begin = col_block * g.nc, col_end = HWY_MIN(g.n, col_begin + g.nc);
  const int64_t tile_cols = static_cast<int64_t>(kVectors * hn::Lanes(di));
  for (int64_t col = col_begin; col < col_end; col += tile_cols) {
    const int64_t cols = HWY_MIN(tile_cols, col_end - col);
    for (int64_t row = row_begin; row < row_end; row += static_cast<int64_t>(kRows)) {
      const int64_t rows = HWY_MIN(static_cast<int64_t>(kRows), row_end - row);
      RunQTile<kRows, kVectors, kInt4, kBlocks, kLane>(g, MakeQTile(g, row, rows, col, cols, kVectors));
    }
  }
}

// Chooses the tile (decode: 1..2 rows, kQDecodeVectors wide) and the instantiation.
template <bool kInt4, bool kBlocks, detail::QLane kLane>
HWY_INLINE void RunQTaskFor(const detail::QGemmTaskArgs& g, size_t task) {
  constexpr bool kMatmul = kLane == detail::QLane::kMatmul;
  constexpr size_t kRows = kBlocks ? (kMatmul ? kQMatmulBlockTileRows : kQBlockTileRows)
                                   : (kMatmul ? kQMatmulTileRows : kQTileRows);
  if (g.mc <= 2) return RunQTaskTiles<2, kQDecodeVectors, kInt4, kBlocks, kLane>(g, task);
  RunQTaskTiles<kRows, kQTileVectors, kInt4, kBlocks, kLane>(g, task);
}

template <detail::QLane kLane>
HWY_INLINE void RunQTaskLane(const detail::QGemmTaskArgs& g, size_t task) {
  if (!g.b_int4) {
    if (g.output == detail::QOutput::kBlocks) return RunQTaskFor<false, true, kLane>(g, task);
    return RunQTaskFor<false, false, kLane>(g, task);
  }
  if (g.output == detail::QOutput::kBlocks) return RunQTaskFor<true, true, kLane>(g, task);
  RunQTaskFor<true, false, kLane>(g, task);
}

inline void RunQGemmTask(const detail::QGemmTaskArgs& g, size_t task) {
  if constexpr (kQMatmulInstruction) {
    if (g.lane == detail::QLane::kMatmul) return RunQTaskLane<detail::QLane::kMatmul>(g, task);
  }
  const bool dot = kQDotInstruction && g.lane != detail::QLane::kWiden &&
                   !(kQDotNeedsColumnCorrection && g.output == detail::QOutput::kBlocks);
  if (dot) return RunQTaskLane<detail::QLane::kDot>(g, task);
  RunQTaskLane<detail::QLane::kWiden>(g, task);
}

// The lanes this target has: its dot-product lane ("widen" when it has no dot instruction) and
// its matrix-multiply lane (null when none). ek::QGemmDotLane() picks by the enabled CPU lanes.
inline void QGemmTargetLanes(const char** dot, const char** matmul) {
  *dot = kQDotLaneName;
  *matmul = kQMatmulLaneName;
}

// Stages rows of int8 / uint8 A as u8 (each byte XOR `flip`: 0x80 turns i8 into i8 + 128),
// K padded with zeros to kp, and the sum of each staged row. Rows [0, rows), contiguous bytes.
inline void StageRowsU8(const uint8_t* HWY_RESTRICT a, int64_t lda, int64_t k, int64_t kp, int64_t rows, uint8_t flip,
                        uint8_t* HWY_RESTRICT out, int64_t ldo, uint32_t* HWY_RESTRICT row_sums) {
  const hn::ScalableTag<uint8_t> du8;
  const hn::Repartition<uint64_t, decltype(du8)> du64;
  const size_t lanes = hn::Lanes(du8);
  const auto flip_bits = hn::Set(du8, flip);
  for (int64_t row = 0; row < rows; ++row) {
    const uint8_t* HWY_RESTRICT in = a + row * lda;
    uint8_t* HWY_RESTRICT dst = out + row * ldo;
    auto sums = hn::Zero(du64);
    for (size_t i = 0; i < static_cast<size_t>(kp); i += lanes) {
      const size_t valid = i < static_cast<size_t>(k) ? HWY_MIN(lanes, static_cast<size_t>(k) - i) : 0;
      // Lanes past K stay zero (LoadN zeroes them, and are not flipped).
      const auto staged = hn::IfThenElseZero(hn::FirstN(du8, valid), hn::Xor(hn::LoadN(du8, in + i, valid), flip_bits));
      sums = hn::Add(sums, hn::SumsOf8(staged));
      hn::StoreN(staged, du8, dst + i, HWY_MIN(lanes, static_cast<size_t>(kp) - i));
    }
    row_sums[row] = static_cast<uint32_t>(hn::ReduceSum(du64, sums));
  }
}

// Quantizes rows of f32 A to u8 (dynamic, per row; ek::DynamicRowParams), K padded with zeros
// to kp. Rows [row_begin, row_end).
inline void QuantizeRowsDynamic(const float* HWY_RESTRICT a, int64_t lda, int64_t k, int64_t kp, int64_t row_begin,
                                int64_t row_end, uint8_t* HWY_RESTRICT out, int64_t ldo, float* HWY_RESTRICT scales,
                                int32_t* HWY_RESTRICT zero_points) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* HWY_RESTRICT in = a + row * lda;
    auto lo = hn::Zero(df), hi = hn::Zero(df);  // the range always includes 0
    size_t i = 0;
    for (; i + lanes <= static_cast<size_t>(k); i += lanes) {
      const auto x = hn::LoadU(df, in + i);
      lo = hn::Min(lo, x);
      hi = hn::Max(hi, x);
    }
    float row_min = hn::ReduceMin(df, lo), row_max = hn::ReduceMax(df, hi);
    for (; i < static_cast<size_t>(k); ++i) {
      row_min = HWY_MIN(row_min, in[i]);
      row_max = HWY_MAX(row_max, in[i]);
    }
    const DynamicQuant q = DynamicRowParams(row_min, row_max);
    detail::RowQuant rq;
    rq.prescale = q.prescale;
    rq.inverse_scale = q.inverse_scale;
    rq.zero_point = q.zero_point;
    uint8_t* HWY_RESTRICT dst = out + row * ldo;
    QuantizeContiguous<uint8_t>(in, dst, static_cast<size_t>(k), rq);
    for (int64_t j = k; j < kp; ++j) dst[j] = 0;
    scales[row] = q.scale;
    zero_points[row] = q.zero_point;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_DETAIL_QGEMM_INL_H_
