// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// What one convolution task sees (ConvTaskArgs), filled by the plan (ek/cpu/conv/plan.h) and the
// call (ek/cpu/conv/dispatch.h), read by the per-target loop nests (conv-inl.h); and what one
// pooling task sees (PoolTaskArgs, ek/cpu/conv/pool_plan.h -> pool-inl.h). No kernels.
#ifndef EK_CPU_CONV_ARGS_H_
#define EK_CPU_CONV_ARGS_H_

#include <cstddef>
#include <cstdint>

namespace ek {
namespace detail {

enum class ConvPath : uint8_t {
  kGemm,       // 1x1, stride 1, no padding, evenly strided input pixels: the float GEMM per group
  kIndirect,   // any kernel, groups: indirect GEMM on the float micro-kernel (MultiplyTile)
  kDepthwise,  // groups = C_in = C_out: per pixel, channels in vectors, taps in registers
};

struct ConvTaskArgs {
  ConvPath path = ConvPath::kIndirect;
  // Shapes.
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t out_h = 0, out_w = 0, out_c = 0;
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
  int64_t groups = 1, group_in = 0, group_out = 0;  // channels per group
  // Input (f32, unit channel stride): pixel (n, y, x) at input + n * in_stride_n + y * in_stride_h +
  // x * in_stride_w.
  const float* input = nullptr;
  int64_t in_stride_n = 0, in_stride_h = 0, in_stride_w = 0;
  // Output (f32, unit channel stride): pixel m = (n * out_h + y) * out_w + x at output + m * out_pixel_stride.
  float* output = nullptr;
  int64_t out_pixel_stride = 0;
  // Packed weights (ek/cpu/conv/pack.h): indirect: per group, panels of 16 output channels over
  // K = taps x group_in (panel stride in floats); depthwise: taps rows of weight_row floats.
  const float* weights = nullptr;
  int64_t group_stride = 0, panel_stride = 0, weight_row = 0;
  const float* bias = nullptr;  // [out_c] or null
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  // Indirect path: the indirection buffer (per row tile of tile_rows pixels: per tap,
  // kTileMaxRows row pointers, padding taps pointing at `zero`) and the zero row (group_in zeros).
  const float* const* indirection = nullptr;
  const float* zero = nullptr;
  int64_t tile_rows = 0;     // the target's GEMM tile rows: pixels per row tile
  int64_t row_tiles = 0;     // ceil(M / tile_rows), M = batch * out_h * out_w
  int64_t tiles_per_task = 0;
  int64_t column_blocks = 0;  // per group; task = (row block, group x column block)
  int64_t block_cols = 0;     // columns per column block, a multiple of the tile width
  bool row_tiles_outer = false;  // per row tile all the block's column tiles (short K)
  // Depthwise path: tasks are runs of output rows (n, y).
  int64_t rows_per_task = 0;
};

// Max or average pooling (global average pooling is average pooling with the whole image as
// its window). Tasks are runs of rows_per_task output rows (n, y).
struct PoolTaskArgs {
  bool average = false;
  int64_t batch = 0, in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  // f32, unit channel stride: pixel (n, y, x) at base + n * stride_n + y * stride_h + x * stride_w.
  const float* input = nullptr;
  int64_t in_stride_n = 0, in_stride_h = 0, in_stride_w = 0;
  float* output = nullptr;
  int64_t out_stride_n = 0, out_stride_h = 0, out_stride_w = 0;
  bool clamp = false;  // an activation: clamp to [lo, hi]
  float lo = 0.0f, hi = 0.0f;
  int64_t rows_per_task = 1;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONV_ARGS_H_
