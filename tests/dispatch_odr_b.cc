// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
// A translation unit that includes ek (see dispatch_test.cc).
#include "dispatch_odr.h"
#include "ek/ek.h"

namespace odr {
int64_t QuantizeInTuB(const float* in, int8_t* out, int64_t n) {
  const ek::Status s = ek::Quantize(ek::TensorView::Host(ek::DType::kF32, in, {n}),
                                    ek::TensorView::Host(ek::DType::kI8, out, {n})
                                        .WithQuant(ek::QuantParams::PerTensor(0.125f, -3)));
  return s.ok() ? ek::SelectedTarget() : -1;
}
}  // namespace odr
