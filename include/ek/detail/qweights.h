// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantized weights as the caller gives them (a [K x N] or transposed [N x K] view of i8 / u8 /
// i4 values with their quant parameters): validation and element access, shared by the CPU's
// packing (ek/qgemm.h) and the OpenCL weight upload (ek/opencl/qgemm.h). No kernels here.
#ifndef EK_DETAIL_QWEIGHTS_H_
#define EK_DETAIL_QWEIGHTS_H_

#include <cstdint>

#include "ek/detail/int_math.h"
#include "ek/ref/weights.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

// Largest K for int8 weights and for int4 per-channel weights: |sum (a - za) * (w - zw)| <=
// K * 255 * 255 stays below 2^30, so an int32 bias within +-2^30 never overflows the sum.
constexpr int64_t kQMaxK = 16384;
constexpr int64_t kQMaxBlockK = int64_t{1} << 24;  // int4 per-block weights: any K up to this

enum class QScaleKind : uint8_t { kPerTensor = 0, kPerChannel = 1, kPerBlock = 2 };

// What B is, after validation.
struct QWeightsInfo {
  int64_t k = 0, n = 0;
  QScaleKind kind = QScaleKind::kPerTensor;
};

inline Status ValidateQWeights(const TensorView& b, bool transpose_b, QWeightsInfo* w) {
  const char* name = "b";
  EK_RETURN_IF_ERROR(ValidateView(b, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(b, name));
  if (b.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "b: rank %d, expected 2", b.rank);
  w->k = transpose_b ? b.shape[1] : b.shape[0];
  w->n = transpose_b ? b.shape[0] : b.shape[1];
  const int k_axis = transpose_b ? 1 : 0, n_axis = transpose_b ? 0 : 1;
  if (w->k < 1 || w->n < 1) return InvalidArg(name, "K and N must be >= 1");
  const QuantParams& q = b.quant;
  switch (b.dtype) {
    case DType::kI8:
    case DType::kU8:
    case DType::kI4:
      break;
    default:
      return Status::Error(StatusCode::kInvalidArgument, "b: dtype is %s, expected i8, u8 or i4", DTypeName(b.dtype));
  }
  if (q.scheme == QuantScheme::kPerTensor) {
    w->kind = QScaleKind::kPerTensor;
    if (b.dtype == DType::kI4) return InvalidArg(name, "i4 weights must be quantized per axis (N) or per block (K)");
    if (b.dtype == DType::kI8 && q.zero_point != 0) return InvalidArg(name, "i8 weights must be symmetric (zero point 0)");
  } else if (q.scheme == QuantScheme::kPerAxis) {
    w->kind = QScaleKind::kPerChannel;
    if (b.dtype == DType::kU8) return InvalidArg(name, "u8 weights are quantized per tensor only");
    if (q.axis != n_axis) {
      return Status::Error(StatusCode::kInvalidArgument, "b: quant axis %d, expected the N axis (%d)", q.axis, n_axis);
    }
    if (q.zero_points) {
      for (int64_t j = 0; j < w->n; ++j) {
        if (q.zero_points[j] != 0) return InvalidArg(name, "per-axis weights must be symmetric (zero points 0)");
      }
    }
  } else if (q.scheme == QuantScheme::kPerBlock) {
    w->kind = QScaleKind::kPerBlock;
    if (b.dtype == DType::kU8) return InvalidArg(name, "per-block weights must be i8 or i4");
    if (q.axis != k_axis) {
      return Status::Error(StatusCode::kInvalidArgument, "b: quant axis %d, expected the K axis (%d)", q.axis, k_axis);
    }
    if (q.block_size != 32 && q.block_size != 64 && q.block_size != 128) {
      return Status::Error(StatusCode::kInvalidArgument, "b: quant block_size %lld, expected 32, 64 or 128",
                           static_cast<long long>(q.block_size));
    }
    if (q.block_offset != BlockOffset::kNone) return InvalidArg(name, "per-block weights must be symmetric (no offsets)");
  } else {
    return InvalidArg(name, "weights need quant parameters (per tensor, per axis or per block)");
  }
  EK_RETURN_IF_ERROR(ValidateQuant(b, name));
  const int64_t max_k = w->kind == QScaleKind::kPerBlock ? kQMaxBlockK : kQMaxK;
  if (w->k > max_k) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "b: K = %lld exceeds %lld, the largest K whose int32 sums cannot overflow for these weights",
                         static_cast<long long>(w->k), static_cast<long long>(max_k));
  }
  if (w->n > (int64_t{1} << 31)) return InvalidArg(name, "N exceeds 2^31");
  return Status::Ok();
}

using ref::BlockScaleIndex;
using ref::WeightAt;
using ref::WeightScaleAt;
using ref::WeightScaleBitsAt;

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_QWEIGHTS_H_
