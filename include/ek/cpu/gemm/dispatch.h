// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The float GEMM's per-TU dispatch tables and the call pipeline over them (plan for the
// selected target, check the workspace, stage A or B, run the tasks through the threading
// hook). In an anonymous namespace, as every HWY_EXPORT table of ek (ek/dispatch.h).
#ifndef EK_CPU_GEMM_DISPATCH_H_
#define EK_CPU_GEMM_DISPATCH_H_

#include <cstdint>

#include "ek/cpu/gemm/pack.h"
#include "ek/cpu/gemm/plan.h"
#include "ek/cpu_features.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/cpu/targets.h"

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(GemmTileShape);
HWY_EXPORT(RunGemmTask);
HWY_EXPORT(GemmHasF16Arithmetic);
HWY_EXPORT(StageGemmA);

// True if the fp16 lane runs on this CPU with the selected target: the fp16 lane is detected and
// enabled (EK_DISABLE_LANES) and the target has f16 vector arithmetic (SVE, SVE2, NEON_BF16).
inline bool GemmF16ArithmeticAvailable() {
  (void)SelectedTarget();
  return LaneEnabled(Lane::kFp16) && HWY_DYNAMIC_DISPATCH(GemmHasF16Arithmetic)();
}

namespace gemm_internal {


// The plan for the selected target (its tile shape, its fp16 lane on this CPU).
inline Status PrepareGemm(const TensorView& a, const TensorView* b, const PackedWeights* packed, const TensorView& c,
                          const GemmOptions& o, detail::GemmCall* call, bool check_aliasing = true) {
  detail::TileShape tile;
  HWY_DYNAMIC_DISPATCH(GemmTileShape)(&tile);
  return detail::PrepareGemm(tile, GemmF16ArithmeticAvailable(), a, b, packed, c, o, call, check_aliasing);
}

// Stages A (and, for the fp16 lane, B) into the workspace as planned, then runs the tasks.
inline Status RunGemm(const TensorView& a, const TensorView* b, const PackedWeights* packed, const TensorView& c,
                      const GemmOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes) {
  using namespace detail;
  GemmCall call;
  EK_RETURN_IF_ERROR(PrepareGemm(a, b, packed, c, o, &call));
  EK_RETURN_IF_ERROR(RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "GemmWorkspaceSize"));
  EK_RETURN_IF_ERROR(CheckGemmAliasing(a, b, packed, c, o, workspace, call.workspace_bytes));
  GemmTaskArgs& g = call.args;
  uint8_t* ws = WorkspaceLayout::Base(workspace);
  const uint8_t* packed_base = nullptr;
  if (packed) {
    packed_base = static_cast<const uint8_t*>(packed->data);
  } else if (call.pack_b) {
    PackWeightsUnchecked(*b, o.transpose_b, g.k, g.n, ws + call.packed_b_offset, ctx);
    packed_base = ws + call.packed_b_offset;
  }
  if (packed_base) {
    g.b = packed_base + sizeof(PackedGemmHeader);
    g.b_panel_stride = PanelStrideBytes(g.k, g.b_type) / (DTypeBits(g.b_type) / 8);
  } else {
    g.b = b->HostByteOf(b->offset);
    g.b_k_stride = o.transpose_b ? b->strides[1] : b->strides[0];
    g.b_n_stride = o.transpose_b ? b->strides[0] : b->strides[1];
  }
  if (call.stage_a) {
    float* staged = reinterpret_cast<float*>(ws + call.staged_a_offset);
    // A to f32 (f16: exact), dense rows; rows in parallel, 64 KiB of A per task at least.
    auto* stage = HWY_DYNAMIC_POINTER(StageGemmA);
    const TaskPlan plan = PlanTasks(static_cast<size_t>(g.m), static_cast<size_t>(CeilDiv(16 * 1024, g.k)), 64);
    ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
      const int64_t begin = static_cast<int64_t>(plan.Begin(task));
      const int64_t end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(g.m)));
      stage(a.HostByteOf(a.offset + begin * a.strides[0]), a.dtype, end - begin, g.k, a.strides[0], a.strides[1],
            staged + begin * g.k);
    });
    g.a = staged;
    g.lda = g.k;
  } else {
    g.a = a.HostData<float>();
    g.lda = a.strides[0];
  }
  if (call.pack_slot_bytes > 0) {
    g.pack_slots = ws + call.pack_slots_offset;
    g.pack_slot_bytes = call.pack_slot_bytes;
  }
  if (g.path == detail::GemmPath::kF16Arithmetic) {
    g.a_f16 = a.HostByteOf(a.offset);
    g.lda = a.strides[0];
  }
  g.c = c.HostByteOf(c.offset);
  g.bias = o.bias.rank != 0 ? o.bias.HostData<float>() : nullptr;
  auto* run = HWY_DYNAMIC_POINTER(RunGemmTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

}  // namespace gemm_internal
}  // namespace

}  // namespace ek

#endif  // EK_CPU_GEMM_DISPATCH_H_
