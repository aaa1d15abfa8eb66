// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The transformer family, target-independent part: validation of the operands of RMSNorm,
// LayerNorm, softmax, the gated activation and RoPE (ek/transformer.h), the walk that hands
// each row (each token, for RoPE) to the per-target kernels (ek/cpu/transformer/
// transformer-inl.h), and RoPE's per-token cos / sin table. Each row is computed by one task
// alone and the tasks depend on the shape only, so results are identical for any thread count.
#ifndef EK_CPU_TRANSFORMER_PLAN_H_
#define EK_CPU_TRANSFORMER_PLAN_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "ek/transformer_options.h"

namespace ek {
namespace detail {

constexpr int64_t kRowOpMinPerTask = 16 * 1024;  // elements: below this, a task costs more than it saves
constexpr int64_t kRopeMaxRotaryDims = 1024;     // the per-token table lives on the stack
constexpr int64_t kMaxRopePosition = int64_t{1} << 40;

enum class TransformerRowOp : uint8_t { kRmsNorm, kLayerNorm, kSoftmax, kGate };

// One row of a row op: n contiguous elements of x (the gate for kGate), up and out.
struct TransformerRowArgs {
  TransformerRowOp op = TransformerRowOp::kRmsNorm;
  const float* x = nullptr;
  const float* up = nullptr;      // kGate: optional
  float* out = nullptr;
  int64_t n = 0;
  const float* weight = nullptr;  // norms: optional, n contiguous (gamma for LayerNorm)
  const float* bias = nullptr;    // LayerNorm: optional beta, n contiguous
  float epsilon = 0.0f, weight_offset = 0.0f, scale = 1.0f;
  GateActivation activation = GateActivation::kSilu;
};
using TransformerRowKernel = void (*)(const TransformerRowArgs&);

// One token of RoPE: its heads, and the table of its rotation (cos_sin: 2 x rotary_dims floats).
//   kNeox: cos_sin[i] = cos, cos_sin[half + i] = sin of pair i (half = rotary_dims / 2)
//   kGptj: per element j of the rotated part cos_sin[j] = cos of pair j / 2, and
//          cos_sin[rotary_dims + j] = -sin for even j, +sin for odd j (the pair's partner's sign)
struct RopeTokenArgs {
  const float* x = nullptr;
  float* out = nullptr;
  int64_t heads = 0, head_dim = 0, rotary_dims = 0;
  int64_t x_head_stride = 0, out_head_stride = 0;
  RopeStyle style = RopeStyle::kNeox;
  const float* cos_sin = nullptr;
};
using RopeKernel = void (*)(const RopeTokenArgs&);

// ---- Validation -------------------------------------------------------------------------------

// An f32 host view with unit stride along its last axis (its rows' elements).
inline Status ValidateRowOperand(const TensorView& t, const char* name, bool output) {
  EK_RETURN_IF_ERROR(output ? ValidateOutputView(t, name) : ValidateView(t, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(t, name));
  EK_RETURN_IF_ERROR(RequireDType(t, name, DType::kF32));
  if (t.strides[t.rank - 1] != 1 && t.shape[t.rank - 1] > 1) return InvalidArg(name, "the last axis's stride must be 1");
  return Status::Ok();
}

// An optional vector operand (rank 0: absent): a host view of `dtype` and shape [extent], where
// `extent_is` says what the extent follows; with unit_stride, contiguous.
inline Status ValidateOptionalVector(const TensorView& t, const char* name, DType dtype, int64_t extent,
                                     const char* extent_is, bool unit_stride) {
  if (t.rank == 0) return Status::Ok();
  EK_RETURN_IF_ERROR(ValidateView(t, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(t, name));
  EK_RETURN_IF_ERROR(RequireDType(t, name, dtype));
  if (t.rank != 1 || t.shape[0] != extent) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: expected shape [%lld] (%s)", name,
                         static_cast<long long>(extent), extent_is);
  }
  if (unit_stride && t.strides[0] != 1 && extent > 1) return InvalidArg(name, "stride must be 1");
  return Status::Ok();
}

inline Status RequirePositiveFinite(float value, const char* name) {
  if (!(value > 0.0f) || !std::isfinite(value)) return InvalidArg(name, "must be a finite float > 0");
  return Status::Ok();
}

// A norm's epsilon: normal (a subnormal one is 0 under flush-to-zero, and 1 / sqrt(0) of a zero
// row would make NaN), finite.
inline Status RequireEpsilon(float value, const char* name) {
  if (!(value >= 1.17549435e-38f) || !std::isfinite(value)) return InvalidArg(name, "must be a finite normal float > 0 (>= 2^-126)");
  return Status::Ok();
}

// x, an optional second input (up) and out: the same shape; no output byte shared with an input.
inline Status ValidateRowOp(const TensorView& x, const char* x_name, const TensorView& out,
                            const TensorView* second, const char* second_name,
                            const TensorView* params[2], const char* param_names[2]) {
  EK_RETURN_IF_ERROR(ValidateRowOperand(x, x_name, false));
  if (second != nullptr && second->rank != 0) {
    EK_RETURN_IF_ERROR(ValidateRowOperand(*second, second_name, false));
    EK_RETURN_IF_ERROR(RequireSameShape(*second, second_name, x, x_name));
  }
  EK_RETURN_IF_ERROR(ValidateRowOperand(out, "out", true));
  EK_RETURN_IF_ERROR(RequireSameShape(out, "out", x, x_name));
  AliasCheck alias;
  alias.AddView(x, x_name, AliasCheck::Role::kInput);
  if (second != nullptr && second->rank != 0) alias.AddView(*second, second_name, AliasCheck::Role::kInput);
  for (int i = 0; i < 2; ++i) {
    if (params[i] == nullptr) continue;
    EK_RETURN_IF_ERROR(
        ValidateOptionalVector(*params[i], param_names[i], DType::kF32, x.shape[x.rank - 1], "x's last axis", true));
    if (params[i]->rank != 0) alias.AddView(*params[i], param_names[i], AliasCheck::Role::kInput);
  }
  alias.AddView(out, "out", AliasCheck::Role::kOutput);
  return alias.Check();
}

// ---- The row walk -----------------------------------------------------------------------------

// Element offset of row `row` of v (its last axis is the row), including v's offset.
inline int64_t RowOffset(const TensorView& v, int64_t row) {
  int64_t e = v.offset;
  for (int d = v.rank - 2; d >= 0; --d) {
    e += (row % v.shape[d]) * v.strides[d];
    row /= v.shape[d];
  }
  return e;
}

// Runs `kernel` on every row of the (validated) views: x (and up when its rank is not 0) -> out.
inline void RunTransformerRows(const TensorView& x, const TensorView& up, const TensorView& out, const TransformerRowArgs& shared,
                    TransformerRowKernel kernel, const Context& ctx) {
  const int64_t n = x.shape[x.rank - 1];
  const int64_t rows = x.NumElements() / n;
  const TaskPlan plan = PlanTasks(static_cast<size_t>(rows), static_cast<size_t>((kRowOpMinPerTask + n - 1) / n));
  const float* x_base = static_cast<const float*>(x.memory.host);
  const float* up_base = up.rank != 0 ? static_cast<const float*>(up.memory.host) : nullptr;
  float* out_base = static_cast<float*>(out.memory.host);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    const size_t end = plan.End(task, static_cast<size_t>(rows));
    for (size_t row = plan.Begin(task); row < end; ++row) {
      TransformerRowArgs args = shared;
      args.n = n;
      args.x = x_base + RowOffset(x, static_cast<int64_t>(row));
      if (up_base != nullptr) args.up = up_base + RowOffset(up, static_cast<int64_t>(row));
      args.out = out_base + RowOffset(out, static_cast<int64_t>(row));
      kernel(args);
    }
  });
}

