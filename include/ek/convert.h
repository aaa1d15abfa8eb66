// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantize / dequantize between f32 and int8 / uint8 (per-tensor or per-axis, affine or
// symmetric), and convert f32 <-> f16 / bf16. Numerics: docs/numerics.md and the scalar
// reference ek/ref/convert.h; every target is bit-exact with it.
//
//   ek::Quantize(input_f32, output_q8)      output carries the quant params (kPerTensor/kPerAxis)
//   ek::Dequantize(input_q8, output_f32)    input carries the quant params
//   ek::Convert(input, output)              f32 -> f16/bf16 or f16/bf16 -> f32
//
// Views of any rank 1..5, with any non-negative strides and offsets; rows that are contiguous
// run vectorized. Work is cut into tasks of at least kMinElementsPerTask elements and handed to
// ctx.threads (serial by default).
#ifndef EK_CONVERT_H_
#define EK_CONVERT_H_

// This TU's kernel pass compiles the conversion family (ek/cpu/targets.h).
#ifndef EK_KERNELS_CONVERT
#define EK_KERNELS_CONVERT 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_CONVERT
#error "ek/convert.h: this TU's kernel pass ran (at its first ek header) without the conversion family: define EK_KERNELS_CONVERT before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cstdint>

#include "ek/cpu/convert/rows.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

#include "ek/cpu/targets.h"  // the per-target code, once per target
#ifdef EK_ONLY_DISPATCH
#error "ek/convert.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(QuantizeRow);
HWY_EXPORT(PrepareQuantParams);
HWY_EXPORT(DequantizeRow);
HWY_EXPORT(ConvertRow);

// f32 input -> int8/uint8 output, with the output's quant params.
inline Status Quantize(const TensorView& input, const TensorView& output, const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(detail::ValidatePair(input, output));
  EK_RETURN_IF_ERROR(RequireDType(input, "input", DType::kF32));
  EK_RETURN_IF_ERROR(detail::RequireQuantized8(output, "output"));
  (void)SelectedTarget();  // initializes Highway's choice, so the pointer below is the kernel itself
  detail::RunRows(input, output, &output, HWY_DYNAMIC_POINTER(QuantizeRow),
                  HWY_DYNAMIC_POINTER(PrepareQuantParams), ctx);
  return Status::Ok();
}

// int8/uint8 input with its quant params -> f32 output.
inline Status Dequantize(const TensorView& input, const TensorView& output, const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(detail::ValidatePair(input, output));
  EK_RETURN_IF_ERROR(detail::RequireQuantized8(input, "input"));
  EK_RETURN_IF_ERROR(RequireDType(output, "output", DType::kF32));
  (void)SelectedTarget();  // initializes Highway's choice, so the pointer below is the kernel itself
  detail::RunRows(input, output, &input, HWY_DYNAMIC_POINTER(DequantizeRow), nullptr, ctx);
  return Status::Ok();
}

// f32 -> f16 / bf16, or f16 / bf16 -> f32.
inline Status Convert(const TensorView& input, const TensorView& output, const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(detail::ValidatePair(input, output));
  const bool narrowing = input.dtype == DType::kF32 && (output.dtype == DType::kF16 || output.dtype == DType::kBF16);
  const bool widening = output.dtype == DType::kF32 && (input.dtype == DType::kF16 || input.dtype == DType::kBF16);
  if (!narrowing && !widening) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "output: cannot convert %s to %s (supported: f32 <-> f16, f32 <-> bf16)",
                         DTypeName(input.dtype), DTypeName(output.dtype));
  }
  (void)SelectedTarget();  // initializes Highway's choice, so the pointer below is the kernel itself
  detail::RunRows(input, output, nullptr, HWY_DYNAMIC_POINTER(ConvertRow), nullptr, ctx);
  return Status::Ok();
}
}  // namespace

}  // namespace ek

#endif  // EK_CONVERT_H_
