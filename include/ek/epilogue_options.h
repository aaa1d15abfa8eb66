// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// What every op does to its results before they are stored, the same on every backend (the CPU
// kernels, OpenCL, and the NPU trait to come): add a per-column bias, then apply an activation
// that clamps to a real range. The op's options derive from EpilogueOptions (GemmOptions,
// QGemmOptions; conv and attention will too), so the fields read the same everywhere, and
// ActivationBounds is the one place the range is decided and the options validated. No kernels
// here (cheap to include).
#ifndef EK_EPILOGUE_OPTIONS_H_
#define EK_EPILOGUE_OPTIONS_H_

#include <cmath>
#include <cstdint>

#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {

enum class Activation : uint8_t { kNone, kRelu, kRelu6, kClamp };

struct EpilogueOptions {
  // rank 0 (default): no bias; else [N], of the type the op names (f32 for a float C, i32 for
  // an int8 / uint8 C of the quantized GEMM)
  TensorView bias;
  Activation activation = Activation::kNone;
  float clamp_min = 0.0f;  // Activation::kClamp only (real values)
  float clamp_max = 0.0f;
};

// The real range [*lo, *hi] an activation clamps to (kNone: (-inf, inf); ReLU: [0, inf); ReLU6:
// [0, 6]; clamp: [clamp_min, clamp_max]), or the error naming the bad option. Every entry point
// validates its activation with this.
inline Status ActivationBounds(Activation activation, float clamp_min, float clamp_max, float* lo, float* hi) {
  *lo = -HUGE_VALF;
  *hi = HUGE_VALF;
  switch (activation) {
    case Activation::kNone: return Status::Ok();
    case Activation::kRelu: *lo = 0.0f; return Status::Ok();
    case Activation::kRelu6: *lo = 0.0f; *hi = 6.0f; return Status::Ok();
    case Activation::kClamp:
      if (!(clamp_min <= clamp_max)) {
        return detail::InvalidArg("options.clamp_min", "must be <= options.clamp_max (and neither NaN)");
      }
      *lo = clamp_min;
      *hi = clamp_max;
      return Status::Ok();
  }
  return detail::InvalidArg("options.activation", "unknown activation");
}
inline Status ActivationBounds(const EpilogueOptions& o, float* lo, float* hi) {
  return ActivationBounds(o.activation, o.clamp_min, o.clamp_max, lo, hi);
}

}  // namespace ek

#endif  // EK_EPILOGUE_OPTIONS_H_
