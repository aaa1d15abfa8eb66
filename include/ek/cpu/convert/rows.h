// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Element-wise conversions, target-independent part: validation of the input / output pair, and
// the walk over both views (dimensions merged where both are contiguous, rows cut into tasks and
// chunks) that hands each run of a row to the per-target row kernel (ek/cpu/convert/convert-inl.h).
#ifndef EK_CPU_CONVERT_ROWS_H_
#define EK_CPU_CONVERT_ROWS_H_

#include <cstdint>

#include "ek/cpu/convert/row_args.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/ref/convert.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

constexpr int64_t kMinElementsPerTask = 32 * 1024;  // below this, a task costs more than it saves
constexpr int64_t kMaxRowChunk = 16 * 1024;         // long rows are cut into chunks of this size
constexpr int64_t kInverseScaleChunk = 1024;        // per-element quantize params kept per task (12 KiB)

using RowKernel = void (*)(const RowArgs&);
using PrepareQuantParamsKernel = void (*)(const float*, const int32_t*, size_t, int32_t, int32_t, float*, float*,
                                          float*);

// Two same-shaped views walked together, after merging dimensions that are contiguous in both
// (never the quant axis, whose index selects the scale).
struct PairedWalk {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t in_strides[kMaxRank];
  int64_t out_strides[kMaxRank];
  int axis = -1;  // quant axis after merging, or -1
};

inline PairedWalk MakePairedWalk(const TensorView& in, const TensorView& out, int quant_axis) {
  PairedWalk w;
  for (int i = 0; i < in.rank; ++i) {
    const int prev = w.rank - 1;
    const bool mergeable = prev >= 0 && i != quant_axis && w.axis != prev &&
                           w.in_strides[prev] == in.strides[i] * in.shape[i] &&
                           w.out_strides[prev] == out.strides[i] * in.shape[i];
    if (mergeable) {
      w.shape[prev] *= in.shape[i];
      w.in_strides[prev] = in.strides[i];
      w.out_strides[prev] = out.strides[i];
      continue;
    }
    if (i == quant_axis) w.axis = w.rank;
    w.shape[w.rank] = in.shape[i];
    w.in_strides[w.rank] = in.strides[i];
    w.out_strides[w.rank] = out.strides[i];
    ++w.rank;
  }
  return w;
}

