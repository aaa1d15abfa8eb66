// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The convolution family, per target: RunConvTask, the entry point ek/conv.h dispatches to, with
// its two loop nests: the indirect GEMM (any kernel, stride, dilation, groups) on the float
// micro-kernel MultiplyTile with an indirect A source, and the depthwise kernel. Compiled once
// per target through ek/cpu/kernels-inl.h. Numerics: docs/conv.md (every output is one f32
// chain over taps row-major then channels, padding taps as exact zeros, then bias, then the
// activation; the same on every path, blocking and thread count).

#if defined(EK_CPU_CONV_CONV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_CONV_CONV_INL_H_
#undef EK_CPU_CONV_CONV_INL_H_
#else
#define EK_CPU_CONV_CONV_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/conv/args.h"
#include "ek/cpu/tile/f32_tile-inl.h"
#include "ek/cpu/tile/requantize-inl.h"
#include "ek/cpu/tile/shapes-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- Indirect GEMM -------------------------------------------------------------------------------
// C [pixels x C_out] of one group = A [pixels x K] * B_g [K x group_out], where row m of A is
// the chunks (one per tap) of the indirection buffer's pointers: the micro-kernel's A source
// reads them directly, so no im2col copy exists. A task covers row tiles [t0, t1) x one column
// block of one group. Loops, outer to inner (ConvTaskArgs::row_tiles_outer swaps the two when
// the group's B fits in L1):
//   column tiles: kGemmTileVectors vectors (half as many for a last tile that fits in half);
//                 the tile's B sliver (K x tile width) is reused by every row tile below.
//   row tiles:    kGemmTileRows output pixels each; MultiplyTile runs all of K (taps x
//                 group_in) in registers: one chain per output, no K blocking.
// The indirect A source of row tile t in group `group`: per tap, the tile's row pointers.
HWY_INLINE TileIndirectA IndirectA(const detail::ConvTaskArgs& g, int64_t group, int64_t t) {
  TileIndirectA a;
  a.pointers = g.indirection + t * g.kernel_h * g.kernel_w * static_cast<int64_t>(kMaxTileRows);
  a.chunks = g.kernel_h * g.kernel_w;
  a.chunk_k = g.group_in;
  a.offset = static_cast<size_t>(group * g.group_in);
  a.zero = g.zero;
  return a;
}

// Tiles whose columns are all valid store to the output directly, with bias and clamp in
// registers; a ragged last column tile goes through a buffer on the stack. `a`: the row tile's
// A source (IndirectA).
template <size_t kVectors, class ASource>
HWY_INLINE void RunConvTile(const detail::ConvTaskArgs& g, int64_t group, int64_t col, int64_t cols, int64_t t,
                            const ASource& a) {
  const GemmTag df;
  const size_t lanes = hn::Lanes(df);
  const int64_t out_col = group * g.group_out + col;  // the tile's first output channel
  TileB b;
  const float* group_b = g.weights + group * g.group_stride + detail::kPackedHeaderBytes / 4;  // past its EKGB header
  for (size_t v = 0; v < kMaxTileVectors; ++v) {
    const int64_t j = v < kVectors && static_cast<int64_t>(v * lanes) < cols ? col + static_cast<int64_t>(v * lanes) : col;
    b.vectors[v] = group_b + (j / detail::kPanelWidth) * g.panel_stride + j % detail::kPanelWidth;
  }
  b.k_stride = static_cast<size_t>(detail::kPanelWidth);
  TileBiasClamp epilogue;
  epilogue.bias = g.bias ? g.bias + out_col : nullptr;
  epilogue.clamp = g.clamp;
  epilogue.lo = g.lo;
  epilogue.hi = g.hi;
  const PrefetchShare no_prefetch;
  const int64_t m0 = t * g.tile_rows;
  const size_t rows = static_cast<size_t>(HWY_MIN(g.tile_rows, g.batch * g.out_h * g.out_w - m0));
  float* out = g.output + m0 * g.out_pixel_stride + out_col;
  if (cols == static_cast<int64_t>(kVectors * lanes)) {
    MultiplyTileRows<kGemmTileRows, kVectors, GemmTag, float>(df, rows, a, b, false, out,
                                                              static_cast<size_t>(g.out_pixel_stride), epilogue,
                                                              no_prefetch);
    return;
  }
  HWY_ALIGN float buffer[kMaxTileRows * kMaxTileVectors * detail::kPanelWidth];
  TileBiasClamp no_epilogue;
  no_epilogue.active = false;
  MultiplyTileRows<kGemmTileRows, kVectors, GemmTag, float>(df, rows, a, b, false, buffer, kMaxTileVectors * lanes,
                                                            no_epilogue, no_prefetch);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0, v = 0; c < static_cast<size_t>(cols); c += lanes, ++v) {
      const size_t count = HWY_MIN(lanes, static_cast<size_t>(cols) - c);
      const auto acc = epilogue.ApplyN(df, hn::Load(df, buffer + (r * kMaxTileVectors + v) * lanes), c, count);
      hn::StoreN(acc, df, out + static_cast<int64_t>(r) * g.out_pixel_stride + static_cast<int64_t>(c), count);
    }
  }
}

