// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The pooling rules every backend applies after checking its operands' memory (host views on
// the CPU, buffers on OpenCL): the output's type, quantization and channel stride, the global
// pool's output shape, and that the output does not overlap the input. No kernels; one place,
// so the CPU and OpenCL accept and refuse the same calls with the same messages.
#ifndef EK_DETAIL_POOL_RULES_H_
#define EK_DETAIL_POOL_RULES_H_

#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// The output of any pooling op: the input's type (quantized: with the input's scale and zero
// point, as TFLite's integer pooling requires), unit channel stride, not overlapping the input.
inline Status PoolOutputRules(const TensorView& input, const TensorView& output) {
  EK_RETURN_IF_ERROR(RequireDType(output, "output", input.dtype));
  if (input.dtype != DType::kF32 &&
      (output.quant.scheme != QuantScheme::kPerTensor || output.quant.scale != input.quant.scale ||
       output.quant.zero_point != input.quant.zero_point)) {
    return InvalidArg("output", "must be quantized per tensor with the input's scale and zero point");
  }
  if (output.strides[output.rank - 1] != 1 && output.shape[output.rank - 1] > 1) {
    return InvalidArg("output", "channel stride must be 1");
  }
  AliasCheck alias;
  alias.AddView(input, "input", AliasCheck::Role::kInput);
  alias.AddView(output, "output", AliasCheck::Role::kOutput);
  return alias.Check();
}

// Global average pooling's output for an NHWC input [N, H, W, C]: [N, 1, 1, C] or [N, C].
inline Status GlobalPoolOutputShape(const TensorView& input, const TensorView& output) {
  const bool rank4 = output.rank == 4 && output.shape[1] == 1 && output.shape[2] == 1;
  if ((!rank4 && output.rank != 2) || output.shape[0] != input.shape[0] ||
      output.shape[output.rank - 1] != input.shape[3]) {
    return Status::Error(StatusCode::kInvalidArgument, "output: expected shape [%lld, 1, 1, %lld] or [%lld, %lld]",
                         static_cast<long long>(input.shape[0]), static_cast<long long>(input.shape[3]),
                         static_cast<long long>(input.shape[0]), static_cast<long long>(input.shape[3]));
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_POOL_RULES_H_
