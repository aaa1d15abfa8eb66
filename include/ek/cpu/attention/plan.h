// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Validation and the plan of scaled dot-product attention on the CPU (ek/attention.h): the
// operands' rules, the split of the keys into tasks and the workspace of their partial results.
// Depends on the problem only, never on the thread count (so results do not either).
// Target-independent.
#ifndef EK_CPU_ATTENTION_PLAN_H_
#define EK_CPU_ATTENTION_PLAN_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ek/attention_options.h"
#include "ek/detail/int_math.h"
#include "ek/detail/workspace.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// Keys per task (a split of the cache): fixed, so the merge order is too (and results do not
// depend on the thread count). A task takes every head of its keys: 256 keys of 32 heads of
// d = 128 f32 are 8 MB of K and V, streamed once; a 4096-key decode is 16 tasks.
constexpr int64_t kAttentionSplitKeys = 256;
// Keys per block inside a task: the logits of a block for the group's heads, then their weights.
constexpr int64_t kAttentionBlockKeys = 16;
// Query heads per KV head handled together (each K / V row read once for all of them).
constexpr int64_t kAttentionMaxGroup = 64;
constexpr int64_t kAttentionMaxDim = 4096;  // head dims (d and dv)

// What a task (query i, split s: every head) needs.
struct AttentionTaskArgs {
  const float* q = nullptr;
  const void* k = nullptr;  // kv_type elements
  const void* v = nullptr;
  float* out = nullptr;
  DType kv_type = DType::kF32;  // the cache's element type: f32 or f16 (both K and V)
  bool head_major = false;      // K's heads farther apart than its tokens ([heads, tokens, d])
  int64_t q_stride[2] = {0, 0}, k_stride[2] = {0, 0}, v_stride[2] = {0, 0}, out_stride[2] = {0, 0};  // [token, head]
  int64_t q_len = 0, q_heads = 0, kv_len = 0, kv_heads = 0, d = 0, dv = 0, group = 1;
  float scale = 1.0f, softcap = 0.0f;
  AttentionMask mask_kind = AttentionMask::kNone;
  int64_t start_position = 0, window = 0;
  const float* mask = nullptr;  // [q_len, kv_len], strides mask_stride
  int64_t mask_stride[2] = {0, 0};
  const float* sinks = nullptr;  // [q_heads], stride sinks_stride
  int64_t sinks_stride = 0;
  int64_t splits = 1;  // tasks per query
  // Per (query, head, split): running max, sum, then dv accumulators (partial_stride floats).
  float* partials = nullptr;
  int64_t partial_stride = 0;
};

struct AttentionCall {
  AttentionTaskArgs args;
  size_t num_tasks = 0;  // q_len x splits
  size_t workspace_bytes = 0;
};

// A host view of rank 3 with unit stride along its last axis (a head's elements): f32, or for
// the cache (k, v) f32 or f16.
inline Status ValidateAttentionOperand(const TensorView& t, const char* name, bool output, bool cache = false) {
  EK_RETURN_IF_ERROR(output ? ValidateOutputView(t, name) : ValidateView(t, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(t, name));
  if (cache && t.dtype != DType::kF32 && t.dtype != DType::kF16) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype %s, expected f32 or f16 (the cache's types)", name,
                         DTypeName(t.dtype));
  }
  if (!cache) EK_RETURN_IF_ERROR(RequireDType(t, name, DType::kF32));
  if (t.rank != 3) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: rank %d, expected 3 ([tokens, heads, head_dim])", name,
                         t.rank);
  }
  if (t.strides[2] != 1 && t.shape[2] > 1) return InvalidArg(name, "head_dim stride must be 1");
  if (t.shape[2] > kAttentionMaxDim) return InvalidArg(name, "head_dim must be at most 4096");
  return Status::Ok();
}

// No output overlaps an input, and the workspace (when given) overlaps no operand.
inline Status CheckAttentionAliasing(const TensorView& q, const TensorView& k, const TensorView& v,
                                     const TensorView& out, const AttentionOptions& o, const void* workspace,
                                     size_t workspace_bytes) {
  AliasCheck alias;
  alias.AddView(q, "q", AliasCheck::Role::kInput);
  alias.AddView(k, "k", AliasCheck::Role::kInput);
  alias.AddView(v, "v", AliasCheck::Role::kInput);
  if (o.mask.rank != 0) alias.AddView(o.mask, "options.mask", AliasCheck::Role::kInput);
  if (o.sinks.rank != 0) alias.AddView(o.sinks, "options.sinks", AliasCheck::Role::kInput);
  alias.AddView(out, "out", AliasCheck::Role::kOutput);
  if (workspace != nullptr) alias.AddBytes(workspace, workspace_bytes, "workspace", "", AliasCheck::Role::kOutput);
  return alias.Check();
}

