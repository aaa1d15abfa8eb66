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
#include "ek/kv_cache.h"
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

// The tiled path (prefill): Q K^T and P V on the float micro-kernel layer, per unit of
// kPrefillRows query rows (queries x the heads of a GQA group) of one KV head, over blocks of
// kPrefillKeys keys. Taken for f32 / f16 caches when a KV head has at least kPrefillMinRows rows
// from kPrefillMinQueries queries, head dims up to kPrefillMaxDim (the per-task scratch, about
// 4 x 64 x (d + dv) floats, stays in L2); decode keeps the split path.
constexpr int64_t kPrefillRows = 64;
constexpr int64_t kPrefillKeys = 64;
constexpr int64_t kPrefillMinQueries = 16;
constexpr int64_t kPrefillMinRows = 32;
constexpr int64_t kPrefillMaxDim = 512;
// Tasks of the tiled path (each a fixed set of units and its own scratch): at most this many.
constexpr int64_t kPrefillMaxTasks = 32;

// What a task (query i, split s: every head) needs.
struct AttentionTaskArgs {
  const float* q = nullptr;
  const void* k = nullptr;  // kv_type elements
  const void* v = nullptr;
  float* out = nullptr;
  DType kv_type = DType::kF32;  // the cache's element type (both K and V): f32, f16, i8 or i4
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
  // A KvCache (ek/kv_cache.h) read in place: token j's rows in page page_table[j >> page_shift]
  // (page_elements apart; K at k, V at v, both at slot j & (2^page_shift - 1)), or for a ring
  // (ring_capacity > 0) at slot j % ring_capacity. Keys below first_key are gone (a ring's
  // overwritten slots): never visible.
  const int32_t* page_table = nullptr;
  int page_shift = 0;
  int64_t page_elements = 0;
  int64_t ring_capacity = 0;
  int64_t first_key = 0;
  // The first split starts at key split_base (first_key rounded down to a split: a long-lived
  // ring's tasks and partials cover its kept keys only; splits stay where the views' are).
  int64_t split_base = 0;
  // int8 caches (kv_type kI8): each row's f32 scale, K's at k_scales and V's at v_scales, token
  // j's at its page's (scale_page_floats apart) slot x kv_heads + head. The queries quantized by
  // the cache's rule (QuantizeInt8Row) into the workspace: q8 rows (q8_stride bytes), q_scales,
  // q_sums (per row i x q_heads + head). dot_lane: the target's dot-product instruction runs.
  const float* k_scales = nullptr;
  const float* v_scales = nullptr;
  int64_t scale_page_floats = 0;
  int8_t* q8 = nullptr;
  int64_t q8_stride = 0;
  float* q_scales = nullptr;
  int32_t* q_sums = nullptr;
  // Block-quantized caches (kv_block_bits 8: Q8_0, 4: Q4_0; kv_type i8 / i4): K's and V's rows
  // are GGUF blocks (strides in bytes); the queries quantized per block of 32 by the same
  // rule: q8 rows, q_scales (d / 32 per row) and q_sums, per group of 4 bytes 128 x their sum
  // (d / 4 per row: what the unsigned dot lanes add per int32 lane).
  int kv_block_bits = 0;
  bool dot_lane = false;
  int64_t splits = 1;  // tasks per query
  // The tiled path: units (KV head g, block b of kPrefillRows rows) u = b x kv_heads + g, task t
  // taking units t, t + tiled_tasks, ...; each task's scratch (PrefillScratchOf) in the workspace.
  bool tiled = false;
  int64_t tiled_units = 0, tiled_tasks = 0;
  int64_t tiled_scratch_floats = 0;  // per task
  float* tiled_scratch = nullptr;
  // Per (query, head, split): running max, sum, then dv accumulators (partial_stride floats).
  float* partials = nullptr;
  int64_t partial_stride = 0;
};

