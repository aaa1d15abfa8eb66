// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Validation and the plan of max / average / global average pooling (ek/conv.h): shapes,
// options, the activation and the tasks. Target-independent; never depends on the thread count.
#ifndef EK_CPU_CONV_POOL_PLAN_H_
#define EK_CPU_CONV_POOL_PLAN_H_

#include <cmath>
#include <cstdint>

#include "ek/conv_options.h"
#include "ek/cpu/conv/args.h"
#include "ek/cpu/conv/plan.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/pool_rules.h"
#include "ek/epilogue_options.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// Below this many input reads (taps x channels) a pooling task costs more than it saves.
constexpr int64_t kPoolMinReadsPerTask = 64 * 1024;

// The input of a pooling op: f32, or int8 / uint8 quantized per tensor.
inline Status ValidatePoolInput(const TensorView& input) {
  const DType type = input.dtype == DType::kI8 || input.dtype == DType::kU8 ? input.dtype : DType::kF32;
  EK_RETURN_IF_ERROR(ValidateNhwcInput(input, type));
  if (type != DType::kF32) return RequirePerTensorQuant(input, "input");
  return Status::Ok();
}

// The output checks shared by every pooling op: a host view, then ek/detail/pool_rules.h.
inline Status ValidatePoolOutput(const TensorView& input, const TensorView& output) {
  EK_RETURN_IF_ERROR(ValidateOutputView(output, "output"));
  EK_RETURN_IF_ERROR(RequireHostMemory(output, "output"));
  return PoolOutputRules(input, output);
}

inline void FillPoolOperands(const TensorView& input, const TensorView& output, PoolTaskArgs* g) {
  g->dtype = input.dtype;
  if (input.dtype != DType::kF32) {
    g->input_q = static_cast<const uint8_t*>(input.memory.host) + input.offset;
    g->output_q = static_cast<uint8_t*>(output.memory.host) + output.offset;
    QuantizedActivationRange(g->clamp ? g->lo : -HUGE_VALF, g->clamp ? g->hi : HUGE_VALF, output.quant.scale,
                             output.quant.zero_point, DTypeMin(input.dtype), DTypeMax(input.dtype), &g->qmin, &g->qmax);
  }
  g->batch = input.shape[0];
  g->in_h = input.shape[1];
  g->in_w = input.shape[2];
  g->channels = input.shape[3];
  g->input = input.dtype == DType::kF32 ? input.HostData<float>() : nullptr;
  g->in_stride_n = input.strides[0];
  g->in_stride_h = input.strides[1];
  g->in_stride_w = input.strides[2];
  g->output = input.dtype == DType::kF32 ? output.HostData<float>() : nullptr;
  g->out_stride_n = output.strides[0];
  if (output.rank == 4) {
    g->out_stride_h = output.strides[1];
    g->out_stride_w = output.strides[2];
  }
}

inline void PlanPoolTasks(PoolTaskArgs* g, size_t* num_tasks) {
  const int64_t rows = g->batch * g->out_h;
  // Reads per output row: at most the input's pixels per window (in double: no overflow).
  const double reads_per_row = static_cast<double>(g->out_w) * static_cast<double>(g->kernel_h < g->in_h ? g->kernel_h : g->in_h) *
                               static_cast<double>(g->kernel_w < g->in_w ? g->kernel_w : g->in_w) * static_cast<double>(g->channels);
  const int64_t min_rows = reads_per_row >= static_cast<double>(kPoolMinReadsPerTask)
                               ? 1
                               : static_cast<int64_t>(static_cast<double>(kPoolMinReadsPerTask) / reads_per_row);
  const TaskPlan plan = PlanTasks(static_cast<size_t>(rows), static_cast<size_t>(min_rows));
  g->rows_per_task = static_cast<int64_t>(plan.per_task);
  *num_tasks = plan.num_tasks;
}

