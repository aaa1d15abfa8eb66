// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Functions defined in separate translation units that all include ek (dispatch_odr_*.cc).
#ifndef EK_TESTS_DISPATCH_ODR_H_
#define EK_TESTS_DISPATCH_ODR_H_

#include <cstdint>

namespace odr {
// Each quantizes `n` values with ek from its own TU; returns the target that ran.
int64_t QuantizeInTuA(const float* in, int8_t* out, int64_t n);
int64_t QuantizeInTuB(const float* in, int8_t* out, int64_t n);
// A user TU with its own foreach_target pass that also uses ek.
int64_t UserKernelTarget();
float UserSumOfSquares(const float* in, int64_t n);
int64_t QuantizeInUserTu(const float* in, int8_t* out, int64_t n);
// A user TU with its own foreach_target pass that does not include ek at all.
int64_t HwyOnlyTarget();
}  // namespace odr

#endif  // EK_TESTS_DISPATCH_ODR_H_
