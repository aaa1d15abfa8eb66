// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Validation and the plan of a 2-D convolution (ek/conv.h): shapes, the path (ConvPath), tasks
// and the workspace sections. Depends on the problem and the selected target's tile rows; never
// on the thread count. Target-independent.
#ifndef EK_CPU_CONV_PLAN_H_
#define EK_CPU_CONV_PLAN_H_

#include <cstdint>

#include "ek/conv_options.h"
#include "ek/cpu/conv/args.h"
#include "ek/cpu/conv/pack.h"
#include "ek/cpu/tile/operands.h"
#include "ek/detail/int_math.h"
#include "ek/detail/workspace.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/system_info.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// Everything Conv2D derives from its operands before running.
struct ConvCall {
  ConvTaskArgs args;
  ConvWeightsShape weights;  // from the packed header
  size_t num_tasks = 0;
  size_t indirection_offset = 0, zero_offset = 0;  // workspace sections (indirect path)
  size_t terms_offset = 0;    // int8 depthwise: col_term, multiplier, shift
  size_t staged_offset = 0;   // staged path: the chunk's rows of A
  size_t qgemm_offset = 0;    // staged path: ek::QGemm's workspace (from the workspace's start, unaligned)
  // f16 storage off the GEMM path: the input converted to f32, the f32 output, then the f32
  // convolution's own workspace (its bytes: f16_inner_bytes).
  bool f16_staged = false;
  size_t f16_input_offset = 0, f16_output_offset = 0, f16_inner_offset = 0, f16_inner_bytes = 0;
  size_t workspace_bytes = 0;
};

// The activations' type: the weights' (f32, i8, u8), or f16 (storage) with f32 weights.
inline DType ActivationType(const TensorView& input, DType weights) {
  return input.dtype == DType::kF16 && weights == DType::kF32 ? DType::kF16 : weights;
}

inline long long LL(int64_t x) { return static_cast<long long>(x); }

// The input of a convolution or pooling: an NHWC host view of `dtype` with unit channel stride.
inline Status ValidateNhwcInput(const TensorView& input, DType dtype = DType::kF32) {
  EK_RETURN_IF_ERROR(ValidateView(input, "input"));
  EK_RETURN_IF_ERROR(RequireHostMemory(input, "input"));
  EK_RETURN_IF_ERROR(RequireDType(input, "input", dtype));
  if (input.rank != 4) {
    return Status::Error(StatusCode::kInvalidArgument, "input: rank %d, expected 4 (NHWC)", input.rank);
  }
  if (input.strides[3] != 1 && input.shape[3] > 1) return InvalidArg("input", "channel stride must be 1 (NHWC)");
  return Status::Ok();
}

// The input's channels: groups x C_in / groups of the packed weights.
inline Status RequireInputChannels(const TensorView& input, const ConvWeightsShape& w) {
  if (input.shape[3] != w.groups * w.group_in) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "input: %lld channels, the packed weights take groups x C_in / groups = %lld x %lld",
                         LL(input.shape[3]), LL(w.groups), LL(w.group_in));
  }
  return Status::Ok();
}

// The optional bias: a contiguous host vector of C_out elements, f32 (i32 when the output is
// quantized).
inline Status ValidateConvBias(const TensorView& bias, const ConvWeightsShape& w, bool float_output) {
  if (bias.rank == 0) return Status::Ok();
  const bool i32 = w.Quantized() && !float_output;
  EK_RETURN_IF_ERROR(ValidateView(bias, "options.bias"));
  EK_RETURN_IF_ERROR(RequireHostMemory(bias, "options.bias"));
  EK_RETURN_IF_ERROR(RequireDType(bias, "options.bias", i32 ? DType::kI32 : DType::kF32));
  if (bias.rank != 1 || bias.shape[0] != w.out_channels || (bias.strides[0] != 1 && w.out_channels > 1)) {
    return InvalidArg("options.bias", i32 ? "must be a contiguous i32 vector of C_out elements"
                                          : "must be a contiguous f32 vector of C_out elements");
  }
  return Status::Ok();
}

// Dynamic quantization: f32 input with i8 weights (the output f32). Not for the depthwise
// packing (its int8 kernel takes i8 input; a depthwise layer's rows of taps are too short for
// quantizing them to pay).
inline bool DynamicConv(const TensorView& input, const ConvWeightsShape& w) {
  return input.dtype == DType::kF32 && w.dtype == DType::kI8;
}
inline Status ValidateDynamicConv(const ConvWeightsShape& w) {
  if (w.kind == ConvWeightsKind::kDepthwise) {
    return InvalidArg("input", "is f32 with depthwise i8 weights: dynamic quantization covers dense and grouped "
                               "convolutions (run depthwise layers in f32, or in i8 with i8 input)");
  }
  return Status::Ok();
}