// MaxPool2D / AvgPool2D: input [N, H, W, C], output [N, OH, OW, C] with OH, OW from
// ConvOutputSize (dilation 1).
inline Status PlanPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average,
                         PoolTaskArgs* g, size_t* num_tasks) {
  EK_RETURN_IF_ERROR(ValidatePoolInput(input));
  if (o.kernel_h < 1 || o.kernel_w < 1) return InvalidArg("options.kernel_h", "kernel sizes must be >= 1");
  if (o.stride_h < 1 || o.stride_w < 1) return InvalidArg("options.stride_h", "strides must be >= 1");
  if (o.padding.top < 0 || o.padding.bottom < 0 || o.padding.left < 0 || o.padding.right < 0) {
    return InvalidArg("options.padding", "must be >= 0");
  }
  if (o.kernel_h > kConvMaxDim || o.kernel_w > kConvMaxDim || o.stride_h > kConvMaxDim || o.stride_w > kConvMaxDim ||
      o.padding.top > kConvMaxDim || o.padding.bottom > kConvMaxDim || o.padding.left > kConvMaxDim ||
      o.padding.right > kConvMaxDim) {
    return InvalidArg("options", "kernel sizes, strides and padding must be at most 2^20");
  }
  if (o.padding.top >= o.kernel_h || o.padding.bottom >= o.kernel_h || o.padding.left >= o.kernel_w ||
      o.padding.right >= o.kernel_w) {
    return InvalidArg("options.padding",
                      "each side must be smaller than the kernel along its axis (a window in the padding alone "
                      "has no input pixel)");
  }
  const int64_t out_h = ConvOutputSize(input.shape[1], o.kernel_h, o.stride_h, 1, o.padding.top, o.padding.bottom);
  const int64_t out_w = ConvOutputSize(input.shape[2], o.kernel_w, o.stride_w, 1, o.padding.left, o.padding.right);
  if (out_h < 1 || out_w < 1) return InvalidArg("options.kernel_h", "the window is larger than the padded input");
  EK_RETURN_IF_ERROR(ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &g->lo, &g->hi));
  g->clamp = o.activation != Activation::kNone;
  EK_RETURN_IF_ERROR(ValidatePoolOutput(input, output));
  if (output.rank != 4 || output.shape[0] != input.shape[0] || output.shape[1] != out_h || output.shape[2] != out_w ||
      output.shape[3] != input.shape[3]) {
    return Status::Error(StatusCode::kInvalidArgument, "output: expected shape [%lld, %lld, %lld, %lld] (NHWC)",
                         static_cast<long long>(input.shape[0]), static_cast<long long>(out_h),
                         static_cast<long long>(out_w), static_cast<long long>(input.shape[3]));
  }
  g->average = average;
  FillPoolOperands(input, output, g);
  g->out_h = out_h;
  g->out_w = out_w;
  g->kernel_h = o.kernel_h;
  g->kernel_w = o.kernel_w;
  g->stride_h = o.stride_h;
  g->stride_w = o.stride_w;
  g->pad_top = o.padding.top;
  g->pad_left = o.padding.left;
  PlanPoolTasks(g, num_tasks);
  return Status::Ok();
}

// GlobalAvgPool2D: input [N, H, W, C], output [N, 1, 1, C] or [N, C].
inline Status PlanGlobalAvgPool2D(const TensorView& input, const TensorView& output, PoolTaskArgs* g,
                                  size_t* num_tasks) {
  EK_RETURN_IF_ERROR(ValidatePoolInput(input));
  if (input.shape[1] > kConvMaxDim || input.shape[2] > kConvMaxDim) {
    return InvalidArg("input", "height and width must be at most 2^20");
  }
  EK_RETURN_IF_ERROR(ValidatePoolOutput(input, output));
  EK_RETURN_IF_ERROR(GlobalPoolOutputShape(input, output));
  g->average = true;
  FillPoolOperands(input, output, g);
  g->out_h = g->out_w = 1;
  g->kernel_h = input.shape[1];
  g->kernel_w = input.shape[2];
  PlanPoolTasks(g, num_tasks);
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONV_POOL_PLAN_H_
