// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek compiled for a single target (HWY_COMPILE_ONLY_STATIC, as with -march=native builds):
// Highway's dispatch becomes a direct call; the public API must compile and run unchanged.
#include <cstdio>
#include <vector>

#include "ek/ek.h"

int main() {
  int failures = 0;
  const int64_t compiled = ek::CompiledTargets();
  std::printf("compiled %s, selected %s\n", ek::TargetName(compiled), ek::TargetName(ek::SelectedTarget()));
  if (compiled != HWY_STATIC_TARGET) ++failures;
  if (ek::SelectedTarget() != HWY_STATIC_TARGET) ++failures;
  const int64_t n = 1003;
  std::vector<float> x(n);
  std::vector<uint8_t> q(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 301) * 0.25f - 30.0f;
  const ek::Status s = ek::Quantize(ek::TensorView::Host(ek::DType::kF32, x.data(), {n}),
                                    ek::TensorView::Host(ek::DType::kU8, q.data(), {n})
                                        .WithQuant(ek::QuantParams::PerTensor(0.5f, 128)));
  if (!s.ok()) ++failures;
  for (int64_t i = 0; i < n; ++i) failures += q[i] != ek::ref::QuantizeValue(x[i], ek::ref::InverseScale(0.5f), 128, 0, 255);
  std::printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
  return failures ? 1 : 0;
}
