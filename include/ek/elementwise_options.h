// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The options of the element-wise ops (ek/elementwise.h): the activation applied to each result,
// as in every other op (ek/epilogue_options.h). No kernels: OpenCL and the NPU trait read them too.
#ifndef EK_ELEMENTWISE_OPTIONS_H_
#define EK_ELEMENTWISE_OPTIONS_H_

#include "ek/epilogue_options.h"

namespace ek {

struct ElementwiseOptions {
  Activation activation = Activation::kNone;
  float clamp_min = 0.0f;  // Activation::kClamp only
  float clamp_max = 0.0f;
};

}  // namespace ek

#endif  // EK_ELEMENTWISE_OPTIONS_H_