// One task's scratch on the tiled path (floats; every section a multiple of 16):
//   q_panels [rows / 16][d][16]   the unit's queries times the scale, transposed in panels of 16
//                                 rows (the B of S^T = K Q^T)
//   logits   [kPrefillKeys][kPrefillRows]   S^T of a key block, then P^T (the weights)
//   keep     [kPrefillKeys][kPrefillRows]   1 where the row sees the key, else 0
//   acc      [kPrefillRows][dv_padded]      the output rows' running sums of P V
//   k_stage  [kPrefillKeys][d_padded]       an f16 block's K rows converted to f32
//   v_stage  [kPrefillKeys][dv_padded]      a block's V rows in f32 (the B of P V; zero padding)
//   max, sum, rescale, first, last  [kPrefillRows]  per row: running max and sum, this block's
//                                 rescale; the first and last visible key relative to the block
struct PrefillScratch {
  float* q_panels;
  float* logits;
  float* keep;
  float* acc;
  float* k_stage;
  float* v_stage;
  float* max;
  float* sum;
  float* rescale;
  float* first;
  float* last;
  int64_t d_padded, dv_padded;
};
inline int64_t PrefillPaddedDim(int64_t dim) { return RoundUp(dim, 64); }
inline int64_t PrefillScratchFloats(int64_t d, int64_t dv) {
  const int64_t dp = PrefillPaddedDim(d), dvp = PrefillPaddedDim(dv);
  return kPrefillRows * dp + 2 * kPrefillKeys * kPrefillRows + kPrefillRows * dvp + kPrefillKeys * dp +
         kPrefillKeys * dvp + 5 * kPrefillRows;
}
struct AttentionCall {
  AttentionTaskArgs args;
  size_t num_tasks = 0;  // q_len x splits; on the tiled path, tiled_tasks
  size_t workspace_bytes = 0;
  size_t q8_offset = 0, q_scales_offset = 0, q_sums_offset = 0;  // quantized caches: workspace sections
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

// The aliasing rule over q, out, the options' views and the workspace (when given), with the
// sources of keys and values that add_sources lists as inputs.
template <typename AddSources>
inline Status CheckAttentionAliasingOf(const TensorView& q, const TensorView& out, const AttentionOptions& o,
                                       const void* workspace, size_t workspace_bytes, const AddSources& add_sources) {
  AliasCheck alias;
  alias.AddView(q, "q", AliasCheck::Role::kInput);
  add_sources(alias);
  if (o.mask.rank != 0) alias.AddView(o.mask, "options.mask", AliasCheck::Role::kInput);
  if (o.sinks.rank != 0) alias.AddView(o.sinks, "options.sinks", AliasCheck::Role::kInput);
  alias.AddView(out, "out", AliasCheck::Role::kOutput);
  if (workspace != nullptr) alias.AddBytes(workspace, workspace_bytes, "workspace", "", AliasCheck::Role::kOutput);
  return alias.Check();
}

// No output overlaps an input, and the workspace (when given) overlaps no operand.
inline Status CheckAttentionAliasing(const TensorView& q, const TensorView& k, const TensorView& v,
                                     const TensorView& out, const AttentionOptions& o, const void* workspace,
                                     size_t workspace_bytes) {
  return CheckAttentionAliasingOf(q, out, o, workspace, workspace_bytes, [&](AliasCheck& alias) {
    alias.AddView(k, "k", AliasCheck::Role::kInput);
    alias.AddView(v, "v", AliasCheck::Role::kInput);
  });
}

// The rules shared by both sources of keys and values (views, or a KvCache named `kv_name`),
// and the plan: splits, workspace.
// Keys below first_key are gone (a ring's).
inline Status PrepareAttentionPlan(const TensorView& q, const TensorView& out, const AttentionOptions& o, int64_t kv_len,
                                   int64_t kv_heads, int64_t d, int64_t dv, DType kv_type, int kv_block_bits,
                                   int64_t first_key, const char* kv_name, AttentionCall* call) {
  const int64_t q_len = q.shape[0], q_heads = q.shape[1];
  if (d != q.shape[2]) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: head_dim %lld, q's is %lld", kv_name,
                         static_cast<long long>(d), static_cast<long long>(q.shape[2]));
  }
  if (q_heads % kv_heads != 0 || q_heads / kv_heads > kAttentionMaxGroup) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: %lld KV heads, q has %lld heads: q's must be a multiple of k's, at most 64 per KV head",
                         kv_name, static_cast<long long>(kv_heads), static_cast<long long>(q_heads));
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
  // (A ring whose length was lowered below its kept keys sees none: one task that finds nothing.)
  g.first_key = first_key < kv_len ? first_key : kv_len;
  g.split_base = g.first_key / kAttentionSplitKeys * kAttentionSplitKeys;
  g.splits = g.split_base < kv_len ? CeilDiv(kv_len - g.split_base, kAttentionSplitKeys) : 1;
  g.kv_type = kv_type;
  g.kv_block_bits = kv_block_bits;
  g.tiled = (kv_type == DType::kF32 || kv_type == DType::kF16) && q_len >= kPrefillMinQueries &&
            q_len * g.group >= kPrefillMinRows && d <= kPrefillMaxDim && dv <= kPrefillMaxDim;
  if (g.tiled) {  // no splits, no partials: per task its scratch
    g.splits = 1;
    g.tiled_units = CeilDiv(q_len * g.group, kPrefillRows) * kv_heads;
    g.tiled_tasks = g.tiled_units < kPrefillMaxTasks ? g.tiled_units : kPrefillMaxTasks;
    g.tiled_scratch_floats = PrefillScratchFloats(d, dv);
    WorkspaceLayout layout;
    layout.Add(static_cast<size_t>(g.tiled_tasks * g.tiled_scratch_floats) * sizeof(float));
    call->workspace_bytes = layout.Bytes();
    call->num_tasks = static_cast<size_t>(g.tiled_tasks);
    return Status::Ok();
  }
  g.partial_stride = RoundUp(dv + 2, 16);
  int64_t partial_rows = 0, partial_floats = 0;  // (zero-stride views can be huge: no product may wrap)
  if (MulOverflows(rows, g.splits, &partial_rows) || MulOverflows(partial_rows, g.partial_stride, &partial_floats) ||
      partial_floats > (int64_t{1} << 40)) {
    return InvalidArg("q", "q_len x q_heads x (kv_len / 256) x head_dim is too large for the workspace (2^40 floats)");
  }
  WorkspaceLayout layout;
  layout.Add(static_cast<size_t>(partial_floats) * sizeof(float));
  if (kv_type == DType::kI8 || kv_type == DType::kI4) {  // the quantized queries
    g.q8_stride = RoundUp(d, 64);
    if (rows > (int64_t{1} << 40) / g.q8_stride) return InvalidArg("q", "q_len x q_heads x head_dim exceeds 2^40 bytes");
    const int64_t scales = kv_block_bits ? d / 32 : 1, sums = kv_block_bits ? d / 4 : 1;
    call->q8_offset = layout.Add(static_cast<size_t>(rows * g.q8_stride));
    call->q_scales_offset = layout.Add(static_cast<size_t>(rows * scales) * sizeof(float));
    call->q_sums_offset = layout.Add(static_cast<size_t>(rows * sums) * sizeof(int32_t));
  }
  call->workspace_bytes = layout.Bytes();
  call->num_tasks = static_cast<size_t>(q_len * g.splits);
  return Status::Ok();
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
  const int64_t kv_len = k.shape[0], kv_heads = k.shape[1];
  if (v.shape[0] != kv_len || v.shape[1] != kv_heads) {
    return Status::Error(StatusCode::kInvalidArgument, "v: expected [%lld, %lld, dv] (k's tokens and heads)",
                         static_cast<long long>(kv_len), static_cast<long long>(kv_heads));
  }
  EK_RETURN_IF_ERROR(PrepareAttentionPlan(q, out, o, kv_len, kv_heads, k.shape[2], v.shape[2], k.dtype, 0, 0, "k", call));
  return CheckAttentionAliasing(q, k, v, out, o, nullptr, 0);
}

