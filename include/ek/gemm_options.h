// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Options of the GEMM entry points, shared by the CPU kernels (ek/gemm.h, ek/qgemm.h) and the
// OpenCL ones (ek/opencl/gemm.h): the same fields mean the same thing on every backend.
// No kernels here (cheap to include).
#ifndef EK_GEMM_OPTIONS_H_
#define EK_GEMM_OPTIONS_H_

#include <cmath>
#include <cstdint>

#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {

enum class Activation : uint8_t { kNone, kRelu, kRelu6, kClamp };

// Cache blocking of the blocked GEMM (M > 16). 0 = derived from the detected caches:
// kc from L2 (a kc x tile-width sliver of B fills an eighth of it), mc from L2 (an mc x kc block
// of A fills at most half of it), nc from the work per task. Blocking never changes results.
struct GemmBlocking {
  int64_t kc = 0;
  int64_t mc = 0;
  int64_t nc = 0;
};

struct GemmOptions {
  bool transpose_b = false;  // B is given as [N x K] (e.g. a Linear layer's weight); not for packed B
  bool accumulate = false;   // add to C's values instead of overwriting them
  TensorView bias;           // rank 0 (default): no bias; else f32 [N]
  Activation activation = Activation::kNone;
  float clamp_min = 0.0f;  // Activation::kClamp only
  float clamp_max = 0.0f;
  GemmBlocking blocking;
  // fp16 lane: when A, B and C are all f16, allow f16 arithmetic (f16 products summed in f16
  // over blocks of 32 k, then in f32; looser bound, docs/gemm.md). Used only where
  // GemmF16ArithmeticAvailable() (Arm FEAT_FP16 and a target with f16 vector arithmetic).
  bool allow_f16_arithmetic = false;
};

// The real range [*lo, *hi] an activation clamps to (kNone: (-inf, inf); ReLU: [0, inf); ReLU6:
// [0, 6]; clamp: [clamp_min, clamp_max]), or the error naming the bad option. Every GEMM entry
// point validates its activation with this.
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

// Options of the quantized GEMM (ek::QGemm, ek::opencl::QGemm).
struct QGemmOptions {
  TensorView bias;  // rank 0: none; i32 [N] for an int8 / uint8 C, f32 [N] for an f32 C
  Activation activation = Activation::kNone;
  float clamp_min = 0.0f;  // Activation::kClamp only (real values)
  float clamp_max = 0.0f;
};

}  // namespace ek

#endif  // EK_GEMM_OPTIONS_H_
