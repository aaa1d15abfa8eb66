// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The options of scaled dot-product attention (docs/attention.md: the specification; the
// scalar reference is ek/ref/attention.h): the logit scale, the mask (none, causal from a start
// position, sliding window, an explicit additive mask), the logit softcap and attention sinks.
// No kernels: the CPU, OpenCL and NPU backends read the same options.
#ifndef EK_ATTENTION_OPTIONS_H_
#define EK_ATTENTION_OPTIONS_H_

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {

// Which keys a query sees. Query i of a call sits at absolute position start_position + i; key
// j at position j (the cache's order).
//   kNone:          every key.
//   kCausal:        keys j <= position (decode at position p sees keys 0..p).
//   kSlidingWindow: causal, and only the last `window` positions: position - window < j <= position.
// An additive mask (AttentionOptions::mask) applies on top of any of them.
enum class AttentionMask : uint8_t { kNone = 0, kCausal = 1, kSlidingWindow = 2 };

struct AttentionOptions {
  // Logits are scale x (q . k); 0 means 1 / sqrt(head_dim).
  float scale = 0.0f;
  AttentionMask mask_kind = AttentionMask::kNone;
  int64_t start_position = 0;  // the absolute position of query 0 (>= 0)
  int64_t window = 0;          // kSlidingWindow: keys visible to a query (>= 1)
  // Optional f32 [q_len, kv_len] host view added to the logits (after the softcap); -inf masks a
  // key. Shared by every head. Its entries are not scanned: a NaN or +inf there (or logits that
  // overflow f32) gives unspecified results, which may differ between targets.
  TensorView mask;
  // Optional logit softcap (Gemma 2): logit = softcap x tanh(logit / softcap) when > 0.
  float softcap = 0.0f;
  // Optional attention sinks (gpt-oss): f32 [q_heads] host view, one logit per query head that
  // joins the softmax's denominator and carries no value.
  TensorView sinks;
};

namespace detail {

// The options' own rules (the operands' shapes are checked by the entry point that takes them).
inline Status ValidateAttentionOptions(const AttentionOptions& o, int64_t q_len, int64_t kv_len, int64_t q_heads) {
  if (!(o.scale >= 0.0f) || std::isinf(o.scale)) return InvalidArg("options.scale", "must be finite and >= 0 (0: 1 / sqrt(d))");
  if (!(o.softcap >= 0.0f) || std::isinf(o.softcap) || (o.softcap > 0.0f && o.softcap < FLT_MIN)) {
    return InvalidArg("options.softcap", "must be 0 (none) or a finite normal float > 0");
  }
  if (o.start_position < 0 || o.start_position > (int64_t{1} << 40)) {
    return InvalidArg("options.start_position", "must be in [0, 2^40]");
  }
  if (o.mask_kind != AttentionMask::kNone && o.mask_kind != AttentionMask::kCausal &&
      o.mask_kind != AttentionMask::kSlidingWindow) {
    return InvalidArg("options.mask_kind", "is not an AttentionMask");
  }
  if (o.mask_kind == AttentionMask::kSlidingWindow && o.window < 1) {
    return InvalidArg("options.window", "must be >= 1 with a sliding window");
  }
  if (o.mask.rank != 0) {
    EK_RETURN_IF_ERROR(ValidateView(o.mask, "options.mask"));
    EK_RETURN_IF_ERROR(RequireHostMemory(o.mask, "options.mask"));
    EK_RETURN_IF_ERROR(RequireDType(o.mask, "options.mask", DType::kF32));
    if (o.mask.rank != 2 || o.mask.shape[0] != q_len || o.mask.shape[1] != kv_len) {
      return Status::Error(StatusCode::kInvalidArgument, "options.mask: expected shape [%lld, %lld] (q_len, kv_len)",
                           static_cast<long long>(q_len), static_cast<long long>(kv_len));
    }
  }
  if (o.sinks.rank != 0) {
    EK_RETURN_IF_ERROR(ValidateView(o.sinks, "options.sinks"));
    EK_RETURN_IF_ERROR(RequireHostMemory(o.sinks, "options.sinks"));
    EK_RETURN_IF_ERROR(RequireDType(o.sinks, "options.sinks", DType::kF32));
    if (o.sinks.rank != 1 || o.sinks.shape[0] != q_heads) {
      return Status::Error(StatusCode::kInvalidArgument, "options.sinks: expected shape [%lld] (q_heads)",
                           static_cast<long long>(q_heads));
    }
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_ATTENTION_OPTIONS_H_
