// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The element-wise family, target-independent part: validation of ek::Add's operands and the
// walk over three same-shaped views (dimensions merged where all three are contiguous, extent-1
// dimensions dropped, rows cut into chunks and tasks) that hands each run of a row to the
// per-target row kernel (ek/cpu/elementwise/elementwise-inl.h). Tasks depend on the shape only,
// and each element is computed alone, so results are identical for any thread count.
#ifndef EK_CPU_ELEMENTWISE_WALK_H_
#define EK_CPU_ELEMENTWISE_WALK_H_

#include <cstdint>

#include "ek/detail/elementwise_rules.h"
#include "ek/elementwise_options.h"
#include "ek/epilogue_options.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

constexpr int64_t kElementwiseMinPerTask = 32 * 1024;  // below this, a task costs more than it saves
constexpr int64_t kElementwiseChunk = 16 * 1024;       // long rows are cut into chunks of this size

// One run of a row: count elements, each operand with its own element stride. f32 operands
// through a / b / out; int8 / uint8 through qa / qb / qout (bytes) with TFLite's add rule.
struct AddRowArgs {
  const float* a = nullptr;
  const float* b = nullptr;
  float* out = nullptr;
  int64_t count = 0;
  int64_t a_stride = 1, b_stride = 1, out_stride = 1;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  DType dtype = DType::kF32;
  const uint8_t* qa = nullptr;
  const uint8_t* qb = nullptr;
  uint8_t* qout = nullptr;
  QuantizedAddParams q;
};
using AddRowKernel = void (*)(const AddRowArgs&);

// Three same-shaped views after merging: rank >= 1, the last dimension is the row.
struct TripleWalk {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t a[kMaxRank], b[kMaxRank], out[kMaxRank];
};

inline TripleWalk MakeTripleWalk(const TensorView& a, const TensorView& b, const TensorView& out) {
  TripleWalk w;
  for (int i = 0; i < a.rank; ++i) {
    if (a.shape[i] == 1) continue;  // its strides never step
    const int prev = w.rank - 1;
    if (prev >= 0 && w.a[prev] == a.strides[i] * a.shape[i] && w.b[prev] == b.strides[i] * a.shape[i] &&
        w.out[prev] == out.strides[i] * a.shape[i]) {
      w.shape[prev] *= a.shape[i];
      w.a[prev] = a.strides[i];
      w.b[prev] = b.strides[i];
      w.out[prev] = out.strides[i];
      continue;
    }
    w.shape[w.rank] = a.shape[i];
    w.a[w.rank] = a.strides[i];
    w.b[w.rank] = b.strides[i];
    w.out[w.rank] = out.strides[i];
    ++w.rank;
  }
  if (w.rank == 0) {  // a single element
    w.rank = 1;
    w.shape[0] = 1;
    w.a[0] = w.b[0] = w.out[0] = 1;
  }
  return w;
}

inline Status ValidateAdd(const TensorView& a, const TensorView& b, const TensorView& output,
                          const ElementwiseOptions& o, AddRowArgs* shared) {
  EK_RETURN_IF_ERROR(ValidateView(a, "a"));
  EK_RETURN_IF_ERROR(RequireHostMemory(a, "a"));
  EK_RETURN_IF_ERROR(ValidateView(b, "b"));
  EK_RETURN_IF_ERROR(RequireHostMemory(b, "b"));
  EK_RETURN_IF_ERROR(ValidateOutputView(output, "output"));
  EK_RETURN_IF_ERROR(RequireHostMemory(output, "output"));
  AddEpilogue e;  // the rules shared with ek::opencl::Add (ek/detail/elementwise_rules.h)
  EK_RETURN_IF_ERROR(AddRules(a, b, output, o, &e));
  shared->clamp = e.clamp;
  shared->lo = e.lo;
  shared->hi = e.hi;
  shared->dtype = a.dtype;
  shared->q = e.q;
  return Status::Ok();
}

// Runs `kernel` over every row run of the three (validated) views.
inline void RunAddRows(const TensorView& a, const TensorView& b, const TensorView& output, const AddRowArgs& shared,
                       AddRowKernel kernel, const Context& ctx) {
  const TripleWalk w = MakeTripleWalk(a, b, output);
  const int inner = w.rank - 1;
  const int64_t row_length = w.shape[inner];
  int64_t rows = 1;
  for (int i = 0; i < inner; ++i) rows *= w.shape[i];
  const int64_t chunk = row_length < kElementwiseChunk ? row_length : kElementwiseChunk;
  const int64_t chunks_per_row = (row_length + chunk - 1) / chunk;
  const int64_t units = rows * chunks_per_row;
  const TaskPlan plan = PlanTasks(static_cast<size_t>(units),
                                  static_cast<size_t>((kElementwiseMinPerTask + chunk - 1) / chunk));
  const bool quantized = shared.dtype != DType::kF32;  // element offsets are byte offsets then
  const float* a_base = quantized ? nullptr : a.HostData<float>();
  const float* b_base = quantized ? nullptr : b.HostData<float>();
  float* out_base = quantized ? nullptr : output.HostData<float>();
  const uint8_t* qa_base = quantized ? static_cast<const uint8_t*>(a.memory.host) + a.offset : nullptr;
  const uint8_t* qb_base = quantized ? static_cast<const uint8_t*>(b.memory.host) + b.offset : nullptr;
  uint8_t* qout_base = quantized ? static_cast<uint8_t*>(output.memory.host) + output.offset : nullptr;
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    const size_t end = plan.End(task, static_cast<size_t>(units));
    for (size_t unit = plan.Begin(task); unit < end; ++unit) {
      const int64_t row = static_cast<int64_t>(unit) / chunks_per_row;
      const int64_t col0 = (static_cast<int64_t>(unit) % chunks_per_row) * chunk;
      int64_t ia = col0 * w.a[inner], ib = col0 * w.b[inner], io = col0 * w.out[inner];
      int64_t rest = row;
      for (int d = inner - 1; d >= 0; --d) {
        const int64_t index = rest % w.shape[d];
        rest /= w.shape[d];
        ia += index * w.a[d];
        ib += index * w.b[d];
        io += index * w.out[d];
      }
      AddRowArgs args = shared;
      if (quantized) {
        args.qa = qa_base + ia;
        args.qb = qb_base + ib;
        args.qout = qout_base + io;
      } else {
        args.a = a_base + ia;
        args.b = b_base + ib;
        args.out = out_base + io;
      }
      args.count = row_length - col0 < chunk ? row_length - col0 : chunk;
      args.a_stride = w.a[inner];
      args.b_stride = w.b[inner];
      args.out_stride = w.out[inner];
      kernel(args);
    }
  });
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_ELEMENTWISE_WALK_H_
