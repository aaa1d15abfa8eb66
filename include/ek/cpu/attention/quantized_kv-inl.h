// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// How the attention task reads a quantized cache (docs/attention.md, "The KV cache"), per
// target: the exact int8 dot of a query row and a key row quantized per row (DotInt8), the
// same over rows of GGUF Q8_0 / Q4_0 blocks (DotKvBlocks), and a vector of a block row's values
// as f32 (LoadKvBlockValues). Compiled once per target through ek/cpu/kernels-inl.h.
//
// Every dot runs on the target's dot-product lane (DotQuad: vpdpbusd, SVE sdot, NEON sdot) or
// its widening form, with the key as the unsigned operand k + 128 (Q4_0: its nibble + 120, the
// value - 8 + 128); each int32 lane then holds sum q (k + 128) over its group of 4 bytes, less
// the query's 128 x sum q of that group, which the lane's sum is corrected by (the sdot lanes,
// NEON and SVE, take the key back to signed themselves: no correction). So every lane of a target holds the same
// exact integers, and its results are bitwise the same.

#if defined(EK_CPU_ATTENTION_QUANTIZED_KV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_ATTENTION_QUANTIZED_KV_INL_H_
#undef EK_CPU_ATTENTION_QUANTIZED_KV_INL_H_
#else
#define EK_CPU_ATTENTION_QUANTIZED_KV_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ek/cpu/tile/loop_mark.h"
#include "ek/cpu/tile/q8_lanes-inl.h"
#include "ek/kv_cache.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The sdot lanes (NEON, SVE) multiply the signed key: their lanes need no correction.
template <bool kDot>
constexpr bool kDotSignedKey = kDot && kQDotInstruction && kQDotNeedsColumnCorrection;

// sum_c q[c] k[c] of two int8 rows of d elements, exact in int32: two accumulators of 4-byte
// groups, one reduction, the correction by 128 x q_sum (the row's sum); the tail loaded with
// zeros (q's zeros cancel k's 128).
template <bool kDot>
HWY_INLINE int32_t DotInt8(const int8_t* HWY_RESTRICT q, const int8_t* HWY_RESTRICT k, int64_t d, int32_t q_sum) {
  const hn::ScalableTag<int32_t> di;
  const hn::Repartition<int8_t, decltype(di)> d8;
  const hn::Repartition<uint8_t, decltype(di)> du8;
  const size_t bytes = hn::Lanes(d8), count = static_cast<size_t>(d);
  const auto flip = hn::Set(d8, static_cast<int8_t>(-128));
  auto s0 = hn::Zero(di), s1 = hn::Zero(di);
  size_t c = 0;
  EK_LOOP_MARK("attn_kdot", 1, kDot ? 1 : 0, 3);
  for (; c + 2 * bytes <= count; c += 2 * bytes) {
    s0 = DotQuad<kDot>(di, hn::BitCast(du8, hn::Xor(hn::LoadU(d8, k + c), flip)), hn::LoadU(d8, q + c), s0);
    s1 = DotQuad<kDot>(di, hn::BitCast(du8, hn::Xor(hn::LoadU(d8, k + c + bytes), flip)), hn::LoadU(d8, q + c + bytes), s1);
  }
  for (; c < count; c += bytes) {
    const size_t n = HWY_MIN(bytes, count - c);
    s0 = DotQuad<kDot>(di, hn::BitCast(du8, hn::Xor(hn::LoadN(d8, k + c, n), flip)), hn::LoadN(d8, q + c, n), s0);
  }
  const int32_t sum = hn::ReduceSum(di, hn::Add(s0, s1));
  return kDotSignedKey<kDot> ? sum : sum - 128 * q_sum;
}

// The bytes of a GGUF block (ek/kv_cache.h): Q8_0 (kBits 8) or Q4_0 (kBits 4: value j in byte
// j's low nibble, j + 16 in its high one), each an f16 scale then the integers.
template <int kBits>
constexpr int64_t kKvBlockBytes = detail::KvBlockBytes(kBits == 4 ? DType::kI4 : DType::kI8);

// The f16 scales of a row's `blocks` blocks, as f32.
template <int kBits>
HWY_INLINE void ReadKvBlockScales(const uint8_t* HWY_RESTRICT row, int64_t blocks, float* HWY_RESTRICT scales) {
  for (int64_t b = 0; b < blocks; ++b) {
    hwy::float16_t d;
    memcpy(&d, row + b * kKvBlockBytes<kBits>, 2);
    scales[b] = hwy::F32FromF16(d);
  }
}