// One tile of at most tile_cols columns: the half-width tile when they fit in half.
template <class ASource>
HWY_INLINE void RunConvTileAnyWidth(const detail::ConvTaskArgs& g, int64_t group, int64_t col, int64_t cols,
                                    int64_t t, const ASource& a) {
  if constexpr (kGemmTileVectors % 2 == 0) {
    const GemmTag df;
    if (cols <= static_cast<int64_t>(kGemmTileVectors / 2 * hn::Lanes(df))) {
      return RunConvTile<kGemmTileVectors / 2>(g, group, col, cols, t, a);
    }
  }
  RunConvTile<kGemmTileVectors>(g, group, col, cols, t, a);
}

HWY_INLINE void RunIndirectConvTask(const detail::ConvTaskArgs& g, size_t task) {
  const GemmTag df;
  const int64_t tile_cols = static_cast<int64_t>(kGemmTileVectors * hn::Lanes(df));
  const int64_t column_tasks = g.groups * g.column_blocks;
  const int64_t row_block = static_cast<int64_t>(task) / column_tasks;
  const int64_t column_task = static_cast<int64_t>(task) % column_tasks;
  const int64_t group = column_task / g.column_blocks;
  const int64_t block_begin = (column_task % g.column_blocks) * g.block_cols;
  const int64_t block_end = HWY_MIN(g.group_out, block_begin + g.block_cols);
  const int64_t t0 = row_block * g.tiles_per_task, t1 = HWY_MIN(g.row_tiles, t0 + g.tiles_per_task);
  if (g.row_tiles_outer) {
    for (int64_t t = t0; t < t1; ++t) {
      const TileIndirectA a = IndirectA(g, group, t);
      for (int64_t col = block_begin; col < block_end; col += tile_cols) {
        RunConvTileAnyWidth(g, group, col, HWY_MIN(tile_cols, block_end - col), t, a);
      }
    }
    return;
  }
  for (int64_t col = block_begin; col < block_end; col += tile_cols) {
    for (int64_t t = t0; t < t1; ++t) {
      RunConvTileAnyWidth(g, group, col, HWY_MIN(tile_cols, block_end - col), t, IndirectA(g, group, t));
    }
  }
}

// ---- Depthwise -----------------------------------------------------------------------------------
// groups = C_in = C_out: output (pixel, c) = sum over taps of input(tap's pixel, c) * w(tap, c).
// Bandwidth- and latency-bound, not a GEMM. Per run of kDepthwisePixels output pixels of a row:
// where each (tap, pixel)'s input is, once (DepthwiseInputs: the zero row where a tap is in the
// padding, so every chain has all taps and the inner loop has no branch), then
//   channel loop: vectors of channels (a masked last one);
//     tap loop:   one load of the tap's weight vector, then per pixel one input load and one
//                 FMA into that pixel's accumulator.
//   registers: kDepthwisePixels accumulators (independent chains: the FMA latency is covered)
//              + 1 weight vector + 1 input vector.
constexpr size_t kDepthwisePixels = 8;
constexpr int64_t kDepthwiseBlockVectors = 8;  // f32: channel vectors per block

