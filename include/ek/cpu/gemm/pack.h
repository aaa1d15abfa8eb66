// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Packing B into the float panels of format EKGB (ek/detail/packed_format.h), panels in parallel:
// bits copied, any strides, either orientation. Target-independent.
#ifndef EK_CPU_GEMM_PACK_H_
#define EK_CPU_GEMM_PACK_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/gemm/args.h"
#include "ek/detail/int_math.h"
#include "ek/detail/packed_format.h"
#include "ek/parallel.h"
#include "ek/tensor.h"

namespace ek {
namespace detail {

// Copies panels [panel_begin, panel_end) of B (any strides, either orientation) into the packed
// payload. Bits are copied, not values: packing is exact for every type.
template <typename Bits>
void PackPanels(const TensorView& b, bool transpose_b, int64_t k, int64_t n, uint8_t* payload, int64_t panel_begin,
                int64_t panel_end) {
  const Bits* src = static_cast<const Bits*>(b.memory.host) + b.offset;
  const int64_t k_stride = transpose_b ? b.strides[1] : b.strides[0];
  const int64_t n_stride = transpose_b ? b.strides[0] : b.strides[1];
  const int64_t panel_stride = PanelStrideBytes(k, b.dtype);
  const int64_t row_bytes = kPanelWidth * static_cast<int64_t>(sizeof(Bits));
  const int64_t written = k * row_bytes;  // then zeros to the panel stride
  int64_t p = panel_begin;
  if (n_stride == 1) {
    // Row-major B, panels of 16 valid columns: groups of kPackRows rows of B (read in order;
    // the group stays in L2), each panel's part of the group written as one contiguous run
    // (kPackRows x 64 bytes) before the next panel's: row by row, every row of B wrote 64 bytes
    // to each of N / 16 panels a panel stride apart (64 x 4096 x 4096 unpacked: see docs/gemm.md).
    constexpr int64_t kPackRows = 32;
    const int64_t full_end = panel_end < n / kPanelWidth ? panel_end : n / kPanelWidth;
    for (int64_t k0 = 0; k0 < k; k0 += kPackRows) {
      const int64_t k1 = k - k0 < kPackRows ? k : k0 + kPackRows;
      for (int64_t q = p; q < full_end; ++q) {
        uint8_t* dst = payload + q * panel_stride;
        for (int64_t kk = k0; kk < k1; ++kk) {
          std::memcpy(dst + kk * row_bytes, src + kk * k_stride + q * kPanelWidth, static_cast<size_t>(row_bytes));
        }
      }
    }
    for (int64_t q = p; q < full_end; ++q) {
      std::memset(payload + q * panel_stride + written, 0, static_cast<size_t>(panel_stride - written));
    }
    if (full_end > p) p = full_end;
  }
  for (; p < panel_end; ++p) {
    uint8_t* dst = payload + p * panel_stride;
    const int64_t col0 = p * kPanelWidth;
    const int64_t cols = n - col0 < kPanelWidth ? n - col0 : kPanelWidth;
    Bits* rows = reinterpret_cast<Bits*>(dst);  // 4-byte aligned (kPackedAlign): fits every Bits
    if (k_stride == 1 && k > 1) {
      // Transposed B ([N x K], rows contiguous along K): each column read in order.
      if (cols < kPanelWidth) std::memset(dst, 0, static_cast<size_t>(written));
      for (int64_t j = 0; j < cols; ++j) {
        const Bits* column = src + (col0 + j) * n_stride;
        for (int64_t kk = 0; kk < k; ++kk) rows[kk * kPanelWidth + j] = column[kk];
      }
    } else {  // any strides; also the last, partial panel of a row-major B
      for (int64_t kk = 0; kk < k; ++kk) {
        Bits row[kPanelWidth] = {};
        const Bits* s = src + kk * k_stride + col0 * n_stride;
        for (int64_t j = 0; j < cols; ++j) row[j] = s[j * n_stride];
        std::memcpy(rows + kk * kPanelWidth, row, sizeof(row));
      }
    }
    std::memset(dst + written, 0, static_cast<size_t>(panel_stride - written));
  }
}

// Packs B into `out` (header + payload, PackedPayloadBytes + 64 bytes), panels in parallel.
inline void PackWeightsUnchecked(const TensorView& b, bool transpose_b, int64_t k, int64_t n, void* out,
                                 const Context& ctx) {
  WriteGemmHeader(b.dtype, k, n, out);
  uint8_t* payload = static_cast<uint8_t*>(out) + sizeof(PackedGemmHeader);
  const int64_t panels = CeilDiv(n, kPanelWidth);
  const TaskPlan plan = PlanTasks(static_cast<size_t>(panels), static_cast<size_t>(CeilDiv(64 * 1024, k)), 64);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    const int64_t begin = static_cast<int64_t>(plan.Begin(task));
    const int64_t end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(panels)));
    if (b.dtype == DType::kF32) {
      PackPanels<uint32_t>(b, transpose_b, k, n, payload, begin, end);
    } else {
      PackPanels<uint16_t>(b, transpose_b, k, n, payload, begin, end);
    }
  });
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_GEMM_PACK_H_