// ---- RoPE ---------------------------------------------------------------------------------------

inline Status ValidateRope(const TensorView& x, const TensorView& out, const RopeOptions& o, int64_t* rotary_dims) {
  EK_RETURN_IF_ERROR(ValidateRowOperand(x, "x", false));
  if (x.rank != 3) {
    return Status::Error(StatusCode::kInvalidArgument, "x: rank %d, expected 3 ([tokens, heads, head_dim])", x.rank);
  }
  EK_RETURN_IF_ERROR(ValidateRowOperand(out, "out", true));
  EK_RETURN_IF_ERROR(RequireSameShape(out, "out", x, "x"));
  const int64_t tokens = x.shape[0], head_dim = x.shape[2];
  const int64_t rot = o.rotary_dims == 0 ? head_dim : o.rotary_dims;
  if (o.rotary_dims == 0 && (head_dim % 2 != 0 || head_dim > kRopeMaxRotaryDims)) {
    return InvalidArg("x", "head_dim must be even and at most 1024 to rotate whole heads (else set options.rotary_dims)");
  }
  if (rot < 2 || rot % 2 != 0 || rot > head_dim || rot > kRopeMaxRotaryDims) {
    return InvalidArg("options.rotary_dims", "must be 0 (the head) or even, >= 2, <= head_dim and <= 1024");
  }
  if (o.style != RopeStyle::kNeox && o.style != RopeStyle::kGptj) return InvalidArg("options.style", "unknown style");
  EK_RETURN_IF_ERROR(RequirePositiveFinite(o.freq_scale, "options.freq_scale"));
  AliasCheck alias;
  alias.AddView(x, "x", AliasCheck::Role::kInput);
  EK_RETURN_IF_ERROR(ValidateOptionalVector(o.positions, "options.positions", DType::kI32, tokens, "x's tokens", false));
  if (o.positions.rank != 0) {
    const int32_t* p = o.positions.HostData<const int32_t>();
    for (int64_t t = 0; t < tokens; ++t) {
      if (p[t * o.positions.strides[0]] < 0) {
        return Status::Error(StatusCode::kInvalidArgument, "options.positions: entry %lld is negative",
                             static_cast<long long>(t));
      }
    }
    alias.AddView(o.positions, "options.positions", AliasCheck::Role::kInput);
  } else if (o.position_offset < 0 || o.position_offset > kMaxRopePosition) {
    return InvalidArg("options.position_offset", "must be in [0, 2^40]");
  }
  EK_RETURN_IF_ERROR(ValidateOptionalVector(o.inv_frequencies, "options.inv_frequencies", DType::kF32, rot / 2,
                                            "rotary_dims / 2", false));
  if (o.inv_frequencies.rank != 0) {
    const float* f = o.inv_frequencies.HostData<const float>();
    for (int64_t i = 0; i < rot / 2; ++i) {
      const float value = f[i * o.inv_frequencies.strides[0]];
      if (!(value >= 0.0f) || !std::isfinite(value)) {
        return Status::Error(StatusCode::kInvalidArgument, "options.inv_frequencies: entry %lld is not finite and >= 0",
                             static_cast<long long>(i));
      }
    }
    alias.AddView(o.inv_frequencies, "options.inv_frequencies", AliasCheck::Role::kInput);
  } else if (!(o.theta_base > 1.0f) || !std::isfinite(o.theta_base)) {
    return InvalidArg("options.theta_base", "must be a finite float > 1");
  }
  alias.AddView(out, "out", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  *rotary_dims = rot;
  return Status::Ok();
}

// Token t's position (options validated).
inline int64_t RopePosition(const RopeOptions& o, int64_t t) {
  if (o.positions.rank == 0) return o.position_offset + t;
  return o.positions.HostData<const int32_t>()[t * o.positions.strides[0]];
}

// The inverse frequencies of the call's pairs, in double: the caller's table, or theta_base's.
inline void FillRopeFrequencies(const RopeOptions& o, int64_t rotary_dims, double* inv_frequency) {
  for (int64_t i = 0; i < rotary_dims / 2; ++i) {
    inv_frequency[i] =
        o.inv_frequencies.rank != 0
            ? static_cast<double>(o.inv_frequencies.HostData<const float>()[i * o.inv_frequencies.strides[0]])
            : std::pow(static_cast<double>(o.theta_base), -2.0 * static_cast<double>(i) / static_cast<double>(rotary_dims));
  }
}

// The table of RopeTokenArgs::cos_sin for a token at `position`: the spec's angles
// (position x freq_scale x inv_frequency, in double), their cos and sin rounded to f32.
inline void FillRopeTable(const RopeOptions& o, int64_t rotary_dims, const double* inv_frequency, int64_t position,
                          float* cos_sin) {
  const int64_t half = rotary_dims / 2;
  const double scaled_position = static_cast<double>(position) * static_cast<double>(o.freq_scale);
  for (int64_t i = 0; i < half; ++i) {
    const double angle = scaled_position * inv_frequency[i];
    const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
    if (o.style == RopeStyle::kNeox) {
      cos_sin[i] = c;
      cos_sin[half + i] = s;
    } else {
      cos_sin[2 * i] = cos_sin[2 * i + 1] = c;
      cos_sin[rotary_dims + 2 * i] = -s;
      cos_sin[rotary_dims + 2 * i + 1] = s;
    }
  }
}

// Runs `kernel` on every token of the (validated) views, each with its table.
inline void RunRope(const TensorView& x, const TensorView& out, const RopeOptions& o, int64_t rotary_dims,
                    RopeKernel kernel, const Context& ctx) {
  const int64_t tokens = x.shape[0], heads = x.shape[1], head_dim = x.shape[2];
  const int64_t per_token = heads * head_dim;
  const TaskPlan plan =
      PlanTasks(static_cast<size_t>(tokens), static_cast<size_t>((kRowOpMinPerTask + per_token - 1) / per_token));
  double inv_frequency[kRopeMaxRotaryDims / 2];
  FillRopeFrequencies(o, rotary_dims, inv_frequency);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    alignas(64) float cos_sin[2 * kRopeMaxRotaryDims];
    const size_t end = plan.End(task, static_cast<size_t>(tokens));
    for (size_t t = plan.Begin(task); t < end; ++t) {
      const int64_t token = static_cast<int64_t>(t);
      FillRopeTable(o, rotary_dims, inv_frequency, RopePosition(o, token), cos_sin);
      RopeTokenArgs args;
      args.x = x.HostData<const float>() + token * x.strides[0];
      args.out = out.HostData<float>() + token * out.strides[0];
      args.heads = heads;
      args.head_dim = head_dim;
      args.rotary_dims = rotary_dims;
      args.x_head_stride = x.strides[1];
      args.out_head_stride = out.strides[1];
      args.style = o.style;
      args.cos_sin = cos_sin;
      kernel(args);
    }
  });
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_TRANSFORMER_PLAN_H_
