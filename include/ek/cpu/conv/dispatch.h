// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The convolution's per-TU dispatch tables and the call pipeline over them (validate and plan
// for the selected target, check the workspace, build the indirection buffer, run the tasks
// through the threading hook). In an anonymous namespace, as every HWY_EXPORT table of ek
// (ek/dispatch.h).
#ifndef EK_CPU_CONV_DISPATCH_H_
#define EK_CPU_CONV_DISPATCH_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/conv/plan.h"
#include "ek/cpu/conv/pool_plan.h"
#include "ek/cpu/targets.h"
#include "ek/dispatch.h"
#include "ek/gemm.h"
#include "ek/parallel.h"

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(ConvTileShape);
HWY_EXPORT(RunConvTask);
HWY_EXPORT(RunPoolTask);

namespace conv_internal {

// The GEMM path's operands for group `group`: A = the group's input channels as [pixels x
// C_in / groups], B = the group's EKGB block, C = the group's output channels, and the options
// (the group's bias slice, the activation).
struct ConvGroupGemm {
  TensorView a, c;
  PackedWeights b;
  GemmOptions options;
};
inline ConvGroupGemm GroupGemm(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                               const ConvOptions& o, const detail::ConvTaskArgs& g, int64_t group) {
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  ConvGroupGemm gemm;
  gemm.a = input;
  gemm.a.rank = 2;
  gemm.a.shape[0] = pixels;
  gemm.a.shape[1] = g.group_in;
  gemm.a.strides[0] = input.strides[2];
  gemm.a.strides[1] = 1;
  gemm.a.offset = input.offset + group * g.group_in;
  for (int i = 2; i < kMaxRank; ++i) gemm.a.shape[i] = gemm.a.strides[i] = 0;
  gemm.c = output;
  gemm.c.rank = 2;
  gemm.c.shape[0] = pixels;
  gemm.c.shape[1] = g.group_out;
  gemm.c.strides[0] = g.out_pixel_stride;
  gemm.c.strides[1] = 1;
  gemm.c.offset = output.offset + group * g.group_out;
  for (int i = 2; i < kMaxRank; ++i) gemm.c.shape[i] = gemm.c.strides[i] = 0;
  const int64_t block = g.group_stride * 4;
  gemm.b = PackedWeights{static_cast<const uint8_t*>(packed.data) + detail::kPackedHeaderBytes + group * block,
                         static_cast<size_t>(block)};
  if (o.bias.rank != 0) {
    gemm.options.bias = o.bias;
    gemm.options.bias.shape[0] = g.group_out;
    gemm.options.bias.offset = o.bias.offset + group * g.group_out;
  }
  gemm.options.activation = o.activation;
  gemm.options.clamp_min = o.clamp_min;
  gemm.options.clamp_max = o.clamp_max;
  return gemm;
}

inline Status PrepareConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                          const ConvOptions& o, detail::ConvCall* call) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  int64_t tile_rows = 0, tile_cols = 0;
  HWY_DYNAMIC_DISPATCH(ConvTileShape)(&tile_rows, &tile_cols);
  EK_RETURN_IF_ERROR(detail::PrepareConv(tile_rows, tile_cols, input, packed, output, o, call));
  if (call->args.path == detail::ConvPath::kGemm) {  // every group's GEMM has the same shapes
    const ConvGroupGemm gemm = GroupGemm(input, packed, output, o, call->args, 0);
    size_t bytes = 0;
    EK_RETURN_IF_ERROR(GemmWorkspaceSize(gemm.a, gemm.b, gemm.c, gemm.options, &bytes));
    call->workspace_bytes = bytes;
  }
  return Status::Ok();
}

inline Status RunConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                      const ConvOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes) {
  using namespace detail;
  ConvCall call;
  EK_RETURN_IF_ERROR(PrepareConv(input, packed, output, o, &call));
  if (workspace_bytes < call.workspace_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "workspace: %zu bytes, this call needs %zu (ConvWorkspaceSize)",
                         workspace_bytes, call.workspace_bytes);
  }
  if (call.workspace_bytes > 0 && workspace == nullptr) return InvalidArg("workspace", "is null");
  EK_RETURN_IF_ERROR(CheckConvAliasing(input, packed, output, o, workspace, call.workspace_bytes));
  ConvTaskArgs& g = call.args;
  g.input = input.HostData<float>();
  g.in_stride_n = input.strides[0];
  g.in_stride_h = input.strides[1];
  g.in_stride_w = input.strides[2];
  g.output = output.HostData<float>();
  g.weights = reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed.data) + kPackedHeaderBytes);
  g.bias = o.bias.rank != 0 ? o.bias.HostData<float>() : nullptr;
  if (g.path == ConvPath::kGemm) {
    for (int64_t group = 0; group < g.groups; ++group) {
      const ConvGroupGemm gemm = GroupGemm(input, packed, output, o, g, group);
      EK_RETURN_IF_ERROR(Gemm(gemm.a, gemm.b, gemm.c, gemm.options, ctx, workspace, call.workspace_bytes));
    }
    return Status::Ok();
  }
  uint8_t* ws = WorkspaceLayout::Base(workspace);
  if (g.path == ConvPath::kIndirect) {
    float* zero = reinterpret_cast<float*>(ws + call.zero_offset);
    std::memset(zero, 0, static_cast<size_t>(RoundUp(g.group_in, kPanelWidth)) * sizeof(float));
    g.zero = zero;
    const float** indirection = reinterpret_cast<const float**>(ws + call.indirection_offset);
    const TaskPlan fill = PlanTasks(static_cast<size_t>(g.row_tiles), 256, 64);
    ParallelFor(ctx.threads, fill.num_tasks, [&](size_t task) {
      FillIndirection(g, indirection, static_cast<int64_t>(fill.Begin(task)),
                      static_cast<int64_t>(fill.End(task, static_cast<size_t>(g.row_tiles))));
    });
    g.indirection = indirection;
  } else {
    float* zero = reinterpret_cast<float*>(ws + call.zero_offset);
    std::memset(zero, 0, static_cast<size_t>(RoundUp(g.in_c, kPanelWidth)) * sizeof(float));
    g.zero = zero;
  }
  auto* run = HWY_DYNAMIC_POINTER(RunConvTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

// Pooling: the plan validates, then the tasks run through the threading hook.
inline void RunPoolTasks(const detail::PoolTaskArgs& g, size_t num_tasks, const Context& ctx) {
  auto* run = HWY_DYNAMIC_POINTER(RunPoolTask);
  ParallelFor(ctx.threads, num_tasks, [&](size_t task) { run(g, task); });
}
inline Status RunPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average,
                        const Context& ctx) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::PoolTaskArgs g;
  size_t num_tasks = 0;
  EK_RETURN_IF_ERROR(detail::PlanPool2D(input, output, o, average, &g, &num_tasks));
  RunPoolTasks(g, num_tasks, ctx);
  return Status::Ok();
}
inline Status RunGlobalAvgPool2D(const TensorView& input, const TensorView& output, const Context& ctx) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::PoolTaskArgs g;
  size_t num_tasks = 0;
  EK_RETURN_IF_ERROR(detail::PlanGlobalAvgPool2D(input, output, &g, &num_tasks));
  RunPoolTasks(g, num_tasks, ctx);
  return Status::Ok();
}

}  // namespace conv_internal
}  // namespace

}  // namespace ek

#endif  // EK_CPU_CONV_DISPATCH_H_
