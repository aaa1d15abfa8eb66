// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Target-independent argument types of the per-target conversion row kernels.
#ifndef EK_DETAIL_CONVERT_TYPES_H_
#define EK_DETAIL_CONVERT_TYPES_H_

#include <cstdint>

#include "ek/tensor.h"

namespace ek {
namespace detail {

// Quantization parameters seen by one row: either per element along the row (the quant axis is
// the row's axis) or one value for the whole row.
struct RowQuant {
  const float* scales = nullptr;          // non-null: scales[j] applies to element j of the row
  const int32_t* zero_points = nullptr;   // with `scales`: zero point per element, or null (0)
  float scale = 1.0f;                     // with scales == null: for every element
  int32_t zero_point = 0;
};

// One row of a conversion: `count` elements, strides in elements.
struct RowArgs {
  const void* in = nullptr;
  void* out = nullptr;
  int64_t in_stride = 1;
  int64_t out_stride = 1;
  int64_t count = 0;
  DType in_type = DType::kF32;
  DType out_type = DType::kF32;
  RowQuant quant;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_CONVERT_TYPES_H_