// Checks input, packed weights, output and options; fills the shapes of call->args.
inline Status ValidateConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                           const ConvOptions& o, ConvWeightsShape* w, ConvTaskArgs* g) {
  EK_RETURN_IF_ERROR(ReadConvHeader(packed.data, packed.bytes, "packed", w));
  const bool dynamic = DynamicConv(input, *w);
  if (dynamic) EK_RETURN_IF_ERROR(ValidateDynamicConv(*w));
  const bool requantized = w->Quantized() && !dynamic;  // an integer output (TFLite's scheme)
  const DType act = dynamic ? DType::kF32 : ActivationType(input, w->dtype);
  EK_RETURN_IF_ERROR(ValidateNhwcInput(input, act));
  if (requantized) EK_RETURN_IF_ERROR(RequirePerTensorQuant(input, "input"));
  EK_RETURN_IF_ERROR(ValidateConvGeometry(o));  // (ek/conv_options.h: OpenCL's too)
  if (o.groups != w->groups) {
    return Status::Error(StatusCode::kInvalidArgument, "options.groups: %lld, the packed weights have %lld groups",
                         LL(o.groups), LL(w->groups));
  }
  EK_RETURN_IF_ERROR(RequireInputChannels(input, *w));
  const int64_t out_h =
      ConvOutputSize(input.shape[1], w->kernel_h, o.stride_h, o.dilation_h, o.padding.top, o.padding.bottom);
  const int64_t out_w =
      ConvOutputSize(input.shape[2], w->kernel_w, o.stride_w, o.dilation_w, o.padding.left, o.padding.right);
  if (out_h < 1 || out_w < 1) {
    return InvalidArg("packed", "the dilated kernel is larger than the padded input");
  }
  EK_RETURN_IF_ERROR(ValidateOutputView(output, "output"));
  EK_RETURN_IF_ERROR(RequireHostMemory(output, "output"));
  EK_RETURN_IF_ERROR(RequireDType(output, "output", act));
  if (requantized) EK_RETURN_IF_ERROR(RequirePerTensorQuant(output, "output"));
  if (output.rank != 4 || output.shape[0] != input.shape[0] || output.shape[1] != out_h || output.shape[2] != out_w ||
      output.shape[3] != w->out_channels) {
    return Status::Error(StatusCode::kInvalidArgument, "output: expected shape [%lld, %lld, %lld, %lld] (NHWC)",
                         LL(input.shape[0]), LL(out_h), LL(out_w), LL(w->out_channels));
  }
  // Pixels evenly strided (a dense NHWC tensor, or a channel slice of one): the tiles store
  // consecutive output pixels one pixel stride P apart. Strides of extent-1 axes are not used.
  const int64_t p = out_w > 1                ? output.strides[2]
                    : out_h > 1              ? output.strides[1]
                    : output.shape[0] > 1    ? output.strides[0]
                                             : w->out_channels;
  const bool strides_ok = (output.strides[3] == 1 || output.shape[3] == 1) &&
                          (p >= w->out_channels || (out_w == 1 && out_h == 1 && output.shape[0] == 1)) &&
                          (out_h == 1 || output.strides[1] == out_w * p) &&
                          (output.shape[0] == 1 || output.strides[0] == out_h * out_w * p);
  if (!strides_ok) {
    return InvalidArg("output", "must be NHWC with unit channel stride and evenly strided pixels "
                                "(strides [H * W * P, W * P, P, 1], P >= C_out)");
  }
  g->out_pixel_stride = p;
  EK_RETURN_IF_ERROR(ValidateConvBias(o.bias, *w, /*float_output=*/!requantized));
  EK_RETURN_IF_ERROR(ActivationBounds(o, &g->lo, &g->hi));
  int64_t pixels = 0;
  if (MulOverflows(input.shape[0], out_h * out_w, &pixels) || pixels > (int64_t{1} << 40)) {
    return InvalidArg("output", "more than 2^40 pixels");
  }
  g->batch = input.shape[0];
  g->in_h = input.shape[1];
  g->in_w = input.shape[2];
  g->in_c = input.shape[3];
  g->out_h = out_h;
  g->out_w = out_w;
  g->out_c = w->out_channels;
  g->kernel_h = w->kernel_h;
  g->kernel_w = w->kernel_w;
  g->stride_h = o.stride_h;
  g->stride_w = o.stride_w;
  g->dilation_h = o.dilation_h;
  g->dilation_w = o.dilation_w;
  g->pad_top = o.padding.top;
  g->pad_left = o.padding.left;
  g->groups = w->groups;
  g->group_in = w->group_in;
  g->group_out = w->GroupOut();
  g->clamp = o.activation != Activation::kNone;
  g->dtype = w->dtype;
  g->dynamic = dynamic;
  if (requantized) {
    g->in_zero_point = input.quant.zero_point;
    g->out_zero_point = output.quant.zero_point;
    QuantizedActivationRange(g->lo, g->hi, output.quant.scale, output.quant.zero_point, DTypeMin(w->dtype),
                             DTypeMax(w->dtype), &g->qmin, &g->qmax);
  }
  return Status::Ok();
}

