// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// A view of B (not pre-packed) packed by each task, one K block x column chunk at a time, into
// its slot of the workspace (PackBChunk), with 4 x 4 transposes for a transposed f32 B.
// Compiled once per target.

#if defined(EK_CPU_GEMM_PACK_VIEW_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_GEMM_PACK_VIEW_INL_H_
#undef EK_CPU_GEMM_PACK_VIEW_INL_H_
#else
#define EK_CPU_GEMM_PACK_VIEW_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <cstring>

#include "ek/cpu/gemm/args.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 4 x 4 transpose of 32-bit lanes in 128-bit vectors (which exist on every target): r_i holds
// row i on entry and column i on exit.
template <class D4>
HWY_INLINE void Transpose4x4(D4 d, hn::Vec<D4>& r0, hn::Vec<D4>& r1, hn::Vec<D4>& r2, hn::Vec<D4>& r3) {
  const hn::Repartition<uint64_t, D4> d64;
  const auto t0 = hn::BitCast(d64, hn::InterleaveLower(d, r0, r1));  // r0[0] r1[0] r0[1] r1[1]
  const auto t1 = hn::BitCast(d64, hn::InterleaveUpper(d, r0, r1));  // r0[2] r1[2] r0[3] r1[3]
  const auto t2 = hn::BitCast(d64, hn::InterleaveLower(d, r2, r3));
  const auto t3 = hn::BitCast(d64, hn::InterleaveUpper(d, r2, r3));
  r0 = hn::BitCast(d, hn::InterleaveLower(d64, t0, t2));
  r1 = hn::BitCast(d, hn::InterleaveUpper(d64, t0, t2));
  r2 = hn::BitCast(d, hn::InterleaveLower(d64, t1, t3));
  r3 = hn::BitCast(d, hn::InterleaveUpper(d64, t1, t3));
}

// Four columns of a transposed f32 B (column c at src + c * column_stride, contiguous along k)
// written as k_count rows of 4 at dst + k * dst_stride: 4 x 4 transposes (bits copied).
template <typename TW>
HWY_INLINE void TransposeColumns4(const TW* HWY_RESTRICT src, int64_t column_stride, int64_t k_count,
                                  TW* HWY_RESTRICT dst, int64_t dst_stride) {
  static_assert(sizeof(TW) == 4, "32-bit lanes");
  const hn::FixedTag<uint32_t, 4> d;
  const uint32_t* HWY_RESTRICT c0 = reinterpret_cast<const uint32_t*>(src);
  const uint32_t* HWY_RESTRICT c1 = c0 + column_stride;
  const uint32_t* HWY_RESTRICT c2 = c1 + column_stride;
  const uint32_t* HWY_RESTRICT c3 = c2 + column_stride;
  uint32_t* HWY_RESTRICT out = reinterpret_cast<uint32_t*>(dst);
  int64_t k = 0;
  for (; k + 4 <= k_count; k += 4) {
    auto r0 = hn::LoadU(d, c0 + k), r1 = hn::LoadU(d, c1 + k), r2 = hn::LoadU(d, c2 + k), r3 = hn::LoadU(d, c3 + k);
    Transpose4x4(d, r0, r1, r2, r3);
    hn::StoreU(r0, d, out + (k + 0) * dst_stride);
    hn::StoreU(r1, d, out + (k + 1) * dst_stride);
    hn::StoreU(r2, d, out + (k + 2) * dst_stride);
    hn::StoreU(r3, d, out + (k + 3) * dst_stride);
  }
  for (; k < k_count; ++k) {
    out[k * dst_stride + 0] = c0[k];
    out[k * dst_stride + 1] = c1[k];
    out[k * dst_stride + 2] = c2[k];
    out[k * dst_stride + 3] = c3[k];
  }
}

// B given as a view (not pre-packed) is packed by each task, one K block x one column chunk at a
// time, into the task's slot of the workspace, in the packed format's panel layout (PanelSource)
// with a panel stride of k_count rows; columns past `cols` in the last panel are zero. Bits are
// copied, so the tiles compute the same FMA chains as on pre-packed B. The slot (at most
// ek/gemm.h's kPackSlotMaxBytes) is written, then read back from L2 by the column tiles: no
// B-sized workspace, and B is read from memory once per task (tasks over a large view of B are
// column blocks covering every row).
constexpr int64_t kPackRowGroup = 8;  // rows of a row-major B read side by side
template <typename TW>
HWY_NOINLINE void PackBChunk(const detail::GemmTaskArgs& g, int64_t k0, int64_t k_count, int64_t col0, int64_t cols,
                             TW* HWY_RESTRICT dst) {
  constexpr int64_t kW = detail::kPanelWidth;
  const TW* HWY_RESTRICT src = static_cast<const TW*>(g.b) + k0 * g.b_k_stride + col0 * g.b_n_stride;
  const int64_t full_panels = cols / kW;
  const int64_t panel_elements = k_count * kW;
  int64_t done_panels = 0;  // by the fast paths below; the rest by the general loop at the end
  if (g.b_n_stride == 1) {
    // Row-major: groups of kPackRowGroup rows, their runs of `cols` elements read side by side, a
    // panel row (64 bytes of f32) of each row in turn: several runs in flight at once is what
    // DRAM and the prefetchers stream best (measured on Zen2, 4096 x 4096 f32 packed in chunks
    // of 256 x 256: 5.8 GB/s one row after another, 8.4 with each row prefetched 16 rows
    // ahead, 10.2 with 8 rows side by side).
    for (int64_t k_group = 0; k_group < k_count; k_group += kPackRowGroup) {
      const int64_t group_end = HWY_MIN(k_count, k_group + kPackRowGroup);
      for (int64_t p = 0; p < full_panels; ++p) {
        for (int64_t kk = k_group; kk < group_end; ++kk) {
          std::memcpy(dst + p * panel_elements + kk * kW, src + kk * g.b_k_stride + p * kW, kW * sizeof(TW));
        }
      }
    }
    done_panels = full_panels;
  } else if (sizeof(TW) == 4 && g.b_k_stride == 1) {
    // Transposed f32 ([N x K]: a column of B is contiguous along k): 4 x 4 blocks transposed in
    // 128-bit vectors (4 columns x 4 k in, 4 k x 4 columns out), the last k % 4 one at a time.
    if constexpr (sizeof(TW) == 4) {
      for (int64_t p = 0; p < full_panels; ++p) {
        for (int64_t j = 0; j < kW; j += 4) {
          TransposeColumns4(src + (p * kW + j) * g.b_n_stride, g.b_n_stride, k_count, dst + p * panel_elements + j, kW);
        }
      }
    }
    done_panels = full_panels;
  }
  // Any strides (transposed 16-bit weights among them), and the last, partial panel of every
  // layout: per panel, its columns read together, k by k; zeros past `cols`.
  for (int64_t p = done_panels; p * kW < cols; ++p) {
    const int64_t valid = HWY_MIN(kW, cols - p * kW);
    const TW* HWY_RESTRICT column0 = src + p * kW * g.b_n_stride;
    TW* HWY_RESTRICT panel = dst + p * panel_elements;
    for (int64_t kk = 0; kk < k_count; ++kk) {
      for (int64_t j = 0; j < kW; ++j) {
        panel[kk * kW + j] = j < valid ? column0[j * g.b_n_stride + kk * g.b_k_stride] : TW();
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_GEMM_PACK_VIEW_INL_H_