// sum over the blocks of (q_scale x k_scale) x the block's exact integer dot, for a query row
// quantized per block of 32 (q8, q_scales, q_sums: 128 x the sum of each group of 4 bytes)
// and a key row of `blocks` GGUF blocks with its scales as f32 (ReadKvBlockScales). Per block
// one vector of 32 bytes (or two of 16): the key unpacked to its unsigned operand, DotQuad,
// the correction per int32 lane, then the lanes in f32 times the two scales into a float
// accumulator; one reduction per row. Registers: the accumulators (2), the key, the query
// and the correction.
template <bool kDot, int kBits>
HWY_INLINE float DotKvBlocks(const int8_t* HWY_RESTRICT q8, const float* HWY_RESTRICT q_scales,
                             const int32_t* HWY_RESTRICT q_sums, const uint8_t* HWY_RESTRICT k_row,
                             const float* HWY_RESTRICT k_scales, int64_t blocks) {
  static_assert(HWY_TARGET != HWY_SCALAR, "the block dot takes vectors of 16 or 32 bytes");
  const hn::CappedTag<int8_t, 32> d8;  // a block's 32 bytes, or half of them (16-byte vectors)
  const hn::Repartition<uint8_t, decltype(d8)> du8;
  const hn::Repartition<int32_t, decltype(d8)> di;
  const hn::Rebind<float, decltype(di)> df;
  const size_t bytes = hn::Lanes(d8);
  const auto low_nibble = hn::Set(du8, uint8_t{0x0F});
  const auto flip = hn::Set(du8, uint8_t{0x80});
  const auto nibble_bias = hn::Set(du8, uint8_t{120});  // (q - 8) + 128
  auto sum = hn::Zero(df);
  EK_LOOP_MARK("attn_kdot_block", 1, kBits, kDot ? 1 : 0);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* payload = k_row + b * kKvBlockBytes<kBits> + 2;
    const int8_t* q = q8 + b * 32;
    const int32_t* correction = q_sums + b * 8;
    auto acc = hn::Zero(di);
    if (bytes == 32) {
      hn::Vec<decltype(du8)> k;
      if constexpr (kBits == 4) {  // the 16 bytes in both halves: low nibbles, then high ones
        const auto packed = hn::LoadDup128(du8, payload);
        k = hn::Add(hn::IfThenElse(hn::FirstN(du8, 16), hn::And(packed, low_nibble), hn::ShiftRight<4>(packed)), nibble_bias);
      } else {
        k = hn::Xor(hn::LoadU(du8, payload), flip);
      }
      acc = DotQuad<kDot>(di, k, hn::LoadU(d8, q), acc);
      if (!kDotSignedKey<kDot>) acc = hn::Sub(acc, hn::LoadU(di, correction));
    } else {  // 16-byte vectors: values 0..15, then 16..31
      const auto packed = hn::LoadU(du8, payload);
      for (size_t half = 0; half < 2; ++half) {
        hn::Vec<decltype(du8)> k;
        if constexpr (kBits == 4) {
          k = hn::Add(half == 0 ? hn::And(packed, low_nibble) : hn::ShiftRight<4>(packed), nibble_bias);
        } else {
          k = hn::Xor(half == 0 ? packed : hn::LoadU(du8, payload + 16), flip);
        }
        acc = DotQuad<kDot>(di, k, hn::LoadU(d8, q + 16 * half), acc);
        if (!kDotSignedKey<kDot>) acc = hn::Sub(acc, hn::LoadU(di, correction + 4 * half));
      }
    }
    sum = hn::MulAdd(hn::ConvertTo(df, acc), hn::Set(df, q_scales[b] * k_scales[b]), sum);
  }
  return hn::ReduceSum(df, sum);
}

// Values e .. e + Lanes(df) - 1 of a row of GGUF blocks as f32, without their scale (the
// caller folds it into the weight). Lanes(df) <= 16 and e a multiple of it, so the vector
// never crosses a block, nor a Q4_0 block's halves.
template <int kBits, class DF>
HWY_INLINE hn::Vec<DF> LoadKvBlockValues(DF df, const uint8_t* HWY_RESTRICT row, size_t e) {
  const hn::Rebind<int32_t, DF> di;
  const size_t block = e / 32, j = e % 32;
  if constexpr (kBits == 4) {
    const hn::Rebind<uint8_t, DF> du8;
    const auto packed = hn::LoadU(du8, row + block * kKvBlockBytes<kBits> + 2 + (j & 15));
    const auto nibbles = j < 16 ? hn::And(packed, hn::Set(du8, uint8_t{0x0F})) : hn::ShiftRight<4>(packed);
    return hn::ConvertTo(df, hn::Sub(hn::PromoteTo(di, nibbles), hn::Set(di, 8)));
  } else {
    const hn::Rebind<int8_t, DF> d8;
    return hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, reinterpret_cast<const int8_t*>(row + block * kKvBlockBytes<kBits> + 2 + j))));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_ATTENTION_QUANTIZED_KV_INL_H_
