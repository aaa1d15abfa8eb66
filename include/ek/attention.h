// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scaled dot-product attention on the CPU (docs/attention.md: the specification; the scalar
// reference is ek/ref/attention.h):
//
//   ek::AttentionWorkspaceSize(q, k, v, out, options, &bytes)
//   ek::Attention(q, k, v, out, options, ctx, workspace, bytes)
//   ek::Attention(q, k, v, out, options, ctx)          convenience: allocates its workspace
//
//   q [q_len, q_heads, d]  k [kv_len, kv_heads, d]  v [kv_len, kv_heads, dv]  out [q_len, q_heads, dv]
//   host views, unit stride along the head dim (other strides free: a cache slice, a fused QKV
//   buffer); q and out f32; k and v, the cache, both f32 or both f16 (promoted to f32 as read:
//   the numerics of an f32 cache holding those values); q_heads a multiple of kv_heads (GQA /
//   MQA), at most 64 query heads per KV head; head dims up to 4096. Options:
//   ek/attention_options.h (scale, causal / sliding-window masks from a start position, an
//   additive mask, softcap, sinks).
//
// The online softmax of the specification: the keys in splits of 256 (tasks through the
// threading hook: query x split, every head of the split's keys, the query heads of a GQA group
// together so each K / V row is read once per KV head), then each row's splits merged in order:
// results are bitwise identical for any thread count, within ref::AttentionErrorBound of
// ref::Attention, and a row with no visible key is zeros. Prefills (16+ queries, 32+ rows per KV
// head, f32 / f16 caches, head dims up to 512) take the tiled path instead: per KV head and
// block of 64 rows, Q K^T and P V on the float micro-kernel layer with the online softmax
// between them (ek/cpu/attention/prefill-inl.h), the same guarantees.
//
//   ek::Attention(q, cache, out, options, ctx[, workspace, bytes])
//   the keys and values of an ek::KvCache (ek/kv_cache.h: contiguous, ring or paged; f32, f16,
//   int8 per token and head, or GGUF Q8_0 / Q4_0 blocks), read in place. Quantized caches: the
//   queries quantized by the cache's rule (per row, or per block of 32), the logits exact
//   integer dots on the target's dot-product lane (AttentionDotLane) times the scales. OpenCL
//   attention is not built yet (docs/attention.md).
#ifndef EK_ATTENTION_H_
#define EK_ATTENTION_H_

// This TU's kernel pass compiles the attention family (ek/cpu/targets.h).
#ifndef EK_KERNELS_ATTENTION
#define EK_KERNELS_ATTENTION 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_ATTENTION
#error "ek/attention.h: this TU's kernel pass ran (at its first ek header) without the attention family: define EK_KERNELS_ATTENTION before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cstddef>
#include <cstring>

#include "ek/attention_options.h"
#include "ek/cpu/attention/plan.h"
#include "ek/cpu_features.h"
#include "ek/detail/workspace.h"
#include "ek/dispatch.h"
#include "ek/kv_cache.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/attention.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {
namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(RunAttentionTask);
HWY_EXPORT(RunAttentionPrefillTask);
HWY_EXPORT(MergeAttentionRow);
HWY_EXPORT(ExpRow);
HWY_EXPORT(AttentionTargetLane);

// The lane an int8 cache's logits run on, on the selected target: "avx512vnni" (x86 vpdpbusd),
// "sve-sdot", "dotprod" (Arm NEON sdot), or "widen" (16-bit multiply-adds: no such instruction,
// or its lane forced off with EK_DISABLE_LANES / DisableLane). Exact integer dots on every lane:
// the results are bitwise the same.
inline const char* AttentionDotLane() {
  if (!EnsureDispatchReady().ok()) return "none";
  const char* dot = "widen";
  HWY_DYNAMIC_DISPATCH(AttentionTargetLane)(&dot);
  return EnabledMultiplyLane(dot);
}