// Where a (tap, pixel)'s input is: interior runs (every tap of every pixel inside the image)
// as one pointer per tap plus the pixel's offset (p x step); runs at a border as one pointer
// per (tap, pixel), the zero row in the padding. T: the element type (f32, int8).
template <size_t kPixels, bool kInterior, class T = float>
struct DepthwiseInputs {
  const T* const* HWY_RESTRICT pointers;  // [tap][kInterior ? 1 : kPixels]
  int64_t step;                           // interior: elements between consecutive pixels
  HWY_INLINE const T* At(int64_t tap, size_t p) const {
    return kInterior ? pointers[tap] + static_cast<int64_t>(p) * step
                     : pointers[tap * static_cast<int64_t>(kPixels) + static_cast<int64_t>(p)];
  }
};

// Builds the inputs of the run of kPixels output pixels of row (n, y) from x0, and hands them
// to channels(inputs) (a DepthwiseInputs<kPixels, true or false, T>).
template <size_t kPixels, class T, class Channels>
HWY_INLINE void DepthwisePixelRun(const detail::ConvTaskArgs& g, const T* input, const T* zero, int64_t n, int64_t y,
                                  int64_t x0, const Channels& channels) {
  const T* image = input + n * g.in_stride_n;
  const T* pointers[detail::kConvMaxDepthwiseTaps * kPixels];
  const int64_t iy0 = y * g.stride_h - g.pad_top, ix0 = x0 * g.stride_w - g.pad_left;
  const int64_t last_iy = iy0 + (g.kernel_h - 1) * g.dilation_h;
  const int64_t last_ix = ix0 + static_cast<int64_t>(kPixels - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w;
  if (iy0 >= 0 && last_iy < g.in_h && ix0 >= 0 && last_ix < g.in_w) {
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        pointers[ky * g.kernel_w + kx] =
            image + (iy0 + ky * g.dilation_h) * g.in_stride_h + (ix0 + kx * g.dilation_w) * g.in_stride_w;
      }
    }
    return channels(DepthwiseInputs<kPixels, true, T>{pointers, g.stride_w * g.in_stride_w});
  }
  for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t iy = iy0 + ky * g.dilation_h;
    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
      for (size_t p = 0; p < kPixels; ++p) {
        const int64_t ix = ix0 + static_cast<int64_t>(p) * g.stride_w + kx * g.dilation_w;
        const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
        pointers[(ky * g.kernel_w + kx) * static_cast<int64_t>(kPixels) + static_cast<int64_t>(p)] =
            inside ? image + iy * g.in_stride_h + ix * g.in_stride_w : zero;
      }
    }
  }
  channels(DepthwiseInputs<kPixels, false, T>{pointers, 0});
}

template <size_t kPixels, bool kTail, class Inputs>
HWY_INLINE void DepthwiseVector(const detail::ConvTaskArgs& g, const Inputs& inputs, int64_t taps,
                                float* HWY_RESTRICT out, int64_t c, size_t count) {
  const GemmTag df;  // at most 16 lanes: the weight rows and the zero row are padded to 16
  using VF = hn::Vec<decltype(df)>;
  VF acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  VF acc4 = hn::Zero(df), acc5 = hn::Zero(df), acc6 = hn::Zero(df), acc7 = hn::Zero(df);
  const float* HWY_RESTRICT w = g.weights + c;
  EK_LOOP_MARK("dw_f32", kPixels, kTail ? 1 : 0, 0);
  for (int64_t t = 0; t < taps; ++t, w += g.weight_row) {
    const VF weights = hn::LoadU(df, w);
    const auto load = [&](size_t p) HWY_ATTR {
      return kTail ? hn::LoadN(df, inputs.At(t, p) + c, count) : hn::LoadU(df, inputs.At(t, p) + c);
    };
    acc0 = hn::MulAdd(load(0), weights, acc0);
    if constexpr (kPixels > 1) acc1 = hn::MulAdd(load(1), weights, acc1);
    if constexpr (kPixels > 2) acc2 = hn::MulAdd(load(2), weights, acc2);
    if constexpr (kPixels > 3) acc3 = hn::MulAdd(load(3), weights, acc3);
    if constexpr (kPixels > 4) acc4 = hn::MulAdd(load(4), weights, acc4);
    if constexpr (kPixels > 5) acc5 = hn::MulAdd(load(5), weights, acc5);
    if constexpr (kPixels > 6) acc6 = hn::MulAdd(load(6), weights, acc6);
    if constexpr (kPixels > 7) acc7 = hn::MulAdd(load(7), weights, acc7);
  }
  TileBiasClamp epilogue;
  epilogue.bias = g.bias;
  epilogue.clamp = g.clamp;
  epilogue.lo = g.lo;
  epilogue.hi = g.hi;
  const auto store = [&](VF acc, size_t p) HWY_ATTR {
    acc = epilogue.ApplyN(df, acc, static_cast<size_t>(c), count);
    hn::StoreN(acc, df, out + static_cast<int64_t>(p) * g.out_pixel_stride + c, count);
  };
  store(acc0, 0);
  if constexpr (kPixels > 1) store(acc1, 1);
  if constexpr (kPixels > 2) store(acc2, 2);
  if constexpr (kPixels > 3) store(acc3, 3);
  if constexpr (kPixels > 4) store(acc4, 4);
  if constexpr (kPixels > 5) store(acc5, 5);
  if constexpr (kPixels > 6) store(acc6, 6);
  if constexpr (kPixels > 7) store(acc7, 7);
}