inline Status PrepareAttention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                               const AttentionOptions& o, AttentionCall* call) {
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(q, "q", false));
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(k, "k", false, true));
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(v, "v", false, true));
  if (v.dtype != k.dtype) {
    return Status::Error(StatusCode::kInvalidArgument, "v: dtype %s, k's is %s (K and V share the cache's type)",
                         DTypeName(v.dtype), DTypeName(k.dtype));
  }
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(out, "out", true));
  const int64_t q_len = q.shape[0], q_heads = q.shape[1], d = q.shape[2];
  const int64_t kv_len = k.shape[0], kv_heads = k.shape[1], dv = v.shape[2];
  if (k.shape[2] != d) {
    return Status::Error(StatusCode::kInvalidArgument, "k: head_dim %lld, q's is %lld", static_cast<long long>(k.shape[2]),
                         static_cast<long long>(d));
  }
  if (q_heads % kv_heads != 0 || q_heads / kv_heads > kAttentionMaxGroup) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "k: %lld KV heads, q has %lld heads: q's must be a multiple of k's, at most 64 per KV head",
                         static_cast<long long>(kv_heads), static_cast<long long>(q_heads));
  }
  if (v.shape[0] != kv_len || v.shape[1] != kv_heads) {
    return Status::Error(StatusCode::kInvalidArgument, "v: expected [%lld, %lld, dv] (k's tokens and heads)",
                         static_cast<long long>(kv_len), static_cast<long long>(kv_heads));
  }
  if (out.shape[0] != q_len || out.shape[1] != q_heads || out.shape[2] != dv) {
    return Status::Error(StatusCode::kInvalidArgument, "out: expected shape [%lld, %lld, %lld]",
                         static_cast<long long>(q_len), static_cast<long long>(q_heads), static_cast<long long>(dv));
  }
  EK_RETURN_IF_ERROR(ValidateAttentionOptions(o, q_len, kv_len, q_heads));
  int64_t rows = 0;
  if (MulOverflows(q_len, q_heads, &rows) || rows > (int64_t{1} << 32) || kv_len > (int64_t{1} << 40)) {
    return InvalidArg("q", "more than 2^32 rows, or k more than 2^40 tokens");
  }
  EK_RETURN_IF_ERROR(CheckAttentionAliasing(q, k, v, out, o, nullptr, 0));

  AttentionTaskArgs& g = call->args;
  g.q_len = q_len;
  g.q_heads = q_heads;
  g.kv_len = kv_len;
  g.kv_heads = kv_heads;
  g.d = d;
  g.dv = dv;
  g.group = q_heads / kv_heads;
  g.scale = o.scale > 0.0f ? o.scale : static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  g.softcap = o.softcap;
  g.mask_kind = o.mask_kind;
  g.start_position = o.start_position;
  g.window = o.window;
  g.splits = CeilDiv(kv_len, kAttentionSplitKeys);
  g.partial_stride = RoundUp(dv + 2, 16);
  int64_t partial_rows = 0, partial_floats = 0;  // (zero-stride views can be huge: no product may wrap)
  if (MulOverflows(rows, g.splits, &partial_rows) || MulOverflows(partial_rows, g.partial_stride, &partial_floats) ||
      partial_floats > (int64_t{1} << 40)) {
    return InvalidArg("q", "q_len x q_heads x (kv_len / 256) x head_dim is too large for the workspace (2^40 floats)");
  }
  WorkspaceLayout layout;
  layout.Add(static_cast<size_t>(partial_floats) * sizeof(float));
  call->workspace_bytes = layout.Bytes();
  call->num_tasks = static_cast<size_t>(q_len * g.splits);
  return Status::Ok();
}

// Points the task arguments at the operands (validated by PrepareAttention).
inline void BindAttention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                          const AttentionOptions& o, void* workspace, AttentionTaskArgs* g) {
  g->q = q.HostData<const float>();
  g->k = k.HostData<const void>();
  g->v = v.HostData<const void>();
  g->kv_type = k.dtype;
  g->head_major = k.strides[1] > k.strides[0];
  g->out = out.HostData<float>();
  for (int i = 0; i < 2; ++i) {
    g->q_stride[i] = q.strides[i];
    g->k_stride[i] = k.strides[i];
    g->v_stride[i] = v.strides[i];
    g->out_stride[i] = out.strides[i];
  }
  if (o.mask.rank != 0) {
    g->mask = o.mask.HostData<const float>();
    g->mask_stride[0] = o.mask.strides[0];
    g->mask_stride[1] = o.mask.strides[1];
  }
  if (o.sinks.rank != 0) {
    g->sinks = o.sinks.HostData<const float>();
    g->sinks_stride = o.sinks.strides[0];
  }
  g->partials = reinterpret_cast<float*>(WorkspaceLayout::Base(workspace));
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_ATTENTION_PLAN_H_
