// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Element access of quantized weights as the caller gives them (a [K x N] or transposed [N x K]
// view of i8 / u8 / i4 values with their quant parameters): the integer value and the real scale
// at a logical (k, j). Used by the references, by packing and by the OpenCL upload; depends on
// the foundation only.
#ifndef EK_REF_WEIGHTS_H_
#define EK_REF_WEIGHTS_H_

#include <cstdint>

#include "ek/detail/int_math.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace ref {

// The integer value of B at logical (k, j).
inline int32_t WeightAt(const TensorView& b, bool transpose_b, int64_t k, int64_t j) {
  const int64_t e = b.offset + (transpose_b ? j * b.strides[0] + k * b.strides[1] : k * b.strides[0] + j * b.strides[1]);
  switch (b.dtype) {
    case DType::kI8: return static_cast<const int8_t*>(b.memory.host)[e];
    case DType::kU8: return static_cast<const uint8_t*>(b.memory.host)[e];
    default: return GetI4(b.memory.host, e);
  }
}

// Per block: the index of (k, j)'s scale, the scales being shaped like B with the K extent
// replaced by the block count.
inline int64_t BlockScaleIndex(const TensorView& b, bool transpose_b, int64_t k, int64_t j) {
  const QuantParams& q = b.quant;
  const int64_t blocks = detail::CeilDiv(transpose_b ? b.shape[1] : b.shape[0], q.block_size);
  return transpose_b ? j * blocks + k / q.block_size : (k / q.block_size) * b.shape[1] + j;
}

// The real scale of B at logical (k, j).
inline float WeightScaleAt(const TensorView& b, bool transpose_b, int64_t k, int64_t j) {
  const QuantParams& q = b.quant;
  if (q.scheme == QuantScheme::kPerTensor) return q.scale;
  if (q.scheme == QuantScheme::kPerAxis) return static_cast<const float*>(q.scales)[j];
  return detail::LoadScale(q.scale_type, q.scales, BlockScaleIndex(b, transpose_b, k, j));
}

// Per block: the bytes of (k, j)'s scale as given (2 for f16 / bf16, 4 for f32).
inline const uint8_t* WeightScaleBitsAt(const TensorView& b, bool transpose_b, int64_t k, int64_t j) {
  const int64_t bytes = b.quant.scale_type == DType::kF32 ? 4 : 2;
  return static_cast<const uint8_t*>(b.quant.scales) + BlockScaleIndex(b, transpose_b, k, j) * bytes;
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_WEIGHTS_H_