// Runs `kernel` over all rows of in/out. `quantized` is whichever view carries quant params
// (or null for plain conversions); `prepare` is set when quantizing (it computes per-element
// reciprocals and bounds).
inline void RunRows(const TensorView& in, const TensorView& out, const TensorView* quantized, RowKernel kernel,
                    PrepareQuantParamsKernel prepare, const Context& ctx) {
  const bool quantizing = prepare != nullptr;
  const QuantParams* qp = quantized ? &quantized->quant : nullptr;
  const int quant_axis = qp && qp->scheme == QuantScheme::kPerAxis ? qp->axis : -1;
  const PairedWalk w = MakePairedWalk(in, out, quant_axis);
  const int inner = w.rank - 1;
  const bool per_element = quant_axis >= 0 && w.axis == inner;  // a scale per element of each row
  // Quantizing per element multiplies by 1 / scale: those reciprocals are computed once per task
  // into a buffer on the stack, so such rows are cut into chunks that fit it.
  const int64_t max_chunk = per_element && quantizing ? kInverseScaleChunk : kMaxRowChunk;
  const int64_t row_length = w.shape[inner];
  int64_t num_rows = 1;
  for (int i = 0; i < inner; ++i) num_rows *= w.shape[i];
  const int64_t chunk = row_length < max_chunk ? row_length : max_chunk;
  const int64_t chunks_per_row = (row_length + chunk - 1) / chunk;
  const int64_t units = num_rows * chunks_per_row;
  const int64_t min_units = (kMinElementsPerTask + chunk - 1) / chunk;
  const TaskPlan plan = PlanTasks(static_cast<size_t>(units), static_cast<size_t>(min_units));

  const int in_bits = DTypeBits(in.dtype), out_bits = DTypeBits(out.dtype);
  const uint8_t* in_base = static_cast<const uint8_t*>(in.memory.host) + in.offset * (in_bits / 8);
  uint8_t* out_base = static_cast<uint8_t*>(out.memory.host) + out.offset * (out_bits / 8);
  const float* scales = qp && qp->scheme == QuantScheme::kPerAxis ? static_cast<const float*>(qp->scales) : nullptr;

  const int32_t qmin = DTypeMin(out.dtype), qmax = DTypeMax(out.dtype);
  // What every row block shares; the loop below fills in where it is and what it covers.
  RowArgs shared;
  shared.in_stride = w.in_strides[inner];
  shared.out_stride = w.out_strides[inner];
  shared.in_type = in.dtype;
  shared.out_type = out.dtype;
  if (inner >= 1) {
    shared.in_row_stride = w.in_strides[inner - 1];
    shared.out_row_stride = w.out_strides[inner - 1];
  }
  if (qp && qp->scheme == QuantScheme::kPerTensor) {
    shared.quant.scale = qp->scale;
    shared.quant.inverse_scale = ref::InverseScale(qp->scale);
    shared.quant.zero_point = qp->zero_point;
  }
  // Whole rows run in blocks along the next-outer dimension, unless the scale changes from row
  // to row (the quant axis is that dimension).
  const bool row_blocks = chunks_per_row == 1 && inner >= 1 && w.axis != inner - 1;

  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    // Per-element quantize parameters of the current chunk of columns, computed once per task
    // and reused for every row: 1 / scale and the clamp bounds qmin - zp, qmax - zp.
    float inverse_scales[kInverseScaleChunk];
    float lower_bounds[kInverseScaleChunk];
    float upper_bounds[kInverseScaleChunk];
    int64_t inverse_col0 = -1;  // first column of the chunk held in the arrays above
    const int64_t task_end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(units)));
    for (int64_t unit = static_cast<int64_t>(plan.Begin(task)); unit < task_end;) {
      const int64_t row = unit / chunks_per_row;
      const int64_t col0 = (unit % chunks_per_row) * chunk;
      // Row number -> multi-index over the outer dimensions.
      int64_t in_elem = col0 * w.in_strides[inner], out_elem = col0 * w.out_strides[inner];
      int64_t axis_index = 0;
      int64_t rest = row;
      for (int d = inner - 1; d >= 0; --d) {
        const int64_t index = rest % w.shape[d];
        rest /= w.shape[d];
        in_elem += index * w.in_strides[d];
        out_elem += index * w.out_strides[d];
        if (d == w.axis) axis_index = index;
      }
      RowArgs args = shared;
      args.in = in_base + in_elem * (in_bits / 8);
      args.out = out_base + out_elem * (out_bits / 8);
      args.count = row_length - col0 < chunk ? row_length - col0 : chunk;
      if (row_blocks) {
        const int64_t left_in_dim = w.shape[inner - 1] - row % w.shape[inner - 1];
        args.rows = task_end - unit < left_in_dim ? task_end - unit : left_in_dim;
      }
      RowQuant& rq = args.quant;
      if (per_element) {
        rq.per_element = true;
        rq.scales = scales + col0;
        rq.zero_points = qp->zero_points ? qp->zero_points + col0 : nullptr;
        if (quantizing) {
          if (inverse_col0 != col0) {
            prepare(scales + col0, rq.zero_points, static_cast<size_t>(args.count), qmin, qmax, inverse_scales,
                    lower_bounds, upper_bounds);
            inverse_col0 = col0;
          }
          rq.inverse_scales = inverse_scales;
          rq.lower_bounds = lower_bounds;
          rq.upper_bounds = upper_bounds;
        }
      } else if (scales) {  // per axis, the axis outside the row: one scale for the block
        rq.scale = scales[axis_index];
        rq.inverse_scale = ref::InverseScale(rq.scale);
        rq.zero_point = qp->zero_points ? qp->zero_points[axis_index] : 0;
      }
      kernel(args);
      unit += args.rows;
    }
  });
}

// Checks shared by all three entry points.
inline Status ValidatePair(const TensorView& input, const TensorView& output) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  EK_RETURN_IF_ERROR(ValidateView(input, "input"));
  EK_RETURN_IF_ERROR(ValidateOutputView(output, "output"));
  EK_RETURN_IF_ERROR(RequireHostMemory(input, "input"));
  EK_RETURN_IF_ERROR(RequireHostMemory(output, "output"));
  EK_RETURN_IF_ERROR(RequireSameShape(output, "output", input, "input"));
  // The output's quant params (Quantize) are read while it is written: inputs too.
  AliasCheck alias;
  alias.AddView(input, "input", AliasCheck::Role::kInput);
  alias.AddView(output, "output", AliasCheck::Role::kOutput, AliasCheck::Role::kInput);
  return alias.Check();
}

inline Status RequireQuantized8(const TensorView& v, const char* name) {
  if (v.dtype != DType::kI8 && v.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype is %s, expected i8 or u8", name, DTypeName(v.dtype));
  }
  if (v.quant.scheme != QuantScheme::kPerTensor && v.quant.scheme != QuantScheme::kPerAxis) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: needs per-tensor or per-axis quant params (per-block is for packed weights)", name);
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONVERT_ROWS_H_