// The f32 kernel for the rows loop (RunDepthwiseRows): runs of up to 8 pixels, channel blocks
// of kDepthwiseBlockVectors vectors.
struct DepthwiseF32 {
  static constexpr size_t kMaxPixels = kDepthwisePixels;
  static constexpr bool kOverlapLastRun = true;
  const detail::ConvTaskArgs& g;
  int64_t Block() const { return kDepthwiseBlockVectors * static_cast<int64_t>(hn::Lanes(GemmTag())); }
  template <size_t kPixels>
  HWY_INLINE void Pixels(int64_t n, int64_t y, int64_t x0, int64_t c_begin, int64_t c_end) const {
    float* out = g.output + ((n * g.out_h + y) * g.out_w + x0) * g.out_pixel_stride;
    const detail::ConvTaskArgs& args = g;
    DepthwisePixelRun<kPixels>(g, g.input, g.zero, n, y, x0, [&](const auto& inputs) HWY_ATTR {
      const GemmTag df;
      const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
      const int64_t taps = args.kernel_h * args.kernel_w;
      int64_t c = c_begin;
      for (; c + lanes <= c_end; c += lanes) {
        DepthwiseVector<kPixels, false>(args, inputs, taps, out, c, static_cast<size_t>(lanes));
      }
      if (c < c_end) DepthwiseVector<kPixels, true>(args, inputs, taps, out, c, static_cast<size_t>(c_end - c));
    });
  }
};

// ---- Int8 depthwise ------------------------------------------------------------------------------
// acc(pixel, c) = col_term[c] + sum over taps of in(tap's pixel, c) * w(tap, c), int32, exact;
// col_term = bias - input zero point x the channel's tap sum (modulo 2^32), so that the
// TFLite sum of (in - zero point) * w needs no subtraction per tap; padding taps read the zero
// row (the zero point: they add zero point * w, which col_term takes back out, as TFLite skips
// them). Per run of kPixels output pixels, per vector of channels (int16 lanes, at most 32):
//   tap loop:   one load of the tap's int16 weights, split into even-channel and odd-channel
//               copies (the other lanes zeroed); per pixel one load of the input bytes widened
//               to int16, then one pairwise multiply-accumulate into int32 with each copy
//               (ReorderWidenMulAccumulate: vpdpwssd with AVX-512 VNNI, vpmaddwd + add
//               otherwise, smlal / smlal2 on Arm): the even and the odd channels' sums, exact
//               (|in * w| <= 2^14, no lane crossing in the loop).
//   registers:  4 x kQDepthwisePixels int32 accumulators (x86 leaves the second of each pair
//               unused: 8 live) + 2 weight copies + input (11 of AVX2's 16; 20 of Arm's 32).
// Then per pixel: + col_term, ek/requantize.h's rule per lane (the per-channel terms split into
// even and odd channels with ConcatEven / ConcatOdd, once per vector), the even and odd results
// interleaved back as 16-bit lanes, narrowed to int8, stored.
constexpr size_t kQDepthwisePixels = 4;  // at most 4: QDepthwiseVector names 4 pixels' accumulators
using QDepthwiseTag = hn::CappedTag<int16_t, 32>;  // the weight rows and the terms are padded to 64