// A bound call: its tasks (query x split), then each row's splits merged; or on the tiled path
// (prefill) its tasks of units, each writing its rows of out.
// (int8 and GGUF block caches: first the queries quantized, a task of 64 rows at a time.)
inline void RunAttentionCall(const detail::AttentionCall& call, const Context& ctx) {
  const detail::AttentionTaskArgs& a = call.args;
  if (a.tiled) {
    auto* prefill = HWY_DYNAMIC_POINTER(RunAttentionPrefillTask);
    ParallelFor(ctx.threads, call.num_tasks, [&](size_t t) { prefill(a, t); });
    return;
  }
  if (a.kv_type == DType::kI8 || a.kv_type == DType::kI4) {
    const size_t q_rows = static_cast<size_t>(a.q_len * a.q_heads);
    const TaskPlan rows_plan = PlanTasks(q_rows, 64, 256);
    ParallelFor(ctx.threads, rows_plan.num_tasks, [&](size_t t) {
      const size_t end = rows_plan.End(t, q_rows);
      for (size_t r = rows_plan.Begin(t); r < end; ++r) detail::QuantizeQueryRow(a, static_cast<int64_t>(r));
    });
  }
  auto* task = HWY_DYNAMIC_POINTER(RunAttentionTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t t) { task(a, t); });
  auto* merge = HWY_DYNAMIC_POINTER(MergeAttentionRow);
  const size_t rows = static_cast<size_t>(a.q_len * a.q_heads);
  const TaskPlan plan = PlanTasks(rows, 8, 256);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t t) {
    const size_t end = plan.End(t, rows);
    for (size_t r = plan.Begin(t); r < end; ++r) merge(a, r);
  });
}

inline Status AttentionWorkspaceSize(const TensorView& q, const TensorView& k, const TensorView& v,
                                     const TensorView& out, const AttentionOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::AttentionCall call;
  EK_RETURN_IF_ERROR(detail::PrepareAttention(q, k, v, out, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

// out = attention(q, k, v) under `options`, with a caller-owned workspace (any alignment).
inline Status Attention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                        const AttentionOptions& options, const Context& ctx, void* workspace, size_t workspace_bytes) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::AttentionCall call;
  EK_RETURN_IF_ERROR(detail::PrepareAttention(q, k, v, out, options, &call));
  EK_RETURN_IF_ERROR(
      detail::RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "AttentionWorkspaceSize"));
  EK_RETURN_IF_ERROR(detail::CheckAttentionAliasing(q, k, v, out, options, workspace, call.workspace_bytes));
  detail::BindAttention(q, k, v, out, options, workspace, &call.args);
  RunAttentionCall(call, ctx);
  return Status::Ok();
}

// Convenience overload: allocates the workspace on the heap for this call.
inline Status Attention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                        const AttentionOptions& options = AttentionOptions(), const Context& ctx = Context()) {
  return detail::WithHeapWorkspace(
      [&](size_t* bytes) { return AttentionWorkspaceSize(q, k, v, out, options, bytes); },
      [&](void* ws, size_t bytes) { return Attention(q, k, v, out, options, ctx, ws, bytes); });
}

// The same over a KvCache (ek/kv_cache.h) read in place: keys and values are the cache's tokens
// 0 .. cache.length - 1 (token j at position j; a ring's overwritten tokens are not visible).
// The same kernels, splits and numerics as the views' form: a contiguous cache gives bitwise
// the result of views of its region, and any storage form the result of views of its tokens.
inline Status AttentionWorkspaceSize(const TensorView& q, const KvCache& cache, const TensorView& out,
                                     const AttentionOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::AttentionCall call;
  EK_RETURN_IF_ERROR(detail::PrepareCacheAttention(q, cache, out, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

inline Status Attention(const TensorView& q, const KvCache& cache, const TensorView& out, const AttentionOptions& options,
                        const Context& ctx, void* workspace, size_t workspace_bytes) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::AttentionCall call;
  EK_RETURN_IF_ERROR(detail::PrepareCacheAttention(q, cache, out, options, &call));
  EK_RETURN_IF_ERROR(
      detail::RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "AttentionWorkspaceSize"));
  EK_RETURN_IF_ERROR(detail::CheckCacheAttentionAliasing(q, cache, out, options, workspace, call.workspace_bytes));
  detail::BindCacheAttention(q, cache, out, options, workspace, call, &call.args);
  call.args.dot_lane = std::strcmp(AttentionDotLane(), "widen") != 0;
  RunAttentionCall(call, ctx);
  return Status::Ok();
}

inline Status Attention(const TensorView& q, const KvCache& cache, const TensorView& out,
                        const AttentionOptions& options = AttentionOptions(), const Context& ctx = Context()) {
  return detail::WithHeapWorkspace(
      [&](size_t* bytes) { return AttentionWorkspaceSize(q, cache, out, options, bytes); },
      [&](void* ws, size_t bytes) { return Attention(q, cache, out, options, ctx, ws, bytes); });
}

// The vector exp of the attention kernels on the selected target, for its test: out = exp(in)
// for in <= 0 (within 3 ulp; 0 below 2^-126).
inline void AttentionExpRow(const float* in, float* out, size_t count) { HWY_DYNAMIC_DISPATCH(ExpRow)(in, out, count); }

}  // namespace
}  // namespace ek

#endif  // EK_ATTENTION_H_
