// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Max, average and global average pooling, per target: RunPoolTask, which ek/conv.h dispatches
// to. Compiled once per target through ek/cpu/kernels-inl.h with the convolution family.
// Numerics: ek/ref/pool.h is the specification and every target equals it exactly: per lane,
// the same f32 max / add chain over the window's taps in row-major order, one division by the
// tap count, then the clamp.
//
// Pooling is bound by loads (one load and one max / add per tap and vector, no reuse across
// output pixels worth keeping in registers for MobileNet-style 2x2 / 3x3 / global windows), so
// the loop nest only keeps enough independent chains to hide the add latency.

#if defined(EK_CPU_CONV_POOL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_CONV_POOL_INL_H_
#undef EK_CPU_CONV_POOL_INL_H_
#else
#define EK_CPU_CONV_POOL_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "ek/cpu/conv/args.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The valid part of one output pixel's window: `rows` x `cols` taps from `first` (the top-left
// tap inside the input), taps `row_step` / `col_step` elements apart.
template <class T = float>
struct PoolWindow {
  const T* first;
  int64_t rows, cols, row_step, col_step;
};

// The window of output pixel (n, y, x) clipped to the input, over `input` (f32 or bytes).
template <class T>
HWY_INLINE PoolWindow<T> ClipPoolWindow(const detail::PoolTaskArgs& g, const T* input, int64_t n, int64_t y,
                                        int64_t x) {
  const int64_t iy = y * g.stride_h - g.pad_top, ix = x * g.stride_w - g.pad_left;
  const int64_t ky0 = HWY_MAX(int64_t{0}, -iy), ky1 = HWY_MIN(g.kernel_h, g.in_h - iy);
  const int64_t kx0 = HWY_MAX(int64_t{0}, -ix), kx1 = HWY_MIN(g.kernel_w, g.in_w - ix);
  PoolWindow<T> w;
  w.first = input + n * g.in_stride_n + (iy + ky0) * g.in_stride_h + (ix + kx0) * g.in_stride_w;
  w.rows = ky1 - ky0;
  w.cols = kx1 - kx0;
  w.row_step = g.in_stride_h;
  w.col_step = g.in_stride_w;
  return w;
}

// One block of channels [c, c + kVectors vectors) of one output pixel (kTail: a single vector
// of `tail_lanes` < lanes channels, read and written with LoadN / StoreN).
// Register budget: kVectors accumulators + kVectors loads in flight + the bounds: 10 of 16.
// Loops: window rows, then window columns (row-major, the reference's order); the first tap
// seeds the accumulators, so the chain is exactly the reference's.
template <bool kAverage, size_t kVectors, bool kTail>
HWY_INLINE void PoolChannelBlock(const detail::PoolTaskArgs& g, const PoolWindow<float>& w, float* HWY_RESTRICT out,
                                 int64_t c, size_t tail_lanes) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t lanes = hn::Lanes(df);
  const auto load = [&](const float* p, size_t v) HWY_ATTR {
    return kTail ? hn::LoadN(df, p + c, tail_lanes) : hn::LoadU(df, p + c + v * lanes);
  };
  const auto combine = [](VF acc, VF tap) HWY_ATTR { return kAverage ? hn::Add(acc, tap) : hn::Max(acc, tap); };
  VF acc0 = load(w.first, 0);
  VF acc1 = kVectors > 1 ? load(w.first, 1) : acc0;
  VF acc2 = kVectors > 2 ? load(w.first, 2) : acc0;
  VF acc3 = kVectors > 3 ? load(w.first, 3) : acc0;
  for (int64_t ky = 0; ky < w.rows; ++ky) {
    const float* row = w.first + ky * w.row_step;
    for (int64_t kx = ky == 0 ? 1 : 0; kx < w.cols; ++kx) {
      const float* tap = row + kx * w.col_step;
      acc0 = combine(acc0, load(tap, 0));
      if constexpr (kVectors > 1) acc1 = combine(acc1, load(tap, 1));
      if constexpr (kVectors > 2) acc2 = combine(acc2, load(tap, 2));
      if constexpr (kVectors > 3) acc3 = combine(acc3, load(tap, 3));
    }
  }
  const VF count = hn::Set(df, static_cast<float>(w.rows * w.cols));
  const VF lo = hn::Set(df, g.lo), hi = hn::Set(df, g.hi);
  const auto finish = [&](VF acc, size_t v) HWY_ATTR {
    if (kAverage) acc = hn::Div(acc, count);
    if (g.clamp) acc = hn::Min(hn::Max(acc, lo), hi);
    if (kTail) {
      hn::StoreN(acc, df, out + c, tail_lanes);
    } else {
      hn::StoreU(acc, df, out + c + v * lanes);
    }
  };
  finish(acc0, 0);
  if constexpr (kVectors > 1) finish(acc1, 1);
  if constexpr (kVectors > 2) finish(acc2, 2);
  if constexpr (kVectors > 3) finish(acc3, 3);
}