template <size_t kPixels, bool kTail, bool kLeftShifts, class Inputs>
HWY_INLINE void QDepthwiseVector(const detail::ConvTaskArgs& g, const Inputs& inputs, int64_t taps,
                                 int8_t* HWY_RESTRICT out, int64_t c, size_t count) {
  const QDepthwiseTag d16;
  const hn::Rebind<int8_t, QDepthwiseTag> d8;
  const hn::Repartition<int32_t, QDepthwiseTag> d32;
  using V32 = hn::Vec<decltype(d32)>;
  // Accumulators: even / odd channels of pixels 0..3, each a pair (sum0, sum1) of
  // ReorderWidenMulAccumulate (named: SVE vectors cannot form arrays or members).
  const V32 zero = hn::Zero(d32);
  V32 e0 = zero, e0b = zero, o0 = zero, o0b = zero, e1 = zero, e1b = zero, o1 = zero, o1b = zero;
  V32 e2 = zero, e2b = zero, o2 = zero, o2b = zero, e3 = zero, e3b = zero, o3 = zero, o3b = zero;
  const auto even_mask = hn::BitCast(d16, hn::Set(d32, 0x0000FFFF));
  const int16_t* HWY_RESTRICT w = g.weights_q + c;
  EK_LOOP_MARK("dw_s8", kPixels, kTail ? 1 : 0, 0);
  for (int64_t t = 0; t < taps; ++t, w += g.weight_row) {
    // The tap's weights with the odd channels zeroed, and with the even ones zeroed: a pairwise
    // multiply-add (vpdpwssd / vpmaddwd / smlal) of the input with each then gives the even and
    // the odd channels' products alone, exactly.
    const auto weights = hn::LoadU(d16, w);
    const auto w_even = hn::And(weights, even_mask), w_odd = hn::AndNot(even_mask, weights);
    const auto accumulate = [&](size_t p, V32& even, V32& even_b, V32& odd, V32& odd_b) HWY_ATTR {
      const int8_t* in = inputs.At(t, p) + c;
      const auto x = hn::PromoteTo(d16, kTail ? hn::LoadN(d8, in, count) : hn::LoadU(d8, in));
      even = hn::ReorderWidenMulAccumulate(d32, x, w_even, even, even_b);
      odd = hn::ReorderWidenMulAccumulate(d32, x, w_odd, odd, odd_b);
    };
    accumulate(0, e0, e0b, o0, o0b);
    if constexpr (kPixels > 1) accumulate(1, e1, e1b, o1, o1b);
    if constexpr (kPixels > 2) accumulate(2, e2, e2b, o2, o2b);
    if constexpr (kPixels > 3) accumulate(3, e3, e3b, o3, o3b);
  }
  // Per-channel terms, split into the even and odd channels of this vector.
  const size_t lanes32 = hn::Lanes(d32);
  const auto split = [&](const int32_t* terms, V32& even_terms, V32& odd_terms) HWY_ATTR {
    const V32 lo = hn::LoadU(d32, terms + c), hi = hn::LoadU(d32, terms + c + static_cast<int64_t>(lanes32));
    even_terms = hn::ConcatEven(d32, hi, lo);
    odd_terms = hn::ConcatOdd(d32, hi, lo);
  };
  V32 col_even, col_odd, mult_even, mult_odd, shift_even, shift_odd;
  split(g.col_term, col_even, col_odd);
  split(g.multiplier, mult_even, mult_odd);
  split(g.shift, shift_even, shift_odd);
  V32 mult_odd_lanes_e, left_e, right_e, mask_e, half_e, mult_odd_lanes_o, left_o, right_o, mask_o, half_o;
  RequantizeColumnTerms<kLeftShifts>(d32, mult_even, shift_even, mult_odd_lanes_e, left_e, right_e, mask_e, half_e);
  RequantizeColumnTerms<kLeftShifts>(d32, mult_odd, shift_odd, mult_odd_lanes_o, left_o, right_o, mask_o, half_o);
  const V32 zp = hn::Set(d32, g.out_zero_point);
  const V32 lo = hn::Set(d32, g.qmin - g.out_zero_point), hi = hn::Set(d32, g.qmax - g.out_zero_point);
  const V32 low16 = hn::Set(d32, 0xFFFF);
  const auto store = [&](size_t p, V32 even, V32 odd) HWY_ATTR {
    const V32 q_even = RequantizeWith<kLeftShifts, false>(d32, hn::Add(even, col_even), mult_even, mult_odd_lanes_e,
                                                          left_e, right_e, mask_e, half_e, zp, lo, hi);
    const V32 q_odd = RequantizeWith<kLeftShifts, false>(d32, hn::Add(odd, col_odd), mult_odd, mult_odd_lanes_o,
                                                         left_o, right_o, mask_o, half_o, zp, lo, hi);
    // Channel 2i is the low half of q_even's lane i, channel 2i + 1 the high half (in [-128, 127]).
    const auto interleaved = hn::BitCast(d16, hn::Or(hn::And(q_even, low16), hn::ShiftLeft<16>(q_odd)));
    const auto bytes = hn::DemoteTo(d8, interleaved);
    int8_t* dst = out + static_cast<int64_t>(p) * g.out_pixel_stride + c;
    if (kTail) {
      hn::StoreN(bytes, d8, dst, count);
    } else {
      hn::StoreU(bytes, d8, dst);
    }
  };
  store(0, hn::RearrangeToOddPlusEven(e0, e0b), hn::RearrangeToOddPlusEven(o0, o0b));
  if constexpr (kPixels > 1) store(1, hn::RearrangeToOddPlusEven(e1, e1b), hn::RearrangeToOddPlusEven(o1, o1b));
  if constexpr (kPixels > 2) store(2, hn::RearrangeToOddPlusEven(e2, e2b), hn::RearrangeToOddPlusEven(o2, o2b));
  if constexpr (kPixels > 3) store(3, hn::RearrangeToOddPlusEven(e3, e3b), hn::RearrangeToOddPlusEven(o3, o3b));
}

