// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The add's rules every backend applies after checking its operands' memory (host views on the
// CPU, buffers on OpenCL): types, shapes, the activation, TFLite's quantized add parameters and
// the aliasing rule. No kernels; one place, so ek::Add and ek::opencl::Add accept and refuse
// the same calls with the same messages.
#ifndef EK_DETAIL_ELEMENTWISE_RULES_H_
#define EK_DETAIL_ELEMENTWISE_RULES_H_

#include <cstdint>

#include "ek/elementwise_options.h"
#include "ek/epilogue_options.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// What an add's kernel needs beyond its operands: the activation (f32: clamp to [lo, hi]) and,
// quantized, TFLite's add parameters with the activation as a quantized range.
struct AddEpilogue {
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
  QuantizedAddParams q;
};

// a: f32, i8 or u8; b and output: a's type and shape; quantized: all three per tensor.
inline Status AddRules(const TensorView& a, const TensorView& b, const TensorView& output, const ElementwiseOptions& o,
                       AddEpilogue* e) {
  if (a.dtype != DType::kF32 && a.dtype != DType::kI8 && a.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "a: dtype is %s, expected f32, i8 or u8", DTypeName(a.dtype));
  }
  EK_RETURN_IF_ERROR(RequireDType(b, "b", a.dtype));
  EK_RETURN_IF_ERROR(RequireSameShape(b, "b", a, "a"));
  EK_RETURN_IF_ERROR(RequireDType(output, "output", a.dtype));
  EK_RETURN_IF_ERROR(RequireSameShape(output, "output", a, "a"));
  EK_RETURN_IF_ERROR(ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &e->lo, &e->hi));
  e->clamp = o.activation != Activation::kNone;
  if (a.dtype != DType::kF32) {  // per-tensor quantization on all three; TFLite's add rule
    const char* names[3] = {"a", "b", "output"};
    const TensorView* views[3] = {&a, &b, &output};
    for (int i = 0; i < 3; ++i) EK_RETURN_IF_ERROR(RequirePerTensorQuant(*views[i], names[i]));
    int32_t qmin = 0, qmax = 0;
    QuantizedActivationRange(e->lo, e->hi, output.quant.scale, output.quant.zero_point, DTypeMin(a.dtype),
                             DTypeMax(a.dtype), &qmin, &qmax);
    EK_RETURN_IF_ERROR(MakeQuantizedAddParams(a.quant.scale, a.quant.zero_point, b.quant.scale, b.quant.zero_point,
                                              output.quant.scale, output.quant.zero_point, qmin, qmax, &e->q));
  }
  AliasCheck alias;
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  alias.AddView(b, "b", AliasCheck::Role::kInput);
  alias.AddView(output, "output", AliasCheck::Role::kOutput);
  return alias.Check();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_ELEMENTWISE_RULES_H_
