// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Target-independent argument types of the per-target conversion row kernels.
#ifndef EK_CPU_CONVERT_ROW_ARGS_H_
#define EK_CPU_CONVERT_ROW_ARGS_H_

#include <cstdint>

#include "ek/tensor.h"

// Attributes of a lambda holding per-target vector code: the target's attributes (HWY_ATTR, for
// clang) and forced inlining into the loop that calls it.
#define EK_VECTOR_LAMBDA HWY_ATTR __attribute__((always_inline))

namespace ek {
namespace detail {

// Quantization parameters seen by one row: either per element along the row (the quant axis is
// the row's axis) or one value for the whole row.
// Quantize rows read `inverse_scales` / `inverse_scale` (1 / scale, ref::InverseScale);
// dequantize rows read `scales` / `scale`.
struct RowQuant {
  const float* scales = nullptr;          // non-null: scales[j] applies to element j of the row
  const float* inverse_scales = nullptr;  // quantize, per element: 1 / scales[j]
  const float* lower_bounds = nullptr;    // quantize, per element: qmin - zero_points[j]
  const float* upper_bounds = nullptr;    // quantize, per element: qmax - zero_points[j]
  const int32_t* zero_points = nullptr;   // per element: zero point, or null (0)
  bool per_element = false;               // the pointers above are used, not the scalars below
  float scale = 1.0f;                     // for every element of the row
  float inverse_scale = 1.0f;
  int32_t zero_point = 0;
  // Quantize, one scale for the row: x is multiplied by this first (exact, a power of two), so
  // that a tiny row's 1 / scale stays finite (ek::DynamicRowParams). 1 everywhere else.
  float prescale = 1.0f;
};

// A block of `rows` rows of a conversion, each of `count` elements; strides in elements (within
// a row, and from one row to the next). Every row shares the same RowQuant.
struct RowArgs {
  const void* in = nullptr;
  void* out = nullptr;
  int64_t in_stride = 1;
  int64_t out_stride = 1;
  int64_t count = 0;
  int64_t rows = 1;
  int64_t in_row_stride = 0;
  int64_t out_row_stride = 0;
  DType in_type = DType::kF32;
  DType out_type = DType::kF32;
  RowQuant quant;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONVERT_ROW_ARGS_H_
