// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The integer GEMM's per-TU dispatch tables (ek/dispatch.h), the lane query, the vector
// requantization for tests, and the call pipeline: plan for the lane that runs, check the
// workspace, stage A and the per-row / per-column terms, run the tasks.
#ifndef EK_CPU_QGEMM_DISPATCH_H_
#define EK_CPU_QGEMM_DISPATCH_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/qgemm/pack.h"
#include "ek/cpu/qgemm/plan.h"
#include "ek/cpu_features.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/ref/convert.h"
#include "ek/cpu/targets.h"

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(RunQGemmTask);
HWY_EXPORT(QGemmTargetLanes);
HWY_EXPORT(QuantizeRowsDynamic);
HWY_EXPORT(StageRowsU8);
HWY_EXPORT(RequantizeArray);
HWY_EXPORT(QGemmTileShape);

// The lane QGemm runs on the selected target: "i8mm" (Arm NEON usmmla, FEAT_I8MM), "avx512vnni"
// (x86 vpdpbusd), "sve-sdot", "dotprod" (Arm NEON sdot; int4 per-block weights run "widen"
// there), or "widen" (16-bit multiply-adds: no such instruction, or its lane forced off with
// EK_DISABLE_LANES / DisableLane; a target falls back from i8mm to its dot-product lane first).
inline const char* QGemmDotLane() {
  if (!EnsureDispatchReady().ok()) return "none";
  const char* dot = "widen";
  const char* matmul = nullptr;
  HWY_DYNAMIC_DISPATCH(QGemmTargetLanes)(&dot, &matmul);
  if (matmul != nullptr && LaneEnabled(Lane::kI8mm)) return matmul;
  return EnabledMultiplyLane(dot);
}

// The vector requantization of the selected target over `count` accumulators, in `form` (the
// inputs must lie in its domain; tests prove every form equal to ek::Requantize there).
inline Status RequantizeWithKernel(const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
                                   int32_t zero_point, int32_t qmin, int32_t qmax, size_t count, int32_t* out,
                                   RequantizeForm form = RequantizeForm::kGeneral) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  HWY_DYNAMIC_DISPATCH(RequantizeArray)(acc, multiplier, shift, zero_point, qmin, qmax, count, form, out);
  return Status::Ok();
}

namespace qgemm_internal {

using detail::QGemmCall;
using detail::CheckQGemmAliasing;

// The plan for the multiply lane that runs on the selected target.
inline Status PrepareQGemm(const TensorView& a, const PackedWeights& packed, const TensorView& c,
                           const QGemmOptions& o, QGemmCall& call) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  const char* lane = QGemmDotLane();
  const detail::QLane q_lane = std::strcmp(lane, "widen") == 0  ? detail::QLane::kWiden
                               : std::strcmp(lane, "i8mm") == 0 ? detail::QLane::kMatmul
                                                                : detail::QLane::kDot;
  detail::QTileShape tile;
  HWY_DYNAMIC_DISPATCH(QGemmTileShape)(q_lane, &tile);
  return detail::PrepareQGemm(q_lane, tile, a, packed, c, o, call);
}

