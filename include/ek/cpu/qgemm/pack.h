// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Packing integer weights into format EKQB (ek/detail/packed_format.h): the panels, the column
// sums and the scales, panels in parallel, then the checksums. Target-independent.
#ifndef EK_CPU_QGEMM_PACK_H_
#define EK_CPU_QGEMM_PACK_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/qgemm/args.h"
#include "ek/detail/int_math.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/qweights.h"
#include "ek/parallel.h"
#include "ek/tensor.h"

namespace ek {
namespace detail {

// Packs panels [begin, end): weights into the panel layout (s8: w, or w - 128 for u8 weights;
// int4: two's complement nibbles), the column sums of the stored values (x16 for int4, as the
// kernels' int4 sums are), and the scales as given: per tensor / channel f32, per block the given
// bits, and the f32 weighted sums (the kernels shift int4 sums down by 4: exact).
inline void PackQPanels(const TensorView& b, bool transpose_b, const QWeightsInfo& w, const QPackedLayout& l, uint8_t* out,
                        int64_t begin, int64_t end) {
  const bool int4 = b.dtype == DType::kI4;
  const int32_t shift = b.dtype == DType::kU8 ? 128 : 0;
  int32_t* sums = reinterpret_cast<int32_t*>(out + l.sums_offset);
  float* scales = reinterpret_cast<float*>(out + l.scales_offset);  // per tensor / channel
  uint8_t* block_scales = out + l.scales_offset;                    // per block
  float* weighted_sums = reinterpret_cast<float*>(out + l.weighted_offset);
  const size_t scale_bytes = b.quant.scale_type == DType::kF32 ? 4 : 2;
  for (int64_t p = begin; p < end; ++p) {
    uint8_t* panel = out + sizeof(PackedQGemmHeader) + p * l.panel_bytes;
    std::memset(panel, 0, static_cast<size_t>(l.panel_bytes));
    for (int64_t jj = 0; jj < kQPanelWidth; ++jj) {
      const int64_t j = p * kQPanelWidth + jj;
      int64_t sum = 0;
      double weighted = 0.0;
      int64_t block_sum = 0;
      for (int64_t k = 0; k < w.k && j < w.n; ++k) {
        const int32_t value = WeightAt(b, transpose_b, k, j) - shift;
        sum += value;
        block_sum += value;
        if (int4) {
          // Byte (k / 8) * 64 + jj * 4 + k % 4: low nibble for k % 8 < 4, high nibble otherwise.
          uint8_t& byte = panel[(k / 8) * 64 + jj * 4 + k % 4];
          const uint8_t nibble = static_cast<uint8_t>(value) & 0x0F;
          byte = (k % 8) < 4 ? static_cast<uint8_t>((byte & 0xF0) | nibble) : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
        } else {
          panel[(k / 4) * 64 + jj * 4 + k % 4] = static_cast<uint8_t>(static_cast<int8_t>(value));
        }
        if (w.kind == QScaleKind::kPerBlock) {
          const int64_t block_size = b.quant.block_size;
          const int64_t block = k / block_size;
          if ((k + 1) % block_size == 0 || k + 1 == w.k) {
            const float s = WeightScaleAt(b, transpose_b, k, j);
            std::memcpy(block_scales + ((p * l.blocks + block) * kQPanelWidth + jj) * static_cast<int64_t>(scale_bytes),
                        WeightScaleBitsAt(b, transpose_b, k, j), scale_bytes);
            weighted += static_cast<double>(s) * static_cast<double>(block_sum);
            block_sum = 0;
          }
        }
      }
      sums[j] = static_cast<int32_t>(int4 ? sum * 16 : sum);
      if (w.kind == QScaleKind::kPerBlock) {
        weighted_sums[j] = static_cast<float>(weighted);
        if (j >= w.n) {  // padding columns: zero scales (all-zero bits in every type)
          for (int64_t block = 0; block < l.blocks; ++block) {
            std::memset(block_scales + ((p * l.blocks + block) * kQPanelWidth + jj) * static_cast<int64_t>(scale_bytes), 0,
                        scale_bytes);
          }
        }
      } else {
        scales[j] = j < w.n ? WeightScaleAt(b, transpose_b, 0, j) : 0.0f;
      }
    }
  }
}

// Writes the header and the panels of B (already validated, or built by ek itself: GGUF blocks
// may carry negative or zero scales, which the kernels handle like any other).
inline void PackQGemmUnchecked(const TensorView& b, bool transpose_b, const QWeightsInfo& w, const QPackedLayout& l,
                               void* out, const Context& ctx) {
  WriteQGemmHeader(b.dtype, w.kind, b.quant.scale_type, b.quant.zero_point, w.k, w.n, b.quant.block_size, l, out);
  uint8_t* dst = static_cast<uint8_t*>(out);
  const TaskPlan plan = PlanTasks(static_cast<size_t>(l.panels), static_cast<size_t>(CeilDiv(64 * 1024, w.k)), 64);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    PackQPanels(b, transpose_b, w, l, dst, static_cast<int64_t>(plan.Begin(task)),
                static_cast<int64_t>(plan.End(task, static_cast<size_t>(l.panels))));
  });
  SealPacked(out);  // the checksums, over the finished bytes
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_QGEMM_PACK_H_
