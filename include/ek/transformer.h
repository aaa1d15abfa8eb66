// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The ops around attention in a transformer block, on f32 host views (docs/transformer.md; the
// scalar specification is ek/ref/transformer.h):
//
//   ek::RmsNorm(x, weight, out, options, ctx)        per row: x / rms(x) x (weight + offset)
//   ek::LayerNorm(x, gamma, beta, out, options, ctx) per row: (x - mean) / std x gamma + beta
//   ek::Softmax(x, out, options, ctx)                per row: exp(s x - max) / sum
//   ek::GatedActivation(gate, up, out, options, ctx) act(gate) x up (SiLU, GELU-tanh, GELU-erf)
//   ek::Rope(x, out, options, ctx)                   rotary embedding of [tokens, heads, head_dim]
//
// A row is the last axis: x / gate / up / out have rank 1..5, the same shape, unit stride along
// the last axis (other strides free: a slice of a fused QKV buffer, a KV cache row). weight,
// gamma and beta are optional f32 [n] views (rank 0: absent). No output byte may be shared with
// an input (the aliasing rule of every entry point; no op runs in place). Each row is computed
// by one task alone: results are bitwise identical for any thread count, and within the bounds
// of ek/ref/transformer.h (tested on every target).
#ifndef EK_TRANSFORMER_H_
#define EK_TRANSFORMER_H_

// This TU's kernel pass compiles the transformer family (ek/cpu/targets.h).
#ifndef EK_KERNELS_TRANSFORMER
#define EK_KERNELS_TRANSFORMER 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_TRANSFORMER
#error "ek/transformer.h: this TU's kernel pass ran (at its first ek header) without the transformer family: define EK_KERNELS_TRANSFORMER before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cmath>

#include "ek/cpu/transformer/plan.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/transformer_options.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/transformer.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {
namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(TransformerRow);
HWY_EXPORT(RopeToken);

// out = x / sqrt(mean(x^2) + epsilon) x (weight + weight_offset) per row; weight optional
// (without one, out = x / sqrt(mean(x^2) + epsilon): the offset applies to a weight only).
inline Status RmsNorm(const TensorView& x, const TensorView& weight, const TensorView& out,
                      const RmsNormOptions& options = RmsNormOptions(), const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  const TensorView* params[2] = {&weight, nullptr};
  const char* names[2] = {"weight", nullptr};
  EK_RETURN_IF_ERROR(detail::ValidateRowOp(x, "x", out, nullptr, nullptr, params, names));
  EK_RETURN_IF_ERROR(detail::RequireEpsilon(options.epsilon, "options.epsilon"));
  if (!std::isfinite(options.weight_offset)) return detail::InvalidArg("options.weight_offset", "must be finite");
  detail::TransformerRowArgs shared;
  shared.op = detail::TransformerRowOp::kRmsNorm;
  shared.weight = weight.rank != 0 ? weight.HostData<const float>() : nullptr;
  shared.epsilon = options.epsilon;
  shared.weight_offset = options.weight_offset;
  detail::RunTransformerRows(x, TensorView(), out, shared, HWY_DYNAMIC_POINTER(TransformerRow), ctx);
  return Status::Ok();
}

// out = (x - mean) / sqrt(variance + epsilon) x gamma + beta per row; gamma and beta optional.
inline Status LayerNorm(const TensorView& x, const TensorView& gamma, const TensorView& beta, const TensorView& out,
                        const LayerNormOptions& options = LayerNormOptions(), const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  const TensorView* params[2] = {&gamma, &beta};
  const char* names[2] = {"gamma", "beta"};
  EK_RETURN_IF_ERROR(detail::ValidateRowOp(x, "x", out, nullptr, nullptr, params, names));
  EK_RETURN_IF_ERROR(detail::RequireEpsilon(options.epsilon, "options.epsilon"));
  detail::TransformerRowArgs shared;
  shared.op = detail::TransformerRowOp::kLayerNorm;
  shared.weight = gamma.rank != 0 ? gamma.HostData<const float>() : nullptr;
  shared.bias = beta.rank != 0 ? beta.HostData<const float>() : nullptr;
  shared.epsilon = options.epsilon;
  detail::RunTransformerRows(x, TensorView(), out, shared, HWY_DYNAMIC_POINTER(TransformerRow), ctx);
  return Status::Ok();
}

// out = exp(scale x - max) / sum per row (-inf entries: 0; a row of -inf: zeros). Entries are
// finite or -inf: a NaN or +inf gives unspecified results, which may differ between targets.
inline Status Softmax(const TensorView& x, const TensorView& out, const SoftmaxOptions& options = SoftmaxOptions(),
                      const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  const TensorView* params[2] = {nullptr, nullptr};
  const char* names[2] = {nullptr, nullptr};
  EK_RETURN_IF_ERROR(detail::ValidateRowOp(x, "x", out, nullptr, nullptr, params, names));
  EK_RETURN_IF_ERROR(detail::RequirePositiveFinite(options.scale, "options.scale"));
  detail::TransformerRowArgs shared;
  shared.op = detail::TransformerRowOp::kSoftmax;
  shared.scale = options.scale;
  detail::RunTransformerRows(x, TensorView(), out, shared, HWY_DYNAMIC_POINTER(TransformerRow), ctx);
  return Status::Ok();
}

// out = act(gate) x up, element by element; up optional (rank 0: out = act(gate)). The two
// halves of a fused [tokens, 2 x ffn] projection are two views of one buffer (offset ffn).
inline Status GatedActivation(const TensorView& gate, const TensorView& up, const TensorView& out,
                              const GatedActivationOptions& options = GatedActivationOptions(),
                              const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  const TensorView* params[2] = {nullptr, nullptr};
  const char* names[2] = {nullptr, nullptr};
  EK_RETURN_IF_ERROR(detail::ValidateRowOp(gate, "gate", out, &up, "up", params, names));
  if (options.activation != GateActivation::kSilu && options.activation != GateActivation::kGeluTanh &&
      options.activation != GateActivation::kGeluErf) {
    return detail::InvalidArg("options.activation", "unknown activation");
  }
  detail::TransformerRowArgs shared;
  shared.op = detail::TransformerRowOp::kGate;
  shared.activation = options.activation;
  detail::RunTransformerRows(gate, up, out, shared, HWY_DYNAMIC_POINTER(TransformerRow), ctx);
  return Status::Ok();
}

// Rotary position embedding of x [tokens, heads, head_dim] (query or key heads) into out.
inline Status Rope(const TensorView& x, const TensorView& out, const RopeOptions& options = RopeOptions(),
                   const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  int64_t rotary_dims = 0;
  EK_RETURN_IF_ERROR(detail::ValidateRope(x, out, options, &rotary_dims));
  detail::RunRope(x, out, options, rotary_dims, HWY_DYNAMIC_POINTER(RopeToken), ctx);
  return Status::Ok();
}

}  // namespace
}  // namespace ek

#endif  // EK_TRANSFORMER_H_