// No output overlaps an input (the cache's memory and block table among them), and the
// workspace (when given) overlaps no operand.
inline Status CheckCacheAttentionAliasing(const TensorView& q, const KvCache& cache, const TensorView& out,
                                          const AttentionOptions& o, const void* workspace, size_t workspace_bytes) {
  return CheckAttentionAliasingOf(q, out, o, workspace, workspace_bytes, [&](AliasCheck& alias) {
    alias.AddBytes(cache.memory, cache.bytes, "cache.memory", "", AliasCheck::Role::kInput);
    if (cache.layout.storage == KvStorage::kPaged) {
      alias.AddBytes(cache.block_table, static_cast<uint64_t>(cache.block_table_size) * 4, "cache.block_table", "",
                     AliasCheck::Role::kInput);
    }
  });
}

// Attention over a KvCache's tokens 0 .. length - 1 (positions; a ring's overwritten ones are
// never visible).
inline Status PrepareCacheAttention(const TensorView& q, const KvCache& cache, const TensorView& out,
                                    const AttentionOptions& o, AttentionCall* call) {
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(q, "q", false));
  EK_RETURN_IF_ERROR(ValidateKvCache(cache, "cache"));
  EK_RETURN_IF_ERROR(ValidateKvPages(cache, "cache", cache.length));
  if (cache.length < 1) return InvalidArg("cache.length", "is 0: nothing to attend to");
  EK_RETURN_IF_ERROR(ValidateAttentionOperand(out, "out", true));
  const KvCacheLayout& l = cache.layout;
  EK_RETURN_IF_ERROR(
      PrepareAttentionPlan(q, out, o, cache.length, l.kv_heads, l.head_dim, KvValueDim(l), l.type,
                           KvBlocked(l) ? (l.type == DType::kI4 ? 4 : 8) : 0, KvFirstStoredToken(cache), "cache", call));
  return CheckCacheAttentionAliasing(q, cache, out, o, nullptr, 0);
}