// The int8 kernel for the rows loop: runs of up to kQDepthwisePixels pixels, channel blocks of
// 4 vectors of int16 lanes.
template <bool kLeftShifts>
struct DepthwiseI8 {
  static constexpr size_t kMaxPixels = kQDepthwisePixels;
  static constexpr bool kOverlapLastRun = false;
  const detail::ConvTaskArgs& g;
  int64_t Block() const { return 4 * static_cast<int64_t>(hn::Lanes(QDepthwiseTag())); }
  template <size_t kPixels>
  HWY_INLINE void Pixels(int64_t n, int64_t y, int64_t x0, int64_t c_begin, int64_t c_end) const {
    int8_t* out = g.output_q + ((n * g.out_h + y) * g.out_w + x0) * g.out_pixel_stride;
    const detail::ConvTaskArgs& args = g;
    DepthwisePixelRun<kPixels>(g, g.input_q, g.zero_q, n, y, x0, [&](const auto& inputs) HWY_ATTR {
      const int64_t lanes = static_cast<int64_t>(hn::Lanes(QDepthwiseTag()));
      const int64_t taps = args.kernel_h * args.kernel_w;
      int64_t c = c_begin;
      for (; c + lanes <= c_end; c += lanes) {
        QDepthwiseVector<kPixels, false, kLeftShifts>(args, inputs, taps, out, c, static_cast<size_t>(lanes));
      }
      if (c < c_end) {
        QDepthwiseVector<kPixels, true, kLeftShifts>(args, inputs, taps, out, c, static_cast<size_t>(c_end - c));
      }
    });
  }
};