// Stages A into the workspace (u8, rows padded to kp) and computes the per-row and per-column
// terms of the epilogue.
inline Status StageQGemm(const TensorView& a, const TensorView& c, const QGemmOptions& o, const Context& ctx,
                         QGemmCall& call, uint8_t* ws) {
  detail::QGemmTaskArgs& g = call.args;
  const detail::PackedQGemmHeader& h = call.header;
  const detail::QPackedLayout& l = call.layout;
  const auto* packed_base = g.b - sizeof(detail::PackedQGemmHeader);
  const auto* colsum = reinterpret_cast<const int32_t*>(packed_base + l.sums_offset);
  const auto* scales = reinterpret_cast<const float*>(packed_base + l.scales_offset);
  uint8_t* a_packed = ws + call.a_offset;
  g.a = a_packed;
  const int64_t columns = l.panels * detail::kQPanelWidth;
  if (a.dtype == DType::kF32) {
    auto* a_scale = reinterpret_cast<float*>(ws + call.row_offset);
    auto* a_zero = reinterpret_cast<int32_t*>(ws + call.row2_offset);
    if (a.strides[1] == 1 || g.k == 1) {  // in tasks of rows (about 64 KB of A each)
      auto* quantize = HWY_DYNAMIC_POINTER(QuantizeRowsDynamic);
      const float* a_rows = a.HostData<const float>();
      const TaskPlan plan = PlanTasks(static_cast<size_t>(g.m), static_cast<size_t>(detail::CeilDiv(16 * 1024, g.kp)), 64);
      ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
        quantize(a_rows, a.strides[0], g.k, g.kp, static_cast<int64_t>(plan.Begin(task)),
                 static_cast<int64_t>(plan.End(task, static_cast<size_t>(g.m))), a_packed, g.lda, a_scale, a_zero);
      });
    } else {  // strided columns: the same rule, one element at a time
      const float* base = a.HostData<const float>();
      for (int64_t i = 0; i < g.m; ++i) {
        float lo = 0.0f, hi = 0.0f;
        for (int64_t kk = 0; kk < g.k; ++kk) {
          const float x = base[i * a.strides[0] + kk * a.strides[1]];
          lo = x < lo ? x : lo;
          hi = x > hi ? x : hi;
        }
        const DynamicQuant q = DynamicRowParams(lo, hi);
        for (int64_t kk = 0; kk < g.kp; ++kk) {
          a_packed[i * g.lda + kk] =
              kk < g.k ? static_cast<uint8_t>(DynamicQuantizeValue(base[i * a.strides[0] + kk * a.strides[1]], q)) : 0;
        }
        a_scale[i] = q.scale;
        a_zero[i] = q.zero_point;
      }
    }
    g.a_scale = a_scale;
    g.a_zero_point = a_zero;
    g.colsum = colsum;
    if (g.output == detail::QOutput::kBlocks) {
      g.block_scales = packed_base + l.scales_offset;
      g.block_scale_type = static_cast<DType>(h.scale_type);
      g.weighted_colsum = reinterpret_cast<const float*>(packed_base + l.weighted_offset);
    } else {
      g.b_scale = scales;
    }
    g.bias = o.bias.rank != 0 ? o.bias.HostData<const float>() : nullptr;
    return Status::Ok();
  }

  // int8 / uint8 activations: stored as u8 (i8 + 128), and their row sums when the weights have
  // a zero point.
  const int32_t a_shift = a.dtype == DType::kI8 ? 128 : 0;
  const int32_t za = a.quant.zero_point + a_shift;              // A's zero point, u8 domain
  const int32_t zw = h.weight_type == static_cast<uint8_t>(DType::kU8) ? h.zero_point - 128 : 0;  // s8 domain
  auto* row_term = reinterpret_cast<int32_t*>(ws + call.row_offset);
  const uint8_t* a_bytes = a.HostData<const uint8_t>();
  const uint8_t flip = a_shift ? 0x80 : 0;
  const int64_t m = g.m, k = g.k, kp = g.kp, lda = g.lda, a_row_stride = a.strides[0], a_col_stride = a.strides[1];
  auto* row_sums = reinterpret_cast<uint32_t*>(row_term);  // K <= kQMaxK: a row's sum fits 32 bits
  if (a_col_stride == 1 || k == 1) {  // in tasks of rows (about 64 KB of A each)
    auto* stage = HWY_DYNAMIC_POINTER(StageRowsU8);
    const TaskPlan plan = PlanTasks(static_cast<size_t>(m), static_cast<size_t>(detail::CeilDiv(64 * 1024, kp)), 64);
    ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
      const auto begin = static_cast<int64_t>(plan.Begin(task));
      const auto end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(m)));
      stage(a_bytes + begin * a_row_stride, a_row_stride, k, kp, end - begin, flip, a_packed + begin * lda, lda,
            row_sums + begin);
    });
  } else {  // strided columns: one element at a time
    for (int64_t i = 0; i < m; ++i) {
      uint8_t* dst = a_packed + i * lda;
      uint32_t sum = 0;
      for (int64_t kk = 0; kk < kp; ++kk) {
        dst[kk] = kk < k ? static_cast<uint8_t>(a_bytes[i * a_row_stride + kk * a_col_stride] ^ flip) : 0;
        sum += dst[kk];
      }
      row_sums[i] = sum;
    }
  }
  for (int64_t i = 0; i < m; ++i) {
    const uint32_t row_sum = row_sums[i];
    row_term[i] = static_cast<int32_t>(static_cast<uint32_t>(-static_cast<int64_t>(zw) * row_sum));
  }
  g.row_term = zw != 0 ? row_term : nullptr;
  // Column terms: bias - za * colsum + K * za * zw, modulo 2^32 (docs/quantization.md).
  auto* col_term = reinterpret_cast<int32_t*>(ws + call.col_offset);
  auto* multiplier = reinterpret_cast<int32_t*>(ws + call.mult_offset);
  auto* shift = reinterpret_cast<int32_t*>(ws + call.shift_offset);
  const int32_t* bias = o.bias.rank != 0 ? o.bias.HostData<const int32_t>() : nullptr;
  const bool per_channel = h.scale_kind == static_cast<uint8_t>(detail::QScaleKind::kPerChannel);
  QuantizedMultiplier qm;
  for (int64_t j = 0; j < columns; ++j) {
    const int64_t term = (j < g.n && bias ? int64_t{bias[j]} : 0) - int64_t{za} * colsum[j] + g.k * int64_t{za} * zw;
    col_term[j] = static_cast<int32_t>(static_cast<uint32_t>(term));
    if (j == 0 || (per_channel && j < g.n)) {
      EK_RETURN_IF_ERROR(
          ChannelMultiplier(a.quant.scale, scales[j], c.quant.scale, &qm, "a.quant.scale * b scale / c.quant.scale"));
    }
    multiplier[j] = qm.multiplier;
    shift[j] = qm.shift;
    g.any_left_shift = g.any_left_shift || qm.shift > 0;
  }
  g.col_term = col_term;
  g.colsum = colsum;  // the sdot lane's correction
  g.multiplier = multiplier;
  g.shift = shift;
  return Status::Ok();
}

inline Status RunQGemm(const TensorView& a, const PackedWeights& packed, const TensorView& c, const QGemmOptions& o,
                       const Context& ctx, void* workspace, size_t workspace_bytes) {
  QGemmCall call;
  EK_RETURN_IF_ERROR(PrepareQGemm(a, packed, c, o, call));
  EK_RETURN_IF_ERROR(
      detail::RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "QGemmWorkspaceSize"));
  EK_RETURN_IF_ERROR(CheckQGemmAliasing(a, packed, c, o, workspace, call.workspace_bytes));
  EK_RETURN_IF_ERROR(StageQGemm(a, c, o, ctx, call, detail::WorkspaceLayout::Base(workspace)));
  detail::QGemmTaskArgs& g = call.args;
  g.c = c.HostData<void>();
  auto* run = HWY_DYNAMIC_POINTER(RunQGemmTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

}  // namespace qgemm_internal
}  // namespace

}  // namespace ek

#endif  // EK_CPU_QGEMM_DISPATCH_H_
