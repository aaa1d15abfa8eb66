// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// What one convolution task sees (ConvTaskArgs), filled by the plan (ek/cpu/conv/plan.h) and the
// call (ek/cpu/conv/dispatch.h), read by the per-target loop nests (conv-inl.h); and what one
// pooling task sees (PoolTaskArgs, ek/cpu/conv/pool_plan.h -> pool-inl.h). No kernels.
#ifndef EK_CPU_CONV_ARGS_H_
#define EK_CPU_CONV_ARGS_H_

#include <cstddef>
#include <cstdint>

#include "ek/tensor.h"

namespace ek {
namespace detail {

enum class ConvPath : uint8_t {
  kGemm,       // 1x1, stride 1, no padding, evenly strided input pixels: the float GEMM per group
  kIndirect,   // any kernel, groups: indirect GEMM on the float micro-kernel (MultiplyTile)
  kDepthwise,  // groups = C_in = C_out: per pixel, channels in vectors, taps in registers
  // i8 / u8 only: any kernel, groups: per group and chunk of output pixels, the rows of A (taps
  // x channels, the input zero point for padding taps) staged into the workspace, then the
  // integer GEMM (ek::QGemm) on them.
  kStagedQGemm,
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

  // Quantized convolutions (dtype i8 or u8; f32 uses the float pointers above).
  DType dtype = DType::kF32;
  int32_t in_zero_point = 0;
  // Dynamic: f32 input and output with i8 weights; the rows of taps are staged as f32 (padding
  // 0.0f) and ek::QGemm quantizes each on the fly (ek::DynamicRowParams).
  bool dynamic = false;
  // Staged path: output pixels per chunk (one staging + one ek::QGemm per group and chunk), and
  // the bytes of a staged element (1, or 4 when dynamic).
  int64_t chunk_rows = 0;
  int64_t staged_elem_bytes = 1;
  // The int8 depthwise kernel: input and output as bytes, the zero row (the input zero point
  // repeated: padding taps then contribute (zero point - zero point) x w = 0), the int16 tap rows
  // (weight_row elements apart), and per channel (padded to ConvWeightsShape::QDepthwiseChannels)
  // col_term = bias - input zero point x tap sum (modulo 2^32), multiplier and shift
  // (ek/requantize.h), then the output zero point and the clamp range [qmin, qmax].
  const int8_t* input_q = nullptr;
  int8_t* output_q = nullptr;
  const int8_t* zero_q = nullptr;
  const int16_t* weights_q = nullptr;
  const int32_t* col_term = nullptr;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  bool any_left_shift = false;
  int32_t out_zero_point = 0, qmin = -128, qmax = 127;
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
  // int8 / uint8 (TFLite's integer pooling; input and output share scale and zero point): the
  // same strides over bytes, and the activation as the quantized range [qmin, qmax].
  DType dtype = DType::kF32;
  const uint8_t* input_q = nullptr;
  uint8_t* output_q = nullptr;
  int32_t qmin = 0, qmax = 0;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONV_ARGS_H_