// Channel blocks outer, the task's rows inner: the input rows a run reads (KH rows x (pixels +
// KW - 1) pixels x the block's channels) stay in L1, also for the next output row (MobileNetV2's
// 14 x 14 x 384 layers, all channels at once: 46 KB of f32 input per run, more than L1).
// Kernel: DepthwiseF32 or DepthwiseI8.
template <class Kernel>
HWY_INLINE void RunDepthwiseRows(const detail::ConvTaskArgs& g, size_t task, const Kernel& kernel) {
  const int64_t block = kernel.Block();
  const int64_t rows = g.batch * g.out_h;
  const int64_t r0 = static_cast<int64_t>(task) * g.rows_per_task, r1 = HWY_MIN(rows, r0 + g.rows_per_task);
  constexpr int64_t kP = static_cast<int64_t>(Kernel::kMaxPixels);
  for (int64_t c0 = 0; c0 < g.out_c; c0 += block) {
    const int64_t c1 = HWY_MIN(g.out_c, c0 + block);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.out_h, y = r % g.out_h;
      // f32 (kOverlapLastRun): runs of kP pixels; the last, partial run is a full one that ends
      // at the row's end and recomputes some pixels of the previous run (the same values: every
      // output is one chain), so that it keeps kP independent chains; rows narrower than kP:
      // runs of 4, then single pixels. int8: runs of 4, then one run of the 1-3 left (its
      // per-pixel requantization is too costly to recompute pixels: 7-wide rows would do 8).
      if constexpr (!Kernel::kOverlapLastRun) {  // runs of kP, then one run of the rest
        static_assert(Kernel::kMaxPixels == 4, "the rest is a run of 1 to 3 pixels");
        int64_t x = 0;
        for (; x + kP <= g.out_w; x += kP) kernel.template Pixels<Kernel::kMaxPixels>(n, y, x, c0, c1);
        const int64_t rest = g.out_w - x;
        if (rest == 3) kernel.template Pixels<3>(n, y, x, c0, c1);
        if (rest == 2) kernel.template Pixels<2>(n, y, x, c0, c1);
        if (rest == 1) kernel.template Pixels<1>(n, y, x, c0, c1);
      } else if (g.out_w >= kP) {
        for (int64_t x = 0; x < g.out_w; x += kP) {
          kernel.template Pixels<Kernel::kMaxPixels>(n, y, HWY_MIN(x, g.out_w - kP), c0, c1);
        }
      } else if (g.out_w >= 4) {
        for (int64_t x = 0; x < g.out_w; x += 4) kernel.template Pixels<4>(n, y, HWY_MIN(x, g.out_w - 4), c0, c1);
      } else {
        for (int64_t x = 0; x < g.out_w; ++x) kernel.template Pixels<1>(n, y, x, c0, c1);
      }
    }
  }
}

HWY_INLINE void RunDepthwiseTask(const detail::ConvTaskArgs& g, size_t task) {
  if (g.dtype == DType::kF32) return RunDepthwiseRows(g, task, DepthwiseF32{g});
  if (g.any_left_shift) return RunDepthwiseRows(g, task, DepthwiseI8<true>{g});
  RunDepthwiseRows(g, task, DepthwiseI8<false>{g});
}

// ---- Exported entry points (ek/conv.h) -------------------------------------------------------------
// The indirect path's tile: kGemmTileRows pixels x kGemmTileVectors vectors (ek/cpu/tile/shapes-inl.h).
inline void ConvTileShape(int64_t* rows, int64_t* cols) {
  const GemmTag df;
  *rows = static_cast<int64_t>(kGemmTileRows);
  *cols = static_cast<int64_t>(kGemmTileVectors * hn::Lanes(df));
}

inline void RunConvTask(const detail::ConvTaskArgs& g, size_t task) {
  g.path == detail::ConvPath::kDepthwise ? RunDepthwiseTask(g, task) : RunIndirectConvTask(g, task);
}

// f16 storage: dense f32 pixels of `channels` to f16 pixels `dst_stride` elements apart.
inline void StorePixelsF16(const float* HWY_RESTRICT src, int64_t pixels, int64_t channels,
                           hwy::float16_t* HWY_RESTRICT dst, int64_t dst_stride) {
  const hn::ScalableTag<float> df;
  for (int64_t p = 0, lanes = static_cast<int64_t>(hn::Lanes(df)); p < pixels; ++p) {
    for (int64_t c = 0; c < channels; c += lanes) {
      const size_t count = static_cast<size_t>(HWY_MIN(lanes, channels - c));
      StoreOutput(df, hn::LoadN(df, src + p * channels + c, count), dst + p * dst_stride + c, DType::kF16, count);
    }
  }
}
}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_CONV_CONV_INL_H_
