// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Options of the GEMM entry points, shared by the CPU kernels (ek/gemm.h, ek/qgemm.h) and the
// OpenCL ones (ek/opencl/gemm.h, ek/opencl/qgemm.h): the same fields mean the same thing on every
// backend. The bias and activation fields are EpilogueOptions' (ek/epilogue_options.h).
// No kernels here (cheap to include).
#ifndef EK_GEMM_OPTIONS_H_
#define EK_GEMM_OPTIONS_H_

#include <cstdint>

#include "ek/epilogue_options.h"

namespace ek {

// The fp16 lane (GemmOptions::allow_f16_arithmetic) sums f16 products in f16 over blocks of this
// many k, then in f32 (its error bound: docs/gemm.md).
constexpr int64_t kGemmF16BlockK = 32;

// Cache blocking of the blocked GEMM (M > 16). 0 = derived from the detected caches:
// kc from L2 (a kc x tile-width sliver of B fills an eighth of it), mc from L2 (an mc x kc block
// of A fills at most half of it), nc from the work per task. Blocking never changes results.
struct GemmBlocking {
  int64_t kc = 0;
  int64_t mc = 0;
  int64_t nc = 0;
};

// The epilogue (ek/epilogue_options.h): bias f32 [N], then the activation.
struct GemmOptions : EpilogueOptions {
  bool transpose_b = false;  // B is given as [N x K] (e.g. a Linear layer's weight); not for packed B
  bool accumulate = false;   // add to C's values instead of overwriting them
  GemmBlocking blocking;
  // fp16 lane: when A, B and C are all f16, allow f16 arithmetic (f16 products summed in f16
  // over blocks of 32 k, then in f32; looser bound, docs/gemm.md). Used only where
  // GemmF16ArithmeticAvailable() (Arm FEAT_FP16 and a target with f16 vector arithmetic).
  bool allow_f16_arithmetic = false;
};

// Options of the quantized GEMM (ek::QGemm, ek::opencl::QGemm): the epilogue only (bias i32 [N]
// for an int8 / uint8 C, f32 [N] for an f32 C; the activation in real values).
struct QGemmOptions : EpilogueOptions {};

}  // namespace ek

#endif  // EK_GEMM_OPTIONS_H_