// Points the task arguments at q, out, the options' views and the partials: what both sources
// of keys and values share (validated by PrepareAttention / PrepareCacheAttention).
inline void BindQueryAndOptions(const TensorView& q, const TensorView& out, const AttentionOptions& o, void* workspace,
                                AttentionTaskArgs* g) {
  g->q = q.HostData<const float>();
  g->out = out.HostData<float>();
  for (int i = 0; i < 2; ++i) {
    g->q_stride[i] = q.strides[i];
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
  // The workspace holds the split path's partials, or the tiled path's scratch.
  (g->tiled ? g->tiled_scratch : g->partials) = reinterpret_cast<float*>(WorkspaceLayout::Base(workspace));
}

// ... and at K and V views (validated by PrepareAttention).
inline void BindAttention(const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& out,
                          const AttentionOptions& o, void* workspace, AttentionTaskArgs* g) {
  BindQueryAndOptions(q, out, o, workspace, g);
  g->k = k.HostData<const void>();
  g->v = v.HostData<const void>();
  g->kv_type = k.dtype;
  g->head_major = k.strides[1] > k.strides[0];
  for (int i = 0; i < 2; ++i) {
    g->k_stride[i] = k.strides[i];
    g->v_stride[i] = v.strides[i];
  }
}

// Points the task arguments at q, out, the options' views and the cache (validated by
// PrepareCacheAttention).
inline void BindCacheAttention(const TensorView& q, const KvCache& cache, const TensorView& out,
                               const AttentionOptions& o, void* workspace, const AttentionCall& call,
                               AttentionTaskArgs* g) {
  BindQueryAndOptions(q, out, o, workspace, g);
  const KvCacheLayout& l = cache.layout;
  const int64_t dv = KvValueDim(l);
  g->k = cache.memory;
  g->v = static_cast<const uint8_t*>(cache.memory) + KvPageKeyBytes(l);
  g->kv_type = l.type;
  // (in elements; GGUF blocks: in bytes)
  g->k_stride[1] = KvRowBytes(l, l.head_dim) / KvElementBytes(l);
  g->k_stride[0] = l.kv_heads * g->k_stride[1];
  g->v_stride[1] = KvRowBytes(l, dv) / KvElementBytes(l);
  g->v_stride[0] = l.kv_heads * g->v_stride[1];
  if (l.storage == KvStorage::kPaged) {
    g->page_table = cache.block_table;
    g->page_elements = KvPageElements(l);
    while ((int64_t{1} << g->page_shift) < l.page_tokens) ++g->page_shift;
  } else if (l.storage == KvStorage::kRing && (cache.length > l.capacity || cache.written > l.capacity)) {
    g->ring_capacity = l.capacity;  // (before it wraps, slot j is token j)
  }
  if (KvInt8PerRow(l)) {
    g->k_scales = reinterpret_cast<const float*>(static_cast<const uint8_t*>(cache.memory) + KvPageScaleOffset(l));
    g->v_scales = g->k_scales + KvPageTokens(l) * l.kv_heads;
    g->scale_page_floats = KvPageBytes(l) / 4;
  }
  if (l.type == DType::kI8 || l.type == DType::kI4) {
    uint8_t* base = WorkspaceLayout::Base(workspace);
    g->q8 = reinterpret_cast<int8_t*>(base + call.q8_offset);
    g->q_scales = reinterpret_cast<float*>(base + call.q_scales_offset);
    g->q_sums = reinterpret_cast<int32_t*>(base + call.q_sums_offset);
  }
}

inline PrefillScratch PrefillScratchOf(const AttentionTaskArgs& a, size_t task) {
  PrefillScratch s;
  s.d_padded = PrefillPaddedDim(a.d);
  s.dv_padded = PrefillPaddedDim(a.dv);
  float* p = a.tiled_scratch + static_cast<int64_t>(task) * a.tiled_scratch_floats;
  const auto take = [&p](int64_t floats) {
    float* section = p;
    p += floats;
    return section;
  };
  s.q_panels = take(kPrefillRows * s.d_padded);
  s.logits = take(kPrefillKeys * kPrefillRows);
  s.keep = take(kPrefillKeys * kPrefillRows);
  s.acc = take(kPrefillRows * s.dv_padded);
  s.k_stage = take(kPrefillKeys * s.d_padded);
  s.v_stage = take(kPrefillKeys * s.dv_padded);
  s.max = take(kPrefillRows);
  s.sum = take(kPrefillRows);
  s.rescale = take(kPrefillRows);
  s.first = take(kPrefillRows);
  s.last = take(kPrefillRows);
  return s;
}

// Row r (query i, head h) of q quantized by the int8 cache's rule: its bytes (q8_stride, zeros
// past d), scale and sum; for a cache of GGUF blocks per block of 32 (QuantizeInt8Row's rule
// over each), a scale per block and 128 x the sum of each group of 4 bytes.
inline void QuantizeQueryRow(const AttentionTaskArgs& a, int64_t r) {
  const float* row = a.q + (r / a.q_heads) * a.q_stride[0] + (r % a.q_heads) * a.q_stride[1];
  int8_t* q8 = a.q8 + r * a.q8_stride;
  if (a.kv_block_bits != 0) {
    const int64_t blocks = a.d / 32;
    for (int64_t b = 0; b < blocks; ++b) a.q_scales[r * blocks + b] = QuantizeInt8Row(row + b * 32, 32, q8 + b * 32);
    for (int64_t c = 0; c < a.d; c += 4) {
      a.q_sums[r * (a.d / 4) + c / 4] = 128 * (q8[c] + q8[c + 1] + q8[c + 2] + q8[c + 3]);
    }
    return;
  }
  a.q_scales[r] = QuantizeInt8Row(row, a.d, q8);
  int32_t sum = 0;
  for (int64_t c = 0; c < a.d; ++c) sum += q8[c];
  for (int64_t c = a.d; c < a.q8_stride; ++c) q8[c] = 0;
  a.q_sums[r] = sum;
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_ATTENTION_PLAN_H_