inline Status CheckConvAliasing(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                                const ConvOptions& o, const void* workspace, size_t workspace_bytes) {
  AliasCheck alias;
  alias.AddView(input, "input", AliasCheck::Role::kInput);
  alias.AddBytes(packed.data, packed.bytes, "packed", "", AliasCheck::Role::kInput);
  if (o.bias.rank != 0) alias.AddView(o.bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(output, "output", AliasCheck::Role::kOutput);
  alias.AddBytes(workspace, workspace_bytes, "workspace", "", AliasCheck::Role::kOutput);
  return alias.Check();
}

// Validates and plans: the path, the tasks and the workspace. tile_rows / tile_cols: the
// selected target's GEMM tile (GemmTileShape). check_aliasing false: sizing stand-ins for views
// in the workspace (f16 storage), whose addresses are not yet known.
inline Status PrepareConv(int64_t tile_rows, int64_t tile_cols, const TensorView& input, const PackedWeights& packed,
                          const TensorView& output, const ConvOptions& o, ConvCall* call, bool check_aliasing = true) {
  ConvWeightsShape& w = call->weights;
  ConvTaskArgs& g = call->args;
  EK_RETURN_IF_ERROR(ValidateConv(input, packed, output, o, &w, &g));
  if (check_aliasing) EK_RETURN_IF_ERROR(CheckConvAliasing(input, packed, output, o, nullptr, 0));
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  WorkspaceLayout layout;
  if (w.kind == ConvWeightsKind::kDepthwise) {
    g.path = ConvPath::kDepthwise;
    g.weight_row = w.StrideBytes() / 4;
    // Tasks: runs of output rows, at least ~32 K multiply-adds each.
    const int64_t rows = g.batch * g.out_h;
    const int64_t per_row = g.out_w * g.out_c * w.Taps();
    const TaskPlan plan = PlanTasks(static_cast<size_t>(rows), static_cast<size_t>(CeilDiv(32 * 1024, per_row)), 256);
    g.rows_per_task = static_cast<int64_t>(plan.per_task);
    call->num_tasks = plan.num_tasks;
    if (w.Quantized()) {  // the zero row (bytes) and the per-channel terms
      const size_t channels = static_cast<size_t>(w.QDepthwiseChannels());
      g.weight_row = w.StrideBytes() / 2;
      call->zero_offset = layout.Add(channels);
      call->terms_offset = layout.Add(channels * 3 * sizeof(int32_t));
    } else {
      call->zero_offset = layout.Add(static_cast<size_t>(RoundUp(g.in_c, kPanelWidth)) * sizeof(float));
    }
  } else if (w.Taps() == 1 && o.stride_h == 1 && o.stride_w == 1 && o.padding.top == 0 && o.padding.bottom == 0 &&
             o.padding.left == 0 && o.padding.right == 0 &&
             (input.shape[1] == 1 || input.strides[1] == input.shape[2] * input.strides[2]) &&
             (input.shape[0] == 1 || input.strides[0] == input.shape[1] * input.shape[2] * input.strides[2])) {
    // 1x1, stride 1, no padding, input pixels evenly strided: per group a GEMM, A [pixels x
    // C_in / groups] (row stride: the input's pixel stride), B the group's EKGB block, C the
    // output's channel slice (ek::Gemm, run by conv_internal::RunConv; its workspace is added there).
    g.path = ConvPath::kGemm;
    g.group_stride = w.StrideBytes() / 4;
    call->num_tasks = static_cast<size_t>(g.groups);
  } else if (w.Quantized()) {
    // Chunks of output pixels whose staged rows (K elements each: bytes, or f32 when dynamic)
    // take about 512 KB (at least 64 rows): the workspace stays bounded for any image.
    g.path = ConvPath::kStagedQGemm;
    g.group_stride = w.StrideBytes() / 4;
    g.staged_elem_bytes = g.dynamic ? 4 : 1;
    const int64_t row_bytes = w.K() * g.staged_elem_bytes;
    int64_t chunk = (int64_t{512} << 10) / row_bytes;
    if (chunk < 64) chunk = 64;
    g.chunk_rows = chunk < pixels ? chunk : pixels;
    call->staged_offset = layout.Add(static_cast<size_t>(g.chunk_rows * row_bytes));  // + ek::QGemm's, added by the caller
  } else {
    g.path = ConvPath::kIndirect;
    g.panel_stride = PanelStrideBytes(w.K(), DType::kF32) / 4;
    g.group_stride = w.StrideBytes() / 4;
    g.tile_rows = tile_rows;
    g.row_tiles = CeilDiv(pixels, tile_rows);
    // Loop order and column blocks. When a group's packed B fits in half of L1 (short K: the
    // 1x1 layers of MobileNet), a task runs all its columns for each row tile (row tiles outer):
    // the output is written pixel by pixel and A is read once. Otherwise column blocks of whole
    // tiles (at most 4 per group, so that a task's B stays in L2 across its row tiles), column
    // tiles outer. Row blocks so that there are tasks for 8 threads at least.
    const int64_t core_l1 = RunningCoreDataCacheBytes(1);  // the planning core's
    const int64_t l1 = core_l1 > 0 ? core_l1 : 32 * 1024;
    const int64_t group_tiles = CeilDiv(g.group_out, tile_cols);
    if (w.K() * group_tiles * tile_cols * 4 <= l1 / 2) {
      g.row_tiles_outer = true;
      g.column_blocks = 1;
    } else {
      g.column_blocks = group_tiles >= 4 ? 4 : group_tiles;
    }
    g.block_cols = CeilDiv(group_tiles, g.column_blocks) * tile_cols;
    g.column_blocks = CeilDiv(g.group_out, g.block_cols);
    const int64_t column_tasks = g.groups * g.column_blocks;
    const int64_t k = w.K();
    const int64_t min_tiles = CeilDiv(16 * 1024, k * tile_rows * g.block_cols / 16 + 1);  // ~16 K FMAs x 16
    const int64_t want_row_blocks = column_tasks >= 8 ? 1 : CeilDiv(8, column_tasks);
    int64_t per_task = CeilDiv(g.row_tiles, want_row_blocks);
    if (per_task < min_tiles) per_task = min_tiles;
    if (per_task > g.row_tiles) per_task = g.row_tiles;
    g.tiles_per_task = per_task;
    call->num_tasks = static_cast<size_t>(CeilDiv(g.row_tiles, per_task) * column_tasks);
    int64_t pointers = 0;
    if (MulOverflows(g.row_tiles, w.Taps() * static_cast<int64_t>(kTileMaxRows), &pointers) ||
        pointers > (int64_t{1} << 36)) {
      return InvalidArg("output", "the indirection buffer would be larger than 2^36 pointers");
    }
    call->indirection_offset = layout.Add(static_cast<size_t>(pointers) * sizeof(const float*));
    call->zero_offset = layout.Add(static_cast<size_t>(RoundUp(g.group_in, kPanelWidth)) * sizeof(float));
  }
  call->workspace_bytes = layout.Bytes();
  return Status::Ok();
}

// Fills the indirection buffer for row tiles [tile_begin, tile_end): per row tile, per tap (ky,
// kx row-major), kTileMaxRows pointers to the input pixel of each of the tile's output pixels
// (its group-0 channels), or `zero` where the tap falls in the padding; rows past the last pixel
// repeat the tile's first.
inline void FillIndirection(const ConvTaskArgs& g, const float** indirection, int64_t tile_begin, int64_t tile_end) {
  const int64_t taps = g.kernel_h * g.kernel_w;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  const int64_t slots = static_cast<int64_t>(kTileMaxRows);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const float** tile = indirection + t * taps * slots;
    // The tile's first pixel (n, y, x), then the next ones by counting: no division per row
    // (three 64-bit divisions per pixel were a third of the first layer's time).
    const int64_t m0 = t * g.tile_rows;
    const int64_t n0 = m0 / (g.out_h * g.out_w), y0 = m0 / g.out_w % g.out_h, x0 = m0 % g.out_w;
    int64_t n = n0, y = y0, x = x0;
    for (int64_t r = 0; r < slots; ++r) {
      if (r >= g.tile_rows || m0 + r >= pixels) {  // rows past the tile repeat its first pixel
        n = n0;
        y = y0;
        x = x0;
      }
      const float* image = g.input + n * g.in_stride_n;
      for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
        const int64_t iy = y * g.stride_h - g.pad_top + ky * g.dilation_h;
        const bool row_inside = iy >= 0 && iy < g.in_h;
        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const int64_t ix = x * g.stride_w - g.pad_left + kx * g.dilation_w;
          const bool inside = row_inside && ix >= 0 && ix < g.in_w;
          tile[(ky * g.kernel_w + kx) * slots + r] = inside ? image + iy * g.in_stride_h + ix * g.in_stride_w : g.zero;
        }
      }
      if (++x == g.out_w) {
        x = 0;
        if (++y == g.out_h) {
          y = 0;
          ++n;
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONV_PLAN_H_