// Loops: output rows (n, y) of the task, output pixels x, channel blocks of 4 vectors, then
// single vectors, then the tail. The window is clipped to the input once per pixel.
template <bool kAverage>
HWY_INLINE void PoolRows(const detail::PoolTaskArgs& g, int64_t r0, int64_t r1) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.out_h, y = r % g.out_h;
    for (int64_t x = 0; x < g.out_w; ++x) {
      const PoolWindow<float> w = ClipPoolWindow(g, g.input, n, y, x);
      float* out = g.output + n * g.out_stride_n + y * g.out_stride_h + x * g.out_stride_w;
      int64_t c = 0;
      for (; c + 4 * lanes <= g.channels; c += 4 * lanes) PoolChannelBlock<kAverage, 4, false>(g, w, out, c, 0);
      for (; c + lanes <= g.channels; c += lanes) PoolChannelBlock<kAverage, 1, false>(g, w, out, c, 0);
      if (c < g.channels) PoolChannelBlock<kAverage, 1, true>(g, w, out, c, static_cast<size_t>(g.channels - c));
    }
  }
}

// ---- int8 / uint8 (TFLite's integer pooling, ek/ref/pool.h) ----------------------------------------
// Per output pixel and vector of channels (int32 lanes): the window's taps widened and added
// (average) or maxed, then average: each lane's sum divided by the tap count rounding half away
// from zero (a scalar division per output: TFLite's rule, exact); max: the clamp. 2 vector
// registers live per block; pooling is load-bound.
template <bool kAverage, class T>
HWY_INLINE void QuantizedPoolRows(const detail::PoolTaskArgs& g, int64_t r0, int64_t r1) {
  const hn::ScalableTag<int32_t> d32;
  const hn::Rebind<T, decltype(d32)> dq;
  using V = hn::Vec<decltype(d32)>;
  const size_t lanes = hn::Lanes(d32);
  const T* input = reinterpret_cast<const T*>(g.input_q);
  T* output = reinterpret_cast<T*>(g.output_q);
  HWY_ALIGN int32_t sums[hn::MaxLanes(hn::ScalableTag<int32_t>())];
  const V qmin = hn::Set(d32, g.qmin), qmax = hn::Set(d32, g.qmax);
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.out_h, y = r % g.out_h;
    for (int64_t x = 0; x < g.out_w; ++x) {
      const PoolWindow<T> w = ClipPoolWindow(g, input, n, y, x);
      const int32_t count = static_cast<int32_t>(w.rows * w.cols);
      T* out = output + n * g.out_stride_n + y * g.out_stride_h + x * g.out_stride_w;
      for (int64_t c = 0; c < g.channels; c += static_cast<int64_t>(lanes)) {
        const size_t valid = HWY_MIN(lanes, static_cast<size_t>(g.channels - c));
        V acc = kAverage ? hn::Zero(d32) : hn::Set(d32, INT32_MIN);
        for (int64_t ky = 0; ky < w.rows; ++ky) {
          for (int64_t kx = 0; kx < w.cols; ++kx) {
            const V tap = hn::PromoteTo(d32, hn::LoadN(dq, w.first + ky * w.row_step + kx * w.col_step + c, valid));
            acc = kAverage ? hn::Add(acc, tap) : hn::Max(acc, tap);
          }
        }
        if constexpr (kAverage) {
          hn::Store(acc, d32, sums);
          for (size_t i = 0; i < valid; ++i) {
            int32_t q = sums[i] > 0 ? (sums[i] + count / 2) / count : (sums[i] - count / 2) / count;
            q = HWY_MIN(HWY_MAX(q, g.qmin), g.qmax);
            out[c + static_cast<int64_t>(i)] = static_cast<T>(q);
          }
        } else {
          hn::StoreN(hn::DemoteTo(dq, hn::Min(hn::Max(acc, qmin), qmax)), dq, out + c, valid);
        }
      }
    }
  }
}

// ---- Exported entry point (ek/conv.h) -------------------------------------------------------------
inline void RunPoolTask(const detail::PoolTaskArgs& g, size_t task) {
  const int64_t rows = g.batch * g.out_h;
  const int64_t r0 = static_cast<int64_t>(task) * g.rows_per_task, r1 = HWY_MIN(rows, r0 + g.rows_per_task);
  if (g.dtype == DType::kI8) {
    if (g.average) return QuantizedPoolRows<true, int8_t>(g, r0, r1);
    return QuantizedPoolRows<false, int8_t>(g, r0, r1);
  }
  if (g.dtype == DType::kU8) {
    if (g.average) return QuantizedPoolRows<true, uint8_t>(g, r0, r1);
    return QuantizedPoolRows<false, uint8_t>(g, r0, r1);
  }
  if (g.average) return PoolRows<true>(g, r0, r1);
  PoolRows<false>(g, r0, r1);
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_CONV_POOL_INL_H_
